"""One WebSocket connection to the server and the streams multiplexed on it.

A single reader task owns the socket's receiving side and routes every frame to its stream, so
streams never compete for ``recv`` and a stream nobody is iterating cannot stall the others. When
the socket ends, every stream still open learns it at once: their state is gone server-side.

Sending is paced (:class:`Pacing`): the server drops a connection's messages past its rate
(``rate_per_s``, 1,000 a second by default) with ``rate_limited``, and the stream whose delta
was dropped is no longer checked. A backend that sends one delta per token reaches that with a
few fast streams, so past this client's own rate frames wait in an outbox, and the deltas a
stream sends meanwhile are joined into one: the text goes out as soon as the rate allows,
in fewer messages, instead of being dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from stream_guard.client.backoff import retry_after_seconds
from stream_guard.client.errors import (
    RETRYABLE_HANDSHAKE_STATUSES,
    AuthError,
    ConnectionClosedError,
    DuplicateStreamError,
    HandshakeRefusedError,
    StartTimeoutError,
    StreamGuardError,
    closed_error,
)
from stream_guard.client.events import Done, ErrorEvent, Event, MalformedFrame, parse_event
from stream_guard.client.stream import Frame, GuardStream, delta_chars
from stream_guard.guard.bucket import TokenBucket
from stream_guard.protocol.errors import CANCEL_ANSWERS, ErrorCode
from stream_guard.protocol.frames import Mode

log = logging.getLogger("stream_guard.client")

_PROTOCOL_ERROR = 1002
_INTERNAL_ERROR = 1011
# Seconds of silence from the server, with streams open, before a ping, and then before the
# connection is given up (Link._keepalive): a server that stopped answering is found in 5 to
# 10 s (with websockets' keepalive, 20 s each way, a guarded output in observe mode went on
# showing unchecked text for 50 s of a stopped server: a review).
DEFAULT_KEEPALIVE = 5.0
# With this client's writes still unsent, the keepalive's wait is not counted (a busy server
# may leave its socket unread), but a server that sends nothing for this many keepalives while
# it reads nothing is gone all the same: a stopped server whose socket buffers filled was
# otherwise never given up (a review).
UNREAD_KEEPALIVES = 6
KEEPALIVE_REASON = "keepalive ping timeout"
_ABNORMAL = 1006  # the code of a connection given up without a close handshake


class TransientConnectFailure(Exception):
    """A connection attempt failed in a way that retrying may fix; ``__cause__`` says how.
    ``retry_after`` is the server's Retry-After in seconds, when it sent one; ``status`` the
    HTTP status that refused the upgrade, None when there was no answer."""

    def __init__(self, message: str, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


async def open_link(url: str, headers: dict[str, str], *, open_timeout: float,
                    max_delta_chars: int, max_frame_bytes: int, pacing: Pacing | None = None,
                    keepalive: float | None = DEFAULT_KEEPALIVE) -> Link:
    """Open a connection; raise :class:`AuthError`, :class:`ConnectError` or a transient failure.

    ``keepalive``: see :meth:`Link._keepalive`; None sends no pings. It also bounds the wait
    for the server's answer to a close (websockets' own 10 s otherwise: a review found
    ``close()`` of a client whose network was gone taking that long a connection)."""
    try:
        ws = await connect(url, additional_headers=headers, open_timeout=open_timeout,
                           max_size=16 * 2**20, compression=None,
                           close_timeout=keepalive if keepalive is not None else 10.0,
                           ping_interval=None)  # Link._keepalive instead: see there
    except InvalidStatus as exc:
        response = exc.response
        body = response.body.decode("utf-8", "replace") if response.body else ""
        if response.status_code in (401, 403):
            raise AuthError(response.status_code, body) from None
        if response.status_code in RETRYABLE_HANDSHAKE_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise TransientConnectFailure(f"HTTP {response.status_code}: {body}", wait,
                                          response.status_code) from exc
        raise HandshakeRefusedError(response.status_code, body) from exc
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise TransientConnectFailure(f"cannot connect to {_redacted(url)}: {exc!r}") from exc
    return Link(ws, max_delta_chars, max_frame_bytes, pacing or Pacing(), keepalive)


def _redacted(url: str) -> str:
    """The URL without its query: a ticket is a credential and must not reach logs."""
    return url.split("?", 1)[0]


DEFAULT_MESSAGES_PER_SECOND = 900.0
DEFAULT_MESSAGE_BURST = 1000
# Text a connection's outbox holds before a send waits for room: far more than the rate lets
# wait in normal use (a stream's pieces join into one frame per token), bounded when the
# connection takes nothing (the server pauses reading once it holds 1 MiB of a client's).
OUTBOX_MAX_CHARS = 2**20


@dataclass(frozen=True, slots=True)
class Pacing:
    """How many frames a second this client writes on one connection (``rate_per_s`` None:
    each at once), with bursts of up to ``burst``. The defaults stay under the server's
    defaults (1,000 a second, bursts of 2,000) with room for the network bunching frames up."""

    rate_per_s: float | None = DEFAULT_MESSAGES_PER_SECOND
    burst: int = DEFAULT_MESSAGE_BURST

    def __post_init__(self) -> None:
        if self.rate_per_s is not None and not 0 < self.rate_per_s < float("inf"):
            raise ValueError(f"max_messages_per_second must be a positive number or None, "
                             f"got {self.rate_per_s!r}")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError(f"message_burst must be a positive int, got {self.burst!r}")


class _Budget:
    """A connection's send budget: :class:`Pacing` as a token bucket on the loop's clock."""

    def __init__(self, pacing: Pacing) -> None:
        self._loop = asyncio.get_running_loop()
        self._bucket = None if pacing.rate_per_s is None else TokenBucket.full(
            pacing.rate_per_s, pacing.burst, self._loop.time())

    def take(self) -> bool:
        return self._bucket is None or self._bucket.take(self._loop.time())

    def wait(self) -> float:
        """Seconds until a frame may be written (0: now)."""
        if self._bucket is None:
            return 0.0
        self._bucket.refill(self._loop.time())
        return max(0.0, (1.0 - self._bucket.tokens) / self._bucket.rate_per_s)


@dataclass(eq=False, slots=True)
class _Outgoing:
    """A frame waiting in the outbox, built when it is written (as :meth:`Link.send_frame`
    builds every frame). A delta's is built from its ``pieces``, joined: later deltas of its
    stream are added to it while it waits."""

    frame: Frame | Callable[[], Frame | None] | None = None
    pong: asyncio.Future[None] | None = None
    written: asyncio.Future[None] | None = None  # its sender's waiter; a delta has none
    delta: Callable[[str], Frame] | None = None
    key: object = None  # a delta's stream
    pieces: list[str] = field(default_factory=list)
    chars: int = 0

    def is_delta_of(self, key: object) -> bool:
        return self.delta is not None and self.key is key

    def build(self) -> Frame | None:
        if self.delta is not None:
            return self.delta("".join(self.pieces))
        return self.frame() if callable(self.frame) else self.frame


class Link:
    """A live connection: sends frames in call order, routes received frames to streams."""

    def __init__(self, ws: ClientConnection, max_delta_chars: int, max_frame_bytes: int,
                 pacing: Pacing = Pacing(), keepalive: float | None = None) -> None:
        self.ws = ws
        self.streams: dict[str, GuardStream] = {}
        self.closed: ConnectionClosedError | None = None
        self._max_delta = max_delta_chars
        self._max_frame_bytes = max_frame_bytes
        self._send_lock = asyncio.Lock()
        self._budget = _Budget(pacing)
        # Frames past the budget, in call order; a stream's unwritten delta, to add to.
        self._outbox: deque[_Outgoing] = deque()
        self._unwritten: dict[object, _Outgoing] = {}
        self._waiting_chars = 0  # the deltas' text in the outbox
        self._room = asyncio.Event()  # set while the outbox has room for more text
        self._room.set()
        self._flusher: asyncio.Task[None] | None = None
        self._pongs: deque[asyncio.Future[None]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._cancels: deque[str] = deque()  # streams to cancel before the next frame
        self._ghosts: dict[str, int] = {}  # cancelled starts whose frames are still to come
        self._heard = asyncio.get_running_loop().time()  # when the server last sent anything
        self._given_up = False  # the keepalive found the server silent and dropped the socket
        self._reader = asyncio.create_task(self._read(), name="stream-guard-client-reader")
        self._keeper = (None if keepalive is None else asyncio.create_task(
            self._keepalive(keepalive), name="stream-guard-client-keepalive"))

    @property
    def ghosts(self) -> int:
        """Starts cancelled here whose frames (their done) are still to come."""
        return sum(self._ghosts.values())

    @property
    def alive(self) -> bool:
        return self.closed is None

    # --- sending ------------------------------------------------------------------------------
    async def send_frame(self, frame: Frame | Callable[[], Frame | None],
                         pong: asyncio.Future[None] | None = None) -> None:
        """Send one frame. The lock keeps frames in call order, which ``seq`` relies on.
        A callable is called for the frame under the lock, just before it is written, so a
        caller cancelled (or timed out) while it waits for its turn has changed nothing: a
        stream takes its ``seq`` and records its text there (a review: a timed-out send had
        taken a seq that never went out, and the stream's next delta was refused). It may
        raise, or answer None, to send nothing. ``pong``: a ping's waiter, queued as its frame
        goes out (see :meth:`ping`)."""
        if self.closed is not None:
            raise self.closed
        if self._outbox or not self._budget.take():
            await self._wait_in_outbox(_Outgoing(frame, pong))
            return
        async with self._send_lock:
            await self._write(frame, pong)

    async def send_delta(self, key: object, piece: str, delta: Callable[[str], Frame],
                         limit: int) -> None:
        """Send ``delta(piece)`` as :meth:`send_frame` would, or, past the budget, leave
        ``piece`` in the outbox and return: the delta of ``key`` (its stream) still waiting
        there takes it if it stays within ``limit`` characters (the stream's delta size), so
        a stream's pieces go out joined,
        one frame where the budget allows one. The stream learns of a write that failed as it
        learns of the connection's end."""
        if self.closed is not None:
            raise self.closed
        if not self._outbox and self._budget.take():
            async with self._send_lock:
                await self._write(functools.partial(delta, piece))
            return
        while self._waiting_chars >= OUTBOX_MAX_CHARS:
            # The connection takes less than is sent (a stalled reader, a server pausing its
            # reads): the sender waits for room, as it waits for the socket on the direct path,
            # with nothing of this piece queued yet.
            self._room.clear()
            await self._room.wait()
            if self.closed is not None:
                raise self.closed
        entry = self._unwritten.get(key)
        if entry is None or entry.chars + len(piece) > limit:
            entry = _Outgoing(delta=delta, key=key)
            self._unwritten[key] = entry
            self._queue(entry)
        entry.pieces.append(piece)
        entry.chars += len(piece)
        self._waiting_chars += len(piece)

    def discard(self, key: object) -> Callable[[], None]:
        """Drop the deltas of ``key`` not yet written (its stream is being cancelled); the
        callable returned puts them back, for a cancel given up before it was written (a
        review: the stream went on with a gap in its text that nobody checked)."""
        dropped = [e for e in self._outbox if e.is_delta_of(key)]
        if not dropped:
            return lambda: None
        self._unwritten.pop(key, None)
        kept = [e for e in self._outbox if not e.is_delta_of(key)]
        self._outbox.clear()
        self._outbox.extend(kept)
        self._taken_out(sum(e.chars for e in dropped))

        def put_back() -> None:
            # Ahead of any piece of the stream queued since (a send that was waiting for room
            # when the discard made some; a review found the text put back out of order).
            if self.closed is not None:
                return
            since = next((n for n, e in enumerate(self._outbox)
                          if e.is_delta_of(key)), None)
            if since is None:
                for entry in dropped:
                    self._queue(entry)
                self._unwritten[key] = dropped[-1]
            else:
                for entry in reversed(dropped):
                    self._outbox.insert(since, entry)
            self._waiting_chars += sum(e.chars for e in dropped)
        return put_back

    def _taken_out(self, chars: int) -> None:
        """``chars`` of waiting text left the outbox (written or dropped)."""
        self._waiting_chars -= chars
        if self._waiting_chars < OUTBOX_MAX_CHARS:
            self._room.set()

    async def _write(self, frame: Frame | Callable[[], Frame | None],
                     pong: asyncio.Future[None] | None = None) -> None:
        """Write one frame; the caller holds the send lock and has taken from the budget."""
        await self._send_cancels()  # owed before anything sent after them
        if callable(frame):
            built = frame()
            if built is None:
                return
            frame = built
        if pong is not None:
            self._pongs.append(pong)
        # websockets writes the frame before its first await: from here it is sent
        await self._send(frame)

    # --- the outbox ---------------------------------------------------------------------------
    async def _wait_in_outbox(self, entry: _Outgoing) -> None:
        """Queue ``entry`` and wait until it is written; a caller that gives up first (a
        timeout, a cancellation) takes it out again, so nothing it would have sent changes."""
        entry.written = asyncio.get_running_loop().create_future()
        self._queue(entry)
        try:
            await entry.written
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):
                self._outbox.remove(entry)
            raise

    def _queue(self, entry: _Outgoing) -> None:
        self._outbox.append(entry)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="stream-guard-client-outbox")

    async def _flush(self) -> None:
        """Write the outbox in order, one frame as the budget allows each."""
        while self._outbox and self.closed is None:
            wait = self._budget.wait()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self._send_lock:
                if not self._outbox or self.closed is not None:
                    return
                entry = self._outbox.popleft()
                if self._unwritten.get(entry.key) is entry:
                    del self._unwritten[entry.key]  # from here its stream's pieces go after it
                self._taken_out(entry.chars)
                await self._write_queued(entry)

    async def _write_queued(self, entry: _Outgoing) -> None:
        waiter = entry.written
        if waiter is not None and waiter.done():  # its caller gave up as it was taken
            return
        try:
            frame = entry.build()
            if frame is not None:
                self._budget.take()
                await self._write(frame, entry.pong)
        except Exception as exc:
            # A delta nobody waits for is dropped with its error: one refused for a halt that
            # came since (the stream raises it to its next send), or lost with the connection
            # (its streams learn that from the reader).
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
            return
        except asyncio.CancelledError:  # the connection ended under the write
            if waiter is not None and not waiter.done():
                if self.closed is None:
                    waiter.cancel()
                else:
                    waiter.set_exception(self.closed)
            raise
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _drop_outbox(self) -> None:
        """The connection ended: nothing waiting will be written."""
        assert self.closed is not None
        for entry in self._outbox:
            if entry.written is not None and not entry.written.done():
                entry.written.set_exception(self.closed)
        self._outbox.clear()
        self._unwritten.clear()
        self._waiting_chars = 0
        self._room.set()  # senders waiting for room learn of the end
        if self._flusher is not None and self._flusher is not asyncio.current_task():
            self._flusher.cancel()

    async def _send(self, frame: dict[str, Any]) -> None:
        try:
            await self.ws.send(orjson.dumps(frame), text=True)
        except ConnectionClosed:
            await asyncio.shield(self._reader)
            assert self.closed is not None
            raise self.closed from None

    async def _keepalive(self, every: float) -> None:
        """With streams open (or a :meth:`ping` waiting: a review saw one wait for ever on a stopped
        server) and nothing heard from the server for ``every`` seconds, ping it (a protocol
        ``ping``, see :meth:`_ping_pong`); when ``every`` seconds more pass with nothing heard, no
        pong and no frame, the server is taken for gone: the socket is dropped and the streams fail
        with close 1006 "keepalive ping timeout" (retryable) instead of a guarded output showing
        unchecked text on and on (a review stopped a server: 50 s with websockets' keepalive). Two
        things keep it from dropping a server that is alive but busy with this client's backlog (its
        messages held, its socket unread; a review saw a 2 s keepalive do that): any frame counts as
        an answer, as a pong does (the server sends the verdicts of what it works through), and the
        wait counts only while nothing this client wrote is still in its outbox or its socket's
        buffer (the ping then waits behind it, unread), up to :data:`UNREAD_KEEPALIVES` keepalives
        of silence in all."""
        loop = asyncio.get_running_loop()
        transport = self.ws.transport
        while True:
            await asyncio.sleep(every / 4)
            if not (self.streams or self._pongs) or loop.time() - self._heard < every:
                continue
            # The ping and its pong, as one wait: writing the ping waits for the write buffer
            # to drain, which never happens where the server reads nothing (a review: awaited
            # on its own, it held the keepalive there for ever).
            answered = asyncio.ensure_future(self._ping_pong())
            answered.add_done_callback(lambda f: f.cancelled() or f.exception())  # read, if lost
            asked = last = loop.time()
            silent = 0.0
            while not answered.done() and self._heard <= asked:
                await asyncio.wait([answered], timeout=every / 8)
                now = loop.time()
                if not self._outbox and transport.get_write_buffer_size() == 0:
                    silent += now - last
                last = now
                if ((silent >= every or now - asked >= UNREAD_KEEPALIVES * every)
                        and not answered.done() and self._heard <= asked):
                    self._given_up = True
                    answered.cancel()
                    transport.abort()  # the reader ends, and _ended tells the streams
                    return
            error = answered.exception() if answered.done() else None
            if isinstance(error, ConnectionClosedError | ConnectionClosed):
                return
            if isinstance(error, StreamGuardError):  # the server answered, dropping the ping
                continue
            if error is not None:  # a fault of ours: the connection goes on unwatched, said once
                log.error("the client's keepalive failed; the connection is not watched",
                          exc_info=error)
                return

    async def _ping_pong(self) -> None:
        """A protocol ``ping`` written and its ``pong`` received: a message, as the JavaScript
        client's (a browser sends no WebSocket ping), so a connection whose stream waits on a
        slow LLM is not idle to the server, whose ``idle_timeout_s`` counts messages only (a
        review: a 300 s pause mid-answer ended the stream there, drained, where the JavaScript
        client went on)."""
        await self.ping()

    def _cancel_soon(self, sid: str) -> None:
        """Cancel ``sid`` on the server before any frame sent after this call (a start retried
        with the same id must not be met by this cancel): queued, sent by the next send, or in
        the background if none comes. Not awaited: the caller may be a cancelled task."""
        self._cancels.append(sid)
        self._ghosts[sid] = self._ghosts.get(sid, 0) + 1
        task = asyncio.create_task(self._flush_cancels())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_cancels(self) -> None:
        with contextlib.suppress(ConnectionClosedError):
            async with self._send_lock:
                await self._send_cancels()

    async def _send_cancels(self) -> None:
        while self._cancels and self.closed is None:
            await self._send({"type": "cancel", "stream_id": self._cancels.popleft()})

    async def open_stream(self, start: dict[str, Any], mode: Mode, timeout: float,
                          on_event: Callable[[Event], None] | None = None) -> GuardStream:
        """Send ``start`` and wait for ``started``; a refusal raises its typed error.
        ``on_event``: see :meth:`GuardClient.start`."""
        sid: str = start["stream_id"]
        if sid in self.streams:
            raise DuplicateStreamError(f"stream {sid!r} is already open on this connection", sid)
        stream = GuardStream(self, sid, mode,
                             delta_chars(sid, self._max_delta, self._max_frame_bytes), on_event)
        self.streams[sid] = stream
        sent = False

        def start_frame() -> Frame:
            nonlocal sent
            sent = True  # written at once: a cancellation in its drain leaves it on the wire
            return start

        try:
            await self.send_frame(start_frame)
            try:
                # asyncio.timeout, not wait_for: before 3.12 wait_for swallows a cancellation
                # that lands as ``started`` arrives, and the cancelled task went on streaming
                async with asyncio.timeout(timeout):
                    await asyncio.shield(stream.started)
            except TimeoutError:
                if stream.started.done():  # it came as the timer fired: take it
                    stream.started.result()
                else:
                    raise StartTimeoutError(f"no answer to start within {timeout} s") from None
        except BaseException:
            if self.streams.get(sid) is stream:
                del self.streams[sid]
            refused = stream.started.done() and not stream.started.cancelled() \
                and stream.started.exception() is not None  # the error raised here says it
            if sent and not refused and self.closed is None:
                # Timed out or cancelled with the start on the wire: the server may take it
                # (or has), so cancel it there, or it holds a stream slot and its id until
                # the connection ends.
                self._cancel_soon(sid)
            raise
        return stream

    async def ping(self) -> float:
        """Round trip of a protocol ``ping`` in seconds (through the server's frame loop)."""
        # Pongs answer pings in order, so the waiter is queued as the frame is written (past
        # the send lock, where websockets writes before its first await), and stays queued
        # when its caller gives up (a timeout cancels it): its pong is skipped then, not
        # taken for the next ping's.
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        began = time.perf_counter()
        try:
            await self.send_frame({"type": "ping"}, pong=waiter)
            await waiter
        finally:
            # Given up, even as its frame was written: nobody awaits the waiter, so the
            # connection's end must not set an error on it (never retrieved, a review found).
            waiter.cancel()
        return time.perf_counter() - began

    async def close(self) -> None:
        """Close normally; streams still open end with a ``ConnectionClosedError`` (1000)."""
        await self.ws.close()
        await asyncio.shield(self._reader)

    # --- receiving ----------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self._heard = asyncio.get_running_loop().time()
                frame = orjson.loads(message)
                if not isinstance(frame, dict):
                    raise MalformedFrame(f"a frame must be a JSON object: {message!r:.80}")
                if frame.get("type") == "pong":
                    if self._pongs:
                        self._answer_ping(None)
                    continue
                event = parse_event(frame)
                if event is None:
                    log.debug("skipping a frame of a type this client does not know: %.80r",
                              message)
                    continue
                self._route(event)
        except ConnectionClosed:
            pass
        except (orjson.JSONDecodeError, MalformedFrame) as exc:
            log.error("the server sent a frame this client cannot read: %s", exc)
            await self.ws.close(_PROTOCOL_ERROR, "unreadable frame")
        except Exception:
            # A fault of this client's: the streams learn the connection is gone (below), so
            # the socket must go too, or it stays open with nobody reading it.
            log.exception("the client's frame reader failed; closing the connection")
            await self.ws.close(_INTERNAL_ERROR, "client error")
        finally:
            self._ended()

    def _answer_ping(self, error: StreamGuardError | None) -> None:
        """The oldest ping's answer: its pong, or the error the server dropped it with."""
        waiter = self._pongs.popleft()
        if waiter.done():  # its caller gave up
            return
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)

    def _route(self, event: Event) -> None:
        if isinstance(event, ErrorEvent) and event.stream_id is None:
            if event.code == ErrorCode.RATE_LIMITED and self._pongs:  # a dropped ping
                # A dropped ping is answered with this error instead of its pong (the server
                # names the stream of any other frame it drops, if the frame is readable): left
                # queued, its waiter would take the next ping's pong, and every later ping its
                # predecessor's. It is no stream's: they lost nothing.
                self._answer_ping(event.error)
                return
            # Not addressed: any started stream may have lost a message. A start still waiting
            # is not failed by it; if the start itself was dropped, its timeout says so.
            for open_stream in list(self.streams.values()):
                if open_stream.started.done():
                    open_stream.deliver(event)
            return
        sid = event.stream_id or ""
        if self._ghosts.get(sid):
            # Frames of a start given up and cancelled come before any of a new stream with
            # its id (the cancel went out before the new start): they end with its done, or
            # with the error answering the cancel when the server no longer had it open.
            if isinstance(event, Done) or (isinstance(event, ErrorEvent)
                                           and event.code in CANCEL_ANSWERS):
                if self._ghosts[sid] == 1:
                    del self._ghosts[sid]
                else:
                    self._ghosts[sid] -= 1
            return
        stream = self.streams.get(sid)
        if stream is None:
            log.debug("frame for a stream that is not open here: %r", event)
            return
        refused = isinstance(event, ErrorEvent) and not stream.started.done()
        stream.deliver(event)
        if refused or isinstance(event, Done):
            del self.streams[stream.stream_id]

    def _ended(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
        code, reason = self.ws.close_code, self.ws.close_reason or ""
        if self._given_up:  # say why, not websockets' bare 1006
            code, reason = _ABNORMAL, KEEPALIVE_REASON
        self.closed = closed_error(code, reason)
        self._drop_outbox()
        for sid, stream in self.streams.items():
            stream.lose(closed_error(code, reason, sid, started=stream.accepted))
        self.streams.clear()
        while self._pongs:
            waiter = self._pongs.popleft()
            if not waiter.done():
                waiter.set_exception(self.closed)
