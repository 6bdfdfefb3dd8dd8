"""Fit the small-talk head (:mod:`stream_guard.models.small_talk`) and its threshold.

Data: ``small_talk.jsonl`` beside this file, 600 lines of small talk on a user's life
(congratulations, sympathy, wishes, enthusiasm, compliments, welcomes, banter; label 1) and 600
friendly lines that make a claim (an offer, a fact, a tip that presupposes a place, an opinion
about a thing, a plain claim, reassurance with a promise; label 0), written for it by helpers
who saw no code and no probe; and, as further claims, every window the server cuts from the
**tune** halves of SummEdits-dev and BEGIN-dev, ``summedits_train.jsonl`` and samples of
HaluEval dialogue and QA (the holdout halves are never read). BEGIN counts a dialogue's
chit-chat and opinions ("it's a great movie") as unattributable, so they are claims here too.

The head is an L2-regularised logistic regression on the packaged embedder's vectors (texts
and the clauses of written small talk, classes weighted equally). Its threshold is read from
five-fold cross-validation with the server's own decision (a window and each of its clauses
at the threshold, only where :func:`~stream_guard.text.stance.could_be_small_talk` lets the
head read it): the lowest on a grid that lets through at most 2 % of the dev windows the head
would be asked about and 2 % of the written claims it would be asked about. The written
small talk it lets through at that point is reported, with the rest, in ``--report``::

    python -m stream_guard.train.small_talk --data ../shared/data/dev \\
        --out stream_guard/models/detector/small_talk.json \\
        --report docs/results/small-talk-head.json
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stream_guard.config import Settings
from stream_guard.dataset import Record, read_records, split_records
from stream_guard.models.arrays import FloatArray
from stream_guard.models.embedder import load_embedder
from stream_guard.models.small_talk import SmallTalkHead, pieces
from stream_guard.text.stance import could_be_small_talk
from stream_guard.text.terms import terms
from stream_guard.train.pairs import TextPipeline

WRITTEN = Path(__file__).with_name("small_talk.jsonl")
FOLDS = 5
THRESHOLDS = tuple(round(0.5 + 0.025 * i, 3) for i in range(20))
MAX_DEV_PASS = 0.02
MAX_WRITTEN_CLAIM_PASS = 0.02
_L2 = 1e-3
_STEPS = 1500
_STEP_SIZE = 2.0
# The embedder's unit vectors scaled so the logistic model's weights stay O(1).
_SCALE = 5.0
_SAMPLES = {"halueval_dialogue": 1500, "halueval_qa": 600}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: int
    kind: str  # "written-<kind>", "dev-<file>" or "clause" (a clause of written small talk)
    asked: bool  # whether the server would ask the head about it (could_be_small_talk)
    fold: int


def dev_windows(data: Path, pipeline: TextPipeline, seed: int) -> list[tuple[str, str, bool]]:
    """(window, file, whether the head would read it) for the dev windows used as claims."""
    rng = random.Random(seed)
    chosen: list[tuple[str, list[Record]]] = []
    for name in ("begin_dev", "summedits_dev"):
        chosen.append((name, split_records(read_records(data / f"{name}.jsonl"), "tune")))
    chosen.append(("summedits_train", read_records(data / "summedits_train.jsonl")))
    for name, count in _SAMPLES.items():
        records = read_records(data / f"{name}.jsonl")
        rng.shuffle(records)
        chosen.append((name, records[:count]))
    out = []
    for name, records in chosen:
        for record in records:
            evidence = pipeline.evidence(record.context).sentences.keys
            asked = _keys(record.prompt or "")
            for window in pipeline.windows(record.response):
                out.append((window.text, name, could_be_small_talk(
                    window.text, _keys(window.text), evidence, asked)))
    return out


def examples(data: Path, pipeline: TextPipeline, seed: int) -> list[Example]:
    written = [json.loads(line) for line in WRITTEN.read_text(encoding="utf-8").splitlines()]
    out = []
    for i, row in enumerate(written):
        text, label = str(row["text"]), int(row["label"])
        out.append(Example(text, label, f"written-{row['kind']}",
                           could_be_small_talk(text, _keys(text), frozenset()), i % FOLDS))
        if label == 1:  # each clause of small talk is small talk
            out.extend(Example(c, 1, "clause", False, i % FOLDS) for c in pieces(text)[1:])
    for i, (text, name, asked) in enumerate(dev_windows(data, pipeline, seed)):
        out.append(Example(text, 0, f"dev-{name}", asked, i % FOLDS))
    return out


def _keys(text: str) -> frozenset[str]:
    """A text's term keys as the engine reads a window's and a prompt's."""
    return frozenset(t.key for t in terms(text))


def fit(x: FloatArray, y: np.ndarray) -> tuple[FloatArray, float]:
    """L2-regularised logistic regression, classes weighted equally (gradient descent)."""
    w = np.zeros(x.shape[1], np.float64)
    b = 0.0
    weight = np.where(y == 1, (y == 0).sum() / max(1, (y == 1).sum()), 1.0)
    weight = weight / weight.mean()
    for _ in range(_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w + b, -30, 30)))
        g = weight * (p - y)
        w -= _STEP_SIZE * (x.T @ g / len(y) + _L2 * w)
        b -= _STEP_SIZE * float(g.mean())
    return w.astype(np.float32), b


def head(w: FloatArray, b: float, fingerprint: str, threshold: float) -> SmallTalkHead:
    """The fitted model as the server reads it: on unscaled vectors."""
    return SmallTalkHead(fingerprint, (w * _SCALE).astype(np.float32), b, threshold)


def pass_rates(scores: Sequence[float], rows: Sequence[Example],
               threshold: float) -> dict[str, tuple[int, int]]:
    """Per kind: (let through as small talk, counted) under the server's decision; a kind of
    claims counts the rows the head would be asked about, a kind of small talk all its rows (the
    ones the shape rules keep from the head are not let through)."""
    through: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    for score, row in zip(scores, rows, strict=True):
        if row.kind == "clause" or not (row.asked or row.label == 1):
            continue
        asked[row.kind] += 1
        through[row.kind] += score >= threshold and row.asked
    return {k: (through[k], asked[k]) for k in sorted(asked)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the dev data directory")
    parser.add_argument("--out", type=Path, required=True, help="the head's JSON file")
    parser.add_argument("--report", type=Path, help="cross-validated pass rates, JSON")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    settings = Settings()
    embedder = load_embedder("minilm", cache_dir=settings.cache_dir)
    rows = examples(args.data, TextPipeline.from_settings(settings), args.seed)
    x = embedder.embed([r.text for r in rows]) * _SCALE
    y = np.array([r.label for r in rows], np.float64)
    folds = np.array([r.fold for r in rows])
    decision = np.zeros(len(rows))
    for fold in range(FOLDS):
        w, b = fit(x[folds != fold], y[folds != fold])
        fold_head = head(w, b, embedder.fingerprint, 0.0)
        test = [int(i) for i in np.flatnonzero(folds == fold) if rows[i].kind != "clause"]
        # the server's decision: the window and each of its clauses at the threshold
        decision[test] = fold_head.scores(embedder, [rows[i].text for i in test])
    claim_kinds = {r.kind for r in rows if r.kind.startswith("written-") and r.label == 0}
    chosen = None
    for threshold in THRESHOLDS:
        rates = pass_rates(decision.tolist(), rows, threshold)
        dev = [rates[k] for k in rates if k.startswith("dev-")]
        claims = [rates[k] for k in rates if k in claim_kinds]
        if (sum(t for t, _ in dev) <= MAX_DEV_PASS * sum(n for _, n in dev) and sum(
                t for t, _ in claims) <= MAX_WRITTEN_CLAIM_PASS * sum(n for _, n in claims)):
            chosen = threshold
            break
    if chosen is None:
        raise SystemExit("no threshold on the grid meets the pass-rate caps")
    w, b = fit(x, y)
    fitted = head(w, b, embedder.fingerprint, chosen)
    args.out.write_text(json.dumps(fitted.to_json()) + "\n", encoding="utf-8")
    if args.report is not None:
        report = {"threshold": chosen, "examples": Counter(r.kind for r in rows),
                  "cross_validated": {str(t): pass_rates(decision.tolist(), rows, t)
                                      for t in THRESHOLDS},
                  "command": "python -m stream_guard.train.small_talk --data DIR --out FILE"}
        args.report.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"threshold {chosen}: {pass_rates(decision.tolist(), rows, chosen)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
