"""What the small-talk head costs: how many windows it is asked about, and its time, JSON.

The engine asks the head (:mod:`stream_guard.models.small_talk`) only about a window with the
shape of small talk that the word lists did not pass (``stance.could_be_small_talk`` and not
``chats_about_listener``), on the model thread, all of a batch's such windows in one embedder
call. Per set: the windows the server cuts, how many the head is asked about, and the time of
one such window's call (its clauses included), p50 and p99 over every asked window, on this
machine's CPU threads::

    python docs/results/small_talk_cost.py --data ../shared/data/dev \\
        --out docs/results/small-talk-cost.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from stream_guard.config import Settings
from stream_guard.dataset import read_records, split_records
from stream_guard.models.embedder import load_embedder
from stream_guard.models.small_talk import load_small_talk_head
from stream_guard.text.stance import chats_about_listener, could_be_small_talk
from stream_guard.text.terms import term_keys
from stream_guard.train.pairs import TextPipeline

RESULTS = Path(__file__).resolve().parent
PROBES = ("chat-probe5.jsonl", "chat-probe6.jsonl", "structured-probe6.jsonl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings()
    embedder = load_embedder("minilm", cache_dir=settings.cache_dir)
    head = load_small_talk_head()
    assert head is not None and head.reads(embedder)
    pipeline = TextPipeline.from_settings(settings)
    sets = {name: read_records(RESULTS / name) for name in PROBES}
    for name in ("summedits_dev", "begin_dev"):
        sets[f"{name} tune"] = split_records(read_records(args.data / f"{name}.jsonl"), "tune")
    head.small_talk(embedder, ["Warm-up line, not timed."])
    report = {}
    for name, records in sets.items():
        windows = asked = 0
        times = []
        for record in records:
            evidence = pipeline.evidence(record.context).sentences.keys
            prompt = term_keys(record.prompt or "")
            for window in pipeline.windows(record.response):
                windows += 1
                keys = term_keys(window.text)
                if (not could_be_small_talk(window.text, keys, evidence, prompt)
                        or chats_about_listener(window.text, keys, evidence, prompt)):
                    continue
                asked += 1
                start = time.perf_counter()
                head.small_talk(embedder, [window.text])
                times.append(time.perf_counter() - start)
        ms = np.array(times) * 1000.0
        report[name] = {"windows": windows, "asked": asked,
                        "p50_ms": round(float(np.percentile(ms, 50)), 2) if asked else None,
                        "p99_ms": round(float(np.percentile(ms, 99)), 2) if asked else None}
    report["machine"] = {"cpus": os.cpu_count(), "processor": platform.processor(),
                         "load_average": list(os.getloadavg())}
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
