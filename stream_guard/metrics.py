"""Prometheus metrics, all named ``stream_guard_*`` in base units.

No label ever carries a stream, connection or tenant id: cardinality stays fixed however many
streams pass through. Each server owns its own registry so several can run in one process (tests).

With ``--workers N`` the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` before starting the workers:
each worker then writes its values to files there and whichever worker answers ``/metrics``
reports the sum over all of them, so a scrape never sees one random worker's share. The files are
named by worker slot, not process id (:func:`write_as_worker`): a worker restarted in a slot
carries on its predecessor's counters, so totals never go down and the folder holds one set of
files a slot however often workers die (by process id, every restart left files that each scrape
read on the event loop: 436 ms a scrape after a thousand restarts).
"""

from __future__ import annotations

import logging
import os
from typing import get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from stream_guard.protocol.errors import ErrorCode
from stream_guard.protocol.server_frames import HaltReason, Label

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger("stream_guard.metrics")


def _slot_name(index: int) -> str:
    return f"worker{index}"  # no "_": the collector splits file names on it


def write_as_worker(index: int) -> None:
    """In a worker process, before any metric is created: write to worker slot ``index``'s
    files in the supervisor's folder (a restarted worker reads its predecessor's values from
    them and counts on)."""
    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
        process_identifier=lambda: _slot_name(index))


def worker_died(index: int, directory: str) -> None:
    """In the supervisor: worker slot ``index``'s process is gone, so its live gauges (open
    connections, readiness) no longer count; its counters stay for its successor."""
    multiprocess.mark_process_dead(_slot_name(index), directory)  # type: ignore[no-untyped-call]

# The values each labelled counter takes, where no enum of the protocol defines them: bounded,
# and documented (docs/deployment.md lists the rejections' reasons and the state operations;
# tests/test_metrics.py checks these sets against it and the source). Every one is made at 0
# with the metrics (Metrics.__init__), so a counter's first event is an increase an alert sees:
# a series born at 1 has no increase() or rate() (a review: the first rejection of a process's
# life was missed).
REJECTION_REASONS = (
    "unauthorized", "bad_key", "bad_ticket", "origin", "handshake_rate", "penalty", "capacity",
    "ip_capacity", "heads_in_progress", "overloaded", "not_ready", "state_unavailable",
    "state_recovering", "draining", "rate_limited", "rate_abuse", "budget", "invalid_utf8",
    "frame_too_large", "not_reading", "frame_flood", "idle", "lifetime")
# The closes for abuse an address is held back for (Server.penalize): a flood of messages, and
# the transport's refusals (protocol/errors.py, layer_refusal).
PENALTY_REASONS = ("rate_abuse", "invalid_utf8", "frame_too_large", "not_reading", "frame_flood")
STATE_OPERATIONS = ("acquire_slot", "slots_recovering", "renew_slots", "release_slot",
                    "put_ticket", "redeem_ticket", "handshake_bucket")
TIERS = ("lexical", "model")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5,
                   1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._folder_lost = False  # the workers' folder was found gone (render)
        r = self.registry
        self.connections_active = Gauge(
            "stream_guard_connections_active", "Open WebSocket connections.", registry=r,
            multiprocess_mode="livesum")
        self.rejections = Counter(
            "stream_guard_rejections_total", "Refused connections, frames and handshakes.",
            ["reason"], registry=r)
        self.streams_started = Counter(
            "stream_guard_streams_started_total", "Streams started.", registry=r)
        self.streams_halted = Counter(
            "stream_guard_streams_halted_total", "Streams halted.", ["reason"], registry=r)
        self.streams_open = Gauge(
            "stream_guard_streams_open",
            "Streams open (started, not done) on this server's connections; a stream of a "
            "connection that dropped counts until the connection is gone.", registry=r,
            multiprocess_mode="livesum")
        self.streams_done = Counter(
            "stream_guard_streams_done_total", "Streams finished with a done frame.", registry=r)
        self.windows = Counter(
            "stream_guard_windows_total", "Scored windows by verdict label.", ["label"],
            registry=r)
        self.tier_decisions = Counter(
            "stream_guard_tier_decisions_total",
            "Windows settled by each scoring tier (lexical: on the lexical tier, degraded, or "
            "one whose verdict no score of the detector could change).",
            ["tier"], registry=r)
        self.halt_latency = Histogram(
            "stream_guard_halt_latency_seconds",
            "Arrival of the delta that completed the offending window to the halt frame written.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.verdict_latency = Histogram(
            "stream_guard_verdict_latency_seconds",
            "Arrival of the delta that completed a window to its verdict being applied.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram(
            "stream_guard_scorer_batch_size", "Windows per scorer micro-batch.",
            buckets=BATCH_BUCKETS, registry=r)
        self.scorer_latency = Histogram(
            "stream_guard_scorer_latency_seconds", "Wall time of one scorer micro-batch.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge(
            "stream_guard_scorer_queue_depth", "Windows waiting for a scorer batch.", registry=r,
            multiprocess_mode="livesum")
        self.queue_wait = Histogram(
            "stream_guard_scorer_queue_wait_seconds",
            "Longest wait in the scorer queue among the windows of one scorer turn.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.degraded_windows = Counter(
            "stream_guard_degraded_windows_total",
            "Windows scored by the lexical tier alone because the model could not meet their "
            "deadline.", registry=r)
        self.deadline_misses = Counter(
            "stream_guard_deadline_misses_total",
            "Windows whose verdict came after their deadline even so.", registry=r)
        self.context_readings = Counter(
            "stream_guard_context_readings_total",
            "Streams' inline contexts by whether their reading was kept from an earlier "
            "stream's (kept) or read at set-up (read).", ["result"], registry=r)
        self.chars_received = Counter(
            "stream_guard_received_chars_total", "Characters of delta text accepted.", registry=r)
        self.frames_received = Counter(
            "stream_guard_frames_received_total", "Client frames by type.", ["type"], registry=r)
        self.errors_sent = Counter(
            "stream_guard_errors_total", "Error frames sent, by code.", ["code"], registry=r)
        self.state_failures = Counter(
            "stream_guard_state_failures_total",
            "Shared-state operations that failed (Redis unreachable), by operation.",
            ["operation"], registry=r)
        self._readiness: dict[str, Gauge] = {}  # see ready and state_up
        self.penalties = Counter(
            "stream_guard_abuse_penalties_total",
            "Addresses held back after a connection was closed for abuse, by reason.",
            ["reason"], registry=r)
        for counter, values in ((self.rejections, REJECTION_REASONS),
                                (self.errors_sent, [code.value for code in ErrorCode]),
                                (self.state_failures, STATE_OPERATIONS),
                                (self.streams_halted, get_args(HaltReason)),
                                (self.windows, get_args(Label)),
                                (self.tier_decisions, TIERS),
                                (self.context_readings, ("kept", "read")),
                                (self.penalties, PENALTY_REASONS)):
            for value in values:
                counter.labels(value)  # a series at 0 from the start (REJECTION_REASONS)

    @property
    def ready(self) -> Gauge:
        """``stream_guard_ready``; see :meth:`_readiness_gauge`."""
        return self._readiness_gauge("stream_guard_ready", "1 when /readyz answers 200.")

    @property
    def state_up(self) -> Gauge:
        """``stream_guard_state_store_up`` (apart from readiness: in open fail mode a replica
        stays ready without its store); see :meth:`_readiness_gauge`."""
        return self._readiness_gauge(
            "stream_guard_state_store_up",
            "1 when the shared state store answered the last readiness check.")

    def _readiness_gauge(self, name: str, documentation: str) -> Gauge:
        """A gauge of readiness, made at its first use: a worker sets it once it knows (the
        store once probed, readiness once it listens), so a replica's is the lowest of those
        its workers have set. Made with the rest, a worker still loading its scorer read 0 for
        the whole replica, a false "Redis down" at every restart (a review)."""
        gauge = self._readiness.get(name)
        if gauge is None:
            gauge = self._readiness[name] = Gauge(name, documentation, registry=self.registry,
                                                  multiprocess_mode="livemin")
        return gauge

    def render(self) -> bytes:
        """The exposition: with workers, the sum over all of them; when their folder is gone
        (a tmp cleaner, an ``rm -rf /tmp/*``: every scrape was a 500 and a traceback until a
        restart, a review), this worker's own values, said once in the log."""
        directory = os.environ.get(MULTIPROC_ENV)
        if directory and not self._folder_lost:  # (lost: not looked for again each scrape)
            try:
                merged = CollectorRegistry()
                multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
                return generate_latest(merged)
            except (OSError, ValueError):  # the folder, or a file of it, removed
                if not self._folder_lost:
                    self._folder_lost = True
                    log.error("the workers' metrics folder is gone: /metrics reports the "
                              "answering worker alone until a restart",
                              extra={"folder": directory}, exc_info=True)
        return generate_latest(self.registry)
