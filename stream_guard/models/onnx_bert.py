"""An ONNX graph of a BERT-family encoder, built straight from its safetensors weights.

This is how the default install runs transformer models without torch: the architecture is small
and fixed (embeddings, N x [self-attention, GELU feed-forward, each followed by a residual
LayerNorm]), so the graph is written out with the ``onnx`` helper API from ``config.json`` and the
weight tensors. The graph uses only standard operators in the shapes onnxruntime's optimizer
recognises (LayerNormalization, the erf form of GELU, MatMul+Add), so ``ORT_ENABLE_ALL`` fuses them
into its own kernels. Outputs: ``last_hidden_state`` [batch, seq, hidden] for sentence embedders,
or ``logits`` [batch, labels] through the model's pooler + classifier for cross-encoders.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors import SafetensorError
from safetensors.numpy import load_file

from stream_guard.models.hf import BERT_LIKE, ModelDir, ModelFormatError

Head = Literal["hidden", "classifier"]
OPSET = 17  # LayerNormalization became a standard operator in 17
# Masked attention scores get this bias: far enough below any real score that exp() is 0 in
# float32, and still representable after conversion to float16 for CUDA.
_MASK_BIAS = -10000.0
_GELU_EXACT = {"gelu"}
_GELU_TANH = {"gelu_new", "gelu_pytorch_tanh", "gelu_fast"}


def build_bert_onnx(model: ModelDir, head: Head, *, fused: bool = True) -> onnx.ModelProto:
    """The model's graph with float32 weights; inputs ``input_ids``, ``attention_mask``,
    ``token_type_ids`` (int64 [batch, seq])."""
    cfg = model.config
    if model.model_type not in BERT_LIKE:
        raise ModelFormatError(
            f"{model.path}: model_type {model.model_type!r} is not BERT-family; the built-in "
            f"ONNX builder handles {', '.join(sorted(BERT_LIKE))} (install torch to export "
            "other architectures)")
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        raise ModelFormatError(f"{model.path}: only absolute position embeddings are supported")
    if model.weights_file is None:
        raise ModelFormatError(f"{model.path}: no model.safetensors")
    try:
        weights = load_file(str(model.weights_file))
    except SafetensorError as exc:
        raise ModelFormatError(f"{model.weights_file}: not a safetensors file ({exc})") from exc
    return _Builder(model, weights, fused).build(head)


class _Builder:
    def __init__(self, model: ModelDir, weights: dict[str, npt.NDArray[np.generic]],
                 fused: bool) -> None:
        self.fused = fused
        self.model = model
        self.cfg = model.config
        self.weights = weights
        self.prefix = _weight_prefix(model, weights)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._names: set[str] = set()
        self._counter = 0

    # --- small helpers --------------------------------------------------------------------
    def w(self, key: str, *, transpose: bool = False, full_key: bool = False) -> str:
        """Register a weight as an initializer (once) and return its graph name."""
        name = key if full_key else self.prefix + key
        if name not in self.weights:
            raise ModelFormatError(f"{self.model.weights_file}: tensor {name!r} is missing")
        graph_name = name + (".T" if transpose else "")
        if graph_name not in self._names:
            arr = np.asarray(self.weights[name], dtype=np.float32)
            if transpose:
                arr = np.ascontiguousarray(arr.T)
            self.inits.append(numpy_helper.from_array(arr, graph_name))
            self._names.add(graph_name)
        return graph_name

    def const(self, value: npt.ArrayLike, dtype: type[np.generic] = np.float32) -> str:
        self._counter += 1
        name = f"const_{self._counter}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        self._counter += 1
        out = f"{op_type.lower()}_{self._counter}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x: str, key: str) -> str:
        return self.op("Add", [self.op("MatMul", [x, self.w(key + ".weight", transpose=True)]),
                               self.w(key + ".bias")])

    def layer_norm(self, x: str, key: str) -> str:
        eps = float(self.cfg.get("layer_norm_eps", 1e-12))
        return self.op("LayerNormalization", [x, self.w(key + ".weight"), self.w(key + ".bias")],
                       axis=-1, epsilon=eps)

    def gelu(self, x: str) -> str:
        act = str(self.cfg.get("hidden_act", "gelu"))
        half = self.op("Mul", [x, self.const(0.5)])
        if act in _GELU_EXACT:
            inner = self.op("Erf", [self.op("Div", [x, self.const(math.sqrt(2.0))])])
        elif act in _GELU_TANH:
            cube = self.op("Mul", [self.op("Mul", [x, x]), x])
            poly = self.op("Add", [x, self.op("Mul", [cube, self.const(0.044715)])])
            inner = self.op("Tanh", [self.op("Mul", [poly, self.const(math.sqrt(2 / math.pi))])])
        else:
            raise ModelFormatError(f"{self.model.path}: hidden_act {act!r} is not supported")
        return self.op("Mul", [half, self.op("Add", [inner, self.const(1.0)])])

    # --- the model ------------------------------------------------------------------------
    def build(self, head: Head) -> onnx.ModelProto:
        hidden = self.model.size("hidden_size")
        heads = self.model.size("num_attention_heads")
        if hidden % heads:
            raise ModelFormatError(f"{self.model.path}: hidden_size not divisible by heads")
        x = self.embeddings()
        mask_bias = self.attention_bias()
        self.mask_index = self.op("Cast", ["attention_mask"], to=TensorProto.INT32)
        for i in range(self.model.size("num_hidden_layers")):
            x = self.layer(x, mask_bias, i, hidden, heads)
        if head == "hidden":
            out_name, out = "last_hidden_state", x
            out_shape: list[str | int] = ["batch", "seq", hidden]
        else:
            out_shape = ["batch", self._num_labels()]
            out_name, out = "logits", self.classifier(x)
        self.nodes.append(helper.make_node("Identity", [out], [out_name]))
        inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
                  for n in ("input_ids", "attention_mask", "token_type_ids")]
        graph = helper.make_graph(
            self.nodes, f"{self.model.name}-{head}", inputs,
            [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)],
            initializer=self.inits)
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                 helper.make_opsetid("com.microsoft", 1)],
                                  producer_name="stream-guard")
        proto.ir_version = 8  # readable by every onnxruntime the project supports
        onnx.checker.check_model(proto, full_check=False)
        return proto

    def embeddings(self) -> str:
        ids = "input_ids"
        words = self.op("Gather", [self.w("embeddings.word_embeddings.weight"), ids])
        if self.model.model_type == "bert":
            seq = self.op("Gather", [self.op("Shape", [ids]), self.const(1, np.int64)], axis=0)
            pos_ids = self.op("Range", [self.const(0, np.int64), seq, self.const(1, np.int64)])
        else:
            # RoBERTa counts positions over non-pad tokens, starting after padding_idx.
            pad = self.const(self.model.pad_token_id, np.int64)
            real = self.op("Cast", [self.op("Not", [self.op("Equal", [ids, pad])])],
                           to=TensorProto.INT64)
            counted = self.op("CumSum", [real, self.const(1, np.int64)])
            pos_ids = self.op("Add", [self.op("Mul", [counted, real]), pad])
        positions = self.op("Gather", [self.w("embeddings.position_embeddings.weight"), pos_ids])
        types = self.op("Gather", [self.w("embeddings.token_type_embeddings.weight"),
                                   "token_type_ids"])
        summed = self.op("Add", [self.op("Add", [words, positions]), types])
        return self.layer_norm(summed, "embeddings.LayerNorm")

    def attention_bias(self) -> str:
        """[batch, 1, 1, seq]: 0 where a key is a real token, a large negative on padding."""
        mask = self.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
        inverted = self.op("Sub", [self.const(1.0), mask])
        bias = self.op("Mul", [inverted, self.const(_MASK_BIAS)])
        return self.op("Unsqueeze", [bias, self.const([1, 2], np.int64)])

    def layer(self, x: str, mask_bias: str, i: int, hidden: int, heads: int) -> str:
        key = f"encoder.layer.{i}."
        if self.fused:
            context = self.fused_attention(x, key, heads)
        else:
            context = self.attention(x, mask_bias, key, hidden, heads)
        attn = self.linear(context, key + "attention.output.dense")
        x = self.layer_norm(self.op("Add", [attn, x]), key + "attention.output.LayerNorm")
        ffn = self.gelu(self.linear(x, key + "intermediate.dense"))
        out = self.linear(ffn, key + "output.dense")
        return self.layer_norm(self.op("Add", [out, x]), key + "output.LayerNorm")

    def fused_attention(self, x: str, key: str, heads: int) -> str:
        """onnxruntime's ``com.microsoft.Attention``: one kernel for QKV projection, scaled
        dot-product and masking (flash/memory-efficient kernels on CUDA)."""
        names = [key + f"attention.self.{p}" for p in ("query", "key", "value")]
        qkv_w = np.concatenate([np.asarray(self.weights[self.prefix + n + ".weight"],
                                           dtype=np.float32).T for n in names], axis=1)
        qkv_b = np.concatenate([np.asarray(self.weights[self.prefix + n + ".bias"],
                                           dtype=np.float32) for n in names])
        self._counter += 1
        out = f"attention_{self._counter}"
        self.nodes.append(helper.make_node(
            "Attention", [x, self.const(qkv_w), self.const(qkv_b), self.mask_index],
            [out], domain="com.microsoft", num_heads=heads))
        return out

    def attention(self, x: str, mask_bias: str, key: str, hidden: int, heads: int) -> str:
        head_dim = hidden // heads
        split = self.const([0, 0, heads, head_dim], np.int64)

        def project(name: str, perm: list[int]) -> str:
            return self.op("Transpose",
                           [self.op("Reshape", [self.linear(x, key + name), split])], perm=perm)

        q = project("attention.self.query", [0, 2, 1, 3])
        k = project("attention.self.key", [0, 2, 3, 1])
        v = project("attention.self.value", [0, 2, 1, 3])
        q = self.op("Mul", [q, self.const(1.0 / math.sqrt(head_dim))])
        scores = self.op("Add", [self.op("MatMul", [q, k]), mask_bias])
        probs = self.op("Softmax", [scores], axis=-1)
        context = self.op("Transpose", [self.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        return self.op("Reshape", [context, self.const([0, 0, hidden], np.int64)])

    def classifier(self, x: str) -> str:
        first = self.op("Gather", [x, self.const(0, np.int64)], axis=1)  # [CLS] / <s>
        if self.model.model_type == "bert":
            pooled = self.op("Tanh", [self.linear(first, "pooler.dense")])
            return self.op("Add", [
                self.op("MatMul", [pooled, self.w("classifier.weight", transpose=True,
                                                  full_key=True)]),
                self.w("classifier.bias", full_key=True)])
        # RobertaClassificationHead: dense + tanh + out_proj on <s>, outside the encoder prefix.
        dense = self.op("Add", [
            self.op("MatMul", [first, self.w("classifier.dense.weight", transpose=True,
                                             full_key=True)]),
            self.w("classifier.dense.bias", full_key=True)])
        return self.op("Add", [
            self.op("MatMul", [self.op("Tanh", [dense]),
                               self.w("classifier.out_proj.weight", transpose=True,
                                      full_key=True)]),
            self.w("classifier.out_proj.bias", full_key=True)])

    def _num_labels(self) -> int:
        key = ("classifier.weight" if self.model.model_type == "bert"
               else "classifier.out_proj.weight")
        if key not in self.weights:
            raise ModelFormatError(
                f"{self.model.path}: no classifier head ({key}); a cross-encoder must be saved "
                "as a *ForSequenceClassification model")
        return int(self.weights[key].shape[0])


def _weight_prefix(model: ModelDir, weights: dict[str, npt.NDArray[np.generic]]) -> str:
    """Base models save ``embeddings.…``; task models nest them under ``bert.`` / ``roberta.``."""
    for prefix in ("", "bert.", "roberta."):
        if prefix + "embeddings.word_embeddings.weight" in weights:
            return prefix
    raise ModelFormatError(
        f"{model.weights_file}: no embeddings.word_embeddings.weight tensor; not a BERT-family "
        "checkpoint")
