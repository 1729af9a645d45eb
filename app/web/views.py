"""What the pages show, as plain data: term pages, the A–Z list, answers, term cards, examples.

Routes stay thin: they parse the request, call one of these, and hand the result to a template.
Markdown from the glossary goes through app.render.to_html (sanitized) and is marked safe only here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from markupsafe import Markup

from app.answer.compose import Linker
from app.glossary.model import SECTION_TITLES, Term, normalize
from app.render import to_html
from app.resources import Resources
from app.text import AUDIENCES, DOMAINS

STATUSES = {"approved": "Approved", "draft": "Draft", "deprecated": "Deprecated"}
# Stable anchors, so people can link to a term's "our rules" and have the link keep working.
ANCHORS = {"definition": "definition", "procurement": "for-procurement", "it": "for-it", "rules": "our-rules",
           "example": "example"}

# Where to start: one question per kind of answer the assistant gives.
EXAMPLES = [
    "What does SOC 2 mean for us?",
    "What's the difference between an MSA and a SOW?",
    "Do I need three quotes for a $12,000 purchase?",
    "Why did our CRM renew for another year when nobody signed anything?",
    "Explain: the vendor wants a DPA signed and says SSO is only in the Enterprise tier.",
]
EARLIER_SHOWN = 10  # earlier questions a page without JavaScript keeps showing


def parse_audience(value: str | None) -> str | None:
    """'procurement' or 'it'; anything else (including 'both') means both audiences."""
    return value if value in AUDIENCES else None


@dataclass
class SectionView:
    key: str
    anchor: str
    title: str
    html: Markup


@dataclass
class TermLinkView:
    slug: str
    term: str
    url: str
    summary: str = ""
    status: str = "approved"


@dataclass
class OwnerView:
    name: str
    email: str | None = None


@dataclass
class TermPage:
    term: Term
    url: str
    audience: str | None
    domain_label: str
    status_label: str
    summary: str
    sections: list[SectionView]
    related: list[TermLinkView]
    replaced_by: TermLinkView | None
    reviewed: date
    owners: list[OwnerView]
    aliases: list[str]
    references: list[dict]
    tags: list[str] = field(default_factory=list)
    suggest_edit_url: str | None = None


def _link_view(resources: Resources, slug: str) -> TermLinkView | None:
    term = resources.glossary.get(slug)
    if term is None:
        return None
    return TermLinkView(slug, term.term, resources.url_for(slug), term.summary, term.status)


def section_order(audience: str | None) -> list[str]:
    """Definition first, then the asker's own audience section, the other one, our rules, the example."""
    sides = ["it", "procurement"] if audience == "it" else ["procurement", "it"]
    return ["definition", *sides, "rules", "example"]


# Addresses, and the destination (with its title) of a Markdown link: never autolinked inside.
# An e-mail match may only start where a run of address characters starts (the lookbehind), so
# a 40,000-character word is scanned once instead of once per position (that was quadratic).
_ADDRESS = re.compile(r"<?(?:https?://|mailto:)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\]\([^()]*\)")


def autolink_prose(linker: Linker, markdown: str) -> str:
    """Link other glossary terms at their first mention, but never inside an e-mail address or URL."""
    kept: list[str] = []

    def hide(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\ue000{chr(0xE100 + len(kept) - 1)}\ue001"

    linked = linker.autolink(_ADDRESS.sub(hide, markdown))
    return re.sub("\ue000(.)\ue001", lambda m: kept[ord(m.group(1)) - 0xE100], linked)


def _org_section(org: dict, key: str):
    value = (org or {}).get(key)
    return value if isinstance(value, (dict, list)) else {}


def owner_views(org: dict, owners: list[str]) -> list[OwnerView]:
    """Each owning team with its address from the org file (`owner_contacts` names a key of `contacts`)."""
    contacts, routes = _org_section(org, "contacts"), _org_section(org, "owner_contacts")
    out = []
    for name in owners:
        email = contacts.get(routes.get(name, "")) if isinstance(routes, dict) and isinstance(contacts, dict) else None
        out.append(OwnerView(name, email if isinstance(email, str) and "@" in email else None))
    return out


def reference_views(org: dict, term: Term) -> list[dict]:
    """The term's references; one that cites our own policy by name links to the policy when the org file gives a URL."""
    policies = [p for p in _org_section(org, "policies") if isinstance(p, dict)] if isinstance(
        _org_section(org, "policies"), list) else []
    out = []
    for ref in term.references:
        url = ref.url
        if not url:
            for policy in policies:
                name, link = str(policy.get("name", "")), str(policy.get("url", ""))
                if name and ref.label.startswith(name) and re.match(r"^https?://", link):
                    url = link
                    break
        out.append({"label": ref.label, "url": url})
    return out


def suggest_edit_url(template: str, term: Term, owners: list[OwnerView]) -> str | None:
    """Where 'Suggest an edit' goes: the configured URL template or mailto:, else an e-mail to the first owner."""
    path = f"glossary/terms/{term.slug}.md"
    subject = f"Suggested edit: {term.term} ({path})"
    if template.startswith("mailto:"):
        joiner = "&" if "?" in template else "?"
        return f"{template}{joiner}subject={quote(subject)}"
    if template:
        filled = template.replace("{slug}", quote(term.slug)).replace("{path}", quote(path)).replace(
            "{term}", quote(term.term))
        return filled if re.match(r"^https?://", filled) else None
    email = next((o.email for o in owners if o.email), None)
    return f"mailto:{email}?subject={quote(subject)}" if email else None


def section_views(resources: Resources, term: Term, order: tuple[str, ...]) -> tuple[SectionView, ...]:
    """A term's sections in `order` as sanitized HTML; other glossary terms are linked at their first mention."""
    linker = Linker(resources.glossary, resources.url_for, resources.spotter)
    linker.link(term.slug)  # the page's own term: never linked to itself
    sections = []
    for key in order:
        markdown = term.section(key)
        if markdown:
            html = Markup(to_html(autolink_prose(linker, markdown)))
            sections.append(SectionView(key, ANCHORS[key], SECTION_TITLES[key], html))
    return tuple(sections)


def cached_sections(resources: Resources, term: Term, audience: str | None) -> list[SectionView]:
    """The term page's sections, rendered once per glossary load for each order of sections."""
    order = tuple(section_order(audience))
    return list(resources.derived(("term-sections", term.slug, order), lambda: section_views(resources, term, order)))


def term_page(resources: Resources, term: Term, audience: str | None) -> TermPage:
    """Everything the term page shows; other glossary terms are linked at their first mention."""
    sections = cached_sections(resources, term, audience)
    related = [v for v in (_link_view(resources, s) for s in term.related) if v]
    org = resources.glossary.org
    owners = owner_views(org, term.owners)
    return TermPage(
        term=term, url=resources.url_for(term.slug), audience=audience, domain_label=DOMAINS[term.domain],
        status_label=STATUSES[term.status], summary=term.summary, sections=sections, related=related,
        replaced_by=_link_view(resources, term.replaced_by) if term.replaced_by else None,
        reviewed=term.reviewed, owners=owners, aliases=term.aliases,
        references=reference_views(org, term), tags=term.tags,
        suggest_edit_url=suggest_edit_url(resources.settings.suggest_edit_url, term, owners),
    )


@dataclass
class BrowseItem:
    slug: str
    term: str
    url: str
    summary: str
    domain: str
    status: str
    aliases: list[str]
    search: str  # normalized text the filter matches against
    visible: bool


@dataclass
class BrowseGroup:
    letter: str
    items: list[BrowseItem]

    @property
    def visible(self) -> bool:
        return any(i.visible for i in self.items)


def letter_of(name: str) -> str:
    first = normalize(name)[:1].upper()
    return first if first.isalpha() else "#"


def browse(resources: Resources, q: str = "", domain: str = "", status: str = "") -> dict:
    """The A–Z list: every term, grouped by letter, with those outside the filter hidden (not dropped)."""
    needle = normalize(q)
    groups: dict[str, BrowseGroup] = {}
    shown = 0
    for term in sorted(resources.glossary.terms.values(), key=lambda t: normalize(t.term)):
        search = normalize(" ".join([term.term, *term.aliases, term.summary]))
        visible = ((not needle or needle in search) and (domain not in DOMAINS or term.domain == domain)
                   and (status not in STATUSES or term.status == status))
        shown += visible
        item = BrowseItem(term.slug, term.term, resources.url_for(term.slug), term.summary, term.domain,
                          term.status, term.aliases, search, visible)
        groups.setdefault(letter_of(term.term), BrowseGroup(letter_of(term.term), [])).items.append(item)
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + ["#"]
    suggestions = []
    if q and not shown:
        suggestions = [_link_view(resources, c.slug) for c in resources.retriever.rank(q, limit=3).candidates]
    return {
        "groups": [groups[k] for k in letters if k in groups],
        "letters": [(k, k in groups and groups[k].visible) for k in letters],
        "total": len(resources.glossary),
        "shown": shown,
        "q": q,
        "domain": domain if domain in DOMAINS else "",
        "status": status if status in STATUSES else "",
        "suggestions": [s for s in suggestions if s],
    }


def near_terms(resources: Resources, text: str, limit: int = 3) -> list[TermLinkView]:
    """Terms close to a mistyped slug or name, for a helpful 404."""
    words = text.replace("-", " ").strip()
    if not words:
        return []
    ranking = resources.retriever.rank(words[:200], limit=limit)
    return [v for v in (_link_view(resources, c.slug) for c in ranking.candidates) if v]


def term_card(resources: Resources, term: Term, audience: str | None) -> dict:
    """The inline card a linked definition opens: short, sanitized HTML, and a link to the full page.

    Made once per glossary load for each term and audience (a copy is returned: callers may change theirs).
    """
    key = audience if audience in AUDIENCES else None
    return dict(resources.derived(("term-card", term.slug, key), lambda: _term_card(resources, term, key)))


def _term_card(resources: Resources, term: Term, key: str | None) -> dict:
    section_key = key if key and term.section(key) else None
    replaced = resources.glossary.get(term.replaced_by) if term.replaced_by else None
    return {
        "slug": term.slug,
        "term": term.term,
        "status": term.status,
        "status_label": STATUSES[term.status],
        "domain": term.domain,
        "summary": term.summary,
        "definition_html": to_html(term.section("definition")),
        "section_title": SECTION_TITLES[section_key] if section_key else None,
        "section_html": to_html(term.section(section_key)) if section_key else None,
        "rules_html": to_html(term.section("rules")) if term.section("rules") else None,
        "url": resources.url_for(term.slug),
        "replaced_by": {"slug": replaced.slug, "term": replaced.term, "url": resources.url_for(replaced.slug)}
        if replaced else None,
    }
