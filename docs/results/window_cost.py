"""What a window of the capacity search's streams costs the server, part by part; JSON.

The streams are the load generator's own (``loadtest.corpus``: contexts of the dev data, a
response of their sentences, half with a fabricated sentence planted), 200 of them at a fixed
seed. For each: a stream's set-up (``GroundingEngine.prepare``: the evidence read and indexed),
in milliseconds a stream; every window's premise and lexical signals (``GroundingEngine.align``,
one window at a time, as the scheduler mostly gets them), in milliseconds a window, mean and
p99; the windows the engine settles without the detector (``GroundingEngine.settled``); and
the detector's pair (its ONNX session on the pairs of the other windows, those the server
would run, row by row as it runs a quantized model) at the thread settings a server may run it
with: one thread, two that spin between runs (the default), two that sleep. One process,
nothing else running; run it from the repository's root (it reads the load generator's
``loadtest``), and in a tree of each revision since settling (``aec9ce2``; ``PYTHONPATH=TREE``,
this script's own copy) to compare them (its reports before this session's,
``window-cost-5ed1d3e.json`` and ``window-cost-94a9838.json``, timed the pairs of every
window):

    PYTHONPATH=. python docs/results/window_cost.py --data ../shared/data/dev \
        --out docs/results/window-cost.json

``--answers written`` takes the load generator's written answers instead (the records' own
faithful responses, ``loadtest.run --answers written``) from the files ``--only`` names:

    PYTHONPATH=. python docs/results/window_cost.py --data ../shared/data/dev \
        --answers written --only summedits_dev.jsonl summedits_train.jsonl \
        halueval_summarization.jsonl begin_dev.jsonl --out docs/results/window-cost-written.json
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from loadtest.corpus import ANSWERS, ScriptBuilder, corpus_files, load_texts
from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.models import cross_encoder
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import CheckJob, StreamRequest
from stream_guard.train.calibrate import WindowScorer

STREAMS = 200
SEED = 5
PAIRS = 64


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"mean": round(1000 * statistics.mean(ordered), 2),
            "p99": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 2),
            "n": len(ordered)}


def main(argv: list[str] | None = None) -> int:
    parser = results_parser(__doc__)
    parser.add_argument("--answers", choices=ANSWERS, default="copied")
    parser.add_argument("--only", nargs="+", metavar="FILE",
                        help="these files of --data (default: all its record files)")
    args = parser.parse_args(argv)
    files = ([args.data / name for name in args.only] if args.only
             else corpus_files(args.data))
    builder = ScriptBuilder.for_server(*load_texts(files, 300, args.answers))
    rng = random.Random(SEED)
    scripts = [builder.build(rng, rng.random() < 0.5) for _ in range(STREAMS)]
    scorer = WindowScorer.load(threads=1)
    engine, pipeline = scorer.engine, scorer.pipeline
    setups: list[float] = []
    aligns: list[float] = []
    pairs = []
    windows = settled = 0
    for script in scripts:
        started = time.perf_counter()
        evidence = engine.prepare(StreamRequest(
            "cost", [ContextItem("context", script.context)], None, None))
        setups.append(time.perf_counter() - started)
        for window in pipeline.windows("".join(script.deltas)):
            started = time.perf_counter()
            (aligned,) = engine.align([CheckJob(evidence, window.text, window.previous)])
            aligns.append(time.perf_counter() - started)
            windows += 1
            if engine.settled(aligned) is not None:
                settled += 1
            elif aligned.premise.sentences:  # as the engine: no premise, no pair
                pairs.append(aligned.pair())
    assert engine.model is not None
    detector = engine.model
    sample = pairs[:: max(1, len(pairs) // PAIRS)][:PAIRS]
    # the pairs as the detector encodes them (the window before prepended where it reads it)
    tokenizer = detector._tokenizer
    batch = tokenizer.pad(tokenizer.encode_pairs(
        [p.premise for p in sample], [p.hypothesis for p in sample],
        [p.context or "" for p in sample] if detector._use_context else None))
    lengths = batch.attention_mask.sum(axis=1)
    model = Path(cross_encoder.__file__).parent / "detector"
    pair_ms = {}
    for name, threads, spin in (("one thread", 1, True), ("two threads, spinning", 2, True),
                                ("two threads, sleeping", 2, False)):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(model / "model.onnx"), options,
                                       providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]

        def row(i: int, session: ort.InferenceSession = session,
                names: list[str] = names) -> object:
            return session.run(None, {n: getattr(batch, n)[i:i + 1, :int(lengths[i])]
                                      for n in names})

        for i in range(8):  # warm-up
            row(i)
        best = min(_timed(row, len(lengths)) for _ in range(3))
        pair_ms[name] = round(1000 * best, 2)
    write_report(args.out, {
        "streams": STREAMS, "seed": SEED, "answers": args.answers,
        "files": [f.name for f in files],
        "windows": windows, "settled_windows": settled, "detector_pairs": len(pairs),
        "response_chars_mean": round(statistics.mean(len(s.text) for s in scripts), 1),
        "context_chars_mean": round(statistics.mean(len(s.context) for s in scripts), 1),
        "setup_ms_per_stream": _ms(setups),
        "align_ms_per_window": _ms(aligns),
        "detector_ms_per_pair": pair_ms,
        "pair_tokens_mean": round(float(np.mean(lengths)), 1),
        "machine": machine_info(),
    })
    return 0


def _timed(row: object, count: int) -> float:
    assert callable(row)
    started = time.perf_counter()
    for i in range(count):
        row(i)
    return (time.perf_counter() - started) / count


if __name__ == "__main__":
    raise SystemExit(main())
