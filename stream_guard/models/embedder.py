"""Sentence embeddings: a BERT-family encoder, pooled and L2-normalised.

Vectors are normalised so that inner product is cosine similarity, which is what the FAISS
indexes (IndexFlatIP / HNSW inner product) and the inline context search rely on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from stream_guard.models.arrays import FloatArray
from stream_guard.models.batching import length_sorted_batches
from stream_guard.models.devices import resolve_backend, resolve_device
from stream_guard.models.hf import (
    ModelDir,
    ModelFormatError,
    open_model_dir,
    read_json,
    trial_run,
)
from stream_guard.models.onnx_cache import cached_onnx
from stream_guard.models.packaged import minilm_dir, sha256_file
from stream_guard.models.runtime import OnnxRunner, Runner
from stream_guard.models.tokenization import TextTokenizer

Pooling = Literal["mean", "cls"]
# The sentence-transformers modules an embedder may list: what :class:`SentenceEmbedder` does.
_MODULES = ("Transformer", "Pooling", "Normalize")
# A batch of texts to embed ends before one four times as long as its shortest
# (batching.length_sorted_batches): short windows are not padded to a long prompt's length.
PAD_GROWTH = 4.0
# The packaged MiniLM's recipe (see :func:`_fingerprint`). Fingerprints were the weights' hash
# alone before the recipe counted, so an embedder with this recipe keeps that fingerprint: the
# collections built with the packaged model (or a fine-tune of it) stay loadable.
_PACKAGED_RECIPE = {"pooling": "mean", "max_length": 256,
                    "tokenizer": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"}


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to unit vectors; ``embed`` is blocking and thread-safe (call it off the loop)."""

    name: str
    dim: int
    # A sha256 of what makes its vectors (weights, tokenizer, pooling, length; "" when it has
    # no weights to hash): what a collection records of the embedder it was built with, since a
    # folder's name says nothing of what it holds, and the same weights pooled or cut otherwise
    # give vectors of another space.
    fingerprint: str

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """float32 ``[len(texts), dim]``, rows L2-normalised (no texts give ``[0, dim]``)."""
        ...


class SentenceEmbedder:
    """An encoder run by any :class:`Runner`, pooled the way sentence-transformers pools it."""

    def __init__(self, runner: Runner, tokenizer: TextTokenizer, *, name: str, dim: int,
                 fingerprint: str = "", pooling: Pooling = "mean", batch_size: int = 64) -> None:
        self.name = name
        self.dim = dim
        self.fingerprint = fingerprint
        self.device = runner.device
        self._runner = runner
        self._tokenizer = tokenizer
        self._pooling = pooling
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> FloatArray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode(texts)
        for idx in length_sorted_batches([len(e.ids) for e in encodings], self._batch_size,
                                         max_growth=PAD_GROWTH):
            batch = self._tokenizer.pad([encodings[i] for i in idx])
            hidden = self._runner.run(batch)
            out[idx] = _normalise(_pool(hidden, batch.attention_mask, self._pooling))
        return out


def load_embedder(spec: str = "minilm", *, cache_dir: Path, backend: str = "auto",
                  device: str = "auto", intra_op_threads: int = 0,
                  batch_size: int = 64) -> SentenceEmbedder:
    """The embedder named by ``spec``: ``"minilm"`` (the packaged all-MiniLM-L6-v2) or a
    sentence-embedding directory in HF layout (config.json, tokenizer.json, model.safetensors)."""
    cache_dir = Path(cache_dir)
    model, pooling, max_seq = _embedder_files(minilm_dir(cache_dir) if spec == "minilm"
                                              else Path(spec))
    tokenizer = TextTokenizer(model.tokenizer_file, max_length=model.max_length(max_seq),
                              pad_token_id=model.pad_token_id, token_types=model.token_types)
    chosen = resolve_backend(backend)
    where = resolve_device(device, chosen)
    runner: Runner
    if chosen == "torch":
        from stream_guard.models.torch_backend import TorchRunner  # lazy: imports torch

        runner = TorchRunner(model, head="hidden", device=where,
                             intra_op_threads=intra_op_threads)
    else:
        runner = OnnxRunner(cached_onnx(model, "hidden", cache_dir), output="last_hidden_state",
                            device=where, cache_dir=cache_dir, intra_op_threads=intra_op_threads,
                            max_batch=batch_size, max_length=tokenizer.max_length,
                            spin=False)  # the detector runs next: its threads get the cores
    embedder = SentenceEmbedder(runner, tokenizer, name=model.name, dim=_width(model),
                                fingerprint=_fingerprint(model, pooling, tokenizer.max_length),
                                pooling=pooling, batch_size=batch_size)
    _trial(embedder, model.path)
    return embedder


def _width(model: ModelDir) -> int:
    """The encoder's hidden size, by the name its config gives it: ``hidden_size`` (BERT,
    RoBERTa, MPNet), ``dim`` (DistilBERT: a review found its sentence embedders refused with
    "hidden_size must be a positive integer (it is None)" after they had been exported) or
    ``d_model``."""
    return model.size(next((key for key in ("hidden_size", "dim", "d_model")
                            if key in model.config), "hidden_size"))


def _fingerprint(model: ModelDir, pooling: Pooling, max_length: int) -> str:
    """The sha256 of everything this loader lets shape a vector: the weights, the tokenizer, the
    pooling and the length texts are cut to. Normalisation and the module list are not in it:
    every embedder is normalised, and a ``modules.json`` with another step is refused.
    With the packaged MiniLM's recipe it is the weights' hash alone, as before the recipe
    counted, so no collection built with that model has to be rebuilt (a collection built
    before then with the same weights and another recipe is taken for this one: nothing
    recorded its recipe)."""
    if model.weights_file is None:
        return ""
    weights = sha256_file(model.weights_file)
    recipe = {"pooling": pooling, "max_length": max_length,
              "tokenizer": sha256_file(model.tokenizer_file)}
    if recipe == _PACKAGED_RECIPE:
        return weights
    return hashlib.sha256(json.dumps({"weights": weights, **recipe}, sort_keys=True)
                          .encode()).hexdigest()


def _trial(embedder: SentenceEmbedder, source: Path) -> None:
    """Embed one sentence now: weights whose shapes disagree with the config load, and then
    every collection search and ingest would fail on its own with a numpy error."""
    vectors = trial_run(source, "embed a sentence", lambda: embedder.embed(["The sky is blue."]))
    if not np.isfinite(vectors).all():
        raise ModelFormatError(f"{source}: the model loads but embeds a sentence as "
                               "values that are not numbers")


def check_embedder(path: str | Path) -> None:
    """Raise what :func:`load_embedder` would for the model directory ``path`` (a missing
    ``config.json``, ``tokenizer.json`` or ``model.safetensors``, unreadable JSON, a pooling it
    cannot do) without reading the weights or starting a runtime: cheap enough for settings
    time. Weights that are there but not a model are found only when they load."""
    _embedder_files(Path(path))


def _embedder_files(path: Path) -> tuple[ModelDir, Pooling, int | None]:
    model = open_model_dir(path)
    _width(model)  # a config that names no width fails at settings time, not after an export
    return (model, *_sentence_transformers_config(model))


def _sentence_transformers_config(model: ModelDir) -> tuple[Pooling, int | None]:
    """Pooling mode and training length from a sentence-transformers directory, if it is one."""
    max_seq = None
    st_config = model.path / "sentence_bert_config.json"
    if st_config.is_file():
        value = _json_object(st_config).get("max_seq_length")
        max_seq = int(value) if isinstance(value, int) else None
    _check_modules(model.path / "modules.json")
    pooling_file = model.path / "1_Pooling" / "config.json"
    if not pooling_file.is_file():
        return "mean", max_seq
    modes = {k for k, v in _json_object(pooling_file).items()
             if k.startswith("pooling_mode") and v}
    if modes == {"pooling_mode_mean_tokens"}:
        return "mean", max_seq
    if modes == {"pooling_mode_cls_token"}:
        return "cls", max_seq
    raise ModelFormatError(f"{pooling_file}: pooling {sorted(modes)} is not supported "
                           "(mean or cls token)")


def _json_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object (a list there crashed the settings check with an
    AttributeError, a review)."""
    value = read_json(path)
    if not isinstance(value, dict):
        raise ModelFormatError(f"{path}: not a JSON object")
    return value


def _check_modules(modules_file: Path) -> None:
    """Refuse a sentence-transformers pipeline with more than an encoder, its pooling and a
    normalisation (a ``Dense`` projection, LaBSE's for one): run without it, the model would
    give vectors of another space, silently."""
    if not modules_file.is_file():
        return
    modules = read_json(modules_file)
    if not isinstance(modules, list):
        raise ModelFormatError(f"{modules_file}: not a JSON list of modules")
    for module in modules:
        kind = str(module.get("type", "")) if isinstance(module, dict) else ""
        if kind.rsplit(".", 1)[-1] not in _MODULES:
            raise ModelFormatError(
                f"{modules_file}: module {kind or module!r} is not supported: stream-guard "
                f"runs an encoder with its pooling and normalisation ({', '.join(_MODULES)})")


def _pool(hidden: FloatArray, mask: np.ndarray, pooling: Pooling) -> FloatArray:
    if pooling == "cls":
        return np.asarray(hidden[:, 0], dtype=np.float32)
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    return np.asarray(summed / np.maximum(weights.sum(axis=1), 1e-9), dtype=np.float32)


def _normalise(vectors: FloatArray) -> FloatArray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def unit_rows(vectors: np.ndarray) -> bool:
    """Whether every row is of unit length, as every embedder's are (:func:`_normalise`): what
    tells vectors stored or kept from ones damaged since (zeroed, NaNs, garbled floats). Read
    in blocks: the vectors may be memory-mapped."""
    for start in range(0, len(vectors), 65536):
        with np.errstate(all="ignore"):  # garbled floats overflow: no warning, just False
            norms = np.linalg.norm(np.asarray(vectors[start:start + 65536], dtype=np.float32),
                                   axis=1)
            if not np.all(np.abs(norms - 1.0) < 1e-3):
                return False
    return True
