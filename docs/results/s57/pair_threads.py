"""The shipped detector's pair (104 tokens) on one ONNX session at a given intra-op thread
count, 300 runs after 20 warm-up: p50, p90, mean in ms. Run from the repository root:

    python docs/results/s57/pair_threads.py stream_guard/models/detector/model.onnx 2
    python docs/results/s57/pair_threads.py stream_guard/models/detector/model.onnx 1
"""

from __future__ import annotations

import sys
import time

import numpy as np
import onnxruntime as ort

TOKENS = 104


def main() -> None:
    path, threads = sys.argv[1], int(sys.argv[2])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {"input_ids": rng.integers(1000, 20000, (1, TOKENS)).astype(np.int64),
             "attention_mask": np.ones((1, TOKENS), np.int64),
             "token_type_ids": np.r_[np.zeros(70), np.ones(TOKENS - 70)].astype(np.int64)[None]}
    names = {i.name for i in session.get_inputs()}
    feeds = {k: v for k, v in feeds.items() if k in names}
    for _ in range(20):
        session.run(None, feeds)
    times = []
    for _ in range(300):
        started = time.perf_counter()
        out = session.run(None, feeds)
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    print(path, threads, f"p50 {np.median(ms):.2f} p90 {np.percentile(ms, 90):.2f} "
          f"mean {ms.mean():.2f}", out[0].ravel()[:2])


if __name__ == "__main__":
    main()
