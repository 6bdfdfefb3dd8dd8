"""Choosing where a model runs: backend (onnxruntime or torch) and device (CPU or CUDA).

``auto`` means "CUDA when this machine can use it, else CPU", decided by asking the runtime that
will actually run the model, so an ``onnxruntime`` CPU wheel on a GPU machine stays on CPU instead
of failing at the first batch. An explicit ``cuda`` that cannot be honoured fails at start.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

import onnxruntime as ort

from stream_guard.exceptions import GuardError
from stream_guard.models.cpus import cpu_budget

Backend = Literal["onnx", "torch"]
Device = Literal["cpu", "cuda"]

_TRT = "TensorrtExecutionProvider"
_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"


class DeviceUnavailableError(GuardError, RuntimeError):
    """The settings ask for a backend or device this installation cannot provide."""


def torch_installed() -> bool:
    """torch and transformers, without importing either (importing torch costs seconds)."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))


def resolve_backend(backend: str) -> Backend:
    """``auto`` is onnxruntime: it is always installed and is the faster runtime on CPU."""
    if backend in ("auto", "onnx"):
        return "onnx"
    if backend == "torch":
        if not torch_installed():
            raise DeviceUnavailableError(
                "backend=torch needs torch and transformers: pip install -e '.[torch]' in the "
                "checkout")
        return "torch"
    raise DeviceUnavailableError(f"unknown backend {backend!r} (expected auto, onnx or torch)")


def resolve_device(device: str, backend: Backend) -> Device:
    if device not in ("auto", "cpu", "cuda"):
        raise DeviceUnavailableError(f"unknown device {device!r} (expected auto, cpu or cuda)")
    if device == "cpu":
        return "cpu"
    has_cuda = _ort_has_cuda() if backend == "onnx" else _torch_has_cuda()
    if has_cuda:
        return "cuda"
    if device == "cuda":
        what = ("onnxruntime cannot run on CUDA here (no onnxruntime-gpu, no GPU, or a "
                "wheel built for another CUDA major than this machine's: see "
                "docs/deployment.md, GPU)"
                if backend == "onnx" else "torch.cuda.is_available() is False")
        raise DeviceUnavailableError(f"device=cuda requested but {what}")
    return "cpu"


def ort_providers(device: Device, cache_dir: Path, *, inputs: list[str], max_batch: int,
                  max_length: int) -> list[str | tuple[str, dict[str, Any]]]:
    """Execution providers in preference order; later ones take the nodes earlier ones refuse.

    TensorRT gets an explicit shape profile (1x1 up to ``max_batch`` x ``max_length``): without
    one it rebuilds its engine, for minutes, each time a batch exceeds the shapes seen so far.
    """
    if device == "cpu":
        return [_CPU]
    providers: list[str | tuple[str, dict[str, Any]]] = []
    if _TRT in _ort_gpu_providers():
        engines = cache_dir / "tensorrt"
        engines.mkdir(parents=True, exist_ok=True)

        def shapes(batch: int, length: int) -> str:
            return ",".join(f"{name}:{batch}x{length}" for name in inputs)

        providers.append((_TRT, {
            "trt_fp16_enable": True, "trt_engine_cache_enable": True,
            "trt_engine_cache_path": str(engines),
            "trt_profile_min_shapes": shapes(1, 1),
            "trt_profile_opt_shapes": shapes(max(1, max_batch // 4), min(max_length, 128)),
            "trt_profile_max_shapes": shapes(max_batch, max_length)}))
    providers += [_CUDA, _CPU]
    return providers


@functools.cache
def _ort_gpu_providers() -> frozenset[str]:
    """The GPU providers (TensorRT, CUDA) a session here really gets.

    onnxruntime-gpu lists its providers wherever it is installed, GPU or not, and a session
    asked for one it cannot load (no GPU, a wheel built for another CUDA major, no TensorRT
    libraries in a cuDNN image) falls back to the next without an error: a review saw the
    CUDA 13 wheel on a CUDA 12 image serve from the CPU while the server said "cuda". A
    session of one node says what was loaded; the answer holds for the process's life.
    """
    listed = [p for p in (_TRT, _CUDA) if p in ort.get_available_providers()]
    if not listed:
        return frozenset()
    from onnx import TensorProto, helper

    value = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in "xy"]
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe",
                              value[:1], value[1:])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              ir_version=8)
    options = ort.SessionOptions()
    options.log_severity_level = 4  # the provider that fails to load is the answer, not news
    try:
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=[*listed, _CPU])
    except Exception:  # onnxruntime raises its own untyped errors
        return frozenset()
    return frozenset(session.get_providers()) & {_TRT, _CUDA}


def _ort_has_cuda() -> bool:
    return _CUDA in _ort_gpu_providers()


def _torch_has_cuda() -> bool:
    import torch  # lazy: only the torch backend pays for importing it

    return bool(torch.cuda.is_available())


def runtime_threads(requested: int) -> int:
    """Intra-op threads to ask a runtime for: ``requested``; for 0 (the runtime's choice) the
    CPU budget where it is below the host's cores, else 0 (the runtime's own choice)."""
    if requested:
        return requested
    budget = cpu_budget()
    return budget if budget < (os.cpu_count() or budget) else 0


def model_instances(requested: int, device: Device, threads: int,
                    cpus: int) -> tuple[int, int]:
    """How many model batches run at once (the scheduler's instances) and the intra-op threads
    to ask the runtimes for, from the settings' ``model_instances`` and ``intra_op_threads``
    (0: auto), the device the models run on and the CPUs this process may use
    (:func:`~stream_guard.models.cpus.cpu_budget`).

    Auto is the configuration measured: two instances on a CPU where the process may use two
    or three CPUs and the runtime's threads are auto, each run then on one thread of its own
    (no pool): one window's pair gains little from a second thread (the shipped detector, 104
    tokens: 31 ms on one thread, 24 on two, 2 cores) while two windows that meet no longer
    wait for each other (docs/benchmarks-log.md, the fifty-seventh session). Elsewhere one,
    unless asked: the instances share each model's one session, and so, with more threads,
    its thread pool, which is not measured; threads the settings fix (a pod's CPU request, a
    worker's share) are kept; a GPU runs one batch at a time."""
    auto = device == "cpu" and not threads and 2 <= cpus <= 3
    instances = requested or (2 if auto else 1)
    if device == "cpu" and instances > 1 and not threads:
        threads = max(1, cpus // instances)
    return instances, threads
