"""One guarded stream on a client connection: send text, iterate the server's events.

The connection's reader delivers every event for this stream into its queue and updates the
state attributes (``halt``, ``released``, ``done``) at once, so code that sends can consult the
latest verdict without having consumed the events in between.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import orjson

from stream_guard.client.errors import (
    ConnectionClosedError,
    GuardClientError,
    StreamClosedError,
    StreamGuardError,
    StreamHaltedError,
    closed_error,
)
from stream_guard.client.events import Done, ErrorEvent, Event, Halt, Release, Started
from stream_guard.protocol.errors import BENIGN_ERRORS, SERVER_ENDS
from stream_guard.protocol.frames import MAX_SEQ, Mode

Frame = dict[str, Any]
log = logging.getLogger("stream_guard.client")


class _Sender(Protocol):
    """What a stream needs from its connection (:class:`stream_guard.client.link.Link`): a
    frame built as it is written, deltas joined while they wait for the connection's message
    rate, and those dropped when the stream is cancelled."""

    async def send_frame(self, frame: Callable[[], Frame | None]) -> None: ...

    async def send_delta(self, key: object, piece: str, delta: Callable[[str], Frame],
                         limit: int) -> None: ...

    def discard(self, key: object) -> Callable[[], None]: ...


class GuardStream:
    """Created by :meth:`GuardClient.start`; iterate it for typed events until :class:`Done`.

    ``async for event in stream`` yields :class:`Started` first, then verdicts, releases, the halt
    and error events in the order the server sent them, and stops after :class:`Done`. If the
    connection is lost first, iteration (and ``send``) raise the close code's
    :class:`ConnectionClosedError` subclass with ``stream_id`` set.

    A stream the server did not take a frame of (an error naming it, other than ``internal``
    and ``stream_halted``: a delta or ``end`` dropped ``rate_limited``, refused ``bad_seq``,
    ...) is failed, as in the JavaScript client: :attr:`failed` holds that error, ``send``
    raises it, and iteration raises it after yielding its :class:`ErrorEvent`, never a
    :class:`Done` over text the server did not check (a review: a dropped ``end`` left the
    iteration waiting for ever). ``end()`` or ``cancel()`` (again, if the dropped frame was
    theirs) then cancels it on the server.

    A stream the server ends itself (an error ``draining`` or ``budget_exceeded`` naming it:
    its drain, or the connection's budget spent twice) is not failed: the text it took is
    still checked, and iteration goes on to its verdicts, any halt and its ``done``
    (``drained``). :attr:`ended_by_server` holds that error, ``send`` raises it (the server
    takes no more text), and ``end()`` does nothing (a review: iteration raised at the error,
    and the halt the drain's check found never reached the caller).
    """

    def __init__(self, link: _Sender, stream_id: str, mode: Mode, max_delta_chars: int,
                 on_event: Callable[[Event], None] | None = None) -> None:
        self.stream_id = stream_id
        self._on_event = on_event
        self.mode: Mode = mode
        self.released = 0  #: holdback: text before this offset is verified
        self.halt: Halt | None = None
        self.done: Done | None = None
        self._link = link
        self._max_delta = max_delta_chars
        self._seq = 0
        self._parts: list[str] = []
        self._text = ""
        self._chars = 0
        self._ended = False
        self._closing = False  # an end or cancel waits for its turn to be written
        self._cancelled = False  # a cancel was written: nothing is left to abandon
        self._lost: ConnectionClosedError | None = None
        #: the error of a frame of this stream the server did not take (see the class)
        self.failed: StreamGuardError | None = None
        #: the error that said the server ends this stream itself (see the class)
        self.ended_by_server: StreamGuardError | None = None
        self._queue: asyncio.Queue[Event | GuardClientError] = asyncio.Queue()
        self._finished = False
        #: resolved by ``started``; fails with the typed error if ``start`` was refused
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # --- what was sent ------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """Everything sent on this stream so far (offsets in events index into it). A piece
        waiting for the connection's message rate is added once it is written."""
        if self._parts:
            self._text += "".join(self._parts)
            self._parts.clear()
        return self._text

    @property
    def chars(self) -> int:
        return self._chars

    @property
    def accepted(self) -> bool:
        """The server took the start (``started`` came)."""
        started = self.started
        return started.done() and not started.cancelled() and started.exception() is None

    @property
    def ended(self) -> bool:
        """This client sent ``end`` or ``cancel``, or one waits for its turn to be written."""
        return self._ended or self._closing

    # --- client frames ------------------------------------------------------------------------
    async def send(self, text: str) -> None:
        """Send the next piece of output; ``seq`` is numbered for you.

        Text longer than the client's ``max_delta_chars``, or than a frame within its
        ``max_frame_bytes`` holds whatever the characters, goes out as several deltas, so a
        large chunk never trips the server's frame limit (which would close the connection).
        Past the client's message rate (``max_messages_per_second``) it returns at once and the text
        waits, joined with the stream's next pieces, for the rate to allow a frame; a halt that
        comes meanwhile drops it. Raises :class:`StreamHaltedError` once a halt has arrived,
        and :class:`StreamClosedError` once the stream is done (a drain ends streams so): the
        server would refuse the delta.
        """
        self._check_open()
        check_text(text)  # before a seq is taken: a refused piece leaves the stream as it was
        for i in range(0, len(text), self._max_delta) if text else (0,):
            await self._sent(self._link.send_delta(self, text[i:i + self._max_delta],
                                                   self._delta, self._max_delta))

    def _check_open(self, *, closing: bool = True) -> None:
        """Raise if no delta may follow; ``closing``: an end or cancel not yet written counts."""
        if self._lost is not None:
            raise self._lost
        if self.failed is not None:  # a delta now would be refused bad_seq, never checked
            raise self.failed
        if self.ended_by_server is not None and self.done is None:
            raise self.ended_by_server
        if self._ended or (closing and self._closing):
            raise StreamClosedError(f"stream {self.stream_id!r} was already ended or cancelled")
        if self.halt is not None:
            raise StreamHaltedError(f"stream {self.stream_id!r} was halted at offset "
                                    f"{self.halt.at}; end it", self.stream_id)
        if self.done is not None:  # the server forgot it (a drain): it would refuse the delta
            raise StreamClosedError(f"stream {self.stream_id!r} is done; start a new stream")

    def _delta(self, piece: str) -> Frame:
        """The delta frame of ``piece``, built as it is written: its seq is taken and its text
        recorded only then, so a send given up while it waited for its turn changed nothing,
        and pieces joined while they waited take one seq."""
        # A halt or the loss may have come while it waited; an end called after it was, and
        # waits behind it.
        self._check_open(closing=False)
        seq, self._seq = self._seq, self._seq + 1
        self._parts.append(piece)
        self._chars += len(piece)
        return {"type": "delta", "stream_id": self.stream_id, "seq": seq, "text": piece}

    async def _sent(self, sending: Awaitable[None]) -> None:
        try:
            await sending
        except ConnectionClosedError as exc:
            # The connection's own error when the socket closed under the write: the stream's
            # (with its id) once the reader has told it, as its docstring promises.
            raise self._lost or closed_error(exc.code, exc.reason, self.stream_id) from None

    async def end(self) -> None:
        """The output is complete: the server scores the last window, then sends ``done``. On
        a failed stream its output can no longer be checked: ``end`` cancels it, which frees
        its place on the server."""
        await self._close("cancel" if self.failed is not None else "end")

    async def cancel(self) -> None:
        """Abandon the stream: pending windows are dropped and ``done`` follows at once.

        Also after :meth:`end`, until ``done`` (a user's Stop while the last windows are still
        scored; the server takes it, as the JavaScript client's ``cancel`` does): a review found
        ``guard()`` left after its upstream had ended could not cancel, and the server scored
        every window of an output nobody was reading."""
        await self._close("cancel")

    async def _close(self, kind: str) -> None:
        if self._lost is not None:
            raise self._lost
        if kind == "end" and self.ended_by_server is not None:
            self._ended = True  # the server ends it: its done follows
            return
        if self._closing or (self._ended and (kind != "cancel" or self._cancelled)):
            raise StreamClosedError(f"stream {self.stream_id!r} was already ended or cancelled")
        if self.done is not None:
            self._ended = True
            return
        # Abandoned: its pieces still waiting need not go out, unless the cancel is given up.
        put_back = self._link.discard(self) if kind == "cancel" else None
        self._closing = True
        try:
            await self._sent(self._link.send_frame(functools.partial(self._closed, kind)))
        finally:
            self._closing = False
            if put_back is not None and not self._ended:
                put_back()

    def _closed(self, kind: str) -> Frame | None:
        """The end or cancel frame, built as it is written: a call given up before leaves the
        stream open, to be ended or cancelled again (a review: it was marked ended, no done
        ever came, and the server kept the stream). None when the stream's ``done`` came while
        it waited (a drain): the server no longer has it, and would answer unknown_stream."""
        self._ended = True
        self._cancelled = self._cancelled or kind == "cancel"
        if self.done is not None:
            return None
        return {"type": kind, "stream_id": self.stream_id}

    # --- server events ------------------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        if self._finished:
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, GuardClientError):
            self._finished = True
            raise item
        if isinstance(item, Done):
            self._finished = True
        return item

    async def next_event(self, timeout: float | None = None) -> Event:
        """The next event, waiting at most ``timeout`` seconds (``TimeoutError`` after)."""
        try:
            async with asyncio.timeout(timeout):  # a cancellation is never swallowed (wait_for)
                return await self.__anext__()
        except StopAsyncIteration:
            raise StreamClosedError(f"stream {self.stream_id!r} is done") from None

    # --- called by the connection's reader ----------------------------------------------------
    def deliver(self, event: Event) -> None:
        if not self.started.done():
            if isinstance(event, ErrorEvent):
                self.started.set_exception(event.error)
                return
            if isinstance(event, Started):
                self.started.set_result(None)
        if isinstance(event, Release):
            self.released = max(self.released, event.upto)
        elif isinstance(event, Halt):
            self.halt = event
        elif isinstance(event, Done):
            self.done = event
        if self._on_event is not None:
            try:
                self._on_event(event)
            except (Exception, asyncio.CancelledError):  # the reader goes on for every stream
                # (a review: a callback's CancelledError ended the reader, and every stream on
                # the connection failed with a made-up 1006)
                log.exception("a stream's on_event raised", extra={"stream": self.stream_id})
        self._queue.put_nowait(event)
        if (isinstance(event, ErrorEvent) and event.stream_id == self.stream_id
                and event.code not in BENIGN_ERRORS and self.done is None
                and self.failed is None):
            if event.code in SERVER_ENDS:
                if self.ended_by_server is None:
                    self.ended_by_server = event.error
                    self._link.discard(self)  # refused too: the deltas waiting never leave
            else:
                self._fail(event.error)

    def _fail(self, error: StreamGuardError) -> None:
        """The server did not take a frame of this stream (see the class). Still open there:
        ``end`` and ``cancel`` may be called again (the frame dropped may have been theirs)."""
        self.failed = error
        self._link.discard(self)  # refused bad_seq now: the deltas waiting never leave
        self._ended = self._cancelled = False
        self._queue.put_nowait(error)

    def lose(self, error: ConnectionClosedError) -> None:
        """The connection ended before ``done``: the stream's state is gone server-side."""
        if not self.started.done():
            self.started.set_exception(error)
        elif self.done is None and self._lost is None:
            self._lost = error
            self._queue.put_nowait(error)


def delta_chars(stream_id: str, max_delta_chars: int, max_frame_bytes: int) -> int:
    """The most characters a delta of ``stream_id`` carries: ``max_delta_chars``, and no more
    than its frame holds within ``max_frame_bytes`` whatever they are (one takes at most 6
    bytes of the frame's JSON: a control character is escaped ``\u001f``, an astral one is 4
    bytes of UTF-8). A review: deltas were cut by characters alone, and 8,192 Chinese
    characters (24 KB) sent to a server with a 4 KiB limit closed the connection under every
    stream on it. At least one: a start that fits leaves room for a delta of a few."""
    frame = {"type": "delta", "stream_id": stream_id, "seq": MAX_SEQ, "text": ""}
    return max(1, min(max_delta_chars, (max_frame_bytes - len(orjson.dumps(frame))) // 6))


def check_text(text: object, what: str = "text") -> None:
    """A string the server can take: a str that is valid Unicode (no lone surrogate, which
    cannot be sent as UTF-8: orjson raised a bare TypeError for one in a start's context)."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be str, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid Unicode: {exc.reason} at position {exc.start}"
                         ) from None
