"""Fresh answers/s with 1 and with 2 serving processes (`glossary serve --workers N`), in one run.

Builds the shipped glossary's index once (reference model, as bench/run.py does), then for each
worker count starts the real service on the same index and a fresh database, warms it, and sends
the same never-seen dev-question variants at concurrency 8 (and 1). Prints latency, answers/s,
service CPU ms per answer (all processes), the largest worker's RSS, and how busy the rest of the
machine was ("other cores"), since the host is shared.

    .venv/bin/python bench/workers.py [--n 300] [--counts 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import load  # noqa: E402
from run import Background, Fresh, Service, ask_groups, build_shipped, dev_items, log, warm_up  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="fresh questions per worker count at concurrency 8")
    parser.add_argument("--counts", default="1,2", help="worker counts to compare, comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the worker counts this many times")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["GLOSSARY_RATE_LIMIT_PER_MINUTE"] = "0"  # one client sends all the load
    from app.config import Settings

    work = Path(tempfile.mkdtemp(prefix="glossary-bench-workers-"))
    glossary_dir, index_dir = work / "glossary", work / "index"
    shutil.copytree(Settings().glossary_dir, glossary_dir)
    settings = Settings(glossary_dir=glossary_dir, index_dir=index_dir)
    groups = ask_groups(dev_items())
    rows = []
    try:
        log("building the shipped glossary's index with the reference model")
        build, reference = build_shipped(settings, index_dir)
        del reference
        log(f"  {build}")
        for workers in [int(c) for c in args.counts.split(",")] * args.rounds:
            service = Service(glossary_dir, index_dir, work, workers=workers)
            service.env["GLOSSARY_DATABASE_URL"] = f"sqlite:///{work / f'workers-{workers}.db'}"
            ready = service.start(timeout=120)
            try:

                with httpx.Client(base_url=service.base, trust_env=False) as http:
                    terms = [t["slug"] for t in http.get("/api/terms").json()["terms"]]
                warm_up(service.base, groups, terms)
                fresh = Fresh()  # the same never-seen variants for every worker count, new ones per phase
                for c, n in ((8, args.n), (1, max(50, args.n // 3))):
                    calls = fresh.calls(groups["mix"], n, "mix")
                    bg = Background(*service.worker_pids())
                    cpu0 = service.cpu_seconds()
                    o = asyncio.run(load.run(service.base, "ask mix, fresh", calls, c, 60.0))
                    cpu_ms = (service.cpu_seconds() - cpu0) * 1000 / max(1, o.done + o.errors)
                    row = {"workers": workers, "c": c, "n": o.done, "errors": o.errors, "p50": o.pct(50), "p95": o.pct(95),
                           "rps": o.throughput, "cpu_ms": cpu_ms, **bg.cores(), "ready_s": ready,
                           "rss": service.memory(), "load": os.getloadavg()[0]}
                    rows.append(row)
                    log(f"workers={workers} c={c} n={o.done} p50 {o.pct(50):.1f} p95 {o.pct(95):.1f} ms "
                        f"{o.throughput:.1f}/s errors {o.errors} cpu {cpu_ms:.1f} ms/answer "
                        f"other cores {row['other_cores']} rss {row['rss'].get('rss_mb')} MB")
            finally:
                service.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| workers | conc. | fresh answers | p50 ms | p95 ms | answers/s | errors | service CPU ms/answer "
          "| largest worker RSS MB | other cores busy | load avg (1 min) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (-r["c"], r["workers"])):
        print(f"| {r['workers']} | {r['c']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['rps']:.1f} | {r['errors']} "
              f"| {r['cpu_ms']:.1f} | {r['rss'].get('rss_mb')} | {r['other_cores']} | {r['load']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
