"""The shipped artifact: ONNX graph, int8 quantization, tokenizer and config.

The server runs the detector with onnxruntime, so the exported graph (not the torch model) is what
gets evaluated and calibrated: the threshold in ``detector.json`` is valid for exactly the file
it sits next to.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from stream_guard.train.encoding import PAIR_FORMAT, encode_pairs, length_order
from stream_guard.train.pairs import ID2LABEL

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def export_onnx(checkpoint: Path, path: Path, max_length: int) -> None:
    """fp32 ONNX with dynamic batch and sequence axes and one output, ``logits`` [N, 2]."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(checkpoint))
    model.train(False)
    model.config.return_dict = False
    dummy = tuple(torch.ones((2, 16), dtype=torch.int64) for _ in INPUT_NAMES)
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    axes["logits"] = {0: "batch"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, dummy, str(path), input_names=list(INPUT_NAMES),
                          output_names=["logits"], dynamic_axes=axes, opset_version=OPSET,
                          do_constant_folding=True, dynamo=False)


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 weights (activations stay float): about 4x smaller and faster on CPU."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)


def onnx_support_fn(model: Path, tok: Tokenizer, threads: int = 2,
                    batch_size: int = 32) -> Callable[[Sequence[tuple[str, str]]], list[float]]:
    """P(supported) for pairs from an ONNX detector, as the server will compute it."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])

    def score(pairs: Sequence[tuple[str, str]]) -> list[float]:
        out = np.zeros(len(pairs), dtype=np.float64)
        order = length_order(tok, pairs)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            logits = session.run(["logits"], dict(encode_pairs(tok, [pairs[i] for i in idx])))[0]
            out[idx] = _softmax_supported(np.asarray(logits, dtype=np.float64))
        return out.tolist()
    return score


def _softmax_supported(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp[:, 1] / exp.sum(axis=1))


def write_tokenizer(tok: Tokenizer, out_dir: Path) -> None:
    """The pair tokenizer with its truncation settings, so loading it needs no extra config."""
    tok.save(str(out_dir / "tokenizer.json"))


def write_config(checkpoint: Path, out_dir: Path, max_length: int) -> None:
    config = json.loads((checkpoint / "config.json").read_text())
    config.update({
        "id2label": {str(k): v for k, v in ID2LABEL.items()},
        "label2id": {v: k for k, v in ID2LABEL.items()},
        "max_length": max_length,
        "pair_format": PAIR_FORMAT,
        "truncation": "longest_first (the premise, being longer, is what gets cut)",
        "context_used": False,
        "onnx_inputs": list(INPUT_NAMES),
        "onnx_output": "logits",
        "supported_index": 1,
        "premise": "the evidence sentences that best cover the window, about 100 tokens "
                   "(stream_guard.evidence.premise)",
    })
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def copy_file(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
