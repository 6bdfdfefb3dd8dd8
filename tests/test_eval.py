"""The evaluation tool: metrics on hand-computed cases, the token splitter, record selection, and
whole runs against a real server over loopback (lexical tier)."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream_guard.config import Settings
from stream_guard.dataset import Record, RecordError, assign_splits, read_records
from stream_guard.eval.cli import main
from stream_guard.eval.metrics import (
    Confusion,
    auroc,
    confusion,
    halt_scores,
    quantile,
    threshold_at_fhr,
)
from stream_guard.eval.replay import Replayer, ReplayError, ReplayOptions, StreamResult
from stream_guard.eval.report import quality_report, summarize
from stream_guard.eval.results import redacted_command
from stream_guard.eval.selection import select_records, stratified_sample
from stream_guard.eval.tokens import LONG_WORD, split_tokens
from stream_guard.server.app import Server
from tests.conftest import running_server
from tests.wsclient import API_KEY, ws_url

# --- metrics ----------------------------------------------------------------------------------


def test_confusion_and_halt_scores_by_hand() -> None:
    c = confusion([True, True, False, False, True, False], [1, 0, 1, 0, 1, 0])
    assert c == Confusion(tp=2, fp=1, tn=2, fn=1)
    s = halt_scores(c)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    assert s.balanced_accuracy == pytest.approx(2 / 3)
    assert s.false_halt_rate == pytest.approx(1 / 3)

    c = confusion([True, False, False, False], [1, 1, 0, 0])  # tp=1 fn=1 tn=2
    s = halt_scores(c)
    assert (s.precision, s.recall, s.false_halt_rate) == (1.0, 0.5, 0.0)
    assert s.f1 == pytest.approx(2 / 3)
    assert s.balanced_accuracy == pytest.approx(0.75)


def test_undefined_ratios_are_none_not_zero() -> None:
    s = halt_scores(confusion([False, False], [1, 1]))
    assert s.precision is None  # no halts
    assert s.false_halt_rate is None and s.balanced_accuracy is None  # no label-0 records
    assert s.recall == 0.0 and s.f1 == 0.0


def test_auroc_by_hand() -> None:
    # positive 0.35 beats 0.1 but not 0.4; positive 0.8 beats both: 3 of 4 pairs.
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auroc([0.5, 0.5], [0, 1]) == pytest.approx(0.5)  # a tie counts one half
    assert auroc([0.1, 0.2, 0.9], [0, 0, 1]) == 1.0
    assert auroc([0.9, 0.2, 0.1], [0, 1, 1]) == 0.0
    assert auroc([0.3, 0.4], [1, 1]) is None


def test_auroc_equals_pairwise_definition_with_ties() -> None:
    rng = np.random.default_rng(3)
    risk = rng.integers(0, 6, 200).astype(float)  # many ties
    labels = rng.integers(0, 2, 200)
    pos, neg = risk[labels == 1], risk[labels == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0
               for p, n in itertools.product(pos, neg))
    assert auroc(risk.tolist(), labels.tolist()) == pytest.approx(wins / (len(pos) * len(neg)))


def test_threshold_at_target_false_halt_rate() -> None:
    negatives = [0.9, 0.2, 0.5, 0.7, 0.8, 0.95, 0.6, 0.85, 0.3, 0.75]
    positives = [0.1, 0.25, 0.3, 0.4]
    support = negatives + positives
    labels = [0] * len(negatives) + [1] * len(positives)
    pick = threshold_at_fhr(support, labels, 0.1)  # one false halt allowed: halt below 0.3
    assert pick is not None
    assert pick.threshold == 0.3
    assert pick.false_halt_rate == pytest.approx(0.1)
    assert pick.recall == pytest.approx(0.5)  # 0.1 and 0.25
    pick = threshold_at_fhr(support, labels, 0.0)
    assert pick is not None and pick.threshold == 0.2 and pick.false_halt_rate == 0.0
    assert pick.recall == pytest.approx(0.25)
    # Tied label-0 scores: a threshold at the tie halts none of them.
    pick = threshold_at_fhr([0.5, 0.5, 0.5, 0.9, 0.1], [0, 0, 0, 0, 1], 0.25)
    assert pick is not None and pick.threshold == 0.5 and pick.false_halt_rate == 0.0
    assert threshold_at_fhr([0.2], [1], 0.05) is None


def test_quantile() -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)
    assert quantile([], 0.5) is None


# --- token splitter ---------------------------------------------------------------------------


@given(st.text())
def test_tokens_reassemble_exactly(text: str) -> None:
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    assert all(pieces)


def test_tokens_look_like_llm_output() -> None:
    text = "Hello, world! Internationalization costs $1,234.\n\nNew line."
    pieces = split_tokens(text)
    assert pieces[:4] == ["Hello", ",", " world", "!"]
    assert "\n\n" in pieces
    long_parts = pieces[pieces.index(" Inte"): pieces.index(" costs")]
    assert "".join(long_parts) == " Internationalization"
    assert all(3 <= len(p.strip()) <= 6 for p in long_parts)
    for word in ("abcdefghi", "abcdefghij", "abcdefghijk", "a" * 23):
        parts = split_tokens(word)
        assert len(word) <= LONG_WORD or all(3 <= len(p) <= 6 for p in parts), parts


# --- selection and report ----------------------------------------------------------------------


def _record(i: int, dataset: str, label: int = 0, onset: int | None = None) -> Record:
    return Record(f"{dataset}-{i}", dataset, "ctx", None, "response text", label, onset)


def test_split_selection_uses_the_trainers_split() -> None:
    records = [_record(i, "d") for i in range(200)]
    holdout = select_records(records, split="holdout")
    tune = select_records(records, split="tune")
    sides = assign_splits(records)
    assert {r.id for r in holdout} == {r.id for r in records if sides[r.split_key] == "holdout"}
    assert {r.id for r in tune} == {r.id for r in records if sides[r.split_key] == "tune"}
    assert len(holdout) == len(tune) == 100
    assert select_records(records, split="all", limit=7) == records[:7]


def test_stratified_sample_keeps_shares_order_and_is_seeded() -> None:
    records = ([_record(i, "big") for i in range(60)] + [_record(i, "mid") for i in range(30)]
               + [_record(i, "small") for i in range(10)])
    picked = stratified_sample(records, 10, seed=4)
    counts = {name: sum(r.dataset == name for r in picked) for name in ("big", "mid", "small")}
    assert counts == {"big": 6, "mid": 3, "small": 1}
    assert picked == sorted(picked, key=records.index)  # file order kept
    assert picked == stratified_sample(records, 10, seed=4)
    assert picked != stratified_sample(records, 10, seed=5)
    assert len(stratified_sample(records, 7, seed=0)) == 7  # remainders distributed
    assert stratified_sample(records, 500, seed=0) == records


def _result(record: Record, *, halted: bool, min_score: float, window_end: int | None = None,
            chars_at_halt: int | None = None, error: str | None = None) -> StreamResult:
    return StreamResult(record, halted, 0 if halted else None, window_end,
                        "unsupported" if halted else None, chars_at_halt, min_score, 2, 0.1, error)


def test_summarize_onset_delays_early_halts_and_errors() -> None:
    results = [
        _result(_record(1, "a", 1, onset=40), halted=True, min_score=0.1, window_end=60,
                chars_at_halt=70),
        _result(_record(2, "a", 1, onset=40), halted=True, min_score=0.2, window_end=30,
                chars_at_halt=50),  # the halting window ends before the onset: early
        _result(_record(3, "a", 1, onset=10), halted=False, min_score=0.9),
        _result(_record(4, "b", 0), halted=False, min_score=0.95),
        _result(_record(5, "b", 0), halted=True, min_score=0.3, window_end=20, chars_at_halt=25),
        _result(_record(6, "b", 0), halted=False, min_score=1.0, error="timeout"),
    ]
    s = summarize(results, 0.05)
    assert (s["n"], s["errors"], s["error_codes"]) == (5, 1, {"timeout": 1})
    assert (s["tp"], s["fp"], s["tn"], s["fn"]) == (2, 1, 1, 1)
    assert s["n_onset_halts"] == 2
    assert s["halt_delay_chars_median"] == 20.0  # (30 + 10) / 2
    assert s["halt_window_overrun_chars_median"] == 5.0  # (20 + -10) / 2
    assert s["early_halt_rate"] == 0.5
    # risk = 1 - min_score: positives .9 .8 .1, negatives .05 .7; only .1 < .7 loses.
    assert s["auroc"] == pytest.approx(5 / 6)
    assert s["halt_reasons"] == {"unsupported": 3}
    report = quality_report(results, 0.05)
    assert set(report["by_dataset"]) == {"a", "b"}
    assert report["by_dataset"]["a"]["false_halt_rate"] is None


def test_false_halts_are_counted_by_source_document() -> None:
    def doc_record(i: int, doc: str, label: int = 0) -> Record:
        return Record(f"s-{i}", "summedits-x", "ctx", None, "response text", label, None,
                      doc_id=doc)

    results = [_result(doc_record(1, "d1"), halted=True, min_score=0.1),
               _result(doc_record(2, "d1"), halted=True, min_score=0.1),
               _result(doc_record(3, "d1"), halted=False, min_score=0.9),
               _result(doc_record(4, "d2"), halted=False, min_score=0.9),
               _result(doc_record(5, "d3", label=1), halted=True, min_score=0.1),
               _result(_record(6, "b"), halted=True, min_score=0.1)]  # no document: not counted
    s = summarize(results, 0.05)
    assert s["supported_documents"] == 2  # d3 has no supported record
    assert s["false_halts_by_document"] == {"d1": {"supported": 3, "halted": 2}}


def test_api_key_is_redacted_from_the_recorded_command() -> None:
    assert redacted_command(["eval", "--api-key", "secret", "x", "--api-key=s2"]) == \
        "eval --api-key '***' x '--api-key=***'"


# --- end to end over a real WebSocket ------------------------------------------------------------

FACTS = [
    ("The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France.",
     "The Eiffel Tower was completed in 1889. It is 330 metres tall.",
     "Napoleon Bonaparte designed its golden spiral staircases in 1712 for Venetian merchants."),
    ("Marie Curie won the Nobel Prize in Physics in 1903 and the Nobel Prize in Chemistry in "
     "1911. She was born in Warsaw.",
     "Marie Curie was born in Warsaw. She won the Nobel Prize in Chemistry in 1911.",
     "Later she founded Microsoft in Seattle together with Johann Sebastian Bach in 1975."),
    ("The Amazon river flows through Peru, Colombia and Brazil into the Atlantic Ocean. It "
     "carries more water than any other river.",
     "The Amazon flows through Peru, Colombia and Brazil. It carries more water than any "
     "other river.",
     "Its source lies beneath Mount Kilimanjaro, where Viking sailors discovered 42 golden "
     "pyramids."),
    ("Python was created by Guido van Rossum and first released in 1991. Its design emphasises "
     "code readability.",
     "Python was created by Guido van Rossum. It was first released in 1991.",
     "Queen Victoria rewrote its compiler in Fortran during the Crimean War of 1853."),
]


def _planted_records() -> list[dict[str, Any]]:
    """Per fact: a supported response, and a response that goes off the evidence at a known
    onset (the first sentence is true, the second invented)."""
    out = []
    for i, (context, supported, invented) in enumerate(FACTS):
        dataset = "toy-a" if i % 2 else "toy-b"
        first = supported.split(". ")[0] + ". "
        out.append({"id": f"s{i}", "dataset": dataset, "context": context,
                    "prompt": "Tell me about it.", "response": supported, "label": 0,
                    "onset": None})
        out.append({"id": f"h{i}", "dataset": dataset, "context": context, "prompt": None,
                    "response": first + invented, "label": 1, "onset": len(first)})
    return out


def _write(tmp_path: Path) -> tuple[Path, Path]:
    rows = _planted_records()
    # One record the server must refuse (no evidence): an error of its own, not of the run.
    rows.append({"id": "bad", "dataset": "toy-a", "context": "  ", "prompt": None,
                 "response": "Anything at all.", "label": 0, "onset": None})
    plain, packed = tmp_path / "part1.jsonl", tmp_path / "part2.jsonl.gz"
    plain.write_text("".join(json.dumps(r) + "\n" for r in rows[:5]))
    with gzip.open(packed, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows[5:])
    return plain, packed


REQUIRED = {"n", "precision", "recall", "f1", "balanced_accuracy", "false_halt_rate", "auroc",
            "halt_delay_chars_median", "early_halt_rate"}


def test_in_process_run_reports_halts_on_planted_hallucinations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STREAM_GUARD_TIER", "lexical")
    monkeypatch.setenv("STREAM_GUARD_DATA_DIR", str(tmp_path / "data"))
    plain, packed = _write(tmp_path)
    # folders not made yet: the report was lost to a traceback after the whole run (a review)
    out, per_record = tmp_path / "out" / "report.json", tmp_path / "rows" / "records.jsonl"
    assert main([str(plain), str(packed), "--report", str(out), "--per-record",
                 str(per_record), "--concurrency", "4"]) == 0
    report = orjson.loads(out.read_bytes())

    overall = report["overall"]
    assert set(overall) >= REQUIRED
    assert set(report["by_dataset"]) == {"toy-a", "toy-b"}
    assert all(set(figures) >= REQUIRED for figures in report["by_dataset"].values())
    assert (overall["n"], overall["errors"], overall["error_codes"]) == (8, 1, {"bad_frame": 1})
    assert (overall["tp"], overall["fp"], overall["tn"], overall["fn"]) == (4, 0, 4, 0)
    assert overall["precision"] == overall["recall"] == overall["f1"] == 1.0
    assert overall["false_halt_rate"] == 0.0 and overall["auroc"] == 1.0
    assert overall["early_halt_rate"] == 0.0  # every halt is on the invented sentence
    assert overall["halt_window_overrun_chars_median"] > 0
    assert overall["n_onset_halts"] == 4 and overall["halt_delay_chars_median"] > 0

    assert report["settings"]["tier"] == "lexical"
    assert report["settings"]["api_keys"]["tenants"] == ["default"]  # generated, redacted
    assert report["server"]["mode"] == "in-process"
    assert report["throughput"]["records_per_s"] > 0 and report["throughput"]["windows_per_s"] > 0
    assert report["selection"]["records_read"] == 9
    assert {"machine", "command", "elapsed_s"} <= set(report)

    lines = [orjson.loads(line) for line in per_record.read_text().splitlines()]
    halted = {line["id"]: line for line in lines if line["halted"]}
    assert set(halted) == {"h0", "h1", "h2", "h3"}
    assert all(h["halt_at"] == h["onset"] for h in halted.values())
    assert "overall" in capsys.readouterr().out


@pytest.mark.slow
def test_records_are_checked_against_a_collection_instead_of_their_own_context(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--collection``: every stream names the collection and sends no context, so the run
    measures retrieval too. The records' contexts here support nothing: streamed inline,
    every supported record would halt. Records checked against a collection need no context
    of their own; without ``--collection`` a record that has none is refused."""
    from stream_guard.cli import main as cli

    data_dir = tmp_path / "data"
    for name, value in (("TIER", "lexical"), ("EMBEDDER", "minilm"),
                        ("DATA_DIR", str(data_dir)), ("CACHE_DIR", str(model_cache))):
        monkeypatch.setenv(f"STREAM_GUARD_{name}", value)
    facts = tmp_path / "facts.jsonl"
    facts.write_text("".join(json.dumps({"id": f"fact-{i}", "text": context}) + "\n"
                             for i, (context, _, _) in enumerate(FACTS)))
    assert cli(["index", "add", "--collection", "facts", "--no-progress", str(facts)]) == 0
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({**r, "context": "Nothing to do with it."}) + "\n"
                               for r in _planted_records()))
    out = tmp_path / "report.json"
    assert main([str(records), "--collection", "facts", "--report", str(out)]) == 0
    report = orjson.loads(out.read_bytes())
    overall = report["overall"]
    assert (overall["tp"], overall["fp"], overall["tn"], overall["fn"]) == (4, 0, 4, 0)
    assert report["replay"]["collection"] == "facts"
    # another tenant's collection: every stream is refused, and the run says it measured nothing
    assert main([str(records), "--collection", "facts", "--tenant", "someone-else"]) == 1
    # --tenant names the in-process server's tenant; without --collection it means nothing
    assert main([str(records), "--tenant", "someone-else"]) == 2
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "context"}) + "\n"
                            for r in _planted_records()))
    assert main([str(bare), "--collection", "facts", "--report", str(out)]) == 0
    overall = orjson.loads(out.read_bytes())["overall"]
    assert (overall["tp"], overall["fp"], overall["tn"], overall["fn"]) == (4, 0, 4, 0)
    assert main([str(bare)]) == 2
    assert "missing field 'context'" in capsys.readouterr().err


async def test_remote_replay_keeps_to_limits_and_paces(
        settings_factory: Callable[..., Settings]) -> None:
    """Against a server started elsewhere: two streams per connection, connections replaced
    before their character budget runs out, a paced stream halted soon after its onset."""
    # The invented sentence is followed by more text, so a halt can only come early if it is
    # sent while the stream is still arriving.
    records = [Record(str(r["id"]), str(r["dataset"]), str(r["context"]), r["prompt"],
                      str(r["response"]) + (" " + str(r["response"]).split(". ")[0] + ".") * 4,
                      int(r["label"]), r["onset"])
               for r in _planted_records()]
    async with running_server(settings_factory(max_streams_per_connection=2,
                                               max_chars_per_connection=700)) as server:
        options = ReplayOptions(concurrency=3, streams_per_connection=2,
                                chars_per_connection=700, messages_per_s=2000.0,
                                tokens_per_s=200.0)
        outcome = await Replayer(records, ws_url(server.port), API_KEY, options).run()
        with pytest.raises(ReplayError, match="401"):
            await Replayer(records[:1], ws_url(server.port), "wrong-key-cccccccccccc",
                           options).run()
    assert all(r.error is None for r in outcome.results), outcome.results
    assert outcome.connections_opened > options.connections  # budget forced replacements
    assert not outcome.stray_errors
    for r in outcome.results:
        assert r.halted == bool(r.record.label)
        if r.halted:
            assert r.record.onset is not None and r.chars_at_halt is not None
            # Paced: the halt arrives after the onset, while the rest is still being streamed.
            assert r.record.onset < r.chars_at_halt < len(r.record.response)


async def test_cli_evaluates_a_running_server_by_url(
        server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--url`` with the key from the environment; the command runs its own event loop, so it
    runs in a thread while this loop serves."""
    plain, packed = _write(tmp_path)
    out = tmp_path / "remote.json"
    argv = [str(plain), str(packed), "--url", ws_url(server.port), "--report", str(out)]
    monkeypatch.delenv("STREAM_GUARD_API_KEY", raising=False)
    assert await asyncio.to_thread(main, argv) == 2  # no key: refused before connecting
    monkeypatch.setenv("STREAM_GUARD_API_KEY", API_KEY)
    assert await asyncio.to_thread(main, argv) == 0
    report = orjson.loads(out.read_bytes())
    assert report["server"] == {"mode": "remote", "url": ws_url(server.port)}
    assert report["settings"] is None  # a remote server's settings are not known here
    overall = report["overall"]
    assert (overall["n"], overall["errors"], overall["recall"]) == (8, 1, 1.0)
    assert overall["false_halt_rate"] == 0.0
    # The server's address alone, as the client library and locust take it, is the same.
    base = f"http://127.0.0.1:{server.port}"
    assert await asyncio.to_thread(main, [*argv[:3], base, *argv[4:]]) == 0
    assert orjson.loads(out.read_bytes())["server"]["url"] == ws_url(server.port)
    assert await asyncio.to_thread(main, [*argv[:3], "ftp://x", *argv[4:]]) == 2


def test_a_run_where_every_record_failed_is_no_success(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """It exited 0 with a table of dashes (a detector that could not score did that)."""
    monkeypatch.setenv("STREAM_GUARD_TIER", "lexical")
    monkeypatch.setenv("STREAM_GUARD_DATA_DIR", str(tmp_path / "data"))
    records = tmp_path / "no-context.jsonl"  # every start is refused: nothing to check against
    records.write_text("".join(json.dumps({"id": f"r{i}", "dataset": "toy", "context": "",
                                           "response": "The sky is green.", "label": 1,
                                           "onset": 0}) + "\n" for i in range(3)))
    out = tmp_path / "report.json"
    assert main([str(records), "--report", str(out)]) == 1
    assert "every record failed (the first: bad_frame)" in capsys.readouterr().err
    assert orjson.loads(out.read_bytes())["overall"]["errors"] == 3  # the report is written


def test_an_output_that_cannot_be_written_is_refused_before_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A directory or an unwritable place as --report / --per-record: the whole replay ran,
    then a traceback, and the results were lost. Now one line and exit 2, before any record
    is replayed, and nothing is left behind."""
    monkeypatch.setenv("STREAM_GUARD_TIER", "lexical")
    monkeypatch.setenv("STREAM_GUARD_DATA_DIR", str(tmp_path / "data"))
    plain, _ = _write(tmp_path)
    folder, report = tmp_path / "a-folder", tmp_path / "out" / "report.json"
    folder.mkdir()
    for args, why in ((["--report", str(folder)], f"--report {folder}: is a directory"),
                      (["--report", "/proc/sg-report.json"],
                       "--report /proc/sg-report.json: cannot be written"),
                      (["--report", str(report), "--per-record", str(folder)],
                       f"--per-record {folder}: is a directory")):
        assert main([str(plain), *args]) == 2
        captured = capsys.readouterr()
        assert captured.err.splitlines() == [captured.err.splitlines()[0]]
        assert captured.err.startswith(f"stream-guard eval: {why}")
        assert "records in" not in captured.out  # refused before the replay
    assert not report.exists() and list(report.parent.iterdir()) == []  # no temporary file


def test_results_are_renamed_into_place_and_a_late_write_error_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The results go through a temporary file renamed over the old one; a folder that went
    away during the run is one line at the end (exit 1), not a traceback."""
    from stream_guard.eval import cli

    monkeypatch.setenv("STREAM_GUARD_TIER", "lexical")
    monkeypatch.setenv("STREAM_GUARD_DATA_DIR", str(tmp_path / "data"))
    plain, _ = _write(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.json"
    report.write_text("the last run's report")
    assert main([str(plain), "--report", str(report)]) == 0
    assert orjson.loads(report.read_bytes())["overall"]["n"] == 5
    assert [p.name for p in out.iterdir()] == ["report.json"]

    real_report = cli.quality_report

    def folder_removed_during_the_run(*args: Any) -> dict[str, Any]:
        shutil.rmtree(out)
        return real_report(*args)

    monkeypatch.setattr(cli, "quality_report", folder_removed_during_the_run)
    assert main([str(plain), "--report", str(report)]) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"\nstream-guard eval: --report {report}: cannot be written (No such "
                        "file or directory); the results are lost\n")
    assert err.count("stream-guard eval:") == 1 and "Traceback" not in err


def _gzipped_records() -> bytes:
    """Records as gzip data whose header is its 10 fixed bytes (no file name in it)."""
    return gzip.compress("".join(json.dumps(r) + "\n" for r in _planted_records() * 40)
                         .encode())


def test_damaged_gzip_records_name_the_file_and_line(tmp_path: Path) -> None:
    """A truncated or corrupt .jsonl.gz was an EOFError or zlib.error traceback, and a file
    that is not gzip at all a message without the file's name."""
    whole = _gzipped_records()
    (tmp_path / "whole.jsonl.gz").write_bytes(whole)
    corrupt = bytearray(whole)
    corrupt[10] = 0b111  # the first deflate block's header: a block type that does not exist
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps(_planted_records()[0]) + "\n")
    cases = {"truncated.jsonl.gz": (whole[: len(whole) // 2], r":\d+: not readable gzip data "
                                    r"\(Compressed file ended before the end-of-stream marker"),
             "corrupt.jsonl.gz": (bytes(corrupt), r":1: not readable gzip data \(Error -3 while "
                                  r"decompressing data: invalid block type\)"),
             "not-gzip.jsonl.gz": (plain.read_bytes(), r":1: not readable gzip data \(Not a "
                                   r"gzipped file")}
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(RecordError, match=re.escape(str(path)) + message):
            read_records(path)
    assert len(read_records(tmp_path / "whole.jsonl.gz")) == 8 * 40  # the whole file reads


def test_eval_reports_a_damaged_gzip_file_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truncated = tmp_path / "truncated.jsonl.gz"
    whole = _gzipped_records()
    truncated.write_bytes(whole[: len(whole) // 2])
    assert main([str(truncated)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stream-guard eval: {truncated}:") and err.count("\n") == 1


async def test_the_in_process_server_turns_off_every_guard_of_a_live_servers_time(
        settings_factory: Callable[..., Settings]) -> None:
    """A replay runs faster than real time: deadlines, rate limits and overload refusals would
    make its figures depend on the machine's load. The overload queue was left on (a review):
    a high --concurrency could get `overloaded` starts."""
    from stream_guard.eval.local import local_server

    async with local_server(settings_factory(tier="lexical"), connections=4,
                            tenant="eval") as local:
        s = local.settings
        assert s.verdict_deadline_ms == 0.0 and s.overload_lag_ms == 0.0
        assert s.overload_queue == 1_000_000 and s.rate_per_s >= 1e9
        assert local.overrides["overload_queue"] == 1_000_000  # said in the report


def test_an_exported_tree_knows_its_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmarks are run from `git archive` snapshots, where git cannot say the revision (a
    review: `server_revision` was null in every result): the archive fills the package's
    REVISION file in; a checkout's unfilled file says nothing."""

    from stream_guard.eval import results

    root = Path(__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    exported = subprocess.run(f"git -C {root} archive HEAD stream_guard/REVISION | tar -xO",
                              shell=True, capture_output=True, text=True, check=True)
    assert exported.stdout.strip() == head.stdout.strip()

    def no_git(*_args: object, **_kwargs: object) -> None:
        raise OSError("no git")

    monkeypatch.delenv("LOADTEST_SERVER_REVISION", raising=False)
    monkeypatch.setattr(subprocess, "run", no_git)
    assert results.code_revision() is None  # this checkout's file is not filled in


def test_a_revision_with_uncommitted_changes_says_so(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: a load test of uncommitted code was credited to the commit below it."""
    import stream_guard
    from stream_guard.eval import results

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    package = tmp_path / "stream_guard"
    package.mkdir()
    (package / "__init__.py").write_text("")

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c",
                               "user.email=t@t", *args], capture_output=True, text=True,
                              check=True).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "one")
    monkeypatch.delenv("LOADTEST_SERVER_REVISION", raising=False)
    monkeypatch.setattr(stream_guard, "__file__", str(package / "__init__.py"))
    head = git("rev-parse", "--short", "HEAD")
    assert results.code_revision() == head
    (package / "__init__.py").write_text("x = 1\n")
    assert results.code_revision() == f"{head}-dirty"
