"""The JavaScript client (clients/js/stream-guard.js) under Node.js against a real server.

The browser tests drive the demo page; these drive the module itself where a page cannot easily
reach: a server that drains mid-stream, options at their edges. Node 20 needs
``--experimental-websocket`` for its global WebSocket (22 has it by default). Without ``node``
the tests skip, except under CI (env ``CI`` set), where it is a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from stream_guard.metrics import Metrics
from stream_guard.scores import Pair, PairScore
from stream_guard.scoring.engine import EngineConfig, GroundingEngine
from stream_guard.server.app import Server
from tests.conftest import make_settings, running_server
from tests.scorers import LexicalScorer
from tests.wsclient import API_KEY, eventually, quiet_relay

NODE = shutil.which("node")
if NODE is None:
    if os.environ.get("CI"):
        pytest.fail("node is required in CI for the JavaScript client tests", pytrace=False)
    pytest.skip("node is not installed", allow_module_level=True)

MODULE = Path(__file__).resolve().parents[1] / "clients" / "js" / "stream-guard.js"
CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]


class Node:
    """One node process running ``script`` (an ES module importing the client as ``sg``),
    spoken to line by line: it prints JSON lines, and reads a line when told to go on."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self) -> Any:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        assert raw, f"node ended: {await self._stderr()}"
        return json.loads(raw)

    async def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()

    async def finish(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # ends the script's line reader, so node can exit
        code = await asyncio.wait_for(self.proc.wait(), 30)
        assert code == 0, await self._stderr()

    async def _stderr(self) -> str:
        assert self.proc.stderr is not None
        return (await self.proc.stderr.read()).decode()


async def node(tmp_path: Path, server: Server, script: str) -> Node:
    prelude = (f"import * as sg from {json.dumps(MODULE.as_uri())};\n"
               f"const URL = 'ws://127.0.0.1:{server.port}';\n"
               f"const CONTEXT = {json.dumps(CONTEXT)};\n"
               "const out = (value) => console.log(JSON.stringify(value));\n"
               "const lines = (await import('node:readline')).createInterface("
               "{ input: process.stdin })[Symbol.asyncIterator]();\n"
               "const told = () => lines.next();\n")
    path = tmp_path / "probe.mjs"
    path.write_text(prelude + script)
    proc = await asyncio.create_subprocess_exec(
        NODE or "node", "--experimental-websocket", "--no-warnings", str(path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    return Node(proc)


async def _drained_after_sent(probe: Node, server: Server) -> Any:
    """Once the script says "sent", drain ``server``, tell the script, and return what it
    prints next (the script then ends, and so does the drain)."""
    assert await probe.line() == "sent"
    drain = asyncio.create_task(server.shutdown(grace=10))
    await eventually(lambda: server.draining)
    await probe.go()
    result = await probe.line()
    await probe.finish()
    await drain
    return result


async def test_a_draining_server_lets_the_streams_on_the_connection_finish(
        tmp_path: Path) -> None:
    """protocol.md "Shutdown": streams already open go on through the drain. A start refused
    with ``draining`` used to make the client close the whole connection, losing them."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL, backoff: { initial: 10, maximum: 20, attempts: 1 } });
const verdicts = [];
const first = await guard.start({ streamId: "first", context: CONTEXT,
                                  onVerdict: (v) => verdicts.push(v.label) });
first.send("The Eiffel Tower was completed in 1889. ");
out("sent");
await told();  // the server is draining now
let refused = null;
try { await guard.start({ streamId: "second", context: CONTEXT }); }
catch (error) { refused = [error.name, error.retryable, error.cause?.code]; }
first.send("It is 330 metres tall. ");
first.end();
const done = await first.finished;
out({ refused, done, verdicts });
guard.close();
""")
        result = await _drained_after_sent(probe, srv)
    # nowhere else to start it; its last refusal said "not now" (one attempt: a second one's
    # upgrade would be refused 503, which a browser's WebSocket shows as a close 1006)
    assert result["refused"] == ["ConnectError", True, "draining"]
    assert result["done"] == {"streamId": "first", "halted": False, "chars": 63, "windows": 2,
                              "cancelled": False, "drained": False}
    assert result["verdicts"] == ["supported", "supported"]


async def test_giving_up_on_a_server_at_capacity_is_retryable_and_loses_no_stream(
        tmp_path: Path) -> None:
    """As in the Python client: every attempt refused 1013 (the server's one connection is
    taken) ends in a retryable ConnectError whose cause is the 1013 close, and no message
    speaks of a stream lost (none was started; a review read "lost" and ``retryable: false``)."""
    settings = make_settings(tmp_path, auth_disabled=True, max_connections=1)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const holder = new sg.StreamGuard({ url: URL });
await holder.start({ context: CONTEXT });  // takes the only connection
const refused = new sg.StreamGuard({ url: URL,
                                     backoff: { initial: 10, maximum: 20, attempts: 3 } });
let error = null;
try { await refused.start({ streamId: "s1", context: CONTEXT }); }
catch (e) { error = { name: e.name, retryable: e.retryable, message: e.message,
                      cause: e.cause?.name, code: e.cause?.code }; }
const notStarted = new sg.ConnectionClosedError(1013, "server at capacity", "s1", false);
out({ error, notStarted: notStarted.message,
      lost: new sg.ConnectionClosedError(1006, "", "s1").message });
refused.close();
holder.close();
""")
        result = await probe.line()
        await probe.finish()
    error = result["error"]
    assert error["name"] == "ConnectError" and error["retryable"] is True
    assert error["cause"] == "ConnectionClosedError" and error["code"] == 1013
    assert "lost" not in error["message"]
    assert result["notStarted"] == ("stream s1 not started: its connection closed with code "
                                    "1013 (server at capacity)")
    assert "lost" in result["lost"] and "start a new stream" in result["lost"]


async def test_sends_split_at_any_size_without_splitting_a_character(tmp_path: Path) -> None:
    """``maxDeltaChars: 1`` and a character outside the BMP (two UTF-16 units) used to loop
    for ever sending empty deltas; 0 or a fraction was accepted, with the same end. An app's
    own pieces cut between a character's halves were refused as not text (a review)."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const errors = [];
for (const maxDeltaChars of [0, -1, 1.5, "8"]) {
  try { new sg.StreamGuard({ url: URL, maxDeltaChars }); errors.push(null); }
  catch (error) { errors.push(error.name); }
}
const guard = new sg.StreamGuard({ url: URL, maxDeltaChars: 1 });
const stream = await guard.start({ context: CONTEXT });
const text = "It is 😀 in 1889 😀😀";
stream.send(text);
stream.end();
const done = await stream.finished;
// An app's pieces cut between the two halves of a character (UTF-16 units): each half alone
// is no text, and the server refused the delta.
const split = await guard.start({ context: CONTEXT });
for (let k = 0; k < text.length; k++) split.send(text[k]);  // by UTF-16 unit
split.end();
const splitDone = await split.finished;
out({ errors, chars: done.chars, expected: [...text].length, split: splitDone.chars,
      sent: split.text === text });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result["errors"] == ["RangeError"] * 4
    assert result["chars"] == result["expected"] == result["split"]
    assert result["sent"] is True


async def test_ending_a_halted_stream_holding_half_a_character(tmp_path: Path) -> None:
    """A stream halted while a send() had ended on half a character: end() tried to send the
    half's replacement, which a halted stream refuses, so it threw, no end frame went out and
    the stream held its slot (a review found it)."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
let halted;
const halt = new Promise((resolve) => { halted = resolve; });
const stream = await guard.start({ context: CONTEXT, onHalt: (h) => halted(h) });
stream.send("The Eiffel Tower is 450 metres tall. Great \\uD83D");
const h = await halt;
let error = null;
try { stream.end(); } catch (e) { error = String(e); }
const done = await stream.finished;
out({ at: h.at, error, halted: done.halted, ended: stream.ended });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"at": 0, "error": None, "halted": True, "ended": True}


async def test_a_runtime_without_websocket_is_told_so_at_once(tmp_path: Path) -> None:
    """Node 20 has no global WebSocket without a flag: the client used to retry its whole
    backoff and end on "this._WebSocket is not a constructor"."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const saved = globalThis.WebSocket;
delete globalThis.WebSocket;
let error = null;
try { new sg.StreamGuard({ url: URL }); } catch (e) { error = [e.name, e.message]; }
globalThis.WebSocket = saved;
out(error);
""")
        name, message = await probe.line()
        await probe.finish()
    assert name == "TypeError" and "WebSocket option" in message


async def test_a_get_ticket_that_yields_no_ticket_fails_at_once(tmp_path: Path) -> None:
    """A getTicket reading a refusal's body resolved to undefined, and the client connected with
    "?ticket=undefined", retrying its whole backoff into "code 1006" (a new user's walk): it is
    told at once, without a connection attempt."""
    async with running_server(make_settings(tmp_path)) as srv:
        probe = await node(tmp_path, srv, """
let calls = 0;
const getTicket = async () => { calls += 1; return undefined; };
const guard = new sg.StreamGuard({ url: URL, getTicket });
let error = null;
try {
  await guard.start({ context: CONTEXT });
} catch (e) { error = [e.name, e.message, e.retryable]; }
out([calls, error]);
""")
        calls, (name, message, retryable) = await probe.line()
        await probe.finish()
        assert srv.metrics.rejections.labels("bad_ticket")._value.get() == 0
    assert calls == 1 and name == "TypeError" and "getTicket must resolve" in message
    assert retryable is False  # as every error of the client says (a new user's walk)


async def test_a_retired_connection_closing_later_is_not_reported_as_closed(
        tmp_path: Path) -> None:
    """After a drain refused a start, the old connection stays open for its streams and
    closes later, once the client is connected elsewhere: onConnectionChange used to report
    "closed" then, while the client was connected."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as a, \
            running_server(make_settings(tmp_path, auth_disabled=True)) as b:
        probe = await node(tmp_path, a, f"""
const urls = [URL + '/v1/stream', 'ws://127.0.0.1:{b.port}/v1/stream'];
let opened = 0;  // the first connection goes to A, every later one to B
const Routed = class extends WebSocket {{
  constructor(url) {{ super(urls[Math.min(opened++, 1)]); }}
}};
const events = [];
const guard = new sg.StreamGuard({{ url: URL, WebSocket: Routed,
  onConnectionChange: (state) => events.push(state),
  backoff: {{ initial: 10, maximum: 20, attempts: 3 }} }});
const first = await guard.start({{ streamId: "first", context: CONTEXT }});
first.send("The Eiffel Tower was completed in 1889. ");
out("sent");
await told();  // A is draining now
await guard.start({{ streamId: "second", context: CONTEXT }});  // on B
first.end();
await first.finished;  // A's stream finishes through the drain, then A closes it
await new Promise((resolve) => setTimeout(resolve, 500));
out({{ events, connected: guard.connected }});
guard.close();
""")
        result = await _drained_after_sent(probe, a)
    assert result == {"events": ["connecting", "open", "connecting", "open"], "connected": True}


async def test_a_start_retried_after_its_timeout_with_the_same_id_gets_its_own_frames(
        tmp_path: Path) -> None:
    """A start that timed out is cancelled; retried with the same id (a message id, say), the
    cancelled attempt's ``started`` and ``done`` (cancelled) were taken for the new stream's,
    which then read as done while open on the server: its halt never reached the app (a
    review). Every frame reaches the client here 200 ms late, so the first start times out."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
class Laggy extends WebSocket {
  addEventListener(type, listener, options) {
    super.addEventListener(type, type !== "message" ? listener
      : (event) => setTimeout(() => listener(event), 200), options);
  }
}
const guard = new sg.StreamGuard({ url: URL, WebSocket: Laggy, startTimeout: 100 });
let first = null;
try { await guard.start({ streamId: "msg-42", context: CONTEXT }); }
catch (error) { first = error.message; }
guard.startTimeout = 10000;
const events = [];
const stream = await guard.start({ streamId: "msg-42", context: CONTEXT,
  onHalt: (h) => events.push("halt"), onDone: (d) => events.push(`done ${d.cancelled}`) });
await new Promise((resolve) => setTimeout(resolve, 500));  // the first attempt's frames came
const early = stream.done;
stream.send("The Eiffel Tower was completed in 1889. It is 450 metres tall and made of gold. ");
stream.end();
const done = await stream.finished;
out({ first, early, events, halted: done.halted });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"first": "no answer to start within 100 ms", "early": None,
                      "events": ["halt", "done false"], "halted": True}


async def test_sending_to_a_stream_the_drain_ended_throws(tmp_path: Path) -> None:
    """A stream the server ended (``done`` with ``drained``) took further sends without a
    word: the server refuses them ``unknown_stream``, and their text is never checked."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
let refused = "nothing thrown";
const stream = await guard.start({ context: CONTEXT, onDone: () => {
  try { stream.send("It is 330 metres tall. "); } catch (error) { refused = error.message; }
} });
stream.send("The Eiffel Tower was completed in 1889. ");
out("sent");
const done = await stream.finished;
out({ drained: done.drained, refused });
guard.close();
""")
        assert await probe.line() == "sent"
        drain = asyncio.create_task(srv.shutdown(grace=0.2))
        result = await probe.line()
        await probe.finish()
        await drain
    assert result["drained"] is True
    assert result["refused"].endswith("is done; start a new stream")


async def test_a_start_refused_overloaded_is_retried_with_backoff(tmp_path: Path) -> None:
    """protocol.md calls ``overloaded`` retryable (start again after a backoff), and the Python
    client retries it; the JS client gave up at once. Once the policy's attempts are spent,
    the refusal itself is thrown."""
    settings = make_settings(tmp_path, auth_disabled=True, overload_lag_ms=100)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const hasty = new sg.StreamGuard({ url: URL, backoff: { initial: 10, maximum: 10, attempts: 2 } });
const patient = new sg.StreamGuard({ url: URL,
  backoff: { initial: 50, maximum: 200, attempts: 150 } });  // up to ~30 s
await hasty.connect();
await patient.connect();
out("ready");
await told();  // the server is overloaded now
let refused = null;
try { await hasty.start({ context: CONTEXT }); }
catch (error) { refused = [error.name, error.code]; }
const stream = await patient.start({ context: CONTEXT });
stream.send("The Eiffel Tower was completed in 1889. ");
stream.end();
const done = await stream.finished;
out({ refused, windows: done.windows });
hasty.close();
patient.close();
""")
        assert await probe.line() == "ready"
        srv.load.observe_lag(10.0)  # as if the loop had stalled: decays within seconds
        assert srv.load.overloaded
        await probe.go()
        result = await probe.line()
        assert not srv.load.overloaded
        await probe.finish()
    assert result == {"refused": ["StreamGuardError", "overloaded"], "windows": 1}


async def test_a_stream_past_the_cap_per_connection_opens_another_connection(
        tmp_path: Path) -> None:
    """The Python client opens another connection for a start refused ``too_many_streams``;
    the JS client failed it. The full connection takes new streams again once one of its
    streams has ended (no third connection here)."""
    settings = make_settings(tmp_path, auth_disabled=True, max_streams_per_connection=2)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const streams = [];
for (let i = 0; i < 3; i++) streams.push(await guard.start({ context: CONTEXT }));
const opened = guard.connectionsOpened;
streams[0].end();  // the first connection has room for one again
await streams[0].finished;
for (let i = 0; i < 2; i++) streams.push(await guard.start({ context: CONTEXT }));
out({ opened, after: guard.connectionsOpened, open: streams.filter((s) => !s.done).length });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"opened": 2, "after": 2, "open": 4}


async def test_concurrent_starts_past_the_cap_go_to_new_connections(tmp_path: Path) -> None:
    """As in the Python client: once a refusal tells the cap, a start past it goes to another
    connection before anything is sent, not to the server to be refused again (a review
    counted hundreds of start frames for 150 concurrent streams)."""
    settings = make_settings(tmp_path, auth_disabled=True, max_streams_per_connection=2)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const starts = Array.from({ length: 20 }, () => guard.start({ context: CONTEXT }));
const streams = await Promise.all(starts);
out({ opened: guard.connectionsOpened, open: streams.filter((s) => !s.done).length });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
        starts = srv.metrics.frames_received.labels("start")._value.get()
    assert result == {"opened": 10, "open": 20}
    assert starts <= 20 + 18  # the first connection's first round refused past the cap, once


async def test_closing_while_a_start_connects_leaves_no_connection(tmp_path: Path) -> None:
    """``close()`` while the connection of a start was opening: the connection was kept once
    open, and the start returned a live stream of a closed client (a review)."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const pending = guard.start({ context: CONTEXT });
guard.close();  // a page unmounting its chat while the start connects
let result = "started";
try { await pending; } catch (error) { result = error.message; }
await new Promise((resolve) => setTimeout(resolve, 300));
out({ result, connected: guard.connected });
await told();
""")
        result = await probe.line()
        assert result == {"result": "this StreamGuard was closed", "connected": False}
        await eventually(lambda: not srv.connections, timeout=5)
        await probe.go()
        await probe.finish()


async def test_a_ping_the_server_dropped_fails_alone(tmp_path: Path) -> None:
    """protocol.md: a message over the connection's rate is dropped and answered ``error
    rate_limited``, naming the stream of any frame but a ping. A dropped ping's waiter stayed
    first in line, so every later pong answered the ping before it and the last never got
    one: every ping after it hung (a review)."""
    settings = make_settings(tmp_path, auth_disabled=True, rate_per_s=2.0, rate_burst=2)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
await guard.connect();
const answer = (ping) => Promise.race([ping.then(() => "pong", (e) => `${e.name} ${e.code}`),
  new Promise((resolve) => setTimeout(() => resolve("no answer"), 2000))]);
const first = await Promise.all([0, 1, 2].map(() => answer(guard.ping())));
await new Promise((resolve) => setTimeout(resolve, 1500));  // the bucket refills
const later = [await answer(guard.ping()), await answer(guard.ping())];
out({ first, later });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"first": ["pong", "pong", "StreamGuardError rate_limited"],
                      "later": ["pong", "pong"]}


async def test_a_start_frame_over_the_size_limit_is_not_sent_again(tmp_path: Path) -> None:
    """A close 1009 is a spent character budget (a new connection resets it) or a frame over
    the server's limit, told apart by its reason: the JS client kept resending the frame for
    its whole backoff policy, each time an abuse penalty, then resent it once (the Python
    client no longer does either)."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
// told a larger limit than the server's, as a client of a server with another limit would be
const guard = new sg.StreamGuard({ url: URL, backoff: { initial: 10, maximum: 20, attempts: 5 },
                                   maxFrameBytes: 1000000 });
let error = null;
try { await guard.start({ context: ["word ".repeat(14000)] }); }  // a 70 kB frame
catch (e) { error = [e.name, e.code]; }
out({ error, opened: guard.connectionsOpened });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"error": ["ConnectionClosedError", 1009], "opened": 1}


async def test_an_invalid_stream_id_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    """protocol.md: a ``stream_id`` is 1 to 128 printable characters. The server's refusal of
    another cannot name it, so the start waited out its timeout; the Python client raises at
    once, and so does this one now. Characters are code points, as the server counts them."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL, startTimeout: 2000 });
const refused = [];
for (const streamId of ["", "x".repeat(129), "😀".repeat(129), "a\\nb", "zero\\u200bwidth", 42]) {
  const began = Date.now();
  try { await guard.start({ streamId, context: CONTEXT }); refused.push(null); }
  catch (error) { refused.push([error.name, Date.now() - began < 1000]); }
}
const taken = [];
for (const streamId of ["😀".repeat(128), "msg 42 / é"]) {
  taken.push((await guard.start({ streamId, context: CONTEXT })).id === streamId);
}
out({ refused, taken });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"refused": [["RangeError", True]] * 5 + [["TypeError", True]],
                      "taken": [True, True]}


async def test_a_delta_the_server_dropped_fails_the_stream(tmp_path: Path) -> None:
    """protocol.md: a delta dropped ``rate_limited`` is not taken, and every later one is
    refused ``bad_seq``. The client counted it all the same: send() went on accepting text the
    server never checked, and ``finished`` resolved ``halted: false`` over it (a review). The
    stream is failed now: send() throws, ``finished`` rejects, and end() cancels it."""
    settings = make_settings(tmp_path, auth_disabled=True, rate_per_s=2.0, rate_burst=2)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const guard = new sg.StreamGuard({ url: URL });
const errors = [];
let doneSeen;
const done = new Promise((resolve) => { doneSeen = resolve; });
const stream = await guard.start({ context: CONTEXT, onDone: (d) => doneSeen(d),
  onError: (e) => errors.push([e.code, e.fatal]) });
await sleep(1500);  // the bucket refills: two messages
for (let i = 0; i < 4; i++) stream.send("word ");  // the last two are dropped
await sleep(1500);  // their errors came, and the bucket refilled
let threw = null;
try { stream.send("more "); } catch (e) { threw = [e.name, e.code]; }
stream.end();
const finished = await Promise.race([
  stream.finished.then((d) => ({ halted: d.halted, chars: d.chars }), (e) => [e.name, e.code]),
  sleep(3000).then(() => "pending")]);
const d = await Promise.race([done, sleep(3000).then(() => null)]);
out({ threw, finished, failed: stream.failed?.code ?? null, errors,
      done: d && { cancelled: d.cancelled, chars: d.chars } });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"threw": ["StreamGuardError", "rate_limited"],
                      "finished": ["StreamGuardError", "rate_limited"], "failed": "rate_limited",
                      "errors": [["rate_limited", True]] * 2,
                      "done": {"cancelled": True, "chars": 10}}


async def test_an_end_the_server_dropped_can_be_sent_again(tmp_path: Path) -> None:
    """An ``end`` dropped ``rate_limited`` left ``finished`` pending for ever, and end() and
    cancel() both threw "already ended or cancelled", so the stream held its slot on the
    server (a review). ``finished`` rejects now, and the stream can be closed."""
    settings = make_settings(tmp_path, auth_disabled=True, rate_per_s=2.0, rate_burst=2)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const guard = new sg.StreamGuard({ url: URL });
let doneSeen;
const done = new Promise((resolve) => { doneSeen = resolve; });
const stream = await guard.start({ context: CONTEXT, onDone: (d) => doneSeen(d) });
await sleep(1500);  // the bucket refills: two messages
stream.send("word ");
stream.send("word ");
stream.end();  // dropped
const finished = await Promise.race([
  stream.finished.then((d) => `done ${d.chars}`, (e) => [e.name, e.code]),
  sleep(3000).then(() => "pending")]);
await sleep(1000);  // the bucket refills
let again = null;
try { stream.end(); } catch (e) { again = e.message; }
const d = await Promise.race([done, sleep(3000).then(() => null)]);
out({ finished, again, done: d && { cancelled: d.cancelled, chars: d.chars } });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
        await eventually(lambda: not srv.connections, timeout=5)
    assert result == {"finished": ["StreamGuardError", "rate_limited"], "again": None,
                      "done": {"cancelled": True, "chars": 10}}


async def test_a_lone_surrogate_is_sent_as_a_replacement_character(tmp_path: Path) -> None:
    """A lone half of a character inside a piece (a string cut by UTF-16 index upstream) made
    the frame unreadable JSON: the server's ``bad_frame`` could not name the stream, so it
    reached every stream of the connection, and the stream itself was refused ``bad_seq``
    from then on (a review). A half at a piece's end still waits for its pair."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const errors = { a: [], b: [] };
const a = await guard.start({ streamId: "a", context: CONTEXT,
                              onError: (e) => errors.a.push(e.code) });
const b = await guard.start({ streamId: "b", context: CONTEXT,
                              onError: (e) => errors.b.push(e.code) });
a.send("The Eiffel \\uDC00Tower was completed in 1889. ");
a.send("It is 330 \\uD800metres tall \\uD83D");
a.send("\\uDE00 in Paris. ");
b.send("The Eiffel Tower was completed in 1889. ");
a.end();
b.end();
const [da, db] = await Promise.all([a.finished, b.finished]);
out({ errors, text: a.text, sent: a.chars, taken: da.chars, b: db.chars === b.chars });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    text = "The Eiffel \ufffdTower was completed in 1889. It is 330 \ufffdmetres tall 😀 in Paris. "
    assert result == {"errors": {"a": [], "b": []}, "text": text, "sent": len(text),
                      "taken": len(text), "b": True}


async def test_an_unreadable_frame_fails_the_connection_without_killing_node(
        tmp_path: Path) -> None:
    """On a frame it could not parse (a proxy's HTML, say) the client closed with 1002, which
    the WebSocket API forbids a client: close() threw InvalidAccessError in the message
    listener, which ended the Node process (a review). The connection's streams fail now, and
    the next start opens a new connection."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const sockets = [];
const Tracked = class extends WebSocket {
  constructor(url) { super(url); sockets.push(this); }
};
const reported = [];
console.error = (error) => reported.push(error?.name);
const guard = new sg.StreamGuard({ url: URL, WebSocket: Tracked });
const errors = [];
const stream = await guard.start({ context: CONTEXT,
  onError: (e) => errors.push([e.name, e.code]) });
sockets[0].dispatchEvent(new MessageEvent("message", { data: "<html>502 Bad Gateway</html>" }));
let threw = null;
try { stream.send("The Eiffel Tower was completed in 1889. "); } catch (e) { threw = e.name; }
const finished = await stream.finished.then(() => "done", (e) => [e.name, e.code]);
const next = await guard.start({ context: CONTEXT });
next.end();
await next.finished;
out({ reported, errors, threw, finished, opened: guard.connectionsOpened });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"reported": ["SyntaxError"],
                      "errors": [["ConnectionClosedError", 1002]],
                      "threw": "ConnectionClosedError",
                      "finished": ["ConnectionClosedError", 1002], "opened": 2}


async def test_cancel_after_end_and_on_a_closed_stream(tmp_path: Path) -> None:
    """The server takes a cancel after ``end`` until its ``done`` (a user's Stop while the
    last windows are scored), but cancel() threw after end(), and on a lost stream (a review).
    It is sent after end, and does nothing on a stream done or lost; end after cancel still
    throws."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const thrown = [];
const attempt = (f) => { try { f(); thrown.push(null); } catch (e) { thrown.push(e.message); } };
const stopped = await guard.start({ context: CONTEXT });
stopped.send("The Eiffel Tower was completed in 1889. ".repeat(20));
stopped.end();
attempt(() => stopped.cancel());  // Stop, while its windows are scored
attempt(() => stopped.cancel());  // pressed twice
attempt(() => stopped.end());
const done = await stopped.finished;
attempt(() => stopped.cancel());  // done
const lost = await guard.start({ context: CONTEXT });
guard.close();
await lost.finished.catch(() => {});
attempt(() => lost.cancel());  // lost
out({ thrown: thrown.map((m) => m && m.replace(/stream \\S+/, "stream X")),
      done: done.chars, lost: lost.lost?.name });
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"thrown": [None, None, "stream X was already ended or cancelled", None,
                                 None],
                      "done": 800, "lost": "ConnectionClosedError"}


async def test_sending_what_is_not_a_string_throws(tmp_path: Path) -> None:
    """send(undefined) sent the word "undefined" to be checked as output, send(null) "null"
    (a review): a TypeError, and nothing sent."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const stream = await guard.start({ context: CONTEXT });
const thrown = [];
for (const text of [undefined, null, 42, { text: "x" }]) {
  try { stream.send(text); thrown.push(null); } catch (e) { thrown.push(e.name); }
}
stream.send("The Eiffel Tower was completed in 1889. ");
stream.end();
const done = await stream.finished;
out({ thrown, text: stream.text, chars: done.chars });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"thrown": ["TypeError"] * 4,
                      "text": "The Eiffel Tower was completed in 1889. ", "chars": 40}


async def test_a_get_ticket_that_never_answers_is_retried(tmp_path: Path) -> None:
    """``getTicket`` had no timeout: a ticket endpoint that never answered left start()
    pending for ever, whatever ``openTimeout`` said (a review). It is a failed connection
    attempt after ``openTimeout``, retried with a fresh ticket."""
    async with running_server(make_settings(tmp_path)) as srv:
        probe = await node(tmp_path, srv, f"""
let calls = 0;
const getTicket = async () => {{
  if (++calls === 1) return new Promise(() => {{}});  // a backend that hangs
  const response = await fetch("http://127.0.0.1:{srv.port}/v1/tickets",
    {{ method: "POST", headers: {{ Authorization: "Bearer {API_KEY}" }} }});
  return (await response.json()).ticket;
}};
// the attempts end by openTimeout plus the policy's longest wait (600 ms) after the first began
const guard = new sg.StreamGuard({{ url: URL, getTicket, openTimeout: 300,
  backoff: {{ initial: 200, maximum: 400, attempts: 3 }} }});
const started = await Promise.race([
  guard.start({{ context: CONTEXT }}).then(() => "started", (e) => e.message),
  new Promise((resolve) => setTimeout(() => resolve("pending"), 5000))]);
out({{ started, calls }});
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"started": "started", "calls": 2}


# A WebSocket that counts the frames the client writes, by type (pacing tests).
COUNTED = """
const written = {};
class Counted extends WebSocket {
  send(data) {
    const type = JSON.parse(data).type;
    written[type] = (written[type] ?? 0) + 1;
    super.send(data);
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SENTENCE = "The Eiffel Tower was completed in 1889. ";
"""


async def test_a_burst_of_sends_is_paced_under_the_servers_rate(tmp_path: Path) -> None:
    """The server drops a message over the connection's rate (``rate_limited``) and stops
    checking its stream; a model sending a delta per token trips it (a review). The client
    paces its frames now, joining a stream's waiting deltas: every character reaches the
    server in fewer frames than sends. Unpaced, the same sends are dropped."""
    settings = make_settings(tmp_path, auth_disabled=True, rate_per_s=200.0, rate_burst=100)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 200,
                                   messageBurst: 50 });
const errors = [];
const stream = await guard.start({ context: CONTEXT, onError: (e) => errors.push(e.code) });
const text = SENTENCE.repeat(100);
for (let k = 0; k < 3000; k++) stream.send(text[k]);  // one synchronous burst
const burst = written.delta;  // written at once; the rest waits, joined
for (let k = 3000; k < text.length; k++) {  // then a token at a time, faster than the pace
  stream.send(text[k]);
  if (k % 2) await sleep(1);
}
stream.end();
const done = await stream.finished;
out({ errors, halted: done.halted, chars: done.chars, sent: stream.chars, burst,
      deltas: written.delta });
guard.close();
// The same server unpaced: what is over its burst is dropped.
const unpaced = new sg.StreamGuard({ url: URL, maxMessagesPerSecond: null });
const dropped = await unpaced.start({ context: CONTEXT });
for (let k = 0; k < 150; k++) dropped.send(text[k]);
out({ failed: await dropped.finished.then(() => null, (e) => e.code) });
unpaced.close();
""")
        paced = await probe.line()
        unpaced = await probe.line()
        await probe.finish()
    assert paced["errors"] == [] and paced["halted"] is False
    assert paced["chars"] == paced["sent"] == 4000
    # The bucket's 50 tokens at once (and the few it refills while they are written), well
    # within the server's burst of 100; then a delta per token, the pieces between joined:
    # over 100 in the half second or more that the last thousand sends take.
    assert paced["burst"] < 100 < paced["deltas"] < 4000
    assert unpaced == {"failed": "rate_limited"}


async def test_an_end_goes_after_the_deltas_waiting_before_it(tmp_path: Path) -> None:
    """Pieces waiting for the message rate are joined per stream, streams side by side, and
    an ``end`` sent while they wait goes after them: ``done`` counts every character."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 10,
                                   messageBurst: 2 });
const errors = [];
const onError = (e) => errors.push(e.code);
const a = await guard.start({ streamId: "a", context: CONTEXT, onError });
const b = await guard.start({ streamId: "b", context: CONTEXT, onError });
const words = SENTENCE.split(/(?<= )/);
for (const word of words) {
  a.send(word);
  b.send(word);
}
a.end();
b.end();
const done = await Promise.all([a.finished, b.finished]);
out({ errors, chars: done.map((d) => d.chars), sent: [a.chars, b.chars], sends: 2 * words.length,
      written });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result["errors"] == [] and result["chars"] == result["sent"] == [40, 40]
    written = result["written"]
    assert written["start"] == written["end"] == 2
    # Each stream's first piece may find a token left (the starts took the bucket's two, but it
    # refills while they are answered); every later one waits, joined to its stream's.
    assert 2 <= written["delta"] <= 4 < result["sends"]


async def test_cancelling_drops_the_streams_waiting_deltas(tmp_path: Path) -> None:
    """A cancel while the stream's deltas wait for the message rate: they are not sent (the
    seq of the next delta is taken when written, so nothing is out of order), the cancel
    is, and ``done`` follows."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 1,
                                   messageBurst: 2 });
const errors = [];
const stream = await guard.start({ context: CONTEXT, onError: (e) => errors.push(e.code) });
stream.send(SENTENCE);  // the bucket's last token
for (let i = 0; i < 5; i++) stream.send("word ");  // waiting
stream.cancel();
const done = await stream.finished;
await sleep(300);  // nothing else goes
out({ errors, cancelled: done.cancelled, chars: done.chars, sent: stream.chars, written });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"errors": [], "cancelled": True, "chars": 40, "sent": 65,
                      "written": {"start": 1, "delta": 1, "cancel": 1}}


async def test_a_halt_drops_the_streams_waiting_deltas(tmp_path: Path) -> None:
    """Deltas of a halted stream are refused (``stream_halted``): those waiting for the
    message rate when the halt comes are not sent. Their text was sent as far as the app
    knows, so the halt's ``retracted`` has it."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 1,
                                   messageBurst: 2 });
const errors = [];
let halted;
const halt = new Promise((resolve) => { halted = resolve; });
const stream = await guard.start({ context: CONTEXT, onError: (e) => errors.push(e.code),
                                   onHalt: (h) => halted(h) });
stream.send("The Eiffel Tower is 450 metres tall. Great ");  // the bucket's last token
for (let i = 0; i < 3; i++) stream.send("more ");  // waiting a second
const h = await halt;
stream.end();
const done = await stream.finished;
out({ errors, at: h.at, retracted: h.retracted, halted: done.halted, written });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"errors": [], "at": 0,
                      "retracted": "The Eiffel Tower is 450 metres tall. Great more more more ",
                      "halted": True, "written": {"start": 1, "delta": 1, "end": 1}}


async def test_closing_drops_the_waiting_frames(tmp_path: Path) -> None:
    """Frames waiting for the message rate when the connection closes are never written:
    their streams are lost and their pings rejected, as for frames in flight."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 1,
                                   messageBurst: 2 });
const stream = await guard.start({ context: CONTEXT });
stream.send(SENTENCE);  // the bucket's last token
stream.send("word ");  // waiting
const ping = guard.ping().then(() => "pong", (e) => e.name);  // waiting behind it
guard.close();
const lost = await stream.finished.then(() => "done", (e) => e.name);
await sleep(1200);  // a token came: nothing is written
out({ lost, ping: await ping, written });
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"lost": "ConnectionClosedError", "ping": "ConnectionClosedError",
                      "written": {"start": 1, "delta": 1}}


async def test_pacing_off_writes_a_frame_per_send_and_options_are_checked(
        tmp_path: Path) -> None:
    """``maxMessagesPerSecond: null`` writes every frame at once, as before pacing; a rate or
    burst that cannot pace is a RangeError at construction."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const errors = [];
for (const maxMessagesPerSecond of [0, -1, NaN, Infinity, "x", "5"]) {
  try { new sg.StreamGuard({ url: URL, maxMessagesPerSecond }); errors.push(null); }
  catch (error) { errors.push(error.name); }
}
for (const messageBurst of [0, -1, 1.5, "8", null]) {
  try { new sg.StreamGuard({ url: URL, messageBurst }); errors.push(null); }
  catch (error) { errors.push(error.name); }
}
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: null,
                                   messageBurst: 1 });
const stream = await guard.start({ context: CONTEXT });
const words = SENTENCE.split(/(?<= )/);
for (const word of words) stream.send(word);
stream.end();
const done = await stream.finished;
out({ errors, sends: words.length, chars: done.chars, written });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result["errors"] == ["RangeError"] * 11
    assert result["chars"] == 40
    assert result["written"] == {"start": 1, "delta": result["sends"], "end": 1}


async def test_a_start_timed_out_while_it_waits_for_the_rate_is_never_sent(
        tmp_path: Path) -> None:
    """A review: a start that timed out while still waiting in the client's outbox was
    written later anyway, and then cancelled: two messages and a stream slot for nothing. It
    is taken back; a retry with its id starts normally."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 1,
                                   messageBurst: 1, startTimeout: 300 });
await guard.start({ streamId: "A", context: CONTEXT });  // the only token
let first;
try { await guard.start({ streamId: "B", context: CONTEXT }); } catch (e) { first = e.message; }
await sleep(1500);  // a token came meanwhile: nothing of B's went out
const before = { ...written };
guard.startTimeout = 5000;
const b = await guard.start({ streamId: "B", context: CONTEXT });
b.send(SENTENCE);
b.end();
const done = await b.finished;
out({ first, before, chars: done.chars, ghosts: guard._link._ghosts.size });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result["first"].startswith("no answer to start")
    assert result["before"] == {"start": 1} and result["chars"] == 40 and result["ghosts"] == 0


async def test_a_frame_that_cannot_be_json_throws_to_its_caller_and_the_rest_go_on(
        tmp_path: Path) -> None:
    """A review: frames were made JSON as they were written, so one waiting for the rate that
    could not be (a BigInt in a start's context) threw from the timer (killing Node) and the
    frames behind it were left with no timer. It throws to its caller; the others go."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 5,
                                   messageBurst: 1 });
const a = await guard.start({ streamId: "A", context: CONTEXT });  // the only token
let refused;
try { await guard.start({ streamId: "X", context: [1n] }); } catch (e) { refused = e.name; }
a.send(SENTENCE);  // waits for the rate
a.end();
const done = await a.finished;
out({ refused, chars: done.chars, written });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"refused": "TypeError", "chars": 40,
                      "written": {"start": 1, "delta": 1, "end": 1}}


async def test_the_package_resolves_by_its_name_with_its_types(tmp_path: Path) -> None:
    """``clients/js/package.json``: a project that installs the folder (here linked into its
    ``node_modules``, as ``npm install ./clients/js`` does) imports the client by the package's
    name, and the types it names ship beside the module."""
    package = MODULE.parent
    manifest = json.loads((package / "package.json").read_text())
    assert (package / manifest["types"]).is_file()
    assert sorted(manifest["files"]) == sorted(
        [manifest["exports"]["."]["default"].removeprefix("./"),
         manifest["exports"]["."]["types"].removeprefix("./")])
    modules = tmp_path / "app" / "node_modules"
    modules.mkdir(parents=True)
    (modules / manifest["name"]).symlink_to(package, target_is_directory=True)
    script = tmp_path / "app" / "main.mjs"
    name = json.dumps(manifest["name"])
    script.write_text(f"import {{ StreamGuard, HandshakeError }} from {name};\n"
                      "console.log(typeof StreamGuard, typeof HandshakeError);\n")
    proc = await asyncio.create_subprocess_exec(
        NODE or "node", "--no-warnings", str(script), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert out.decode().split() == ["function", "function"]


async def test_a_start_over_the_servers_frame_limit_is_refused_before_it_is_sent(
        tmp_path: Path) -> None:
    """A review: a 74 KB context went out, the server closed the connection 1009 under every
    stream on it and locked the address out for 11 s. The client knows the server's limit
    (``maxFrameBytes``, 65536 by default) and refuses such a start itself."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const errors = [];
for (const maxFrameBytes of [0, 1.5, "9"]) {
  try { new sg.StreamGuard({ url: URL, maxFrameBytes }); errors.push(null); }
  catch (error) { errors.push(error.name); }
}
const guard = new sg.StreamGuard({ url: URL });
const bystander = await guard.start({ context: CONTEXT });
let refused = null;
const big = Array(20).fill("The tower is tall. ".repeat(200));  // 76 kB
try { await guard.start({ context: big }); }
catch (e) { refused = [e.name, e.code, /65536/.test(e.message)]; }
bystander.send("The Eiffel Tower was completed in 1889. ");
bystander.end();
const done = await bystander.finished;
out({ errors, refused, halted: done.halted, opened: guard.connectionsOpened });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"errors": ["RangeError"] * 3,
                      "refused": ["StreamGuardError", "frame_too_large", True],
                      "halted": False, "opened": 1}


async def test_a_server_that_stops_answering_fails_the_streams_on_its_connection(
        tmp_path: Path) -> None:
    """A review stopped the server mid-answer: nothing told the page, which went on showing
    unchecked text (browsers send no WebSocket pings of their own). With streams open and
    nothing heard for ``keepalive`` ms the client pings, and fails the connection when that
    goes unanswered as long again."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        async with quiet_relay(srv.port) as (port, quiet):
            probe = await node(tmp_path, srv, f"""
const errors = [];
for (const keepalive of [0, -5, "2000"]) {{
  try {{ new sg.StreamGuard({{ url: URL, keepalive }}); errors.push(null); }}
  catch (error) {{ errors.push(error.name); }}
}}
const guard = new sg.StreamGuard({{ url: 'ws://127.0.0.1:{port}', keepalive: 200 }});
const idle = await guard.start({{ context: CONTEXT }});
await new Promise((resolve) => setTimeout(resolve, 600));  // pings answered: still open
const open = guard.connected;
out("started");
await told();  // the relay has gone quiet
idle.send("The Eiffel Tower was completed in 1889. ");
let lost = null;
try {{ await idle.finished; }} catch (e) {{ lost = [e.name, e.code, e.reason]; }}
out({{ errors, open, lost, connected: guard.connected }});
guard.close();
""")
            assert await probe.line() == "started"
            quiet.set()
            await probe.go()
            result = await probe.line()
        await probe.finish()  # the relay gone, its socket closes: node has nothing left open
    assert result == {"errors": ["RangeError"] * 3, "open": True,
                      "lost": ["ConnectionClosedError", 1006, "keepalive ping timeout"],
                      "connected": False}


async def test_a_stream_waiting_on_a_slow_llm_is_not_idle_to_the_server(
        tmp_path: Path) -> None:
    """As in the Python client (whose WebSocket pings did not count, a review): with a stream
    open, the keepalive's protocol ping is a message, so an LLM pausing longer than the
    server's ``idle_timeout_s`` mid-answer does not end the stream there."""
    async with running_server(make_settings(tmp_path, auth_disabled=True,
                                            idle_timeout_s=1.0)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL, keepalive: 200 });
const stream = await guard.start({ context: CONTEXT });
stream.send("The Eiffel Tower was completed in 1889. ");
await new Promise((resolve) => setTimeout(resolve, 2500));  // thinking, past the idle timeout
stream.send("It is 330 metres tall.");
stream.end();
const done = await stream.finished;
out({ chars: done.chars, drained: done.drained ?? false, halted: done.halted });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"chars": 62, "drained": False, "halted": False}


async def test_a_server_that_accepts_no_connection_is_given_up_within_the_policys_time(
        tmp_path: Path) -> None:
    """As in the Python client (a review: a stopped server kept a start waiting 133 s, each of
    12 attempts its whole ``openTimeout``): the attempts end by ``openTimeout`` plus the
    policy's longest wait after the first began."""
    held: list[asyncio.StreamWriter] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, and never answered: a stopped process's backlog

    listener = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
            probe = await node(tmp_path, srv, f"""
const backoff = {{ initial: 20, maximum: 50, factor: 2, attempts: 12 }};
const guard = new sg.StreamGuard({{ url: 'ws://127.0.0.1:{port}', openTimeout: 300, backoff }});
const began = performance.now();
let error = null;
try {{ await guard.start({{ context: CONTEXT }}); }} catch (e) {{ error = [e.name, e.message]; }}
out({{ error, took: performance.now() - began, longest: sg.longestWait(backoff),
       defaults: sg.longestWait() }});
guard.close();
""")
            result = await probe.line()
            await probe.finish()
    finally:
        for writer in held:
            writer.close()
        listener.close()
        await listener.wait_closed()
    assert result["error"][0] == "ConnectError" and "no connection within" in result["error"][1]
    assert result["longest"] == 510 and result["defaults"] == 31300
    # 12 attempts of 300 ms took 3.6 s and more
    assert 300 <= result["took"] < 300 + 510 + 500 and len(held) >= 2


async def test_a_stopped_server_whose_socket_buffers_filled_fails_the_streams(
        tmp_path: Path) -> None:
    """A review (as in the Python client): the keepalive's wait counted only while nothing the
    page wrote was still buffered, so a stopped server whose socket buffers filled was never
    given up. Silent for ``UNREAD_KEEPALIVES`` keepalives in all, it is."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        async with quiet_relay(srv.port, stall=True) as (port, quiet):
            probe = await node(tmp_path, srv, f"""
const guard = new sg.StreamGuard({{ url: 'ws://127.0.0.1:{port}', keepalive: 200,
                                    maxMessagesPerSecond: null }});
const stream = await guard.start({{ context: CONTEXT }});
out("started");
await told();  // the relay reads nothing more
const began = performance.now();
let lost = null;
const failed = stream.finished.catch((e) => {{ lost = [e.name, e.code, e.reason]; }});
const piece = "The Eiffel Tower was completed in 1889. ".repeat(300);
for (let i = 0; i < 600; i++) stream.send(piece);  // 7 MB: past what the sockets hold
await failed;
out({{ lost, buffered: guard.connected, waited: performance.now() - began >= 1200 }});
guard.close();
""")
            assert await probe.line() == "started"
            quiet.set()
            await probe.go()
            result = await probe.line()
        await probe.finish()
    assert result == {"lost": ["ConnectionClosedError", 1006, "keepalive ping timeout"],
                      "buffered": False, "waited": True}


async def test_deltas_are_cut_to_the_frame_limit_the_client_was_told(tmp_path: Path) -> None:
    """A review (as in the Python client): deltas were cut at ``maxDeltaChars`` alone, so
    Chinese text sent to a server with a 4 KiB limit was refused ``frame_too_large`` and the
    connection closed under every stream on it; deltas now fit ``maxFrameBytes`` whatever
    their characters (control characters escaped take 6 bytes)."""
    settings = make_settings(tmp_path, auth_disabled=True, max_frame_bytes=4096)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL, maxFrameBytes: 4096 });
const bystander = await guard.start({ context: CONTEXT, verdicts: false });
bystander.send("The Eiffel Tower was completed in 1889. ");
const text = "埃菲尔铁塔于1889年建成。".repeat(200) + "\\u0001".repeat(1000) + "😀".repeat(500);
const stream = await guard.start({ context: CONTEXT, verdicts: false, threshold: 0 });
const errors = [];
stream.send(text);
const results = [];
for (const s of [stream, bystander]) {
  s.end();
  try { const d = await s.finished; results.push([d.chars, d.drained]); }
  catch (e) { errors.push([e.name, e.code]); }
}
out({ errors, results, expected: [...text].length });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result["errors"] == []
    assert result["results"] == [[result["expected"], False], [40, False]]


async def test_errors_are_typed_and_a_ping_to_a_stopped_server_fails(tmp_path: Path) -> None:
    """A review: a ping with no stream open waited for ever on a stopped server (the
    keepalive watched only streams); a lost connection's error had no ``retryable``; and a
    start timeout, a closed client and a send after end threw bare ``Error``s, where the
    Python client raises typed ones."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        async with quiet_relay(srv.port) as (port, quiet):
            probe = await node(tmp_path, srv, f"""
const names = (e) => [e.name, e.retryable];
const guard = new sg.StreamGuard({{ url: 'ws://127.0.0.1:{port}', keepalive: 200 }});
await guard.ping();
const slow = new sg.StreamGuard({{ url: 'ws://127.0.0.1:{port}', startTimeout: 300,
                                   keepalive: null }});
await slow.ping();  // connected before the relay goes quiet
const stream = await guard.start({{ context: CONTEXT }});
stream.end();
let afterEnd = null;
try {{ stream.send("more"); }} catch (e) {{ afterEnd = names(e); }}
await stream.finished;
out("pinged");
await told();  // the relay has gone quiet
let lost = null;
try {{ await guard.ping(); }} catch (e) {{ lost = [...names(e), e.code, e.reason]; }}
let timedOut = null;
try {{ await slow.start({{ context: CONTEXT }}); }} catch (e) {{ timedOut = names(e); }}
slow.close();
guard.close();
let closed = null;
try {{ await guard.start({{ context: CONTEXT }}); }} catch (e) {{ closed = names(e); }}
out({{ afterEnd, lost, timedOut, closed }});
""")
            assert await probe.line() == "pinged"
            quiet.set()
            await probe.go()
            result = await probe.line()
        await probe.finish()
    assert result == {"afterEnd": ["StreamClosedError", False],
                      "lost": ["ConnectionClosedError", True, 1006, "keepalive ping timeout"],
                      "timedOut": ["StartTimeoutError", False],
                      "closed": ["StreamClosedError", False]}


async def test_a_stream_the_drain_ends_resolves_with_the_halt_its_last_check_finds(
        tmp_path: Path) -> None:
    """A second review (as in the Python client): in a drain's last second the server ends
    the streams still open and checks their last text; the page's next sends met
    ``draining``, the stream failed there and ``finished`` rejected, though a halt followed.
    Such a stream is ended by the server, not failed: sends throw, ``finished`` resolves."""
    class SlowScorer(LexicalScorer):
        def score_pairs(self, pairs: Sequence[Pair]) -> list[PairScore]:
            time.sleep(0.15)  # a model's batch time: the last window is scored as sends come
            return super().score_pairs(pairs)

    settings = make_settings(tmp_path, auth_disabled=True, tier="cascade", batch_max_wait_ms=0,
                             verdict_deadline_ms=0, shutdown_grace_s=2)
    srv = Server(settings, engine=GroundingEngine(EngineConfig.from_settings(settings),
                                                  Metrics(), model=SlowScorer(),
                                                  model_threshold=0.5))
    await srv.start()
    try:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const halts = [];
const stream = await guard.start({ context: CONTEXT, onHalt: (h) => halts.push(h.at) });
stream.send("The Eiffel Tower was completed in 1889. It is 450 metres tall and made of gold");
out("sent");
let thrown = null;
const more = setInterval(() => {
  try { stream.send(" and"); } catch (e) { thrown ??= [e.name, e.code]; }
}, 30);
const done = await stream.finished;
clearInterval(more);
stream.end();  // nothing to do: the server ended it
out({ halts, drained: done.drained, halted: done.halted, thrown,
      ended: stream.endedByServer?.code ?? null, failed: stream.failed });
guard.close();
""")
        assert await probe.line() == "sent"
        await asyncio.sleep(0.3)
        await srv.shutdown(grace=2.0)
        result = await probe.line()
        await probe.finish()
    finally:
        await srv.shutdown(grace=1.0)
    assert result == {"halts": [40], "drained": True, "halted": True,
                      "thrown": ["StreamGuardError", "draining"], "ended": "draining",
                      "failed": None}


async def test_an_aborted_signal_stops_a_start_wherever_it_waits(tmp_path: Path) -> None:
    """A chat UI's Stop aborts the model's request; the same AbortSignal given to start()
    stops the guard's start too (a review: a start had no way to be abandoned but its
    timeout). Aborted before: nothing is sent. Aborted while the start waits for the rate:
    it is taken back, never written. Aborted after ``started``: the stream is cancelled."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, COUNTED + """
const guard = new sg.StreamGuard({ url: URL, WebSocket: Counted, maxMessagesPerSecond: 1,
                                   messageBurst: 1 });
const name = async (p) => { try { await p; return null; } catch (e) { return e.name; } };
const before = await name(guard.start({ context: CONTEXT, signal: AbortSignal.abort() }));
await guard.start({ streamId: "A", context: CONTEXT });  // the only token
const waiting = new AbortController();
const started = Date.now();
const b = guard.start({ streamId: "B", context: CONTEXT, signal: waiting.signal });
setTimeout(() => waiting.abort(), 200);
const whileWaiting = await name(b);
const took = Date.now() - started;
await sleep(1500);  // a token came meanwhile: nothing of B's went out
const written1 = { ...written };
const later = new AbortController();
const c = await guard.start({ streamId: "C", context: CONTEXT, signal: later.signal });
c.send(SENTENCE);
later.abort();
const done = await c.finished;
out({ before, whileWaiting, quick: took < 1000, written1, cancelled: done.cancelled === true,
      ghosts: guard._link._ghosts.size });
guard.close();
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"before": "AbortError", "whileWaiting": "AbortError", "quick": True,
                      "written1": {"start": 1}, "cancelled": True, "ghosts": 0}


async def test_an_abort_ends_a_starts_backoff_on_an_overloaded_server(tmp_path: Path) -> None:
    """A start retrying ``overloaded`` with a long backoff ends with the abort, not after the
    backoff's next pause."""
    settings = make_settings(tmp_path, auth_disabled=True, overload_lag_ms=100)
    async with running_server(settings) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL,
  backoff: { initial: 20000, maximum: 20000, attempts: 5 } });
await guard.connect();
out("ready");
await told();  // the server is overloaded now
const stop = new AbortController();
const began = Date.now();
setTimeout(() => stop.abort(new Error("user pressed stop")), 300);
let reason = null;
try { await guard.start({ context: CONTEXT, signal: stop.signal }); }
catch (error) { reason = error.message; }
out({ reason, quick: Date.now() - began < 5000 });
guard.close();
""")
        assert await probe.line() == "ready"
        srv.load.observe_lag(10.0)  # as if the loop had stalled
        assert srv.load.overloaded
        await probe.go()
        result = await probe.line()
        await probe.finish()
    assert result == {"reason": "user pressed stop", "quick": True}


async def test_a_stream_of_a_closed_guard_takes_no_more_text(tmp_path: Path) -> None:
    """A review: ``send`` and ``end`` right after ``close()``, before the socket's close event,
    threw nothing; the text joined ``text`` and never reached the server. A use of a closed
    ``StreamGuard`` throws ``StreamClosedError``, its streams' too; ``finished`` still rejects
    with the connection's close."""
    async with running_server(make_settings(tmp_path, auth_disabled=True)) as srv:
        probe = await node(tmp_path, srv, """
const guard = new sg.StreamGuard({ url: URL });
const stream = await guard.start({ context: CONTEXT });
stream.send("The Eiffel Tower was completed in 1889. ");
guard.close();
const thrown = (use) => { try { use(); return null; } catch (e) { return e.name; } };
const sent = thrown(() => stream.send("It is 450 metres tall. "));
const ended = thrown(() => stream.end());
let finished = null;
try { await stream.finished; } catch (e) { finished = e.name; }
out({ sent, ended, text: stream.text, finished });
""")
        result = await probe.line()
        await probe.finish()
    assert result == {"sent": "StreamClosedError", "ended": "StreamClosedError",
                      "text": "The Eiffel Tower was completed in 1889. ",
                      "finished": "ConnectionClosedError"}
