"""A DID write-load generator against running nodes (aiohttp client).

Used by the cluster benchmark and the kill tests. Each operation is a fresh ``did.create`` (signed
ahead of time in the benchmark, so the generator's own CPU use stays out of the measured window),
submitted to one node (round-robin over ``urls``) with ``POST /v1/operations?wait=`` and, if still
pending when that returns, followed with ``GET /v1/operations/{hash}?wait=`` until it is committed.
Every outcome is recorded — accepted, committed (with height and the latency from submit to the
commit answer), rejected, or failed (node unreachable) — so a test can check that no committed
operation is ever lost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from ledgr.crypto import PrivateKey, sha256
from ledgr.node.authoring import create_did

OCTET = {"Content-Type": "application/octet-stream"}


@dataclass
class OpRecord:
    did: str
    op_hash: str
    url: str
    submitted_s: float
    accepted: bool = False
    committed_s: float | None = None
    height: int | None = None
    error: str | None = None

    @property
    def latency_s(self) -> float | None:
        return None if self.committed_s is None else self.committed_s - self.submitted_s


@dataclass
class LoadResult:
    records: list[OpRecord] = field(default_factory=list)

    @property
    def committed(self) -> list[OpRecord]:
        return [r for r in self.records if r.committed_s is not None]

    def latencies_ms(self) -> list[float]:
        return sorted((r.latency_s or 0.0) * 1000 for r in self.committed)


def presign(count: int, chain_id: str, height: int) -> list[tuple[str, bytes]]:
    """``count`` signed did.create envelopes (new key each), valid for the next 1000 heights."""
    return [create_did(PrivateKey.generate(), chain_id, height) for _ in range(count)]


async def submit_and_wait(session: aiohttp.ClientSession, url: str, did: str, envelope: bytes,
                          wait_s: float = 10.0, record: OpRecord | None = None) -> OpRecord:
    rec = record or OpRecord(did, sha256(envelope).hex(), url, time.monotonic())
    try:
        async with session.post(f"{url}/v1/operations", data=envelope, headers=OCTET,
                                params={"wait": f"{min(wait_s, 30.0):.2f}"}) as response:
            if response.status not in (200, 202):
                rec.error = f"HTTP {response.status}: {(await response.text())[:200]}"
                return rec
            rec.accepted = True
            if response.status == 200:
                body = await response.json()
                if body.get("status") == "committed":
                    rec.committed_s = time.monotonic()
                    rec.height = int(body["height"])
                else:
                    rec.error = f"rejected: {body.get('reason')}"
                return rec
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            remaining = max(0.1, min(5.0, deadline - time.monotonic()))
            async with session.get(f"{url}/v1/operations/{rec.op_hash}",
                                   params={"wait": f"{remaining:.2f}"}) as response:
                body = await response.json()
            if body.get("status") == "committed":
                rec.committed_s = time.monotonic()
                rec.height = int(body["height"])
                return rec
            if body.get("status") == "rejected":
                rec.error = f"rejected: {body.get('reason')}"
                return rec
        rec.error = "not committed in time"
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        rec.error = f"{type(exc).__name__}: {exc}"
    return rec


async def run_rate(urls: list[str], envelopes: list[tuple[str, bytes]], rate_per_s: float,
                   wait_s: float = 10.0, max_in_flight: int = 2000) -> LoadResult:
    """Open-loop load: submit at ``rate_per_s`` (round-robin over ``urls``), then wait for each."""
    result = LoadResult()
    limit = asyncio.Semaphore(max_in_flight)
    connector = aiohttp.TCPConnector(limit=max_in_flight, limit_per_host=max_in_flight)
    timeout = aiohttp.ClientTimeout(total=wait_s + 30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = []
        start = time.monotonic()
        for i, (did, envelope) in enumerate(envelopes):
            due = start + i / rate_per_s
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await limit.acquire()
            url = urls[i % len(urls)]
            rec = OpRecord(did, sha256(envelope).hex(), url, time.monotonic())
            result.records.append(rec)

            async def one(rec: OpRecord = rec, envelope: bytes = envelope) -> None:
                try:
                    await submit_and_wait(session, rec.url, rec.did, envelope, wait_s, rec)
                finally:
                    limit.release()

            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return result


async def run_until(urls: list[str], chain_id: str, height: int, stop: asyncio.Event, rate_per_s: float,
                    wait_s: float = 15.0) -> LoadResult:
    """Closed-ended steady load until ``stop`` is set (signing as it goes, ``rate_per_s`` per second)."""
    result = LoadResult()
    connector = aiohttp.TCPConnector(limit=500)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=wait_s + 30)) as session:
        tasks = []
        i = 0
        start = time.monotonic()
        while not stop.is_set():
            did, envelope = create_did(PrivateKey.generate(), chain_id, height)
            url = urls[i % len(urls)]
            rec = OpRecord(did, sha256(envelope).hex(), url, time.monotonic())
            result.records.append(rec)
            tasks.append(asyncio.create_task(submit_and_wait(session, url, did, envelope, wait_s, rec)))
            i += 1
            delay = start + i / rate_per_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.gather(*tasks)
    return result
