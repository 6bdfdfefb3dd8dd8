"""Server frames as typed, immutable events.

Frames are parsed once, where they arrive, so code that consumes a stream matches on classes and
attributes instead of probing dictionaries, and a server that sends something malformed fails
loudly here rather than as a ``KeyError`` deep in application code. The event classes are the
server's own frame classes (:mod:`stream_guard.protocol.server_frames`), so client and server
cannot drift apart; only ``error`` differs, because the client attaches its typed exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stream_guard.client.errors import StreamGuardError, error_for_code
from stream_guard.protocol.server_frames import (
    Done,
    EvidenceItem,
    Halt,
    HaltReason,
    Label,
    Release,
    Started,
    Verdict,
)

__all__ = ["Done", "ErrorEvent", "Event", "EvidenceItem", "Halt", "HaltReason", "Label",
           "MalformedFrame", "Release", "Started", "Verdict", "parse_event"]


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An ``error`` frame. The connection stays open; ``error`` is the matching typed exception.

    ``stream_id`` is None for connection-level errors (an unparseable frame), which are
    delivered to every stream open at the time because any of them may have lost a message; a
    dropped ``ping``'s fails that ping instead (``ping()`` raises :class:`RateLimitedError`).
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
                        bool(frame.get("cancelled", False)), bool(frame.get("drained", False)))
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedFrame(f"malformed {kind!r} frame: {exc!r}") from None
    return None


def _evidence(items: list[Mapping[str, Any]]) -> tuple[EvidenceItem, ...]:
    return tuple(EvidenceItem(str(e["id"]), str(e["text"]), float(e["score"])) for e in items)
