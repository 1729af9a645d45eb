"""Shared text helpers and vocabulary: one home for what the loader, importer, answers and pages all use."""

from __future__ import annotations

import re
import unicodedata

# The two departments a section is written for, and the three domains a term belongs to (with labels).
AUDIENCES = {"procurement": "Procurement", "it": "IT"}
DOMAINS = {"procurement": "Procurement", "it": "IT", "shared": "Procurement & IT"}

# C0/C1 control characters other than tab, newline and carriage return: never meaningful in a
# question, a comment or a term file, and PostgreSQL refuses NUL in text.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Any Jinja expression or statement in a term file, and the one shape an org placeholder may have: a
# path into org, optionally through one of our filters (no arithmetic, no calls). The loader accepts
# exactly these (and rule citations), and the importer keeps exactly these.
PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_FILTER = r"\|\s*(?:money|capitalize_first|plural\(\s*'[a-z ]+'\s*(?:,\s*'[a-z ]+'\s*)?\))\s*"
ORG_PLACEHOLDER_PATTERN = r"\{\{\s*(?P<path>org(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(?P<filter>" + _FILTER + r")?\}\}"
ORG_PLACEHOLDER = re.compile(ORG_PLACEHOLDER_PATTERN)

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[\"'(\[]?[A-Z0-9])")
_ABBREVIATION_WINDOW = 12  # longer than the longest abbreviation ("approx.", "u.s.c.")
_ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|no|nos|inc|ltd|co|corp|mr|ms|dr|st|sec|art|para|"
                            r"fig|approx|u\.s|u\.s\.c|c\.f\.r)|\b[A-Z]|\(\w{1,3})\.$", re.I)


def slugify(text: str, default: str = "") -> str:
    """Lowercase ASCII, every run of other characters one '-': 'Auto-Renewal (EU)' -> 'auto-renewal-eu'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > 80:
        slug = slug[:80].rsplit("-", 1)[0] if "-" in slug[:80] else slug[:80]
    return slug or default


def sentences(markdown: str) -> list[str]:
    """The sentences of glossary prose (written by curators), each on one line."""
    return [part for part in _SENTENCE.split(" ".join(markdown.split())) if part]


def first_sentences(markdown: str, count: int = 1) -> str:
    """Return the first `count` sentences of glossary prose (written by curators), on one line."""
    return " ".join(sentences(markdown)[:count])


def first_sentence(text: str, limit: int = 300) -> str:
    """Return the first sentence of outside text as one line (abbreviations kept whole, cut at `limit`).

    Unlike `first_sentences`, this reads text nobody has edited for us (imports), so it does not end
    a sentence at 'e.g.' or 'Inc.' and bounds the length.
    """
    text = " ".join(text.split())
    # A stop past `limit` gives the same result as no stop (the text is cut at `limit` either way),
    # and only the few characters before a stop can be an abbreviation: searching the whole prefix
    # at every stop was quadratic (a 56 KB definition took 38 s).
    for match in _SENTENCE_END.finditer(text, 0, limit + 8):
        if not _ABBREVIATIONS.search(text, max(0, match.end() - _ABBREVIATION_WINDOW), match.end()):
            text = text[: match.end()]
            break
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text
