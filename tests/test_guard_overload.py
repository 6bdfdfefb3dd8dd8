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
