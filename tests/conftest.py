"""Shared fixtures: real servers on loopback, the real packaged MiniLM (loaded once)."""

from __future__ import annotations

import functools
import importlib.util
import os
import random
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from stream_guard.config import Settings, load_settings
from stream_guard.models.embedder import SentenceEmbedder, load_embedder
from stream_guard.server.app import Server
from stream_guard.state.base import StateStore
from tests import image_build
from tests.redis_server import RedisServer, redis_server_binary
from tests.wsclient import API_KEY, API_KEY_2, open_ws, stream_text


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The image's tests run last, in their order: its build (a minute and a half, mostly the
    Docker daemon's I/O) then runs beside the whole suite, not in front of their first test."""
    items.sort(key=lambda item: item.get_closest_marker("docker") is not None)


def pytest_collection_finish(session: pytest.Session) -> None:
    image_build.start_early(session)


def pytest_sessionfinish(session: pytest.Session) -> None:
    image_build.stop_early(session.config)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "host": "127.0.0.1", "port": 0, "tier": "lexical", "embedder": "none",
        "api_keys": f"{API_KEY}:tenant-a,{API_KEY_2}:tenant-b",
        "data_dir": tmp_path / "data", "cache_dir": _cache_dir(),
        "shutdown_grace_s": 5.0,
        # every test client connects from 127.0.0.1: the per-IP handshake bucket and the abuse
        # penalty are tested on their own (tests/test_reliability.py), elsewhere they would
        # only turn the next test connection away
        "handshake_burst": 100_000, "abuse_penalty_s": 0,
        # a test machine's event loop lags whenever a model loads or another test hogs the CPU:
        # overload refusals are tested on their own (test_client.py), elsewhere they are noise
        "overload_lag_ms": 0, "overload_wait_ms": 0,
    }
    base.update(overrides)
    return load_settings(environ={}, **base)


@functools.cache
def _cache_dir() -> Path:
    """One model cache for the whole run, new each run: extracted and exported models are
    shared by every test and server of this run, and nothing leaks in from an earlier one."""
    return Path(tempfile.mkdtemp(prefix="stream-guard-test-cache-"))


@pytest.fixture(scope="session", autouse=True)
def _remove_model_cache() -> Iterator[None]:
    yield
    shutil.rmtree(_cache_dir(), ignore_errors=True)


@asynccontextmanager
async def running_server(settings: Settings, *, node: str | None = None,
                         store: StateStore | None = None) -> AsyncIterator[Server]:
    server = Server(settings, node=node, store=store)
    await server.start()
    await server.wait_ready()
    try:
        yield server
    finally:
        await server.shutdown(grace=1.0)


async def stream_on_detector(tmp_path: Path, model_cache: Path, answer: str,
                             context: list[Any], *, piece: int = 5) -> list[dict[str, Any]]:
    """Stream ``answer`` against ``context`` through a real server on the shipped detector
    (cascade tier) with no verdict deadline (past one on a loaded machine, a window gets the
    lexical verdict), ``piece`` characters a frame; every frame the client received."""
    settings = make_settings(tmp_path, tier="cascade", cache_dir=model_cache,
                             verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        return await stream_text(ws, "answer", answer, context=context, piece=piece)


async def halt_on_detector(tmp_path: Path, model_cache: Path, answer: str,
                           context: list[str]) -> dict[str, Any]:
    """The ``halt`` frame of ``answer`` streamed as :func:`stream_on_detector` streams it (a
    StopIteration where none came)."""
    frames = await stream_on_detector(tmp_path, model_cache, answer, context)
    return next(f for f in frames if f["type"] == "halt")


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    return lambda **kw: make_settings(tmp_path, **kw)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(make_settings(tmp_path)) as srv:
        yield srv


def evidence_sentences(evidence: str) -> list[str]:
    """A text rule's test evidence cut into its sentences at ". ", each ending in a stop, as
    the engine passes a window's nearest sentences."""
    return [s if s.endswith(".") else s + "." for s in evidence.split(". ")]


def random_texts(pieces: tuple[str, ...], seed: int, runs: int = 2000
                 ) -> Iterator[tuple[str, str]]:
    """(evidence, window) pairs of random runs of a text rule's own words: a fuzz of the
    rule (one found "every 0 weeks" dividing by zero)."""
    rng = random.Random(seed)

    def text() -> str:
        return " ".join(rng.choice(pieces) for _ in range(rng.randint(3, 25)))

    for _ in range(runs):
        yield text(), text()


def load_example(name: str) -> ModuleType:
    """An example script from clients/python (a folder of scripts, not a package)."""
    path = Path(__file__).resolve().parents[1] / "clients" / "python" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"examples_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Extracted models and ONNX exports, shared by the session (and by the servers it starts)."""
    return _cache_dir()


@pytest.fixture(scope="session")
def minilm(model_cache: Path) -> SentenceEmbedder:
    """The packaged all-MiniLM-L6-v2 on onnxruntime (CPU), as the server loads it by default."""
    return load_embedder("minilm", cache_dir=model_cache, device="cpu")


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A throwaway redis-server of the test's own (stopped and restarted by tests that need
    an outage); CI must have one, elsewhere the test is skipped without it."""
    binary = redis_server_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI (.ci/run installs it)")
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary)
    server.start()
    yield server
    server.close()
