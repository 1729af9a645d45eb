"""Markdown to safe HTML: markdown-it-py with raw HTML off, then nh3 with a small allowlist."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "a", "strong", "em", "ul", "ol", "li", "code", "pre", "blockquote", "br", "hr",
    "table", "thead", "tbody", "tr", "th", "td", "h3", "h4", "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "class"}, "span": {"class"}, "th": {"scope"}, "td": set()}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


# Answers to new wordings repeat their Markdown (the same terms, intent and audience compose the same
# text) and term pages and cards re-render the same sections: a bounded memo renders each once.
@lru_cache(maxsize=512)
def to_html(markdown: str) -> str:
    """Render Markdown to HTML that cannot carry script, styles or foreign attributes."""
    html = _markdown().render(markdown)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~"})


def escape_markdown(text: str) -> str:
    """Make user or imported text inert inside Markdown."""
    text = " ".join(text.split()).translate(_MD_SPECIAL)
    # Characters that only mean something at the start of a line (lists, headings, quotes).
    return "\\" + text if text[:1] in "#+-=>" or re.match(r"\d+[.)]", text) else text
