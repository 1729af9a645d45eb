"""Bounded HTTP load against a local service: a fixed list of requests, N concurrent workers, a wall-clock cap."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import httpx


@dataclass(frozen=True)
class Call:
    """One request: method, path, and a JSON body or query parameters."""

    method: str
    path: str
    json: dict | None = None
    params: dict | None = None
    tag: str = ""


@dataclass
class Outcome:
    name: str
    concurrency: int
    planned: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    capped: bool = False
    intents: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.done / self.wall_seconds if self.wall_seconds else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "concurrency": self.concurrency, "planned": self.planned, "done": self.done,
            "errors": self.errors, "capped": self.capped, "wall_seconds": round(self.wall_seconds, 3),
            "throughput_rps": round(self.throughput, 1),
            "p50_ms": round(self.pct(50), 2), "p95_ms": round(self.pct(95), 2), "p99_ms": round(self.pct(99), 2),
            "mean_ms": round(sum(self.latencies_ms) / self.done, 2) if self.done else float("nan"),
            "intents": dict(sorted(self.intents.items())), "error_samples": self.error_samples[:3],
        }


def percentile(values: Iterable[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    """A keep-alive client for loopback only (no proxies from the environment)."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the benchmark only talks to 127.0.0.1, not {base_url}")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(30.0), trust_env=False)


async def run(base_url: str, name: str, calls: list[Call], concurrency: int, cap_seconds: float) -> Outcome:
    """Send `calls` with `concurrency` workers; stop early at `cap_seconds` (then `capped` is set)."""
    outcome = Outcome(name, concurrency, len(calls))
    queue = iter(calls)
    async with client(base_url, concurrency) as http:
        started = time.perf_counter()
        deadline = started + cap_seconds

        async def worker() -> None:
            for call in queue:  # a shared iterator: each call is taken by exactly one worker
                if time.perf_counter() > deadline:
                    outcome.capped = True
                    return
                t0 = time.perf_counter()
                try:
                    r = await http.request(call.method, call.path, json=call.json, params=call.params)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if r.status_code != 200:
                        outcome.errors += 1
                        outcome.error_samples.append(f"{r.status_code} {call.path}: {r.text[:120]}")
                        continue
                    if call.path == "/api/ask":
                        intent = r.json().get("intent", "?")
                        outcome.intents[intent] = outcome.intents.get(intent, 0) + 1
                except httpx.HTTPError as exc:
                    outcome.errors += 1
                    outcome.error_samples.append(f"{exc.__class__.__name__} {call.path}: {exc}")
                    continue
                outcome.latencies_ms.append(elapsed)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        outcome.wall_seconds = time.perf_counter() - started
    return outcome
