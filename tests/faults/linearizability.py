"""A per-key linearizability checker for versioned compare-and-set registers (consensus.md §4.5).

No Python checker exists (§4.5), so this re-implements the idea of chaining writes by their ``prev``
(as in Redpanda's gobekli, whose code was not copied) and checks each key on its own, which is
sound because linearizability is compositional (Herlihy–Wing locality).

For one key:

1. **Effective writes.** A write took effect when it was acknowledged (``ok``), found committed
   later, returned by any read or the final state, or named as ``prev`` by another effective write.
   A ``fail``ed write that took effect is a violation; a value no write produced is a violation.
2. **One chain.** Every effective write names its predecessor, so the versions form a tree rooted at
   "absent" (``None``). Two effective successors of one version are a **fork**; an effective write
   not reachable from ``None`` is an orphan. Otherwise the chain *is* the only possible write order.
3. **Real time.** Linearization points must increase along the chain and fall inside each
   operation's interval (``unknown`` completes at +∞); a consensus read of version *k* must fall
   between the points of writes *k* and *k+1*. Placing every point as early as possible (greedy) is
   optimal, so the check is exact and linear in the history. Violations are reported with their
   specific cause where one exists: a **stale read** (a newer write was acknowledged before the read
   began), a **future read** (the read finished before its version's write began), a **write order**
   violation, or a **lost write** (an acknowledged write missing from the final state).
4. **Certified single-node reads** (``cread``) are intentionally not linearizable; each must return
   a committed version (on the chain), not one whose write began after the read ended, never older
   than a version the same client already read, and (optionally) not older than ``max_age_ms``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tests.faults.history import CREAD, FAIL, OK, READ, UNKNOWN, WRITE, Op

INF = math.inf
NO_FINAL = object()


@dataclass(frozen=True)
class Violation:
    kind: str
    key: str
    detail: str
    ops: tuple[int, ...] = ()


def _done(op: Op) -> float:
    return INF if op.complete_ns is None or op.status == UNKNOWN else float(op.complete_ns)


def _short(version: str | None) -> str:
    return "absent" if version is None else version[:12]


def check(ops: Iterable[Op], final: Mapping[str, str | None] | None = None,
          max_age_ms: int | None = None) -> list[Violation]:
    """All violations in the history; ``final`` maps keys to their version after the run."""
    by_key: dict[str, list[Op]] = defaultdict(list)
    for op in ops:
        by_key[op.key].append(op)
    violations: list[Violation] = []
    for key in sorted(by_key):
        final_version = final[key] if final is not None and key in final else NO_FINAL
        violations += _check_key(key, by_key[key], final_version, max_age_ms)
    return violations


def _check_key(key: str, ops: Sequence[Op], final: object, max_age_ms: int | None) -> list[Violation]:
    out: list[Violation] = []
    writes = _merge_writes(ops)
    reads = [op for op in ops if op.kind in (READ, CREAD) and op.status == OK]
    effective = _effective(writes, reads, final, key, out)
    chain = _chain(key, writes, effective, out)
    if chain is None:
        return out
    position = {version: i for i, version in enumerate(chain)}
    if final is not NO_FINAL:
        final_pos = position.get(final)  # type: ignore[call-overload]
        if final_pos is not None:
            for version in chain[final_pos + 1:]:
                write = writes[version]
                how = "acknowledged" if write.status == OK else "observed"
                out.append(Violation("lost-write", key, f"{how} write {_short(version)} is missing from "
                                     f"the final state {_short(final)}", (write.id,)))
    out += _check_real_time(key, chain, writes, [r for r in reads if r.kind == READ])
    out += _check_certified(key, position, writes, [r for r in reads if r.kind == CREAD], max_age_ms)
    return out


def _merge_writes(ops: Sequence[Op]) -> dict[str, Op]:
    """One write per version id: retries of the same signed operation are one logical write."""
    merged: dict[str, Op] = {}
    for op in ops:
        if op.kind != WRITE or op.version is None:
            continue
        seen = merged.get(op.version)
        if seen is None:
            merged[op.version] = Op(**vars(op))
            continue
        seen.invoke_ns = min(seen.invoke_ns, op.invoke_ns)
        seen.committed_later = seen.committed_later or op.committed_later
        if op.status == OK and (seen.status != OK or _done(op) < _done(seen)):
            seen.status, seen.complete_ns, seen.id = OK, op.complete_ns, op.id
        elif op.status == UNKNOWN and seen.status == FAIL:
            seen.status, seen.complete_ns = UNKNOWN, None
    return merged


def _effective(writes: Mapping[str, Op], reads: Sequence[Op], final: object, key: str,
               out: list[Violation]) -> set[str]:
    effective = {v for v, w in writes.items() if w.status == OK or w.committed_later}
    observed: list[tuple[str | None, tuple[int, ...]]] = [(r.version, (r.id,)) for r in reads]
    if final is not NO_FINAL:
        observed.append((final, ()))  # type: ignore[arg-type]
    for version, ids in observed:
        if version is None:
            continue
        if version not in writes:
            out.append(Violation("unknown-version", key, f"version {_short(version)} was returned but "
                                 "no write produced it", ids))
            continue
        effective.add(version)
    frontier = list(effective)
    while frontier:
        prev = writes[frontier.pop()].prev
        if prev is not None and prev in writes and prev not in effective:
            effective.add(prev)
            frontier.append(prev)
    for version in sorted(effective):
        if writes[version].status == FAIL:
            out.append(Violation("failed-write-applied", key, f"write {_short(version)} was reported "
                                 "failed but took effect", (writes[version].id,)))
    return effective


def _chain(key: str, writes: Mapping[str, Op], effective: set[str],
           out: list[Violation]) -> list[str | None] | None:
    successors: dict[str | None, list[str]] = defaultdict(list)
    for version in sorted(effective):
        successors[writes[version].prev].append(version)
    forks = {prev: nxt for prev, nxt in successors.items() if len(nxt) > 1}
    for prev, nxt in sorted(forks.items(), key=lambda item: str(item[0])):
        out.append(Violation("fork", key, f"version {_short(prev)} has {len(nxt)} committed successors: "
                             + ", ".join(_short(v) for v in nxt), tuple(writes[v].id for v in nxt)))
    if forks:
        return None
    chain: list[str | None] = [None]
    while chain[-1] in successors:
        chain.append(successors[chain[-1]][0])
    orphans = effective - set(chain)
    for version in sorted(orphans):
        out.append(Violation("orphan", key, f"write {_short(version)} took effect but its prev "
                             f"{_short(writes[version].prev)} is not a committed version",
                             (writes[version].id,)))
    return None if orphans else chain


def _check_real_time(key: str, chain: Sequence[str | None], writes: Mapping[str, Op],
                     reads: Sequence[Op]) -> list[Violation]:
    out: list[Violation] = []
    reads_of: dict[str | None, list[Op]] = defaultdict(list)
    for read in reads:
        reads_of[read.version].append(read)
    # earliest acknowledgement of any write at chain position > k
    later_done = [INF] * (len(chain) + 1)
    for k in range(len(chain) - 1, 0, -1):
        later_done[k] = min(later_done[k + 1], _done(writes[chain[k]]))  # type: ignore[index]
    for k, version in enumerate(chain):
        write = writes[version] if version is not None else None
        if write is not None and write.invoke_ns > later_done[k + 1]:
            out.append(Violation("write-order", key, f"write {_short(version)} follows a write that was "
                                 "acknowledged before it was invoked", (write.id,)))
        for read in reads_of.get(version, []):
            if later_done[k + 1] < read.invoke_ns:
                out.append(Violation("stale-read", key, f"read returned {_short(version)} although a newer "
                                     "write was acknowledged before the read began", (read.id,)))
            if write is not None and write.invoke_ns > _done(read):
                out.append(Violation("future-read", key, f"read returned {_short(version)} before its "
                                     "write was invoked", (read.id, write.id)))
    if not out and not _greedy_fits(chain, writes, reads_of):
        out.append(Violation("not-linearizable", key, "no linearization order fits the operations' "
                             "real-time intervals"))
    return out


def _greedy_fits(chain: Sequence[str | None], writes: Mapping[str, Op],
                 reads_of: Mapping[str | None, list[Op]]) -> bool:
    """Place every linearization point as early as allowed; exact for a fixed write order."""
    point = -INF
    for k, version in enumerate(chain):
        if k > 0:
            write = writes[version]  # type: ignore[index]
            earliest = max([point, float(write.invoke_ns)]
                           + [float(r.invoke_ns) for r in reads_of.get(chain[k - 1], [])])
            if earliest > _done(write):
                return False
            point = earliest
        if any(_done(r) < point for r in reads_of.get(version, [])):
            return False
    return True


def _check_certified(key: str, position: Mapping[str | None, int], writes: Mapping[str, Op],
                     reads: Sequence[Op], max_age_ms: int | None) -> list[Violation]:
    out: list[Violation] = []
    by_client: dict[str, list[Op]] = defaultdict(list)
    for read in reads:
        by_client[read.client].append(read)
    for client, client_reads in sorted(by_client.items()):
        newest = -1
        newest_done = -INF
        for read in sorted(client_reads, key=lambda r: r.invoke_ns):
            if read.version is not None and read.version not in writes:
                continue  # reported as unknown-version
            pos = position.get(read.version)
            if pos is None:
                out.append(Violation("uncommitted-read", key, f"certified read returned "
                                     f"{_short(read.version)}, which is not a committed version", (read.id,)))
                continue
            write = writes.get(read.version) if read.version is not None else None
            if write is not None and write.invoke_ns > _done(read):
                out.append(Violation("future-read", key, f"certified read returned {_short(read.version)} "
                                     "before its write was invoked", (read.id, write.id)))
            if pos < newest and newest_done < read.invoke_ns:
                out.append(Violation("stale-read", key, f"client {client} read {_short(read.version)} "
                                     "after it had already read a newer version", (read.id,)))
            if max_age_ms is not None and read.age_ms is not None and read.age_ms > max_age_ms:
                out.append(Violation("too-old", key, f"certified read is {read.age_ms} ms old "
                                     f"(bound {max_age_ms} ms)", (read.id,)))
            if pos > newest:
                newest, newest_done = pos, _done(read)
    return out
