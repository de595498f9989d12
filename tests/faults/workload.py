"""A recorded client workload against real nodes: DID writes (compare-and-set on ``prev``) and
certified single-node reads, every operation logged as invoke / ok / fail / unknown (history.py).

Each client loops: pick a DID from a small shared pool and a random node, read the DID with proof
(checked against the pinned genesis validator set, consensus.md §2.2), then maybe write it — a
``did.create`` if absent, else a ``did.update`` naming the version just read as ``prev``. Clients
share DIDs on purpose, so concurrent compare-and-sets race and most losers are rejected with
``prev-mismatch``; the checker then proves no two of them both won.

Outcome rules (only what is certain is ``ok``/``fail``): a write is ``ok`` when a node answers
``committed``; ``fail`` when ``POST`` answers 400/409/422 (checked against state, never admitted) or
a node answers ``rejected`` (rejected against the committed tip, so it can never apply later); every
other ending (timeout, connection error, 5xx, still pending) is ``unknown``. After the run,
:meth:`Workload.settle` asks the nodes about each unknown write, and :meth:`Workload.final_state`
reads every DID from every node, which must agree.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from ledgr.crypto import PrivateKey, sha256
from ledgr.errors import LedgrError
from ledgr.ledger.genesis import Genesis
from ledgr.node.authoring import create_did, did_template, document_for, update_did
from ledgr.node.certified import verify_state_answer
from tests.faults.history import CREAD, WRITE, History, Op

OCTET = {"Content-Type": "application/octet-stream"}
DEFINITE_FAIL = (400, 409, 422)


@dataclass(frozen=True)
class WorkloadConfig:
    clients: int = 4
    dids: int = 6
    write_ratio: float = 0.6
    wait_s: float = 8.0
    request_timeout_s: float = 10.0
    think_ms: int = 20


@dataclass
class Subject:
    key: PrivateKey
    template: dict[str, Any]
    did: str


class Workload:
    """Runs ``config.clients`` concurrent clients until stopped; ``history`` holds every operation."""

    def __init__(self, urls: list[str], genesis: Genesis, seed: int,
                 config: WorkloadConfig | None = None) -> None:
        self.urls = urls
        self.genesis = genesis
        self.config = config or WorkloadConfig()
        self.rng = random.Random(seed)
        self.history = History()
        self.subjects: list[Subject] = []
        for _ in range(self.config.dids):
            key = PrivateKey.generate()
            template = did_template(key)
            did, _envelope = create_did(key, genesis.chain_id, 0, template)
            self.subjects.append(Subject(key, template, did))
        self.height_hint = 1
        self.counter = 0
        self.read_errors = 0
        self.stale_answers = 0
        self.seen_height: dict[str, int] = {}

    # ---- one client --------------------------------------------------------------------------

    async def client(self, name: str, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        rng = random.Random(f"{self.rng.random()}/{name}")
        while not stop.is_set():
            subject = rng.choice(self.subjects)
            found, version = await self.read(name, session, rng.choice(self.urls), subject.did)
            if found and rng.random() < self.config.write_ratio:
                await self.write(name, session, rng.choice(self.urls), subject, version)
            await asyncio.sleep(self.config.think_ms / 1000 * rng.random())

    async def read(self, client: str, session: aiohttp.ClientSession, url: str,
                   did: str) -> tuple[bool, str | None]:
        """A certified read; returns (answered, version or None when absent)."""
        op = self.history.invoke(client, CREAD, did)
        try:
            async with session.get(f"{url}/v1/state/did/{did}", params={"proof": "true"}) as response:
                if response.status != 200:
                    self.history.fail(op, f"HTTP {response.status}")
                    return False, None
                answer = await response.json()
            state = verify_state_answer(answer, self.genesis.validator_set)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError, LedgrError) as exc:
            self.history.fail(op, f"{type(exc).__name__}: {exc}")
            self.read_errors += 1
            return False, None
        if state.height < self.seen_height.get(client, 0):
            # the client's own monotonicity guard (a verifier remembers the highest height it saw)
            self.history.fail(op, f"answer at height {state.height} is older than one already seen")
            self.stale_answers += 1
            return False, None
        self.seen_height[client] = state.height
        head = answer["entries"]["head"]["value"]
        version = None if head is None else str(head["version_hash"])
        self.height_hint = max(self.height_hint, state.height)
        self.history.ok(op, version=version, height=state.height,
                        age_ms=time.time_ns() // 1_000_000 - state.time_ms)
        return True, version

    def envelope_for(self, subject: Subject, prev: str | None) -> bytes:
        chain_id, height = self.genesis.chain_id, self.height_hint
        if prev is None:
            _did, envelope = create_did(subject.key, chain_id, height, subject.template)
            return envelope
        self.counter += 1
        service = {"id": f"{subject.did}#w", "type": "LinkedDomains",
                   "serviceEndpoint": f"https://example.org/w/{self.counter}"}
        document = {**document_for(subject.did, subject.template), "service": [service]}
        return update_did(subject.key, subject.did, document, bytes.fromhex(prev), chain_id, height)

    async def write(self, client: str, session: aiohttp.ClientSession, url: str, subject: Subject,
                    prev: str | None) -> Op:
        envelope = self.envelope_for(subject, prev)
        op_hash = sha256(envelope).hex()
        op = self.history.invoke(client, WRITE, subject.did, version=op_hash, prev=prev)
        try:
            async with session.post(f"{url}/v1/operations", data=envelope, headers=OCTET) as response:
                if response.status in DEFINITE_FAIL:
                    self.history.fail(op, f"HTTP {response.status}: {(await response.text())[:160]}")
                    return op
                if response.status != 202:
                    self.history.unknown(op, f"HTTP {response.status}")
                    return op
            deadline = time.monotonic() + self.config.wait_s
            while time.monotonic() < deadline:
                wait = max(0.1, min(3.0, deadline - time.monotonic()))
                async with session.get(f"{url}/v1/operations/{op_hash}", params={"wait": f"{wait:.2f}"}
                                       ) as response:
                    body = await response.json() if response.status == 200 else {}
                if body.get("status") == "committed":
                    self.history.ok(op)
                    return op
                if body.get("status") == "rejected":
                    self.history.fail(op, f"rejected: {body.get('reason')}")
                    return op
                if response.status != 200:
                    await asyncio.sleep(0.1)
            self.history.unknown(op, "not committed in time")
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            self.history.unknown(op, f"{type(exc).__name__}: {exc}")
        return op

    # ---- running -----------------------------------------------------------------------------

    def session(self) -> aiohttp.ClientSession:
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout_s)
        return aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=64))

    async def run(self, stop: asyncio.Event) -> None:
        async with self.session() as session:
            await asyncio.gather(*(self.client(f"c{i}", session, stop) for i in range(self.config.clients)))
        self.history.close_pending()

    async def settle(self) -> int:
        """Ask every node about each unknown write; returns how many turned out committed."""
        found = 0
        async with self.session() as session:
            for op in self.history:
                if op.kind != WRITE or op.status != "unknown" or op.committed_later:
                    continue
                for url in self.urls:
                    try:
                        async with session.get(f"{url}/v1/operations/{op.version}") as response:
                            body = await response.json() if response.status == 200 else {}
                    except (TimeoutError, aiohttp.ClientError, OSError, ValueError):
                        continue
                    if body.get("status") == "committed":
                        op.committed_later = True
                        found += 1
                        break
        return found

    async def final_state(self) -> dict[str, str | None]:
        """Every DID's version, read with proof from every node; nodes must agree."""
        final: dict[str, str | None] = {}
        async with self.session() as session:
            for subject in self.subjects:
                seen = set()
                for i, url in enumerate(self.urls):
                    for _attempt in range(5):
                        ok, version = await self.read(f"final{i}", session, url, subject.did)
                        if ok:
                            break
                        await asyncio.sleep(0.5)
                    else:
                        raise AssertionError(f"final read of {subject.did} from {url} failed")
                    seen.add(version)
                if len(seen) != 1:
                    raise AssertionError(f"nodes disagree on {subject.did}: {sorted(map(str, seen))}")
                final[subject.did] = seen.pop()
        return final


class WorkloadThread:
    """The workload on its own event loop, so synchronous test code can fault the cluster meanwhile."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="workload", daemon=True)
        self._ready = threading.Event()
        self.error: BaseException | None = None

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def body() -> None:
            self._stop = asyncio.Event()
            self._ready.set()
            await self.workload.run(self._stop)

        try:
            self._loop.run_until_complete(body())
        except BaseException as exc:  # reported by stop()
            self.error = exc
        finally:
            self._ready.set()

    def start(self) -> WorkloadThread:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self, timeout_s: float = 60.0) -> History:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise AssertionError("workload did not stop in time")
        self._loop.close()
        if self.error is not None:
            raise AssertionError(f"workload crashed: {self.error!r}") from self.error
        return self.workload.history
