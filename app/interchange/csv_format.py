"""CSV: a header row, then one row per term.

Columns are `records.COLUMNS`: the front-matter fields, then one column per section
(definition, for_procurement, for_it, our_rules, example). List fields are joined with "; "
(a literal ";" inside an item is written "\\;" and a backslash "\\\\"); a reference is
"label <url>" or just "label". Empty cells mean "not given". Headers are matched ignoring case,
spaces and dashes, so "For procurement" names the for_procurement column.

A cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a CR, after any
apostrophes) is written with one more leading apostrophe, which spreadsheets show as text; import
takes that apostrophe off again, so the round trip stays lossless.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Iterable, TextIO

from app.interchange.records import COLUMNS, LIST_FIELDS, TermRecord
from app.interchange.rows import ImportRow, RawRow

SEPARATOR = "; "
_REFERENCE = re.compile(r"^(.*?)\s*<(https?://[^<>\s]+)>$")
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")


def defuse_formula(cell: str) -> str:
    """Make a cell inert in spreadsheets: `=cmd|' /C calc'!A0` is written `'=cmd|' /C calc'!A0`."""
    return "'" + cell if _FORMULA.match(cell) else cell


def restore_formula(cell: str) -> str:
    """Undo `defuse_formula` on import."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell) else cell



def join_list(items: Iterable[str]) -> str:
    return SEPARATOR.join(str(item).replace("\\", "\\\\").replace(";", "\\;") for item in items)


def split_list(cell: str) -> list[str]:
    """Split at unescaped ';', unescape, strip; empty items are dropped."""
    items, current, chars = [], [], iter(cell)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == ";":
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _reference_cell(reference: dict) -> str:
    return f"{reference['label']} <{reference['url']}>" if reference.get("url") else reference["label"]


def _parse_reference(item: str) -> dict:
    match = _REFERENCE.match(item)
    return {"label": match.group(1), "url": match.group(2)} if match else {"label": item, "url": None}


def write(records: Iterable[TermRecord], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        row = []
        for key, value in record.flat().items():  # in COLUMNS order
            if key == "references":
                value = join_list(_reference_cell(r) for r in value or [])
            elif key in LIST_FIELDS:
                value = join_list(value or [])
            row.append("" if value is None else defuse_formula(str(value)))
        writer.writerow(row)


_KNOWN = set(ImportRow.model_fields)  # the record's columns plus source and license


def _column(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def read(path: Path) -> list[RawRow]:
    """One RawRow per data row; a malformed row is an error row and reading goes on."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        return [RawRow(path.name, error=f"cannot read file: {exc}")]
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return [RawRow(f"{path.name}:1", error="empty file: expected a header row")]
        except (csv.Error, UnicodeDecodeError) as exc:
            return [RawRow(f"{path.name}:1", error=f"bad header row: {exc}")]
        columns = [_column(h) for h in header]
        if "term" not in columns:
            return [RawRow(f"{path.name}:1", error="the header has no 'term' column")]
        return _data_rows(reader, path.name, header, columns)


def _data_rows(reader: Any, name: str, header: list[str], columns: list[str]) -> list[RawRow]:
    """The rows after the header; a bad row is an error row, text that is not UTF-8 ends the file."""
    rows: list[RawRow] = []
    unknown = [h for h, c in zip(header, columns) if c not in _KNOWN]
    file_notes: tuple[str, ...] = (f"ignored unknown column(s): {', '.join(unknown)}",) if unknown else ()
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(RawRow(f"{name}:{start}", error=f"bad CSV: {exc}"))
            last_line = reader.line_num
            continue
        except UnicodeDecodeError as exc:
            rows.append(RawRow(f"{name}:{start}", error=f"not UTF-8 text ({exc.reason}); rows after it were not read"))
            break
        last_line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        where = f"{name}:{start}"
        if len(cells) > len(columns):
            rows.append(RawRow(where, error=f"{len(cells)} cells but the header has {len(columns)} columns"))
            continue
        rows.append(RawRow(where, data=_row_data(columns, cells), notes=file_notes))
        file_notes = ()  # said once, on the first row that imports
    return rows


def _row_data(columns: list[str], cells: list[str]) -> dict:
    """The non-empty known cells of a row, lists split and references parsed."""
    data: dict = {}
    for column, cell in zip(columns, cells):
        if column not in _KNOWN or not cell.strip():
            continue
        cell = restore_formula(cell)
        if column == "references":
            data[column] = [_parse_reference(item) for item in split_list(cell)]
        elif column in LIST_FIELDS:
            data[column] = split_list(cell)
        else:
            data[column] = cell
    return data
