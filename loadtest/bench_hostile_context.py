"""What a client's context can make the text measures cost, per stream set-up and per window;
writes JSON.

A stream's context (up to ``max_frame_bytes``, 64 KB by default) is read once at set-up and
every window of the stream is measured against it, so a context built to be expensive is an
attack on every other stream the worker thread (or, for small contexts on the lexical tier, the
event loop) serves. Each case is a context of ``--chars`` characters written to stress one
measure, with windows that use it; a news-sized context with a plain window is the reference.

- ``year_spans``: "1999-2000 " repeated (every span of years reads its sentence's words);
- ``many_numbers``: thousands of distinct decimals, a window of rounded figures (each figure is
  compared with the evidence's numbers);
- ``matching_sentences``: thousands of short sentences sharing words with an 80-word window
  (the premise's cover step);
- ``scoped_names``: five product sheets (K-1 .. K-5) and a table of figures, windows naming
  each product in turn (each new set of names scopes the evidence again);
- ``nested_keys``: JSON nested 50 deep in 100-letter keys (a leaf's sentence repeats its key
  path: structured evidence, ``evidence/structured.py``);
- ``reference``: a 2 KB article and a sentence about it.

Times are the engine's own steps, one thread, best of ``--repeats``: ``prepare``, and the
stream's windows through ``align`` (the lexical measures and the premise) after an untimed
``prepare`` of their own, per window:

    python -m loadtest.bench_hostile_context --out loadtest/results/v25/hostile-context.json
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from pathlib import Path

from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import (
    CheckJob,
    EngineConfig,
    GroundingEngine,
    StreamEvidence,
    StreamRequest,
)

Case = tuple[list[tuple[str, str]], list[str]]


def cases(chars: int) -> dict[str, Case]:
    words = [f"W{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(80)]
    sentences = [" ".join(words[(4 * k) % 80:(4 * k) % 80 + 4]) for k in range(20)]
    table = " ".join(f"Part {i} weighs {i}.5 kg and costs ${i}.25." for i in range(chars))
    sheets = [(f"K-{k}", f"The K-{k} heater is rated at {k}00 watts and weighs {k}.2 kg.")
              for k in range(1, 6)]
    article = ("The council met on Tuesday to discuss the city budget. Mayor Ana Ruiz proposed "
               "spending 40 million dollars on new bus lanes. Critics said the plan ignored the "
               "suburbs. The vote was postponed until March. ") * 10
    return {
        "year_spans": ([("c", ("1999-2000 " * chars)[:chars])],
                       ["The club ran from 1999 to 2000 and won the league."]),
        "many_numbers": ([("c", " ".join(f"{i}.1234 kg." for i in range(chars))[:chars])],
                         [("1.1 " * 100)[:400], ("about 5 " * 50)[:400], ("1.5m " * 80)[:400]]),
        "matching_sentences": ([("c", " ".join(
            f"{sentences[k % 20]} x{k}." for k in range(chars))[:chars])],
            [" ".join(words)[:400]]),
        "scoped_names": ([*sheets, ("table", table[:chars])],
                         [f"The K-{k} heater weighs {k}.2 kg." for k in (1, 2, 3, 4, 5) * 2]),
        "nested_keys": ([("c", _nested(chars))], ["The a0 is 0."]),
        "reference": ([("c", article[:2000])],
                      ["Mayor Ruiz proposed 40 million dollars for bus lanes."]),
    }


def _nested(chars: int) -> str:
    """JSON nested 50 deep in 100-letter keys around about ``chars`` of leaves: each leaf's
    sentence repeats its key path (a review's 34 KB one read as 15 M characters)."""
    leaves = "{" + ",".join(f'"a{i}":{i % 10}' for i in range(max(1, (chars - 5300) // 8))) + "}"
    for depth in range(50):
        leaves = '{"' + chr(97 + depth % 26) * 100 + '":' + leaves + "}"
    return leaves


def best_ms(step: Callable[[], object], repeats: int,
            setup: Callable[[], object] = lambda: None) -> float:
    """The fastest of ``repeats`` runs of ``step``, each after an untimed ``setup``."""
    runs = []
    for _ in range(repeats):
        setup()
        began = time.perf_counter()
        step()
        runs.append(time.perf_counter() - began)
    return round(min(runs) * 1000, 2)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chars", type=int, default=64_000, help="context size of each case")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    # every stream's set-up reads its context: no reading kept from the repeat before
    engine = GroundingEngine(EngineConfig(tier="lexical", context_readings_chars=0), Metrics())
    results = {}
    for name, (items, windows) in cases(args.chars).items():
        request = StreamRequest("bench", [ContextItem(i, t) for i, t in items], None)
        evidence = engine.prepare(request)
        prepare_ms = best_ms(functools.partial(engine.prepare, request), args.repeats)

        stream = [evidence]

        def new_stream(r: StreamRequest = request, held: list[StreamEvidence] = stream) -> None:
            held[0] = engine.prepare(r)  # each stream scopes and orders its own evidence

        def windows_once(ws: list[str] = windows, held: list[StreamEvidence] = stream) -> None:
            for window in ws:
                engine.align([CheckJob(held[0], window, "")])

        windows_ms = best_ms(windows_once, args.repeats, new_stream)
        results[name] = {"context_chars": sum(len(t) for _, t in items),
                         "sentences": len(evidence.sentences), "prepare_ms": prepare_ms,
                         "windows": len(windows),
                         "ms_per_window": round(windows_ms / len(windows), 2)}
        print(name, results[name], flush=True)
    write_report(args.out, {"chars": args.chars, "repeats": args.repeats, "cases": results,
                            "code_revision": code_revision(), "machine": machine_info()})


if __name__ == "__main__":
    main()
