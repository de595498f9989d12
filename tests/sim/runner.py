"""Running seeds and crash-point sweeps; used by ``python -m tests.sim`` and by the pytest suite."""

from __future__ import annotations

from collections.abc import Iterable

from tests.sim.cluster import CrashPlan, Result, Simulation
from tests.sim.mutants import mutant_options
from tests.sim.scenario import make_scenario


def nodes_for(seed: int, sizes: list[int]) -> int:
    return sizes[seed % len(sizes)]


def run_seed(seed: int, n: int, *, real_crypto: bool = True, mutant: str | None = None,
             faults: bool = True, crash_plan: CrashPlan | None = None,
             safety_ms: int | None = None) -> Result:
    scenario = make_scenario(seed, n, faults=faults)
    if safety_ms is not None:
        scenario.safety_ms = safety_ms
    core_type, persist_state = mutant_options(mutant)
    sim = Simulation(scenario, real_crypto=real_crypto, core_type=core_type, persist_state=persist_state,
                     crash_plan=crash_plan)
    return sim.run()


def crash_point_sweep(seed: int, n: int, *, real_crypto: bool = False, mutant: str | None = None,
                      safety_ms: int = 1500) -> Iterable[tuple[CrashPlan, Result]]:
    """Crash right before and right after every persist of a fault-free run, one run per point."""
    base = run_seed(seed, n, real_crypto=real_crypto, mutant=mutant, faults=False, safety_ms=safety_ms)
    yield CrashPlan(0, "none"), base
    for index in range(1, base.persists + 1):
        for when in ("before", "after"):
            plan = CrashPlan(index, when)
            yield plan, run_seed(seed, n, real_crypto=real_crypto, mutant=mutant, faults=False,
                                 crash_plan=plan, safety_ms=safety_ms)
