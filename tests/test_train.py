"""Training data handling, pair construction, calibration, and the shipped detector artifact."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest

from stream_guard.config import load_settings
from stream_guard.dataset import (
    Record,
    RecordError,
    assign_splits,
    read_records,
    split_rank,
)
from stream_guard.text.opposites import OPPOSITES
from stream_guard.train.edits import compress, entities, local_edit, nouns
from stream_guard.train.evaluate import score_streams
from stream_guard.train.metrics import auroc, choose_threshold
from stream_guard.train.pairs import (
    SUPPORTED,
    UNSUPPORTED,
    Mix,
    TextPipeline,
    training_examples,
)
from stream_guard.train.wordnet import LEXICON, build, opposites

PIPELINE = TextPipeline.from_settings(load_settings(environ={}))
DETECTOR = Path(__file__).resolve().parents[1] / "stream_guard" / "models" / "detector"

ROW = {"id": "x-1", "dataset": "unit", "context": "The bridge opened in 1932.",
       "prompt": None, "response": "It opened in 1932.", "label": 0, "onset": None}


def _record(response: str, label: int, context: str, rid: str = "r") -> Record:
    return Record(rid, "unit", context, None, response, label, None)


def test_reads_jsonl_and_gz(tmp_path: Path) -> None:
    rows = [ROW, {**ROW, "id": "x-2", "label": 1, "onset": 3, "prompt": "When?"}]
    text = "\n".join(json.dumps(r) for r in rows) + "\n\n"
    (tmp_path / "a.jsonl").write_text(text)
    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as fh:
        fh.write(text)
    plain = read_records(tmp_path / "a.jsonl")
    assert plain == read_records(tmp_path / "a.jsonl.gz")
    assert [r.id for r in plain] == ["x-1", "x-2"]
    assert plain[1].onset == 3 and plain[1].label == 1 and plain[1].prompt == "When?"


def test_id_and_dataset_are_optional(tmp_path: Path) -> None:
    """The README names only context, response and label as required; a record without id or
    dataset was refused ("missing field 'dataset'")."""
    row = {"context": "A fact.", "response": "A fact.", "label": 0}
    (tmp_path / "kb.jsonl.gz").write_bytes(gzip.compress((json.dumps(row) + "\n").encode()))
    (tmp_path / "kb.jsonl").write_text("\n" + json.dumps({**row, "dataset": "mine", "id": None})
                                       + "\n")
    (plain,) = read_records(tmp_path / "kb.jsonl")
    (packed,) = read_records(tmp_path / "kb.jsonl.gz")
    assert (plain.id, plain.dataset) == ("kb:2", "mine")
    assert (packed.id, packed.dataset) == ("kb:1", "kb")


@pytest.mark.parametrize("bad", ["{not json", json.dumps({**ROW, "label": 2}),
                                 json.dumps({k: v for k, v in ROW.items() if k != "context"}),
                                 json.dumps({**ROW, "onset": "7"}), "[1, 2]"])
def test_bad_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(ROW) + "\n" + bad + "\n")
    with pytest.raises(RecordError, match=r"b\.jsonl:2:"):
        read_records(path)


@pytest.mark.parametrize(("bad", "says"), [
    ("caf\xe9".encode("latin-1"), r"b\.jsonl:2: not UTF-8 text \(invalid continuation byte"),
    (b"[" * 100_000 + b"]" * 100_000, r"b\.jsonl:2: not a valid record: JSON nested too deeply"),
    (json.dumps({k: v for k, v in ROW.items() if k != "label"}).encode(),
     r"b\.jsonl:2: not a valid record: missing field 'label'"),
    (json.dumps({**ROW, "onset": -5}).encode(), r"onset -5 is outside the response"),
    (json.dumps({**ROW, "onset": 10_000}).encode(), r"onset 10000 is outside the response"),
])
def test_unreadable_lines_are_named_not_raised_as_they_come(tmp_path: Path, bad: bytes,
                                                            says: str) -> None:
    """Bytes that are not UTF-8, JSON nested past the parser's depth, a missing field and an
    onset outside the response each give a RecordError naming file and line (the CLIs print
    it as one line), not a traceback or a skewed report."""
    path = tmp_path / "b.jsonl"
    path.write_bytes(json.dumps(ROW).encode() + b"\n" + bad + b"\n")
    with pytest.raises(RecordError, match=says):
        read_records(path)


def test_split_is_deterministic_and_about_half() -> None:
    ids = [f"summedits-news-{i}" for i in range(2000)]
    first = ["holdout" if split_rank(i) < 0.5 else "tune" for i in ids]
    assert first == ["holdout" if split_rank(i) < 0.5 else "tune" for i in ids]
    assert 0.45 < first.count("holdout") / len(ids) < 0.55


def test_summedits_records_split_by_document_not_by_record() -> None:
    rows = [Record(f"summedits-news-{i}", "summedits-news", "ctx", None, "r", 0, None,
                   doc_id=f"doc{i % 7}") for i in range(70)]
    sides = assign_splits(rows)
    assert set(sides) == {f"doc{i}" for i in range(7)}
    assert sorted(sides.values()).count("holdout") == 4  # 3.5 rounded half up
    assert Record("x", "d", "c", None, "r", 0, None).split_key == "x"


def test_split_is_stratified_by_dataset_and_independent_of_order() -> None:
    # Four documents per domain, as in SummEdits-dev: each domain gets two on each side.
    rows = [Record(f"{d}-{i}", d, "ctx", None, "r", 0, None, doc_id=f"{d}-doc{i % 4}")
            for d in ("summedits-a", "summedits-b", "summedits-c") for i in range(40)]
    sides = assign_splits(rows)
    for d in ("summedits-a", "summedits-b", "summedits-c"):
        held = [k for k, side in sides.items() if k.startswith(d) and side == "holdout"]
        assert len(held) == 2
    assert assign_splits(list(reversed(rows))) == sides


def test_local_edits_change_one_fact() -> None:
    rng = random.Random(0)
    pool = entities("Alice Brown met Carol White in Paris. It cost 340 dollars.")
    assert "340" in pool and "Carol White" in pool
    seen: set[str] = set()
    for _ in range(80):
        edited = local_edit("Alice Brown paid 120 dollars to Carol White and was happy.", pool,
                            rng)
        assert edited is not None
        assert edited[0] != "Alice Brown paid 120 dollars to Carol White and was happy."
        seen.add(edited[1])
    assert {"number", "number-swap", "entity", "negation", "roles"} <= seen
    assert local_edit("ok then", [], rng) is None


def test_common_nouns_and_antonyms_are_edited_from_the_lexicon() -> None:
    context = ("The hotel replaced the curtains and the carpets in every room. "
               "The manager responded quickly to the complaint.")
    pool = entities(context) + nouns(context)
    assert {"hotel", "curtains", "carpets", "manager", "complaint"} <= set(pool)
    assert "every" not in pool and "responded" not in pool
    rng = random.Random(3)
    edits: dict[str, set[str]] = {}
    for _ in range(60):
        edited = local_edit("The manager responded quickly to the complaint.", pool, rng)
        assert edited is not None
        edits.setdefault(edited[1], set()).add(edited[0])
    # A noun of the same document, singular for singular; WordNet's antonym of the adverb.
    assert edits["noun-swap"] <= {f"The {noun} responded quickly to the complaint."
                                  for noun in ("hotel", "room")} | {
        f"The manager responded quickly to the {noun}." for noun in ("hotel", "room")}
    assert len(edits["noun-swap"]) >= 2
    assert edits["antonym"] == {"The manager responded slowly to the complaint."}
    # The article follows the noun put in.
    swapped = {local_edit("An hour later a manager came.", ["hour", "answer", "report"],
                          random.Random(seed)) for seed in range(40)}
    assert ("A report later a manager came.", "noun-swap") in swapped
    assert ("An hour later an answer came.", "noun-swap") in swapped
    # "loss" is singular though it ends in "s", "people" plural though it does not; a word
    # after "that" is no noun slot ("that have" is a verb).
    rng2 = random.Random(5)
    pool2 = ["losses", "loss", "budget", "people", "workers", "have"]
    seen2 = {local_edit("The loss hit the people that have jobs.", pool2, rng2)
             for _ in range(60)}
    swaps = {e[0] for e in seen2 if e is not None and e[1] == "noun-swap"}
    assert swaps == {"The budget hit the people that have jobs.",
                     "The loss hit the workers that have jobs.",
                     "The loss hit the losses that have jobs."}
    # Names and hyphenated words keep their parts: only "cheap" here is an antonym's.
    antonyms = {local_edit("The Very Large Telescope needs a follow-up, cheap and soon.", [],
                           random.Random(seed)) for seed in range(20)}
    assert {e for e in antonyms if e is not None and e[1] == "antonym"} == {
        ("The Very Large Telescope needs a follow-up, expensive and soon.", "antonym")}
    # Plural for plural: the only other plural is in the sentence already, so no noun swap.
    for _ in range(30):
        edited = local_edit("They cleaned the curtains and the carpets.", pool, rng)
        assert edited is None or edited[1] != "noun-swap"


def test_lexicon_is_built_from_wordnet_files(tmp_path: Path) -> None:
    """The committed lexicon's builder reads WordNet's files: antonym pointers resolved to the
    target synset's word (a satellite's too), kept to words read one way only; nouns that are
    never adjectives, compared adjectives, modals, mostly verbs or a verb's form."""
    header = "  1 This software and database is being provided to you\n"
    (tmp_path / "data.adj").write_text(
        header + "00000001 00 a 01 quick(a) 0 001 ! 00000002 s 0101 | fast\n"
        "00000002 00 s 01 slow 0 001 ! 00000001 a 0101 | not fast\n"
        "00000005 00 a 01 green 0 000 | a colour\n"
        "00000007 00 a 01 fine 0 001 ! 00000008 a 0101 | thin\n"
        "00000008 00 a 01 coarse 0 001 ! 00000007 a 0101 | thick\n"
        "00000009 00 a 01 touched 0 001 ! 00000010 a 0101 | moved\n"
        "00000010 00 a 01 untouched 0 001 ! 00000009 a 0101 | not moved\n"
        "00000011 00 a 01 low 0 000 | not high\n")
    (tmp_path / "data.verb").write_text(
        header + "00000003 00 v 01 gain 0 001 ! 00000004 v 0101 | come to have\n"
        "00000004 00 v 01 lose 0 001 ! 00000003 v 0101 | fail to keep\n"
        "00000012 00 v 02 touch 0 have 0 000 | feel\n"
        "00000013 00 v 01 report 0 000 | tell\n")
    (tmp_path / "data.noun").write_text(
        header + "00000006 00 n 07 curtain 0 green 0 fine 0 lower 0 will 0 have 0 report 0 000 "
        "| a hanging cloth\n")
    (tmp_path / "data.adv").write_text(header)
    (tmp_path / "index.noun").write_text(
        header + "have n 1 0 1 0 00000006\nreport n 1 0 1 4 00000006\n")
    (tmp_path / "index.verb").write_text(
        header + "have v 1 0 1 19 00000012\nreport v 1 0 1 6 00000013\n")
    for name in ("adj.exc", "adv.exc"):
        (tmp_path / name).write_text("")
    (tmp_path / "verb.exc").write_text("lost lose\n")
    vocabulary = {"quick", "slow", "gain", "lose", "fine", "coarse", "touched", "untouched",
                  "curtain", "green", "lower", "will", "have", "report"}
    built = build(tmp_path, vocabulary)
    assert built["antonyms"] == {"quick": ["slow"], "slow": ["quick"]}
    assert built["nouns"] == ["curtain", "report"]
    committed = json.loads(LEXICON.read_text(encoding="utf-8"))
    assert "Princeton University" in committed["license"]
    assert committed["antonyms"]["quickly"] == ["slowly"]


def test_opposites_are_built_from_wordnet_files(tmp_path: Path) -> None:
    """The server's opposites: antonyms in any part of speech, those of a derived word, those
    of an adjective cluster's head (not its satellites), and irregular forms of the words."""
    header = "  1 This software and database is being provided to you\n"
    (tmp_path / "data.adj").write_text(
        header + "00000001 00 a 01 wide 0 002 ! 00000002 a 0101 & 00000003 s 0000 | broad\n"
        "00000002 00 a 01 narrow 0 002 ! 00000001 a 0101 & 00000004 s 0000 | not wide\n"
        "00000003 00 s 01 spacious 0 001 & 00000001 a 0000 | roomy\n"
        "00000004 00 s 01 cramped 0 001 & 00000002 a 0000 | tight\n")
    (tmp_path / "data.verb").write_text(
        header + "00000005 00 v 01 rise 0 002 ! 00000006 v 0101 + 00000007 n 0101 | go up\n"
        "00000006 00 v 01 fall 0 001 ! 00000005 v 0101 | go down\n")
    (tmp_path / "data.noun").write_text(
        header + "00000007 00 n 01 riser 0 001 + 00000005 v 0101 | one who rises\n")
    (tmp_path / "data.adv").write_text(header)
    for name in ("noun", "adj", "adv"):
        (tmp_path / f"{name}.exc").write_text("")
    (tmp_path / "verb.exc").write_text("rose rise\nfell fall\nwent go\n")
    built = opposites(tmp_path, {"wide", "narrow", "spacious", "cramped", "rise", "fall",
                                 "riser"})
    assert built["opposites"] == {"wide": ["narrow"], "narrow": ["wide"],
                                  "spacious": ["narrow"], "cramped": ["wide"],
                                  "rise": ["fall"], "fall": ["rise"], "riser": ["fall"]}
    assert built["irregular"] == {"fell": ["fall"], "rose": ["rise"]}
    committed = json.loads(OPPOSITES.read_text(encoding="utf-8"))
    assert "Princeton University" in committed["license"]
    assert "decrease" in committed["opposites"]["increase"]


def test_compression_drops_a_clause_and_keeps_the_claim() -> None:
    rng = random.Random(0)
    short = compress("The museum, which opened in 1901, holds 4000 paintings.", rng)
    assert short == "The museum holds 4000 paintings."
    assert compress("According to the guide, the museum holds 4000 paintings.", rng) == \
        "The museum holds 4000 paintings."
    assert compress("It holds paintings.", rng) is None


def test_pairs_label_windows_by_onset_and_least_covered_window() -> None:
    context = ("The museum opened in 1901 in Leeds. It holds 4000 paintings. "
               "Its director is Maria Lopez.")
    right = _record("The museum opened in 1901 in Leeds. It holds 4000 paintings.", 0, context, "a")
    wrong = _record("The museum opened in 1901 in Leeds. Its founder sailed to Peru on a yacht.",
                    1, context, "b")
    edited = Record("c", "unit", context, None,
                    "The museum opened in 1901 in Leeds. It holds 5000 paintings.", 1,
                    len("The museum opened in 1901 in Leeds. It holds "))
    none = Mix(edit_window=0, context_sentence=0, edit_context=0, off_topic=0)
    examples = training_examples([right, wrong, edited], random.Random(1), PIPELINE, mix=none)
    got = {(e.group, e.hypothesis): e.label for e in examples}
    assert got == {
        ("a", "The museum opened in 1901 in Leeds."): SUPPORTED,
        ("a", "It holds 4000 paintings."): SUPPORTED,
        ("b", "Its founder sailed to Peru on a yacht."): UNSUPPORTED,
        ("c", "The museum opened in 1901 in Leeds."): SUPPORTED,
        ("c", "It holds 5000 paintings."): UNSUPPORTED,
    }
    every = training_examples([right, wrong], random.Random(1), PIPELINE,
                              mix=Mix(edit_window=1, context_sentence=1, edit_context=1))
    assert all(e.label == UNSUPPORTED for e in every if e.kind.startswith("edit-"))
    assert all(e.label == SUPPORTED for e in every if e.kind.startswith("context"))
    assert any(e.kind.startswith("edit-window") for e in every)


def test_trainer_pairs_are_exactly_what_the_server_scores() -> None:
    """The trainer's windows and premises equal the engine's for the same record."""
    from stream_guard.metrics import Metrics
    from stream_guard.protocol.frames import ContextItem
    from stream_guard.scoring.engine import CheckJob, EngineConfig, GroundingEngine, StreamRequest

    context = ("The bridge opened to traffic in 1937 after four years of work. Its main span is "
               "1,280 metres long.\n\nIt was the longest suspension bridge in the world until "
               "1964, when the Verrazzano bridge opened. About 112,000 vehicles cross it each "
               "day. " * 3)
    response = ("The bridge opened in 1937. Its span of 1,280 metres was the longest until 1964. "
                "Around 112,000 cars cross daily, says the city.")
    record = _record(response, 0, context)
    pipeline = PIPELINE
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    evidence = engine.prepare(StreamRequest("t", [ContextItem("context", context)], None))
    windows = pipeline.windows(response)
    served = engine.align([CheckJob(evidence, w.text, w.previous) for w in windows])
    trained = pipeline.align(record)
    assert [a.window.text for a in trained] == [a.text for a in served]
    assert [a.premise.text for a in trained] == [a.premise.text for a in served]
    assert all(a.premise.text and len(a.premise.text) <= 400 for a in trained)


async def test_trainer_windows_follow_the_window_settings_as_the_server_does(
        tmp_path: Path) -> None:
    """Training, evaluation and calibration cut windows by the same settings as serving: the
    trainer's pipeline had 400/12 built in, so a server run with other window sizes scored
    windows of shapes its detector was never trained or calibrated on. Here a real server with
    60/20 and the trainer's pipeline from the same settings agree on every window."""
    from tests.conftest import make_settings, running_server
    from tests.wsclient import open_ws, stream_text

    settings = make_settings(tmp_path, window_max_chars=60, window_min_chars=20)
    pipeline = TextPipeline.from_settings(settings)
    context = "The bridge opened to traffic in 1937. Its main span is 1,280 metres long."
    response = ("Yes. The bridge opened to traffic in 1937, and its main span is 1,280 metres "
                "long. It opened in 1937.")
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", response, context=[context])
    served = [(f["start"], f["end"]) for f in frames if f["type"] == "verdict"]
    assert served == [(w.start, w.end) for w in pipeline.windows(response)]
    assert frames[-1]["halted"] is False
    assert len(served) >= 3 and max(end - start for start, end in served) <= 60
    assert TextPipeline.from_settings(load_settings(environ={})).windows(response) != \
        pipeline.windows(response)


def test_stream_score_is_the_least_supported_window() -> None:
    rec = _record("The museum opened in 1901. It holds 4000 paintings.", 1,
                  "The museum opened in 1901. It holds 4000 paintings.")
    seen: list[tuple[str, str]] = []

    def support(pairs: list[tuple[str, str]]) -> list[float]:
        seen.extend(pairs)
        return [0.9, 0.2][: len(pairs)]

    assert score_streams([rec], support, PIPELINE) == [0.2]  # type: ignore[arg-type]
    assert [h for _, h in seen] == ["The museum opened in 1901.", "It holds 4000 paintings."]


def test_threshold_keeps_false_halts_within_cap_per_dataset() -> None:
    rng = np.random.default_rng(0)
    groups = []
    for shift in (0.2, 0.4):
        y = [0] * 100 + [1] * 100
        s = list(np.r_[rng.uniform(shift, 1, 100), rng.uniform(0, 0.6, 100)])
        groups.append((s, y))
    point = choose_threshold(groups, max_false_halt=0.05)
    for s, y in groups:
        supported = np.asarray(s)[np.asarray(y) == 0]
        assert (supported < point.threshold).mean() <= 0.05
    assert point.balanced_accuracy > 0.6
    assert auroc([0.1, 0.2, 0.9], [1, 1, 0]) == 1.0


# --- the shipped artifact ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector() -> tuple[object, object, dict[str, object]]:
    import onnxruntime as ort

    from stream_guard.train.encoding import pair_tokenizer

    if not (DETECTOR / "model.onnx").is_file():
        pytest.fail(f"{DETECTOR}/model.onnx is missing: run python -m stream_guard.train")
    meta = json.loads((DETECTOR / "detector.json").read_text())
    session = ort.InferenceSession(str(DETECTOR / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    tok = pair_tokenizer(DETECTOR)
    return session, tok, meta


def test_artifact_matches_recorded_hash_and_size() -> None:
    from stream_guard.models.packaged import sha256_file

    meta = json.loads((DETECTOR / "detector.json").read_text())
    digest = sha256_file(DETECTOR / "model.onnx")
    assert digest == meta["model_sha256"]
    assert digest in (DETECTOR / "MODEL_CARD.md").read_text()
    total = sum(p.stat().st_size for p in DETECTOR.iterdir())
    assert total <= 30 * 1024 * 1024
    config = json.loads((DETECTOR / "config.json").read_text())
    assert config["id2label"] == {"0": "unsupported", "1": "supported"}
    assert 0.0 < meta["threshold"] < 1.0


def test_training_encodes_pairs_exactly_as_the_server(tmp_path: Path) -> None:
    """A review: training had its own pair encoder (longest-first truncation), so a long
    window lost half its tokens to the premise in training and none when served. The trainer
    now uses the server's tokenizer, set up from the model directory as the server does."""
    from stream_guard.models.cross_encoder import load_detector
    from stream_guard.train.encoding import encode_pairs, pair_tokenizer

    premise = " ".join(f"In {1900 + i} the plant made {i * 37} tonnes of steel." for i in range(20))
    window = " ".join(f"{i * 41} tonnes in {1950 + i}," for i in range(18)) + " a record."
    pairs = [(premise, window), (premise, "The plant made steel.")]
    served = load_detector("default", cache_dir=tmp_path)._tokenizer
    expected = served.pad(served.encode_pairs([p for p, _ in pairs], [h for _, h in pairs]))
    trained = encode_pairs(pair_tokenizer(DETECTOR), pairs)
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        assert np.array_equal(trained[name], getattr(expected, name)), name
    alone = served.encode([window])[0]
    types = trained["token_type_ids"][0][trained["attention_mask"][0] == 1]
    assert int(types.sum()) == len(alone.ids) - 1  # the whole claim (and its [SEP]) is kept


def test_artifact_prefers_supported_over_changed_number(
        detector: tuple[object, object, dict[str, object]]) -> None:
    from stream_guard.train.encoding import encode_pairs

    session, tok, _ = detector
    premise = ("The Golden Gate Bridge opened to traffic in 1937. Its main span is 1,280 metres "
               "long, and it was the longest suspension bridge in the world until 1964.")
    pairs = [(premise, "The Golden Gate Bridge opened in 1937."),
             (premise, "The Golden Gate Bridge opened in 1952."),
             (premise, "The bridge's main span is 1,280 metres long."),
             (premise, "The bridge's main span is 3,900 metres long.")]
    batch = encode_pairs(tok, pairs)  # type: ignore[arg-type]  # the fixture's tuple
    declared = [i.name for i in session.get_inputs()]  # type: ignore[attr-defined]
    assert declared == json.loads((DETECTOR / "config.json").read_text())["onnx_inputs"]
    assert list(batch) == declared
    logits = session.run(["logits"], dict(batch))[0]  # type: ignore[attr-defined]
    assert logits.shape == (4, 2)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert p[0, 1] > p[1, 1]
    assert p[2, 1] > p[3, 1]
