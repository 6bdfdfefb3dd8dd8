"""Cross-encoder scoring of (evidence, window) pairs: the model tier of the grounding engine.

The evidence is the premise and the window the hypothesis, as NLI and fact-checking models are
trained. The previous sentence is prepended to the window when given, so a window like "It was
founded in 1998." is judged with its subject; only the premise is ever truncated, since a cut
hypothesis would be a different claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stream_guard.models.arrays import FloatArray
from stream_guard.models.batching import length_sorted_batches
from stream_guard.models.devices import resolve_backend, resolve_device
from stream_guard.models.hf import ModelDir, ModelFormatError, open_model_dir, read_json, trial_run
from stream_guard.models.labels import LabelMap
from stream_guard.models.onnx_cache import cached_onnx
from stream_guard.models.packaged import ModelNotFoundError, check_sha256
from stream_guard.models.runtime import OnnxRunner, Runner
from stream_guard.models.tokenization import TextTokenizer
from stream_guard.scores import Pair, PairScore

DEFAULT_DETECTOR_DIR = Path(__file__).resolve().parent / "detector"


class CrossEncoderScorer:
    """A :class:`~stream_guard.scores.PairScorer` over a sequence-classification model.

    ``threshold`` (and the halt policy's ``clear_margin`` and ``run_at_end``) are calibrated
    with the model and shipped in ``detector.json``, or None when the model came without them;
    ``fusion`` is the calibration that fuses its probability with the lexical signals
    (``detector.json`` ``fusion``), or None.
    """

    def __init__(self, runner: Runner, tokenizer: TextTokenizer, labels: LabelMap, *,
                 name: str, batch_size: int = 32, use_context: bool = True,
                 threshold: float | None = None, clear_margin: float | None = None,
                 run_at_end: bool | None = None, fusion: object = None) -> None:
        self.name = name
        self.labels = labels
        self.threshold = threshold
        self.clear_margin = clear_margin
        self.run_at_end = run_at_end
        self.fusion = fusion
        self.device = runner.device
        # Without a contradiction class every pair's contradiction is 0.0 (PairScorer).
        self.reads_contradiction = labels.contradiction is not None
        self.max_length = tokenizer.max_length
        self._runner = runner
        self._tokenizer = tokenizer
        self._batch_size = batch_size
        self._use_context = use_context

    def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
        if not pairs:
            return []
        contexts = [p.context or "" for p in pairs] if self._use_context else None
        encodings = self._tokenizer.encode_pairs([p.premise for p in pairs],
                                                 [p.hypothesis for p in pairs], contexts)
        support = np.zeros(len(pairs))
        contradiction = np.zeros(len(pairs))
        for idx in length_sorted_batches([len(e.ids) for e in encodings], self._batch_size):
            logits = self._runner.run(self._tokenizer.pad([encodings[i] for i in idx]))
            support[idx], contradiction[idx] = self._probabilities(logits)
        return [PairScore(float(s), float(c)) for s, c in zip(support, contradiction, strict=True)]

    def _probabilities(self, logits: FloatArray) -> tuple[np.ndarray, np.ndarray]:
        if logits.ndim != 2 or logits.shape[1] != self.labels.num_labels:
            raise ModelFormatError(f"{self.name}: logits of shape {logits.shape}, expected "
                                   f"[batch, {self.labels.num_labels}]")
        x = logits.astype(np.float64)
        if self.labels.num_labels == 1:
            return 1.0 / (1.0 + np.exp(-x[:, 0])), np.zeros(len(x))
        x -= x.max(axis=1, keepdims=True)
        probs = np.exp(x)
        probs /= probs.sum(axis=1, keepdims=True)
        contra = (probs[:, self.labels.contradiction] if self.labels.contradiction is not None
                  else np.zeros(len(x)))
        return probs[:, self.labels.support], contra


def load_detector(spec: str = "default", *, cache_dir: Path, backend: str = "auto",
                  device: str = "auto", intra_op_threads: int = 0, batch_size: int = 32,
                  use_context: bool | None = None,
                  label_map: Mapping[str, int] | None = None) -> CrossEncoderScorer:
    """The cross-encoder named by ``spec``.

    ``"default"`` is the detector shipped in ``stream_guard/models/detector/``; otherwise a
    Hugging Face sequence-classification directory, or an ``.onnx`` file (or a directory holding
    ``model.onnx``) with ``tokenizer.json`` and ``config.json`` beside it. ``label_map``
    ({"support": i, "contradiction": j}) overrides the classes read from ``id2label``.

    ``use_context=None`` follows the model: a config that says ``"context_used": false`` was
    trained (and calibrated) on bare windows, so the previous sentence is not prepended; other
    models get it. ``max_length`` comes from ``detector.json`` or the config's ``max_length``
    (the length the detector was trained with), else the model's position limit.
    """
    cache_dir = Path(cache_dir)
    onnx_file, model, extra = _detector_files(spec)
    expected = extra.get("model_sha256")
    if onnx_file is not None and expected is not None:
        check_sha256(onnx_file, expected, what="the model_sha256 its detector.json records",
                     remedy="the file was changed or swapped after export: export it again "
                            "with `stream-guard train --out`, or remove model_sha256 if the "
                            "change is yours")
    labels = _label_map(model, label_map)
    max_len = extra.get("max_length", model.config.get("max_length"))
    if use_context is None:
        use_context = bool(model.config.get("context_used", True))
    tokenizer = TextTokenizer(model.tokenizer_file,
                              max_length=model.max_length(max_len if isinstance(max_len, int)
                                                          else None),
                              pad_token_id=model.pad_token_id, token_types=model.token_types)
    chosen = resolve_backend(backend)
    where = resolve_device(device, chosen)
    runner: Runner
    if chosen == "torch":
        if onnx_file is not None:
            raise ModelFormatError(f"{onnx_file}: an ONNX file runs on backend=onnx only; "
                                   "backend=torch needs a Hugging Face model directory")
        from stream_guard.models.torch_backend import TorchRunner  # lazy: imports torch

        runner = TorchRunner(model, head="classifier", device=where,
                             intra_op_threads=intra_op_threads)
    else:
        path = onnx_file or cached_onnx(model, "classifier", cache_dir)
        runner = OnnxRunner(path, output="logits", device=where, cache_dir=cache_dir,
                            intra_op_threads=intra_op_threads, max_batch=batch_size,
                            max_length=tokenizer.max_length)
    threshold = extra.get("threshold")
    margin = extra.get("clear_margin")
    scorer = CrossEncoderScorer(runner, tokenizer, labels,
                                name=str(extra.get("name", model.name)),
                                batch_size=batch_size, use_context=use_context,
                                threshold=None if threshold is None else float(threshold),
                                clear_margin=None if margin is None else float(margin),
                                run_at_end=extra.get("run_at_end"), fusion=extra.get("fusion"))
    _trial(scorer, onnx_file or model.path)
    return scorer


def _trial(scorer: CrossEncoderScorer, source: Path) -> None:
    """Score one pair now: a model that loads but cannot score (a head with another number of
    outputs than ``id2label`` names, token ids past its vocabulary) used to pass the start, and
    then every window failed on its own, so nothing was ever checked while ``/readyz`` said
    ready."""
    pair = Pair("The sky is blue.", "The sky is blue.")
    score = trial_run(source, "score a pair", lambda: scorer.score_pairs([pair])[0])
    if not 0.0 <= score.support <= 1.0:  # NaN too: weights that are not numbers
        raise ModelFormatError(f"{source}: the model loads but scores a pair "
                               f"{score.support} (not a probability)")


def check_detector(spec: str) -> None:
    """Raise what :func:`load_detector` would for the files ``spec`` names (a missing
    ``config.json``, ``tokenizer.json`` or weights, unreadable JSON, a bad ``detector.json``)
    without reading the weights or starting a runtime: cheap enough for settings time. A file
    that is there but not a model (an ONNX file that is not one) is found only when it loads."""
    _detector_files(spec)


def detector_labels(spec: str, label_map: Mapping[str, int] | None = None) -> LabelMap:
    """The outputs of the detector ``spec`` as :func:`load_detector` places them, short of
    loading it: a ``detector_labels`` override is checked before the port opens."""
    return _label_map(_detector_files(spec)[1], label_map)


def _label_map(model: ModelDir, label_map: Mapping[str, int] | None) -> LabelMap:
    configured = model.config.get("num_labels")
    return LabelMap.from_config(model.config.get("id2label"), label_map,
                                configured if type(configured) is int else None)


def detector_metadata(spec: str) -> dict[str, Any]:
    """The ``detector.json`` beside the detector ``spec`` names ({} when it has none)."""
    return _detector_files(spec)[2]


def detector_is_onnx(spec: str) -> bool:
    """Whether ``spec`` resolves to an ONNX file (the shipped detector does), which only the
    onnx backend runs."""
    return _resolve(spec)[0] is not None


def _detector_files(spec: str) -> tuple[Path | None, ModelDir, dict[str, Any]]:
    """(ONNX file or None, the directory with its config and tokenizer, its detector.json)."""
    onnx_file, model = _resolve(spec)
    return onnx_file, model, _detector_json(model.path)


def _detector_json(directory: Path) -> dict[str, Any]:
    """The optional ``detector.json`` beside a model: calibrated ``threshold``, ``name``,
    ``max_length`` (tokens the model was trained on)."""
    path = directory / "detector.json"
    if not path.is_file():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise ModelFormatError(f"{path}: not a JSON object")
    for key in ("threshold", "clear_margin"):
        value = data.get(key)
        if value is not None and not (isinstance(value, (int, float))
                                      and not isinstance(value, bool) and 0.0 <= value <= 1.0):
            raise ModelFormatError(f"{path}: {key} must be a number in [0, 1]")
    checks: dict[str, tuple[type, str]] = {
        "run_at_end": (bool, "true or false"), "name": (str, "a string"),
        "model_sha256": (str, "a sha256"),
        "fusion": (dict, "an object (what `stream-guard train --out` writes)")}
    for key, (kind, what) in checks.items():
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            raise ModelFormatError(f"{path}: {key} must be {what}, not {value!r}")
    length = data.get("max_length")
    if length is not None and (type(length) is not int or length < 8):
        raise ModelFormatError(f"{path}: max_length must be a whole number of tokens, "
                               f"not {length!r}")
    return data


def _resolve(spec: str) -> tuple[Path | None, ModelDir]:
    """(ONNX file or None, the directory with its config and tokenizer)."""
    if spec == "default":
        onnx_file = DEFAULT_DETECTOR_DIR / "model.onnx"
        if not onnx_file.is_file():
            raise ModelNotFoundError(
                f"the shipped detector is not in this installation ({onnx_file} is missing); "
                "set detector to a Hugging Face model directory or an ONNX file")
        return onnx_file, open_model_dir(DEFAULT_DETECTOR_DIR, need_weights=False)
    path = Path(spec).expanduser()
    if path.suffix == ".onnx":
        if not path.is_file():
            raise ModelNotFoundError(f"detector {path} does not exist")
        try:
            return path, open_model_dir(path.parent, need_weights=False)
        except ModelFormatError as exc:
            raise ModelFormatError(f"{path}: an ONNX detector needs its config.json and "
                                   f"tokenizer.json beside it, in {path.parent} ({exc})") from exc
    if (path / "model.onnx").is_file() and not (path / "model.safetensors").is_file():
        return path / "model.onnx", open_model_dir(path, need_weights=False)
    return None, open_model_dir(path, weights_name="model.safetensors or model.onnx")
