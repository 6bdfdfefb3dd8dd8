"""Typed exceptions: one per protocol error code, one per close code, one for a refused handshake.

The hierarchy lets callers catch at the level they care about: ``GuardClientError`` for anything
from this client, ``StreamGuardError`` for refused frames (``.code`` is the protocol's string),
``ConnectionClosedError`` for an ended connection (``.code`` is the WebSocket close code), or one
exact class such as ``UnknownCollectionError`` or ``TryAgainLaterError``.
"""

from __future__ import annotations

from stream_guard.protocol.errors import CloseCode, ErrorCode


class GuardClientError(Exception):
    """Root of every exception raised by ``stream_guard.client``. ``retryable``: the same
    request may succeed later, after a backoff (on a new connection for a closed one)."""

    retryable: bool = False


class StreamClosedError(GuardClientError, RuntimeError):
    """A use of a stream that this client already ended or cancelled, or that is done, or of a
    ``GuardClient`` after its ``close()``."""


class StartTimeoutError(GuardClientError, TimeoutError):
    """The server did not answer a ``start`` within ``start_timeout`` (the start is then
    cancelled there, so it holds no stream slot); a ``TimeoutError`` too."""


# --- error frames ---------------------------------------------------------------------------

class StreamGuardError(GuardClientError):
    """The server answered with an ``error`` frame (the connection stays open)."""

    code: str = "unknown"

    def __init__(self, message: str, stream_id: str | None = None, *,
                 code: str | None = None) -> None:
        super().__init__(message if stream_id is None else f"[{stream_id}] {message}")
        self.message = message
        self.stream_id = stream_id
        if code is not None:
            self.code = code


class BadFrameError(StreamGuardError):
    code = ErrorCode.BAD_FRAME.value


class UnknownTypeError(StreamGuardError):
    code = ErrorCode.UNKNOWN_TYPE.value


class UnknownStreamError(StreamGuardError):
    code = ErrorCode.UNKNOWN_STREAM.value


class UnknownCollectionError(StreamGuardError):
    code = ErrorCode.UNKNOWN_COLLECTION.value


class DuplicateStreamError(StreamGuardError):
    code = ErrorCode.DUPLICATE_STREAM.value


class BadSeqError(StreamGuardError):
    code = ErrorCode.BAD_SEQ.value


class TooManyStreamsError(StreamGuardError):
    code = ErrorCode.TOO_MANY_STREAMS.value


class RateLimitedError(StreamGuardError):
    code = ErrorCode.RATE_LIMITED.value
    retryable = True


class BudgetExceededError(StreamGuardError):
    code = ErrorCode.BUDGET_EXCEEDED.value


class FrameTooLargeError(StreamGuardError):
    code = ErrorCode.FRAME_TOO_LARGE.value


class StreamHaltedError(StreamGuardError):
    code = ErrorCode.STREAM_HALTED.value


class OverloadedError(StreamGuardError):
    """The server takes no new streams until its load falls: retry after a short backoff."""

    code = ErrorCode.OVERLOADED.value
    retryable = True


class DrainingError(StreamGuardError):
    """The server is shutting down and did not take this frame: start the stream again on a new
    connection (``GuardClient.start`` does so by itself)."""

    code = ErrorCode.DRAINING.value
    retryable = True


class InternalServerError(StreamGuardError):
    code = ErrorCode.INTERNAL.value


_BY_CODE: dict[str, type[StreamGuardError]] = {cls.code: cls for cls in (
    BadFrameError, UnknownTypeError, UnknownStreamError, UnknownCollectionError,
    DuplicateStreamError, BadSeqError, TooManyStreamsError, RateLimitedError,
    BudgetExceededError, FrameTooLargeError, StreamHaltedError, OverloadedError,
    DrainingError, InternalServerError)}


def error_for_code(code: str, message: str, stream_id: str | None = None) -> StreamGuardError:
    """The typed exception for an ``error`` frame; a code newer than this client keeps its name."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return StreamGuardError(message, stream_id, code=code)
    return cls(message, stream_id)


# --- close codes ----------------------------------------------------------------------------

# Close codes after which a new connection is expected to work (possibly after a pause); the
# others (1007, 1008) mean this client misbehaved and would only be closed again. 1006 is an
# abnormal drop without a close frame (network, server killed), 1009 a spent budget that a new
# connection resets.
RETRYABLE_CLOSE_CODES = frozenset({1000, 1001, 1006, 1009, 1011, 1012, 1013})


class ConnectionClosedError(GuardClientError):
    """The connection ended. ``stream_id`` is set when raised for a stream that was in flight.

    A stream's state lives only on its connection, so an in-flight stream cannot be resumed: start
    a new one (the client reconnects for it). ``retryable`` by the close code
    (:data:`RETRYABLE_CLOSE_CODES`): a server killed or restarted (1006, 1001, 1012) is, a
    client's own fault (1007, 1008) is not. ``started``: the server had taken the stream's
    start; one it had not (a connection refused 1013 at capacity) lost nothing.
    """

    def __init__(self, code: int, reason: str, stream_id: str | None = None, *,
                 started: bool = True) -> None:
        what = ("connection closed" if stream_id is None
                else f"stream {stream_id!r} lost: its connection closed" if started
                else f"stream {stream_id!r} not started: its connection closed")
        detail = f"{what} with code {code}" + (f" ({reason})" if reason else "")
        if stream_id is not None and started:
            detail += "; its state is gone server-side, start a new stream"
        super().__init__(detail)
        self.code = code
        self.reason = reason
        self.stream_id = stream_id
        self.retryable = code in RETRYABLE_CLOSE_CODES


class GoingAwayError(ConnectionClosedError):
    """1001: idle timeout, connection lifetime reached or server shutdown. Reconnect."""


class InvalidDataError(ConnectionClosedError):
    """1007: a text frame was not valid UTF-8."""


class PolicyViolationError(ConnectionClosedError):
    """1008: repeated rate-limit abuse."""


class MessageTooBigError(ConnectionClosedError):
    """1009: a frame was too large or the connection's character budget is spent."""


class ServerFailureError(ConnectionClosedError):
    """1011: the server hit an internal error."""


class TryAgainLaterError(ConnectionClosedError):
    """1013: over capacity, scorer still loading or shared state unavailable. Retry later."""


_BY_CLOSE: dict[int, type[ConnectionClosedError]] = {
    CloseCode.GOING_AWAY: GoingAwayError, CloseCode.INVALID_DATA: InvalidDataError,
    CloseCode.POLICY_VIOLATION: PolicyViolationError,
    CloseCode.MESSAGE_TOO_BIG: MessageTooBigError, CloseCode.INTERNAL_ERROR: ServerFailureError,
    CloseCode.TRY_AGAIN_LATER: TryAgainLaterError}

def closed_error(code: int | None, reason: str, stream_id: str | None = None, *,
                 started: bool = True) -> ConnectionClosedError:
    """The typed exception for a close code (1006 when the connection dropped without one)."""
    code = 1006 if code is None else code
    return _BY_CLOSE.get(code, ConnectionClosedError)(code, reason, stream_id, started=started)


# --- handshake ------------------------------------------------------------------------------

class AuthError(GuardClientError):
    """The upgrade was refused with HTTP 401 (bad key or ticket) or 403 (Origin not allowed)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}" if body else f"HTTP {status}")
        self.status = status
        self.body = body


class TicketUnavailableError(GuardClientError):
    """``POST /v1/tickets`` answered 429, 502, 503 or 504, or got no answer (``status`` None,
    ``body`` says what failed: refused, timed out): the server (or its shared state) is briefly
    unable to issue one, or restarting. Retry after ``retry_after`` seconds when the server sent
    it."""

    retryable = True

    def __init__(self, status: int | None, body: str, retry_after: float | None = None) -> None:
        what = "no answer" if status is None else f"HTTP {status}"
        super().__init__(f"ticket request failed: {what}: {body}" if body
                         else f"ticket request failed: {what}")
        self.status = status
        self.body = body
        self.retry_after = retry_after


class ConnectError(GuardClientError):
    """No connection could be opened within the retry policy; ``__cause__`` is the last failure.

    ``retryable`` when that failure was an answer saying "not now" (a close 1013: at capacity,
    its scorer loading, its shared state away; a start refused ``draining``; an HTTP 429 or 503
    to the upgrade or the ticket request): the same call may succeed later. Not when nothing
    answered, which a wrong address looks like as much as a server down."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class HandshakeRefusedError(ConnectError):
    """The upgrade got an HTTP answer that retrying will not change: 400 (a malformed
    upgrade), 404 (wrong path), 426 (not a WebSocket upgrade) or another unexpected status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"upgrade refused: HTTP {status}: {body}" if body
                         else f"upgrade refused: HTTP {status}")
        self.status = status
        self.body = body


# Handshake answers a later attempt may not get, each waited out with backoff (at least the
# server's Retry-After): 429 too many handshakes from this address, 503 draining or the shared
# state unavailable (closed fail mode) or unable to check a ticket, 502/504 from a proxy.
# 401/403 raise AuthError; anything else HandshakeRefusedError.
RETRYABLE_HANDSHAKE_STATUSES = frozenset({429, 502, 503, 504})
