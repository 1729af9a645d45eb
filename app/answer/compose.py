"""Composition: jinja2 templates (one per intent, kept as files) turn chosen terms into a linked answer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.glossary.model import SECTION_TITLES, Glossary, Term
from app.render import escape_markdown
from app.search.spotter import Spotter
from app.text import AUDIENCES, first_sentences

__all__ = ["AUDIENCES", "Composer", "Linker", "audience_sections", "first_sentences"]

TEMPLATES = Path(__file__).parent / "templates"

# Where a linked term stands in `terms`: what the answer is about first, incidental mentions last.
FOCUS, ALTERNATIVE, RELATED, MENTION = 0, 1, 2, 3


def table_cell(markdown: str) -> str:
    """Fit a section into one Markdown table cell."""
    return " ".join(markdown.split()).replace("|", "\\|")


class Linker:
    """Links each term once per answer and remembers which terms the answer named, by importance."""

    def __init__(self, glossary: Glossary, url_for: Callable[[str], str], spotter: Spotter):
        self.glossary = glossary
        self.url_for = url_for
        self.spotter = spotter
        self._seen: dict[str, tuple[int, int]] = {}

    def _note(self, slug: str, priority: int) -> bool:
        first = slug not in self._seen
        if first:
            self._seen[slug] = (priority, len(self._seen))
        elif priority < self._seen[slug][0]:
            self._seen[slug] = (priority, self._seen[slug][1])
        return first

    def link(self, slug: str, priority: int = MENTION, text: str | None = None) -> str:
        """Return a Markdown link the first time a term is named, its plain name afterwards."""
        term = self.glossary.terms[slug]
        label = escape_markdown(text or term.term)
        if not self._note(slug, priority):
            return label
        out = f"[{label}]({self.url_for(slug)})"
        if term.status == "deprecated" and term.replaced_by in self.glossary.terms:
            out += f" *(deprecated — use {self.link(term.replaced_by, priority)} instead)*"
        elif term.status == "draft":
            out += " *(draft — not yet reviewed by the curators)*"
        return out

    def autolink(self, markdown: str, priority: int = MENTION) -> str:
        """Link the first mention of each other glossary term inside glossary text."""
        out: list[str] = []
        pos = 0
        for spot in self.spotter.spot(markdown):
            if not spot.strong or len(spot.slugs) != 1 or spot.slugs[0] in self._seen:
                continue
            if _inside_link(markdown, spot.start) or _inside_address(markdown, spot.start, spot.end):
                continue
            out.append(markdown[pos : spot.start])
            out.append(self.link(spot.slugs[0], priority, text=spot.surface))
            pos = spot.end
        out.append(markdown[pos:])
        return "".join(out)

    def unlinked(self, slugs: list[str], priority: int = RELATED) -> list[str]:
        """Those of `slugs` the answer has not linked yet (each term is linked once per answer).

        The ones already linked in passing move up to `priority` in `terms()`.
        """
        for slug in slugs:
            if slug in self._seen:
                self._note(slug, priority)
        return [s for s in dict.fromkeys(slugs) if s not in self._seen and s in self.glossary.terms]

    def terms(self) -> list[str]:
        """Every linked term, the answer's subject first, then alternatives, related and mentions."""
        return [slug for slug, _ in sorted(self._seen.items(), key=lambda kv: kv[1])]


# How far around a mention to look for the address or link text it may be part of: every mention
# is checked, so an unbounded look at a 40,000-character word made autolinking quadratic.
_NEAR = 500


def _inside_address(text: str, start: int, end: int) -> bool:
    """True when the mention is part of an e-mail address or URL (never link inside those)."""
    low, high = max(0, start - _NEAR), min(len(text), end + _NEAR)
    left = max(text.rfind(" ", low, start), text.rfind("\n", low, start), low - 1) + 1
    right = min((i for i in (text.find(" ", end, high), text.find("\n", end, high)) if i != -1), default=high)
    token = text[left:right]
    return "@" in token or "://" in token or token.startswith("www.")


def _inside_link(text: str, index: int) -> bool:
    opened = text.rfind("[", max(0, index - _NEAR), index)
    return opened != -1 and text.rfind("]", opened, index) == -1


class Composer:
    """Renders answers from the templates in app/answer/templates."""

    def __init__(self, glossary: Glossary, url_for: Callable[[str], str], spotter: Spotter, templates: Path = TEMPLATES):
        self.glossary = glossary
        self.url_for = url_for
        self.spotter = spotter
        self.env = Environment(
            loader=FileSystemLoader(str(templates)),
            autoescape=False,  # Markdown out; user text goes through `md_escape`, HTML is sanitized after
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["md_escape"] = escape_markdown
        # A summary is plain text on the pages, so it is plain text in answers too (never Markdown).
        self.env.filters["md_inline"] = lambda text: escape_markdown(text).removeprefix("\\") if text else text
        self.env.filters["first_sentences"] = first_sentences
        self.env.filters["cell"] = table_cell

    def compose(self, intent: str, **context) -> tuple[str, list[str]]:
        """Render one intent's template; return the Markdown and the linked slugs, most relevant first."""
        linker = Linker(self.glossary, self.url_for, self.spotter)
        template = self.env.get_template(f"{intent}.md.j2")
        markdown = template.render(
            link=linker.link,
            autolink=linker.autolink,
            unlinked=linker.unlinked,
            term=self.glossary.terms.__getitem__,
            FOCUS=FOCUS,
            ALTERNATIVE=ALTERNATIVE,
            RELATED=RELATED,
            MENTION=MENTION,
            **context,
        )
        markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"
        return markdown, linker.terms()


def audience_sections(term: Term, audience: str | None) -> list[tuple[str, str]]:
    """The audience sections to show: the asker's only, or both when we do not know who asks."""
    keys = [audience] if audience in AUDIENCES else list(AUDIENCES)
    return [(SECTION_TITLES[k], term.section(k)) for k in keys if term.section(k)]
