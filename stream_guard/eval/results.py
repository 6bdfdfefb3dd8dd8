"""What every result file records beside its figures, and the helpers that write it: the
machine (:func:`machine_info`), the code's revision (:func:`code_revision`), the command line
(:func:`redacted_command`); the shared ``--data``/``--out`` options, JSON writing and a
micro-benchmark's timing (:func:`best_microseconds`) of the benchmarks and the scripts under
``docs/results``. One description of a run for ``stream-guard
eval``, ``stream-guard train``, the load tools and those scripts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar


def results_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line every script that writes a result JSON from the dev data shares:
    ``--data`` (the records' folder) and ``--out`` (the JSON); its description is the first
    paragraph of ``doc`` (the script's docstring). Scripts add their own options to it."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    return parser


def write_report(path: Path, report: Any) -> None:
    """Write a result (a benchmark's, a docs/results script's) as indented JSON, and show it."""
    text = json.dumps(report, indent=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    print(text)


def read_per_record(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of an ``eval --per-record`` file, by record id."""
    return {row["id"]: row for line in path.read_text().splitlines()
            if line and (row := json.loads(line))}


# The libraries whose versions move the figures a result records (by distribution name).
_MEASURED_PACKAGES = ("numpy", "onnxruntime", "onnxruntime-gpu", "faiss-cpu", "faiss-gpu",
                      "tokenizers", "torch", "websockets", "uvloop", "orjson")


def machine_info() -> dict[str, Any]:
    """What a result ran on, one description for every benchmark and report: the CPU, the
    cores this process may use, the memory, the GPUs, the versions of the libraries that move
    the figures, and how busy the machine was (the load average when asked)."""
    import importlib.metadata

    usable: Callable[[int], set[int]] | None = getattr(os, "sched_getaffinity", None)
    versions = {}
    for dist in _MEASURED_PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    info: dict[str, Any] = {
        "cpu_model": _proc_field("/proc/cpuinfo", "model name")
                     or platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "usable_cpus": len(usable(0)) if usable else None,
        "memory_gb": _memory_gb(), "platform": platform.platform(),
        "python": platform.python_version(), "packages": versions,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        query = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                                "--format=csv,noheader"], capture_output=True, text=True,
                               timeout=10, check=False)
        gpus = [line.strip() for line in query.stdout.splitlines() if line.strip()]
        if query.returncode == 0 and gpus:  # not the failing driver's message
            info["gpus"] = gpus
    except (OSError, subprocess.SubprocessError):
        pass  # no NVIDIA driver: a CPU machine
    return info


def _proc_field(path: str, name: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if line.startswith(name)),
                        None)
    except OSError:
        return None


def _memory_gb() -> float | None:
    total = _proc_field("/proc/meminfo", "MemTotal")  # "131072000 kB"
    return round(int(total.split()[0]) / 2**20, 1) if total else None


def code_revision() -> str | None:
    """The git commit of the stream_guard package being measured, for a result's record (load
    tests, benchmarks, the scripts under docs/results).

    ``$LOADTEST_SERVER_REVISION`` names it when set; then the package's ``REVISION`` file,
    which ``git archive`` fills in (``export-subst`` in ``.gitattributes``: benchmarks run from
    such snapshots, and a package built from one knows it even inside another repository);
    otherwise, in a checkout, git is asked, and a tree with changes to tracked files is marked
    ``-dirty`` (a review: a run of uncommitted code was credited to the commit below it).
    """
    import stream_guard  # the package this process imported, wherever it lies

    if os.environ.get("LOADTEST_SERVER_REVISION"):
        return os.environ["LOADTEST_SERVER_REVISION"]

    where = Path(stream_guard.__file__).resolve().parent
    with contextlib.suppress(OSError):
        exported = (where / "REVISION").read_text(encoding="utf-8").strip()
        if exported and not exported.startswith("$Format"):
            return exported
    try:
        rev = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True)
        changed = subprocess.run(["git", "-C", str(where), "diff-index", "--quiet", "HEAD",
                                  "--"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    head = rev.stdout.strip()
    return (head + "-dirty" if changed.returncode == 1 else head) or None


def redacted_command(argv: Sequence[str]) -> str:
    """The command line as run, with an ``--api-key`` value hidden."""
    out: list[str] = []
    hide = False
    for arg in argv:
        if hide:
            out.append("***")
            hide = False
        elif arg == "--api-key":
            out.append(arg)
            hide = True
        elif arg.startswith("--api-key="):
            out.append("--api-key=***")
        else:
            out.append(arg)
    return shlex.join(out)


_Item = TypeVar("_Item")


def best_microseconds(work: Callable[[_Item], object], items: Sequence[_Item], rounds: int = 5,
                      places: int = 1) -> float:
    """The best of ``rounds`` passes of ``work`` over ``items``, in microseconds an item: the
    cost of a text rule, with the host's noise (another process, a cache) left out."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - started)
    return round(best * 1e6 / len(items), places)
