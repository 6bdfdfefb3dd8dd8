"""Training elsewhere and distillation: pairs written once and trained on as written, a
teacher's soft labels, and backbones without segment ids (MPNet), end to end through the
trainer's command line on tiny randomly initialised models."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from stream_guard.models.cross_encoder import load_detector
from stream_guard.models.packaged import minilm_dir
from stream_guard.scores import Pair
from stream_guard.train import cli
from stream_guard.train.pairs import Example, read_examples, write_examples

pytestmark = pytest.mark.slow  # real (tiny) models

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from stream_guard.train import crossencoder, export  # noqa: E402  (needs torch)

CONTEXT = ("The Riverside bridge opened in 1932 after four years of work. It carries two lanes "
           "of traffic and a footpath. The city council approved a repair plan in 2019. "
           "Engineers from Leeds inspected the steel arches every spring.")


def _rows(dataset: str, n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(n):
        right = i % 2 == 0
        response = ("The bridge opened in 1932 and carries two lanes of traffic." if right
                    else "The bridge opened in 1958 and carries six lanes of traffic.")
        rows.append({"id": f"{dataset}-{i // 2}-{i % 2}", "dataset": dataset, "context": CONTEXT,
                     "prompt": None, "response": response, "label": 0 if right else 1,
                     "onset": None if right else 27})
    return rows


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("data")
    for name in (*cli.TRAIN_DATASETS, *cli.TRAIN_WHOLE, *cli.VALIDATION_DATASETS):
        rows = _rows(name, 16)
        if name == "summedits_dev":
            for n, r in enumerate(rows):
                r["doc_id"] = f"doc-{(n // 2) % 4}"
        (d / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


@pytest.fixture(scope="module")
def tiny_mpnet(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    """MPNet's layout (no segment ids, relative attention) at toy size, MiniLM's tokenizer."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny") / "tiny-mpnet"
    config = transformers.MPNetConfig(vocab_size=30527, hidden_size=32, num_hidden_layers=2,
                                      num_attention_heads=4, intermediate_size=64,
                                      max_position_embeddings=160, pad_token_id=0)
    transformers.MPNetForMaskedLM(config).save_pretrained(str(path), safe_serialization=True)
    shutil.copy(minilm_dir(model_cache) / "tokenizer.json", path / "tokenizer.json")
    return path


def test_examples_round_trip_in_order(tmp_path: Path) -> None:
    examples = [Example("Premise é.", f"Window {i}.", i % 2, "record-unit", f"r{i}")
                for i in range(5)]
    write_examples(tmp_path / "pairs.jsonl.gz", examples)
    assert read_examples(tmp_path / "pairs.jsonl.gz") == examples


def test_targets_without_a_teacher_are_label_smoothing() -> None:
    examples = [Example("p", "h", label, "k", "g") for label in (0, 1, 1)]
    logits = torch.tensor([[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]])
    targets = crossencoder._targets(examples, 0.05, None, 0.0)
    expected = torch.nn.CrossEntropyLoss(label_smoothing=0.05)(logits, torch.tensor([0, 1, 1]))
    assert torch.allclose(torch.nn.functional.cross_entropy(logits, targets), expected)


def test_targets_mix_the_teacher_in_by_weight() -> None:
    examples = [Example("p", "h", 1, "k", "g"), Example("p", "h", 0, "k", "g")]
    targets = crossencoder._targets(examples, 0.0, [0.2, 0.9], 0.75)
    assert torch.allclose(targets, torch.tensor([[0.75 * 0.8, 0.75 * 0.2 + 0.25],
                                                 [0.75 * 0.1 + 0.25, 0.75 * 0.9]]))
    with pytest.raises(ValueError, match="3 soft labels for 2 examples"):
        crossencoder._targets(examples, 0.0, [0.1, 0.2, 0.3], 0.5)


def test_dump_train_predict_distil_and_export_without_segment_ids(
        data_dir: Path, tiny_mpnet: Path, tmp_path: Path, model_cache: Path) -> None:
    pairs = tmp_path / "pairs.jsonl.gz"
    common = ["--data", str(data_dir), "--threads", "1", "--tune-records", "8"]
    assert cli.main([*common, "--work-dir", str(tmp_path / "dump"), "--records-per-dataset", "4",
                     "--dump-examples", str(pairs)]) == 0
    examples = read_examples(pairs)
    assert examples and {e.label for e in examples} == {0, 1}

    # The teacher: an MPNet trained on the written pairs alone (--data keeps only the
    # validation sets' role), then its P(supported) for every pair.
    for name in (*cli.TRAIN_DATASETS, *cli.TRAIN_WHOLE):
        (data_dir / f"{name}.jsonl").rename(tmp_path / f"{name}.jsonl")
    try:
        teacher = tmp_path / "teacher"
        assert cli.main([*common, "--examples", str(pairs), "--base-model", str(tiny_mpnet),
                         "--work-dir", str(teacher), "--epochs", "1", "--batch-size", "8"]) == 0
        soft = tmp_path / "soft.npy"
        assert cli.main([*common, "--examples", str(pairs), "--base-model", str(tiny_mpnet),
                         "--init-from", str(teacher / "best"), "--predict", str(soft)]) == 0
        probs = np.load(soft)
        assert probs.shape == (len(examples),) and ((probs > 0) & (probs < 1)).all()

        student = tmp_path / "student"
        assert cli.main([*common, "--examples", str(pairs), "--base-model", str(tiny_mpnet),
                         "--work-dir", str(student), "--epochs", "0.5", "--batch-size", "8",
                         "--soft-labels", str(soft), "--distill-weight", "0.5"]) == 0
    finally:
        for name in (*cli.TRAIN_DATASETS, *cli.TRAIN_WHOLE):
            (tmp_path / f"{name}.jsonl").rename(data_dir / f"{name}.jsonl")
    summary = json.loads((student / "train_summary.json").read_text())
    assert summary["recipe"]["soft_labels"] == str(soft)
    assert summary["recipe"]["distill_weight"] == 0.5
    assert summary["training"]["pairs_seen"] == len(examples) // 2

    # The student exports with the inputs it takes, and the server runs that file as it is.
    out = tmp_path / "detector"
    out.mkdir()
    inputs = export.export_onnx(student / "best", out / "model.onnx")
    assert inputs == ["input_ids", "attention_mask"]
    shutil.copy(tiny_mpnet / "tokenizer.json", out / "tokenizer.json")
    export.write_config(student / "best", out, 64, inputs)
    scorer = load_detector(str(out / "model.onnx"), cache_dir=model_cache, backend="onnx",
                           device="cpu")
    [score] = scorer.score_pairs([Pair(CONTEXT, "The bridge opened in 1932.")])
    assert 0.0 < score.support < 1.0



def read_gz(path: Path) -> list[bytes]:
    """The lines of a gzipped file, each with its newline."""
    return gzip.decompress(path.read_bytes()).splitlines(keepends=True)


def test_resume_refuses_what_it_cannot_continue(data_dir: Path, tiny_mpnet: Path,
                                                tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """--resume in a folder without a checkpoint used to start afresh without a word, a damaged
    or foreign checkpoint gave a traceback, and other options (batch size, seed, learning rate)
    went on with other batches than the docstring promises; a tune sample of one label trained
    to the end with a NaN metric and kept no checkpoint; a --base-model that is no model folder
    failed with a bare "No such file or directory" that named no file."""
    pairs = tmp_path / "pairs.jsonl.gz"
    common = ["--data", str(data_dir), "--threads", "1", "--tune-records", "8"]
    assert cli.main([*common, "--work-dir", str(tmp_path / "dump"), "--records-per-dataset", "4",
                     "--dump-examples", str(pairs)]) == 0
    run = [*common, "--examples", str(pairs), "--base-model", str(tiny_mpnet),
           "--epochs", "0.5", "--batch-size", "8"]
    work = tmp_path / "run"
    capsys.readouterr()

    def refused(*argv: str) -> str:
        assert cli.main([*run, *argv]) == 2
        return capsys.readouterr().err

    assert "holds no checkpoint (state.pt) to resume" in refused("--work-dir", str(work),
                                                                  "--resume")
    assert cli.main([*run, "--work-dir", str(work)]) == 0
    assert (work / "best").is_dir()
    assert cli.main([*run, "--work-dir", str(work), "--resume"]) == 0  # the same: resumes
    assert "the run was started with batch_size 8 (now 4)" in refused(
        "--work-dir", str(work), "--resume", "--batch-size", "4")
    # the model card's commands: the two that trained, not the refused one (a review)
    from stream_guard.train.crossencoder import started_commands

    assert [c.count("--resume") for c in started_commands(work)] == [0, 1]
    summary = json.loads((work / "train_summary.json").read_text())
    assert summary["recipe"]["batch_size"] == 8 and "training" in summary
    (work / "state.pt").write_bytes(b"not a checkpoint")
    err = refused("--work-dir", str(work), "--resume")
    assert "is not a checkpoint of this model" in err and "Traceback" not in err
    err = refused("--work-dir", str(tmp_path / "b"), "--base-model", str(tmp_path / "nowhere"))
    assert "--base-model" in err and "config.json, tokenizer.json not found" in err
    err = refused("--work-dir", str(tmp_path / "c"), "--tune-records", "1")
    assert "has records of one label only" in err

    # Mistakes of the starting point are refused before any pair is built (a review: a minute
    # of building first), and broken inputs in one line, not a traceback.
    err = refused("--work-dir", str(tmp_path / "d"), "--init-from", str(work))
    assert f"its best state is {work / 'best'}" in err
    err = refused("--work-dir", str(tmp_path / "d"), "--init-from", str(tmp_path / "nowhere"))
    assert "no such file or folder" in err
    (tmp_path / "broken.onnx").write_bytes(b"\x0a\xff\xff not a graph")
    err = refused("--work-dir", str(tmp_path / "d"), "--init-from", str(tmp_path / "broken.onnx"))
    assert "not an ONNX graph" in err and "Traceback" not in err
    capsys.readouterr()
    corrupt = tmp_path / "corrupt.jsonl.gz"
    for body in (b'{"premise": "a"\n', b'{"premise": "a"}\n'):  # a cut line; fields missing
        corrupt.write_bytes(gzip.compress(b"".join([*read_gz(pairs)[:1], body])))
        assert cli.main([*common, "--examples", str(corrupt), "--base-model", str(tiny_mpnet),
                         "--work-dir", str(tmp_path / "e")]) == 2
        err = capsys.readouterr().err
        assert f"{corrupt}:2: not training pairs" in err and "Traceback" not in err
    (tmp_path / "plain.jsonl").write_text('{"premise": "a"}\n')  # not gzipped
    assert "not training pairs" in refused("--work-dir", str(tmp_path / "e"), "--examples",
                                           str(tmp_path / "plain.jsonl"))
    assert cli.main(["--data", str(data_dir / "begin_dev.jsonl"), "--work-dir",
                     str(tmp_path / "f"), "--base-model", str(tiny_mpnet)]) == 2


def test_an_export_that_is_no_better_writes_nothing_and_says_so(
        data_dir: Path, tiny_mpnet: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """An export refused for a tune AUROC no better than the detector already there said
    "detector written" and exited 0 (a review), and the same model again was taken for a
    gain, its AUROC compared unrounded against the stored, rounded one."""
    pairs = tmp_path / "pairs.jsonl.gz"
    common = ["--data", str(data_dir), "--threads", "1", "--tune-records", "8",
              "--base-model", str(tiny_mpnet)]
    assert cli.main([*common, "--work-dir", str(tmp_path / "dump"), "--records-per-dataset", "4",
                     "--dump-examples", str(pairs)]) == 0
    work, out = tmp_path / "run", tmp_path / "detector"
    assert cli.main([*common, "--examples", str(pairs), "--work-dir", str(work),
                     "--epochs", "0.5", "--batch-size", "8"]) == 0
    export = [*common, "--examples", str(pairs), "--work-dir", str(work), "--out", str(out)]
    assert cli.main(export) == 0
    written = (out / "detector.json").read_bytes()
    card = (out / "MODEL_CARD.md").read_text() if (out / "MODEL_CARD.md").is_file() else ""
    assert "no GPU was lent" not in card and "../../../" not in card
    caplog.clear()
    assert cli.main([*export, "--detector-version", "again"]) == 1
    assert "nothing written there" in caplog.text
    assert (out / "detector.json").read_bytes() == written
    assert cli.main([*export, "--detector-version", "again", "--force"]) == 0
    assert json.loads((out / "detector.json").read_text())["version"] == "again"
