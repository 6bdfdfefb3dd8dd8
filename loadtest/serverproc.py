"""The server under test as a child process, and CPU/RSS sampling of it and of the generator.

Spawning lets one command own the whole experiment (settings, port, readiness, shutdown), so a
result JSON always says exactly which server configuration produced it. Limits that would
otherwise cap the load itself (connections per IP, messages per second per connection) are
raised to fit the planned load: the benchmark measures scoring capacity, not the abuse guards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from loadtest.wire import free_port, http_request


@dataclass
class SpawnedServer:
    """``python -m stream_guard serve`` on a free loopback port."""

    env: dict[str, str]
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    redis: asyncio.subprocess.Process | None = None
    _redis_dir: str | None = None

    async def start(self, ready_timeout: float) -> None:
        env = {**os.environ, **self.env, "STREAM_GUARD_HOST": "127.0.0.1"}
        if self.workers > 1 and not env.get("STREAM_GUARD_REDIS_URL"):
            env["STREAM_GUARD_REDIS_URL"] = await self._start_redis()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "stream_guard", "serve", "--port", str(self.port),
            "--workers", str(self.workers), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=None)
        await self._wait_ready(ready_timeout)

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            with contextlib.suppress(OSError, asyncio.TimeoutError, IndexError, ValueError):
                status, _ = await http_request("127.0.0.1", self.port, "GET", "/readyz",
                                               timeout=1.0)
                if status == 200:
                    return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the server was not ready within {timeout:.0f} s")

    async def _start_redis(self) -> str:
        """A throwaway redis-server for ``--workers`` > 1 when no URL is given."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("--workers > 1 needs STREAM_GUARD_REDIS_URL or redis-server")
        port = free_port()
        self._redis_dir = tempfile.mkdtemp(prefix="loadtest-redis-")
        self.redis = await asyncio.create_subprocess_exec(
            binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--dir", self._redis_dir,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return f"redis://127.0.0.1:{port}/0"
            await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    async def stop(self, timeout: float = 20.0) -> int | None:
        code = await _terminate(self.process, timeout)
        await _terminate(self.redis, 5.0)
        if self._redis_dir:
            shutil.rmtree(self._redis_dir, ignore_errors=True)
        return code


async def _terminate(process: asyncio.subprocess.Process | None, timeout: float) -> int | None:
    if process is None or process.returncode is not None:
        return None if process is None else process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        process.kill()
        return await process.wait()


class ResourceSampler:
    """CPU % (of one core) and RSS of a process tree, sampled at a fixed interval.

    Children are looked up at every sample so worker processes started after the parent are
    counted; the sum is what the machine actually spends on the server.
    """

    def __init__(self, pid: int, *, include_children: bool = True) -> None:
        self.root = psutil.Process(pid)
        self.include_children = include_children
        self._procs: dict[int, psutil.Process] = {}
        self._cpu_start = 0.0
        self._t_start = 0.0
        self.samples: list[tuple[float, float, float]] = []  # (monotonic t, cpu %, rss MB)

    def _tree(self) -> list[psutil.Process]:
        procs = [self.root]
        if self.include_children:
            with contextlib.suppress(psutil.Error):
                procs += self.root.children(recursive=True)
        return procs

    def _cpu_seconds(self) -> float:
        total = 0.0
        for proc in self._tree():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def start(self) -> None:
        self._cpu_start = self._cpu_seconds()
        self._t_start = time.monotonic()
        self._last = (self._t_start, self._cpu_start)

    def sample(self) -> None:
        now, cpu = time.monotonic(), self._cpu_seconds()
        rss = 0
        for proc in self._tree():
            with contextlib.suppress(psutil.Error):
                rss += proc.memory_info().rss
        last_t, last_cpu = self._last
        pct = 100.0 * (cpu - last_cpu) / max(now - last_t, 1e-9)
        self._last = (now, cpu)
        self.samples.append((now, pct, rss / 2**20))

    def summary(self) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self._t_start, 1e-9)
        cpu_s = self._cpu_seconds() - self._cpu_start
        pcts = [p for _, p, _ in self.samples]
        rss = [r for _, _, r in self.samples]
        return {"cpu_seconds": round(cpu_s, 3),
                "cpu_mean_pct": round(100.0 * cpu_s / elapsed, 1),
                "cpu_max_pct": round(max(pcts), 1) if pcts else None,
                "rss_max_mb": round(max(rss), 1) if rss else None,
                "rss_last_mb": round(rss[-1], 1) if rss else None,
                "processes": len(self._tree())}


def sample_all(samplers: list[ResourceSampler]) -> None:
    for sampler in samplers:
        sampler.sample()


async def sample_forever(samplers: list[ResourceSampler], interval: float) -> None:
    """Sample every ``interval`` seconds, reading /proc off the event loop."""
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(sample_all, samplers)


class MachineCpu:
    """Whole-machine CPU between ``start`` and ``summary``, in % of one core like the others.

    On a shared machine the difference between this and server + generator is what other jobs
    took while the numbers were measured; a result without it could not be judged. Time the
    hypervisor gave other machines (steal) is no job's here: it is reported on its own.
    """

    def start(self) -> None:
        self._t = time.monotonic()
        self._busy, self._steal = _busy_and_steal_seconds()
        self._load_start = os.getloadavg()

    def summary(self) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self._t, 1e-9)
        busy, steal = _busy_and_steal_seconds()
        return {"cpu_mean_pct": round(100.0 * (busy - self._busy) / elapsed, 1),
                "steal_mean_pct": round(100.0 * (steal - self._steal) / elapsed, 1),
                "cores": psutil.cpu_count(),
                "loadavg_1m_start": round(self._load_start[0], 2),
                "loadavg_1m_end": round(os.getloadavg()[0], 2)}


def _busy_and_steal_seconds() -> tuple[float, float]:
    """CPU seconds the machine's own processes ran, and seconds stolen by the hypervisor (a
    review: steal was counted as other jobs' CPU; guest time is already in user time)."""
    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    steal = getattr(t, "steal", 0.0)
    guest = getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)
    return float(sum(t) - idle - steal - guest), float(steal)
