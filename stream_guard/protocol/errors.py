"""Typed error codes and WebSocket close codes of protocol v1.

Error codes travel in ``error`` frames and leave the connection open; close codes end it. Clients
switch on both, so neither set may change meaning within v1.
"""

from __future__ import annotations

import enum

from stream_guard.exceptions import GuardError


class ErrorCode(str, enum.Enum):
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_STREAM = "unknown_stream"
    UNKNOWN_COLLECTION = "unknown_collection"
    DUPLICATE_STREAM = "duplicate_stream"
    BAD_SEQ = "bad_seq"
    TOO_MANY_STREAMS = "too_many_streams"
    RATE_LIMITED = "rate_limited"
    BUDGET_EXCEEDED = "budget_exceeded"
    FRAME_TOO_LARGE = "frame_too_large"
    STREAM_HALTED = "stream_halted"
    OVERLOADED = "overloaded"  # retryable: the server refuses new streams until load falls
    DRAINING = "draining"  # the server is shutting down: the frame was not taken; retry elsewhere
    INTERNAL = "internal"


class CloseCode(enum.IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # idle, lifetime, shutdown, character budget spent (after its drain)
    UNSUPPORTED_DATA = 1003
    INVALID_DATA = 1007  # invalid UTF-8 (sent by the websockets library itself)
    POLICY_VIOLATION = 1008  # repeated rate-limit abuse
    MESSAGE_TOO_BIG = 1009  # frame too large, too many fragments, twice the character budget
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013  # over capacity, shared state unavailable or recovering


# What an error frame means for the stream it names (docs/protocol.md, "Error codes"), as
# both bundled clients act on it (the JavaScript client keeps the same sets):
# - the stream goes on: a window that could not be scored, a delta that crossed the halt on
#   the wire. Any other error naming a stream fails it, but those of SERVER_ENDS;
BENIGN_ERRORS = frozenset({ErrorCode.INTERNAL, ErrorCode.STREAM_HALTED})
# - the server ends the stream itself (its drain, or the connection's budget spent twice):
#   what it took is still checked, and its verdicts, any halt and a done (drained) follow;
SERVER_ENDS = frozenset({ErrorCode.DRAINING, ErrorCode.BUDGET_EXCEEDED})
# - naming no stream, the connection closes after draining its streams (another stream's
#   message too large, the character budget spent): not a fault of any one stream;
CLOSE_FOLLOWS = frozenset({ErrorCode.FRAME_TOO_LARGE, ErrorCode.BUDGET_EXCEEDED})
# - the answer to a cancel of a stream the server no longer has open.
CANCEL_ANSWERS = frozenset({ErrorCode.UNKNOWN_STREAM, ErrorCode.DRAINING})

# The reason of a 1009 close for a spent character budget: a new connection resets it, so a
# client may start there. Any other 1009 is a frame too large, refused again wherever it goes.
BUDGET_SPENT_REASON = "character budget spent"


# Reasons of the 1008 closes the server's transport sends for what a client does to the
# connection itself, before any frame of it is read as a message.
NOT_READING_REASON = "the client does not read its frames"
TOO_MANY_FRAMES_REASON = "too many control frames or fragments"
# The 1009 of a message sent in more fragments than the server takes: a flood, not a size.
TOO_MANY_FRAGMENTS_REASON = "too many fragments"

# What the WebSocket layer closes for, by code, as counted (``rejections{reason=...}``).
_LAYER_REFUSALS: dict[int, str] = {CloseCode.INVALID_DATA: "invalid_utf8",
                                   CloseCode.MESSAGE_TOO_BIG: "frame_too_large",
                                   CloseCode.POLICY_VIOLATION: "not_reading"}


def layer_refusal(code: int, reason: str) -> str | None:
    """The rejection a close the WebSocket layer sent names: invalid UTF-8, a message far over
    the size limit, frames left unread, a flood of control frames or fragments (each also
    charged to the client's address); None for a close that refuses nothing of the client's."""
    if reason in (TOO_MANY_FRAMES_REASON, TOO_MANY_FRAGMENTS_REASON):
        return "frame_flood"
    return _LAYER_REFUSALS.get(code)


class ProtocolError(GuardError):
    """A client frame was refused; becomes an ``error`` frame, the connection stays open."""

    def __init__(self, code: ErrorCode, message: str, stream_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.stream_id = stream_id
