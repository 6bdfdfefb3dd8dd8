"""The WebSocket connection class the server runs: websockets' own, with each message handed to a
callback as soon as its last frame is parsed.

websockets' asyncio connection queues every data frame and wakes a task blocked in ``recv()``
for it: per message a queue entry, a future, a task switch, and (for the idle timeout) a timer.
For a stream of one-token deltas that machinery cost more CPU than stream-guard's whole protocol
work on the delta (docs/profiles/), so this subclass delivers each complete message straight
from ``data_received``, in arrival order, every message of one socket read in one go. The
handshake, ping/pong, the close handshake, the size limit and sending stay websockets'.

The subclass hooks websockets' ``process_event`` and ``connection_lost`` and uses its
``set_connection_exc``/``close_deadline`` to fail a connection the way ``recv()`` does
(``websockets>=17.4,<18`` is pinned for this: earlier releases lack ``set_connection_exc``);
``tests/test_transport.py`` holds the behaviour.

Once the connection is open and websockets' parser waits at a frame boundary, the connection
also frames the socket's bytes itself (:meth:`CallbackConnection.data_received`): a whole,
unfragmented, masked data frame within the size limit, with no extension negotiated, goes
straight to the handler. Every other frame (ping, pong, close, fragments, anything malformed)
is handed to websockets from its first byte, with all that follows it, at a frame boundary: its
parser and state machine see exactly what they would have seen, minus the plain data frames, and
refuse a bad frame from its header as before; framing comes back once its parser is between two
frames again. For one-token deltas, websockets' generator-based parser was the largest part of
receiving a message (``loadtest.bench_transport``: 21.7 -> 14.1 us of server CPU a message).

The request head is judged before websockets reads it
(:class:`~stream_guard.protocol.http_head.HeadReader`: a head websockets would drop without a
word, such as one announcing a body, is answered with a JSON error here).
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Callable, Collection, Iterator
from typing import Any, ClassVar, cast

from websockets.asyncio.server import ServerConnection
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import Protocol, State
from websockets.streams import StreamReader

from stream_guard.guard.auth import client_key, is_trusted_proxy
from stream_guard.guard.limits import HeadsInProgress
from stream_guard.protocol.errors import (
    NOT_READING_REASON,
    TOO_MANY_FRAGMENTS_REASON,
    TOO_MANY_FRAMES_REASON,
)
from stream_guard.protocol.framing import DataFramer, FrameBudget
from stream_guard.protocol.http_head import HangUp, HeadReader, HeadRefusal
from stream_guard.protocol.inbox import Inbox, Message
from stream_guard.protocol.responses import error_response

# A message and when it arrived (the loop's clock): a message held for a while is still
# judged by when the client sent it (its rate, see the connection).
MessageHandler = Callable[[Message, float], None]
# Offered each message that arrives while messages are held; True when it took the message
# there and then (it must not be held).
HeldHandler = Callable[[Message, float], bool]
# Told the close code and reason once the transport refuses what the client does to the
# connection itself (a flood of control frames or fragments) and stops reading: the owner
# closes with them once it has answered what it took.
RefusedHandler = Callable[[int, str], None]

# Bounds kept from websockets' own Assembler: a message of more fragments than this is refused
# (1009), and at most this many messages wait for a handler before reading pauses.
MAX_FRAGMENTS = 1024
MAX_EARLY_MESSAGES = 16
# How often the keepalive looks whether the client took any of what was written (seconds).
_PROGRESS_EVERY = 1.0
# Messages held for an owner with too much of this client's work in hand (their characters or
# bytes) past which reading pauses: a few of the largest messages.
MAX_HELD_BYTES = 2**20
# Frames written but not yet taken by the client past which it counts as not reading (1008):
# far more than any client that reads its verdicts ever leaves (a verdict frame is about 200
# bytes). The owner checks after its writes; reading checks after what the client's frames
# make websockets write (pongs: a client flooding pings and reading nothing grew the server's
# memory by hundreds of MB until the keepalive gave up, a review found).
MAX_UNREAD_BYTES = 4 * 2**20
# Control frames and fragments a connection may hand to websockets' parser (FrameBudget), a
# second and at once: a client sends a ping or a pong every few seconds, and a message in
# fragments at most MAX_FRAGMENTS; past them it is closed 1008.
FRAMES_PER_SECOND = 1000
FRAME_BURST = 4 * MAX_FRAGMENTS


def waits_for_frame(parser: Any) -> bool:
    """Whether websockets' frame parser (a generator chain) is suspended between two frames:
    inside ``Protocol.parse``, waiting for the next byte of a frame header, not midway through a
    frame (whose header it may already have consumed, with nothing left in its buffer)."""
    codes = []
    while parser is not None:
        codes.append(parser.gi_code)
        parser = parser.gi_yieldfrom
    return Protocol.parse.__code__ in codes and codes[-1] is StreamReader.at_eof.__code__


class CallbackConnection(ServerConnection):
    """A server connection whose data messages go to a handler instead of a ``recv()`` queue.

    Until :meth:`deliver_to` names the handler (the connection handler may first be checking
    slots), messages are held, and reading pauses once :data:`MAX_EARLY_MESSAGES` wait. The
    owner can hold messages later too (:meth:`hold`: it has too much of this client's work in
    hand): they wait, in order, for :meth:`release`, and reading pauses once they pass
    :data:`MAX_HELD_BYTES`, so the client meets TCP backpressure. Not at once: until then
    websockets still reads the client's pongs, and its keepalive does not close a client that
    merely waits for its verdicts; and once reading pauses, the keepalive's wait for a pong
    stops counting until it reads again (:meth:`keepalive`).
    """

    # The server's count of heads in progress and its trusted proxies (:func:`counting_heads`);
    # none counted by the class itself.
    heads: ClassVar[HeadsInProgress | None] = None
    proxies: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._peer: Any = None  # the peer's address, as the connection was made
        self._counted = False  # its head counts in ``heads``
        self._refused = False  # closed as it opened: past a bound of ``heads``
        self._handler: MessageHandler | None = None
        self._on_held: HeldHandler | None = None
        self._on_lost: Callable[[], None] | None = None
        self._on_refused: RefusedHandler | None = None
        self._inbox = Inbox(MAX_HELD_BYTES, MAX_EARLY_MESSAGES)
        self._paused = False
        self._paused_total = 0.0  # seconds reading was paused here, up to the last resume
        self._paused_at = 0.0  # when the current pause began
        # The socket's bytes from a flood's first frame over the budget on, kept unparsed while
        # reading stays paused, until the owner closes (_stall); None when not stalled.
        self._stalled: bytes | None = None
        self._holding = False
        self._dropping = False
        self._fragments: list[Frame] = []
        # framing the socket's bytes here (see the module's docstring) when not None
        self._framer: DataFramer | None = None
        # what websockets' parser may take, from the open connection's first frame (_parse)
        self._frames: FrameBudget | None = None
        self._head: HeadReader | None = HeadReader()  # the request head, until it is judged
        self._written = 0  # bytes handed to the transport, in all (see keepalive)
        self._closer: asyncio.Task[None] | None = None  # see data_received

    def deliver_to(self, handler: MessageHandler, on_lost: Callable[[], None],
                   on_held: HeldHandler | None = None,
                   on_refused: RefusedHandler | None = None) -> None:
        """From now on, hand every message to ``handler`` (first those that already arrived),
        and call ``on_lost`` once the connection is closed, right away if it already is.
        ``on_held`` is offered each message that arrives while the owner holds them, and may
        take it at once (a cancel need not wait behind the messages it makes moot).
        ``on_refused`` is told a flood's close instead of it being sent at once: reading
        stops, and the owner closes once it has answered what it took (without one, the
        flood closes the connection at once)."""
        self._handler, self._on_lost, self._on_held = handler, on_lost, on_held
        self._on_refused = on_refused
        self._deliver_held()
        if self.connection_lost_waiter.done():
            on_lost()

    def hold(self) -> None:
        """Stop handing messages over until :meth:`release`."""
        self._holding = True

    def release(self) -> None:
        """Hand over the held messages, in order (the handler may hold again), then read
        again unless it did."""
        if self._holding:
            self._holding = False
            self._deliver_held()

    def waiting(self) -> Iterator[Message]:
        """The messages held now, in order: lazily, as most callers look at none of them."""
        return self._inbox.messages()

    def held_since(self) -> float | None:
        """When the oldest message held now arrived (the loop's clock); None when none is."""
        return self._inbox.oldest()

    def withdraw(self, positions: Collection[int]) -> None:
        """Drop the held messages at ``positions`` of :meth:`waiting`: the owner took a later
        message that makes them moot. Reading resumes if they held it up."""
        if not positions:
            return
        self._inbox.withdraw(positions)
        if self._inbox.within_bytes():
            self._resume_reading()

    def _deliver_held(self) -> None:
        handler, inbox = self._handler, self._inbox
        assert handler is not None
        while inbox and not self._holding and not self._dropping:
            handler(*inbox.take())
        if inbox.within_bytes():
            self._resume_reading()

    def stop_delivery(self) -> None:
        """Drop messages from now on: the owner is closing the connection. Frames are still
        read, so the client's close frame is seen and the close handshake completes."""
        self._dropping = True
        self._holding = False
        self._inbox.clear()
        self._resume_reading()

    def _pause_reading(self) -> None:
        if not self._paused:
            self._paused = True
            self._paused_at = self.loop.time()
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        """Undo the pause for held messages, unless the socket is already going away or a
        flood stalled it (until the close: :meth:`_stall`)."""
        if self._paused and self._stalled is None:
            self._paused = False
            self._paused_total += self.loop.time() - self._paused_at
            if not self.transport.is_closing():
                self.transport.resume_reading()

    def _paused_for(self) -> float:
        """Seconds reading has been paused here, in all, up to now."""
        now_paused = self.loop.time() - self._paused_at if self._paused else 0.0
        return self._paused_total + now_paused

    async def keepalive(self) -> None:
        """websockets' keepalive (a ping every ``ping_interval``; no pong within
        ``ping_timeout`` fails the connection 1011), except that the pong's wait counts only
        time the client could have answered and shows no sign of life:

        * not while reading is paused here: the pong then waits unread in the socket behind
          messages the client sent, which it is owed verdicts for (a client merely ahead of its
          verdicts was closed 1011 and lost them: a review);
        * not while the client takes what was written: the ping waits behind frames it is
          still reading, however slowly (bytes taken from the write buffer, not its size, which
          the server's own writes move too). websockets does not count that either, by sending
          the ping only once the buffer drains, which a client that stopped reading never lets
          happen: its keepalive then waited for ever, and such a client (frozen, or cut off
          without a reset) kept its connection until the idle timeout. Here the ping is queued
          at once. (What waits in the kernel's socket buffers is out of sight, as in
          websockets: a client slowly reading a backlog held there is timed as usual.)

        While reading is paused, a ping still goes out every ``ping_interval``: the socket is
        not read then, and a client that reset the connection is seen only by a write (a
        review: a client that sent a backlog with verdicts off, so that nothing was written,
        then reset, was scored on for up to two minutes, its address's slot held). A write to
        a reset socket fails, the connection is lost, and its owner drops the held messages
        and the windows still waiting (:meth:`connection_lost`).
        """
        assert self.ping_interval is not None
        latency = 0.0
        try:
            while True:
                await asyncio.sleep(self.ping_interval - latency)
                if self.ping_timeout is None:
                    await self.ping()
                    continue
                pong = self._queue_ping()
                if pong is None:  # closing already
                    await self._close_within_deadline()
                    return
                waited = 0.0
                last, paused, taken = self.loop.time(), self._paused_for(), self._taken()
                probed = last
                while not pong.done():
                    await asyncio.wait([pong], timeout=min(self.ping_timeout - waited,
                                                            _PROGRESS_EVERY))
                    now, now_paused, now_taken = (self.loop.time(), self._paused_for(),
                                                  self._taken())
                    if now_taken <= taken:  # the client took nothing written since
                        waited += (now - last) - (now_paused - paused)
                    last, paused, taken = now, now_paused, now_taken
                    if self._paused and now - probed >= self.ping_interval:
                        self._queue_ping()  # its pong answers the first one's too
                        probed = now
                    if waited >= self.ping_timeout and not pong.done():
                        await self._fail_unresponsive()
                        return  # connection_lost() follows
                latency = pong.result()
        except Exception:  # as websockets' own: logged, not left as a task's unread exception
            self.logger.error("keepalive ping failed", exc_info=True)

    def _queue_ping(self) -> asyncio.Future[float] | None:
        """websockets' ``ping()`` without its drain: the ping goes behind whatever is unread,
        and the future is its pong's latency. None once the connection is no longer open."""
        if self.protocol.state is not State.OPEN:
            return None
        while (data := struct.pack("!I", random.getrandbits(32))) in self.pending_pings:
            pass
        pong: asyncio.Future[float] = self.loop.create_future()
        self.pending_pings[data] = (pong, self.loop.time())
        self.protocol.send_ping(data)
        self._send_now()
        return pong

    async def _close_within_deadline(self) -> None:
        """A closing connection's socket is dropped at its close deadline (``close_timeout``
        from now if none is set yet). websockets' ``ping()`` did this on the way, so its
        keepalive also ended a close that a frozen client left stalled (a close frame it sent,
        or a frame the server refused, then nothing read)."""
        if self.close_deadline is None and self.close_timeout is not None:
            self.close_deadline = self.loop.time() + self.close_timeout
        try:
            async with asyncio.timeout_at(self.close_deadline):
                await asyncio.shield(self.connection_lost_waiter)
        except TimeoutError:
            self.transport.abort()

    def _taken(self) -> int:
        """Bytes written that the client has taken (or the kernel's buffers, which hide it)."""
        return self._written - self.unread_bytes()

    def send_data(self) -> None:
        """websockets' ``send_data``, counting the bytes it hands to the transport."""
        self._written += sum(len(data) for data in self.protocol.writes)
        super().send_data()

    async def _fail_unresponsive(self) -> None:
        """Fail the connection 1011 "keepalive ping timeout", within ``close_timeout``.

        websockets waits for its write buffer to drain before its close timeout starts, and a
        client that stopped reading (frozen, or cut off without a reset) never drains it: with
        more unread than the transport's high-water mark, the connection and its slots stayed
        until the idle timeout. Here the close frame is queued without a drain, and past
        ``close_timeout`` the socket is dropped."""
        self.protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        self._send_now()
        await self._close_within_deadline()

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close; a connection refused before any handler attached (held messages, reading
        paused) reads again, so the client's close frame completes the handshake at once.
        A connection stalled by a flood reads again once its close frame is sent."""
        self.stop_delivery()
        stalled, self._stalled = self._stalled, None
        if stalled is not None:
            # after super().close() has sent the close frame (it does so before it first
            # waits): what follows is read as a closing connection's, within the budget
            self.loop.call_soon(self._unstall, stalled)
        await super().close(code, reason)

    def _unstall(self, stalled: bytes) -> None:
        """Read again after a flood's stall: the bytes kept first, then the socket (unless
        the client went meanwhile)."""
        if not self.transport.is_closing():
            self._receive(stalled)
        self._resume_reading()

    def write_text(self, data: bytes) -> bool:
        """Send one text message now, from synchronous code: websockets' ``send()`` takes a
        lock, an async context and a drain per message, which cost more than building the
        frame. False when the connection is no longer open. Flow control is the caller's
        (:meth:`unread_bytes`)."""
        if self.protocol.state is not State.OPEN:
            return False
        self.protocol.send_text(data)
        return self._send_now()

    def _send_now(self) -> bool:
        """Hand what the protocol has to send to the transport, without a drain. False when
        the transport failed: the connection is then lost."""
        try:
            self.send_data()
        except Exception as exc:
            self.set_connection_exc(exc)
            self.transport.abort()
            return False
        return True

    def unread_bytes(self) -> int:
        """Bytes written that the client has not taken yet (the transport's write buffer)."""
        return int(self.transport.get_write_buffer_size())

    def not_reading(self) -> bool:
        """Whether the client left more than :data:`MAX_UNREAD_BYTES` of frames unread."""
        return self.unread_bytes() > MAX_UNREAD_BYTES

    @property
    def remote_address(self) -> Any:
        """The peer's address, taken when the connection was made: websockets asks the
        transport each time, and uvloop's raises ValueError ("negative file descriptor") once
        its socket is closed (a review: each client that reset right after its upgrade request
        logged an ERROR traceback from the handshake's checks, before any rate limit)."""
        return self._peer

    # --- websockets hooks ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._peer = peer = transport.get_extra_info("peername")
        heads = self.heads
        if heads is not None:
            host = str(peer[0]) if isinstance(peer, tuple) and peer else str(peer or "")
            taken, oldest = heads.begin(self, client_key(host),
                                        proxy=is_trusted_proxy(host, self.proxies))
            if not taken:
                # before websockets starts its handshake task: there is nothing to answer yet,
                # and nothing of it to clean up
                self._refused = True
                cast(asyncio.Transport, transport).abort()
                return
            self._counted = True
            if isinstance(oldest, CallbackConnection):  # closed for this one (HeadsInProgress)
                oldest._counted = False
                oldest.transport.abort()
        super().connection_made(transport)

    def _head_done(self) -> None:
        """The head is whole, refused, or its connection gone: it counts no more."""
        if self._counted and self.heads is not None:
            self.heads.end(self)
            self._counted = False

    def data_received(self, data: bytes) -> None:
        self._receive(data)
        if self.not_reading() and self.protocol.state is State.OPEN:
            self._fail(CloseCode.POLICY_VIOLATION, NOT_READING_REASON, None)
            # The close frame waits behind what the client does not read: past the close
            # deadline the socket is dropped.
            self._closer = self.loop.create_task(self._close_within_deadline())

    def _receive(self, data: bytes) -> None:
        if self._head is not None:
            taken = self._take_head(data)
            if not taken:
                return
            data = taken
        framer = self._framer
        if framer is None:
            self._parse(data)
            self._framer = self._direct_framer()
            return
        protocol = self.protocol
        # Only a plain data frame is framed here, and that is decided on its first two bytes:
        # anything else goes to websockets at once, which refuses a bad frame from its header
        # (a client must not hold a refused frame's payload in our buffer). So does everything
        # after a message that closed the connection.
        if protocol.state is State.OPEN:
            for text, payload in framer.frames(data):
                self._deliver(text, payload)
                if protocol.state is not State.OPEN:
                    break
            else:
                if not framer.handing_over:
                    return
            self._hand_over(framer.rest())
        else:
            self._hand_over(framer.rest() + data)

    def _take_head(self, data: bytes) -> bytes | None:
        """What websockets is to parse while the request head goes by (judged by
        :class:`~stream_guard.protocol.http_head.HeadReader`: nothing until it is whole); None
        when it was answered here: refused with a JSON error, or hung up on."""
        reader = self._head
        assert reader is not None
        taken = reader.feed(data)
        if reader.done:
            self._head = None
            self._head_done()
        if isinstance(taken, HangUp):
            self.transport.close()
            return None
        if isinstance(taken, HeadRefusal):
            self._refuse(taken)
            return None
        return taken

    def _refuse(self, refusal: HeadRefusal) -> None:
        """Answer the request with a JSON error and close (before websockets reads it)."""
        response = error_response(refusal.status, refusal.error, refusal.message,
                                  extra=[("Connection", "close")])
        self.transport.write(response.serialize())
        self.transport.close()

    def _direct_framer(self) -> DataFramer | None:
        """A framer when the connection can take over framing (open, no extension, and
        websockets' parser between two frames with nothing buffered); None when not."""
        protocol = self.protocol
        if protocol.extensions or not self._between_frames():
            return None
        limits = [limit for limit in (protocol.max_message_size,
                                      getattr(protocol, "max_fragment_size", None))
                  if limit is not None]
        return DataFramer(min(limits) if limits else None)

    def _between_frames(self, *, in_message: bool = False) -> bool:
        """Whether the connection is open and websockets' parser is between two frames with
        nothing buffered (``in_message``: or between two fragments of a message)."""
        protocol = self.protocol
        return (protocol.state is State.OPEN and not protocol.reader.buffer
                and (in_message or (protocol.current_size is None and not self._fragments))
                and waits_for_frame(protocol.parser))

    def _hand_over(self, rest: bytes) -> None:
        """Give websockets everything from a frame boundary on (a control frame, fragments, a
        bad frame, a connection closing); framing comes back here once its parser is between
        two frames again."""
        self._framer = None
        self._parse(rest)
        self._framer = self._direct_framer()

    def _parse(self, data: bytes) -> None:
        """Give websockets' parser ``data``: once the connection is open, only the control
        frames and fragments within its :class:`~stream_guard.protocol.framing.FrameBudget`;
        at the first frame past it reading stops (:meth:`_stall`) and the owner closes 1008
        (``on_refused``; without an owner the connection closes 1008 at once), unread, or,
        while the connection closes already (websockets reads on for the client's close
        frame), the socket is dropped (a review:
        a flood of empty pongs, each parsed and handled by websockets, held the worker's other
        connections for seconds, during a close's handshake too)."""
        state = self.protocol.state
        if self._frames is None and self._between_frames(in_message=True):
            self._frames = FrameBudget(FRAMES_PER_SECOND, FRAME_BURST, self.loop.time())
        frames = self._frames
        if frames is not None and state in (State.OPEN, State.CLOSING):
            within = frames.feed(data, self.loop.time())
            if within < len(data):
                if within:
                    super().data_received(data[:within])
                refused, self._on_refused = self._on_refused, None  # told once
                if self.protocol.state is not State.OPEN:
                    self.transport.abort()
                elif refused is not None:
                    self._stall(data[within:])
                    refused(CloseCode.POLICY_VIOLATION, TOO_MANY_FRAMES_REASON)
                else:
                    self._fail(CloseCode.POLICY_VIOLATION, TOO_MANY_FRAMES_REASON, None)
                return
        super().data_received(data)

    def _stall(self, rest: bytes) -> None:
        """Stop reading at the first frame over the budget (``rest`` on), kept unparsed until
        the owner closes (:meth:`close`). A review: a flood closed the connection 1008 at
        once, and the text its open stream had already sent (shown in observe mode) got no
        verdict, halt or ``done``, where a flood of messages gets them before its 1008."""
        self._stalled = rest
        self._pause_reading()

    def process_event(self, event: Any) -> None:
        if (self.request is None or not isinstance(event, Frame)
                or event.opcode not in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)):
            super().process_event(event)  # the handshake request, pings, pongs, close
            return
        if not event.fin or self._fragments:
            self._fragments.append(event)
            if len(self._fragments) > MAX_FRAGMENTS:
                self._fragments = []
                self._fail(CloseCode.MESSAGE_TOO_BIG, TOO_MANY_FRAGMENTS_REASON, None)
                return
            if not event.fin:
                return
            frames, self._fragments = self._fragments, []
            opcode = frames[0].opcode
            data = b"".join(frame.data for frame in frames)
        else:
            opcode, data = event.opcode, bytes(event.data)  # no copy when it is bytes
        self._deliver(opcode is Opcode.TEXT, data)

    def _deliver(self, text: bool, data: bytes) -> None:
        """One whole data message: to the handler, or held until there is one."""
        message: Message
        if text:
            try:
                message = data.decode()
            except UnicodeDecodeError as exc:
                self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}", exc)
                return
        else:
            message = data
        if self._dropping:
            return
        arrived = self.loop.time()
        if self._handler is not None and not self._holding:
            self._handler(message, arrived)
            return
        if self._on_held is not None and self._on_held(message, arrived):  # set with _handler
            return
        self._inbox.put(message, arrived)
        if self._inbox.full(attached=self._handler is not None):
            self._pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return  # websockets never saw it (connection_made)
        self._head_done()
        super().connection_lost(exc)
        if self._on_lost is not None:
            self._on_lost()

    def _fail(self, code: CloseCode, reason: str, exc: Exception | None) -> None:
        """Fail the connection as ``recv()`` would have: close frame with ``code``, then the
        close handshake, bounded by ``close_timeout``."""
        self._dropping = True
        if exc is not None:
            self.set_connection_exc(exc)
        self.protocol.fail(code, reason)
        self.send_data()
        if self.close_deadline is None and self.close_timeout is not None:
            self.close_deadline = self.loop.time() + self.close_timeout


def counting_heads(heads: HeadsInProgress, proxies: tuple[str, ...]
                   ) -> type[CallbackConnection]:
    """The connection class of a server that bounds its heads in progress (``heads``): a
    socket past a bound is closed as it opens."""

    class Counted(CallbackConnection):
        pass

    Counted.heads, Counted.proxies = heads, proxies
    return Counted
