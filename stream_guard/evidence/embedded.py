"""Vectors an ``index add`` has embedded and not yet published, kept so that an add stopped
part-way resumes where it stopped.

Embedding is what an add of many documents spends its time on (on two CPU cores MiniLM embeds a
few hundred chunks a second: a corpus of 100,000 chunks takes minutes), and the vectors lived only
in memory until the version was written: an add killed at 90 % (Ctrl-C, a deploy, an out-of-memory
kill, a reboot, a disk that filled up as the version was written) embedded everything again when
it was run again. So each batch of vectors is committed, as it is embedded, to one SQLite file in
the collection's folder (``.embedded.sqlite``), keyed by the chunk's content hash (its identity in
the store: :func:`~stream_guard.evidence.chunking.content_hash`), and the next add takes the
vectors of every chunk it finds there instead of embedding it. An add that finishes (publishes a
version, or finds nothing to change) deletes the file.

The file records the embedder's fingerprint: vectors of another embedder (the model changed
between the two runs) are dropped, never mixed in. Only the collection's writer, who holds its
lock, opens it. It is a saving, not a store: one that cannot be read is started afresh, and one
that cannot be written (a full disk) costs the resume, not the add, which says so once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from stream_guard.models.embedder import Embedder, unit_rows

EMBEDDED_FILE = ".embedded.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS embedder (fingerprint TEXT NOT NULL, dim INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (content_hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""
_PARAMETERS = 500  # hashes asked for at once, below SQLite's bound-parameter limit


def embedder_identity(embedder: Embedder) -> str:
    """What must match for a vector to be reused: the embedder's fingerprint, or its name where
    it has none (a model without weights to hash)."""
    return embedder.fingerprint or f"name:{embedder.name}"


class EmbeddedSoFar:
    """The vectors an unfinished add left in ``collection``'s folder, and those this add embeds.

    ``with EmbeddedSoFar(collection, embedder) as so_far: so_far.found(hashes);
    so_far.keep(hashes, vectors)``."""

    def __init__(self, collection: Path, embedder: Embedder) -> None:
        self._path = collection / EMBEDDED_FILE
        self._dim = embedder.dim
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open(embedder_identity(embedder))
        except (sqlite3.Error, OSError) as exc:  # not a database: started afresh, once
            self._close()
            with contextlib.suppress(OSError):
                self._path.unlink(missing_ok=True)
            try:
                self._db = self._open(embedder_identity(embedder))
            except (sqlite3.Error, OSError):
                self._disable(exc)

    def _open(self, identity: str) -> sqlite3.Connection:
        db = sqlite3.connect(self._path)
        try:
            db.executescript(_SCHEMA)
            recorded = db.execute("SELECT fingerprint, dim FROM embedder").fetchall()
            if recorded != [(identity, self._dim)]:  # none yet, or another embedder's
                db.execute("DELETE FROM vectors")
                db.execute("DELETE FROM embedder")
                db.execute("INSERT INTO embedder VALUES (?, ?)", (identity, self._dim))
                db.commit()
        except BaseException:
            db.close()
            raise
        return db

    def found(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors kept for any of ``hashes``."""
        out: dict[str, np.ndarray] = {}
        if self._db is None:
            return out
        wanted = sorted(set(hashes))
        try:
            for start in range(0, len(wanted), _PARAMETERS):
                part = wanted[start:start + _PARAMETERS]
                for digest, blob in self._db.execute(
                        f"SELECT content_hash, vector FROM vectors WHERE content_hash IN "
                        f"({','.join('?' * len(part))})", part):
                    vector = np.frombuffer(blob, dtype=np.float32)
                    # a vector damaged where it was kept is embedded again (a review: one of
                    # NaNs was published)
                    if vector.shape == (self._dim,) and unit_rows(vector[None]):
                        out[digest] = vector
        except sqlite3.Error as exc:  # damaged since it was opened: what was read is kept
            self._disable(exc)
        return out

    def keep(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Commit one batch's vectors, so that they outlive this process."""
        if self._db is None:
            return
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        try:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                 [(h, row.tobytes()) for h, row in zip(hashes, rows, strict=True)])
            self._db.commit()
        except sqlite3.Error as exc:  # a full disk: this add goes on, unsaved
            self._disable(exc)

    def _disable(self, exc: BaseException) -> None:
        print(f"note: the vectors embedded cannot be kept in {self._path} ({exc}): an add "
              "stopped before it finishes will embed them again", file=sys.stderr)
        self._close()

    def _close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None

    def __enter__(self) -> EmbeddedSoFar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close()


def discard(collection: Path) -> None:
    """Delete what an earlier add kept (this one finished: nothing is left to resume)."""
    for suffix in ("", "-journal"):
        with contextlib.suppress(OSError):
            (collection / f"{EMBEDDED_FILE}{suffix}").unlink(missing_ok=True)
