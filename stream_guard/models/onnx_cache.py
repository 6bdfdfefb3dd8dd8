"""Export a model to ONNX once, keep it in the cache, and load the cached file afterwards.

The file name carries a hash of everything the graph depends on (weights, config, head, builder
version), so a changed model or a new builder never reuses a stale graph, and several workers
starting at once either find the finished file or write their own copy and rename it into place
(the rename is atomic, the copies identical).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import onnx

from stream_guard.models.devices import torch_installed
from stream_guard.models.hf import BERT_LIKE, ModelDir, ModelFormatError
from stream_guard.models.onnx_bert import Head, build_bert_onnx
from stream_guard.models.packaged import sha256_file

# Bump when the graph the builder writes changes, so cached files are rebuilt.
BUILDER_VERSION = 1
_QUANTIZED_OPS = frozenset({"DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul",
                            "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QuantizeLinear"})


def cached_onnx(model: ModelDir, head: Head, cache_dir: Path) -> Path:
    """Path of the model's ONNX graph for ``head``, building or exporting it on first use."""
    if model.weights_file is None:
        raise ModelFormatError(f"{model.path}: no model.safetensors to export")
    builder = "builder" if model.model_type in BERT_LIKE else "torch"
    key = hashlib.sha256(json.dumps({
        "weights": sha256_file(model.weights_file),
        "config": model.config,
        "head": head,
        "via": builder,
        "version": BUILDER_VERSION,
    }, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(cache_dir) / "onnx" / f"{model.name}-{head}-{key}.onnx"
    if path.is_file():
        return path
    if builder == "builder":
        proto = build_bert_onnx(model, head)
    elif torch_installed():
        from stream_guard.models.torch_backend import export_onnx  # lazy: imports torch

        proto = export_onnx(model, head)
    else:
        raise ModelFormatError(
            f"{model.path}: model_type {model.model_type!r} needs torch to be exported to ONNX "
            "(pip install 'stream-guard[torch]'), or run it with backend=torch")
    save_atomic(proto, path)
    return path


def cached_fp16(path: Path, cache_dir: Path) -> Path:
    """A float16 copy of an ONNX graph for CUDA (inputs and outputs keep their types), kept in
    the cache: the source may sit in a read-only install (the shipped detector).

    An int8-quantized graph is returned unchanged: its quantize operators take float32, and it
    was calibrated as it is.
    """
    key = sha256_file(path)[:16]
    target = Path(cache_dir) / "onnx" / f"{path.stem}-{key}-fp16.onnx"
    if target.is_file():
        return target
    proto = onnx.load(str(path))
    if any(node.op_type in _QUANTIZED_OPS for node in proto.graph.node):
        return path
    from onnxruntime.transformers.float16 import convert_float_to_float16

    save_atomic(convert_float_to_float16(proto, keep_io_types=True), target)
    return target


def save_atomic(proto: onnx.ModelProto, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if proto.ByteSize() >= 2**31 - 1:
        raise ModelFormatError(
            f"{path.name}: the model is over 2 GB, beyond what a single ONNX file holds; "
            "run it with backend=torch")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(proto.SerializeToString())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is shared by service users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
