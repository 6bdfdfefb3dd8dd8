"""``stream-guard index`` commands, run through argparse as the CLI runs them."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from stream_guard.evidence.cli import add_index_commands
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
    assert out.split("\t")[:3] == ["default/facts", "2 chunks", "flat"]

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
    assert _run("index", "add", *common, "--collection", "../escape", str(doc)) == 2
    assert "must be" in capsys.readouterr().err
    assert _run("index", "add", *common, "--collection", "x", str(tmp_path / "nothing")) == 2


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
    assert out.startswith("alice/good\t1 chunks") and out.count("\n") == 1
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
