"""Serving evidence collections: loaded once, searched by many threads, swapped when rebuilt.

The server keeps one :class:`EvidenceLibrary`. ``poll()`` (on a timer) and ``reload()`` (on
SIGHUP) look at each collection's ``VERSION`` file and load any new version completely before
swapping it in with a single reference assignment, so a search in progress finishes on the old
version and no search ever waits for a load.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from stream_guard.evidence.faiss_index import prepare_for_search, search, set_search_threads
from stream_guard.evidence.store import (
    DOCS_FILE,
    INDEX_FILE,
    VERSION_FILE,
    VersionInfo,
    collection_dir,
    connect_readonly,
    list_collections,
)
from stream_guard.exceptions import GuardError
from stream_guard.scores import Evidence

_Stamp = tuple[int, int, int]
log = logging.getLogger(__name__)


class UnknownCollectionError(GuardError, KeyError):
    """The tenant has no collection of that name (or it was removed)."""


@dataclass(frozen=True)
class _Loaded:
    collection: Collection
    stamp: _Stamp


class Collection:
    """One published version of a collection, loaded for search; never changes."""

    def __init__(self, path: Path, info: VersionInfo, *, use_gpu: bool | None = None) -> None:
        self.info = info
        version_dir = path / info.dir
        self._index: Any = prepare_for_search(faiss.read_index(str(version_dir / INDEX_FILE)),
                                              use_gpu=use_gpu)
        self._db = connect_readonly(version_dir / DOCS_FILE)
        self._db_lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: Path, tenant: str, name: str, *,
             use_gpu: bool | None = None) -> Collection:
        path = collection_dir(data_dir, tenant, name)
        info = VersionInfo.read(path)
        if info is None:
            raise UnknownCollectionError(f"{tenant}/{name}")
        return cls(path, info, use_gpu=use_gpu)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def search(self, vectors: npt.NDArray[np.float32], k: int) -> list[list[Evidence]]:
        """Top-``k`` chunks per query vector (unit vectors from the collection's embedder),
        best first, ``score`` = cosine similarity. Blocking: call it off the event loop."""
        if vectors.ndim != 2 or vectors.shape[1] != self.info.dim:
            raise ValueError(f"query vectors must be [n, {self.info.dim}], got {vectors.shape}")
        scores, ids = search(self._index, vectors, k)
        wanted = sorted({int(i) for i in ids.ravel() if i >= 0})
        rows = self._fetch(wanted)
        return [[Evidence(id=rows[i][0], text=rows[i][1], score=float(s), source=rows[i][2])
                 for s, i in zip(row_scores, row_ids, strict=True) if i >= 0]
                for row_scores, row_ids in zip(scores, ids, strict=True)]

    def _fetch(self, rows: list[int]) -> dict[int, tuple[str, str, str]]:
        out: dict[int, tuple[str, str, str]] = {}
        with self._db_lock:
            for start in range(0, len(rows), 500):  # below SQLite's bound-parameter limit
                part = rows[start:start + 500]
                marks = ",".join("?" * len(part))
                for row, chunk_id, text, source in self._db.execute(
                        f"SELECT row, chunk_id, text, source FROM chunks WHERE row IN ({marks})",
                        part):
                    out[row] = (chunk_id, text, source)
        return out


class EvidenceLibrary:
    """All collections under ``data_dir``, kept current by :meth:`poll` / :meth:`reload`."""

    def __init__(self, data_dir: Path, *, use_gpu: bool | None = None,
                 search_threads: int | None = 1) -> None:
        """``search_threads`` sets faiss's OpenMP threads for the process (see
        :func:`~stream_guard.evidence.faiss_index.set_search_threads`); None leaves it alone."""
        if search_threads is not None:
            set_search_threads(search_threads)
        self.data_dir = Path(data_dir)
        self._use_gpu = use_gpu
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, tenant: str, name: str) -> Collection:
        loaded = self._loaded.get((tenant, name))
        if loaded is None:
            raise UnknownCollectionError(f"{tenant}/{name}")
        return loaded.collection

    def names(self, tenant: str) -> list[str]:
        return sorted(name for t, name in self._loaded if t == tenant)

    def search(self, tenant: str, name: str, vectors: npt.NDArray[np.float32],
               k: int) -> list[list[Evidence]]:
        return self.get(tenant, name).search(vectors, k)

    def poll(self) -> list[str]:
        """Load collections whose ``VERSION`` changed, drop removed ones; returns the
        ``tenant/collection`` names that changed. Cheap when nothing did (one stat each)."""
        return self._refresh(force=False)

    def reload(self) -> list[str]:
        """Like :meth:`poll` but re-reads every collection (SIGHUP)."""
        return self._refresh(force=True)

    def start_polling(self, interval_s: float) -> None:
        """Poll from a daemon thread every ``interval_s`` until :meth:`close`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._poll_forever, args=(interval_s,),
                                        name="evidence-poll", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _poll_forever(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            with contextlib.suppress(Exception):  # a half-deleted collection: next poll sees it
                self.poll()

    def _refresh(self, *, force: bool) -> list[str]:
        with self._refresh_lock:
            current = dict(self._loaded)
            found: dict[tuple[str, str], _Loaded] = {}
            changed = []
            for tenant, name, _info in list_collections(self.data_dir):
                key = (tenant, name)
                path = self.data_dir / tenant / name
                try:
                    stamp = _stamp(path / VERSION_FILE)
                except FileNotFoundError:  # removed between the listing and now
                    continue
                old = current.get(key)
                if old is not None and old.stamp == stamp and not force:
                    found[key] = old
                    continue
                try:
                    info = VersionInfo.read(path)
                    if info is None:
                        continue
                    collection = Collection(path, info, use_gpu=self._use_gpu)
                except (OSError, RuntimeError, sqlite3.Error, ValueError, TypeError) as exc:
                    # A version superseded while loading, or a damaged file: keep serving the
                    # one already loaded and try again at the next poll.
                    log.warning("evidence collection %s/%s not reloaded: %s", tenant, name, exc)
                    if old is not None:
                        found[key] = old
                    continue
                found[key] = _Loaded(collection, stamp)
                changed.append(f"{tenant}/{name}")
            changed += [f"{t}/{n}" for t, n in current if (t, n) not in found]
            self._loaded = found  # the swap: one reference assignment
            return sorted(changed)


def _stamp(path: Path) -> _Stamp:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)
