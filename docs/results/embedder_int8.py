"""Would an int8 MiniLM embed a collection window's query well enough? JSON.

The embedding is most of what a collection window costs beyond an inline one (benchmarks.md);
dynamic int8 quantization runs MiniLM about twice as fast on CPU. Collections keep their fp32
vectors (quantizing the documents' would mean indexing every collection again), so only the
queries would be int8. This compares, for sentences of the load-test collection's documents, the
int8 query vector with the fp32 one (cosine) and the documents each finds nearest (top 1, top 3)
against the fp32 ranking, and times both (milliseconds a text, alone and in batches of 16):

    PYTHONPATH=. python docs/results/embedder_int8.py --data-dir DIR --out F

(``DIR``: a data directory ``loadtest.run --collection`` indexed, whose ``contexts.jsonl`` holds
the documents.)
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import orjson
from onnxruntime.quantization import QuantType, quantize_dynamic

from stream_guard.config import load_settings
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.models.embedder import SentenceEmbedder, load_embedder
from stream_guard.models.hf import open_model_dir
from stream_guard.models.onnx_cache import cached_onnx
from stream_guard.models.packaged import minilm_dir
from stream_guard.models.runtime import OnnxRunner


def _ms_a_text(embedder: SentenceEmbedder, texts: list[str], batch: int) -> float:
    times = []
    for i in range(0, len(texts), batch):
        t0 = time.perf_counter()
        embedder.embed(texts[i:i + batch])
        times.append((time.perf_counter() - t0) / len(texts[i:i + batch]))
    return round(1000 * float(np.median(times)), 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--queries", type=int, default=400)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    cache = load_settings().cache_dir
    fp32 = load_embedder("minilm", cache_dir=cache, device="cpu")
    source = cached_onnx(open_model_dir(minilm_dir(cache)), "hidden", cache)
    with tempfile.TemporaryDirectory() as tmp:
        int8_path = Path(tmp) / "minilm-int8.onnx"
        quantize_dynamic(str(source), str(int8_path), weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        runner = OnnxRunner(int8_path, output="last_hidden_state", device="cpu",
                            cache_dir=cache, spin=False)
        runner.per_row = False  # an embedder's token outputs run padded, as fp32's
        int8 = SentenceEmbedder(runner, fp32._tokenizer, name="int8", dim=fp32.dim,
                                pooling=fp32._pooling)
        documents = [orjson.loads(line)["text"] for line in
                     (args.data_dir / "contexts.jsonl").read_bytes().splitlines()]
        sentences = [s for d in documents for s in re.split(r"(?<=[.!?])\s+", d) if len(s) > 20]
        queries = random.Random(0).sample(sentences, args.queries)
        index = fp32.embed(documents)
        a, b = fp32.embed(queries), int8.embed(queries)
        cosine = np.sum(a * b, axis=1)
        top_a = np.argsort(-(a @ index.T), axis=1)[:, :3]
        top_b = np.argsort(-(b @ index.T), axis=1)[:, :3]
        report = {
            "documents": len(documents), "queries": len(queries),
            "cosine_mean": round(float(cosine.mean()), 4),
            "cosine_min": round(float(cosine.min()), 4),
            "top1_agreement": round(float(np.mean(top_a[:, 0] == top_b[:, 0])), 4),
            "top3_overlap": round(float(np.mean([len(set(x) & set(y)) / 3
                                                 for x, y in zip(top_a, top_b, strict=True)])),
                                  4),
            "ms_a_text": {name: {"alone": _ms_a_text(e, queries[:160], 1),
                                 "batches_of_16": _ms_a_text(e, queries[:160], 16)}
                          for name, e in (("fp32", fp32), ("int8", int8))},
            "code_revision": code_revision(), "machine": machine_info()}
    write_report(args.out, report)


if __name__ == "__main__":
    main()
