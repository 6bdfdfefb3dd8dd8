"""The one settings object.

Every tunable of stream-guard lives in :class:`Settings`. Values come, in rising precedence, from
the defaults below, an optional TOML file (flat keys named like the fields) and ``STREAM_GUARD_*``
environment variables. Anything invalid fails at start with a message that names the setting, so a
typo in a deployment never turns into a silently-ignored limit.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stream_guard.exceptions import GuardError
from stream_guard.guard.tickets import MAX_TENANT_BYTES
from stream_guard.oversight.policy import CLEAR_MARGIN, CONTRADICTION_THRESHOLD, HALT_CONSECUTIVE

ENV_PREFIX = "STREAM_GUARD_"
# The variables Kubernetes adds for a Service named like "stream-guard..." (FOO_SERVICE_HOST,
# FOO_SERVICE_PORT_HTTP, FOO_PORT_80_TCP_ADDR): an unknown setting worth naming as such.
_SERVICE_LINK = re.compile(r"_SERVICE_(?:HOST|PORT)|_PORT_\d+_(?:TCP|UDP|SCTP)")
_SERVICE_ADDRESS = re.compile(r"(?:tcp|udp|sctp)://")  # FOO_PORT=tcp://10.0.0.1:80
# A tenant's or a collection's name (a folder under data_dir, so no "/", "..", or newline):
# matched whole (fullmatch).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
# Read by the clients and tools (eval, load tests), not by the server: never "unknown settings".
CLIENT_VARIABLES = frozenset({"api_key", "url", "ticket_url"})
# The clients' one key (the eval CLI's --api-key default); the server's are STREAM_GUARD_API_KEYS.
CLIENT_API_KEY_VARIABLE = f"{ENV_PREFIX}API_KEY"
# Where the address to listen on is set, for a message that cannot tell which of them set it (a
# review: "(STREAM_GUARD_HOST, STREAM_GUARD_PORT)" for a port given as serve --port).
LISTEN_SETTINGS = "--host/--port, STREAM_GUARD_HOST/STREAM_GUARD_PORT or the config file"


class SettingsError(GuardError, ValueError):
    """A setting has an invalid value; the message names it."""

    headline = "invalid settings: "  # what the command line says before the message


class CannotServeError(SettingsError):
    """The server cannot listen where its settings say: the port is taken, or the host is no
    address of this machine. A settings error to its callers (the settings are what to
    change), but told as what it is, not as a value that is invalid (a new-user walk: a taken
    port read "invalid settings")."""

    headline = ""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "stream-guard"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stream-guard"


# Upper bounds for settings that have no natural one, by kind. A value past them is a typo or
# meant "never", and "never" breaks something: Redis expiries are whole milliseconds (a lease of
# 1e300 s is no expiry Redis takes, so every slot command fails), threads wait at most
# threading.TIMEOUT_MAX, Retry-After is an integer, and a drain must end. Non-finite numbers
# (nan, inf, 1e400) are refused for every setting.
DAY_S = 86_400.0  # waits, penalties, leases, polls
WEEK_S = 7 * DAY_S  # a connection's idle time and lifetime
RATE_MAX = 1e9  # per second: no limit in practice (what `stream-guard eval` runs with)
# websockets itself closes 1009 on a message past 4 x max_frame_bytes (server/app.py,
# _HARD_SIZE_FACTOR), unread; this keeps that hard limit at 64 MiB.
FRAME_BYTES_MAX = 16 * 2**20


def _meta(help: str, *, secret: bool = False, minimum: float | None = None,
          maximum: float | None = None, maximum_note: str = "",
          choices: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"help": help, "secret": secret, "minimum": minimum, "maximum": maximum,
            "maximum_note": maximum_note, "choices": choices}


def _day(help: str, *, minimum: float) -> dict[str, Any]:
    """A duration in seconds capped at one day."""
    return _meta(f"{help} At most 1 day (86400).", minimum=minimum, maximum=DAY_S,
                 maximum_note="1 day")


def _week(help: str, *, minimum: float) -> dict[str, Any]:
    """A connection's duration in seconds, capped at seven days."""
    return _meta(f"{help} At most 7 days (604800).", minimum=minimum, maximum=WEEK_S,
                 maximum_note="7 days")


@dataclass(frozen=True)
class Settings:
    # --- listening ------------------------------------------------------------------------
    host: str = field(default="127.0.0.1", metadata=_meta("Interface to bind."))
    port: int = field(default=8765, metadata=_meta("TCP port (0 picks a free one).",
                                                   minimum=0, maximum=65535))
    workers: int = field(default=1, metadata=_meta(
        "Worker processes sharing the port (SO_REUSEPORT); >1 needs redis_url.", minimum=1,
        maximum=256))
    worker_hang_s: float = field(default=30.0, metadata=_day(
        "With workers > 1: a worker whose event loop has not run for this long is killed and "
        "restarted (hung, it still took its share of new connections and answered none); "
        "one whose loop never started, after four times as long.",
        minimum=2))

    # --- auth -----------------------------------------------------------------------------
    api_keys: dict[str, str] = field(default_factory=dict, metadata=_meta(
        'API keys (16 characters or more) and their tenants, "key1:tenant1,key2:tenant2"; a '
        f"tenant name is at most {MAX_TENANT_BYTES} bytes (UTF-8), and one that owns evidence "
        "collections is named like one (letters, digits, '.', '_', '-').",
        secret=True))
    auth_disabled: bool = field(default=False, metadata=_meta(
        "Development only: accept connections without credentials (logs a warning)."))
    allowed_origins: tuple[str, ...] = field(default=(), metadata=_meta(
        'Browser Origins allowed to open a stream, comma separated, each as browsers send it, '
        'scheme://host[:port] ("https://app.example.com"); "*" allows any. Requests without an '
        "Origin header (backends) are not affected."))
    trusted_proxies: tuple[str, ...] = field(default=(), metadata=_meta(
        "Proxy addresses or CIDRs whose X-Forwarded-For is believed."))
    ticket_ttl_s: float = field(default=30.0, metadata=_meta(
        "Lifetime of a browser ticket.", minimum=1, maximum=3600))

    # --- limits ---------------------------------------------------------------------------
    max_connections: int = field(default=256, metadata=_meta(
        "Open connections per server (per node with Redis).", minimum=1))
    max_connections_per_ip: int = field(default=16, metadata=_meta(
        "Open connections per client IP (an IPv6 client's /64).", minimum=1))
    # A connection's 8 streams (max_streams_per_connection) at 125 tokens a second each, one
    # delta a token: the limit is for floods, not for an LLM's own pace (200 cut off 8 streams
    # of 30 tokens a second, one delta each, a few seconds in).
    rate_per_s: float = field(default=1000.0, metadata=_meta(
        "Messages per second per connection (token bucket refill); at most 1e9 (no limit in "
        "practice).", minimum=0.1, maximum=RATE_MAX))
    rate_burst: int = field(default=2000, metadata=_meta(
        "Token bucket size for messages per connection.", minimum=1))
    rate_strikes: int = field(default=100, metadata=_meta(
        "The rate-limited message that closes a connection 1008: the first rate_strikes - 1 "
        "are answered with error rate_limited, this one closes it.", minimum=1))
    max_frame_bytes: int = field(default=65536, metadata=_meta(
        "Largest accepted WebSocket message; at most 16 MiB (16777216): websockets closes 1009 "
        "on a message over 4 times this, unread.", minimum=256, maximum=FRAME_BYTES_MAX,
        maximum_note="16 MiB"))
    max_chars_per_connection: int = field(default=5_000_000, metadata=_meta(
        "Characters of delta text a connection may send; then it drains (no new streams, "
        "those on it may send as many again to finish) and closes 1001.", minimum=1))
    max_streams_per_connection: int = field(default=8, metadata=_meta(
        "Streams open at once on one connection.", minimum=1))
    max_windows_in_flight: int = field(default=64, metadata=_meta(
        "Windows one connection may have waiting for the scorer; past it the connection's "
        "further messages wait until its windows are answered (past 1 MiB of them, unread: "
        "TCP backpressure), so one client cannot fill the queue everyone shares.",
        minimum=1, maximum=100_000))
    idle_timeout_s: float = field(default=300.0, metadata=_week(
        "Close a connection that sent nothing for this long while the server owed it "
        "nothing.", minimum=0.1))
    max_lifetime_s: float = field(default=3600.0, metadata=_week(
        "A connection's lifetime: then it drains (no new streams, those on it have "
        "shutdown_grace_s to finish) and closes 1001.", minimum=1))
    compression: bool = field(default=False, metadata=_meta(
        "Accept permessage-deflate when a client offers it. Off by default: frames are a few "
        "dozen to a few hundred bytes, so it saves little bandwidth, and every compressed "
        "connection holds zlib state; server CPU per delta measured the same with it on "
        "(docs/benchmarks-log.md)."))
    handshake_timeout_s: float = field(default=10.0, metadata=_day(
        "Time allowed for the opening handshake.", minimum=0.1))
    handshake_rate_per_s: float = field(default=4.0, metadata=_meta(
        "Stream upgrades per second per client IP (token bucket refill, shared through Redis); "
        "beyond it the upgrade gets HTTP 429 with Retry-After. Caps churn, which open-connection "
        "caps do not see. At most 1e9 (no limit in practice).", minimum=0.01,
        maximum=RATE_MAX))
    handshake_burst: int = field(default=32, metadata=_meta(
        "Token bucket size for stream upgrades per client IP (room to fill the per-IP cap at "
        "once, twice over).", minimum=1))
    handshake_refusal_delay_s: float = field(default=1.0, metadata=_meta(
        "A 429 for the handshake rate is answered after this long (at most Retry-After; up to "
        "256 held at once per worker), so a client that retries as soon as it is refused "
        "retries at most once per delay instead of as fast as the server can refuse it.",
        minimum=0, maximum=10))
    abuse_penalty_s: float = field(default=10.0, metadata=_day(
        "After a connection is closed for a flood (1008), or for the third malformed message "
        "(1009 oversized, 1007) within this time, its address's upgrades get HTTP 429 for this "
        "long on that worker (0: never), so flooding cannot restart at once on a fresh "
        "connection.", minimum=0))
    close_timeout_s: float = field(default=5.0, metadata=_day(
        "How long the server waits for the client's answer to its close frame before it drops "
        "the socket; the connection's slots are held until then.", minimum=0.1))
    shutdown_grace_s: float = field(default=10.0, metadata=_day(
        "On SIGTERM (or a connection's drain), time for open streams to end (their deltas are "
        "still taken and scored; in its last second the server ends those still open and "
        "scores what they sent) before each gets done and its socket closes 1001.",
        minimum=0))

    # --- oversight ------------------------------------------------------------------------
    threshold: float | None = field(default=None, metadata=_meta(
        "Support below this halts; unset takes the detector's calibrated threshold.",
        minimum=0, maximum=1))
    contradiction_threshold: float = field(default=CONTRADICTION_THRESHOLD, metadata=_meta(
        "A window below the support threshold whose contradiction probability is at least "
        "this halts at once, as contradicted (the shipped detector has no contradiction class: "
        "a changed figure or a flipped negation gives 0.9, anything else 0).",
        minimum=0, maximum=1))
    halt_consecutive: int = field(default=HALT_CONSECUTIVE, metadata=_meta(
        "Consecutive unsupported windows that halt (1 = halt on the first).", minimum=1,
        maximum=16))
    clear_margin: float | None = field(default=None, metadata=_meta(
        "A lone window this far below the threshold halts at once; unset takes the detector's "
        f"calibrated margin ({CLEAR_MARGIN} for the lexical tier or a detector without one).",
        minimum=0, maximum=1))
    halt_run_at_end: bool | None = field(default=None, metadata=_meta(
        "Halt on a run of unsupported windows that the output ends in, shorter than "
        "halt_consecutive; unset takes the detector's calibrated choice (off for the lexical "
        "tier or a detector without one)."))
    settle_windows: bool = field(default=True, metadata=_meta(
        "Cascade tier: a window whose verdict no score of the detector could change (a "
        "sentence copied from the evidence, a figure it states otherwise) is settled without "
        "the detector, by the lexical signals, its decision the same; off, every window's "
        "verdict score is the detector's fused one (for analysing scores, or `stream-guard "
        "eval`'s AUROC), at a detector pair per window."))
    conversation_checks: bool = field(default=True, metadata=_meta(
        "Sentences about the conversation rather than the world (the speaker's own experience "
        "or opinions, a question put to the listener) count against support, as "
        "knowledge-grounded dialogue benchmarks count them; off for a persona or companion bot "
        "whose small talk is expected (the detector's calibration holds either way). Cascade "
        "tier only: the lexical tier scores word coverage and never counts them."))
    window_max_chars: int = field(default=400, metadata=_meta(
        "A run-on sentence is cut into windows of at most this many characters.",
        minimum=40, maximum=4000))
    window_min_chars: int = field(default=12, metadata=_meta(
        "Shorter sentences are merged into the next window where the two fit in "
        "WINDOW_MAX_CHARS and it is no service talk, as is a short one that leans on what came "
        "before and states almost nothing (\"It's best not to.\").",
        minimum=1, maximum=400))

    # --- scoring --------------------------------------------------------------------------
    tier: str = field(default="cascade", metadata=_meta(
        "Scoring tiers: lexical only, or the lexical tier in front of the model.",
        choices=("lexical", "cascade")))
    detector: str = field(default="default", metadata=_meta(
        '"default" (the shipped detector), a Hugging Face model directory or an ONNX file.'))
    detector_context: bool | None = field(default=None, metadata=_meta(
        "Prepend the previous window to the window for the detector; unset follows the model "
        "(the shipped detector was trained on bare windows)."))
    detector_labels: str | None = field(default=None, metadata=_meta(
        'Explicit detector classes, "support=I,contradiction=J", when id2label has no usable '
        "names."))
    embedder: str = field(default="minilm", metadata=_meta(
        '"minilm" (the packaged all-MiniLM-L6-v2), a sentence-embedding model directory, or '
        '"none" (no dense retrieval, so no collections; inline context is matched by its '
        "words either way)."))
    backend: str = field(default="auto", metadata=_meta(
        "Model runtime.", choices=("auto", "onnx", "torch")))
    device: str = field(default="auto", metadata=_meta(
        "Where models run; auto uses CUDA when present.", choices=("auto", "cpu", "cuda")))
    batch_max_size: int = field(default=32, metadata=_meta(
        "Largest micro-batch sent to the model.", minimum=1, maximum=4096))
    batch_max_wait_ms: float = field(default=4.0, metadata=_meta(
        "Longest a window waits for its batch to fill.", minimum=0, maximum=1000))
    evidence_top_k: int = field(default=3, metadata=_meta(
        "Collection passages retrieved per window by vector search (with the next as many "
        "where they are parts of the same documents), and as many more by keywords; the "
        "user's prompt is searched alike once per stream. Their sentences join the premise "
        "candidates.", minimum=1, maximum=50))
    verdict_deadline_ms: float = field(default=150.0, metadata=_meta(
        "A window's verdict is due this long after the delta that completed it arrived; a "
        "window the model cannot score in time gets the lexical tier's verdict, marked "
        "degraded. 0 disables deadlines.", minimum=0, maximum=60000))
    setup_concurrency: int = field(default=2, metadata=_meta(
        "Streams whose inline evidence is prepared at once (its own lane, never the model's); "
        "one connection takes all but one of them, so another's set-up starts at once.",
        minimum=1, maximum=64))
    context_readings_chars: int = field(default=500_000, metadata=_meta(
        "Characters of stream context whose readings (sentences indexed, figures found) are "
        "kept for the streams of the same tenant that send the context again: each turn of "
        "a conversation, one policy sent with every answer. One store per worker process; "
        "8-20 bytes of memory per character charged (tables and records six times their "
        "characters), and each 100,000 characters add about 5 ms to the interpreter's full "
        "garbage collections. A stream's set-up is quicker where its text was sent before, "
        "which a tenant's users could time: 0 keeps none.", minimum=0, maximum=1_000_000_000))
    overload_lag_ms: float = field(default=100.0, metadata=_meta(
        "Event-loop lag above which new streams get error overloaded and new connections close "
        "1013, and /readyz answers 503. 0 disables the check.", minimum=0, maximum=60000))
    overload_queue: int = field(default=1024, metadata=_meta(
        "Scorer queue depth above which new streams get error overloaded, new connections "
        "close 1013 and /readyz answers 503.",
        minimum=1, maximum=1_000_000))
    overload_wait_ms: float = field(default=500.0, metadata=_meta(
        "How far past its verdict deadline a window may still wait for the scorer before new "
        "streams get error overloaded, new connections close 1013 and /readyz answers 503: "
        "past it even the deadline fallback no longer keeps up. 0 disables the check.", minimum=0,
        maximum=60000))
    intra_op_threads: int = field(default=0, metadata=_meta(
        "Model runtime threads (0 = the runtime's choice, within the CPUs this process may "
        "use: its affinity and its cgroup's CPU quota; with model instances auto, an "
        "instance's share of them).",
        minimum=0, maximum=1024))
    model_instances: int = field(default=0, metadata=_meta(
        "Model batches run at once, each on a thread of its own, so a window arriving while "
        "another's batch runs need not wait for it (0 = auto: 2 on a CPU where this process "
        "may use 2 or 3 CPUs and the runtime threads are auto, one thread each; else 1).",
        minimum=0, maximum=64))

    # --- evidence -------------------------------------------------------------------------
    data_dir: Path = field(default_factory=_default_data_dir, metadata=_meta(
        "Evidence collections (FAISS indexes and document stores)."))
    cache_dir: Path = field(default_factory=_default_cache_dir, metadata=_meta(
        "Extracted and exported models."))
    index_flat_max: int = field(default=50_000, metadata=_meta(
        "Collections with more chunks use an HNSW index instead of exact search.", minimum=1))
    index_poll_s: float = field(default=2.0, metadata=_day(
        "How often the server looks for changed collections (SIGHUP forces it).", minimum=0.1))

    # --- shared state ---------------------------------------------------------------------
    redis_url: str | None = field(default=None, metadata=_meta(
        "Redis for state shared by workers and nodes; unset keeps state in memory.",
        secret=True))
    redis_prefix: str = field(default="sg:", metadata=_meta(
        "Prefix of every Redis key and channel stream-guard uses: deployments sharing one Redis "
        "database need different ones, or they share tickets, caps and kills."))
    redis_fail_mode: str = field(default="closed", metadata=_meta(
        "With Redis lost: refuse new connections (closed, 1013; tickets 503) or stay available "
        "with per-worker caps and signed fallback tickets (open; /readyz stays 200).",
        choices=("closed", "open")))
    lease_ttl_s: float = field(default=30.0, metadata=_day(
        "Connection-slot leases expire this long after a worker stops renewing them.",
        minimum=1))

    # --- operations -----------------------------------------------------------------------
    log_level: str = field(default="info", metadata=_meta(
        "Log level.", choices=("debug", "info", "warning", "error")))
    log_text: bool = field(default=False, metadata=_meta(
        "Log the halted window's text with each halt (off: text may be personal data)."))
    serve_demo: bool = field(default=False, metadata=_meta(
        "Serve the browser demo page at /demo/ (development)."))

    def model_runtime(self) -> dict[str, Any]:
        """Where and how models run, as every model loader takes it (the detector and the
        embedder, for serving and for ``index`` alike)."""
        return {"backend": self.backend, "device": self.device, "cache_dir": self.cache_dir,
                "intra_op_threads": self.intra_op_threads}

    def redacted(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets replaced, for the start-up log."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value:
                value = "***" if not isinstance(value, dict) else {
                    "***": f"{len(value)} key(s)", "tenants": sorted(set(value.values()))}
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and validated like any other source."""
        return _build({**{f.name: getattr(self, f.name) for f in fields(self)}, **changes},
                      source="override")


def load_settings(config_file: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file, then ``STREAM_GUARD_*`` variables, then ``overrides``."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    labels: dict[str, str] = {}  # how an error names a value from the file
    typed: set[str] = set()  # the values the file gives, TOML-typed (not text to parse)
    known = {f.name for f in fields(Settings)}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise SettingsError(f"config file {path}: {exc.strerror}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # TOML is UTF-8
            raise SettingsError(f"config file {path}: not valid TOML: {exc}") from None
        try:
            flat = _flatten(data)
        except ValueError as exc:
            raise SettingsError(f"config file {path}: {exc}") from None
        for key, value in flat.items():
            if key not in known:
                raise SettingsError(f"config file {path}: unknown setting {key!r}")
            values[key] = value
            labels[key] = f"{key} (config file {path})"
            typed.add(key)
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name.startswith(("test_", "build_")) or name in CLIENT_VARIABLES:
            continue  # the test suite's, the image build scripts' and the clients' own
        if _SERVICE_LINK.search(key) or _SERVICE_ADDRESS.match(value):
            raise SettingsError(f"{key}: a Kubernetes service link, not a setting: set "
                                "enableServiceLinks: false in the pod spec")
        if name not in known:
            raise SettingsError(f"{key}: unknown setting")
        values[name] = value
        labels.pop(name, None)  # the variable wins over the file, and errors name it
        typed.discard(name)
    for key, value in overrides.items():  # the command line's: named as the setting
        if value is not None:
            values[key] = value
            labels[key] = key
            typed.discard(key)
    return _build(values, source="environment", labels=labels, typed=frozenset(typed))


def _flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """TOML tables are only grouping: ``[limits] rate_burst = 5`` is ``rate_burst = 5``. So a
    setting in two tables is one setting set twice: ValueError, not the last one silently."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        inner = _flatten(value) if isinstance(value, dict) and key != "api_keys" else {key: value}
        for name, item in inner.items():
            if name in out:
                raise ValueError(f"setting {name!r} is set twice (tables only group settings)")
            out[name] = item
    return out


def _build(values: Mapping[str, Any], *, source: str,
           labels: Mapping[str, str] | None = None,
           typed: frozenset[str] = frozenset()) -> Settings:
    """``labels``: how errors name a value that did not come from its variable; ``typed``: the
    values a TOML file gives, which are typed, not text (:func:`_coerce`)."""
    kwargs: dict[str, Any] = {}
    by_name = {f.name: f for f in fields(Settings)}
    for name, raw in values.items():
        f = by_name.get(name)
        if f is None:
            raise SettingsError(f"unknown setting {name!r}")
        kwargs[name] = _coerce(f, raw, (labels or {}).get(name, _setting_label(f)),
                               typed=name in typed)
    try:
        settings = Settings(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by the lookup above
        raise SettingsError(str(exc)) from exc
    named = dict(labels or {})
    _check_cross_field(settings, lambda name: named.get(name, _variable(name)))
    return settings


def _setting_label(f: dataclasses.Field[Any]) -> str:
    return _variable(f.name)


def _variable(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


# How an error names a setting: its variable, or where the value came from (a TOML file's
# key; a review: a bad redis_url in the file was blamed on an unset STREAM_GUARD_REDIS_URL).
Label = Callable[[str], str]


def _coerce(f: dataclasses.Field[Any], raw: Any, label: str, *, typed: bool = False) -> Any:
    """``raw`` as the setting ``f`` holds it. ``typed``: ``raw`` is a TOML file's value, whose
    type is its own: a number setting takes a TOML number there, never a string, as an integer
    setting takes an integer from any source, never a float, however whole (a review: the
    file took port = "8000", 8000.0 and 1e3, while STREAM_GUARD_PORT=8765.0 was refused)."""
    kind = str(f.type)
    meta = f.metadata
    try:
        if raw is None:
            if "None" in kind:
                return None
            raise SettingsError(f"{label}: a value is required")
        if isinstance(raw, str) and raw.strip() == "" and "None" in kind:
            return None
        if kind.startswith("bool"):
            value: Any = _to_bool(raw)
        elif kind.startswith("int"):
            if isinstance(raw, bool | float) or (typed and isinstance(raw, str)):
                raise ValueError
            value = int(raw)
        elif kind.startswith("float"):
            if isinstance(raw, bool) or (typed and isinstance(raw, str)):
                raise ValueError
            value = float(raw)  # "inf", "1e400" and TOML's inf are all infinite
            if not math.isfinite(value):
                raise SettingsError(
                    f"{label}: invalid value {raw!r} (expected a finite number)")
        elif kind.startswith("dict"):
            value = _to_key_map(raw, label)
        elif kind.startswith("tuple"):
            value = _to_tuple(raw)
        elif kind.startswith("Path"):
            if not isinstance(raw, str | Path) or not str(raw).strip():  # "" would be the
                raise ValueError  # working directory (a review)
            value = Path(os.path.expanduser(raw))
        else:
            if not isinstance(raw, str) or not raw.strip():  # "" would bind every interface
                raise ValueError
            value = raw.strip()
            if f.name in _MODEL_PATHS and value.startswith("~"):  # as the Path settings
                value = os.path.expanduser(value)
    except SettingsError:
        raise
    except (TypeError, ValueError, OverflowError):  # OverflowError: float(10**400)
        shown = "(a secret, not shown)" if meta.get("secret") else repr(raw)
        # a map is given as a table or as "KEY:tenant,KEY2:tenant2" (the type name alone hid
        # the string form from a new user who wrote a list)
        expected = ('a table {KEY = "tenant"} or a string "KEY:tenant,KEY2:tenant2"'
                    if kind.startswith("dict") else f"one of {', '.join(meta['choices'])}"
                    if meta["choices"] else _EXPECTED.get(kind.split(" ")[0], kind))
        raise SettingsError(f"{label}: invalid value {shown} (expected {expected})") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        minimum, maximum = meta["minimum"], meta["maximum"]
        if isinstance(value, int):  # bounded at least by what JSON readers and Lua hold exactly
            minimum = -_INT_MAX if minimum is None else minimum
            maximum = _INT_MAX if maximum is None else maximum
        if minimum is not None and value < minimum:
            raise SettingsError(f"{label}: {value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            note = f" ({meta['maximum_note']})" if meta["maximum_note"] else ""
            raise SettingsError(
                f"{label}: {value} is above the maximum {_number(maximum)}{note}")
    if meta["choices"]:
        # in any case, as a log level is often written (a review: LOG_LEVEL=DEBUG refused)
        if value.lower() not in meta["choices"]:
            raise SettingsError(f"{label}: {value!r} is not one of {', '.join(meta['choices'])}")
        value = value.lower()
    return value


def _number(bound: float) -> str:
    """86400.0 as 86400, 1e9 as 1000000000: bounds read as they would be written."""
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:  # not "": an empty variable (a template's unset
        return False  # source) turned default-on checks off, over the file's value (a review)
    raise ValueError


def _to_tuple(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, (list, tuple)):
        items = [str(x) for x in raw]
    else:
        raise ValueError
    return tuple(item.strip() for item in items if item.strip())


def _check_redis_url(url: str, label: str) -> None:
    """Refuse a Redis URL the client could not open, naming it without its password (the
    error goes to stderr, and so to the logs of a container)."""
    shown = repr(_without_password(url))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed on access: a port that is no number raises here
    except ValueError:  # not its message: a password with a "/" or "#" in it ends up there
        raise SettingsError(f"{label}: {shown} is not a valid URL (its host or port cannot be "
                            "read; a password's reserved characters must be %-encoded)") from None
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"{label}: {shown} is not a redis://, rediss:// or unix:// URL")


def _without_password(url: str) -> str:
    """``url`` with what it holds before its host's "@" past the user name hidden, however
    malformed the rest ("rediss//:secret@host" too), and without its query ("?password=")."""
    head, at, host = url.rpartition("@")  # first: a password may hold a "?"
    host, query, _ = (host if at else url).partition("?")
    if not at:
        return host + ("?***" if query else "")
    scheme, slashes, userinfo = head.rpartition("//")
    user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
    return f"{scheme}{slashes}{user}:***@{host}" + ("?***" if query else "")


def _to_key_map(raw: Any, label: str) -> dict[str, str]:
    if isinstance(raw, dict):
        # A TOML table: each value is its key's tenant, a string as in KEY:TENANT (a number or
        # a table made a tenant of its text, "5" or "{'x': 1}", without a word: a review).
        pairs = []
        for key, tenant in raw.items():
            if not isinstance(tenant, str) or not tenant.strip():
                raise SettingsError(f"{label}: each key's value must be its tenant's name, a "
                                    f"non-empty string; got {tenant!r}")
            pairs.append((str(key).strip(), tenant.strip()))
    elif isinstance(raw, str):
        pairs = []
        for item in raw.split(","):
            if not item.strip():
                continue
            key, sep, tenant = item.strip().rpartition(":")
            if not sep or not key or not tenant:
                raise SettingsError(f"{label}: each entry must be KEY:TENANT")
            # "KEY : TENANT" means KEY: a key kept with its space could never authenticate
            # (a request's header value is read without it).
            pairs.append((key.strip(), tenant.strip()))
    else:
        raise ValueError
    out: dict[str, str] = {}
    for key, tenant in pairs:
        if len(key) < 16:
            raise SettingsError(f"{label}: API keys must be at least 16 characters")
        if key in out:
            raise SettingsError(f"{label}: a key is listed twice")
        if len(tenant.encode()) > MAX_TENANT_BYTES:  # open fail mode's tickets carry the name
            raise SettingsError(f"{label}: tenant names must be at most {MAX_TENANT_BYTES} "
                                f"bytes (UTF-8); {tenant[:32]!r}... is longer")
        out[key] = tenant
    return out


_DEFAULT_PORTS = {"http": 80, "https": 443}
_EXAMPLE_ORIGIN = "https://app.example.com"


def _check_origin(origin: str, label: str) -> None:
    """An allowed origin must be one a browser can send: guard/auth.py compares the Origin header
    with each entry as text (a trailing "/" aside), and "*" is its only wildcard. A browser
    sends scheme://host[:port], lower case, with no default port and no path, so anything else
    on the list (a bare host, a path, a port of 443 on https) would refuse every browser 403."""
    if origin == "*":
        return
    head = f"{label}: {origin!r} can never match a browser's Origin header"
    if origin == "null":
        raise SettingsError(f"{label}: 'null' is the Origin of sandboxed and file:// pages, "
                            "which any page can make itself: it cannot be allowed")
    if "://" not in origin:
        suggestion = f"https://{origin.rstrip('/')}"
        try:
            _check_origin(suggestion, label)
        except SettingsError:
            suggestion = _EXAMPLE_ORIGIN
        raise SettingsError(f"{head}, which is scheme://host[:port]; write e.g. {suggestion!r}")
    scheme = origin.partition("://")[0].lower()
    if scheme not in _DEFAULT_PORTS:
        raise SettingsError(f"{head}: only http:// and https:// origins can be allowed")
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a port that is no number up to 65535, an unbalanced IPv6 bracket
        raise SettingsError(f"{head}: its host or port is not valid") from None
    if not host:
        raise SettingsError(f"{head}: it names no host; write e.g. {_EXAMPLE_ORIGIN!r}")
    if "*" in host:
        raise SettingsError(f"{head}: \"*\" alone allows any origin, and there is no other "
                            "wildcard; list each origin")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:
            shown = host.encode("idna").decode("ascii")  # browsers send the punycode form
        except UnicodeError:
            shown = ""
        if not shown or not all(c.isalnum() or c in "-._" for c in shown):
            raise SettingsError(f"{head}: {host!r} is not a host name") from None
    else:
        shown = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    canonical = f"{scheme}://{shown}" + (
        f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")
    if origin.rstrip("/") != canonical:
        raise SettingsError(f"{head}, which is scheme://host[:port] in lower case with no "
                            f"default port, path, query or user: write {canonical!r}")


def _check_folder(path: Path, label: str) -> None:
    """A folder the server writes in must be one, or be creatable: a file there, or a parent
    that is no folder, failed only when the models loaded, as "cannot load the scorer: [Errno
    20] Not a directory", naming no setting (a review). Its write permission is left to the
    write itself (a read-only cache of models prepared beforehand is fine)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir():
        return
    if existing == path:
        raise SettingsError(f"{label}: {path} is not a directory")
    raise SettingsError(f"{label}: {path} cannot be created: {existing} is not a directory")


def _check_cross_field(s: Settings, label: Label) -> None:
    for origin in s.allowed_origins:
        _check_origin(origin, label("allowed_origins"))
    for proxy in s.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"{label('trusted_proxies')}: {proxy!r} is not an address or CIDR") from None
    if s.window_min_chars >= s.window_max_chars:
        raise SettingsError(f"{label('window_min_chars')}: must be below "
                            f"{label('window_max_chars')}")
    _check_model_paths(s, label)
    for name in ("cache_dir", "data_dir"):
        _check_folder(getattr(s, name), label(name))
    if s.redis_url is not None:
        _check_redis_url(s.redis_url, label("redis_url"))
    if not s.redis_prefix or any(c.isspace() for c in s.redis_prefix):
        raise SettingsError(f"{label('redis_prefix')}: {s.redis_prefix!r} must be non-empty, "
                            "without spaces")
    if s.workers > 1 and s.port == 0:
        raise SettingsError(f"{label('workers')}: {s.workers} workers need a fixed "
                            f"{label('port')}: with port 0 each would listen on another one")
    if s.workers > 1 and not s.redis_url:
        raise SettingsError(
            f"{label('workers')}: {s.workers} workers need {label('redis_url')}: with the "
            "in-memory store each worker would keep its own tickets, caps and rate limits, so "
            "a ticket minted on one worker could not be redeemed on another and every cap "
            "would be multiplied by the number of workers")


_INT_MAX = 2**53
# What an invalid number setting says it expects ("(expected int)" read as Python's type name).
_EXPECTED = {"int": "an integer", "float": "a number", "str": "a value that is not empty",
             "Path": "a path that is not empty"}
_MODEL_PATHS = frozenset({"detector", "embedder"})  # a name ("default", "minilm") or a path


def _check_model_paths(s: Settings, label: Label) -> None:
    """A model named by path must be there now, with the files its kind of model has: the
    server loads models after it starts listening, and a wrong path or a directory that holds
    no model would leave it up and never ready. The models' own checks (what ``load_detector``
    and ``load_embedder`` would refuse, short of loading the weights) say what is missing."""
    # The model code is imported only when a path names a model (it takes most of a second).
    if s.detector != "default":
        from stream_guard.models.cross_encoder import check_detector

        _check_model_path(label("detector"), s.detector, Path(s.detector).exists(),
                          '"default" nor an existing model directory or ONNX file',
                          check_detector)
    if s.detector_labels:
        from stream_guard.models.labels import check_override, parse_label_map

        try:
            override = parse_label_map(s.detector_labels)
            check_override(override)
        except GuardError as exc:
            raise SettingsError(f"{label('detector_labels')}: {exc} (write it as "
                                "support=INDEX or support=INDEX,contradiction=INDEX)") from None
        if s.tier == "cascade":  # the detector is loaded: its outputs must hold the indices
            from stream_guard.models.cross_encoder import detector_labels

            _check_model_path(label("detector_labels"), s.detector, True, "",
                              lambda detector: detector_labels(detector, override))
    if s.embedder not in ("minilm", "none"):
        from stream_guard.models.embedder import check_embedder

        _check_model_path(label("embedder"), s.embedder, Path(s.embedder).is_dir(),
                          '"minilm", "none" nor an existing model directory', check_embedder)


def check_serving(s: Settings) -> None:
    """What only serving needs of the settings, checked before the port opens (the other
    commands, ``index`` with its embedder, never load the detector): a detector the backend
    can run (its fusion: :func:`stream_guard.scoring.factory.check_engine`)."""
    if s.backend == "torch" and s.tier == "cascade":
        from stream_guard.models.cross_encoder import detector_is_onnx

        if detector_is_onnx(s.detector):
            raise SettingsError(f"{ENV_PREFIX}BACKEND: torch cannot run the detector "
                                f"{s.detector!r}, an ONNX file (the shipped one is); use "
                                "backend=onnx or auto, or a detector in Hugging Face layout "
                                "(model.safetensors)")


def _check_model_path(label: str, value: str, found: bool, otherwise: str,
                      check: Callable[[str], object]) -> None:
    if not found:
        raise SettingsError(f"{label}: {value!r} is neither {otherwise}")
    try:
        check(value)
    except (GuardError, OSError) as exc:  # OSError: a file it cannot read
        raise SettingsError(f"{label}: {exc}") from None
    except Exception as exc:  # a model file's contents the checks did not foresee
        raise SettingsError(f"{label}: {value}: {type(exc).__name__}: {exc}") from None


def describe() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) rows for the README's settings table."""
    rows = []
    defaults = Settings()
    for f in fields(Settings):
        default = getattr(defaults, f.name)
        if isinstance(default, Path):
            default = str(default).replace(str(Path.home()), "~")
        rows.append((_setting_label(f), repr(default), f.metadata["help"]))
    return rows
