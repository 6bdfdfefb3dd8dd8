"""``serve --workers N``: N server processes on one port, and a supervisor that keeps them alive.

One Python process uses one core, so a machine is used by running several. Each worker binds the
same port with SO_REUSEPORT and the kernel spreads new connections across them; each has its own
event loop, scheduler and model instance. Everything that must agree between workers (tickets,
caps, rate limits, kills) is in Redis, which is why the settings refuse several workers without it.

The supervisor does no serving itself: it restarts a worker that dies (with backoff if one keeps
dying), kills and so restarts one whose event loop hangs (``worker_hang_s``), and forwards
SIGTERM/SIGINT so every worker drains gracefully. A worker that stops on a
settings error (a model that will not load, a port it cannot bind) is not restarted, since a
restart cannot fix it: the supervisor stops every worker and exits with the same status.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import errno
import logging
import multiprocessing as mp
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING

from stream_guard.config import LISTEN_SETTINGS, CannotServeError, Settings, SettingsError
from stream_guard.metrics import MULTIPROC_ENV, worker_died, write_as_worker
from stream_guard.models.cpus import cpu_budget
from stream_guard.state.leases import node_name

if TYPE_CHECKING:
    from stream_guard.server.app import Server

log = logging.getLogger("stream_guard.workers")

RESTART_BACKOFF_MAX_S = 30.0
SETTINGS_ERROR_EXIT = 2  # the status of ``stream-guard`` on a settings error
_ORPHAN_POLL_S = 1.0
_METRICS_PREFIX = "stream-guard-metrics-"  # then the supervisor's pid
# How often a listening worker's event loop counts its heartbeat up (well under the smallest
# worker_hang_s, 2 s, so a loop that merely runs late is never taken for a hung one).
_BEAT_EVERY_S = 0.5
# A worker whose event loop has not beaten once is still starting (Python, the imports, the
# server's set-up; the scorer loads later, while the loop beats): judged only after this many
# times worker_hang_s (2 minutes by default), which no healthy start comes near. Before, it was
# never judged, and a worker stuck starting (a deadlocked import, a hung mount) stayed for good,
# its share of the replica's capacity missing, with no word in the log.
_START_ALLOWANCE = 4
# The supervisor's nap between rounds.
_ROUND_S = 0.2
# A nap that lasted this long: the supervisor did not run meanwhile, and its workers perhaps not
# either (the whole group stopped, Ctrl-Z or `docker pause`), so their silence says nothing of
# their loops.
_SUPERVISOR_STALL_S = 2 * _BEAT_EVERY_S


@dataclasses.dataclass
class _Heartbeat:
    """One worker's heartbeat as the supervisor follows it."""

    value: ctypes.c_ulonglong  # shared memory the worker's event loop counts up
    since: float  # when the count last changed (the supervisor's clock, never a worker's)
    seen: int = 0  # the count last seen
    # A stall restarted this silence already (see Supervisor._pardon_silence).
    pardoned: bool = False


def _stop_when_orphaned(supervisor: int) -> None:
    """SIGTERM this worker (a graceful drain) once its supervisor is gone, even killed with
    SIGKILL: orphaned workers used to keep serving the port beside a new supervisor's, each set
    with its own settings, caps and metrics folder. Polled from a daemon thread (portable; a
    second's delay is nothing beside the drain)."""
    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(_ORPHAN_POLL_S)
        log.error("supervisor gone; draining", extra={"pid": os.getpid()})
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


async def _serve_beating(server: Server, beat: ctypes.c_ulonglong) -> None:
    """Serve, counting ``beat`` up from the event loop itself. The supervisor kills a worker
    whose count stops: a hung loop (a deadlock, a call that never returns) keeps its listening
    socket, and the kernel kept handing it its share of new connections, never answered,
    while /livez, answered by the others, said 200 (a review). Counted from the loop's start,
    while the scorer loads too: that runs in a thread, and the loop goes on meanwhile."""
    async def count() -> None:
        while True:
            beat.value += 1
            await asyncio.sleep(_BEAT_EVERY_S)

    counting = asyncio.create_task(count(), name="heartbeat")
    try:
        await server.serve_forever()
    finally:
        counting.cancel()


def _worker_main(settings: Settings, index: int, node: str, supervisor: int,
                 beat: ctypes.c_ulonglong) -> None:
    from stream_guard import logs
    from stream_guard.loop import run
    from stream_guard.server.app import Server

    write_as_worker(index)
    logs.configure(settings.log_level, worker=index)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor turns Ctrl-C into SIGTERM
    # The supervisor passes SIGHUP on; one that comes before the server handles it (a worker
    # starting loads its evidence afresh anyway) must not end the worker.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})  # born blocked (_start)
    _stop_when_orphaned(supervisor)
    logging.getLogger("stream_guard").info("worker started", extra={"pid": os.getpid()})
    try:
        run(_serve_beating(Server(settings, reuse_port=True, node=node, worker=index,
                                  owns_process=True), beat))
    except SettingsError as exc:
        print(f"stream-guard: {exc.headline}{exc}", file=sys.stderr)
        sys.exit(SETTINGS_ERROR_EXIT)


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on. Workers bind with SO_REUSEPORT, which lets
    any other process of the same user that also asks for it share the port: a second
    ``serve --workers`` (or a dead supervisor's workers) took half the connections without a
    word. A plain bind, as a single server's, is refused while anyone listens there."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise CannotServeError(f"cannot listen on {host}:{port} ({LISTEN_SETTINGS}): "
                               f"{exc.strerror or exc}") from None
    for family, kind, proto, _, address in addresses:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:  # a family this host cannot open (no IPv6): nothing to take there
            continue
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's listen
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise CannotServeError(
                    f"cannot listen on {host}:{port} ({LISTEN_SETTINGS}): "
                    f"{exc.strerror or exc}; is another stream-guard serving it?") from None


def _lock_port(port: int) -> socket.socket | None:
    """Hold ``port`` for this supervisor's life: a Unix socket bound to a name of the abstract
    namespace (Linux) made of the user and the port, which the kernel frees when the process
    dies, no child inherits, and which is scoped, as the port is, to the network namespace.
    Workers open the port only once their scorer is loaded, so for all that time nothing is
    bound there and :func:`_check_port_free` let a second supervisor start beside the first (a
    review). Per port, whatever the host: two supervisors of one user on one port are refused
    even on two addresses (a host name and its address were two names for one). None where
    there is no abstract namespace: the bind check alone, as before."""
    if not sys.platform.startswith("linux"):
        return None
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        holder.bind(f"\0stream-guard-{os.getuid()}-port-{port}")
    except OSError as exc:
        holder.close()
        if exc.errno == errno.EADDRINUSE:
            raise CannotServeError(
                f"cannot listen on port {port} ({LISTEN_SETTINGS}): another stream-guard serve "
                "--workers of this user holds it (its workers may still be loading)") from None
        log.warning("port not locked; only the bind check guards it",
                    extra={"error": str(exc)})
        return None
    return holder


def worker_settings(settings: Settings) -> Settings:
    """The settings each worker runs with: where the model runtimes' threads are the runtime's
    choice (``intra_op_threads`` 0), each worker's share of the CPUs the supervisor may use.
    Each worker sizing its runtimes by all of them ran as many times the threads the CPUs
    hold as there are workers (a review)."""
    if settings.intra_op_threads or settings.workers < 2:
        return settings
    return dataclasses.replace(settings,
                               intra_op_threads=max(1, cpu_budget() // settings.workers))


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings  # a fixed port: load_settings refuses workers on port 0
        self.count = settings.workers
        self._ctx = mp.get_context("spawn")  # no inherited event loop, threads or model state
        self._procs: dict[int, BaseProcess] = {}
        self._failures: dict[int, list[float]] = {}
        self._stopping = False
        self._port_lock: socket.socket | None = None  # held from run() on, for its life
        self._metrics_dir = ""  # made by run() once the port is this supervisor's
        self._beats: dict[int, _Heartbeat] = {}  # each worker's, by index
        # The replica its workers serve as: they share its connection cap (MAX_CONNECTIONS).
        self.node = node_name()

    def _start(self, index: int) -> None:
        beat: ctypes.c_ulonglong = self._ctx.Value("Q", 0, lock=False)  # one writer
        self._beats[index] = _Heartbeat(beat, since=time.monotonic())
        proc = self._ctx.Process(target=_worker_main,
                                 args=(worker_settings(self.settings), index, self.node,
                                       os.getpid(), beat),
                                 name=f"stream-guard-worker-{index}", daemon=False)
        # Born with SIGHUP blocked (the mask stays so across exec): a reload passed on while
        # the child was still starting Python, before _worker_main ignores it, ended the worker
        # (a review). Blocked, not ignored: one sent to the supervisor meanwhile waits here,
        # and is passed on once the start is done.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
        try:
            proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
        self._procs[index] = proc

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT: the workers drain (:meth:`_stop`); one more is passed on at once,
        as SIGINT, and each worker ends its drain (a review: a second signal changed nothing;
        a second review: one within the loop's nap, before the workers were told, was lost).
        SIGINT, not a second SIGTERM, which a worker may take as one with the first; a worker
        that gets it before :meth:`_stop`'s SIGTERM takes the two in that order all the same."""
        if self._stopping:
            log.warning("second stop signal: the workers end their drain now")
            self._signal_workers(signal.SIGINT)
        self._stopping = True

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        """SIGHUP: each worker re-reads its evidence collections (its default action would end
        the supervisor, and with it every worker)."""
        self._signal_workers(signal.SIGHUP)

    def _signal_workers(self, signum: int) -> None:
        for proc in self._procs.values():
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signum)

    def run(self) -> int:
        self._port_lock = _lock_port(self.settings.port)
        _check_port_free(self.settings.host, self.settings.port)
        # Made only now: one made before a refused start was left behind each time (a review).
        # Workers inherit the environment: each writes its metrics here, any of them reports
        # all. The folders of supervisors that died without removing theirs go first.
        _remove_dead_metrics_dirs()
        self._metrics_dir = tempfile.mkdtemp(prefix=f"{_metrics_prefix()}{os.getpid()}-")
        os.environ[MULTIPROC_ENV] = self._metrics_dir
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_reload)
        for i in range(self.count):
            self._start(i)
        log.info("supervisor started", extra={"workers": self.count, "port": self.settings.port})
        pending_restart: dict[int, float] = {}
        status = 0
        while not self._stopping:
            # The nap alone is timed: a round's own work (a hung worker's kill, which waits
            # for it to go) is no stall of the group.
            napped = time.monotonic()
            time.sleep(_ROUND_S)
            now = time.monotonic()
            if now - napped > _SUPERVISOR_STALL_S:
                self._pardon_silence(now)
            for index, proc in list(self._procs.items()):
                if proc.is_alive():
                    self._kill_if_hung(index, proc, now)
                if proc.is_alive() or index in pending_restart:
                    continue
                worker_died(index, self._metrics_dir)
                if proc.exitcode == SETTINGS_ERROR_EXIT:
                    log.error("worker stopped on a settings error; stopping",
                              extra={"worker": index})
                    status = SETTINGS_ERROR_EXIT
                    self._stopping = True
                    break
                recent = [t for t in self._failures.get(index, []) if now - t < 60] + [now]
                self._failures[index] = recent
                delay = min(RESTART_BACKOFF_MAX_S, 0.5 * 2 ** (len(recent) - 1))
                log.error("worker died; restarting",
                          extra={"worker": index, "exitcode": proc.exitcode, "in_s": delay})
                pending_restart[index] = now + delay
            for index, when in list(pending_restart.items()):
                if now >= when and not self._stopping:
                    del pending_restart[index]
                    self._start(index)
        self._stop()
        return status

    def _kill_if_hung(self, index: int, proc: BaseProcess, now: float) -> None:
        """SIGKILL a worker whose heartbeat has not moved for ``worker_hang_s``; the loop then
        restarts it as any worker that died (its restart gives back the slots it held). One
        whose event loop has not started yet (still importing) is judged after
        :data:`_START_ALLOWANCE` times as long."""
        heartbeat = self._beats[index]
        count = heartbeat.value.value
        if count != heartbeat.seen:
            heartbeat.seen, heartbeat.since, heartbeat.pardoned = count, now, False
            return
        allowed = self.settings.worker_hang_s * (1 if count else _START_ALLOWANCE)
        if now - heartbeat.since >= allowed:
            log.error("worker hung (its event loop stopped running); killing it" if count else
                      "worker never started its event loop; killing it",
                      extra={"worker": index, "pid": proc.pid,
                             "silent_s": round(now - heartbeat.since, 1)})
            proc.kill()
            proc.join(5)

    def _pardon_silence(self, now: float) -> None:
        """Judge every worker's heartbeat afresh from ``now``: the supervisor itself did not run
        for a while, so its workers, stopped with it, could not beat either. A group stopped
        past ``worker_hang_s`` (Ctrl-Z then fg, ``docker pause`` then unpause) had its healthy
        workers killed as hung at once when it resumed, their streams with them (a review).

        Once a silence: a worker that has not beaten since the last stall is not pardoned
        again. A healthy one beats within a moment of its resume; a supervisor late by over a
        second once per ``worker_hang_s`` (a starved host, a VM's steal time) restarted a hung
        worker's silence each time, and never killed it (a third review)."""
        for heartbeat in self._beats.values():
            if not heartbeat.pardoned:
                heartbeat.since, heartbeat.pardoned = now, True

    def _stop(self) -> None:
        log.info("stopping workers", extra={"workers": len(self._procs)})
        self._signal_workers(signal.SIGTERM)
        # A worker's own stop takes the grace, then at most close_timeout_s for a client that
        # never answers the close and 5 s for a handshake still open (README): killed only past
        # that, with a margin (a review: killed at grace + 10 s whatever close_timeout_s).
        settings = self.settings
        deadline = (time.monotonic() + settings.shutdown_grace_s + settings.close_timeout_s
                    + 5 + 5)
        for proc in self._procs.values():
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                log.error("worker did not stop in time; killing", extra={"pid": proc.pid})
                proc.kill()
                proc.join()
        if self._metrics_dir:
            shutil.rmtree(self._metrics_dir, ignore_errors=True)


def _metrics_prefix() -> str:
    """The start of this supervisor's metrics folder name, before its pid: with the pid
    namespace, so that a supervisor in another container sharing the temporary directory,
    whose pid means nothing here, is never taken for dead."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:  # no /proc (not Linux): one namespace
        namespace = 0
    return f"{_METRICS_PREFIX}{namespace}-"


def _remove_dead_metrics_dirs() -> None:
    """Remove this user's metrics folders whose supervisor is gone (killed with SIGKILL: it
    could not remove its own, a review found dozens). A folder's name carries its
    supervisor's pid namespace and pid; one of another namespace, of a pid alive (or of
    another user) is left alone, and so is one another supervisor removes meanwhile."""
    prefix = _metrics_prefix()
    for entry in os.scandir(tempfile.gettempdir()):
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if not entry.name.startswith(prefix) or not pid.isdigit():
            continue
        try:
            if (not entry.is_dir(follow_symlinks=False)
                    or entry.stat(follow_symlinks=False).st_uid != os.getuid()):
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except (OSError, OverflowError):  # alive and another user's (EPERM), gone already,
            continue  # or no pid at all


def run_workers(settings: Settings) -> int:
    return Supervisor(settings).run()
