"""Could dense similarity catch a false abstention that names in other words what the evidence
states? For every sentence the absence rule floors (:func:`stream_guard.text.absence.left_out`
and :func:`~stream_guard.text.absence.borne_out`), among faithful sentences and the wrong one of
a planted record (the sentence holding its ``onset``), the highest all-MiniLM-L6-v2 cosine
between the sentence and the evidence's sentences; AUROC of that cosine for "wrong", and how
many of each kind lie above a few cut points; writes JSON. Sentences are cut at ``.!?`` and a
space, not by the segmenter: a count of the rule, not of the server.

    python docs/results/dense_absence.py docs/results/abstention-probe.jsonl \
        docs/results/abstention-probe2.jsonl docs/results/absence-review.jsonl \
        --out docs/results/dense-absence.json
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stream_guard.config import load_settings
from stream_guard.dataset import read_records
from stream_guard.eval.metrics import auroc
from stream_guard.eval.results import write_report
from stream_guard.models.embedder import load_embedder
from stream_guard.text.absence import borne_out
from stream_guard.text.terms import term_keys

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_EVIDENCE_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CUTS = (0.45, 0.5, 0.55, 0.6)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("probes", type=Path, nargs="+")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    embedder = load_embedder("minilm", cache_dir=load_settings().cache_dir)
    rows = []
    for path in args.probes:
        for record in read_records(path):
            evidence = [s for s in _EVIDENCE_SENTENCE.split(record.context) if s.strip()]
            keys = term_keys(record.context)
            evidence_vectors = None
            at = 0
            for sentence in _SENTENCE.split(record.response):
                start = record.response.index(sentence, at)
                at = start + len(sentence)
                if not borne_out(sentence, keys):  # (which reads left_out first)
                    continue
                wrong = (record.label == 1 and record.onset is not None
                         and start <= record.onset < at)
                if record.label == 1 and not wrong:
                    continue
                if evidence_vectors is None:  # once a record, for its first floored sentence
                    evidence_vectors = embedder.embed(evidence)
                vector = embedder.embed([sentence])[0]
                rows.append({"id": record.id, "wrong": wrong, "sentence": sentence,
                             "cosine": round(float((evidence_vectors @ vector).max()), 4)})
    labels = [int(r["wrong"]) for r in rows]
    cosines = [float(r["cosine"]) for r in rows]
    write_report(args.out, {
        "floored_sentences": len(rows), "wrong": sum(labels),
        "auroc_wrong": auroc(cosines, labels),
        "above": {str(cut): {"wrong": sum(r["wrong"] and float(r["cosine"]) >= cut for r in rows),
                             "faithful": sum(not r["wrong"] and float(r["cosine"]) >= cut
                                             for r in rows)} for cut in _CUTS},
        "rows": sorted(rows, key=lambda r: -float(r["cosine"]))})


if __name__ == "__main__":
    main()
