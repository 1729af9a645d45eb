"""Per-client rate limiting of the expensive endpoints (ask, search, feedback): a token bucket per client.

Each client gets a bucket of `burst` tokens that refills at `per_minute / 60` tokens a second; a
request takes one token, and a request that finds the bucket empty is answered 429 with a
`Retry-After` (whole seconds until a token is back) and a readable JSON `detail`.

A client is the connection's address, or behind a reverse proxy the address that proxy writes
into a configured header (`X-Real-IP`, or `X-Forwarded-For`, of which the last entry is the one
the proxy saw). The header is believed only from the proxies in `trusted_proxies`: anyone else
who sends it is keyed by their own address.

Routes whose cost depends on the request (a 404 that ranks near terms, an A-Z filter, spotting a
page's text) call `enforce(request)` on the same buckets. Admin sign-in has its own, stricter
`AuthThrottle`: a few failures are free, then every further try waits twice as long. Memory is bounded: a bucket that has refilled completely holds no information and
is dropped, and at most `max_clients` buckets are kept (the least recently used go first).

Those buckets live in one process. With several workers or replicas, `GLOSSARY_RATE_LIMIT_STORAGE`
(e.g. `redis://redis:6379`) moves the count into a shared store through the `limits` library
(`SharedRateLimiter`), as a moving window of `burst` requests per `burst / rate` seconds: the same
burst at once and the same sustained rate as the bucket, a little stricter in between.
"""

from __future__ import annotations

import ipaddress
import json
import logging
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
log = logging.getLogger("glossary.ratelimit")
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


class SharedRateLimiter:
    """The RateLimiter's interface on a store every worker and replica shares (the `limits` library).

    `limits` has no token bucket; the bucket of `burst` tokens refilling at `rate` a second maps to a
    moving window of `burst` hits per `burst / rate` seconds (30 per 15 s for 30 and 120 a minute).
    Over a minute that admits 120 instead of the bucket's 30 + 120, so a client that empties its
    burst waits for the window to slide rather than for one token. If the store cannot be reached
    the request is let through (logged once until it is back): the limit protects capacity, and an
    outage of Redis must not turn into an outage of the glossary.
    """

    def __init__(self, per_minute: int, burst: int, storage_url: str):
        from limits import RateLimitItemPerSecond, storage, strategies

        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.storage_url = storage_url
        self.storage = storage.storage_from_string(storage_url)
        self.window = strategies.MovingWindowRateLimiter(self.storage)
        self.item = RateLimitItemPerSecond(self.burst, max(1, round(self.burst / self.rate))) if self.enabled else None
        self._down = False

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> float:
        """Count one hit for `key`; 0.0 when allowed, else the seconds until the window admits one more."""
        if self.item is None:
            return 0.0
        try:
            if self.window.hit(self.item, "glossary", key):
                self._reachable()
                return 0.0
            reset_at, _ = self.window.get_window_stats(self.item, "glossary", key)
        except Exception:
            if not self._down:
                self._down = True
                log.warning("rate-limit store %s unreachable: not limiting until it is back", self.storage_url,
                            exc_info=True)
            return 0.0
        self._reachable()
        return max(0.001, reset_at - time.time())

    def _reachable(self) -> None:
        if self._down:
            self._down = False
            log.warning("rate-limit store reachable again: limiting again")


Limiter = RateLimiter | SharedRateLimiter


def limiter_for(settings: Settings) -> Limiter:
    """The in-process token buckets, or the shared store named by GLOSSARY_RATE_LIMIT_STORAGE."""
    url = settings.rate_limit_storage.strip()
    if not url or url.startswith("memory://"):
        return RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    return SharedRateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst, url)


def trusts(host: str, trusted: tuple[str, ...] | list[str]) -> bool:
    """True when `host` is one of `trusted`: an address, a network (10.0.0.0/8), a name, or '*'."""
    for entry in trusted:
        if entry == "*" or entry == host:
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_key(scope: Scope, header: str = "", trusted: tuple[str, ...] | list[str] = ()) -> str:
    """The client's address: from the proxy header when one is configured and the peer is a trusted
    proxy, else the connection's own address."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if header and trusts(peer, trusted):
        name = header.lower().encode("latin-1")
        for key, value in scope.get("headers", []):
            if key == name:
                # X-Forwarded-For: "client, proxy1, proxy2"; our own proxy appended the last entry.
                parts = [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
                if parts:
                    return parts[-1][:MAX_KEY_CHARS]
    return peer[:MAX_KEY_CHARS]


def too_many(limiter: Limiter, wait: float) -> tuple[int, str]:
    """Retry-After seconds and the readable detail of a 429."""
    seconds = max(1, math.ceil(wait))
    per_minute = round(limiter.rate * 60)
    return seconds, (f"too many requests: at most {per_minute} a minute (bursts of {limiter.burst}) per client; "
                     f"try again in {seconds} s")


def enforce(request) -> None:
    """Spend a token for a costly branch of a route (ranking, spotting); raise a 429 when none is left."""
    from fastapi import HTTPException

    limiter: Limiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None or not limiter.enabled:
        return
    settings = request.app.state.settings
    wait = limiter.take(client_key(request.scope, settings.rate_limit_client_header, settings.trusted_proxies))
    if wait > 0:
        seconds, detail = too_many(limiter, wait)
        raise HTTPException(429, detail, headers={"Retry-After": str(seconds)})


class AuthThrottle:
    """Failed admin sign-ins per client: `free` failures, then each try waits twice as long as the last.

    A correct token is refused too while a client waits, so guessing costs time whatever the guess.
    A success forgets the client's failures; memory is bounded like the rate limiter's.
    """

    def __init__(self, free: int = 5, base_seconds: float = 1.0, max_seconds: float = 900.0, *,
                 max_clients: int = 10000, clock: Callable[[], float] = time.monotonic):
        self.free = free
        self.base = base_seconds
        self.max = max_seconds
        self.max_clients = max_clients
        self.clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, last failure)

    def wait(self, key: str) -> float:
        """Seconds `key` must still wait before its next try (0: it may try now)."""
        entry = self._failures.get(key)
        if entry is None or entry[0] < self.free:
            return 0.0
        count, last = entry
        delay = min(self.max, self.base * 2 ** (count - self.free))
        return max(0.0, delay - (self.clock() - last))

    def failed(self, key: str) -> None:
        count, _ = self._failures.pop(key, (0, 0.0))
        self._failures[key] = (count + 1, self.clock())
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


class RateLimitMiddleware:
    """Pure ASGI middleware answering 429 (with Retry-After) when a client exceeds its rate."""

    def __init__(self, app: ASGIApp, *, limiter: Limiter, client_header: str = "",
                 trusted_proxies: tuple[str, ...] | list[str] = (), limited: set[tuple[str, str]] | None = None):
        self.app = app
        self.limiter = limiter
        self.client_header = client_header
        self.trusted = tuple(trusted_proxies)
        self.limited = LIMITED if limited is None else limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or not self.limiter.enabled
                or (scope.get("method", ""), scope.get("path", "")) not in self.limited):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.take(client_key(scope, self.client_header, self.trusted))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        seconds, detail = too_many(self.limiter, wait)
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(seconds).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})


def install(app: Starlette, settings: Settings) -> Limiter:
    """Add the limiter to `app` from the rate_limit_* settings and return it (the AppState keeps it),
    and the admin sign-in throttle (app.state.auth_throttle)."""
    limiter = limiter_for(settings)
    app.state.auth_throttle = AuthThrottle()
    app.add_middleware(RateLimitMiddleware, limiter=limiter, client_header=settings.rate_limit_client_header,
                       trusted_proxies=settings.trusted_proxies)
    return limiter
