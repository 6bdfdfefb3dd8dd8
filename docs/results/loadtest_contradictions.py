"""The supported windows of load-test streams that a collection's evidence contradicts, or
that score below the halt threshold; JSON.

``loadtest.run --collection`` streams sentences copied from the corpus's contexts, each window
searched for in a collection of all of them: no window before a planted sentence is wrong, so a
contradiction signal on one (a figure, place, negation or opposite the evidence states
otherwise) is a search that found another document instead of its own. This replays the
scripts the generator's first connections make (their seeds, in order) through the engine's
turn (evidence, then the detector), without sockets or timing, and lists those windows (a
window below the threshold is not a halt by itself, but one that ends a stream is). The
collection is the one ``loadtest.run --collection`` indexed (its
``config.collection.data_dir``):

    python docs/results/loadtest_contradictions.py --data-dir /tmp/stream-guard-loadtest-kb-H \\
        --connections 4 --streams 80 --out docs/results/loadtest-contradictions.json
"""

from __future__ import annotations

import argparse
import asyncio
import random
from pathlib import Path
from typing import Any

from loadtest.kb import COLLECTION, TENANT
from loadtest.replay import add_arguments, replay, turn
from stream_guard.eval.results import code_revision, write_report
from stream_guard.scoring.engine import CheckJob


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    windows: int = 0
    found: list[dict[str, Any]] = []
    low: list[dict[str, Any]] = []
    async with replay(args) as r:
        for connection in range(args.connections):
            rng = random.Random(args.seed * 100003 + connection)  # as loadtest.run seeds them
            for _ in range(args.streams):
                script = r.builder.build(rng, rng.random() < args.bad_share)
                evidence = r.engine.prepare(r.engine.validate(TENANT, [], COLLECTION, None))
                for window in r.pipeline.windows(script.text):
                    if script.bad_at is not None and window.start >= script.bad_at:
                        break
                    t = turn(r.engine, CheckJob(evidence, window.text, window.previous))
                    windows += 1
                    s = t.alignment.signals
                    if (s.conflict or s.other_place or s.opposite_swap or s.polarity_flip
                            or s.against_rows):
                        found.append({"window": window.text, "signals": repr(s), "premise": [
                            x.text for x in t.alignment.premise.sentences]})
                    if t.score.support < r.engine.threshold:
                        low.append({"connection": connection, "window": window.text,
                                    "support": round(t.score.support, 3),
                                    "evidence": [e.id for e in t.score.evidence]})
    return {"supported_windows": windows, "contradicted": len(found), "windows": found,
            "below_threshold": len(low), "low_windows": low,
            "connections": args.connections, "streams_per_connection": args.streams,
            "code_revision": code_revision()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--streams", type=int, default=80, help="scripts per connection")
    p.add_argument("--bad-share", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    write_report(args.out, asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
