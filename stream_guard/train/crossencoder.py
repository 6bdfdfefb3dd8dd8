"""Fine-tuning MiniLM as a (evidence, window) cross-encoder with a 2-class head.

CPU training on a shared machine is the constraint every choice here serves: the word embeddings
are frozen (their AdamW update is half the step time at this model size and they need no tuning
for a pair task), batches are grouped by length so padding is small, the run stops at a
wall-clock budget, and it checkpoints often enough to be stopped and resumed at any time.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from stream_guard.exceptions import GuardError
from stream_guard.models.batching import length_sorted_batches
from stream_guard.models.tokenization import TextTokenizer
from stream_guard.train.encoding import encode_pairs, padded, pair_encodings
from stream_guard.train.pairs import ID2LABEL, Example

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_fraction: float = 0.04
    weight_decay: float = 0.01
    label_smoothing: float = 0.05
    epochs: float = 1.0
    budget_s: float = 120 * 60.0
    eval_every_s: float = 15 * 60.0
    checkpoint_every_s: float = 5 * 60.0
    seed: int = 13


class TrainingError(GuardError):
    """The run cannot start or go on (nothing to resume, a checkpoint of another run, a tune
    metric that is not a number); the message says why."""


# What fixes the batches and their schedule: a run resumed with another value of one of them
# would not see "exactly the batches it had not seen" (and the optimizer state restored would
# override a new learning rate without a word).
_RUN_FIELDS = ("batch_size", "learning_rate", "warmup_fraction", "weight_decay",
               "label_smoothing", "epochs", "seed")


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_classifier(model_dir: Path) -> PreTrainedModel:
    """A 2-class head on the base model (BERT-family: MiniLM, MPNet, RoBERTa...)."""
    try:
        model: PreTrainedModel = AutoModelForSequenceClassification.from_pretrained(
            str(model_dir), num_labels=2, id2label=ID2LABEL,
            label2id={v: k for k, v in ID2LABEL.items()})
    except RuntimeError as exc:  # a head of another size (an NLI model's 3 labels)
        raise TrainingError(f"{model_dir}: cannot be loaded as a 2-label classifier: "
                            f"{str(exc).splitlines()[0]}") from None
    torch.nn.Module.to(model, device())
    return model


def autocast() -> AbstractContextManager[object]:
    """bf16 matrix work on a GPU (the speed a GPU run is for; the loss stays fp32), exact fp32
    on CPU, where bf16 would be slower."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device().type == "cuda")


def support_fn(model: PreTrainedModel, tok: TextTokenizer,
               batch_size: int = 32) -> Callable[[Sequence[tuple[str, str]]], list[float]]:
    """P(supported) for pairs, batched by length; the model is left in the mode it was in."""
    inputs = _accepted_inputs(model)

    def score(pairs: Sequence[tuple[str, str]]) -> list[float]:
        was_training = model.training
        model.train(False)
        out = np.zeros(len(pairs), dtype=np.float64)
        encodings = pair_encodings(tok, pairs)
        with torch.inference_mode():
            for idx in length_sorted_batches([len(e.ids) for e in encodings], batch_size):
                batch = _tensors(inputs, padded(tok, [encodings[i] for i in idx]))
                with autocast():
                    logits = model(**batch).logits
                probs = torch.softmax(logits.float(), dim=-1)[:, 1]
                out[idx] = probs.cpu().numpy()
        model.train(was_training)
        return out.tolist()
    return score


class Log:
    """Append-only JSON-lines training log: steps, losses, evaluations, checkpoints."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, **row: object) -> None:
        row = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **row}
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


def started_commands(work_dir: Path) -> list[str]:
    """The commands of the invocations that trained in ``work_dir``, in order (their "start"
    events in its log)."""
    path = work_dir / "log.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r["command"] for r in rows if r.get("event") == "start" and r.get("command")]


def train(model: PreTrainedModel, tok: TextTokenizer, examples: Sequence[Example],
          cfg: TrainConfig, evaluate: Callable[[], float], work_dir: Path, *,
          resume: bool = False, soft_labels: Sequence[float] | None = None,
          distill_weight: float = 0.0, command: str | None = None) -> dict[str, object]:
    """Fine-tune over ``examples`` for ``cfg.epochs``, resumably.

    Distillation: with ``soft_labels`` (a teacher's P(supported) per example), each example's
    target is ``distill_weight`` of the teacher's distribution plus the rest of its own
    label-smoothed label, one cross-entropy against that mixture: the student learns the
    teacher's graded judgement where it is sure and the gold label where the teacher is wrong.

    The batch order is a pure function of the examples and the seed, so a run stopped anywhere
    continues from its last checkpoint (``work_dir/state.pt``: weights, optimizer, scheduler,
    step, evaluation history) with exactly the batches it had not seen. The tune metric is taken
    every ``eval_every_s`` and at the end; the best state so far is kept in ``work_dir/best``
    with its tokenizer, a model directory the server loads as it is.
    """
    torch.manual_seed(cfg.seed)
    model.base_model.embeddings.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.learning_rate)
    batches = _batches(tok, examples, cfg.batch_size, cfg.epochs, random.Random(cfg.seed))
    total = len(batches)
    warmup = max(1, int(total * cfg.warmup_fraction))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup))))
    targets = _targets(examples, cfg.label_smoothing, soft_labels, distill_weight)
    state_path = work_dir / "state.pt"
    best_dir = work_dir / "best"
    log = Log(work_dir / "log.jsonl")
    done = 0
    history: list[dict[str, float]] = []
    best = -math.inf
    seen = 0
    spent = 0.0
    run = {name: getattr(cfg, name) for name in _RUN_FIELDS} | {"examples": len(examples)}
    if resume:  # (a work dir without state.pt is refused by the CLI before any pair is built)
        try:
            state = torch.load(state_path, map_location=device(), weights_only=False)
            if not isinstance(state, dict):
                raise TypeError(f"a {type(state).__name__}, not a checkpoint")
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            done, history, best = state["step"], state["history"], state["best"]
            seen, spent = state["pairs_seen"], state["train_seconds"]
        except Exception as exc:  # torch's unpickling and shape errors have no one type
            raise TrainingError(f"--resume: {state_path} is not a checkpoint of this model "
                              f"({type(exc).__name__}: {str(exc)[:200]})") from None
        changed = {k: (v, run[k]) for k, v in state.get("run", run).items() if run.get(k) != v}
        if changed:
            raise TrainingError("--resume: the run was started with " + ", ".join(
                f"{k} {was} (now {now})" for k, (was, now) in changed.items())
                + "; resume it with the same options, or start afresh in another --work-dir")
        log.write(event="resume", step=done, of=total)
        logger.info("resumed at step %d/%d", done, total)
    log.write(event="start", step=done, of=total, command=command)  # past every refusal

    def save_state(step: int, elapsed: float) -> None:
        tmp = state_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "step": step, "history": history,
                    "best": best, "pairs_seen": seen, "train_seconds": elapsed, "run": run},
                   tmp)
        tmp.replace(state_path)
        log.write(event="checkpoint", step=step)

    def run_eval(step: int, elapsed: float) -> None:
        nonlocal best
        metric = evaluate()
        if not math.isfinite(metric):  # no best could ever be kept, and log.jsonl would hold NaN
            raise TrainingError(f"the tune metric is {metric} at step {step}: a tune sample "
                              "needs both supported and unsupported records in every set "
                              "(more --tune-records, or another --seed)")
        history.append({"step": step, "pairs_seen": seen, "elapsed_s": round(elapsed, 1),
                        "tune_metric": metric})
        log.write(event="eval", step=step, pairs_seen=seen, tune_metric=metric)
        logger.info("eval at step %d: tune metric %.4f", step, metric)
        if metric > best:
            best = metric
            model.save_pretrained(str(best_dir))
            tok.save(best_dir / "tokenizer.json")  # a whole model dir the server can load

    started = time.monotonic() - spent
    last_eval = last_save = time.monotonic()
    model.train()
    running = 0.0
    step = done
    inputs = _accepted_inputs(model)
    for step in range(done + 1, total + 1):
        idx = batches[step - 1]
        batch = _tensors(inputs, encode_pairs(tok, [(examples[i].premise, examples[i].hypothesis)
                                                    for i in idx]))
        with autocast():
            logits = model(**batch).logits
        target = targets[torch.tensor(idx)].to(device())
        loss = torch.nn.functional.cross_entropy(logits.float(), target)
        loss.backward()  # type: ignore[no-untyped-call]  # untyped in torch
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        running += loss.item()
        seen += len(idx)
        elapsed = time.monotonic() - started
        if step % 25 == 0:
            log.write(event="step", step=step, of=total, loss=round(running / 25, 4),
                      elapsed_s=round(elapsed))
            logger.info("step %d/%d loss %.4f elapsed %.0fs", step, total, running / 25, elapsed)
            running = 0.0
        now = time.monotonic()
        out_of_time = elapsed > cfg.budget_s
        if now - last_eval > cfg.eval_every_s or step == total or out_of_time:
            run_eval(step, elapsed)
            last_eval = time.monotonic()
        if now - last_save > cfg.checkpoint_every_s or step == total or out_of_time:
            save_state(step, elapsed)
            last_save = time.monotonic()
        if out_of_time:
            logger.warning("budget of %.0fs reached at step %d/%d (counted over the run and "
                           "its resumes): raise --budget-minutes and --resume to go on, or "
                           "export the best state with --out", cfg.budget_s, step, total)
            break
    return {"steps_planned": total, "steps_run": step, "pairs_seen": seen,
            "train_seconds": round(time.monotonic() - started, 1), "history": history,
            "best_tune_metric": best if history else None}


def _targets(examples: Sequence[Example], smoothing: float,
             soft_labels: Sequence[float] | None, distill_weight: float) -> torch.Tensor:
    """[N, 2] target distributions: label smoothing as ``CrossEntropyLoss`` does it (the gold
    class gets 1 - smoothing / 2), mixed with the teacher's distribution when one is given."""
    gold = torch.tensor([e.label for e in examples], dtype=torch.long)
    target = torch.full((len(examples), 2), smoothing / 2)
    target[torch.arange(len(examples)), gold] += 1.0 - smoothing
    if soft_labels is not None:
        if len(soft_labels) != len(examples):
            raise ValueError(f"{len(soft_labels)} soft labels for {len(examples)} examples")
        p = torch.tensor(list(soft_labels), dtype=torch.float32).clamp(0.0, 1.0)
        teacher = torch.stack([1.0 - p, p], dim=1)
        target = distill_weight * teacher + (1.0 - distill_weight) * target
    return target


def _accepted_inputs(model: PreTrainedModel) -> frozenset[str]:
    """The input names the model's forward takes (MPNet and RoBERTa have no segment ids)."""
    return frozenset(inspect.signature(model.forward).parameters)


def _tensors(inputs: frozenset[str], batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The batch on the device, less the inputs the model does not take."""
    return {k: torch.from_numpy(v).to(device()) for k, v in batch.items() if k in inputs}


def _batches(tok: TextTokenizer, examples: Sequence[Example], size: int, epochs: float,
             rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: sort within pools of 50 batches, then shuffle the
    batches, so padding is small while neighbouring steps still see varied data. Fractional
    epochs take a prefix of the last shuffled pass."""
    order: list[int] = []
    while len(order) < int(len(examples) * epochs):
        one = list(range(len(examples)))
        rng.shuffle(one)
        order.extend(one)
    order = order[:int(len(examples) * epochs)]
    pool = size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = order[start:start + pool]
        pairs = [(examples[i].premise, examples[i].hypothesis) for i in chunk]
        lengths = [len(e.ids) for e in pair_encodings(tok, pairs)]
        batches.extend([chunk[i] for i in idx] for idx in length_sorted_batches(lengths, size))
    rng.shuffle(batches)
    return batches
