"""Composition: jinja2 templates (one per intent, kept as files) turn chosen terms into a linked answer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.answer import point
from app.glossary.model import SECTION_TITLES, Glossary, Term
from app.render import escape_markdown, more_marker
from app.search.spotter import Spotter
from app.text import AUDIENCES, first_sentences

__all__ = ["AUDIENCES", "Composer", "Linker", "audience_sections", "first_sentences"]

TEMPLATES = Path(__file__).parent / "templates"

# Where a linked term stands in `terms`: what the answer is about first, incidental mentions last.
FOCUS, ALTERNATIVE, RELATED, MENTION = 0, 1, 2, 3
# Links an answer adds by itself to glossary words in running text: a few that help, not every known word.
MAX_AUTOLINKS = 4
_EVERYDAY = re.compile(r"^[a-z]+$")  # one plain lower-case word ("invoice", "availability"), not SSO, SaaS, Kubernetes or auto-renewal


def table_cell(markdown: str) -> str:
    """Fit a section into one Markdown table cell."""
    return " ".join(markdown.split()).replace("|", "\\|")


class Linker:
    """Links each term once per answer and remembers which terms the answer named, by importance."""

    def __init__(self, glossary: Glossary, url_for: Callable[[str], str], spotter: Spotter, *,
                 max_autolinks: int | None = None, skip_everyday: bool = False):
        self.glossary = glossary
        self.url_for = url_for
        self.spotter = spotter
        self.max_autolinks = max_autolinks
        self.skip_everyday = skip_everyday
        self.autolinked = 0
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
            if self.skip_everyday and _EVERYDAY.match(spot.surface):
                continue  # an everyday word: a link would only distract
            if self.max_autolinks is not None and self.autolinked >= self.max_autolinks:
                break
            self.autolinked += 1
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


def md_inline(text: str) -> str:
    """A summary in an answer: plain text, as on the pages (never Markdown of its own)."""
    return escape_markdown(text).removeprefix("\\") if text else text


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
        self.env.filters["md_inline"] = md_inline
        self.env.filters["first_sentences"] = first_sentences
        self.env.filters["cell"] = table_cell

    def compose(self, intent: str, **context) -> tuple[str, list[str]]:
        """Render one intent's template; return the Markdown and the linked slugs, most relevant first."""
        linker = Linker(self.glossary, self.url_for, self.spotter, max_autolinks=MAX_AUTOLINKS, skip_everyday=True)
        template = self.env.get_template(f"{intent}.md.j2")
        context.setdefault("question", "")
        question = context["question"]
        markdown = template.render(
            link=linker.link,
            autolink=linker.autolink,
            unlinked=linker.unlinked,
            term=self.glossary.terms.__getitem__,
            more=more_marker,
            direct=lambda t, audience: point.direct_answer(md_inline(t.summary), t.section(audience) if audience else "",
                                                           question),
            verdict=lambda t: point.verdict(question, t.section("rules")),
            rules_touched=lambda found: rules_touched(found, question),
            FOCUS=FOCUS,
            ALTERNATIVE=ALTERNATIVE,
            RELATED=RELATED,
            MENTION=MENTION,
            **context,
        )
        markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"
        return markdown, linker.terms()


def rules_touched(found: list[dict], text: str) -> list[dict]:
    """Our rules that a pasted text touches: each term's first rule sentence, and where the text's numbers differ."""
    out = []
    for item in found:
        rules = item["term"].section("rules")
        if not rules:
            continue
        found_conflicts = point.conflicts(text, item["at"], rules) if item.get("surface") is not None else []
        # Where the text goes past our rule, quote the sentence that says so; else the rule's first sentence.
        rule = found_conflicts[0][1] if found_conflicts else first_sentences(rules)
        out.append({"term": item["term"], "rule": rule, "conflicts": [note for note, _ in found_conflicts]})
    # Conflicts first: they are what the reader has to act on.
    return sorted(out, key=lambda r: not r["conflicts"])


def audience_sections(term: Term, audience: str | None) -> list[tuple[str, str]]:
    """The audience sections to show: the asker's only, or both when we do not know who asks."""
    keys = [audience] if audience in AUDIENCES else list(AUDIENCES)
    return [(SECTION_TITLES[k], term.section(k)) for k in keys if term.section(k)]
