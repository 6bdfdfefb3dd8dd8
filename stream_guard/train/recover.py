"""Trainable weights back from a shipped detector's ONNX graph, to train on from it.

The repository ships a detector as ``model.onnx`` (int8 for MiniLM), not as torch weights: a
training run's checkpoints live in its work dir, and a work dir does not outlive the machine it
ran on. Without this, more training (a CPU stage, a GPU round's students) would start again from
the base model, hours of CPU away from the detector that serves.

The exporter traces a Hugging Face sequence classifier, so the graph keeps the module path of
every weight: biases and LayerNorm parameters are stored under their state-dict names, and each
quantized matrix feeds a ``MatMulInteger`` node named after its ``Linear`` module
(``/bert/encoder/layer.0/attention/self/query/MatMul_quant``). A matrix is stored as ``[in,
out]``, so it is transposed back, and dequantized as ``(q - zero_point) * scale``. Where the base
model's value falls in the same quantization step as the stored one, the base value is kept: the
trainer freezes the embeddings (so they come back exactly) and most other weights moved less
than a step in fine-tuning, so the base value is the better estimate of where in the step the
trained weight was. The rest keep the step's centre. Every parameter of the classifier must be
found, with its shape, or nothing is written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from stream_guard.models.hf import ModelFormatError

log = logging.getLogger(__name__)

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# The attribute the server's exporter (stream_guard.models.torch_backend.export_onnx) keeps the
# model under, so its weights' names start with it; exports older than the wrapper lack it.
WRAPPER = "inner"


def holds_weights(model_dir: Path) -> bool:
    """Whether ``model_dir`` is a torch checkpoint (Hugging Face layout) rather than an export."""
    return any((model_dir / name).is_file() for name in WEIGHT_FILES)


def _dequantized(graph_tensors: dict[str, np.ndarray], stem: str) -> tuple[np.ndarray, float]:
    """The float values of the quantized initializer ``stem`` and its quantization step."""
    q = graph_tensors[f"{stem}_quantized"].astype(np.float32)
    scale = float(graph_tensors[f"{stem}_scale"])
    zero = float(graph_tensors[f"{stem}_zero_point"])
    return (q - zero) * scale, scale


def graph_state(onnx_path: Path) -> dict[str, tuple[np.ndarray, float]]:
    """State-dict name -> (value, quantization step; 0 for a tensor stored exactly), read from
    an exported classifier's graph (see the module docstring)."""
    import onnx
    from onnx import numpy_helper

    try:
        proto = onnx.load(str(onnx_path))
    except Exception as exc:  # protobuf's DecodeError, and whatever else a broken file raises
        raise ModelFormatError(f"{onnx_path}: not an ONNX graph ({exc})") from None
    tensors = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for node in proto.graph.node:  # the exporter shares one initializer between equal tensors
        if node.op_type == "Identity" and node.input[0] in tensors:  # (a fresh model's zero
            tensors[node.output[0]] = tensors[node.input[0]]  # biases) under their own names

    def exact(name: str) -> tuple[np.ndarray, float]:
        return tensors[name].astype(np.float32), 0.0

    # Parameters stored under their own names; the nodes below, which name the module that uses
    # each tensor, have the last word.
    state = {name: exact(name) for name, value in tensors.items()
             if np.issubdtype(value.dtype, np.floating) and not name.startswith("onnx::")
             and not name.endswith(("_quantized", "_scale", "_zero_point"))}
    for node in proto.graph.node:
        module = ".".join(node.name.strip("/").split("/")[:-1])
        params = [i for i in node.input if i in tensors]
        if node.op_type == "MatMulInteger":  # a Linear's int8 matrix, [in, out]
            value, step = _dequantized(tensors, node.input[1].removesuffix("_quantized"))
            state[f"{module}.weight"] = (np.ascontiguousarray(value.T), step)
        elif node.op_type == "MatMul" and node.input[1] in tensors:  # fp32, [in, out]
            state[f"{module}.weight"] = (np.ascontiguousarray(exact(node.input[1])[0].T), 0.0)
        elif node.op_type == "Gemm" and len(params) == 2:  # fp32 pooler or head
            transposed = any(a.name == "transB" and a.i == 1 for a in node.attribute)
            weight = exact(params[0])[0]
            state[f"{module}.weight"] = (weight if transposed else weight.T.copy(), 0.0)
            state[f"{module}.bias"] = exact(params[1])
        elif node.op_type == "Add" and len(params) == 1 and module:  # a Linear's bias
            state[f"{module}.bias"] = exact(params[0])
        elif node.op_type == "LayerNormalization" and len(params) == 2:
            state[f"{module}.weight"], state[f"{module}.bias"] = map(exact, params)
        elif node.op_type == "Gather" and node.input[0].endswith(".weight_quantized"):
            stem = node.input[0].removesuffix("_quantized")  # an int8 embedding table
            state[f"{module}.weight"] = _dequantized(tensors, stem)
        elif node.op_type == "Gather" and node.input[0] in tensors:  # an fp32 embedding table
            state[f"{module}.weight"] = exact(node.input[0])
    return state


def recover(onnx_path: Path, base_dir: Path, out_dir: Path) -> Path:
    """Write a torch checkpoint of the classifier exported as ``onnx_path`` (a MiniLM-style
    backbone from ``base_dir``) to ``out_dir``, in the layout ``--init-from`` reads."""
    import torch

    from stream_guard.train.crossencoder import load_classifier

    model = load_classifier(base_dir)
    base = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    stored = graph_state(onnx_path)
    recovered: dict[str, torch.Tensor] = {}
    kept_base = moved = 0
    for name, base_value in base.items():
        if name.endswith("position_ids"):  # a buffer, not a weight
            continue
        if name not in stored and f"{WRAPPER}.{name}" not in stored:
            raise ModelFormatError(f"{onnx_path}: no weight for {name}: not an export of a "
                                   f"classifier on {base_dir.name}")
        value, step = stored[name] if name in stored else stored[f"{WRAPPER}.{name}"]
        if value.shape != base_value.shape:
            raise ModelFormatError(f"{onnx_path}: {name} has shape {value.shape}, the base "
                                   f"model's is {base_value.shape}")
        if step > 0 and name.split(".")[0] != "classifier":
            # The extreme steps hold the tensor's own range, from which the quantizer took its
            # scale: they are exact, and keeping them keeps a re-export's steps the same.
            extreme = (value == value.max()) | (value == value.min())
            same_step = (np.abs(base_value - value) <= step / 2 * (1 + 1e-4)) & ~extreme
            kept_base += int(same_step.sum())
            moved += int((~same_step).sum())
            value = np.where(same_step, base_value, value)
        recovered[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    model.load_state_dict(recovered, strict=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    log.info("recovered %s into %s: %d quantized weights kept the base model's value, %d the "
             "stored step's centre", onnx_path, out_dir, kept_base, moved)
    return out_dir
