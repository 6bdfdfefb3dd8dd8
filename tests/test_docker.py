"""The CPU image built and run for real, with a real Docker engine.

``docker/build-local.sh`` builds ``docker/Dockerfile`` as an air-gapped site would (a Debian base
made by mmdebstrap, an offline wheelhouse, ``docker build --network none``). The containers run
on the host network and bind loopback, and the tests talk to them as a client and an orchestrator
would: readiness, a stream halted through an API key, ``/metrics``, the image's own HEALTHCHECK,
PID 1 and its user, SIGTERM draining open streams, and two replicas sharing one Redis.

Needs a Docker engine. Where none answers, the tests start one with ``docker/engine.sh`` and are
skipped, with its reason, only when that fails. ``.ci/run`` starts the engine itself and sets
``STREAM_GUARD_TEST_DOCKER=required``, which turns that skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.image_build import ROOT, TAG, take
from tests.redis_server import RedisServer, free_port
from tests.wsclient import (
    API_KEY,
    http,
    metric_samples,
    open_ws,
    recv,
    schema_errors,
    send,
    stream_text,
    until_closed,
)

pytestmark = pytest.mark.docker

UID = "10001"
# The grace the compose file and an orchestrator give a container (stop_grace_period: 20s): the
# server's own drain (STREAM_GUARD_SHUTDOWN_GRACE_S, 10 s in the image) must end well inside it.
STOP_TIMEOUT_S = 20
# A bound that catches a heavy dependency sneaking in (a CUDA torch alone is gigabytes).
MAX_IMAGE_BYTES = 1_000_000_000

CONTEXT = ["The Eiffel Tower is 330 metres tall. It was completed in 1889 in Paris, France."]
GOOD = "The Eiffel Tower was completed in 1889. It is 330 metres tall. "
FALSE = "The Eiffel Tower was completed in 1889. It is 450 metres tall and made of gold. "


def _unavailable(reason: str) -> None:
    if os.environ.get("STREAM_GUARD_TEST_DOCKER") == "required":
        pytest.fail(f"{reason} (STREAM_GUARD_TEST_DOCKER=required: CI started an engine)")
    pytest.skip(f"no Docker engine: {reason}")


def _docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: exit {proc.returncode}\n"
                             f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout.strip()


async def _adocker(*args: str, timeout: float = 120, check: bool = True) -> str:
    """``docker ...`` off the event loop: the WebSocket clients keep reading meanwhile."""
    return await asyncio.to_thread(_docker, *args, timeout=timeout, check=check)


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    """A Docker engine that answers, started by ``docker/engine.sh`` if none does yet (and then
    stopped after the session: an engine that was already there is left alone)."""
    if shutil.which("docker") is None:
        _unavailable("no docker CLI on PATH (Debian: apt-get install docker.io)")
    script = str(ROOT / "docker" / "engine.sh")
    proc = subprocess.run(["bash", script, "start"], capture_output=True, text=True,
                          timeout=120, check=False)
    if proc.returncode != 0:
        _unavailable(proc.stderr.strip() or f"docker/engine.sh exited {proc.returncode}")
    yield
    if " started " in proc.stderr:
        subprocess.run(["bash", script, "stop"], timeout=120, check=False)


@dataclass(frozen=True)
class Image:
    tag: str
    id: str
    size: int


@pytest.fixture(scope="session")
def image(engine: None, request: pytest.FixtureRequest) -> Image:
    """The CPU image, built once per session from the working tree, offline (begun when
    collection ended where an engine answered then: tests/image_build.py)."""
    started = time.monotonic()
    code, out, err = take(request.config).wait(timeout=1800)
    assert code == 0, f"build-local.sh failed:\n{out}{err}"
    tag, image_id, size, *_ = out.strip().splitlines()[-1].split()
    assert tag == TAG
    print(f"waited {time.monotonic() - started:.0f} s for {TAG}")  # shown with -s or on failure
    return Image(tag, image_id, int(size))


class Container:
    """One ``docker run -d`` of the image on the host network, removed (with its volume) after."""

    def __init__(self, image: Image, **env: str) -> None:
        self.name = f"sg-test-{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.env = {"STREAM_GUARD_API_KEYS": f"{API_KEY}:tenant-a",
                    # host network: bind loopback only, like the rest of the suite
                    "STREAM_GUARD_HOST": "127.0.0.1", "STREAM_GUARD_PORT": str(self.port),
                    **env}
        flags = [arg for k, v in self.env.items() for arg in ("--env", f"{k}={v}")]
        # No --init and no --user: PID 1 and the user are the image's own, as deployed.
        _docker("run", "--detach", "--name", self.name, "--network", "host", *flags, image.tag)

    def inspect(self, template: str) -> str:
        return _docker("inspect", "--format", template, self.name)

    def logs(self) -> str:
        proc = subprocess.run(["docker", "logs", self.name], capture_output=True, text=True,
                              timeout=30, check=False)
        return proc.stdout[-4000:] + proc.stderr[-4000:]

    def remove(self) -> None:
        _docker("rm", "--force", "--volumes", self.name, check=False)

    async def wait_ready(self, timeout: float = 180.0) -> float:
        """Seconds until ``/readyz`` answers 200; fails with the logs if the container exits."""
        started = time.monotonic()
        while True:
            try:
                if (await http(self.port, "GET", "/readyz")).status == 200:
                    return time.monotonic() - started
            except OSError:
                pass  # not listening yet
            if await asyncio.to_thread(self.inspect, "{{.State.Running}}") != "true":
                pytest.fail(f"{self.name} exited before it was ready:\n{self.logs()}")
            if time.monotonic() - started > timeout:
                pytest.fail(f"{self.name} not ready after {timeout:.0f} s:\n{self.logs()}")
            await asyncio.sleep(0.5)

    async def stop(self) -> float:
        """``docker stop``: SIGTERM (the image's STOPSIGNAL), SIGKILL only after the timeout."""
        started = time.monotonic()
        await _adocker("stop", "--time", str(STOP_TIMEOUT_S), self.name,
                       timeout=STOP_TIMEOUT_S + 30)
        return time.monotonic() - started


@contextmanager
def containers(image: Image, n: int = 1, **env: str) -> Iterator[list[Container]]:
    started: list[Container] = []
    try:
        for _ in range(n):
            started.append(Container(image, **env))
        yield started
    finally:
        for container in started:
            container.remove()


def test_image_is_offline_built_non_root_with_a_healthcheck(image: Image,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    with capsys.disabled():
        print(f"\n{image.tag} ({image.id[:19]}): {image.size} bytes "
              f"({image.size / 1e6:.0f} MB), built offline by docker/build-local.sh")
    assert image.size < MAX_IMAGE_BYTES
    config = _docker("image", "inspect", "--format",
                     "{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|"
                     "{{.Config.StopSignal}}|{{json .Config.Healthcheck.Test}}", image.tag)
    user, entrypoint, cmd, stop_signal, healthcheck = config.split("|")
    assert user == UID  # numeric: Kubernetes' runAsNonRoot can check it
    # exec form, so stream-guard itself is PID 1 and receives SIGTERM (checked live below)
    assert entrypoint == '["stream-guard"]' and cmd == '["serve"]'
    assert stop_signal == "SIGTERM"
    assert healthcheck == '["CMD","stream-guard","health"]'  # /livez where the settings say
    # The light CPU install: no torch, the packaged MiniLM and the shipped detector are there.
    probe = ("import importlib.util as u, stream_guard, pathlib; "
             "assert u.find_spec('torch') is None and u.find_spec('sentence_transformers') is None;"
             "assert u.find_spec('all_minilm_l6_v2') is not None;"
             "assert (pathlib.Path(stream_guard.__file__).parent / 'models' / 'detector').is_dir()")
    _docker("run", "--rm", "--network", "none", "--entrypoint", "python", image.tag, "-c", probe)


async def test_container_halts_a_stream_reports_metrics_and_drains_on_sigterm(
        image: Image) -> None:
    # The image's default scoring (the cascade with the shipped detector), not the lexical tier.
    with containers(image) as (c,):
        ready_s = await c.wait_ready()
        print(f"{c.name} ready in {ready_s:.1f} s")

        # PID 1 is the server itself, as the non-root user.
        pid1 = (await _adocker("exec", c.name, "cat", "/proc/1/cmdline")).split("\0")
        assert any(arg.endswith("stream-guard") for arg in pid1) and "serve" in pid1, pid1
        status = await _adocker("exec", c.name, "cat", "/proc/1/status")
        (uids,) = [line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")]
        assert uids == [UID] * 4, uids
        assert await _adocker("exec", c.name, "id", "-u") == UID

        # A stream opened with an API key halts at the false claim.
        async with open_ws(c.port) as ws:
            frames = await stream_text(ws, "q1", FALSE, context=CONTEXT)
        assert all(not schema_errors(f) for f in frames), frames
        halts = [f for f in frames if f["type"] == "halt"]
        assert len(halts) == 1 and halts[0]["at"] == FALSE.index("It is 450"), frames
        assert frames[-1]["type"] == "done" and frames[-1]["halted"] is True
        async with open_ws(c.port) as ws:
            frames = await stream_text(ws, "q2", GOOD, context=CONTEXT)
        assert frames[-1] == {**frames[-1], "type": "done", "halted": False}, frames

        # /metrics counts them.
        metrics = await http(c.port, "GET", "/metrics")
        assert metrics.status == 200
        samples = metric_samples(metrics.body.decode())
        assert samples["stream_guard_streams_started_total"] == 2
        assert samples["stream_guard_ready"] == 1
        halted = {k: v for k, v in samples.items()
                  if k.startswith("stream_guard_streams_halted_total{")}
        assert sum(halted.values()) == 1, halted

        # The image's HEALTHCHECK (every 10 s) turns the container healthy.
        deadline = time.monotonic() + 60
        while (health := await asyncio.to_thread(c.inspect, "{{.State.Health.Status}}")
               ) != "healthy":
            assert health == "starting" and time.monotonic() < deadline, (health, c.logs())
            await asyncio.sleep(1)

        # SIGTERM (docker stop) with two streams open. The one that ends during the drain is
        # answered as usual; the one left open gets `done` with exactly the text taken when the
        # grace runs out; both sockets close 1001; the container exits 0 before the timeout.
        head, tail = GOOD[:44], GOOD[44:]
        async with open_ws(c.port) as a, open_ws(c.port) as b:
            for ws, sid in ((a, "open-a"), (b, "open-b")):
                await send(ws, {"type": "start", "stream_id": sid, "context": CONTEXT})
                assert (await recv(ws))["type"] == "started"
                await send(ws, {"type": "delta", "stream_id": sid, "seq": 0, "text": head})
            stop = asyncio.create_task(c.stop())
            await _until_draining(c.port)
            await send(b, {"type": "delta", "stream_id": "open-b", "seq": 1, "text": tail})
            await send(b, {"type": "end", "stream_id": "open-b"})
            (frames_a, code_a, _), (frames_b, code_b, _) = await asyncio.gather(
                until_closed(a, timeout=STOP_TIMEOUT_S), until_closed(b, timeout=STOP_TIMEOUT_S))
            stopped_in = await stop
        done_a = [f for f in frames_a if f["type"] == "done"]
        assert [d["chars"] for d in done_a] == [len(head)] and code_a == 1001, (frames_a, code_a)
        done_b = [f for f in frames_b if f["type"] == "done"]
        assert [(d["chars"], d["halted"]) for d in done_b] == [(len(GOOD), False)], frames_b
        assert code_b == 1001, code_b
        state = c.inspect("{{.State.ExitCode}} {{.State.OOMKilled}}")
        assert state == "0 false", (state, c.logs())
        assert stopped_in < STOP_TIMEOUT_S, stopped_in  # drained, not SIGKILLed at the timeout
        logs = c.logs()
        assert '"event":"draining"' in logs and '"event":"stopped"' in logs, logs


async def _until_draining(port: int, timeout: float = 10.0) -> None:
    """Until SIGTERM has reached PID 1 and the drain has begun: ``/readyz`` answers 503 (the
    listener stays open through the drain), or the port no longer answers once the drain is
    over. Through Docker's port proxy a closed listener shows as a connection accepted and then
    reset, not refused."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                if (await http(port, "GET", "/readyz")).status == 503:
                    return
            except ConnectionError:  # refused, or reset by the proxy
                return
            await asyncio.sleep(0.05)


@pytest.mark.redis
async def test_two_replicas_share_one_redis(image: Image, redis: RedisServer) -> None:
    # The host's redis-server on loopback, reached through the host network.
    with containers(image, 2, STREAM_GUARD_REDIS_URL=redis.url) as (a, b):
        await asyncio.gather(a.wait_ready(), b.wait_ready())
        auth = {"Authorization": f"Bearer {API_KEY}"}
        minted = await http(a.port, "POST", "/v1/tickets", auth)
        assert minted.status == 200, minted.body
        ticket = minted.json()["ticket"]
        # minted through replica a, redeemed through replica b
        async with open_ws(b.port, key=None, query=f"ticket={ticket}") as ws:
            frames = await stream_text(ws, "t1", GOOD, context=CONTEXT)
        assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False, frames
        # single use, on every replica
        replay = await http(a.port, "GET", f"/v1/stream?ticket={ticket}", {
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert replay.status == 401
        for c in (a, b):
            samples = metric_samples((await http(c.port, "GET", "/metrics")).body.decode())
            assert samples["stream_guard_state_store_up"] == 1
        await asyncio.gather(a.stop(), b.stop())
        assert [c.inspect("{{.State.ExitCode}}") for c in (a, b)] == ["0", "0"]
