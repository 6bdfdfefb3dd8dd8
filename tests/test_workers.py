"""Promises that must hold across workers and nodes, with a real Redis and real processes.

Two ``Server`` objects with their own state-store connections stand for two workers (or nodes);
where a process must die, real ``stream-guard serve`` processes are started and killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import functools
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage

from stream_guard.metrics import MULTIPROC_ENV, Metrics
from stream_guard.server import workers as workers_module
from stream_guard.server.app import Server
from tests.conftest import make_settings, running_server
from tests.redis_server import RedisServer, free_port
from tests.wsclient import (
    API_KEY,
    eventually,
    http,
    open_ws,
    recv,
    recv_until,
    send,
    stream_text,
    wait_ready,
)

pytestmark = pytest.mark.redis

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]
GOOD = "The Eiffel Tower was completed in 1889. It is 330 metres tall. "


@asynccontextmanager
async def _workers(tmp_path: Path, redis: RedisServer, n: int = 2,
                   **overrides: Any) -> AsyncIterator[list[Server]]:
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(running_server(make_settings(
            tmp_path, redis_url=redis.url, **overrides))) for _ in range(n)]
        yield servers


async def _closed_with(ws_cm: Any) -> int | None:
    """Open a connection and return the close code if the server closes it at once."""
    async with ws_cm as ws:
        try:
            await asyncio.wait_for(ws.recv(), 3)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            return None
    return None


async def test_ticket_minted_on_one_worker_is_redeemed_once_on_another(
        tmp_path: Path, redis: RedisServer) -> None:
    async with _workers(tmp_path, redis) as (a, b):
        minted = await http(a.port, "POST", "/v1/tickets", {"Authorization": f"Bearer {API_KEY}"})
        assert minted.status == 200
        ticket = minted.json()["ticket"]
        async with open_ws(b.port, key=None, query=f"ticket={ticket}") as ws:
            frames = await stream_text(ws, "s1", GOOD, context=CONTEXT)
            assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False
        replay = await http(a.port, "GET", f"/v1/stream?ticket={ticket}", {
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert replay.status == 401


async def test_per_ip_cap_holds_across_workers(tmp_path: Path, redis: RedisServer) -> None:
    async with _workers(tmp_path, redis, max_connections_per_ip=2) as (a, b):
        async with open_ws(a.port) as first, open_ws(b.port) as second:
            await send(first, {"type": "ping"})
            await send(second, {"type": "ping"})
            assert (await recv(first))["type"] == "pong"
            assert (await recv(second))["type"] == "pong"
            assert await _closed_with(open_ws(a.port)) == 1013
            assert await _closed_with(open_ws(b.port)) == 1013
        # both released (the server releases right after the close handshake): admitted again
        deadline = time.monotonic() + 5
        while await _closed_with(open_ws(b.port)) == 1013:
            assert time.monotonic() < deadline, "slots were not released"
            await asyncio.sleep(0.05)


async def test_the_connection_cap_is_each_replicas_shared_by_its_workers(
        tmp_path: Path, redis: RedisServer) -> None:
    """MAX_CONNECTIONS is per replica (node): two replicas on one Redis each hold their own
    cap, while the workers of one replica (which the supervisor names after itself) share it."""
    settings = make_settings(tmp_path, redis_url=redis.url, max_connections=1)
    async with AsyncExitStack() as stack:
        a1, a2, b = [await stack.enter_async_context(running_server(settings, node=node))
                     for node in ("replica-a", "replica-a", "replica-b")]
        async with open_ws(a1.port) as first:
            await send(first, {"type": "ping"})
            assert (await recv(first))["type"] == "pong"
            assert await _closed_with(open_ws(a2.port)) == 1013  # replica a is full
            assert await _closed_with(open_ws(b.port)) is None  # replica b is not


async def test_kill_switch_reaches_the_worker_holding_the_stream(
        tmp_path: Path, redis: RedisServer) -> None:
    async with _workers(tmp_path, redis) as (_, b), open_ws(b.port) as ws:
        await send(ws, {"type": "start", "stream_id": "victim", "context": CONTEXT})
        assert (await recv(ws))["type"] == "started"
        await send(ws, {"type": "delta", "stream_id": "victim", "seq": 0, "text": GOOD})
        env = {**os.environ, "STREAM_GUARD_REDIS_URL": redis.url}
        out = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "stream_guard", "streams", "kill", "--tenant", "tenant-a",
            "--stream", "victim"],
            env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        frames = await recv_until(ws, "halt", "victim")
        assert frames[-1]["reason"] == "operator"
        await send(ws, {"type": "delta", "stream_id": "victim", "seq": 1, "text": "More."})
        assert (await recv(ws))["code"] == "stream_halted"


def test_a_kill_by_stream_id_alone_is_refused() -> None:
    """Clients choose stream ids (the README's example uses "s1"), so an id alone named every
    tenant's stream of that id, cluster-wide (found by a review): a kill needs its tenant."""
    out = subprocess.run([sys.executable, "-m", "stream_guard", "streams", "kill", "--stream",
                          "s1"], env={**os.environ, "STREAM_GUARD_REDIS_URL": "redis://x:1"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "needs --tenant T" in out.stderr


async def test_redis_lost_then_back_fail_closed(tmp_path: Path, redis: RedisServer) -> None:
    async with _workers(tmp_path, redis, n=1, redis_fail_mode="closed",
                        lease_ttl_s=4.0) as (a,), open_ws(a.port) as ws:
        await send(ws, {"type": "start", "stream_id": "s1", "context": CONTEXT})
        assert (await recv(ws))["type"] == "started"
        redis.stop()
        # tickets fail closed
        minted = await http(a.port, "POST", "/v1/tickets",
                            {"Authorization": f"Bearer {API_KEY}"})
        assert minted.status == 503
        # caps fail closed: new connections are told to come back later
        assert await _closed_with(open_ws(a.port)) == 1013
        assert (await http(a.port, "GET", "/readyz")).status == 503
        # the open stream keeps being scored
        await send(ws, {"type": "delta", "stream_id": "s1", "seq": 0, "text": GOOD})
        await send(ws, {"type": "end", "stream_id": "s1"})
        frames = await recv_until(ws, "done", "s1")
        assert [f["label"] for f in frames if f["type"] == "verdict"] == ["supported"] * 2
        redis.start()
        # Redis came back empty: no ticket while the counts settle (its connection would be
        # closed 1013 as it opened, the ticket spent)
        minted = await http(a.port, "POST", "/v1/tickets",
                            {"Authorization": f"Bearer {API_KEY}"})
        assert minted.status == 503 and "recovers" in minted.json()["message"]
        # Redis came back empty: for one renewal period (half the lease TTL) new connections
        # are told to retry, until every worker has taken its lost leases again, and /readyz
        # says 503 meanwhile (closed mode), so a balancer sends them elsewhere: once it says
        # 200, a connection is admitted.
        deadline = time.monotonic() + 10
        statuses = []
        while True:
            statuses.append((await http(a.port, "GET", "/readyz")).status)
            refused = await _closed_with(open_ws(a.port)) == 1013
            assert not (refused and statuses[-1] == 200), "ready, yet refusing connections"
            if not refused:
                break
            assert time.monotonic() < deadline, "still refusing after the settle period"
            await asyncio.sleep(0.1)
        assert 503 in statuses
        assert (await http(a.port, "GET", "/readyz")).status == 200
        # recovery without restart
        minted = await http(a.port, "POST", "/v1/tickets",
                            {"Authorization": f"Bearer {API_KEY}"})
        assert minted.status == 200
        async with open_ws(a.port, key=None, query=f"ticket={minted.json()['ticket']}") as w2:
            await send(w2, {"type": "ping"})
            assert (await recv(w2))["type"] == "pong"


async def test_readiness_gauges_follow_the_store_without_probes(
        tmp_path: Path, redis: RedisServer) -> None:
    """Operators alert on ``stream_guard_ready`` and ``stream_guard_state_store_up``: they must
    be right when nothing asks /readyz (they were set only by a probe: 0 on a fresh server, 1
    after Redis died). Redis comes back empty, so readiness waits out the settle period (half a
    lease TTL) before the counts are true again."""
    async with _workers(tmp_path, redis, n=1, redis_fail_mode="closed",
                        lease_ttl_s=2.0) as (a,):
        def gauges() -> tuple[float, float]:
            return a.metrics.ready._value.get(), a.metrics.state_up._value.get()

        assert gauges() == (1, 1)
        redis.stop()
        try:
            deadline = time.monotonic() + 10
            while gauges() != (0, 0):
                assert time.monotonic() < deadline, f"gauges still {gauges()}"
                await asyncio.sleep(0.1)
        finally:
            redis.start()
        deadline = time.monotonic() + 10
        while gauges() != (1, 1):
            assert time.monotonic() < deadline, f"gauges still {gauges()}"
            await asyncio.sleep(0.1)


async def test_redis_lost_fail_open_admits_and_counts(tmp_path: Path,
                                                      redis: RedisServer) -> None:
    async with _workers(tmp_path, redis, n=1, redis_fail_mode="open") as (a,):
        redis.stop()
        async with open_ws(a.port) as ws:
            await send(ws, {"type": "ping"})
            assert (await recv(ws))["type"] == "pong"
        metrics = (await http(a.port, "GET", "/metrics")).body.decode()
        assert 'stream_guard_state_failures_total{operation="acquire_slot"}' in metrics


# --- real processes ---------------------------------------------------------------------------

def _spawn(port: int, redis: RedisServer, *extra: str, stderr: Any = subprocess.PIPE,
           **env_overrides: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STREAM_GUARD_REDIS_URL": redis.url, "STREAM_GUARD_TIER": "lexical",
           "STREAM_GUARD_API_KEYS": f"{API_KEY}:tenant-a", "STREAM_GUARD_PORT": str(port),
           "STREAM_GUARD_SHUTDOWN_GRACE_S": "2", **env_overrides}
    return subprocess.Popen([sys.executable, "-m", "stream_guard", "serve", *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=stderr)


async def test_sigkilled_worker_gives_its_slots_back_within_the_lease_ttl(
        tmp_path: Path, redis: RedisServer) -> None:
    ttl = 2.0
    env = {"STREAM_GUARD_MAX_CONNECTIONS_PER_IP": "2", "STREAM_GUARD_LEASE_TTL_S": str(ttl)}
    port_a, port_b = free_port(), free_port()
    a = _spawn(port_a, redis, **env)
    b = _spawn(port_b, redis, **env)
    try:
        await asyncio.gather(wait_ready(port_a), wait_ready(port_b))
        async with open_ws(port_a) as w1, open_ws(port_a) as w2:
            for ws in (w1, w2):
                await send(ws, {"type": "ping"})
                assert (await recv(ws))["type"] == "pong"
            assert await _closed_with(open_ws(port_b)) == 1013
            a.send_signal(signal.SIGKILL)
            a.wait()
            killed_at = time.monotonic()
            while await _closed_with(open_ws(port_b)) == 1013:
                assert time.monotonic() - killed_at < ttl + 3, "slots leaked past the lease TTL"
                await asyncio.sleep(0.2)
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(20)


async def test_a_restarted_worker_gives_back_the_slots_its_predecessor_held(
        tmp_path: Path, redis: RedisServer) -> None:
    """A review killed the workers holding a replica's connections: the supervisor restarted
    them within seconds, but their leases held the replica's cap for a lease TTL, every
    newcomer refused 1013 "server at capacity" meanwhile while /readyz said 200, and the
    clients' own address caps as long (the next review). A worker's restart now gives back
    what the one before it held, of both caps (each full here; a lease TTL of 60 s: the slots
    cannot simply have lapsed)."""
    port = free_port()
    sup = _spawn(port, redis, "--workers", "2", STREAM_GUARD_MAX_CONNECTIONS="2",
                 STREAM_GUARD_MAX_CONNECTIONS_PER_IP="2", STREAM_GUARD_LEASE_TTL_S="60")
    try:
        parent, workers = await _both_workers(sup, port)
        async with open_ws(port) as w1, open_ws(port) as w2:
            for ws in (w1, w2):
                await send(ws, {"type": "ping"})
                assert (await recv(ws))["type"] == "pong"
            assert await _closed_with(open_ws(port)) == 1013  # the replica is full
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        while (_worker_pids(parent) & workers) or len(_worker_pids(parent)) < 2:
            assert time.monotonic() - killed_at < 30
            await asyncio.sleep(0.2)
        await wait_ready(port)
        while await _closed_with(open_ws(port)) is not None:  # until both restarts listen
            assert time.monotonic() - killed_at < 30, "the dead workers' slots were kept"
            await asyncio.sleep(0.2)
        async with open_ws(port) as w1, open_ws(port) as w2:  # the whole cap, again
            for ws in (w1, w2):
                await send(ws, {"type": "ping"})
                assert (await recv(ws))["type"] == "pong"
    finally:
        if sup.poll() is None:
            sup.terminate()
            sup.wait(30)


def _worker_pids(parent: psutil.Process) -> set[int]:
    """Live worker processes of the supervisor (not multiprocessing's helpers, not zombies)."""
    pids = set()
    for child in parent.children():
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            if "resource_tracker" in " ".join(child.cmdline()):
                continue
        except psutil.Error:
            continue
        pids.add(child.pid)
    return pids


def _starting_workers(parent: psutil.Process) -> set[int]:
    """Worker processes of the supervisor that run multiprocessing's spawn entry point. Not a
    child just forked, whose command line is still the supervisor's until it execs: that may
    be the resource tracker, and a fresh-clone CI once stopped it there (its workers then
    never came, and the test failed for want of a stuck worker, not of a kill)."""
    pids = set()
    for child in parent.children():
        with contextlib.suppress(psutil.Error):
            if "spawn_main" in " ".join(child.cmdline()):
                pids.add(child.pid)
    return pids


async def _stream(port: int, sid: str) -> None:
    """Stream one answer to completion: whichever worker the kernel picks serves it (a worker
    listens only once its scorer is loaded)."""
    async with open_ws(port) as ws:
        frames = await stream_text(ws, sid, GOOD, context=CONTEXT)
    assert frames[-1]["type"] == "done"


async def _both_workers(sup: subprocess.Popen[bytes], port: int
                       ) -> tuple[psutil.Process, set[int]]:
    """The supervisor's process and its two workers' pids, once it serves."""
    await wait_ready(port)
    parent = psutil.Process(sup.pid)
    deadline = time.monotonic() + 60
    while len(workers := _worker_pids(parent)) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    return parent, workers


async def test_supervisor_restarts_a_dead_worker_and_drains_on_sigterm(
        tmp_path: Path, redis: RedisServer) -> None:
    port = free_port()
    sup = _spawn(port, redis, "--workers", "2")
    try:
        parent, workers = await _both_workers(sup, port)
        # each labelled counter's series from the start, at 0, in multiprocess mode too (an
        # alert on increase() saw no first rejection: a review)
        body = (await http(port, "GET", "/metrics")).body.decode()
        assert 'stream_guard_rejections_total{reason="capacity"} 0.0' in body
        deadline = time.monotonic() + 60
        for i in range(2):  # counted before a worker dies: they must stay counted
            await _stream(port, f"before{i}")
        victim = next(iter(workers))
        metrics_dir = Path(psutil.Process(victim).environ()["PROMETHEUS_MULTIPROC_DIR"])
        os.kill(victim, signal.SIGKILL)
        killed, gauges = time.monotonic(), set()
        while True:
            now = _worker_pids(parent)
            if victim not in now and len(now) >= len(workers) and (
                    time.monotonic() - killed > 6):  # and its scorer loaded meanwhile
                break
            assert time.monotonic() < deadline, "dead worker was not restarted"
            try:
                body = (await http(port, "GET", "/metrics")).body.decode()
            except OSError:  # accepted by the dead worker's socket, which is gone
                body = ""
            gauges |= {line for line in body.splitlines()
                       if line.startswith(("stream_guard_ready ", "stream_guard_state_store_up "))}
            await asyncio.sleep(0.2)
        # the live worker serves all the while: a restarted worker loading its scorer read 0
        # for the replica, a false "Redis down" at every restart (a review)
        assert gauges == {"stream_guard_ready 1.0", "stream_guard_state_store_up 1.0"}, gauges
        await wait_ready(port)
        for i in range(4):  # new connections land on either worker
            await _stream(port, f"s{i}")
        # whichever worker answers, /metrics reports the streams of all of them, the dead
        # worker's too; and the restarted worker counts on in its slot's files, so a restart
        # leaves no files behind for every scrape to read
        for _ in range(4):
            body = (await http(port, "GET", "/metrics")).body.decode()
            assert "stream_guard_streams_started_total 6.0" in body
        slots = {f.rsplit("_", 1)[-1] for f in os.listdir(metrics_dir)}
        assert slots <= {"worker0.db", "worker1.db"}, slots
        sup.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(sup.wait, 30) == 0
        for pid in _worker_pids(parent) if parent.is_running() else ():
            pytest.fail(f"worker {pid} outlived the supervisor")
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait()


async def test_a_hung_worker_is_killed_and_restarted(tmp_path: Path, redis: RedisServer) -> None:
    """A review stopped one worker (SIGSTOP: a hung event loop, its listening socket kept):
    the kernel went on handing it about half of the new connections, none answered, /livez
    answered 200 by the other, and the supervisor never acted. Now it kills the worker whose
    heartbeat stops, and the restart serves every connection again."""
    port = free_port()
    sup = _spawn(port, redis, "--workers", "2", STREAM_GUARD_WORKER_HANG_S="3")
    try:
        parent, workers = await _both_workers(sup, port)
        victim, deadline = min(workers), time.monotonic() + 60
        await _listening(victim, port)  # hung while it listens: it takes connections
        os.kill(victim, signal.SIGSTOP)
        while victim in _worker_pids(parent) or len(_worker_pids(parent)) < 2:
            assert time.monotonic() < deadline, "the hung worker was neither killed nor replaced"
            await asyncio.sleep(0.2)
        await wait_ready(port)
        restarted = time.monotonic()
        while True:  # the new worker listens once its scorer is loaded
            assert time.monotonic() < deadline, "a connection was not answered"
            try:
                for i in range(8):  # new connections land on either worker, all answered
                    await asyncio.wait_for(_stream(port, f"s{i}"), 10)
                break
            except (OSError, InvalidMessage, TimeoutError):
                assert time.monotonic() - restarted < 30
                await asyncio.sleep(0.5)
        sup.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(sup.wait, 30) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGCONT)
        if sup.poll() is None:
            sup.kill()
            sup.wait()


async def _listening(pid: int, port: int) -> None:
    """Wait until worker ``pid`` listens on ``port`` (its event loop runs, and beats)."""
    deadline = time.monotonic() + 60
    while not any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
                  for c in psutil.Process(pid).net_connections("tcp")):
        assert time.monotonic() < deadline, "the worker never listened"
        await asyncio.sleep(0.1)


async def test_a_stopped_group_is_not_taken_for_hung_workers(redis: RedisServer) -> None:
    """A review stopped the whole group, supervisor and workers (Ctrl-Z then fg, docker pause
    then unpause), for longer than worker_hang_s: resumed, the supervisor found no heartbeat
    since before the stop and killed healthy workers as hung, their streams with them. Here
    the supervisor resumes first and its workers a moment later (a thaw resumes them in any
    order): neither is killed, and both serve."""
    port = free_port()
    sup = _spawn(port, redis, "--workers", "2", STREAM_GUARD_WORKER_HANG_S="3")
    try:
        parent, workers = await _both_workers(sup, port)
        for pid in workers:
            await _listening(pid, port)
        for pid in (sup.pid, *workers):
            os.kill(pid, signal.SIGSTOP)
        await asyncio.sleep(4)  # past worker_hang_s
        os.kill(sup.pid, signal.SIGCONT)
        await asyncio.sleep(0.5)  # the supervisor's rounds, its workers still stopped
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        await wait_ready(port)
        for i in range(8):  # new connections land on either worker, all answered
            await asyncio.wait_for(_stream(port, f"s{i}"), 10)
        assert _worker_pids(parent) == workers
        sup.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(sup.wait, 30) == 0
    finally:
        if sup.poll() is None:
            for pid in {sup.pid, *_worker_pids(psutil.Process(sup.pid))}:
                os.kill(pid, signal.SIGCONT)  # stopped, a worker would not see its orphaning
            sup.kill()
            sup.wait()


async def _spawn_logged(port: int, redis: RedisServer, tmp_path: Path
                        ) -> tuple[subprocess.Popen[bytes], Path]:
    """A supervisor of two workers whose log goes to a file, and the file."""
    log = tmp_path / "serve.log"
    sink = await asyncio.to_thread(log.open, "wb")
    with sink:
        return _spawn(port, redis, "--workers", "2", stderr=sink), log


async def test_sighup_reloads_every_workers_evidence_and_stops_nothing(
        tmp_path: Path, redis: RedisServer) -> None:
    """The supervisor passes SIGHUP on to its workers: its default action ended the supervisor,
    and then every worker, while a single server reloaded its evidence."""
    port = free_port()
    sup, log = await _spawn_logged(port, redis, tmp_path)
    try:
        parent, workers = await _both_workers(sup, port)
        # Both serving (a worker still starting ignores SIGHUP: it loads its evidence afresh)
        await eventually(lambda: log.read_text().count("scorer ready") == 2, timeout=60)
        for _ in range(2):
            sup.send_signal(signal.SIGHUP)
            await asyncio.sleep(0.5)
        await wait_ready(port)
        assert sup.poll() is None and _worker_pids(parent) == workers
        sup.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(sup.wait, 30) == 0
        assert log.read_text().count("evidence reloaded") == 4  # 2 workers, twice
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait()


def _log_entries(log: Path) -> list[dict[str, Any]]:
    """The JSON lines of a server's log file (Python's own warnings aside)."""
    entries = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entries.append(json.loads(line))
    return entries


async def test_each_workers_log_lines_and_connection_ids_name_the_worker(
        tmp_path: Path, redis: RedisServer) -> None:
    """A review: with several workers no log line said which worker wrote it, and every worker
    numbered its connections from "c1", so two halts of "c1" were two connections. Each
    worker's lines carry its index, and its connection ids are named after it."""
    bad = ("The Eiffel Tower was completed in 1889. Napoleon Bonaparte designed its golden "
           "spiral staircases in 1712 for Venetian merchants. ")
    port = free_port()
    sup, log = await _spawn_logged(port, redis, tmp_path)
    try:
        await _both_workers(sup, port)
        await eventually(lambda: log.read_text().count("scorer ready") == 2, timeout=60)
        halts: list[dict[str, Any]] = []
        for i in range(40):  # until the kernel has given each worker a connection
            async with open_ws(port) as ws:
                frames = await stream_text(ws, f"s{i}", bad, context=CONTEXT)
            assert frames[-1]["halted"] is True
            halts = [e for e in _log_entries(log) if e["event"] == "stream halted"]
            if {e["worker"] for e in halts} == {0, 1}:
                break
        assert {e["worker"] for e in halts} == {0, 1}
        for entry in halts:
            assert re.fullmatch(rf"w{entry['worker']}-c\d+", entry["conn"]), entry
        assert len({e["conn"] for e in halts}) == len(halts)
        assert {e["worker"] for e in _log_entries(log) if e["event"] == "scorer ready"} == {0, 1}
    finally:
        if sup.poll() is None:
            sup.send_signal(signal.SIGTERM)
            sup.wait(30)


@pytest.mark.parametrize("at_once", [False, True])
async def test_a_second_stop_signal_ends_the_workers_drain_at_once(
        tmp_path: Path, redis: RedisServer, at_once: bool) -> None:
    """The supervisor passes a second SIGTERM or SIGINT on to its draining workers, which end
    their drain at once (a review: the process waited out the whole grace, 60 s here); also
    one sent right after the first, before the workers were told (a second review: lost)."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        sup = _spawn(port, redis, "--workers", "2", stderr=sink,
                     STREAM_GUARD_SHUTDOWN_GRACE_S="60")
    try:
        await _both_workers(sup, port)
        await eventually(lambda: log.read_text().count("scorer ready") == 2, timeout=60)
        async with open_ws(port) as ws:
            await send(ws, {"type": "start", "stream_id": "s", "context": CONTEXT})
            assert (await recv(ws))["type"] == "started"
            sup.send_signal(signal.SIGTERM)
            if not at_once:
                # both draining: a second signal sent before a worker took the first would be
                # one with it (signals of a kind pending at once are delivered once)
                await eventually(lambda: log.read_text().count('"draining"') == 2, timeout=10)
            began = time.monotonic()
            sup.send_signal(signal.SIGINT)
            with pytest.raises(ConnectionClosed) as closed:
                assert (await recv(ws))["type"] == "done"
                await recv(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        assert await asyncio.to_thread(sup.wait, 10) == 0
        assert time.monotonic() - began < 10
        text = log.read_text()
        assert "second stop signal: the workers end their drain now" in text
        assert "second stop signal: ending the drain now" in text
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait()


async def test_sighup_while_workers_start_ends_none(tmp_path: Path, redis: RedisServer) -> None:
    """A reload passed on while a worker was still starting Python (before it ignores SIGHUP)
    ended it with the signal's default action: both workers died and were restarted, counted
    toward the restart backoff (a review). Workers are now born with it blocked."""
    port = free_port()
    sup, log = await _spawn_logged(port, redis, tmp_path)
    try:
        await eventually(lambda: "supervisor started" in log.read_text(), timeout=30)
        for _ in range(5):
            sup.send_signal(signal.SIGHUP)
            await asyncio.sleep(0.1)
        await _both_workers(sup, port)
        assert sup.poll() is None
        assert "worker died" not in log.read_text()
    finally:
        if sup.poll() is None:
            sup.send_signal(signal.SIGTERM)
            sup.wait(30)


async def test_a_port_in_use_is_refused_and_orphaned_workers_stop(
        tmp_path: Path, redis: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers bind with SO_REUSEPORT, so a second ``serve --workers`` on a port already served
    used to start and take half its connections, and the workers of a supervisor killed with
    SIGKILL kept serving for ever. Now the second is refused like a single server, and orphans
    drain and exit. Neither leaves a metrics folder for ever (a review: each refused start left
    one, and a killed supervisor's stayed): the next supervisor removes a dead one's."""
    port = free_port()
    temp = tmp_path / "tmp"
    temp.mkdir()
    spawn = functools.partial(_spawn, TMPDIR=str(temp))
    first = spawn(port, redis, "--workers", "2", STREAM_GUARD_TIER="cascade")
    second: subprocess.Popen[bytes] | None = None
    early: subprocess.Popen[bytes] | None = None
    workers: set[int] = set()
    try:
        # While the first's workers load their scorers, none holds the port yet: a second was
        # let start beside it then (a review). Now the first holds it from its start.
        deadline = time.monotonic() + 60
        while not _worker_pids(psutil.Process(first.pid)):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        early = spawn(port, redis, "--workers", "2")
        _, err = await asyncio.to_thread(early.communicate, timeout=60)
        assert early.returncode == 2, err.decode()
        assert "holds it (its workers may still be loading)" in err.decode()
        await wait_ready(port)
        second = spawn(port, redis, "--workers", "2")
        _, err = await asyncio.to_thread(second.communicate, timeout=60)
        assert second.returncode == 2, err.decode()
        assert f"cannot listen on port {port}" in err.decode()
        # a taken port is no invalid value (a new-user walk read "invalid settings")
        assert "Traceback" not in err.decode() and "invalid settings" not in err.decode()
        # the first's folder only (stream-guard-metrics-NAMESPACE-PID-...)
        assert [d.name.split("-")[4] for d in _metrics_dirs(temp)] == [str(first.pid)]

        parent = psutil.Process(first.pid)
        deadline = time.monotonic() + 60
        while len(workers := _worker_pids(parent)) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        first.kill()
        first.wait()
        _, alive = await asyncio.to_thread(
            psutil.wait_procs, [psutil.Process(pid) for pid in workers], timeout=20)
        assert alive == [], "orphaned workers kept serving"
        with pytest.raises(OSError):
            await http(port, "GET", "/livez")
        assert len(_metrics_dirs(temp)) == 1  # a killed supervisor cannot remove its own
        monkeypatch.setattr(tempfile, "tempdir", str(temp))
        workers_module._remove_dead_metrics_dirs()  # as the next supervisor does first
        assert _metrics_dirs(temp) == []
    finally:  # every process: a failing run must not leave workers serving
        for proc in (first, early, second):
            if proc is not None:
                with contextlib.suppress(psutil.Error):
                    workers |= {c.pid for c in psutil.Process(proc.pid).children()}
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        for pid in workers:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()


def _metrics_dirs(temp: Path) -> list[Path]:
    return [d for d in temp.iterdir() if d.name.startswith("stream-guard-metrics-")]


def _detector_that_is_not_onnx(path: Path) -> Path:
    """The shipped detector's config.json and tokenizer.json beside a model.onnx that is text."""
    shipped = Path(__file__).resolve().parents[1] / "stream_guard" / "models" / "detector"
    path.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(shipped / name, path / name)
    (path / "model.onnx").write_bytes(b"this is a text file, not a model\n")
    return path


async def test_a_worker_whose_scorer_cannot_load_stops_the_supervisor(
        tmp_path: Path, redis: RedisServer) -> None:
    """A settings error in a worker (here a detector whose model.onnx is not ONNX, which only
    loading finds) cannot be fixed by restarting it: the supervisor used to restart workers
    that were never ready, for ever; now it stops them and exits 2 with the error."""
    detector = _detector_that_is_not_onnx(tmp_path / "detector")
    sup = _spawn(free_port(), redis, "--workers", "2", STREAM_GUARD_TIER="cascade",
                 STREAM_GUARD_EMBEDDER="none", STREAM_GUARD_DETECTOR=str(detector))
    try:
        _, err = await asyncio.to_thread(sup.communicate, timeout=90)
        stderr = err.decode()
        assert sup.returncode == 2, stderr
        assert "Traceback" not in stderr
        assert (f"stream-guard: invalid settings: cannot load the scorer: {detector}/model.onnx: "
                "onnxruntime cannot load it (" in stderr)
        assert '"event":"worker stopped on a settings error; stopping"' in stderr
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait()


async def test_no_worker_refuses_a_connection_while_loading_its_scorer(
        tmp_path: Path, redis: RedisServer) -> None:
    """With the default detector, a worker loads its model for a second or more. Each listened
    at once and refused every connection the kernel gave it meanwhile (1013), while /readyz,
    answered by the other worker, said 200 (a review: 3 of 12 streams refused after the first
    200, and 7 refusals while a killed worker was restarted). Now a worker listens once it can
    serve."""
    port = free_port()
    sup = _spawn(port, redis, "--workers", "2", STREAM_GUARD_TIER="cascade",
                 STREAM_GUARD_HANDSHAKE_RATE_PER_S="1000", STREAM_GUARD_HANDSHAKE_BURST="1000")
    try:
        parent, workers = await _both_workers(sup, port)  # the first /readyz 200
        await asyncio.gather(*(_stream(port, f"first{i}") for i in range(12)))
        victim = next(iter(workers))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        n, restarted = 0, None
        # through the restart, and for as long again as a worker takes to load its model
        while restarted is None or time.monotonic() < restarted + 8:
            assert time.monotonic() < deadline, "dead worker was not restarted"
            try:
                await _stream(port, f"restart{n}")
            except (InvalidMessage, OSError):
                # A connection the kernel queued on the killed worker's socket in the moment
                # it died is reset: that is SIGKILL, not a refusal (a 1013 close fails here).
                assert restarted is None, "a connection was lost after the restart"
            n += 1
            pids = _worker_pids(parent)
            if restarted is None and victim not in pids and len(pids) == 2:
                restarted = time.monotonic()
        sup.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(sup.wait, 30) == 0
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait()


def test_each_worker_sizes_its_model_threads_by_its_share_of_the_cpus(tmp_path: Path) -> None:
    """N workers each sizing their runtimes by every CPU ran N times the threads the CPUs hold
    (a review); a setting given is kept."""
    from stream_guard.models.cpus import cpu_budget
    from stream_guard.server.workers import worker_settings

    settings = dataclasses.replace(make_settings(tmp_path), workers=2)
    assert worker_settings(settings).intra_op_threads == max(1, cpu_budget() // 2)
    assert worker_settings(dataclasses.replace(settings, intra_op_threads=3)).intra_op_threads == 3
    one = dataclasses.replace(settings, workers=1)
    assert worker_settings(one) is one


def test_metrics_report_the_answering_worker_when_the_workers_folder_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """An operator review removed the workers' metrics folder (a tmp cleaner does): every
    scrape was a 500 and a traceback until a restart. The answering worker's own values are
    reported instead, and the loss is said once."""
    gone = tmp_path / "stream-guard-metrics-gone"
    monkeypatch.setenv(MULTIPROC_ENV, str(gone))
    metrics = Metrics()
    metrics.streams_started.inc(3)
    caplog.set_level(logging.ERROR, logger="stream_guard")
    for _ in range(2):
        assert b"stream_guard_streams_started_total 3.0" in metrics.render()
    assert [r.getMessage() for r in caplog.records].count(
        "the workers' metrics folder is gone: /metrics reports the answering worker alone "
        "until a restart") == 1


class _FakeWorker:
    """Enough of a worker process for the supervisor's hang check: killed or not."""

    pid = 4242

    def __init__(self) -> None:
        self.killed_at: float | None = None
        self.now = 0.0

    def kill(self) -> None:
        self.killed_at = self.now

    def join(self, timeout: float | None = None) -> None:
        pass


def _judged_supervisor(tmp_path: Path, hang_s: float
                       ) -> tuple[workers_module.Supervisor, ctypes.c_ulonglong]:
    """A supervisor with one worker's heartbeat (counted once: its loop ran), started at 0."""
    sup = workers_module.Supervisor(make_settings(tmp_path, worker_hang_s=hang_s))
    beat = ctypes.c_ulonglong(0)
    sup._beats[0] = workers_module._Heartbeat(beat, since=0.0)
    beat.value = 1
    return sup, beat


def test_a_hung_worker_is_killed_when_every_supervisor_round_is_late(tmp_path: Path) -> None:
    """A third review: each supervisor round that came over a second late restarted every
    worker's silence, so a supervisor late that much once per worker_hang_s (a starved host,
    steal time) never killed a worker hung meanwhile. A stall restarts a silence once; a
    worker hung through many is killed worker_hang_s after the first."""
    sup, _ = _judged_supervisor(tmp_path, hang_s=3)
    proc = _FakeWorker()
    now = 0.0
    sup._kill_if_hung(0, proc, now)  # type: ignore[arg-type]  # seen beating, then it hangs
    while proc.killed_at is None and now < 60:
        now += 1.3  # a 0.2 s nap, over a second late every time
        proc.now = now
        sup._pardon_silence(now)
        sup._kill_if_hung(0, proc, now)  # type: ignore[arg-type]
    assert proc.killed_at is not None and proc.killed_at <= 3 + 2 * 1.3 + 0.01


def test_a_stall_restarts_the_silence_of_a_worker_that_beats_again(tmp_path: Path) -> None:
    """Stopped with its supervisor (docker pause) and resumed, a worker that beats again has
    its next silence restarted by the next stall as well; one that never beat again has not."""
    sup, beat = _judged_supervisor(tmp_path, hang_s=3)
    proc = _FakeWorker()
    sup._kill_if_hung(0, proc, 0.1)  # type: ignore[arg-type]  # seen beating
    for stall_at in (10.0, 20.0):  # two pauses of the whole group, the worker beating between
        sup._pardon_silence(stall_at)
        sup._kill_if_hung(0, proc, stall_at)  # type: ignore[arg-type]
        beat.value += 1
        sup._kill_if_hung(0, proc, stall_at + 0.5)  # type: ignore[arg-type]
    assert proc.killed_at is None
    sup._pardon_silence(30.0)  # a stall with no beat since the one before: restarts the silence
    sup._pardon_silence(31.0)  # ... once, not again
    proc.now = 33.0
    sup._kill_if_hung(0, proc, 33.0)  # type: ignore[arg-type]
    assert proc.killed_at == 33.0


def test_a_worker_whose_loop_never_starts_is_killed_after_the_start_allowance(
        tmp_path: Path) -> None:
    """A worker stuck before its event loop ran (a deadlocked import, a hung mount) was never
    judged: its heartbeat had not counted once. It is, after four times worker_hang_s."""
    sup = workers_module.Supervisor(make_settings(tmp_path, worker_hang_s=3))
    sup._beats[0] = workers_module._Heartbeat(ctypes.c_ulonglong(0), since=0.0)
    proc = _FakeWorker()
    for now in (1.0, 3.5, 11.9):  # past worker_hang_s, not past the start allowance
        proc.now = now
        sup._kill_if_hung(0, proc, now)  # type: ignore[arg-type]
    assert proc.killed_at is None
    proc.now = 12.0
    sup._kill_if_hung(0, proc, 12.0)  # type: ignore[arg-type]
    assert proc.killed_at == 12.0


async def test_a_worker_stopped_as_it_starts_is_killed_and_replaced(redis: RedisServer) -> None:
    """A real start that never reaches its event loop: a worker stopped (SIGSTOP) the moment
    it appears, long before Python has imported the server. The supervisor kills it after the
    start allowance and the replacement serves."""
    port = free_port()
    sup = _spawn(port, redis, "--workers", "2", STREAM_GUARD_WORKER_HANG_S="3")
    victim = None
    try:
        parent = psutil.Process(sup.pid)
        deadline = time.monotonic() + 30
        while victim is None:  # the first worker, as soon as it runs spawn's entry point
            assert time.monotonic() < deadline, "no worker was started"
            pids = _starting_workers(parent)
            if pids:
                victim = min(pids)
                os.kill(victim, signal.SIGSTOP)
            else:
                await asyncio.sleep(0.005)
        deadline = time.monotonic() + 60
        while victim in _worker_pids(parent) or len(_worker_pids(parent)) < 2:
            assert time.monotonic() < deadline, "the stuck worker was neither killed nor replaced"
            await asyncio.sleep(0.2)
        await wait_ready(port)
        for i in range(8):  # new connections land on either worker, all answered
            await asyncio.wait_for(_stream(port, f"s{i}"), 30)
        sup.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(sup.wait, 30) == 0
    finally:
        if victim is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGCONT)
        if sup.poll() is None:
            sup.kill()
            sup.wait()
