"""How long one connection's stream set-ups can make another client's first halt wait; writes
JSON.

A stream's inline evidence is prepared in the set-up lane (``setup_concurrency`` slots, 2 by
default). A *hog* connection loops: it starts 8 streams, each with a ~60 KB CSV context (about
0.5 s of set-up each), waits 0.3 s and cancels them. Meanwhile a *prober* on its own connection
starts a stream with a short context and sends a contradicted sentence at once; the time from
that send to the halt frame is its first-halt latency (the set-up included, as a user hears
it). The prober runs alone first (the baseline), then beside ``--hogs`` hog connections.

    python -m loadtest.bench_setup_fairness --out loadtest/results/v43/setup-fairness.json

Against a server already running, ``--url ws://127.0.0.1:PORT`` (``--api-key`` if it needs
one); otherwise one is spawned on embedded defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from loadtest.serverproc import SpawnedServer
from loadtest.stats import summarize
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.protocol.paths import STREAM_PATH

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]
FALSE = "It is 450 metres tall and made of gold. And"
API_KEY = "bench-key-0000000000000001"


def _csv(chars: int) -> str:
    rng = random.Random(0)
    rows = [f"web{i},{rng.choice(['OK', 'DOWN', 'WARN'])},{rng.randint(1, 999)}."
            f"{rng.randint(0, 99):02d},{rng.choice(['eu', 'us', 'ap'])}" for i in range(4000)]
    return ("host,status,amount,region\n" + "\n".join(rows))[:chars]


async def _send(ws: ClientConnection, **frame: Any) -> None:
    await ws.send(orjson.dumps(frame).decode())


async def _until(ws: ClientConnection, kind: str, sid: str) -> dict[str, Any]:
    while True:
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
        if frame.get("type") == kind and frame.get("stream_id") == sid:
            return dict(frame)


async def _hog(url: str, headers: dict[str, str], context: str,
               stop: asyncio.Event) -> None:
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        async def drain() -> None:
            async for _ in ws:
                pass
        reader = asyncio.create_task(drain())
        n = 0
        while not stop.is_set():
            for s in range(8):
                # an id of its own: a server keeps a context's reading for the next stream
                # that sends it, and a hostile client varies what it sends
                await _send(ws, type="start", stream_id=f"h{n}-{s}",
                            context=[{"id": f"h{n}-{s}", "text": context}])
            await asyncio.sleep(0.3)
            for s in range(8):
                await _send(ws, type="cancel", stream_id=f"h{n}-{s}")
            n += 1
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _probe(url: str, headers: dict[str, str], streams: int) -> dict[str, Any]:
    latencies: list[float] = []
    degraded = 0
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        for i in range(streams):
            sid = f"p{i}"
            await _send(ws, type="start", stream_id=sid,  # read anew, as the hogs' are
                        context=[{"id": f"{sid}-{j}", "text": text}
                                 for j, text in enumerate(CONTEXT)])
            sent = time.perf_counter()
            await _send(ws, type="delta", stream_id=sid, seq=0, text=FALSE)
            halt = await _until(ws, "halt", sid)
            latencies.append(time.perf_counter() - sent)
            degraded += bool(halt.get("degraded"))
            await _send(ws, type="end", stream_id=sid)
            await _until(ws, "done", sid)
            await asyncio.sleep(0.3)
    return {"first_halt_ms": summarize(latencies), "degraded_halts": degraded}


async def _measure(url: str, headers: dict[str, str], args: argparse.Namespace
                   ) -> dict[str, Any]:
    alone = await _probe(url, headers, args.streams)
    stop = asyncio.Event()
    context = _csv(args.context_chars)
    hogs = [asyncio.create_task(_hog(url, headers, context, stop)) for _ in range(args.hogs)]
    await asyncio.sleep(1.0)  # the hogs' set-ups fill the lane
    beside = await _probe(url, headers, args.streams)
    stop.set()
    await asyncio.gather(*hogs)
    return {"alone": alone, "beside_hogs": beside}


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    if args.url is not None:
        headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
        return await _measure(args.url.rstrip("/") + STREAM_PATH, headers, args)
    server = SpawnedServer({"STREAM_GUARD_API_KEYS": f"{API_KEY}:bench"})
    await server.start(ready_timeout=120)
    try:
        return await _measure(f"ws://127.0.0.1:{server.port}{STREAM_PATH}",
                              {"Authorization": f"Bearer {API_KEY}"}, args)
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--url", help="a running server (ws://host:port); else one is spawned")
    parser.add_argument("--api-key", help="its API key, if it needs one")
    parser.add_argument("--hogs", type=int, default=1, help="hog connections (1)")
    parser.add_argument("--streams", type=int, default=12, help="probe streams per phase (12)")
    parser.add_argument("--context-chars", type=int, default=60_000)
    args = parser.parse_args()
    result = asyncio.run(_run(args))
    write_report(args.out, {
        "benchmark": (__doc__ or "").split("\n\n")[0],
        "command": "python -m loadtest.bench_setup_fairness " + " ".join(sys.argv[1:]),
        "hogs": args.hogs, "context_chars": args.context_chars, **result,
        "code_revision": code_revision(), "machine": machine_info()})


if __name__ == "__main__":
    main()
