"""The simulator in CI: seeds with real Ed25519 and with the fake signer, mutants, crash points,
over-threshold accountability, determinism and the command-line contract."""

from __future__ import annotations

import contextlib
import io

import pytest

from tests.sim.__main__ import main
from tests.sim.mutants import MUTANTS
from tests.sim.runner import crash_point_sweep, nodes_for, run_seed
from tests.sim.scenario import make_scenario

SIZES = [3, 4, 5, 7]
REAL_SEEDS = range(0, 60)
FAKE_SEEDS = range(1000, 1200)


@pytest.mark.slow
def test_seeds_with_real_ed25519_have_no_violations() -> None:
    failures = [(seed, r.violations[0]) for seed in REAL_SEEDS
                for r in [run_seed(seed, nodes_for(seed, SIZES), real_crypto=True)] if r.violations]
    assert failures == []


@pytest.mark.slow
def test_seeds_with_the_fake_signer_have_no_violations() -> None:
    results = [run_seed(seed, nodes_for(seed, SIZES), real_crypto=False) for seed in FAKE_SEEDS]
    assert [(r.seed, r.violations[0]) for r in results if r.violations] == []
    assert sum(r.heights for r in results) > 10 * len(results)
    assert sum(r.faults["crashes"] + r.faults["partitions"] for r in results) > len(results)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS)
def test_every_mutant_is_caught_within_300_seeds(mutant: str) -> None:
    for seed in range(300):
        result = run_seed(seed, nodes_for(seed, SIZES), real_crypto=False, mutant=mutant)
        if result.violations:
            return
    pytest.fail(f"mutant {mutant} survived 300 seeds")


@pytest.mark.slow
@pytest.mark.parametrize("n", [3, 4])
def test_crashing_before_and_after_every_persist_keeps_every_invariant(n: int) -> None:
    points = 0
    for plan, result in crash_point_sweep(7, n, real_crypto=False):
        assert result.violations == [], (plan, result.violations)
        points += 1
    assert points > 100


def test_crash_points_catch_a_core_that_forgets_its_state() -> None:
    sweep = crash_point_sweep(7, 3, real_crypto=False, mutant="no-persist", safety_ms=800)
    caught = [plan for plan, result in sweep if result.violations]
    assert caught


@pytest.mark.slow
def test_over_threshold_forks_come_with_enough_proven_culprits() -> None:
    forks = 0
    for seed in range(400):
        n = nodes_for(seed, SIZES)
        if not make_scenario(seed, n).over_threshold:
            continue
        result = run_seed(seed, n, real_crypto=False)
        assert result.violations == [], (seed, result.violations)
        forks += result.forks
    assert forks > 0  # the accountability check really ran on forks


def test_a_seed_replays_identically() -> None:
    first = run_seed(11, 4, real_crypto=False)
    second = run_seed(11, 4, real_crypto=False)
    assert (first.events, first.heights, first.persists, first.violations) == (
        second.events, second.heights, second.persists, second.violations)
    assert first.events > 100


def _cli(*args: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    return code, out.getvalue().splitlines()


def test_cli_ends_with_one_summary_line_and_exit_code() -> None:
    code, lines = _cli("--nodes", "3,4", "--seeds", "3", "--seed-start", "20", "--crypto", "fake")
    assert code == 0 and lines == ["seeds: 3, violations: 0"]
    code, lines = _cli("--nodes", "3", "--seeds", "2", "--mutant", "quorum-minus-one", "--crypto", "fake")
    assert code == 1 and lines[-1] == "seeds: 2, violations: 2"
    assert all(line.startswith(("FAIL seed", "     also")) for line in lines[:-1])
    assert "--mutant quorum-minus-one" in lines[0]
