"""The optional torch backend (torch + transformers), imported only when asked for.

It runs any architecture transformers knows, float16 on CUDA, and exports to ONNX the models the
built-in graph builder does not cover. Nothing else in the package imports torch, so the default
install never pays for it.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import onnx
from safetensors import SafetensorError

from stream_guard.models.arrays import FloatArray
from stream_guard.models.devices import Device, runtime_threads
from stream_guard.models.hf import ModelDir, ModelFormatError
from stream_guard.models.onnx_bert import OPSET, Head
from stream_guard.models.tokenization import TokenBatch


def load_hf_model(model: ModelDir, head: Head, *, dtype: Any = None) -> Any:
    """The transformers model for ``head`` in eval mode (eager attention, so it also exports)."""
    import transformers

    # Its "Loading weights: 100%|..." bar went to stderr between the server's JSON log lines
    # (a log collector takes it for a broken record); nothing reads it there.
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    cls = (transformers.AutoModel if head == "hidden"
           else transformers.AutoModelForSequenceClassification)
    try:
        module = cls.from_pretrained(str(model.path), attn_implementation="eager",
                                     dtype=dtype, use_safetensors=True)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        # RuntimeError: weights of other shapes than the config says ("size mismatch"),
        # which the onnx backend reports as one line too (a review: a traceback here).
        first = (str(exc).strip().splitlines() or [repr(exc)])[0]  # its advice runs on
        what = ("its weights do not fit the model its config.json describes (a size or a "
                "number of labels)" if "mismatched_sizes" in str(exc) else "")
        raise ModelFormatError(f"{model.path}: transformers cannot load it"
                               f"{': ' + what if what else ''} ({first})") from exc
    return module.eval()


class TorchRunner:
    """A transformers model behind the :class:`~stream_guard.models.runtime.Runner` interface."""

    def __init__(self, model: ModelDir, *, head: Head, device: Device,
                 intra_op_threads: int = 0) -> None:
        import torch

        threads = runtime_threads(intra_op_threads)
        if threads:
            torch.set_num_threads(threads)
        self.device = device
        self._torch = torch
        dtype = torch.float16 if device == "cuda" else torch.float32
        self._module = load_hf_model(model, head, dtype=dtype).to(device)
        self._output = "last_hidden_state" if head == "hidden" else "logits"
        accepted = inspect.signature(self._module.forward).parameters
        self._inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids")
                        if n in accepted]

    def run(self, batch: TokenBatch) -> FloatArray:
        torch = self._torch
        feeds = {n: torch.from_numpy(getattr(batch, n)).to(self.device) for n in self._inputs}
        with torch.inference_mode():
            out = getattr(self._module(**feeds), self._output)
        return np.asarray(out.float().cpu().numpy(), dtype=np.float32)


def export_onnx(model: ModelDir, head: Head) -> onnx.ModelProto:
    """Trace the transformers model into an ONNX graph with the builder's inputs and outputs."""
    import tempfile

    import torch

    module = load_hf_model(model, head, dtype=torch.float32)
    accepted = inspect.signature(module.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]
    output = "last_hidden_state" if head == "hidden" else "logits"

    class _Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, *args: Any) -> Any:
            return getattr(self.inner(**dict(zip(names, args, strict=True))), output)

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    dynamic: dict[str, dict[int, str]] = {n: {0: "batch", 1: "seq"} for n in names}
    dynamic[output] = {0: "batch", 1: "seq"} if head == "hidden" else {0: "batch"}
    with tempfile.TemporaryDirectory() as tmp:
        target = f"{tmp}/model.onnx"
        torch.onnx.export(_Wrapped().eval(), example, target, input_names=names,
                          output_names=[output], dynamic_axes=dynamic, opset_version=OPSET,
                          dynamo=False)
        return onnx.load(target)
