"""HaluEval dialogue's knowledge with its run-together triples set apart, measured and not kept
(forty-eighth session): "Tom ArnoldTom Arnold starred in" and "Games.The" become "Tom Arnold.
Tom Arnold starred in" and "Games. The" (a capitalised word glued to the one before where it
stands alone elsewhere in the context); the README's HaluEval sample of QA and dialogue is
replayed through the server on the files as given and as unglued, and the false halts and
catches of each dataset compared; JSON:

    python docs/results/unglued_triples.py --data ../shared/data/dev \\
        --out docs/results/unglued-triples.json
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from stream_guard.eval.results import machine_info, results_parser, write_report

_DOT = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
_CAMEL = re.compile(r"\b([A-Z]?[a-z0-9]*[a-z0-9)])([A-Z][a-z]+)\b")
_FILES = ("halueval_qa.jsonl", "halueval_dialogue.jsonl")


def unglue(text: str) -> str:
    text = _DOT.sub(" ", text)
    alone = set(re.findall(r"(?<![A-Za-z])[A-Z][a-z]+(?![A-Za-z])", text))
    return _CAMEL.sub(lambda m: f"{m[1]}. {m[2]}" if m[2] in alone and len(m[1]) >= 2
                      else m[0], text)


def counts(per_record: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for line in per_record.open():
        row = json.loads(line)
        c = out.setdefault(row["dataset"], {"right": 0, "false_halts": 0, "wrong": 0,
                                            "caught": 0})
        c["wrong" if row["label"] else "right"] += 1
        if row["halted"]:
            c["caught" if row["label"] else "false_halts"] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    args = results_parser(__doc__).parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        unglued = Path(work)
        glued_contexts = 0
        for name in _FILES:
            with (unglued / name).open("w") as out:
                for line in (args.data / name).open():
                    record = json.loads(line)
                    fixed = unglue(record["context"])
                    glued_contexts += fixed != record["context"]
                    out.write(json.dumps({**record, "context": fixed}) + "\n")
        report: dict[str, object] = {"contexts_changed": glued_contexts}
        for label, folder in (("as_given", args.data), ("unglued", unglued)):
            per_record = unglued / f"{label}.per.jsonl"
            subprocess.run([sys.executable, "-m", "stream_guard", "eval",
                            *(str(folder / name) for name in _FILES), "--sample", "800",
                            "--seed", "11", "--per-record", str(per_record)],
                           check=True, capture_output=True)
            report[label] = counts(per_record)
    report["machine"] = machine_info()
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
