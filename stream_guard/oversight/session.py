"""The protocol rules of one connection: its streams, their caps, the budget, drain and kill.

Pure and synchronous, like websockets' ``ServerProtocol`` or h11's ``Connection``: the socket
layer hands it each client message and each window's score, and it answers with an
:class:`Outcome` (frames to send, windows to score, streams whose scoring is moot, at most one
close). It never touches a socket, a clock or a task, so every rule of the protocol for many
streams on one connection lives here and is tested without a socket
(``tests/test_oversight_session.py``); the per-stream rules are :class:`StreamState`'s.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import orjson

from stream_guard.guard.limits import CharBudget
from stream_guard.oversight.segmenter import Window
from stream_guard.oversight.stream import Phase, PolicyConfig, StreamState
from stream_guard.protocol.errors import BUDGET_SPENT_REASON, CloseCode, ErrorCode, ProtocolError
from stream_guard.protocol.frames import (
    Cancel,
    ClientFrame,
    Delta,
    End,
    Ping,
    Start,
    parse_client_frame,
)
from stream_guard.protocol.server_frames import (
    Done,
    Error,
    Halt,
    Label,
    Pong,
    ServerFrame,
    Started,
)
from stream_guard.scores import WindowScore

P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)


class StreamAdmission(Protocol[P_co]):
    """What the server, not the protocol, knows about a new stream: whether it is too busy for
    one, and whether the stream's evidence exists (``prepare`` raises :class:`ProtocolError`
    when it does not, and otherwise returns what the scorer needs to open the stream)."""

    def overloaded(self) -> bool: ...

    def prepare(self, frame: Start) -> P_co: ...


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """``max_streams`` open (not halted) streams at a time; halted streams waiting for their
    ``end`` count against a table of four times that, so a client cannot pile them up."""

    max_streams: int
    # Delta characters over the connection's life: once spent, the connection drains (no new
    # streams; those on it may take as many characters again to finish), then closes.
    max_chars: int
    max_frame_bytes: int
    policy: PolicyConfig


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection. ``abuse``: the abuse it answers, for which the client's address
    is held back before it may connect again; None for an ordinary close."""

    code: CloseCode
    reason: str
    abuse: str | None = None


class Expiry(enum.Enum):
    """Which of the connection's clocks ran out (the socket layer keeps the time)."""

    IDLE = "idle"
    LIFETIME = "lifetime"


class ConnectionClock:
    """When a connection expires: ``idle_s`` without a message from the client while the
    server owes it nothing (a client waiting for its windows' verdicts is not idle), or
    ``lifetime_s`` after it opened. Pure: the caller passes the time, and asks again at
    :meth:`next_check` (one timer a connection, not a timeout per message)."""

    def __init__(self, idle_s: float, lifetime_s: float, now: float) -> None:
        self._idle_s = idle_s
        self._lifetime_end = now + lifetime_s
        self._last_active = now

    def touch(self, now: float) -> None:
        """A message from the client."""
        self._last_active = now

    def expiry(self, now: float, *, owed: bool) -> Expiry | None:
        """The clock that has run out at ``now``, if any; ``owed``: the server still owes
        the client frames (windows in flight), which keeps it active."""
        if owed:
            self._last_active = now
        if now >= self._lifetime_end:
            return Expiry.LIFETIME
        if now >= self._last_active + self._idle_s:
            return Expiry.IDLE
        return None

    def next_check(self) -> float:
        """When to ask again (a timer may fire a little early: it then asks again)."""
        return min(self._last_active + self._idle_s, self._lifetime_end)


class Drain(enum.Enum):
    """Why a connection takes no new stream and closes once the streams on it are done (a
    GOAWAY): its streams in flight are not cut. Only a server shutdown is the server's; a
    lifetime or a budget is the connection's, and the client opens a new one."""

    SHUTDOWN = "shutdown"
    LIFETIME = "lifetime"
    BUDGET = "budget"


_DRAIN_WHY = {Drain.SHUTDOWN: "the server is shutting down",
              Drain.LIFETIME: "this connection reached its maximum lifetime",
              Drain.BUDGET: "this connection spent its character budget"}
_DRAIN_CLOSE = {Drain.SHUTDOWN: "server shutting down",
                Drain.LIFETIME: "connection lifetime reached",
                Drain.BUDGET: BUDGET_SPENT_REASON}


@dataclass(frozen=True, slots=True)
class ScoreJob:
    """A window to score. It remembers its stream, so a late score for a stream that was
    forgotten is dropped even when a new stream has since taken the same id."""

    stream_id: str
    window: Window
    stream: StreamState = field(repr=False, compare=False)


@dataclass(slots=True)
class Outcome(Generic[P]):
    """What the connection must do after one input to the session.

    ``opened``: a new stream's id and its prepared evidence request. ``stop``: streams whose
    in-flight scoring is moot (halted, cancelled, killed or done): their tasks may be cancelled
    and their queued windows dropped.
    ``chars``: delta characters taken. ``labels``: the labels of the windows applied (metrics).
    ``received``: the kind of client frame parsed, if one was (metrics). ``more``: a stream
    whose delta still has text to segment: call :meth:`Session.segment_more` for it, after
    letting other work run, before handing this connection its next message. ``drain``: the
    connection now drains (its budget was spent): run the drain for it.
    """

    frames: list[ServerFrame] = field(default_factory=list)
    score: list[ScoreJob] = field(default_factory=list)
    opened: tuple[str, P] | None = None
    stop: list[str] = field(default_factory=list)
    close: Close | None = None
    chars: int = 0
    labels: list[Label] = field(default_factory=list)
    received: type[ClientFrame] | None = None
    more: str | None = None
    drain: Drain | None = None


class Session(Generic[P]):
    """The protocol state of one connection; one per connection, never shared."""

    def __init__(self, config: SessionConfig, admission: StreamAdmission[P]) -> None:
        self.config = config
        self._admission = admission
        # The hard limit: the budget, and as much again for the streams open when it is spent.
        self._budget = CharBudget(2 * config.max_chars)
        self._streams: dict[str, StreamState] = {}  # open streams; forgotten at ``done``
        # Streams whose cancel waits behind a start or cancel of the same id (cancel_ahead)
        self._cancel_blocked: set[str] = set()
        self.drained_by: Drain | None = None

    @property
    def draining(self) -> bool:
        return self.drained_by is not None

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    # --- client messages ----------------------------------------------------------------------
    def receive(self, message: str | bytes) -> Outcome[P]:
        """One client message, as read from the socket (after rate limiting)."""
        out: Outcome[P] = Outcome()
        if _wire_size(message) > self.config.max_frame_bytes:
            out.frames.append(Error(ErrorCode.FRAME_TOO_LARGE, "messages are limited to "
                                    f"{self.config.max_frame_bytes} bytes"))
            out.close = Close(CloseCode.MESSAGE_TOO_BIG, "frame too large", "frame_too_large")
            return out
        try:
            frame = parse_client_frame(message)
            out.received = type(frame)
            self._dispatch(frame, out)
        except ProtocolError as exc:
            out.frames.append(Error.refusing(exc))
        return out

    def throttled(self, message: str | bytes, *, abusive: bool) -> Outcome[P]:
        """The rate limiter dropped a message: say so, naming the stream it was for, or close
        1008 once the client has been told often enough (``abusive``) and keeps flooding.

        The message is parsed only to name its stream (nothing of it is taken): unnamed, the
        error reached every stream of the connection, and a client failed them all."""
        out: Outcome[P] = Outcome()
        if abusive:
            out.close = Close(CloseCode.POLICY_VIOLATION, "too many rate-limited messages",
                              "rate_abuse")
            return out
        sid, what = None, "this message was dropped"
        if _wire_size(message) <= self.config.max_frame_bytes:
            try:
                frame = parse_client_frame(message)
            except ProtocolError:
                frame = None
            if isinstance(frame, Delta):
                sid, what = frame.stream_id, (f"delta seq {frame.seq} was dropped (its text was "
                                              f"not taken: the stream still expects seq "
                                              f"{frame.seq})")
            elif frame is not None and not isinstance(frame, Ping):
                sid, what = frame.stream_id, f"this {type(frame).__name__.lower()} was dropped"
        out.frames.append(Error(ErrorCode.RATE_LIMITED, f"message rate limit exceeded; {what}",
                                sid))
        return out

    def cancel_ahead(self, message: str | bytes,
                     waiting: Iterable[str | bytes]) -> list[int] | None:
        """Whether ``message``, read while the connection's earlier messages still ``waiting``
        (behind its backlog of windows), is a cancel to take before them: the positions of the
        waiting messages it withdraws, or None when it waits its turn like any other.

        A cancel abandons its stream, so what the client sent for it before, and the windows it
        would cost, are moot: making it wait made a client pay for every window it had sent
        ahead. It goes first only when that changes nothing else: a cancel for a stream that
        is open, where the stream's waiting frames are deltas and an ``end`` (dropped with it,
        not taken: ``done``'s ``chars`` says what was); a waiting ``start`` or ``cancel`` of
        the same id would give the cancel another meaning, so then it waits, and so does every
        later cancel of that id until that frame is taken. Not while the connection drains:
        the drain closes once its last stream is done, and the messages before the cancel
        would go unanswered. Frames of other streams, pings and messages that do not parse
        keep their place. Only a message naming a cancel is parsed, and of the waiting ones
        only those that may be of its stream (the id in them, or an escape that may spell it).
        """
        if (not isinstance(message, str) or _CANCEL_MARK not in message
                or _wire_size(message) > self.config.max_frame_bytes or self.draining):
            return None  # binary frames are refused, in their turn
        try:
            frame = parse_client_frame(message)
        except ProtocolError:
            return None
        sid = frame.stream_id if isinstance(frame, Cancel) else None
        if sid is None or sid not in self._streams or sid in self._cancel_blocked:
            return None
        quoted = orjson.dumps(sid).decode()
        withdrawn = []
        for position, earlier in enumerate(waiting):
            if (not isinstance(earlier, str) or (quoted not in earlier and "\\" not in earlier)
                    or _wire_size(earlier) > self.config.max_frame_bytes):
                continue  # another stream's, or refused in its turn, unparsed
            try:
                other = parse_client_frame(earlier)
            except ProtocolError:
                continue
            if isinstance(other, Ping) or other.stream_id != sid:
                continue
            if not isinstance(other, Delta | End):
                self._cancel_blocked.add(sid)
                return None
            withdrawn.append(position)
        return withdrawn

    def expired(self, expiry: Expiry) -> Close | Drain:
        """The connection was idle too long, or reached its maximum lifetime: 1001 either way
        (the client reconnects), with the reason named; at its lifetime with streams open, it
        drains first (:class:`Drain`: the connection runs the drain), as for a shutdown."""
        if expiry is Expiry.LIFETIME:
            if self._streams:
                return Drain.LIFETIME
            return Close(CloseCode.GOING_AWAY, _DRAIN_CLOSE[Drain.LIFETIME])
        return Close(CloseCode.GOING_AWAY, "idle timeout")

    def _dispatch(self, frame: ClientFrame, out: Outcome[P]) -> None:
        if self._cancel_blocked and isinstance(frame, Start | Cancel):
            self._cancel_blocked.discard(frame.stream_id)  # what blocked a cancel is taken
        if isinstance(frame, Delta):
            self._on_delta(frame, out)
        elif isinstance(frame, Start):
            self._on_start(frame, out)
        elif isinstance(frame, End):
            state = self._stream(frame.stream_id)
            windows, frames = state.on_end()
            self._schedule(state, windows, out)
            self._emit(frames, out)
        elif isinstance(frame, Cancel):
            self._emit([self._stream(frame.stream_id).cancel()], out)  # done: scoring stops
        else:
            out.frames.append(Pong())

    def _on_start(self, frame: Start, out: Outcome[P]) -> None:
        sid = frame.stream_id
        cap = self.config.max_streams
        if self.drained_by is not None:
            raise ProtocolError(ErrorCode.DRAINING, f"{_DRAIN_WHY[self.drained_by]} and takes "
                                "no new streams; start it on a new connection", sid)
        if sid in self._streams:
            raise ProtocolError(ErrorCode.DUPLICATE_STREAM, f"stream {sid!r} is already open", sid)
        active = sum(1 for state in self._streams.values() if not state.halted)
        if active >= cap or len(self._streams) >= 4 * cap:
            raise ProtocolError(ErrorCode.TOO_MANY_STREAMS, f"at most {cap} "
                                f"stream{'' if cap == 1 else 's'} may be open on one "
                                "connection; end or cancel one first", sid)
        if self._admission.overloaded():
            raise ProtocolError(ErrorCode.OVERLOADED, "the server is overloaded and takes no new "
                                "streams right now; retry shortly", sid)
        prepared = self._admission.prepare(frame)
        self._streams[sid] = StreamState(sid, frame.options, self.config.policy)
        out.opened = (sid, prepared)
        out.frames.append(Started(sid))

    def _on_delta(self, frame: Delta, out: Outcome[P]) -> None:
        state = self._stream(frame.stream_id)
        # A delta the stream refuses anyway (halted, ended, out of order) gets that error and
        # costs nothing: it is not taken, so it cannot spend the budget either.
        state.check_delta(frame.seq)
        n = len(frame.text)
        if not self._budget.fits(n):
            out.frames.append(Error(
                ErrorCode.BUDGET_EXCEEDED, f"this connection may send at most "
                f"{self._budget.limit} characters; open a new connection", frame.stream_id))
            out.close = Close(CloseCode.MESSAGE_TOO_BIG, BUDGET_SPENT_REASON)
            return
        windows = state.on_delta(frame.seq, frame.text)  # charged only once taken
        self._budget.charge(n)
        out.chars = n
        if self._budget.used >= self.config.max_chars and self.drained_by is None:
            self.drained_by = out.drain = Drain.BUDGET
        self._schedule(state, windows, out)
        if state.unsegmented:
            out.more = state.stream_id

    def segment_more(self, sid: str) -> Outcome[P]:
        """The next slice of ``sid``'s last delta (``Outcome.more``): its windows to score."""
        out: Outcome[P] = Outcome()
        state = self._streams.get(sid)
        if state is not None:  # not ended by the drain (or killed and done) meanwhile
            self._schedule(state, state.segment_more(), out)
            if state.unsegmented:
                out.more = sid
        return out

    def _stream(self, sid: str) -> StreamState:
        state = self._streams.get(sid)
        if state is None:
            if self.drained_by is not None:  # most likely ended by the drain: say so
                raise ProtocolError(ErrorCode.DRAINING, f"stream {sid!r} is not open: "
                                    f"{_DRAIN_WHY[self.drained_by]}; this frame was not taken",
                                    sid)
            raise ProtocolError(ErrorCode.UNKNOWN_STREAM, f"no open stream {sid!r}", sid)
        return state

    # --- scores -------------------------------------------------------------------------------
    def scored(self, job: ScoreJob, score: WindowScore) -> Outcome[P]:
        out: Outcome[P] = Outcome()
        if self._current(job):
            self._emit(job.stream.on_scored(job.window.index, score), out)
            out.labels = job.stream.take_labels()
        return out

    def failed(self, job: ScoreJob, error: str) -> Outcome[P]:
        """The window could not be scored (``error`` names why): the client is told, and the
        stream goes on without it, or halts in holdback mode (:meth:`StreamState.fail`)."""
        out: Outcome[P] = Outcome()
        if self._current(job):
            window = job.window
            out.frames.append(Error(ErrorCode.INTERNAL, f"window {window.start}-{window.end} "
                                    f"could not be scored: {error}", job.stream_id))
            self._emit(job.stream.fail(window.index), out)
        return out

    def _current(self, job: ScoreJob) -> bool:
        return self._streams.get(job.stream_id) is job.stream

    # --- server side --------------------------------------------------------------------------
    def kill(self, matches: Callable[[str], bool]) -> Outcome[P]:
        """Operator kill switch: halt (reason ``operator``) every live stream ``matches`` names."""
        out: Outcome[P] = Outcome()
        for sid, state in list(self._streams.items()):
            if not state.halted and matches(sid):
                out.stop.append(sid)
                self._emit(state.force_halt("operator"), out)
        return out

    def start_drain(self, cause: Drain = Drain.SHUTDOWN) -> None:
        """The drain begins: no new streams; the open ones go on (their deltas are taken). A
        shutdown is said over a connection's own cause (the client should start elsewhere,
        not merely on a new connection here); otherwise the first cause stays."""
        if self.drained_by is None or cause is Drain.SHUTDOWN:
            self.drained_by = cause

    def end_for_close(self) -> Outcome[P]:
        """The connection closes for something the client did (a message too large, a flood,
        twice its budget), or a drain's grace is nearly over: the text already taken is still
        checked. Every open stream is ended here as its own ``end`` would end it (the rest of
        its text becomes its last window); its ``done`` (``drained``) follows once its windows
        are scored, or from :meth:`finish_drain` when the grace runs out. Closing at once
        dropped the halts owed for text already on the user's screen (a fuzzing review: one
        oversized message on another stream took the guard off the stream it fabricated on)."""
        out: Outcome[P] = Outcome()
        for state in list(self._streams.values()):
            if state.phase in (Phase.OPEN, Phase.HALTED):
                windows, frames = state.on_end(by_server=True)
                self._schedule(state, windows, out)
                self._emit(frames, out)
        return out

    def finish_drain(self, close: Close | None = None) -> Outcome[P]:
        """The drain's grace is over, or its streams are done: ``done`` for every stream still
        open (its ``chars`` is exactly the text taken), then close 1001, or ``close`` when the
        connection closes for the client's doing (:meth:`end_for_close`)."""
        out: Outcome[P] = Outcome()
        if close is None:
            cause = self.drained_by = self.drained_by or Drain.SHUTDOWN
            close = Close(CloseCode.GOING_AWAY, _DRAIN_CLOSE[cause])
        for state in list(self._streams.values()):
            self._emit([state.drain()], out)
        out.close = close
        return out

    # --- internals ----------------------------------------------------------------------------
    def _schedule(self, state: StreamState, windows: list[Window], out: Outcome[P]) -> None:
        """Windows to score; code and service talk state nothing to check against evidence,
        so such a window passes at once without moving the halt policy."""
        for window in windows:
            if window.kind != "text":
                self._emit(state.skip(window.index), out)
            else:
                out.score.append(ScoreJob(state.stream_id, window, state))

    def _emit(self, frames: list[ServerFrame], out: Outcome[P]) -> None:
        """Queue ``frames``; a stream is forgotten at its ``done`` at once, not when the frame
        is written, because the very next client frame may reuse its id."""
        for frame in frames:
            out.frames.append(frame)
            if isinstance(frame, Halt) and frame.stream_id not in out.stop:
                out.stop.append(frame.stream_id)  # its queued windows would be scored for no one
            if isinstance(frame, Done):
                state = self._streams.get(frame.stream_id)
                if state is not None and state.phase is Phase.DONE:
                    del self._streams[frame.stream_id]
                    if frame.stream_id not in out.stop:
                        out.stop.append(frame.stream_id)


# In every cancel's text ("type" is "cancel"); a message without it is no cancel and is not parsed
# for one. A cancel spelled with escapes ("\\u0063ancel") is still taken, in its turn.
_CANCEL_MARK = '"cancel"'


def _wire_size(message: str | bytes) -> int:
    """The message's size in bytes; ``str.isascii`` is O(1), so only non-ASCII text is encoded."""
    if isinstance(message, bytes) or message.isascii():
        return len(message)
    return len(message.encode())
