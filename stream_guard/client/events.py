"""Server frames as typed, immutable events.

Frames are parsed once, where they arrive, so code that consumes a stream matches on classes and
attributes instead of probing dictionaries, and a server that sends something malformed fails
loudly here rather than as a ``KeyError`` deep in application code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from stream_guard.client.errors import StreamGuardError, error_for_code

Label = Literal["supported", "unsupported", "contradicted"]
HaltReason = Literal["contradicted", "unsupported", "unsupported_run", "operator"]


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """A piece of evidence the server scored a window against."""

    id: str
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Started:
    """The server accepted ``start``: the stream is open and takes deltas."""

    stream_id: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """One claim window was scored; ``start``/``end`` are offsets into the stream's text.

    ``degraded``: the server was too busy to run its model on this window before its deadline
    and gave the lexical tier's verdict instead.
    """

    stream_id: str
    start: int
    end: int
    score: float
    label: Label
    evidence: tuple[EvidenceItem, ...]
    degraded: bool = False


@dataclass(frozen=True, slots=True)
class Release:
    """Holdback mode: text before ``upto`` is verified and may be shown."""

    stream_id: str
    upto: int


@dataclass(frozen=True, slots=True)
class Halt:
    """The output stopped being supported; text from ``at`` on must be retracted or never shown.

    ``text`` is the offending window, ``evidence`` what it was checked against, ``window`` the
    ``(start, end)`` of the window whose verdict triggered the halt (later than ``at`` after a run
    of unsupported windows). An operator halt (kill switch) judged no window: then ``score`` and
    ``window`` are None and ``text`` may be empty. ``degraded``: the halting verdict came from
    the lexical tier because the model had no time for it (overload).
    """

    stream_id: str
    at: int
    text: str
    reason: HaltReason
    score: float | None
    evidence: tuple[EvidenceItem, ...]
    window: tuple[int, int] | None
    degraded: bool = False


@dataclass(frozen=True, slots=True)
class Done:
    """The stream is closed server-side; no more events follow for it."""

    stream_id: str
    halted: bool
    chars: int
    windows: int
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An ``error`` frame. The connection stays open; ``error`` is the matching typed exception.

    ``stream_id`` is None for connection-level errors (e.g. ``rate_limited``), which are delivered
    to every stream open at the time because any of them may have lost a message.
    """

    stream_id: str | None
    code: str
    message: str

    @property
    def error(self) -> StreamGuardError:
        return error_for_code(self.code, self.message, self.stream_id)


Event = Started | Verdict | Release | Halt | Done | ErrorEvent


class MalformedFrame(ValueError):
    """The server sent a frame this client cannot read (a protocol mismatch, never user error)."""


def parse_event(frame: Mapping[str, Any]) -> Event | None:
    """The event for a stream frame; None for a frame type this client does not know.

    Unknown types are skipped rather than refused, so a server that gains a frame type within v1
    does not break older clients; a known frame with missing or mistyped fields raises.
    """
    kind = frame.get("type")
    try:
        if kind == "error":
            return ErrorEvent(frame.get("stream_id"), str(frame["code"]), str(frame["message"]))
        sid = str(frame["stream_id"])
        if kind == "started":
            return Started(sid)
        if kind == "verdict":
            return Verdict(sid, int(frame["start"]), int(frame["end"]), float(frame["score"]),
                           frame["label"], _evidence(frame["evidence"]),
                           bool(frame.get("degraded", False)))
        if kind == "release":
            return Release(sid, int(frame["upto"]))
        if kind == "halt":
            window, score = frame.get("window"), frame["score"]
            return Halt(sid, int(frame["at"]), str(frame["text"]), frame["reason"],
                        None if score is None else float(score), _evidence(frame["evidence"]),
                        None if window is None else (int(window["start"]), int(window["end"])),
                        bool(frame.get("degraded", False)))
        if kind == "done":
            return Done(sid, bool(frame["halted"]), int(frame["chars"]), int(frame["windows"]),
                        bool(frame.get("cancelled", False)))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedFrame(f"malformed {kind!r} frame: {exc!r}") from None
    return None


def _evidence(items: list[Mapping[str, Any]]) -> tuple[EvidenceItem, ...]:
    return tuple(EvidenceItem(str(e["id"]), str(e["text"]), float(e["score"])) for e in items)
