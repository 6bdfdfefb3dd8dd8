"""Halts of a chat probe's records by kind, and where a false answer's halt landed.

A probe record's kind (its ``.meta.jsonl``) says what it tests: a faithful answer with small
talk or without, an error planted in a fact, in the small talk, or in a tip. For each run
(``stream-guard eval PROBE.jsonl --per-record RUN.jsonl`` at some revision) this counts the
faithful answers halted (false halts), and for the false answers whether the halt's window
holds the planted error, ends before it, or starts after it (a halt after the error is a
closing line halted, not the error caught).

    python docs/results/chat_probe_stats.py docs/results/chat-probe3.jsonl \\
        base=BASE.jsonl head=HEAD.jsonl --out docs/results/chat-probe3-stats.json

``--by-dataset`` adds the same counts for each of the probe's datasets (a language, a domain).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any


def stats(records: dict[str, dict[str, Any]], kinds: dict[str, str],
          per: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's counts (``per``: its per-record rows)."""
    total: Counter[str] = Counter()
    halted: Counter[str] = Counter()
    landed: Counter[str] = Counter()
    for row in per:
        kind = kinds[row["id"]]
        total[kind] += 1
        halted[kind] += bool(row["halted"])
        if row["label"] == 1 and row["halted"]:
            onset = records[row["id"]]["onset"]
            landed["before" if row["halt_window_end"] <= onset
                   else "at" if row["halt_at"] <= onset else "after"] += 1
    return {"false_halts": sum(bool(r["halted"]) for r in per if r["label"] == 0),
            "faithful": sum(r["label"] == 0 for r in per),
            "unsupported": sum(r["label"] == 1 for r in per),
            "halted_at_the_error": landed["at"], "halted_before_it": landed["before"],
            "halted_after_it": landed["after"],
            "halted_by_kind": {k: f"{halted[k]}/{total[k]}" for k in sorted(total)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("probe", type=Path)
    parser.add_argument("runs", nargs="+", help="NAME=PER_RECORD.jsonl")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--by-dataset", action="store_true")
    args = parser.parse_args()
    records = {r["id"]: r for r in map(json.loads, args.probe.read_text().splitlines())}
    meta = args.probe.with_name(args.probe.name.replace(".jsonl", ".meta.jsonl"))
    kinds = {m["id"]: m["kind"] for m in map(json.loads, meta.read_text().splitlines())}
    out: dict[str, Any] = {}
    for name, path in (run.split("=", 1) for run in args.runs):
        per = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        out[name] = stats(records, kinds, per)
        if args.by_dataset:
            out[name]["by_dataset"] = {
                ds: stats(records, kinds, [r for r in per if r["dataset"] == ds])
                for ds in sorted({r["dataset"] for r in per})}
    text = json.dumps(out, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
