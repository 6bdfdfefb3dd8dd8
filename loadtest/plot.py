"""The latency picture of one run (matplotlib is an optional extra: ``stream-guard[loadtest]``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def plot_run(path: Path, title: str, timeline: Sequence[tuple[float, float, bool]],
             server_cpu: Sequence[tuple[float, float, float]], t_offset: float) -> bool:
    """Latency over time and its distribution; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, (ax_t, ax_q) = plt.subplots(1, 2, figsize=(13, 4.8))
    for is_halt, color, label in ((False, "#8aa", "verdict"), (True, "#d33", "halt")):
        pts = np.array([(t, lat * 1000) for t, lat, h in timeline if h is is_halt])
        if pts.size:
            ax_t.scatter(pts[:, 0], pts[:, 1], s=3 if not is_halt else 8, c=color, label=label,
                         alpha=0.5 if not is_halt else 0.9, linewidths=0)
            lat = np.sort(pts[:, 1])
            q = np.arange(1, lat.size + 1) / lat.size
            ax_q.plot(lat, q, color=color, label=f"{label} (n={lat.size})")
    ax_t.set_yscale("log")
    ax_t.set_xlabel("time since start (s)")
    ax_t.set_ylabel("latency from scheduled delta (ms)")
    ax_t.axhline(100, color="k", lw=0.8, ls="--")
    if server_cpu:
        ax_c = ax_t.twinx()
        ts = [t - t_offset for t, _, _ in server_cpu]
        ax_c.plot(ts, [c for _, c, _ in server_cpu], color="#36c", lw=1, label="server CPU %")
        ax_c.set_ylabel("server CPU % (100 = one core)")
        ax_c.legend(loc="upper right")
    ax_t.legend(loc="upper left")
    ax_q.set_xscale("log")
    ax_q.set_xlabel("latency (ms)")
    ax_q.set_ylabel("fraction at or below")
    ax_q.axvline(100, color="k", lw=0.8, ls="--")
    ax_q.axhline(0.99, color="#999", lw=0.6)
    ax_q.legend(loc="lower right")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax_t.yaxis, ax_q.xaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
