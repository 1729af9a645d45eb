"""What a format reader hands the importer: one raw row (or one error) with where it came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RawRow:
    """One input row: `data` (field -> value, not yet validated) or an `error`; `where` is 'file:line'."""

    where: str
    data: dict | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()
