"""Benchmark: latency, throughput, memory, start-up, index builds and dev-set quality, in one bounded run.

    .venv/bin/python bench/run.py [--quick] [--skip-external] [--json FILE]

Starts the real service (`glossary serve`) on a free 127.0.0.1 port with its index and database in a
temporary folder, loads it over loopback only, and prints Markdown tables plus PASS/FAIL per target.
A full run takes about 5 minutes on a 2-core machine; --quick about 2.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402

import load  # noqa: E402
import quality  # noqa: E402

DEV_SET = REPO.parent / "shared" / "eval" / "dev_questions.jsonl"
EXTERNAL = REPO.parent / "shared" / "external"
GLOSSARY_BIN = REPO / ".venv" / "bin" / "glossary"
SHORT_QUERY = "What is SSO?"
STARTED = time.perf_counter()
BUDGET_SECONDS = 9 * 60  # stop starting new load scenarios after this

KIND_GROUPS = {"define": ("direct", "paraphrase", "for_us", "typo"), "compare": ("compare",),
               "explain": ("jargon_paste",)}
# Neutral openers make a dev question new to the service (a cache miss) without changing what it asks.
OPENERS = ["Hi, ", "Hello! ", "Quick question: ", "Sorry to bother you, ", "Hey, ", "One more: ", "Good morning. ",
           "Hi there, ", "Thanks in advance. ", "Hello team, ", "Morning! ", "Hi all, "]
AUDIENCES = [None, "procurement", "it"]

TARGETS = {"ask_p50_ms": 10.0, "ask_p95_ms": 20.0, "answers_per_s_c8": 200.0, "ask_vs_embed": 1.5,
           "rss_mb": 250.0, "ready_s": 2.0, "shipped_build_s": 30.0}
# The anchor (bench/naive.py) answers the same fresh questions at these concurrencies.
ANCHOR_SCENARIO = "ask mix, fresh"


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- machine
class Background:
    """CPU used by *other* processes on this machine (the host is shared): busy time minus ours, in cores."""

    def __init__(self, *pids: int):
        self.pids = pids
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float, float]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / self.tick  # all but idle and iowait
        steal = fields[7] / self.tick if len(fields) > 7 else 0.0
        own = os.times()
        ours = own.user + own.system + own.children_user + own.children_system  # children: once waited for
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ours += (int(fields[11]) + int(fields[12])) / self.tick
            except OSError:
                pass
        return time.perf_counter(), busy, ours, steal

    def cores(self) -> dict:
        """Average cores busy with other work since the last call (and VM steal), then restart."""
        now = self._sample()
        wall = max(1e-6, now[0] - self.start[0])
        out = {"other_cores": round(max(0.0, (now[1] - self.start[1]) - (now[2] - self.start[2])) / wall, 2),
               "steal_cores": round((now[3] - self.start[3]) / wall, 2)}
        self.start = now
        return out


def wait_quiet(limit_s: float, pids: tuple[int, ...] = ()) -> dict:
    """Wait (at most limit_s) until other processes use under 0.25 cores over 2 s; return the last sample."""
    deadline = time.perf_counter() + limit_s
    bg = Background(*pids)
    while True:
        time.sleep(2)
        sample = bg.cores()
        if sample["other_cores"] < 0.25 or time.perf_counter() >= deadline:
            return sample
        log(f"  machine busy ({sample['other_cores']} cores used by other processes); waiting")


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for key in ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor"):
            m = re.search(rf"^{re.escape(key)}:\s*(.+)$", lscpu, re.M)
            if m:
                info[key] = m.group(1).strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        mem = Path("/proc/meminfo").read_text()
        info["mem_total_gib"] = round(int(re.search(r"MemTotal:\s+(\d+)", mem).group(1)) / 2**20, 1)
    except (OSError, AttributeError):
        pass
    info["loadavg_at_start"] = os.getloadavg()
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return info


# ------------------------------------------------------------------------------------------- questions
def dev_items() -> list[dict]:
    from app.evaluate import load_questions

    return load_questions(DEV_SET)


def ask_groups(items: list[dict]) -> dict[str, list[dict]]:
    groups = {g: [i for i in items if i["kind"] in kinds] for g, kinds in KIND_GROUPS.items()}
    mix = [i for g in groups.values() for i in g]
    random.Random(8).shuffle(mix)
    groups["mix"] = mix  # define, compare and explain in the dev set's own proportions
    return groups


class Fresh:
    """Never-asked-before variants of dev questions: an opener and/or another audience."""

    def __init__(self) -> None:
        self.used: set[tuple[str, str | None]] = set()
        self.counter = 0

    def variant(self, item: dict) -> tuple[str, str | None]:
        q, dev_audience = item["question"], item.get("audience")
        audiences = [dev_audience] + [a for a in AUDIENCES if a != dev_audience]
        for opener in [""] + OPENERS:
            for audience in audiences:
                if opener == "" and audience == dev_audience:
                    continue  # that is the repeated question itself
                key = (opener + q, audience)
                if key not in self.used:
                    self.used.add(key)
                    return key
        self.counter += 1
        key = (f"{q} (ref {self.counter})", dev_audience)
        self.used.add(key)
        return key

    def calls(self, items: list[dict], n: int, tag: str) -> list[load.Call]:
        out = []
        for k in range(n):
            question, audience = self.variant(items[k % len(items)])
            out.append(load.Call("POST", "/api/ask", json={"question": question, "audience": audience}, tag=tag))
        return out


def repeated_calls(items: list[dict], n: int, tag: str) -> list[load.Call]:
    return [load.Call("POST", "/api/ask", json={"question": items[k % len(items)]["question"],
                                                 "audience": items[k % len(items)].get("audience")}, tag=tag)
            for k in range(n)]


# ---------------------------------------------------------------------------------------------- floor
def time_calls(fn, n: int, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def embedding_floor(settings, reference, mix: list[dict], n: int) -> dict:
    """Bare query embedding in this process: the serving embedder and the sentence-transformers reference."""
    from app.search.embedder import make_embedder

    serving = make_embedder(settings.embedder, settings.resolved_model_path(), settings.onnx_model)
    short_serving = time_calls(lambda: serving.encode([SHORT_QUERY]), n)
    texts = itertools.cycle([i["question"] for i in mix])
    mix_serving = time_calls(lambda: serving.encode([next(texts)]), 2 * len(mix), warmup=0)
    short_reference = time_calls(lambda: reference.encode([SHORT_QUERY]), max(20, n // 3))
    mix_reference = time_calls(lambda: reference.encode([next(texts)]), len(mix), warmup=0)

    def stats(values):
        return {"n": len(values), "p50_ms": round(load.percentile(values, 50), 3),
                "p95_ms": round(load.percentile(values, 95), 3), "mean_ms": round(statistics.fmean(values), 3)}

    return {"serving_embedder": type(serving).__name__, "setting": settings.embedder, "short_query": SHORT_QUERY,
            "serving_short": stats(short_serving), "serving_mix": stats(mix_serving),
            "reference_embedder": type(reference).__name__, "reference_short": stats(short_reference),
            "reference_mix": stats(mix_reference), "_serving": serving}


# ------------------------------------------------------------------------------------------ index builds
def build_shipped(settings, index_dir: Path) -> tuple[dict, object]:
    """Index the shipped glossary from scratch with the reference model, as `glossary build` does."""
    from app.glossary import load_glossary
    from app.resources import reference_embedder
    from app.search.index import build_index, save_index

    t0 = time.perf_counter()
    result = load_glossary(settings.glossary_dir)
    if result.glossary is None:
        raise SystemExit("the shipped glossary does not load:\n" + "\n".join(str(p) for p in result.errors[:20]))
    t1 = time.perf_counter()
    reference = reference_embedder(settings)
    t2 = time.perf_counter()
    index = build_index(result.glossary, reference)
    t3 = time.perf_counter()
    save_index(index, index_dir)
    t4 = time.perf_counter()
    return ({"terms": index.manifest["terms"], "views": index.manifest["views"], "model": type(reference).__name__,
             "glossary_load_s": round(t1 - t0, 3), "model_load_s": round(t2 - t1, 3),
             "embed_s": round(t3 - t2, 3), "save_s": round(t4 - t3, 3), "build_s": round(t4 - t2, 3),
             "end_to_end_s": round(t4 - t0, 3)}, reference)


def build_external() -> dict:
    """Reuse bench/import_external.py (the app.interchange importer + the reference model) and read its report."""
    script = Path(__file__).resolve().parent / "import_external.py"
    if not script.exists():
        return {"skipped": "bench/import_external.py is missing"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), "--external", str(EXTERNAL)], capture_output=True, text=True,
                          timeout=600, cwd=REPO)
    out = {"wall_s": round(time.perf_counter() - t0, 2), "exit": proc.returncode, "raw": proc.stdout.strip()}
    if proc.returncode != 0:
        out["stderr"] = proc.stderr.strip()[-2000:]
        return out
    patterns = {"terms": r"^terms:\s+(\d+)", "import_s": r"^import seconds:\s+([\d.]+)",
                "model_load_s": r"^model load:\s+([\d.]+)", "build_s": r"^index build:\s+([\d.]+)",
                "views": r"^index build:.* for (\d+) views"}
    for key, pattern in patterns.items():
        m = re.search(pattern, proc.stdout, re.M)
        if m:
            out[key] = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
    return out


# -------------------------------------------------------------------------------------------- service
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """`glossary serve` as a subprocess on a free loopback port, with temp index and database."""

    def __init__(self, glossary_dir: Path, index_dir: Path, work: Path, embedder: str = "auto",
                 argv: list[str] | None = None, workers: int = 1):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = work / f"service-{self.port}.log"
        self.env = {**os.environ, "GLOSSARY_GLOSSARY_DIR": str(glossary_dir), "GLOSSARY_INDEX_DIR": str(index_dir),
                    # One database for every start: the first creates it, later ones are restarts.
                    "GLOSSARY_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
                    "GLOSSARY_EMBEDDER": embedder, "GLOSSARY_HOST": "127.0.0.1", "GLOSSARY_PORT": str(self.port)}
        self.workers = workers
        self.argv = argv or [str(GLOSSARY_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                             "--workers", str(workers)]
        self.proc: subprocess.Popen | None = None
        self.ready_s: float | None = None

    def start(self, timeout: float = 60) -> float:
        started = time.perf_counter()
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)
        with httpx.Client(base_url=self.base, timeout=2, trust_env=False) as http:
            while time.perf_counter() - started < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"service exited ({self.proc.returncode}):\n{self.log_tail()}")
                try:
                    if http.get("/readyz").status_code == 200:
                        self.ready_s = time.perf_counter() - started
                        return self.ready_s
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"service not ready in {timeout}s:\n{self.log_tail()}")

    def rebuilt(self) -> bool:
        return "rebuilding index" in self.log_path.read_text(errors="replace")

    def log_tail(self, n: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def worker_pids(self) -> list[int]:
        """The serving processes: with --workers N > 1 uvicorn's spawned children, else the service itself."""
        pid = self.proc.pid
        if self.workers <= 1:
            return [pid]
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]

    def memory(self) -> dict:
        """Resident memory of the service now, and its peak (VmHWM), in MB (the largest worker's with several)."""
        if self.workers > 1:
            per = [self._memory(p) for p in self.worker_pids()]
            return {"rss_mb": max(m.get("rss_mb", 0) for m in per), "peak_rss_mb": max(m.get("peak_rss_mb", 0) for m in per),
                    "source": "/proc, largest worker", "workers_rss_mb": [m.get("rss_mb") for m in per]}
        return self._memory(self.proc.pid)

    def _memory(self, pid: int) -> dict:
        out = {}
        try:
            import psutil

            out["rss_mb"] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
            out["source"] = "psutil"
        except ImportError:
            out["source"] = "/proc"
        status = Path(f"/proc/{pid}/status").read_text()
        for key, name in (("VmRSS", "rss_mb"), ("VmHWM", "peak_rss_mb")):
            m = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
            if m:
                out.setdefault(name, round(int(m.group(1)) / 1024, 1))
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU time the service has used so far (all its threads, and all its workers)."""
        total = 0.0
        for pid in {self.proc.pid, *self.worker_pids()}:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "_log", None):
            self._log.close()


# ---------------------------------------------------------------------------------------------- loads
def scenarios(groups: dict[str, list[dict]], terms: list[str], counts: dict, fresh: Fresh) -> list[tuple]:
    """(name, concurrency, calls) in the order they run; every fresh question is new to the service."""
    plan = []
    define_items = groups["define"]
    for c in (1, 8):
        n_mix, n_kind, n_other = counts[c]
        plan.append(("ask mix, fresh", c, fresh.calls(groups["mix"], n_mix, "mix")))
        plan.append(("ask mix, repeated", c, repeated_calls(groups["mix"], n_mix, "mix")))
        for g in ("define", "compare", "explain"):
            plan.append((f"ask {g}, fresh", c, fresh.calls(groups[g], n_kind, g)))
            plan.append((f"ask {g}, repeated", c, repeated_calls(groups[g], n_kind, g)))
        plan.append(("search", c, [load.Call("GET", "/api/search", params={"q": define_items[k % len(define_items)]["question"]})
                                   for k in range(n_other)]))
        plan.append(("term page (HTML)", c, [load.Call("GET", f"/terms/{terms[k % len(terms)]}") for k in range(n_other)]))
        if c == 1:
            plan.append(("healthz (HTTP floor)", c, [load.Call("GET", "/healthz") for _ in range(n_other)]))
    return plan


def warm_up(base: str, groups: dict[str, list[dict]], terms: list[str]) -> None:
    """First requests of every route, and every repeated question asked once (so 'repeated' means seen)."""
    calls = repeated_calls(groups["mix"], len(groups["mix"]), "warm")
    calls += [load.Call("GET", "/api/search", params={"q": i["question"]}) for i in groups["define"][:20]]
    calls += [load.Call("GET", f"/terms/{t}") for t in terms[:20]]
    calls += [load.Call("GET", "/healthz")] * 20
    outcome = asyncio.run(load.run(base, "warm-up", calls, 2, 120))
    if outcome.errors:
        raise RuntimeError(f"warm-up errors: {outcome.error_samples}")


# --------------------------------------------------------------------------------------------- report
def fmt(v, digits=1) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (about 2 minutes)")
    parser.add_argument("--skip-external", action="store_true", help="skip importing and indexing ../shared/external")
    parser.add_argument("--json", type=Path, help="also write all results to this file")
    parser.add_argument("--skip-anchor", action="store_true", help="do not run the naive anchor service")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (index, database, service log)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="serving processes of the measured service (glossary serve --workers; default 1); "
                             "bench/workers.py compares 1 and 2 in one run")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before timing, wait up to this long for other processes to go quiet (shared hosts)")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # One client sends all the load: per-client rate limiting would measure the limiter, not the service.
    os.environ["GLOSSARY_RATE_LIMIT_PER_MINUTE"] = "0"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from app.config import Settings

    counts = ({1: (100, 40, 100), 8: (300, 100, 300)} if args.quick else {1: (300, 100, 300), 8: (1000, 300, 1000)})
    floor_n = 100 if args.quick else 300
    cap = 20.0 if args.quick else 60.0
    starts = 1 if args.quick else 3

    results: dict = {"machine": machine(), "quick": args.quick}
    work = Path(tempfile.mkdtemp(prefix="glossary-bench-"))
    index_dir = work / "index"
    # A snapshot of the shipped glossary: edits made meanwhile cannot trigger a rebuild or a reload mid-run.
    glossary_dir = work / "glossary"
    shutil.copytree(Settings().glossary_dir, glossary_dir)
    settings = Settings(glossary_dir=glossary_dir, index_dir=index_dir, embedder="auto",
                        database_url=f"sqlite:///{work / 'inproc.db'}")
    items = dev_items()
    groups = ask_groups(items)
    service = None
    try:
        results["background"] = {}
        if args.wait_quiet:
            log("waiting for a quiet machine")
            results["background"]["before_build"] = wait_quiet(args.wait_quiet)
        bg = Background()
        log("building the shipped glossary's index with the reference model")
        results["build_shipped"], reference = build_shipped(settings, index_dir)
        results["background"]["build_shipped"] = bg.cores()
        log(f"  {results['build_shipped']} {results['background']['build_shipped']}")

        log("bare query embedding (the floor)")
        floor = embedding_floor(settings, reference, groups["mix"], floor_n)
        results["background"]["floor"] = bg.cores()
        serving_embedder = floor.pop("_serving")
        results["floor"] = floor
        log(f"  {floor}")

        if args.skip_external:
            results["build_external"] = {"skipped": "--skip-external"}
        else:
            log("importing ../shared/external together and indexing it (bench/import_external.py)")
            bg.cores()
            results["build_external"] = build_external()
            results["background"]["build_external"] = bg.cores()
            log(f"  {({k: v for k, v in results['build_external'].items() if k != 'raw'})}")

        log("dev-set quality per retrieval mode")
        results["quality"] = run_quality(items, settings, reference, serving_embedder)
        del reference  # the service is measured alone; this process keeps only what the load needs

        readies = []
        if args.wait_quiet:
            results["background"]["before_start"] = wait_quiet(args.wait_quiet)
        for attempt in range(starts):
            service = Service(glossary_dir, index_dir, work, workers=args.workers)
            bg = Background()
            readies.append(round(service.start(), 3))
            results["background"][f"start_{attempt + 1}"] = bg.cores()
            log(f"service ready in {readies[-1]:.2f}s (start {attempt + 1}/{starts}) on {service.base}")
            if service.rebuilt():
                raise RuntimeError("the service rebuilt the index: start-up was not measured with a built index")
            if attempt < starts - 1:
                service.stop()
        results["ready"] = {"starts_s": readies, "median_s": statistics.median(readies), "max_s": max(readies),
                            "memory_when_ready": service.memory()}
        with httpx.Client(base_url=service.base, trust_env=False) as http:
            terms = [t["slug"] for t in http.get("/api/terms").json()["terms"]]
        warm_up(service.base, groups, terms)
        results["memory_after_warmup"] = service.memory()
        log(f"warm; {service.memory()}")

        outcomes = []
        if args.wait_quiet:
            results["background"]["before_load"] = wait_quiet(args.wait_quiet, (service.proc.pid,))
        bg = Background(*{service.proc.pid, *service.worker_pids()})
        for name, c, calls in scenarios(groups, terms, counts, Fresh()):
            if time.perf_counter() - STARTED > BUDGET_SECONDS:
                log(f"time budget spent: skipping {name} c={c}")
                continue
            bg.cores()
            cpu0 = service.cpu_seconds()
            o = asyncio.run(load.run(service.base, name, calls, c, cap))
            cpu_ms = (service.cpu_seconds() - cpu0) * 1000 / max(1, o.done + o.errors)
            outcomes.append({**o.summary(), **bg.cores(), "service_cpu_ms": round(cpu_ms, 2)})
            log(f"{name:28s} c={c}  n={o.done:5d}  p50 {o.pct(50):7.2f}  p95 {o.pct(95):7.2f}  p99 {o.pct(99):7.2f} ms"
                f"  {o.throughput:7.1f}/s  errors {o.errors}{'  CAPPED' if o.capped else ''}  "
                f"other cores {outcomes[-1]['other_cores']}")
        results["load"] = outcomes
        results["memory_after_load"] = service.memory()
        results["metrics_sample"] = service_metrics(service.base)
        service.stop()
        if not args.skip_anchor:
            log("the anchor: a naive FastAPI + sentence-transformers + FAISS service (bench/naive.py)")
            results["anchor"] = run_anchor(glossary_dir, index_dir, work, items, groups, counts, cap)
    finally:
        if service is not None:
            service.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - STARTED, 1)
    results["targets"] = targets(results)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0 if all(t["ok"] for t in results["targets"] if t["primary"]) else 1


def run_anchor(glossary_dir: Path, index_dir: Path, work: Path, items: list[dict], groups: dict, counts: dict,
               cap: float) -> dict:
    """The naive service on the same fresh questions (a new Fresh gives the same variants ours got)."""
    from app.evaluate import evaluate

    naive = Service(glossary_dir, index_dir, work)
    naive.argv = [sys.executable, "-m", "uvicorn", "naive:app", "--app-dir", str(REPO / "bench"),
                  "--host", "127.0.0.1", "--port", str(naive.port), "--log-level", "warning", "--no-access-log"]
    out: dict = {"load": []}
    try:
        out["ready_s"] = round(naive.start(timeout=180), 2)
        with httpx.Client(base_url=naive.base, trust_env=False, timeout=30) as http:
            out["quality"] = quality.report_dict(evaluate(http, items))
        warm = [load.Call("POST", "/api/ask", json={"question": i["question"]}) for i in groups["mix"][:30]]
        asyncio.run(load.run(naive.base, "anchor warm-up", warm, 2, 60))
        fresh = Fresh()
        for c in (1, 8):
            calls = fresh.calls(groups["mix"], counts[c][0], "mix")
            cpu0 = naive.cpu_seconds()
            o = asyncio.run(load.run(naive.base, ANCHOR_SCENARIO, calls, c, cap))
            cpu_ms = (naive.cpu_seconds() - cpu0) * 1000 / max(1, o.done + o.errors)
            out["load"].append({**o.summary(), "service_cpu_ms": round(cpu_ms, 2)})
            log(f"anchor {ANCHOR_SCENARIO} c={c}  n={o.done}  p50 {o.pct(50):7.2f}  p95 {o.pct(95):7.2f} ms  "
                f"{o.throughput:7.1f}/s  errors {o.errors}")
        out["memory_after_load"] = naive.memory()
    except RuntimeError as exc:
        out["error"] = str(exc)[-500:]
    finally:
        naive.stop()
    return out


def anchor_lines(r: dict) -> list[str]:
    """Ours vs the naive anchor, as ratios (below 1 = ours is faster / uses less)."""
    a = r.get("anchor")
    if not a:
        return []
    lines = ["", "## Anchor: a naive FastAPI + sentence-transformers + FAISS service, same run, same questions", ""]
    if "error" in a:
        return lines + [f"The anchor did not run: {a['error']}"]
    lines += ["| measure | ours | naive | ours / naive |", "|---|---:|---:|---:|"]

    def row(label, ours, theirs, digits=2):
        ratio = f"{ours / theirs:.2f}" if ours is not None and theirs else "n/a"
        lines.append(f"| {label} | {fmt(ours, digits)} | {fmt(theirs, digits)} | {ratio} |")

    for c in (1, 8):
        ours = find(r, ANCHOR_SCENARIO, c) or {}
        theirs = next((o for o in a["load"] if o["concurrency"] == c), {})
        row(f"fresh ask p50 ms, c={c}", ours.get("p50_ms"), theirs.get("p50_ms"))
        row(f"fresh ask p95 ms, c={c}", ours.get("p95_ms"), theirs.get("p95_ms"))
        row(f"answers/s, c={c}", ours.get("throughput_rps"), theirs.get("throughput_rps"), 1)
        row(f"service CPU ms per answer, c={c}", ours.get("service_cpu_ms"), theirs.get("service_cpu_ms"))
    row("RSS after the load, MB", r.get("memory_after_load", {}).get("rss_mb"),
        a.get("memory_after_load", {}).get("rss_mb"), 1)
    ours_q, theirs_q = r["quality"]["api"]["serving"], a["quality"]
    row("dev set in-scope score", ours_q["in_scope"], theirs_q["in_scope"], 3)
    lines.append(f"| dev set out of scope refused | {ours_q['out_of_scope_passed']}/{ours_q['out_of_scope_total']} | "
                 f"{theirs_q['out_of_scope_passed']}/{theirs_q['out_of_scope_total']} | |")
    return lines


def service_metrics(base: str) -> str:
    with httpx.Client(base_url=base, trust_env=False) as http:
        text = http.get("/metrics").text
    return "\n".join(line for line in text.splitlines() if line.startswith("glossary_") and "_bucket" not in line)[:3000]


def run_quality(items: list[dict], settings, reference, serving) -> dict:
    from app.glossary import load_glossary
    from app.search.index import load_index
    from app.search.retrieve import Retriever

    glossary = load_glossary(settings.glossary_dir).glossary
    index = load_index(settings.index_dir)
    out: dict = {"rank_only": {}, "api": {}}
    for label, embedder in (("serving", serving), ("reference", reference)):
        retriever = Retriever(glossary, index, embedder)
        for mode in quality.MODES:
            if mode == "bm25" and label == "reference":
                continue  # BM25 does not use the embedder
            key = f"{mode}/{label}" if mode != "bm25" else "bm25"
            out["rank_only"][key] = quality.rank_only(items, glossary, retriever, mode)
    out["api"]["serving"] = quality.report_dict(quality.through_api(items, settings))
    out["api"]["reference"] = quality.report_dict(quality.through_api(items, settings, embedder=reference))
    out["serving_embedder"] = type(serving).__name__
    out["reference_embedder"] = type(reference).__name__
    return out


def find(results: dict, name: str, c: int) -> dict | None:
    return next((o for o in results.get("load", []) if o["name"] == name and o["concurrency"] == c), None)


def targets(r: dict) -> list[dict]:
    out = []

    def add(label, value, limit, ok, primary=True, unit=""):
        out.append({"target": label, "value": value, "limit": limit, "ok": ok, "primary": primary, "unit": unit})

    floor_short = r["floor"]["serving_short"]["p50_ms"]
    floor_mix = r["floor"]["serving_mix"]["p50_ms"]
    for kind, primary in (("fresh", True), ("repeated", False)):
        c1, c8 = find(r, f"ask mix, {kind}", 1), find(r, f"ask mix, {kind}", 8)
        suffix = f" [{kind} questions]"
        p50 = c1["p50_ms"] if c1 else None
        add(f"/api/ask p50 at c=1 <= {TARGETS['ask_p50_ms']:g} ms{suffix}", p50, TARGETS["ask_p50_ms"],
            p50 is not None and p50 <= TARGETS["ask_p50_ms"], primary, "ms")
        p95 = c1["p95_ms"] if c1 else None
        add(f"/api/ask p95 at c=1 <= {TARGETS['ask_p95_ms']:g} ms{suffix}", p95, TARGETS["ask_p95_ms"],
            p95 is not None and p95 <= TARGETS["ask_p95_ms"], primary, "ms")
        rps = c8["throughput_rps"] if c8 else None
        add(f">= {TARGETS['answers_per_s_c8']:g} answers/s at c=8, no errors{suffix}", rps, TARGETS["answers_per_s_c8"],
            bool(c8) and rps >= TARGETS["answers_per_s_c8"] and c8["errors"] == 0 and not c8["capped"], primary, "/s")
        ratio = round(p50 / floor_short, 2) if p50 else None
        add(f"ask p50 <= {TARGETS['ask_vs_embed']:g}x bare embedding of '{SHORT_QUERY}' "
            f"({floor_short:.2f} ms){suffix}", ratio, TARGETS["ask_vs_embed"],
            ratio is not None and ratio <= TARGETS["ask_vs_embed"], primary, "x")
        ratio_mix = round(p50 / floor_mix, 2) if p50 else None
        add(f"  same, like for like: vs bare embedding of the same dev questions ({floor_mix:.2f} ms){suffix}",
            ratio_mix, TARGETS["ask_vs_embed"], ratio_mix is not None and ratio_mix <= TARGETS["ask_vs_embed"], False, "x")
    rss = r.get("memory_after_load", {}).get("rss_mb")
    add(f"service RSS after the load <= {TARGETS['rss_mb']:g} MB", rss, TARGETS["rss_mb"],
        rss is not None and rss <= TARGETS["rss_mb"], True, "MB")
    peak = r.get("memory_after_load", {}).get("peak_rss_mb")
    add(f"  peak RSS (VmHWM) <= {TARGETS['rss_mb']:g} MB", peak, TARGETS["rss_mb"],
        peak is not None and peak <= TARGETS["rss_mb"], False, "MB")
    ready = r.get("ready", {}).get("median_s")
    add(f"ready in <= {TARGETS['ready_s']:g} s with a built index (median of {len(r.get('ready', {}).get('starts_s', []))})",
        ready, TARGETS["ready_s"], ready is not None and ready <= TARGETS["ready_s"], True, "s")
    build = r["build_shipped"]["end_to_end_s"]
    add(f"shipped glossary index build <= {TARGETS['shipped_build_s']:g} s (load + model + embed + save)", build,
        TARGETS["shipped_build_s"], build <= TARGETS["shipped_build_s"], True, "s")
    return out


def render(r: dict) -> str:
    m = r["machine"]
    lines = ["# Benchmark results", "",
             f"Machine: {m.get('Model name', '?')}, {m.get('nproc')} CPUs ({m.get('Thread(s) per core', '?')} thread/core, "
             f"{m.get('Hypervisor vendor', 'bare metal')} VM), {m.get('mem_total_gib', '?')} GiB RAM, CPU only; "
             f"Python {m['python']}, onnxruntime {m.get('onnxruntime', '?')}; load average at start "
             f"{', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}, at end "
             f"{', '.join(f'{x:.2f}' for x in m['loadavg_at_end'])}. Run: {'--quick' if r['quick'] else 'full'}, "
             f"{r['seconds']:.0f} s.", "",
             "The host is shared: 'other cores' is the CPU that processes other than the benchmark and the "
             "service used meanwhile (busy time in /proc/stat minus ours), per phase: "
             + ", ".join(f"{k} {v['other_cores']}" for k, v in r.get("background", {}).items()) + ".", ""]

    lines += ["## Latency and throughput (loopback, httpx.AsyncClient, keep-alive)", "",
              "fresh = a dev question with an opener or audience the service has not seen (a cache miss); "
              "repeated = the dev question itself, already asked once. Service CPU ms/req: CPU time of the "
              "service process (all threads) per request; 'other cores': CPU used meanwhile by other processes.", "",
              "| scenario | conc. | requests | p50 ms | p95 ms | p99 ms | req/s | errors | service CPU ms/req | other cores | intents |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for o in r.get("load", []):
        intents = ", ".join(f"{k} {v}" for k, v in o["intents"].items())
        lines.append(f"| {o['name']} | {o['concurrency']} | {o['done']}{' (capped)' if o['capped'] else ''} | "
                     f"{o['p50_ms']:.2f} | {o['p95_ms']:.2f} | {o['p99_ms']:.2f} | {o['throughput_rps']:.1f} | "
                     f"{o['errors']} | {o.get('service_cpu_ms', '')} | {o.get('other_cores', '')} | {intents} |")
    f = r["floor"]
    lines += ["", "## Floor: bare query embedding in the benchmark process", "",
              "| embedder | text | n | p50 ms | p95 ms | mean ms |", "|---|---|---:|---:|---:|---:|"]
    for label, key, text in ((f["serving_embedder"] + f" (serving, GLOSSARY_EMBEDDER={f['setting']})", "serving_short", f"'{SHORT_QUERY}'"),
                             (f["serving_embedder"] + " (serving)", "serving_mix", "the ask-mix dev questions"),
                             (f["reference_embedder"] + " (reference)", "reference_short", f"'{SHORT_QUERY}'"),
                             (f["reference_embedder"] + " (reference)", "reference_mix", "the ask-mix dev questions")):
        s = f[key]
        lines.append(f"| {label} | {text} | {s['n']} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['mean_ms']:.2f} |")

    rd = r.get("ready", {})
    lines += ["", "## Service", "",
              f"- start to ready (`glossary serve` until /readyz is 200, built index; the first start also "
              f"creates the database): {', '.join(f'{x:.2f}' for x in rd.get('starts_s', []))} s "
              f"(median {fmt(rd.get('median_s'), 2)} s)",
              f"- RSS when ready {fmt(rd.get('memory_when_ready', {}).get('rss_mb'))} MB, after warm-up "
              f"{fmt(r.get('memory_after_warmup', {}).get('rss_mb'))} MB, after the load "
              f"{fmt(r.get('memory_after_load', {}).get('rss_mb'))} MB (peak {fmt(r.get('memory_after_load', {}).get('peak_rss_mb'))} MB)"]
    b = r["build_shipped"]
    lines += ["", "## Index builds (reference model)", "",
              "| glossary | terms | views | import s | model load s | embed + save s | total s |", "|---|---:|---:|---:|---:|---:|---:|",
              f"| shipped | {b['terms']} | {b['views']} | load {b['glossary_load_s']:.2f} | {b['model_load_s']:.2f} | "
              f"{b['build_s']:.2f} | {b['end_to_end_s']:.2f} |"]
    e = r.get("build_external", {})
    if "build_s" in e:
        lines.append(f"| ../shared/external, 3 files imported together | {e.get('terms', '?')} | {e.get('views', '?')} | "
                     f"{fmt(e.get('import_s'), 2)} | {fmt(e.get('model_load_s'), 2)} | {fmt(e.get('build_s'), 2)} (embed) | "
                     f"{fmt(e.get('wall_s'), 2)} (process) |")
    else:
        lines.append(f"| ../shared/external | {e.get('skipped') or 'failed: ' + e.get('stderr', '')[-300:]} | | | | | |")

    q = r["quality"]
    lines += ["", "## Dev-set quality per retrieval mode", "",
              "Ranking only: Retriever.rank(mode), expected names among the first max(3, n+1) ranked terms, "
              "in-scope questions that are not follow-ups.", "",
              "| mode (query embedder) | score | passed/total | " + " | ".join(_kinds(q)) + " |",
              "|---|---:|---:|" + "---:|" * len(_kinds(q))]
    for key, s in q["rank_only"].items():
        lines.append(f"| {key} | {s['score']:.3f} | {s['passed']}/{s['total']} | "
                     + " | ".join(f"{s['by_kind'][k][0]}/{s['by_kind'][k][1]}" if k in s["by_kind"] else "" for k in _kinds(q)) + " |")
    api_kinds = sorted({k for rep in q["api"].values() for k in rep["by_kind"]})
    lines += ["", "Fused through POST /api/ask, as `glossary eval` (all 120 questions, follow-ups with their first turn):", "",
              "| query embedder | in-scope | out of scope | " + " | ".join(api_kinds) + " |",
              "|---|---:|---:|" + "---:|" * len(api_kinds)]
    for label, rep in q["api"].items():
        name = q["serving_embedder"] if label == "serving" else q["reference_embedder"]
        lines.append(f"| {name} ({label}) | {rep['in_scope']:.3f} ({rep['in_scope_passed']}/{rep['in_scope_total']}) | "
                     f"{rep['out_of_scope_passed']}/{rep['out_of_scope_total']} | "
                     + " | ".join(f"{rep['by_kind'][k][0]}/{rep['by_kind'][k][1]}" for k in api_kinds) + " |")
    diff = (q["api"]["serving"]["in_scope"] - q["api"]["reference"]["in_scope"]) * 100
    lines.append(f"\nServing vs reference embedder, fused in-scope: {diff:+.1f} points "
                 f"({'within' if abs(diff) <= 1.0 else 'NOT within'} one point).")

    lines += anchor_lines(r)
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---:|---|"]
    for t in r["targets"]:
        value = fmt(t["value"], 2) + (f" {t['unit']}" if t["value"] is not None else "")
        lines.append(f"| {t['target']} | {value} | {verdict(t['ok'])}{'' if t['primary'] else ' (info)'} |")
    return "\n".join(lines)


def _kinds(q: dict) -> list[str]:
    return sorted({k for s in q["rank_only"].values() for k in s["by_kind"]})


if __name__ == "__main__":
    sys.exit(main())
