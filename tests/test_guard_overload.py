"""The overload gauge: when new streams are refused, and when they are taken again."""

from __future__ import annotations

from stream_guard.guard.overload import LoadGauge


def test_sustained_lag_overloads_until_it_falls_under_half() -> None:
    gauge = LoadGauge(max_lag_s=0.1, max_queue=100)
    gauge.observe_lag(0.3)  # one pause alone is not overload
    assert not gauge.overloaded
    for _ in range(5):
        gauge.observe_lag(0.3)
    assert gauge.overloaded
    gauge.observe_lag(0.0)  # the average falls, but not yet under half the limit
    assert gauge.overloaded
    for _ in range(15):
        gauge.observe_lag(0.0)
    assert gauge.lag_s < 0.05 and not gauge.overloaded


def test_queue_depth_overloads_with_hysteresis() -> None:
    gauge = LoadGauge(max_lag_s=0.1, max_queue=100)
    gauge.observe_queue(101)
    assert gauge.overloaded
    gauge.observe_queue(60)  # under the limit, over half of it: still refusing
    assert gauge.overloaded
    gauge.observe_queue(40)
    assert not gauge.overloaded


def test_a_zero_lag_limit_disables_the_lag_check() -> None:
    gauge = LoadGauge(max_lag_s=0.0, max_queue=100)
    gauge.observe_lag(5.0)
    assert not gauge.overloaded


def test_a_window_waiting_past_the_limit_overloads_with_hysteresis() -> None:
    """A review: 200 streams on 2 cores waited seconds for verdicts while the queue stayed far
    under its depth limit and the loop never lagged, so nothing was ever refused. The oldest
    window's wait trips it; under half the limit lets streams in again."""
    gauge = LoadGauge(max_lag_s=0.1, max_queue=1024, max_wait_s=0.5)
    gauge.observe_queue(120, 0.4)
    assert not gauge.overloaded
    gauge.observe_queue(120, 2.5)
    assert gauge.overloaded
    gauge.observe_queue(10, 0.3)  # under the limit, over half of it: still refusing
    assert gauge.overloaded
    gauge.observe_queue(10, 0.2)
    assert not gauge.overloaded
    off = LoadGauge(max_lag_s=0.1, max_queue=1024)  # no wait limit: not checked
    off.observe_queue(10, 60.0)
    assert not off.overloaded
