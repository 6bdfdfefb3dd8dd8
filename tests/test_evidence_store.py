"""Collections on disk: building, adding, replacing, de-duplicating, versions and search."""

from __future__ import annotations

import fcntl
import gc
import json
import logging
import os
import resource
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from stream_guard.evidence.chunking import content_hash
from stream_guard.evidence.embedded import EMBEDDED_FILE, EmbeddedSoFar, embedder_identity
from stream_guard.evidence.ingest import Document
from stream_guard.evidence.reader import (
    Collection,
    EvidenceLibrary,
    UnknownCollectionError,
    _names,
)
from stream_guard.evidence.store import (
    VECTORS_SUM_FILE,
    AddResult,
    DamagedCollectionError,
    StoreError,
    VersionInfo,
    add_documents,
    collection_dir,
    remove_collection,
    scan_collections,
    vectors_digest,
    vectors_problem,
    verify_vectors,
)
from stream_guard.models.embedder import SentenceEmbedder, load_embedder
from stream_guard.models.packaged import MINILM_SHA256, minilm_dir

pytestmark = pytest.mark.slow  # real models

FACTS = [
    Document("eiffel", "The Eiffel Tower is in Paris. It was completed in 1889.", "kb/eiffel.txt"),
    Document("everest", "Mount Everest is the highest mountain above sea level. It lies in the "
             "Himalayas on the border of Nepal and China.", "kb/everest.txt"),
    Document("python", "Python is a programming language created by Guido van Rossum. It was "
             "first released in 1991.", "kb/python.txt", {"topic": "software"}),
]


def _add(data_dir: Path, docs: list[Document], embedder: SentenceEmbedder, *,
         name: str = "kb", tenant: str = "acme", flat_max: int = 1000) -> AddResult:
    return add_documents(data_dir, tenant, name, docs, embedder, index_flat_max=flat_max)


def test_build_and_search(tmp_path: Path, minilm: SentenceEmbedder) -> None:
    result = _add(tmp_path, FACTS, minilm)
    assert (result.chunks_added, result.total_chunks, result.version) == (3, 3, 1)
    collection = Collection.open(tmp_path, "acme", "kb")
    hits = collection.search(minilm.embed(["Which tower stands in Paris?",
                                           "Who created Python?"]), k=2)
    assert hits[0][0].id == "eiffel#0" and hits[0][0].source == "kb/eiffel.txt"
    assert hits[1][0].id == "python#0" and "Guido" in hits[1][0].text
    assert hits[0][0].score > hits[0][1].score
    assert len(collection.search(minilm.embed(["x"]), k=50)[0]) == 3  # k beyond the count
    with sqlite3.connect(collection_dir(tmp_path, "acme", "kb") / "v000001" / "docs.sqlite") as db:
        meta = db.execute("SELECT metadata FROM chunks WHERE doc_id='python'").fetchone()[0]
    assert json.loads(meta) == {"topic": "software"}


def test_a_k_beyond_any_integer_sqlite_holds_finds_every_chunk(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: `index search -k 99999999999999999999` ended in an OverflowError traceback
    (the keyword search's LIMIT is a 64-bit integer); no k finds more than the chunks held."""
    _add(tmp_path, FACTS, minilm)
    collection = Collection.open(tmp_path, "acme", "kb")
    query = "Which tower stands in Paris?"
    hits = collection.search(minilm.embed([query]), k=10**20, texts=[query])[0]
    assert sorted(e.id for e in hits) == ["eiffel#0", "everest#0", "python#0"]


def _catalog(n: int = 120) -> list[Document]:
    """Near-identical product sheets that differ only in model number and figures: what
    embeddings cannot tell apart and an exact name can."""
    return [Document(f"k-{m}", f"The Vantor K-{m} cordless drill weighs {1 + m % 7}.{m % 10} kg "
                     f"and its motor is rated at {300 + 10 * (m % 50)} watts.", f"k-{m}.txt")
            for m in range(100, 100 + n)]


def test_an_exact_model_number_is_found_among_near_identical_chunks(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    _add(tmp_path, _catalog(), minilm)
    collection = Collection.open(tmp_path, "acme", "kb")
    assert collection.keyword_search
    queries = [f"The Vantor K-{m} weighs {1 + m % 7}.{m % 10} kg." for m in range(100, 220)]
    vectors = minilm.embed(queries)
    dense = collection.search(vectors, k=3)
    both = collection.search(vectors, k=3, texts=queries)
    wanted = [f"k-{m}#0" for m in range(100, 220)]
    by_vectors = sum(w in {h.id for h in hits} for w, hits in zip(wanted, dense, strict=True))
    assert by_vectors < len(wanted)  # the case this is for: vectors alone miss some
    for w, d, b in zip(wanted, dense, both, strict=True):
        assert w in {h.id for h in b}, w
        assert [h.id for h in b[:len(d)]] == [h.id for h in d]  # the nearest come first
        assert all(h.score == 0.0 for h in b[len(d):]) and len(b) <= 6
    # Words that are query syntax to FTS5, and text with no content word, are just text.
    odd = ['K-150 "OR" NEAR(drill) AND -', "the of and", ""]
    assert len(collection.search(minilm.embed(odd), k=3, texts=odd)) == 3


def test_adding_deduplicates_and_replaces_by_document_id(tmp_path: Path,
                                                         minilm: SentenceEmbedder) -> None:
    _add(tmp_path, FACTS, minilm)
    copy = Document("eiffel-copy", FACTS[0].text.replace(" ", "  "), "elsewhere.txt")
    again = _add(tmp_path, [copy], minilm)
    # Stored once, but the collection now knows eiffel-copy holds it too (a new version).
    assert (again.chunks_added, again.duplicates, again.total_chunks) == (0, 1, 3)
    assert again.version == 2
    unchanged = _add(tmp_path, [copy, FACTS[1]], minilm)
    assert (unchanged.documents_unchanged, unchanged.version) == (2, 2)  # no new version
    updated = Document("eiffel", "The Eiffel Tower is 330 metres tall.", "kb/eiffel.txt")
    result = _add(tmp_path, [updated], minilm)
    assert (result.chunks_added, result.documents_replaced, result.total_chunks) == (1, 1, 4)
    assert result.version == 3
    collection = Collection.open(tmp_path, "acme", "kb")
    hits = collection.search(minilm.embed(["Eiffel Tower"]), k=4)[0]
    texts = {e.text: (e.id, e.source) for e in hits}
    assert "The Eiffel Tower is 330 metres tall." in texts
    # eiffel no longer says 1889, eiffel-copy still does: the chunk is kept, in its name.
    assert texts[FACTS[0].text] == ("eiffel-copy#0", "elsewhere.txt")
    # The kept chunks' vectors were carried over, not recomputed, and still find them.
    assert collection.search(minilm.embed(["highest mountain"]), k=1)[0][0].id == "everest#0"


class _Counting:
    """The real MiniLM, keeping the texts it was asked to embed."""

    def __init__(self, inner: SentenceEmbedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.fingerprint = inner.fingerprint
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += texts
        return self.inner.embed(texts)


SHARED = "The Model X battery is rated for 1200 charge cycles."


def test_a_chunk_two_documents_hold_outlives_replacing_either(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """Stored once, under the first document's id; before, replacing that document deleted the
    chunk though the other one, unchanged, still said it."""
    embedder = _Counting(minilm)
    first = add_documents(tmp_path, "acme", "kb", [
        Document("a.txt", SHARED, "a.txt"), Document("b.txt", SHARED, "b.txt"),
        Document("c.txt", SHARED, "c.txt")], embedder, index_flat_max=10)
    assert (first.chunks_added, first.duplicates, first.total_chunks) == (1, 2, 1)
    embedder.texts.clear()
    edited = add_documents(tmp_path, "acme", "kb", [Document("a.txt", "Ferries leave at noon.",
                                                             "a.txt")], embedder,
                           index_flat_max=10)
    assert (edited.chunks_added, edited.documents_replaced, edited.total_chunks) == (1, 1, 2)
    assert embedder.texts == ["Ferries leave at noon."]  # the kept chunk's vector is reused
    query = minilm.embed(["battery charge cycles"])
    hits = Collection.open(tmp_path, "acme", "kb").search(query, k=2)[0]
    assert (hits[0].id, hits[0].source, hits[0].text) == ("b.txt#0", "b.txt", SHARED)
    # b changes too: c still holds it. Then c: no document holds it, and it is gone.
    _add(tmp_path, [Document("b.txt", "Trains leave at one.", "b.txt")], minilm)
    hits = Collection.open(tmp_path, "acme", "kb").search(query, k=1)[0]
    assert (hits[0].id, hits[0].text) == ("c.txt#0", SHARED)
    last = _add(tmp_path, [Document("c.txt", "Buses leave at two.", "c.txt")], minilm)
    collection = Collection.open(tmp_path, "acme", "kb")
    assert last.total_chunks == collection.count == 3  # one vector per chunk, none twice
    assert SHARED not in {e.text for e in collection.search(query, k=3)[0]}


def test_a_shared_chunk_is_found_under_each_of_the_hits_documents(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """Two product sheets sharing a paragraph: stored once, under the first sheet's id, it was
    served as the first sheet's alone, and a true claim about the second (its own sheet scoped
    out as another product's) halted (a review). It is found under each hit document's id;
    a document holding it that no hit is of is not named."""
    para = ("The jar is made of BPA-free Tritan and holds 2 litres. Its noise level is 78 "
            "decibels at full speed, and the blades are hardened stainless steel.")
    docs = [Document(f"k-{n}.md", f"The K-{n} blender has a {watts} W motor and a 5-year "
                     f"warranty.\n\n{para}", f"k-{n}.md")
            for n, watts in ((400, 1000), (500, 1400))]
    docs.append(Document("other.md", f"Spare parts.\n\n{para}", "other.md"))
    add_documents(tmp_path, "acme", "kb", docs, minilm, index_flat_max=10, chunk_chars=160)
    query = "The K-500 has a noise level of 78 decibels."
    hits = Collection.open(tmp_path, "acme", "kb").search(minilm.embed([query]), k=2,
                                                          texts=[query])[0]
    shared = [(e.id, e.source) for e in hits if e.text == para]
    assert shared == [("k-400.md#1", "k-400.md"), ("k-500.md#1", "k-500.md")]


def test_an_unchanged_document_is_not_embedded_or_published_again(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    embedder = _Counting(minilm)
    long = " ".join(f"Clause {i} of the contract covers item number {i}." for i in range(6))

    def add(*docs: Document) -> AddResult:
        return add_documents(tmp_path, "acme", "kb", docs, embedder, index_flat_max=10,
                             chunk_chars=120)

    first = add(Document("contract", long, "contract.md"), *FACTS[:2])
    chunks = first.total_chunks
    embedder.texts.clear()
    again = add(Document("contract", long, "contract.md"), *FACTS[:2])
    assert (again.documents_unchanged, again.version, again.chunks_added) == (3, 1, 0)
    assert embedder.texts == []
    edited = add(Document("contract", long.replace("item number 5", "item number 50"),
                          "contract.md"), *FACTS[:2])
    assert (edited.documents_unchanged, edited.documents_replaced, edited.version) == (2, 1, 2)
    assert embedder.texts and all("item number 50" in t for t in embedder.texts)  # its chunks
    assert edited.chunks_added == len(embedder.texts) < chunks
    hits = Collection.open(tmp_path, "acme", "kb").search(minilm.embed(["Clause 1"]), k=1)[0]
    assert hits[0].id.startswith("contract#") and "Clause 1 " in hits[0].text
    with pytest.raises(StoreError, match="given more than once: contract"):
        add(Document("contract", "One.", "x"), Document("contract", "Two.", "y"))


@pytest.mark.parametrize("damage", [
    b'{"version": 1, "dir": "v0000', b"", b"\xff\xfe", b"[1, 2]", b'{"version": 1}',
    b'{"version": 1, "dir": "../../elsewhere", "count": 1, "dim": 384, "embedder": "m", '
    b'"index": "flat", "created": 1.0}',
    b'{"version": 1, "dir": "v000001", "count": "1", "dim": 384, "embedder": "m", '
    b'"index": "flat", "created": 1.0}',
], ids=["truncated", "empty", "not-utf8", "not-object", "missing", "dir", "type"])
def test_a_damaged_version_file_costs_only_its_collection(
        tmp_path: Path, minilm: SentenceEmbedder, damage: bytes,
        caplog: pytest.LogCaptureFixture) -> None:
    """Before, a damaged VERSION raised out of the collection scan: `index ls` and the server's
    start died on it, for every collection of every tenant."""
    _add(tmp_path, FACTS[:1], minilm, tenant="alice")
    _add(tmp_path, FACTS[1:], minilm, tenant="bob", name="bad")
    (collection_dir(tmp_path, "bob", "bad") / "VERSION").write_bytes(damage)
    scanned = scan_collections(tmp_path)
    assert [(t, n) for t, n, _ in scanned] == [("alice", "kb"), ("bob", "bad")]
    assert isinstance(scanned[0][2], VersionInfo)
    assert isinstance(scanned[1][2], DamagedCollectionError)
    assert "collection bob/bad: its VERSION file is damaged" in str(scanned[1][2])
    with pytest.raises(DamagedCollectionError,
                       match=r"nothing was added.*index rm --tenant bob --collection bad"):
        _add(tmp_path, FACTS[:1], minilm, tenant="bob", name="bad")
    with pytest.raises(DamagedCollectionError, match="bob/bad"):
        Collection.open(tmp_path, "bob", "bad")
    caplog.set_level(logging.INFO, logger="stream_guard")
    library = EvidenceLibrary(tmp_path)
    assert library.poll() == ["alice/kb"]  # what a server's start does
    with pytest.raises(UnknownCollectionError):
        library.get("bob", "bad")
    warned = [r for r in caplog.records if getattr(r, "collection", None) == "bob/bad"]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert remove_collection(tmp_path, "bob", "bad")  # the way out it names


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists any folder")
def test_a_tenant_folder_that_cannot_be_listed_is_not_an_empty_one(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: Path.glob read a folder the server could not list as empty, so a running
    server stopped serving every collection of that tenant until it could read it again. The
    tenant's collections now stay as loaded, and the other tenants are refreshed."""
    _add(tmp_path, FACTS, minilm, tenant="alice")
    _add(tmp_path, FACTS, minilm, tenant="bob")
    library = EvidenceLibrary(tmp_path)
    assert library.poll() == ["alice/kb", "bob/kb"]
    (tmp_path / "alice").chmod(0o311)  # enterable, not listable
    try:
        with pytest.raises(StoreError, match="cannot list"):
            scan_collections(tmp_path)
        unlisted: list[str] = []
        assert [(t, n) for t, n, _ in scan_collections(tmp_path, unlisted=unlisted)] == [
            ("bob", "kb")]
        assert unlisted == ["alice"]
        remove_collection(tmp_path, "bob", "kb")
        assert library.poll() == ["bob/kb"]  # bob's removal seen, alice's collection kept
        assert library.get("alice", "kb") is not None
    finally:
        (tmp_path / "alice").chmod(0o755)


def test_folders_that_are_no_tenant_name_are_not_scanned(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A data_dir at a volume's root holds lost+found, which a server running as another
    user cannot list (a review): it is no tenant, so it is never listed."""
    _add(tmp_path, FACTS, minilm, tenant="alice")
    (tmp_path / "lost+found" / "x").mkdir(parents=True)
    assert [(t, n) for t, n, _ in scan_collections(tmp_path)] == [("alice", "kb")]


def test_a_library_keeps_refreshing_the_others_while_one_collection_is_damaged(
        tmp_path: Path, minilm: SentenceEmbedder, caplog: pytest.LogCaptureFixture) -> None:
    """Before, one damaged VERSION on a running server stopped every collection's updates,
    silently (the poller swallowed the exception)."""
    caplog.set_level(logging.INFO, logger="stream_guard")
    for tenant, name in (("alice", "kb"), ("bob", "kb"), ("bob", "other")):
        _add(tmp_path, FACTS[:1], minilm, tenant=tenant, name=name)
    library = EvidenceLibrary(tmp_path)
    library.poll()
    version = collection_dir(tmp_path, "bob", "other") / "VERSION"
    good = version.read_bytes()
    version.write_bytes(good[:20])
    _add(tmp_path, FACTS[1:], minilm, tenant="alice")
    _add(tmp_path, FACTS[1:], minilm, tenant="alice", name="new")
    remove_collection(tmp_path, "bob", "kb")
    assert library.poll() == ["alice/kb", "alice/new", "bob/kb"]
    assert library.get("alice", "kb").count == 3
    assert library.get("bob", "other").count == 1  # the version loaded before, still served
    assert library.poll() == [] and library.poll() == []
    damaged = [r for r in caplog.records if getattr(r, "collection", None) == "bob/other"]
    assert len(damaged) == 1 and "still serving" in damaged[0].getMessage()  # once, not per poll
    version.write_bytes(good)  # restored
    assert library.poll() == ["bob/other"]
    assert "evidence collection bob/other loaded again" in caplog.text


def test_a_collection_damaged_before_it_was_ever_loaded_is_not_called_missing(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: a stream naming it was told "collection 't2' does not exist"."""
    _add(tmp_path, FACTS[:1], minilm, name="t2")
    live = collection_dir(tmp_path, "acme", "t2") / "v000001"
    (live / "docs.sqlite").write_bytes(b"garbage")
    library = EvidenceLibrary(tmp_path)
    library.poll()
    with pytest.raises(UnknownCollectionError) as damaged:
        library.get("acme", "t2")
    assert damaged.value.damaged
    with pytest.raises(UnknownCollectionError) as missing:
        library.get("acme", "nothing")
    assert not missing.value.damaged


def test_the_poller_logs_a_failed_poll_and_goes_on(
        tmp_path: Path, minilm: SentenceEmbedder, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="stream_guard")
    data = tmp_path / "data"
    _add(data, FACTS[:1], minilm)
    library = EvidenceLibrary(data)
    library.poll()
    data.rename(tmp_path / "moved")
    data.write_text("not a directory")  # e.g. a mount gone wrong
    library.start_polling(0.02)
    try:
        for _ in range(200):
            if "evidence collections not polled" in caplog.text:
                break
            threading.Event().wait(0.02)
        threading.Event().wait(0.1)  # several more polls, still failing
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and errors[0].exc_info is not None  # once, with its traceback
        assert "is not a directory" in caplog.text
        assert library.get("acme", "kb").count == 1  # still served
        data.unlink()
        (tmp_path / "moved").rename(data)
        _add(data, FACTS[1:], minilm)
        for _ in range(200):
            if library.get("acme", "kb").count == 3:
                break
            threading.Event().wait(0.02)
        assert library.get("acme", "kb").count == 3
        assert "evidence collections polled again" in caplog.text
    finally:
        library.close()


def test_a_version_directory_left_by_a_killed_writer_is_replaced(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A writer killed after renaming its build to v000002 and before writing VERSION: before,
    every later add failed on that directory ('Directory not empty')."""
    _add(tmp_path, FACTS[:1], minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    shutil.copytree(cdir / "v000001", cdir / "v000002")
    (cdir / "v000002" / "stale").write_text("from the killed writer")
    (cdir / ".VERSION-k1ll3d").write_text('{"version": 2')  # killed mid-write: left for good
    result = _add(tmp_path, FACTS[1:], minilm)
    assert (result.version, result.total_chunks) == (2, 3)
    assert not (cdir / "v000002" / "stale").exists()
    assert not (cdir / ".VERSION-k1ll3d").exists()
    assert Collection.open(tmp_path, "acme", "kb").count == 3


def test_an_index_file_that_cannot_be_written_is_a_store_error(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: a full disk while faiss wrote index.faiss was a traceback (faiss raises
    RuntimeError), and `index add` exited 1, which says files were skipped and the rest
    published. A file size limit between the other files' sizes and the index's fails that
    write alone, as a disk that fills up then would (root is held to it too)."""
    sheets = [Document(f"d{i}", f"Sheet {i}: the part weighs {i} grams.", f"d{i}")
              for i in range(120)]
    _add(tmp_path, sheets, minilm, name="sized", flat_max=0)  # HNSW: more than its vectors
    sizes = {p.name: p.stat().st_size
             for p in (collection_dir(tmp_path, "acme", "sized") / "v000001").iterdir()}
    others = max(size for name, size in sizes.items() if name != "index.faiss")
    assert sizes["index.faiss"] > others + 4096
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, ((sizes["index.faiss"] + others) // 2, hard))
    try:  # (Python ignores SIGXFSZ: a write past the limit fails, EFBIG)
        with pytest.raises(StoreError, match=r"acme/kb: version 1 could not be written "
                           r"\(OSError: \[Errno 27\] File too large: '.*index.faiss'\); "
                           "nothing was published"):
            _add(tmp_path, sheets, minilm, flat_max=0)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    cdir = collection_dir(tmp_path, "acme", "kb")
    assert VersionInfo.read(cdir) is None and not list(cdir.glob(".build-*"))
    assert _add(tmp_path, sheets, minilm, flat_max=0).version == 1  # room again: written


def test_a_file_cut_short_at_its_last_write_is_not_published(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: np.save and faiss.write_index write through C's stdio, which keeps a file's
    last few kilobytes until it is closed, and a failure to write them then is ignored: a disk
    that filled up there published a version with vectors.npy (or index.faiss) cut short, exit
    status 0, which no server could load and the next add could not read. A file size limit
    one byte short of the vectors file fails its last write, as such a disk would (121
    vectors: the file does not end on a 4 KiB block, so stdio held its tail)."""
    sheets = [Document(f"d{i}", f"Sheet {i}: the part weighs {i} grams.", f"d{i}")
              for i in range(121)]
    _add(tmp_path / "sized", sheets, minilm)  # the files this version will have
    sizes = {p.name: p.stat().st_size
             for p in (collection_dir(tmp_path / "sized", "acme", "kb") / "v000001").iterdir()}
    limit = sizes["vectors.npy"] - 1
    assert limit > max(sizes["index.faiss"], sizes["docs.sqlite"])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        with pytest.raises(StoreError, match=r"acme/kb: version 1 could not be written "
                           r"\(OSError: \[Errno 27\] File too large: '.*vectors.npy'\); "
                           "nothing was published"):
            _add(tmp_path / "data", sheets, minilm)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    cdir = collection_dir(tmp_path / "data", "acme", "kb")
    assert VersionInfo.read(cdir) is None and not list(cdir.glob(".build-*"))
    assert _add(tmp_path / "data", sheets, minilm).version == 1  # room again: written
    assert Collection.open(tmp_path / "data", "acme", "kb").count == 121


@pytest.mark.parametrize("damage", ["docs-empty", "docs-garbage"])
def test_a_damaged_live_version_is_a_store_error(tmp_path: Path, minilm: SentenceEmbedder,
                                                  damage: str) -> None:
    _add(tmp_path, FACTS[:2], minilm)
    live = collection_dir(tmp_path, "acme", "kb") / "v000001"
    (live / "docs.sqlite").write_bytes(b"" if damage == "docs-empty" else b"garbage" * 100)
    with pytest.raises(StoreError, match=r"acme/kb: its live version v000001 cannot be read"):
        _add(tmp_path, FACTS[2:], minilm)


@pytest.mark.parametrize("damage", ["cut", "missing", "other-shape", "header-length", "zeroed",
                                    "format-minor", "cut-with-index", "missing-with-index-size"])
def test_damaged_vectors_are_built_again_from_the_index_or_the_documents(
        tmp_path: Path, minilm: SentenceEmbedder, damage: str) -> None:
    """Before, a live version whose vectors.npy was damaged (its documents and index whole, so
    served) failed every later add, and the remedy it gave, removing the collection and adding
    its documents again, needs the documents still at hand. The vectors are taken from the
    index's copy of them, or, the index damaged too, embedded again from the documents."""
    _add(tmp_path, FACTS[:2], minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    live = cdir / "v000001"
    whole = np.load(live / "vectors.npy")
    raw = bytearray((live / "vectors.npy").read_bytes())
    if damage.startswith("missing"):
        (live / "vectors.npy").unlink()
    elif damage == "other-shape":
        np.save(live / "vectors.npy", whole[:1])
    elif damage == "header-length":  # a review: numpy parsed half a header, a traceback
        raw[8] ^= 64
        (live / "vectors.npy").write_bytes(raw)
    elif damage == "format-minor":  # a second review: (1, 1) passed the check, failed np.load
        raw[7] = 1
        (live / "vectors.npy").write_bytes(raw)
    elif damage == "zeroed":  # a whole header over zeros: not caught at a glance (ls)
        (live / "vectors.npy").write_bytes(raw[:128] + bytes(len(raw) - 128))
    else:
        (live / "vectors.npy").write_bytes(raw[:200])
    if damage == "cut-with-index":
        (live / "index.faiss").write_bytes(b"garbage")
    elif damage == "missing-with-index-size":  # a review: faiss's bad_alloc, a traceback
        index = bytearray((live / "index.faiss").read_bytes())
        index[41] ^= 8
        (live / "index.faiss").write_bytes(index)
    info = VersionInfo.read(cdir)
    assert info is not None and (vectors_problem(cdir, info) is None) == (damage == "zeroed")
    result = _add(tmp_path, FACTS, minilm)
    assert (result.version, result.chunks_added, result.total_chunks) == (2, 1, 3)
    assert result.repaired is not None and "v000001/vectors.npy" in result.repaired
    assert result.rebuilt_from == ("its documents, its 2 chunk(s) embedded again"
                                   if "with-index" in damage
                                   else "its index's copy of its vectors and its documents")
    vectors = np.load(cdir / "v000002" / "vectors.npy")
    np.testing.assert_allclose(vectors[:2], whole, atol=1e-5)
    info = VersionInfo.read(cdir)
    assert info is not None and vectors_problem(cdir, info) is None
    hits = Collection.open(tmp_path, "acme", "kb").search(
        minilm.embed(["Which tower stands in Paris?"]), k=1)
    assert hits[0][0].id == "eiffel#0"


def _kept(cdir: Path, identity: str, vectors: dict[str, np.ndarray]) -> None:
    """An unfinished add's saved vectors, as EmbeddedSoFar writes them."""
    with sqlite3.connect(cdir / EMBEDDED_FILE) as db:
        db.executescript("CREATE TABLE embedder (fingerprint TEXT NOT NULL, dim INTEGER NOT NULL);"
                         "CREATE TABLE vectors (content_hash TEXT PRIMARY KEY, "
                         "vector BLOB NOT NULL);")
        db.execute("INSERT INTO embedder VALUES (?, ?)", (identity, len(next(iter(
            vectors.values())))))
        db.executemany("INSERT INTO vectors VALUES (?, ?)",
                       [(h, v.astype(np.float32).tobytes()) for h, v in vectors.items()])


@pytest.mark.parametrize("kept", ["same-embedder", "other-embedder", "garbage", "damaged"])
def test_an_add_takes_the_vectors_an_unfinished_add_kept_of_the_same_embedder_only(
        tmp_path: Path, minilm: SentenceEmbedder, kept: str) -> None:
    """What an add that stopped kept is taken for its chunks (so a marked vector shows where
    it came from), and only when the same embedder made it; a file that is not a database is
    started afresh. An add that finishes deletes it."""
    cdir = collection_dir(tmp_path, "acme", "kb")
    cdir.mkdir(parents=True)
    marked = np.zeros(minilm.dim, dtype=np.float32)
    marked[0] = 1.0
    digest = content_hash(FACTS[0].text)
    if kept == "garbage":
        (cdir / EMBEDDED_FILE).write_bytes(b"garbage" * 100)
    elif kept == "damaged":  # a third review: a kept vector of NaNs was published
        _kept(cdir, embedder_identity(minilm), {digest: np.full(minilm.dim, np.nan)})
    else:
        _kept(cdir, embedder_identity(minilm) if kept == "same-embedder" else "other",
              {digest: marked})
    result = _add(tmp_path, FACTS, minilm)
    assert result.chunks_added == 3 and result.resumed == (kept == "same-embedder")
    vectors = np.load(cdir / "v000001" / "vectors.npy")
    if kept == "same-embedder":
        np.testing.assert_array_equal(vectors[0], marked)
    else:
        np.testing.assert_allclose(vectors[0], minilm.embed([FACTS[0].text])[0], atol=1e-5)
    assert not (cdir / EMBEDDED_FILE).exists()
    # an add that changes nothing deletes what a stopped one left too
    _kept(cdir, embedder_identity(minilm), {digest: marked})
    assert _add(tmp_path, FACTS, minilm).documents_unchanged == 3
    assert not (cdir / EMBEDDED_FILE).exists()


def test_versions_are_swapped_atomically_and_old_ones_pruned(tmp_path: Path,
                                                             minilm: SentenceEmbedder) -> None:
    for i in range(4):
        _add(tmp_path, [Document(f"d{i}", f"Document number {i} is about topic {i}.", "s")],
             minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    info = VersionInfo.read(cdir)
    assert info is not None and (info.version, info.count, info.dir) == (4, 4, "v000004")
    assert sorted(p.name for p in cdir.iterdir() if p.is_dir()) == ["v000003", "v000004"]
    assert not list(cdir.glob(".build-*")) and not list(cdir.glob(".VERSION-*"))


def test_index_type_follows_size(tmp_path: Path, minilm: SentenceEmbedder) -> None:
    _add(tmp_path, FACTS, minilm, name="small", flat_max=3)
    _add(tmp_path, FACTS, minilm, name="big", flat_max=2)
    kinds = {name: info.index for _, name, info in scan_collections(tmp_path, "acme")
             if isinstance(info, VersionInfo)}
    assert kinds == {"small": "flat", "big": "hnsw"}
    index = faiss.read_index(str(collection_dir(tmp_path, "acme", "big") / "v000001" /
                                 "index.faiss"))
    assert isinstance(index, faiss.IndexHNSWFlat)
    assert index.metric_type == faiss.METRIC_INNER_PRODUCT
    hits = Collection.open(tmp_path, "acme", "big").search(minilm.embed(["Guido"]), k=1)
    assert hits[0][0].id == "python#0"


def test_hnsw_recall_on_random_unit_vectors(tmp_path: Path) -> None:
    """The HNSW parameters keep recall high against exact search."""
    from stream_guard.evidence.faiss_index import build_index, prepare_for_search, search

    rng = np.random.default_rng(0)
    data = rng.standard_normal((5000, 64)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = data[:100] + 0.1 * rng.standard_normal((100, 64)).astype(np.float32)
    exact, _ = build_index(data, flat_max=10_000)
    approx, kind = build_index(data, flat_max=1000)
    assert kind == "hnsw"
    _, want = search(exact, queries, 10)
    _, got = search(prepare_for_search(approx), queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)])
    assert recall > 0.95


def test_tenants_are_isolated_and_names_checked(tmp_path: Path,
                                                minilm: SentenceEmbedder) -> None:
    _add(tmp_path, FACTS[:1], minilm, tenant="acme")
    _add(tmp_path, FACTS[1:], minilm, tenant="globex")
    assert Collection.open(tmp_path, "acme", "kb").count == 1
    assert Collection.open(tmp_path, "globex", "kb").count == 2
    for tenant, name in (("..", "kb"), ("acme", "../globex"), ("acme", ""), ("a/b", "kb")):
        with pytest.raises(StoreError, match="must be"):
            collection_dir(tmp_path, tenant, name)


def test_embedder_mismatch_is_refused(tmp_path: Path, minilm: SentenceEmbedder) -> None:
    _add(tmp_path, FACTS[:1], minilm)

    class OtherEmbedder:
        name = "other-model"
        dim = 384
        fingerprint = "0" * 64

        def embed(self, texts: list[str]) -> np.ndarray:
            return minilm.embed(texts)

    with pytest.raises(StoreError, match="built with embedder all-MiniLM-L6-v2"):
        add_documents(tmp_path, "acme", "kb", FACTS[1:], OtherEmbedder(), index_flat_max=10)


def test_an_embedder_is_known_by_its_weights_not_its_folder_name(
        tmp_path: Path, minilm: SentenceEmbedder, model_cache: Path) -> None:
    """The packaged MiniLM copied to a folder of another name was refused against a collection
    it built, and another model in a folder named all-MiniLM-L6-v2 was accepted."""
    data, cache = tmp_path / "data", tmp_path / "cache"  # the session's cache stays as it is
    _add(data, FACTS[:1], minilm)
    copy = Path(shutil.copytree(minilm_dir(model_cache), tmp_path / "models" / "minilm"))
    renamed = load_embedder(str(copy), cache_dir=cache)
    assert renamed.name == "minilm" and renamed.fingerprint == minilm.fingerprint
    add_documents(data, "acme", "kb", FACTS[1:2], renamed, index_flat_max=10)
    info = VersionInfo.read(collection_dir(data, "acme", "kb"))
    assert info is not None and info.embedder_sha256 == minilm.fingerprint

    _add(data, FACTS[:1], minilm, name="kb2")
    impostor = Path(shutil.copytree(copy, tmp_path / "other" / "all-MiniLM-L6-v2"))
    weights = load_file(str(impostor / "model.safetensors"))
    save_file({k: v * 0.5 for k, v in weights.items()}, str(impostor / "model.safetensors"))
    other = load_embedder(str(impostor), cache_dir=cache)
    assert other.name == minilm.name and other.fingerprint != minilm.fingerprint
    with pytest.raises(StoreError, match="other weights, tokenizer, pooling or length under"):
        add_documents(data, "acme", "kb2", FACTS[2:3], other, index_flat_max=10)


def test_the_same_weights_pooled_or_cut_otherwise_are_another_embedder(
        tmp_path: Path, minilm: SentenceEmbedder, model_cache: Path) -> None:
    """A copy of MiniLM with CLS pooling, or a shorter max_seq_length, was taken for the model
    that built a collection (the fingerprint was the weights' hash alone), and mixed vectors of
    another space into its index. The packaged model's fingerprint is still its weights' hash,
    so the collections it built before stay loadable."""
    assert minilm.fingerprint == MINILM_SHA256
    data, cache = tmp_path / "data", tmp_path / "cache"  # the session's cache stays as it is
    _add(data, FACTS[:1], minilm)
    cls = Path(shutil.copytree(minilm_dir(model_cache), tmp_path / "cls" / minilm.name))
    pooling = json.loads((cls / "1_Pooling" / "config.json").read_text())
    (cls / "1_Pooling" / "config.json").write_text(json.dumps(
        {**pooling, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    short = Path(shutil.copytree(minilm_dir(model_cache), tmp_path / "short" / minilm.name))
    (short / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    fingerprints = {minilm.fingerprint}
    for variant in (cls, short):
        embedder = load_embedder(str(variant), cache_dir=cache)
        assert embedder.name == minilm.name and embedder.fingerprint not in fingerprints
        fingerprints.add(embedder.fingerprint)
        with pytest.raises(StoreError, match="pooling or length under the same name"):
            add_documents(data, "acme", "kb", FACTS[1:2], embedder, index_flat_max=10)
    assert Collection.open(data, "acme", "kb").count == 1


def test_the_weights_hash_leaves_version_as_earlier_releases_read_it(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """VERSION keeps exactly its fields (a reader of an earlier release refuses any other, so a
    rollback, or old and new pods sharing data_dir, would lose the collection); the hash is a
    file of the version's folder, and a version without it is matched by name."""
    _add(tmp_path, FACTS[:1], minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    assert set(json.loads((cdir / "VERSION").read_text())) == {
        "version", "dir", "count", "dim", "embedder", "index", "created"}
    info = VersionInfo.read(cdir)
    assert info is not None and info.embedder_sha256 == minilm.fingerprint
    (cdir / info.dir / "embedder.sha256").unlink()  # a version built before it was recorded
    info = VersionInfo.read(cdir)
    assert info is not None and info.embedder_sha256 == "" and info.built_with(minilm)


def test_remove(tmp_path: Path, minilm: SentenceEmbedder) -> None:
    _add(tmp_path, FACTS, minilm)
    assert remove_collection(tmp_path, "acme", "kb")
    assert not remove_collection(tmp_path, "acme", "kb")
    assert scan_collections(tmp_path) == []
    with pytest.raises(UnknownCollectionError):
        Collection.open(tmp_path, "acme", "kb")


def test_a_remove_killed_midway_is_cleared_by_the_next_add_but_not_a_running_one(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: `index rm` killed between its rename and its delete left the hidden folder
    for good. The next add that publishes in the tenant deletes it, as it does a killed
    writer's build; not one whose lock its remover still holds (it deletes it itself)."""
    for name in ("killed", "running"):
        _add(tmp_path, FACTS[:1], minilm, name=name)
    tenant = collection_dir(tmp_path, "acme", "kb").parent
    killed, running = tenant / ".removed-killed-0badf00d", tenant / ".removed-running-600d600d"
    os.replace(tenant / "killed", killed)  # as remove_collection; its process then died
    os.replace(tenant / "running", running)
    (running / "v000001" / "vectors.npy").unlink()  # half deleted, as remove_collection goes
    emptied = tenant / ".removed-emptied-12345678"
    emptied.mkdir()  # killed after deleting its .lock, the last file, before the folder
    with open(running / ".lock") as held:  # its remover, deleting it now
        fcntl.flock(held, fcntl.LOCK_EX)
        _add(tmp_path, FACTS[1:2], minilm)
        assert sorted(p.name for p in tenant.iterdir()) == [running.name, "kb"]
    assert (running / "v000001" / "docs.sqlite").exists()
    _add(tmp_path, FACTS[2:], minilm)  # its remover is gone too now
    assert sorted(p.name for p in tenant.iterdir()) == ["kb"]
    assert [c for _, c, _ in scan_collections(tmp_path)] == ["kb"]
    assert remove_collection(tmp_path, "acme", "kb") and not any(tenant.iterdir())


def test_concurrent_writers_do_not_lose_documents(tmp_path: Path,
                                                  minilm: SentenceEmbedder) -> None:
    docs = [Document(f"doc{i}", f"Fact number {i}: the value of item {i} is {i * 7}.", "s")
            for i in range(6)]
    threads = [threading.Thread(target=_add, args=(tmp_path, [d], minilm)) for d in docs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Collection.open(tmp_path, "acme", "kb").count == 6


def test_library_polls_swaps_and_survives_restart(tmp_path: Path,
                                                  minilm: SentenceEmbedder) -> None:
    library = EvidenceLibrary(tmp_path, use_gpu=False)
    assert library.poll() == []
    _add(tmp_path, FACTS[:1], minilm)
    assert library.poll() == ["acme/kb"]
    assert library.poll() == []  # unchanged: nothing reloaded
    old = library.get("acme", "kb")
    _add(tmp_path, FACTS[1:], minilm)
    assert library.poll() == ["acme/kb"]
    new = library.get("acme", "kb")
    assert (old.count, new.count) == (1, 3)
    # A search holding the old version still completes after the swap.
    assert old.search(minilm.embed(["Paris"]), k=1)[0][0].id == "eiffel#0"
    # forced, e.g. on SIGHUP: read again, and no change to report (a review: every SIGHUP
    # listed every collection as changed, which said nothing of an `index add`)
    assert library.reload() == []
    assert library.get("acme", "kb") is not new and library.get("acme", "kb").count == 3
    # A new process (restart) sees the same collection.
    restarted = EvidenceLibrary(tmp_path)
    restarted.reload()
    hits = restarted.get("acme", "kb").search(minilm.embed(["Nepal"]), k=1)
    assert hits[0][0].id == "everest#0"
    remove_collection(tmp_path, "acme", "kb")
    assert library.poll() == ["acme/kb"]
    with pytest.raises(UnknownCollectionError):
        library.get("acme", "kb")


def test_background_polling_picks_up_changes_while_searching(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    _add(tmp_path, FACTS[:1], minilm)
    library = EvidenceLibrary(tmp_path)
    library.reload()
    query = minilm.embed(["Paris tower"])
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                assert library.get("acme", "kb").search(query, k=1)[0][0].id == "eiffel#0"
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    library.start_polling(0.05)
    try:
        _add(tmp_path, FACTS[1:], minilm)
        for _ in range(200):
            if library.get("acme", "kb").count == 3:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
        library.close()
    assert errors == []
    assert library.get("acme", "kb").count == 3


def test_an_hnsw_graph_grows_in_place_when_rows_are_only_appended() -> None:
    from stream_guard.evidence.faiss_index import (
        build_index,
        extend_or_build,
        prepare_for_search,
        search,
    )

    rng = np.random.default_rng(1)
    data = rng.standard_normal((3500, 64)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    live, kind = build_index(data[:3000], flat_max=1000)
    assert kind == "hnsw"
    grown, kind = extend_or_build(live, data, 3000, flat_max=1000)
    assert grown is live and kind == "hnsw" and grown.ntotal == 3500
    # As good as a graph built over all of them: queries near old and new vectors alike.
    queries = data[2900:3100] + 0.1 * rng.standard_normal((200, 64)).astype(np.float32)
    _, want = search(build_index(data, flat_max=10_000)[0], queries, 10)
    _, got = search(prepare_for_search(grown), queries, 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)]) > 0.95
    # Appends one at a time, each read back from disk as an add does: the nodes they insert
    # reach the upper layers as a fresh build's do (faiss reseeds its level generator on read).
    grown = live
    for i in range(3500, 3800):
        grown = faiss.deserialize_index(faiss.serialize_index(grown))
        grown, _ = extend_or_build(grown, np.vstack([data, data[:i - 3499] * -1.0])[:i + 1],
                                   i, flat_max=1000)
    levels = faiss.vector_to_array(grown.hnsw.levels)
    assert (levels[3500:] > 1).sum() >= 3  # about 3 % of nodes, as in the built part
    # Rows dropped or renumbered (the live graph does not hold exactly the kept rows), a flat
    # live index, or no live index: built anew.
    other, _ = build_index(data[:3000], flat_max=1000)
    assert extend_or_build(other, data[1:], 2999, flat_max=1000)[0] is not other
    flat, _ = build_index(data[:900], flat_max=1000)
    assert extend_or_build(flat, data, 900, flat_max=1000)[0] is not flat
    assert extend_or_build(None, data, 3000, flat_max=1000)[0].ntotal == 3500


def test_an_add_appends_to_the_live_graph_and_rebuilds_only_when_it_must(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """Past index_flat_max an add that drops no row inserts its vectors into the live HNSW
    graph instead of building one over every chunk (bench_index: the build is what an add to a
    large collection costs); a replacement, which renumbers rows, or an unreadable live index
    is built anew from the vectors."""
    cdir = collection_dir(tmp_path, "acme", "kb")

    def live_graph_m() -> int:
        info = VersionInfo.read(cdir)
        assert info is not None and info.index == "hnsw"
        index = faiss.read_index(str(cdir / info.dir / "index.faiss"))
        assert index.ntotal == info.count
        return int(index.hnsw.nb_neighbors(0)) // 2

    def plant_graph(m: int) -> None:
        # Replace the live graph with one of another shape (M), to tell extended from rebuilt.
        info = VersionInfo.read(cdir)
        assert info is not None
        vectors = np.load(cdir / info.dir / "vectors.npy")
        index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        index.add(vectors)
        faiss.write_index(index, str(cdir / info.dir / "index.faiss"))

    _add(tmp_path, FACTS[:2], minilm, flat_max=1)
    assert live_graph_m() == 32
    plant_graph(8)
    _add(tmp_path, FACTS[2:], minilm, flat_max=1)  # an append
    assert live_graph_m() == 8
    hits = Collection.open(tmp_path, "acme", "kb").search(minilm.embed(["Guido"]), k=1)
    assert hits[0][0].id == "python#0"
    _add(tmp_path, [Document("eiffel", "The Eiffel Tower is in Paris, France.", "e")], minilm,
         flat_max=1)  # a replacement: rows renumbered
    assert live_graph_m() == 32
    info = VersionInfo.read(cdir)
    assert info is not None
    (cdir / info.dir / "index.faiss").write_bytes(b"not an index")
    _add(tmp_path, [Document("moon", "The Moon orbits the Earth.", "m")], minilm, flat_max=1)
    assert live_graph_m() == 32
    hits = Collection.open(tmp_path, "acme", "kb").search(minilm.embed(["Guido", "Moon"]), k=1)
    assert [h[0].id for h in hits] == ["python#0", "moon#0"]


def test_a_name_most_chunks_hold_is_not_searched_by_keyword(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """BM25 scores every chunk a query matches: a name every chunk holds (the company's, in its
    own knowledge base) made each window's search a scan of the collection, and finds nothing
    the vectors would not. Names that single out a few chunks are still searched."""
    sheets = [Document(f"K-{m}", f"The Vantor K-{m} weighs {m % 9}.{m % 7} kg.", f"K-{m}")
              for m in range(100, 160)]
    _add(tmp_path, sheets, minilm)
    collection = Collection.open(tmp_path, "acme", "kb")
    far = minilm.embed(["Photosynthesis converts light into chemical energy."])
    common = collection.search(far, 1, ["The Vantor blender is loud."])[0]
    assert len(common) == 1  # the vector hit alone: "Vantor" is in all 60 chunks
    specific = collection.search(far, 1, ["The Vantor K-123 is loud."])[0]
    assert [h.id for h in specific][1:] == ["K-123#0"]


def test_a_rare_name_made_of_common_words_is_still_searched_by_keyword(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A name's words can each be common while the name is rare: the model "K-2010" of a
    catalogue whose sheets mostly say "released in 2010" is one chunk, though "k" and "2010"
    are in most. It was skipped as if most chunks held it (the fewest chunks holding any of its
    words was taken for its own count)."""
    sheets = [Document(f"K-{m}", f"The Vantor K-{m} blender was released in "
                       f"{2011 if m % 5 == 0 else 2010}. It weighs {1 + m % 7}.{m % 10} kg.",
                       f"K-{m}") for m in range(2000, 2040)]
    _add(tmp_path, sheets, minilm)
    collection = Collection.open(tmp_path, "acme", "kb")
    far = minilm.embed(["Photosynthesis converts light into chemical energy."])
    for model in ("K-2010", "K-2011", "K-2033"):
        hits = collection.search(far, 1, [f"The Vantor {model} is loud."])[0]
        assert [h.id for h in hits][1:] == [f"{model}#0"], model
    # A name most chunks hold is still not searched, one word or several.
    assert len(collection.search(far, 1, ["The Vantor blender is loud."])[0]) == 1
    assert len(collection.search(far, 1, ["Vantor-K is loud."])[0]) == 1
    # Counted as the index tokenizes it: unicode61 keeps a Greek accent and folds a final sigma
    # to "σ", where Python's folding did neither, so this name was counted in no chunk.
    greek = [Document(f"g{i}", f"Το κατάστημα {i} της Αθήνας ανοίγει στις {8 + i % 4}.", f"g{i}")
             for i in range(12)]
    _add(tmp_path, greek, minilm, name="gr")
    collection = Collection.open(tmp_path, "acme", "gr")
    assert len(collection.search(far, 1, ["Η Αθήνας έχει πολλά καταστήματα."])[0]) == 1


def test_an_add_that_waited_for_a_remove_creates_the_collection_again(
        tmp_path: Path, minilm: SentenceEmbedder, capsys: pytest.CaptureFixture[str]) -> None:
    """An add waiting for the lock while ``index rm`` moved the collection away used to embed
    everything and then fail to write into the folder being deleted."""
    _add(tmp_path, FACTS[:1], minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    result: list[AddResult | BaseException] = []

    def add() -> None:
        try:
            result.append(_add(tmp_path, FACTS[1:2], minilm))
        except BaseException as exc:
            result.append(exc)

    with open(cdir / ".lock", "a") as lock:  # as remove_collection holds it
        fcntl.flock(lock, fcntl.LOCK_EX)
        writer = threading.Thread(target=add)
        writer.start()
        waited = ""
        for _ in range(500):
            waited += capsys.readouterr().err
            if "waiting for another writer of acme/kb" in waited:
                break
            time.sleep(0.01)
        assert "waiting for another writer of acme/kb" in waited
        graveyard = cdir.with_name(".removed-kb")
        os.replace(cdir, graveyard)
    shutil.rmtree(graveyard)
    writer.join(30)
    assert len(result) == 1 and isinstance(result[0], AddResult), result
    assert result[0].version == 1 and result[0].total_chunks == 1
    assert [d.id for d in Collection.open(tmp_path, "acme", "kb").search(
        minilm.embed([FACTS[1].text]), k=5)[0]] == [f"{FACTS[1].id}#0"]



def _calls(n: int = 80) -> list[Document]:
    """Earnings calls that read alike and differ in their figures, as a knowledge base of
    them does."""
    return [Document(f"call-{q}", f"As a result, net income increased {20 + q % 60}% to "
                     f"${40 + q}.{q % 10} million, or ${1 + q % 3}.{10 + q % 89} per diluted "
                     f"share, on revenue of ${300 + q}.{q % 7} million. Revenue grew in every "
                     "segment.", f"call-{q}.txt")
            for q in range(n)]


def test_a_sentence_is_found_by_two_of_its_figures_among_alike_passages(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A sentence copied from one earnings call is as close, in words and vector, to every
    other call: two of its figures in one chunk single out its source, and a claim that changes
    one of three figures still finds it by the other two (its changed figure then conflicts
    with the source). One figure alone, or two-digit ones, are not searched for: they are in
    too many chunks, and would bring a wrong figure's passage in as if it were about it."""
    _add(tmp_path, _calls(), minilm)
    collection = Collection.open(tmp_path, "acme", "kb")
    far = minilm.embed(["Photosynthesis converts light into chemical energy."])

    def keyword_hits(text: str) -> list[str]:
        return [h.id for h in collection.search(far, 1, [text])[0]][1:]

    copied = "Net income increased 57% to $77.7 million, or $2.47 per diluted share."
    assert keyword_hits(copied) == ["call-37#0"]
    changed = "Net income was $77.7 million, or $2.47 a share, on revenue of $399.1 million."
    assert keyword_hits(changed) == ["call-37#0"]  # by 77.7 and 2.47; 399.1 is no call's
    assert keyword_hits("Net income rose to $77.7 million.") == []  # one figure
    assert keyword_hits("Net income rose 57% and revenue 37%.") == []  # two-digit figures


def test_a_sentence_copied_from_deep_in_a_chunk_finds_that_chunk(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: a sentence copied word for word from deep in a 600-character chunk is far
    from that chunk's vector, and with no rare name or two figures nothing else found it (85
    of 600 such sentences in a 1,499-article collection halted as contradicted). Eight words
    or more are searched word for word; a shorter one, or one with a word changed, is not."""
    copied = "the reward for his capture was raised again after the attack on the base."
    _add(tmp_path, [Document(f"r{i}", f"Report {i} opens on the weather. " + (
        f"{copied[0].upper()}{copied[1:]} " if i == 7 else "") +
        f"Officials met for {i} hours. Nobody was hurt.", f"r{i}") for i in range(20)], minilm)
    collection = Collection.open(tmp_path, "acme", "kb")
    other = minilm.embed(["Report 3 opens on the weather. Officials met for 3 hours."])

    def keyword_hits(text: str) -> list[str]:
        hits = [h.id for h in collection.search(other, 1, [text])[0]]
        assert hits[0] == "r3#0"  # the vector's: another report
        return hits[1:]

    assert keyword_hits(copied) == ["r7#0"]
    assert keyword_hits(copied.replace("attack", "assault")) == []
    assert keyword_hits("nobody was hurt.") == []  # four words: every report's
    # a NUL, a quote or query syntax in the window is no query syntax (a second review: a NUL
    # ended the FTS5 query, and the window's check failed)
    assert keyword_hits(copied.replace("his", "his\x00")) == ["r7#0"]
    assert keyword_hits(copied.replace("after", '"after"*^')) == ["r7#0"]


def test_a_file_named_alone_beside_a_namesake_from_a_folder_is_reported(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A text file's bare name beside the same name under a folder's path is reported (the
    old copy stays); JSONL ids whose "/" their author chose are not (a review)."""
    _add(tmp_path, [Document("api/README.md", "The API listens on port 8080.", "a"),
                    Document("web/README.md", "The web app is served from /app.", "w"),
                    Document("en/refunds", "Refunds within 30 days.", "kb.jsonl")], minilm)
    result = _add(tmp_path, [Document("README.md", "The API listens on port 9090.", "r"),
                             Document("refunds", "Refunds within 14 days.", "kb.jsonl")],
                  minilm)
    assert result.namesakes == [("README.md", "api/README.md"), ("README.md", "web/README.md")]


def test_a_version_set_aside_stays_out_until_it_changes_or_a_reload(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A search found its files damaged (engine): new streams are refused it, polls do not
    serve it again while its VERSION is unchanged, even one already running when it was set
    aside, and a reload (SIGHUP) or a new version brings it back."""
    _add(tmp_path, FACTS, minilm, tenant="alice")
    library = EvidenceLibrary(tmp_path)
    assert library.poll() == ["alice/kb"]
    damaged = library.get("alice", "kb")
    library.set_aside(damaged, sqlite3.DatabaseError("file is not a database"))
    with pytest.raises(UnknownCollectionError) as refused:
        library.get("alice", "kb")
    assert refused.value.damaged
    assert library.poll() == [] and library.poll() == []
    with pytest.raises(UnknownCollectionError):
        library.get("alice", "kb")
    assert library.reload() == ["alice/kb"]
    assert library.get("alice", "kb") is not damaged
    library.set_aside(library.get("alice", "kb"), sqlite3.DatabaseError("malformed"))
    _add(tmp_path, [Document("harbour", "The harbour opened in 1921.", "kb/harbour.txt")],
         minilm, tenant="alice")  # a new version is published
    assert library.poll() == ["alice/kb"] and library.get("alice", "kb") is not None


def test_a_version_set_aside_is_refused_even_while_still_listed(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: the model's two scoring threads may set two versions aside at once, and each
    writes the table of served versions without the one the other removed, so a damaged
    version stayed listed. A version set aside is refused however the table reads."""
    _add(tmp_path, FACTS, minilm, tenant="alice")
    library = EvidenceLibrary(tmp_path)
    assert library.poll() == ["alice/kb"]
    listed = dict(library._loaded)
    damaged = library.get("alice", "kb")
    library.set_aside(damaged, sqlite3.DatabaseError("file is not a database"))
    library._loaded = listed  # the other thread's write, made from the table before this one
    with pytest.raises(UnknownCollectionError) as refused:
        library.get("alice", "kb")
    assert refused.value.damaged


def test_a_whole_copy_restored_over_a_damaged_collection_is_served_at_the_next_poll(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: the README's remedy for a damaged collection, restoring a whole copy, was not
    seen by a running server when the copy was a backup of the same version: ``cp -a
    backup/kb/. kb/`` writes VERSION in place (its inode kept), with the backup's time and
    the same size, so a poll saw no change, and the collection stayed refused until SIGHUP.
    (``rm -r kb`` and a fresh copy are often the same: ext4 gives the new VERSION the freed
    inode.) A file's change time is set by no copy: it tells a rewritten VERSION."""
    _add(tmp_path, FACTS, minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    backup = tmp_path / "backup"
    shutil.copytree(cdir, backup)  # copy2: the files' times kept, as cp -a keeps them
    (cdir / "v000001" / "index.faiss").write_bytes(b"garbage")  # a disk fault, in place
    library = EvidenceLibrary(tmp_path)
    library.poll()
    with pytest.raises(UnknownCollectionError) as refused:
        library.get("acme", "kb")
    assert refused.value.damaged
    # A restore comes later than the damage, and so later than VERSION's change time: on a
    # kernel before 6.13 (no fine-grained file times) a file's times move once a clock tick
    # (4 ms at 250 Hz), and this copy, 2 ms after the add, shared its tick half the time (a
    # review: this test failed 2 runs in 8 with the times held to the tick).
    clock = tmp_path / "clock"
    clock.touch()
    while clock.stat().st_ctime_ns <= (cdir / "VERSION").stat().st_ctime_ns:
        time.sleep(0.001)
        clock.touch()
    shutil.copytree(backup, cdir, dirs_exist_ok=True)  # cp -a backup/. kb/: files overwritten
    assert library.poll() == ["acme/kb"]
    assert library.get("acme", "kb").count == 3


@pytest.mark.parametrize(("text", "names"), [
    ("The 28-year-old joined Juventus on a 30-day trial.", ["Juventus"]),
    ("A 5-star hotel, a 10-minute walk from Ontario's lake, in the mid-1990s, at 5pm.",
     ["Ontario's"]),
    ("Revenue was £15.8million, 8GB more; the 28-Year-Old said.", ["Revenue"]),
    ("The Vantor K-221 and the F-35, GPT-4 and A320; COVID-19 cases.",
     ["Vantor", "K-221", "F-35", "GPT-4", "A320", "COVID-19"]),
    ("The iPhone 15 weighs 171 g.", ["iPhone"]),
])
def test_a_word_holding_a_figure_is_searched_as_a_name_only_after_its_name(
        text: str, names: list[str]) -> None:
    """A review: "28-year-old" was a keyword, and found another document's "28-year-old" for
    a claim whose age was changed (tests/test_engine_retrieval.py has the false pass). A
    figure's word is no name; a model number after its capitalised name is the name's."""
    assert _names(text) == names


def test_kept_vectors_make_room_on_a_disk_too_full_for_them_and_the_version(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: on a disk with room for the version but not for it and the vectors kept to
    resume an add (more than the vectors themselves), every run failed "No space left on
    device", where the release before them published. They are deleted, and the version
    written once more. (A small tmpfs: a real full disk.)"""
    sheets = [Document(f"d{i}", f"Sheet {i}: the part weighs {i} grams and ships in {i % 9} "
                       "days.", f"d{i}") for i in range(300)]
    _add(tmp_path / "sized", sheets, minilm)
    sized = collection_dir(tmp_path / "sized", "acme", "kb")
    version = sum(p.stat().st_size for p in sized.rglob("*") if p.is_file())
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("a tmpfs cannot be mounted here (not root, or no CAP_SYS_ADMIN)")
    try:
        cdir = collection_dir(mnt, "acme", "kb")
        cdir.mkdir(parents=True)
        # an add killed once it had embedded every chunk
        chunks = [(content_hash(d.text), d.text) for d in sheets]
        with EmbeddedSoFar(cdir, minilm) as so_far:
            so_far.keep([h for h, _ in chunks], minilm.embed([t for _, t in chunks]))
        kept = (cdir / EMBEDDED_FILE).stat().st_size
        assert kept > 200_000
        free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
        (mnt / "filler").write_bytes(bytes(free - version + kept // 2))  # room for one
        result = _add(mnt, sheets, minilm)
        assert (result.version, result.total_chunks, result.resumed) == (1, 300, 300)
        assert not (cdir / EMBEDDED_FILE).exists()
        np.testing.assert_allclose(np.load(cdir / "v000001" / "vectors.npy"),
                                   np.load(sized / "v000001" / "vectors.npy"), atol=1e-5)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_an_hnsw_index_is_extended_only_where_it_holds_the_vectors(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A second review: an HNSW index whose stored vectors were garbage, beside vectors.npy
    gone, was extended by the next add (its vectors embedded again from the documents) and
    published, exit status 0, searching nothing right. An index is extended only where it
    holds the very vectors read; else it is built anew."""
    _add(tmp_path, FACTS[:2], minilm, flat_max=1)
    cdir = collection_dir(tmp_path, "acme", "kb")
    live = cdir / "v000001"
    whole = np.load(live / "vectors.npy")
    index = bytearray((live / "index.faiss").read_bytes())
    tail = whole.size * 4  # the flat storage of the vectors ends the file
    index[-tail:] = np.random.default_rng(7).integers(0, 256, tail, dtype=np.uint8).tobytes()
    (live / "index.faiss").write_bytes(index)
    (live / "vectors.npy").unlink()
    result = _add(tmp_path, FACTS, minilm, flat_max=1)
    assert result.rebuilt_from == "its documents, its 2 chunk(s) embedded again"
    rebuilt = faiss.read_index(str(cdir / "v000002" / "index.faiss"))
    np.testing.assert_allclose(rebuilt.reconstruct_n(0, 3),
                               np.load(cdir / "v000002" / "vectors.npy"), atol=1e-6)
    np.testing.assert_allclose(np.load(cdir / "v000002" / "vectors.npy")[:2], whole, atol=1e-5)
    hits = Collection.open(tmp_path, "acme", "kb").search(
        minilm.embed(["Which tower stands in Paris?"]), k=1)
    assert hits[0][0].id == "eiffel#0" and 0 < hits[0][0].score <= 1


@pytest.mark.parametrize("damage", ["vectors-zeroed", "index-garbled"])
def test_an_add_of_unchanged_documents_repairs_damage_under_whole_headers(
        tmp_path: Path, minilm: SentenceEmbedder, damage: str) -> None:
    """A third review: vectors zeroed under a whole header, or an index whose stored floats
    were garbage (served so), were repaired only by an add that changed a document; one of
    unchanged documents said "unchanged" and left them."""
    _add(tmp_path, FACTS, minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    live = cdir / "v000001"
    whole = np.load(live / "vectors.npy")
    if damage == "vectors-zeroed":
        raw = (live / "vectors.npy").read_bytes()
        (live / "vectors.npy").write_bytes(raw[:128] + bytes(len(raw) - 128))
    else:
        index = bytearray((live / "index.faiss").read_bytes())
        index[-whole.size * 4:] = np.random.default_rng(3).integers(
            0, 256, whole.size * 4, dtype=np.uint8).tobytes()
        (live / "index.faiss").write_bytes(index)
    result = _add(tmp_path, FACTS, minilm)
    assert (result.version, result.documents_unchanged, result.chunks_added) == (2, 3, 0)
    assert result.repaired == ("v000001/vectors.npy holds vectors that are not of unit length"
                               if damage == "vectors-zeroed" else
                               "v000001/index.faiss does not hold the vectors it was "
                               "published with")
    np.testing.assert_allclose(np.load(cdir / "v000002" / "vectors.npy"), whole, atol=1e-6)
    rebuilt = faiss.read_index(str(cdir / "v000002" / "index.faiss"))
    np.testing.assert_allclose(rebuilt.reconstruct_n(0, 3), whole, atol=1e-6)
    assert _add(tmp_path, FACTS, minilm).version == 2  # whole now: unchanged


def _flip_sign(path: Path, offset: int) -> None:
    """Flip the sign bit of the little-endian float32 at ``offset`` of ``path``: the vector
    keeps its length, so only the recorded checksum tells."""
    raw = bytearray(path.read_bytes())
    raw[offset + 3] ^= 0x80
    path.write_bytes(raw)


@pytest.mark.parametrize("flipped", ["vectors", "index", "both"])
def test_a_flipped_sign_bit_is_found_by_the_checksum_and_repaired(
        tmp_path: Path, minilm: SentenceEmbedder, flipped: str) -> None:
    """A review: one sign bit flipped in vectors.npy, or in the index's copy of the vectors,
    left every vector of unit length and passed every check (an add of unchanged documents said
    "unchanged"; with the two disagreeing, the vectors were kept whichever was wrong). The
    checksum recorded at publishing tells which copy changed; an add of unchanged documents
    builds it again from the whole one, or, both changed, from the documents."""
    _add(tmp_path, FACTS, minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    live = cdir / "v000001"
    whole = np.load(live / "vectors.npy")
    info = VersionInfo.read(cdir)
    assert info is not None and info.vectors_sha256 == vectors_digest(whole)
    assert (live / VECTORS_SUM_FILE).read_text() == info.vectors_sha256 + "\n"
    header = len((live / "vectors.npy").read_bytes()) - whole.size * 4
    if flipped in ("vectors", "both"):
        _flip_sign(live / "vectors.npy", header + 4 * 5)
    if flipped in ("index", "both"):
        _flip_sign(live / "index.faiss", (live / "index.faiss").stat().st_size - whole.size * 4)
    assert verify_vectors(cdir, info) == [
        *(["v000001/vectors.npy does not match the checksum recorded when it was published "
           "(vectors.sha256)"] if flipped != "index" else []),
        *(["v000001/index.faiss does not hold the vectors it was published with"]
          if flipped != "vectors" else [])]
    result = _add(tmp_path, FACTS, minilm)
    assert (result.version, result.documents_unchanged, result.chunks_added) == (2, 3, 0)
    assert result.rebuilt_from == {
        "vectors": "its index's copy of its vectors and its documents",
        "index": "its vectors and documents",
        "both": "its documents, its 3 chunk(s) embedded again"}[flipped]
    np.testing.assert_allclose(np.load(cdir / "v000002" / "vectors.npy"), whole, atol=1e-5)
    rebuilt = faiss.read_index(str(cdir / "v000002" / "index.faiss"))
    np.testing.assert_allclose(rebuilt.reconstruct_n(0, 3), whole, atol=1e-5)
    info = VersionInfo.read(cdir)
    assert info is not None and verify_vectors(cdir, info) == []
    assert _add(tmp_path, FACTS, minilm).version == 2  # whole now: unchanged


def test_a_changed_checksum_is_told_from_changed_vectors(tmp_path: Path,
                                                         minilm: SentenceEmbedder) -> None:
    """A bit flipped in vectors.sha256 itself: vectors.npy and the index's copy are whole and
    alike, so it is the checksum that changed. Before, both copies were judged changed, and
    every chunk was embedded again; now the next add records the checksum afresh from them."""
    _add(tmp_path, FACTS, minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    whole = np.load(cdir / "v000001" / "vectors.npy")
    recorded = cdir / "v000001" / VECTORS_SUM_FILE
    text = recorded.read_text()
    recorded.write_text(("0" if text[0] != "0" else "1") + text[1:])
    info = VersionInfo.read(cdir)
    assert info is not None and verify_vectors(cdir, info) == [
        "v000001/vectors.sha256 does not match the vectors that vectors.npy and the index "
        "hold alike"]
    result = _add(tmp_path, FACTS, minilm)
    assert (result.version, result.chunks_added, result.resumed) == (2, 0, 0)
    assert result.rebuilt_from == "its vectors and documents"
    assert result.repaired is not None and "vectors.sha256" in result.repaired
    np.testing.assert_array_equal(np.load(cdir / "v000002" / "vectors.npy"), whole)
    info = VersionInfo.read(cdir)
    assert info is not None and verify_vectors(cdir, info) == []


def test_a_version_published_before_checksums_is_judged_as_before(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A version without vectors.sha256 (an earlier release's) is read, extended and
    verified by unit length and agreement, as that release did; its next version records
    one."""
    _add(tmp_path, FACTS[:2], minilm)
    cdir = collection_dir(tmp_path, "acme", "kb")
    (cdir / "v000001" / VECTORS_SUM_FILE).unlink()
    info = VersionInfo.read(cdir)
    assert info is not None and info.vectors_sha256 == "" and verify_vectors(cdir, info) == []
    _flip_sign(cdir / "v000001" / "index.faiss",
               (cdir / "v000001" / "index.faiss").stat().st_size - 2 * minilm.dim * 4)
    assert verify_vectors(cdir, info) == [
        "v000001/index.faiss and vectors.npy hold other vectors (the version was published "
        "before their checksum was recorded: which is wrong cannot be told)"]
    result = _add(tmp_path, FACTS, minilm)
    assert result.version == 2 and result.repaired == (
        "v000001/index.faiss does not hold the vectors of vectors.npy")
    info = VersionInfo.read(cdir)
    assert info is not None and info.vectors_sha256 == vectors_digest(
        np.load(cdir / "v000002" / "vectors.npy")) and verify_vectors(cdir, info) == []


def test_a_version_dropped_closes_its_database_even_from_a_frozen_heap(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A review: a served process freezes its start-up heap (loop.freeze_heap), and a version's
    database connection, in a cycle with its statement cache, was never collected once a
    reload dropped it: its file and page cache stayed held until the process ended."""
    _add(tmp_path, FACTS, minilm, tenant="alice")
    library = EvidenceLibrary(tmp_path)
    assert library.poll() == ["alice/kb"]
    db = library.get("alice", "kb")._db
    gc.freeze()
    try:
        library.reload()  # every version read again: the first one is dropped
        with pytest.raises(sqlite3.ProgrammingError):
            db.execute("SELECT 1")
    finally:
        gc.unfreeze()
