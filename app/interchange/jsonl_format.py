"""JSON Lines: one JSON object per line.

Export writes every record field (`records.COLUMNS`, in that order), so export -> import is lossless. Import also
takes the shape of ../shared/external: `{"term", "aliases", "definition", "source", "license"}`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, TextIO

from app.interchange.records import TermRecord
from app.interchange.rows import RawRow


def write(records: Iterable[TermRecord], out: TextIO) -> None:
    for record in records:
        out.write(json.dumps(record.flat(), ensure_ascii=False) + "\n")


def read(path: Path) -> list[RawRow]:
    """One RawRow per non-blank line; a line that is not a JSON object is an error row, not the end."""
    rows = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            where = f"{path.name}:{number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                rows.append(RawRow(where, error=f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
                continue
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append(RawRow(where, error=f"invalid JSON: {exc.msg} (column {exc.colno})"))
                continue
            if not isinstance(data, dict):
                rows.append(RawRow(where, error=f"expected a JSON object, got {type(data).__name__}"))
                continue
            rows.append(RawRow(where, data=data))
    return rows
