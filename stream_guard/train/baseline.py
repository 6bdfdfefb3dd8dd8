"""The cheaper design the cross-encoder is measured against: a logistic head on frozen features.

Each side of a pair is embedded once by the frozen MiniLM (mean-pooled, as a sentence embedder);
the head sees their interaction (cosine, |u-v|, u*v) plus lexical checks aimed at local edits
(content-word coverage, numbers and names in the window that the evidence lacks). It costs one
embedding per distinct text instead of one joint pass per pair, which is why it is worth measuring.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from tokenizers import Tokenizer
from transformers import BertModel

from stream_guard.train.chunks import lexical_support
from stream_guard.train.edits import entities
from stream_guard.train.pairs import Example

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class FrozenEmbedder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings, cached per text."""

    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        self._model = BertModel.from_pretrained(str(model_dir))
        self._model.train(False)
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tok.enable_truncation(max_length=256)
        self._tok.enable_padding()
        self._batch = batch_size
        self._cache: dict[str, NDArray[np.float32]] = {}

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        todo = sorted({t for t in texts if t not in self._cache}, key=len)
        with torch.inference_mode():
            for start in range(0, len(todo), self._batch):
                part = todo[start:start + self._batch]
                enc = self._tok.encode_batch(part)
                ids = torch.tensor([e.ids for e in enc])
                mask = torch.tensor([e.attention_mask for e in enc])
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).float()
                pooled = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)
                for text, vec in zip(part, pooled.numpy(), strict=True):
                    self._cache[text] = vec
        return np.stack([self._cache[t] for t in texts])


def features(embedder: FrozenEmbedder, pairs: Sequence[tuple[str, str]]) -> NDArray[np.float32]:
    u = embedder.embed([p for p, _ in pairs])
    v = embedder.embed([h for _, h in pairs])
    lexical = np.array([_lexical(p, h) for p, h in pairs], dtype=np.float32)
    cos = (u * v).sum(axis=1, keepdims=True)
    return np.concatenate([cos, lexical, np.abs(u - v), u * v], axis=1).astype(np.float32)


def _lexical(premise: str, hypothesis: str) -> list[float]:
    numbers = set(_NUMBER.findall(hypothesis))
    names = entities(hypothesis)
    return [
        lexical_support(hypothesis, premise),
        sum(n not in premise for n in numbers) / max(1, len(numbers)),
        float(any(n not in premise for n in numbers)),
        sum(n not in premise for n in names) / max(1, len(names)),
        min(len(hypothesis), 400) / 400.0,
    ]


class LogisticHead:
    """L2-regularised logistic regression fitted with L-BFGS on standardised features."""

    def __init__(self, l2: float = 1e-3) -> None:
        self._l2 = l2
        self._mean = np.zeros(0, dtype=np.float32)
        self._std = np.ones(0, dtype=np.float32)
        self._w = torch.zeros(0)
        self._b = torch.zeros(1)

    def fit(self, x: NDArray[np.float32], y: NDArray[np.int64]) -> None:
        self._mean = x.mean(axis=0)
        self._std = x.std(axis=0) + 1e-6
        xt = torch.from_numpy((x - self._mean) / self._std)
        yt = torch.from_numpy(y.astype(np.float32))
        w = torch.zeros(x.shape[1], requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=500, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt)
            loss = loss + self._l2 * (w * w).sum()
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it untyped
            return loss

        opt.step(closure)  # type: ignore[no-untyped-call]
        self._w, self._b = w.detach(), b.detach()

    def predict(self, x: NDArray[np.float32]) -> NDArray[np.float64]:
        xt = torch.from_numpy((x - self._mean) / self._std)
        return torch.sigmoid(xt @ self._w + self._b).double().numpy()


def fit_baseline(model_dir: Path, examples: Sequence[Example]
                 ) -> Callable[[Sequence[tuple[str, str]]], list[float]]:
    """Train the head on ``examples`` and return its P(supported) function for pairs."""
    embedder = FrozenEmbedder(model_dir)
    x = features(embedder, [(e.premise, e.hypothesis) for e in examples])
    head = LogisticHead()
    head.fit(x, np.array([e.label for e in examples], dtype=np.int64))

    def score(pairs: Sequence[tuple[str, str]]) -> list[float]:
        return [float(v) for v in head.predict(features(embedder, pairs))]
    return score
