"""Each window of some records as the server scores it: the shipped detector's support, the
fused support and contradiction, and the lexical signals; writes one JSON file.

What the fifty-fourth session read the medicine and insurance probe's false halts with
(docs/quality-log.md): the engine's own steps (``WindowScorer``, as ``stream-guard train --out``
scores windows) and the fusion the server applies (``window_support``).

    python docs/results/window_signals.py --file docs/results/med-insurance-probe.jsonl \\
        --ids med-03,ins-03,ins-21,ins-29 --out docs/results/window-signals-med-insurance.json
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from stream_guard.dataset import read_records
from stream_guard.eval.results import write_report
from stream_guard.scoring.fusion import window_support
from stream_guard.train.calibrate import WindowScorer, score_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--ids", required=True, help="record ids, comma-separated")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    ids = args.ids.split(",")
    records = sorted((r for r in read_records(args.file) if r.id in ids),
                     key=lambda r: ids.index(r.id))
    scorer = WindowScorer.load()
    fusion = scorer.engine.fusion
    rows = []
    for window in score_windows(scorer.engine, records, scorer.pipeline):
        record = records[window.record]
        support, contradiction = window_support(window.aligned.signals, window.model_support,
                                                fusion[0] if fusion else None)
        rows.append({"id": record.id, "start": window.start, "end": window.end,
                     "text": record.response[window.start:window.end],
                     "model_support": round(window.model_support, 4),
                     "fused_support": round(support, 4),
                     "contradiction": round(contradiction, 4),
                     "premise": window.aligned.premise.text,
                     "signals": dataclasses.asdict(window.aligned.signals)})
    write_report(args.out, {"file": str(args.file), "windows": rows})


if __name__ == "__main__":
    main()
