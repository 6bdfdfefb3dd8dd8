"""Replays labelled records as live token streams over real WebSocket connections.

Every record goes through the same path as production traffic: ``start`` with its context as
inline evidence (or naming an evidence collection instead), one ``delta`` per token, ``end``, and
whatever verdicts and halt the server sends back. Streams are multiplexed on a few connections,
never more per connection than the server allows, and a connection is replaced before its
character budget would run out, so the client stays inside every limit a stock server enforces. A
failure is recorded against the one record it hit; only an unreachable or refusing server ends
the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from stream_guard.client.events import (
    Done,
    ErrorEvent,
    Event,
    Halt,
    MalformedFrame,
    Started,
    Verdict,
    parse_event,
)
from stream_guard.dataset import Record
from stream_guard.eval.tokens import split_tokens
from stream_guard.exceptions import GuardError
from stream_guard.protocol.errors import ErrorCode

Frame = dict[str, Any]

CONNECT_ATTEMPTS = 4
# A connection that closes before finishing a single record counts as a failed connection; this
# many in a row mean the server is refusing us, and retrying further would only loop.
MAX_BARREN_CONNECTIONS = 5


class ReplayError(GuardError, RuntimeError):
    """The server cannot be reached or refuses the client; no record could be replayed."""


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """How records are streamed, and the server limits the client must stay within."""

    concurrency: int = 16
    streams_per_connection: int = 8
    tokens_per_s: float | None = None  # per stream; None sends as fast as the socket takes it
    messages_per_s: float | None = None  # per connection; None when the server does not limit
    chars_per_connection: int = 5_000_000
    max_frame_bytes: int = 65_536
    record_timeout_s: float = 120.0
    threshold: float | None = None  # per-stream support threshold; None keeps the server's
    # Evidence: each record's own context, or (named) this collection of the key's tenant instead,
    # so what is measured includes retrieval: which passages a window's search finds.
    collection: str | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.streams_per_connection < 1:
            raise ValueError("concurrency and streams_per_connection must be at least 1")
        for name in ("tokens_per_s", "messages_per_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive")

    @property
    def connections(self) -> int:
        return math.ceil(self.concurrency / self.streams_per_connection)

    def lanes(self) -> list[int]:
        """Streams in flight on each connection: ``concurrency`` spread as evenly as possible."""
        n = self.connections
        return [self.concurrency // n + (1 if i < self.concurrency % n else 0) for i in range(n)]


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What the server decided about one replayed record.

    ``chars_at_halt`` is how many characters the client had sent when the halt frame reached it:
    the text a user would have seen before the retraction. ``min_score`` is the lowest window
    support among the verdicts (1.0 for a stream that got none). A record with an ``error`` is
    left out of the quality figures: its outcome is not the detector's.
    """

    record: Record
    halted: bool
    halt_at: int | None
    halt_window_end: int | None
    halt_reason: str | None
    chars_at_halt: int | None
    min_score: float
    windows: int
    seconds: float
    error: str | None


@dataclass(slots=True)
class ReplayOutcome:
    results: list[StreamResult]
    seconds: float
    connections_opened: int
    stray_errors: Counter[str] = field(default_factory=Counter)  # errors naming no open stream


class _Run:
    """The client's view of one stream, filled in by the connection's reader as frames arrive."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.done = asyncio.Event()
        self.scores: list[float] = []
        self.halt: Halt | None = None
        self.chars_sent = 0
        self.chars_at_halt: int | None = None
        self.windows = 0
        self.error: str | None = None

    def on_event(self, event: Event) -> None:
        if isinstance(event, Started):
            self.started.set()
        elif isinstance(event, Verdict):
            self.scores.append(event.score)
        elif isinstance(event, Halt):
            self.halt = event
            self.chars_at_halt = self.chars_sent
        elif isinstance(event, Done):
            self.windows = event.windows
            self._finish()
        elif isinstance(event, ErrorEvent):
            if event.code == ErrorCode.STREAM_HALTED:
                return  # deltas already on the wire when the halt was sent: expected
            if self.error is None:
                self.error = event.code
            if not self.started.is_set():
                self._finish()  # the start itself was refused

    def fail(self, reason: str) -> None:
        if self.error is None:
            self.error = reason
        self._finish()

    def _finish(self) -> None:
        self.started.set()
        self.done.set()

    def result(self, record: Record, seconds: float) -> StreamResult:
        halt = self.halt
        window = halt.window if halt is not None else None
        return StreamResult(
            record=record, halted=halt is not None,
            halt_at=None if halt is None else halt.at,
            halt_window_end=None if window is None else window[1],
            halt_reason=None if halt is None else halt.reason,
            chars_at_halt=self.chars_at_halt, min_score=min(self.scores, default=1.0),
            windows=self.windows, seconds=seconds, error=self.error)


class _Link:
    """One WebSocket connection and the streams open on it."""

    def __init__(self, ws: ClientConnection, messages_per_s: float | None,
                 stray_errors: Counter[str]) -> None:
        self.ws = ws
        self.runs: dict[str, _Run] = {}
        self.reserved_chars = 0
        self.retiring = False  # the next record would exceed the budget: finish, then replace
        self.closed = False
        self.finished_records = 0
        # Messages are spaced evenly at the rate (a burst of one), so whatever burst the server
        # allows is never exceeded.
        self._interval = None if messages_per_s is None else 1.0 / messages_per_s
        self._next_slot = 0.0
        self._stray = stray_errors
        self._reader = asyncio.create_task(self._read())

    async def send(self, payload: bytes) -> None:
        if self._interval is not None:
            now = asyncio.get_running_loop().time()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
            if slot > now:
                await asyncio.sleep(slot - now)
        await self.ws.send(payload, text=True)

    async def close(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.close()
        await self._reader

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                event = parse_event(orjson.loads(message))
                if event is None:
                    continue  # pong, or a frame type this client does not know
                run = self.runs.get(event.stream_id) if event.stream_id is not None else None
                if run is not None:
                    run.on_event(event)
                elif isinstance(event, ErrorEvent):
                    self._stray[event.code] += 1
        except ConnectionClosed:
            pass
        except (orjson.JSONDecodeError, MalformedFrame):
            self._stray["bad_server_frame"] += 1
        finally:
            self.closed = True
            reason = f"connection_closed_{self.ws.close_code}"
            for run in list(self.runs.values()):
                run.fail(reason)


class Replayer:
    """Streams ``records`` to the server at ``url`` and collects one result per record."""

    def __init__(self, records: Sequence[Record], url: str, api_key: str,
                 options: ReplayOptions,
                 on_result: Callable[[StreamResult], None] | None = None) -> None:
        self.records = records
        self.url = url
        self.api_key = api_key
        self.options = options
        self.on_result = on_result
        self._queue: deque[int] = deque(range(len(records)))
        self._results: list[StreamResult | None] = [None] * len(records)
        self._stray: Counter[str] = Counter()
        self._opened = 0

    async def run(self) -> ReplayOutcome:
        t0 = time.perf_counter()
        lanes = [asyncio.create_task(self._lane(slots)) for slots in self.options.lanes()]
        try:
            await asyncio.gather(*lanes)
        except BaseException:
            for task in lanes:
                task.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
            raise
        results = [r for r in self._results if r is not None]
        assert len(results) == len(self.records), "every record yields exactly one result"
        return ReplayOutcome(results, time.perf_counter() - t0, self._opened, self._stray)

    # --- connections ------------------------------------------------------------------------
    async def _lane(self, slots: int) -> None:
        barren = 0
        while self._queue:
            link = await self._connect()
            try:
                await asyncio.gather(*(self._slot(link) for _ in range(slots)))
            finally:
                await link.close()
            barren = 0 if link.finished_records else barren + 1
            if barren >= MAX_BARREN_CONNECTIONS:
                raise ReplayError(f"{self.url}: {barren} connections in a row closed before "
                                  f"finishing a stream (last close code {link.ws.close_code})")

    async def _connect(self) -> _Link:
        last: Exception | None = None
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                # No permessage-deflate: per-token frames are a few bytes, and compressing each
                # one would cost more CPU (in this process, next to an in-process server) than
                # it saves.
                ws = await connect(self.url, open_timeout=15, max_size=2**22, compression=None,
                                   additional_headers={"Authorization": f"Bearer {self.api_key}"})
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    raise ReplayError(f"{self.url}: refused with HTTP {status} "
                                      "(check the API key)") from exc
                last = exc
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                last = exc
            else:
                self._opened += 1
                return _Link(ws, self.options.messages_per_s, self._stray)
            await asyncio.sleep(0.5 * 2**attempt)
        raise ReplayError(f"cannot connect to {self.url}: {last}")

    async def _slot(self, link: _Link) -> None:
        """One stream in flight at a time on ``link``, record after record."""
        budget = self.options.chars_per_connection
        while self._queue and not link.retiring and not link.closed:
            i = self._queue.popleft()
            record = self.records[i]
            n = len(record.response)
            if n > budget:
                self._finish(i, _failed(record, "response_over_connection_budget"))
                continue
            if link.reserved_chars + n > budget:
                self._queue.appendleft(i)
                link.retiring = True
                return
            link.reserved_chars += n
            self._finish(i, await self._stream(link, f"r{i}", record))
            link.finished_records += 1

    def _finish(self, i: int, result: StreamResult) -> None:
        self._results[i] = result
        if self.on_result is not None:
            self.on_result(result)

    # --- one stream -------------------------------------------------------------------------
    async def _stream(self, link: _Link, sid: str, record: Record) -> StreamResult:
        run = _Run()
        link.runs[sid] = run
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(self._drive(link, sid, run, record),
                                   self.options.record_timeout_s)
        except TimeoutError:
            run.fail("timeout")
            with contextlib.suppress(ConnectionClosed):
                await link.send(orjson.dumps({"type": "cancel", "stream_id": sid}))
        except ConnectionClosed:
            run.fail(f"connection_closed_{link.ws.close_code}")
        finally:
            link.runs.pop(sid, None)
        return run.result(record, time.perf_counter() - t0)

    async def _drive(self, link: _Link, sid: str, run: _Run, record: Record) -> None:
        options: Frame = {"mode": "observe", "verdicts": True}
        if self.options.threshold is not None:
            options["threshold"] = self.options.threshold
        start: Frame = {"type": "start", "stream_id": sid, "options": options}
        if self.options.collection is None:
            start["context"] = [{"id": "context", "text": record.context}]
        else:
            start["collection"] = self.options.collection
        if record.prompt is not None:
            start["prompt"] = record.prompt
        payload = orjson.dumps(start)
        if len(payload) > self.options.max_frame_bytes:
            run.fail("start_frame_too_large")  # sending it would close the whole connection
            return
        await link.send(payload)
        await run.started.wait()
        if run.done.is_set():
            return
        rate = self.options.tokens_per_s
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for seq, piece in enumerate(split_tokens(record.response)):
            if run.halt is not None or run.done.is_set():
                break
            if rate is not None:
                delay = t0 + seq / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            run.chars_sent += len(piece)
            await link.send(orjson.dumps(
                {"type": "delta", "stream_id": sid, "seq": seq, "text": piece}))
        if not run.done.is_set():
            await link.send(orjson.dumps({"type": "end", "stream_id": sid}))
        await run.done.wait()


def _failed(record: Record, reason: str) -> StreamResult:
    return StreamResult(record, False, None, None, None, None, 1.0, 0, 0.0, reason)
