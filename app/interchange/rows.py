"""What a format reader hands the importer: one raw row (or one error) with where it came from,
and the same row typed and cleaned (`ImportRow`), before any value is derived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from app.interchange.records import RowError, clean_line

MAX_SECTION_CHARS = 20_000  # one imported section; a whole term file may hold 100,000 (the loader's limit)


@dataclass
class RawRow:
    """One input row: `data` (field -> value, not yet validated) or an `error`; `where` is 'file:line'."""

    where: str
    data: dict | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()


# --- the checks, one per kind of field (each error message is the text after "<field>: ") --------

def _kind(value: object) -> dict[str, str]:
    return {"kind": type(value).__name__}


def _is_scalar(value: object) -> bool:
    """Text or a number (a number becomes text); True and False are not."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _line(value: object) -> str:
    """A single-value field: absent is '', text and numbers become one clean line."""
    if value is None:
        return ""
    if not _is_scalar(value):
        raise PydanticCustomError("row_text", "must be text, not {kind}", _kind(value))
    return clean_line(value)


def _lines(value: object) -> list[str]:
    """A list field: each item one clean line; empty items and repeats go."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PydanticCustomError("row_list", "must be a list of text, not {kind}", _kind(value))
    items: list[str] = []
    for item in value:
        if not _is_scalar(item):
            raise PydanticCustomError("row_list_item", "items must be text, not {kind}", _kind(item))
        text = clean_line(item)
        if text and text not in items:
            items.append(text)
    return items


def _section(value: object) -> str:
    """A section's text as given (it is made inert later, with the import's options)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PydanticCustomError("row_text", "must be text, not {kind}", _kind(value))
    if len(value) > MAX_SECTION_CHARS:
        raise PydanticCustomError("row_section_length", "longer than {limit} characters",
                                  {"limit": f"{MAX_SECTION_CHARS:,}"})
    return value


def _date(value: object) -> date | None:
    """`reviewed`: absent or empty is None, else an ISO date."""
    text = _line(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("row_date", "{text} is not a date (YYYY-MM-DD)", {"text": repr(text)}) from None


def _references(value: object) -> list[dict]:
    """A list of `{label, url}` (or of bare labels); items whose label is empty go."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PydanticCustomError("row_references", "must be a list of {label, url}")
    refs = []
    for item in value:
        if isinstance(item, str):
            item = {"label": item}
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise PydanticCustomError("row_reference", "each item needs a text 'label' (and may have 'url')")
        url = item.get("url")
        if url is not None and not isinstance(url, str):
            raise PydanticCustomError("row_reference_url", "'url' must be text")
        label = clean_line(item["label"])
        if label:
            refs.append({"label": label, "url": clean_line(url) or None if url else None})
    return refs


Line = Annotated[str, BeforeValidator(_line)]
Lines = Annotated[list[str], Field(default_factory=list), BeforeValidator(_lines)]
Section = Annotated[str, BeforeValidator(_section)]


class RowReference(BaseModel):
    """A reference as a row gives it; its url is checked (and maybe dropped) when the term is built."""

    label: str
    url: str | None = None


class ImportRow(BaseModel):
    """One raw row checked for types and cleaned; a field the row leaves out is empty.

    Fields are in the order the importer reports their problems. Keys that are no field are kept
    aside (`unknown`) for the "ignored unknown field(s)" note.
    """

    model_config = ConfigDict(extra="allow")

    term: Line = ""
    slug: Line = ""
    aliases: Lines
    ambiguous: Lines
    related: Lines
    owners: Lines
    tags: Lines
    questions: Lines
    domain: Line = ""
    replaced_by: Line = ""
    parent: Line = ""
    definition: Section = ""
    for_procurement: Section = ""
    for_it: Section = ""
    our_rules: Section = ""
    example: Section = ""
    summary: Line = ""
    reviewed: Annotated[date | None, BeforeValidator(_date)] = None
    references: Annotated[list[RowReference], Field(default_factory=list), BeforeValidator(_references)]
    source: Line = ""
    license: Line = ""
    status: Line = ""

    @classmethod
    def of(cls, data: dict) -> ImportRow:
        """The typed row; RowError names every field with a value of the wrong type or shape."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise RowError.of(exc) from None

    @property
    def unknown(self) -> list[str]:
        return sorted(str(key) for key in self.model_extra or {})

    def section(self, column: str) -> str:
        return str(getattr(self, column))
