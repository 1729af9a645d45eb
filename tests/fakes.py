"""Test doubles that are not the thing under test: a deterministic embedder."""

from __future__ import annotations

import hashlib

import numpy as np

from app.search.text import tokenize


class FakeEmbedder:
    """Hashes stemmed words and character trigrams into a unit vector: similar words, similar vectors."""

    model_id = "fake-hash-embedder"
    dim = 384

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text):
            for feature in [token] + [token[i : i + 3] for i in range(max(1, len(token) - 2))]:
                h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                vec[h % self.dim] += 1.0 if feature == token else 0.3
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
