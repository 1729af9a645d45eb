"""Property-based tests (hypothesis): the term spotter and the term-file parser on arbitrary input.

* `Spotter.spot` never crashes and returns in-order, non-overlapping spans whose surface text is
  exactly `text[start:end]`, each naming known terms.
* The term-file parser never crashes on arbitrary text or bytes: it returns a term or problems.
* A valid term written by the import/export writer (`app.interchange.records`) parses back to the
  same record, whatever the (cleaned) text in it.

Examples are derandomized and bounded, so the suite is repeatable and quick.
"""

from __future__ import annotations

import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.glossary.loader import load_or_raise, make_renderer, parse_term
from app.glossary.model import SECTION_HEADINGS
from app.interchange.records import (
    FIELDS, SECTION_FIELDS, TermRecord, clean_block, clean_line, record_from_front, term_file_text,
)
from app.search.spotter import Spotter
from tests.conftest import SHIPPED_GLOSSARY

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=1)
def shipped():
    glossary, _ = load_or_raise(SHIPPED_GLOSSARY)
    return glossary, Spotter(glossary)


@lru_cache(maxsize=1)
def names() -> list[str]:
    glossary, _ = shipped()
    return sorted({n for t in glossary.terms.values() for n in t.names})


@lru_cache(maxsize=1)
def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="glossary-properties-"))


# --- the spotter ---------------------------------------------------------------------------------

def _case(draw, text: str) -> str:
    style = draw(st.sampled_from(["as is", "upper", "lower", "title", "plural"]))
    return {"as is": text, "upper": text.upper(), "lower": text.lower(), "title": text.title(),
            "plural": text + "s"}[style]


@st.composite
def glossary_text(draw) -> str:
    """Text that mixes glossary names and aliases (in various cases) with arbitrary text and separators."""
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["name", "name", "text", "separator"]))
        if kind == "name":
            parts.append(_case(draw, draw(st.sampled_from(names()))))
        elif kind == "text":
            parts.append(draw(st.text(max_size=20)))
        else:
            parts.append(draw(st.sampled_from([" ", "-", ", ", ". ", "\n", "/", "(", ")", "'", "’", "\u00a0", "",
                                               "\u0301", "\U0001f916", "İ", "ß", "\u200b"])))
    return "".join(parts)


def check_spots(text: str, spots, limit: int = 200) -> None:
    glossary, _ = shipped()
    assert len(spots) <= limit
    last_end = 0
    for spot in spots:
        assert 0 <= spot.start < spot.end <= len(text)
        assert spot.start >= last_end  # in order, not overlapping
        assert spot.surface == text[spot.start:spot.end]
        assert spot.slugs and all(slug in glossary.terms for slug in spot.slugs)
        last_end = spot.end


@BOUNDED
@given(st.text(max_size=300))
def test_spotter_on_arbitrary_text(text):
    _, spotter = shipped()
    check_spots(text, spotter.spot(text))


@BOUNDED
@given(glossary_text(), st.integers(1, 200))
def test_spotter_on_text_full_of_glossary_names(text, limit):
    _, spotter = shipped()
    check_spots(text, spotter.spot(text, limit=limit), limit)


def test_every_name_and_alias_is_found_where_it_stands():
    _, spotter = shipped()
    for name in names():
        text = f"What does {name} mean for us?"
        spots = spotter.spot(text)
        check_spots(text, spots)
        assert any(s.start == 10 and s.end == 10 + len(name) for s in spots), (name, spots)


# --- the term-file parser ---------------------------------------------------------------------

HEADINGS = [f"## {h}" for h in SECTION_HEADINGS] + ["## Unknown", "##", "### Definition", "# Definition"]
FRONT_LINES = ["term: X", "slug: x", "slug: Not A Slug", "aliases: [a, b", "domain: it", "domain: finance",
               "summary: s", "status: approved", "status: deprecated", "owners: [A]", "owners: []",
               "reviewed: 2026-01-01", "reviewed: soon", "related: [x]", "references: [{label: L, url: ftp://x}]",
               "1: one", "~: null", "? [a]\n: b", "term: &a [*a]", "term: !!python/object:os.system x",
               "term: " + "[" * 300 + "]" * 300, "- a list", "key: {{ org.x }}", "tags: 7", "questions: {a: b}"]
BODY_LINES = ["text", "{{ org.company.name }}", "{{ org.nope }}", "{{ 1/0 }}", "{% for x in org %}x{% endfor %}",
              "{# unclosed", "{{ org.thresholds.three_quotes | money }}", "{{ org.__class__.__mro__ }}", "---", "",
              "<script>alert(1)</script>", "[x](javascript:alert(1))", "}}", "{{", "\t", "\x00", "\ufeff"]


@st.composite
def term_like_text(draw) -> str:
    """Text shaped like a term file (front matter, headings, placeholders), often broken."""
    mostly = st.sampled_from([True, True, True, False])
    out = []
    if draw(mostly):
        out.append("---")
    elif draw(st.booleans()):
        out.append(draw(st.sampled_from(["--- ", "---x", "", " ---"])))
    for _ in range(draw(st.integers(0, 6))):
        out.append(draw(st.sampled_from(FRONT_LINES)) if draw(mostly) else draw(st.text(max_size=30)))
    if draw(mostly):
        out.append("---")
    for _ in range(draw(st.integers(0, 12))):
        if draw(mostly):
            out.append(draw(st.sampled_from(HEADINGS) | st.sampled_from(BODY_LINES)))
        else:
            out.append(draw(st.text(max_size=40)))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r", "\u2028"]))
    return newline.join(out)


def parse_text(data: str | bytes):
    path = scratch() / "some-term.md"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", errors="surrogatepass", newline="")
    glossary, _ = shipped()
    return parse_term(path, "glossary/terms/some-term.md", make_renderer(glossary.org))


def check_parsed(result) -> None:
    term, problems, lines = result
    assert (term is None) == bool(problems) or (term is not None and all(p.severity != "error" for p in problems))
    for problem in problems:
        assert problem.file == "glossary/terms/some-term.md" and problem.line >= 0 and problem.message
        str(problem)


@BOUNDED
@given(st.text(max_size=500))
def test_parser_never_crashes_on_arbitrary_text(text):
    check_parsed(parse_text(text))


@BOUNDED
@given(term_like_text())
# What these properties found (each crashed the loader before it was fixed): keys that are not
# strings, nesting deeper than the YAML parser's recursion, arithmetic in a placeholder (which could
# also allocate without bound: {{ 'a' * 10**10 }}; see the test below).
@example("---\n1: one\n---\n")
@example("---\n~: null\n---\n")
@example("---\nterm: " + "[" * 2000 + "]" * 2000 + "\n---\n")
@example("---\nterm: x\n---\n## Definition\n{{ 1/0 }}\n")
def test_parser_never_crashes_on_term_like_text(text):
    check_parsed(parse_text(text))


def test_placeholders_are_only_org_paths_never_evaluated_expressions():
    text = "---\nterm: x\n---\n## Definition\n{{ 'a' * 3 }} and {{ org.company.name | upper }}\n"
    _, problems, _ = parse_text(text)
    refused = [p.message for p in problems if "only {{ org.… }} placeholders are allowed" in p.message]
    assert len(refused) == 2, problems


@BOUNDED
@given(st.binary(max_size=300))
def test_parser_never_crashes_on_arbitrary_bytes(data):
    check_parsed(parse_text(data))


# --- round trip through the import/export writer -------------------------------------------------

line = st.text(min_size=1, max_size=40).map(clean_line).filter(bool)
block = st.text(min_size=1, max_size=200).map(clean_block).filter(bool)
slug = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)


@st.composite
def records(draw) -> TermRecord:
    record = {key: None for key in FIELDS}
    record.update(
        term=draw(line), slug=draw(slug), aliases=draw(st.lists(line, max_size=4)), ambiguous=[],
        domain=draw(st.sampled_from(["it", "procurement", "shared"])), summary=draw(line),
        status=draw(st.sampled_from(["draft", "approved"])), related=draw(st.lists(slug, max_size=3)),
        owners=draw(st.lists(line, min_size=1, max_size=3)),
        reviewed=draw(st.dates(date(1990, 1, 1), date(2100, 12, 31))).isoformat(),
        references=draw(st.lists(st.builds(lambda label, url: {"label": label, "url": url}, line,
                                           st.none() | st.from_regex(r"https://[a-z]{1,10}\.test/[a-z0-9/]{0,20}",
                                                                     fullmatch=True)), max_size=3)),
        tags=draw(st.lists(line, max_size=3)), questions=draw(st.lists(line, max_size=3)),
    )
    record["parent"] = draw(st.none() | slug)
    for column in SECTION_FIELDS:
        record[column] = draw(block) if column != "our_rules" else draw(st.just("") | block)
    return TermRecord.model_validate(record)


@BOUNDED
@given(records())
def test_a_written_term_file_parses_back_to_the_same_record(record):
    text = term_file_text(record)
    path = scratch() / f"{record.slug}.md"
    path.write_text(text, encoding="utf-8", newline="")
    term, problems, _ = parse_term(path, f"glossary/terms/{path.name}", make_renderer({}))
    assert term is not None and not problems, (problems, text)
    sections = {key: term.section(key) for key in SECTION_FIELDS.values()}
    back = record_from_front(term, sections)
    assert back == record, text
    assert term_file_text(back) == text  # and it writes the same file again
