"""Token-bucket rate limits per API token, and per client IP for anonymous requests (issue 6 "Auth").

Each key (a token's public id, or ``ip:<address>``) owns a bucket holding up to ``burst`` requests that
refills at ``rate_per_s``; a request takes one. A key with an empty bucket gets 429 problem+json with a
``Retry-After`` header (RFC 9110 §10.2.3, in whole seconds, rounded up). Buckets live in a bounded LRU
map: a flood of distinct keys evicts the least recently seen buckets (an evicted key starts again with a
full bucket) instead of growing memory. The clock is passed in (monotonic seconds) so tests are exact.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from ledgr.api.problem import problem_response
from ledgr.api.tokens import PRINCIPAL_KEY
from ledgr.errors import InvalidInput, RateLimited

__all__ = ["TokenBucketLimiter", "client_ip", "rate_limit_middleware"]

Clock = Callable[[], float]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEFAULT_MAX_BUCKETS = 10_000


class TokenBucketLimiter:
    """Bounded map of token buckets; :meth:`acquire` says 0.0 (go) or the seconds to wait."""

    def __init__(self, rate_per_s: float, burst: int, *, clock: Clock,
                 max_buckets: int = DEFAULT_MAX_BUCKETS) -> None:
        if rate_per_s <= 0 or burst < 1 or max_buckets < 1:
            raise InvalidInput("rate limits need rate_per_s > 0, burst >= 1 and max_buckets >= 1")
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self.max_buckets = max_buckets
        self._clock = clock
        # key -> [tokens left, time of last refill]
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` from ``key``'s bucket: 0.0 when allowed, else seconds until it would be."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_buckets:
                self._buckets.popitem(last=False)
            bucket = [self.burst, now]
            self._buckets[key] = bucket
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket[1])
            bucket[0] = min(self.burst, bucket[0] + elapsed * self.rate_per_s)
            bucket[1] = now
        if bucket[0] >= cost:
            bucket[0] -= cost
            return 0.0
        return (cost - bucket[0]) / self.rate_per_s


def client_ip(request: web.Request) -> str:
    """The peer address (proxies: put the limit at the proxy, or configure it to pass the real peer)."""
    return request.remote or "unknown"


def rate_limit_middleware(per_token: TokenBucketLimiter, per_ip: TokenBucketLimiter, *,
                          exempt_paths: Iterable[str] = ("/v1/health", "/v1/health/ready", "/metrics"),
                          ) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Middleware charging each request to its token (set by the auth middleware) or its client IP.

    Place it *after* :func:`ledgr.api.auth.auth_middleware` in the app's middleware list so the
    principal is known; health probes and metrics scrapes are exempt.
    """
    exempt = frozenset(exempt_paths)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in exempt:
            return await handler(request)
        principal = request.get(PRINCIPAL_KEY)
        if principal is not None:
            wait_s = per_token.acquire("token:" + principal.token_id)
        else:
            wait_s = per_ip.acquire("ip:" + client_ip(request))
        if wait_s > 0:
            return too_many_requests(request, wait_s)
        return await handler(request)

    return middleware


def too_many_requests(request: web.Request, wait_s: float) -> web.Response:
    retry_after = max(1, math.ceil(wait_s))
    error = RateLimited(f"rate limit exceeded; retry after {retry_after} s", retryAfterSeconds=retry_after)
    return problem_response(error, request.path, headers={"Retry-After": str(retry_after)})
