"""Python client for stream-guard: stream LLM output to the server without hand-writing frames.

Typical use::

    async with GuardClient("ws://localhost:8765", api_key=KEY) as client:
        async with guard(llm_tokens(), client, context=[...], mode="holdback") as pieces:
            async for piece in pieces:
                show(piece)
        if pieces.result.halted:
            ...

or, frame by frame, ``stream = await client.start(...)``, ``await stream.send(text)``,
``await stream.end()`` and ``async for event in stream``.
"""

from stream_guard.client.backoff import Backoff
from stream_guard.client.client import ContextItem, GuardClient, TicketProvider
from stream_guard.client.errors import (
    AuthError,
    BadFrameError,
    BadSeqError,
    BudgetExceededError,
    ConnectError,
    ConnectionClosedError,
    DrainingError,
    DuplicateStreamError,
    FrameTooLargeError,
    GoingAwayError,
    GuardClientError,
    HandshakeRefusedError,
    InternalServerError,
    InvalidDataError,
    MessageTooBigError,
    OverloadedError,
    PolicyViolationError,
    RateLimitedError,
    ServerFailureError,
    StartTimeoutError,
    StreamClosedError,
    StreamGuardError,
    StreamHaltedError,
    TicketUnavailableError,
    TooManyStreamsError,
    TryAgainLaterError,
    UnknownCollectionError,
    UnknownStreamError,
    UnknownTypeError,
    closed_error,
    error_for_code,
)
from stream_guard.client.events import (
    Done,
    ErrorEvent,
    Event,
    EvidenceItem,
    Halt,
    MalformedFrame,
    Release,
    Started,
    Verdict,
)
from stream_guard.client.guard import Guarded, GuardResult, guard
from stream_guard.client.stream import GuardStream
from stream_guard.client.tickets import mint_ticket, mint_ticket_sync
from stream_guard.protocol.frames import Mode

__all__ = [
    "AuthError", "Backoff", "BadFrameError", "BadSeqError", "BudgetExceededError",
    "ConnectError", "ConnectionClosedError", "ContextItem", "Done", "DrainingError",
    "DuplicateStreamError",
    "ErrorEvent", "Event", "EvidenceItem", "FrameTooLargeError", "GoingAwayError",
    "GuardClient", "GuardClientError", "GuardResult", "GuardStream", "Guarded", "Halt",
    "HandshakeRefusedError",
    "InternalServerError", "InvalidDataError", "MalformedFrame", "MessageTooBigError", "Mode",
    "OverloadedError",
    "PolicyViolationError", "RateLimitedError", "Release", "ServerFailureError",
    "StartTimeoutError", "Started",
    "StreamClosedError", "StreamGuardError", "StreamHaltedError", "TicketProvider",
    "TicketUnavailableError", "TooManyStreamsError", "TryAgainLaterError",
    "UnknownCollectionError", "UnknownStreamError",
    "UnknownTypeError", "Verdict", "closed_error", "error_for_code", "guard", "mint_ticket",
    "mint_ticket_sync",
]
