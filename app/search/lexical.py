"""Lexical retrieval: BM25 over term documents and fuzzy matching of names for spelling slips."""

from __future__ import annotations

import numpy as np
from rank_bm25 import BM25Okapi
from rapidfuzz import fuzz, process

from app.glossary.model import Glossary
from app.search.spotter import normalize_with_map
from app.search.text import STOPWORDS, tokenize


class Bm25:
    """BM25 over one token list per term."""

    def __init__(self, documents: dict[str, list[str]]):
        self.slugs = sorted(documents)
        self._bm25 = BM25Okapi([documents[s] or ["_"] for s in self.slugs]) if self.slugs else None

    def scores(self, query: str) -> dict[str, float]:
        tokens = tokenize(query)
        if not tokens or self._bm25 is None:
            return {}
        raw = self._bm25.get_scores(tokens)
        return {self.slugs[i]: float(raw[i]) for i in np.nonzero(raw > 0)[0]}


class FuzzyNames:
    """Match word n-grams of a question against names and aliases, for typos like 'firwall'."""

    MIN_CHARS = 5

    def __init__(self, glossary: Glossary, cutoff: float = 85.0):
        self.cutoff = cutoff
        # Words the glossary itself uses: an n-gram made only of these is a real phrase, not a typo.
        self.vocabulary: set[str] = set(STOPWORDS)
        for term in glossary.terms.values():
            text = " ".join([*term.names, term.summary, *term.sections.values(), *term.questions])
            self.vocabulary.update(normalize_with_map(text)[0].split())
        owners: dict[str, list[str]] = {}
        for slug, term in glossary.terms.items():
            for name in term.names:
                key = normalize_with_map(name)[0].strip()
                if len(key) >= self.MIN_CHARS:
                    owners.setdefault(key, [])
                    if slug not in owners[key]:
                        owners[key].append(slug)
        self.keys = list(owners)
        self.owners = owners

    def scores(self, query: str, max_words: int = 80) -> dict[str, tuple[float, str, str]]:
        """Return {slug: (similarity 0-1, matched text, alias)} for near misses of a name."""
        words = normalize_with_map(query)[0].split()[:max_words]
        grams = []
        for n in (1, 2, 3, 4):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                    continue
                if all(word in self.vocabulary for word in gram):
                    continue  # spelled right: exact matching (the spotter) covers it
                text = " ".join(gram)
                if len(text) >= self.MIN_CHARS:
                    grams.append(text)
        if not grams or not self.keys:
            return {}
        grams = list(dict.fromkeys(grams))
        matrix = process.cdist(grams, self.keys, scorer=fuzz.ratio, score_cutoff=self.cutoff, workers=1)
        best: dict[str, tuple[float, str, str]] = {}
        for gi, ki in zip(*np.nonzero(matrix)):
            score = float(matrix[gi, ki]) / 100.0
            key = self.keys[ki]
            for slug in self.owners[key]:
                if slug not in best or score > best[slug][0]:
                    best[slug] = (score, grams[gi], key)
        return best
