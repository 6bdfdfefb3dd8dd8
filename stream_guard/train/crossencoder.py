"""Fine-tuning MiniLM as a (evidence, window) cross-encoder with a 2-class head.

CPU training on a shared machine is the constraint every choice here serves: the word embeddings
are frozen (their AdamW update is half the step time at this model size and they need no tuning
for a pair task), batches are grouped by length so padding is small, and the run stops at a
wall-clock budget even if the planned pairs are not all seen.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertForSequenceClassification

from stream_guard.train.encoding import encode_pairs, length_order
from stream_guard.train.pairs import ID2LABEL, Example

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    batch_size: int = 16
    learning_rate: float = 6e-5
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    label_smoothing: float = 0.05
    budget_s: float = 75 * 60.0
    eval_points: tuple[float, ...] = ()
    freeze_layers: int = 0
    seed: int = 13


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_classifier(model_dir: Path) -> BertForSequenceClassification:
    model: BertForSequenceClassification = BertForSequenceClassification.from_pretrained(
        str(model_dir), num_labels=2, id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()})
    torch.nn.Module.to(model, device())
    return model


def support_fn(model: BertForSequenceClassification, tok: Tokenizer,
               batch_size: int = 32) -> Callable[[Sequence[tuple[str, str]]], list[float]]:
    """P(supported) for pairs, batched by length; the model is left in the mode it was in."""
    def score(pairs: Sequence[tuple[str, str]]) -> list[float]:
        was_training = model.training
        model.train(False)
        out = np.zeros(len(pairs), dtype=np.float64)
        order = length_order(tok, pairs)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                batch = _tensors(encode_pairs(tok, [pairs[i] for i in idx]))
                probs = torch.softmax(model(**batch).logits.float(), dim=-1)[:, 1]
                out[idx] = probs.cpu().numpy()
        model.train(was_training)
        return out.tolist()
    return score


def train(model: BertForSequenceClassification, tok: Tokenizer, examples: Sequence[Example],
          cfg: TrainConfig, evaluate: Callable[[], float], best_dir: Path) -> dict[str, object]:
    """One pass over ``examples``; at each eval point the model is scored on the tune split and
    the best-scoring state is saved to ``best_dir`` (with no eval points, the final state is).
    Returns a summary for the model card."""
    torch.manual_seed(cfg.seed)
    model.bert.embeddings.requires_grad_(False)
    for layer in model.bert.encoder.layer[:cfg.freeze_layers]:
        layer.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.learning_rate)
    batches = _batches(tok, examples, cfg.batch_size, random.Random(cfg.seed))
    total = len(batches)
    warmup = max(1, int(total * cfg.warmup_fraction))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup))))
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    checkpoints = sorted({max(1, math.ceil(total * f)) for f in cfg.eval_points})
    history: list[dict[str, float]] = []
    best = -math.inf
    started = time.monotonic()
    model.train()
    running = 0.0
    seen = 0
    for step, idx in enumerate(batches, start=1):
        batch = _tensors(encode_pairs(tok, [(examples[i].premise, examples[i].hypothesis)
                                            for i in idx]))
        labels = torch.tensor([examples[i].label for i in idx], device=device())
        loss = loss_fn(model(**batch).logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        running += loss.item()
        seen += len(idx)
        elapsed = time.monotonic() - started
        if step % 25 == 0:
            log.info("step %d/%d loss %.4f pairs/s %.1f elapsed %.0fs", step, total,
                     running / 25, seen / elapsed, elapsed)
            running = 0.0
        out_of_time = elapsed > cfg.budget_s
        if not checkpoints and (out_of_time or step == total):
            model.save_pretrained(str(best_dir))
        elif step in checkpoints or out_of_time or step == total:
            metric = evaluate()
            history.append({"step": step, "pairs_seen": seen, "elapsed_s": round(elapsed, 1),
                            "tune_metric": metric})
            log.info("eval at step %d: tune metric %.4f", step, metric)
            if metric > best:
                best = metric
                model.save_pretrained(str(best_dir))
        if out_of_time:
            log.warning("budget of %.0fs reached at step %d/%d", cfg.budget_s, step, total)
            break
    return {"steps_planned": total, "steps_run": step, "pairs_seen": seen,
            "train_seconds": round(time.monotonic() - started, 1), "history": history,
            "best_tune_metric": best if history else None}


def _tensors(batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v).to(device()) for k, v in batch.items()}


def _batches(tok: Tokenizer, examples: Sequence[Example], size: int,
             rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: sort within pools of 50 batches, then shuffle the
    batches, so padding is small while neighbouring steps still see varied data."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    pool = size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = order[start:start + pool]
        pairs = [(examples[i].premise, examples[i].hypothesis) for i in chunk]
        ranked = [chunk[i] for i in length_order(tok, pairs)]
        batches.extend(ranked[i:i + size] for i in range(0, len(ranked), size))
    rng.shuffle(batches)
    return batches
