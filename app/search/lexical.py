"""Lexical retrieval: BM25 over term documents and fuzzy matching of names for spelling slips."""

from __future__ import annotations

import logging
import math

import bm25s
import numpy as np
from rapidfuzz import fuzz, process

from app.glossary.model import Glossary
from app.search.spotter import normalize_with_map
from app.search.text import STOPWORDS, tokenize


# bm25s logs an INFO line per index build; the service logs its own.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class Bm25:
    """BM25 over one token list per term, as an inverted index (bm25s): a query reads only the
    posting lists of its own tokens, so its cost does not grow with every term added. ATIRE's
    idf (log N/n) keeps the scores on the scale of the Okapi BM25 the fusion weights were tuned with.

    Terms in `apart` (the imported ones) get an index of their own: idf and average length are corpus
    statistics, and a thousand short imported definitions would otherwise reweigh every word of the
    curated terms (a curated term's score must not change because a glossary was imported)."""

    def __init__(self, documents: dict[str, list[str]], apart: set[str] | frozenset[str] = frozenset()):
        groups = ({s: d for s, d in documents.items() if s not in apart}, {s: d for s, d in documents.items() if s in apart})
        self._parts = [_Bm25Part(group) for group in groups if group]

    def scores(self, query: str) -> dict[str, float]:
        """The raw BM25 score per term that shares a word with `query`."""
        tokens = tokenize(query)
        found: dict[str, float] = {}
        for part in self._parts:
            found.update(part.scores(tokens))
        return found

    def relative_scores(self, query: str, saturation: float) -> dict[str, float]:
        """Scores in 0-1: each index's best match gets top/(top + saturation), so a weak best match stays
        weak, and the rest in proportion; each index against its own best, as their raw scales differ."""
        tokens = tokenize(query)
        found: dict[str, float] = {}
        for part in self._parts:
            raw = part.scores(tokens)
            if raw:
                top = max(raw.values())
                found.update({slug: value / (top + saturation) for slug, value in raw.items()})
        return found


class _Bm25Part:
    """One bm25s index over a set of term documents."""

    def __init__(self, documents: dict[str, list[str]]):
        self.slugs = sorted(documents)
        self._bm25 = bm25s.BM25(k1=1.5, b=0.75, method="atire")
        self._bm25.index([documents[s] or ["_"] for s in self.slugs], show_progress=False)

    def scores(self, tokens: list[str]) -> dict[str, float]:
        ids = self._bm25.get_tokens_ids(tokens)
        if not ids:
            return {}
        raw = self._bm25.get_scores_from_ids(ids)
        found = np.flatnonzero(raw > 0)
        slugs = self.slugs
        return dict(zip([slugs[i] for i in found.tolist()], raw[found].tolist()))


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
        # Blocks of keys by (first letter, length) and (last letter, length): a near miss of a name keeps
        # its first or its last letter and has a similar length, so a query compares itself with a few
        # blocks instead of every name in the glossary.
        blocks: dict[tuple[str, str, int], list[int]] = {}
        for i, key in enumerate(self.keys):
            blocks.setdefault(("first", key[0], len(key)), []).append(i)
            blocks.setdefault(("last", key[-1], len(key)), []).append(i)
        self._blocks = blocks

    def _candidates(self, gram: str) -> list[int]:
        """Keys in the blocks a near miss of `gram` can be in (fuzz.ratio >= c bounds the length)."""
        c = self.cutoff / 100.0
        n = len(gram)
        lengths = range(math.ceil(n * c / (2 - c)), math.floor(n * (2 - c) / c) + 1)
        found: list[int] = []
        for length in lengths:
            found.extend(self._blocks.get(("first", gram[0], length), ()))
            found.extend(self._blocks.get(("last", gram[-1], length), ()))
        return found

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
        candidates = sorted({k for gram in grams for k in self._candidates(gram)})
        if not candidates:
            return {}
        keys = [self.keys[k] for k in candidates]
        matrix = process.cdist(grams, keys, scorer=fuzz.ratio, score_cutoff=self.cutoff, workers=1)
        best: dict[str, tuple[float, str, str]] = {}
        for gi, ki in zip(*np.nonzero(matrix)):
            score = float(matrix[gi, ki]) / 100.0
            key = keys[ki]
            for slug in self.owners[key]:
                if slug not in best or score > best[slug][0]:
                    best[slug] = (score, grams[gi], key)
        return best
