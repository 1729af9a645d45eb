"""What curators need: gaps grouped by similarity, draft term stubs, glossary health."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
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


def normalize_question(text: str) -> str:
    """The wording that counts as the same question: case, spacing and closing punctuation ignored."""
    return " ".join(text.casefold().split()).rstrip("?!. ")


class GapEmbeddings:
    """Vectors of gap questions kept between views, so each distinct question is embedded once
    (every view re-embedded the newest 1,000 rows: 30 s with long questions)."""

    def __init__(self, max_items: int = 20000) -> None:
        self.max_items = max_items
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, embedder: Embedder, texts: list[str]) -> np.ndarray:
        model = getattr(embedder, "model_id", type(embedder).__name__)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if (model, t) not in self._vectors))
        if missing:
            encoded = embedder.encode([t[:MAX_GAP_CHARS] for t in missing])
            with self._lock:
                for text, vec in zip(missing, encoded):
                    self._vectors[(model, text)] = np.asarray(vec, dtype=np.float32)
                while len(self._vectors) > self.max_items:
                    self._vectors.popitem(last=False)
        with self._lock:
            out = []
            for text in texts:
                self._vectors.move_to_end((model, text))
                out.append(self._vectors[(model, text)])
        return np.stack(out) if out else np.zeros((0, getattr(embedder, "dim", 1)), np.float32)


MAX_GAP_CHARS = 500  # a question longer than this is embedded by its start (it is stored whole)


def group_gaps(entries, embedder: Embedder, cache: GapEmbeddings | None = None) -> list[GapGroup]:
    """Group gap questions whose wording means the same, busiest first.

    `entries` are (question, count, last_seen, suggestions), one per distinct question (Store.gap_counts):
    same wording is merged first, then questions whose embeddings are close.
    """
    merged: dict[str, GapGroup] = {}
    for question, count, seen, suggestions in entries:
        if not question:
            continue
        seen = seen if seen.tzinfo else seen.replace(tzinfo=timezone.utc)
        key = normalize_question(question)
        group = merged.get(key)
        if group is None:
            merged[key] = GapGroup([question], count, seen, list(suggestions or [])[:5])
        else:
            group.count += count
            group.last_seen = max(group.last_seen, seen)
            group.suggestions = list(dict.fromkeys(group.suggestions + list(suggestions or [])))[:5]
    if not merged:
        return []
    items = sorted(merged.values(), key=lambda g: (-g.count, -g.last_seen.timestamp()))
    vectors = (cache or GapEmbeddings()).vectors(embedder, [g.title for g in items])
    centroids = np.zeros_like(vectors)
    weights: list[int] = []
    groups: list[GapGroup] = []
    for item, vec in zip(items, vectors):
        if groups:
            sims = centroids[: len(groups)] @ vec
            best = int(np.argmax(sims >= SIMILAR)) if float(sims.max()) >= SIMILAR else -1
        else:
            best = -1
        if best < 0:
            centroids[len(groups)] = vec
            weights.append(item.count)
            groups.append(item)
            continue
        group = groups[best]
        group.questions.append(item.title)
        group.count += item.count
        group.last_seen = max(group.last_seen, item.last_seen)
        group.suggestions = list(dict.fromkeys(group.suggestions + item.suggestions))[:5]
        total = centroids[best] * weights[best] + vec * item.count
        weights[best] += item.count
        centroids[best] = total / max(float(np.linalg.norm(total)), 1e-9)
    return sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp()))


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
        # One line each: a question holding "\n---\n" ended the front matter early.
        "questions": [" ".join(q.split())[:MAX_GAP_CHARS] for q in group.questions[:5]],
    }
    body = "\n\n".join(f"## {h}\nTODO: to be written by the curators." for h in
                       ("Definition", "For procurement", "For IT", "Our rules", "Example"))
    note = f"# Draft from the gaps view: asked {group.count} time(s), last on {group.last_seen:%Y-%m-%d}.\n"
    front_text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=10**9)
    return f"---\n{note}{front_text}---\n{body}\n"


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
