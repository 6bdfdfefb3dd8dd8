"""What ``terms``, ``term_keys`` and ``quantity_index`` cost a sentence, one tree against
another: each tree's ``stream_guard`` is timed in its own process on the same English sentences
(the dev sets' responses and contexts, cut at ``.!?``), on the CJK sentences of the languages
probe and on the spoken answers' sentences of the voice probe, the trees taking turns for
``--rounds`` rounds so that the host's drift between processes falls on both. ``terms`` runs for
every window, ``term_keys`` for every evidence sentence of every stream, and the quantity reader
for each window and each stream's evidence. Writes JSON (microseconds a sentence, best round).

    python docs/results/terms_cost.py /tmp/base /work/main --data ../shared/data/dev \\
        --out loadtest/results/v34/terms-cost.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from stream_guard.eval.results import machine_info, write_report

_TIMER = """
import json, sys, time
from stream_guard.text.terms import terms, term_keys
from stream_guard.text.quantities import quantity_index
sets = json.loads(sys.stdin.read())
out = {}
for name, sentences in sets.items():
    for fn in (terms, term_keys, quantity_index):
        for s in sentences[:200]:
            fn(s)  # warm the key tables, as a serving process has them
        t = time.perf_counter()
        for s in sentences:
            fn(s)
        out[f"{name}/{fn.__name__}"] = (time.perf_counter() - t) / len(sentences) * 1e6
print(json.dumps(out))
"""
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3]")


def _sentences(data: Path, probe: Path, spoken: Path) -> dict[str, list[str]]:
    english: list[str] = []
    for name in ("summedits_dev.jsonl", "begin_dev.jsonl"):
        for line in (data / name).read_text().splitlines():
            record = json.loads(line)
            for text in (record["response"], record["context"]):
                english += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    cjk = [s for line in probe.read_text().splitlines()
           for text in (json.loads(line)["context"], json.loads(line)["response"])
           if _CJK.search(text) for s in re.split(r"(?<=[。！？])", text) if s.strip()]
    voice = [s.strip() for line in spoken.read_text().splitlines()
             for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["response"]) if s.strip()]
    return {"english": english, "cjk": cjk, "spoken": voice}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\\n")[0])
    parser.add_argument("trees", nargs=2, type=Path, help="BEFORE AFTER (repository roots)")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    parser.add_argument("--probe", type=Path,
                        default=Path(__file__).with_name("lang-probe.jsonl"))
    parser.add_argument("--spoken", type=Path,
                        default=Path(__file__).with_name("voice-probe.jsonl"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sets = json.dumps(_sentences(args.data, args.probe, args.spoken))
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for name, tree in zip(runs, args.trees, strict=True):
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            done = subprocess.run([sys.executable, "-c", _TIMER], input=sets, text=True,
                                  capture_output=True, check=True, env=env, cwd=tree)
            runs[name].append(json.loads(done.stdout))
    best = {name: {key: round(min(r[key] for r in rounds), 2) for key in rounds[0]}
            for name, rounds in runs.items()}
    report = {"command": " ".join(sys.argv), "trees": [str(t) for t in args.trees],
              "sentences": {k: len(v) for k, v in json.loads(sets).items()},
              "microseconds_per_sentence_best_round": best, "machine": machine_info()}
    print(json.dumps(best, indent=1))
    if args.out:
        write_report(args.out, report)


if __name__ == "__main__":
    main()
