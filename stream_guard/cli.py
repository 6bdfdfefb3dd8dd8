"""``stream-guard`` command line: serve, health, index, eval, train, streams, settings."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from stream_guard import __version__
from stream_guard.config import Settings, SettingsError, check_serving, describe, load_settings
from stream_guard.loop import run


def _settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    return load_settings(getattr(args, "config", None), **overrides)


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML settings file")


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from stream_guard import logs
    from stream_guard.scoring.factory import check_engine

    settings = _settings_from(args, host=args.host, port=args.port, workers=args.workers)
    check_serving(settings)
    check_engine(settings)
    logs.configure(settings.log_level)
    logging.getLogger("stream_guard").info("settings", extra={"settings": settings.redacted()})
    if settings.workers > 1:
        from stream_guard.server.workers import run_workers

        return run_workers(settings)
    from stream_guard.server.app import Server

    run(Server(settings, owns_process=True).serve_forever())
    return 0


def _cmd_kill(args: argparse.Namespace) -> int:
    from stream_guard.state import KillTarget, StateUnavailable, create_store

    settings = _settings_from(args)
    if not settings.redis_url:
        print("stream-guard: the kill switch reaches every worker through Redis; set "
              "STREAM_GUARD_REDIS_URL to the server's Redis", file=sys.stderr)
        return 2
    target = KillTarget(tenant=args.tenant, stream_id=args.stream)

    async def publish() -> None:
        store = create_store(settings)
        try:
            await store.publish_kill(target)
        finally:
            await store.close()

    try:
        run(publish())
    except StateUnavailable as exc:
        print(f"stream-guard: the kill was not published: {exc}", file=sys.stderr)
        return 1
    # The servers answer no one (a review read "kill published" on a stream that had already
    # ended as a kill made): say what the kill does and where its effect shows.
    print(f"kill published: tenant={args.tenant} stream={args.stream or '*'}: each server "
          "halts the matching streams open when it reads the kill (reason 'operator', logged as "
          "'stream halted'; counted in stream_guard_streams_halted_total); a stream that has "
          "ended is not affected")
    return 0


def probe_address(settings: Settings) -> tuple[str, int]:
    """Where a probe on this machine reaches the server these settings run: a wildcard bind
    is reached on loopback, a named interface on itself."""
    if settings.port == 0:
        raise SettingsError("port 0 picks a free port at start: a probe needs the fixed port "
                            "the server listens on (STREAM_GUARD_PORT)")
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host,
                                                                     settings.host)
    return host, settings.port


def probe_path(ready: bool) -> str:
    """The route a probe asks: ready for streams, or merely alive (what a restart cures)."""
    return "/readyz" if ready else "/livez"


def _cmd_health(args: argparse.Namespace) -> int:
    """A probe for container runtimes (Docker's HEALTHCHECK): the server's own settings say
    where it listens, so a port set in the TOML file (``STREAM_GUARD_CONFIG``) is found too,
    where a probe that read ``STREAM_GUARD_PORT`` alone knocked on the wrong port."""
    import http.client

    try:
        host, port = probe_address(_settings_from(args, host=args.host, port=args.port))
    except SettingsError as exc:  # Docker reserves exit status 2: unhealthy is 1
        print(f"stream-guard: {exc.headline}{exc}", file=sys.stderr)
        return 1
    path = probe_path(args.ready)
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        probe = http.client.HTTPConnection(host, port, timeout=args.timeout)
        try:
            probe.request("GET", path)
            status = probe.getresponse().status
        finally:
            probe.close()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # refused, timed out, or something that is not an HTTP server answered the port
        said = " ".join(str(exc).split())  # one line, whatever the peer sent
        print(f"stream-guard: {path} on {shown}: {type(exc).__name__}: {said}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"stream-guard: {path} on {shown}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


def _cmd_settings(args: argparse.Namespace) -> int:
    if args.table:
        print("| variable | default | meaning |\n| --- | --- | --- |")
        for name, default, help_text in describe():
            print(f"| `{name}` | `{default}` | {help_text} |")
        return 0
    import orjson

    print(orjson.dumps(_settings_from(args).redacted(), option=orjson.OPT_INDENT_2).decode())
    return 0


_HEALTH_HELP = "probe the server these settings run (exit 0 when it answers 200)"


class _ProbeParser(argparse.ArgumentParser):
    """A usage error exits 1, as an unhealthy server does: Docker reserves exit status 2 of a
    HEALTHCHECK (a review: argparse's 2 for a mistyped option, where the docs promise 1)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def health_parser() -> argparse.ArgumentParser:
    """``stream-guard health``'s own parser: a probe runs every few seconds, so it is parsed
    before the full command line, whose eval and index commands import the server (1.5 s)."""
    parser = _ProbeParser(prog="stream-guard health", description=(
        _HEALTH_HELP + ": for container health checks (Docker's HEALTHCHECK)."))
    _add_config(parser)
    parser.add_argument("--host", help="the server's interface, when not in its settings "
                        "(as `serve --host`)")
    parser.add_argument("--port", type=int, help="the server's port, when not in its settings "
                        "(as `serve --port`)")
    parser.add_argument("--ready", action="store_true",
                        help="probe /readyz (ready for streams) instead of /livez (alive)")
    parser.add_argument("--timeout", type=_positive_seconds, default=2.0, metavar="S",
                        help="seconds to wait for the answer (default 2)")
    parser.set_defaults(func=_cmd_health)
    return parser


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-guard", description=(
        "Streaming oversight for LLM output: halts a stream the moment it is unsupported."))
    parser.add_argument("--version", action="version", version=f"stream-guard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server", description=(
        "Run the server: WebSocket streams, tickets, probes and metrics on one port. Settings "
        "come from STREAM_GUARD_* variables and the TOML file (`stream-guard settings --table` "
        "lists them); these options win over both. SIGTERM or SIGINT drains it (a second one "
        "ends the drain at once), SIGHUP re-reads the evidence collections."))
    _add_config(serve)
    serve.add_argument("--host", help="interface to bind (STREAM_GUARD_HOST)")
    serve.add_argument("--port", type=int, help="port (STREAM_GUARD_PORT)")
    serve.add_argument("--workers", type=int, help="worker processes (STREAM_GUARD_WORKERS)")
    serve.set_defaults(func=_cmd_serve)

    sub.add_parser("health", help=_HEALTH_HELP + "; see `stream-guard health --help`")

    streams = sub.add_parser("streams", help="operate on live streams")
    streams_sub = streams.add_subparsers(dest="streams_command", required=True)
    kill = streams_sub.add_parser("kill", help="halt streams with reason 'operator' on every "
                                  "worker (needs Redis)")
    _add_config(kill)
    kill.add_argument("--tenant", metavar="T", help="every stream of this tenant")
    kill.add_argument("--stream", metavar="ID", help="only this tenant's streams of this id "
                      "(needs --tenant: clients choose ids, and other tenants use the same)")
    kill.set_defaults(func=_cmd_kill)

    from stream_guard.eval.cli import add_eval_command
    from stream_guard.evidence.cli import add_index_commands

    add_index_commands(sub)
    add_eval_command(sub)
    sub.add_parser("train", help="train the default detector (needs the train extra: torch); "
                   "see `stream-guard train --help`")

    show = sub.add_parser("settings", help="print the effective settings (secrets redacted)")
    _add_config(show)
    show.add_argument("--table", action="store_true", help="markdown table of every setting")
    show.set_defaults(func=_cmd_settings)
    return parser


def _usage_error(message: str) -> NoReturn:
    """As argparse says a usage error: on stderr, exit status 2."""
    print(f"stream-guard: error: {message}", file=sys.stderr)
    raise SystemExit(2)


# Commands whose second word names the command too ("index add", "streams kill")
_TWO_WORDS = frozenset({"index", "streams"})


def _config_after_command(argv: list[str]) -> list[str]:
    """``stream-guard --config FILE serve``: each command takes ``--config``, so one given
    before the command goes right after the command's words (it was refused as an "invalid
    choice" of command: a new user; and put at the very end it landed after a "--" among
    paths: a review). The trainer takes no settings file: said so."""
    if argv[:1] == ["--config"]:
        option, rest = argv[:2], argv[2:]
    elif argv[:1] and argv[0].startswith("--config="):
        option, rest = argv[:1], argv[1:]
    else:
        return argv
    if (len(option) < 2 and "=" not in option[0]) or not rest or rest[0].startswith("-"):
        _usage_error("--config FILE goes with a command: stream-guard --config FILE serve (or "
                     "serve --config FILE)")
    if rest[0] == "train":
        _usage_error("train takes no --config: its settings are its own options (stream-guard "
                     "train --help)")
    words = 2 if rest[0] in _TWO_WORDS and len(rest) > 1 and not rest[1].startswith("-") else 1
    return [*rest[:words], *option, *rest[words:]]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = _config_after_command(argv)
    if argv[:1] == ["train"]:  # the trainer owns its whole command line, --help included
        from stream_guard.train.cli import main as train_main

        return train_main(argv[1:])
    health = argv[:1] == ["health"]  # its own parser: see health_parser
    parser = health_parser() if health else build_parser()
    args = parser.parse_args(argv[1:] if health else argv)
    if getattr(args, "func", None) is _cmd_kill and not args.tenant:
        # A stream id alone would halt every tenant's stream of that id: clients choose them,
        # and the README's own example names its stream "s1".
        parser.error("streams kill needs --tenant T (and --stream ID for only that tenant's "
                     "streams of that id)")
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"stream-guard: {exc.headline}{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``stream-guard settings | head``): nothing more to say, and
        # Python's flush of stdout at exit would fail again, so it goes to /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command killed by SIGPIPE (128 + 13)
