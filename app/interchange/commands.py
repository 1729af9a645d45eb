"""The bodies of `glossary import` and `glossary export`, kept out of app/cli.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from app.glossary.loader import GlossaryInvalid, load_glossary
from app.interchange.exporter import export_text
from app.interchange.importer import DEFAULT_OWNER, Source, plan_import

Echo = Callable[..., None]


def _print(message: str, err: bool = False) -> None:
    print(message, file=sys.stderr if err else sys.stdout)


def run_import(glossary_dir: Path, files: list[Path], fmt: str, domains: list[str], *, owner: str = DEFAULT_OWNER,
               write: bool = False, force: bool = False, merge: bool = False, quiet: bool = False,
               echo: Echo = _print, trusted: bool = False, link_hosts: list[str] | tuple[str, ...] = ()) -> int:
    """Print the per-row report, check the result, write when asked; return the exit code.

    0: every row imported or deliberately skipped; 1: error rows or the check failed;
    2: bad arguments. Rows without errors are written even when others have errors.
    """
    if len(domains) not in (0, 1, len(files)):
        echo(f"give --domain once (for all files) or once per file ({len(files)}), not {len(domains)} times", err=True)
        return 2
    per_file: list[str | None] = [*domains] * len(files) if len(domains) == 1 else [*domains] or [None] * len(files)
    try:
        plan = plan_import(glossary_dir, [Source(Path(f), fmt, d) for f, d in zip(files, per_file)],
                           force=force, merge=merge, owner=owner, trusted=trusted, link_hosts=link_hosts)
    except ValueError as exc:
        echo(str(exc), err=True)
        return 2
    for line in plan.lines:
        if not quiet or line.action not in ("create", "merge"):
            echo(str(line))
    echo(plan.summary())
    before = {str(p) for p in load_glossary(glossary_dir).errors}
    result = plan.check()
    new_errors = [p for p in result.errors if str(p) not in before]
    if new_errors:
        echo("the import would add errors to the glossary; nothing written:", err=True)
        for problem in new_errors[:50]:
            echo(f"  {problem}", err=True)
        return 1
    if not write:
        state = f"passes `glossary check` ({len(result.glossary)} terms)" if result.glossary else "adds no new errors"
        echo(f"dry run: nothing written; the result {state}. Run again with --write to write the files.")
    else:
        written = plan.write()
        echo(f"wrote {len(written)} file(s) to {Path(glossary_dir) / 'terms'}")
    return 1 if plan.errors else 0


def run_export(glossary_dir: Path, fmt: str, output: Path | None, *, rendered: bool = False,
               base_uri: str | None = None, echo: Echo = _print) -> int:
    """Write the export to `output` (or stdout); return the exit code (1 when the glossary is invalid)."""
    try:
        text = export_text(glossary_dir, fmt, rendered=rendered, base_uri=base_uri)
    except GlossaryInvalid as exc:
        for problem in exc.problems:
            echo(str(problem), err=True)
        echo("export refused: the glossary does not pass `glossary check`", err=True)
        return 1
    except ValueError as exc:
        echo(str(exc), err=True)
        return 2
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        echo(f"wrote {output}", err=True)
    return 0
