"""What the swaps check (text/swaps.py) costs a window, at two revisions of the module.

    git show REV:stream_guard/text/swaps.py > /tmp/swaps-REV.py
    python docs/results/swaps_cost.py /tmp/swaps-REV.py stream_guard/text/swaps.py \
        --data ../shared/data/dev/summedits_train.jsonl

Each module is loaded beside the installed package and run over the sentences of the first 300
records' summaries against the first eight sentences of their sources (the evidence sentences
read once first, as the server's cache keeps them); prints milliseconds per window.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stream_guard.text.terms import term_keys
from tests.conftest import evidence_sentences


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("modules", type=Path, nargs="+")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--records", type=int, default=300)
    args = p.parse_args()
    with args.data.open(encoding="utf-8") as f:
        records = [json.loads(line) for line, _ in zip(f, range(args.records), strict=False)]
    windows = [(w, evidence_sentences(r["context"])[:8], term_keys(r["context"]))
               for r in records for w in evidence_sentences(r["response"])]
    for path in args.modules:
        spec = importlib.util.spec_from_file_location(f"swaps_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # (its dataclasses look their module up)
        spec.loader.exec_module(module)
        for w, sentences, keys in windows:
            module.swapped_beside(w, sentences, keys)
        start = time.perf_counter()
        for _ in range(3):
            for w, sentences, keys in windows:
                module.swapped_beside(w, sentences, keys)
        ms = (time.perf_counter() - start) / 3 / len(windows) * 1e3
        print(f"{path}: {len(windows)} windows, {ms:.3f} ms a window")


if __name__ == "__main__":
    main()
