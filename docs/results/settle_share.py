"""How many windows the server settles without the detector (``GroundingEngine.settled``), set
by set: the shipped detector's engine and windowing (``WindowScorer``, as ``stream-guard train
--out`` scores windows), a sample of each file's records; writes one JSON file.

    python docs/results/settle_share.py ../shared/data/dev/summedits_dev.jsonl \\
        ../shared/data/dev/begin_dev.jsonl ../shared/data/dev/halueval_qa.jsonl \\
        ../shared/data/dev/halueval_dialogue.jsonl \\
        ../shared/data/dev/halueval_summarization.jsonl --records 300 \\
        --out docs/results/settle-share.json
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from stream_guard.dataset import read_records
from stream_guard.eval.results import write_report
from stream_guard.oversight.policy import Verdict
from stream_guard.train.calibrate import WindowScorer, score_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--records", type=int, default=300, help="sampled from each file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    scorer = WindowScorer.load()
    engine = scorer.engine
    rows = []
    for path in args.files:
        records = list(read_records(path))
        random.Random(args.seed).shuffle(records)
        windows = score_windows(engine, records[:args.records], scorer.pipeline)
        settled = [s for w in windows if (s := engine.settled(w.aligned)) is not None]
        bands = engine.bands()
        kinds = [bands.verdict(s.support, s.contradiction) for s in settled]
        rows.append({"file": path.name, "records": min(len(records), args.records),
                     "windows": len(windows), "settled": len(settled),
                     "settled_share": round(len(settled) / len(windows), 3) if windows else None,
                     "by_verdict": {v.value: kinds.count(v) for v in Verdict if v in kinds}})
    write_report(args.out, {"records_per_file": args.records, "seed": args.seed, "sets": rows})


if __name__ == "__main__":
    main()
