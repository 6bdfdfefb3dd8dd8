"""Would judging a window against its own answer's earlier windows rank SummEdits' edits better?

An edited summary differs from its faithful twins in one sentence, so its least supported window
may stand out more against the answer's own other windows than against the evidence alone. For
every tune record the shipped detector's fused support of each window is computed once (the
engine's own steps, as ``stream-guard train --out`` does); a window's score is then its logit
less ``weight`` times the mean logit of the answer's earlier windows (causal, as a stream could)
or of all its other windows (an upper bound no stream has), and a record's score its least
window's. Writes the stream AUROC per set for each weight. Tune halves only.

    python docs/results/stream_dip.py --data ../shared/data/dev \\
        --out docs/results/stream-dip-tune.json
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from stream_guard.eval.metrics import auroc
from stream_guard.eval.results import results_parser, write_report
from stream_guard.scoring.fusion import MODEL_FEATURES, Fusion, window_support
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets

DETECTOR = Path(__file__).resolve().parents[2] / "stream_guard" / "models" / "detector"
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def main() -> None:
    args = results_parser(__doc__).parse_args()
    shipped = json.loads((DETECTOR / "detector.json").read_text())
    fusion = Fusion.from_json(shipped["fusion"]["model"], MODEL_FEATURES)
    _, tune, _ = load_sets(args.data, training=False)
    groups = calibrate.WindowScorer.load(str(DETECTOR / "model.onnx")).groups(tune)
    rows: dict[str, dict[str, float | None]] = {}
    for name, (records, windows) in groups.items():
        logits: dict[int, list[float]] = {}
        for w in windows:  # in stream order within a record
            support, _ = window_support(w.aligned.signals, w.model_support, fusion)
            logits.setdefault(w.record, []).append(_logit(support))
        for causal in (True, False):
            for weight in WEIGHTS:
                labels, scores = [], []
                for n, record in enumerate(records):
                    own = logits.get(n)
                    if not own:
                        continue
                    least = math.inf
                    for k, logit in enumerate(own):
                        others = own[:k] if causal else own[:k] + own[k + 1:]
                        shift = weight * sum(others) / len(others) if others else 0.0
                        least = min(least, logit - shift)
                    labels.append(record.label)
                    scores.append(-least)
                key = f"{'earlier' if causal else 'all other'} windows, weight {weight}"
                value = auroc(scores, labels)
                rows.setdefault(key, {})[name] = None if value is None else round(value, 4)
    write_report(args.out, {"command": "python docs/results/stream_dip.py --data DATA --out OUT",
                            "stream_auroc_tune": rows})


if __name__ == "__main__":
    main()
