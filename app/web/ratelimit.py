"""Per-client rate limiting of the expensive endpoints (ask, search, feedback): a token bucket per client.

Each client gets a bucket of `burst` tokens that refills at `per_minute / 60` tokens a second; a
request takes one token, and a request that finds the bucket empty is answered 429 with a
`Retry-After` (whole seconds until a token is back) and a readable JSON `detail`.

A client is the connection's address, or behind a reverse proxy the address that proxy writes
into a configured header (`X-Real-IP`, or `X-Forwarded-For`, of which the last entry is the one
the proxy saw). Memory is bounded: a bucket that has refilled completely holds no information and
is dropped, and at most `max_clients` buckets are kept (the least recently used go first).
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings

# What is limited: the JSON API, the pages' no-JavaScript forms that do the same work, the widget's spotting.
LIMITED = {
    ("POST", "/api/ask"), ("GET", "/api/search"), ("POST", "/api/feedback"),
    ("POST", "/"), ("POST", "/feedback"), ("POST", "/widget/api/spot"),
}
MAX_KEY_CHARS = 64  # a client key longer than an IPv6 address is cut, so junk headers cannot bloat memory


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by client; `take(key)` returns 0 when allowed, else seconds to wait."""

    def __init__(self, per_minute: int, burst: int, *, max_clients: int = 10000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0  # tokens a second
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._calls = 0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def full_after(self) -> float:
        """Seconds after which an idle bucket is full again, i.e. indistinguishable from a new client."""
        return self.burst / self.rate

    def take(self, key: str) -> float:
        """Spend one token of `key`'s bucket; return 0.0 when allowed, else the seconds until one is back."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        self._calls += 1
        if self._calls % 256 == 0:
            self.evict_idle(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(float(self.burst), now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(key)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def evict_idle(self, now: float | None = None) -> int:
        """Drop the buckets that have refilled completely; return how many were dropped."""
        now = self.clock() if now is None else now
        idle = self.full_after
        dropped = 0
        # Least recently used first: stop at the first bucket that is still refilling.
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if now - bucket.updated < idle:
                break
            del self._buckets[key]
            dropped += 1
        return dropped


def client_key(scope: Scope, header: str = "") -> str:
    """The client's address: from the trusted proxy header when one is configured, else the connection."""
    if header:
        name = header.lower().encode("latin-1")
        for key, value in scope.get("headers", []):
            if key == name:
                # X-Forwarded-For: "client, proxy1, proxy2"; our own proxy appended the last entry.
                parts = [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
                if parts:
                    return parts[-1][:MAX_KEY_CHARS]
    client = scope.get("client")
    return str(client[0])[:MAX_KEY_CHARS] if client else "unknown"


class RateLimitMiddleware:
    """Pure ASGI middleware answering 429 (with Retry-After) when a client exceeds its rate."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, client_header: str = "",
                 limited: set[tuple[str, str]] | None = None):
        self.app = app
        self.limiter = limiter
        self.client_header = client_header
        self.limited = LIMITED if limited is None else limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or not self.limiter.enabled
                or (scope.get("method", ""), scope.get("path", "")) not in self.limited):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.take(client_key(scope, self.client_header))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        per_minute = round(self.limiter.rate * 60)
        body = json.dumps({"detail": f"too many requests: at most {per_minute} a minute (bursts of "
                                     f"{self.limiter.burst}) per client; try again in {seconds} s"}).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(seconds).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})


def install(app: Starlette, settings: Settings) -> RateLimiter:
    """Add the limiter to `app` from the rate_limit_* settings and return it (the AppState keeps it)."""
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.add_middleware(RateLimitMiddleware, limiter=limiter, client_header=settings.rate_limit_client_header)
    return limiter
