"""A digest of the training pairs the trainer builds from the first records of four dev files;
writes JSON.

The same digest at two revisions says their text pipelines give the trainer the same pairs
(windows, premises, labels and synthetic edits, fixed seed): how a refactor of the pipeline is
checked to change nothing. Run it in a tree of each revision:

    python docs/results/training_pairs_digest.py --data ../shared/data/dev \
        --out docs/results/training-pairs-digest.json
"""

from __future__ import annotations

import hashlib
import json
import random

from stream_guard.config import load_settings
from stream_guard.dataset import read_records
from stream_guard.eval.results import code_revision, results_parser, write_report
from stream_guard.train.pairs import TextPipeline, training_examples

FILES = ("summedits_train.jsonl", "begin_dev.jsonl", "halueval_qa.jsonl",
         "halueval_summarization.jsonl")
RECORDS = 300  # of each file


def main() -> None:
    args = results_parser(__doc__).parse_args()
    records = [r for name in FILES for r in read_records(args.data / name)[:RECORDS]]
    examples = training_examples(records, random.Random(7),
                                 TextPipeline.from_settings(load_settings()))
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.premise, e.hypothesis, e.label, e.kind]).encode())
        digest.update(b"\n")
    write_report(args.out, {
        "command": "python docs/results/training_pairs_digest.py --data ../shared/data/dev "
                   "--out docs/results/training-pairs-digest.json",
        "files": list(FILES), "records_each": RECORDS, "pairs": len(examples),
        "sha256": digest.hexdigest(), "code_revision": code_revision()})


if __name__ == "__main__":
    main()
