"""Flood benchmark: legitimate streams' verdict latency with and without attackers at 10x every cap.

    nice -n 5 python -m loadtest.flood --out loadtest/results/flood/flood-1w.json

One server (``stream-guard serve``, default limits, lexical tier) and two phases on it, each
``--duration`` seconds: a baseline with ``--legit`` paced streams only, then the same streams
while an attacker process floods it. Every legitimate stream has its own connection from its
own loopback address (127.0.1.N); each attack comes from one address of its own (127.0.9.N), so
per-IP caps and buckets apply as they would on the internet, without trusting X-Forwarded-For.

The attackers run in a child process at ``--attacker-nice`` (lower CPU priority than the
server and the legitimate clients), each at ten times the cap it attacks:

=============  ==================================================================================
slots          10 x max_connections_per_ip connections held open, each retried every second
rate           connections sending ``ping`` at 10 x rate_per_s, reconnecting after each 1008
oversize       messages of 10 x max_frame_bytes (and of 2 x, below the library's hard limit)
slowloris      10 x max_connections_per_ip sockets that send an upgrade one byte per second
no_credential  upgrades without a key, back to back
churn          connect, ping, close, back to back: far over 10 x handshake_rate_per_s
backlog        one connection within every message cap: max_streams_per_connection streams with
               a 256-passage context, each sent deltas just under max_frame_bytes (about 900
               windows each) as fast as the server takes them
=============  ==================================================================================

Verdict latency is measured from the moment the delta that completed a window was due (open
loop, so a late generator shows as latency) to the verdict's arrival; which delta completes which
window comes from replaying the server's own segmenter. The result JSON carries both phases,
their p99 ratio, what each attack achieved, the server's rejection counters and CPU, and the
machine's load (``uptime``) at start and end: this is a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from loadtest.corpus import completing_deltas, tokenize
from loadtest.serverproc import MachineCpu, ResourceSampler, SpawnedServer
from loadtest.stats import summarize
from loadtest.wire import http_request
from stream_guard.config import Settings
from stream_guard.eval.results import code_revision, machine_info, redacted_command

API_KEY = "flood-benchmark-key-0001"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CONTEXTS = [
    "The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France. It was "
    "designed by the engineering company of Gustave Eiffel. About seven million people visit "
    "it every year. It was the tallest man-made structure in the world until 1930.",
    "The Danube is the second-longest river in Europe, after the Volga. It flows through ten "
    "countries, more than any other river in the world. It rises in the Black Forest in "
    "Germany. It empties into the Black Sea through a delta in Romania and Ukraine.",
]


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def git_state() -> dict[str, Any]:
    """The commit measured and the files that differed from it (a shared working tree)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True,
                                  timeout=10).stdout
        except OSError:
            return ""
    # not stripped as a whole: a status line starts with a blank status column (" M path")
    return {"commit": git("rev-parse", "HEAD").strip() or code_revision(),  # or a snapshot's
            "modified": [line[3:] for line in git("status", "--short", "-uno").splitlines()]}


# --- legitimate streams -----------------------------------------------------------------------

class Legit:
    """Paced streams, one connection each, from 127.0.1.N; records verdict latencies."""

    def __init__(self, port: int, n: int, rate: float, settings: Settings) -> None:
        self.url = f"ws://127.0.0.1:{port}/v1/stream"
        self.n = n
        self.rate = rate
        self.scripts = []
        for context in CONTEXTS:
            deltas = tokenize(" ".join([context] * 3) + " ")
            self.scripts.append((context, deltas, completing_deltas(
                deltas, settings.window_max_chars, settings.window_min_chars)))
        self.latencies: list[float] = []
        self.counts: Counter[str] = Counter()
        self._ids = itertools.count()

    async def run(self, until: float) -> None:
        await asyncio.gather(*(self._connection(i, until) for i in range(self.n)))

    async def _connection(self, i: int, until: float) -> None:
        await asyncio.sleep(i * 0.05)  # spread the streams' phases
        while time.monotonic() < until:
            try:
                async with connect(self.url, additional_headers=AUTH, open_timeout=30,
                                   local_addr=(f"127.0.1.{i + 1}", 0), ping_interval=None,
                                   compression=None) as ws:
                    while time.monotonic() < until:
                        await self._stream(ws, self.scripts[i % len(self.scripts)], until)
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as exc:
                self.counts[f"connection_lost_{type(exc).__name__}"] += 1
                await asyncio.sleep(0.5)

    async def _stream(self, ws: Any, script: tuple[str, list[str], dict[tuple[int, int], int]],
                      until: float) -> None:
        context, deltas, completes = script
        sid = f"s{next(self._ids)}"
        await ws.send(orjson.dumps({"type": "start", "stream_id": sid,
                                    "context": [context]}).decode())
        due: list[float] = []
        reader = asyncio.create_task(self._read(ws, sid, due, completes))
        try:
            t0 = time.monotonic()
            for seq, text in enumerate(deltas):
                when = t0 + seq / self.rate
                due.append(when)
                await asyncio.sleep(max(0.0, when - time.monotonic()))
                await ws.send(orjson.dumps({"type": "delta", "stream_id": sid, "seq": seq,
                                            "text": text}).decode())
                if time.monotonic() > until + 5:
                    break
            due.append(time.monotonic())
            await ws.send(orjson.dumps({"type": "end", "stream_id": sid}).decode())
            await asyncio.wait_for(reader, 30)
        finally:
            reader.cancel()

    async def _read(self, ws: Any, sid: str, due: list[float],
                    completes: dict[tuple[int, int], int]) -> None:
        while True:
            frame = orjson.loads(await ws.recv())
            now = time.monotonic()
            kind = frame["type"]
            self.counts[kind] += 1
            if kind == "error":
                self.counts[f"error_{frame['code']}"] += 1
            if frame.get("stream_id") != sid:
                continue
            if kind == "verdict":
                idx = completes.get((frame["start"], frame["end"]))
                if idx is None or idx >= len(due):
                    self.counts["verdict_unmatched"] += 1
                else:
                    self.latencies.append(now - due[idx])
                if frame["label"] != "supported":
                    self.counts["false_unsupported"] += 1
            elif kind == "done":
                return


# --- attackers (child process) ----------------------------------------------------------------

ATTACKS = ("slots", "rate", "oversize", "slowloris", "no_credential", "churn", "backlog")


class Attack:
    def __init__(self, port: int, settings: Settings, until: float) -> None:
        self.port = port
        self.s = settings
        self.until = until
        self.counts: Counter[str] = Counter()

    @property
    def on(self) -> bool:
        return time.monotonic() < self.until

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    async def _connect(self, kind: str, ip: str, headers: dict[str, str] | None = AUTH,
                       **kw: Any) -> Any:
        self.counts[f"{kind}.attempts"] += 1
        try:
            return await connect(self.url(), additional_headers=headers, open_timeout=15,
                                 local_addr=(ip, 0), ping_interval=None, compression=None,
                                 **kw)
        except InvalidStatus as exc:
            self.counts[f"{kind}.http_{exc.response.status_code}"] += 1
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            self.counts[f"{kind}.failed_{type(exc).__name__}"] += 1
        await asyncio.sleep(0.05)
        return None

    def _closed(self, kind: str, exc: ConnectionClosed) -> None:
        code = exc.rcvd.code if exc.rcvd else "abnormal"
        self.counts[f"{kind}.closed_{code}"] += 1

    async def slots(self, ip: str) -> None:
        async def hold() -> None:
            while self.on:
                ws = await self._connect("slots", ip)
                if ws is None:
                    await asyncio.sleep(1.0)
                    continue
                try:
                    await ws.send('{"type":"ping"}')
                    await ws.recv()
                    self.counts["slots.admitted"] += 1
                    left = max(0.1, self.until - time.monotonic())
                    await asyncio.wait_for(ws.wait_closed(), left)
                except ConnectionClosed as exc:
                    self._closed("slots", exc)
                except TimeoutError:
                    pass
                finally:
                    await ws.close()
                await asyncio.sleep(1.0)
        await asyncio.gather(*(hold() for _ in range(10 * self.s.max_connections_per_ip)))

    async def rate(self, ip: str, connections: int = 2) -> None:
        per_tick = max(1, int(10 * self.s.rate_per_s / 100))  # 10x the rate, in 10 ms ticks

        async def one() -> None:
            while self.on:
                ws = await self._connect("rate", ip)
                if ws is None:
                    continue
                drain = asyncio.create_task(_drain(ws))
                try:
                    while self.on:
                        for _ in range(per_tick):
                            await ws.send('{"type":"ping"}')
                        self.counts["rate.sent"] += per_tick
                        await asyncio.sleep(0.01)
                except ConnectionClosed as exc:
                    self._closed("rate", exc)
                finally:
                    drain.cancel()
                    await ws.close()
        await asyncio.gather(*(one() for _ in range(connections)))

    async def oversize(self, ip: str) -> None:
        big = '{"type":"ping","pad":"' + "x" * (10 * self.s.max_frame_bytes) + '"}'
        mid = '{"type":"ping","pad":"' + "x" * (2 * self.s.max_frame_bytes) + '"}'
        for n in itertools.count():
            if not self.on:
                return
            ws = await self._connect("oversize", ip, max_size=None)
            if ws is None:
                continue
            try:
                await ws.send(big if n % 2 else mid)
                while True:
                    await ws.recv()
            except ConnectionClosed as exc:
                self._closed("oversize", exc)
            finally:
                await ws.close()

    async def slowloris(self, ip: str) -> None:
        request = (f"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket"
                   "\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n").encode()

        async def one(k: int) -> None:
            await asyncio.sleep(k * 0.02)
            while self.on:
                self.counts["slowloris.attempts"] += 1
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port,
                                                                   local_addr=(ip, 0))
                except OSError:
                    self.counts["slowloris.failed"] += 1
                    await asyncio.sleep(1.0)
                    continue
                try:
                    for byte in request:
                        if not self.on or reader.at_eof():
                            break
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(1.0)
                    answer = await asyncio.wait_for(reader.read(64), 0.1) if self.on else b""
                    self.counts["slowloris.cut_by_server" if not answer or answer.startswith(
                        b"HTTP/1.1 4") else "slowloris.other"] += 1
                except (OSError, RuntimeError, TimeoutError):  # RuntimeError: closed transport
                    self.counts["slowloris.cut_by_server"] += 1
                finally:
                    writer.close()
        await asyncio.gather(*(one(k) for k in range(10 * self.s.max_connections_per_ip)))

    async def no_credential(self, ip: str, concurrency: int = 4) -> None:
        async def one() -> None:
            while self.on:
                ws = await self._connect("no_credential", ip, headers=None)
                if ws is not None:
                    self.counts["no_credential.admitted"] += 1
                    await ws.close()
        await asyncio.gather(*(one() for _ in range(concurrency)))

    async def churn(self, ip: str, concurrency: int = 8) -> None:
        async def one() -> None:
            while self.on:
                ws = await self._connect("churn", ip)
                if ws is None:
                    continue
                try:
                    await ws.send('{"type":"ping"}')
                    await ws.recv()
                    self.counts["churn.admitted"] += 1
                except ConnectionClosed as exc:
                    self._closed("churn", exc)
                finally:
                    await ws.close()
        await asyncio.gather(*(one() for _ in range(concurrency)))

    async def backlog(self, ip: str) -> None:
        context = [" ".join(f"Tower {i} in city {j} is {i * j} metres tall."
                            for j in range(4))[:250] for i in range(256)]
        text = ("Paris has a tower made of iron that many people visit every year. "
                * 1000)[:self.s.max_frame_bytes - 200]
        streams = [f"b{k}" for k in range(self.s.max_streams_per_connection)]
        while self.on:
            ws = await self._connect("backlog", ip, max_size=None)
            if ws is None:
                continue
            drain = asyncio.create_task(_drain(ws))
            try:
                for sid in streams:
                    await ws.send(orjson.dumps({"type": "start", "stream_id": sid,
                                                "context": context,
                                                "options": {"verdicts": False}}).decode())
                for seq in itertools.count():
                    if not self.on:
                        break
                    for sid in streams:  # a send waits while the server reads no more
                        await ws.send(orjson.dumps({"type": "delta", "stream_id": sid,
                                                    "seq": seq, "text": text}).decode())
                    self.counts["backlog.deltas"] += len(streams)
            except ConnectionClosed as exc:
                self._closed("backlog", exc)
            finally:
                drain.cancel()
                await ws.close()

    async def run(self, kinds: tuple[str, ...] = ATTACKS) -> None:
        attacks = [getattr(self, kind)(f"127.0.9.{ATTACKS.index(kind) + 1}") for kind in kinds]
        await asyncio.wait([asyncio.ensure_future(a) for a in attacks],
                           timeout=self.until - time.monotonic() + 15)


async def _drain(ws: Any) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


def attacker_main(port: int, duration: float, out: Path, kinds: tuple[str, ...]) -> None:
    from stream_guard.loop import run

    attack = Attack(port, Settings(), time.monotonic() + duration)
    started = time.monotonic()

    async def main() -> None:
        await attack.run(kinds)

    with contextlib.suppress(Exception):
        run(main())
    out.write_text(json.dumps({"elapsed_s": round(time.monotonic() - started, 1),
                               "counts": dict(sorted(attack.counts.items()))}))


# --- the experiment ---------------------------------------------------------------------------

async def scrape_rejections(port: int) -> dict[str, float]:
    _, body = await http_request("127.0.0.1", port, "GET", "/metrics")
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("stream_guard_rejections_total{"):
            reason = line.split('reason="', 1)[1].split('"', 1)[0]
            out[reason] = float(line.rsplit(" ", 1)[1])
    return out


async def phase(legit: Legit, duration: float) -> dict[str, Any]:
    legit.latencies, legit.counts = [], Counter()
    await legit.run(time.monotonic() + duration)
    return {"verdict_p99_ms": summarize(legit.latencies)["p99"], "counts": dict(legit.counts)}


async def experiment(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings()
    env = {"STREAM_GUARD_API_KEYS": f"{API_KEY}:flood", "STREAM_GUARD_TIER": args.tier,
           "STREAM_GUARD_EMBEDDER": "none", "STREAM_GUARD_LOG_LEVEL": "warning"}
    if args.redis_url:
        env["STREAM_GUARD_REDIS_URL"] = args.redis_url
    server = SpawnedServer(env=env)
    machine = MachineCpu()
    result: dict[str, Any] = {
        "benchmark": "flood", "command": redacted_command(sys.argv),
        "code": git_state(),
        "machine": {**machine_info(), "uptime_start": uptime(), "nice": os.nice(0)},
        "config": {"legit_streams": args.legit, "tokens_per_s": args.rate,
                   "phase_s": args.duration, "rounds": args.rounds, "tier": args.tier,
                   "workers": 1,
                   "redis": bool(args.redis_url), "attacker_nice": args.attacker_nice,
                   "attacks": args.attacks.split(","),
                   "caps": {k: getattr(settings, k) for k in (
                       "max_connections", "max_connections_per_ip", "rate_per_s", "rate_burst",
                       "rate_strikes", "max_frame_bytes", "handshake_rate_per_s",
                       "handshake_burst", "handshake_timeout_s")}},
    }
    await server.start(ready_timeout=120)
    assert server.process is not None
    sampler = ResourceSampler(server.process.pid)
    pooled: dict[str, list[float]] = {"baseline": [], "flood": []}
    rounds: list[dict[str, Any]] = []
    attacks: Counter[str] = Counter()
    cpu: dict[str, float] = {"baseline": 0.0, "flood": 0.0}
    try:
        legit = Legit(server.port, args.legit, args.rate, settings)
        await phase(legit, args.warmup)
        machine.start()
        # Baseline and flood alternate, so a change in the machine's background load lands on
        # both alike instead of on whichever phase ran during it.
        for n in range(args.rounds):
            row: dict[str, Any] = {"uptime": uptime()}
            sampler.start()
            row["baseline"] = await phase(legit, args.duration)
            cpu["baseline"] += sampler.summary()["cpu_seconds"]
            pooled["baseline"] += legit.latencies
            attack_out = Path(args.out).with_suffix(f".attack{n}.tmp")
            attacker = await asyncio.create_subprocess_exec(
                "nice", "-n", str(args.attacker_nice), sys.executable, "-m", "loadtest.flood",
                "--attacker", str(server.port), "--duration", str(args.duration + 2),
                "--attacks", args.attacks, "--out", str(attack_out))
            await asyncio.sleep(2.0)  # the attacks ramp up before the measured phase
            sampler.start()
            row["flood"] = await phase(legit, args.duration)
            cpu["flood"] += sampler.summary()["cpu_seconds"]
            pooled["flood"] += legit.latencies
            await asyncio.wait_for(attacker.wait(), 120)
            attacks.update(json.loads(attack_out.read_text())["counts"])
            attack_out.unlink()
            rounds.append(row)
        for name in ("baseline", "flood"):
            result[name] = {"verdict_latency_ms": summarize(pooled[name]),
                            "server_cpu_pct_of_one_core": round(
                                100 * cpu[name] / (args.rounds * args.duration), 1)}
        result["flood"]["attacks"] = dict(sorted(attacks.items()))
        result["flood"]["rejections"] = await scrape_rejections(server.port)
        result["rounds"] = rounds
        base = result["baseline"]["verdict_latency_ms"]["p99"]
        flood = result["flood"]["verdict_latency_ms"]["p99"]
        # None where a phase had no verdict at all (its streams were refused: see the counts)
        result["p99_ratio_flood_vs_baseline"] = round(flood / base, 2) if base and flood else None
        # Per round too: one burst of background load can own a pooled p99 on this machine.
        ratios = [round(r["flood"]["verdict_p99_ms"] / r["baseline"]["verdict_p99_ms"], 2)
                  for r in rounds
                  if r["baseline"]["verdict_p99_ms"] and r["flood"]["verdict_p99_ms"]]
        result["round_p99_ratios"] = ratios
        result["median_round_p99_ratio"] = round(statistics.median(ratios), 2) if ratios else None
        result["aim_p99_ratio_under"] = 2.0
        result["machine"].update(machine.summary())
    finally:
        await server.stop()
    result["machine"]["uptime_end"] = uptime()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--legit", type=int, default=20, help="legitimate paced streams")
    parser.add_argument("--rate", type=float, default=20.0, help="tokens per second per stream")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=3, help="baseline/flood pairs")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--tier", default="lexical")
    parser.add_argument("--redis-url", default=None, help="share state through this Redis")
    parser.add_argument("--attacker-nice", type=int, default=10)
    parser.add_argument("--attacks", default=",".join(ATTACKS),
                        help=f"comma-separated subset of {', '.join(ATTACKS)}")
    parser.add_argument("--out", default="loadtest/results/flood/flood-1w.json")
    parser.add_argument("--attacker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.attacker is not None:
        attacker_main(args.attacker, args.duration, Path(args.out),
                      tuple(args.attacks.split(",")))
        return
    from stream_guard.loop import run

    random.seed(0)
    result = run(experiment(args))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result.get(k) for k in ("p99_ratio_flood_vs_baseline",)} | {
        "baseline_p99_ms": result["baseline"]["verdict_latency_ms"]["p99"],
        "flood_p99_ms": result["flood"]["verdict_latency_ms"]["p99"]}))


if __name__ == "__main__":
    main()
