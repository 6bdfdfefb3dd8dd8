"""Latency summaries and the ``--compare`` ratio table.

Percentiles are computed from every sample (no histogram buckets): at the sizes a load run
produces, a sorted array is cheap, and p99 of a bucketed histogram would only tell which bucket
it falls in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

PERCENTILES = (50, 90, 99, 99.9)


def summarize(samples_s: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, percentiles and max of latencies given in seconds, reported in ms."""
    if not samples_s:
        return {"count": 0, "mean": None, "p50": None, "p90": None, "p99": None,
                "p99.9": None, "max": None}
    arr = np.asarray(samples_s, dtype=np.float64) * 1000.0
    out: dict[str, float | int | None] = {"count": int(arr.size),
                                          "mean": round(float(arr.mean()), 3)}
    for p, value in zip(PERCENTILES, np.percentile(arr, PERCENTILES), strict=True):
        out[f"p{p:g}"] = round(float(value), 3)
    out["max"] = round(float(arr.max()), 3)
    return out


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a result JSON as ``a.b.c`` keys."""
    out: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


# What an operator compares between two runs; configuration and machine facts are left out.
COMPARED_PREFIXES = ("latency_ms.", "rates.", "streams.", "resources.", "errors.",
                     "close_codes.", "send_lag_ms.")


def compare_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, float | None,
                                                                            float | None,
                                                                            float | None]]:
    """(metric, A, B, B/A) for every compared numeric metric either run has."""
    fa, fb = flatten(a), flatten(b)
    keys = sorted(k for k in set(fa) | set(fb) if k.startswith(COMPARED_PREFIXES))
    rows = []
    for key in keys:
        va, vb = fa.get(key), fb.get(key)
        ratio = vb / va if va not in (None, 0.0) and vb is not None else None
        rows.append((key, va, vb, ratio))
    return rows


def format_table(rows: Iterable[tuple[str, float | None, float | None, float | None]],
                 names: tuple[str, str]) -> str:
    lines = [f"| metric | {names[0]} | {names[1]} | B/A |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {k} | {_cell(a)} | {_cell(b)} | {'-' if r is None else f'{r:.2f}'} |"
              for k, a, b, r in rows]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"
