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
from pathlib import Path
from typing import Any

import pytest

from stream_guard.server.app import Server
from tests.conftest import make_settings, running_server
from tests.wsclient import eventually

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
const guard = new sg.StreamGuard({ url: URL, backoff: { initial: 10, maximum: 20, attempts: 3 } });
const verdicts = [];
const first = await guard.start({ streamId: "first", context: CONTEXT,
                                  onVerdict: (v) => verdicts.push(v.label) });
first.send("The Eiffel Tower was completed in 1889. ");
out("sent");
await told();  // the server is draining now
let refused = null;
try { await guard.start({ streamId: "second", context: CONTEXT }); }
catch (error) { refused = error.name; }
first.send("It is 330 metres tall. ");
first.end();
const done = await first.finished;
out({ refused, done, verdicts });
guard.close();
""")
        result = await _drained_after_sent(probe, srv)
    assert result["refused"] == "ConnectError"  # nowhere else to start it
    assert result["done"] == {"streamId": "first", "halted": False, "chars": 63, "windows": 2,
                              "cancelled": False, "drained": False}
    assert result["verdicts"] == ["supported", "supported"]


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
