"""The `glossary` command: check, build, serve, search, ask, eval, import, export."""

from __future__ import annotations

import json
import os
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from app.config import Settings

cli = typer.Typer(help="Shared-glossary assistant for procurement and IT.", no_args_is_help=True, add_completion=False)


def _settings(glossary_dir: Optional[Path], index_dir: Optional[Path]) -> Settings:
    overrides = {}
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


@cli.command()
def serve(host: Optional[str] = typer.Option(None, help="Bind address (default 127.0.0.1)."),
          port: Optional[int] = typer.Option(None, help="Port (default 8000)."),
          glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt) -> None:
    """Run the web service (refuses to start on an invalid glossary)."""
    _fewer_malloc_arenas()
    import uvicorn

    from app.main import create_app

    settings = _settings(glossary_dir, index_dir)
    _load_or_exit(settings)
    from app.observability import configure_logging

    configure_logging()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_config=None,
                access_log=False)


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


def _client(settings: Settings, **overrides):
    """The service in-process, for one command: no file watch, no per-client rate limit."""
    from fastapi.testclient import TestClient

    from app.glossary.loader import GlossaryInvalid
    from app.main import create_app

    settings = settings.model_copy(update={"watch_glossary": False, "rate_limit_per_minute": 0, **overrides})
    _load_or_exit(settings)
    try:
        return TestClient(create_app(settings))
    except GlossaryInvalid as exc:  # pragma: no cover - checked just above
        typer.echo(str(exc), err=True)
        raise typer.Exit(1)


@cli.command()
def search(query: str, limit: int = typer.Option(5, min=1, max=50), glossary_dir: Optional[Path] = GlossaryOpt,
           index_dir: Optional[Path] = IndexOpt) -> None:
    """Show the best-matching terms for a query."""
    with _client(_settings(glossary_dir, index_dir)) as client:
        r = client.get("/api/search", params={"q": query, "limit": limit})
        if r.status_code != 200:
            typer.echo(r.json().get("detail"), err=True)
            raise typer.Exit(2)
        for h in r.json()["results"]:
            typer.echo(f"{h['score']:.3f}  {h['term']}  ({h['slug']})  {h['summary']}")


@cli.command()
def ask(question: str, audience: Optional[str] = typer.Option(None, help="procurement or it"),
        as_json: bool = typer.Option(False, "--json", help="Print the whole API response."),
        glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt) -> None:
    """Ask a question and print the answer."""
    with _client(_settings(glossary_dir, index_dir)) as client:
        r = client.post("/api/ask", json={"question": question, "audience": audience})
        if r.status_code != 200:
            typer.echo(r.json().get("detail"), err=True)
            raise typer.Exit(2)
        data = r.json()
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        else:
            typer.echo(f"[{data['intent']}, confident={data['confident']} ({data['confidence']:.2f})]\n")
            typer.echo(data["answer_markdown"])


@cli.command("eval")
def eval_(files: list[Path] = typer.Argument(..., help="Question files in the dev_questions.jsonl format."),
          misses: bool = typer.Option(True, help="List the questions that missed."),
          with_external: Optional[Path] = typer.Option(
              None, "--with-external", help="Also import the public glossaries in this folder (../shared/external) "
              "into a scratch copy of the glossary and score against that."),
          glossary_dir: Optional[Path] = GlossaryOpt, index_dir: Optional[Path] = IndexOpt) -> None:
    """Score question files through POST /api/ask, per kind."""
    from app.evaluate import evaluate, glossary_with_external, load_questions

    try:
        sets = [(file, load_questions(file)) for file in files]
    except (OSError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    import tempfile

    settings = _settings(glossary_dir, index_dir)
    # Evaluation questions are not real users' questions: keep them out of the curators' gaps.
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {"database_url": f"sqlite:///{tmp}/eval.db"}
        if with_external is not None:
            try:
                overrides["glossary_dir"] = glossary_with_external(settings.glossary_dir, with_external,
                                                                   Path(tmp) / "glossary")
            except FileNotFoundError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2)
            if index_dir is None:  # never let the scratch glossary replace the real index
                overrides["index_dir"] = Path(tmp) / "index"
        with _client(settings, **overrides) as client:
            for file, items in sets:
                report = evaluate(client, items)
                if len(sets) > 1:
                    typer.echo(f"== {file}")
                typer.echo(report.text(show_misses=misses))


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
            glossary_dir: Optional[Path] = GlossaryOpt) -> None:
    """Import terms from CSV, JSON Lines or SKOS: a per-row report, then term files with --write."""
    from app.interchange.commands import run_import

    raise typer.Exit(run_import(_settings(glossary_dir, None).glossary_dir, files, fmt.value, domain, owner=owner,
                                write=write, force=force, merge=merge, quiet=quiet, echo=typer.echo))


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
        raise typer.Exit(2)
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
    sys.exit(main())
