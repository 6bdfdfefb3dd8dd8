"""The halt policy's tune-half landscape around the shipped operating point; writes one JSON file.

For the shipped detector, every tune record's windows are aligned and scored once (the engine's
own steps, as ``stream-guard train --out`` does), then the server's halt policy is simulated for
each (threshold, clear margin, run at end) on the grid: balanced accuracy and false-halt rate per
tune set. docs/quality.md cites it for what a threshold just above the shipped one would cost.

    python docs/results/policy_grid.py --data ../shared/data/dev \\
        --out docs/results/policy-grid-tune.json
"""

from __future__ import annotations

import json
from pathlib import Path

from stream_guard.eval.results import results_parser
from stream_guard.scoring.fusion import MODEL_FEATURES, Fusion
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets

DETECTOR = Path(__file__).resolve().parents[2] / "stream_guard" / "models" / "detector"


def main() -> None:
    p = results_parser(__doc__)
    args = p.parse_args()
    shipped = json.loads((DETECTOR / "detector.json").read_text())
    fusion = Fusion.from_json(shipped["fusion"]["model"], MODEL_FEATURES)
    _, tune, _ = load_sets(args.data)
    groups = calibrate.WindowScorer.load(str(DETECTOR / "model.onnx")).groups(tune)
    rows = []
    for run_at_end in (False, True):
        for margin in (0.05, 0.1, 0.15, 0.3):
            for step in range(10, 41):
                threshold = step / 100
                if threshold - margin < 0.01:
                    continue
                point = calibrate.OperatingPoint(threshold, margin, run_at_end)
                rows.append({"threshold": threshold, "clear_margin": margin,
                             "run_at_end": run_at_end,
                             "tune": calibrate.policy_rows(groups, fusion, point)})
    args.out.write_text(json.dumps({
        "shipped": {k: shipped[k] for k in ("threshold", "clear_margin", "run_at_end")},
        "command": "python docs/results/policy_grid.py --data DATA --out OUT", "grid": rows},
        indent=1) + "\n")


if __name__ == "__main__":
    main()
