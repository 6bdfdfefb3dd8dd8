"""The text rules' cost, old against new in one process: an older tree's ``text/stance.py`` and
``text/absence.py`` (from a ``git worktree``; its absence module made to import its own stance
module) and this tree's are loaded side by side and timed on the same sentences, in alternating
order, so the host's drift between processes (bench_session's runs differ by half on this
machine) does not enter. ``text/terms.py``, ``figures.py`` and ``quantities.py``, which both import,
must be the same in both trees.
Sentences: the dev sets' responses and four probes', cut at ``.!?``; "negated" are those with a
negation (any case), the only ones the absence rule reads past its substring test. Writes JSON
(microseconds a sentence, best of 5, two rounds).

    python docs/results/ab_text_cost.py /tmp/base --data ../shared/data/dev \
        --out loadtest/results/v20/ab-text-cost.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from types import ModuleType

from stream_guard.eval.results import best_microseconds, machine_info, write_report

_PROBES = ("realistic-probe", "realistic-probe4", "abstention-probe2", "long-answer-probe")
_NEGATION = re.compile(r"\b(?:not|no|nothing|never|cannot)\b|n't", re.IGNORECASE)


def _load(name: str, path: Path, source: str | None = None) -> ModuleType:
    """The module at ``path`` under ``name``, from ``source`` when given (its text rewritten)."""
    module = ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source if source is not None else path.read_text(), str(path), "exec"),
         module.__dict__)
    return module


def _trees(old_tree: Path, here: Path) -> dict[str, dict[str, ModuleType]]:
    """Each tree's stance and absence modules, its absence importing its own stance."""
    for shared in ("terms.py", "figures.py", "quantities.py"):
        path = f"stream_guard/text/{shared}"
        sides = [(root / path).read_bytes() if (root / path).exists() else None
                 for root in (old_tree, here)]
        if sides[0] != sides[1]:
            raise SystemExit(f"{path} differs between the trees: the comparison would mix them")
    trees = {}
    for side, root in (("old", old_tree), ("new", here)):
        stance = _load(f"{side}_stance", root / "stream_guard/text/stance.py")
        absence_path = root / "stream_guard/text/absence.py"
        absence = _load(f"{side}_absence", absence_path, absence_path.read_text().replace(
            "from stream_guard.text.stance import", f"from {side}_stance import"))
        trees[side] = {"is_service_talk": stance, "left_out": absence}
    return trees


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
    trees = _trees(args.old_tree, here)
    for function in ("left_out", "is_service_talk"):
        rounds = []
        for order in (("old", "new"), ("new", "old")):
            rounds.append({f"{side} {name}": best_microseconds(
                getattr(trees[side][function], function), xs, places=2)
                           for side in order for name, xs in sets.items()})
        report[function] = rounds
    write_report(args.out, report)


if __name__ == "__main__":
    main()
