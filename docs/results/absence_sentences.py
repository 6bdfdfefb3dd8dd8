"""How the absence rule judges the sentences it finds: of each probe's absence statements
(:func:`stream_guard.text.absence.left_out`), how many the evidence bears out
(:func:`~stream_guard.text.absence.borne_out`), among faithful sentences and among the wrong
one of a planted record (the sentence holding its ``onset``); writes JSON. Sentences are cut
at ``.!?`` and a space, not by the segmenter: a count of the rule, not of the server.

    python docs/results/absence_sentences.py docs/results/abstention-probe.jsonl \
        docs/results/abstention-probe2.jsonl docs/results/realistic-probe4.jsonl \
        --out docs/results/absence-sentences.json
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from stream_guard.dataset import read_records
from stream_guard.eval.results import write_report
from stream_guard.text.absence import borne_out, left_out
from stream_guard.text.terms import term_keys

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("probes", type=Path, nargs="+")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    report: dict[str, object] = {}
    for path in args.probes:
        counts: Counter[str] = Counter()
        for record in read_records(path):
            evidence = term_keys(record.context)
            at = 0
            for sentence in _SENTENCE.split(record.response):
                start = record.response.index(sentence, at)
                at = start + len(sentence)
                if left_out(sentence) is None:
                    continue
                wrong = (record.label == 1 and record.onset is not None
                         and start <= record.onset < at)
                kind = "wrong" if wrong else "faithful"
                counts[f"{kind}_found"] += 1
                counts[f"{kind}_borne_out"] += borne_out(sentence, evidence)
        report[path.name] = dict(sorted(counts.items()))
    write_report(args.out, report)


if __name__ == "__main__":
    main()
