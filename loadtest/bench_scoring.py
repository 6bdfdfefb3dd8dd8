"""Benchmark of the model and retrieval hot paths; writes one JSON file.

Measures, on whatever machine it runs (CPU, or CUDA when present, chosen like the server does):
  * cross-encoder latency (p50/p99) and throughput at several batch sizes: the shipped detector
    when it is installed, else a MiniLM-sized BERT classifier built from the packaged MiniLM
    weights (same shapes and cost as a MiniLM cross-encoder; its scores are meaningless);
  * embedding throughput (batched) and single-window latency with the packaged MiniLM;
  * FAISS search latency over random unit vectors (dim 384) at several collection sizes, with
    the index type the store would choose for that size.

Not a test: numbers depend on the machine. Usage:
    python loadtest/bench_scoring.py [--out loadtest/results/x.json] [--faiss-1m]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stream_guard.eval.results import machine_info as shared_machine_info
from stream_guard.eval.results import write_report
from stream_guard.evidence.faiss_index import (
    build_index,
    gpu_available,
    prepare_for_search,
    search,
    set_search_threads,
)
from stream_guard.models.cross_encoder import (
    DEFAULT_DETECTOR_DIR,
    CrossEncoderScorer,
    load_detector,
)
from stream_guard.models.embedder import load_embedder
from stream_guard.models.packaged import minilm_dir
from stream_guard.scores import Pair

EVIDENCE = ("The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, "
            "France. It is named after the engineer Gustave Eiffel, whose company designed and "
            "built the tower from 1887 to 1889. Locally nicknamed La dame de fer, it was "
            "constructed as the centrepiece of the 1889 World's Fair, and to crown the centennial "
            "anniversary of the French Revolution. Although initially criticised by some of "
            "France's leading artists and intellectuals for its design, it has since become a "
            "global cultural icon of France and one of the most recognisable structures.")
WINDOW = "The tower was designed by Gustave Eiffel's company and finished in 1889."
CONTEXT = "It stands on the Champ de Mars."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--batches", default="1,8,32,128")
    parser.add_argument("--faiss-sizes", default="10000,100000")
    parser.add_argument("--faiss-1m", action="store_true", help="also 1,000,000 chunks")
    parser.add_argument("--index-flat-max", type=int, default=50_000)
    parser.add_argument("--min-seconds", type=float, default=3.0,
                        help="time spent per measured configuration")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0 = auto)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--faiss-search-threads", type=int, default=1,
                        help="OpenMP threads while searching (the server's default is 1)")
    args = parser.parse_args()

    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="sg-bench-"))
    result: dict[str, Any] = {"machine": machine_info(), "settings": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    scorer, scorer_kind = cross_encoder(cache, args)
    result["cross_encoder"] = {"model": scorer_kind, "device": scorer.device,
                               "evidence_per_window": 3,
                               "batches": bench_scorer(scorer, args)}
    result["embedding"] = bench_embedder(cache, args)
    sizes = [int(s) for s in args.faiss_sizes.split(",") if s]
    if args.faiss_1m:
        sizes.append(1_000_000)
    result["faiss"] = [bench_faiss(n, args) for n in sizes]

    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    out = args.out or Path(__file__).parent / "results" / (
        f"bench_scoring-{result['cross_encoder']['device']}-{platform.node() or 'host'}.json")
    write_report(out, result)
    print(f"written to {out}", file=sys.stderr)
    if args.cache_dir is None:
        shutil.rmtree(cache, ignore_errors=True)


def machine_info() -> dict[str, Any]:
    """The shared description (:func:`stream_guard.eval.results.machine_info`), with what the
    scorers can run on here."""
    return {**shared_machine_info(), "onnxruntime_providers": ort.get_available_providers(),
            "faiss_gpu": gpu_available()}


def cross_encoder(cache: Path, args: argparse.Namespace) -> tuple[CrossEncoderScorer, str]:
    common = {"cache_dir": cache, "backend": args.backend, "device": args.device,
              "intra_op_threads": args.threads, "batch_size": 128}
    if (DEFAULT_DETECTOR_DIR / "model.onnx").is_file():
        return load_detector("default", **common), "shipped detector"
    return load_detector(str(_minilm_sized_classifier(cache)), **common), \
        "MiniLM-sized BERT classifier (random head; timing only)"


def _minilm_sized_classifier(cache: Path) -> Path:
    """MiniLM's encoder + pooler with a random 2-way head, saved in HF layout (no torch)."""
    source = minilm_dir(cache)
    target = cache / "bench-minilm-classifier"
    target.mkdir(exist_ok=True)
    weights = load_file(str(source / "model.safetensors"))
    rng = np.random.default_rng(0)
    hidden = weights["embeddings.word_embeddings.weight"].shape[1]
    weights = {f"bert.{k}": v for k, v in weights.items()}
    weights["classifier.weight"] = (rng.standard_normal((2, hidden)) * 0.02).astype(np.float32)
    weights["classifier.bias"] = np.zeros(2, np.float32)
    save_file(weights, str(target / "model.safetensors"))
    config = json.loads((source / "config.json").read_text())
    config.update(architectures=["BertForSequenceClassification"],
                  id2label={"0": "unsupported", "1": "supported"},
                  label2id={"unsupported": 0, "supported": 1})
    (target / "config.json").write_text(json.dumps(config))
    shutil.copy(source / "tokenizer.json", target / "tokenizer.json")
    return target


def _timed(fn: Callable[[], object], min_seconds: float) -> list[float]:
    fn()  # warm-up: first runs allocate and (on GPU) build kernels
    times: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds or len(times) < 3:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _stats(times: list[float]) -> dict[str, float]:
    arr = np.array(times) * 1000.0
    return {"p50_ms": round(float(np.percentile(arr, 50)), 3),
            "p99_ms": round(float(np.percentile(arr, 99)), 3),
            "mean_ms": round(float(arr.mean()), 3), "runs": len(times)}


def bench_scorer(scorer: CrossEncoderScorer, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        pairs = [Pair(EVIDENCE, WINDOW, CONTEXT)] * batch
        times = _timed(functools.partial(scorer.score_pairs, pairs), args.min_seconds)
        stats = _stats(times)
        pairs_per_s = batch / (stats["mean_ms"] / 1000.0)
        rows.append({"batch": batch, **stats, "pairs_per_s": round(pairs_per_s, 1),
                     "windows_per_s": round(pairs_per_s / 3, 1)})
        print(f"cross-encoder batch {batch}: {rows[-1]}", file=sys.stderr)
    return rows


def bench_embedder(cache: Path, args: argparse.Namespace) -> dict[str, Any]:
    embedder = load_embedder("minilm", cache_dir=cache, backend=args.backend,
                             device=args.device, intra_op_threads=args.threads)
    chunks = [EVIDENCE[: 200 + (i * 37) % 400] for i in range(256)]
    batch_times = _timed(lambda: embedder.embed(chunks), args.min_seconds)
    window_times = _timed(lambda: embedder.embed([WINDOW]), args.min_seconds)
    out = {"model": embedder.name, "device": embedder.device,
           "chunks_per_s": round(len(chunks) / float(np.mean(batch_times)), 1),
           "chunk_chars_mean": round(float(np.mean([len(c) for c in chunks])), 1),
           "single_window": _stats(window_times)}
    print(f"embedding: {out}", file=sys.stderr)
    return out


def bench_faiss(n: int, args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((n, 384), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    t0 = time.perf_counter()
    set_search_threads(os.cpu_count() or 1)  # builds use every core, as `index add` does
    index, kind = build_index(data, args.index_flat_max)
    build_s = time.perf_counter() - t0
    index = prepare_for_search(index)
    set_search_threads(args.faiss_search_threads)
    one = data[:1] + 0.05
    many = data[:32] + 0.05
    out = {"chunks": n, "index": kind, "gpu": gpu_available() and kind == "flat",
           "build_s": round(build_s, 2),
           "k3_query1": _stats(_timed(lambda: search(index, one, 3), args.min_seconds / 2)),
           "k3_query32": _stats(_timed(lambda: search(index, many, 3), args.min_seconds / 2))}
    print(f"faiss: {out}", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
