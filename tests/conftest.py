"""Shared session fixtures: the real packaged MiniLM, extracted and exported once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.models.embedder import SentenceEmbedder, load_embedder


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory for extracted models and ONNX exports, shared by the whole session."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def minilm(model_cache: Path) -> SentenceEmbedder:
    """The packaged all-MiniLM-L6-v2 on onnxruntime (CPU), as the server loads it by default."""
    return load_embedder("minilm", cache_dir=model_cache, device="cpu")
