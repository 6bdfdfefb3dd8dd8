"""Running a tokenised batch through a model: the one interface both backends implement.

Embedders and cross-encoders differ only in what they do before (tokenising) and after (pooling,
softmax) the model, so they hold a :class:`Runner` and never care which runtime is behind it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import onnx
import onnxruntime as ort

from stream_guard.models.arrays import FloatArray
from stream_guard.models.devices import Device, ort_providers
from stream_guard.models.hf import ModelFormatError
from stream_guard.models.onnx_cache import cached_fp16
from stream_guard.models.tokenization import TokenBatch

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Runner(Protocol):
    """Runs one padded batch; thread-safe, so a scheduler thread and others may share it."""

    device: Device

    def run(self, batch: TokenBatch) -> FloatArray: ...


class OnnxRunner:
    """An onnxruntime session over an ONNX file, float16 on CUDA."""

    def __init__(self, path: Path, *, output: str, device: Device, cache_dir: Path,
                 intra_op_threads: int = 0, max_batch: int = 128, max_length: int = 512) -> None:
        """``max_batch``/``max_length`` bound the shapes the runner will see (used to plan
        TensorRT engines on GPUs that have it)."""
        self.device = device
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if intra_op_threads:
            options.intra_op_num_threads = intra_op_threads
        model_path = cached_fp16(path, cache_dir) if device == "cuda" else path
        try:
            # Input names only matter for TensorRT's profile; skip the parse on CPU.
            declared = ([i.name for i in onnx.load(str(model_path)).graph.input]
                        if device == "cuda" else [])
            providers = ort_providers(device, Path(cache_dir), inputs=declared,
                                      max_batch=max_batch, max_length=max_length)
            self._session = ort.InferenceSession(str(model_path), options, providers=providers)
        except Exception as exc:  # onnx/onnxruntime raise their own untyped errors
            raise ModelFormatError(f"{path}: onnxruntime cannot load it ({exc})") from exc
        names = {i.name for i in self._session.get_inputs()}
        unknown = names - set(_INPUTS)
        if unknown or "input_ids" not in names:
            raise ModelFormatError(
                f"{path}: model inputs {sorted(names)}; expected input_ids and optionally "
                "attention_mask, token_type_ids")
        self._inputs = [n for n in _INPUTS if n in names]
        outputs = [o.name for o in self._session.get_outputs()]
        if output not in outputs:
            raise ModelFormatError(f"{path}: no {output!r} output (it has {outputs})")
        self._output = output

    def run(self, batch: TokenBatch) -> FloatArray:
        feeds = {name: getattr(batch, name) for name in self._inputs}
        result = self._session.run([self._output], feeds)[0]
        return np.asarray(result, dtype=np.float32)
