"""The ONNX-built MiniLM against transformers, and the embedder's contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from stream_guard.models.embedder import SentenceEmbedder, load_embedder
from stream_guard.models.hf import ModelFormatError, open_model_dir
from stream_guard.models.onnx_bert import build_bert_onnx
from stream_guard.models.packaged import ModelNotFoundError, minilm_dir
from stream_guard.models.runtime import OnnxRunner
from stream_guard.models.tokenization import TextTokenizer

pytestmark = pytest.mark.slow  # real models

SENTENCES = [
    "The Eiffel Tower is in Paris.",
    "A man is eating food.",
    "Quantum chromodynamics describes the strong interaction between quarks and gluons, "
    "which is mediated by eight gluon fields.",
    "ok",
]


def _transformers_embeddings(model_path: Path, texts: list[str]) -> np.ndarray:
    """Reference: transformers' BertModel with sentence-transformers' mean pooling."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(str(model_path))
    model = transformers.BertModel.from_pretrained(str(model_path)).eval()
    batch = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=1).numpy()


def test_onnx_embeddings_match_transformers(minilm: SentenceEmbedder, model_cache: Path) -> None:
    ours = minilm.embed(SENTENCES)
    ref = _transformers_embeddings(minilm_dir(model_cache), SENTENCES)
    assert ours.dtype == np.float32 and ours.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(ours, ref, atol=1e-4)


@pytest.mark.parametrize("fused", [True, False])
def test_both_graph_variants_match_transformers_hidden_states(model_cache: Path,
                                                              fused: bool) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model = open_model_dir(minilm_dir(model_cache))
    session = ort.InferenceSession(build_bert_onnx(model, "hidden", fused=fused)
                                   .SerializeToString(), providers=["CPUExecutionProvider"])
    tok = TextTokenizer(model.tokenizer_file, max_length=256)
    batch = tok.pad(tok.encode(SENTENCES))
    feeds = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask,
             "token_type_ids": batch.token_type_ids}
    ours = session.run(["last_hidden_state"], feeds)[0]
    ref_model = transformers.BertModel.from_pretrained(str(model.path)).eval()
    with torch.no_grad():
        ref = ref_model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state
    real = batch.attention_mask.astype(bool)  # padded positions are never pooled
    np.testing.assert_allclose(ours[real], ref.numpy()[real], atol=1e-4)


def test_semantically_close_sentences_score_higher(minilm: SentenceEmbedder) -> None:
    v = minilm.embed([
        "The cat is sleeping on the sofa.",
        "A kitten naps on the couch.",
        "Interest rates were raised by the central bank.",
        "The Federal Reserve increased borrowing costs.",
    ])
    sims = v @ v.T
    assert sims[0, 1] > sims[0, 2] + 0.3
    assert sims[2, 3] > sims[2, 1] + 0.3
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_vectors(minilm: SentenceEmbedder) -> None:
    together = minilm.embed(SENTENCES)
    alone = np.stack([minilm.embed([s])[0] for s in SENTENCES])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    reversed_ = minilm.embed(SENTENCES[::-1])[::-1]
    np.testing.assert_allclose(together, reversed_, atol=1e-5)


def test_batches_are_length_sorted_and_cut_where_padding_would_grow() -> None:
    from stream_guard.models.batching import length_sorted_batches

    lengths = [40, 4, 5, 38, 6, 12, 16, 17]
    assert list(length_sorted_batches(lengths, 3)) == [[1, 2, 4], [5, 6, 7], [3, 0]]
    # a batch ends before an input 4 times as long as its first: the answers (4-6 tokens) are
    # not padded to the questions' 38-40
    assert list(length_sorted_batches(lengths, 8, max_growth=4.0)) == [[1, 2, 4, 5, 6],
                                                                        [7, 3, 0]]
    assert sorted(i for b in length_sorted_batches(lengths, 2, max_growth=1.5)
                  for i in b) == list(range(8))


def test_empty_and_overlong_input(minilm: SentenceEmbedder) -> None:
    assert minilm.embed([]).shape == (0, 384)
    long_text = "word " * 2000  # far beyond the 256-token training length: truncated, not an error
    v = minilm.embed([long_text])
    assert v.shape == (1, 384) and np.isfinite(v).all()


def test_onnx_export_is_cached(minilm: SentenceEmbedder, model_cache: Path) -> None:
    files = list((model_cache / "onnx").glob("all-MiniLM-L6-v2-hidden-*.onnx"))
    assert len(files) == 1
    before = files[0].stat().st_mtime_ns
    load_embedder("minilm", cache_dir=model_cache, device="cpu")
    assert files[0].stat().st_mtime_ns == before


def test_torch_backend_agrees_with_onnx(minilm: SentenceEmbedder, model_cache: Path) -> None:
    pytest.importorskip("torch")
    torch_embedder = load_embedder("minilm", cache_dir=model_cache, backend="torch",
                                   device="cpu")
    np.testing.assert_allclose(torch_embedder.embed(SENTENCES), minilm.embed(SENTENCES),
                               atol=1e-4)


def test_the_torch_backend_writes_no_progress_bar(model_cache: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """transformers' "Loading weights: 100%|..." bar went to stderr between the server's JSON
    log lines."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    transformers.utils.logging.enable_progress_bar()  # as a process starts, whatever ran before
    capfd.readouterr()
    load_embedder("minilm", cache_dir=model_cache, backend="torch", device="cpu")
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "%|" not in err


def test_user_directory_in_hf_layout_loads(model_cache: Path, tmp_path: Path) -> None:
    copy = tmp_path / "my-embedder"
    shutil.copytree(minilm_dir(model_cache), copy)
    embedder = load_embedder(str(copy), cache_dir=model_cache, device="cpu")
    assert embedder.name == "my-embedder" and embedder.dim == 384


def test_bad_model_directories_fail_clearly(model_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_embedder(str(tmp_path / "nope"), cache_dir=model_cache)
    broken = tmp_path / "broken"
    shutil.copytree(minilm_dir(model_cache), broken)
    (broken / "tokenizer.json").unlink()
    with pytest.raises(ModelFormatError, match=r"missing tokenizer\.json"):
        load_embedder(str(broken), cache_dir=model_cache)
    pickled = tmp_path / "pickled"
    shutil.copytree(minilm_dir(model_cache), pickled)
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    with pytest.raises(ModelFormatError, match="safe_serialization"):
        load_embedder(str(pickled), cache_dir=model_cache)
    not_a_dir = tmp_path / "weights.bin"
    not_a_dir.write_bytes(b"\0")
    with pytest.raises(ModelFormatError, match="not a directory"):
        load_embedder(str(not_a_dir), cache_dir=model_cache)


def test_models_it_would_run_wrongly_are_refused_at_load(model_cache: Path,
                                                         tmp_path: Path) -> None:
    """A pipeline with a step the embedder skips, a config without a size it needs, and a
    config that disagrees with the weights: each fails at load and names what is wrong."""
    model = tmp_path / "model"
    shutil.copytree(minilm_dir(model_cache), model)
    modules = json.loads((model / "modules.json").read_text())
    dense = {"idx": 2, "name": "2", "path": "2_Dense",
             "type": "sentence_transformers.models.Dense"}
    (model / "modules.json").write_text(json.dumps([*modules[:2], dense, *modules[2:]]))
    with pytest.raises(ModelFormatError, match=r"sentence_transformers\.models\.Dense"):
        load_embedder(str(model), cache_dir=model_cache)
    (model / "modules.json").write_text(json.dumps(modules))
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({k: v for k, v in config.items()
                                                   if k != "hidden_size"}))
    with pytest.raises(ModelFormatError, match="hidden_size must be a positive integer"):
        load_embedder(str(model), cache_dir=model_cache)
    (model / "config.json").write_text(json.dumps({**config, "hidden_size": 768}))
    with pytest.raises(ModelFormatError, match="loads but cannot embed a sentence"):
        load_embedder(str(model), cache_dir=model_cache, backend="onnx")


def test_config_values_of_another_type_are_named(model_cache: Path, tmp_path: Path) -> None:
    """A review: a null ``max_position_embeddings`` or a ``sentence_bert_config.json`` that is a
    list crashed the start with a TypeError or AttributeError traceback. Null is the default
    (as transformers reads it); a value of another type is named."""
    model = tmp_path / "model"
    shutil.copytree(minilm_dir(model_cache), model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "max_position_embeddings": None}))
    assert open_model_dir(model).max_length() == 512
    for key, value in (("max_position_embeddings", "512"), ("type_vocab_size", 1.5),
                       ("pad_token_id", -1)):
        (model / "config.json").write_text(json.dumps({**config, key: value}))
        with pytest.raises(ModelFormatError, match=f"{key} must be an integer"):
            load_embedder(str(model), cache_dir=model_cache)
    (model / "config.json").write_text(json.dumps(config))
    (model / "sentence_bert_config.json").write_text("[]")
    with pytest.raises(ModelFormatError, match="not a JSON object"):
        load_embedder(str(model), cache_dir=model_cache)


def test_a_distilbert_sentence_embedder_runs(model_cache: Path, tmp_path: Path) -> None:
    """DistilBERT calls its width ``dim``: its sentence embedders (msmarco-distilbert, ...)
    were exported, then refused with "hidden_size must be a positive integer" (a review).
    They run after a torch export, their vectors those of transformers with mean pooling."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    path = tmp_path / "distil"
    torch.manual_seed(0)
    model = transformers.DistilBertModel(transformers.DistilBertConfig(
        vocab_size=30522, dim=32, hidden_dim=64, n_layers=2, n_heads=2))
    model.save_pretrained(str(path), safe_serialization=True)
    shutil.copy(minilm_dir(model_cache) / "tokenizer.json", path / "tokenizer.json")
    embedder = load_embedder(str(path), cache_dir=tmp_path / "cache", device="cpu")
    vectors = embedder.embed(SENTENCES[:2])
    assert embedder.dim == 32 and vectors.shape == (2, 32)
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=str(path / "tokenizer.json"))
    batch = tok(SENTENCES[:2], padding=True, return_tensors="pt", return_token_type_ids=False)
    with torch.no_grad():
        hidden = model.eval()(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
    np.testing.assert_allclose(vectors, expected.numpy(), atol=1e-4)


def test_builder_refuses_other_architectures(model_cache: Path, tmp_path: Path) -> None:
    other = tmp_path / "gpt"
    shutil.copytree(minilm_dir(model_cache), other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model_type": "gpt2"}))
    with pytest.raises(ModelFormatError, match="not BERT-family"):
        build_bert_onnx(open_model_dir(other), "hidden")


def test_float16_copy_for_cuda_is_cached_and_keeps_io_types(minilm: SentenceEmbedder,
                                                            model_cache: Path) -> None:
    """The CUDA path's conversion (the GPU run itself needs a GPU, absent here)."""
    import onnx

    from stream_guard.models.onnx_cache import cached_fp16

    source = next((model_cache / "onnx").glob("all-MiniLM-L6-v2-hidden-*.onnx"))
    half_path = cached_fp16(source, model_cache)
    assert half_path.parent == model_cache / "onnx" and half_path.name.endswith("-fp16.onnx")
    assert cached_fp16(source, model_cache) == half_path
    half = onnx.load(str(half_path))
    assert {i.type.tensor_type.elem_type for i in half.graph.input} == {onnx.TensorProto.INT64}
    assert half.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    weights = {t.data_type for t in half.graph.initializer if len(t.dims) == 2}
    assert weights == {onnx.TensorProto.FLOAT16}
    # onnxruntime's CPU kernels run the float16 graph too, which checks the converted numerics.
    model = open_model_dir(minilm_dir(model_cache))
    runner = OnnxRunner(half_path, output="last_hidden_state", device="cpu",
                        cache_dir=model_cache)
    tokenizer = TextTokenizer(model.tokenizer_file, max_length=256)
    fp16 = SentenceEmbedder(runner, tokenizer, name="fp16", dim=384).embed(SENTENCES)
    cosines = (fp16 * minilm.embed(SENTENCES)).sum(axis=1)
    assert cosines.min() > 0.999


def test_the_embedder_lets_its_threads_sleep_for_the_detector(minilm: SentenceEmbedder) -> None:
    """The embedder's session does not spin its threads after a run: the detector runs next on
    the same cores (a collection stream's window: 39 -> 31 ms from evidence to score)."""
    runner = minilm._runner
    assert isinstance(runner, OnnxRunner)
    options = runner._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
