"""Markdown to safe HTML: markdown-it-py with raw HTML off, then nh3 with a small allowlist."""

from __future__ import annotations

import html
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


# An answer's "More" marker: what follows it is detail, folded into <details> on pages and in the widget.
# An HTML comment, so any other Markdown reader shows the whole answer and simply skips the marker.
MORE = re.compile(r"^<!-- more(?:: (?P<label>[^\n]*?))? -->[ \t]*$", re.M)


def more_marker(label: str = "More") -> str:
    """The line that folds the rest of an answer under a "More" disclosure titled `label`."""
    label = " ".join(label.replace("--", "-").split())  # "--" could end the comment early elsewhere
    return "\n" + (f"<!-- more: {label} -->" if label else "<!-- more -->")


# Answers to new wordings repeat their Markdown (the same terms, intent and audience compose the same
# text) and term pages and cards re-render the same sections: a bounded memo renders each once.
@lru_cache(maxsize=512)
def to_html(markdown: str) -> str:
    """Render Markdown to HTML that cannot carry script, styles or foreign attributes.

    A "More" marker line (see `more_marker`) folds everything after it into a <details> element.
    """
    match = MORE.search(markdown)
    if match:
        label = match.group("label") or "More"
        head, rest = markdown[: match.start()], markdown[match.end():]
        folded = _clean(_markdown().render(rest)) if rest.strip() else ""
        out = _clean(_markdown().render(head))
        if folded:
            out += (f'<details class="answer-more"><summary>{html.escape(label)}</summary>'
                    f'<div class="answer-more-body">{folded}</div></details>\n')
        return out
    return _clean(_markdown().render(markdown))


def _clean(html_text: str) -> str:
    return nh3.clean(
        html_text,
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
