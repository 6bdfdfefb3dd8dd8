"""How many deltas after its last character a window is complete; JSON.

A window is checked once the delta that completes it arrives (``loadtest.corpus.completing_deltas``,
the server's own segmenter): for a sentence that ends in a full stop, a delta of the next
sentence. This counts, for every window of the load generator's scripts (word-sized deltas, as
an LLM's tokens), the deltas that arrive after the one holding the window's last character
until it is complete, so that two revisions of the segmenter can be compared (run from a tree
of each; the last window, completed by ``end``, is left out):

    PYTHONPATH=. python docs/results/window_completion.py --out F
"""

from __future__ import annotations

import argparse
import bisect
import collections
import itertools
import random
from pathlib import Path

from loadtest.corpus import DEFAULT_CORPUS, ScriptBuilder, corpus_files, load_paragraphs
from stream_guard.eval.results import code_revision, write_report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--scripts", type=int, default=400)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    builder = ScriptBuilder(load_paragraphs(corpus_files(args.corpus), 300))
    rng = random.Random(0)
    waited: collections.Counter[int] = collections.Counter()
    for _ in range(args.scripts):
        script = builder.build(rng, rng.random() < 0.2)
        ends = list(itertools.accumulate(len(d) for d in script.deltas))
        for (_, end), index in script.completes.items():
            if index < len(script.deltas):  # completed by a delta, not by ``end``
                holding = bisect.bisect_left(ends, end)  # the delta with its last character
                waited[index - holding] += 1
    windows = sum(waited.values())
    write_report(args.out, {
        "windows": windows,
        "deltas_after_last_character": dict(sorted(waited.items())),
        "mean": round(sum(k * n for k, n in waited.items()) / windows, 3),
        "scripts": args.scripts, "code_revision": code_revision()})


if __name__ == "__main__":
    main()
