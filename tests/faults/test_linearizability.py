"""The linearizability checker against hand-made histories, a brute-force oracle and hypothesis."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.history import CREAD, FAIL, OK, READ, UNKNOWN, WRITE, History, Op
from tests.faults.linearizability import Violation, check

_ids = itertools.count()


def op(kind: str, inv: int, done: int | None, version: str | None, prev: str | None = None, *,
       status: str = OK, client: str = "c1", key: str = "did:ledgr:x", age_ms: int | None = None) -> Op:
    return Op(id=next(_ids), client=client, kind=kind, key=key, invoke_ns=inv,
              complete_ns=None if status == UNKNOWN else done, status=status, version=version, prev=prev,
              age_ms=age_ms)


def kinds(violations: Sequence[Violation]) -> list[str]:
    return sorted(v.kind for v in violations)


def test_sequential_history_is_linearizable() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(READ, 11, 12, "v1"), op(WRITE, 13, 20, "v2", "v1"),
               op(READ, 21, 22, "v2"), op(CREAD, 23, 24, "v1", client="c2")]
    assert check(history, final={"did:ledgr:x": "v2"}) == []


def test_concurrent_cas_one_wins_one_fails() -> None:
    history = [op(WRITE, 0, 5, "v1"), op(WRITE, 10, 30, "v2", "v1", client="a"),
               op(WRITE, 11, 29, "v3", "v1", client="b", status=FAIL), op(READ, 31, 32, "v2")]
    assert check(history, final={"did:ledgr:x": "v2"}) == []


def test_lost_acknowledged_write() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, 20, "v2", "v1")]
    found = check(history, final={"did:ledgr:x": "v1"})
    assert kinds(found) == ["lost-write"]
    assert found[0].ops == (history[1].id,)


def test_fork_two_successors_of_one_version() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, 20, "v2", "v1", client="a"),
               op(WRITE, 12, 21, "v3", "v1", client="b")]
    found = check(history)
    assert kinds(found) == ["fork"]
    assert set(found[0].ops) == {history[1].id, history[2].id}


def test_fork_seen_only_through_reads() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, None, "v2", "v1", status=UNKNOWN),
               op(WRITE, 11, None, "v3", "v1", status=UNKNOWN, client="b"),
               op(CREAD, 30, 31, "v2", client="r1"), op(CREAD, 30, 31, "v3", client="r2")]
    assert kinds(check(history)) == ["fork"]


def test_stale_read_after_own_acknowledged_write() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, 20, "v2", "v1"), op(READ, 21, 22, "v1")]
    assert kinds(check(history)) == ["stale-read"]


def test_read_concurrent_with_write_may_see_either_version() -> None:
    for seen in ("v1", "v2"):
        history = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, 20, "v2", "v1"), op(READ, 15, 25, seen)]
        assert check(history) == []


def test_future_read() -> None:
    history = [op(READ, 0, 5, "v1"), op(WRITE, 6, 10, "v1")]
    assert kinds(check(history)) == ["future-read"]


def test_write_order_against_real_time() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(WRITE, 50, 60, "v2", "v1"), op(WRITE, 30, 40, "v3", "v2")]
    assert kinds(check(history)) == ["write-order"]


def test_new_then_old_inversion_needs_the_full_check() -> None:
    """v1's write never completes, so no single pair is stale, yet no order fits both reads."""
    history = [op(WRITE, 0, None, "v1", status=UNKNOWN), op(READ, 1, 10, "v1", client="a"),
               op(READ, 11, 12, None, client="b")]
    assert kinds(check(history)) == ["not-linearizable"]


def test_unknown_writes_may_or_may_not_take_effect() -> None:
    unseen = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, None, "v2", "v1", status=UNKNOWN), op(READ, 30, 31, "v1")]
    assert check(unseen, final={"did:ledgr:x": "v1"}) == []
    seen = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, None, "v2", "v1", status=UNKNOWN), op(READ, 300, 301, "v2")]
    assert check(seen, final={"did:ledgr:x": "v2"}) == []


def test_failed_write_that_took_effect() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, 20, "v2", "v1", status=FAIL)]
    assert kinds(check(history, final={"did:ledgr:x": "v2"})) == ["failed-write-applied"]


def test_value_nobody_wrote() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(CREAD, 11, 12, "forged")]
    assert kinds(check(history)) == ["unknown-version"]


def test_write_whose_prev_never_committed_is_an_orphan() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, 20, "v2", "v9"),
               op(WRITE, 5, 8, "v9", "v7", status=FAIL)]
    assert "orphan" in kinds(check(history))


def test_retries_of_one_operation_are_one_write() -> None:
    history = [op(WRITE, 0, None, "v1", status=UNKNOWN), op(WRITE, 5, 10, "v1"), op(READ, 11, 12, "v1")]
    assert check(history) == []


def test_certified_reads_may_lag_but_never_go_back() -> None:
    lagging = [op(WRITE, 0, 10, "v1"), op(WRITE, 11, 20, "v2", "v1"), op(CREAD, 30, 31, "v1", client="r")]
    assert check(lagging) == []
    backwards = [*lagging[:2], op(CREAD, 30, 31, "v2", client="r"), op(CREAD, 32, 33, "v1", client="r")]
    assert kinds(check(backwards)) == ["stale-read"]
    other_client = [*lagging[:2], op(CREAD, 30, 31, "v2", client="r"), op(CREAD, 32, 33, "v1", client="s")]
    assert check(other_client) == []


def test_certified_read_age_bound() -> None:
    history = [op(WRITE, 0, 10, "v1"), op(CREAD, 11, 12, "v1", age_ms=9000)]
    assert kinds(check(history, max_age_ms=5000)) == ["too-old"]
    assert check(history, max_age_ms=10000) == []


def test_keys_are_checked_independently() -> None:
    history = [op(WRITE, 0, 10, "v1", key="a"), op(WRITE, 0, 10, "w1", key="b"),
               op(WRITE, 11, 20, "w2", "w1", key="b"), op(READ, 21, 22, "w1", key="b"),
               op(READ, 21, 22, "v1", key="a")]
    found = check(history)
    assert kinds(found) == ["stale-read"] and found[0].key == "b"


def test_history_records_and_round_trips(tmp_path: Path) -> None:
    history = History()
    write = history.invoke("c", WRITE, "k", version="v1")
    history.ok(write)
    read = history.invoke("c", READ, "k")
    history.ok(read, version="v1", height=3, age_ms=12)
    lost = history.invoke("c", WRITE, "k", version="v2", prev="v1")
    history.close_pending()
    assert write.invoke_ns <= write.complete_ns <= read.invoke_ns  # type: ignore[operator]
    assert lost.status == UNKNOWN and lost.complete_ns is None
    history.save(tmp_path / "h.jsonl")
    again = History.load(tmp_path / "h.jsonl")
    assert [vars(o) for o in again] == [vars(o) for o in history]
    assert check(again, final={"k": "v1"}) == []


# ---- a brute-force oracle (Wing & Gong search) for small single-key histories ----------------

def brute_force_linearizable(ops: Sequence[Op], final: str | None) -> bool:
    mandatory = [o for o in ops if o.status == OK]
    optional = [o for o in ops if o.status == UNKNOWN and o.kind == WRITE]

    def done(o: Op) -> float:
        return float("inf") if o.complete_ns is None else o.complete_ns

    def search(left: frozenset[int], maybe: frozenset[int], state: str | None) -> bool:
        if not left and state == final:
            return True
        bound = min((done(ops[i]) for i in left), default=float("inf"))
        for i in left | maybe:
            candidate = ops[i]
            if candidate.invoke_ns > bound:
                continue
            if candidate.kind == WRITE:
                if candidate.prev != state:
                    continue
                nxt = candidate.version
            else:
                if candidate.version != state:
                    continue
                nxt = state
            if search(left - {i}, maybe - {i}, nxt):
                return True
        return False

    index = {id(o): i for i, o in enumerate(ops)}
    return search(frozenset(index[id(o)] for o in mandatory), frozenset(index[id(o)] for o in optional), None)


@st.composite
def small_histories(draw: st.DrawFn) -> tuple[list[Op], str | None]:
    count = draw(st.integers(1, 6))
    versions = [f"v{i}" for i in range(count)]
    ops: list[Op] = []
    for i in range(count):
        inv = draw(st.integers(0, 40))
        done = inv + draw(st.integers(0, 20))
        if draw(st.booleans()):
            status = draw(st.sampled_from([OK, OK, UNKNOWN]))
            prev = draw(st.sampled_from([None, *versions[:i]])) if i else None
            ops.append(Op(id=i, client="c", kind=WRITE, key="k", invoke_ns=inv,
                          complete_ns=None if status == UNKNOWN else done, status=status,
                          version=versions[i], prev=prev))
        else:
            ops.append(Op(id=i, client="c", kind=READ, key="k", invoke_ns=inv, complete_ns=done, status=OK,
                          version=draw(st.sampled_from([None, *versions]))))
    final = draw(st.sampled_from([None, *versions]))
    return ops, final


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_histories())
def test_checker_agrees_with_brute_force(case: tuple[list[Op], str | None]) -> None:
    ops, final = case
    assert (check(ops, final={"k": final}) == []) == brute_force_linearizable(ops, final)


# ---- histories generated from a sequential model, then mutated -------------------------------

@st.composite
def model_histories(draw: st.DrawFn) -> tuple[list[Op], dict[str, str | None]]:
    """Operations take effect at increasing points inside their intervals: always linearizable."""
    keys = ["k0", "k1"]
    state: dict[str, list[str | None]] = {k: [None] for k in keys}
    seen: dict[tuple[str, str], int] = {}
    ops: list[Op] = []
    for i in range(draw(st.integers(1, 30))):
        point = 100 * (i + 1)
        inv = point - draw(st.integers(0, 150))
        done = point + draw(st.integers(0, 150))
        key = draw(st.sampled_from(keys))
        client = draw(st.sampled_from(["a", "b", "c"]))
        chain = state[key]
        what = draw(st.sampled_from([WRITE, WRITE, READ, CREAD]))
        if what == WRITE:
            version = f"{key}-v{i}"
            stale = len(chain) > 1 and draw(st.booleans())
            prev = chain[draw(st.integers(0, len(chain) - 2))] if stale else chain[-1]
            status = FAIL if stale else draw(st.sampled_from([OK, OK, OK, UNKNOWN]))
            if status == UNKNOWN and not draw(st.booleans()):
                version = f"{key}-never{i}"
            elif status != FAIL:
                chain.append(version)
            ops.append(Op(id=i, client=client, kind=WRITE, key=key, invoke_ns=inv,
                          complete_ns=None if status == UNKNOWN else done, status=status,
                          version=version, prev=prev))
        elif what == READ:
            ops.append(Op(id=i, client=client, kind=READ, key=key, invoke_ns=inv, complete_ns=done,
                          status=OK, version=chain[-1]))
        else:
            low = seen.get((client, key), 0)
            pos = draw(st.integers(low, len(chain) - 1))
            seen[(client, key)] = pos
            ops.append(Op(id=i, client=client, kind=CREAD, key=key, invoke_ns=point, complete_ns=done,
                          status=OK, version=chain[pos]))
    return ops, {k: state[k][-1] for k in keys}


@settings(max_examples=300, deadline=None)
@given(model_histories())
def test_model_histories_are_linearizable(case: tuple[list[Op], dict[str, str | None]]) -> None:
    ops, final = case
    assert check(ops, final=final) == []


@settings(max_examples=200, deadline=None)
@given(model_histories(), st.data())
def test_mutations_are_caught(case: tuple[list[Op], dict[str, str | None]], data: st.DataObject) -> None:
    ops, final = case
    acked = [o for o in ops if o.kind == WRITE and o.status == OK]
    mutation = data.draw(st.sampled_from(["fork", "lost", "stale", "forged", "failed"]))
    end = max(o.complete_ns or o.invoke_ns for o in ops) + 1000
    if mutation == "forged" or not acked:
        ops.append(Op(id=999, client="z", kind=CREAD, key="k0", invoke_ns=end, complete_ns=end + 1,
                      status=OK, version="forged"))
        expected = "unknown-version"
    else:
        target = data.draw(st.sampled_from(acked))
        if mutation == "fork":
            ops.append(Op(id=999, client="z", kind=WRITE, key=target.key, invoke_ns=end, complete_ns=end + 1,
                          status=OK, version="twin", prev=target.prev))
            expected = "fork"
        elif mutation == "lost":
            final[target.key] = target.prev
            expected = "lost-write"
        elif mutation == "stale":
            ops.append(Op(id=999, client="z", kind=READ, key=target.key, invoke_ns=end, complete_ns=end + 1,
                          status=OK, version=target.prev))
            expected = "stale-read"
        else:
            target.status = FAIL
            ops.append(Op(id=999, client="z", kind=CREAD, key=target.key, invoke_ns=end, complete_ns=end + 1,
                          status=OK, version=target.version))
            expected = "failed-write-applied"
    assert expected in kinds(check(ops, final=final))
