"""One WebSocket connection of the asyncio generator: open-loop senders and one reader.

Open loop: every delta has a scheduled send time fixed when its stream starts (one token every
``1/rate`` s), and is sent then whatever the server has answered. Latency is measured from that
scheduled time, not from when the delta actually left, so a generator or server that falls
behind shows up as latency instead of silently sending less (coordinated omission). The time the
delta actually left is recorded too, and ``send_lag`` says how far the generator itself fell
behind.

Each connection runs exactly two tasks: a sender that walks a heap of due events for all of its
stream slots, and a reader that parses every frame once. Per-token tasks or timers would cost the
generator more CPU than the server it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from loadtest.corpus import StreamScript
from stream_guard.client.events import (
    Done,
    ErrorEvent,
    Halt,
    Started,
    Verdict,
    parse_event,
)

PING_SLOT = -1
MISSED_EXAMPLES = 5
_IDLE_POLL_S = 0.02  # the sender re-checks the heap at least this often (reader-made events)


@dataclass
class Recorder:
    """Everything measured, shared by all connections of one run (one event loop, no locks)."""

    t0: float = 0.0
    verdict: list[float] = field(default_factory=list)
    verdict_sent: list[float] = field(default_factory=list)
    halt: list[float] = field(default_factory=list)
    halt_sent: list[float] = field(default_factory=list)
    pong: list[float] = field(default_factory=list)
    send_lag: list[float] = field(default_factory=list)
    timeline: list[tuple[float, float, bool]] = field(default_factory=list)  # t, lat, is_halt
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    close_codes: Counter[str] = field(default_factory=Counter)
    missed: list[dict[str, Any]] = field(default_factory=list)  # a few missed halts, for triage
    false: list[dict[str, Any]] = field(default_factory=list)  # a few halts of clean streams, too


@dataclass(frozen=True)
class DriverConfig:
    url: str
    headers: dict[str, str]
    rate: float  # tokens (deltas) per second per stream
    deadline: float  # time.monotonic() after which no stream starts
    ping_interval: float
    compression: bool
    ticket: Callable[[], Any] | None = None  # async () -> str, one ticket per connection
    collection: str | None = None  # streams name it instead of sending their context


@dataclass(slots=True)
class _Live:
    sid: str
    script: StreamScript
    scheduled: list[float]  # per delta, then the end frame
    sent: list[float]
    next_index: int = 0
    started: bool = False
    halted: bool = False
    ended: bool = False
    verdicts: list[tuple[int, int, str, float]] = field(default_factory=list)


class ConnectionDriver:
    def __init__(self, cfg: DriverConfig, index: int, first_starts: list[float],
                 make_script: Callable[[random.Random], StreamScript], rec: Recorder,
                 seed: int) -> None:
        self.cfg = cfg
        self.index = index
        self.rec = rec
        self.make_script = make_script
        self.rng = random.Random(seed)
        self.slots: list[_Live | None] = [None] * len(first_starts)
        self.by_sid: dict[str, int] = {}
        # (due, tie-break, slot, generation): an entry whose generation is not the slot's
        # current one belongs to a stream that already ended and is skipped.
        self.heap: list[tuple[float, int, int, int]] = []
        self.gen = [0] * len(first_starts)
        self._tie = itertools.count()
        self._serial = itertools.count()
        self._pings: deque[float] = deque()
        self._retired = 0
        self._closed = False
        for slot, t in enumerate(first_starts):
            self._push(t, slot)
        self._push(first_starts[0] + cfg.ping_interval, PING_SLOT)

    def _push(self, due: float, slot: int) -> None:
        gen = self.gen[slot] if slot != PING_SLOT else 0
        heapq.heappush(self.heap, (due, next(self._tie), slot, gen))

    def _free(self, slot: int, due: float) -> None:
        self.slots[slot] = None
        self.gen[slot] += 1
        self._push(due, slot)

    async def run(self) -> None:
        headers = dict(self.cfg.headers)
        url = self.cfg.url
        try:
            if self.cfg.ticket is not None:
                url += ("&" if "?" in url else "?") + f"ticket={await self.cfg.ticket()}"
            ws = await connect(url, additional_headers=headers, open_timeout=30,
                               compression="deflate" if self.cfg.compression else None,
                               max_size=2**22, ping_interval=None)
        except InvalidStatus as exc:
            self.rec.counts["connect_failures"] += 1
            self.rec.close_codes[f"http_{exc.response.status_code}"] += 1
            return
        except (TimeoutError, OSError, RuntimeError):
            self.rec.counts["connect_failures"] += 1
            return
        self.rec.counts["connections"] += 1
        reader = asyncio.create_task(self._read(ws))
        try:
            await self._send_loop(ws)
        except ConnectionClosed:
            pass
        finally:
            self._closed = True
            with contextlib.suppress(ConnectionClosed):
                await ws.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self.rec.counts["streams_aborted"] += sum(1 for s in self.slots if s is not None)

    # --- sending ------------------------------------------------------------------------------
    async def _send_loop(self, ws: ClientConnection) -> None:
        busy = len(self.slots)
        while self._retired < busy and not self._closed:
            now = time.monotonic()
            if not self.heap or self.heap[0][0] > now:
                wait = self.heap[0][0] - now if self.heap else _IDLE_POLL_S
                await asyncio.sleep(min(wait, _IDLE_POLL_S))
                continue
            _, _, slot, gen = heapq.heappop(self.heap)
            if slot == PING_SLOT:
                self._pings.append(time.monotonic())
                await ws.send(b'{"type":"ping"}', text=True)
                self._push(now + self.cfg.ping_interval, PING_SLOT)
                continue
            if gen == self.gen[slot]:
                await self._act(ws, slot, now)

    async def _act(self, ws: ClientConnection, slot: int, due_now: float) -> None:
        live = self.slots[slot]
        if live is None:
            if due_now >= self.cfg.deadline:
                self._retired += 1
                return
            await self._start(ws, slot, time.monotonic())
            return
        i = live.next_index
        if live.halted or i >= len(live.script.deltas):
            if not live.ended:
                live.ended = True
                live.sent[-1] = time.monotonic()
                await ws.send(orjson.dumps({"type": "end", "stream_id": live.sid}), text=True)
            return  # the reader frees the slot at ``done``
        frame = {"type": "delta", "stream_id": live.sid, "seq": i,
                 "text": live.script.deltas[i]}
        sent = time.monotonic()
        await ws.send(orjson.dumps(frame), text=True)
        live.sent[i] = sent
        self.rec.send_lag.append(sent - live.scheduled[i])
        self.rec.counts["deltas_sent"] += 1
        live.next_index = i + 1
        self._push(live.scheduled[i + 1], slot)

    async def _start(self, ws: ClientConnection, slot: int, now: float) -> None:
        script = self.make_script(self.rng)
        sid = f"c{self.index}-{next(self._serial)}"
        step = 1.0 / self.cfg.rate
        n = len(script.deltas)
        scheduled = [now + (k + 1) * step for k in range(n + 1)]
        live = _Live(sid, script, scheduled, [0.0] * (n + 1))
        self.slots[slot] = live
        self.by_sid[sid] = slot
        self.rec.counts["streams_started"] += 1
        if script.bad:
            self.rec.counts["streams_bad"] += 1
        evidence: dict[str, Any] = ({"context": [script.context]} if self.cfg.collection is None
                                    else {"collection": self.cfg.collection})
        await ws.send(orjson.dumps({"type": "start", "stream_id": sid, **evidence}), text=True)
        self._push(scheduled[0], slot)

    # --- reading ------------------------------------------------------------------------------
    async def _read(self, ws: ClientConnection) -> None:
        rec = self.rec
        try:
            async for message in ws:
                now = time.monotonic()
                frame = orjson.loads(message)
                rec.counts["frames_received"] += 1
                if frame.get("type") == "pong":
                    if self._pings:
                        rec.pong.append(now - self._pings.popleft())
                    continue
                # The protocol's own vocabulary (typed frames), as every client reads it.
                event = parse_event(frame)
                if isinstance(event, Verdict):
                    self._on_verdict(event, now)
                elif isinstance(event, Halt):
                    self._on_halt(event, now)
                elif isinstance(event, Done):
                    self._on_done(event, frame, now)
                elif isinstance(event, Started):
                    live = self._live(event.stream_id)
                    if live is not None:
                        live.started = True
                elif isinstance(event, ErrorEvent):
                    self._on_error(event, now)
        except ConnectionClosed:
            pass
        if not self._closed:
            code = ws.close_code
            rec.close_codes[str(code) if code is not None else "abnormal"] += 1
            self._closed = True

    def _live(self, stream_id: str | None) -> _Live | None:
        slot = self.by_sid.get(stream_id or "")
        return None if slot is None else self.slots[slot]

    def _latency(self, live: _Live, window: tuple[int, int], now: float,
                 into: list[float], into_sent: list[float], is_halt: bool) -> None:
        idx = live.script.completes.get(window)
        if idx is None:
            self.rec.counts["windows_unmatched"] += 1
            return
        into.append(now - live.scheduled[idx])
        into_sent.append(now - live.sent[idx])
        self.rec.timeline.append((now - self.rec.t0, now - live.scheduled[idx], is_halt))

    def _on_verdict(self, verdict: Verdict, now: float) -> None:
        live = self._live(verdict.stream_id)
        self.rec.counts[f"verdicts_{verdict.label}"] += 1
        if verdict.degraded:
            self.rec.counts["verdicts_degraded"] += 1
        if live is not None:
            if live.script.bad:
                live.verdicts.append((verdict.start, verdict.end, verdict.label, verdict.score))
            self._latency(live, (verdict.start, verdict.end), now, self.rec.verdict,
                          self.rec.verdict_sent, False)

    def _on_halt(self, halt: Halt, now: float) -> None:
        live = self._live(halt.stream_id)
        rec = self.rec
        rec.counts["streams_halted"] += 1
        if live is None:
            return
        live.halted = True
        self._latency(live, halt.window or (-1, -1), now, rec.halt, rec.halt_sent, True)
        kind = live.script.judge_halt(halt.at, halt.window)
        if kind == "caught":
            rec.counts["halts_correct"] += 1
            if live.script.bad_at is not None and halt.at < live.script.bad_at:
                # a run the claim completed: the halt retracts the faithful window before it
                rec.counts["halts_from_earlier_window"] += 1
        elif kind == "wrong_offset":
            rec.counts["halts_wrong_offset"] += 1
        else:  # a halt of faithful text; past the claim, the claim itself went through
            rec.counts["false_halts"] += 1
            if halt.degraded:  # the model tier had no time: load's doing, not the detector's
                rec.counts["false_halts_degraded"] += 1
            if kind == "late":
                self._missed(live, {"halt": {"at": halt.at, "window": halt.window}})
            if len(rec.false) < MISSED_EXAMPLES:
                rec.false.append({
                    "stream_id": live.sid, "at": halt.at, "window": halt.window,
                    "text": halt.text, "reason": halt.reason, "score": halt.score,
                    "degraded": halt.degraded, "evidence": [e.id for e in halt.evidence],
                    "before": live.script.text[max(0, halt.at - 240): halt.at]})

    def _on_done(self, done: Done, frame: dict[str, Any], now: float) -> None:
        slot = self.by_sid.pop(done.stream_id, None)
        if slot is None:
            return
        live = self.slots[slot]
        self.rec.counts["streams_done"] += 1
        if live is not None and live.script.bad and not live.halted:
            self._missed(live, {"done": frame})
        self._free(slot, now)

    def _missed(self, live: _Live, how: dict[str, Any]) -> None:
        """A planted claim the stream went past: it ended, or was halted later, without it."""
        self.rec.counts["missed_halts"] += 1
        if len(self.rec.missed) < MISSED_EXAMPLES:
            at = live.script.bad_at or 0
            self.rec.missed.append({
                "stream_id": live.sid, "bad_at": at, **how,
                "planted": live.script.text[at: at + 120],
                "before": live.script.text[max(0, at - 120): at],
                "verdicts": live.verdicts})

    def _on_error(self, error: ErrorEvent, now: float) -> None:
        if error.code == "stream_halted":
            # Deltas already on the wire when the halt was sent: the protocol's answer to the
            # race, not a failure (an app stops sending once it has read the halt).
            self.rec.counts["deltas_after_halt"] += 1
            return
        self.rec.errors[error.code] += 1
        live = self._live(error.stream_id)
        if live is not None and not live.started:
            # ``start`` was refused: the stream never existed; retry the slot a second later.
            slot = self.by_sid.pop(live.sid)
            self.rec.counts["streams_refused"] += 1
            self._free(slot, now + 1.0)
