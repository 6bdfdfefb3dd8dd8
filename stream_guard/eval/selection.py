"""Which records an evaluation replays: a split, a stratified sample, a limit.

The split is the trainer's own (:func:`stream_guard.dataset.assign_splits`), so ``--split holdout``
measures exactly the half the detector was never tuned on. Sampling is stratified by ``dataset`` so
a small sample of a mixed file keeps every sub-domain in its share, and records keep their file
order so two runs with the same seed replay the same streams in the same order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stream_guard.dataset import Record, read_records, split_records

SplitChoice = Literal["holdout", "tune", "all"]


@dataclass(frozen=True, slots=True)
class Selection:
    records: list[Record]
    files: list[str]
    read: int  # records in the files, before any selection
    split: SplitChoice
    sample: int | None
    seed: int
    limit: int | None


def load_selection(paths: Sequence[Path], *, split: SplitChoice = "all",
                   sample: int | None = None, seed: int = 0,
                   limit: int | None = None, context_required: bool = True) -> Selection:
    """Read every file (``.jsonl`` or ``.jsonl.gz``) and select from their union
    (``context_required``: as :func:`~stream_guard.dataset.read_records`)."""
    records = [r for path in paths for r in read_records(path,
                                                         context_required=context_required)]
    chosen = select_records(records, split=split, sample=sample, seed=seed, limit=limit)
    return Selection(chosen, [str(p) for p in paths], len(records), split, sample, seed, limit)


def select_records(records: Sequence[Record], *, split: SplitChoice = "all",
                   sample: int | None = None, seed: int = 0,
                   limit: int | None = None) -> list[Record]:
    """Filter to ``split``, then draw ``sample`` records stratified by dataset, then keep the
    first ``limit``."""
    chosen = list(records) if split == "all" else split_records(records, split)
    if sample is not None:
        chosen = stratified_sample(chosen, sample, seed)
    return chosen if limit is None else chosen[:limit]


def stratified_sample(records: Sequence[Record], n: int, seed: int) -> list[Record]:
    """``n`` records, each dataset getting its proportional share (largest remainder), drawn
    with ``random.Random(seed)``, returned in their original order."""
    if n < 0:
        raise ValueError("sample size must be non-negative")
    if n >= len(records):
        return list(records)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(r.dataset, []).append(i)
    names = sorted(groups)
    exact = {name: n * len(groups[name]) / len(records) for name in names}
    quota = {name: int(exact[name]) for name in names}
    by_remainder = sorted(names, key=lambda name: (-(exact[name] - quota[name]), name))
    for name in by_remainder[: n - sum(quota.values())]:
        quota[name] += 1
    rng = random.Random(seed)
    picked = sorted(i for name in names for i in rng.sample(groups[name], quota[name]))
    return [records[i] for i in picked]
