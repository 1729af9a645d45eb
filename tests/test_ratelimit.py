"""Per-client rate limiting: token buckets on ask, search and feedback (and their no-JS forms); 429 with Retry-After.

The limiter's clock is injected, so nothing here waits or depends on how fast the machine is.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web.ratelimit import MAX_KEY_CHARS, RateLimiter, client_key
from tests.fakes import FakeEmbedder


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited(settings):
    """An app allowing 60 requests a minute (one a second) in bursts of 3, on a fake clock."""
    clock = Clock()
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 60, "rate_limit_burst": 3}),
                     embedder=FakeEmbedder())
    app.state.rate_limiter.clock = clock
    with TestClient(app) as c:
        yield c, clock


def test_bucket_allows_a_burst_then_the_rate():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)  # empty: one token a second
    clock.now += 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("b") == 0.0  # every client has its own bucket
    clock.now += 3600
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # refills, but only up to the burst
    assert limiter.take("a") > 0


def test_zero_per_minute_turns_it_off():
    limiter = RateLimiter(per_minute=0, burst=1)
    assert not limiter.enabled
    assert all(limiter.take("a") == 0.0 for _ in range(1000))
    assert len(limiter) == 0


def test_memory_is_bounded_idle_clients_are_evicted():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, max_clients=100, clock=clock)
    for i in range(1000):
        limiter.take(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100  # at most max_clients, least recently used dropped first
    clock.now += limiter.full_after  # every bucket has refilled: nothing worth keeping
    limiter.take("fresh")
    assert limiter.evict_idle() == 99 and len(limiter) == 1  # (taking "fresh" pushed one out already)
    # Eviction also runs by itself as requests come in (every 256 requests), well before max_clients.
    limiter = RateLimiter(per_minute=60, burst=3, max_clients=10**6, clock=clock)
    for i in range(5000):
        clock.now += 10
        limiter.take(f"c{i}")
    assert len(limiter) < 256


def test_client_key_from_connection_or_trusted_header():
    scope = {"client": ("203.0.113.7", 5555), "headers": [(b"x-forwarded-for", b"198.51.100.1, 10.0.0.2")]}
    assert client_key(scope) == "203.0.113.7"  # no header configured: a client cannot choose its own key
    assert client_key(scope, "X-Forwarded-For") == "203.0.113.7"  # header configured, but not from a trusted proxy
    assert client_key(scope, "X-Forwarded-For", ["203.0.113.0/24"]) == "10.0.0.2"  # the entry our proxy appended
    assert client_key({"client": ("203.0.113.7", 1), "headers": []}, "X-Real-IP", ["*"]) == "203.0.113.7"
    assert client_key({"client": ("10.0.0.1", 1), "headers": [(b"x-real-ip", b"x" * 5000)]}, "X-Real-IP",
                      ["10.0.0.1"]) == "x" * MAX_KEY_CHARS
    assert client_key({"headers": []}) == "unknown"


def test_ask_search_feedback_get_429_with_retry_after(limited):
    client, clock = limited
    for _ in range(3):
        assert client.get("/api/search", params={"q": "SSO"}).status_code == 200
    r = client.post("/api/ask", json={"question": "What is SSO?"})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert r.headers["content-type"] == "application/json"
    assert "too many requests" in r.json()["detail"] and "60 a minute" in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"  # still passes through the security headers
    assert client.post("/api/feedback", json={"conversation_id": "abc", "rating": "up"}).status_code == 429
    clock.now += 1
    assert client.post("/api/feedback", json={"conversation_id": "abc", "rating": "up"}).status_code == 404  # let through
    clock.now += 2.5
    r = client.post("/api/ask", json={"question": "What is SSO?"})
    assert r.status_code == 200


def test_no_js_forms_share_the_limit_but_pages_and_terms_do_not(limited):
    client, clock = limited
    for _ in range(3):
        assert client.post("/", data={"question": "What is an MSA?"}).status_code == 200
    assert client.post("/", data={"question": "What is an MSA?"}).status_code == 429
    assert client.post("/feedback", data={"conversation_id": "abc", "rating": "up"}).status_code == 429
    for path in ("/", "/terms", "/terms/single-sign-on", "/api/terms", "/api/terms/single-sign-on", "/healthz",
                 "/readyz"):
        assert client.get(path).status_code == 200, path


def test_retry_after_grows_with_the_wait(settings):
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 2, "rate_limit_burst": 1}),
                     embedder=FakeEmbedder())
    clock = Clock()
    app.state.rate_limiter.clock = clock
    with TestClient(app) as client:
        assert client.get("/api/search", params={"q": "SSO"}).status_code == 200
        r = client.get("/api/search", params={"q": "SSO"})
        assert r.status_code == 429 and r.headers["retry-after"] == "30"
        clock.now += 29.5
        assert client.get("/api/search", params={"q": "SSO"}).headers["retry-after"] == "1"


def test_trusted_header_separates_clients_behind_a_proxy(settings):
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 60, "rate_limit_burst": 1,
                                                 "rate_limit_client_header": "X-Real-IP",
                                                 "trusted_proxies": ["testclient"]}), embedder=FakeEmbedder())
    app.state.rate_limiter.clock = Clock()
    with TestClient(app) as client:
        def search(ip):
            return client.get("/api/search", params={"q": "SSO"}, headers={"X-Real-IP": ip}).status_code

        assert [search("10.1.1.1"), search("10.1.1.1"), search("10.2.2.2")] == [200, 429, 200]


def test_rate_limited_requests_are_counted_in_metrics(limited):
    client, _ = limited
    for _ in range(5):
        client.get("/api/search", params={"q": "SSO"})
    metrics = client.get("/metrics").text
    assert 'status="429"' in metrics


def _live_searches(settings, headers_for, count=8, **update):
    """`count` searches to the real server (uvicorn on loopback, as `glossary serve` runs it)."""
    import httpx

    from tests.live import LiveService

    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 60, "rate_limit_burst": 3, **update}),
                     embedder=FakeEmbedder())
    service = LiveService(app).start()
    try:
        with httpx.Client(base_url=service.url) as http:
            return [http.get("/api/search", params={"q": "SSO"}, headers=headers_for(i)).status_code
                    for i in range(count)]
    finally:
        service.stop()


def test_forwarded_headers_cannot_dodge_the_limit_without_a_configured_proxy(settings):
    """uvicorn believed X-Forwarded-For from 127.0.0.1 by default: rotating it gave every request a new bucket."""
    codes = _live_searches(settings, lambda i: {"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"10.9.9.{i}"})
    assert codes.count(200) == 3 and codes.count(429) == 5, codes


def test_a_configured_proxy_header_is_believed_only_from_trusted_proxies(settings):
    rotating = lambda i: {"X-Real-IP": f"10.9.9.{i}", "X-Forwarded-For": f"10.9.9.{i}"}  # noqa: E731
    assert _live_searches(settings, rotating, count=4, rate_limit_client_header="X-Real-IP") == [200] * 4
    untrusted = _live_searches(settings, rotating, count=4, rate_limit_client_header="X-Real-IP",
                               trusted_proxies=["192.0.2.1"])
    assert untrusted.count(429) == 1, untrusted


def test_admin_sign_in_backs_off_after_a_few_failures():
    from app.web.ratelimit import AuthThrottle

    clock = Clock()
    throttle = AuthThrottle(free=3, base_seconds=1, max_seconds=60, clock=clock)
    for _ in range(3):
        assert throttle.wait("a") == 0
        throttle.failed("a")
    assert throttle.wait("a") == pytest.approx(1)
    throttle.failed("a")
    assert throttle.wait("a") == pytest.approx(2)  # each failure doubles the wait
    for _ in range(20):
        throttle.failed("a")
    assert throttle.wait("a") == pytest.approx(60)  # capped
    assert throttle.wait("b") == 0  # per client
    clock.now += 60
    assert throttle.wait("a") == 0
    throttle.succeeded("a")
    throttle.failed("a")
    assert throttle.wait("a") == 0  # a success forgets the failures


def test_costly_pages_and_spotting_share_the_limit(limited):
    """/terms/<random> (404 + ranking), /terms?q= and /widget/api/spot with 20,000 characters were never limited."""
    client, clock = limited
    codes = [client.get(f"/terms/no-such-term-{i}").status_code for i in range(4)]
    assert codes == [404, 404, 404, 429], codes
    clock.now += 3
    assert [client.get("/terms", params={"q": f"zz{i}"}).status_code for i in range(4)][-1] == 429
    clock.now += 3
    spots = [client.post("/widget/api/spot", json={"texts": ["SSO " * 4000]}).status_code for _ in range(4)]
    assert spots == [200, 200, 200, 429], spots
    # Reading the glossary stays free: known term pages and the unfiltered list.
    assert all(client.get("/terms/single-sign-on").status_code == 200 for _ in range(10))
    assert all(client.get("/terms").status_code == 200 for _ in range(10))
