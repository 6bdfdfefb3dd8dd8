"""Export a model to ONNX once, keep it in the cache, and load the cached file afterwards.

The file name carries a hash of everything the graph depends on (weights, config, head, builder
version), so a changed model or a new builder never reuses a stale graph, and several workers
starting at once either find the finished file or write their own copy and rename it into place
(the rename is atomic, the copies identical). Each file is written with its sha256 beside it
(``.sha256``) and checked against it on every load: a cached graph changed after it was written
(a bad disk, a hand edit) used to be run as it was, so a model whose source passed its integrity
check could still run other weights; such a file is now built again. (A file from before hashes
were recorded is trusted once and sealed.)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from stream_guard.models.devices import torch_installed
from stream_guard.models.hf import BERT_LIKE, ModelDir, ModelFormatError
from stream_guard.models.packaged import sha256_file

if TYPE_CHECKING:
    import onnx

    from stream_guard.models.onnx_bert import Head

log = logging.getLogger("stream_guard.models")

# Bump when the graph the builder writes changes, so cached files are rebuilt.
BUILDER_VERSION = 1
_QUANTIZED_OPS = frozenset({"DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul",
                            "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QuantizeLinear"})


def cached_onnx(model: ModelDir, head: Head, cache_dir: Path) -> Path:
    """Path of the model's ONNX graph for ``head``, building or exporting it on first use."""
    if model.weights_file is None:
        raise ModelFormatError(f"{model.path}: no model.safetensors to export")
    builder = "builder" if model.model_type in BERT_LIKE else "torch"
    key = hashlib.sha256(json.dumps({
        "weights": sha256_file(model.weights_file),
        "config": model.config,
        "head": head,
        "via": builder,
        "version": BUILDER_VERSION,
    }, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(cache_dir) / "onnx" / f"{model.name}-{head}-{key}.onnx"
    if _intact(path):
        return path
    if builder == "builder":
        from stream_guard.models.onnx_bert import build_bert_onnx  # lazy: imports onnx

        proto = build_bert_onnx(model, head)
    elif torch_installed():
        from stream_guard.models.torch_backend import export_onnx  # lazy: imports torch

        proto = export_onnx(model, head)
    else:
        raise ModelFormatError(
            f"{model.path}: model_type {model.model_type!r} needs torch to be exported to ONNX "
            "(pip install -e '.[torch]' in the checkout), or run it with backend=torch")
    save_atomic(proto, path, cached=True)
    return path


def cached_fp16(path: Path, cache_dir: Path) -> Path:
    """A float16 copy of an ONNX graph for CUDA (inputs and outputs keep their types), kept in
    the cache: the source may sit in a read-only install (the shipped detector).

    An int8-quantized graph is returned unchanged: its quantize operators take float32, and it
    was calibrated as it is.
    """
    key = sha256_file(path)[:16]
    target = Path(cache_dir) / "onnx" / f"{path.stem}-{key}-fp16.onnx"
    if _intact(target):
        return target
    import onnx  # here, not at the top: see load_graph

    try:
        proto = onnx.load(str(path))
        if any(node.op_type in _QUANTIZED_OPS for node in proto.graph.node):
            return path
        from onnxruntime.transformers.float16 import convert_float_to_float16

        half = convert_float_to_float16(proto, keep_io_types=True)
    except Exception as exc:  # onnx and the converter raise their own untyped errors
        # A model the settings name that is no graph is refused in one line, as on a CPU.
        raise ModelFormatError(f"{path}: not an ONNX graph that can be converted to float16 "
                               f"for CUDA ({exc})") from exc
    save_atomic(half, target, cached=True)
    return target


def load_graph(path: Path) -> onnx.GraphProto:
    """The graph of an ONNX file, without its external weights.

    ``onnx`` is imported where a graph is read, built or written, never at the top: it loads
    ``ml_dtypes``, about a second on a 2-core host, which a server on the lexical tier, each of
    its workers and every command that loads no model would otherwise pay at start.
    """
    import onnx

    return onnx.load(str(path), load_external_data=False).graph


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _intact(path: Path) -> bool:
    """Whether a cached file is there and is what was written (its recorded sha256). A file
    of an earlier release, written before hashes were recorded, is trusted as it is and sealed
    now where the cache is writable, if it reads as an ONNX graph: building it again could
    need what this runtime lacks (torch, for a model that is not BERT-like) or a cache it may
    not write. One that does not read is built again (a review: a truncated one was sealed as
    it was, and every start failed on it after)."""
    if not path.is_file():
        return False
    digest = sha256_file(path)
    try:
        recorded = _seal_path(path).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        try:
            load_graph(path)
        except Exception:  # onnx's parse errors have no one type (DecodeError, ValueError)
            log.warning("cached model file is damaged; building it again",
                        extra={"path": str(path)})
            return False
        with contextlib.suppress(OSError):
            _write_atomic(_seal_path(path), digest.encode("ascii"))
        return True
    except (OSError, UnicodeDecodeError):
        recorded = ""
    if recorded == digest:
        return True
    log.warning("cached model file changed since it was written; building it again",
                extra={"path": str(path)})
    return False


def save_atomic(proto: onnx.ModelProto, path: Path, *, cached: bool = False) -> None:
    """Write an ONNX graph in one rename. ``cached``: a file of the cache, with its sha256
    beside it, written first, so a reader that finds the graph finds its hash (the graph may be
    another writer's: the copies are identical, and a mismatch only costs one more build)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if proto.ByteSize() >= 2**31 - 1:
        raise ModelFormatError(
            f"{path.name}: the model is over 2 GB, beyond what a single ONNX file holds; "
            "run it with backend=torch")
    data = proto.SerializeToString()
    if cached:
        _write_atomic(_seal_path(path), hashlib.sha256(data).hexdigest().encode("ascii"))
    _write_atomic(path, data)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is shared by service users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
