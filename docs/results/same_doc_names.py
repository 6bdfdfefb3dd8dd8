"""Edited SummEdits summaries that put a capitalised word or run the source states in the place
of another (the fifty-fourth session's count, docs/quality-log.md); writes one JSON file.

Each edited summary of ``summedits_train`` is set beside the faithful summary of its document
that shares the most tokens with it (difflib on tokens); a replaced run of at most three
capitalised tokens on both sides, whose new text the source states, is counted, with whether
the server halted that record in a ``stream-guard eval --per-record`` run at the code measured:

    stream-guard eval ../shared/data/dev/summedits_train.jsonl --per-record /tmp/st.jsonl
    python docs/results/same_doc_names.py --data ../shared/data/dev --per-record /tmp/st.jsonl \\
        --out docs/results/same-doc-names.json
"""

from __future__ import annotations

import argparse
import json
import re
from difflib import SequenceMatcher
from pathlib import Path

from stream_guard.dataset import Record, read_records
from stream_guard.eval.results import write_report

_TOKEN = re.compile(r"\w+|[^\w\s]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--per-record", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    records = read_records(args.data / "summedits_train.jsonl")
    halted = {r["id"]: r["halted"] for r in map(json.loads, args.per_record.open())}
    by_doc: dict[str, list[Record]] = {}
    for record in records:
        by_doc.setdefault(record.doc_id or record.id, []).append(record)
    swaps = []
    for siblings in by_doc.values():
        faithful = [r for r in siblings if r.label == 0]
        for edited in (r for r in siblings if r.label == 1 and faithful):
            new_tokens = _TOKEN.findall(edited.response)
            nearest = max(faithful, key=lambda r: SequenceMatcher(
                None, _TOKEN.findall(r.response), new_tokens).ratio())
            old_tokens = _TOKEN.findall(nearest.response)
            for op, a1, a2, b1, b2 in SequenceMatcher(None, old_tokens,
                                                      new_tokens).get_opcodes():
                old, new = old_tokens[a1:a2], new_tokens[b1:b2]
                if (op == "replace" and len(old) <= 3 and len(new) <= 3
                        and all(w[:1].isupper() for w in old + new)
                        and re.search(rf"\b{re.escape(' '.join(new))}\b", edited.context)):
                    swaps.append({"id": edited.id, "old": " ".join(old), "new": " ".join(new),
                                  "halted": halted[edited.id]})
    ids = {s["id"]: s["halted"] for s in swaps}
    write_report(args.out, {"replacements": len(swaps), "records": len(ids),
                            "records_halted": sum(ids.values()), "swaps": swaps})


if __name__ == "__main__":
    main()
