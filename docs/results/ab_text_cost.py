"""The text rules' cost, old against new in one process: a module file of an older tree (a
``git worktree``) and this tree's are loaded side by side and timed on the same sentences, so
the host's drift between processes (bench_session's runs differ by half on this machine) does
not enter. Sentences: the dev sets' responses and four probes', cut at ``.!?``; "negated" are
those with a negation, the only ones the absence rule reads past its substring test. Writes
JSON (microseconds a sentence, best of 5, two rounds).

    python docs/results/ab_text_cost.py /tmp/base --data ../shared/data/dev \
        --out loadtest/results/v20/ab-text-cost.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from stream_guard.eval.cli import machine_info, write_report

_MODULES = (("stream_guard/text/absence.py", "left_out"),
            ("stream_guard/text/stance.py", "is_service_talk"))
_PROBES = ("realistic-probe", "realistic-probe4", "abstention-probe2", "long-answer-probe")
_NEGATION = re.compile(r"\b(?:not|no|nothing|never)\b|n't")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _best_us(function: Callable[[str], object], sentences: list[str]) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for sentence in sentences:
            function(sentence)
        best = min(best, time.perf_counter() - started)
    return round(best * 1e6 / len(sentences), 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old_tree", type=Path)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    here = Path(__file__).resolve().parents[2]
    paths = [args.data / "begin_dev.jsonl", args.data / "summedits_dev.jsonl",
             *(here / "docs" / "results" / f"{name}.jsonl" for name in _PROBES)]
    responses = [json.loads(line)["response"] for path in paths
                 for line in path.read_text().splitlines() if line]
    sentences = [s for r in responses for s in re.split(r"(?<=[.!?])\s+", r)]
    sets = {"all": sentences, "negated": [s for s in sentences if _NEGATION.search(s)]}
    report: dict[str, object] = {"command": " ".join(sys.argv), "machine": machine_info(),
                                 "sentences": {k: len(v) for k, v in sets.items()}}
    for file, function in _MODULES:
        old = getattr(_load(f"old_{function}", args.old_tree / file), function)
        new = getattr(_load(f"new_{function}", here / file), function)
        report[function] = [{f"{side} {name}": _best_us(f, xs)
                             for side, f in (("old", old), ("new", new))
                             for name, xs in sets.items()} for _ in range(2)]
    write_report(args.out, report)


if __name__ == "__main__":
    main()
