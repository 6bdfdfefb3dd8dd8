"""The per-stream halt policy: labels, each halt rule at its exact boundary, one halt at most."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream_guard.oversight.policy import Decision, HaltPolicy

# Binary fractions, so that threshold - clear_margin is exact and boundaries are sharp.
T, C, M = 0.5, 0.75, 0.25  # threshold, contradiction threshold, clear margin -> clear below 0.25


def policy(consecutive: int = 2) -> HaltPolicy:
    return HaltPolicy(T, C, consecutive, M)


def test_supported_at_and_above_threshold() -> None:
    p = policy()
    assert p.observe(0.5, 0.0) == Decision("supported", False, None)
    assert p.observe(1.0, 0.0) == Decision("supported", False, None)
    assert not p.halted


def test_high_contradiction_with_support_is_still_supported() -> None:
    assert policy().observe(0.5, 1.0) == Decision("supported", False, None)


def test_contradicted_halts_at_once_from_its_threshold_on() -> None:
    assert policy().observe(0.49, 0.75) == Decision("contradicted", True, "contradicted")
    # Just below the contradiction threshold it is a borderline unsupported window.
    assert policy().observe(0.49, 0.7499) == Decision("unsupported", False, None)


def test_clearly_unsupported_halts_at_once_strictly_below_the_margin() -> None:
    assert policy().observe(0.2499, 0.0) == Decision("unsupported", True, "unsupported")
    assert policy().observe(0.0, 0.0) == Decision("unsupported", True, "unsupported")
    assert policy().observe(0.25, 0.0) == Decision("unsupported", False, None)


def test_a_firm_window_below_the_threshold_halts_at_once() -> None:
    """A transaction reported done for the user ("I've added them to the Saturday list") is
    not waited on: the supported line after it would reset the run, and the user acts on it."""
    assert policy().observe(0.4, 0.0, firm=True) == Decision("unsupported", True, "unsupported")
    assert policy().observe(0.5, 0.0, firm=True) == Decision("supported", False, None)
    assert policy().observe(0.4, 0.8, firm=True) == Decision("contradicted", True,
                                                              "contradicted")


def test_consecutive_borderline_windows_halt_as_a_run() -> None:
    p = policy(consecutive=3)
    assert p.observe(0.4, 0.1) == Decision("unsupported", False, None)
    assert p.observe(0.3, 0.1) == Decision("unsupported", False, None)
    assert p.run == 2
    assert p.observe(0.45, 0.1) == Decision("unsupported", True, "unsupported_run")
    assert p.halted


def test_a_supported_window_resets_the_run() -> None:
    p = policy(consecutive=2)
    assert not p.observe(0.4, 0.0).halt
    assert p.observe(0.9, 0.0).label == "supported"
    assert p.run == 0
    assert not p.observe(0.4, 0.0).halt
    assert p.observe(0.4, 0.0) == Decision("unsupported", True, "unsupported_run")


def test_consecutive_one_halts_on_the_first_unsupported_window() -> None:
    assert HaltPolicy(T, C, 1, M).observe(0.4, 0.0) == Decision(
        "unsupported", True, "unsupported_run")


def test_reasons_are_ranked_contradicted_then_clear_then_run() -> None:
    p = policy(consecutive=2)
    p.observe(0.4, 0.0)
    assert p.observe(0.1, 0.9).reason == "contradicted"
    p = policy(consecutive=2)
    p.observe(0.4, 0.0)
    assert p.observe(0.1, 0.0).reason == "unsupported"


def test_after_the_halt_windows_are_labelled_but_never_halt_again() -> None:
    p = policy()
    assert p.observe(0.0, 0.9).halt
    assert p.observe(0.0, 0.9) == Decision("contradicted", False, None)
    assert p.observe(0.0, 0.0) == Decision("unsupported", False, None)
    assert p.observe(0.9, 0.0) == Decision("supported", False, None)
    assert p.halted


def test_zero_margin_makes_every_unsupported_window_clear() -> None:
    assert HaltPolicy(0.5, 0.8, 5, 0.0).observe(0.4999, 0.0).reason == "unsupported"


def test_numpy_scores_are_accepted() -> None:
    p = HaltPolicy(np.float32(0.5), 0.8, 2, 0.15)  # type: ignore[arg-type]
    assert p.observe(np.float32(0.7), np.float64(0.1)).label == "supported"  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"threshold": -0.1}, "threshold"), ({"threshold": 1.5}, "threshold"),
    ({"threshold": float("nan")}, "threshold"), ({"threshold": "0.5"}, "threshold"),
    ({"contradiction_threshold": 1.01}, "contradiction_threshold"),
    ({"clear_margin": -0.01}, "clear_margin"), ({"clear_margin": float("inf")}, "clear_margin"),
    ({"consecutive": 0}, "consecutive"), ({"consecutive": 2.0}, "consecutive"),
    ({"consecutive": True}, "consecutive"),
])
def test_invalid_settings_are_rejected_by_name(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"threshold": 0.5, **kwargs}
    with pytest.raises(ValueError, match=f"^{name} must be"):
        HaltPolicy(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("support", "contradiction"), [
    (float("nan"), 0.0), (0.5, float("nan")), (-0.01, 0.0), (1.01, 0.0), (0.5, 2.0)])
def test_broken_scores_raise_instead_of_passing(support: float, contradiction: float) -> None:
    p = policy()
    with pytest.raises(ValueError, match="must be a number"):
        p.observe(support, contradiction)
    assert p.run == 0 and not p.halted


_unit = st.floats(0.0, 1.0)
_settings = st.tuples(_unit, _unit, st.integers(1, 5), _unit)


@given(settings=_settings, scores=st.lists(st.tuples(_unit, _unit), max_size=40))
def test_halts_at_most_once_and_only_on_an_unsupported_window(
        settings: tuple[float, float, int, float], scores: list[tuple[float, float]]) -> None:
    p = HaltPolicy(*settings)
    halts = 0
    for support, contradiction in scores:
        decision = p.observe(support, contradiction)
        assert (decision.reason is not None) == decision.halt
        assert (decision.label == "supported") == (support >= p.threshold)
        if decision.halt:
            halts += 1
            assert decision.label != "supported"
    assert halts <= 1
    assert p.halted == (halts == 1)


@given(settings=_settings, data=st.data())
def test_never_halts_on_all_supported_input(
        settings: tuple[float, float, int, float], data: st.DataObject) -> None:
    p = HaltPolicy(*settings)
    scores = data.draw(st.lists(st.tuples(st.floats(p.threshold, 1.0), _unit), max_size=40))
    assert not any(p.observe(s, c).halt for s, c in scores)
    assert not p.halted and p.run == 0


@given(settings=_settings, scores=st.lists(st.tuples(_unit, _unit), max_size=40))
def test_halt_matches_the_rules_stated_independently(
        settings: tuple[float, float, int, float], scores: list[tuple[float, float]]) -> None:
    threshold, contradiction_threshold, consecutive, margin = settings
    p = HaltPolicy(*settings)
    run = 0
    expected_halt_at = None
    for i, (support, contradiction) in enumerate(scores):
        run = 0 if support >= threshold else run + 1
        if expected_halt_at is None and support < threshold and (
                contradiction >= contradiction_threshold or support < threshold - margin
                or run >= consecutive):
            expected_halt_at = i
    halt_at = [i for i, (s, c) in enumerate(scores) if p.observe(s, c).halt]
    assert halt_at == ([] if expected_halt_at is None else [expected_halt_at])


def test_finish_halts_an_open_run_only_with_run_at_end() -> None:
    plain = HaltPolicy(T, C, 2, M)
    plain.observe(T - 0.01, 0.0)  # a run of one, not clear
    assert plain.finish() is None and not plain.halted
    at_end = HaltPolicy(T, C, 2, M, run_at_end=True)
    at_end.observe(T - 0.01, 0.0)
    assert at_end.finish() == Decision("unsupported", True, "unsupported_run")
    assert at_end.halted and at_end.finish() is None  # never twice
    closed = HaltPolicy(T, C, 2, M, run_at_end=True)
    closed.observe(T - 0.01, 0.0)
    closed.observe(T + 0.01, 0.0)  # a supported window closed the run
    assert closed.finish() is None and not closed.halted
