"""Server frames as typed, immutable values, and their one serialisation.

The server builds these (the per-stream state machine and the connection session), the client
parses the wire back into the very same classes, so both sides share one vocabulary: a field
added or renamed here is seen by every producer and consumer at once, and the wire layout of
each frame is written in exactly one place (``to_wire``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import orjson

from stream_guard.protocol.errors import ErrorCode, ProtocolError

Label = Literal["supported", "unsupported", "contradicted"]
HaltReason = Literal["contradicted", "unsupported", "unsupported_run", "unchecked", "operator"]
WireFrame = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """A piece of evidence the server scored a window against."""

    id: str
    text: str
    score: float

    def to_wire(self) -> WireFrame:
        return {"id": self.id, "text": self.text, "score": self.score}


@dataclass(frozen=True, slots=True)
class Started:
    """The server accepted ``start``: the stream is open and takes deltas."""

    stream_id: str
    type: ClassVar[str] = "started"

    def to_wire(self) -> WireFrame:
        return {"type": self.type, "stream_id": self.stream_id}


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
    type: ClassVar[str] = "verdict"

    def to_wire(self) -> WireFrame:
        wire = {"type": self.type, "stream_id": self.stream_id, "start": self.start,
                "end": self.end, "score": self.score, "label": self.label,
                "evidence": [e.to_wire() for e in self.evidence]}
        if self.degraded:  # absent rather than false: the common case stays small
            wire["degraded"] = True
        return wire


@dataclass(frozen=True, slots=True)
class Release:
    """Holdback mode: text before ``upto`` is verified and may be shown."""

    stream_id: str
    upto: int
    type: ClassVar[str] = "release"

    def to_wire(self) -> WireFrame:
        return {"type": self.type, "stream_id": self.stream_id, "upto": self.upto}


@dataclass(frozen=True, slots=True)
class Halt:
    """The output stopped being supported; text from ``at`` on must be retracted or never shown.

    ``text`` is the offending window, ``evidence`` what it was checked against, ``window`` the
    ``(start, end)`` of the window whose verdict triggered the halt (later than ``at`` after a run
    of unsupported windows). An operator halt (kill switch) judged no window: then ``score`` and
    ``window`` are None (``null`` on the wire: every halt carries the same fields) and ``text``
    is empty. An ``unchecked`` halt (holdback mode) names the window that could not be scored
    at all: ``score`` None, no evidence. ``degraded``: the halting verdict came from the
    lexical tier because the model had no time for it (overload).
    """

    stream_id: str
    at: int
    text: str
    reason: HaltReason
    score: float | None
    evidence: tuple[EvidenceItem, ...]
    window: tuple[int, int] | None
    degraded: bool = False
    type: ClassVar[str] = "halt"

    def to_wire(self) -> WireFrame:
        window = None if self.window is None else {"start": self.window[0],
                                                   "end": self.window[1]}
        wire = {"type": self.type, "stream_id": self.stream_id, "at": self.at,
                "text": self.text, "reason": self.reason, "score": self.score,
                "evidence": [e.to_wire() for e in self.evidence], "window": window}
        if self.degraded:
            wire["degraded"] = True
        return wire


@dataclass(frozen=True, slots=True)
class Done:
    """The stream is closed server-side; no more frames follow for it."""

    stream_id: str
    halted: bool
    chars: int
    windows: int
    cancelled: bool = False
    # Ended by the server (a drain, or a close for the client's doing), not by the client:
    # windows still being scored when the grace ran out were dropped.
    drained: bool = False
    type: ClassVar[str] = "done"

    def to_wire(self) -> WireFrame:
        wire: WireFrame = {"type": self.type, "stream_id": self.stream_id,
                           "halted": self.halted, "chars": self.chars, "windows": self.windows}
        if self.cancelled:
            wire["cancelled"] = True
        if self.drained:
            wire["drained"] = True
        return wire


@dataclass(frozen=True, slots=True)
class Pong:
    """The answer to ``ping``."""

    type: ClassVar[str] = "pong"

    def to_wire(self) -> WireFrame:
        return {"type": self.type}


@dataclass(frozen=True, slots=True)
class Error:
    """A refused frame or a failed window; the connection stays open. ``stream_id`` is None for
    connection-level errors (``frame_too_large``, unparseable frames, a rate-limited ``ping``)."""

    code: ErrorCode
    message: str
    stream_id: str | None = None
    type: ClassVar[str] = "error"

    @classmethod
    def refusing(cls, exc: ProtocolError) -> Error:
        return cls(exc.code, exc.message, exc.stream_id)

    def to_wire(self) -> WireFrame:
        wire: WireFrame = {"type": self.type, "code": self.code.value, "message": self.message}
        if self.stream_id is not None:
            wire["stream_id"] = self.stream_id
        return wire


ServerFrame = Started | Verdict | Release | Halt | Done | Pong | Error


def encode(frame: ServerFrame) -> bytes:
    """Serialise a server frame to UTF-8 JSON, sent as a text frame."""
    return orjson.dumps(frame.to_wire())
