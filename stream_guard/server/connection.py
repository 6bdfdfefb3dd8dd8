"""One WebSocket connection: read frames, drive each stream's state machine, write frames.

Reading and writing are separate tasks joined by a queue, so a window's score can be written the
moment it is ready whatever the reader is doing, frames leave in the order they were produced, and
a client that stops reading slows only itself. Scoring a window is a task of its own that awaits
the shared scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from stream_guard.guard.limits import Admission, CharBudget, MessageLimiter
from stream_guard.oversight.segmenter import Window
from stream_guard.oversight.stream import PolicyConfig, StreamState
from stream_guard.protocol.errors import CloseCode, ErrorCode, ProtocolError
from stream_guard.protocol.frames import (
    Cancel,
    Delta,
    End,
    Ping,
    Start,
    encode,
    error_frame,
    parse_client_frame,
)
from stream_guard.scoring.engine import GroundingEngine, NoEvidence, StreamEvidence
from stream_guard.server.http import Admitted
from stream_guard.state.base import KillTarget

if TYPE_CHECKING:
    from stream_guard.server.app import Server

log = logging.getLogger("stream_guard.connection")

Frame = dict[str, Any]
_ids = itertools.count(1)
_LIBRARY_REFUSALS: dict[int, str] = {CloseCode.INVALID_DATA: "invalid_utf8",
                     CloseCode.MESSAGE_TOO_BIG: "frame_too_large"}


@dataclass(slots=True)
class _Stream:
    state: StreamState
    evidence: asyncio.Future[StreamEvidence]
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


class Connection:
    def __init__(self, server: Server, engine: GroundingEngine, ws: ServerConnection,
                 admitted: Admitted) -> None:
        self.server = server
        self.engine = engine
        self.ws = ws
        self.principal = admitted.principal
        self.ip = admitted.ip
        self.cid = f"c{next(_ids)}"
        s = server.settings
        self.limiter = MessageLimiter(s.rate_per_s, s.rate_burst, s.rate_strikes)
        self.budget = CharBudget(s.max_chars_per_connection)
        self.streams: dict[str, _Stream] = {}
        self.outbox: asyncio.Queue[tuple[Frame, float | None] | _Close] = asyncio.Queue()
        self.draining = False
        self._streams_ended: asyncio.Event | None = None  # set by drain(), fired by _forget()
        self._log_extra = {"conn": self.cid, "tenant": self.principal.tenant}
        # Labelled children looked up once, not per message (a labels() call takes a lock).
        self._frames_received = {kind: server.metrics.frames_received.labels(
            kind.__name__.lower()) for kind in (Start, Delta, End, Cancel, Ping)}

    # --- lifecycle ----------------------------------------------------------------------------
    async def run(self) -> None:
        writer = asyncio.create_task(self._write_loop(), name=f"{self.cid}-writer")
        discard: asyncio.Task[None] | None = None
        try:
            close = await self._read_loop()
            if close is not None:  # else the client is gone: nothing more can be written
                self.outbox.put_nowait(close)
                # Keep reading while the close handshake runs: the client's close frame may sit
                # behind messages nobody reads any more, and websockets stops reading the socket
                # once its queue is full, so the handshake would wait for close_timeout and the
                # connection's slots stay taken that long.
                discard = asyncio.create_task(self._discard_until_closed())
                await writer
        finally:
            writer.cancel()
            if discard is not None:
                discard.cancel()
            for stream in self.streams.values():
                for task in stream.tasks:
                    task.cancel()

    async def drain(self, grace: float) -> None:
        """Shutdown: open streams may go on for up to ``grace`` (their deltas are still taken
        and scored; a new ``start`` gets ``error draining``). Every stream still open after
        that gets ``done``, whose ``chars`` is exactly the text that was taken, then 1001.

        Taking nothing more at once would drop deltas the client sent before it could know,
        with no answer for them; this way every delta read is either scored or refused.
        """
        self.draining = True
        if self.streams:
            self._streams_ended = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._streams_ended.wait(), grace)
        for sid, stream in list(self.streams.items()):
            if not stream.state.finished:
                self._send(stream.state.drain())
            self._forget(sid)
        self.outbox.put_nowait(_Close(CloseCode.GOING_AWAY, "server shutting down"))

    def kill(self, target: KillTarget) -> None:
        """Operator kill switch: halt matching streams with reason ``operator``."""
        for sid, stream in self.streams.items():
            state = stream.state
            if state.halted or state.finished:
                continue
            if target.matches(self.principal.tenant, sid):
                frames = state.force_halt("operator")
                self.server.metrics.streams_halted.labels("operator").inc()
                for task in stream.tasks:
                    task.cancel()
                self._send_all(frames)

    # --- reading ------------------------------------------------------------------------------
    async def _read_loop(self) -> _Close | None:
        s = self.server.settings
        deadline = time.monotonic() + s.max_lifetime_s
        while True:
            lifetime_left = deadline - time.monotonic()
            timeout = min(s.idle_timeout_s, lifetime_left)
            if timeout <= 0:
                self.server.metrics.rejections.labels("lifetime").inc()
                return _Close(CloseCode.GOING_AWAY, "connection lifetime reached")
            try:
                # asyncio.timeout, not wait_for: no task per message on the hot path.
                async with asyncio.timeout(timeout):
                    message = await self.ws.recv()
            except TimeoutError:
                # Which bound was nearer, not the clock: uvloop's millisecond timers may fire
                # a little before the deadline.
                if lifetime_left <= s.idle_timeout_s:
                    self.server.metrics.rejections.labels("lifetime").inc()
                    return _Close(CloseCode.GOING_AWAY, "connection lifetime reached")
                self.server.metrics.rejections.labels("idle").inc()
                return _Close(CloseCode.GOING_AWAY, "idle timeout")
            except ConnectionClosed as exc:
                # The library itself refuses invalid UTF-8 and far oversized messages.
                reason = _LIBRARY_REFUSALS.get(exc.sent.code) if exc.sent else None
                if reason is not None and not exc.rcvd_then_sent:
                    self.server.metrics.rejections.labels(reason).inc()
                    self.server.penalize(self.ip, reason)
                return None
            admission = self.limiter.admit()
            if admission is Admission.ABUSE:
                self.server.metrics.rejections.labels("rate_abuse").inc()
                self.server.penalize(self.ip, "rate_abuse")
                return _Close(CloseCode.POLICY_VIOLATION, "too many rate-limited messages")
            if admission is Admission.RATE_LIMITED:
                self.server.metrics.rejections.labels("rate_limited").inc()
                self._error(ProtocolError(ErrorCode.RATE_LIMITED,
                                          "message rate limit exceeded; this message was dropped"))
                continue
            if _wire_size(message) > s.max_frame_bytes:
                self.server.metrics.rejections.labels("frame_too_large").inc()
                self.server.penalize(self.ip, "frame_too_large")
                self._error(ProtocolError(ErrorCode.FRAME_TOO_LARGE,
                                          f"messages are limited to {s.max_frame_bytes} bytes"))
                return _Close(CloseCode.MESSAGE_TOO_BIG, "frame too large")
            try:
                frame = parse_client_frame(message)
                self._frames_received[type(frame)].inc()
                close = self._dispatch(frame)
            except ProtocolError as exc:
                self._error(exc)
                continue
            if close is not None:
                return close

    def _dispatch(self, frame: Start | Delta | End | Cancel | Ping) -> _Close | None:
        if isinstance(frame, Delta):
            return self._on_delta(frame)
        if isinstance(frame, Start):
            self._on_start(frame)
        elif isinstance(frame, End):
            self._on_end(frame)
        elif isinstance(frame, Cancel):
            self._on_cancel(frame)
        else:
            self._send({"type": "pong"})
        return None

    def _on_start(self, frame: Start) -> None:
        sid = frame.stream_id
        s = self.server.settings
        if self.draining:
            self.server.metrics.rejections.labels("draining").inc()
            raise ProtocolError(ErrorCode.DRAINING, "the server is shutting down and takes no "
                                "new streams; start it on a new connection", sid)
        if sid in self.streams:
            raise ProtocolError(ErrorCode.DUPLICATE_STREAM, f"stream {sid!r} is already open", sid)
        active = sum(1 for st in self.streams.values() if not st.state.halted)
        if active >= s.max_streams_per_connection or len(self.streams) >= (
                4 * s.max_streams_per_connection):
            raise ProtocolError(
                ErrorCode.TOO_MANY_STREAMS,
                f"at most {s.max_streams_per_connection} streams may be open on one connection; "
                "end or cancel one first", sid)
        if self.server.load.overloaded:
            self.server.metrics.overloaded.labels("stream").inc()
            raise ProtocolError(ErrorCode.OVERLOADED, "the server is overloaded and takes no new "
                                "streams right now; retry shortly", sid)
        engine = self.engine
        try:
            prepared = engine.validate(self.principal.tenant, frame.context, frame.collection)
        except NoEvidence as exc:
            raise ProtocolError(exc.code, str(exc), sid) from None
        state = StreamState(sid, frame.options, PolicyConfig(
            engine.threshold, s.contradiction_threshold, s.halt_consecutive, engine.clear_margin,
            s.window_max_chars, s.window_min_chars))
        evidence = asyncio.ensure_future(engine.open_stream(prepared))
        evidence.add_done_callback(_consume_exception)
        self.streams[sid] = _Stream(state, evidence)
        self.server.metrics.streams_started.inc()
        self._send({"type": "started", "stream_id": sid})

    def _on_delta(self, frame: Delta) -> _Close | None:
        stream = self._stream(frame.stream_id)
        n = len(frame.text)
        if self.budget.used + n > self.budget.limit:
            self.server.metrics.rejections.labels("budget").inc()
            self._error(ProtocolError(
                ErrorCode.BUDGET_EXCEEDED, f"this connection may send at most "
                f"{self.budget.limit} characters; open a new connection", frame.stream_id))
            return _Close(CloseCode.MESSAGE_TOO_BIG, "character budget spent")
        arrived = time.perf_counter()
        windows = stream.state.on_delta(frame.seq, frame.text)
        self.budget.charge(n)
        self.server.metrics.chars_received.inc(n)
        self._schedule(stream, windows, arrived)
        return None

    def _on_end(self, frame: End) -> None:
        stream = self._stream(frame.stream_id)
        windows, frames = stream.state.on_end()
        self._schedule(stream, windows, time.perf_counter())
        self._send_all(frames)

    def _on_cancel(self, frame: Cancel) -> None:
        stream = self._stream(frame.stream_id)
        for task in stream.tasks:
            task.cancel()
        self._send(stream.state.cancel())
        self._forget(frame.stream_id)

    def _stream(self, sid: str) -> _Stream:
        stream = self.streams.get(sid)
        if stream is None:
            if self.draining:  # most likely ended by the drain: say so, not "unknown"
                raise ProtocolError(ErrorCode.DRAINING, f"stream {sid!r} is not open: the "
                                    "server is shutting down; this frame was not taken", sid)
            raise ProtocolError(ErrorCode.UNKNOWN_STREAM, f"no open stream {sid!r}", sid)
        return stream

    # --- scoring ------------------------------------------------------------------------------
    def _schedule(self, stream: _Stream, windows: list[Window], arrived: float) -> None:
        for window in windows:
            if window.kind == "code":
                self._send_all(stream.state.skip(window.index))
                continue
            task = asyncio.create_task(self._check(stream, window, arrived))
            stream.tasks.add(task)
            task.add_done_callback(stream.tasks.discard)

    async def _check(self, stream: _Stream, window: Window, arrived: float) -> None:
        state = stream.state
        try:
            evidence = await stream.evidence
            deadline_ms = self.server.settings.verdict_deadline_ms
            score = await self.engine.check(
                evidence, window.text, window.previous,
                arrived + deadline_ms / 1000.0 if deadline_ms > 0 else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("window check failed", extra=self._log_extra)
            self._error(ProtocolError(ErrorCode.INTERNAL,
                                      f"window {window.start}-{window.end} could not be scored: "
                                      f"{type(exc).__name__}", state.stream_id))
            self._send_all(state.skip(window.index))
            return
        self.server.metrics.verdict_latency.observe(time.perf_counter() - arrived)
        frames = state.on_scored(window.index, score)
        for label in state.take_labels():
            self.server.metrics.windows.labels(label).inc()
        for frame in frames:
            if frame["type"] == "halt":
                self.server.metrics.streams_halted.labels(frame["reason"]).inc()
                log.info("stream halted", extra={**self._log_extra, "stream": state.stream_id,
                                                 "reason": frame["reason"], "at": frame["at"]})
                self.outbox.put_nowait((frame, arrived))
            else:
                self._send(frame)

    # --- writing ------------------------------------------------------------------------------
    def _send(self, frame: Frame) -> None:
        self.outbox.put_nowait((frame, None))
        if frame["type"] == "done":
            # Forget at once, not when written: the id may be reused by the very next frame.
            self.server.metrics.streams_done.inc()
            self._forget(frame["stream_id"])

    def _send_all(self, frames: list[Frame]) -> None:
        for frame in frames:
            self._send(frame)

    def _error(self, exc: ProtocolError) -> None:
        self.server.metrics.errors_sent.labels(exc.code.value).inc()
        self._send(error_frame(exc.code, exc.message, exc.stream_id))

    async def _write_loop(self) -> None:
        metrics = self.server.metrics
        while True:
            item = await self.outbox.get()
            if isinstance(item, _Close):
                with contextlib.suppress(ConnectionClosed):
                    await self.ws.close(item.code, item.reason)
                return
            frame, arrived = item
            try:
                await self.ws.send(encode(frame), text=True)
            except ConnectionClosed:
                return
            if arrived is not None:
                metrics.halt_latency.observe(time.perf_counter() - arrived)

    def _forget(self, sid: str) -> None:
        stream = self.streams.get(sid)
        if stream is not None and stream.state.finished:
            del self.streams[sid]
            if not self.streams and self._streams_ended is not None:
                self._streams_ended.set()

    async def _discard_until_closed(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.ws.recv()


def _wire_size(message: str | bytes) -> int:
    """The message's size in bytes; ``str.isascii`` is O(1), so only non-ASCII text is encoded."""
    if isinstance(message, bytes) or message.isascii():
        return len(message)
    return len(message.encode())


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Evidence preparation errors surface through the window checks that await it."""
    if not future.cancelled():
        future.exception()
