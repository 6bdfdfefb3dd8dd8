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
