"""The typed record every format reads and writes, and the term files records come from and go to.

A record (`TermRecord`) is one term: the validated front matter (`FrontMatter`, the model the
loader uses) plus one text field per body section (`COLUMNS`). Writers take its `flat()` view:
lists stay lists, references are `{"label", "url"}` dicts, `reviewed` is ISO text.
Text that comes from outside is cleaned here before it can reach a term file (`clean_line`,
`clean_block`): YAML is always written with `yaml.safe_dump`, Jinja delimiters are defused and
lines that would read as a section heading are escaped.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from jinja2 import TemplateError
from pydantic import ValidationError

from app.glossary.loader import TERMS_DIR, GlossaryInvalid, load_glossary, make_renderer, parse_sections, split_front_matter
from app.glossary.model import SECTION_HEADINGS, FrontMatter
from app.text import ORG_PLACEHOLDER_PATTERN
from app.text import first_sentence as text_first_sentence

PLACEHOLDER_TEXT = "To be written by the curators."
_FLOW_LISTS = {"aliases", "ambiguous", "related", "owners", "tags"}


class TermRecord(FrontMatter):
    """One term as every format reads and writes it: validated front matter plus the five sections.

    The section fields follow the order of the sections in a term file (`SECTION_HEADINGS`).
    """

    definition: str = ""
    for_procurement: str = ""
    for_it: str = ""
    our_rules: str = ""
    example: str = ""

    def section(self, key: str) -> str:
        """The text of a section by its key (`SECTION_HEADINGS` values: 'procurement', 'it', …)."""
        return str(getattr(self, _COLUMN_OF_SECTION[key]))

    def flat(self) -> dict:
        """The record as plain JSON data, keys in `COLUMNS` order: what the format writers take."""
        return self.model_dump(mode="json")


# Front-matter fields in the order curators write them, then the section columns.
FIELDS = list(FrontMatter.model_fields)
COLUMNS = list(TermRecord.model_fields)
LIST_FIELDS = [name for name, info in FrontMatter.model_fields.items() if info.annotation == list[str]]
# Record field -> section key (app.glossary.model.SECTION_HEADINGS values), in file order.
SECTION_FIELDS = dict(zip(COLUMNS[len(FIELDS):], SECTION_HEADINGS.values(), strict=True))
_COLUMN_OF_SECTION = {key: column for column, key in SECTION_FIELDS.items()}
# Fields a term file always has, even when empty.
_ALWAYS_WRITTEN = {name for name, info in FrontMatter.model_fields.items() if info.is_required()}


class RowError(ValueError):
    """One imported row cannot become a term; the message says why."""

    @classmethod
    def of(cls, exc: ValidationError) -> RowError:
        """Every problem pydantic found, each with the field it is in ('references.0.url: …')."""
        return cls("; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()))


def validated_record(data: dict) -> TermRecord:
    """A record from plain data, checked by the model the loader uses; RowError names each bad field."""
    try:
        return TermRecord.model_validate(data)
    except ValidationError as exc:
        raise RowError.of(exc) from None


# --- cleaning untrusted text -------------------------------------------------------------------

# C0/C1 controls except tab and newline; line and paragraph separators count as newlines.
# Also bidirectional overrides and isolates (U+202E makes "gpj.exe" read "exe.jpg") and zero-width
# characters (U+200B splits a word so it no longer matches, or hides text): none belongs in a term.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                      r"\u2066-\u2069\ufeff]")
_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# The only Jinja an imported section may keep: a plain org placeholder, as curators write them.
_JINJA = re.compile(rf"({ORG_PLACEHOLDER_PATTERN})|\{{(?=[{{%#])")
# A line Markdown or the loader would read as a heading of level 1 or 2 ('## Example' would
# start a new section of the term file).
_HEADING_LINE = re.compile(r"^( {0,3})(#{1,2})(?=[ \t]|$)", re.M)


def clean_line(value: object) -> str:
    """Return one line of text: controls removed, every run of whitespace a single space."""
    text = _CONTROL.sub("", _NEWLINES.sub("\n", str(value)))
    return " ".join(text.split())


def clean_block(value: object, org: dict | None = None) -> str:
    """Return section text that is inert in a term file.

    Newlines are normalized, controls removed; `{{ org.… }}` placeholders that render against
    `org` are kept, every other `{{`, `{%` or `{#` becomes `{ {`, `{ %`, `{ #`; a line starting
    with `#` or `##` is escaped as `\\#` so it cannot open a section or a heading.
    """
    text = _CONTROL.sub("", _NEWLINES.sub("\n", str(value)))
    env = make_renderer(org or {})

    def defuse(match: re.Match) -> str:
        if match.group(1):
            try:
                env.from_string(match.group(1)).render()
                return match.group(1)
            except TemplateError:
                return "{ " + match.group(1)[1:]
        return "{ "

    text = _JINJA.sub(defuse, text)
    text = _HEADING_LINE.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


# Markdown links and autolinks to other sites, in imported sections.
_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*<?(https?://[^()\s<>]*)>?(?:\s+\"[^\"]*\")?\s*\)|<(https?://[^<>\s]+)>", re.I)


def link_allowed(url: str, hosts: list[str] | tuple[str, ...]) -> bool:
    """True when `url` is on one of `hosts` (a host matches itself and its subdomains)."""
    host = re.sub(r"^https?://", "", url, flags=re.I).split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    return any(host == h or host.endswith("." + h) for h in (x.lower().lstrip(".") for x in hosts) if h)


def drop_foreign_links(text: str, hosts: list[str] | tuple[str, ...]) -> str:
    """Keep the text of links to hosts not in `hosts`, but not the links: imported content cannot
    send readers of our answers to a site nobody here chose."""
    def keep(match: re.Match) -> str:
        url = match.group(2) or match.group(3)
        if link_allowed(url, hosts):
            return match.group(0)
        return match.group(1) if match.group(2) else url

    return _LINK.sub(keep, text)


def first_sentence(text: str, limit: int = 300) -> str:
    """Return the first sentence of `text` as one cleaned line (cut at a word when longer than limit)."""
    return text_first_sentence(clean_line(text), limit)


# --- records from term files --------------------------------------------------------------------

def record_from_front(meta: FrontMatter, sections: dict[str, str]) -> TermRecord:
    """Build a record from validated front matter and the (raw or rendered) section texts."""
    data = meta.model_dump(include=set(FIELDS))
    data.update({column: sections.get(key, "") for column, key in SECTION_FIELDS.items()})
    return TermRecord.model_validate(data)


def read_records(glossary_dir: Path, *, rendered: bool = False) -> tuple[list[TermRecord], dict]:
    """Return every term of a valid glossary as records (sorted by slug) and its org data.

    Sections are the text as written (with `{{ org.… }}` placeholders), so an export can be
    imported back without loss; `rendered=True` gives the text with the org values filled in.
    Raises GlossaryInvalid when the glossary does not pass the checker.
    """
    result = load_glossary(glossary_dir)
    if result.glossary is None:
        raise GlossaryInvalid(result.problems)
    glossary = result.glossary
    records = []
    for slug in sorted(glossary.terms):
        term = glossary.terms[slug]
        if rendered:
            sections = dict(term.sections)
        else:
            text = (Path(glossary_dir) / TERMS_DIR / f"{slug}.md").read_text(encoding="utf-8")
            split = split_front_matter(text)
            assert split is not None  # the glossary loaded, so every term file has front matter
            _, body, first_line = split
            raw, _ = parse_sections(body, first_line)
            sections = {key: value for key, (value, _) in raw.items()}
        records.append(record_from_front(term, sections))
    return records, glossary.org


# --- term files from records --------------------------------------------------------------------

def front_matter_data(record: FrontMatter) -> dict:
    """The front-matter mapping of a record: curators' key order, empty optional fields left out."""
    data: dict = {}
    for key, value in record.model_dump(include=set(FIELDS)).items():
        if key == "references":
            value = [{k: v for k, v in ref.items() if v} for ref in value]
        if value in (None, "", []) and key not in _ALWAYS_WRITTEN:
            continue
        data[key] = value
    return data


def dump_front_matter(data: dict) -> str:
    """YAML for a front-matter mapping, one key at a time so short lists stay on one line.

    Always yaml.safe_dump (never string formatting) and never folded, so no value can end the
    front matter early or smuggle in another key.
    """
    parts = []
    for key, value in data.items():
        flow = key in _FLOW_LISTS
        parts.append(yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=10**9,
                                    default_flow_style=None if flow else False))
    text = "".join(parts)
    if any(line.strip() in ("---", "...") for line in text.splitlines()):  # pragma: no cover - defensive
        raise RowError("front matter would contain a document marker line")
    return text


def term_file_text(record: TermRecord) -> str:
    """The whole term file for a record: front matter, then the five sections in order."""
    out = ["---\n", dump_front_matter(front_matter_data(record)), "---\n"]
    for i, (heading, key) in enumerate(SECTION_HEADINGS.items()):
        text = record.section(key).strip()
        out.append(("\n" if i else "") + f"## {heading}\n" + (text + "\n" if text else ""))
    return "".join(out)
