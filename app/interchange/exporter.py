"""Export a valid glossary as CSV, JSON Lines or SKOS Turtle."""

from __future__ import annotations

import io
from pathlib import Path

from app.interchange import csv_format, jsonl_format, skos_format
from app.interchange.records import read_records

FORMATS = ("csv", "jsonl", "skos")


def export_text(glossary_dir: Path, fmt: str, *, rendered: bool = False, base_uri: str | None = None) -> str:
    """Return the whole glossary in `fmt`; raise GlossaryInvalid when it does not pass the checker.

    Section text keeps its `{{ org.… }}` placeholders so the export imports back without loss;
    `rendered=True` fills in the org values instead (for readers outside this tool).
    SKOS concept URIs are `<base_uri>/terms/<slug>`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    records, org = read_records(Path(glossary_dir), rendered=rendered)
    out = io.StringIO()
    if fmt == "csv":
        csv_format.write(records, out)
    elif fmt == "jsonl":
        jsonl_format.write(records, out)
    else:
        company = (org.get("company") or {}).get("name") if isinstance(org.get("company"), dict) else None
        title = f"{company} glossary" if company else "Glossary"
        skos_format.write(records, out, base_uri or skos_format.DEFAULT_BASE_URI, title)
    return out.getvalue()
