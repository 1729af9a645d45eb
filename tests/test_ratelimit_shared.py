"""The per-client rate limit shared by every worker and replica through a real Redis (the `limits` library).

The fixture starts a private redis-server on loopback (`scripts/test-deps` installs it from Debian);
outside CI the tests skip, saying why, when none can be started; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web.ratelimit import RateLimiter, SharedRateLimiter, limiter_for


def _unavailable(message: str):
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server not found; scripts/test-deps installs it (Debian package redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _unavailable(f"could not start redis-server on port {port}")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def _app(settings, **limits):
    """An app as one worker or replica runs it; the lifespan is not started (the limit is in front of it)."""
    return TestClient(create_app(settings.model_copy(update=limits)))


def test_two_instances_share_one_limit(settings, redis_url):
    shared = {"rate_limit_per_minute": 60, "rate_limit_burst": 4, "rate_limit_storage": redis_url}
    a, b = _app(settings, **shared), _app(settings, **shared)
    assert isinstance(a.app.state.rate_limiter, SharedRateLimiter)
    statuses = [(a if i % 2 else b).get("/api/search", params={"q": "po"}).status_code for i in range(4)]
    assert 429 not in statuses  # the burst, spread over both instances (503: the glossary is not loaded here)
    for client in (a, b):  # spent: each instance refuses now, although each saw only two requests
        r = client.get("/api/search", params={"q": "po"})
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 4  # the window of 4 per 4 s slides
        assert "at most 60 a minute (bursts of 4)" in r.json()["detail"]
    # Another client has its own count.
    other = a.get("/api/search", params={"q": "po"}, headers={"X-Real-IP": "10.0.0.9"})
    assert other.status_code == 429  # no client header configured: the peer address counts, not the header
    c = _app(settings, **shared, rate_limit_client_header="X-Real-IP", trusted_proxies=["testclient"])
    assert c.get("/api/search", params={"q": "po"}, headers={"X-Real-IP": "10.0.0.9"}).status_code != 429


def test_the_window_admits_again_after_it_slides(settings, redis_url):
    limiter = SharedRateLimiter(per_minute=120, burst=2, storage_url=redis_url)  # 2 per 1 s
    key = f"slide-{time.time()}"
    assert [limiter.take(key), limiter.take(key)] == [0.0, 0.0]
    wait = limiter.take(key)
    assert 0 < wait <= 1.0
    time.sleep(wait + 0.05)
    assert limiter.take(key) == 0.0


def test_in_process_counts_stay_the_default(settings):
    assert isinstance(limiter_for(settings), RateLimiter)
    assert isinstance(limiter_for(settings.model_copy(update={"rate_limit_storage": "memory://"})), RateLimiter)
    a, b = (_app(settings, rate_limit_per_minute=60, rate_limit_burst=2) for _ in range(2))
    assert [a.get("/api/search", params={"q": "po"}).status_code != 429 for _ in range(3)] == [True, True, False]
    assert b.get("/api/search", params={"q": "po"}).status_code != 429  # its own bucket: per process


def test_an_unreachable_store_lets_requests_through(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    limiter = SharedRateLimiter(per_minute=60, burst=1, storage_url=f"redis://127.0.0.1:{port}")
    assert [limiter.take("x") for _ in range(3)] == [0.0, 0.0, 0.0]
