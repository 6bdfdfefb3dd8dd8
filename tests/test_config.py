"""Settings: every source parses, every mistake fails at start naming the setting."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from stream_guard.config import (
    CLIENT_API_KEY_VARIABLE,
    DAY_S,
    FRAME_BYTES_MAX,
    RATE_MAX,
    WEEK_S,
    Settings,
    SettingsError,
    check_serving,
    describe,
    load_settings,
)
from stream_guard.server.app import _HARD_SIZE_FACTOR
from tests.conftest import make_settings, running_server
from tests.redis_server import RedisServer
from tests.wsclient import API_KEY, http, open_ws, stream_text

KEY_A = "a" * 16
KEY_B = "key:with:colons-0123"
SHIPPED_DETECTOR = Path(__file__).resolve().parents[1] / "stream_guard" / "models" / "detector"
NOT_A_MODEL = b"this is a text file, not a model\n"


def test_defaults_without_any_source() -> None:
    s = load_settings(environ={})
    assert s == Settings()
    assert (s.port, s.max_connections, s.max_connections_per_ip) == (8765, 256, 16)
    assert (s.rate_per_s, s.rate_burst, s.max_frame_bytes) == (1000.0, 2000, 65536)
    assert (s.max_chars_per_connection, s.max_streams_per_connection) == (5_000_000, 8)
    assert (s.idle_timeout_s, s.max_lifetime_s, s.handshake_timeout_s) == (300.0, 3600.0, 10.0)
    assert s.ticket_ttl_s == 30.0 and s.api_keys == {} and not s.auth_disabled


def test_environment_values_are_parsed_to_their_types() -> None:
    s = load_settings(environ={
        "STREAM_GUARD_HOST": " 0.0.0.0 ", "STREAM_GUARD_PORT": "9000",
        "STREAM_GUARD_API_KEYS": f"{KEY_A}:tenant1, {KEY_B}:tenant2,",
        "STREAM_GUARD_AUTH_DISABLED": "yes", "STREAM_GUARD_RATE_PER_S": "2.5",
        "STREAM_GUARD_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        "STREAM_GUARD_TRUSTED_PROXIES": "10.0.0.0/8,::1", "STREAM_GUARD_THRESHOLD": "",
        "STREAM_GUARD_DATA_DIR": "~/sg-data", "STREAM_GUARD_TIER": "lexical",
        "STREAM_GUARD_TEST_REDIS_URL": "redis://ignored", "OTHER_VARIABLE": "ignored"})
    assert s.host == "0.0.0.0" and s.port == 9000 and s.auth_disabled is True
    assert s.api_keys == {KEY_A: "tenant1", KEY_B: "tenant2"}  # the tenant is after the last ':'
    assert s.rate_per_s == 2.5 and s.threshold is None and s.tier == "lexical"
    assert s.allowed_origins == ("https://a.example", "https://b.example")
    assert s.trusted_proxies == ("10.0.0.0/8", "::1")
    assert s.data_dir == Path.home() / "sg-data"


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("TRUE", True), ("on", True),
                                            ("0", False), ("off", False), ("No", False)])
def test_booleans(raw: str, value: bool) -> None:
    assert load_settings(environ={"STREAM_GUARD_LOG_TEXT": raw}).log_text is value


def test_toml_file_with_tables(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_text(f"""
port = 7000
allowed_origins = ["https://app.example"]

[limits]
rate_burst = 5
idle_timeout_s = 1.5

[limits.nested]
max_streams_per_connection = 3

[api_keys]
"{KEY_A}" = "tenant-a"
""")
    s = load_settings(path, environ={})
    assert (s.port, s.rate_burst, s.idle_timeout_s, s.max_streams_per_connection) == (
        7000, 5, 1.5, 3)
    assert s.allowed_origins == ("https://app.example",)
    assert s.api_keys == {KEY_A: "tenant-a"}


def test_precedence_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_text("port = 7000\nrate_burst = 5\nmax_connections = 9\n")
    env = {"STREAM_GUARD_CONFIG": str(path), "STREAM_GUARD_PORT": "7001",
           "STREAM_GUARD_RATE_BURST": "6"}
    s = load_settings(environ=env, rate_burst=7, max_frame_bytes=None)
    assert (s.port, s.rate_burst, s.max_connections, s.max_frame_bytes) == (7001, 7, 9, 65536)


@pytest.mark.parametrize(("env", "fragment"), [
    ({"STREAM_GUARD_PROT": "1"}, "STREAM_GUARD_PROT: unknown setting"),
    ({"STREAM_GUARD_PORT": "http"}, "STREAM_GUARD_PORT: invalid value 'http'"),
    ({"STREAM_GUARD_PORT": "80.5"}, "STREAM_GUARD_PORT"),
    ({"STREAM_GUARD_PORT": "70000"}, "STREAM_GUARD_PORT: 70000 is above the maximum"),
    ({"STREAM_GUARD_RATE_BURST": "0"}, "STREAM_GUARD_RATE_BURST: 0 is below the minimum"),
    ({"STREAM_GUARD_RATE_PER_S": "nan"}, "STREAM_GUARD_RATE_PER_S: invalid value"),
    ({"STREAM_GUARD_THRESHOLD": "1.5"}, "STREAM_GUARD_THRESHOLD: 1.5 is above"),
    ({"STREAM_GUARD_AUTH_DISABLED": "maybe"}, "STREAM_GUARD_AUTH_DISABLED: invalid value"),
    ({"STREAM_GUARD_TIER": "gpu"}, "STREAM_GUARD_TIER: 'gpu' is not one of lexical, cascade"),
    ({"STREAM_GUARD_HOST": ""}, "STREAM_GUARD_HOST"),
    ({"STREAM_GUARD_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"},
     "STREAM_GUARD_TRUSTED_PROXIES: 'proxy.local' is not an address"),
    ({"STREAM_GUARD_WINDOW_MIN_CHARS": "100", "STREAM_GUARD_WINDOW_MAX_CHARS": "100"},
     "STREAM_GUARD_WINDOW_MIN_CHARS"),
    # API keys: KEY:TENANT pairs, keys long enough to be secret, no key twice
    ({"STREAM_GUARD_API_KEYS": KEY_A}, "STREAM_GUARD_API_KEYS: each entry must be KEY:TENANT"),
    ({"STREAM_GUARD_API_KEYS": f"{KEY_A}:"}, "each entry must be KEY:TENANT"),
    ({"STREAM_GUARD_API_KEYS": ":tenant"}, "each entry must be KEY:TENANT"),
    ({"STREAM_GUARD_API_KEYS": "short:tenant"}, "at least 16 characters"),
    ({"STREAM_GUARD_API_KEYS": f"{KEY_A}:t1,{KEY_A}:t2"}, "listed twice"),
    # ... and tenant names an open-mode fallback ticket can carry (256 bytes, so 129 "é")
    ({"STREAM_GUARD_API_KEYS": f"{KEY_A}:{'é' * 129}"}, "at most 256 bytes"),
    # several workers cannot share in-memory state
    ({"STREAM_GUARD_WORKERS": "4"}, "STREAM_GUARD_WORKERS: 4 workers need STREAM_GUARD_REDIS_URL"),
    # ... nor one port picked at random (it was a traceback from the supervisor)
    ({"STREAM_GUARD_WORKERS": "2", "STREAM_GUARD_REDIS_URL": "redis://127.0.0.1:1",
      "STREAM_GUARD_PORT": "0"}, "STREAM_GUARD_WORKERS: 2 workers need a fixed STREAM_GUARD_PORT"),
    ({"STREAM_GUARD_DETECTOR": "/nonexistent/detector"},
     "STREAM_GUARD_DETECTOR: '/nonexistent/detector' is neither \"default\" nor an existing"),
    ({"STREAM_GUARD_EMBEDDER": "/nonexistent/embedder"},
     "STREAM_GUARD_EMBEDDER: '/nonexistent/embedder' is neither \"minilm\", \"none\" nor"),
    ({"STREAM_GUARD_REDIS_URL": "notaurl"},
     "STREAM_GUARD_REDIS_URL: 'notaurl' is not a redis://, rediss:// or unix:// URL"),
    # a URL the client cannot open fails here (it was a traceback at start), its password
    # never shown (the error reaches a container's logs)
    ({"STREAM_GUARD_REDIS_URL": "redis://:hunter2@redis:abc/0"},
     "STREAM_GUARD_REDIS_URL: 'redis://:***@redis:abc/0' is not a valid URL"),
    ({"STREAM_GUARD_REDIS_URL": "redis://[::1/0"}, "'redis://[::1/0' is not a valid URL"),
    # not urlsplit's message: with a "#" in the password, part of it was named as the port
    ({"STREAM_GUARD_REDIS_URL": "redis://default:Tr0ub4dor#xyz@redis:6379"},
     "'redis://default:***@redis:6379' is not a valid URL (its host or port cannot be read"),
    ({"STREAM_GUARD_REDIS_URL": "rediss//user:hunter2@redis:6380"},
     "'rediss//user:***@redis:6380' is not a redis://"),
    ({"STREAM_GUARD_REDIS_PREFIX": ""}, "STREAM_GUARD_REDIS_PREFIX: invalid value ''"),
    ({"STREAM_GUARD_REDIS_PREFIX": "my app:"}, "'my app:' must be non-empty, without spaces"),
])
def test_invalid_values_name_the_setting(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ=env)
    assert fragment in str(info.value)


def test_a_secret_is_never_shown_in_an_error(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(f'api_keys = ["{KEY_A}:acme"]\n')
    with pytest.raises(SettingsError) as info:
        load_settings(config)
    assert "api_keys" in str(info.value) and KEY_A not in str(info.value)
    for url in ("redis://:hunter2@redis:abc/0", "redis://:hun/ter2@redis:6379/0",
                "rediss//redis:6379?password=hunter2", "rediss//user:hun?ter2@redis:6379"):
        with pytest.raises(SettingsError) as info:
            load_settings(environ={"STREAM_GUARD_REDIS_URL": url})
        assert "hunter2" not in str(info.value) and "hun" not in str(info.value), url


def test_spaces_around_a_key_and_its_tenant_are_not_theirs() -> None:
    """"KEY : TENANT" kept the key with its space, which no request could ever send."""
    env = {"STREAM_GUARD_API_KEYS": f" {KEY_A} : acme , {KEY_B}:beta"}
    assert load_settings(environ=env).api_keys == {KEY_A: "acme", KEY_B: "beta"}


def _model_path(root: Path, case: str) -> Path:
    """A real directory that holds no usable model, the way a wrong path or a half-copied model
    looks; config.json and tokenizer.json are the shipped detector's (a BERT model's)."""
    path = root / case
    path.mkdir()
    if case == "empty":
        return path
    if case == "onnx-alone":
        (path / "model.onnx").write_bytes(NOT_A_MODEL)
        return path
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(SHIPPED_DETECTOR / name, path / name)
    if case == "corrupt-onnx":
        (path / "model.onnx").write_bytes(NOT_A_MODEL)
    elif case == "corrupt-safetensors":
        (path / "model.safetensors").write_bytes(NOT_A_MODEL)
    elif case == "bad-detector-json":
        (path / "model.onnx").write_bytes(NOT_A_MODEL)
        (path / "detector.json").write_text("{threshold: 0.5")
    elif case == "label2id-as-id2label":  # the shipped model, its config edited by hand
        shutil.copy(SHIPPED_DETECTOR / "model.onnx", path / "model.onnx")
        config = json.loads((path / "config.json").read_text())
        (path / "config.json").write_text(json.dumps(
            {**config, "id2label": {"unsupported": 0, "supported": 1}}))
    else:
        assert case == "no-weights", case
    return path


@pytest.mark.parametrize(("setting", "case", "fragment"), [
    ("DETECTOR", "empty", " is not a usable model directory: missing config.json, "
     "tokenizer.json, model.safetensors or model.onnx ("),
    ("DETECTOR", "no-weights", " is not a usable model directory: missing model.safetensors "
     "or model.onnx ("),
    ("DETECTOR", "onnx-alone", " is not a usable model directory: missing config.json, "
     "tokenizer.json ("),
    ("DETECTOR", "bad-detector-json", "/detector.json: invalid JSON"),
    ("EMBEDDER", "empty", " is not a usable model directory: missing config.json, "
     "tokenizer.json, model.safetensors ("),
    ("EMBEDDER", "no-weights", " is not a usable model directory: missing model.safetensors ("),
])
def test_a_model_path_that_holds_no_model_is_refused_naming_what_is_missing(
        tmp_path: Path, setting: str, case: str, fragment: str) -> None:
    """The server loads models after it starts listening: a path that exists but holds no
    model would leave it up and never ready, so the files are checked with the settings."""
    path = _model_path(tmp_path, case)
    with pytest.raises(SettingsError) as info:
        load_settings(environ={f"STREAM_GUARD_{setting}": str(path)})
    assert str(info.value).startswith(f"STREAM_GUARD_{setting}: {path}{fragment}")


def test_model_files_that_are_there_pass_the_settings_check(tmp_path: Path) -> None:
    """Only the files are checked then, not their contents: a model.onnx that is not ONNX is
    found when it loads (the test below), and the shipped detector's directory is one."""
    assert load_settings(environ={"STREAM_GUARD_DETECTOR": str(SHIPPED_DETECTOR)}).detector
    corrupt = _model_path(tmp_path, "corrupt-onnx")
    assert load_settings(environ={"STREAM_GUARD_DETECTOR": str(corrupt)}).detector
    assert load_settings(environ={"STREAM_GUARD_DETECTOR": str(corrupt / "model.onnx")}).detector


@pytest.mark.parametrize(("setting", "case", "message", "listened"), [
    ("DETECTOR", "empty", "STREAM_GUARD_DETECTOR: {path} is not a usable model directory: "
     "missing config.json, tokenizer.json, model.safetensors or model.onnx (", False),
    ("DETECTOR", "no-weights", "STREAM_GUARD_DETECTOR: {path} is not a usable model directory: "
     "missing model.safetensors or model.onnx (", False),
    ("DETECTOR", "bad-detector-json", "STREAM_GUARD_DETECTOR: {path}/detector.json: invalid JSON",
     False),
    # found only when it loads, after the port opened: the server stops all the same
    ("DETECTOR", "corrupt-onnx",
     "cannot load the scorer: {path}/model.onnx: onnxruntime cannot load it (", True),
    ("EMBEDDER", "empty", "STREAM_GUARD_EMBEDDER: {path} is not a usable model directory: "
     "missing config.json, tokenizer.json, model.safetensors (", False),
    ("EMBEDDER", "no-weights", "STREAM_GUARD_EMBEDDER: {path} is not a usable model directory: "
     "missing model.safetensors (", False),
    ("EMBEDDER", "corrupt-safetensors",
     "cannot load the scorer: {path}/model.safetensors: not a safetensors file (", True),
    # a config value of a shape the loader did not foresee: a traceback and exit 1, which
    # --workers restarted for ever (a review)
    ("DETECTOR", "label2id-as-id2label", "cannot load the scorer: the model config's id2label "
     "has the key 'unsupported', which is no output index", True),
])
def test_serve_exits_2_with_one_line_for_a_model_path_that_holds_no_model(
        tmp_path: Path, model_cache: Path, setting: str, case: str, message: str,
        listened: bool) -> None:
    """``stream-guard serve`` used to come up, log a traceback and answer /readyz 503 for
    ever. Now it refuses to start (before it listens, where the files say so) or stops once
    the model fails to load, with the settings error as its last line and exit status 2."""
    path = _model_path(tmp_path, case)
    env = {**os.environ, "STREAM_GUARD_HOST": "127.0.0.1", "STREAM_GUARD_PORT": "0",
           "STREAM_GUARD_CACHE_DIR": str(model_cache),
           "STREAM_GUARD_DATA_DIR": str(tmp_path / "data"),
           "STREAM_GUARD_TIER": "cascade" if setting == "DETECTOR" else "lexical",
           "STREAM_GUARD_EMBEDDER": "none", f"STREAM_GUARD_{setting}": str(path)}
    done = subprocess.run([sys.executable, "-m", "stream_guard", "serve"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    *log_lines, last = done.stderr.splitlines()
    assert last.startswith("stream-guard: invalid settings: " + message.format(path=path))
    assert "Traceback" not in done.stderr
    assert all(line.startswith("{") for line in log_lines)  # JSON log lines only
    assert ('"event":"listening"' in done.stderr) is listened


FLOAT_SETTINGS = [f.name for f in dataclasses.fields(Settings) if str(f.type).startswith("float")]


@pytest.mark.parametrize("name", FLOAT_SETTINGS)
@pytest.mark.parametrize("raw", ["inf", "-inf", "Infinity", "1e400", "nan"])
def test_every_float_setting_refuses_a_number_that_is_not_finite(name: str, raw: str) -> None:
    """inf and 1e400 passed every float setting (only NaN was caught): LEASE_TTL_S=inf crashed
    serve with an OverflowError traceback, SHUTDOWN_GRACE_S=inf made a drain that never ends."""
    label = f"STREAM_GUARD_{name.upper()}"
    with pytest.raises(SettingsError) as info:
        load_settings(environ={label: raw})
    assert str(info.value) == f"{label}: invalid value {raw!r} (expected a finite number)"


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400"])
def test_a_toml_infinity_is_refused_too(tmp_path: Path, value: str) -> None:
    path = tmp_path / "sg.toml"
    path.write_text(f"[limits]\nlease_ttl_s = {value}\n")
    with pytest.raises(SettingsError, match=r"^lease_ttl_s \(config file .*sg\.toml\): invalid "
                       r"value -?inf \(expected a finite number\)$"):
        load_settings(path, environ={})


def test_a_key_map_given_wrong_names_both_forms_it_takes(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_text('api_keys = ["dev-key-change-me-0001:demo"]\n')  # a new user's list
    with pytest.raises(SettingsError, match=r"expected a table \{KEY = \"tenant\"\} or a "
                       r"string \"KEY:tenant,KEY2:tenant2\"\)$"):
        load_settings(path, environ={})


def test_an_integer_too_large_for_a_float_is_an_invalid_value(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_text("lease_ttl_s = 1" + "0" * 400 + "\n")  # float() of it overflowed
    with pytest.raises(SettingsError, match=r"^lease_ttl_s \(config file .*\): invalid value 1000"):
        load_settings(path, environ={})


# The caps: durations of one step, a penalty, a lease or a poll at most a day; a connection's
# idle time and lifetime at most a week; rates at most 1e9/s; a message at most 16 MiB. Each:
# (maximum, the note in the error, what the help says).
DAY = (DAY_S, " (1 day)", "at most 1 day (86400).")
WEEK = (WEEK_S, " (7 days)", "at most 7 days (604800).")
RATE = (RATE_MAX, "", "at most 1e9 (no limit in practice)")
CAPS = {"handshake_timeout_s": DAY, "close_timeout_s": DAY, "shutdown_grace_s": DAY,
        "abuse_penalty_s": DAY, "lease_ttl_s": DAY, "index_poll_s": DAY,
        "idle_timeout_s": WEEK, "max_lifetime_s": WEEK,
        "rate_per_s": RATE, "handshake_rate_per_s": RATE,
        "max_frame_bytes": (FRAME_BYTES_MAX, " (16 MiB)", "at most 16 mib (16777216)")}


@pytest.mark.parametrize(("name", "cap"), CAPS.items())
def test_huge_durations_rates_and_frame_sizes_are_refused_above_a_documented_cap(
        name: str, cap: tuple[float, str, str]) -> None:
    maximum, note, documented = cap
    label = f"STREAM_GUARD_{name.upper()}"
    at_cap = str(int(maximum)) if name == "max_frame_bytes" else repr(maximum)
    assert getattr(load_settings(environ={label: at_cap}), name) == maximum
    huge, shown = ("10000000000000", "10000000000000") if name == "max_frame_bytes" else (
        "1e300", "1e+300")
    with pytest.raises(SettingsError) as info:
        load_settings(environ={label: huge})
    assert str(info.value) == f"{label}: {shown} is above the maximum {int(maximum)}{note}"
    assert documented in dict((var, help_) for var, _, help_ in describe())[label].lower()


def test_the_frame_cap_keeps_websockets_hard_limit_at_64_mib() -> None:
    """server/app.py lets websockets drop a message past _HARD_SIZE_FACTOR x max_frame_bytes."""
    assert FRAME_BYTES_MAX * _HARD_SIZE_FACTOR == 64 * 2**20


async def test_a_server_at_every_cap_serves_with_redis(tmp_path: Path,
                                                       redis: RedisServer) -> None:
    """The caps are values the server runs with: a day-long lease is a PX Redis takes, the
    week-long and day-long timeouts are ones asyncio and websockets take."""
    at_caps = {name: cap[0] for name, cap in CAPS.items()}
    at_caps["max_frame_bytes"] = int(FRAME_BYTES_MAX)
    settings = make_settings(tmp_path, redis_url=redis.url, **at_caps)
    async with running_server(settings) as server:
        assert (await http(server.port, "GET", "/readyz")).status == 200
        minted = await http(server.port, "POST", "/v1/tickets",
                            {"Authorization": f"Bearer {API_KEY}"})
        assert minted.status == 200
        async with open_ws(server.port) as ws:
            frames = await stream_text(ws, "s", "The Eiffel Tower was completed in 1889. ",
                                       context=["The Eiffel Tower was completed in 1889."])
        assert frames[-1]["type"] == "done" and not frames[-1]["halted"]


ORIGIN_ERROR = "STREAM_GUARD_ALLOWED_ORIGINS: {!r} can never match a browser's Origin header"
NOT_CANONICAL = (", which is scheme://host[:port] in lower case with no default port, path, "
                 "query or user: write {!r}")


@pytest.mark.parametrize(("origins", "message"), [
    # no scheme: the operator review's case, every browser got 403
    ("app.example.com", ORIGIN_ERROR.format("app.example.com")
     + ", which is scheme://host[:port]; write e.g. 'https://app.example.com'"),
    ("https://a.example, app.example.com:8080", ORIGIN_ERROR.format("app.example.com:8080")
     + ", which is scheme://host[:port]; write e.g. 'https://app.example.com:8080'"),
    ("/", ORIGIN_ERROR.format("/")
     + ", which is scheme://host[:port]; write e.g. 'https://app.example.com'"),
    # what a browser would send differs
    ("HTTPS://App.Example.com", ORIGIN_ERROR.format("HTTPS://App.Example.com")
     + NOT_CANONICAL.format("https://app.example.com")),
    ("https://app.example.com:443", ORIGIN_ERROR.format("https://app.example.com:443")
     + NOT_CANONICAL.format("https://app.example.com")),
    ("http://app.example.com:80", ORIGIN_ERROR.format("http://app.example.com:80")
     + NOT_CANONICAL.format("http://app.example.com")),
    ("http://app.example.com:8080/app", ORIGIN_ERROR.format("http://app.example.com:8080/app")
     + NOT_CANONICAL.format("http://app.example.com:8080")),
    ("https://a.example?x=1", ORIGIN_ERROR.format("https://a.example?x=1")
     + NOT_CANONICAL.format("https://a.example")),
    ("https://user@a.example", ORIGIN_ERROR.format("https://user@a.example")
     + NOT_CANONICAL.format("https://a.example")),
    ("http://[0:0::1]:8000", ORIGIN_ERROR.format("http://[0:0::1]:8000")
     + NOT_CANONICAL.format("http://[::1]:8000")),
    ("https://b\u00fccher.example", ORIGIN_ERROR.format("https://b\u00fccher.example")
     + NOT_CANONICAL.format("https://xn--bcher-kva.example")),
    # not an origin at all
    ("ftp://files.example", ORIGIN_ERROR.format("ftp://files.example")
     + ": only http:// and https:// origins can be allowed"),
    ("https://*.example.com", ORIGIN_ERROR.format("https://*.example.com")
     + ': "*" alone allows any origin, and there is no other wildcard; list each origin'),
    ("https://a.example:99999", ORIGIN_ERROR.format("https://a.example:99999")
     + ": its host or port is not valid"),
    ("https://", ORIGIN_ERROR.format("https://")
     + ": it names no host; write e.g. 'https://app.example.com'"),
    ("https://a b.example", ORIGIN_ERROR.format("https://a b.example")
     + ": 'a b.example' is not a host name"),
    ("null", "STREAM_GUARD_ALLOWED_ORIGINS: 'null' is the Origin of sandboxed and file:// "
     "pages, which any page can make itself: it cannot be allowed"),
])
def test_an_allowed_origin_no_browser_can_send_is_refused_with_what_to_write(
        origins: str, message: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={"STREAM_GUARD_ALLOWED_ORIGINS": origins})
    assert str(info.value) == message


def test_an_allowed_origin_in_a_toml_list_is_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_text('allowed_origins = ["https://a.example", "b.example"]\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path, environ={})
    assert str(info.value).startswith(ORIGIN_ERROR.format("b.example").replace(
        "STREAM_GUARD_ALLOWED_ORIGINS", f"allowed_origins (config file {path})") + ", which is")


ACCEPTED_ORIGINS = ("https://app.example.com/, http://127.0.0.1:8000, https://[::1]:8443, "
                    "http://localhost:3000, https://xn--bcher-kva.example")


def test_origins_as_browsers_send_them_are_accepted() -> None:
    s = load_settings(environ={"STREAM_GUARD_ALLOWED_ORIGINS": ACCEPTED_ORIGINS})
    assert len(s.allowed_origins) == 5
    assert load_settings(environ={"STREAM_GUARD_ALLOWED_ORIGINS": "*"}).allowed_origins == (
        "*",)


async def test_every_accepted_form_admits_the_origin_a_browser_sends(tmp_path: Path) -> None:
    """What the settings accept is what guard/auth.py then matches: each origin as a browser
    serializes it opens a stream (a trailing "/" on the list included), another gets 403."""
    async with running_server(make_settings(tmp_path,
                                            allowed_origins=ACCEPTED_ORIGINS)) as server:
        for origin in ("https://app.example.com", "http://127.0.0.1:8000",
                       "https://[::1]:8443", "http://localhost:3000",
                       "https://xn--bcher-kva.example"):
            async with open_ws(server.port, origin=origin) as ws:
                await ws.send('{"type": "ping"}')
                assert await ws.recv() == '{"type":"pong"}'
        with pytest.raises(InvalidStatus) as info:
            async with open_ws(server.port, origin="https://app.example.com:8443"):
                pass
        assert info.value.response.status_code == 403


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("ALLOWED_ORIGINS", "app.example.com", "STREAM_GUARD_ALLOWED_ORIGINS: 'app.example.com' "
     "can never match a browser's Origin header, which is scheme://host[:port]; write e.g. "
     "'https://app.example.com'"),
    ("LEASE_TTL_S", "inf", "STREAM_GUARD_LEASE_TTL_S: invalid value 'inf' (expected a finite "
     "number)"),
    ("LEASE_TTL_S", "1e300", "STREAM_GUARD_LEASE_TTL_S: 1e+300 is above the maximum 86400 "
     "(1 day)"),
    ("SHUTDOWN_GRACE_S", "inf", "STREAM_GUARD_SHUTDOWN_GRACE_S: invalid value 'inf' (expected "
     "a finite number)"),
    ("MAX_FRAME_BYTES", "10000000000000", "STREAM_GUARD_MAX_FRAME_BYTES: 10000000000000 is "
     "above the maximum 16777216 (16 MiB)"),
])
def test_serve_refuses_a_value_that_would_break_it_with_one_line(
        tmp_path: Path, variable: str, value: str, message: str) -> None:
    """Before, LEASE_TTL_S=inf was an OverflowError traceback from serve, 1e300 a server that
    closed every connection 1011 with nothing logged, and an origin without its scheme a server
    that refused every browser 403."""
    env = {**os.environ, "STREAM_GUARD_HOST": "127.0.0.1", "STREAM_GUARD_PORT": "0",
           "STREAM_GUARD_DATA_DIR": str(tmp_path / "data"), "STREAM_GUARD_TIER": "lexical",
           "STREAM_GUARD_EMBEDDER": "none", f"STREAM_GUARD_{variable}": value}
    done = subprocess.run([sys.executable, "-m", "stream_guard", "serve"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"stream-guard: invalid settings: {message}\n"


@pytest.mark.parametrize(("line", "message"), [
    ('port = "8000"', "port (config file {path}): invalid value '8000' (expected an integer)"),
    ("port = 8000.0", "port (config file {path}): invalid value 8000.0 (expected an integer)"),
    ("max_connections = 1e3",
     "max_connections (config file {path}): invalid value 1000.0 (expected an integer)"),
    ('rate_per_s = "5"', "rate_per_s (config file {path}): invalid value '5' (expected a number)"),
])
def test_a_number_setting_in_the_toml_file_takes_a_toml_number(
        tmp_path: Path, line: str, message: str) -> None:
    """A review: the file took port = "8000", 8000.0 and 1e3 while STREAM_GUARD_PORT=8765.0
    was refused. Strict and alike: an integer setting takes an integer (the file's, or a
    variable's digits), a number setting a number, with the one-line error of any bad value."""
    path = tmp_path / "sg.toml"
    path.write_text(line + "\n")
    env = {**os.environ, "STREAM_GUARD_CONFIG": str(path)}
    done = subprocess.run([sys.executable, "-m", "stream_guard", "settings"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"stream-guard: invalid settings: {message.format(path=path)}\n"


@pytest.mark.parametrize(("variable", "value"), [("PORT", "8765.0"), ("MAX_CONNECTIONS", "1e3")])
def test_an_integer_variable_takes_digits_only(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^STREAM_GUARD_{variable}: invalid value "
                                            rf"'{value}' \(expected an integer\)$"):
        load_settings(environ={f"STREAM_GUARD_{variable}": value})


def test_numbers_given_as_numbers_are_taken_from_every_source(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_text("port = 8000\nrate_per_s = 5\nidle_timeout_s = 1.5\n")
    s = load_settings(path, environ={"STREAM_GUARD_MAX_CONNECTIONS": " 12 "}, rate_burst=7)
    assert (s.port, s.rate_per_s, s.idle_timeout_s, s.max_connections, s.rate_burst) == (
        8000, 5.0, 1.5, 12, 7)


@pytest.mark.parametrize(("variable", "value", "setting"), [
    ("LOG_LEVEL", "DEBUG", "debug"), ("LOG_LEVEL", "Warning", "warning"),
    ("TIER", "LEXICAL", "lexical"), ("REDIS_FAIL_MODE", " Open ", "open")])
def test_a_choice_is_taken_in_any_case(variable: str, value: str, setting: str) -> None:
    """A review: STREAM_GUARD_LOG_LEVEL=DEBUG, as log levels are often written, was refused
    ("'DEBUG' is not one of debug, info, ...")."""
    s = load_settings(environ={f"STREAM_GUARD_{variable}": value})
    assert getattr(s, variable.lower()) == setting


def test_the_command_line_takes_a_log_level_in_capitals() -> None:
    env = {**os.environ, "STREAM_GUARD_LOG_LEVEL": "DEBUG"}
    done = subprocess.run([sys.executable, "-m", "stream_guard", "settings"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["log_level"] == "debug"


def test_a_port_taken_names_the_option_it_may_come_from_and_serve_has_a_help(
        tmp_path: Path) -> None:
    """A review: `serve --port P` on a taken port named (STREAM_GUARD_HOST, STREAM_GUARD_PORT)
    only, which the user had not set; and `serve --help` said nothing of what it does."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "STREAM_GUARD_TIER": "lexical", "STREAM_GUARD_EMBEDDER": "none",
               "STREAM_GUARD_DATA_DIR": str(tmp_path / "data")}
        done = subprocess.run([sys.executable, "-m", "stream_guard", "serve", "--host",
                               "127.0.0.1", "--port", str(port)], env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        f"stream-guard: cannot listen on 127.0.0.1:{port} (--host/--port, "
        "STREAM_GUARD_HOST/STREAM_GUARD_PORT or the config file): "), done.stderr
    shown = subprocess.run([sys.executable, "-m", "stream_guard", "serve", "--help"],
                           capture_output=True, text=True, timeout=60)
    assert "Run the server: WebSocket streams" in shown.stdout


def test_workers_with_redis_are_allowed() -> None:
    s = load_settings(environ={"STREAM_GUARD_WORKERS": "4",
                               "STREAM_GUARD_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert s.workers == 4


@pytest.mark.parametrize(("text", "fragment"), [
    ("prot = 1\n", "unknown setting 'prot'"),
    ("[limits]\nrate_brust = 5\n", "unknown setting 'rate_brust'"),
    # A bad value is named as the file's setting, not as a variable the user never set.
    ("port = 'eighty'\n", "port (config file"),
    ("port = true\n", "): invalid value True"),
    ("idle_timeout_s = false\n", "idle_timeout_s (config file"),
    ("allowed_origins = 5\n", "allowed_origins (config file"),
    ("host = 5\n", "host (config file"),
    ("[api_keys]\nshort = 'tenant'\n", "api_keys (config file"),
    # a tenant that is no name (a review: these started as tenants "5", "{'x': 1}" and "")
    ("[api_keys]\naaaaaaaaaaaaaaaaaaaa = 5\n", "must be its tenant's name"),
    ("[api_keys]\naaaaaaaaaaaaaaaaaaaa = {x = 1}\n", "must be its tenant's name"),
    ("[api_keys]\naaaaaaaaaaaaaaaaaaaa = ''\n", "must be its tenant's name"),
    ("port = \n", "config file"),
    # ... by the checks across settings too (a review: they named the variables)
    ("redis_url = 'redis://:hunter2@h:99999'\n", "redis_url (config file"),
    ("window_min_chars = 300\nwindow_max_chars = 200\n",
     "window_min_chars (config file"),
    ("workers = 3\nport = 8765\n", "STREAM_GUARD_REDIS_URL: with"),  # unset: how to set it
    ("allowed_origins = ['app.example.com']\n", "allowed_origins (config file"),
    ("trusted_proxies = ['nope']\n", "trusted_proxies (config file"),
    ("detector = '/no/such/model'\n", "detector (config file"),
    # Tables only group settings: one in two tables is set twice, not the last one silently.
    ("[server]\nport = 1\n[other]\nport = 2\n", "setting 'port' is set twice"),
])
def test_invalid_toml_names_the_setting(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "sg.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings(path, environ={})
    assert fragment in str(info.value)
    assert "hunter2" not in str(info.value)


def test_a_bad_value_given_over_the_file_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_text("workers = 2\n")
    with pytest.raises(SettingsError, match=r"^workers: 0 is below the minimum 1"):
        load_settings(path, environ={}, workers=0)  # as serve --workers 0 passes it
    with pytest.raises(SettingsError, match=r"^STREAM_GUARD_WORKERS: 0 is below"):
        load_settings(path, environ={"STREAM_GUARD_WORKERS": "0"})


def test_a_config_file_that_is_not_utf8_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "sg.toml"
    path.write_bytes("port = 1 # caf\u00e9\n".encode("utf-16"))
    with pytest.raises(SettingsError, match=r"config file .*sg\.toml: not valid TOML"):
        load_settings(path, environ={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"config file .*missing\.toml"):
        load_settings(environ={"STREAM_GUARD_CONFIG": str(tmp_path / "missing.toml")})


def test_override_with_unknown_name_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        load_settings(environ={}, prot=1)


def test_replace_validates_like_any_source() -> None:
    s = load_settings(environ={})
    assert s.replace(port=0).port == 0
    with pytest.raises(SettingsError, match="STREAM_GUARD_PORT"):
        s.replace(port=-1)


def test_redacted_hides_every_secret() -> None:
    s = load_settings(environ={
        "STREAM_GUARD_API_KEYS": f"{KEY_A}:tenant1,{KEY_B}:tenant2",
        "STREAM_GUARD_REDIS_URL": "redis://:hunter2@redis:6379/0", "STREAM_GUARD_WORKERS": "2"})
    shown = s.redacted()
    text = repr(shown)
    for secret in (KEY_A, KEY_B, "hunter2"):
        assert secret not in text
    assert shown["api_keys"] == {"***": "2 key(s)", "tenants": ["tenant1", "tenant2"]}
    assert shown["redis_url"] == "***"
    assert shown["port"] == 8765 and isinstance(shown["data_dir"], str)
    assert set(shown) == set(Settings.__dataclass_fields__)


def test_describe_lists_every_setting_once() -> None:
    rows = describe()
    names = [name for name, _, _ in rows]
    assert len(names) == len(set(names)) == len(Settings.__dataclass_fields__)
    assert all(name.startswith("STREAM_GUARD_") and help_ for name, _, help_ in rows)


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    # `stream-guard settings | head`: printed a BrokenPipeError traceback.
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "stream_guard", "settings", "--table"],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write)
    assert done.returncode == 141 and "Traceback" not in done.stderr, done.stderr


def test_every_variable_the_repository_names_is_a_setting_or_not_the_servers() -> None:
    """A variable the docs, scripts or deploy files name, exported in the shell a server starts
    from, must not stop it as an unknown setting: the image build scripts' own
    (``STREAM_GUARD_BUILD_*``) once did."""
    root = Path(__file__).resolve().parents[1]
    files = [root / "README.md", *root.glob("docs/*.md"), *root.glob("docker/**/*"),
             *root.glob("deploy/**/*"), *root.glob("clients/**/*.py"), *root.glob(".ci/*")]
    named = set()
    for f in files:
        if f.is_file():
            named |= set(re.findall(r"STREAM_GUARD_[A-Z0-9_]*[A-Z0-9]", f.read_text("utf-8")))
    assert "STREAM_GUARD_BUILD_BASE_REFRESH" in named and "STREAM_GUARD_PORT" in named
    unknown = []
    for name in sorted(named - {"STREAM_GUARD_CONFIG"}):
        try:
            load_settings(environ={name: "1"})
        except SettingsError as exc:
            if "unknown setting" in str(exc):
                unknown.append(name)
    assert unknown == []



def test_the_clients_key_variable_is_one_the_settings_leave_alone() -> None:
    """One name for the clients' key (the eval CLI's --api-key default, and the variable the
    server's no-keys warning names when it is set): the server's settings never read it."""
    assert CLIENT_API_KEY_VARIABLE == "STREAM_GUARD_API_KEY"
    assert load_settings(environ={CLIENT_API_KEY_VARIABLE: API_KEY}).api_keys == {}

@pytest.mark.parametrize(("env", "fragment"), [
    ({"STREAM_GUARD_DETECTOR_LABELS": "garbage"}, "STREAM_GUARD_DETECTOR_LABELS: label map"),
    ({"STREAM_GUARD_DETECTOR_LABELS": "sup=1"}, "write it as support=INDEX"),
    ({"STREAM_GUARD_RATE_BURST": "1" + "0" * 26}, "is above the maximum 9007199254740992"),
])
def test_settings_found_wrong_only_when_used_are_refused_at_start(env: dict[str, str],
                                                                  fragment: str) -> None:
    """These passed ``stream-guard settings`` and failed later: the label map only when the
    model loaded (after the port opened), a huge number when written as JSON (a traceback)."""
    with pytest.raises(SettingsError, match=re.escape(fragment)):
        load_settings(environ=env)


def test_a_label_index_the_detector_lacks_is_refused_before_the_port_opens(
        tmp_path: Path) -> None:
    """A review: it was refused once the model loaded, after the port had opened, and the
    message named no setting (then, a second review: named the variable for a file's value)."""
    with pytest.raises(SettingsError, match=r"^STREAM_GUARD_DETECTOR_LABELS: label indices "
                                            r"\[5\] out of range for 2 outputs"):
        load_settings(environ={"STREAM_GUARD_DETECTOR_LABELS": "support=5"})
    path = tmp_path / "sg.toml"
    path.write_text("detector_labels = 'support=5'\n")
    with pytest.raises(SettingsError, match=r"^detector_labels \(config file .*\): label "):
        load_settings(path, environ={})
    load_settings(environ={"STREAM_GUARD_DETECTOR_LABELS": "support=1"})
    load_settings(environ={"STREAM_GUARD_DETECTOR_LABELS": "support=5",
                           "STREAM_GUARD_TIER": "lexical"})  # no detector is loaded


def test_a_model_path_may_start_with_the_home_directory(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = Path(__file__).resolve().parents[1] / "stream_guard" / "models" / "detector"
    shutil.copytree(shipped, tmp_path / "det")
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings(environ={"STREAM_GUARD_DETECTOR": "~/det"})
    assert settings.detector == str(tmp_path / "det")


def test_backend_torch_with_an_onnx_detector_is_refused_before_serving_only(
        tmp_path: Path) -> None:
    """It failed after the port had opened; refused in load_settings it stopped every
    ``index`` command too, which never loads the detector (a review found it)."""
    settings = load_settings(environ={"STREAM_GUARD_BACKEND": "torch"})  # index commands
    with pytest.raises(SettingsError, match="STREAM_GUARD_BACKEND: torch cannot run the det"):
        check_serving(settings)
    check_serving(load_settings(environ={"STREAM_GUARD_BACKEND": "torch",
                                         "STREAM_GUARD_TIER": "lexical"}))
    run = subprocess.run([sys.executable, "-m", "stream_guard", "serve", "--port", "0"],
                         env={**os.environ, "STREAM_GUARD_BACKEND": "torch",
                              "STREAM_GUARD_API_KEYS": f"{API_KEY}:t"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "STREAM_GUARD_BACKEND: torch cannot" in run.stderr
    assert '"event":"listening"' not in run.stderr



def test_a_detector_whose_fusion_this_version_cannot_read_is_refused_before_serving(
        tmp_path: Path) -> None:
    """detector.json's fusion was read only by the engine, once the port was open: the server
    listened and never got ready. `serve` now refuses it first, naming the file."""
    shipped = Path(__file__).resolve().parents[1] / "stream_guard" / "models" / "detector"
    det = tmp_path / "det"
    shutil.copytree(shipped, det)
    meta = json.loads((det / "detector.json").read_text())
    meta["fusion"] = {"model": {"weights": [1.0]}, "lexical": {}}
    (det / "detector.json").write_text(json.dumps(meta))
    run = subprocess.run([sys.executable, "-m", "stream_guard", "serve", "--port", "0"],
                         env={**os.environ, "STREAM_GUARD_DETECTOR": str(det),
                              "STREAM_GUARD_API_KEYS": f"{API_KEY}:t"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "STREAM_GUARD_DETECTOR" in run.stderr and "fusion" in run.stderr
    assert '"event":"listening"' not in run.stderr


async def test_an_unforeseen_failure_to_load_the_scorer_stops_the_server_as_settings_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model file's contents the loaders did not foresee fail again on a restart: such a
    failure (a fault injected here) stops the server with the settings error's one line and
    exit status, not a crash that ``--workers`` restarts for ever (a review). A failure that
    may pass (memory) is raised as it is: a worker is restarted for it."""
    from stream_guard.scoring import factory
    from stream_guard.server.app import Server

    async def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("int() argument must be a string, not 'NoneType'")

    monkeypatch.setattr(factory, "build_engine", broken)
    server = Server(load_settings(environ={"STREAM_GUARD_PORT": "0",
                                           "STREAM_GUARD_DATA_DIR": str(tmp_path)}))
    with pytest.raises(SettingsError, match=r"^cannot load the scorer: TypeError: int\(\)"):
        await asyncio.wait_for(server.serve_forever(), 30)

    async def short_of_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(factory, "build_engine", short_of_memory)
    server = Server(load_settings(environ={"STREAM_GUARD_PORT": "0",
                                           "STREAM_GUARD_DATA_DIR": str(tmp_path)}))
    with pytest.raises(MemoryError):
        await asyncio.wait_for(server.serve_forever(), 30)


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Settings)
                                  if str(f.type) == "bool"])
def test_an_empty_boolean_variable_is_refused(name: str) -> None:
    """A review: ``STREAM_GUARD_CONVERSATION_CHECKS=`` (a deployment template whose source
    variable is unset) read as false, turning a default-on check off over the file's value."""
    label = f"STREAM_GUARD_{name.upper()}"
    with pytest.raises(SettingsError, match=f"^{label}: invalid value ''"):
        load_settings(environ={label: ""})


@pytest.mark.parametrize("name", ["CACHE_DIR", "DATA_DIR"])
def test_a_folder_setting_that_names_a_file_is_refused_by_name(tmp_path: Path,
                                                               name: str) -> None:
    """A review: STREAM_GUARD_CACHE_DIR naming a file failed only once the models loaded,
    "cannot load the scorer: [Errno 20] Not a directory", naming no setting."""
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(SettingsError, match=f"^STREAM_GUARD_{name}: {afile} is not a directory$"):
        load_settings(environ={f"STREAM_GUARD_{name}": str(afile)})
    with pytest.raises(SettingsError, match=f"^STREAM_GUARD_{name}: {afile}/sub cannot be "
                       f"created: {afile} is not a directory$"):
        load_settings(environ={f"STREAM_GUARD_{name}": str(afile / "sub")})
    assert load_settings(environ={f"STREAM_GUARD_{name}": str(tmp_path / "new" / "x")})


@pytest.mark.parametrize("argv", [["--config", "{f}", "settings"], ["--config={f}", "settings"],
                                  ["settings", "--config", "{f}"],
                                  ["--config", "{f}", "index", "ls", "--", "x"]])
def test_the_config_file_may_come_before_or_after_the_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """A new user's "stream-guard --config FILE serve" was refused as an invalid command."""
    from stream_guard.cli import main

    config = tmp_path / "s.toml"
    config.write_text(f'port = 19999\ndata_dir = "{tmp_path}"\n')
    if argv[2:4] == ["index", "ls"]:  # after the command's two words, not after a "--"
        from stream_guard.cli import _config_after_command

        assert _config_after_command(argv) == ["index", "ls", "--config", "{f}", "--", "x"]
        return
    assert main([a.format(f=config) for a in argv]) == 0
    assert json.loads(capsys.readouterr().out)["port"] == 19999


@pytest.mark.parametrize("argv", [["--config", "f.toml"], ["--config", "f.toml", "--help"],
                                  ["--config", "f.toml", "train", "--help"]])
def test_a_config_file_with_no_command_or_for_the_trainer_is_a_usage_error(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from stream_guard.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and "--config" in capsys.readouterr().err


@pytest.mark.parametrize(("variable", "message"), [
    ("LOG_LEVEL", "STREAM_GUARD_LOG_LEVEL: invalid value '' (expected one of debug, info, "
     "warning, error)"),
    ("HOST", "STREAM_GUARD_HOST: invalid value '' (expected a value that is not empty)"),
    ("DATA_DIR", "STREAM_GUARD_DATA_DIR: invalid value '' (expected a path that is not empty)"),
])
def test_an_empty_value_says_what_the_setting_takes(monkeypatch: pytest.MonkeyPatch,
                                                     variable: str, message: str) -> None:
    """A README walk: STREAM_GUARD_LOG_LEVEL= said "(expected str)", Python's name for a
    string, of a setting that takes one of four words."""
    monkeypatch.setenv(f"STREAM_GUARD_{variable}", "")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value) == message
