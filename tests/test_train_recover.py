"""Training on from a shipped detector: its weights recovered from its ONNX graph
(``stream-guard train --init-from DETECTOR_DIR``), checked against the real shipped int8
detector and, where the trained weights are known, against tiny models exported both ways."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from stream_guard.models.packaged import minilm_dir
from stream_guard.train import cli
from stream_guard.train.pairs import Example, write_examples

pytestmark = pytest.mark.slow  # real models

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from safetensors.torch import load_file  # noqa: E402  (needs torch)

from stream_guard.train import export  # noqa: E402  (needs torch)
from stream_guard.train.recover import graph_state, recover  # noqa: E402

DETECTOR = Path(__file__).resolve().parents[1] / "stream_guard" / "models" / "detector"


def _classifier(seed: int, path: Path, model_cache: Path) -> Path:
    """A tiny BERT classifier with MiniLM's tokenizer, its weights drawn from ``seed``."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=64,
                                     max_position_embeddings=160, num_labels=2)
    transformers.BertForSequenceClassification(config).save_pretrained(
        str(path), safe_serialization=True)
    shutil.copy(minilm_dir(model_cache) / "tokenizer.json", path / "tokenizer.json")
    return path


def _weights(checkpoint: Path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in load_file(str(checkpoint / "model.safetensors")).items()
            if not k.endswith("position_ids")}


def test_shipped_detector_comes_back_within_its_quantization_steps(
        tmp_path: Path, model_cache: Path) -> None:
    out = recover(DETECTOR / "model.onnx", minilm_dir(model_cache), tmp_path / "v3")
    stored = graph_state(DETECTOR / "model.onnx")
    recovered = _weights(out)
    assert set(recovered) == set(stored)
    for name, (value, step) in stored.items():
        if step == 0:  # biases and LayerNorm parameters are stored exactly
            np.testing.assert_array_equal(recovered[name], value, err_msg=name)
        else:  # every weight lies in the quantization step the graph stores for it
            assert np.abs(recovered[name] - value).max() <= step / 2 * 1.001, name
    # The recovered classifier still reads evidence as the detector does.
    tok = transformers.AutoTokenizer.from_pretrained(str(DETECTOR))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(out)).eval()
    premise = ("The Golden Gate Bridge opened to traffic in 1937. Its main span is 1,280 metres "
               "long, and it was the longest suspension bridge in the world until 1964.")
    windows = ["The Golden Gate Bridge opened in 1937.", "The Golden Gate Bridge opened in 1952.",
               "The bridge's main span is 1,280 metres long.",
               "The bridge's main span is 3,900 metres long."]
    with torch.inference_mode():
        logits = model(**tok([premise] * 4, windows, return_tensors="pt", padding=True)).logits
    p = torch.softmax(logits, dim=-1)[:, 1]
    assert p[0] > p[1] and p[2] > p[3]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_known_weights_come_back_from_either_export(precision: str, tmp_path: Path,
                                                    model_cache: Path) -> None:
    trained = _classifier(0, tmp_path / "trained", model_cache)
    base = _classifier(1, tmp_path / "base", model_cache)
    export.export_onnx(trained, tmp_path / "fp32.onnx")
    graph = tmp_path / "fp32.onnx"
    if precision == "int8":
        export.quantize_int8(graph, tmp_path / "int8.onnx")
        graph = tmp_path / "int8.onnx"
    stored = {k.removeprefix("inner."): step for k, (_, step) in graph_state(graph).items()}
    got = _weights(recover(graph, base, tmp_path / "recovered"))
    want = _weights(trained)
    assert set(got) == set(want)
    for name, value in want.items():
        # fp32: exact; int8: within one step (the step's centre, or the base's value in it)
        assert np.abs(got[name] - value).max() <= max(stored[name], 1e-6), name


def test_train_init_from_a_detector_directory(tmp_path: Path, model_cache: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    trained = _classifier(0, tmp_path / "trained", model_cache)
    base = _classifier(1, tmp_path / "base", model_cache)
    detector = tmp_path / "detector"  # as a detector ships: a graph, no torch weights
    detector.mkdir()
    export.export_onnx(trained, detector / "model.onnx")
    data = tmp_path / "data"
    data.mkdir()
    for name in cli.VALIDATION_DATASETS:
        (data / f"{name}.jsonl").write_text("".join(json.dumps(
            {"id": f"{name}-{i}", "dataset": name, "context": "The bridge opened in 1932.",
             "prompt": None, "response": "It opened in 1932." if i % 2 else "It opened in 1958.",
             "label": 1 - i % 2, "onset": None if i % 2 else 3, "doc_id": f"d{i % 4}"}) + "\n"
            for i in range(8)))
    pairs = tmp_path / "pairs.jsonl.gz"
    write_examples(pairs, [Example("The bridge opened in 1932.", w, 1, "context", "r")
                           for w in ("It opened in 1932.", "It opened in 1958.")])
    common = ["--data", str(data), "--examples", str(pairs), "--base-model", str(base),
              "--threads", "1", "--work-dir", str(tmp_path / "w")]
    for init, predictions in ((detector, "from-graph.npy"), (trained, "from-weights.npy")):
        assert cli.main([*common, "--init-from", str(init),
                         "--predict", str(tmp_path / predictions)]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "from-graph.npy"),
                               np.load(tmp_path / "from-weights.npy"), atol=1e-5)

    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main([*common, "--init-from", str(empty), "--predict",
                     str(tmp_path / "never.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("stream-guard train: ") and "model.onnx" in err[-1]
    assert not (tmp_path / "never.npy").exists()
