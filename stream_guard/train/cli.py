"""``python -m stream_guard.train``: build the shipped detector from the labelled data.

Stages: build pairs from HaluEval, fine-tune the cross-encoder (model selection on the tune half of
the validation sets), export to ONNX and quantize, pick the threshold on the tune half, report
on the held-out half, and measure the cheaper frozen-embedding design against it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stream_guard.dataset import Record, data_files, read_records, split_records
from stream_guard.exceptions import GuardError

if TYPE_CHECKING:
    from stream_guard.models.tokenization import TextTokenizer
    from stream_guard.train.pairs import Example

log = logging.getLogger("stream_guard.train")

TRAIN_DATASETS = ("halueval_qa", "halueval_dialogue", "halueval_summarization")
# Trained on whole: no record of it is in any tune or holdout half (its documents are not in
# summedits_dev).
TRAIN_WHOLE = ("summedits_train",)
VALIDATION_DATASETS = ("summedits_dev", "begin_dev")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="stream-guard train", description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="directory of .jsonl(.gz) files")
    p.add_argument("--work-dir", type=Path, default=Path("train-work"),
                   help="checkpoints, log and intermediate files (outside the package)")
    p.add_argument("--out", type=Path, default=None,
                   help="export: write the detector directory here from work-dir/best")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in work-dir from its last checkpoint")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="where the packaged MiniLM is extracted (default: settings cache_dir)")
    p.add_argument("--base-model", type=str, default="minilm",
                   help='"minilm" (the packaged all-MiniLM-L6-v2), "mpnet" (all-mpnet-base-v2 '
                        'from its five packages: 5x the compute, for a GPU) or a Hugging Face '
                        'model dir')
    p.add_argument("--init-from", type=Path, default=None,
                   help="start from this fine-tuned checkpoint (a work dir's best/) instead of "
                        "the base model's weights; the base model still gives the tokenizer. A "
                        "detector directory (the shipped stream_guard/models/detector) works too: "
                        "its weights are recovered from model.onnx")
    p.add_argument("--dump-examples", type=Path, default=None,
                   help="build the training pairs, write them here (.jsonl.gz) and stop")
    p.add_argument("--examples", type=Path, default=None,
                   help="train on these pairs (from --dump-examples) instead of building them; "
                        "--data then needs only the validation sets")
    p.add_argument("--predict", type=Path, default=None,
                   help="write the model's P(supported) for each of --examples here (.npy) "
                        "and stop: a teacher's soft labels")
    p.add_argument("--soft-labels", type=Path, default=None,
                   help="a teacher's P(supported) per example of --examples (.npy from "
                        "--predict): distil it into this model")
    p.add_argument("--distill-weight", type=float, default=0.7,
                   help="with --soft-labels: the teacher's share of each target")
    p.add_argument("--summedits-repeats", type=int, default=1,
                   help="how many times each summedits_train record enters the pair set (each "
                        "time with freshly drawn synthetic edits); SummEdits' real, subtle edits "
                        "are otherwise a few percent of the pairs")
    p.add_argument("--records-per-dataset", type=int, default=2500,
                   help="HaluEval items sampled from each subset (both answers of an item)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--budget-minutes", type=float, default=110.0,
                   help="wall-clock cap on the fine-tuning loop, evaluations included, over "
                        "the run and its resumes together: raise it to go on with --resume")
    p.add_argument("--eval-minutes", type=float, default=15.0,
                   help="how often the tune halves are scored (the best state is kept)")
    p.add_argument("--tune-records", type=int, default=400,
                   help="tune-half records per validation set scored at each evaluation")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--max-false-halt", type=float, default=0.03)
    p.add_argument("--precision", choices=("int8", "fp32"), default="int8",
                   help="export: int8 dynamic quantization (4x smaller and faster on CPU; "
                        "MiniLM loses little) or fp32 (for backbones int8 hurts, such as MPNet; "
                        "on CUDA the server runs it in fp16)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--detector-version", default="v4",
                   help="export: the name the model card and detector.json give this detector")
    p.add_argument("--force", action="store_true",
                   help="export: replace the shipped detector even if its tune score is higher")
    args = p.parse_args(argv)
    args.command_line = None if argv is None else list(argv)
    return args


def load_sets(data_dir: Path, *, training: bool = True
              ) -> tuple[dict[str, list[Record]], dict[str, list[Record]],
                         dict[str, list[Record]]]:
    """Training records per set (none without ``training``); tune and holdout halves of the
    validation sets."""
    files = {p.name.split(".jsonl")[0]: p for p in data_files(data_dir)}
    train_names = (*TRAIN_DATASETS, *TRAIN_WHOLE) if training else ()
    missing = [n for n in (*train_names, *VALIDATION_DATASETS) if n not in files]
    if missing:
        raise FileNotFoundError(f"{data_dir}: missing {', '.join(missing)}")
    train = {n: read_records(files[n]) for n in train_names}
    tune: dict[str, list[Record]] = {}
    holdout: dict[str, list[Record]] = {}
    for name in VALIDATION_DATASETS:
        records = read_records(files[name])
        tune[name] = split_records(records, "tune")
        holdout[name] = split_records(records, "holdout")
    return train, tune, holdout


def sample_training(train: dict[str, list[Record]], per_dataset: int,
                    rng: random.Random, whole_repeats: int = 1) -> list[Record]:
    """Whole HaluEval items (the right and the hallucinated response share an item id prefix)
    are sampled together, so the two answers to one question are seen side by side; the
    SummEdits training file is taken whole, ``whole_repeats`` times."""
    out: list[Record] = []
    for name in TRAIN_DATASETS:
        by_item: dict[str, list[Record]] = {}
        for r in train[name]:
            by_item.setdefault(r.id.rsplit("-", 1)[0], []).append(r)
        items = sorted(by_item)
        rng.shuffle(items)
        for item in items[:per_dataset]:
            out.extend(by_item[item])
    for _ in range(whole_repeats):
        for name in TRAIN_WHOLE:
            out.extend(train[name])
    return out


def _check_starting_points(args: argparse.Namespace) -> None:
    """Refuse a ``--resume`` with nothing to resume, and an ``--init-from`` or ``--out``
    checkpoint that is not there, at once: found out after the pairs were built, the mistake
    cost a minute or more."""
    from stream_guard.train.crossencoder import TrainingError

    if args.out is not None:
        if not (args.work_dir / "best" / "config.json").is_file():
            raise TrainingError(f"--out: {args.work_dir / 'best'} holds no checkpoint; "
                                "train first (without --out)")
        return
    if args.resume and not (args.work_dir / "state.pt").is_file():
        raise TrainingError(f"--resume: {args.work_dir} holds no checkpoint (state.pt) to "
                            "resume; run without --resume to start, or name the run's "
                            "--work-dir")
    if args.init_from is not None and not args.init_from.exists():
        raise TrainingError(f"--init-from {args.init_from}: no such file or folder")
    if (args.init_from is not None and args.init_from.is_dir()
            and (args.init_from / "best" / "config.json").is_file()
            and not (args.init_from / "config.json").is_file()):
        raise TrainingError(f"--init-from {args.init_from} is a work folder: its best state is "
                            f"{args.init_from / 'best'}")


def _init_weights(init_from: Path, backbone: Path, work_dir: Path) -> Path:
    """The checkpoint ``--init-from`` names: a torch checkpoint as it is, or, for a detector
    directory that ships only its ONNX graph, the weights recovered from that graph into the
    work dir (:mod:`stream_guard.train.recover`)."""
    from stream_guard.models.hf import ModelFormatError
    from stream_guard.train.recover import holds_weights, recover

    if holds_weights(init_from):
        return init_from
    graph = init_from / "model.onnx" if init_from.is_dir() else init_from
    if not graph.is_file():
        raise ModelFormatError(f"--init-from {init_from}: neither a checkpoint (model.safetensors"
                                " or pytorch_model.bin) nor a detector (model.onnx)")
    return recover(graph, backbone, work_dir / "init-from-onnx")


def _subsample(groups: dict[str, list[Record]], n: int, seed: int) -> dict[str, list[Record]]:
    return {k: random.Random(seed).sample(v, min(n, len(v))) for k, v in groups.items()}


# What the ``train`` extra adds (``pip install -e '.[train]'``; imported only when training).
_TRAINING_DEPENDENCIES = frozenset({"torch", "transformers"})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        return run(args)
    except (GuardError, OSError, json.JSONDecodeError) as exc:  # a refusal, in one line
        print(f"stream-guard train: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name not in _TRAINING_DEPENDENCIES:
            raise
        print(f"stream-guard train: needs {exc.name}, which the default install leaves out: "
              "pip install -e '.[train]' in the checkout (on a CPU machine, PyTorch's CPU "
              "build first: README, Models)", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    """Build pairs, train, predict or export, as ``args`` say."""
    import torch  # training-only dependency: imported here so `--help` works without it

    from stream_guard.config import load_settings
    from stream_guard.train.crossencoder import (
        TrainConfig,
        TrainingError,
        device,
        load_classifier,
        started_commands,
        support_fn,
        train,
    )
    from stream_guard.train.encoding import pair_tokenizer
    from stream_guard.train.evaluate import score_datasets
    from stream_guard.train.pairs import (
        TextPipeline,
        read_examples,
        training_examples,
        write_examples,
    )

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    backbone = _backbone(args.base_model, args.cache_dir)
    tok = pair_tokenizer(backbone, args.max_length)
    _check_starting_points(args)  # before the data is read and the pairs are built
    # an export reads the validation sets alone
    train_sets, tune, holdout = load_sets(args.data, training=args.examples is None
                                          and args.out is None)
    if args.out is not None:
        results = finalize(args, args.work_dir / "best", tok, tune, holdout)
        if not results["written"]:
            return 1
        log.info("detector written to %s: %s", args.out, json.dumps(results["policy"]))
        return 0

    rng = random.Random(args.seed)
    pipeline = TextPipeline.from_settings(load_settings())
    if args.examples is None:
        records = sample_training(train_sets, args.records_per_dataset, rng,
                                  args.summedits_repeats)
        examples = training_examples(records, rng, pipeline)
        n_records: int | str = len(records)
    else:
        examples = read_examples(args.examples)
        n_records = f"see {args.examples.name}"
    if args.dump_examples is not None:
        write_examples(args.dump_examples, examples)
        log.info("%d training pairs written to %s", len(examples), args.dump_examples)
        return 0
    start = backbone if args.init_from is None else _init_weights(args.init_from, backbone,
                                                                  args.work_dir)
    if args.predict is not None:
        model = load_classifier(start)
        probs = support_fn(model, tok, batch_size=256)(
            [(e.premise, e.hypothesis) for e in examples])
        np.save(args.predict, np.asarray(probs, dtype=np.float32))
        log.info("P(supported) for %d pairs written to %s", len(probs), args.predict)
        return 0
    soft = None if args.soft_labels is None else np.load(args.soft_labels).tolist()
    from stream_guard.eval.results import machine_info

    command = "stream-guard train " + " ".join(
        sys.argv[1:] if args.command_line is None else args.command_line)
    summary: dict[str, object] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                  "machine": {**machine_info(), "nice": os.nice(0),
                                              "threads": args.threads},
                                  "base_model": args.base_model,
                                  "init_from": None if args.init_from is None
                                  else str(args.init_from),
                                  "summedits_repeats": args.summedits_repeats,
                                  "recipe": {"learning_rate": args.learning_rate,
                                             "batch_size": args.batch_size,
                                             "epochs": args.epochs,
                                             "max_length": args.max_length,
                                             "soft_labels": None if soft is None
                                             else str(args.soft_labels),
                                             "distill_weight": None if soft is None
                                             else args.distill_weight,
                                             "device": str(device())},
                                  "train_records": n_records,
                                  "train_examples": _counts(examples)}
    log.info("%d training pairs from %s records", len(examples), n_records)
    model = load_classifier(start)
    score = support_fn(model, tok)
    tune_sample = _subsample(tune, args.tune_records, args.seed)
    one_class = [name for name, records in tune_sample.items()
                 if len({r.label for r in records}) < 2]
    if one_class:  # its AUROC would be NaN: no checkpoint could ever be kept as the best
        raise TrainingError(f"the tune sample of {', '.join(one_class)} has records of one "
                                "label only: give more --tune-records or another --seed")

    def tune_metric() -> float:
        results = score_datasets(tune_sample, score, pipeline)
        for r in results:
            log.info("  tune %s AUROC %.4f", r.dataset, r.auroc)
        return float(np.mean([r.auroc for r in results]))

    cfg = TrainConfig(batch_size=args.batch_size, learning_rate=args.learning_rate,
                      epochs=args.epochs, budget_s=args.budget_minutes * 60.0,
                      eval_every_s=args.eval_minutes * 60.0, seed=args.seed)
    summary["training"] = train(model, tok, examples, cfg, tune_metric, args.work_dir,
                                resume=args.resume, soft_labels=soft,
                                distill_weight=args.distill_weight, command=command)
    # Each invocation that trained (the first, then every --resume, a killed one too; not one
    # refused): the model card's record of the commands.
    summary["commands"] = started_commands(args.work_dir)
    (args.work_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    return 0


def finalize(args: argparse.Namespace, checkpoint: Path, tok: TextTokenizer,
             tune: dict[str, list[Record]], holdout: dict[str, list[Record]]) -> dict[str, Any]:
    """Export and quantize the best checkpoint, fit the fused score and an offline threshold on
    the tune halves through the engine's own steps, measure the holdout halves offline, and
    write the detector directory. The shipped threshold is then re-fitted on the server path
    (``stream-guard eval --split tune``, see docs/quality.md)."""
    import torch

    from stream_guard.models.packaged import sha256_file
    from stream_guard.train import calibrate, export, report
    from stream_guard.train.evaluate import DatasetScores

    out = args.out
    staging = args.work_dir / "detector"
    staging.mkdir(parents=True, exist_ok=True)
    fp32 = args.work_dir / "model-fp32.onnx"
    if not (checkpoint / "tokenizer.json").is_file():  # checkpoints of older runs lack it
        export.write_tokenizer(tok, checkpoint)
    inputs = export.export_onnx(checkpoint, fp32)
    if args.precision == "int8":
        export.quantize_int8(fp32, staging / "model.onnx")
    else:
        export.copy_file(fp32, staging / "model.onnx")
    export.write_tokenizer(tok, staging)
    export.write_config(checkpoint, staging, args.max_length, inputs)
    scorer = calibrate.WindowScorer.load(str(staging / "model.onnx"), threads=args.threads,
                                         cache_dir=args.cache_dir)
    tune_w = scorer.groups(tune)
    fusion, lexical = calibrate.fit_fusion(tune_w)

    def scores(groups: calibrate.Groups,
               f: Any) -> list[DatasetScores]:
        return [DatasetScores(k, calibrate.stream_scores(recs, wins, f), [r.label for r in recs])
                for k, (recs, wins) in groups.items()]

    tune_scores = scores(tune_w, fusion)
    calibration = report.calibrate(tune_scores, args.max_false_halt)
    policy = calibrate.choose_policy(tune_w, fusion, args.max_false_halt)
    point = policy.point
    threshold = point.threshold
    tune_auroc = float(np.mean([d.auroc for d in tune_scores]))
    holdout_w = scorer.groups(holdout)
    results: dict[str, Any] = {
        "command": "python -m stream_guard.train " + " ".join(
            sys.argv[1:] if args.command_line is None else args.command_line),
        "version": args.detector_version,
        "quantization": export.QUANTIZATION[args.precision],
        "max_length": args.max_length, "seed": args.seed, "threads": args.threads,
        "torch_version": torch.__version__,
        "fusion": {"model": fusion.to_json(), "lexical": lexical.to_json()},
        "calibration": calibration, "tune_auroc": round(tune_auroc, 4),
        "policy": {"threshold": point.threshold, "clear_margin": point.clear_margin,
                   "run_at_end": point.run_at_end,
                   "tune_mean_balanced_accuracy": policy.mean_balanced_accuracy,
                   "tune": policy.per_dataset},
        "tune_raw_detector": report.describe(scores(tune_w, None), threshold),
        "holdout_offline": report.describe(scores(holdout_w, fusion), threshold),
        "holdout_offline_raw_detector": report.describe(scores(holdout_w, None), threshold),
        "holdout_policy": calibrate.policy_rows(holdout_w, fusion, point),
        "holdout_long_documents": calibrate.long_document_rows(holdout_w, fusion, point),
    }
    summary = args.work_dir / "train_summary.json"
    if summary.is_file():
        results["training"] = json.loads(summary.read_text())
    shipped = out / "detector.json"
    previous = json.loads(shipped.read_text()).get("tune_auroc") if shipped.is_file() else None
    results["written"] = previous is None or round(tune_auroc, 4) > previous or args.force
    if not results["written"]:  # compared as stored: the same model again is no gain
        log.warning("tune AUROC %.4f does not beat the detector in %s (%.4f): nothing written "
                    "there; run again with --force to install this model anyway (its graph, "
                    "tokenizer and config are staged in %s, its figures in %s)", tune_auroc,
                    out, previous, staging, args.work_dir / "results.json")
        report.write_json(args.work_dir / "results.json", results)
        return results
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.onnx", "tokenizer.json", "config.json"):
        export.copy_file(staging / name, out / name)
    results["sha256"] = sha256_file(out / "model.onnx")
    results["size_bytes"] = (out / "model.onnx").stat().st_size
    report.write_json(out / "detector.json", {
        "version": args.detector_version,
        "threshold": threshold,
        "clear_margin": point.clear_margin,
        "run_at_end": point.run_at_end,
        "max_false_halt_rate": args.max_false_halt,
        "tune_auroc": round(tune_auroc, 4),
        "fusion": results["fusion"],
        "score": "window support = fused P(supported) from the detector's probability on the "
                 "(focused premise, window) pair and the lexical signals; a stream halts per "
                 "the halt policy on these supports",
        "model_sha256": results["sha256"],
        "quantization": results["quantization"],
    })
    report.write_json(args.work_dir / "results.json", results)
    (out / "MODEL_CARD.md").write_text(report.model_card(results))
    return results


def _backbone(base_model: str, cache_dir: Path | None) -> Path:
    """The packaged MiniLM or MPNet, or a Hugging Face model directory the user brings."""
    from stream_guard.models.packaged import PACKAGED_BACKBONES, packaged_dir

    if base_model not in PACKAGED_BACKBONES:
        path = Path(base_model).expanduser()
        missing = [f for f in ("config.json", "tokenizer.json") if not (path / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f"--base-model {base_model}: neither one of {', '.join(PACKAGED_BACKBONES)} nor "
                f"a Hugging Face model directory ({', '.join(missing)} not found in {path})")
        return path
    from stream_guard.config import load_settings

    return packaged_dir(base_model,
                        cache_dir if cache_dir is not None else load_settings().cache_dir)


def _counts(examples: Sequence[Example]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in examples:
        kind = f"{e.kind}:{e.label}"
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))
