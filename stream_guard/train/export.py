"""The shipped artifact: ONNX graph, int8 quantization, tokenizer and config.

The server runs the detector with onnxruntime, so the exported graph (not the torch model) is what
gets evaluated and calibrated: the threshold in ``detector.json`` is valid for exactly the file
it sits next to.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from stream_guard.models.tokenization import TextTokenizer
from stream_guard.train.encoding import PAIR_FORMAT, TRUNCATION
from stream_guard.train.pairs import ID2LABEL

# How ``--precision`` stores the artifact's weights, as results.json, detector.json and the
# model card say it.
QUANTIZATION = {"int8": "int8 dynamic quantization (onnxruntime)",
                "fp32": "not quantized (fp32; fp16 on CUDA)"}


def export_onnx(checkpoint: Path, path: Path) -> list[str]:
    """fp32 ONNX with dynamic batch and sequence axes and one output, ``logits`` [N, 2]; the
    graph's input names are returned. Traced by the server's own exporter
    (:func:`stream_guard.models.torch_backend.export_onnx`), so a backbone without segment ids
    (MPNet, RoBERTa) exports with the inputs the server will feed it."""
    from stream_guard.models.hf import open_model_dir
    from stream_guard.models.onnx_cache import save_atomic
    from stream_guard.models.torch_backend import export_onnx as trace

    proto = trace(open_model_dir(checkpoint), "classifier")
    save_atomic(proto, path)
    return [i.name for i in proto.graph.input]


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 weights (activations stay float): about 4x smaller and faster on CPU."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)


def write_tokenizer(tok: TextTokenizer, out_dir: Path) -> None:
    """The model's tokenizer, beside it (the server applies its own truncation)."""
    tok.save(out_dir / "tokenizer.json")


def write_config(checkpoint: Path, out_dir: Path, max_length: int, inputs: list[str]) -> None:
    config = json.loads((checkpoint / "config.json").read_text())
    config.update({
        "id2label": {str(k): v for k, v in ID2LABEL.items()},
        "label2id": {v: k for k, v in ID2LABEL.items()},
        "max_length": max_length,
        "pair_format": PAIR_FORMAT,
        "truncation": TRUNCATION,
        "context_used": False,
        "onnx_inputs": inputs,
        "onnx_output": "logits",
        "supported_index": 1,
        "premise": "the evidence sentences that best cover the window, about 100 tokens "
                   "(stream_guard.evidence.premise)",
    })
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def copy_file(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
