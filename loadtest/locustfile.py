"""Locust users that stream LLM-like output to stream-guard over WebSocket.

    locust -f loadtest/locustfile.py --headless -u 20 -r 5 -t 20s \\
        --host ws://127.0.0.1:8765 --api-key KEY --csv /tmp/sg

All users connect from one address: start the server with
``STREAM_GUARD_MAX_CONNECTIONS_PER_IP`` at least the user count (its default, 16, refuses the
rest of 20 users ``closed:1013``).

Each user holds one connection and streams one response at a time at ``--token-rate`` tokens/s,
a ``ping`` every ``--ping-every`` deltas. Reported as locust requests (type ``WS``):

- ``connect``: the WebSocket opening handshake;
- ``verdict`` / ``halt``: from the scheduled send time of the delta that completed the window to
  the frame's arrival (a planted-claim stream's halt; a halt of a clean stream is a failure);
- ``pong``: app-level ping round trip, interleaved with the deltas on the same connection;
- ``missed_halt`` (failure): a stream with a planted claim finished without a halt;
- ``unmatched_verdict`` / ``unmatched_halt`` (failure): a frame for a window the script does not
  cut (the server's window settings differ from this environment's): no latency is recorded;
- ``error:<code>`` (failure): an ``error`` frame (``stream_halted``, the answer to deltas that
  were already on their way when the halt left, is expected and not reported);
- ``closed:<code>`` (failure): the server closed the connection (e.g. 1013 over capacity).

Locust runs on gevent; ``websockets.sync.client`` is thread-based and works under gevent's
monkey-patching (its reader thread becomes a greenlet). For precise capacity numbers use the
asyncio generator, ``python -m loadtest.run``: locust's own per-request overhead on a small
machine is of the order of what it measures.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import orjson
from locust import User, constant, events, task
from locust.exception import StopUser
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from loadtest.corpus import (
    ANSWERS,
    DEFAULT_CORPUS,
    ScriptBuilder,
    StreamScript,
    corpus_files,
    load_texts,
)
from loadtest.wire import is_loopback
from stream_guard.client.client import stream_url
from stream_guard.client.tickets import mint_ticket_sync

_builder: ScriptBuilder | None = None


class FalseHalt(Exception):
    """A stream was halted on other text than its planted claim (it has none, or the halting
    window is not the claim's: ``StreamScript.judge_halt``)."""


class MissedHalt(Exception):
    """A stream with a planted claim finished without a halt."""


class UnmatchedWindow(Exception):
    """A verdict or halt for a window the script does not cut: its latency cannot be known."""


class ServerError(Exception):
    """The server sent an ``error`` frame."""


def _options(parser: Any) -> None:
    parser.add_argument("--api-key", default=os.environ.get("LOADTEST_API_KEY", ""),
                        help="stream-guard API key (default $LOADTEST_API_KEY)")
    parser.add_argument("--auth", choices=["key", "ticket"], default="key",
                        help="key on the upgrade, or a ticket from POST /v1/tickets")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS),
                        help="JSONL file or directory of records")
    parser.add_argument("--corpus-per-file", type=int, default=200)
    parser.add_argument("--answers", choices=ANSWERS, default="copied",
                        help="copied: sentences of the context; written: the corpus's faithful "
                        "responses as written (a halt of one is the detector's judgement)")
    parser.add_argument("--token-rate", type=float, default=30.0, help="tokens/s per stream")
    parser.add_argument("--bad-share", type=float, default=0.2,
                        help="share of streams with a planted unsupported sentence")
    parser.add_argument("--ping-every", type=int, default=20, help="a ping every N deltas")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host")


def _load_corpus(environment: Any, **_: Any) -> None:
    """Read the corpus once per process, before any user runs: parsing it inside a user would
    stall every greenlet (CPU work does not yield) and show up as connect latency."""
    global _builder
    opts = environment.parsed_options
    if opts is not None:
        _builder = ScriptBuilder.for_server(*load_texts(
            corpus_files(Path(opts.corpus)), opts.corpus_per_file, opts.answers))
        # The hub's cached clock stood still while the corpus was read; timers set from it
        # (locust's --run-time) would fire early.
        gevent.get_hub().loop.update_now()


events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_load_corpus)  # type: ignore[no-untyped-call]


class StreamUser(User):
    """One connection, one stream at a time, open-loop paced deltas."""

    wait_time = constant(0.2)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        host = (self.host or "").rstrip("/")
        if not opts.allow_remote and not is_loopback(host):
            raise StopUser(f"{host} is not a loopback address (--allow-remote on purpose)")
        if not opts.api_key:
            raise StopUser("--api-key (or $LOADTEST_API_KEY) is required")
        self.opts = opts
        if _builder is None:
            raise StopUser("the corpus was not loaded")
        self.builder = _builder
        self._stack = contextlib.ExitStack()
        self.rng = random.Random()
        self.serial = 0
        self.ws: ClientConnection | None = None
        self.ws = self._connect(host)
        self.current: _Current | None = None
        self.pings: list[float] = []
        self.reader = gevent.spawn(self._read)

    def on_stop(self) -> None:
        self._stack.close()
        if getattr(self, "reader", None) is not None:
            self.reader.join(timeout=5)

    def _connect(self, host: str) -> ClientConnection:
        url = stream_url(host)  # the server's address, with or without /v1/stream
        headers = {}
        if self.opts.auth == "ticket":
            url += "?ticket=" + mint_ticket_sync(host, self.opts.api_key)
        else:
            headers["Authorization"] = f"Bearer {self.opts.api_key}"
        started = time.perf_counter()
        try:
            ws = self._stack.enter_context(
                connect(url, additional_headers=headers, open_timeout=10))
        except Exception as exc:
            self._fire("connect", started, exc=exc)
            raise StopUser(f"connect failed: {exc}") from exc
        self._fire("connect", started)
        return ws

    def _fire(self, name: str, since: float, *, exc: Exception | None = None,
              length: int = 0, now: float | None = None) -> None:
        elapsed = ((now or time.perf_counter()) - since) * 1000.0
        self.environment.events.request.fire(
            request_type="WS", name=name, response_time=elapsed, response_length=length,
            exception=exc, context={})

    @task
    def stream(self) -> None:
        assert self.ws is not None
        script = self.builder.build(self.rng, self.rng.random() < self.opts.bad_share)
        self.serial += 1
        sid = f"u{id(self) & 0xffff:x}-{self.serial}"
        step = 1.0 / self.opts.token_rate
        t0 = time.perf_counter()
        cur = _Current(sid, script, [t0 + (i + 1) * step for i in range(len(script.deltas) + 1)])
        self.current = cur
        try:
            self._send({"type": "start", "stream_id": sid, "context": [script.context]})
            for i, text in enumerate(script.deltas):
                delay = cur.scheduled[i] - time.perf_counter()
                if delay > 0:
                    gevent.sleep(delay)
                if cur.halted:
                    break
                self._send({"type": "delta", "stream_id": sid, "seq": i, "text": text})
                if i % self.opts.ping_every == self.opts.ping_every - 1:
                    self.pings.append(time.perf_counter())
                    self._send({"type": "ping"})
            delay = cur.scheduled[-1] - time.perf_counter()
            if delay > 0 and not cur.halted:
                gevent.sleep(delay)  # ``end`` is on the schedule too: it completes a window
            self._send({"type": "end", "stream_id": sid})
        except ConnectionClosed as exc:
            raise StopUser(f"connection closed: {exc}") from exc
        if not cur.done.wait(timeout=30):
            self._fire("done", t0, exc=TimeoutError("no done frame within 30 s"))

    def _send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        self.ws.send(orjson.dumps(frame).decode())

    def _read(self) -> None:
        assert self.ws is not None
        try:
            for message in self.ws:
                now = time.perf_counter()
                self._on_frame(orjson.loads(message), now, len(message))
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code not in (1000, 1001):  # anything but a normal or shutdown close
                self._fire(f"closed:{code}", time.perf_counter(), exc=exc)

    def _on_frame(self, frame: dict[str, Any], now: float, length: int) -> None:
        kind = frame["type"]
        cur = self.current
        if kind == "pong":
            if self.pings:
                self._fire("pong", self.pings.pop(0), now=now, length=length)
            return
        if kind == "error":
            if frame.get("code") == "stream_halted":
                return  # deltas already on the wire when the halt left: the protocol's answer
            self._fire(f"error:{frame.get('code')}", now, now=now,
                       exc=ServerError(frame.get("message", "")))
            return
        if cur is None or frame.get("stream_id") != cur.sid:
            return
        if kind in ("verdict", "halt"):
            window = frame if kind == "verdict" else frame.get("window") or {}
            idx = cur.script.completes.get((window.get("start", -1), window.get("end", -1)))
            if kind == "halt":
                cur.halted = True
            if idx is None:  # not a window the script expects: no latency to measure
                self._fire(f"unmatched_{kind}", now, now=now, exc=UnmatchedWindow(
                    f"{kind} for window {window} the script does not cut (other window "
                    "settings on the server?)"))
                return
            since = cur.scheduled[idx]
            exc = None
            judged = ("caught" if kind == "verdict"  # a verdict judges no halt
                      else cur.script.judge_halt(frame["at"], (window["start"], window["end"])))
            if judged != "caught":
                exc = FalseHalt(f"halted at {frame['at']} on window {window}, not at the "
                                f"planted claim ({cur.script.bad_at})")
            self._fire(kind, since, now=now, length=length, exc=exc)
            if judged == "late":  # the claim before the halted text went through
                self._fire("missed_halt", now, now=now, exc=MissedHalt(
                    f"planted claim at {cur.script.bad_at} not halted (a later window was)"))
        elif kind == "done":
            if cur.script.bad and not cur.halted:
                self._fire("missed_halt", now, now=now,
                           exc=MissedHalt(f"planted claim at {cur.script.bad_at} not halted"))
            cur.done.set()


class _Current:
    """The stream a user is sending now, shared by its sender and its reader greenlet."""

    def __init__(self, sid: str, script: StreamScript, scheduled: list[float]) -> None:
        self.sid = sid
        self.script = script
        self.scheduled = scheduled
        self.halted = False
        self.done = gevent.event.Event()
