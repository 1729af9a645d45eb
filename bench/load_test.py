"""Bounded soak test on loopback: N concurrent clients for a fixed time, mixing ask, search and pages.

Starts the real service (uvicorn, the shipped glossary, the configured embedder — the ONNX fast path
by default) as a subprocess on 127.0.0.1 with a scratch index and database, waits until it is
ready, then runs `--clients` workers for `--seconds` (and never more than `--max-requests`).
Each worker loops over a fixed mix: asks (a quarter of them follow-ups in the same conversation),
searches, the chat, the A-Z list, term pages, the no-JavaScript chat form.

Prints requests and errors per kind, latency percentiles, throughput, and the server's resident
memory (VmRSS) at start, every few seconds, and at the end. Exit code 1 when any request failed.

    .venv/bin/python bench/load_test.py                    # 8 clients, 60 s
    .venv/bin/python bench/load_test.py --clients 2 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_FILE = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
FALLBACK_QUESTIONS = [
    "What is SSO?", "What does SOC 2 mean for us?", "Do I need three quotes for a $12,000 purchase?",
    "MSA vs SOW?", "What is a true-up?", "What is RTO?", "What is the flux capacitor policy?",
]
FOLLOW_UPS = ["And who approves it?", "What does that mean for IT?", "Is there a threshold?", "Give me an example."]
SEARCHES = ["sso", "sgined once, logged in everywhere", "notice period", "SOC 2", "three quotes", "encryption",
            "contract renewal", "vendor risk", "PO", "data processing agreement", "uptime", "zz-no-such-term"]
SAMPLE_SECONDS = 5.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def questions() -> list[str]:
    if QUESTIONS_FILE.exists():
        rows = [json.loads(line) for line in QUESTIONS_FILE.read_text().splitlines() if line.strip()]
        return [row["question"] for row in rows][:200]
    return FALLBACK_QUESTIONS


class Server:
    """The service in a subprocess with its own scratch index, database and log file."""

    def __init__(self, scratch: Path, env_overrides: dict[str, str]):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        index = scratch / "index"
        if (ROOT / "index" / "CURRENT").exists():  # start from the built index (rebuilt if stale)
            shutil.copytree(ROOT / "index", index, ignore=shutil.ignore_patterns("README.md"))
        env = dict(os.environ)
        env.update({
            "GLOSSARY_INDEX_DIR": str(index),
            "GLOSSARY_DATABASE_URL": f"sqlite:///{scratch / 'load.db'}",
            "GLOSSARY_WATCH_GLOSSARY": "false",
            # The limiter stays in the request path but does not throttle 8 clients sharing 127.0.0.1.
            "GLOSSARY_RATE_LIMIT_PER_MINUTE": "6000000",
            "GLOSSARY_RATE_LIMIT_BURST": "100000",
        })
        env.update(env_overrides)
        self.log = open(scratch / "server.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the service was not ready within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []

    def record(self, kind: str, ms: float, error: str | None) -> None:
        self.latencies[kind].append(ms)
        if error:
            self.errors[kind] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {error}")

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def plan(worker: int, asked: list[str], slugs: list[str]):
    """An endless, deterministic sequence of (kind, request builder) for one worker."""
    conversation: dict[str, str | None] = {"id": None}
    q = itertools.cycle(asked[worker::8] or asked)
    s = itertools.cycle(SEARCHES[worker % len(SEARCHES):] + SEARCHES[: worker % len(SEARCHES)])
    t = itertools.cycle(slugs[worker::8] or slugs)
    f = itertools.cycle(FOLLOW_UPS)
    pages = itertools.cycle(itertools.chain.from_iterable(("/", "/terms", f"/terms/{next(t)}", f"/terms/{next(t)}",
                                                           "/terms?q=contract") for _ in range(50)))
    mix = ["ask", "search", "page", "ask", "search", "follow-up", "page", "search", "ask", "page-form"]
    for step in itertools.cycle(mix):
        if step == "ask":
            conversation["id"] = None
            yield "ask", ("POST", "/api/ask", {"json": {"question": next(q)}}), conversation
        elif step == "follow-up":
            body = {"question": next(f), "conversation_id": conversation["id"]}
            yield "ask", ("POST", "/api/ask", {"json": body}), conversation
        elif step == "search":
            yield "search", ("GET", "/api/search", {"params": {"q": next(s), "limit": 5}}), None
        elif step == "page-form":
            yield "page", ("POST", "/", {"data": {"question": next(q)}}), None
        else:
            yield "page", ("GET", next(pages), {}), None


async def worker(http: httpx.AsyncClient, steps, stats: Stats, stop_at: float, budget: list[int]) -> None:
    for kind, (method, path, kwargs), conversation in steps:
        if time.monotonic() >= stop_at or budget[0] <= 0:
            return
        budget[0] -= 1
        started = time.perf_counter()
        error = None
        try:
            r = await http.request(method, path, **kwargs)
            if r.status_code >= 400:
                error = f"{r.status_code} {path}: {r.text[:120]}"
            elif conversation is not None and path == "/api/ask":
                conversation["id"] = r.json()["conversation_id"]
        except httpx.HTTPError as exc:
            error = f"{exc.__class__.__name__} {path}: {exc}"
        stats.record(kind, (time.perf_counter() - started) * 1000, error)


async def sample_memory(pid: int, start: float, stop_at: float, series: list[tuple[float, float]]) -> None:
    while time.monotonic() < stop_at:
        await asyncio.sleep(min(SAMPLE_SECONDS, max(0.0, stop_at - time.monotonic())))
        series.append((time.monotonic() - start, rss_mib(pid)))


async def run_load(base_url: str, pid: int, clients: int, seconds: float, max_requests: int) -> tuple[Stats, list, float]:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=httpx.Timeout(30.0),
                                 limits=httpx.Limits(max_connections=clients)) as http:
        slugs = [t["slug"] for t in (await http.get("/api/terms")).json()["terms"]]
        # Warm-up, not measured: the first query of each kind loads lazy parts (FAISS, templates).
        for path, kwargs in (("/api/ask", {"json": {"question": "What is SSO?"}}), ("/api/search", {"params": {"q": "sso"}})):
            await http.request("POST" if path == "/api/ask" else "GET", path, **kwargs)
        stats = Stats()
        series = [(0.0, rss_mib(pid))]
        start = time.monotonic()
        stop_at = start + seconds
        budget = [max_requests]
        asked = questions()
        await asyncio.gather(sample_memory(pid, start, stop_at, series),
                             *(worker(http, plan(i, asked, slugs), stats, stop_at, budget) for i in range(clients)))
        wall = time.monotonic() - start
        series.append((wall, rss_mib(pid)))
    return stats, series, wall


def report(stats: Stats, series: list[tuple[float, float]], wall: float, clients: int) -> dict:
    everything = [ms for values in stats.latencies.values() for ms in values]
    rows = {}
    for kind in sorted(stats.latencies) + ["all"]:
        values = everything if kind == "all" else stats.latencies[kind]
        errors = sum(stats.errors.values()) if kind == "all" else stats.errors[kind]
        rows[kind] = {"requests": len(values), "errors": errors, "p50_ms": round(percentile(values, 50), 1),
                      "p90_ms": round(percentile(values, 90), 1), "p99_ms": round(percentile(values, 99), 1),
                      "max_ms": round(max(values), 1) if values else float("nan")}
    middle = min(series, key=lambda point: abs(point[0] - wall / 2))
    memory = {"start_mib": round(series[0][1], 1), "middle_mib": round(middle[1], 1), "end_mib": round(series[-1][1], 1),
              "max_mib": round(max(m for _, m in series), 1), "series": [(round(t), round(m, 1)) for t, m in series]}
    return {"clients": clients, "seconds": round(wall, 1), "throughput_rps": round(stats.total / wall, 1),
            "kinds": rows, "memory": memory, "error_samples": stats.samples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=200_000, help="hard cap on requests sent")
    parser.add_argument("--ready-timeout", type=float, default=600.0, help="seconds to wait for start-up")
    parser.add_argument("--set", action="append", default=[], metavar="GLOSSARY_X=value",
                        help="extra setting for the service, e.g. --set GLOSSARY_EMBEDDER=sentence-transformers")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON only")
    parser.add_argument("--log", type=Path, help="keep the service's log in this file")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)

    with tempfile.TemporaryDirectory(prefix="glossary-load-") as tmp:
        server = Server(Path(tmp), overrides)
        try:
            server.wait_ready(args.ready_timeout)
            stats, series, wall = asyncio.run(run_load(server.base_url, server.process.pid, args.clients, args.seconds,
                                                       args.max_requests))
        finally:
            server.stop()
            if args.log:
                shutil.copyfile(server.log.name, args.log)
    summary = report(stats, series, wall, args.clients)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{args.clients} clients, {summary['seconds']} s, {summary['throughput_rps']} requests/s")
        print(f"{'kind':8} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for kind, row in summary["kinds"].items():
            print(f"{kind:8} {row['requests']:>9} {row['errors']:>7} {row['p50_ms']:>8} {row['p90_ms']:>8} "
                  f"{row['p99_ms']:>8} {row['max_ms']:>8}")
        m = summary["memory"]
        print(f"server RSS MiB: start {m['start_mib']}, middle {m['middle_mib']}, end {m['end_mib']}, max {m['max_mib']}")
        print("RSS over time (s, MiB): " + ", ".join(f"{t}:{v}" for t, v in m["series"]))
        for sample in summary["error_samples"]:
            print("error:", sample)
    return 1 if summary["kinds"]["all"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
