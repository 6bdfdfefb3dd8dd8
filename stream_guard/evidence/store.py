"""Writing evidence collections: chunks, vectors, a FAISS index and a SQLite document store.

On-disk layout, one directory per tenant and collection::

    data_dir/<tenant>/<collection>/
        VERSION              JSON: which version directory is live, and what it holds
        v000007/             one immutable, complete version
            docs.sqlite      chunk text, id, source, metadata, content hash; row = FAISS id;
                             and a full-text index of the chunks for keyword search;
                             and the other documents holding a stored chunk (shared_chunks)
            vectors.npy      the embeddings, so later additions never re-embed old chunks
            index.faiss
        .embedded.sqlite     while an add runs, and after one that stopped: the vectors it
                             embedded so far, which the next add takes (stream_guard.evidence.
                             embedded)

A change builds a whole new version directory beside the live one, then replaces ``VERSION`` with
an atomic rename. A reader therefore sees the old version or the new one, never a mix, and a
crash mid-build leaves only a stray temporary directory (or, killed between the rename and
``VERSION``, a version directory never published, which the next writer replaces; an ``index
rm`` killed mid-way leaves a ``.removed-`` folder, which the tenant's next writer deletes). Version
directories never change after they are published, which is what lets readers open them without
locks.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import tokenize
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO, get_args

import faiss
import numpy as np

from stream_guard.config import NAME_PATTERN, NAME_RULE
from stream_guard.evidence.chunking import DEFAULT_MAX_CHARS, chunk_text, content_hash
from stream_guard.evidence.embedded import EMBEDDED_FILE, EmbeddedSoFar, discard
from stream_guard.evidence.faiss_index import IndexKind, extend_or_build
from stream_guard.evidence.ingest import TEXT_SUFFIXES, Document
from stream_guard.evidence.progress import Progress
from stream_guard.evidence.structured import as_prose
from stream_guard.exceptions import GuardError
from stream_guard.models.embedder import Embedder, unit_rows

VERSION_FILE = "VERSION"
DOCS_FILE = "docs.sqlite"
VECTORS_FILE = "vectors.npy"
INDEX_FILE = "index.faiss"
EMBEDDER_FILE = "embedder.sha256"
# The sha256 of a version's vectors (their float32 bytes, row by row), recorded when it was
# published: what tells vectors.npy, and the index's copy of the vectors, from a copy whose
# bits changed since (a flipped sign bit leaves a vector of unit length, and passed every other
# check: a review). Kept beside EMBEDDER_FILE, not in VERSION, for the same reason.
VECTORS_SUM_FILE = "vectors.sha256"
_EMBED_BATCH = 256
_SCHEMA = """
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    metadata TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE
);
CREATE INDEX chunks_doc ON chunks (doc_id);
"""
# The chunks' words for keyword search (BM25, SQLite's FTS5 over the chunk text, no copy of it):
# dense search alone misses an exact name or number among near-identical passages ("K-221"
# among K-100 to K-399), which is what a false halt on a true claim is made of.
_KEYWORD_SCHEMA = """
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='row',
                                           tokenize='unicode61 remove_diacritics 2');
INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');
"""


class StoreError(GuardError, ValueError):
    """A collection cannot be written as asked; the message says why."""


class DamagedCollectionError(StoreError):
    """A collection's ``VERSION`` file is not one a writer wrote (truncated, not JSON, fields
    missing or wrong): which version is live cannot be known, so the collection is not served
    or changed until the file is restored or the collection removed and rebuilt."""


class UnreadableCollectionError(DamagedCollectionError):
    """A collection's ``VERSION`` file that this account may not read (a backup restored with
    another owner, a server running as another user): nothing says its files are damaged, so
    the remedy is access, not the rebuild a damaged one is told to have (a review: ``index
    ls`` called it damaged and said to remove it). Served and changed as a damaged one is:
    not at all, until it can be read."""


@dataclass(frozen=True)
class VersionInfo:
    """The content of a ``VERSION`` file."""

    version: int
    dir: str
    count: int
    dim: int
    embedder: str
    index: IndexKind
    created: float
    # The embedder's fingerprint (a sha256 of its weights, tokenizer, pooling and length:
    # Embedder.fingerprint), kept in the version's folder (EMBEDDER_FILE), not in
    # VERSION, whose fields a reader of an earlier release checks exactly (a rollback, or old
    # and new pods sharing data_dir, must still read it). Versions built before it was recorded
    # have "", and are matched by the embedder's name alone.
    embedder_sha256: str = ""
    # vectors_digest of the version's vectors (VECTORS_SUM_FILE); "" for a version published
    # before it was recorded, whose vectors are judged as before (unit length, agreement).
    vectors_sha256: str = ""

    def built_with(self, embedder: Embedder) -> bool:
        """Whether ``embedder`` is the one this version's vectors came from: by its
        fingerprint where both know it (a folder's name is no identity: the same model under
        another name was refused, another model under the same name accepted, and the same
        weights pooled otherwise give another space), else by name."""
        if self.dim != embedder.dim:
            return False
        if self.embedder_sha256 and embedder.fingerprint:
            return self.embedder_sha256 == embedder.fingerprint
        return self.embedder == embedder.name

    def embedder_named(self, embedder: Embedder) -> str:
        """How to name ``embedder`` beside this version's, when it is not the one."""
        same = embedder.name == self.embedder and embedder.dim == self.dim
        return f"{embedder.name}" + (" (other weights, tokenizer, pooling or length under "
                                     "the same name)" if same else "")

    @classmethod
    def read(cls, collection: Path) -> VersionInfo | None:
        """The collection's ``VERSION``; None when it has none (not published, or removed).
        Raises :class:`DamagedCollectionError`, naming the collection, when it cannot be read."""
        try:
            data = json.loads((collection / VERSION_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except PermissionError as exc:
            raise UnreadableCollectionError(
                f"collection {collection.parent.name}/{collection.name}: its {VERSION_FILE} "
                f"file cannot be read by this account ({exc.strerror}): check the permissions "
                "of data_dir (STREAM_GUARD_DATA_DIR, --data-dir)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _damaged(collection, f"not readable JSON: {exc}") from None
        problem = _version_problem(data)
        if problem:
            raise _damaged(collection, problem)
        return cls(**data, embedder_sha256=_recorded(collection / data["dir"] / EMBEDDER_FILE),
                   vectors_sha256=_recorded(collection / data["dir"] / VECTORS_SUM_FILE))

    def to_json(self) -> str:
        """The ``VERSION`` file's text: the fields :func:`_version_problem` checks."""
        return json.dumps({k: v for k, v in asdict(self).items() if k in _VERSION_FIELDS},
                          indent=1)


# How each kind of index file begins (faiss's IndexFlatIP and IndexHNSWFlat, as build_index
# makes them): enough to tell a whole file from garbage without loading the index.
_INDEX_MAGIC: dict[str, bytes] = {"flat": b"IxFI", "hnsw": b"IHNf"}


def version_files_problem(collection: Path, info: VersionInfo) -> str | None:
    """What is wrong with the live version's files at a glance, or None: a file missing, an
    index not of its kind or too short for its vectors, a database that is none or holds
    another number of chunks. What ``index ls`` tells without loading every index (a server
    loading the version finds the rest, and names it in its log)."""
    version_dir = collection / info.dir
    index, docs = version_dir / INDEX_FILE, version_dir / DOCS_FILE
    for path in (index, docs):
        if not path.is_file():
            return f"{info.dir}/{path.name} is missing"
    try:
        with index.open("rb") as f:
            if f.read(4) != _INDEX_MAGIC[info.index]:
                return f"{info.dir}/{INDEX_FILE} is not a FAISS {info.index} index"
        if index.stat().st_size < info.count * info.dim * 4:
            return f"{info.dir}/{INDEX_FILE} is shorter than its {info.count} vectors"
        db = connect_readonly(docs)
        try:
            rows = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        finally:
            db.close()
    except (OSError, sqlite3.Error) as exc:
        return f"{info.dir} cannot be read ({type(exc).__name__}: {exc})"
    if rows != info.count:
        return f"{info.dir}/{DOCS_FILE} holds {rows} chunks, its VERSION says {info.count}"
    return None


def vectors_problem(collection: Path, info: VersionInfo) -> str | None:
    """What is wrong with the live version's vectors at a glance, or None: ``vectors.npy``
    missing, not an array of ``count`` by ``dim`` float32, or shorter than that. Servers never
    read it (they search the index), so such a version is served; the next add reads it, and
    takes the index's copy of the vectors instead, or embeds the version's chunks again from
    its documents (before, it asked for the collection to be removed and its documents added
    again, which only works while they are still at hand, and ``index ls`` listed it as
    whole). Vectors garbled under a whole header are found by that add, not here: ``ls`` reads
    headers only."""
    path = collection / info.dir / VECTORS_FILE
    name = f"{info.dir}/{VECTORS_FILE}"
    try:
        with path.open("rb") as f:
            version = np.lib.format.read_magic(f)
            if version not in _NPY_VERSIONS:  # what np.load reads (a review: (1, 1) failed it)
                return f"{name} is of no format numpy reads (version {version})"
            shape, fortran, dtype = (np.lib.format.read_array_header_1_0(f) if version[0] == 1
                                     else np.lib.format.read_array_header_2_0(f))
            start = f.tell()
        size = path.stat().st_size
    except FileNotFoundError:
        return f"{name} is missing"
    except (OSError, ValueError, SyntaxError, tokenize.TokenError) as exc:
        # not an array file, or a header cut short or garbled (numpy parses it as Python)
        return f"{name} cannot be read ({type(exc).__name__}: {_one_line(exc)})"
    if shape != (info.count, info.dim) or fortran or dtype != np.dtype(np.float32):
        return (f"{name} holds {shape} {dtype}{' in Fortran order' if fortran else ''}, its "
                f"VERSION says {info.count} x {info.dim} float32")
    if size < start + info.count * info.dim * 4:
        return f"{name} is shorter than its {info.count} vectors"
    return None


def verify_vectors(collection: Path, info: VersionInfo) -> list[str]:
    """What reading every vector of the live version finds wrong (``index ls --verify``):
    ``vectors.npy`` and the index's copy of the vectors against the checksum recorded when the
    version was published, or, for a version published before it was recorded, for unit length
    and against each other. Empty where both are whole. Call it on a version
    :func:`version_files_problem` and :func:`vectors_problem` pass."""
    version_dir = collection / info.dir
    problems: list[str] = []
    vectors = np.load(version_dir / VECTORS_FILE, mmap_mode="r")
    lost = _vectors_changed(vectors, info.vectors_sha256, f"{info.dir}/{VECTORS_FILE}")
    if lost:
        problems.append(lost)
    index = _live_index(version_dir)
    copy = None if index is None else _index_copy(index, info)
    name = f"{info.dir}/{INDEX_FILE}"
    if copy is None:
        problems.append(f"{name} cannot be read, or does not hold {info.count} vectors")
    elif _vectors_changed(copy, info.vectors_sha256, ""):
        if lost and _checksum_changed(vectors, copy):
            return [_CHECKSUM_CHANGED.format(info.dir)]
        problems.append(f"{name} does not hold the vectors it was published with")
    elif not info.vectors_sha256 and not lost and not np.allclose(copy, vectors, atol=1e-6):
        problems.append(f"{name} and {VECTORS_FILE} hold other vectors (the version was "
                        "published before their checksum was recorded: which is wrong cannot "
                        "be told)")
    return problems


# The .npy format versions np.load reads.
_NPY_VERSIONS = ((1, 0), (2, 0), (3, 0))


def _one_line(exc: BaseException) -> str:
    """An error's first line, printable: numpy's add advice on later lines, and a garbled
    header's own bytes."""
    first = (str(exc).splitlines() or [""])[0]
    return "".join(c if c.isprintable() else "?" for c in first)[:200]


def _damaged(collection: Path, why: str) -> DamagedCollectionError:
    return DamagedCollectionError(f"collection {collection.parent.name}/{collection.name}: its "
                                  f"{VERSION_FILE} file is damaged ({why})")


def _version_problem(data: object) -> str | None:
    """What is wrong with a parsed ``VERSION`` file, or None when it is what a writer wrote."""
    if not isinstance(data, dict):
        return "not a JSON object"
    names = _VERSION_FIELDS
    if set(data) != names:
        missing, unknown = sorted(names - set(data)), sorted(set(data) - names)
        return "; ".join(([f"missing {', '.join(missing)}"] if missing else [])
                         + ([f"unknown {', '.join(unknown)}"] if unknown else []))
    checks = {
        "version": _is_int(data["version"]) and data["version"] >= 1,
        "dir": _is_int(data["version"]) and data["dir"] == f"v{data['version']:06d}",
        "count": _is_int(data["count"]) and data["count"] >= 0,
        "dim": _is_int(data["dim"]) and data["dim"] >= 1,
        "embedder": isinstance(data["embedder"], str) and bool(data["embedder"]),
        "index": data["index"] in get_args(IndexKind),
        "created": (_is_int(data["created"]) or isinstance(data["created"], float)),
    }
    bad = [name for name, ok in checks.items() if not ok]
    return f"bad {', '.join(bad)}" if bad else None


_VERSION_FIELDS = frozenset(f.name for f in fields(VersionInfo)) - {"embedder_sha256",
                                                                    "vectors_sha256"}


def _recorded(path: Path) -> str:
    """A digest kept in a version's folder, or "" where the version has none (built before it
    was recorded) or it cannot be read (then nothing is judged by it)."""
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


_DIGEST_ROWS = 65_536  # rows hashed at a time: a memory-mapped file is not read whole


def vectors_digest(vectors: np.ndarray) -> str:
    """The sha256 of ``vectors`` as float32 rows, in order (VECTORS_SUM_FILE)."""
    digest = hashlib.sha256()
    for start in range(0, len(vectors), _DIGEST_ROWS):
        block = np.ascontiguousarray(vectors[start:start + _DIGEST_ROWS], dtype=np.float32)
        digest.update(block.data)
    return digest.hexdigest()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class AddResult:
    chunks_added: int  # chunks embedded for this change (text the collection did not hold)
    duplicates: int  # chunks of the added documents stored once already, from any document
    documents_replaced: int  # documents that were in the collection and have changed
    total_chunks: int
    version: int
    errors: list[str] = field(default_factory=list)
    documents_unchanged: int = 0  # documents that were in the collection just as they are now
    documents_removed: int = 0  # documents ``sync`` took out: not among those given
    # (new id, id of a document already there): a document added beside one of the same file
    # name under another path, which it does not replace (a file named alone is its name,
    # "refund.md"; from its folder, "policies/refund.md"); the caller says so
    namesakes: list[tuple[str, str]] = field(default_factory=list)
    # what was wrong with the live version's files, which this version was built without
    # (version_files_problem, vectors_problem); the caller says so
    repaired: str | None = None
    # what the repaired version was built from (the caller says so with ``repaired``)
    rebuilt_from: str = ""
    # chunks whose vectors an earlier add of this collection embedded and, stopped before it
    # finished, kept (stream_guard.evidence.embedded): taken, not embedded again
    resumed: int = 0


def collection_dir(data_dir: Path, tenant: str, name: str) -> Path:
    """Where a collection lives; names are checked so no tenant can reach another's files."""
    for what, value in (("tenant", tenant), ("collection", name)):
        if not NAME_PATTERN.fullmatch(value):  # match()'s "$" let a trailing newline through
            raise StoreError(f"{what} name {value!r} must be {NAME_RULE}")
    return Path(data_dir) / tenant / name


def add_documents(data_dir: Path, tenant: str, name: str, documents: Sequence[Document],
                  embedder: Embedder, *, index_flat_max: int,
                  chunk_chars: int = DEFAULT_MAX_CHARS, progress: bool = False,
                  sync: bool = False) -> AddResult:
    """Add ``documents`` to the collection (creating it), publishing a new version.

    A document whose id is already in the collection replaces that document's chunks (one that
    is there just as it is now changes nothing, and when no document changes no version is
    published). A chunk whose content is already stored (from any document) is stored once:
    the other documents holding it are recorded beside it, so replacing one of them never takes
    the chunk from the rest. Ids must be unique within ``documents``. ``sync``: the collection
    holds exactly ``documents`` afterwards; the others it held are removed (a document removed
    is one replaced by no chunks).
    """
    repeated = sorted(i for i, n in Counter(d.id for d in documents).items() if n > 1)
    if repeated:
        raise StoreError(f"document id(s) given more than once: {', '.join(repeated[:5])}")
    chunks = _chunks(documents, chunk_chars)
    cdir = collection_dir(data_dir, tenant, name)
    with _locked(cdir):
        try:
            current = VersionInfo.read(cdir)
        except UnreadableCollectionError as exc:
            raise UnreadableCollectionError(f"{exc}; nothing was added") from None
        except DamagedCollectionError as exc:
            raise DamagedCollectionError(
                f"{exc}; nothing was added. Restore the file, or remove the collection (stream-"
                f"guard index rm --tenant {tenant} --collection {name}) and add its documents "
                "again") from None
        if current and not current.built_with(embedder):
            raise StoreError(
                f"collection {tenant}/{name} was built with embedder {current.embedder} "
                f"(dim {current.dim}); the configured embedder is "
                f"{current.embedder_named(embedder)} (dim "
                f"{embedder.dim}). Remove and rebuild the collection to switch embedders.")
        old_dir = cdir / current.dir if current else None
        with _reading_live(tenant, name, old_dir):
            live = _read_live(old_dir, None if sync else set(chunks))
            removed = live.documents() - set(chunks) if sync else set()
            chunks.update({doc_id: [] for doc_id in removed})  # replaced by no chunks
            plan = _plan(chunks, live, old_dir)
        # Damaged live files that its vectors and documents can rebuild (an index that is
        # garbage) make a new version even where no document changed: an add reported success
        # and left the collection unserved (a review); so do damaged vectors (vectors_problem).
        damage = version_files_problem(cdir, current) if current else None
        lost = vectors_problem(cdir, current) if current else None
        # The live version's vectors: its vectors.npy, else (damaged) its whole index's copy
        # of them, else embedded again from its documents; and its index, where it holds them
        # (read before an add of unchanged documents returns, which repairs either too).
        old: np.ndarray | None = None
        held: Any | None = None
        again: list[tuple[str, str]] = []
        if current is not None and old_dir is not None:
            with _reading_live(tenant, name, old_dir):
                index = _live_index(old_dir) if damage is None else None
                copy = None if index is None else _index_copy(index, current)
                recorded = current.vectors_sha256
                stored = None if lost else np.load(old_dir / VECTORS_FILE, mmap_mode="r")
                if stored is not None:
                    lost = _vectors_changed(stored, recorded, f"{current.dir}/{VECTORS_FILE}")
                    old = None if lost else stored
                if copy is not None and _vectors_changed(copy, recorded, ""):
                    if lost is not None and _checksum_changed(stored, copy):
                        # both whole and alike: it is the checksum that changed, and the next
                        # version records it afresh
                        old, lost = copy, None
                        damage = _CHECKSUM_CHANGED.format(current.dir)
                    else:
                        copy, damage = None, (f"{current.dir}/{INDEX_FILE} does not hold the "
                                              "vectors it was published with")
                if old is None and copy is not None:
                    old = copy
                if old is not None and damage is None:
                    if copy is not None and (np.array_equal(copy, old) if recorded
                                             else np.allclose(copy, old, atol=1e-6)):
                        held = index
                    else:  # without a recorded checksum, which of the two is wrong cannot
                        # be told: the vectors kept stand (an index is rebuilt from them)
                        damage = (f"{current.dir}/{INDEX_FILE} does not hold the vectors of "
                                  f"{VECTORS_FILE}")
                if old is None:
                    texts = _texts(old_dir, [row for row, _, _ in live.rows])
                    again = [(digest, texts[row]) for row, _, digest in live.rows]
        if current and not plan.changed and damage is None and lost is None:
            discard(cdir)
            return AddResult(0, 0, 0, current.count, current.version,
                             documents_unchanged=plan.unchanged)
        fresh = [(row[5], row[2]) for row, src in zip(plan.new_rows, plan.reuse, strict=True)
                 if src < 0]
        embedded, resumed = _embed(cdir, fresh + again, embedder, progress)
        if again:  # by row, as the live version's vectors were
            old = np.zeros((len(live.rows), embedder.dim), dtype=np.float32)
            old[[row for row, _, _ in live.rows]] = embedded[len(fresh):]
        with _reading_live(tenant, name, old_dir):
            vectors = _vectors(old, plan, embedded[:len(fresh)], embedder.dim)
        version = current.version + 1 if current else 1
        # An add that drops no live row appends to the live vector index (extend_or_build).
        # Only an index that holds the vectors read (a review: one whose vectors were garbage
        # was extended, and published, when they had been embedded again).
        live_index = (held if current is not None and current.index == "hnsw"
                      and len(vectors) > index_flat_max
                      and len(plan.kept_rows) == len(live.rows) else None)
        try:
            try:
                info = _publish(cdir, version, old_dir, plan.changed, plan.new_rows,
                                plan.shared, vectors, live_index, embedder, index_flat_max)
            except (sqlite3.Error, OSError) as exc:
                # The vectors kept to resume take room too (more than the vectors themselves):
                # on a disk too full for both, they go and the version is written once more
                # (a review: every run failed so, where the release before them published).
                if not (_out_of_space(exc) and (cdir / EMBEDDED_FILE).exists()):
                    raise
                discard(cdir)
                info = _publish(cdir, version, old_dir, plan.changed, plan.new_rows,
                                plan.shared, vectors, live_index, embedder, index_flat_max)
        except (sqlite3.Error, OSError) as exc:  # a disk that is full, or the live docs.sqlite
            raise StoreError(f"collection {tenant}/{name}: version {version} could not be "
                             f"written ({type(exc).__name__}: {exc}); nothing was "
                             "published") from None
        discard(cdir)
        rebuilt_from = (f"its documents, its {len(again)} chunk(s) embedded again" if again
                        else "its index's copy of its vectors and its documents" if lost
                        else "its vectors and documents")
        return AddResult(len(fresh), plan.duplicates, plan.replaced - len(removed), info.count,
                         info.version, documents_unchanged=plan.unchanged,
                         documents_removed=len(removed),
                         namesakes=_namesakes(chunks, live, removed),
                         repaired="; ".join(p for p in (damage, lost) if p) or None,
                         rebuilt_from=rebuilt_from, resumed=resumed)


_CHECKSUM_CHANGED = (f"{{}}/{VECTORS_SUM_FILE} does not match the vectors that {VECTORS_FILE} "
                     "and the index hold alike")


def _checksum_changed(vectors: np.ndarray | None, copy: np.ndarray) -> bool:
    """Whether the index's copy of the vectors and ``vectors.npy`` (``vectors``, None where its
    file could not be read), neither matching the recorded checksum, are whole and alike: then
    the checksum's file is what changed (a bit flipped in it cost a collection every vector
    embedded again, where its two copies were whole)."""
    return (vectors is not None and vectors.shape == copy.shape and unit_rows(copy)
            and bool(np.array_equal(vectors, copy)))


def _vectors_changed(vectors: np.ndarray, recorded: str, name: str) -> str | None:
    """Why ``vectors`` (a version's, named ``name``) are not the ones it was published with,
    or None: not of unit length (zeroed, garbled), or not matching the checksum recorded then
    (``recorded``; "" for a version published before it was, judged by length alone)."""
    if not unit_rows(vectors):
        return f"{name} holds vectors that are not of unit length"
    if recorded and vectors_digest(vectors) != recorded:
        return (f"{name} does not match the checksum recorded when it was published "
                f"({VECTORS_SUM_FILE})")
    return None


_NAMESAKES_SAID = 5
_TEXT_NAMES = tuple(TEXT_SUFFIXES)


def _out_of_space(exc: BaseException) -> bool:
    """Whether a write failed for want of room (a full disk, a quota), as Python or SQLite
    says it."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return "disk is full" in str(exc)


def _namesakes(chunks: _Chunks, live: _Live, removed: set[str]) -> list[tuple[str, str]]:
    """Files named alone (a new id that is a text file's bare name, "refund.md") that a
    document already there has under a folder's path ("policies/refund.md"); the first
    :data:`_NAMESAKES_SAID` (see :attr:`AddResult.namesakes`). Not JSONL records' ids, whose
    "/" means what their author chose ("en/refunds" beside "de/refunds", a review)."""
    wanted = {d for d in chunks if "/" not in d and d.lower().endswith(_TEXT_NAMES)}
    if not wanted:  # the common case: no file named alone; the held ids are not gathered
        return []
    held = {d for _, d, _ in live.rows} | {m[2] for m in live.shared}
    wanted -= held
    return sorted((name, old) for old in held - removed
                  if (name := old.rpartition("/")[2]) in wanted)[:_NAMESAKES_SAID]


@contextlib.contextmanager
def _reading_live(tenant: str, name: str, old_dir: Path | None) -> Iterator[None]:
    """Reading the live version's files: a damaged one is a :class:`StoreError` naming it."""
    try:
        yield
    except StoreError:
        raise
    except (sqlite3.Error, OSError, ValueError, IndexError) as exc:  # IndexError: vectors short
        where = f"its live version {old_dir.name}" if old_dir else "its live version"
        raise StoreError(f"collection {tenant}/{name}: {where} cannot be read "
                         f"({type(exc).__name__}: {exc}); nothing was added. Remove the "
                         f"collection (stream-guard index rm --tenant {tenant} --collection "
                         f"{name}) and add its documents again") from None


def remove_collection(data_dir: Path, tenant: str, name: str) -> bool:
    """Delete a collection; False when there was none. Readers drop it at their next poll.
    A folder whose first version was never published (its ``add`` killed mid-build) is removed
    too: nothing else would take its files away (a review)."""
    cdir = collection_dir(data_dir, tenant, name)
    if not cdir.is_dir():
        return False
    graveyard = cdir.with_name(f"{_REMOVED}{name}-{uuid.uuid4().hex[:8]}")
    with _locked(cdir):
        try:
            os.replace(cdir, graveyard)  # one rename: the collection vanishes at once
        except OSError as exc:  # a tenant folder that is read-only: the rename is its write
            # (a review: a traceback, though the lock inside the collection could be taken)
            raise StoreError(f"cannot remove {tenant}/{name}: {cdir.parent} cannot be written "
                             f"({exc.strerror or exc}); nothing was removed. Check data_dir "
                             "(STREAM_GUARD_DATA_DIR, --data-dir)") from None
        # Deleted holding the lock, which moved with it: one whose lock nobody holds was left
        # by a remover killed before it finished, and the next add prunes it (_prune_removed)
        shutil.rmtree(graveyard, ignore_errors=True)
    return True


# A removed collection's folder until it is deleted: ".removed-<name>-<8 hex digits>".
_REMOVED = ".removed-"


def _prune_removed(tenant_dir: Path) -> None:
    """Delete the folders of removed collections a killed ``index rm`` left behind (a review:
    nothing ever deleted them). One whose lock is held is being deleted by its remover now,
    and is left to it, as a writer's ``.build-`` folder is while it holds the lock."""
    for graveyard in tenant_dir.glob(f"{_REMOVED}*"):
        try:
            fd = os.open(graveyard / ".lock", os.O_RDONLY)
        except FileNotFoundError:  # its lock deleted already: a remover emptying it
            shutil.rmtree(graveyard, ignore_errors=True)
            continue
        except OSError:  # not a folder, or not ours to read: left alone
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(graveyard, ignore_errors=True)
        except BlockingIOError:
            continue  # its remover is deleting it
        finally:
            os.close(fd)


def scan_collections(data_dir: Path, tenant: str | None = None, *,
                     unlisted: list[str] | None = None
                     ) -> list[tuple[str, str, VersionInfo | DamagedCollectionError]]:
    """(tenant, collection, version info) of every published collection, sorted; a collection
    whose ``VERSION`` cannot be read has the error naming it in place of its info, so one
    damaged collection costs only itself. A ``data_dir`` that is not a directory, or cannot be
    listed, is a :class:`StoreError` (a missing one holds no collections yet); so is a tenant's
    folder that cannot be listed, unless ``unlisted`` is given: its name is added there and the
    other tenants are scanned. Folders that are no tenant name (``lost+found``) are left out."""
    root = Path(data_dir)
    if root.exists() and not root.is_dir():
        raise StoreError(f"data_dir {root} is not a directory")
    if tenant is not None and not NAME_PATTERN.fullmatch(tenant):
        raise StoreError(f"tenant name {tenant!r} must be {NAME_RULE}")
    tenants = [root / tenant] if tenant else [
        p for p in _listing(root) if NAME_PATTERN.fullmatch(p.name) and p.is_dir()]
    out: list[tuple[str, str, VersionInfo | DamagedCollectionError]] = []
    for tdir in tenants:
        try:
            entries = _listing(tdir)
        except StoreError:
            if unlisted is None:
                raise
            unlisted.append(tdir.name)
            continue
        for cdir in entries:
            if not (cdir.is_dir() and NAME_PATTERN.fullmatch(cdir.name)):
                continue
            try:
                info = VersionInfo.read(cdir)
            except DamagedCollectionError as exc:
                out.append((tdir.name, cdir.name, exc))
                continue
            if info:
                out.append((tdir.name, cdir.name, info))
    return out


def _listing(folder: Path) -> list[Path]:
    """``folder``'s entries, sorted; none when it does not exist. One that cannot be listed is a
    :class:`StoreError`, not an empty folder (``Path.glob`` says nothing): a server reading it
    as empty would stop serving every collection in it until it could read it again."""
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise StoreError(f"cannot list {folder} ({exc.strerror or exc})") from None


# --- building a version -------------------------------------------------------------------

_Row = tuple[str, str, str, str, str, str]  # chunk_id, doc_id, text, source, metadata, hash
# A document's hold on a chunk: content hash, chunk_id, doc_id, source, metadata. A chunk is
# stored once (its row in ``chunks`` names one document); every other document holding the same
# content has a row in ``shared_chunks``, so the chunk outlives any one of them being replaced.
_Member = tuple[str, str, str, str, str]
_SHARED_SCHEMA = """
CREATE TABLE shared_chunks (
    content_hash TEXT NOT NULL,
    chunk_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    metadata TEXT NOT NULL
);
"""


@dataclass
class _Live:
    """What a change needs of the live version."""

    rows: list[tuple[int, str, str]] = field(default_factory=list)  # row, doc_id, hash: all
    members: dict[str, set[_Member]] = field(default_factory=dict)  # added ids' chunks there
    shared: list[_Member] = field(default_factory=list)  # every shared_chunks row

    def documents(self) -> set[str]:
        """Every document id the live version holds (a chunk's own or a shared one's)."""
        return {d for _, d, _ in self.rows} | {member[2] for member in self.shared}


@dataclass
class _Plan:
    """The next version: the live rows kept, the rows written anew, the shared chunks."""

    changed: set[str]  # ids whose chunks are replaced (new or changed documents)
    replaced: int  # of those, the ones that were in the collection
    unchanged: int
    kept_rows: list[int]
    new_rows: list[_Row]
    reuse: list[int]  # per new row, the live row whose vector it takes, or -1: embed it
    shared: list[_Member]
    duplicates: int


def _read_live(old_dir: Path | None, doc_ids: set[str] | None) -> _Live:
    """The live version's rows and shared chunks, with the chunks of ``doc_ids`` (of every
    document when None: a sync reads the live version once to find what it removes)."""
    live = _Live()
    if old_dir is None:
        return live
    select = "SELECT content_hash, chunk_id, doc_id, source, metadata FROM chunks"
    with contextlib.closing(connect_readonly(old_dir / DOCS_FILE)) as db:
        live.rows = [(int(r), d, h) for r, d, h in db.execute(
            "SELECT row, doc_id, content_hash FROM chunks ORDER BY row")]
        if doc_ids is None:
            members = list(db.execute(select))
        else:
            members = []
            ids = sorted(doc_ids & {d for _, d, _ in live.rows})
            for start in range(0, len(ids), 500):  # below SQLite's bound-parameter limit
                part = ids[start:start + 500]
                members += db.execute(f"{select} WHERE doc_id IN ({','.join('?' * len(part))})",
                                      part)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'shared_chunks'").fetchone():
            live.shared = list(db.execute(
                "SELECT content_hash, chunk_id, doc_id, source, metadata FROM shared_chunks "
                "ORDER BY rowid"))
    members += [m for m in live.shared if doc_ids is None or m[2] in doc_ids]
    for member in members:
        live.members.setdefault(member[2], set()).add(member)
    return live


_Chunks = dict[str, list[tuple[_Member, str]]]  # doc id -> its chunks and their text


def _chunks(documents: Sequence[Document], chunk_chars: int) -> _Chunks:
    out: _Chunks = {}
    for doc in documents:
        metadata = json.dumps(doc.metadata, ensure_ascii=False, sort_keys=True)
        out[doc.id] = [((content_hash(text), f"{doc.id}#{n}", doc.id, doc.source, metadata),
                        text) for n, text in enumerate(chunk_text(as_prose(doc.text), chunk_chars))]
    return out


def _plan(chunks: _Chunks, live: _Live, old_dir: Path | None) -> _Plan:
    """Which documents change, and the rows and shared chunks of the version that follows."""
    unchanged = {i for i, held in chunks.items()
                 if i in live.members and live.members[i] == {m for m, _ in held}}
    changed = set(chunks) - unchanged
    kept_rows = [row for row, doc_id, _ in live.rows if doc_id not in changed]
    stored = {digest for _, doc_id, digest in live.rows if doc_id not in changed}
    dropped = {digest: row for row, doc_id, digest in live.rows if doc_id in changed}
    new_rows: list[_Row] = []
    reuse: list[int] = []
    shared: list[_Member] = []
    for doc_id, held in chunks.items():
        if doc_id not in changed:
            continue
        for member, text in held:
            digest, chunk_id, _, source, metadata = member
            if digest in stored:
                shared.append(member)
                continue
            stored.add(digest)
            new_rows.append((chunk_id, doc_id, text, source, metadata, digest))
            reuse.append(dropped.get(digest, -1))  # text it held before: no need to embed it
    duplicates = len(shared)
    # A chunk of a replaced document that a kept document holds too stays, now in the kept
    # document's name (its text and vector are the stored ones).
    rehomed: list[tuple[int, _Member]] = []
    for member in live.shared:
        digest, doc_id = member[0], member[2]
        if doc_id in changed:
            continue
        if digest in stored:
            shared.append(member)
        elif digest in dropped:
            stored.add(digest)
            rehomed.append((dropped[digest], member))
        # else: a shared row whose chunk is gone (cannot happen): dropped with it
    texts = _texts(old_dir, [row for row, _ in rehomed]) if rehomed else {}
    for row, (digest, chunk_id, doc_id, source, metadata) in rehomed:
        new_rows.append((chunk_id, doc_id, texts[row], source, metadata, digest))
        reuse.append(row)
    return _Plan(changed=changed, replaced=len(changed & set(live.members)),
                 unchanged=len(unchanged), kept_rows=kept_rows, new_rows=new_rows, reuse=reuse,
                 shared=shared, duplicates=duplicates)


def _texts(old_dir: Path | None, rows: list[int]) -> dict[int, str]:
    assert old_dir is not None  # rows of the live version
    out: dict[int, str] = {}
    with contextlib.closing(connect_readonly(old_dir / DOCS_FILE)) as db:
        for start in range(0, len(rows), 500):
            part = rows[start:start + 500]
            out.update(db.execute(f"SELECT row, text FROM chunks WHERE row IN "
                                  f"({','.join('?' * len(part))})", part))
    return out


def _vectors(old: np.ndarray | None, plan: _Plan, embedded: np.ndarray, dim: int) -> np.ndarray:
    """The next version's vectors: the kept rows', then the new rows' (taken over from the
    live version's ``old`` where the same text was there, else just embedded), in row order."""
    reuse = np.asarray(plan.reuse, dtype=np.int64)
    new = np.zeros((len(plan.new_rows), dim), dtype=np.float32)
    new[reuse < 0] = embedded
    if old is None:
        return new
    if (reuse >= 0).any():
        new[reuse >= 0] = old[reuse[reuse >= 0]]
    return np.vstack([np.asarray(old[plan.kept_rows], dtype=np.float32).reshape(-1, dim), new])


def _embed(cdir: Path, chunks: list[tuple[str, str]], embedder: Embedder,
           progress: bool) -> tuple[np.ndarray, int]:
    """The vectors of ``chunks`` (content hash, text), in order, and how many of them an
    earlier add that stopped had embedded already (:mod:`stream_guard.evidence.embedded`)."""
    out = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    if not chunks:
        return out, 0
    with EmbeddedSoFar(cdir, embedder) as so_far:
        found = so_far.found([digest for digest, _ in chunks])
        todo = [i for i, (digest, _) in enumerate(chunks) if digest not in found]
        for i, (digest, _) in enumerate(chunks):
            if digest in found:
                out[i] = found[digest]
        with Progress(len(todo), "embedding", enabled=progress and bool(todo)) as bar:
            for start in range(0, len(todo), _EMBED_BATCH):
                rows = todo[start:start + _EMBED_BATCH]
                vectors = embedder.embed([chunks[i][1] for i in rows])
                out[rows] = vectors
                so_far.keep([chunks[i][0] for i in rows], vectors)
                bar.update(len(rows))
    return out, len(chunks) - len(todo)


def _index_copy(index: Any, info: VersionInfo) -> np.ndarray | None:
    """The vectors as the live version's index holds them (a flat index and HNSW's storage
    keep each vector as it was added), or None where it cannot give them all: what stands in
    for damaged vectors, and what tells whether the index may be extended."""
    if index.ntotal != info.count or index.d != info.dim:
        return None
    try:
        return np.asarray(index.reconstruct_n(0, info.count), dtype=np.float32)
    except RuntimeError:  # an index kind that keeps no vectors
        return None


def _live_index(old_dir: Path) -> Any | None:
    """The live version's vector index, or None where it cannot be read: it is built again
    from the vectors, so a damaged one costs time, not the add."""
    try:
        return faiss.read_index(str(old_dir / INDEX_FILE))
    except (RuntimeError, OSError, MemoryError):  # MemoryError: a garbled size field
        return None


def _publish(cdir: Path, version: int, old_dir: Path | None, replaced_ids: set[str],
             new_rows: list[_Row], shared: list[_Member], vectors: np.ndarray,
             live_index: Any | None, embedder: Embedder, index_flat_max: int) -> VersionInfo:
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=cdir))
    try:
        kept = _write_docs(tmp / DOCS_FILE, old_dir, replaced_ids, new_rows)
        if kept + len(new_rows) != len(vectors):  # pragma: no cover - an internal invariant
            raise StoreError("document store and vectors disagree; nothing was published")
        _write_shared(tmp / DOCS_FILE, shared)
        _write_vectors(tmp / VECTORS_FILE, vectors)
        with _written(tmp / EMBEDDER_FILE) as fh:
            fh.write(f"{embedder.fingerprint}\n".encode("ascii"))
        digest = vectors_digest(vectors)
        with _written(tmp / VECTORS_SUM_FILE) as fh:
            fh.write(f"{digest}\n".encode("ascii"))
        index, kind = extend_or_build(live_index, vectors, kept, index_flat_max)
        with _written(tmp / INDEX_FILE) as fh:  # faiss writes through Python's file: a write
            # that fails raises its OSError (faiss passes it on), told as the store's error
            faiss.write_index(index, faiss.PyCallbackIOWriter(fh.write))  # type: ignore[attr-defined]
        _fsync(tmp)  # the files' names are the directory's: durable before it is published
        final = cdir / f"v{version:06d}"
        os.chmod(tmp, 0o755)
        if final.exists() and final != old_dir:
            # A writer killed after its rename and before its VERSION: a version never
            # published, which no reader has opened (they open what VERSION names), and which
            # would make this rename fail for good. We hold the lock: no writer is using it.
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync(cdir)  # the rename, before VERSION names it: never a VERSION without its dir
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info = VersionInfo(version=version, dir=final.name, count=len(vectors), dim=embedder.dim,
                       embedder=embedder.name, index=kind, created=time.time(),
                       embedder_sha256=embedder.fingerprint, vectors_sha256=digest)
    _write_atomic(cdir / VERSION_FILE, info.to_json())
    _prune(cdir, keep={final.name, old_dir.name if old_dir else ""})
    return info


@contextlib.contextmanager
def _written(path: Path) -> Iterator[BinaryIO]:
    """A collection's file (a version's, or ``VERSION``), written by Python and flushed to the
    disk before it is closed, so every write that fails raises, the last one too. ``np.save``
    and ``faiss.write_index`` to a path write through C's stdio and ignore a failure to close
    the file: a disk that filled up (a quota, a file size limit) within the last few kilobytes
    left vectors.npy and index.faiss cut short, and that version was published, exit status 0
    (a review); no server could load it, and the next add could not read it. The error names
    the file."""
    try:
        with open(path, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def _write_vectors(path: Path, vectors: np.ndarray) -> None:
    """``vectors`` as ``np.save`` writes them (``np.load`` reads them), through
    :func:`_written`."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    with _written(path) as fh:
        np.lib.format.write_array_header_1_0(fh, np.lib.format.header_data_from_array_1_0(vectors))
        fh.write(vectors.data)


def _write_docs(path: Path, old_dir: Path | None, replaced_ids: set[str],
                new_rows: list[_Row]) -> int:
    """Write the document store: kept old rows renumbered from 0, then the new ones."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(_SCHEMA)
        kept = 0
        if old_dir is not None:
            db.execute("ATTACH DATABASE ? AS old", (f"file:{old_dir / DOCS_FILE}?mode=ro",))
            db.execute("CREATE TEMP TABLE replaced (doc_id TEXT PRIMARY KEY)")
            db.executemany("INSERT INTO replaced VALUES (?)", [(i,) for i in replaced_ids])
            db.execute(
                "INSERT INTO chunks SELECT ROW_NUMBER() OVER (ORDER BY row) - 1, chunk_id, "
                "doc_id, text, source, metadata, content_hash FROM old.chunks "
                "WHERE doc_id NOT IN (SELECT doc_id FROM replaced)")
            kept = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            db.commit()
            db.execute("DETACH DATABASE old")
        db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(kept + i, *row) for i, row in enumerate(new_rows)])
        db.executescript(_KEYWORD_SCHEMA)
        db.commit()
    return int(kept)


def _write_shared(path: Path, shared: list[_Member]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(_SHARED_SCHEMA)
        db.executemany("INSERT INTO shared_chunks VALUES (?, ?, ?, ?, ?)", shared)
        db.commit()


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only, lock-free connection: published versions are immutable."""
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True,
                           check_same_thread=False)


@contextlib.contextmanager
def _locked(cdir: Path) -> Iterator[None]:
    """One writer per collection at a time (two ``index add`` runs would lose each other's
    documents otherwise); readers never take this lock. A writer that waited while
    ``index rm`` moved the collection away holds the lock of a folder being deleted: it takes
    the lock of the collection's folder as it is now instead (an add after a remove used to
    embed everything, then fail to write into the removed folder)."""
    while True:
        try:
            cdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a data_dir below a file, on a read-only disk, not ours
            raise StoreError(f"cannot create {cdir} ({exc.strerror or exc}): check data_dir "
                             "(STREAM_GUARD_DATA_DIR, --data-dir)") from None
        try:
            fh = open(cdir / ".lock", "a")  # noqa: SIM115 - the with below closes it
        except OSError as exc:  # a read-only disk: the collection cannot be written at all
            raise StoreError(f"cannot write to {cdir} ({exc.strerror or exc}): check data_dir "
                             "(STREAM_GUARD_DATA_DIR, --data-dir)") from None
        with fh:
            if not _flock_waiting(fh, cdir):
                continue
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
            return


def _flock_waiting(fh: Any, cdir: Path) -> bool:
    """Take the lock (saying so when another writer holds it); False when, by then, the file
    locked is no longer the collection's."""
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"waiting for another writer of {cdir.parent.name}/{cdir.name} to finish ...",
              file=sys.stderr)
        fcntl.flock(fh, fcntl.LOCK_EX)
    try:
        current = os.stat(cdir / ".lock")
    except FileNotFoundError:
        current = None
    mine = os.fstat(fh.fileno())
    if current is None or (current.st_dev, current.st_ino) != (mine.st_dev, mine.st_ino):
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False
    return True


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    os.close(fd)
    with _written(Path(tmp)) as fh:
        fh.write(text.encode("utf-8"))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    """Flush a file, or a directory's entries (a rename is durable once its directory is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(cdir: Path, keep: set[str]) -> None:
    """Delete superseded versions, keeping the previous one for readers still switching over,
    and the builds and half-written VERSION files a crashed writer left behind (the caller
    holds the lock, so none is running), and the tenant's removed collections a killed
    ``index rm`` left (:func:`_prune_removed`)."""
    _prune_removed(cdir.parent)
    for child in cdir.iterdir():
        stale = child.name.startswith(".build-") or (child.name.startswith("v")
                                                     and child.name not in keep)
        if child.is_dir() and stale:
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(f".{VERSION_FILE}-") and child.is_file():
            child.unlink(missing_ok=True)  # _write_atomic's temporary file
