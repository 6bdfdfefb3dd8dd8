"""Training data handling, pair construction, calibration, and the shipped detector artifact."""

from __future__ import annotations

import gzip
import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest

from stream_guard.train.chunks import evidence_chunks, top_chunks, windows
from stream_guard.train.data import Record, RecordError, read_records, split_of
from stream_guard.train.edits import entities, local_edit
from stream_guard.train.metrics import auroc, choose_threshold
from stream_guard.train.pairs import (
    SUPPORTED,
    UNSUPPORTED,
    Stream,
    stream_pairs,
    stream_scores,
    training_examples,
)

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


@pytest.mark.parametrize("bad", ["{not json", json.dumps({**ROW, "label": 2}),
                                 json.dumps({k: v for k, v in ROW.items() if k != "context"}),
                                 json.dumps({**ROW, "onset": "7"}), "[1, 2]"])
def test_bad_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(ROW) + "\n" + bad + "\n")
    with pytest.raises(RecordError, match=r"b\.jsonl:2:"):
        read_records(path)


def test_split_is_deterministic_and_about_half() -> None:
    ids = [f"summedits-news-{i}" for i in range(2000)]
    first = [split_of(i) for i in ids]
    assert first == [split_of(i) for i in ids]
    assert 0.45 < first.count("holdout") / len(ids) < 0.55


def test_chunks_and_windows_respect_sizes_and_overlap() -> None:
    text = " ".join(f"Sentence number {i} talks about topic {i} at some length here." for i in
                    range(30))
    chunks = evidence_chunks(text)
    assert len(chunks) > 3 and all(len(c) <= 600 for c in chunks)
    for a, b in itertools.pairwise(chunks):
        assert a.rsplit(". ", 1)[-1].rstrip(".") in b.split(". ", 1)[0]
    wins = windows("Short. " + "word " * 200 + "end. Last one here.")
    assert all(len(w) <= 400 for w in wins)
    assert wins[0].startswith("Short. word")
    assert top_chunks("topic 17", chunks, 1)[0].count("topic 17") == 1


def test_local_edits_change_one_fact() -> None:
    rng = random.Random(0)
    pool = entities("Alice Brown met Carol White in Paris.")
    seen: set[str] = set()
    for _ in range(40):
        edited = local_edit("Alice Brown paid 120 dollars and was happy.", pool, rng)
        assert edited is not None and edited[0] != "Alice Brown paid 120 dollars and was happy."
        seen.add(edited[1])
    assert {"number", "entity", "negation"} <= seen
    assert local_edit("ok fine", [], rng) is None


def test_training_pairs_label_only_the_least_supported_hallucinated_window() -> None:
    context = ("The museum opened in 1901 in Leeds. It holds 4000 paintings. "
               "Its director is Maria Lopez.")
    right = _record("The museum opened in 1901 in Leeds. It holds 4000 paintings.", 0, context, "a")
    wrong = _record("The museum opened in 1901 in Leeds. Its founder sailed to Peru on a yacht.",
                    1, context, "b")
    examples = training_examples([right, wrong], random.Random(1))
    hallucinated = [e for e in examples if e.kind == "hallucinated"]
    assert [e.hypothesis for e in hallucinated] == ["Its founder sailed to Peru on a yacht."]
    assert all(e.label == UNSUPPORTED for e in hallucinated)
    supported = {e.hypothesis for e in examples if e.kind == "response"}
    assert supported == {"The museum opened in 1901 in Leeds.", "It holds 4000 paintings."}
    assert all(e.label == SUPPORTED for e in examples if e.kind in ("response", "context"))
    assert all(e.label == UNSUPPORTED for e in examples if e.kind.startswith("edit-"))


def test_stream_score_is_min_over_windows_of_max_over_evidence() -> None:
    rec = _record("A. B.", 1, "ctx")
    streams = [Stream(rec, ["w1", "w2"], [["e1", "e2"], ["e3"]]),
               Stream(rec, ["w3"], [["e1", "e2", "e3"]])]
    pairs = stream_pairs(streams)
    assert pairs[0] == ("e1", "w1") and len(pairs) == 6
    assert stream_scores(streams, [0.2, 0.9, 0.4, 0.1, 0.3, 0.2]) == [0.4, 0.3]
    with pytest.raises(ValueError):
        stream_scores(streams, [0.5])


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
    from tokenizers import Tokenizer

    if not (DETECTOR / "model.onnx").is_file():
        pytest.fail(f"{DETECTOR}/model.onnx is missing: run python -m stream_guard.train")
    meta = json.loads((DETECTOR / "detector.json").read_text())
    session = ort.InferenceSession(str(DETECTOR / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(DETECTOR / "tokenizer.json"))
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


def test_artifact_prefers_supported_over_changed_number(
        detector: tuple[object, object, dict[str, object]]) -> None:
    from stream_guard.train.encoding import encode_pairs
    from stream_guard.train.export import INPUT_NAMES

    session, tok, _ = detector
    premise = ("The Golden Gate Bridge opened to traffic in 1937. Its main span is 1,280 metres "
               "long, and it was the longest suspension bridge in the world until 1964.")
    pairs = [(premise, "The Golden Gate Bridge opened in 1937."),
             (premise, "The Golden Gate Bridge opened in 1952."),
             (premise, "The bridge's main span is 1,280 metres long."),
             (premise, "The bridge's main span is 3,900 metres long.")]
    batch = encode_pairs(tok, pairs)  # type: ignore[arg-type]
    assert tuple(batch) == INPUT_NAMES
    logits = session.run(["logits"], dict(batch))[0]  # type: ignore[attr-defined]
    assert logits.shape == (4, 2)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert p[0, 1] > p[1, 1]
    assert p[2, 1] > p[3, 1]
