"""Where a delta's server CPU goes, measured piece by piece without sockets; writes one JSON file.

``loadtest.run`` reports the server's CPU per delta under load; this splits the work the server
does for the same streams (the load generator's own corpus and tokenizer) into its pure parts:

* ``Session.receive`` on a delta (parse, stream table, budget, segmenter), 100 streams
  interleaved as under load;
* cutting one masked text frame from the socket's bytes (the transport's direct framing:
  :func:`~stream_guard.protocol.framing.frame_extent`, unmasking, UTF-8 decoding);
* stream set-up (``GroundingEngine.prepare``: sentence index and quantities of the context), once
  per stream;
* the lexical check of one window (premise, signals, fused lexical score), once per window.

Set-up and checks are divided by the deltas per stream to give their share of a delta. What the
sum leaves of ``loadtest.run``'s figure is the event loop, the thread hand-offs, the frames the
server sends, and the kernel.

    python -m loadtest.bench_session --out loadtest/results/v3/bench-delta-costs.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from pathlib import Path

import orjson
from websockets.frames import Frame, Opcode
from websockets.speedups import apply_mask  # what the transport uses (its C build)

from loadtest import corpus
from stream_guard.config import load_settings
from stream_guard.eval.results import code_revision, machine_info
from stream_guard.metrics import Metrics
from stream_guard.oversight.segmenter import WindowSegmenter
from stream_guard.oversight.session import Session, SessionConfig
from stream_guard.oversight.stream import PolicyConfig
from stream_guard.protocol.frames import ContextItem, Start
from stream_guard.protocol.framing import frame_extent
from stream_guard.scoring.engine import CheckJob, EngineConfig, GroundingEngine, StreamRequest
from stream_guard.scoring.fusion import window_support


class _Admit:
    """Admits every stream; its prepared evidence is the stream id (no scorer involved)."""

    def overloaded(self) -> bool:
        return False

    def prepare(self, frame: Start) -> str:
        return frame.stream_id


def _per_call_us(fn: object, calls: int, repeats: int) -> float:
    """Best of ``repeats`` CPU-time runs of ``fn()`` (which makes ``calls`` calls), per call."""
    assert callable(fn)
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        fn()
        best = min(best, (time.process_time() - started) * 1e6 / calls)
    return best


def run(streams: int, repeats: int, seed: int) -> dict[str, object]:
    settings = load_settings().replace(tier="lexical", embedder="none")
    builder = corpus.ScriptBuilder(corpus.load_paragraphs(corpus.corpus_files(
        corpus.DEFAULT_CORPUS)))
    rng = random.Random(seed)
    scripts = [builder.build(rng, rng.random() < 0.2) for _ in range(streams)]
    messages = [[orjson.dumps({"type": "delta", "stream_id": "s", "seq": i, "text": d}).decode()
                 for i, d in enumerate(s.deltas)] for s in scripts]
    rounds = min(len(m) for m in messages)

    def sessions() -> None:
        config = SessionConfig(8, 10**12, 65536, PolicyConfig(
            0.5, 0.8, 2, 0.15, settings.window_max_chars, settings.window_min_chars))
        table = [Session(config, _Admit()) for _ in scripts]
        for s in table:
            s.receive('{"type": "start", "stream_id": "s", "context": ["evidence"]}')
        for i in range(rounds):  # interleaved, as the server sees them
            for s, m in zip(table, messages, strict=True):
                s.receive(m[i])

    frame = Frame(Opcode.TEXT, messages[0][1].encode()).serialize(mask=True, extensions=[])

    def frames() -> None:
        for _ in range(20_000):
            extent = frame_extent(frame, 0)
            assert extent is not None
            header, length = extent
            apply_mask(frame[header:header + length], frame[header - 4:header]).decode()

    # a stream's set-up as a new context costs it: no reading kept from the repeat before
    engine = GroundingEngine(dataclasses.replace(EngineConfig.from_settings(settings),
                                                 context_readings_chars=0), Metrics(), model=None)
    requests = [StreamRequest("t", [ContextItem("c", s.context)], None) for s in scripts]
    evidence = [engine.prepare(r) for r in requests]
    jobs = []
    for s, ev in zip(scripts, evidence, strict=True):
        seg = WindowSegmenter(settings.window_max_chars, settings.window_min_chars)
        jobs += [CheckJob(ev, w.text, w.previous) for w in [*seg.feed(s.text), *seg.finish()]]

    deltas_per_stream = sum(len(s.deltas) for s in scripts) / len(scripts)
    windows_per_stream = len(jobs) / len(scripts)
    receive_us = _per_call_us(sessions, rounds * len(scripts), repeats)
    frame_us = _per_call_us(frames, 20_000, repeats)
    prepare_us = _per_call_us(lambda: [engine.prepare(r) for r in requests], len(requests),
                              repeats)
    check_us = _per_call_us(  # what the lexical tier's scoring turn does per window
        lambda: [window_support(a.signals, None, None) for a in engine.align(jobs)], len(jobs),
        repeats)
    shares = {"session_receive": receive_us, "frame_cut": frame_us,
              "stream_setup": prepare_us / deltas_per_stream,
              "lexical_check": check_us * windows_per_stream / deltas_per_stream}
    return {
        "benchmark": "server CPU per delta, by part (CPU time, no sockets, best of repeats)",
        "streams": len(scripts), "repeats": repeats, "seed": seed,
        "deltas_per_stream": round(deltas_per_stream, 1),
        "windows_per_stream": round(windows_per_stream, 2),
        "session_receive_us_per_delta": round(receive_us, 2),
        "frame_cut_us": round(frame_us, 2),
        "stream_setup_ms_per_stream": round(prepare_us / 1000, 3),
        "lexical_check_ms_per_window": round(check_us / 1000, 3),
        "us_per_delta_by_part": {k: round(v, 2) for k, v in shares.items()},
        "us_per_delta_sum": round(sum(shares.values()), 2),
        "machine": machine_info(), "code_revision": code_revision(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    result = run(args.streams, args.repeats, args.seed)
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
