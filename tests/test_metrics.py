"""The labelled counters: each of their documented values has a series from the start, at 0, so
an alert on ``increase()`` or ``rate()`` sees the first event of a process's life (a review: a
series born at 1 has no increase). The label sets are those the documentation lists and the only
ones the server counts: checked against docs/deployment.md and against the source, where each
label is written."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from stream_guard.guard.limits import MALFORMED
from stream_guard.metrics import (
    PENALTY_REASONS,
    REJECTION_REASONS,
    STATE_OPERATIONS,
    TIERS,
)
from stream_guard.oversight.session import Expiry
from stream_guard.protocol.errors import CloseCode, ErrorCode, layer_refusal
from stream_guard.protocol.server_frames import HaltReason, Label
from stream_guard.server.app import Server
from stream_guard.server.connection import _REJECTIONS
from tests.wsclient import http, metric_samples

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENT = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")

# Each labelled counter (its Metrics attribute), its name and label, and the values it takes.
COUNTERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "rejections": ("stream_guard_rejections_total", "reason", REJECTION_REASONS),
    "errors_sent": ("stream_guard_errors_total", "code", tuple(c.value for c in ErrorCode)),
    "state_failures": ("stream_guard_state_failures_total", "operation", STATE_OPERATIONS),
    "streams_halted": ("stream_guard_streams_halted_total", "reason", get_args(HaltReason)),
    "windows": ("stream_guard_windows_total", "label", get_args(Label)),
    "tier_decisions": ("stream_guard_tier_decisions_total", "tier", TIERS),
    "penalties": ("stream_guard_abuse_penalties_total", "reason", PENALTY_REASONS),
}


async def test_every_labelled_counter_has_its_series_at_zero_from_the_start(
        server: Server) -> None:
    samples = metric_samples((await http(server.port, "GET", "/metrics")).body.decode())
    for name, label, values in COUNTERS.values():
        for value in values:
            assert samples[f'{name}{{{label}="{value}"}}'] == 0, (name, value)


def test_the_label_sets_are_the_documented_ones() -> None:
    for _, _, values in COUNTERS.values():  # a value listed twice is a typo
        assert len(set(values)) == len(values)
    table = DEPLOYMENT.split("`stream_guard_rejections_total{reason}`, every reason:")[1]
    rows = re.findall(r"^\| (`[^|]+`) \|", table.split("\n\n", 2)[1], re.MULTILINE)
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row)}
    assert documented == set(REJECTION_REASONS)
    operations = re.search(r"operations by name \(([^)]+)\)", DEPLOYMENT)
    assert operations is not None
    assert set(re.findall(r"`(\w+)`", operations.group(1))) == set(STATE_OPERATIONS)


# Where a label is written other than in a labels() call: the constructor, its argument, and
# the counters that count it (a close for abuse is a rejection and an address's penalty).
_LABEL_ARGUMENTS = {"Refusal": (0, ("rejections",)), "_Cap": (2, ("rejections",)),
                    "StateRefusal": (0, ("rejections",)),
                    "Close": (2, ("rejections", "penalties")),
                    "_failed": (0, ("state_failures",))}  # the slot leases' (SlotLeases)


def _strings(node: ast.expr) -> list[str]:
    """The string constants ``node`` is (both branches of a conditional expression)."""
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return []


def test_every_label_the_server_counts_is_in_its_set() -> None:
    """Each literal passed to a counter's labels(), each rejection reason written where it is
    decided (a refusal of auth, a cap, a close for abuse), and the enums counted by value."""
    found: dict[str, set[str]] = {name: set() for name in COUNTERS}
    for path in (ROOT / "stream_guard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "labels"
                    and isinstance(func.value, ast.Attribute) and func.value.attr in found):
                found[func.value.attr].update(_strings(node.args[0]))
            elif (name := func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                  ) in _LABEL_ARGUMENTS:
                index, counters = _LABEL_ARGUMENTS[name]
                for counter in counters if len(node.args) > index else ():
                    found[counter].update(_strings(node.args[index]))
    found["rejections"] |= {e.value for e in Expiry} | set(_REJECTIONS.values())
    layer = {layer_refusal(code, "") for code in CloseCode} | {
        layer_refusal(CloseCode.POLICY_VIOLATION, "too many fragments")}
    found["rejections"] |= {reason for reason in layer if reason is not None}
    found["penalties"] |= set(MALFORMED) | {reason for reason in layer if reason is not None}
    # the scan sees each kind of source
    assert {"unauthorized", "bad_ticket", "capacity", "state_unavailable", "rate_abuse",
            "frame_flood", "idle"} <= found["rejections"]
    assert {"put_ticket", "acquire_slot", "slots_recovering",
            "renew_slots"} <= found["state_failures"]
    for attribute, (_, _, values) in COUNTERS.items():
        assert found[attribute] <= set(values), (attribute, found[attribute] - set(values))
