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

from loadtest.corpus import DEFAULT_CORPUS, ScriptBuilder, corpus_files, load_paragraphs
from loadtest.kb import COLLECTION, TENANT
from stream_guard.config import load_settings
from stream_guard.eval.results import code_revision, write_report
from stream_guard.metrics import Metrics
from stream_guard.scores import WindowScore
from stream_guard.scoring.engine import Alignment, CheckJob, GroundingEngine
from stream_guard.scoring.factory import build_engine
from stream_guard.train.pairs import TextPipeline


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings().replace(tier="cascade", data_dir=args.data_dir)
    engine = await build_engine(settings, Metrics())
    try:
        builder = ScriptBuilder(load_paragraphs(corpus_files(args.corpus), args.per_file))
        pipeline = TextPipeline.from_settings(settings)
        windows: int = 0
        found: list[dict[str, Any]] = []
        low: list[dict[str, Any]] = []
        for connection in range(args.connections):
            rng = random.Random(args.seed * 100003 + connection)  # as loadtest.run seeds them
            for _ in range(args.streams):
                script = builder.build(rng, rng.random() < args.bad_share)
                evidence = engine.prepare(engine.validate(TENANT, [], COLLECTION, None))
                for window in pipeline.windows(script.text):
                    if script.bad_at is not None and window.start >= script.bad_at:
                        break
                    aligned, score = _turn(engine,
                                           CheckJob(evidence, window.text, window.previous))
                    windows += 1
                    s = aligned.signals
                    if (s.conflict or s.other_place or s.opposite_swap or s.polarity_flip
                            or s.against_rows):
                        found.append({"window": window.text, "signals": repr(s),
                                      "premise": [x.text for x in aligned.premise.sentences]})
                    if score.support < engine.threshold:
                        low.append({"connection": connection, "window": window.text,
                                    "support": round(score.support, 3),
                                    "evidence": [e.id for e in score.evidence]})
    finally:
        await engine.close()
    return {"supported_windows": windows, "contradicted": len(found), "windows": found,
            "below_threshold": len(low), "low_windows": low,
            "connections": args.connections, "streams_per_connection": args.streams,
            "code_revision": code_revision()}


def _turn(engine: GroundingEngine, job: CheckJob) -> tuple[Alignment, WindowScore]:
    """The window's evidence and its score, from one turn of the engine (``_process``), as
    the server takes it: a second evidence step would find the stream where the first left
    it (a window's evidence depends on the window before)."""
    seen: list[Alignment] = []
    untouched = engine.align

    def keep(*args: Any, **kwargs: Any) -> list[Alignment]:
        out = untouched(*args, **kwargs)
        seen.extend(out)
        return out

    engine.align = keep  # type: ignore[method-assign]
    try:
        (score,) = engine._process([job])
    finally:
        engine.align = untouched  # type: ignore[method-assign]
    return seen[0], score


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True,
                   help="the data directory loadtest.run --collection indexed")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--per-file", type=int, default=300, help="as loadtest.run's default")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--streams", type=int, default=80, help="scripts per connection")
    p.add_argument("--bad-share", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    write_report(args.out, asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
