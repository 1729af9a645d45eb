"""Scale benchmark: the shipped glossary (246 terms), shipped + the three external glossaries (~1,300)
and a ~10,000-term glossary (the external files imported again and again with renamed terms), in one
bounded run: index build time, resident memory after start-up, and fresh ask latency (p50, p90) per size.

    .venv/bin/python bench/scale.py [--copies 8] [--questions 120] [--work DIR] [--markdown]

Each size runs in its own process (so its memory is its own), asks the dev questions once each
(every ask is fresh: nothing is cached yet) through POST /api/ask in-process, and prints one row.
Real model throughout. Embedding ~25,000 views would take most of the time budget on a 2-core
machine, so the renamed copies reuse their originals' vectors (the index build at 10,000 terms is
then measured without the embedding of the copies, and the table says so); questions are always
embedded for real. Compare the figures as ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared"
DEV_FILES = [SHARED / "eval" / "dev_questions.jsonl", SHARED / "eval" / "dev_answerability.jsonl"]
COPY_TAGS = ["Northern", "Southern", "Eastern", "Western", "Central", "Coastal", "Upland", "Harbour", "Inland",
             "Outer", "Inner", "Lower"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_glossaries(work: Path, copies: int) -> dict[str, Path]:
    """The three glossaries of the run, written under `work` (reused when they are already there)."""
    from app.evaluate import EXTERNAL_FILES, glossary_with_external
    from app.interchange import Source, plan_import

    shipped = REPO / "glossary"
    external = work / "external"
    if not (external / "terms").exists():
        glossary_with_external(shipped, SHARED / "external", external)
    big = work / "big"
    if not (big / "terms").exists():
        shutil.copytree(external, big)
        rows = work / "copies"
        rows.mkdir(exist_ok=True)
        sources = []
        for tag in COPY_TAGS[:copies]:
            for name, domain in EXTERNAL_FILES:
                out = rows / f"{tag}-{name}"
                with open(SHARED / "external" / name, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
                    for line in src:
                        if line.strip():
                            row = json.loads(line)
                            row["term"] = f"{row['term']} {tag}"
                            row["aliases"] = []  # renamed copies: no alias clashes, no ambiguity
                            dst.write(json.dumps(row) + "\n")
                sources.append(Source(out, "jsonl", domain))
        plan_import(big, sources).write()
    return {"shipped": shipped, "external": external, "big": big}


class ReusingEmbedder:
    """The real embedder, except that a renamed copy's view gets its original view's vector."""

    def __init__(self, real, known: dict[str, object], renames: dict[str, str]):
        self.real, self.known, self.renames = real, known, renames
        self.model_id, self.dim = real.model_id, real.dim
        self.embedded = 0

    def _original(self, text: str) -> str:
        name, sep, rest = text.partition(":")
        head = name.split(" (")[0]
        original = self.renames.get(head)
        return (original + name[len(head):] + sep + rest) if original else text

    def encode(self, texts):
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = []
        for i, text in enumerate(texts):
            vector = self.known.get(self._original(text))
            if vector is None:
                todo.append(i)
            else:
                out[i] = vector
        if todo:
            self.embedded += len(todo)
            fresh = self.real.encode([texts[i] for i in todo])
            for row, i in enumerate(todo):
                out[i] = fresh[row]
        return out


def run_one(size: str, glossary_dir: Path, work: Path, n_questions: int) -> dict:
    """Build (or reuse) the index of one size, start the app, ask fresh questions; return the figures."""
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.glossary import load_glossary
    from app.main import create_app
    from app.resources import reference_embedder
    from app.search.index import build_index, load_index, save_index
    from app.search.text import term_views

    settings = Settings(glossary_dir=glossary_dir, index_dir=work / f"index-{size}", rate_limit_per_minute=0,
                        database_url=f"sqlite:///{work / f'{size}.db'}", watch_glossary=False)
    glossary = load_glossary(glossary_dir).glossary
    index = load_index(settings.index_dir)
    note = ""
    if index is None or index.is_stale(glossary, "all-MiniLM-L6-v2"):
        real = reference_embedder(settings)
        embedder = real
        if size == "big":
            ext = load_index(work / "index-external")
            ext_glossary = load_glossary(work / "external").glossary
            # build_index stores views in the order term_views walks the terms (sorted by slug)
            texts = [text for slug in sorted(ext_glossary.terms) for _, text in term_views(ext_glossary.terms[slug])]
            known = dict(zip(texts, ext.vectors))
            renames = {}
            for term in glossary.terms.values():
                for tag in COPY_TAGS:
                    if term.term.endswith(f" {tag}"):
                        renames[term.term] = term.term[: -len(tag) - 1]
            embedder = ReusingEmbedder(real, known, renames)
        started = time.perf_counter()
        index = build_index(glossary, embedder, previous=index)
        build_seconds = time.perf_counter() - started
        save_index(index, settings.index_dir)
        note = f"{index.manifest['embedded']} views embedded"
        if size == "big":
            note = f"copies reuse their originals' vectors; {embedder.embedded} views embedded"
        (work / f"build-{size}.json").write_text(json.dumps({"seconds": build_seconds, "note": note}))
    build = json.loads((work / f"build-{size}.json").read_text()) if (work / f"build-{size}.json").exists() else {}
    if not build:  # an index built earlier (e.g. by `glossary eval`): its manifest says how long it took
        build = {"seconds": index.manifest.get("build_seconds"), "note": f"{index.manifest.get('embedded')} views embedded"}
    del index

    items = [json.loads(line) for f in DEV_FILES for line in f.read_text().splitlines() if line.strip()]
    questions = [(i.get("turns") or [i["question"]])[0] for i in items][:n_questions]
    before = rss_mb()
    with TestClient(create_app(settings)) as client:
        loaded = rss_mb()
        client.post("/api/ask", json={"question": "warm up: what is a purchase order?"})
        times = []
        for q in questions:
            started = time.perf_counter()
            r = client.post("/api/ask", json={"question": q})
            times.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
        terms = client.get("/api/terms").json()["count"]
        resources = client.app.state.resources
        views = len(resources.index.views)
        # The dense part alone: one flat FAISS search per question (what HNSW/IVF would replace).
        import numpy as np

        probe = np.random.default_rng(0).standard_normal((200, resources.index.vectors.shape[1])).astype(np.float32)
        probe /= np.linalg.norm(probe, axis=1, keepdims=True)
        faiss_index = resources.index.faiss
        started = time.perf_counter()
        for row in probe:
            faiss_index.search(row.reshape(1, -1), min(views, 256))
        faiss_ms = (time.perf_counter() - started) / len(probe) * 1000
    times.sort()
    return {"size": size, "terms": terms, "views": views, "build_s": build.get("seconds"), "note": build.get("note", ""),
            "rss_mb": round(loaded, 1), "rss_before_app_mb": round(before, 1),
            "ask_p50_ms": round(statistics.median(times), 2), "ask_p90_ms": round(times[int(len(times) * 0.9)], 2),
            "questions": len(times), "faiss_ms": round(faiss_ms, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8, help="renamed copies of the external files (8: ~10,000 terms)")
    parser.add_argument("--questions", type=int, default=120, help="fresh questions asked per size")
    parser.add_argument("--work", type=Path, default=None, help="keep glossaries and indexes here between runs")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="glossary-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.one:
        dirs = json.loads((work / "glossaries.json").read_text())
        print(json.dumps(run_one(args.one, Path(dirs[args.one]), work, args.questions)))
        return 0

    started = time.perf_counter()
    dirs = make_glossaries(work, args.copies)
    (work / "glossaries.json").write_text(json.dumps({k: str(v) for k, v in dirs.items()}))
    print(f"glossaries ready in {time.perf_counter() - started:.0f} s under {work}", file=sys.stderr)
    rows = []
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for size in ("shipped", "external", "big"):
        out = subprocess.run([sys.executable, __file__, "--one", size, "--work", str(work),
                              "--questions", str(args.questions)], capture_output=True, text=True, env=env, timeout=1800)
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{size}: {rows[-1]}", file=sys.stderr)
    base = rows[0]["ask_p50_ms"]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end (shared machine)\n")
    print("| glossary | terms | views | index build (s) | RSS after start-up (MB) | fresh ask p50 (ms) | p90 (ms) | p50 vs 246 | FAISS flat search (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {"shipped": "shipped", "external": "shipped + external", "big": f"+ {args.copies} renamed copies"}
    for r in rows:
        build = f"{r['build_s']:.1f}" if r["build_s"] is not None else "reused"
        if r["note"]:
            build += f" ({r['note']})"
        print(f"| {names[r['size']]} | {r['terms']:,} | {r['views'] or '?':,} | {build} | {r['rss_mb']:.0f} | "
              f"{r['ask_p50_ms']:.1f} | {r['ask_p90_ms']:.1f} | {r['ask_p50_ms'] / base:.2f}x | {r['faiss_ms']:.2f} |")
    print(f"\n{rows[0]['questions']} fresh questions per size; total {time.perf_counter() - started:.0f} s")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
