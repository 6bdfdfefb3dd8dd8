"""Running a tokenised batch through a model: the one interface both backends implement.

Embedders and cross-encoders differ only in what they do before (tokenising) and after (pooling,
softmax) the model, so they hold a :class:`Runner` and never care which runtime is behind it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import onnxruntime as ort

from stream_guard.models.arrays import FloatArray
from stream_guard.models.devices import (
    Device,
    DeviceUnavailableError,
    ort_providers,
    runtime_threads,
)
from stream_guard.models.hf import ModelFormatError
from stream_guard.models.onnx_cache import cached_fp16, load_graph
from stream_guard.models.tokenization import TokenBatch

if TYPE_CHECKING:
    import onnx

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Operators of onnxruntime's dynamic int8 quantization: they scale activations by the range of
# the whole input tensor, so a row's result would depend on the other rows of its batch.
_DYNAMIC_QUANT_OPS = frozenset({"DynamicQuantizeLinear", "DynamicQuantizeMatMul",
                                "MatMulInteger", "DynamicQuantizeLSTM"})


class Runner(Protocol):
    """Runs one padded batch; thread-safe, so a scheduler thread and others may share it."""

    device: Device

    def run(self, batch: TokenBatch) -> FloatArray: ...


class OnnxRunner:
    """An onnxruntime session over an ONNX file, float16 on CUDA.

    On a CPU, a dynamically quantized model (the shipped detector is one) runs one row at a
    time, each without padding: dynamic quantization scales activations by the range of the
    whole batch, so in a padded batch a window's score moved with its neighbours (by up to 0.11
    in probability, 0.03 on average, in a batch of 32 dev pairs: a verdict that depended on
    load). That costs nothing there, since padding to the longest row of a batch costs more than
    the per-call overhead it saves: 7.1 ms a pair row by row against 9.3 ms in padded batches
    of 32 (``loadtest/results/v4/bench-detector-rows.json``, 2 cores). On CUDA batches
    are kept (per-call overhead dominates there); serve a float model on a GPU for scores that
    do not depend on their batch. Row by row is for models with one output row per sequence
    (classifiers); an embedder's token outputs are never run this way.
    """

    def __init__(self, path: Path, *, output: str, device: Device, cache_dir: Path,
                 intra_op_threads: int = 0, max_batch: int = 128, max_length: int = 512,
                 spin: bool = True) -> None:
        """``max_batch``/``max_length`` bound the shapes the runner will see (used to plan
        TensorRT engines on GPUs that have it).

        ``spin=False`` lets the session's threads sleep as soon as a run ends. By default they
        spin a while, waiting for the next run, which pays where runs of one model follow each
        other (the detector, row by row) and costs where another model runs next: its threads
        then share the cores with the spinning ones. The embedder is such a stage (a
        collection stream's window is embedded and searched, then scored by the detector):
        sleeping, it took a window from evidence to score in 31 ms against 39 ms (median, 2
        cores; docs/benchmarks-log.md).
        """
        self.device = device
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        threads = runtime_threads(intra_op_threads)
        if threads:
            options.intra_op_num_threads = threads
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model_path = cached_fp16(path, cache_dir) if device == "cuda" else path
        try:
            graph = load_graph(model_path)
            declared = [i.name for i in graph.input]  # TensorRT's profile needs them
            self.per_row = device == "cpu" and any(
                node.op_type in _DYNAMIC_QUANT_OPS for node in graph.node)
            self._one_row = _fixed_batch(path, graph) == 1
            providers = ort_providers(device, Path(cache_dir), inputs=declared,
                                      max_batch=max_batch, max_length=max_length)
            self._session = ort.InferenceSession(str(model_path), options, providers=providers)
        except ModelFormatError:
            raise
        except Exception as exc:  # onnx/onnxruntime raise their own untyped errors
            raise ModelFormatError(f"{path}: onnxruntime cannot load it ({exc})") from exc
        if device == "cuda" and "CUDAExecutionProvider" not in self._session.get_providers():
            # The probe's session loaded CUDA (devices.resolve_device), this one did not: the
            # model would run on the CPU under a device that says "cuda".
            raise DeviceUnavailableError(f"{path}: onnxruntime did not load the CUDA provider "
                                         f"for it (it got {self._session.get_providers()})")
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
        if len(batch) > 1 and (self.per_row or self._one_row):
            # A graph exported for one row at a time keeps its padding (its outputs may be
            # per token); a quantized classifier's rows go without theirs.
            lengths = (batch.attention_mask.sum(axis=1) if self.per_row
                       else np.full(len(batch), batch.input_ids.shape[1]))
            return np.concatenate([self._run({
                name: getattr(batch, name)[i:i + 1, :int(lengths[i])] for name in self._inputs})
                for i in range(len(batch))])
        return self._run({name: getattr(batch, name) for name in self._inputs})

    def _run(self, feeds: dict[str, np.ndarray]) -> FloatArray:
        result = self._session.run([self._output], feeds)[0]
        return np.asarray(result, dtype=np.float32)


def _fixed_batch(path: Path, graph: onnx.GraphProto) -> int | None:
    """The batch size the graph's inputs fix (None: a dynamic batch axis). A graph exported
    with a batch of one runs row by row; any other fixed size cannot take the batches the
    scheduler forms, and is refused at load rather than failing every batch."""
    sizes = {dims[0].dim_value for dims in (i.type.tensor_type.shape.dim for i in graph.input)
             if dims and dims[0].HasField("dim_value")}
    if not sizes:
        return None
    if sizes != {1}:
        raise ModelFormatError(f"{path}: inputs with a fixed batch size {sorted(sizes)}; export "
                               "it with a dynamic batch axis (or a batch of one)")
    return 1
