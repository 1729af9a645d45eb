"""Profile one fresh answer in-process: CPU ms per stage of the answer path, and a cProfile top list.

    .venv/bin/python bench/profile_answer.py [--questions 240] [--top 25] [--index-dir DIR] [--json FILE]
    .venv/bin/python bench/profile_answer.py --dump FILE     # every dev answer and term page, for diffing

Loads the shipped glossary with the serving embedder (the int8 ONNX model when built) and its index
(built once with the reference model into a cache folder under the temp dir, ~30-60 s, then reused),
with a SQLite store in a temp folder, as `glossary serve` does. It then asks the fresh dev-question mix
of bench/run.py (a dev question with an opener or audience not seen before, so the answer cache
misses) through the ask service (app/service.py), plus what the JSON API does after it (the
response's JSON), four times:

1. plain: CPU ms (thread and process time) per answer, nothing instrumented;
2. staged: the same with each stage's function wrapped in a timer (self time: a stage called inside
   another counts for itself only), so the stages add up to the answer;
3. profiled: under cProfile, for the top list by own time and by cumulative time;
4. http: as POST /api/ask through the ASGI app (FastAPI routes, middleware, thread pool), called
   directly without a socket: the service's whole share of a request except uvicorn's HTTP parsing.

Every pass answers the same questions into an empty answer cache, after one warm-up pass over the
same mix (the service has answered such questions before: the Markdown memo is warm). The host is
shared: CPU time is what is measured, not wall time.

`--dump FILE` writes, instead, every answer to ../shared/eval/dev_questions.jsonl and
dev_answerability.jsonl (follow-ups after their first turn, as `glossary eval` asks them), the search
ranking (with scores) of each of those questions, and every
term's page HTML and inline card for each audience, as JSON lines: two dumps from two versions of the
code must be byte-identical when the behaviour is unchanged.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SHARED = REPO.parent / "shared"
DEV_FILES = [SHARED / "eval" / "dev_questions.jsonl", SHARED / "eval" / "dev_answerability.jsonl"]
AUDIENCES = [None, "procurement", "it"]


# ------------------------------------------------------------------------------------------------ loading
def load_state(index_dir: Path, work: Path, record: bool = True):
    """The service's state for the shipped glossary: serving embedder, cached index, a temp SQLite store."""
    from app.config import Settings
    from app.state import AppState, start

    settings = Settings(glossary_dir=REPO / "glossary", index_dir=index_dir, watch_glossary=False,
                        database_url=f"sqlite:///{work / 'profile.db'}", rate_limit_per_minute=0)
    t0 = time.perf_counter()
    state = start(AppState(settings), record=record)
    print(f"loaded in {time.perf_counter() - t0:.1f}s: {type(state.resources.embedder).__name__}, "
          f"{state.resources.index.manifest['terms']} terms", file=sys.stderr)
    return state


def ask_json(state, question: str, audience: str | None, conversation_id: str | None = None) -> bytes:
    """One ask as POST /api/ask serves it: the service's AskResponse, then its JSON (exclude_none)."""
    from app import service
    from app.schemas import AskRequest

    response = service.ask(state, AskRequest(question=question, audience=audience, conversation_id=conversation_id))
    return response.model_dump_json(exclude_none=True).encode()


# ------------------------------------------------------------------------------------------------ the dump
def dump(state, out: Path) -> int:
    """Every dev answer, term page and term card as JSON lines (conversation ids left out: they are random)."""
    from app import service
    from app.evaluate import load_questions
    from app.schemas import AskRequest
    from app.web import views
    from app.web.html import environment

    resources = state.resources
    lines = []
    for path in DEV_FILES:
        for item in load_questions(path):
            conversation_id = None
            for number, text in enumerate(item.get("turns") or [item["question"]], 1):
                response = service.ask(state, AskRequest(question=text, audience=item.get("audience"),
                                                         conversation_id=conversation_id))
                conversation_id = response.conversation_id
                data = response.model_dump(mode="json", exclude_none=True, exclude={"conversation_id"})
                lines.append({"id": item.get("id"), "turn": number, "question": text, "answer": data})
            found = service.search(state, item["question"]).model_dump(mode="json", exclude_none=True)
            lines.append({"id": item.get("id"), "search": found})
    template = environment().get_template("term.html")
    for slug, term in sorted(resources.glossary.terms.items()):
        for audience in AUDIENCES:
            page = template.render(page=views.term_page(resources, term, audience))
            card = views.term_card(resources, term, audience)
            lines.append({"slug": slug, "audience": audience, "page": page, "card": card})
    with open(out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    return len(lines)


# ------------------------------------------------------------------------------------------------ stages
class StageClock:
    """Self CPU time per stage: wrapped functions push a frame; time spent in a nested stage is not theirs."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[Any]] = []  # [stage, started, time spent in nested stages]

    def wrap(self, stage: str, fn: Callable) -> Callable:
        clock = time.thread_time

        def timed(*args, **kwargs):
            frame = [stage, clock(), 0.0]
            self._stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self._stack.pop()
                spent = clock() - frame[1]
                self.totals[stage] += spent - frame[2]
                self.calls[stage] += 1
                if self._stack:
                    self._stack[-1][2] += spent

        timed.__wrapped__ = fn  # type: ignore[attr-defined]
        return timed

    def take(self) -> dict[str, float]:
        """Stage ms since the last take, and start over."""
        out = {k: v * 1000 for k, v in self.totals.items()}
        self.totals.clear()
        return out


def _stage_targets() -> list[tuple[str, Any, str]]:
    """(stage, owner, attribute): the functions on the answer path, by stage. Names missing in a version are skipped."""
    import app.answer.answerability as answerability
    import app.answer.compose as compose
    import app.answer.intent as intent
    import app.answer.pipeline as pipeline
    import app.render as render
    import app.service as service
    from app.search import lexical, retrieve, spotter

    embedder_type = None
    try:
        from app.search.onnx_embedder import OnnxEmbedder
        embedder_type = OnnxEmbedder
    except ImportError:
        pass
    targets = [
        ("embed (ONNX)", embedder_type, "encode"),
        ("dense (FAISS)", retrieve.Retriever, "dense_scores"),
        ("BM25", lexical.Bm25, "scores"),
        ("BM25", lexical.Bm25, "relative_scores"),
        ("fuzzy names", lexical.FuzzyNames, "scores"),
        ("spotting", spotter.Spotter, "spot"),
        ("fusion (rank, rest)", retrieve.Retriever, "rank"),
        ("answerability", answerability, "classify"),
        ("intent (rest)", intent, "understand"),
        ("handler (rest)", pipeline, "HANDLERS"),
        ("compose (Jinja, links)", compose.Composer, "compose"),
        ("case (policy)", pipeline, "case_for"),
        ("case (policy)", pipeline, "case_markdown"),
        ("Markdown to HTML", render, "to_html"),
        ("follow-ups, handoff, choices", service, "followups"),
        ("follow-ups, handoff, choices", service, "handoff"),
        ("follow-ups, handoff, choices", service, "choices"),
        ("response model", service, "AskResponse"),
        ("response model", service, "hit"),
        ("turn write", service, "record_turn"),
    ]
    return [(s, o, a) for s, o, a in targets if o is not None and hasattr(o, a)]


def install(clock: StageClock) -> Callable[[], None]:
    """Wrap every stage function where it is looked up (also names imported into other app modules)."""
    undo: list[tuple[Any, str, Any]] = []
    for stage, owner, attr in _stage_targets():
        original = getattr(owner, attr)
        if attr == "HANDLERS":  # a dict of handlers: wrap each value in place
            for key, fn in list(original.items()):
                undo.append((original, key, fn))
                original[key] = clock.wrap(stage, fn)
            continue
        wrapped = clock.wrap(stage, original)
        # A function is wrapped in every app module that imported it; a class (a model) only where it is called.
        sites = [owner] if isinstance(owner, type) or isinstance(original, type) else [
            m for name, m in sys.modules.items() if name.startswith("app") and getattr(m, attr, None) is original]
        for site in sites:
            undo.append((site, attr, original))
            setattr(site, attr, wrapped)

    def uninstall() -> None:
        for site, attr, original in reversed(undo):
            if isinstance(site, dict):
                site[attr] = original
            else:
                setattr(site, attr, original)

    return uninstall


# ------------------------------------------------------------------------------------------------ passes
def fresh_questions(n: int) -> list[tuple[str, str | None]]:
    """The first `n` fresh variants of the dev mix, as bench/run.py asks them (the same every run)."""
    from run import Fresh, ask_groups, dev_items

    fresh, mix = Fresh(), ask_groups(dev_items())["mix"]
    return [fresh.variant(mix[k % len(mix)]) for k in range(n)]


def new_cache(state) -> None:
    from app.answer.cache import AnswerCache

    state.resources.answers = AnswerCache()


def timed_pass(state, questions, clock: StageClock | None = None) -> dict:
    """Ask every question once into an empty answer cache; CPU ms per answer (and per stage, with a clock)."""
    new_cache(state)
    thread_ms, process_ms, stages = [], [], defaultdict(list)
    for question, audience in questions:
        t0, p0 = time.thread_time(), time.process_time()
        ask_json(state, question, audience)
        thread_ms.append((time.thread_time() - t0) * 1000)
        process_ms.append((time.process_time() - p0) * 1000)
        if clock is not None:
            spent = clock.take()
            for stage in STAGE_ORDER:
                stages[stage].append(spent.get(stage, 0.0))
            stages["rest (service, glue)"].append(thread_ms[-1] - sum(spent.values()))
    out = {"n": len(questions), "thread": summary(thread_ms), "process": summary(process_ms)}
    if clock is not None:
        out["stages"] = {k: summary(v) for k, v in stages.items()}
    return out


def http_pass(index_dir: Path, work: Path, questions) -> dict:
    """The same questions as POST /api/ask through the ASGI app (routes, middleware, thread pool, JSON),
    called directly without a socket or an HTTP client: process CPU ms per answer, the app's share only."""
    import asyncio

    from app.config import Settings
    from app.main import create_app

    settings = Settings(glossary_dir=REPO / "glossary", index_dir=index_dir, watch_glossary=False,
                        database_url=f"sqlite:///{work / 'profile-http.db'}", rate_limit_per_minute=0)
    app = create_app(settings)

    async def post(body: bytes) -> int:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/api/ask", "raw_path": b"/api/ask", "query_string": b"",
                 "root_path": "", "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                                              (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status = []

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        return status[0]

    async def run() -> dict:
        async with app.router.lifespan_context(app):
            bodies = [json.dumps({"question": q, "audience": a}).encode() for q, a in questions]
            for body in bodies:  # warm-up, as for the in-process passes
                await post(body)
            app.state.resources.answers = type(app.state.resources.answers)()
            process_ms = []
            for body in bodies:
                p0 = time.process_time()
                status = await post(body)
                process_ms.append((time.process_time() - p0) * 1000)
                if status != 200:
                    raise SystemExit(f"POST /api/ask answered {status}")
            return {"n": len(bodies), "process": summary(process_ms)}

    return asyncio.run(run())


def profiled_pass(state, questions, top: int) -> dict:
    new_cache(state)
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    for question, audience in questions:
        ask_json(state, question, audience)
    profile.disable()
    tables = {}
    for key in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats(key).print_stats(top)
        tables[key] = _short_table(text.getvalue())
    return tables


def _short_table(text: str) -> str:
    """pstats output from its header line on, with the repository and venv prefixes cut from paths."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    prefixes = [str(REPO) + "/", os.path.dirname(os.__file__) + "/"]
    body = "\n".join(lines[start:]).rstrip()
    for prefix in prefixes:
        body = body.replace(prefix, "")
    return body.replace("site-packages/", "")


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "mean": round(statistics.fmean(values), 3)}


STAGE_ORDER = ["embed (ONNX)", "dense (FAISS)", "BM25", "fuzzy names", "spotting", "fusion (rank, rest)",
               "answerability", "intent (rest)", "handler (rest)", "compose (Jinja, links)", "case (policy)",
               "Markdown to HTML", "follow-ups, handoff, choices", "response model", "turn write"]


def report(result: dict) -> str:
    plain, staged = result["plain"], result["staged"]
    lines = [f"load average at start: {result['load_average']}",
             f"{plain['n']} fresh answers per pass (CPU ms per answer, this thread / whole process)", "",
             "| pass | thread median | thread mean | process median | process mean |", "|---|---:|---:|---:|---:|"]
    for name in ("plain", "staged"):
        p = result[name]
        lines.append(f"| {name} | {p['thread']['median']:.2f} | {p['thread']['mean']:.2f} | "
                     f"{p['process']['median']:.2f} | {p['process']['mean']:.2f} |")
    http = result["http"]
    lines.append(f"| POST /api/ask via the ASGI app | | | {http['process']['median']:.2f} | {http['process']['mean']:.2f} |")
    lines += ["", "| stage (self time) | median ms | mean ms |", "|---|---:|---:|"]
    for stage, s in staged["stages"].items():
        lines.append(f"| {stage} | {s['median']:.3f} | {s['mean']:.3f} |")
    lines += ["", "cProfile, by own time:", result["profile"]["tottime"], "",
              "cProfile, by cumulative time:", result["profile"]["cumulative"]]
    return "\n".join(lines)


def default_index_dir() -> Path:
    return Path(tempfile.gettempdir()) / "glossary-profile-index"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=240, help="fresh answers per pass (>= 200 for the figures)")
    parser.add_argument("--top", type=int, default=25, help="rows of each cProfile list")
    parser.add_argument("--index-dir", type=Path, default=default_index_dir(),
                        help="where the index is built once and reused (default: a folder in the temp dir)")
    parser.add_argument("--dump", type=Path, help="write every dev answer and term page to this file and stop")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="glossary-profile-") as work:
        state = load_state(args.index_dir, Path(work), record=args.dump is None)
        if args.dump:
            print(f"{dump(state, args.dump)} lines written to {args.dump}", file=sys.stderr)
            return 0
        questions = fresh_questions(args.questions)
        result: dict[str, Any] = {"load_average": " ".join(f"{x:.2f}" for x in os.getloadavg())}
        timed_pass(state, questions)  # warm-up: the service has answered such questions before
        result["plain"] = timed_pass(state, questions)
        clock = StageClock()
        uninstall = install(clock)
        try:
            result["staged"] = timed_pass(state, questions, clock)
        finally:
            uninstall()
        result["profile"] = profiled_pass(state, questions, args.top)
        if state.store is not None:
            state.store.dispose()
        result["http"] = http_pass(args.index_dir, Path(work), questions)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
