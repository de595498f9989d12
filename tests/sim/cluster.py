"""The discrete-event simulation loop: nodes, network, faults, phases and invariant checks.

Time is virtual milliseconds; a heap orders events by ``(time, sequence)`` so a seed replays exactly.
A run has a *safety phase* (faults on) and then, unless more than f validators are Byzantine, a
*liveness phase* after GST (network healed, crashed nodes restarted, Byzantine nodes silenced) in
which every correct node must reach the same height within a bound and every submitted op must be
committed or expire (be dropped).
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from dataclasses import dataclass, field
from typing import Any

from ledgr.consensus import (
    NIL_ROUND,
    BlockValidated,
    Broadcast,
    Commit,
    Core,
    CoreConfig,
    Decide,
    Ed25519Signer,
    Ed25519Verifier,
    Effect,
    Input,
    Message,
    Persist,
    Proposal,
    ReportEvidence,
    RequestValue,
    ScheduleTimeout,
    SendTo,
    Signer,
    Start,
    SyncedCommit,
    TimeoutElapsed,
    ValidateBlock,
    ValidatorSet,
    ValueReady,
    Verifier,
    Vote,
    decode_message,
    decode_state,
    encode_message,
    encode_state,
    received,
    verify_qc,
    wiped_state,
)
from ledgr.consensus.state import SignKind
from ledgr.crypto import PrivateKey, sha256
from ledgr.errors import LedgrError, VerificationFailed
from tests.sim.app import SimBlock, make_op, op_valid_until
from tests.sim.byzantine import Byzantine
from tests.sim.checker import Checker
from tests.sim.fakes import FakeSigner, FakeVerifier
from tests.sim.network import Network
from tests.sim.node import SimNode, key_index
from tests.sim.scenario import CLOCK_SKEW_MS, SIM_TIMEOUTS, Scenario

CHAIN_ID = "ledgr-sim"
SYNC_INTERVAL_MS = 1000
LIVENESS_EXTRA_HEIGHTS = 2
MAX_EVENTS = 400_000


@dataclass(slots=True)
class CrashPlan:
    """Crash the node performing the ``index``-th persist of the run, ``when`` = before/after it."""

    index: int
    when: str
    restart_after_ms: int = 300


@dataclass(slots=True)
class Result:
    seed: int
    n: int
    violations: list[str]
    heights: int
    decisions: int
    events: int
    persists: int
    faults: dict[str, int] = field(default_factory=dict)
    description: str = ""
    forks: int = 0


class Simulation:
    def __init__(self, scenario: Scenario, *, real_crypto: bool = True, core_type: type[Core] = Core,
                 persist_state: bool = True, crash_plan: CrashPlan | None = None) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.chain_id = CHAIN_ID
        self.core_type = core_type
        self.persist_state = persist_state
        self.crash_plan = crash_plan
        n = scenario.n
        keys = [PrivateKey.from_seed(sha256(b"sim-key %d %d" % (scenario.seed, i))) for i in range(n)]
        self.signers: list[Signer] = [Ed25519Signer(k) if real_crypto else FakeSigner(k) for k in keys]
        self.verifier: Verifier = Ed25519Verifier() if real_crypto else FakeVerifier()
        self.vs = ValidatorSet([k.public_key for k in keys], strict=scenario.strict)
        self.config = CoreConfig(chain_id=CHAIN_ID, timeouts=SIM_TIMEOUTS, clock_skew_ms=CLOCK_SKEW_MS)
        offsets = scenario.clock_offsets_ms or (0,) * n
        self.nodes = [SimNode(i, keys[i], self.signers[i], offsets[i]) for i in range(n)]
        self.correct = {i for i in range(n) if i not in scenario.byzantine}
        self.byz = {i: Byzantine(self, i, b, random.Random(scenario.seed * 31 + i))
                    for i, b in scenario.byzantine.items()}
        self.byz_alt: dict[tuple[int, int], tuple[bytes, Proposal]] = {}
        self._groups: dict[int, set[int]] = {}
        self.network = Network(random.Random(scenario.seed * 17 + 1), n, scenario.max_drop, scenario.max_dup)
        self.checker = Checker(CHAIN_ID, self.vs, self.correct, scenario.over_threshold, self.verifier)
        self.queue: list[tuple[int, int, int, str, Any]] = []
        self._seq = 0
        self.now = 0
        self.persists = 0
        self.events = 0
        self.ops: dict[bytes, None] = {}
        self._op_serial = 0
        self.faults = {"partitions": 0, "crashes": 0, "wipes": 0, "persist_crashes": 0, "restarts": 0,
                       "amnesia": 0, "clock_jumps": 0}
        self.gst_ms = scenario.safety_ms
        # A wiped validator may have signed at the height it re-syncs into, so it sits that height out
        # (wiped_state): it counts as one more fault there, within the n−q validators that may be down.
        self.wipe_budget = max(0, self.vs.crash_tolerance - len(scenario.byzantine))
        self.target_height: int | None = None
        self.done = False
        self.live = False

    # ---- event queue -------------------------------------------------------------------------

    def push(self, delay_ms: int, node: int, kind: str, payload: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self.queue, (self.now + max(0, delay_ms), self._seq, node, kind, payload))

    def byz_group_b(self, height: int) -> set[int]:
        group = self._groups.get(height)
        if group is None:
            pick = random.Random(self.scenario.seed * 1_000_003 + height)
            correct = sorted(self.correct)
            group = set(pick.sample(correct, len(correct) // 2 + (pick.random() < 0.5 and len(correct) % 2)))
            self._groups[height] = group
        return group

    # ---- run ------------------------------------------------------------------------------------

    def run(self) -> Result:
        for node in self.nodes:
            self._boot(node.index)
        self._schedule_faults()
        for i in range(self.scenario.n):
            self.push(SYNC_INTERVAL_MS + i * 37, i, "sync")
        self.push(self.gst_ms, -1, "gst")
        while self.queue and not self.done and self.events < MAX_EVENTS:
            time_ms, _, node, kind, payload = heapq.heappop(self.queue)
            self.now = time_ms
            self.events += 1
            self._dispatch(node, kind, payload)
        if not self.live and not self.scenario.over_threshold:
            self.checker.fail(f"liveness: not every correct node reached height {self.target_height} "
                              f"with all "
                              f"ops resolved by {self.now} ms (heights "
                              f"{[n.chain.height for n in self.nodes]})")
        self.checker.finish()
        return Result(self.scenario.seed, self.scenario.n, self.checker.violations,
                      max(n.chain.height for n in self.nodes), self.checker.decisions, self.events,
                      self.persists, dict(self.faults), self.scenario.describe(), len(self.checker.forks))

    def _schedule_faults(self) -> None:
        sc, rng = self.scenario, self.rng
        t = 0.0
        while sc.partitions_per_s and t < sc.safety_ms:
            t += rng.expovariate(sc.partitions_per_s) * 1000
            if t < sc.safety_ms:
                self.push(int(t), -1, "partition", rng.randint(200, 2500))
        t = 0.0
        while sc.crashes_per_s and t < sc.safety_ms:
            t += rng.expovariate(sc.crashes_per_s) * 1000
            if t < sc.safety_ms:
                wipe = rng.random() < sc.wipe_prob
                self.push(int(t), rng.randrange(sc.n), "crash", (rng.randint(100, 2500), wipe))
        t = 0.0
        while sc.ops_per_s and t < sc.safety_ms:
            t += rng.expovariate(sc.ops_per_s) * 1000
            self.push(int(t), rng.randrange(sc.n), "submit")
        if sc.clock_jump:
            self.push(rng.randint(0, sc.safety_ms), rng.randrange(sc.n), "clock", rng.choice([-1500, 1500]))

    def _dispatch(self, i: int, kind: str, payload: Any) -> None:
        if kind == "input":
            epoch, inp = payload
            if self.nodes[i].up and self.nodes[i].epoch == epoch:
                self.step(i, inp)
        elif kind == "net":
            self._on_packet(i, *payload)
        elif kind == "start":
            if self.nodes[i].up and self.nodes[i].epoch == payload:
                node = self.nodes[i]
                self.step(i, Start(node.chain.height + 1, self.vs, node.chain.tip_time_ms))
        elif kind == "sync":
            self._block_sync(i)
            self.push(SYNC_INTERVAL_MS, i, "sync")
        elif kind == "partition":
            if not self.network.healed:
                self.network.partition()
                self.faults["partitions"] += 1
                self.push(payload, -1, "unpartition")
        elif kind == "unpartition":
            if not self.network.healed:
                self.network.unpartition()
        elif kind == "crash":
            down_for, wipe = payload
            if self.nodes[i].up and self.now < self.gst_ms:
                self._crash(i, wipe)
                self.push(down_for, i, "restart")
        elif kind == "restart":
            node = self.nodes[i]
            if node.up or node.silenced:
                return
            if node.wiped and self._best_up_height() < node.former_height:
                self.push(500, i, "restart")  # a wiped node first waits for a peer at its old height
                return
            self._boot(i)
        elif kind == "submit":
            self._submit(i)
        elif kind == "clock":
            if self.now < self.gst_ms:
                self.nodes[i].clock_offset_ms += payload
                self.faults["clock_jumps"] += 1
        elif kind == "gst":
            self._gst()
        elif kind == "check":
            self._check_liveness()

    # ---- nodes -----------------------------------------------------------------------------------

    def _boot(self, i: int) -> None:
        node = self.nodes[i]
        state = node.disk if self.persist_state else None
        if node.wiped:
            self._resync_from_best(i)
            state = wiped_state(node.chain.height)
            node.disk = state
            node.wiped = False
        node.boot(self.core_type, self.config, self.verifier, state)
        if node.epoch:
            self.faults["restarts"] += 1
        self.step(i, Start(node.chain.height + 1, self.vs, node.chain.tip_time_ms))

    def _crash(self, i: int, wipe: bool = False) -> None:
        if wipe and self.faults["wipes"] < self.wipe_budget:
            self.nodes[i].wipe()
            self.faults["wipes"] += 1
        else:
            self.nodes[i].crash()
        self.faults["crashes"] += 1

    def _best_up_height(self) -> int:
        return max((n.chain.height for n in self.nodes if n.up and n.index in self.correct), default=-1)

    def _resync_from_best(self, i: int) -> None:
        best = max((n for n in self.nodes if n.up and n.index in self.correct), key=lambda n: n.chain.height,
                   default=None)
        if best is None:
            return
        node = self.nodes[i]
        for entry in best.chain.entries:
            if not node.chain.validate(entry.value_id, entry.block, entry.parsed.time_ms):
                self.checker.fail(f"sync: node {i} could not re-validate height {entry.height}")
                return
            node.chain.append(entry.value_id, entry.block, entry.qc)

    def now_of(self, i: int) -> int:
        return max(0, self.now + self.nodes[i].clock_offset_ms)

    def step(self, i: int, inp: Input) -> None:
        node = self.nodes[i]
        if node.core is None:
            return
        try:
            effects = node.core.step(inp, self.now_of(i))
        except LedgrError as exc:
            self.checker.fail(f"core of node {i} raised {type(exc).__name__}: {exc.detail}")
            return
        self._effects(i, effects)
        byz = self.byz.get(i)
        if byz is not None and byz.has("amnesia") and node.core is not None and self.rng.random() < 0.02:
            self._amnesia(i)

    def _amnesia(self, i: int) -> None:
        node = self.nodes[i]
        if node.core is None or not node.core.started:
            return
        state = node.core.durable_state()
        forgotten = dataclasses.replace(state, locked_round=NIL_ROUND, locked_value_id=None,
                                        valid_round=NIL_ROUND, valid_value_id=None, valid_block=b"",
                                        polka=(), signed_height=0, signed_round=NIL_ROUND,
                                        signed_kind=SignKind.NONE, own_messages=())
        node.crash()
        node.boot(self.core_type, self.config, self.verifier, encode_state(forgotten))
        self.faults["amnesia"] += 1
        self.step(i, Start(node.chain.height + 1, self.vs, node.chain.tip_time_ms))

    def _effects(self, i: int, effects: list[Effect]) -> None:
        node = self.nodes[i]
        for effect in effects:
            if not node.up:
                return
            if isinstance(effect, Persist):
                self.persists += 1
                node.persists += 1
                decode_state(effect.state)
                if self._crash_point("before"):
                    self._crash_here(i)
                    return
                node.disk = effect.state
                if self._crash_point("after"):
                    self._crash_here(i)
                    return
            elif isinstance(effect, Broadcast):
                for dst in range(self.scenario.n):
                    if dst != i:
                        self._send(i, dst, effect.message)
            elif isinstance(effect, SendTo):
                self._send(i, key_index(self.vs, effect.peer), effect.message)
            elif isinstance(effect, ScheduleTimeout):
                self.push(effect.duration_ms, i, "input",
                          (node.epoch, TimeoutElapsed(effect.kind, effect.height, effect.round)))
            elif isinstance(effect, RequestValue):
                self._build(i, effect)
            elif isinstance(effect, ValidateBlock):
                ok = node.chain.height == effect.height - 1 and node.chain.validate(
                    effect.value_id, effect.block, effect.time_ms)
                self.push(self.rng.randint(0, 3), i, "input",
                          (node.epoch, BlockValidated(effect.height, effect.value_id, ok)))
            elif isinstance(effect, Decide):
                self._decide(i, effect)
            elif isinstance(effect, ReportEvidence):
                self.checker.on_evidence(i, effect.evidence)

    def _crash_point(self, when: str) -> bool:
        plan = self.crash_plan
        if plan is not None and plan.when == when and plan.index == self.persists:
            return True
        return (when == "after" and self.now < self.gst_ms and self.scenario.persist_crash_prob > 0
                and self.rng.random() < self.scenario.persist_crash_prob)

    def _crash_here(self, i: int) -> None:
        self.faults["persist_crashes"] += 1
        self._crash(i)
        delay = self.crash_plan.restart_after_ms if self.crash_plan else self.rng.randint(50, 1500)
        self.push(delay, i, "restart")

    def _send(self, src: int, dst: int, msg: Message) -> None:
        byz = self.byz.get(src)
        messages = byz.outgoing(msg, dst) if byz is not None else [msg]
        if byz is None and isinstance(msg, Proposal | Vote):
            own = msg.proposer if isinstance(msg, Proposal) else msg.validator
            if own == src:
                self.checker.on_signed(src, msg)
        for out in messages:
            data = encode_message(out)
            for delay in self.network.delays(src, dst):
                self.push(delay, dst, "net", (src, data))

    def _on_packet(self, dst: int, src: int, data: bytes) -> None:
        node = self.nodes[dst]
        if not node.up:
            return
        if data[:3] == b"op:":
            node.mempool.setdefault(data, None)
            return
        message = decode_message(data)
        if (self.scenario.over_threshold and dst in self.correct and isinstance(message, Vote)
                and message.validator < self.scenario.n
                and self.verifier.verify_vote(CHAIN_ID, message, self.vs.key(message.validator))):
            self.checker.on_received_vote(message)
        self.step(dst, received(message, sender=self.vs.key(src).raw))

    def _build(self, i: int, request: RequestValue) -> None:
        node = self.nodes[i]
        if node.chain.height != request.height - 1:
            return
        block = node.chain.build(request.time_ms, node.pending_ops())
        byz = self.byz.get(i)
        if byz is not None and byz.has("invalid-block") and self.rng.random() < 0.5:
            block = SimBlock(block.height, block.time_ms, block.prev_hash, sha256(b"wrong root"), block.ops)
        data = block.encode()
        self.push(self.rng.randint(0, 3), i, "input",
                  (node.epoch, ValueReady(request.height, request.round, sha256(data), data)))

    def _decide(self, i: int, decision: Decide) -> None:
        node = self.nodes[i]
        if node.chain.height != decision.height - 1:
            self.checker.fail(f"node {i} decided height {decision.height} with chain at {node.chain.height}")
            return
        valid = node.chain.validate(decision.value_id, decision.block, decision.time_ms)
        self.checker.on_decide(i, decision.height, decision.value_id, decision.qc, valid)
        if not valid:
            return
        node.chain.append(decision.value_id, decision.block, decision.qc)
        self._chain_check(i)
        for op in node.chain.entries[-1].parsed.ops:
            node.mempool.pop(op, None)
        self.push(self.rng.randint(0, 5), i, "start", node.epoch)

    def _chain_check(self, i: int) -> None:
        entries = self.nodes[i].chain.entries
        prev_ok = len(entries) < 2 or entries[-1].parsed.prev_hash == entries[-2].value_id
        self.checker.on_chain(i, entries[-1].height == len(entries), prev_ok)

    def _block_sync(self, i: int) -> None:
        """The node runtime's block sync: fetch missing blocks with QCs from a reachable, longer peer."""
        node = self.nodes[i]
        if not node.up or node.core is None or node.silenced:
            return
        peers = [p for p in self.nodes if p.up and p.index != i and self.network.reachable(p.index, i)
                 and p.chain.height > node.chain.height]
        if not peers:
            return
        best = max(peers, key=lambda p: (p.chain.height, -p.index))
        synced = 0
        for entry in best.chain.entries[node.chain.height:]:
            try:
                verify_qc(entry.qc, self.vs, CHAIN_ID, self.verifier)  # type: ignore[arg-type]
            except VerificationFailed:
                self.checker.fail(f"sync: node {best.index} serves height {entry.height} with a bad QC")
                return
            if not node.chain.validate(entry.value_id, entry.block, entry.parsed.time_ms):
                if not self.scenario.over_threshold:
                    self.checker.fail(f"sync: node {best.index} serves an invalid block at {entry.height}")
                return
            self.checker.on_decide(i, entry.height, entry.value_id, entry.qc, True)  # type: ignore[arg-type]
            node.chain.append(entry.value_id, entry.block, entry.qc)
            self._chain_check(i)
            synced += 1
        if synced:
            last = node.chain.entries[-1]
            self.step(i, SyncedCommit(Commit(last.block, last.parsed.time_ms, last.qc)))  # type: ignore[arg-type]
            if node.up:
                self.step(i, Start(node.chain.height + 1, self.vs, node.chain.tip_time_ms))

    def _submit(self, i: int) -> None:
        if self.now >= self.gst_ms:
            return
        node = self.nodes[i]
        if not node.up:
            return
        self._op_serial += 1
        top = max(n.chain.height for n in self.nodes)
        op = make_op(self.scenario.seed, self._op_serial, top + 25)
        self.ops[op] = None
        node.mempool[op] = None
        for dst in range(self.scenario.n):
            if dst != i:
                for delay in self.network.delays(i, dst):
                    self.push(delay, dst, "net", (i, op))

    # ---- GST and liveness --------------------------------------------------------------------------

    def _gst(self) -> None:
        self.network.heal()
        if self.scenario.over_threshold:
            self.done = True
            return
        offsets = self.scenario.clock_offsets_ms or (0,) * self.scenario.n
        for i, node in enumerate(self.nodes):
            node.clock_offset_ms = offsets[i]
            if i in self.byz:
                node.silenced = True
                node.crash()
            elif not node.up:
                self.push(0, i, "restart")
        pending = [op for op in self.ops if not any(op in n.chain.ops for n in self.nodes)]
        for node in self.nodes:
            if node.up:
                for op in pending:
                    node.mempool.setdefault(op, None)
        self.target_height = max(n.chain.height for n in self.nodes) + LIVENESS_EXTRA_HEIGHTS
        self.push(200, -1, "check")

    def _check_liveness(self) -> None:
        assert self.target_height is not None
        correct = [self.nodes[i] for i in sorted(self.correct)]
        heights = [n.chain.height for n in correct]
        if min(heights) >= self.target_height and self._ops_resolved(correct):
            self.live = self.done = True
            return
        if self.now > self.gst_ms + self.scenario.liveness_ms:
            self.done = True
            return
        self.push(200, -1, "check")

    def _ops_resolved(self, correct: list[SimNode]) -> bool:
        top = max(correct, key=lambda n: n.chain.height)
        for op in self.ops:
            if op not in top.chain.ops and op_valid_until(op) >= top.chain.height:
                return False
        return True
