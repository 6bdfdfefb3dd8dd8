"""Serving evidence collections: loaded once, searched by many threads, swapped when rebuilt.

The server keeps one :class:`EvidenceLibrary`. ``poll()`` (on a timer) and ``reload()`` (on
SIGHUP) look at each collection's ``VERSION`` file and load any new version completely before
swapping it in with a single reference assignment, so a search in progress finishes on the old
version and no search ever waits for a load.
"""

from __future__ import annotations

import itertools
import logging
import re
import sqlite3
import threading
import weakref
from collections.abc import Sequence
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
    scan_collections,
)
from stream_guard.exceptions import GuardError
from stream_guard.scores import Evidence
from stream_guard.text.terms import HYPHENS, STOPWORDS

_Stamp = tuple[int, int, int, int]
log = logging.getLogger(__name__)


class UnknownCollectionError(GuardError, KeyError):
    """The tenant has no collection of that name to serve: none (or it was removed), or, with
    ``damaged``, one whose files could not be loaded (the log said why)."""

    def __init__(self, key: str, *, damaged: bool = False) -> None:
        super().__init__(key)
        self.damaged = damaged


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
        # Closed when the version is dropped (a reload, a new version): a connection lives in
        # a cycle with its statement cache, which a process's frozen start-up heap
        # (loop.freeze_heap) never collects, so its file and page cache stayed held.
        weakref.finalize(self, self._db.close)
        self._db_lock = threading.Lock()
        self.keyword_search = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'chunks_fts'").fetchone() is not None
        # How many chunks hold each name searched for, counted by the full-text index itself
        # (its tokenizer, its phrase matching) up to the most a searched name may have. Cached:
        # counting a name costs a lookup of its words' posting lists, once per version.
        self._docs_with_name: dict[str, int] = {}
        # The other documents holding each stored chunk (its row names one): read once.
        self._holders: dict[int, list[tuple[str, str]]] = {}
        if self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'shared_chunks'").fetchone():
            for row, chunk_id, source in self._db.execute(
                    "SELECT c.row, s.chunk_id, s.source FROM shared_chunks s "
                    "JOIN chunks c ON c.content_hash = s.content_hash ORDER BY s.chunk_id"):
                self._holders.setdefault(row, []).append((chunk_id, source))
        if not self.keyword_search:
            log.warning("collection built before keyword search: searched by embeddings "
                        "alone until it is rebuilt (stream-guard index add)",
                        extra={"collection": str(path)})

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

    def search(self, vectors: npt.NDArray[np.float32], k: int,
               texts: Sequence[str] | None = None) -> list[list[Evidence]]:
        """The top-``k`` chunks per query vector (unit vectors from the collection's embedder),
        best first, ``score`` = cosine similarity, and of the next ``k`` those of a document
        the top ``k`` come from (:data:`_SAME_DOCUMENT_DEPTH`); with the queries' ``texts``,
        then up to ``k`` more holding the text word for word, ``k`` more by BM25 over their
        names, and ``k`` more holding two of their figures, that the vectors did not find
        (``score`` 0), so a passage with the query's sentence, exact name, model number or
        figures is not lost among near-identical ones. Blocking: call it off the event
        loop."""
        if vectors.ndim != 2 or vectors.shape[1] != self.info.dim:
            raise ValueError(f"query vectors must be [n, {self.info.dim}], got {vectors.shape}")
        if texts is not None and len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} query texts for {len(vectors)} vectors")
        # No search finds more chunks than the collection holds; a larger k (`index search
        # -k 99999999999999999999`) overflowed SQLite's LIMIT, a traceback (a review)
        k = min(k, self.count)
        scores, ids = search(self._index, vectors, _SAME_DOCUMENT_DEPTH * k)
        dense: list[list[tuple[int, float]]] = [
            [(int(i), float(s)) for s, i in zip(row_scores, row_ids, strict=True) if i >= 0]
            for row_scores, row_ids in zip(scores, ids, strict=True)]
        keyword = ([self._keyword_rows(text, k) for text in texts]
                   if texts is not None and self.keyword_search else [[] for _ in dense])
        rows = self._fetch(sorted({row for hits in dense for row, _ in hits}
                                  | {row for hits in keyword for row in hits}))

        def evidence(row: int, score: float) -> Evidence:
            chunk_id, text, source = rows[row]
            return Evidence(id=chunk_id, text=text, score=score, source=source)

        out: list[list[Evidence]] = []
        for hits, by_name in zip(dense, keyword, strict=True):
            found = [(row, evidence(row, s)) for row, s in hits]
            documents = {e.document for _, e in found[:k]}
            kept = found[:k] + [(row, e) for row, e in found[k:] if e.document in documents]
            seen = {row for row, _ in kept}
            kept += [(row, evidence(row, 0.0)) for row in by_name if row not in seen]
            out.append(self._with_holders(kept))
        return out

    def _with_holders(self, kept: list[tuple[int, Evidence]]) -> list[Evidence]:
        """``kept`` with each chunk another document holds too also under that document's id,
        where that document is among the hits. A chunk is stored under one document's id: two
        product sheets sharing a paragraph served it as the first sheet's alone, and a true
        claim about the second, its own sheet scoped out as another product's, halted (a
        review); its evidence named the other sheet. Only the hits' documents: a footer a
        thousand documents share is not a thousand passages."""
        if not self._holders:
            return [e for _, e in kept]
        documents = {e.document for _, e in kept}
        out: list[Evidence] = []
        for row, e in kept:
            out.append(e)
            for chunk_id, source in self._holders.get(row, ()):
                other = Evidence(id=chunk_id, text=e.text, score=e.score, source=source)
                if other.document in documents and other.document != e.document:
                    out.append(other)
        return out

    def _keyword_rows(self, text: str, k: int) -> list[int]:
        """Up to ``k`` chunks that hold ``text`` word for word (:func:`_copied_query`), then
        up to ``k`` that best match its names by BM25, best first, then up to ``k`` more that
        hold two of its figures at once (:func:`_figure_pairs_query`).

        Only names that single out a few chunks are searched: BM25 scores every chunk that
        matches the query, so a name most chunks hold (the company's, in its own knowledge
        base) made each search a scan of the collection (50 ms a window at 55,000 chunks in
        ``loadtest.bench_index``, on the scoring thread), and it ranks nothing: a chunk
        sharing only that name is noise (``_KEYWORD_SHARE``)."""
        names, pairs = _names(text), _figure_pairs_query(_figures(text))
        copied = _copied_query(text)
        rows: list[int] = []
        with self._db_lock:
            most = min(_KEYWORD_MAX_CHUNKS, self.count // 2)
            rare = _match_query([n for n in names if self._chunks_with(n, most) <= most])
            for query in (copied, rare, pairs):
                rows += [row for row in self._ranked(query, k) if row not in rows]
        return rows

    def _ranked(self, query: str | None, k: int) -> list[int]:
        """The best ``k`` chunks for an FTS5 ``query`` by BM25, those far below the best left
        out (``_KEYWORD_SHARE``). Holding the lock."""
        if query is None:
            return []
        ranked = self._db.execute(
            "SELECT rowid, bm25(chunks_fts) AS rank FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY rank LIMIT ?", (query, k)).fetchall()
        best = ranked[0][1] if ranked else 0.0  # FTS5's BM25 is negative: lower is better
        return [row for row, rank in ranked if rank <= best * _KEYWORD_SHARE]

    def _chunks_with(self, name: str, most: int) -> int:
        """How many chunks hold ``name`` as the full-text index matches it (the phrase of its
        words, as its unicode61 tokenizer cuts and folds them: "K-221" is "k" "221"), counted
        up to ``most + 1``: a name most chunks hold costs no scan. Holding the lock.

        The name is counted, not its words: the model "K-2010" of a catalogue whose sheets say
        "released in 2010" is one chunk though "k" and "2010" are in thousands."""
        count = self._docs_with_name.get(name)
        if count is None:
            if len(self._docs_with_name) >= _NAME_COUNTS_MAX:
                self._docs_with_name.clear()
            row = self._db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? "
                "LIMIT ?)", (_match_query([name]), most + 1)).fetchone()
            count = self._docs_with_name[name] = int(row[0])
        return count

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


# How deep a search reads for more chunks of its best hits' documents: a summary's sentence
# draws on several parts of its source ("cuts energy costs by up to 30 %" and "a 30-day
# trial" are two chunks of one email), which rank just below the top ``k`` while another
# document's chunks fill it. 2: the next ``k``.
_SAME_DOCUMENT_DEPTH = 2

# Words as FTS5 reads them, a hyphenated or dotted name ("K-221", "U.S.") kept as one phrase,
# typeset hyphens (U+2010-U+2012: "K‑221") too.
_WORD = re.compile(rf"[^\W_]+(?:[{HYPHENS}'’.][^\W_]+)*")  # (a leading "-" is no range)
_MAX_QUERY_NAMES = 16
# Figures as FTS5's tokenizer cuts them too ("98.9" is the phrase "98" "9", in the query as in
# the chunk); at most this many a window, so at most six pairs (_figure_pairs_query).
# A figure stands alone: the digits of a name ("K-150", "COVID-19") are the name's.
_FIGURE = re.compile(r"(?<![\w.,-])\d+(?:[.,]\d+)*(?![\w-])")
_MAX_QUERY_FIGURES = 4
# The fewest words of a window searched for word for word (:func:`_copied_query`).
_COPIED_MIN_WORDS = 8
# A name held by more chunks than this (or than half the collection) is not searched for.
_KEYWORD_MAX_CHUNKS = 1000
_NAME_COUNTS_MAX = 100_000
# A keyword hit is kept when its BM25 is at least this share of the best hit's: a chunk that
# shares only a name every chunk has ("Vantor" in a catalogue) is noise, not evidence.
_KEYWORD_SHARE = 0.5


def _is_name(word: str) -> bool:
    """A capitalised word ("Vantor", "K-221", "COVID-19", "iPhone") that opens with a letter.

    A word holding a figure is no name unless a capital makes it one, and opens it: "The
    28-year-old joined ..." found a migrant's story that says "28-year-old", and its chunk put
    the changed age in the premise as stated (a review: a false claim passed, its source says
    "22-year-old"). A figure opening a word is that figure and its measure ("30-day", "5-star",
    "15.8million", "8GB", "28-Year-Old" in a headline), and so is one after a lowercase word
    ("mid-1990s", "top-10", "5pm"): the wrong numbers :func:`_names` must not search for. A
    model's number follows its capitalised name ("K-221", "F-35", "GPT-4", "A320": a numbered
    name, as :mod:`stream_guard.text.terms` reads one) and is the name's, and "iPhone 15" is
    the name "iPhone" and a figure. Lost: the rare name that opens with a figure ("3M",
    "7-Eleven") or is all lowercase ("x86"); the claim's other names and its vector still
    search for it."""
    return (word[0].isalpha() and any(c.isupper() for c in word)
            and word.lower() not in STOPWORDS)


def _names(text: str) -> list[str]:
    """``text``'s names, each once, at most :data:`_MAX_QUERY_NAMES`. Names only: a claim's
    plain words and numbers would find the chunks that share its wrong number ("weighs 3.2 kg"
    is some other product's weight), and put them in its premise as if they were about it."""
    return list(dict.fromkeys(w for w in _WORD.findall(text) if _is_name(w)))[:_MAX_QUERY_NAMES]


def _figures(text: str) -> list[str]:
    """``text``'s specific figures, each once, at most :data:`_MAX_QUERY_FIGURES`: those of
    three digits or more, or with a decimal part ("2020", "1,250", "98.9", "8.6"). Two-digit
    ones are in too many chunks: "up to 20 % and a 15-day trial", an edit of "30 %" and
    "30-day", found another sales email that has both, and read as supported."""
    return list(dict.fromkeys(
        f for f in _FIGURE.findall(text)
        if sum(c.isdigit() for c in f) >= 3 or "." in f))[:_MAX_QUERY_FIGURES]


def _figure_pairs_query(figures: Sequence[str]) -> str | None:
    """An FTS5 query for chunks that hold two of ``figures`` (None: fewer than two).

    One figure alone is not searched for (:func:`_names`), but two in one chunk single out the
    passage a sentence took them from: "net income increased 96 % to $98.9 million, or $1.49
    per diluted share" copies one earnings call, and its words and vector are as close to
    every other call's (a load test's copied sentence halted, "contradicted" by another
    call's figures its search found instead). A claim that changes one of three figures
    still finds its source by the other two, and the changed one then conflicts with it."""
    if len(figures) < 2:
        return None
    return " OR ".join(f"({_match_query([a])} AND {_match_query([b])})"
                       for a, b in itertools.combinations(figures, 2))


def _copied_query(text: str) -> str | None:
    """An FTS5 query for chunks holding ``text`` word for word (None: it is too short to tell
    its source). A sentence copied from deep in a chunk is one of its many sentences, and that
    chunk's vector is often far from it: in a collection of 1,499 news articles (14,574
    chunks), 85 of 600 such sentences found no chunk holding them, and halted as contradicted
    by other articles' passages ("Washington has offered a $10 million reward for his
    capture."); this finds all of them. At least :data:`_COPIED_MIN_WORDS` words: a short one
    ("It opened in 1952.") recurs in documents about other things, which would read as its
    support."""
    words = _WORD.findall(text)
    if len(words) < _COPIED_MIN_WORDS:
        return None
    # Its words, not the text: FTS5 reads a NUL as the query's end (a review: "Gustave\x00
    # Eiffel" failed the window's check), and the tokenizer drops the rest anyway.
    return _match_query([" ".join(words)])


def _match_query(names: Sequence[str]) -> str | None:
    """An FTS5 query for any of ``names`` (each a quoted phrase, so no word is read as query
    syntax), or None when there is none."""
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in names) or None


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
        self._failed: dict[tuple[str, str], _Stamp] = {}  # not loaded, as of that VERSION
        # Versions a search found damaged (set_aside): never served again (weak: a version
        # no stream holds any more is freed as usual).
        self._aside: weakref.WeakSet[Collection] = weakref.WeakSet()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, tenant: str, name: str) -> Collection:
        loaded = self._loaded.get((tenant, name))
        if loaded is not None and loaded.collection in self._aside:
            # set aside, though still listed: two scoring threads' set-asides at once each
            # write a table without the other's version (a review)
            raise UnknownCollectionError(f"{tenant}/{name}", damaged=True)
        if loaded is None:
            raise UnknownCollectionError(f"{tenant}/{name}", damaged=(tenant, name) in self._failed)
        return loaded.collection

    def set_aside(self, collection: Collection, exc: BaseException) -> None:
        """``collection``'s files were found damaged by a search (in place: a disk fault, a
        backup restored over them): new streams are refused it, as a collection that cannot
        be loaded, until its ``VERSION`` changes (``index add``, a restored copy) or a reload
        (SIGHUP) loads it again. A review saw every stream on such a collection go unchecked,
        window after window, while readiness and new starts said nothing was wrong.

        Called on the scoring thread: it takes no lock a refresh holds while it loads (that
        held every tenant's checks for the load, a review); a refresh running meanwhile
        leaves the version out as well (:attr:`_aside`)."""
        self._aside.add(collection)
        for key, loaded in list(self._loaded.items()):
            if loaded.collection is collection:
                self._loaded = {k: v for k, v in self._loaded.items() if k != key}
                self._not_loaded(key, loaded.stamp, None, exc)
                return

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
        failing: str | None = None
        while not self._stop.wait(interval_s):
            try:
                changed = self.poll()
            except Exception as exc:  # the poller must outlive any failure
                # Each collection's own trouble is handled (and logged) in _refresh; this is
                # the listing itself failing. Logged once until it changes or clears: every
                # poll would repeat it.
                if repr(exc) != failing:
                    log.exception("evidence collections not polled (the loaded ones are still "
                                  "served); trying again every %gs", interval_s)
                failing = repr(exc)
            else:
                if failing is not None:
                    log.info("evidence collections polled again")
                failing = None
                if changed:  # an operator who ran `index add` sees it was picked up
                    log.info("evidence collections changed: %s", ", ".join(changed),
                             extra={"changed": changed})

    def _refresh(self, *, force: bool) -> list[str]:
        with self._refresh_lock:
            current = dict(self._loaded)
            found: dict[tuple[str, str], _Loaded] = {}
            changed = []
            unlisted: list[str] = []
            listed = scan_collections(self.data_dir, unlisted=unlisted)
            self._failed = {k: v for k, v in self._failed.items()
                            if k in {(t, n) for t, n, _ in listed}}
            for tenant, name, _info in listed:
                key = (tenant, name)
                old = current.get(key)
                loaded = self._load(key, old, force)
                if loaded is None:
                    continue
                found[key] = loaded
                # a forced re-read of the version already served is no change (a review:
                # every SIGHUP listed every collection, which said nothing of an `index add`)
                if loaded is not old and (old is None or loaded.stamp != old.stamp
                                          or old.collection in self._aside):
                    changed.append(f"{tenant}/{name}")
            if unlisted:  # unreadable for now (permissions, a mount): not removed
                log.warning("tenant folders cannot be listed; their collections stay as loaded",
                            extra={"tenants": unlisted})
                found.update({k: v for k, v in current.items()
                              if k[0] in unlisted and k not in found})
            found = {k: v for k, v in found.items() if v.collection not in self._aside}
            changed += [f"{t}/{n}" for t, n in current if (t, n) not in found]
            self._loaded = found  # the swap: one reference assignment
            return sorted(changed)

    def _load(self, key: tuple[str, str], old: _Loaded | None, force: bool) -> _Loaded | None:
        """The collection's current version: ``old`` when it has not changed (or cannot be
        loaded: a damaged file, a version superseded while loading), None when there is none
        to serve. Whatever goes wrong stays with this collection: the others are refreshed.
        A version that failed is logged once and tried again when its ``VERSION`` changes
        (a writer published, an operator restored it) or on :meth:`reload` (SIGHUP)."""
        tenant, name = key
        path = self.data_dir / tenant / name
        stamp: _Stamp | None = None
        try:
            stamp = _stamp(path / VERSION_FILE)
            if old is not None and old.collection in self._aside:
                old = None  # set aside while this refresh ran: loaded again only if changed
            if old is not None and old.stamp == stamp and not force:
                return old
            if self._failed.get(key) == stamp and not force:
                return old  # this VERSION failed to load before, and said so: wait for a new one
            info = VersionInfo.read(path)
            if info is None:  # removed between the listing and now
                return None
            loaded = _Loaded(Collection(path, info, use_gpu=self._use_gpu), stamp)
        except FileNotFoundError as exc:
            if stamp is None:  # removed between the listing and now
                return None
            self._not_loaded(key, stamp, old, exc)
            return old
        except (OSError, RuntimeError, sqlite3.Error, ValueError, TypeError) as exc:
            # A damaged VERSION or index file, a version superseded while loading.
            self._not_loaded(key, stamp, old, exc)
            return old
        except Exception as exc:  # one collection must not stop the others
            self._not_loaded(key, stamp, old, exc, unexpected=True)
            return old
        if self._failed.pop(key, None) is not None:
            log.info("evidence collection %s loaded again", "/".join(key),
                     extra={"collection": "/".join(key), "version": loaded.collection.info.version})
        return loaded

    def _not_loaded(self, key: tuple[str, str], stamp: _Stamp | None, old: _Loaded | None,
                    exc: BaseException, *, unexpected: bool = False) -> None:
        if stamp is not None:
            self._failed[key] = stamp
        what = ("still serving the version loaded before" if old is not None
                else "not served until it is repaired")
        fields = {"collection": "/".join(key), "error": str(exc)}
        if unexpected:
            log.error("evidence collection %s could not be loaded; %s", "/".join(key), what,
                      exc_info=exc, extra=fields)
        else:
            log.warning("evidence collection %s could not be loaded; %s: %s", "/".join(key),
                        what, exc, extra=fields)


def _stamp(path: Path) -> _Stamp:
    """What tells a rewritten ``VERSION`` from the one read before, with one stat. Its change
    time too: a backup of the same version copied over it (``cp -a``) keeps its inode, size
    and (copied) modification time, and no copy can set the change time (a review: the
    restored collection stayed refused until SIGHUP)."""
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
