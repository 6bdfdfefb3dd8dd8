"""The transport's floor: server CPU per message when the handler does nothing; writes JSON.

``loadtest.run`` reports the whole server's CPU per delta and ``loadtest.bench_session`` the
pure protocol work on it; this measures the third part, the cost of merely *receiving* a delta
over the server's own transport (uvloop, websockets' frame parser, the
:class:`~stream_guard.server.transport.CallbackConnection` that hands each message to a
callback). The load has ``loadtest.run``'s shape at 100 streams: 13 connections, one-token
delta messages, 2,373 messages a second in all (paced, open loop). The server runs in a child
process so that its CPU (``getrusage``, from the moment it listens) is its own.

    python -m loadtest.bench_transport --out loadtest/results/v4/bench-transport-floor.json

Whatever the server does per delta beyond this floor and the pure parts is its own asyncio
shell: tasks, thread hand-offs and the frames it sends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import uvloop
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from loadtest.bench_scoring import machine_info
from stream_guard.eval.results import write_report
from stream_guard.server.transport import CallbackConnection


def _cpu_seconds() -> tuple[float, float]:
    """User and system CPU seconds of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


async def _serve(port: int, compression: str | None) -> None:
    """Count messages until stdin closes, then print messages and CPU since listening."""
    received = 0

    def on_message(_message: str | bytes, _arrived: float) -> None:
        nonlocal received
        received += 1

    async def handler(ws: ServerConnection) -> None:
        assert isinstance(ws, CallbackConnection)
        ws.deliver_to(on_message, lambda: None)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", port, create_connection=CallbackConnection,
                     compression=compression, max_size=2**16):
        started = _cpu_seconds()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        user, system = (end - start for end, start in zip(_cpu_seconds(), started, strict=True))
        print(json.dumps({"messages": received, "user_seconds": user, "system_seconds": system}),
              flush=True)


async def _send(port: int, connections: int, rate: float, duration: float,
                compression: str | None) -> int:
    per_connection = rate / connections

    async def one(c: int) -> int:
        sent = 0
        async with connect(f"ws://127.0.0.1:{port}", compression=compression) as ws:
            t0 = time.monotonic()
            while (now := time.monotonic()) - t0 < duration:
                while sent < int((now - t0) * per_connection):
                    await ws.send(orjson.dumps({"type": "delta", "stream_id": f"s-{c}-{sent % 8}",
                                                "seq": sent, "text": " word"}).decode())
                    sent += 1
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.5)  # let the server read the last frames before closing
        return sent

    return sum(await asyncio.gather(*(one(c) for c in range(connections))))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--connections", type=int, default=13)
    p.add_argument("--rate", type=float, default=2373.0, help="messages a second, in all")
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--compression", action="store_true",
                   help="negotiate permessage-deflate, as browsers and the load generator do")
    p.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)  # the child
    args = p.parse_args()
    compression = "deflate" if args.compression else None
    if args.serve is not None:
        uvloop.run(_serve(args.serve, compression))
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    load_start = os.getloadavg()[0]
    flags = ["--compression"] if args.compression else []
    child = subprocess.Popen([sys.executable, "-m", "loadtest.bench_transport", "--out", "-",
                              "--serve", str(port), *flags], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the transport server did not start")
        sent = uvloop.run(_send(port, args.connections, args.rate, args.duration, compression))
        child.stdin.close()
        server = json.loads(child.stdout.readline())
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    result = {
        "benchmark": "server CPU per received message, handler doing nothing (transport floor)",
        "command": "python -m loadtest.bench_transport " + " ".join(sys.argv[1:]),
        "connections": args.connections, "rate_per_s": args.rate, "duration_s": args.duration,
        "compression": compression,
        "sent": sent, "received": server["messages"],
        "server_cpu_seconds": round(server["user_seconds"] + server["system_seconds"], 3),
        "server_system_seconds": round(server["system_seconds"], 3),
        "us_per_message": round((server["user_seconds"] + server["system_seconds"])
                                / max(1, server["messages"]) * 1e6, 1),
        "loadavg_1m_start": round(load_start, 2), "loadavg_1m_end": round(os.getloadavg()[0], 2),
        "machine": machine_info(),
    }
    write_report(args.out, result)


if __name__ == "__main__":
    main()
