"""How faithfully ``--init-from stream_guard/models/detector`` recovers v3's weights; JSON.

``requantized``: the recovered torch model exported and quantized again as the trainer exports
(int8), and its int8 weights compared with the shipped graph's, step for step. ``tune_auroc``:
stream AUROC (a stream = its least supported window) on the tune halves of the shipped int8
detector through the server's scorer and of the recovered model in fp32 on the same pairs.

    python docs/results/recover_fidelity.py --data ../shared/data/dev \\
        --out docs/results/recover-fidelity.json
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.train import calibrate, export
from stream_guard.train.cli import _backbone, load_sets
from stream_guard.train.crossencoder import load_classifier, support_fn
from stream_guard.train.encoding import pair_tokenizer
from stream_guard.train.metrics import auroc
from stream_guard.train.recover import WRAPPER, graph_state, recover

SHIPPED = Path(__file__).resolve().parents[2] / "stream_guard" / "models" / "detector"


def main() -> None:
    p = results_parser(__doc__)
    args = p.parse_args()
    started = time.time()
    base = _backbone("minilm", None)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        checkpoint = recover(SHIPPED / "model.onnx", base, work / "recovered")
        shutil.copy(base / "tokenizer.json", checkpoint / "tokenizer.json")
        export.export_onnx(checkpoint, work / "fp32.onnx")
        export.quantize_int8(work / "fp32.onnx", work / "int8.onnx")
        shipped = graph_state(SHIPPED / "model.onnx")
        again = {k.removeprefix(f"{WRAPPER}."): v
                 for k, v in graph_state(work / "int8.onnx").items()}
        total = same = 0
        for name, (value, step) in shipped.items():
            if step > 0:
                total += value.size
                same += int((np.abs(value - again[name][0]) <= step * 0.01).sum())
        _, tune, _ = load_sets(args.data, training=False)
        scorer = calibrate.WindowScorer.load()
        score = support_fn(load_classifier(checkpoint),
                           pair_tokenizer(base, 128), batch_size=64)
        ranking = {}
        for name, records in tune.items():
            windows = calibrate.score_windows(scorer.engine, records, scorer.pipeline)
            fp32 = score([(w.aligned.premise.text, w.aligned.text) for w in windows])
            streams = {}
            for label, values in (("shipped_int8", [w.model_support for w in windows]),
                                  ("recovered_fp32", fp32)):
                least: dict[int, float] = {}
                for w, v in zip(windows, values, strict=True):
                    least[w.record] = min(least.get(w.record, 1.0), v)
                keys = sorted(least)
                streams[label] = round(auroc([least[k] for k in keys],
                                             [records[k].label for k in keys]), 4)
            ranking[name] = streams
    result = {
        "requantized": {"int8_weights": total, "identical": same, "one_step_off": total - same},
        "tune_auroc": ranking,
        "command": ("python docs/results/recover_fidelity.py --data ../shared/data/dev "
                    f"--out {args.out}"),
        "machine": machine_info(),
        "elapsed_s": round(time.time() - started, 1)}
    write_report(args.out, result)


if __name__ == "__main__":
    main()
