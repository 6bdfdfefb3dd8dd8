"""Reading a model directory in Hugging Face layout.

Every model stream-guard runs (the packaged MiniLM, a user's cross-encoder, the shipped detector)
is described by the same three files: ``config.json``, ``tokenizer.json`` and the weights. Checking
them in one place means a wrong path or a half-copied model fails at start with a message naming
the missing file, instead of deep inside a runtime with a shape error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from stream_guard.exceptions import GuardError
from stream_guard.models.packaged import ModelNotFoundError

# Architectures whose weights the built-in ONNX graph builder understands. Anything else in HF
# layout still runs on the torch backend, or on onnxruntime after a torch export.
BERT_LIKE = frozenset({"bert", "roberta", "xlm-roberta"})
T = TypeVar("T")


class ModelFormatError(GuardError, ValueError):
    """A model directory or file is not in a layout stream-guard can load; the message says why."""


@dataclass(frozen=True)
class ModelDir:
    """A validated model directory: its parsed config and where its files are."""

    path: Path
    config: dict[str, Any]
    tokenizer_file: Path
    weights_file: Path | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", "")).lower()

    @property
    def pad_token_id(self) -> int:
        return self._int("pad_token_id", 0, minimum=0)

    def size(self, key: str) -> int:
        """A positive integer the config must give (``hidden_size``, ``num_hidden_layers``):
        a config without it fails here with its name, not as a KeyError deep in a builder."""
        value = self.config.get(key)
        if type(value) is not int or value < 1:
            raise ModelFormatError(f"{self.path / 'config.json'}: {key} must be a positive "
                                   f"integer (it is {value!r})")
        return value

    @property
    def token_types(self) -> bool:
        """Whether the model has more than one segment embedding (BERT yes, RoBERTa no)."""
        return self._int("type_vocab_size", 2, minimum=0) > 1

    def max_length(self, preferred: int | None = None) -> int:
        """Longest token sequence the model accepts.

        ``preferred`` (a model's own training length, e.g. sentence-transformers'
        ``max_seq_length``) wins when it fits. RoBERTa-style models reserve ``pad_token_id + 1``
        positions, so their usable length is that much below ``max_position_embeddings``.
        """
        positions = self._int("max_position_embeddings", 512, minimum=1)
        if self.model_type in {"roberta", "xlm-roberta"}:
            positions -= self.pad_token_id + 1
        limit = positions
        tok_cfg = _read_json_if_exists(self.path / "tokenizer_config.json")
        model_max = tok_cfg.get("model_max_length") if tok_cfg else None
        if isinstance(model_max, int) and 0 < model_max < limit:
            limit = model_max
        if preferred is not None and 0 < preferred < limit:
            limit = preferred
        return limit

    def _int(self, key: str, default: int, *, minimum: int) -> int:
        """An integer the config may leave out (or set to null: ``default``); any other type
        fails with its name, not as a bare TypeError of ``int()`` (a review: a null
        ``max_position_embeddings`` crashed the server's start with a traceback)."""
        value = self.config.get(key)
        if value is None:
            return default
        if type(value) is not int or value < minimum:
            raise ModelFormatError(f"{self.path / 'config.json'}: {key} must be an integer of "
                                   f"at least {minimum} (it is {value!r})")
        return value


def open_model_dir(path: str | Path, *, need_weights: bool = True,
                   weights_name: str = "model.safetensors") -> ModelDir:
    """Validate ``path`` as an HF-layout model directory and read its config; ``weights_name``
    is what the error calls missing weights (a detector's may be a model.onnx instead)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelNotFoundError(f"model directory {path} does not exist")
    if not path.is_dir():
        raise ModelFormatError(
            f"{path} is not a directory: expected a Hugging Face model directory "
            "(config.json, tokenizer.json, model.safetensors) or an .onnx file")
    config_file = path / "config.json"
    tokenizer_file = path / "tokenizer.json"
    missing = [f.name for f in (config_file, tokenizer_file) if not f.is_file()]
    weights = _find_weights(path)
    if need_weights and weights is None:
        missing.append(weights_name)
    if missing:
        raise ModelFormatError(
            f"{path} is not a usable model directory: missing {', '.join(missing)} (a Hugging "
            "Face directory saved with a fast tokenizer and safe_serialization=True has them)")
    config = _read_json_if_exists(config_file)
    if config is None or not isinstance(config, dict):
        raise ModelFormatError(f"{config_file}: not a JSON object")
    return ModelDir(path=path, config=config, tokenizer_file=tokenizer_file, weights_file=weights)


def trial_run(source: Path, what: str, run: Callable[[], T]) -> T:
    """``run()`` once at load, any failure a :class:`ModelFormatError` naming ``source`` and
    ``what`` it could not do: a model that loads but cannot run (shapes its config disagrees
    with, a head of another size) used to pass the start, and then every request failed on
    its own while ``/readyz`` said ready."""
    try:
        return run()
    except ModelFormatError as exc:
        raise ModelFormatError(f"{source}: the model loads but cannot {what}: {exc}") from None
    except Exception as exc:  # the runtime's own errors (onnxruntime, torch) have no one type
        raise ModelFormatError(f"{source}: the model loads but cannot {what}: "
                               f"{type(exc).__name__}: {exc}") from None


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path}: invalid JSON ({exc})") from exc


def _read_json_if_exists(path: Path) -> Any:
    return read_json(path) if path.is_file() else None


def _find_weights(path: Path) -> Path | None:
    single = path / "model.safetensors"
    if single.is_file():
        return single
    if (path / "pytorch_model.bin").is_file():
        raise ModelFormatError(
            f"{path} holds pytorch_model.bin only: re-save the model with "
            "save_pretrained(safe_serialization=True); pickled weights are not loaded because "
            "unpickling can run arbitrary code")
    return None
