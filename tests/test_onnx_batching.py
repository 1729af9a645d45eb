"""The ONNX embedder encodes many texts in bounded, length-sorted batches, in the caller's order."""

from __future__ import annotations

import numpy as np

from app.config import Settings
from app.search import onnx_embedder
from app.search.onnx_embedder import OnnxEmbedder, packaged_onnx_file


def test_many_texts_are_batched_and_keep_their_order(monkeypatch):
    # The packaged file computes in fp32, so a text's vector does not depend on its batch; the int8
    # model scales activations per run (its batched quality is checked in tests/test_model.py).
    embedder = OnnxEmbedder(Settings().resolved_model_path(), packaged_onnx_file())
    texts = [("word " * n).strip() + f" {n}" for n in (40, 1, 7, 3, 25, 2, 60, 5, 11)]
    one_by_one = np.stack([embedder.encode([t])[0] for t in texts])
    runs = []
    real = embedder._encode
    monkeypatch.setattr(onnx_embedder, "BATCH", 4)
    monkeypatch.setattr(embedder, "_encode", lambda chunk: runs.append(len(chunk)) or real(chunk))
    batched = embedder.encode(texts)
    assert runs == [4, 4, 1]
    assert batched.shape == (len(texts), 384) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, one_by_one, atol=2e-3)
