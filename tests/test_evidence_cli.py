"""``stream-guard index`` commands, run through argparse as the CLI runs them."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from stream_guard.evidence.cli import add_index_commands
from stream_guard.evidence.embedded import EMBEDDED_FILE
from stream_guard.evidence.store import DOCS_FILE, VersionInfo, collection_dir, connect_readonly
from stream_guard.models.embedder import SentenceEmbedder

pytestmark = pytest.mark.slow  # real models


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="stream-guard")
    add_index_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.fixture
def env(tmp_path: Path, model_cache: Path, minilm: SentenceEmbedder,
        monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings pointing at the session's model cache (so MiniLM is not rebuilt) via TOML."""
    config = tmp_path / "stream-guard.toml"
    config.write_text(f'cache_dir = "{model_cache}"\ndata_dir = "{tmp_path / "unused"}"\n')
    for key in [k for k in os.environ if k.startswith("STREAM_GUARD_")]:
        monkeypatch.delenv(key)
    return config


def test_add_ls_search_rm(tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "paris.txt").write_text("The Eiffel Tower is in Paris. It opened in 1889.")
    (docs / "kb.jsonl").write_text(
        json.dumps({"id": "py", "text": "Python was created by Guido van Rossum."}) + "\n"
        "not json\n")
    data = str(tmp_path / "data")
    common = ["--config", str(env), "--data-dir", data]
    assert _run("index", "add", *common, "--collection", "facts", "--no-progress",
                str(docs)) == 1  # one bad line: reported, the rest ingested
    out, err = capsys.readouterr()
    assert "default/facts: 2 document(s), +2 chunk(s)" in out
    assert "kb.jsonl:2: invalid JSON" in err

    assert _run("index", "ls", *common) == 0
    out, _ = capsys.readouterr()
    assert out.split("\t")[:3] == ["default/facts", "2 chunk(s)", "flat"]

    assert _run("index", "search", *common, "--collection", "facts", "who made Python",
                "-k", "1") == 0
    out, _ = capsys.readouterr()
    assert "py#0" in out and "Guido" in out and out.count("\n") == 2

    assert _run("index", "rm", *common, "--collection", "facts") == 0
    assert _run("index", "rm", *common, "--collection", "facts") == 2
    assert _run("index", "search", *common, "--collection", "facts", "x") == 2
    _, err = capsys.readouterr()
    assert "no collection default/facts" in err


def test_tenant_option_and_bad_names(tmp_path: Path, env: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# Note\n\nA markdown note about tenants.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data")]
    assert _run("index", "add", *common, "--tenant", "acme", "--collection", "notes",
                "--no-progress", str(doc)) == 0
    assert _run("index", "ls", *common, "--tenant", "acme") == 0
    assert "acme/notes" in capsys.readouterr().out
    # the name is refused before any file is read (a README walk: "ignored 1 empty file" first)
    empty = tmp_path / "empty.md"
    empty.write_text("")
    assert _run("index", "add", *common, "--collection", "../escape", str(empty)) == 2
    err = capsys.readouterr().err
    assert "must be" in err and "ignored" not in err and err.count("\n") == 1
    assert _run("index", "add", *common, "--collection", "x", str(tmp_path / "nothing")) == 2
    # an empty tenant (an unset "$TENANT") is no name, not the default tenant (a review)
    for command in (["add", "--no-progress", str(doc)], ["search", "note"], ["rm"]):
        assert _run("index", command[0], *common, "--tenant", "", "--collection", "notes",
                    *command[1:]) == 2
        assert "tenant name '' must be" in capsys.readouterr().err
    # nor is an empty data directory the working directory
    assert _run("index", "ls", "--config", str(env), "--data-dir", "") == 2
    assert "data_dir: invalid value ''" in capsys.readouterr().err


def test_a_damaged_collection_is_named_and_the_others_still_listed(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, one damaged VERSION file made `index ls` (and `add`, `search`) a traceback."""
    doc = tmp_path / "refund.txt"
    doc.write_text("Refunds are paid within 30 days of delivery.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data")]
    for tenant, name in (("alice", "good"), ("bob", "bad")):
        assert _run("index", "add", *common, "--tenant", tenant, "--collection", name,
                    "--no-progress", str(doc)) == 0
    (tmp_path / "data" / "bob" / "bad" / "VERSION").write_text('{"version": 1, "dir": "v00')
    capsys.readouterr()
    assert _run("index", "ls", *common) == 1
    out, err = capsys.readouterr()
    assert out.startswith("alice/good\t1 chunk(s)") and out.count("\n") == 1
    assert err.count("\n") == 1 and "collection bob/bad: its VERSION file is damaged" in err
    assert "index rm --tenant bob --collection bad" in err
    assert _run("index", "add", *common, "--tenant", "bob", "--collection", "bad",
                "--no-progress", str(doc)) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "bob/bad" in err and "nothing was added" in err
    assert _run("index", "search", *common, "--tenant", "bob", "--collection", "bad", "x") == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_damaged_file_of_the_live_version_is_one_line(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, a damaged docs.sqlite (or index) made `index add` and `search` a traceback."""
    doc = tmp_path / "refund.txt"
    doc.write_text("Refunds are paid within 30 days of delivery.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data"), "--collection", "kb"]
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    capsys.readouterr()
    live = tmp_path / "data" / "default" / "kb" / "v000001"
    for damaged in ("docs.sqlite", "index.faiss"):
        (live / damaged).write_bytes(b"garbage" * 100)
        commands = [["search", "refund"]] + ([["add", "--no-progress", str(doc)]]
                                             if damaged == "docs.sqlite" else [])
        for command in commands:
            assert _run("index", *command[:1], *common, *command[1:]) == 2
            _, err = capsys.readouterr()
            assert err.count("\n") == 1 and "default/kb" in err and "cannot be read" in err
        # `ls` named only a damaged VERSION file, and listed this collection as served
        assert _run("index", "ls", *common[:4]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1
        assert f"collection default/kb: v000001{'' if damaged == 'docs.sqlite' else '/'}" in err
        assert "not served" in err


def test_an_add_builds_a_damaged_index_again_and_says_so(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A review: with the live version's index garbage, an add of unchanged documents said
    "1 unchanged" and exit 0, and the collection stayed unserved. Its vectors and documents
    still hold everything: the add builds a version again, and says why."""
    doc = tmp_path / "refund.txt"
    doc.write_text("Refunds are paid within 30 days of delivery.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data"), "--collection", "kb"]
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    (tmp_path / "data" / "default" / "kb" / "v000001" / "index.faiss").write_bytes(b"garbage")
    capsys.readouterr()
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    out, err = capsys.readouterr()
    assert "1 unchanged; 1 chunk(s) in version 2" in out
    assert "v000001/index.faiss is not a FAISS flat index" in err and "version 2" in err
    assert _run("index", "ls", *common[:4]) == 0
    assert _run("index", "search", *common, "refund") == 0
    assert "30 days" in capsys.readouterr().out


def test_ls_names_damaged_vectors_of_a_served_collection_and_an_add_builds_them_again(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, `index ls` listed a collection whose vectors.npy was cut short as whole (exit
    0), and its next add failed. Its index still serves it: listed, named on stderr, exit 1;
    the next add builds the vectors again and says so."""
    doc = tmp_path / "refund.txt"
    doc.write_text("Refunds are paid within 30 days of delivery.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data"), "--collection", "kb"]
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    vectors = tmp_path / "data" / "default" / "kb" / "v000001" / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-8])
    capsys.readouterr()
    assert _run("index", "ls", *common[:4]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("default/kb\t1 chunk(s)")
    assert err == ("stream-guard index: collection default/kb: v000001/vectors.npy is shorter "
                   "than its 1 vectors: served, and the next `index add` to it builds its "
                   "vectors again\n")
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    out, err = capsys.readouterr()
    assert "1 unchanged; 1 chunk(s) in version 2" in out
    assert "version 2 was built again from its index's copy of its vectors" in err
    assert _run("index", "ls", *common[:4]) == 0 and capsys.readouterr().err == ""


def test_ls_verify_reads_every_vector_against_its_checksum(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sign bit flipped in vectors.npy leaves every header and length whole: `ls` lists the
    collection as whole (it reads headers only); `ls --verify` reads the vectors, names the
    file (exit 1), and the next add builds them again."""
    doc = tmp_path / "refund.txt"
    doc.write_text("Refunds are paid within 30 days of delivery.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data"), "--collection", "kb"]
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    assert _run("index", "ls", "--verify", *common[:4]) == 0
    vectors = tmp_path / "data" / "default" / "kb" / "v000001" / "vectors.npy"
    raw = bytearray(vectors.read_bytes())
    raw[-1] ^= 0x80  # the sign of the last float
    vectors.write_bytes(raw)
    capsys.readouterr()
    assert _run("index", "ls", *common[:4]) == 0 and capsys.readouterr().err == ""
    assert _run("index", "ls", "--verify", *common[:4]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("default/kb\t1 chunk(s)")
    assert err == ("stream-guard index: collection default/kb: v000001/vectors.npy does not "
                   "match the checksum recorded when it was published (vectors.sha256): served "
                   "as it is until the next `index add` to it, which builds it again\n")
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    assert "built again from its index's copy of its vectors" in capsys.readouterr().err
    assert _run("index", "ls", "--verify", *common[:4]) == 0 and capsys.readouterr().err == ""


def test_collections_need_an_embedder(tmp_path: Path, env: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "no-embedder.toml"
    config.write_text(env.read_text() + 'embedder = "none"\n')
    doc = tmp_path / "a.txt"
    doc.write_text("Some text.")
    common = ["--config", str(config), "--data-dir", str(tmp_path / "data")]
    assert _run("index", "add", *common, "--collection", "c", "--no-progress", str(doc)) == 2
    _, err = capsys.readouterr()
    assert err == ("stream-guard index: collections need an embedder, and embedder "
                   "(STREAM_GUARD_EMBEDDER) is 'none': set it to minilm or a "
                   "sentence-embedding model directory\n")
    assert _run("index", "add", "--config", str(env), "--data-dir", str(tmp_path / "data"),
                "--collection", "c", "--no-progress", str(doc)) == 0
    assert _run("index", "search", *common, "--collection", "c", "text") == 2
    assert "collections need an embedder" in capsys.readouterr().err


def test_ids_follow_the_path_named_and_hidden_files_are_left_out(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same tree indexed again from another place replaces its documents (before, ids were
    absolute paths, and the old version stayed beside the new one)."""
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data")]
    for build, days in (("build1", 30), ("build2", 14)):
        kb = tmp_path / build / "kb"
        (kb / ".git").mkdir(parents=True)
        (kb / ".git" / "notes.txt").write_text("Internal notes: the refund window is 90 days.")
        (kb / "refund.md").write_text(f"The refund window is {days} days from delivery.")
        assert _run("index", "add", *common, "--collection", "kb", "--no-progress",
                    str(kb)) == 0
        out, err = capsys.readouterr()
        assert "1 document(s)" in out
        assert f"ignored 1 hidden file(s) or folder(s) (e.g. {kb / '.git'})" in err
    assert "1 document(s) replaced" in out
    assert _run("index", "search", *common, "--collection", "kb", "refund window", "-k",
                "5") == 0
    out, _ = capsys.readouterr()
    assert out.split("\t")[1:3] == ["refund.md#0", "refund.md\n"]
    assert "14 days" in out and "30 days" not in out and "90 days" not in out
    assert str(tmp_path) not in out

    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "p1", "text": "The price is 10 euros."}\n'
                   '{"id": "p1", "text": "The price is 12 euros."}\n')
    assert _run("index", "add", *common, "--collection", "dup", "--no-progress",
                str(dup)) == 1
    out, err = capsys.readouterr()
    assert f"skipped {dup}:1: document id 'p1' is given again at {dup}:2" in err
    assert "default/dup: 1 document(s), +1 chunk(s)" in out


def _doc_ids(data: str, collection: str) -> set[str]:
    """The document ids of the collection's live version, chunks and shared chunks."""
    cdir = collection_dir(Path(data), "default", collection)
    info = VersionInfo.read(cdir)
    assert info is not None
    db = connect_readonly(cdir / info.dir / DOCS_FILE)
    try:
        ids = {d for (d,) in db.execute("SELECT doc_id FROM chunks")}
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'shared_chunks'").fetchone():
            ids |= {d for (d,) in db.execute("SELECT doc_id FROM shared_chunks")}
        return ids
    finally:
        db.close()


def test_sync_removes_the_documents_of_deleted_renamed_and_emptied_files(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Re-adding a folder never removed anything: a renamed policy's old text stayed evidence
    beside the new one, and an emptied file's old text too (a review found both)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "refund-2023.md").write_text("Refunds are accepted within 30 days of purchase.")
    (docs / "hours.md").write_text("The shop opens at 9 am.")
    (docs / "gifts.md").write_text("Gift cards cannot be refunded.")
    data = str(tmp_path / "data")
    add = ["index", "add", "--config", str(env), "--data-dir", data, "--collection", "p",
           "--no-progress"]
    assert _run(*add, str(docs)) == 0
    (docs / "refund-2023.md").unlink()
    (docs / "refund-2024.md").write_text("Refunds are accepted within 14 days of purchase.")
    (docs / "gifts.md").write_text("")
    assert _run(*add, str(docs)) == 0  # without --sync: added, nothing removed, and said so
    _, err = capsys.readouterr()
    assert "ignored 1 empty file(s) or record(s)" in err and "--sync removes it" in err
    assert _doc_ids(data, "p") == {"refund-2023.md", "refund-2024.md", "hours.md", "gifts.md"}
    assert _run(*add, "--sync", str(docs)) == 0
    out, _ = capsys.readouterr()
    assert "2 removed" in out
    assert _doc_ids(data, "p") == {"refund-2024.md", "hours.md"}
    (docs / "hours.md").chmod(0)  # unreadable (as root too? then it reads; skip the check)
    if not os.access(docs / "hours.md", os.R_OK):
        (docs / "refund-2024.md").unlink()
        (docs / "new.md").write_text("New text.")
        assert _run(*add, "--sync", str(docs)) == 1
        _, err = capsys.readouterr()
        assert "--sync removes nothing this time" in err
        assert "refund-2024.md" in _doc_ids(data, "p")


def test_sync_removes_every_document_when_every_file_is_emptied(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said "no documents to add" and kept them all (a review); a collection it would
    create empty is still refused."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hours.md").write_text("The shop opens at 9 am.")
    (docs / "kb.jsonl").write_text(json.dumps({"id": "gift", "text": "No gift refunds."}) + "\n")
    data = str(tmp_path / "data")
    add = ["index", "add", "--config", str(env), "--data-dir", data, "--no-progress"]
    assert _run(*add, "--collection", "p", str(docs)) == 0
    (docs / "hours.md").write_text("")
    (docs / "kb.jsonl").write_text(json.dumps({"id": "gift", "text": " "}) + "\n")
    assert _run(*add, "--collection", "p", str(docs)) == 2  # without --sync: nothing to do
    assert "ignored 2 empty file(s) or record(s)" in capsys.readouterr().err
    assert _run(*add, "--collection", "p", "--sync", str(docs)) == 0
    assert "0 document(s), +0 chunk(s)" in capsys.readouterr().out
    assert _doc_ids(data, "p") == set()
    assert _run(*add, "--collection", "new", "--sync", str(docs)) == 2
    assert "no documents to add" in capsys.readouterr().err
    # A JSONL file with no record at all (0 bytes, blank lines) is an empty file too (a
    # review: it was passed over without a word)
    for blank in ("", "\n \n"):
        (docs / "kb.jsonl").write_text(blank)
        assert _run(*add, "--collection", "p", str(docs)) == 2
        assert "ignored 2 empty file(s) or record(s)" in capsys.readouterr().err


def test_a_file_of_invisible_or_punctuation_text_is_an_empty_one(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A review: a file of zero-width spaces (str.strip keeps U+200B) was a document of no
    chunks, which is never "unchanged": every add of the folder published a new version, and
    every server reloaded. It states nothing, as inline context of it does (refused at
    start): named as an empty file, and an add with nothing else to add exits 2."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zero-width.md").write_text("\u200b\u200b\n\u200b")
    (docs / "dots.txt").write_text("... --- \u2060")
    (docs / "kb.jsonl").write_text(json.dumps({"id": "zw", "text": "\u200b\ufeff"}) + "\n")
    data = str(tmp_path / "data")
    add = ["index", "add", "--config", str(env), "--data-dir", data, "--collection", "p",
           "--no-progress"]
    assert _run(*add, str(docs)) == 2
    assert "ignored 3 empty file(s) or record(s)" in capsys.readouterr().err
    (docs / "hours.md").write_text("The shop opens at 9 am.")
    assert _run(*add, str(docs)) == 0
    assert "1 document(s), +1 chunk(s)" in capsys.readouterr().out
    assert _run(*add, str(docs)) == 0  # adds nothing new: keeps the version
    assert "1 unchanged; 1 chunk(s) in version 1" in capsys.readouterr().out
    assert _doc_ids(data, "p") == {"hours.md"}


def test_a_jsonl_record_with_an_empty_id_is_named_by_its_line(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Three records with "id": "" were one document, two of them reported as clashes."""
    kb = tmp_path / "kb.jsonl"
    kb.write_text("".join(json.dumps({"id": i, "text": f"Fact number {n}."}) + "\n"
                          for n, i in enumerate(["", " ", None])))
    data = str(tmp_path / "data")
    assert _run("index", "add", "--config", str(env), "--data-dir", data, "--collection", "p",
                "--no-progress", str(kb)) == 0
    assert _doc_ids(data, "p") == {"kb.jsonl:1", "kb.jsonl:2", "kb.jsonl:3"}


def test_rm_removes_a_collection_whose_first_add_never_finished(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An `add` killed while building a new collection's first version leaves its folder
    (a build of megabytes) that `ls` does not list; `rm` said there was none (a review)."""
    data = tmp_path / "data"
    left = collection_dir(data, "default", "fresh")
    (left / ".build-1234").mkdir(parents=True)
    (left / ".build-1234" / DOCS_FILE).write_bytes(b"x" * 1000)
    common = ["--config", str(env), "--data-dir", str(data)]
    assert _run("index", "rm", *common, "--collection", "fresh") == 0
    assert not left.exists()
    assert _run("index", "rm", *common, "--collection", "fresh") == 2  # now there is none


def test_files_that_are_not_utf8_text_are_skipped_by_name(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """UTF-16 without a byte-order mark was indexed as text full of NULs (and halted faithful
    answers); a file name that is not UTF-8, or a JSONL line with a lone surrogate, crashed the
    whole add after embedding; JSONL holding U+2028 raw was split into broken lines."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "utf16.txt").write_bytes("Refunds within 30 days.\n".encode("utf-16-le"))
    # with a byte-order mark (as Windows tools write it) it says what it is: read as such
    (docs / "bom16.txt").write_bytes("Returns are free.\n".encode("utf-16"))
    with open(os.fsencode(docs) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(b"The cafe opens at 9 am.\n")
    records = [{"id": "sep", "text": "Line one\u2028still line one.", "note": "\u2029"},
               {"id": "ok", "text": "A plain record."}]
    (docs / "kb.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False)
                                             for r in records) + "\n"
                                   + '{"id": "bad", "text": "Bad \\ud800 record."}\n'
                                   + '{"id": "nul", "text": "A raw \x00 byte."}\n')
    (docs / "good.md").write_text("The Eiffel Tower is in Paris.")
    data = str(tmp_path / "data")
    assert _run("index", "add", "--config", str(env), "--data-dir", data, "--collection", "u",
                "--no-progress", str(docs)) == 1
    _, err = capsys.readouterr()
    assert "utf16.txt: not UTF-8 text (it holds NUL bytes" in err
    assert "the file name is not UTF-8" in err
    assert "kb.jsonl:3: holds a lone surrogate" in err
    assert "kb.jsonl:4: invalid JSON" in err  # a raw NUL costs its line, not the file
    assert err.count("kb.jsonl") == 2  # the U+2028 line is one good record, line numbers right
    assert _doc_ids(data, "u") == {"sep", "ok", "good.md", "bom16.txt"}


def test_sync_keeps_what_a_broken_link_or_a_path_too_long_held(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A review: --sync removed the document of a link whose target was away (an unmounted
    share), and a folder tree deeper than PATH_MAX crashed the add with a traceback, losing the
    readable files beside it. Both are files that could not be read: named, exit 1, and
    nothing removed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    share = tmp_path / "share"
    share.mkdir()
    (share / "kettle.md").write_text("The kettle has a two-year warranty.")
    (docs / "kettle.md").symlink_to(share / "kettle.md")
    (docs / "toaster.md").write_text("The toaster has a one-year warranty.")
    data = str(tmp_path / "data")
    add = ["index", "add", "--config", str(env), "--data-dir", data, "--collection", "k",
           "--no-progress"]
    assert _run(*add, str(docs)) == 0
    share.rename(tmp_path / "unmounted")
    fd = os.open(docs, os.O_RDONLY)  # a tree past PATH_MAX can only be made relative to a folder
    try:
        for _ in range(24):
            os.mkdir("d" * 200, dir_fd=fd)
            inner = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    assert _run(*add, "--sync", str(docs)) == 1
    out, err = capsys.readouterr()
    assert "kettle.md: a link to a missing file, not read" in err
    assert "File name too long" in err and "Traceback" not in err
    assert "--sync removes nothing this time" in err and "removed" not in out
    assert _doc_ids(data, "k") == {"kettle.md", "toaster.md"}


def test_a_collection_that_cannot_be_written_is_one_line(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A review: on a read-only disk, an add to an existing collection or a remove ended in a
    traceback (the lock file could not be opened). A lock that cannot be opened stands in for
    the read-only disk (root writes anywhere)."""
    docs = tmp_path / "a.txt"
    docs.write_text("Some text.")
    data = tmp_path / "data"
    common = ["--config", str(env), "--data-dir", str(data), "--collection", "ro"]
    assert _run("index", "add", *common, "--no-progress", str(docs)) == 0
    lock = collection_dir(data, "default", "ro") / ".lock"
    lock.unlink()
    lock.mkdir()
    assert _run("index", "add", *common, "--no-progress", str(docs)) == 2
    assert _run("index", "rm", *common) == 2
    _, err = capsys.readouterr()
    assert err.count("cannot write to") == 2 and "Traceback" not in err


def _unprivileged(*argv: str) -> list[str]:
    """``argv`` run as the owner of the files it touches and no more: root, which writes and
    reads anywhere, drops its override of file permissions (setpriv), so a read-only folder is
    one to it as to any service account."""
    if os.geteuid() != 0:
        return list(argv)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv: permissions cannot be held to")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *argv]


def test_a_remove_from_a_read_only_tenant_folder_is_one_line(
        tmp_path: Path, env: Path) -> None:
    """A review: `index rm` in a tenant folder that cannot be written (a read-only mount, a
    folder of another account), its collection's own folder writable, ended in a traceback
    from the rename (exit 1); the collection is kept, and the command says why in one line."""
    doc = tmp_path / "a.txt"
    doc.write_text("Some text to keep.")
    data = tmp_path / "data"
    common = ["--config", str(env), "--data-dir", str(data), "--collection", "kept"]
    assert _run("index", "add", *common, "--no-progress", str(doc)) == 0
    tenant = collection_dir(data, "default", "kept").parent
    tenant.chmod(0o555)
    try:
        done = subprocess.run(_unprivileged(sys.executable, "-m", "stream_guard", "index", "rm",
                                            *common), capture_output=True, text=True, timeout=120)
    finally:
        tenant.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"stream-guard index: cannot remove default/kept: {tenant} cannot be written "
        "(Permission denied); nothing was removed. Check data_dir (STREAM_GUARD_DATA_DIR, "
        "--data-dir)"]
    assert _doc_ids(str(data), "kept") == {"a.txt"}


def test_a_version_file_this_account_cannot_read_is_not_called_damaged(
        tmp_path: Path, env: Path) -> None:
    """A review: a VERSION file the command may not read (a backup restored under another
    owner) was "damaged (not readable JSON: Permission denied)", and `index ls` and `index add`
    said to remove the collection and add its documents again: a rebuild for a permissions
    problem. They name the permissions, and the collection is whole once it can be read."""
    doc = tmp_path / "a.txt"
    doc.write_text("Some text to keep.")
    data = tmp_path / "data"
    common = ["--config", str(env), "--data-dir", str(data)]
    assert _run("index", "add", *common, "--collection", "kept", "--no-progress", str(doc)) == 0
    version = collection_dir(data, "default", "kept") / "VERSION"
    version.chmod(0)
    try:
        done = [subprocess.run(_unprivileged(sys.executable, "-m", "stream_guard", "index",
                                             *argv, *common),
                               capture_output=True, text=True, timeout=120)
                for argv in (["ls"], ["add", "--collection", "kept", "--no-progress", str(doc)])]
    finally:
        version.chmod(0o644)
    assert [d.returncode for d in done] == [1, 2], [d.stderr for d in done]
    said = "its VERSION file cannot be read by this account (Permission denied): check the " \
           "permissions of data_dir"
    assert done[0].stderr.splitlines() == [
        f"stream-guard index: collection default/kept: {said} (STREAM_GUARD_DATA_DIR, "
        "--data-dir); not served"]
    assert done[1].stderr.splitlines()[-1] == (
        f"stream-guard index: collection default/kept: {said} (STREAM_GUARD_DATA_DIR, "
        "--data-dir); nothing was added")
    assert _doc_ids(str(data), "kept") == {"a.txt"}


def test_links_and_special_files_in_a_folder_are_named_and_a_bad_data_dir_is_one_line(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "w.txt").write_text("Linked text.")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Some text.")
    (docs / "linked").symlink_to(other, target_is_directory=True)
    (docs / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(docs / "pipe.txt")
    base = ["index", "add", "--config", str(env), "--collection", "l", "--no-progress"]
    # a link to nothing is a file that could not be read (its target may be an unmounted
    # share): named, exit 1, and no --sync removal (a review lost a document so)
    assert _run(*base, "--data-dir", str(tmp_path / "data"), str(docs)) == 1
    _, err = capsys.readouterr()
    assert "ignored 2 link(s) to folders or special file(s)" in err
    assert "broken.txt: a link to a missing file, not read" in err
    assert _run(*base, "--data-dir", str(tmp_path / "data"), str(docs / "pipe.txt")) == 2
    _, err = capsys.readouterr()
    assert "pipe.txt: not a regular file or folder" in err
    (tmp_path / "afile").write_text("")
    assert _run(*base, "--data-dir", str(tmp_path / "afile" / "data"), str(docs)) == 2
    _, err = capsys.readouterr()
    assert "cannot be created" in err and "data_dir" in err and "Traceback" not in err


def test_a_link_to_a_special_file_in_a_folder_is_named_and_holds_no_sync_back(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A review: a link inside the folder to a device or a FIFO (``null.txt -> /dev/null``) was
    called "a link to a missing file", an error: every add of the folder exited 1, and --sync
    never removed a deleted file's document again. It is a special file, named and not read,
    as the FIFO itself is."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kept.txt").write_text("The kettle holds 1.7 litres.")
    (docs / "gone.txt").write_text("The toaster has four slots.")
    (docs / "null.txt").symlink_to(os.devnull)
    os.mkfifo(tmp_path / "pipe")
    (docs / "pipe.txt").symlink_to(tmp_path / "pipe")
    data = str(tmp_path / "data")
    add = ["index", "add", "--config", str(env), "--data-dir", data, "--collection", "k",
           "--no-progress"]
    assert _run(*add, str(docs)) == 0
    _, err = capsys.readouterr()
    assert "ignored 2 link(s) to folders or special file(s)" in err
    assert "missing file" not in err
    (docs / "gone.txt").unlink()
    assert _run(*add, "--sync", str(docs)) == 0
    out, _ = capsys.readouterr()
    assert "1 removed" in out
    assert _doc_ids(data, "k") == {"kept.txt"}


def test_names_are_matched_whole_and_tenants_checked_where_they_are_listed(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "a.txt"
    docs.write_text("Some text.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data")]
    assert _run("index", "add", *common, "--collection", "nl\n", "--no-progress",
                str(docs)) == 2
    _, err = capsys.readouterr()
    assert "collection name 'nl\\n' must be" in err
    assert _run("index", "ls", *common, "--tenant", "..") == 2
    _, err = capsys.readouterr()
    assert "tenant name '..' must be" in err


def test_a_file_added_beside_its_namesake_from_a_folder_is_named(
        tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A new user edited policies/refund.md and added that file alone: it went in as
    refund.md beside the old policies/refund.md, and both answered searches."""
    docs = tmp_path / "handbook"
    (docs / "policies").mkdir(parents=True)
    refund = docs / "policies" / "refund.md"
    refund.write_text("Refunds are accepted within 30 days of purchase.")
    (docs / "shipping.md").write_text("Shipping takes 3 to 5 business days.")
    common = ["--config", str(env), "--data-dir", str(tmp_path / "data"), "--collection", "hb",
              "--no-progress"]
    assert _run("index", "add", *common, str(docs)) == 0
    capsys.readouterr()
    refund.write_text("Refunds are accepted within 14 days of purchase.")
    assert _run("index", "add", *common, str(refund)) == 0
    _, err = capsys.readouterr()
    assert "'refund.md' was added beside 'policies/refund.md', which stays" in err
    assert _run("index", "add", *common, "--sync", str(docs)) == 0  # what the note says
    out, err = capsys.readouterr()
    assert "1 document(s) replaced" in out and "1 removed" in out and "note:" not in err


def test_an_add_killed_part_way_resumes_where_it_stopped(
        tmp_path: Path, env: Path, minilm: SentenceEmbedder,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Before, an add stopped part-way (killed, Ctrl-C, a reboot) kept nothing of what it had
    embedded: run again, it embedded every chunk again, minutes of a large corpus. Each batch
    of vectors is kept as it is embedded; the next add takes them, says so, and deletes them
    once it has published."""
    corpus = tmp_path / "kb.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": f"Parcel {i} ships from depot "
                                          f"{i % 7} within {i % 5 + 1} working days."}) + "\n"
                              for i in range(700)))
    data = tmp_path / "data"
    cdir = data / "default" / "kb"
    argv = ["index", "add", "--config", str(env), "--data-dir", str(data), "--collection", "kb",
            "--no-progress", str(corpus)]
    killed = subprocess.Popen([sys.executable, "-m", "stream_guard", *argv],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kept, deadline = 0, time.monotonic() + 300
    try:
        while kept == 0:  # until its first batch is committed
            assert killed.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
            with contextlib.suppress(sqlite3.Error):
                db = sqlite3.connect(f"file:{cdir / EMBEDDED_FILE}?mode=ro", uri=True)
                with contextlib.closing(db):
                    kept = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    finally:
        killed.kill()
        killed.wait()
    assert VersionInfo.read(cdir) is None  # it published nothing
    capsys.readouterr()
    assert _run(*argv) == 0
    out, err = capsys.readouterr()
    assert "+700 chunk(s)" in out and "700 chunk(s) in version 1" in out
    said = re.search(r"note: (\d+) chunk\(s\) were embedded by an earlier add of this "
                     r"collection that stopped", err)
    assert said is not None and kept <= int(said.group(1)) <= 700
    assert not (cdir / EMBEDDED_FILE).exists()
    vectors = np.load(cdir / "v000001" / "vectors.npy")
    with contextlib.closing(connect_readonly(cdir / "v000001" / DOCS_FILE)) as db:
        texts = dict(db.execute("SELECT row, text FROM chunks WHERE row IN (0, 1, 350, 699)"))
    np.testing.assert_allclose(vectors[sorted(texts)],
                               minilm.embed([texts[r] for r in sorted(texts)]), atol=1e-4)
    assert _run("index", "search", *argv[2:-2], "Which depot does parcel 699 ship from?") == 0
    assert "d699#0" in capsys.readouterr().out
