"""Token-bucket rate limits (ledgr.api.ratelimit): exact refill with an injected clock, LRU bound, 429s."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgr.api.auth import auth_middleware, requires
from ledgr.api.problem import problem_middleware
from ledgr.api.ratelimit import TokenBucketLimiter, rate_limit_middleware
from ledgr.api.tokens import TokenStore
from ledgr.errors import InvalidInput
from tests.unit.api.conftest import FakeClock, serve

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_bucket_allows_burst_then_refills_at_rate() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate_per_s=2, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("b") == 0.0  # keys are independent
    clock.advance(100)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # capped at burst
    assert limiter.acquire("a") > 0


def test_memory_is_bounded_by_lru_eviction() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate_per_s=1, burst=1, clock=clock, max_buckets=3)
    for key in ("a", "b", "c"):
        limiter.acquire(key)
    limiter.acquire("a")  # refresh a: b is now least recently used
    limiter.acquire("d")
    assert len(limiter) == 3
    assert limiter.acquire("a") > 0  # a kept its (empty) bucket
    assert limiter.acquire("b") == 0.0  # b was evicted and starts full
    for i in range(1000):
        limiter.acquire(f"k{i}")
    assert len(limiter) == 3


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(InvalidInput):
        TokenBucketLimiter(rate_per_s=0, burst=1, clock=FakeClock())
    with pytest.raises(InvalidInput):
        TokenBucketLimiter(rate_per_s=1, burst=0, clock=FakeClock())


async def test_per_token_and_per_ip_limits_over_http(tmp_path: Path) -> None:
    clock = FakeClock()
    store = TokenStore(tmp_path)
    token_a, _ = store.create(["admin"], label="a", now=T0)
    token_b, _ = store.create(["admin"], label="b", now=T0)

    @requires("public")
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[
        problem_middleware,
        auth_middleware(store, now=lambda: T0),
        rate_limit_middleware(TokenBucketLimiter(1, 2, clock=clock), TokenBucketLimiter(1, 1, clock=clock)),
    ])
    app.router.add_get("/v1/hello", hello)
    app.router.add_get("/v1/health", hello)
    async with serve(app) as client:
        a = {"Authorization": f"Bearer {token_a}"}
        b = {"Authorization": f"Bearer {token_b}"}
        assert [(await client.get("/v1/hello", headers=a)).status for _ in range(2)] == [200, 200]
        resp = await client.get("/v1/hello", headers=a)
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "1"
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        body = await resp.json(content_type=None)
        assert body["status"] == 429 and body["retryAfterSeconds"] == 1 and body["detail"]
        # another token has its own bucket; anonymous requests are limited per IP
        assert (await client.get("/v1/hello", headers=b)).status == 200
        assert (await client.get("/v1/hello")).status == 200
        assert (await client.get("/v1/hello")).status == 429
        # health probes are never limited
        assert {(await client.get("/v1/health")).status for _ in range(5)} == {200}
        clock.advance(1)
        assert (await client.get("/v1/hello", headers=a)).status == 200
        assert (await client.get("/v1/hello")).status == 200


@settings(max_examples=200, deadline=None)
@given(rate=st.floats(0.5, 50), burst=st.integers(1, 20),
       gaps=st.lists(st.floats(0, 2), min_size=1, max_size=200))
def test_admitted_requests_never_exceed_burst_plus_refill(rate: float, burst: int, gaps: list[float]) -> None:
    """Over any run, admitted <= burst + rate * elapsed, and a denial never asks to wait past one refill."""
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate_per_s=rate, burst=burst, clock=clock)
    admitted = 0
    for gap in gaps:
        clock.advance(gap)
        wait_s = limiter.acquire("k")
        if wait_s == 0.0:
            admitted += 1
        else:
            assert 0 < wait_s <= 1 / rate + 1e-9
    elapsed = clock.now - 1000.0
    assert admitted <= burst + rate * elapsed + 1e-6
