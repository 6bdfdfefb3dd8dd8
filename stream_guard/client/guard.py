"""``guard()``: put stream-guard between an LLM token stream and whatever shows it.

The upstream iterator is pulled one token ahead of the consumer and that pull races the server's
events, so a halt stops generation at once, even while the upstream is waiting for its next
token: the pending pull is cancelled and the upstream closed, which is what makes a hosted LLM
stream stop billing and a local one stop computing.

A halt is an expected outcome, not an error, so it is reported in :class:`GuardResult` (read
``Guarded.result`` after iterating) rather than raised; only protocol errors and a lost
connection raise (a server that shuts down before the stream was checked counts as lost:
:class:`DrainingError`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Sequence,
)
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from stream_guard.client.client import ContextItem, GuardClient
from stream_guard.client.errors import (
    DrainingError,
    StreamClosedError,
    StreamGuardError,
    StreamHaltedError,
)
from stream_guard.client.events import Done, ErrorEvent, Event, Halt, Release
from stream_guard.client.stream import GuardStream
from stream_guard.protocol.errors import BENIGN_ERRORS, CLOSE_FOLLOWS, SERVER_ENDS
from stream_guard.protocol.frames import Mode

_EXHAUSTED: Any = object()


@dataclass(frozen=True, slots=True)
class GuardResult:
    """How a guarded stream ended.

    ``text_shown`` is everything the guard yielded; ``text_sent`` everything the server was
    sent (:attr:`GuardStream.text`: in observe mode a token shown while it waited for the
    connection's message rate, and dropped by the halt, is not in it). In observe mode,
    ``text_shown[retract_from:]`` was shown but must now be taken back; in holdback mode
    ``retract_from`` is always None because only verified text was yielded. ``done`` is None
    when iteration stopped before the server closed the stream (the consumer broke out, or an
    error was raised).
    """

    halted: bool
    halt: Halt | None
    text_shown: str
    text_sent: str
    done: Done | None

    @property
    def retract_from(self) -> int | None:
        if self.halt is None or self.halt.at >= len(self.text_shown):
            return None
        return self.halt.at


class Guarded:
    """The text that may be shown, as an async iterator; ``result`` once it is exhausted.

    Use ``async with guard(...) as pieces:`` when the loop may ``break`` early: leaving the block
    closes the upstream and cancels the server-side stream at once instead of at garbage
    collection.
    """

    def __init__(self, tokens: AsyncIterable[str], client: GuardClient,
                 start: dict[str, Any], mode: Mode,
                 on_event: Callable[[Event], None] | None = None) -> None:
        self._tokens = tokens
        self._client = client
        self._start = start
        self._mode: Mode = mode
        self._on_event = on_event
        # what on_event raised, for the consumer
        self._event_error: Exception | asyncio.CancelledError | None = None
        self._gen = self._run()
        self._result: GuardResult | None = None

    @property
    def result(self) -> GuardResult:
        """What happened, once the output is exhausted or closed (its ``async with`` block
        left, even before iterating: then nothing was sent or shown). Typed as always there,
        so a caller's code needs no None check; read while the output is still being
        iterated, it raises ``RuntimeError``."""
        if self._result is None:
            raise RuntimeError("the guarded output is not finished: iterate it to its end, or "
                               "leave its `async with` block, first")
        return self._result

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()
        if self._result is None:  # closed before it started: nothing was sent or shown
            self._result = GuardResult(False, None, "", "", None)

    async def __aenter__(self) -> Guarded:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[str, None]:
        upstream = aiter(self._tokens)
        try:
            stream = await self._client.start(
                mode=self._mode, on_event=None if self._on_event is None else self._heard,
                **self._start)
        except BaseException:
            # Closed as on a halt (a review: a start refused, or no connection after the
            # backoff, left a live LLM stream handed in generating and billing)
            await _stop(None, upstream)
            raise
        pull: asyncio.Task[Any] | None = asyncio.ensure_future(_pull(upstream))
        listen = _listen(stream)
        shown: list[str] = []
        shown_chars = 0
        cancelled = False
        done: Done | None = None
        try:
            while done is None:
                await asyncio.wait([t for t in (listen, pull) if t is not None],
                                   return_when=asyncio.FIRST_COMPLETED)
                if listen.done():  # events first: a halt must win over a token that raced it
                    event = listen.result()
                    if self._event_error is not None:
                        raise self._event_error
                    if isinstance(event, Done):
                        _check_complete(event, stream)
                        done = event
                        continue
                    listen = _listen(stream)
                    if isinstance(event, Halt):
                        await _stop(pull, upstream)
                        pull = None
                        await _end(stream)
                    piece = self._visible(event, stream, shown_chars)
                    if piece:
                        shown.append(piece)
                        shown_chars += len(piece)
                        yield piece
                elif pull is not None and pull.done():
                    token, pull = pull.result(), None
                    if token is _EXHAUSTED:
                        await _end(stream)
                        continue
                    if stream.halt is not None or stream.done is not None:
                        continue  # raced a halt (or a drain's done) on its way here: neither
                        # sent nor shown; its event ends the loop
                    try:
                        await stream.send(token)
                    except (StreamClosedError, StreamHaltedError):
                        # It came while the send waited its turn (a review: a drain's done
                        # raised StreamClosedError here, not the promised DrainingError).
                        if stream.halt is None and stream.done is None:
                            raise
                        continue
                    except StreamGuardError:
                        if stream.ended_by_server is None:
                            raise
                        # The server ends the stream (its drain): nothing more is taken, and
                        # its last verdicts, any halt and its done are awaited.
                        await _stop(None, upstream)
                        continue
                    if self._mode == "observe" and token:
                        shown.append(token)
                        shown_chars += len(token)
                        yield token
                    pull = asyncio.ensure_future(_pull(upstream))
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            listen.cancel()
            try:
                # To its end however often the consumer is cancelled meanwhile (a review:
                # anyio's cancel scopes, which Starlette's StreamingResponse uses when its
                # client goes away, cancel every await until the task ends; a second
                # cancellation in the upstream's close left the stream open on the server and
                # no result recorded)
                await _to_the_end(_wind_up(pull, upstream, stream, done), cancelled)
            finally:
                self._result = GuardResult(stream.halt is not None, stream.halt,
                                          "".join(shown), stream.text, done)

    def _heard(self, event: Event) -> None:
        """``on_event``, called as the event arrives (:meth:`GuardClient.start`), not when the
        consumer next pulls (a review: a voice loop speaking a piece for 3 s heard of the halt
        3 s late); what it raises is raised to the consumer, as before."""
        assert self._on_event is not None
        try:
            self._on_event(event)
        except (Exception, asyncio.CancelledError) as exc:  # not the reader's to end
            if self._event_error is None:
                self._event_error = exc

    def _visible(self, event: Event, stream: GuardStream, shown_chars: int) -> str:
        """Text an event makes showable; raises the typed error of a fatal error event (not
        one after which the server ends the stream itself: its done, drained, says how it
        ended, after any halt its last check finds)."""
        if (isinstance(event, ErrorEvent) and event.code not in BENIGN_ERRORS
                # the stream's done (drained) raises the retryable DrainingError instead;
                # a review saw the error itself fail every bystander, not retryable
                and not (event.stream_id is None and event.code in CLOSE_FOLLOWS)
                and not (event.stream_id == stream.stream_id and event.code in SERVER_ENDS)):
            raise event.error
        if isinstance(event, Release) and self._mode == "holdback":
            return stream.text[shown_chars:event.upto]
        return ""


def guard(tokens: AsyncIterable[str], client: GuardClient, *,
          context: Sequence[ContextItem] | None = None, collection: str | None = None,
          prompt: str | None = None, mode: Mode = "observe", threshold: float | None = None,
          stream_id: str | None = None,
          on_event: Callable[[Event], None] | None = None) -> Guarded:
    """Stream ``tokens`` through stream-guard; iterate the result for the text to show.

    ``observe``: every token is yielded as soon as it arrives; on a halt, iteration stops, the
    upstream is closed, and ``result.retract_from`` says where the shown text must be cut.
    ``holdback``: only text the server released (verified) is yielded, in slices as
    ``release.upto`` advances; on a halt nothing unverified was ever yielded.

    ``on_event`` sees every server event the moment it arrives, from the connection's
    reader, before the text it makes showable is yielded, however long the consumer takes
    over the piece before: the place to react to a :class:`Halt` at once (e.g. cut audio).
    What it raises is raised from the iteration.
    """
    start: dict[str, Any] = {"stream_id": stream_id, "context": context,
                             "collection": collection, "prompt": prompt, "threshold": threshold}
    return Guarded(tokens, client, start, mode, on_event)


def _listen(stream: GuardStream) -> asyncio.Task[Event]:
    """The stream's next event, awaited in the background. What it raises is marked retrieved
    here: the guard reads it with the event, but nobody does where the consumer broke out of a
    bare ``async for`` and the connection then closed (a review: asyncio logged "Task
    exception was never retrieved" for it)."""
    task = asyncio.ensure_future(stream.__anext__())
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return task


async def _pull(upstream: AsyncIterator[str]) -> Any:
    try:
        return await upstream.__anext__()
    except StopAsyncIteration:
        return _EXHAUSTED


async def _stop(pull: asyncio.Task[Any] | None, upstream: AsyncIterator[str]) -> None:
    """Cancel a pending pull and close the upstream; nothing more is taken from it."""
    if pull is not None and not pull.done():
        pull.cancel()
        await asyncio.wait([pull])
        if not pull.cancelled():
            pull.exception()  # the upstream failed while being cancelled: nobody wants it now
    aclose = getattr(upstream, "aclose", None)
    if aclose is not None:
        await aclose()


async def _wind_up(pull: asyncio.Task[Any] | None, upstream: AsyncIterator[str],
                   stream: GuardStream, done: Done | None) -> None:
    """Cancel the stream on the server unless it is done, then stop the upstream. The cancel
    goes first: an upstream whose close fails, or hangs, cannot leave the stream open there."""
    if stream.done is None and done is None:
        with contextlib.suppress(Exception):  # lost, or ended already: nothing to cancel
            await stream.cancel()
    await _stop(pull, upstream)


# How long a cancelled guard still waits for its wind-up (the server stream's cancel, sent
# first, then the upstream's close) before it gives the upstream's close up (a review: an
# upstream whose close hung made the cancelled guard wait for ever).
WIND_UP_GRACE_S = 5.0


async def _to_the_end(work: Awaitable[None], already_cancelled: bool = False) -> None:
    """Await ``work`` to its end even when the caller is cancelled meanwhile, any number of
    times, for :data:`WIND_UP_GRACE_S` after the first cancellation at most (then ``work``
    is cancelled too); the cancellation is raised once it has ended (what ``work`` raised is
    then only retrieved), or else what ``work`` raised. ``already_cancelled``: the caller's
    cancellation brought it here, and the grace runs from the start (a fourth review: a
    single cancel never started it; not from the task's count of requests, which a caller
    that swallowed one keeps: a fifth)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    deadline = loop.time() + WIND_UP_GRACE_S if already_cancelled else None
    while not task.done():
        if deadline is not None and loop.time() >= deadline:
            task.cancel()  # its grace is over: the upstream's close is given up
        try:  # a cancelled wait leaves the task running
            await asyncio.wait([task], timeout=None if deadline is None
                               else max(0.0, deadline - loop.time()))
        except asyncio.CancelledError as exc:
            if deadline is None:
                deadline = loop.time() + WIND_UP_GRACE_S
            cancelled = exc
    if cancelled is not None:
        if not task.cancelled():
            task.exception()
        raise cancelled
    if task.cancelled():
        return  # given up after its grace: the caller's own cancellation goes on
    task.result()


async def _end(stream: GuardStream) -> None:
    """End the stream unless it is already ended (after a halt the server still wants ``end``)."""
    if not stream.ended and stream.done is None:
        await stream.end()


def _check_complete(done: Done, stream: GuardStream) -> None:
    """A ``done`` of the server's drain (``drained``; or one the guard did not ask for, or
    that took less than was sent, from a server older than that flag) ended the stream with
    the output unfinished or unchecked. That is a lost stream, not a passed one, so it raises
    the retryable :class:`DrainingError` instead of returning a result that says "not
    halted"."""
    if done.halted or done.cancelled:
        return
    if done.drained or not stream.ended or done.chars < len(stream.text):
        # a shutdown, or the connection's own drain (its lifetime or character budget spent)
        raise DrainingError(f"the server ended the stream before it was checked: it took "
                            f"{done.chars} of {len(stream.text)} characters sent; start it "
                            "again on a new connection", stream.stream_id)
