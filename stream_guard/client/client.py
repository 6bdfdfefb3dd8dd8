"""The asyncio client: credentials, (re)connection with backoff, starting streams.

Streams are bound to the connection they were started on, because the server keeps a stream's
state per connection. So reconnecting is something only *new* streams benefit from: when the
connection is gone, the next :meth:`GuardClient.start` opens a fresh one (retrying with backoff
while the server is restarting, draining or over capacity), and streams that were in flight end
with a :class:`ConnectionClosedError`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from stream_guard.client.backoff import Backoff
from stream_guard.client.errors import (
    RETRYABLE_CLOSE_CODES,
    ConnectError,
    ConnectionClosedError,
    DrainingError,
    FrameTooLargeError,
    MessageTooBigError,
    OverloadedError,
    StreamClosedError,
    TicketUnavailableError,
    TooManyStreamsError,
    TryAgainLaterError,
)
from stream_guard.client.events import Event
from stream_guard.client.link import (
    DEFAULT_KEEPALIVE,
    DEFAULT_MESSAGE_BURST,
    DEFAULT_MESSAGES_PER_SECOND,
    Link,
    Pacing,
    TransientConnectFailure,
    open_link,
)
from stream_guard.client.stream import GuardStream, check_text
from stream_guard.protocol.errors import BUDGET_SPENT_REASON
from stream_guard.protocol.frames import MAX_STREAM_ID, Mode, is_name
from stream_guard.protocol.paths import STREAM_PATH

TicketProvider = Callable[[], Awaitable[str]]
ContextItem = str | Mapping[str, str | int]  # {"id": str or int, "text": str}
# The server's default max_frame_bytes (config.py); a client of a server with another limit
# says so (GuardClient(max_frame_bytes=...)).
DEFAULT_MAX_FRAME_BYTES = 65536


class GuardClient:
    """A connection to a stream-guard server that streams are multiplexed on.

    Give at most one credential: ``api_key`` (backends), ``ticket`` (single use, so a client
    holding only a ticket cannot reconnect) or ``ticket_provider``, an async callable asked for a
    fresh ticket on every connection attempt (e.g. ``lambda: mint_ticket(url, key)`` or a call
    to your own backend). With none, the server must run with ``auth_disabled`` (development).

    ``url`` is ``ws(s)://host:port`` (or ``http(s)://``, converted) with or without the
    ``/v1/stream`` path.

    ``max_messages_per_second`` and ``message_burst`` pace each connection's frames under the
    server's message rate (``rate_per_s``, whose excess it drops): past them a stream's deltas
    wait and are joined into one (:meth:`GuardStream.send`). None sends each frame at once.

    ``keepalive``: seconds of silence from the server (streams open) before a protocol
    ``ping``, and then before the connection is given up (close 1006, "keepalive ping
    timeout"): its streams raise instead of waiting on a server that stopped (None: no pings).
    The ping is a message, so a stream waiting on a slow LLM does not idle out (the server's
    ``idle_timeout_s``) while it is on.
    ``max_frame_bytes`` is the server's limit on one message (its ``max_frame_bytes``, 64 KiB
    by default): a ``start`` over it is refused here, before it is sent, since the server
    would close the connection (1009) under every stream on it, and a delta is cut to fit it
    as well as ``max_delta_chars`` (:func:`~stream_guard.client.stream.delta_chars`).
    """

    def __init__(self, url: str, *, api_key: str | None = None, ticket: str | None = None,
                 ticket_provider: TicketProvider | None = None,
                 backoff: Backoff | None = None, open_timeout: float = 10.0,
                 start_timeout: float = 10.0, max_delta_chars: int = 8192,
                 max_messages_per_second: float | None = DEFAULT_MESSAGES_PER_SECOND,
                 message_burst: int = DEFAULT_MESSAGE_BURST,
                 keepalive: float | None = DEFAULT_KEEPALIVE,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if sum(c is not None for c in (api_key, ticket, ticket_provider)) > 1:
            raise ValueError("give at most one of api_key, ticket and ticket_provider")
        if max_delta_chars < 1:
            raise ValueError("max_delta_chars must be at least 1")
        if keepalive is not None and not keepalive > 0:
            raise ValueError("keepalive must be a positive number of seconds, or None")
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be at least 1")
        self.pacing = Pacing(max_messages_per_second, message_burst)
        self.url = stream_url(url)
        self.backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self.start_timeout = start_timeout
        self.max_delta_chars = max_delta_chars
        self.keepalive = keepalive
        self.max_frame_bytes = max_frame_bytes
        self.connections_opened = 0  #: how many connections this client has opened so far
        self._api_key = api_key
        self._ticket = ticket
        self._ticket_provider = ticket_provider
        self._link: Link | None = None
        self._retired: list[Link] = []  # draining connections with streams still on them
        # Connections that refused a stream for holding the server's cap of streams, with how
        # many they held then: a new stream goes to one of them again once one has ended.
        self._full: dict[Link, int] = {}
        # The server's cap of streams a connection, once a refusal told it (the streams it
        # had accepted on that connection): starts past it go to another connection at once,
        # not to the server to be refused (a review counted 726 start frames for 150
        # concurrent streams).
        self._stream_cap: int | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def __aenter__(self) -> GuardClient:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._link is not None and self._link.alive

    async def connect(self) -> None:
        """Open the connection now (``start`` would open it on demand)."""
        await self._live_link(self.backoff.delays())

    async def start(self, *, stream_id: str | None = None,
                    context: Sequence[ContextItem] | None = None,
                    collection: str | None = None, prompt: str | None = None,
                    mode: Mode = "observe", threshold: float | None = None,
                    verdicts: bool = True,
                    on_event: Callable[[Event], None] | None = None) -> GuardStream:
        """Open a stream and wait until the server accepted it.

        ``on_event`` is called with each of the stream's events as it arrives, from the
        connection's reader, before iteration yields it: a halt reaches a speaker or renderer
        at once, however long the code iterating takes over the piece before (an exception
        it raises is logged, and the stream goes on).

        ``stream_id`` defaults to a random UUID. A refused start raises its typed error
        (:class:`UnknownCollectionError`, :class:`BadFrameError`, ...); a connection that ends
        before ``started`` is replaced and the start retried, and a start refused
        ``overloaded`` or ``draining`` is retried (on a new connection when draining), within
        the backoff policy; one refused ``too_many_streams`` (the connection holds the
        server's cap of streams) goes to another connection at once; no answer within
        ``start_timeout`` is a :class:`StartTimeoutError`.
        """
        sid = uuid.uuid4().hex if stream_id is None else stream_id
        frame = _start_frame(sid, context, collection, prompt, mode, threshold, verdicts)
        size = len(orjson.dumps(frame))
        if size > self.max_frame_bytes:
            raise FrameTooLargeError(
                f"the start frame is {size} bytes, over the server's limit of "
                f"{self.max_frame_bytes} (max_frame_bytes); it was not sent: send less "
                "context, or index it as a collection (stream-guard index add) and name that",
                sid)
        delays = self.backoff.delays()
        too_big = 0
        while True:
            link = self._link_with_room() or await self._live_link(delays)
            try:
                return await link.open_stream(frame, mode, self.start_timeout, on_event)
            except ConnectionClosedError as exc:
                # 1009 is a spent character budget (a new connection resets it) or this start
                # frame over the server's size limit, told apart by the close reason: the frame
                # would be refused again, and each refusal is a strike toward the server's
                # abuse penalty for this address (the third within it). A budget spent once more
                # on a new connection is this start's doing as well.
                if isinstance(exc, MessageTooBigError):
                    too_big += 1 if exc.reason == BUDGET_SPENT_REASON else 2
                if (exc.code not in RETRYABLE_CLOSE_CODES or not self._can_reconnect()
                        or too_big > 1):
                    raise
                await _pause(delays, exc)
            except TooManyStreamsError:
                # This connection holds the server's streams-per-connection cap: new streams
                # go to another connection, this one keeps its streams, and gets new ones
                # again once one of them has ended (connections are not piled up).
                if not self._can_reconnect():
                    raise
                # with the starts cancelled here whose done has not come: the server may still
                # count them (without, a cap learnt one short never rose again: a review)
                self._stream_cap = max(1, link.ghosts + sum(
                    1 for stream in link.streams.values() if stream.accepted))
                self._full[link] = self._stream_cap
                if self._link is link:
                    self._link = None
            except OverloadedError as exc:
                # The server takes no new stream until its load falls (the connection is
                # fine): the same start after a backoff, as the docstring of the class says.
                await _pause(delays, exc, give_up_with_cause=True)
            except DrainingError as exc:
                # This server is shutting down: start elsewhere. Its connection stays open for
                # the streams already on it, which the drain lets finish (the server closes it
                # once they are done), so it is retired, not closed.
                if not self._can_reconnect():
                    raise
                self._retire(link)
                await _pause(delays, exc)

    async def ping(self) -> float:
        """Protocol round trip in seconds (a wait for this client's message rate included);
        :class:`RateLimitedError` (retryable) when the server dropped the ping for exceeding
        the connection's message rate, and the keepalive's :class:`ConnectionClosedError`
        (1006, retryable) when the server stopped answering."""
        return await (await self._live_link(self.backoff.delays())).ping()

    async def close(self) -> None:
        """Close the connection; streams still open end with a ``ConnectionClosedError``."""
        self._closed = True
        links = [*self._retired, *self._full,
                 *([self._link] if self._link is not None else [])]
        self._retired.clear()
        self._full.clear()
        # together: each may wait its close timeout for a server that is gone
        await asyncio.gather(*(link.close() for link in links))

    def _link_with_room(self) -> Link | None:
        """A connection that was full and has had a stream end since, if there is one."""
        for link, held in list(self._full.items()):
            if not link.alive:
                del self._full[link]
            elif len(link.streams) < held:
                return link
        return None

    def _retire(self, link: Link) -> None:
        """New streams go to a new connection; ``link`` keeps its streams until it ends."""
        if self._link is link:
            self._link = None
        self._full.pop(link, None)
        self._retired = [old for old in self._retired if old.alive]
        if link.alive:
            self._retired.append(link)

    # --- connecting ---------------------------------------------------------------------------
    async def _live_link(self, delays: Iterator[float]) -> Link:
        """The open connection, or a new one: attempts within the backoff policy, the last
        ending by ``open_timeout`` plus the policy's longest wait after the first began
        (:class:`Backoff`)."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            deadline: float | None = None
            while True:
                # Checked on every attempt: close() may come while a call waits for the lock, a
                # ticket, a backoff delay or a connection being opened.
                if self._closed:
                    raise StreamClosedError("this GuardClient was closed")
                if self._link is not None and self._link.alive:
                    cap = self._stream_cap
                    if cap is None or len(self._link.streams) < cap:
                        return self._link  # the start registers its stream before it awaits
                    self._full[self._link] = cap
                    self._link = None
                if self._link is not None and not self._can_reconnect():
                    raise ConnectError("the connection ended and a single-use ticket cannot "
                                       "open another; give api_key or ticket_provider")
                if deadline is None:
                    deadline = loop.time() + self.open_timeout + self.backoff.longest_wait
                try:
                    url, headers = await self._credentials(
                        min(self.open_timeout, deadline - loop.time()))
                    left = min(self.open_timeout, deadline - loop.time())
                    if left <= 0:  # the ticket provider took what was left
                        raise TransientConnectFailure("no time left to connect")
                    self._link = await open_link(url, headers, open_timeout=left,
                                                 max_delta_chars=self.max_delta_chars,
                                                 max_frame_bytes=self.max_frame_bytes,
                                                 pacing=self.pacing, keepalive=self.keepalive)
                except TicketUnavailableError as exc:
                    # The ticket provider could not get one right now (the server restarting,
                    # or its state store away, a 503): retried like a refused connection.
                    await _pause(delays, exc, exc.retry_after, deadline=deadline)
                    continue
                except TransientConnectFailure as exc:
                    if self._ticket is not None:  # a 429 or 503 came before it was used
                        raise ConnectError(str(exc),
                                           retryable=_server_said_later(exc)) from exc
                    await _pause(delays, exc, exc.retry_after, deadline=deadline)
                    continue
                self.connections_opened += 1
                if self._closed:
                    # close() came while this connection was being opened and could not see it:
                    # nobody else would close it.
                    await self._link.close()

    def _can_reconnect(self) -> bool:
        return self._ticket is None

    async def _credentials(self, within: float) -> tuple[str, dict[str, str]]:
        """The URL and headers of an attempt; a ticket provider that gives no ticket
        ``within`` seconds fails it as a connection would, retried with backoff (as the
        JavaScript client's ``getTicket``: a second review saw one that never answered keep
        ``start()`` waiting for ever)."""
        if self._api_key is not None:
            return self.url, {"Authorization": f"Bearer {self._api_key}"}
        ticket = self._ticket
        if self._ticket_provider is not None:
            try:
                ticket = await asyncio.wait_for(self._ticket_provider(), max(0.0, within))
            except TimeoutError as exc:
                raise TransientConnectFailure(
                    f"no ticket from ticket_provider within {within:.1f} s") from exc
        if ticket is None:
            return self.url, {}
        return _with_query(self.url, ticket=ticket), {}


async def _pause(delays: Iterator[float], cause: Exception, retry_after: float | None = None,
                 *, give_up_with_cause: bool = False, deadline: float | None = None) -> None:
    """The next backoff delay, but never less than the server's Retry-After. When the policy's
    attempts are spent, or the delay would end past the ``deadline`` of connection attempts
    (the loop's clock): a ConnectError, or ``cause`` itself (``give_up_with_cause``: a refusal
    the connection did not cause, such as ``overloaded``)."""
    delay = next(delays, None)
    if delay is None:
        if give_up_with_cause:
            raise cause
        raise ConnectError(f"giving up after the backoff policy's attempts: {cause}",
                           retryable=_server_said_later(cause)) from cause
    delay = max(delay, retry_after or 0.0)
    if deadline is not None and asyncio.get_running_loop().time() + delay >= deadline:
        raise ConnectError(f"giving up: no connection within the backoff policy's time "
                           f"(open_timeout and its longest wait): {cause}",
                           retryable=_server_said_later(cause)) from cause
    await asyncio.sleep(delay)


def _server_said_later(failure: Exception) -> bool:
    """Whether ``failure`` was an answer refusing for now, which makes the
    :class:`ConnectError` it ends in retryable: a close 1013, a start refused ``draining``, or
    an HTTP 429 (too many handshakes from this address) or 503 (draining, its shared state
    unavailable, unable to check a ticket; or a proxy with no server behind it for now) to the
    upgrade or the ticket request. A proxy's 502 or 504 is a server it could not reach."""
    if isinstance(failure, TryAgainLaterError | DrainingError):
        return True
    return (isinstance(failure, TicketUnavailableError | TransientConnectFailure)
            and failure.status in (429, 503))


def _start_frame(stream_id: str, context: Sequence[ContextItem] | None, collection: str | None,
                 prompt: str | None, mode: Mode, threshold: float | None,
                 verdicts: bool) -> dict[str, Any]:
    if not isinstance(stream_id, str) or not is_name(stream_id, MAX_STREAM_ID):
        raise ValueError(f"stream_id must be a printable str of 1 to {MAX_STREAM_ID} characters")
    frame: dict[str, Any] = {"type": "start", "stream_id": stream_id}
    if context is not None:
        if isinstance(context, (str, bytes)) or not isinstance(context, Sequence):
            raise TypeError("context must be a list of passages (str, or {'id', 'text'} "
                            f"mappings), not {type(context).__name__}")
        bad = [i for i, c in enumerate(context) if not isinstance(c, (str, Mapping))]
        if bad:
            raise TypeError(f"context[{bad[0]}] must be a str or an {{'id', 'text'}} mapping, "
                            f"not {type(context[bad[0]]).__name__}")
        frame["context"] = [c if isinstance(c, str) else dict(c) for c in context]
        for i, item in enumerate(frame["context"]):
            for key, value in ([("", item)] if isinstance(item, str) else item.items()):
                if isinstance(value, str):  # a wrong type is the server's to name
                    check_text(value, f"context[{i}]" + (f"[{key!r}]" if key else ""))
    if collection is not None:
        frame["collection"] = collection
    if prompt is not None:
        if isinstance(prompt, str):
            check_text(prompt, "prompt")
        frame["prompt"] = prompt
    options: dict[str, Any] = {}
    if mode != "observe":
        options["mode"] = mode
    if threshold is not None:
        options["threshold"] = threshold
    if not verdicts:
        options["verdicts"] = False
    if options:
        frame["options"] = options
    return frame


def stream_url(url: str) -> str:
    """The stream endpoint of a server given as ``ws(s)://host:port`` or ``http(s)://host:port``,
    with or without the ``/v1/stream`` path: every tool takes either form. ValueError for any
    other scheme."""
    parts = urlsplit(url)
    scheme = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"the server URL must be ws(s):// or http(s)://, got {url!r}")
    path = parts.path if parts.path not in ("", "/") else STREAM_PATH
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
