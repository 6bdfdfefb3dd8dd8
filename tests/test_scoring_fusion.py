"""The fused score: lexical signals and their calibrated combination with the detector."""

from __future__ import annotations

import math
import random

import pytest

from stream_guard.scoring.fusion import LEXICAL_FEATURES, MODEL_FEATURES, Fusion, signals
from stream_guard.text.quantities import quantity_index
from stream_guard.text.terms import term_keys, terms

EVIDENCE = "The Eiffel Tower is 330 metres tall. It was completed in 1889 by Gustave Eiffel."


def _signals(window: str, premise: str = EVIDENCE):  # type: ignore[no-untyped-def]
    return signals(terms(window), window, frozenset(term_keys(EVIDENCE)),
                   frozenset(term_keys(premise)), quantity_index(EVIDENCE))


def test_signals_see_conflicts_and_unknown_names() -> None:
    fine = _signals("The Eiffel Tower was completed in 1889.")
    assert fine.coverage == 1.0 and not fine.conflict and fine.novel_specifics == 0.0
    wrong_number = _signals("The Eiffel Tower is 450 metres tall.")
    assert wrong_number.conflict
    stranger = _signals("It was designed by Maurice Koechlin.")
    assert stranger.novel_specifics == 1.0 and stranger.coverage < 0.5
    assert _signals("The tower is tall.", premise="").premise_coverage == 0.0
    assert not fine.speaker and not fine.asks_listener
    chat = _signals("I saw it in 1889, have you been there?")
    assert chat.speaker and chat.asks_listener and chat.features()[-2:] == [1.0, 1.0]
    assert len(fine.features()) == len(LEXICAL_FEATURES)
    assert len(fine.features(0.9)) == len(MODEL_FEATURES)
    assert fine.features(1.0)[0] == 8.0  # the logit is clipped


def test_fit_recovers_a_separating_direction_and_round_trips() -> None:
    rng = random.Random(0)
    rows, labels = [], []
    for _ in range(400):
        x = rng.uniform(-3, 3)
        rows.append([x, rng.uniform(0, 1)])
        labels.append(1 if rng.random() < 1 / (1 + math.exp(-2 * x)) else 0)
    fusion = Fusion.fit(("a", "b"), rows, labels)
    assert 1.2 < fusion.weights[0] < 3.0 and abs(fusion.weights[1]) < 1.0
    assert fusion.support([3.0, 0.5]) > 0.95 and fusion.support([-3.0, 0.5]) < 0.05
    again = Fusion.from_json(fusion.to_json(), ("a", "b"))
    assert again.support([0.4, 0.2]) == pytest.approx(fusion.support([0.4, 0.2]), abs=1e-5)
    with pytest.raises(ValueError, match="features"):
        Fusion.from_json(fusion.to_json(), ("a", "c"))


def test_sample_weights_count_like_repeated_rows() -> None:
    # A row of weight 3 pulls the fit exactly as three copies of it do: what lets calibration
    # give each tune set the same say however many windows it has.
    rows = [[0.0], [1.0], [2.0], [0.5], [1.5]]
    labels = [0, 0, 1, 1, 1]
    weighted = Fusion.fit(("x",), rows, labels, sample_weights=[1, 3, 1, 1, 1])
    repeated = Fusion.fit(("x",), [*rows, [1.0], [1.0]], [*labels, 0, 0])
    assert weighted.weights[0] == pytest.approx(repeated.weights[0], abs=1e-6)
    assert weighted.bias == pytest.approx(repeated.bias, abs=1e-6)
    assert Fusion.fit(("x",), rows, labels).bias != pytest.approx(weighted.bias, abs=1e-3)
    with pytest.raises(ValueError, match="one sample weight per row"):
        Fusion.fit(("x",), rows, labels, sample_weights=[1.0])


def _logistic_data(n: int, seed: int) -> tuple[list[list[float]], list[list[float]], list[int]]:
    """Rows of one ordinary feature and a rare binary one that lowers support on its own."""
    rng = random.Random(seed)
    base, extra, labels = [], [], []
    for _ in range(n):
        x, flag = rng.uniform(-3, 3), float(rng.random() < 0.2)
        base.append([x])
        extra.append([flag])
        labels.append(1 if rng.random() < 1 / (1 + math.exp(-(1.5 * x - 3 * flag))) else 0)
    return base, extra, labels


def test_extend_fits_new_features_on_top_and_leaves_the_rest_alone() -> None:
    base, extra, labels = _logistic_data(600, 1)
    first = Fusion.fit(("x",), base, labels)
    both = first.extend(("flag",), [[*b, *e] for b, e in zip(base, extra, strict=True)],
                        labels)
    assert both.features == ("x", "flag")
    assert both.weights[0] == first.weights[0] and both.bias == first.bias
    assert -4.5 < both.weights[1] < -1.5
    # Where the new feature is 0 the score is exactly the first fusion's.
    assert both.support([0.7, 0.0]) == first.support([0.7])
    assert both.support([0.7, 1.0]) < first.support([0.7])


def test_a_fusion_fitted_before_a_feature_existed_gives_it_no_weight() -> None:
    old = Fusion(("a", "b"), (1.0, -2.0), 0.5)
    loaded = Fusion.from_json(old.to_json(), ("a", "b", "c"))
    assert loaded.features == ("a", "b", "c") and loaded.weights == (1.0, -2.0, 0.0)
    assert loaded.support([0.3, 0.1, 1.0]) == old.support([0.3, 0.1])
    with pytest.raises(ValueError, match="features"):
        Fusion.from_json(Fusion(("a", "a"), (1.0, 1.0), 0.0).to_json(), ("a", "b"))
