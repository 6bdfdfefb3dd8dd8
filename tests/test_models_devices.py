"""Backend and device choice (this machine has no GPU: the CPU fallbacks and the refusals)."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort
import pytest

from stream_guard.models.cpus import cpu_budget
from stream_guard.models.devices import (
    DeviceUnavailableError,
    model_instances,
    ort_providers,
    resolve_backend,
    resolve_device,
    torch_installed,
)


def test_auto_backend_is_onnxruntime_and_unknown_names_fail() -> None:
    assert resolve_backend("auto") == "onnx"
    with pytest.raises(DeviceUnavailableError, match="unknown backend"):
        resolve_backend("tensorflow")
    with pytest.raises(DeviceUnavailableError, match="unknown device"):
        resolve_device("tpu", "onnx")


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(),
                    reason="this machine has CUDA")
def test_without_cuda_auto_means_cpu_and_cuda_is_refused(tmp_path: Path) -> None:
    assert resolve_device("auto", "onnx") == "cpu"
    with pytest.raises(DeviceUnavailableError, match="onnxruntime-gpu"):
        resolve_device("cuda", "onnx")
    assert ort_providers("cpu", tmp_path, inputs=["input_ids"], max_batch=8,
                         max_length=64) == ["CPUExecutionProvider"]


@pytest.mark.skipif(not torch_installed(), reason="torch not installed")
def test_torch_backend_resolves_when_installed() -> None:
    import torch

    assert resolve_backend("torch") == "torch"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto", "torch") == expected


def test_cuda_provider_order_when_requested(tmp_path: Path) -> None:
    """CUDA first (TensorRT before it when installed, with a full shape profile), CPU last."""
    providers = ort_providers("cuda", tmp_path, inputs=["input_ids", "attention_mask"],
                              max_batch=32, max_length=256)
    names = [p if isinstance(p, str) else p[0] for p in providers]
    assert names[-2:] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if "TensorrtExecutionProvider" in ort.get_available_providers():
        trt = providers[0]
        assert isinstance(trt, tuple)
        assert trt[1]["trt_profile_max_shapes"] == "input_ids:32x256,attention_mask:32x256"


@pytest.mark.parametrize(("files", "expected"), [
    ({"cpu.max": "150000 100000\n"}, 2),  # cgroup v2: 1.5 CPUs, rounded up
    ({"cpu.max": "50000 100000\n"}, 1),
    ({"cpu.max": "max 100000\n"}, None),  # no quota: the affinity
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_the_cpu_budget_is_the_affinity_within_the_cgroups_quota(
        tmp_path: Path, files: dict[str, str], expected: int | None) -> None:
    """A container limited to a CPU on a many-core host: runtimes count the host's cores and
    ran that many threads on one CPU's quota (a review of the deploy files)."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    affinity = len(os.sched_getaffinity(0))
    assert cpu_budget(tmp_path) == min(expected or affinity, affinity)


def test_the_cpu_budget_is_the_smallest_quota_above_the_process(tmp_path: Path) -> None:
    """A quota on the process's own cgroup, or one above it (a systemd unit's CPUQuota=, a
    container run with the host's cgroup namespace), not only at the namespace's root."""
    membership = tmp_path / "membership"
    membership.write_text("0::/system.slice/sg.service\n")
    unit = tmp_path / "system.slice" / "sg.service"
    unit.mkdir(parents=True)
    (unit / "cpu.max").write_text("max 100000\n")
    (tmp_path / "system.slice" / "cpu.max").write_text("100000 100000\n")
    assert cpu_budget(tmp_path, membership) == 1
    membership.write_text("4:cpu,cpuacct:/docker/abc\n")  # cgroup v1
    v1 = tmp_path / "cpu,cpuacct" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "cpu.cfs_quota_us").write_text("150000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_budget(tmp_path, membership) == min(2, len(os.sched_getaffinity(0)))


def test_model_instances_auto_is_two_on_a_cpu_of_two_or_three_one_elsewhere() -> None:
    # auto: two instances of one runtime thread each, where that is what the CPUs give
    assert model_instances(0, "cpu", 0, 2) == (2, 1)
    assert model_instances(0, "cpu", 0, 3) == (2, 1)
    assert model_instances(0, "cpu", 0, 1) == (1, 0)  # one CPU: one instance, runtime's choice
    assert model_instances(0, "cpu", 0, 16) == (1, 0)  # a shared pool: not measured
    assert model_instances(0, "cuda", 0, 2) == (1, 0)  # a GPU runs one batch at a time
    # threads the settings fix (a pod's CPU request, a worker's share) are kept, with one
    # instance unless asked
    assert model_instances(0, "cpu", 1, 2) == (1, 1)
    assert model_instances(0, "cpu", 4, 16) == (1, 4)
    assert model_instances(2, "cpu", 4, 16) == (2, 4)
    # instances the settings ask for are kept, each runtime then sized by its share
    assert model_instances(3, "cpu", 0, 12) == (3, 4)
    assert model_instances(2, "cpu", 0, 16) == (2, 8)
    assert model_instances(2, "cuda", 0, 16) == (2, 0)
