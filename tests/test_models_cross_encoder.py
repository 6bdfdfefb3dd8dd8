"""Cross-encoder scoring with small real classifiers built and saved in HF layout here."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from stream_guard.models.cross_encoder import CrossEncoderScorer, check_detector, load_detector
from stream_guard.models.hf import ModelFormatError, open_model_dir
from stream_guard.models.labels import LabelMap, LabelMapError, parse_label_map
from stream_guard.models.onnx_cache import cached_fp16, cached_onnx
from stream_guard.models.packaged import ModelIntegrityError, ModelNotFoundError, minilm_dir
from stream_guard.models.tokenization import TextTokenizer
from stream_guard.scores import Pair, PairScore, PairScorer
from stream_guard.scoring.fusion import load_fusion

pytestmark = pytest.mark.slow  # real models

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

THREE_WAY = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}
BINARY = {0: "unsupported", 1: "supported"}

PAIRS = [
    Pair("The Eiffel Tower is in Paris. It was finished in 1889.", "It is in Paris."),
    Pair("Water boils at 100 degrees Celsius at sea level.", "Water boils at 50 degrees.",
         context="Some physics."),
    Pair("short", "A much longer hypothesis that goes on for a while about many things."),
    Pair("Evidence " * 300, "The premise is far longer than the model can read."),
    Pair("", "An empty premise."),
]


def _save_tiny(path: Path, model_cache: Path, *, arch: str, id2label: dict[int, str]) -> Path:
    """A small randomly initialised classifier sharing MiniLM's vocabulary and tokenizer."""
    torch.manual_seed(0)
    common = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=130, initializer_range=0.2,
                  id2label=id2label, label2id={v: k for k, v in id2label.items()})
    if arch == "bert":
        config = transformers.BertConfig(**common)
        model = transformers.BertForSequenceClassification(config)
    else:  # RoBERTa layout: offset positions, different classifier head; pad id 0 as in MiniLM
        config = transformers.RobertaConfig(**common, pad_token_id=0, type_vocab_size=1)
        model = transformers.RobertaForSequenceClassification(config)
    model.eval().save_pretrained(str(path), safe_serialization=True)
    shutil.copy(minilm_dir(model_cache) / "tokenizer.json", path / "tokenizer.json")
    return path


@pytest.fixture(scope="session")
def nli_dir(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-nli", model_cache, arch="bert",
                      id2label=THREE_WAY)


@pytest.fixture(scope="session")
def binary_dir(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-binary", model_cache, arch="bert",
                      id2label=BINARY)


@pytest.fixture(scope="session")
def roberta_dir(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-roberta", model_cache,
                      arch="roberta", id2label=THREE_WAY)


@pytest.fixture(scope="session")
def nli_onnx(nli_dir: Path, model_cache: Path) -> CrossEncoderScorer:
    return load_detector(str(nli_dir), cache_dir=model_cache, backend="onnx", device="cpu",
                         batch_size=2)


def _as_array(scores: list[PairScore]) -> np.ndarray:
    return np.array([[s.support, s.contradiction] for s in scores])


def test_scorer_satisfies_the_pair_scorer_contract(nli_onnx: CrossEncoderScorer) -> None:
    assert isinstance(nli_onnx, PairScorer)
    scores = nli_onnx.score_pairs(PAIRS)
    assert len(scores) == len(PAIRS)
    arr = _as_array(scores)
    assert ((arr >= 0) & (arr <= 1)).all() and (arr.sum(axis=1) <= 1 + 1e-9).all()
    assert nli_onnx.score_pairs([]) == []


@pytest.mark.parametrize("fixture", ["nli_dir", "binary_dir", "roberta_dir"])
def test_onnx_and_torch_backends_agree(fixture: str, request: pytest.FixtureRequest,
                                       model_cache: Path) -> None:
    path: Path = request.getfixturevalue(fixture)
    onnx_scores = load_detector(str(path), cache_dir=model_cache, backend="onnx",
                                device="cpu").score_pairs(PAIRS)
    torch_scores = load_detector(str(path), cache_dir=model_cache, backend="torch",
                                 device="cpu").score_pairs(PAIRS)
    np.testing.assert_allclose(_as_array(onnx_scores), _as_array(torch_scores), atol=1e-4)


def test_probabilities_match_transformers_directly(nli_dir: Path,
                                                   nli_onnx: CrossEncoderScorer) -> None:
    """Reference computed without any stream-guard code: HF tokenizer + model + softmax."""
    tok = transformers.AutoTokenizer.from_pretrained(str(nli_dir))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(nli_dir)).eval()
    pair = PAIRS[0]
    batch = tok(pair.premise, pair.hypothesis, return_tensors="pt")
    with torch.no_grad():
        probs = model(**batch).logits.softmax(-1)[0].numpy()
    score = nli_onnx.score_pairs([pair])[0]
    assert score.support == pytest.approx(probs[2], abs=1e-5)
    assert score.contradiction == pytest.approx(probs[0], abs=1e-5)


def test_batching_and_order_do_not_change_scores(nli_onnx: CrossEncoderScorer) -> None:
    batched = _as_array(nli_onnx.score_pairs(PAIRS))
    alone = np.vstack([_as_array(nli_onnx.score_pairs([p])) for p in PAIRS])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    order = [3, 1, 4, 0, 2]
    shuffled = _as_array(nli_onnx.score_pairs([PAIRS[i] for i in order]))
    np.testing.assert_allclose(shuffled, batched[order], atol=1e-5)


def test_context_is_prepended_unless_disabled(nli_dir: Path, model_cache: Path,
                                              nli_onnx: CrossEncoderScorer) -> None:
    with_ctx = Pair("Paris is in France.", "It is large.", context="Paris is a city.")
    joined = Pair("Paris is in France.", "Paris is a city. It is large.")
    bare = Pair("Paris is in France.", "It is large.")
    assert nli_onnx.score_pairs([with_ctx]) == nli_onnx.score_pairs([joined])
    no_ctx = load_detector(str(nli_dir), cache_dir=model_cache, device="cpu",
                           use_context=False)
    assert no_ctx.score_pairs([with_ctx]) == no_ctx.score_pairs([bare])


def test_only_the_premise_is_truncated(nli_dir: Path) -> None:
    tok = TextTokenizer(nli_dir / "tokenizer.json", max_length=open_model_dir(nli_dir).max_length())
    assert tok.max_length == 130  # the tiny config's max_position_embeddings
    enc = tok.encode_pairs(["evidence " * 500], ["The claim under test."])[0]
    assert len(enc.ids) == 130
    hypothesis = [t for t, kind in zip(enc.tokens, enc.type_ids, strict=True) if kind == 1]
    assert hypothesis == ["the", "claim", "under", "test", ".", "[SEP]"]
    # A hypothesis longer than the model can read is cut too, leaving room for some premise.
    enc = tok.encode_pairs(["evidence"], ["claim " * 500])[0]
    assert len(enc.ids) <= 130 and enc.tokens.count("evidence") == 1


def test_a_long_context_is_cut_before_the_claim_is(nli_dir: Path) -> None:
    """The text before the window goes in front of it with the room the window leaves, cut
    from its start: a long previous sentence never pushes the claim's own words out."""
    tok = TextTokenizer(nli_dir / "tokenizer.json", max_length=open_model_dir(nli_dir).max_length())
    claim = "Its headquarters moved to Zurich in 1998 after the merger with the rival group."
    context = "The company was founded by two engineers in a small town. " * 20
    enc = tok.encode_pairs(["evidence " * 500], [claim], [context + "It grew fast."])[0]
    assert len(enc.ids) == 130
    hypothesis = [t for t, kind in zip(enc.tokens, enc.type_ids, strict=True) if kind == 1]
    assert hypothesis[-6:] == ["with", "the", "rival", "group", ".", "[SEP]"]
    assert "zurich" in hypothesis and "1998" in hypothesis
    assert hypothesis[:4] != ["the", "company", "was", "founded"]  # the context's start went
    assert "fast" in hypothesis  # the end of the context, next to the claim, stays
    assert "evidence" in enc.tokens  # and the premise keeps its few tokens


@pytest.mark.parametrize(("id2label", "support", "contradiction"), [
    (THREE_WAY, 2, 0),
    ({0: "entailment", 1: "neutral", 2: "contradiction"}, 0, 2),
    (BINARY, 1, None),
    ({0: "Inconsistent", 1: "CONSISTENT"}, 1, None),
    ({"0": "not_entailment", "1": "entailment"}, 1, None),
])
def test_label_map_from_config_names(id2label: dict[int, str], support: int,
                                     contradiction: int | None) -> None:
    labels = LabelMap.from_config(id2label)
    assert (labels.support, labels.contradiction) == (support, contradiction)


def test_label_map_refuses_to_guess() -> None:
    with pytest.raises(LabelMapError, match="explicitly"):
        LabelMap.from_config({0: "LABEL_0", 1: "LABEL_1"})
    labels = LabelMap.from_config({0: "LABEL_0", 1: "LABEL_1"}, parse_label_map("support=0"))
    assert (labels.support, labels.contradiction) == (0, None)
    with pytest.raises(LabelMapError, match="out of range"):
        LabelMap.from_config(BINARY, {"support": 2})
    with pytest.raises(LabelMapError, match="ROLE=INDEX"):
        parse_label_map("support:1")


def test_an_id2label_that_is_no_map_of_indices_is_refused_by_name() -> None:
    """A review: ``label2id`` pasted as ``id2label`` (names as keys) crashed the server's start
    with a traceback of ``int()``, and with ``--workers`` the supervisor restarted it for ever."""
    for bad in ({"unsupported": 0, "supported": 1}, {"-1": "supported"}, ["supported"]):
        for override in (None, parse_label_map("support=1")):
            with pytest.raises(LabelMapError, match="id2label"):
                LabelMap.from_config(bad, override)  # type: ignore[arg-type]


def test_binary_and_three_way_models_map_to_support(binary_dir: Path, nli_dir: Path,
                                                    model_cache: Path) -> None:
    tok = transformers.AutoTokenizer.from_pretrained(str(binary_dir))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(binary_dir))
    batch = tok(PAIRS[1].premise, f"{PAIRS[1].context} {PAIRS[1].hypothesis}",
                return_tensors="pt")
    with torch.no_grad():
        probs = model.eval()(**batch).logits.softmax(-1)[0].numpy()
    binary = load_detector(str(binary_dir), cache_dir=model_cache, device="cpu")
    score = binary.score_pairs([PAIRS[1]])[0]
    assert score.support == pytest.approx(probs[1], abs=1e-5) and score.contradiction == 0.0
    # An override swapping the roles swaps the probabilities.
    swapped = load_detector(str(nli_dir), cache_dir=model_cache, device="cpu",
                            label_map={"support": 0, "contradiction": 2})
    normal = load_detector(str(nli_dir), cache_dir=model_cache, device="cpu")
    a, b = swapped.score_pairs([PAIRS[0]])[0], normal.score_pairs([PAIRS[0]])[0]
    assert a.support == pytest.approx(b.contradiction)
    assert a.contradiction == pytest.approx(b.support)


def test_plain_onnx_file_like_the_shipped_detector(nli_dir: Path, model_cache: Path,
                                                   tmp_path: Path,
                                                   nli_onnx: CrossEncoderScorer) -> None:
    shipped = tmp_path / "detector"
    shipped.mkdir()
    shutil.copy(cached_onnx(open_model_dir(nli_dir), "classifier", model_cache),
                shipped / "model.onnx")
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(nli_dir / name, shipped / name)
    (shipped / "detector.json").write_text(json.dumps({"threshold": 0.42, "name": "tiny"}))
    for spec in (shipped / "model.onnx", shipped):
        scorer = load_detector(str(spec), cache_dir=model_cache, device="cpu")
        assert scorer.threshold == 0.42 and scorer.name == "tiny"
        assert scorer.score_pairs(PAIRS) == nli_onnx.score_pairs(PAIRS)
    with pytest.raises(ModelFormatError, match="backend=torch"):
        load_detector(str(shipped / "model.onnx"), cache_dir=model_cache, backend="torch")
    # A detector trained on bare windows at a shorter length says so in its config.
    config = json.loads((shipped / "config.json").read_text())
    (shipped / "config.json").write_text(json.dumps({**config, "context_used": False,
                                                     "max_length": 64}))
    bare = load_detector(str(shipped), cache_dir=model_cache, device="cpu")
    with_ctx = Pair("Paris is in France.", "It is large.", context="Paris is a city.")
    assert bare.score_pairs([with_ctx]) == bare.score_pairs([Pair(with_ctx.premise,
                                                                  with_ctx.hypothesis)])
    assert bare.max_length == 64
    (shipped / "detector.json").write_text(json.dumps({"threshold": 7}))
    with pytest.raises(ModelFormatError, match="threshold"):
        load_detector(str(shipped), cache_dir=model_cache)


def test_missing_models_fail_clearly(model_cache: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("stream_guard.models.cross_encoder.DEFAULT_DETECTOR_DIR",
                        tmp_path / "not-built-yet")
    with pytest.raises(ModelNotFoundError, match="shipped detector"):
        load_detector("default", cache_dir=model_cache)
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_detector(str(tmp_path / "x.onnx"), cache_dir=model_cache)


def test_embedding_model_is_refused_as_a_cross_encoder(model_cache: Path) -> None:
    with pytest.raises(LabelMapError, match="id2label"):
        load_detector(str(minilm_dir(model_cache)), cache_dir=model_cache, device="cpu")


@pytest.mark.filterwarnings("ignore::Warning")  # torch's tracer notes about the HF code
def test_other_architectures_are_exported_through_torch(tmp_path: Path,
                                                         model_cache: Path) -> None:
    """DistilBERT is outside the graph builder: onnx backend exports it with torch, cached."""
    torch.manual_seed(0)
    config = transformers.DistilBertConfig(
        vocab_size=30522, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
        max_position_embeddings=130, initializer_range=0.2, id2label=BINARY,
        label2id={v: k for k, v in BINARY.items()})
    path = tmp_path / "tiny-distilbert"
    transformers.DistilBertForSequenceClassification(config).eval().save_pretrained(
        str(path), safe_serialization=True)
    shutil.copy(minilm_dir(model_cache) / "tokenizer.json", path / "tokenizer.json")
    via_onnx = load_detector(str(path), cache_dir=model_cache, backend="onnx", device="cpu")
    via_torch = load_detector(str(path), cache_dir=model_cache, backend="torch", device="cpu")
    np.testing.assert_allclose(_as_array(via_onnx.score_pairs(PAIRS)),
                               _as_array(via_torch.score_pairs(PAIRS)), atol=1e-4)
    assert list((model_cache / "onnx").glob("tiny-distilbert-classifier-*.onnx"))


def test_int8_detector_runs_and_is_not_converted_to_float16(nli_dir: Path, model_cache: Path,
                                                            tmp_path: Path,
                                                            nli_onnx: CrossEncoderScorer) -> None:
    """The shipped detector is int8-quantized: it loads as is, and the CUDA path leaves it
    alone rather than breaking its float32 quantize operators."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from stream_guard.models.onnx_bert import build_bert_onnx
    from stream_guard.models.onnx_cache import cached_fp16, save_atomic

    shipped = tmp_path / "int8"
    shipped.mkdir()
    # Standard operators only, like a torch export (the quantizer cannot see through the fused
    # attention operator's types).
    save_atomic(build_bert_onnx(open_model_dir(nli_dir), "classifier", fused=False),
                tmp_path / "fp32.onnx")
    quantize_dynamic(str(tmp_path / "fp32.onnx"), str(shipped / "model.onnx"),
                     weight_type=QuantType.QInt8)
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(nli_dir / name, shipped / name)
    assert cached_fp16(shipped / "model.onnx", model_cache) == shipped / "model.onnx"
    int8 = load_detector(str(shipped), cache_dir=model_cache, device="cpu")
    np.testing.assert_allclose(_as_array(int8.score_pairs(PAIRS)),
                               _as_array(nli_onnx.score_pairs(PAIRS)), atol=0.1)


def test_a_quantized_detector_scores_each_pair_as_if_alone(
        model_cache: Path, nli_onnx: CrossEncoderScorer) -> None:
    # The shipped detector is int8 with dynamic quantization, whose activation scale is taken
    # over the whole batch: padded into one batch with a longer pair, a pair's probability used
    # to move by 0.04. Rows now run one by one, unpadded, so a verdict cannot depend on load.
    detector = load_detector("default", cache_dir=model_cache, backend="onnx", device="cpu")
    assert detector._runner.per_row  # type: ignore[attr-defined]
    short = Pair("The group talked about costs.", "They discussed the production cost.")
    long = Pair("The designer presented the casing options in detail, including rubber, "
                "plastic, titanium and wood, with a price for each of them. " * 2,
                "The project manager summarised the budget and its twelve euro fifty limit.")
    alone = detector.score_pairs([short])[0]
    assert detector.score_pairs([short, long])[0] == alone
    assert detector.score_pairs([long, short, short])[1:] == [alone, alone]
    assert not nli_onnx._runner.per_row  # type: ignore[attr-defined]  # float: still batched


def test_a_graph_exported_for_one_pair_at_a_time_scores_batches(
        nli_dir: Path, model_cache: Path, tmp_path: Path, nli_onnx: CrossEncoderScorer) -> None:
    """An export with a fixed batch of one passed the one-pair check at load, then failed
    every batch of two or more; it now runs row by row. Another fixed size is refused."""
    import onnx

    graph = onnx.load(str(cached_onnx(open_model_dir(nli_dir), "classifier", model_cache)))
    for size in (1, 4):
        for tensor in graph.graph.input:
            tensor.type.tensor_type.shape.dim[0].dim_value = size
        fixed = tmp_path / f"batch{size}"
        fixed.mkdir()
        onnx.save(graph, str(fixed / "model.onnx"))
        for name in ("tokenizer.json", "config.json"):
            shutil.copy(nli_dir / name, fixed / name)
        if size == 4:
            with pytest.raises(ModelFormatError, match=r"fixed batch size \[4\]"):
                load_detector(str(fixed), cache_dir=model_cache, device="cpu")
            continue
        one = load_detector(str(fixed), cache_dir=model_cache, device="cpu")
        np.testing.assert_allclose(_as_array(one.score_pairs(PAIRS)),
                                   _as_array(nli_onnx.score_pairs(PAIRS)), atol=1e-5)


def _shipped_copy(tmp_path: Path) -> Path:
    shipped = Path(__file__).resolve().parents[1] / "stream_guard" / "models" / "detector"
    return Path(shutil.copytree(shipped, tmp_path / "detector"))


def test_a_corrupt_onnx_file_is_one_line_on_the_cuda_path_too(tmp_path: Path) -> None:
    """On CUDA the float16 conversion read the file before the runner's check and a damaged
    graph was a protobuf traceback (exit 1), where a CPU gave one settings error (exit 2).
    The conversion is the only CUDA-specific step, so it is called here without a GPU."""
    shipped = (_shipped_copy(tmp_path) / "model.onnx").read_bytes()
    truncated, garbage = tmp_path / "truncated.onnx", tmp_path / "garbage.onnx"
    truncated.write_bytes(shipped[: len(shipped) // 2])
    garbage.write_bytes(b"not an onnx graph\n" * 64)
    for path in (truncated, garbage):
        with pytest.raises(ModelFormatError, match=rf"{path.name}: not an ONNX graph that can "
                           r"be converted to float16 for CUDA \(Error parsing message"):
            cached_fp16(path, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("onnx/*.onnx"))  # nothing half-made is cached


def test_a_detector_that_loads_but_cannot_score_is_refused_at_load(
        tmp_path: Path, model_cache: Path) -> None:
    """A config naming three classes for a head of two used to load; every window then failed
    on its own, nothing was checked, and /readyz said ready. One pair is scored at load."""
    detector = _shipped_copy(tmp_path)
    config = json.loads((detector / "config.json").read_text())
    config["id2label"] = {"0": "contradiction", "1": "neutral", "2": "entailment"}
    (detector / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError,
                       match=r"loads but cannot score a pair: .*logits of shape"):
        load_detector(str(detector), cache_dir=model_cache, device="cpu")


def test_the_shipped_detectors_recorded_hash_is_checked(tmp_path: Path,
                                                        model_cache: Path) -> None:
    detector = _shipped_copy(tmp_path)
    assert load_detector(str(detector), cache_dir=model_cache).threshold is not None
    meta = json.loads((detector / "detector.json").read_text())
    meta["model_sha256"] = "0" * 64  # as if model.onnx had been changed after the export
    (detector / "detector.json").write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="model_sha256"):
        load_detector(str(detector), cache_dir=model_cache)


@pytest.mark.parametrize(("key", "value"), [("clear_margin", "0.1x"), ("run_at_end", "false"),
                                            ("max_length", 0), ("fusion", [1, 2])])
def test_detector_json_fields_are_checked_before_loading(tmp_path: Path, key: str,
                                                         value: object) -> None:
    detector = _shipped_copy(tmp_path)
    meta = json.loads((detector / "detector.json").read_text())
    (detector / "detector.json").write_text(json.dumps({**meta, key: value}))
    with pytest.raises(ModelFormatError, match=key):
        check_detector(str(detector))


def test_a_malformed_fusion_names_detector_json() -> None:
    with pytest.raises(ModelFormatError, match=r"detector\.json fusion"):
        load_fusion({"model": {"weights": [1.0]}, "lexical": {}})


def test_the_label_setting_serves_a_model_without_id2label(tmp_path: Path,
                                                           model_cache: Path) -> None:
    """transformers leaves id2label out of a config whose labels have default names; the
    detector_labels setting, which the error names, used to be refused for it too."""
    detector = _shipped_copy(tmp_path)
    config = json.loads((detector / "config.json").read_text())
    del config["id2label"], config["label2id"]
    (detector / "config.json").write_text(json.dumps(config))
    with pytest.raises(LabelMapError, match="STREAM_GUARD_DETECTOR_LABELS=support=1"):
        load_detector(str(detector), cache_dir=model_cache)
    scorer = load_detector(str(detector), cache_dir=model_cache, label_map={"support": 1})
    shipped = load_detector("default", cache_dir=model_cache)
    assert scorer.score_pairs(PAIRS) == shipped.score_pairs(PAIRS)


def test_a_cached_graph_changed_after_it_was_written_is_built_again(
        nli_dir: Path, tmp_path: Path, nli_onnx: CrossEncoderScorer) -> None:
    """The embedder and every Hugging Face detector run from the cache's ONNX graph, which was
    never checked: a graph whose weights were changed on disk ran as it was. Each cached file
    now has its sha256 beside it and is built again when they differ."""
    cache = tmp_path / "cache"
    model = open_model_dir(nli_dir)
    path = cached_onnx(model, "classifier", cache)
    good = path.read_bytes()
    assert (path.parent / (path.name + ".sha256")).read_text() == hashlib.sha256(good).hexdigest()
    proto = onnx.load(str(path))
    weights = max(proto.graph.initializer, key=lambda t: len(t.raw_data))
    assert weights.raw_data
    weights.raw_data = bytes(len(weights.raw_data))  # zeroed, as damage or a swap would leave
    path.write_bytes(proto.SerializeToString())
    assert path.read_bytes() != good
    assert cached_onnx(model, "classifier", cache) == path
    assert path.read_bytes() == good
    scorer = load_detector(str(nli_dir), cache_dir=cache, device="cpu", batch_size=2)
    assert scorer.score_pairs(PAIRS) == nli_onnx.score_pairs(PAIRS)
    # A graph cached by an earlier release has no hash beside it: trusted as it is (building
    # it again may need torch, or a cache it may not write) and sealed.
    seal = path.parent / (path.name + ".sha256")
    seal.unlink()
    written = path.stat().st_mtime_ns
    assert cached_onnx(model, "classifier", cache) == path
    assert path.stat().st_mtime_ns == written and seal.read_text() == hashlib.sha256(
        good).hexdigest()
    # Unless it is no graph at all (cut short): then it is built again, not sealed as it is
    # (a review: every later start failed on it).
    seal.unlink()
    path.write_bytes(good[: len(good) // 2])
    assert cached_onnx(model, "classifier", cache) == path
    assert path.read_bytes() == good and seal.read_text() == hashlib.sha256(good).hexdigest()
