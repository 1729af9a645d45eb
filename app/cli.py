"""The `glossary` command: check, build, build-model, serve, mcp, search, ask, eval, import, export."""

from __future__ import annotations

import json
import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from app.config import Settings

if TYPE_CHECKING:
    from app.state import AppState

cli = typer.Typer(help="Shared-glossary assistant for procurement and IT.", no_args_is_help=True, add_completion=False)


def _settings(glossary_dir: Optional[Path], index_dir: Optional[Path]) -> Settings:
    overrides: dict[str, Any] = {}
    if glossary_dir:
        overrides["glossary_dir"] = glossary_dir
    if index_dir:
        overrides["index_dir"] = index_dir
    return Settings(**overrides)


GlossaryOpt = typer.Option(None, "--glossary-dir", help="Glossary folder (default: GLOSSARY_GLOSSARY_DIR or ./glossary).")
IndexOpt = typer.Option(None, "--index-dir", help="Index folder (default: GLOSSARY_INDEX_DIR or ./index).")


def _load_or_exit(settings: Settings):
    from app.glossary.loader import load_glossary

    result = load_glossary(settings.glossary_dir)
    for problem in result.problems:
        typer.echo(str(problem), err=True)
    if result.glossary is None:
        typer.echo(f"glossary check failed: {len(result.errors)} error(s)", err=True)
        raise typer.Exit(1)
    return result.glossary


@cli.command()
def check(glossary_dir: Optional[Path] = GlossaryOpt) -> None:
    """Validate every term file and the org file; report all problems; exit 1 on any error."""
    glossary = _load_or_exit(_settings(glossary_dir, None))
    typer.echo(f"ok: {len(glossary)} terms")


@cli.command()
def build(glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt,
          force: bool = typer.Option(False, help="Re-embed even when the index is current.")) -> None:
    """Embed the glossary into the FAISS index (reusing vectors of unchanged text)."""
    settings = _settings(glossary_dir, index_dir)
    glossary = _load_or_exit(settings)
    from app.resources import ensure_index, reference_embedder

    started = time.perf_counter()
    embedder = reference_embedder(settings)
    index = ensure_index(settings, glossary, embedder, force=force)
    m = index.manifest
    typer.echo(f"index: {m['terms']} terms, {m['views']} views ({m.get('embedded', 0)} embedded, "
               f"{m.get('reused', 0)} reused), model {m['model_id']}, {time.perf_counter() - started:.1f}s "
               f"-> {settings.index_dir}")


@cli.command("build-model")
def build_model(output: Optional[Path] = typer.Option(None, "--output", "-o",
                                                     help="File to write (default: GLOSSARY_ONNX_MODEL)."),
                force: bool = typer.Option(False, help="Rebuild even when the file is current.")) -> None:
    """Export the bundled model to ONNX and quantize it to int8 for serving (needs torch; skips when current)."""
    from app.search.int8_model import build_int8_model, is_current

    settings = Settings()
    target = output or settings.onnx_model
    if not force and is_current(target, settings.resolved_model_path()):
        typer.echo(f"int8 model is current: {target}")
        return
    started = time.perf_counter()
    try:
        build_int8_model(settings.resolved_model_path(), target, force=True)
    except ImportError as exc:  # a serving-only install: no torch/transformers/onnx
        typer.echo(f"build-model needs the reference extra (torch, transformers, onnx): {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"int8 model: {target} ({target.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f}s)")


@cli.command()
def serve(host: Optional[str] = typer.Option(None, help="Bind address (default 127.0.0.1)."),
          port: Optional[int] = typer.Option(None, help="Port (default 8000)."),
          workers: Optional[int] = typer.Option(None, min=1, max=64,
                                                help="Serving processes on one socket (default GLOSSARY_WORKERS: "
                                                     "the CPU cores, at most 4)."),
          glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt) -> None:
    """Run the web service (refuses to start on an invalid glossary)."""
    _fewer_malloc_arenas()
    import uvicorn

    settings = _settings(glossary_dir, index_dir)
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    _load_or_exit(settings)
    from app.observability import configure_logging

    configure_logging()
    from app.server import uvicorn_options

    where: dict[str, Any] = {"host": host or settings.host, "port": port or settings.port, "log_config": None,
                             "access_log": False}
    if settings.workers == 1:
        from app.main import create_app

        uvicorn.run(create_app(settings), **where, **uvicorn_options(settings))
        return
    # Spawned workers read their settings from the environment: hand them this command's options,
    # and the malloc arena cap (glibc reads MALLOC_ARENA_MAX when a process starts).
    os.environ["GLOSSARY_WORKERS"] = str(settings.workers)
    os.environ["GLOSSARY_GLOSSARY_DIR"] = str(settings.glossary_dir)
    os.environ["GLOSSARY_INDEX_DIR"] = str(settings.index_dir)
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    uvicorn.run("app.server:worker_app", factory=True, workers=settings.workers, **where,
                **uvicorn_options(settings, workers=settings.workers))


@cli.command()
def mcp(glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt) -> None:
    """Serve the glossary to an AI assistant over MCP on stdin/stdout (logs go to stderr)."""
    settings = _settings(glossary_dir, index_dir)
    _load_or_exit(settings)
    from app.faces.mcp_server import run_stdio
    from app.observability import configure_logging

    configure_logging("WARNING")  # stdout carries the protocol; only problems are worth a line on stderr
    run_stdio(settings)


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas, as MALLOC_ARENA_MAX=2 would (an explicit MALLOC_ARENA_MAX wins).

    Requests are answered in a thread pool, and glibc gives busy threads arenas of their own whose
    freed memory it keeps: after a burst at concurrency 8 the service held ~25 MB more (bench/RESULTS.md).
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        pass


def _service_state(settings: Settings, *, record: bool = False) -> AppState:
    """The service in-process, for one command: no web server, no file watch, no database unless `record`."""
    from app.glossary.loader import GlossaryInvalid
    from app.state import AppState, start

    settings = settings.model_copy(update={"watch_glossary": False})
    _load_or_exit(settings)
    try:
        return start(AppState(settings), record=record)
    except GlossaryInvalid as exc:  # pragma: no cover - checked just above
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


def _refused(exc: Exception) -> typer.Exit:
    """Print why the service refused the input; exit status 2."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    else:
        message = str(exc)
    typer.echo(message, err=True)
    return typer.Exit(2)


@cli.command()
def search(query: str, limit: int = typer.Option(5, min=1, max=50), glossary_dir: Optional[Path] = GlossaryOpt,
           index_dir: Optional[Path] = IndexOpt) -> None:
    """Show the best-matching terms for a query."""
    from app import service

    state = _service_state(_settings(glossary_dir, index_dir))
    try:
        results = service.search(state, query, limit).results
    except service.ServiceError as exc:
        raise _refused(exc) from exc
    for h in results:
        typer.echo(f"{h.score or 0.0:.3f}  {h.term}  ({h.slug})  {h.summary}")


@cli.command()
def ask(question: str, audience: Optional[str] = typer.Option(None, help="procurement or it"),
        as_json: bool = typer.Option(False, "--json", help="Print the whole API response."),
        record: bool = typer.Option(False, "--record",
                                    help="Record the question in the database (curators' gaps), as the web service does."),
        glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt) -> None:
    """Ask a question and print the answer (nothing is recorded unless --record)."""
    from pydantic import ValidationError

    from app import service
    from app.schemas import AskRequest

    state = _service_state(_settings(glossary_dir, index_dir), record=record)
    try:
        data = service.ask(state, AskRequest(question=question, audience=audience)).model_dump(mode="json",
                                                                                                exclude_none=True)
    except (service.ServiceError, ValidationError) as exc:
        raise _refused(exc) from exc
    finally:
        if state.store is not None:
            state.store.dispose()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(f"[{data['intent']}, confident={data['confident']} ({data['confidence']:.2f})]\n")
        typer.echo(data["answer_markdown"])
        if data.get("suggestions"):  # shown once: the answer's text no longer repeats them
            typer.echo("Did you mean: " + " · ".join(h["term"] for h in data["suggestions"]))
        if data.get("choices"):
            typer.echo("Choose one: " + " · ".join(c["term"] for c in data["choices"]))


@cli.command("eval")
def eval_(files: list[Path] = typer.Argument(..., help="Question files in the dev_questions.jsonl format."),
          misses: bool = typer.Option(True, help="List the questions that missed."),
          with_external: Optional[Path] = typer.Option(
              None, "--with-external", help="Also import the public glossaries in this folder (../shared/external) "
              "into a scratch copy of the glossary and score against that."),
          glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt) -> None:
    """Score question files through the ask service (as POST /api/ask answers), per kind; records nothing."""
    import tempfile

    from app import service
    from app.evaluate import evaluate, glossary_with_external, load_questions
    from app.schemas import AskRequest

    try:
        sets = [(file, load_questions(file)) for file in files]
    except (OSError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    settings = _settings(glossary_dir, index_dir)
    scratch = tempfile.TemporaryDirectory(prefix="glossary-eval-")
    if with_external is not None:
        try:
            merged = glossary_with_external(settings.glossary_dir, with_external, Path(scratch.name) / "glossary")
        except FileNotFoundError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        # The scratch glossary gets a scratch index unless one was named: it never replaces the real one.
        settings = settings.model_copy(update={"glossary_dir": merged, "index_dir": index_dir or Path(scratch.name) / "index"})
    # Evaluation questions are not real users' questions: no database, so nothing reaches the curators' gaps.
    state = _service_state(settings)

    def ask_one(body: dict) -> dict:
        return service.ask(state, AskRequest(**body)).model_dump(mode="json", exclude_none=True)

    try:
        for file, items in sets:
            report = evaluate(ask_one, items)
            if len(sets) > 1:
                typer.echo(f"== {file}")
            typer.echo(report.text(show_misses=misses))
    finally:
        scratch.cleanup()


class Format(str, Enum):
    csv = "csv"
    jsonl = "jsonl"
    skos = "skos"


@cli.command("import")
def import_(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Files to import."),
            fmt: Format = typer.Option(..., "--format", help="csv, jsonl or skos (Turtle)."),
            domain: list[str] = typer.Option([], help="it|procurement|shared for rows that name none; once, or once per file."),
            owner: str = typer.Option("Glossary curators", help="Owner of imported entries that name none."),
            write: bool = typer.Option(False, "--write", help="Write the term files (default: dry run, report only)."),
            force: bool = typer.Option(False, "--force", help="Overwrite terms whose slug exists."),
            merge: bool = typer.Option(False, "--merge", help="Add new aliases to terms whose slug exists."),
            quiet: bool = typer.Option(False, "--quiet", help="Report only rows that are not created or merged."),
            trusted: bool = typer.Option(False, "--trusted", help="Our own export restored: keep statuses and every link."),
            glossary_dir: Optional[Path] = GlossaryOpt) -> None:
    """Import terms from CSV, JSON Lines or SKOS: a per-row report, then term files with --write."""
    from app.interchange.commands import run_import

    settings = _settings(glossary_dir, None)
    raise typer.Exit(run_import(settings.glossary_dir, files, fmt.value, domain, owner=owner, write=write, force=force,
                                merge=merge, quiet=quiet, echo=typer.echo, trusted=trusted,
                                link_hosts=settings.import_link_hosts))


@cli.command()
def export(fmt: Format = typer.Option(..., "--format", help="csv, jsonl or skos (Turtle)."),
           output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
           rendered: bool = typer.Option(False, "--rendered", help="Fill in org values (for other tools; not lossless)."),
           base_uri: Optional[str] = typer.Option(None, help="SKOS concept URIs: <base>/terms/<slug> (default: GLOSSARY_PUBLIC_BASE_URL)."),
           glossary_dir: Optional[Path] = GlossaryOpt) -> None:
    """Export the glossary as CSV, JSON Lines or SKOS Turtle."""
    from app.interchange.commands import run_export

    settings = _settings(glossary_dir, None)
    raise typer.Exit(run_export(settings.glossary_dir, fmt.value, output, rendered=rendered,
                                base_uri=base_uri or settings.public_base_url or None, echo=typer.echo))


@cli.command()
def reload(url: str = typer.Option("http://127.0.0.1:8000", help="Base URL of the running service."),
           token: Optional[str] = typer.Option(None, envvar="GLOSSARY_ADMIN_TOKEN",
                                               help="Admin token (default: GLOSSARY_ADMIN_TOKEN).")) -> None:
    """Ask a running service to validate and load the changed glossary (it keeps serving meanwhile)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.post(f"{url.rstrip('/')}/admin/reload", headers=headers, timeout=300)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach {url}: {exc}", err=True)
        raise typer.Exit(2) from exc
    data = r.json()
    if r.status_code >= 400 and "status" not in data:
        typer.echo(f"{r.status_code}: {data.get('detail')}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{data['status']}: {data['reason']}")
    for problem in data.get("problems", []):
        typer.echo(problem, err=True)
    raise typer.Exit(0 if data["status"] in ("applied", "unchanged") else 1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
