"""What curators need: gaps grouped by similarity, draft term stubs, glossary health."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
import yaml

from app.glossary.loader import load_glossary
from app.glossary.model import Glossary
from app.search.embedder import Embedder
from app.search.text import STOPWORDS
from app.text import slugify

SIMILAR = 0.72  # cosine at which two gap questions count as the same missing term


@dataclass
class GapGroup:
    questions: list[str]
    count: int
    last_seen: datetime
    suggestions: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.questions[0]


def group_gaps(rows, embedder: Embedder, limit: int = 1000) -> list[GapGroup]:
    """Group unanswered/low-confidence questions whose wording means the same, busiest first."""
    rows = [r for r in rows if r.question][:limit]
    if not rows:
        return []
    vectors = embedder.encode([r.question for r in rows])
    groups: list[tuple[np.ndarray, GapGroup]] = []
    for row, vec in zip(rows, vectors):
        seen = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
        for i, (centroid, group) in enumerate(groups):
            if float(centroid @ vec) >= SIMILAR:
                if row.question not in group.questions:
                    group.questions.append(row.question)
                group.count += 1
                group.last_seen = max(group.last_seen, seen)
                group.suggestions = list(dict.fromkeys(group.suggestions + list(row.suggestions or [])))[:5]
                merged = centroid * (group.count - 1) + vec
                groups[i] = (merged / max(float(np.linalg.norm(merged)), 1e-9), group)
                break
        else:
            groups.append((vec, GapGroup([row.question], 1, seen, list(row.suggestions or [])[:5])))
    return sorted((g for _, g in groups), key=lambda g: (-g.count, -g.last_seen.timestamp()))


_QUOTED = re.compile(r"['\"“‘]([^'\"”’]{3,60})['\"”’]")
_CAPS = re.compile(r"\b([A-Z][A-Za-z0-9&-]+(?:\s+[A-Z][A-Za-z0-9&-]+)*)\b")


def guess_name(question: str) -> str:
    """A first guess at the missing term's name, for the curator to correct."""
    quoted = _QUOTED.search(question)
    if quoted:
        return quoted.group(1).strip()
    caps = [m.group(1) for m in _CAPS.finditer(question) if m.start() > 0 and m.group(1).lower() not in STOPWORDS]
    if caps:
        return max(caps, key=len)
    words = [w for w in re.findall(r"[A-Za-z0-9-]+", question) if w.lower() not in STOPWORDS]
    return " ".join(words[:3]).capitalize() or "New term"


def stub_slug(name: str) -> str:
    """The slug of a drafted term ('new-term' when the name has no letters or digits)."""
    return slugify(name, "new-term")


def stub_markdown(group: GapGroup, today: date | None = None) -> str:
    """A draft term file in the glossary format, with the questions that asked for it."""
    name = guess_name(group.title)
    front = {
        "term": name, "slug": stub_slug(name), "aliases": [], "domain": "shared",
        "summary": "TODO: one plain sentence a newcomer understands.", "status": "draft",
        "related": list(group.suggestions[:3]), "owners": ["Glossary curators"],
        "reviewed": (today or date.today()).isoformat(), "references": [], "tags": ["from-gaps"],
        "questions": group.questions[:5],
    }
    body = "\n\n".join(f"## {h}\nTODO: to be written by the curators." for h in
                       ("Definition", "For procurement", "For IT", "Our rules", "Example"))
    note = f"# Draft from the gaps view: asked {group.count} time(s), last on {group.last_seen:%Y-%m-%d}.\n"
    return f"---\n{note}{yaml.safe_dump(front, sort_keys=False, allow_unicode=True)}---\n{body}\n"


@dataclass
class Health:
    problems: list[str]
    stale: list[tuple[str, str, date]]
    never_linked: list[str]
    most_asked: list[tuple[str, int]]
    terms: int


def glossary_health(glossary_dir, glossary: Glossary, store, max_age_days: int, today: date | None = None) -> Health:
    """Check results, stale reviews, terms no answer ever linked, and the most asked terms."""
    result = load_glossary(glossary_dir)
    cutoff = (today or date.today()) - timedelta(days=max_age_days)
    stale = sorted(((t.slug, t.term, t.reviewed) for t in glossary.terms.values() if t.reviewed < cutoff),
                   key=lambda x: x[2])
    counts = store.term_counts() if store is not None else {}
    linked = store.linked_terms() if store is not None else set()
    never = sorted(s for s in glossary.terms if s not in linked)
    most = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    return Health([str(p) for p in result.problems], stale, never, most, len(glossary))
