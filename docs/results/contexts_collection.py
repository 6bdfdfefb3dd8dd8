"""Labelled records' contexts as documents for `stream-guard index add`; writes JSONL.

A knowledge base built from the records themselves, so `stream-guard eval --collection`
measures the same records with their evidence found by retrieval instead of sent inline. Each
distinct context is one document; `--sample`/`--seed` keep the contexts of the records `eval`
would select with the same options, and `--others N` adds N more contexts of the same files,
drawn at random, that the selected records do not use (documents a search may wrongly find):

    python docs/results/contexts_collection.py ../shared/data/dev/halueval_summarization.jsonl \
        --sample 300 --seed 7 --others 700 --out kb.jsonl
    stream-guard index add --collection summaries kb.jsonl
    stream-guard eval ../shared/data/dev/halueval_summarization.jsonl --sample 300 --seed 7 \
        --collection summaries
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from stream_guard.dataset import read_records
from stream_guard.eval.selection import load_selection

OTHERS_SEED = 3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="+", type=Path)
    p.add_argument("--sample", type=int, help="as eval's --sample")
    p.add_argument("--seed", type=int, default=0, help="as eval's --seed")
    p.add_argument("--others", type=int, default=0,
                   help="contexts of records not selected, added as further documents")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    selected = load_selection(args.data, split="all", sample=args.sample, seed=args.seed,
                              limit=None).records
    contexts = list(dict.fromkeys(r.context for r in selected if r.context.strip()))
    if args.others:
        used = set(contexts)
        rest = list(dict.fromkeys(r.context for path in args.data for r in read_records(path)
                                  if r.context.strip() and r.context not in used))
        contexts += random.Random(OTHERS_SEED).sample(rest, min(args.others, len(rest)))
    with args.out.open("w", encoding="utf-8") as out:
        for n, text in enumerate(contexts):
            out.write(json.dumps({"id": f"context-{n}", "text": text}, ensure_ascii=False) + "\n")
    print(f"{len(contexts)} documents -> {args.out}")


if __name__ == "__main__":
    main()
