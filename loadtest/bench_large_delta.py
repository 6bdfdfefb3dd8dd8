"""How long one client's large deltas hold the server's event loop; writes JSON.

A delta up to ``max_frame_bytes`` (64 KB) is in the limits, and segmenting costs about 2 us a
character for the costliest text, one-letter sentences ("A. A. A."). Another client pings the
server every 5 ms from a separate process (so this one's CPU does not confound it) while one
client sends ``--messages`` such deltas to a lexical-tier server in a child process; the
ping round trips, idle and during, are the measure: a loop held for 100 ms shows as a 100 ms
round trip.

    python -m loadtest.bench_large_delta --out loadtest/results/v10/bench-large-delta.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

from loadtest.serverproc import SpawnedServer
from loadtest.stats import summarize
from stream_guard.eval.results import code_revision, machine_info, write_report

_PINGER = """
import asyncio, json, sys, time
from websockets.asyncio.client import connect
async def main(url, seconds):
    rtts = []
    async with connect(url) as ws:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            began = time.perf_counter()
            await ws.send('{"type":"ping"}')
            await ws.recv()
            rtts.append(time.perf_counter() - began)
            await asyncio.sleep(0.005)
    print(json.dumps(rtts))
asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


def pinger(url: str, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _PINGER, url, str(seconds)],
                            stdout=subprocess.PIPE, text=True)


async def run(unit: str, messages: int) -> dict[str, object]:
    server = SpawnedServer({"STREAM_GUARD_TIER": "lexical", "STREAM_GUARD_AUTH_DISABLED": "true",
                            "STREAM_GUARD_EMBEDDER": "none"})
    await server.start(60.0)
    url = f"ws://127.0.0.1:{server.port}/v1/stream"
    try:
        idle = pinger(url, 2.0)
        idle_rtts = json.loads(idle.communicate()[0])
        text = unit * (60_000 // len(unit))
        async with connect(url, max_size=None) as ws:
            await ws.send(orjson.dumps({"type": "start", "stream_id": "s",
                                        "context": ["A. B. C."]}).decode())
            await ws.recv()
            during = pinger(url, 1.0 + 0.3 * messages + 1.0)
            await asyncio.sleep(1.0)
            for seq in range(messages):
                await ws.send(orjson.dumps({"type": "delta", "stream_id": "s", "seq": seq,
                                            "text": text}).decode())
                await asyncio.sleep(0.3)
            await ws.send('{"type":"end","stream_id":"s"}')
            while orjson.loads(await ws.recv())["type"] != "done":
                pass
            during_rtts = json.loads(await asyncio.to_thread(lambda: during.communicate()[0]))
    finally:
        await server.stop()
    return {"delta_chars": len(text), "unit": unit, "messages": messages,
            "ping_ms_idle": summarize(idle_rtts), "ping_ms_during": summarize(during_rtts)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=5)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    started = time.time()
    revision = code_revision()
    load_before = os.getloadavg()
    results = [asyncio.run(run(unit, args.messages)) for unit in ("A. ", "The cat sat. ")]
    report = {"command": "python -m loadtest.bench_large_delta " + " ".join(sys.argv[1:]),
              "code_revision": revision, "results": results, "machine": machine_info(),
              "load_average_before_after": [load_before, os.getloadavg()],
              "elapsed_s": round(time.time() - started, 1)}
    write_report(args.out, report)


if __name__ == "__main__":
    main()
