"""Retrieval fusion: exact names, spotted aliases, fuzzy names, BM25 and dense vectors in one ranking."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from app.glossary.model import Glossary, normalize
from app.search.embedder import Embedder
from app.search.index import SearchIndex
from app.search.lexical import Bm25, FuzzyNames
from app.search.spotter import Spot, Spotter
from app.search.text import question_subject

Mode = Literal["fused", "dense", "bm25"]


@dataclass(frozen=True)
class FusionWeights:
    """How much each signal counts; tuned on the dev set (see README, 'Retrieval')."""

    dense: float = 1.0
    bm25: float = 0.35
    exact: float = 0.6
    strong_spot: float = 0.35
    weak_spot: float = 0.12
    fuzzy: float = 0.4
    bm25_saturation: float = 10.0
    spot_words: float = 14.0  # questions up to this many words get the full spot weight
    spot_floor: float = 0.4
    # Priors: on equal evidence a curated, approved term ranks above a draft, and above anything imported
    # and not yet reviewed (status and provenance, see README, 'Retrieval').
    draft_prior: float = 0.04
    imported_prior: float = 0.06
    # Confidence is a logistic curve over the top fused score and its lead over the runner-up.
    conf_center: float = 0.57
    conf_slope: float = 14.0
    conf_margin: float = 0.0


@dataclass
class Candidate:
    slug: str
    score: float = 0.0
    dense: float = 0.0
    bm25: float = 0.0
    fuzzy: float = 0.0
    spotted: str = ""  # "strong", "weak" or ""
    exact: bool = False
    boost: float = 0.0


@dataclass
class Ranking:
    query: str
    candidates: list[Candidate]
    spots: list[Spot] = field(default_factory=list)
    confidence: float = 0.0

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def slugs(self) -> list[str]:
        return [c.slug for c in self.candidates]


class Retriever:
    """Answers 'which terms is this text about?' for one glossary and its index."""

    def __init__(self, glossary: Glossary, index: SearchIndex, embedder: Embedder, weights: FusionWeights | None = None):
        self.glossary = glossary
        self.index = index
        self.embedder = embedder
        self.weights = weights or FusionWeights()
        self.spotter = Spotter(glossary)
        self.bm25 = Bm25(index.lexical, apart={slug for slug, term in glossary.terms.items() if "imported" in term.tags})
        self.fuzzy = FuzzyNames(glossary)
        # Each view's term as a number, and the numbers' slugs: the best view per term is found in numpy.
        self._term_slugs = list(dict.fromkeys(v.slug for v in index.views))
        numbers = {slug: n for n, slug in enumerate(self._term_slugs)}
        self._view_terms = np.array([numbers[v.slug] for v in index.views], dtype=np.int64)
        w = self.weights
        self.priors = {
            slug: -(w.draft_prior if term.status == "draft" else 0.0) - (w.imported_prior if "imported" in term.tags else 0.0)
            for slug, term in glossary.terms.items()
        }

    def embed(self, text: str) -> np.ndarray:
        return self.embedder.encode([text])[0]

    def embed_many(self, texts: list[str]) -> np.ndarray:
        """Embed several texts in one batch (one row each)."""
        return self.embedder.encode(texts)

    def lexical_scores(self, text: str) -> dict[str, float]:
        """The lexical index's raw score per term for `text` (terms that share no word are left out)."""
        return self.bm25.scores(text)

    def dense_scores(self, vector: np.ndarray) -> dict[str, float]:
        """Best cosine per term over all of its views."""
        if not len(self.index.views):
            return {}
        k = min(len(self.index.views), 256)
        sims, ids = self.index.faiss.search(vector.reshape(1, -1).astype(np.float32), k)
        found = ids[0] >= 0
        sims, terms = sims[0][found], self._view_terms[ids[0][found]]
        # FAISS returns the views best first: a term's first view is its best; keep that order.
        first = np.sort(np.unique(terms, return_index=True)[1])
        slugs = self._term_slugs
        return {slugs[t]: sim for t, sim in zip(terms[first].tolist(), sims[first].tolist())}

    def rank(
        self,
        query: str,
        *,
        mode: Mode = "fused",
        vector: np.ndarray | None = None,
        boost: dict[str, float] | None = None,
        limit: int = 10,
    ) -> Ranking:
        """Rank terms for `query`; `boost` adds conversation context, `vector` skips re-embedding."""
        w = self.weights
        cands: dict[str, Candidate] = {}

        def cand(slug: str) -> Candidate:
            found = cands.get(slug)
            if found is None:  # not setdefault: that would build a Candidate on every call
                found = cands[slug] = Candidate(slug)
            return found

        spots: list[Spot] = []
        if mode in ("fused", "dense"):
            vec = vector if vector is not None else self.embed(query)
            cands = {slug: Candidate(slug, dense=sim) for slug, sim in self.dense_scores(vec).items()}
        if mode in ("fused", "bm25"):
            for slug, value in self.bm25.relative_scores(query, w.bm25_saturation).items():
                cand(slug).bm25 = value
        if mode == "fused":
            spots = self.spotter.spot(query)
            for spot in spots:
                for slug in spot.slugs:
                    c = cand(slug)
                    if spot.strong or c.spotted != "strong":
                        c.spotted = "strong" if spot.strong else "weak"
            for slug in self.glossary.by_name.get(normalize(_strip_question(query)), []):
                cand(slug).exact = True
            if len(query) <= 600:
                for slug, (sim, _, _) in self.fuzzy.scores(query).items():
                    cand(slug).fuzzy = sim
        for slug, extra in (boost or {}).items():
            if slug in self.glossary.terms:
                cand(slug).boost = extra

        # A name spotted in a long description is often context ("the data centre operator says…"),
        # not the subject; in a short question it is the subject.
        length_factor = min(1.0, max(w.spot_floor, w.spot_words / max(1, len(query.split()))))
        priors = self.priors
        scored = []
        for c in cands.values():
            c.score = _fused_score(w, c, length_factor) + priors.get(c.slug, 0.0)
            scored.append((-c.score, c.slug, c))  # slugs are unique: candidates themselves are never compared
        scored.sort()
        ordered = [c for _, _, c in scored[:limit]]
        return Ranking(query=query, candidates=ordered, spots=spots, confidence=self.confidence(ordered))

    def confidence(self, ordered: list[Candidate]) -> float:
        """Map the top score and its lead into 0-1 (calibrated on the dev set)."""
        if not ordered:
            return 0.0
        w = self.weights
        top = ordered[0].score
        lead = top - ordered[1].score if len(ordered) > 1 else top
        x = w.conf_slope * (top - w.conf_center) + w.conf_margin * lead
        return 1.0 / (1.0 + math.exp(-x))


def _fused_score(w: FusionWeights, c: Candidate, length_factor: float) -> float:
    """One candidate's fused score: every signal weighted, spots scaled down in long texts (priors added by the caller)."""
    return (
        w.dense * c.dense
        + w.bm25 * c.bm25
        + (w.exact if c.exact else 0.0)
        + length_factor * (w.strong_spot if c.spotted == "strong" else w.weak_spot if c.spotted == "weak" else 0.0)
        + (w.fuzzy * min(1.0, (c.fuzzy - 0.8) / 0.1) if c.fuzzy and not c.spotted else 0.0)
        + c.boost
    )


_strip_question = question_subject  # kept for callers of the old private name
