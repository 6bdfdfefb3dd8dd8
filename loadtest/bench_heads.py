"""Request heads trickled into many sockets against a spawned server: what the server holds, and
whether a new client is still served; writes JSON.

A head is judged (handshake rate, connection caps) only once whole, so sockets that send most of
a head and then nothing are counted by those limits only when their heads time out
(``handshake_timeout_s``). Each of ``--sockets`` sockets sends 63 KB of header lines and waits,
from one loopback address or (``--addresses``) from as many as it takes; meanwhile a client
with a whole head connects, pings and is timed each second. Reported: the sockets the server
still holds, its resident memory, and the new clients' times (or failures):

    python -m loadtest.bench_heads --sockets 3000 --addresses 3000 --out F.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import time
from pathlib import Path
from typing import Any

import orjson
import psutil
from websockets.asyncio.client import connect

from loadtest.bench_scoring import machine_info
from loadtest.serverproc import SpawnedServer
from stream_guard.eval.results import code_revision, write_report

_KEY = "bench-heads-key-000000000001"
_HEAD = (b"GET /v1/stream HTTP/1.1\r\nHost: x\r\n"
         + b"".join(b"X-Pad%d: " % i + b"a" * 8000 + b"\r\n" for i in range(8)))[:63000]


async def _trickle(port: int, source: str, hold: asyncio.Event) -> bool:
    """One socket's unfinished head, held until ``hold``; whether the server closed it first."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    except OSError:
        return True
    writer.write(_HEAD)
    with contextlib.suppress(OSError):
        await writer.drain()
    read = asyncio.ensure_future(reader.read(1))
    waited = asyncio.ensure_future(hold.wait())
    await asyncio.wait([read, waited], return_when=asyncio.FIRST_COMPLETED)
    closed = read.done()
    for task in (read, waited):
        task.cancel()
    writer.close()
    return closed


async def _new_client(port: int) -> float | str:
    """A whole head's connection and a ping's answer, in ms; or why it failed."""
    began = time.perf_counter()
    try:
        async with connect(f"ws://127.0.0.1:{port}/v1/stream", open_timeout=5,
                           additional_headers={"Authorization": f"Bearer {_KEY}"},
                           local_addr=("127.0.0.2", 0)) as ws:
            await ws.send(orjson.dumps({"type": "ping"}).decode())
            await asyncio.wait_for(ws.recv(), 5)
    except Exception as exc:  # any failure is the finding, named in the report
        return f"{type(exc).__name__}: {exc}"[:120]
    return round((time.perf_counter() - began) * 1000, 1)


async def run(sockets: int, addresses: int, seconds: float) -> dict[str, Any]:
    server = SpawnedServer(env={"STREAM_GUARD_API_KEYS": f"{_KEY}:bench",
                                "STREAM_GUARD_HANDSHAKE_TIMEOUT_S": str(seconds + 5)})
    await server.start(ready_timeout=120)
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    try:
        rss_before = process.memory_info().rss
        hold = asyncio.Event()
        tricklers = [asyncio.ensure_future(_trickle(
            server.port, f"127.1.{i % addresses // 250}.{1 + i % addresses % 250}", hold))
            for i in range(sockets)]
        samples = []
        for second in range(int(seconds)):
            await asyncio.sleep(1)
            samples.append({"second": second + 1, "server_sockets": process.num_fds(),
                            "rss_mb": round(process.memory_info().rss / 2**20),
                            "new_client": await _new_client(server.port)})
        hold.set()
        closed_early = sum(await asyncio.gather(*tricklers))
        return {"sockets": sockets, "addresses": addresses, "seconds": seconds,
                "rss_mb_before": round(rss_before / 2**20), "samples": samples,
                "closed_by_the_server": closed_early}
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sockets", type=int, default=3000)
    p.add_argument("--addresses", type=int, default=1, help="loopback sources, 127.1.x.y")
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.sockets + 1000)), hard))
    result = asyncio.run(run(args.sockets, args.addresses, args.seconds))
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    write_report(args.out, {**result, "code_revision": code_revision(),
                            "machine": machine_info()})


if __name__ == "__main__":
    main()
