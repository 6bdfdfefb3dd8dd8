"""How many CPUs this process may use: what the model runtimes' threads are sized by (and a
``--workers`` supervisor's share for each worker). Standard library only, so the supervisor can
ask without loading a model runtime."""

from __future__ import annotations

import math
import os
from pathlib import Path


def cpu_budget(cgroup: Path = Path("/sys/fs/cgroup"),
               membership: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs this process may use: its affinity, and the smallest CPU quota of its cgroup
    and the cgroups above it (a container's ``cpus: 1.0``, a pod's CPU limit, a systemd
    unit's ``CPUQuota=``) rounded up. Runtimes count the host's cores instead, so a model in a
    1-CPU container on a 32-core host ran 32 spinning threads on one CPU's quota, throttled (a
    review of the deploy files). cgroup v2 (``cpu.max``) and v1 (``cpu.cfs_quota_us``)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quotas = [q for folder, v2 in _cpu_cgroups(cgroup, membership)
              if (q := _quota(folder, v2)) is not None]
    return max(1, min([cpus, *quotas]))


def _cpu_cgroups(root: Path, membership: Path) -> list[tuple[Path, bool]]:
    """The folders of this process's CPU cgroup and of each cgroup above it, with whether they
    are cgroup v2's; the namespace's root where the membership cannot be read."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        lines = []
    found: list[tuple[Path, bool]] = []
    for line in lines:
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        v2 = controllers == ""
        if not v2 and "cpu" not in controllers.split(","):
            continue
        bases = [root] if v2 else list(dict.fromkeys([root / "cpu", root / controllers]))
        parts = [part for part in path.split("/") if part]
        for base in bases:
            found += [(base.joinpath(*parts[:depth]), v2) for depth in range(len(parts), -1, -1)]
    return found or [(root, True), (root / "cpu", False)]


def _quota(folder: Path, v2: bool) -> int | None:
    """The CPUs a cgroup's quota allows, rounded up; None where it sets none."""
    try:
        if v2:  # "QUOTA PERIOD", or "max PERIOD"
            quota, period = (int(f) for f in (folder / "cpu.max").read_text().split()[:2])
        else:
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):  # no such file, "max", or unreadable
        return None
    return math.ceil(quota / period) if quota > 0 and period > 0 else None
