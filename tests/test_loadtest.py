"""The load generator end to end: a spawned server, real WebSocket streams, a result JSON."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from loadtest.corpus import (
    ScriptBuilder,
    StreamScript,
    fabricated_sentence,
    load_answers,
    tokenize,
    usable_sentences,
)
from loadtest.stats import compare_rows, summarize

ROOT = Path(__file__).resolve().parents[1]

PARAGRAPHS = [
    "The Brooklyn Bridge opened to traffic on May 24, 1883. It was designed by John A. "
    "Roebling, who died before construction began. His son Washington Roebling took over the "
    "project and directed it from his apartment. Emily Warren Roebling carried his instructions "
    "to the engineers on site. The main span is 486 metres long and was the longest in the world "
    "at the time. About 150,000 people crossed the bridge on its first day.",
    "Marie Curie was born in Warsaw in 1867 and moved to Paris in 1891. She studied physics and "
    "mathematics at the University of Paris. Together with Pierre Curie she discovered polonium "
    "and radium in 1898. She received the Nobel Prize in Physics in 1903 with Pierre Curie and "
    "Henri Becquerel. In 1911 she won a second Nobel Prize, this time in Chemistry. She remains "
    "the only person honoured with Nobel Prizes in two different sciences.",
    "The Amazon River flows through Peru, Colombia and Brazil before reaching the Atlantic. Its "
    "basin covers roughly seven million square kilometres of South America. The river carries "
    "more water than the next seven largest rivers combined. During the wet season parts of the "
    "river grow to more than 40 kilometres wide. No bridge crosses the main stem of the river "
    "along its entire length. Manaus is the largest city on its banks.",
]


# Faithful answers in words of their own, one per paragraph (``--answers written``), and one
# record each that a written answer must never be drawn from.
ANSWERS = [
    "The Brooklyn Bridge was opened to traffic in May 1883. Its designer, John A. Roebling, "
    "died before construction began, so his son Washington took over the project.",
    "Marie Curie, born in Warsaw in 1867, discovered polonium and radium with Pierre Curie in "
    "1898. She won Nobel Prizes in both physics and chemistry.",
    "The Amazon flows through Peru, Colombia and Brazil to the Atlantic. No bridge crosses its "
    "main stem, and Manaus is the largest city on its banks.",
]
UNUSABLE = [
    ("The Brooklyn Bridge opened in 1883.", 0),  # one sentence: nowhere to plant a claim
    ("Marie Curie was born in Warsaw. She won three Nobel Prizes in Physics.", 1),  # not faithful
]


def _corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    rows = [{"id": str(i), "dataset": "test", "context": text, "prompt": None,
             "response": answer, "label": 0, "onset": None}
            for i, (text, answer) in enumerate(zip(PARAGRAPHS, ANSWERS, strict=True))]
    rows += [{"id": f"u{i}", "dataset": "test", "context": PARAGRAPHS[i], "prompt": None,
              "response": answer, "label": label, "onset": None}
             for i, (answer, label) in enumerate(UNUSABLE)]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    return path


def test_tokens_rebuild_the_text_exactly() -> None:
    text = "Photosynthesis converts light  into chemical energy.\nIt happens in chloroplasts. "
    assert "".join(tokenize(text)) == text
    assert max(len(t) for t in tokenize(text)) <= 7


def test_planted_sentence_starts_where_the_script_says() -> None:
    builder = ScriptBuilder(PARAGRAPHS)
    rng = random.Random(3)
    for _ in range(20):
        script = builder.build(rng, bad=True)
        assert script.bad_at is not None
        assert script.text[script.bad_at:].startswith("According to ")
        assert script.text[script.bad_at - 1] == " "
        # the window holding the planted sentence is completed by a delta, not by ``end``
        window = next(w for w in script.completes if w[0] == script.bad_at)
        assert script.completes[window] < len(script.deltas)


def test_written_answers_are_the_corpus_faithful_responses_whole(tmp_path: Path) -> None:
    """``--answers written``: a stream says one faithful response as its record wrote it (one
    of two sentences or more), checked against the record's whole context; a planted claim
    goes between two of its sentences."""
    answers = load_answers([_corpus(tmp_path)])
    assert [" ".join(a.sentences) for a in answers] == ANSWERS
    assert [a.context for a in answers] == PARAGRAPHS
    builder = ScriptBuilder(PARAGRAPHS, answers=answers)
    rng = random.Random(5)
    for _ in range(20):
        good = builder.build(rng, bad=False)
        assert good.text in ANSWERS and good.context == PARAGRAPHS[ANSWERS.index(good.text)]
        bad = builder.build(rng, bad=True)
        assert bad.bad_at is not None and bad.text[bad.bad_at:].startswith("According to ")
        before, after = bad.text[:bad.bad_at], bad.text[bad.bad_at:].split(". ", 1)[1]
        assert f"{before}{after}" in ANSWERS  # the answer, with one sentence planted in it
        window = next(w for w in bad.completes if w[0] == bad.bad_at)
        assert bad.completes[window] < len(bad.deltas)


@pytest.mark.parametrize(("at", "window", "kind"), [
    (40, (40, 90), "caught"),
    (0, (40, 90), "caught"),  # a run the claim completed, retracted from its first window
    (0, (0, 39), "false"),  # faithful text before the claim, even at the claim's edge
    (0, (0, 40), "false"),
    (40, (91, 140), "caught"),  # a run from the claim's window, halted by the next one
    (0, (91, 140), "caught"),  # a run across the claim, from before it to after it
    (91, (91, 140), "late"),  # past the claim: it went through
    (30, (30, 60), "wrong_offset"),  # a window across the claim's start
    (40, None, "caught"),  # an operator halt judges no window: its offset stands for one
    (10, None, "false"),
])
def test_a_halt_is_judged_by_the_window_that_triggered_it(
        at: int, window: tuple[int, int] | None, kind: str) -> None:
    """Reviews: the server puts a run's halt at the run's first window and names the window
    that ended it, so a claim caught by its own window after a borderline one was counted a
    false halt by its offset, and one whose run the next window ended a miss."""
    script = StreamScript("context", ("text",), 40)
    assert script.judge_halt(at, window) == kind
    assert StreamScript("context", ("text",), None).judge_halt(at, window or (at, at + 1)) == (
        "false")


def test_a_seed_plants_its_claims_where_it_did_before() -> None:
    """A review: trying every slot drew the random numbers otherwise, and a seed no longer gave
    the streams it gave earlier revisions (whose results are compared with new ones)."""
    builder = ScriptBuilder(PARAGRAPHS)
    rng, old = random.Random(11), random.Random(11)
    for _ in range(30):
        bad = old.random() < 0.5
        assert (rng.random() < 0.5) == bad
        # the draws of the builder before slots were checked, written out
        context = old.choice(PARAGRAPHS)
        sentences = usable_sentences(context)
        n = min(len(sentences), old.randint(4, 7))
        first = old.randrange(0, len(sentences) - n + 1)
        chosen = sentences[first: first + n]
        bad_at = None
        if bad:
            slot = old.randint(1, len(chosen) - 1)
            bad_at = sum(len(s) + 1 for s in chosen[:slot])
            chosen.insert(slot, fabricated_sentence(old))
        script = builder.build(rng, bad)
        assert (script.context, script.text, script.bad_at) == (
            context, " ".join(chosen), bad_at)


def test_summary_percentiles() -> None:
    s = summarize([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert s["count"] == 100 and s["max"] == 100.0 and s["p50"] == pytest.approx(50.5)
    assert summarize([])["p99"] is None


def _run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    # The generator is under test, not retrieval: BM25 over the inline context keeps the spawned
    # server from loading the embedder.
    env = {**os.environ, "STREAM_GUARD_EMBEDDER": "none",
           **{f"STREAM_GUARD_{k.upper()}": v for k, v in settings.items()}}
    return subprocess.run([sys.executable, "-m", "loadtest.run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.parametrize("answers", ["copied", "written"])
def test_spawned_run_halts_every_planted_claim_and_compares(tmp_path: Path, answers: str) -> None:
    out = tmp_path / "out" / "run.json"  # a folder not made yet, as in the README's command
    proc = _run("--spawn", "--tier", "lexical", "--streams", "4", "--duration", "1",
                "--rate", "120", "--bad-share", "0.5", "--seed", "1", "--ramp", "0.3",
                "--drain-timeout", "15", "--corpus", str(_corpus(tmp_path)), "--out", str(out),
                "--answers", answers)
    assert proc.returncode == 0, proc.stderr
    result = orjson.loads(out.read_bytes())
    assert result["config"]["answers"] == answers
    assert {"config", "machine", "streams", "rates", "latency_ms", "send_lag_ms", "errors",
            "close_codes", "resources", "connections"} <= result.keys()
    streams = result["streams"]
    assert streams["started"] >= 4 and streams["done"] == streams["started"]
    assert streams["bad"] >= 1
    assert streams["halts_correct"] == streams["bad"]
    assert streams["missed_halts"] == 0 and streams["false_halts"] == 0
    assert result["missed_halt_examples"] == result["false_halt_examples"] == []
    assert streams["windows_unmatched"] == 0
    assert result["errors"] == {} and result["connections"]["connect_failures"] == 0
    halt = result["latency_ms"]["halt"]
    assert halt["count"] == streams["bad"] and 0 < halt["p50"] <= halt["max"]
    assert result["latency_ms"]["verdict"]["count"] > streams["done"]
    assert result["resources"]["server"]["rss_max_mb"] > 0
    # the spawned server's own count of its windows: every verdict's, by the lexical tier
    scoring = result["scoring"]
    assert scoring["tier_decisions"] == {"lexical": result["latency_ms"]["verdict"]["count"],
                                         "model": 0}
    assert scoring["degraded_windows"] == 0

    table = _run("--compare", str(out), str(out))
    assert table.returncode == 0, table.stderr
    assert "| latency_ms.halt.p99 |" in table.stdout
    rows = compare_rows(result, result)
    assert all(r is None or r == pytest.approx(1.0) for _, _, _, r in rows)


def test_a_halt_of_a_written_answer_before_its_claim_is_a_false_halt(tmp_path: Path) -> None:
    """A record labelled faithful whose answer the server halts at its first sentence: with a
    claim planted after it, that halt used to count as one at the wrong offset (which fails a
    capacity probe); it is a false halt, the detector's judgement of written text."""
    corpus = tmp_path / "unsupported.jsonl"
    corpus.write_bytes(orjson.dumps({
        "id": "x", "dataset": "test", "context": PARAGRAPHS[2], "prompt": None, "label": 0,
        "onset": None, "response": "Pink river dolphins of the Amazon can weigh 185 kilograms. "
        "Manaus is the largest city on the banks of the Amazon."}) + b"\n")
    out = tmp_path / "run.json"
    proc = _run("--spawn", "--tier", "lexical", "--streams", "2", "--duration", "1",
                "--rate", "120", "--bad-share", "1", "--seed", "1", "--ramp", "0.3",
                "--drain-timeout", "15", "--answers", "written", "--corpus", str(corpus),
                str(_corpus(tmp_path)), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    result = orjson.loads(out.read_bytes())
    assert result["config"]["corpus"] == [str(corpus), str(tmp_path / "corpus.jsonl")]
    streams = result["streams"]
    assert streams["bad"] == streams["done"] >= 2 and streams["halts_wrong_offset"] == 0
    assert streams["false_halts"] >= 1 and streams["false_halts_degraded"] == 0
    assert streams["halts_correct"] + streams["false_halts"] == streams["halted"] == streams["bad"]
    first = len("Pink river dolphins of the Amazon can weigh 185 kilograms. ")
    assert all(e["at"] == 0 and e["window"][1] <= first for e in result["false_halt_examples"])


@pytest.mark.slow
def test_collection_streams_find_their_context_in_an_indexed_corpus(
        tmp_path: Path, model_cache: Path) -> None:
    """``--collection``: no stream sends its context; the spawned server searches a collection
    of every corpus context, indexed once and reused by the next run (capacity's probes)."""
    args = ("--spawn", "--tier", "lexical", "--collection", "--kb-root", str(tmp_path / "kb"),
            "--streams", "4", "--duration", "1", "--rate", "120", "--bad-share", "0.5",
            "--seed", "1", "--ramp", "0.3", "--drain-timeout", "30",
            "--corpus", str(_corpus(tmp_path)))
    settings = {"embedder": "minilm", "cache_dir": str(model_cache)}
    results = []
    for name in ("first", "second"):
        out = tmp_path / f"{name}.json"
        proc = _run(*args, "--out", str(out), **settings)
        assert proc.returncode == 0, proc.stderr
        results.append(orjson.loads(out.read_bytes()))
    for result in results:
        streams = result["streams"]
        assert streams["bad"] >= 1 and streams["halts_correct"] == streams["bad"]
        assert streams["missed_halts"] == 0 and streams["false_halts"] == 0
        assert result["errors"] == {} and streams["windows_unmatched"] == 0
    first, second = (r["config"]["collection"] for r in results)
    assert first == second and first["documents"] == len(PARAGRAPHS)
    assert [p.name for p in (tmp_path / "kb").iterdir()] == [Path(first["data_dir"]).name]
    alone = _run("--collection", "--corpus", str(_corpus(tmp_path)))  # no server of its own
    assert alone.returncode != 0 and "--collection needs --spawn" in alone.stderr
    # nor does a tier without a server to start (it was ignored without a word)
    tier = _run("--tier", "cascade", "--corpus", str(_corpus(tmp_path)))
    assert tier.returncode != 0 and "--tier sets the tier of the server --spawn" in tier.stderr


def test_the_generator_cuts_windows_as_the_spawned_server_is_set_to(tmp_path: Path) -> None:
    """A review: with STREAM_GUARD_WINDOW_MAX_CHARS=150 (which reaches the spawned server) the
    generator kept cutting 400-character windows: most frames were unmatched and some latencies
    negative, and the run still exited 0."""
    out = tmp_path / "run.json"
    proc = _run("--spawn", "--tier", "lexical", "--streams", "4", "--duration", "1",
                "--rate", "120", "--bad-share", "0.5", "--seed", "1", "--ramp", "0.3",
                "--drain-timeout", "15", "--corpus", str(_corpus(tmp_path)), "--out", str(out),
                window_max_chars="60", window_min_chars="20")
    assert proc.returncode == 0, proc.stderr
    streams = orjson.loads(out.read_bytes())["streams"]
    assert streams["windows_unmatched"] == 0 and streams["halts_wrong_offset"] == 0
    assert streams["halts_correct"] == streams["bad"] >= 1


def _probe_result(**streams: int) -> dict[str, Any]:
    """A run's result as the capacity search reads it (its own fields only)."""
    counts = {"missed_halts": 0, "false_halts": 0, "false_halts_degraded": 0, "aborted": 0,
              "windows_unmatched": 0, "halts_wrong_offset": 0, "degraded_share": 0.0,
              **streams}
    halts = counts.pop("halts", 20)
    answers = "written" if counts.pop("written", 0) else "copied"
    return {"config": {"answers": answers}, "streams": counts, "errors": {}, "close_codes": {},
            "connections": {"connect_failures": 0, "cut_at_drain_timeout": counts.pop("cut", 0)},
            "latency_ms": {"halt": {"count": halts, "p99": 50.0 if halts else None},
                           "verdict": {"count": 100}},
            "send_lag_ms": {"p99": 1.0}}


@pytest.mark.parametrize(("streams", "passed", "why"), [
    ({}, True, "halt p99 50.0 ms"),
    ({"aborted": 3, "cut": 1}, False, "3 streams aborted, 1 connections cut"),
    ({"windows_unmatched": 5}, False, "5 frames for windows the script does not cut"),
    ({"halts_wrong_offset": 1}, False, "1 halts at another offset"),
    ({"halts": 1}, None, "inconclusive: 1 halts measured, fewer than 10"),
    ({"false_halts": 1}, False, "missed 0 / false 1 halts"),
    # of written answers, a halt the detector judged is its own (eval measures it), one the
    # load forced on the lexical tier a failure
    ({"false_halts": 2, "written": 1}, True, "halt p99 50.0 ms"),
    ({"false_halts": 2, "false_halts_degraded": 1, "written": 1}, False,
     "missed 0 / false 1 halts"),
])
def test_a_capacity_probe_passes_only_a_clean_measurement(
        streams: dict[str, int], passed: bool | None, why: str) -> None:
    """A review: a server frozen mid-run (streams aborted, cut at the drain timeout), halts at
    the wrong offset, unmatched windows and a p99 of one halt all passed."""
    from loadtest.capacity import verdict

    ok, said = verdict(_probe_result(**streams), 100.0, 25.0, 0.01, min_halts=10)
    assert ok is passed and said.startswith(why), said


def test_the_capacity_search_probes_its_maximum(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: doubling from 3 with --max 8 probed 3 and 6 and stopped, never trying 8. (The
    probes' results are made up: the search, not a server, is under test here.)"""
    from loadtest import capacity

    probed: list[int] = []

    def probe(args: object, n: int) -> dict[str, Any]:
        probed.append(n)
        return _search_result(halts=20)

    monkeypatch.setattr(capacity, "_probe", probe)
    assert capacity.main(["--start", "3", "--max", "8", "--out-dir", str(tmp_path)]) == 0
    assert probed == [3, 6, 8]
    assert orjson.loads((tmp_path / "capacity.json").read_bytes())["max_streams_passing"] == 8


def test_the_capacity_search_stops_at_a_probe_that_measured_no_p99(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A review: an inconclusive probe counted as a failure, the search halved on, and fewer
    streams gave fewer halts, ending at "0 streams" with exit 0."""
    from loadtest import capacity

    probed: list[int] = []

    def probe(args: object, n: int) -> dict[str, Any]:
        probed.append(n)
        return _search_result(halts=30 if n >= 16 else 5, p99=150.0 if n >= 16 else 50.0)

    monkeypatch.setattr(capacity, "_probe", probe)
    assert capacity.main(["--start", "16", "--out-dir", str(tmp_path)]) == 1
    assert probed == [16, 8]
    summary = orjson.loads((tmp_path / "capacity.json").read_bytes())
    assert (summary["max_streams_passing"], summary["first_failing"],
            summary["inconclusive_at"]) == (0, 16, 8)
    assert "too few halts for a p99" in capsys.readouterr().err


def _search_result(halts: int, p99: float = 50.0) -> dict[str, Any]:
    """A probe's result with what the search records of it (made up: the search, not a server,
    is under test)."""
    result = _probe_result(halts=halts)
    result.update(resources={"machine": {"others_cpu_mean_pct": 0.0}},
                  machine={}, config={"duration_s": 1.0, "answers": "copied"},
                  rates={"deltas_per_s": 1.0, "streams_per_s": 1.0})
    result["latency_ms"].update(halt={"count": halts, "p50": 1.0, "p99": p99},
                                verdict={"count": 100, "p50": 1.0, "p99": 2.0})
    return result


def test_a_run_that_never_connects_fails_and_says_why(tmp_path: Path) -> None:
    """A wrong key or URL used to end with exit 0 and a headline of zeros (a new user's walk):
    the connect failures are in the headline, and a run that opened nothing exits 1."""
    from tests.redis_server import free_port

    out = tmp_path / "run.json"
    proc = _run("--url", f"ws://127.0.0.1:{free_port()}/v1/stream", "--api-key",
                "wrong-key-0000000000", "--streams", "2", "--duration", "0.5", "--corpus",
                str(_corpus(tmp_path)), "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "connect_failures=1" in proc.stderr and "no connection was opened" in proc.stderr
    assert orjson.loads(out.read_bytes())["connections"]["opened"] == 0


def test_transport_floor_bench_writes_its_json(tmp_path: Path) -> None:
    """The benchmark of the bare transport ran a handler of the transport's old signature and
    crashed without a file (a review)."""
    out = tmp_path / "transport.json"
    proc = subprocess.run([sys.executable, "-m", "loadtest.bench_transport", "--duration", "1",
                           "--connections", "2", "--rate", "200", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result = orjson.loads(out.read_bytes())
    assert result["received"] == result["sent"] > 0 and result["machine"]


def test_hostile_context_bench_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "hostile.json"
    proc = subprocess.run([sys.executable, "-m", "loadtest.bench_hostile_context", "--chars",
                           "2000", "--repeats", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result = orjson.loads(out.read_bytes())
    assert set(result["cases"]) == {"year_spans", "many_numbers", "matching_sentences",
                                    "scoped_names", "nested_keys", "reference"}
    assert all(case["sentences"] > 0 and case["windows"] > 0
               for case in result["cases"].values())


def test_heads_bench_writes_its_json(tmp_path: Path) -> None:
    """70 trickled heads from one address against a default server: 4 x 16 are held, the rest
    closed as they open, and a new client is served beside them."""
    out = tmp_path / "heads.json"
    proc = subprocess.run([sys.executable, "-m", "loadtest.bench_heads", "--sockets", "70",
                           "--seconds", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr
    result = orjson.loads(out.read_bytes())
    assert result["closed_by_the_server"] == 70 - 64
    assert isinstance(result["samples"][0]["new_client"], float)


@pytest.mark.slow
def test_retrieval_bench_writes_its_json(tmp_path: Path, model_cache: Path) -> None:
    """Every window of the records is timed, alone and in batches, against a real collection."""
    import json

    facts = [("The Eiffel Tower is 330 metres tall. It was completed in 1889.",
              "The tower is 330 metres tall. It was finished in 1889."),
             ("The Golden Gate Bridge opened in 1937.", "The bridge opened in 1937.")]
    docs, records = tmp_path / "docs.jsonl", tmp_path / "records.jsonl"
    docs.write_text("".join(json.dumps({"text": c}) + "\n" for c, _ in facts))
    records.write_text("".join(json.dumps({"context": c, "prompt": "Tell me.", "response": r,
                                           "label": 0}) + "\n" for c, r in facts))
    env = {**os.environ, "STREAM_GUARD_CACHE_DIR": str(model_cache)}
    data_dir, out = tmp_path / "data", tmp_path / "retrieval.json"
    subprocess.run([sys.executable, "-m", "stream_guard", "index", "add", "--data-dir",
                    str(data_dir), "--collection", "facts", "--no-progress", str(docs)],
                   env=env, check=True, capture_output=True, timeout=300)
    proc = subprocess.run([sys.executable, "-m", "loadtest.bench_retrieval", str(records),
                           "--data-dir", str(data_dir), "--collection", "facts", "--every", "1",
                           "--batch", "2", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    result = orjson.loads(out.read_bytes())
    assert result["records"] == 2 and result["lone_window"]["windows"] == 3
    assert result["batches_of_2"]["windows"] == 3 and result["batches_of_2"]["calls"] == 2
    assert result["lone_window"]["ms_per_window_mean"] > 0 and result["machine"]


def test_the_capacity_search_shows_what_each_option_defaults_to() -> None:
    """A review: ``python -m loadtest.capacity --help`` showed no default and no help for most
    of its options."""
    from loadtest.capacity import build_parser

    shown = " ".join(build_parser().format_help().split())
    for option, default in (("--tier", "lexical"), ("--p99-ms", "100.0"),
                            ("--max-send-lag-ms", "25.0"), ("--duration", "30.0"),
                            ("--rate", "30.0"), ("--workers", "1")):
        assert re.search(rf"{option} \S+ .*?\(default: {re.escape(default)}\)", shown), option
    assert "(default: None)" not in shown
