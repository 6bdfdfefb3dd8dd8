"""One WebSocket connection: read messages, throttle them, schedule scoring, write frames.

Every protocol decision (streams, caps, budget, drain, kill, errors, closes) is the pure
:class:`~stream_guard.oversight.session.Session`'s; this class only moves bytes and time around
it. Messages arrive by callback from the transport (:mod:`stream_guard.server.transport`), no
task switch or timer per message; one timer per connection keeps the idle and lifetime clocks.
Frames are written the moment they are produced, in that order, without a task switch or a
lock per frame; a client that stops reading while its unread frames pile up past
:data:`~stream_guard.server.transport.MAX_UNREAD_BYTES` is closed (1008), so it can pin
neither memory nor anyone else's time.
Scoring a window is a task of its own that awaits the engine's check (the shared scheduler),
except where the engine can score it at once on the loop (the lexical tier, a small inline
context): then the verdict goes out within the same callback that read the delta. At most
``max_windows_in_flight`` windows of one connection wait for the scheduler; the rest wait here,
in order, and the client's further messages wait unread (TCP backpressure) until its windows are
answered (past about a megabyte of them; see the transport), so one client's backlog can
fill neither the shared queue nor memory, and every message read is still scored. The one
exception is a cancel, which abandons what waits for its stream and so is taken as it arrives.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from stream_guard.config import Settings
from stream_guard.guard.limits import Admission, MessageLimiter
from stream_guard.guard.overload import LoadGauge
from stream_guard.metrics import Metrics
from stream_guard.oversight.session import (
    Close,
    ConnectionClock,
    Drain,
    Expiry,
    Outcome,
    ScoreJob,
    Session,
    SessionConfig,
)
from stream_guard.oversight.stream import PolicyConfig
from stream_guard.protocol.errors import (
    NOT_READING_REASON,
    CloseCode,
    ErrorCode,
    ProtocolError,
    layer_refusal,
)
from stream_guard.protocol.frames import Cancel, Delta, End, Ping, Start
from stream_guard.protocol.server_frames import Done, Error, Halt, ServerFrame, Started, encode
from stream_guard.scores import WindowScore
from stream_guard.scoring.engine import GroundingEngine, NoEvidence, StreamEvidence, StreamRequest
from stream_guard.server.http import Admitted
from stream_guard.server.transport import CallbackConnection
from stream_guard.state.base import KillTarget

log = logging.getLogger("stream_guard.connection")

_ids = itertools.count(1)
# The last seconds of a drain's grace (at most half of it) in which the streams still open are
# ended by the server and their last windows scored (Connection._end_streams_within).
DRAIN_SCORING_S = 1.0
# Refusals counted as rejections (metrics only; the session decided them). Closes for abuse
# are counted by their ``abuse`` label.
_REJECTIONS: dict[ErrorCode, str] = {
    ErrorCode.RATE_LIMITED: "rate_limited", ErrorCode.BUDGET_EXCEEDED: "budget",
    ErrorCode.DRAINING: "draining", ErrorCode.OVERLOADED: "overloaded"}


class ConnectionHost(Protocol):
    """What a connection needs of the server it runs in, and nothing more: settings, metrics,
    the load gauge (new streams are refused while it reads overloaded), the worker index its
    id is named after, and the penalty box for an address whose connection was closed for
    abuse. Narrow on purpose (like uvicorn's ``ServerState``): a connection cannot reach the
    server's stores, keys or other connections.
    """

    @property
    def settings(self) -> Settings: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def load(self) -> LoadGauge: ...

    @property
    def worker(self) -> int | None: ...

    def penalize(self, ip: str, reason: str) -> None: ...


class _Admission:
    """The server's side of admitting a stream, as the session asks for it."""

    def __init__(self, load: LoadGauge, engine: GroundingEngine, tenant: str) -> None:
        self._load = load
        self._engine = engine
        self._tenant = tenant

    def overloaded(self) -> bool:
        return self._load.overloaded

    def prepare(self, frame: Start) -> StreamRequest:
        try:
            return self._engine.validate(self._tenant, frame.context, frame.collection,
                                         frame.prompt)
        except NoEvidence as exc:
            raise ProtocolError(exc.code, str(exc), frame.stream_id) from None


class Connection:
    def __init__(self, server: ConnectionHost, engine: GroundingEngine, ws: CallbackConnection,
                 admitted: Admitted) -> None:
        self.server = server
        self.engine = engine
        self.ws = ws
        self.principal = admitted.principal
        self.ip = admitted.ip
        # Numbered per process: a worker's are named after it, as its log lines are (a review:
        # every worker of serve --workers had its own "c1").
        self.cid = ("" if server.worker is None else f"w{server.worker}-") + f"c{next(_ids)}"
        s = server.settings
        self._loop = asyncio.get_running_loop()
        opened = self._loop.time()
        self._clock = ConnectionClock(s.idle_timeout_s, s.max_lifetime_s, opened)
        self.limiter = MessageLimiter(s.rate_per_s, s.rate_burst, s.rate_strikes, opened)
        self.session: Session[StreamRequest] = Session(SessionConfig(
            s.max_streams_per_connection, s.max_chars_per_connection, s.max_frame_bytes,
            PolicyConfig(engine.threshold, s.contradiction_threshold, s.halt_consecutive,
                         engine.clear_margin, s.window_max_chars, s.window_min_chars,
                         engine.run_at_end)),
            _Admission(server.load, engine, self.principal.tenant))
        self._evidence: dict[str, asyncio.Future[StreamEvidence]] = {}
        self._tasks: dict[str, set[asyncio.Task[None]]] = {}
        self._in_flight = 0  # check tasks running
        self._backlog: collections.deque[tuple[ScoreJob, float]] = collections.deque()
        self._segmenting = False  # a delta's text is being segmented a slice at a time
        self._streams_ended: asyncio.Event | None = None  # set by drain(), fired by _apply()
        self._drain_cut = False  # the server's drain was cut short (cut_drain)
        self._streams_counted = 0  # what this connection adds to the streams_open gauge
        self._drain_task: asyncio.Future[None] | None = None  # a lifetime's or budget's drain
        # Set when the client broke a limit: nothing more is taken, what was is still checked.
        self._closing: Close | None = None
        # "auth": how the connection proved its tenant (api_key, ticket, dev): a browser's
        # connection that logs api_key is a key leaked into a page.
        self._log_extra = {"conn": self.cid, "tenant": self.principal.tenant,
                           "auth": self.principal.via}
        # Labelled children looked up once, not per message (a labels() call takes a lock).
        self._frames_received = {kind: server.metrics.frames_received.labels(
            kind.__name__.lower()) for kind in (Start, Delta, End, Cancel, Ping)}
        # Per-delta counts are summed here and added to the metrics before any frame that answers
        # (and at the end): a Prometheus counter takes a lock per increment.
        self._deltas_uncounted = 0
        self._chars_uncounted = 0
        self._finished: asyncio.Future[Close | None] = self._loop.create_future()
        self._watchdog = self._loop.call_at(self._clock.next_check(), self._watch)

    # --- lifecycle ----------------------------------------------------------------------------
    async def run(self) -> None:
        self.ws.deliver_to(self._on_message, self._on_lost, self._on_held, self._on_refused)
        try:
            close = await self._finished
            if close is not None:  # else the client is gone: nothing more can be written
                await self._close(close)
        finally:
            self._watchdog.cancel()
            if self._drain_task is not None:
                self._drain_task.cancel()
            self._backlog.clear()
            self._flush_counts()
            self.server.metrics.streams_open.dec(self._streams_counted)
            self._streams_counted = 0
            for tasks in self._tasks.values():
                for task in tasks:
                    task.cancel()
            for opening in self._evidence.values():  # set-up no stream will use
                opening.cancel()
            self._evidence.clear()

    def _finish(self, close: Close | None) -> None:
        """The connection is over: ``close`` is what to send, None when the client is gone.
        Messages still arriving are dropped, but read, so the close handshake completes."""
        if not self._finished.done():
            self._finished.set_result(close)
            self.ws.stop_delivery()

    async def _close(self, close: Close) -> None:
        """The close handshake, bounded: websockets waits for its write buffer to drain before
        its own close timeout starts, so a client that does not read would hold the connection
        (and its slots) for ever; past ``close_timeout_s`` the socket is dropped."""
        try:
            async with asyncio.timeout(self.server.settings.close_timeout_s):
                await self.ws.close(close.code, close.reason)
        except ConnectionClosed:
            pass
        except TimeoutError:
            self.ws.transport.abort()

    async def drain(self, grace: float, cause: Drain = Drain.SHUTDOWN) -> None:
        """Shutdown, or this connection's lifetime or budget spent: open streams may go on for
        up to ``grace`` (the session still takes their deltas and refuses a new ``start``),
        then the session ends every stream still open and the connection closes 1001.

        Taking nothing more at once would drop deltas the client sent before it could know,
        with no answer for them; this way every delta read is either scored or refused. A
        connection already draining (its lifetime ran out) is drained by whichever grace ends
        first.
        """
        if self._closing is not None:  # closing for the client's doing: that drain, bounded
            if self._drain_task is not None:
                await asyncio.wait((self._drain_task, self._finished), timeout=grace,
                                   return_when=asyncio.FIRST_COMPLETED)
            return
        self.session.start_drain(cause)
        await self._end_streams_within(grace)

    async def _end_streams_within(self, grace: float, close: Close | None = None) -> None:
        """Wait up to ``grace`` for the open streams to end, then ``done`` for each still open
        and close (1001, or ``close``).

        A drain's streams that have not ended by the last :data:`DRAIN_SCORING_S` of the
        grace (at most half of it) are ended here, as their own ``end`` would end them, and
        their last windows scored in that time (a verdict is due within its deadline, the
        lexical tier's past it): the text after a stream's last checked sentence was already
        shown in observe mode, and a drain's ``done`` at once left it unchecked (a review:
        "... made of gold" sent, then SIGTERM, and no verdict, where an idle timeout halted)."""
        owed = 0.0 if self._closing is not None else min(DRAIN_SCORING_S, grace / 2)
        if await self._streams_end_within(grace - owed) and owed and self._end_open_streams():
            await self._streams_end_within(owed)
        if self._finished.done():
            return
        # A close for the client's doing that came during this drain says its own code.
        outcome = self.session.finish_drain(close or self._closing)
        self._apply(outcome)
        if outcome.close is not None:
            self._finish(outcome.close)

    async def _streams_end_within(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the open streams to end; whether any is still open (and
        the connection not over: a client gone mid-drain ends no stream, and the shutdown
        waited out the whole grace for it), and the drain not cut short."""
        if self._streams_pending():
            if self._streams_ended is None:
                self._streams_ended = asyncio.Event()
            ended = asyncio.ensure_future(self._streams_ended.wait())
            try:
                await asyncio.wait((ended, self._finished), timeout=seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                ended.cancel()
        return self._streams_pending()

    def _streams_pending(self) -> bool:
        return bool(self.session.open_streams) and not self._finished.done() and \
            not self._drain_cut

    def cut_drain(self) -> None:
        """The server's drain is cut short (a second SIGTERM): the wait for the open streams
        ends now, and they get ``done`` and the close at once, as when the grace runs out,
        without the last second's scoring (:meth:`_end_streams_within`)."""
        self._drain_cut = True
        if self._streams_ended is not None:
            self._streams_ended.set()

    def _close_after_owed(self, close: Close) -> None:
        """The client broke a limit (a message too large, a flood, twice its budget): nothing
        more of it is taken, but the session ends its open streams (:meth:`Session.
        end_for_close`), their windows are scored within ``shutdown_grace_s`` and their
        verdicts, halts and ``done`` sent; then the connection closes with ``close`` (counted,
        and the address held back, when it answers abuse)."""
        if self._closing is not None or self._finished.done():
            return
        if close.abuse is not None:
            self._charge(close.abuse)
        self._closing = close
        self.ws.stop_delivery()
        if self._drain_task is not None:  # a budget's or lifetime's drain: this one ends it
            self._drain_task.cancel()
        if not self._end_open_streams():
            return
        self._drain_task = asyncio.ensure_future(
            self._end_streams_within(self.server.settings.shutdown_grace_s, close))

    def _end_open_streams(self) -> bool:
        """The session ends every open stream as its own ``end`` would
        (:meth:`Session.end_for_close`) and its last windows go to be scored; False when that
        failed (a fault of ours: the connection is closed 1011)."""
        self._segmenting = False  # the session's end takes the rest of a delta being sliced
        try:
            self._apply(self.session.end_for_close(), time.perf_counter())
        except Exception:
            log.exception("ending the streams for a close failed", extra=self._log_extra)
            self._finish(Close(CloseCode.INTERNAL_ERROR, "internal error"))
            return False
        return True

    def kill(self, target: KillTarget) -> None:
        """Operator kill switch: the session halts the streams ``target`` names."""
        tenant = self.principal.tenant
        self._apply(self.session.kill(lambda sid: target.matches(tenant, sid)))

    # --- reading ------------------------------------------------------------------------------
    def _on_message(self, message: str | bytes, received: float,
                    withdraws: list[int] | None = None) -> None:
        """One client message, handed over by the transport as soon as it is parsed, or once
        released when it was held (``received``: when it arrived, by the loop's clock).
        ``withdraws``: the held messages it makes moot, dropped once it is admitted.

        Its windows' latencies and verdict deadline run from when it was read, not handed
        over: a delta held behind the connection's backlog (another user's long answer on a
        backend's shared connection) waited there too, and the latency metrics showed 50 ms
        for halts that reached the client 1.5 s after their delta (a review)."""
        now = self._loop.time()
        self._clock.touch(now)
        arrived = time.perf_counter() - max(0.0, now - received)
        # Its rate by when the client sent it: charged when released, a backlog's held messages
        # came in one burst, and a client within its rate lost deltas to rate_limited (then
        # every later one to bad_seq) because the server had held them.
        admission = self.limiter.admit(received)
        if withdraws and admission is Admission.OK:
            self.ws.withdraw(withdraws)
        outcome = self._decide(
            (lambda: self.session.receive(message)) if admission is Admission.OK else
            (lambda: self.session.throttled(message, abusive=admission is Admission.ABUSE)),
            arrived)
        if outcome is not None and outcome.close is not None:
            self._close_after_owed(outcome.close)

    def _on_held(self, message: str | bytes, received: float) -> bool:
        """A message that arrived while this client's messages are held: a cancel for an open
        stream is taken at once, with the stream's held deltas and end (the session decides,
        :meth:`Session.cancel_ahead`), instead of waiting while the windows it abandons are
        scored; True when it was taken."""
        if self._finished.done() or self._closing is not None:
            return False
        withdraws = self.session.cancel_ahead(message, self.ws.waiting())
        if withdraws is None:
            return False
        # Its rate as of the oldest message held: charged at its own later time, it took the
        # refill of the time they waited, and they were then rate-limited (a review).
        oldest = self.ws.held_since()
        self._on_message(message, received if oldest is None else min(received, oldest),
                         withdraws)
        return True

    def _decide(self, session_step: Callable[[], Outcome[StreamRequest]],
                arrived: float) -> Outcome[StreamRequest] | None:
        """Take the session's decision and carry it out; None when that failed (a fault of
        ours: the connection is closed 1011). A delta still being segmented (``more``) holds
        this client's next messages and goes on at the next turn of the event loop."""
        try:
            outcome = session_step()
            if outcome.more is not None:  # before _apply, which may hand over held messages
                self._segmenting = True
                self.ws.hold()
            self._apply(outcome, arrived)
        except Exception:
            log.exception("message handling failed", extra=self._log_extra)
            self._finish(Close(CloseCode.INTERNAL_ERROR, "internal error"))
            return None
        if outcome.more is not None:
            self._loop.call_soon(self._segment_more, outcome.more, arrived)
        return outcome

    def _segment_more(self, sid: str, arrived: float) -> None:
        """The next slice of a large delta: one per turn of the event loop, so other
        connections run in between."""
        if self._finished.done() or self._closing is not None:
            return
        outcome = self._decide(lambda: self.session.segment_more(sid), arrived)
        if outcome is None or outcome.more is not None:
            return
        self._segmenting = False
        self._hold_or_release()

    def _on_refused(self, code: int, reason: str) -> None:
        """The transport refused what the client did to the connection itself (a flood of
        control frames or fragments) and reads no more of it: as for a flood of messages,
        what was taken is still answered before the close."""
        self._close_after_owed(Close(CloseCode(code), reason, layer_refusal(code, reason)))

    def _on_lost(self) -> None:
        """The TCP connection is closed. When the transport or websockets refused the
        client's data (invalid UTF-8, a message far over the size limit, a flood of control
        frames before this connection took its messages: after, :meth:`_on_refused`), that
        counts as a rejection, and as abuse."""
        protocol = self.ws.protocol
        sent = protocol.close_sent
        reason = None if sent is None else layer_refusal(sent.code, sent.reason)
        if reason is not None and not protocol.close_rcvd_then_sent and not self._finished.done():
            self._charge(reason)
        self._finish(None)

    def _charge(self, abuse: str) -> None:
        """The client is closed for ``abuse`` (a rejection's label): counted, and its address
        held back as the penalty box says (:meth:`ConnectionHost.penalize`). Every close for
        the client's doing comes here, whichever layer saw it."""
        self.server.metrics.rejections.labels(abuse).inc()
        self.server.penalize(self.ip, abuse)

    def _watch(self) -> None:
        """The idle and lifetime timer (:class:`ConnectionClock`), re-armed only when it
        fires. It may fire a little early (uvloop's timers have millisecond resolution); it
        then re-arms for what is left."""
        expiry = self._clock.expiry(self._loop.time(), owed=bool(self._in_flight or self._backlog))
        if expiry is None:
            self._watchdog = self._loop.call_at(self._clock.next_check(), self._watch)
            return
        ending = self._expired(expiry)
        if isinstance(ending, Drain):  # no re-arm: the drain ends the connection
            self._begin_drain(ending)
        elif self.session.open_streams:
            # text taken but not yet a window (a sentence with no end) is scored, and each
            # open stream gets its verdicts, halt and done before the close (it was closed
            # unscored, with no done: a review)
            self._close_after_owed(ending)
        else:
            self._finish(ending)

    def _begin_drain(self, cause: Drain) -> None:
        """This connection drains on its own (lifetime, budget): streams in flight finish
        within ``shutdown_grace_s``, as in a shutdown, and new ones go to a new connection."""
        if self._drain_task is None:
            self._drain_task = asyncio.ensure_future(
                self.drain(self.server.settings.shutdown_grace_s, cause))

    def _expired(self, expiry: Expiry) -> Close | Drain:
        self.server.metrics.rejections.labels(expiry.value).inc()
        return self.session.expired(expiry)

    # --- carrying out the session's decisions -------------------------------------------------
    def _apply(self, outcome: Outcome[StreamRequest], arrived: float | None = None) -> None:
        """Do what the session decided. ``arrived``: when the input that caused it was read
        (for deadlines and halt latency); None for server-side inputs (kill, drain)."""
        metrics = self.server.metrics
        if outcome.received is Delta:
            self._deltas_uncounted += 1
        elif outcome.received is not None:
            self._frames_received[outcome.received].inc()
        self._chars_uncounted += outcome.chars
        if outcome.frames or outcome.labels or outcome.close is not None:
            self._flush_counts()  # counted before the client can see an answer
        for label in outcome.labels:
            metrics.windows.labels(label).inc()
        for sid in outcome.stop:
            self._stop(sid)
        if outcome.drain is not None:
            self._begin_drain(outcome.drain)
        if outcome.opened is not None:
            sid, request = outcome.opened
            opening = asyncio.ensure_future(self.engine.open_stream(request, owner=self))
            opening.add_done_callback(_consume_exception)
            self._evidence[sid] = opening
        for frame in outcome.frames:
            self._send(frame, arrived)
        if outcome.score:
            assert arrived is not None, "windows come from client messages or their close"
            # Windows the engine can check right here (its per-turn budget, for all connections:
            # engine.check_at_once) are; a delta that completes more (a whole answer at once)
            # has the rest checked as tasks, so one message does not hold the loop for all.
            for job in outcome.score:
                evidence = self._evidence.get(job.stream_id)
                if evidence is None or self._finished.done():  # the stream or connection ended
                    continue
                if self._check_at_once(job, evidence, arrived):
                    continue
                self._backlog.append((job, arrived))
            self._start_checks()
        if self._streams_ended is not None and not self.session.open_streams:
            self._streams_ended.set()
        if self.session.open_streams != self._streams_counted and not self._finished.done():
            self.server.metrics.streams_open.inc(self.session.open_streams - self._streams_counted)
            self._streams_counted = self.session.open_streams

    def _flush_counts(self) -> None:
        if self._deltas_uncounted:
            self._frames_received[Delta].inc(self._deltas_uncounted)
            self._deltas_uncounted = 0
        if self._chars_uncounted:
            self.server.metrics.chars_received.inc(self._chars_uncounted)
            self._chars_uncounted = 0

    def _stop(self, sid: str) -> None:
        """Cancel a stream's scoring (the session has no use for it any more), except the task
        that delivered the score which ended it: that one is finishing anyway. Its evidence
        set-up is cancelled too (it leaves the queue if it has not started; one already running
        finishes in its thread): set-up is one queue for every stream of the server
        (``engine.open_stream``), and a client opening and cancelling streams in a loop used to
        fill it with work for no one, delaying everyone's next stream."""
        opening = self._evidence.pop(sid, None)
        if opening is not None and not opening.done():
            opening.cancel()
        if self._backlog:
            self._backlog = collections.deque(w for w in self._backlog if w[0].stream_id != sid)
            if not self._backlog:
                # The client's held messages are due now; after the frames of this outcome
                # (call_soon: handed over from inside _apply they would be answered first).
                # They were held for good (a review: after a halt behind 64 windows, no done
                # and no pong).
                asyncio.get_running_loop().call_soon(self._start_checks)
        current = asyncio.current_task()
        for task in self._tasks.pop(sid, ()):
            if task is not current:
                task.cancel()

    def _start_checks(self) -> None:
        """Start waiting windows' checks while fewer than ``max_windows_in_flight`` run; the
        client's messages are held while any window waits here."""
        limit = self.server.settings.max_windows_in_flight
        while self._backlog and self._in_flight < limit:
            job, arrived = self._backlog.popleft()
            evidence = self._evidence.get(job.stream_id)
            if evidence is None or self._finished.done():  # the stream or connection ended
                continue
            task = asyncio.create_task(self._check(job, evidence, arrived))
            self._in_flight += 1
            tasks = self._tasks.setdefault(job.stream_id, set())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            task.add_done_callback(self._check_ended)
        self._hold_or_release()

    def _hold_or_release(self) -> None:
        """The client's messages wait while windows wait for a check slot or a delta is still
        being segmented; they are handed over again, in order, once neither is the case."""
        if self._backlog or self._segmenting:
            self.ws.hold()
        else:
            self.ws.release()

    def _check_ended(self, _: asyncio.Task[None]) -> None:
        self._in_flight -= 1
        if self._backlog:
            self._start_checks()

    def _check_at_once(self, job: ScoreJob, evidence: asyncio.Future[StreamEvidence],
                       arrived: float) -> bool:
        """Score the window here and now if its evidence is ready and the engine can (no task,
        no hand-off); False when it has to go through :meth:`_check`."""
        if not evidence.done() or evidence.cancelled() or evidence.exception() is not None:
            return False
        window = job.window
        try:
            score = self.engine.check_at_once(evidence.result(), window.text, window.previous)
        except Exception as exc:
            self._check_failed(job, exc)
            return True
        if score is None:
            return False
        self._scored(job, score, arrived)
        return True

    async def _check(self, job: ScoreJob, evidence: asyncio.Future[StreamEvidence],
                     arrived: float) -> None:
        window = job.window
        try:
            deadline_ms = self.server.settings.verdict_deadline_ms
            score = await self.engine.check(
                await evidence, window.text, window.previous,
                arrived + deadline_ms / 1000.0 if deadline_ms > 0 else None, self.cid,
                job.stream.bands)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._check_failed(job, exc)
            return
        self._scored(job, score, arrived)

    def _scored(self, job: ScoreJob, score: WindowScore, arrived: float) -> None:
        self.server.metrics.verdict_latency.observe(time.perf_counter() - arrived)
        try:
            outcome = self.session.scored(job, score)
        except ValueError as exc:  # scores no probability (a scorer bug): the stream as it was
            self._check_failed(job, exc)
            return
        self._apply(outcome, arrived)

    def _check_failed(self, job: ScoreJob, exc: Exception) -> None:
        log.error("window check failed", exc_info=exc, extra=self._log_extra)
        self._apply(self.session.failed(job, type(exc).__name__))

    # --- writing ------------------------------------------------------------------------------
    def _send(self, frame: ServerFrame, arrived: float | None = None) -> None:
        """Write a frame now, counting it; a halt's latency runs from its input's arrival."""
        metrics = self.server.metrics
        if isinstance(frame, Halt):
            metrics.streams_halted.labels(frame.reason).inc()
            extra = {**self._log_extra, "stream": frame.stream_id, "reason": frame.reason,
                     "at": frame.at}
            if self.server.settings.log_text:  # off by default: the text may be personal data
                extra["text"] = frame.text
            log.info("stream halted", extra=extra)
            if self._write(frame) and arrived is not None:
                metrics.halt_latency.observe(time.perf_counter() - arrived)
            return
        if isinstance(frame, Error):
            metrics.errors_sent.labels(frame.code.value).inc()
            rejection = _REJECTIONS.get(frame.code)
            if rejection is not None:
                metrics.rejections.labels(rejection).inc()
        elif isinstance(frame, Started):
            metrics.streams_started.inc()
        elif isinstance(frame, Done):
            metrics.streams_done.inc()
        self._write(frame)

    def _write(self, frame: ServerFrame) -> bool:
        """Hand the frame to the socket; False once the connection is closing (frames decided
        after the close are dropped, as the close says everything that is left)."""
        if self._finished.done() or not self.ws.write_text(encode(frame)):
            return False
        if self.ws.not_reading():
            # as when the transport finds it not reading (_on_lost): counted and held back (a
            # review: closed here, the address was not held back, as protocol.md says it is)
            self._charge("not_reading")
            self._finish(Close(CloseCode.POLICY_VIOLATION, NOT_READING_REASON, "not_reading"))
        return True


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Evidence preparation errors surface through the window checks that await it."""
    if not future.cancelled():
        future.exception()
