"""``stream-guard eval``: replay labelled records through the server and report halt quality.

By default the server runs in this process (the settings of ``--config`` and ``STREAM_GUARD_*``)
and is reached over loopback; with ``--url`` a running server is evaluated instead. Either way each
record travels the real WebSocket path and is judged by the configuration's detector, policy and
thresholds. In this process the records are replayed faster than real time, so the settings that
only guard a live server's time are turned off (verdict deadlines, overload and rate limits: the
report's ``overrides``) and the figures do not depend on the machine's load; against ``--url``
they are on, and a loaded server degrades late windows to the lexical tier as it would in use.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from stream_guard.client.client import stream_url
from stream_guard.config import CLIENT_API_KEY_VARIABLE, Settings, SettingsError, load_settings
from stream_guard.dataset import Record, RecordError
from stream_guard.eval.local import local_server
from stream_guard.eval.replay import (
    Replayer,
    ReplayError,
    ReplayOptions,
    ReplayOutcome,
    StreamResult,
)
from stream_guard.eval.report import format_table, quality_report, throughput
from stream_guard.eval.results import machine_info, redacted_command
from stream_guard.eval.selection import Selection, load_selection
from stream_guard.exceptions import GuardError
from stream_guard.guard.auth import DEFAULT_TENANT
from stream_guard.loop import run

PROGRESS_EVERY_S = 5.0

T = TypeVar("T")


class EvalUsageError(GuardError, ValueError):
    """The command line asks for something that cannot run; the message says what."""


def add_eval_command(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``eval`` on the ``stream-guard`` command line; it runs through ``args.func``."""
    parser = subparsers.add_parser("eval", help="replay labelled records and report halt quality",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(func=run_eval)
    return parser


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", nargs="+", type=Path, metavar="DATA",
                   help="records, .jsonl or .jsonl.gz (see shared data README for the shape)")
    p.add_argument("--config", metavar="FILE", help="TOML settings file (in-process server, "
                   "and the limits the client keeps to)")
    p.add_argument("--url", help="evaluate a running server, ws://HOST:PORT (the /v1/stream "
                   "path may be given; default: start one in this process)")
    p.add_argument("--api-key", help=f"key for --url (default: ${CLIENT_API_KEY_VARIABLE})")
    p.add_argument("--report", type=Path, metavar="OUT.json", help="write the full JSON report")
    p.add_argument("--per-record", type=Path, metavar="OUT.jsonl",
                   help="write one line per record (outcome, scores, errors)")
    p.add_argument("--collection", metavar="NAME",
                   help="check every record against this evidence collection instead of its "
                   "own context, so retrieval is measured too (build it with `stream-guard "
                   "index add`; the records' own contexts are not sent, and may be left out)")
    p.add_argument("--tenant", metavar="T",
                   help="the tenant whose collection --collection names, for the in-process "
                   f"server (default: {DEFAULT_TENANT}, as `index add`; with --url the key's)")
    p.add_argument("--split", choices=("holdout", "tune", "all"), default="all",
                   help="the trainer's hash split to keep (default: all)")
    p.add_argument("--sample", type=_non_negative_int, metavar="N",
                   help="random sample of N records, stratified by dataset")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample")
    p.add_argument("--limit", type=_non_negative_int, metavar="N",
                   help="only the first N selected records")
    p.add_argument("--concurrency", type=_positive_int, default=16,
                   help="streams in flight, spread over connections (default: 16)")
    p.add_argument("--tokens-per-s", type=_positive_float, metavar="R",
                   help="pace each stream at R tokens/s (default: as fast as possible)")
    p.add_argument("--threshold", type=_unit_float,
                   help="per-stream support threshold (default: the server's)")
    p.add_argument("--target-fhr", type=_target_fhr, default=0.05,
                   help="false-halt rate the threshold sweep aims for (default: 0.05)")
    p.add_argument("--record-timeout", type=_positive_float, default=120.0, metavar="S",
                   help="give up on a record after S seconds (counted as an error)")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stream_guard.eval``."""
    parser = argparse.ArgumentParser(prog="stream-guard eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run_eval(parser.parse_args(argv))


def run_eval(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as outputs:  # the result files' temporaries go, whatever ends it
        return _run_eval(args, outputs)


def _run_eval(args: argparse.Namespace, outputs: contextlib.ExitStack) -> int:
    t0 = time.perf_counter()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        if args.url is not None:
            args.url = _remote_url(args.url)
        api_key = _remote_key(args)
        if args.tenant is not None and (args.url is not None or args.collection is None):
            raise EvalUsageError("--tenant names the --collection's owner for the in-process "
                                 "server (with --url the API key's tenant owns it)")
        settings = load_settings(args.config)
        report_out, rows_out = (
            None if path is None else outputs.enter_context(_Output(option, path))
            for option, path in (("--report", args.report), ("--per-record", args.per_record)))
        selection = load_selection(args.data, split=args.split, sample=args.sample,
                                   seed=args.seed, limit=args.limit,
                                   context_required=args.collection is None)
        if not selection.records:
            raise EvalUsageError("no records selected")
        outcome, server = run(_evaluate(selection.records, settings, args, api_key))
    except ReplayError as exc:
        print(f"stream-guard eval: {exc}", file=sys.stderr)
        return 1
    except (EvalUsageError, SettingsError, RecordError, OSError) as exc:
        print(f"stream-guard eval: {exc}", file=sys.stderr)
        return 2
    quality = quality_report(outcome.results, args.target_fhr)
    speed = throughput(outcome.results, outcome.seconds)
    print(format_table(quality))
    print(f"{len(outcome.results)} records in {outcome.seconds:.1f} s: "
          f"{speed['records_per_s'] or 0:.1f} records/s, {speed['windows_per_s'] or 0:.1f} "
          f"windows/s ({_describe(server)})")
    report = {
        **quality,
        "throughput": speed,
        "stray_errors": dict(outcome.stray_errors),
        "selection": _selection_info(selection),
        "replay": {"concurrency": args.concurrency, "connections_opened":
                   outcome.connections_opened, "tokens_per_s": args.tokens_per_s,
                   "threshold": args.threshold, "record_timeout_s": args.record_timeout,
                   "collection": args.collection},
        "server": {k: v for k, v in server.items() if k != "settings"},
        "settings": server.get("settings"),
        "machine": machine_info(),
        "command": redacted_command(sys.argv),
        "started_at": started_at,
        "elapsed_s": time.perf_counter() - t0,
    }
    try:
        if report_out is not None:
            report_out.commit(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        if rows_out is not None:
            rows_out.commit(b"".join(orjson.dumps(_record_line(r)) + b"\n"
                                     for r in outcome.results))
    except _WriteError as exc:
        print(f"stream-guard eval: {exc}", file=sys.stderr)
        return 1
    failed = [r for r in outcome.results if r.error is not None]
    if failed and len(failed) == len(outcome.results):  # no figure above measures anything
        print(f"stream-guard eval: every record failed (the first: {failed[0].error})",
              file=sys.stderr)
        return 1
    return 0


class _WriteError(GuardError, OSError):
    """A result file could not be written after the run; the message names it."""


class _Output:
    """A result file, opened before the replay: one that cannot be written (a directory, a
    folder without write access) is refused in one line before the run, not found after it
    with the results lost. It is written to a temporary file beside it and renamed into place,
    so an interrupted run never leaves half a report under its name; leaving the context
    removes the temporary file if it was not renamed."""

    def __init__(self, option: str, path: Path) -> None:
        if path.is_dir():
            raise EvalUsageError(f"{option} {path}: is a directory")
        self._path = path
        self._label = f"{option} {path}"
        self._tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self._tmp, "xb")  # noqa: SIM115 (closed by commit or __exit__)
        except OSError as exc:
            raise EvalUsageError(f"{self._label}: cannot be written "
                                 f"({exc.strerror or exc})") from None

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def commit(self, data: bytes) -> None:
        """Write ``data`` and put it in place of the file in one rename."""
        try:
            with self._fh:
                self._fh.write(data)
            os.replace(self._tmp, self._path)
        except OSError as exc:
            raise _WriteError(f"{self._label}: cannot be written ({exc.strerror or exc}); "
                              "the results are lost") from None


async def _evaluate(records: list[Record], settings: Settings, args: argparse.Namespace,
                    api_key: str | None) -> tuple[ReplayOutcome, dict[str, Any]]:
    on_result = _Progress(len(records))
    if args.url is not None:
        assert api_key is not None
        options = _replay_options(args, settings, throttle=True)
        on_result.start()
        outcome = await Replayer(records, args.url, api_key, options, on_result).run()
        return outcome, {"mode": "remote", "url": args.url}
    options = _replay_options(args, settings, throttle=False)
    t0 = time.perf_counter()
    async with local_server(settings, connections=options.connections,
                            tenant=args.tenant or DEFAULT_TENANT) as local:
        startup = time.perf_counter() - t0
        on_result.start()
        outcome = await Replayer(records, local.url, local.api_key, options, on_result).run()
    return outcome, {"mode": "in-process", "tier": local.tier, "threshold": local.threshold,
                     "startup_s": startup, "overrides": local.overrides,
                     "settings": local.settings.redacted()}


def _describe(server: dict[str, Any]) -> str:
    if server["mode"] == "remote":
        return f"remote {server['url']}"
    return f"in-process, tier {server['tier']}, threshold {server['threshold']}"


def _replay_options(args: argparse.Namespace, settings: Settings, *,
                    throttle: bool) -> ReplayOptions:
    """The client keeps to the server's limits as ``settings`` state them; against a remote
    server it also stays under its message rate (the in-process one is not rate limited)."""
    return ReplayOptions(
        concurrency=args.concurrency, streams_per_connection=settings.max_streams_per_connection,
        tokens_per_s=args.tokens_per_s,
        messages_per_s=0.9 * settings.rate_per_s if throttle else None,
        chars_per_connection=settings.max_chars_per_connection,
        max_frame_bytes=settings.max_frame_bytes, record_timeout_s=args.record_timeout,
        threshold=args.threshold, collection=args.collection)


def _remote_url(url: str) -> str:
    """The stream endpoint of ``--url``, given with or without its ``/v1/stream`` path, as the
    client library and locust take it."""
    try:
        return stream_url(url)
    except ValueError as exc:
        raise EvalUsageError(f"--url: {exc}") from None


def _remote_key(args: argparse.Namespace) -> str | None:
    if args.url is None:
        if args.api_key is not None:
            raise EvalUsageError("--api-key needs --url (the in-process server makes its own)")
        return None
    key: str | None = args.api_key or os.environ.get(CLIENT_API_KEY_VARIABLE)
    if not key:
        raise EvalUsageError(f"--url needs --api-key or ${CLIENT_API_KEY_VARIABLE}")
    return key


class _Progress:
    """A line on stderr every few seconds, so a long run shows it is moving."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.errors = 0
        self.start()

    def start(self) -> None:
        """The replay begins: its rate is of the replay alone, as the report's (a review saw
        11.6/s here against the report's 16.8/s: this clock had run while the in-process
        server loaded its models)."""
        self.t0 = self.last = time.perf_counter()

    def __call__(self, result: StreamResult) -> None:
        self.done += 1
        self.errors += result.error is not None
        now = time.perf_counter()
        if now - self.last >= PROGRESS_EVERY_S or self.done == self.total:
            self.last = now
            print(f"eval: {self.done}/{self.total} records, {self.done / (now - self.t0):.1f}/s, "
                  f"{self.errors} errors", file=sys.stderr, flush=True)


def _selection_info(s: Selection) -> dict[str, Any]:
    return {"files": s.files, "records_read": s.read, "selected": len(s.records),
            "split": s.split, "sample": s.sample, "seed": s.seed, "limit": s.limit}


def _record_line(r: StreamResult) -> dict[str, Any]:
    return {"id": r.record.id, "dataset": r.record.dataset, "label": r.record.label,
            "onset": r.record.onset, "chars": len(r.record.response), "halted": r.halted,
            "halt_at": r.halt_at, "halt_window_end": r.halt_window_end,
            "halt_reason": r.halt_reason, "chars_at_halt": r.chars_at_halt,
            "min_score": r.min_score, "windows": r.windows, "seconds": r.seconds,
            "error": r.error}


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _target_fhr(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError("must be in [0, 1)")
    return value
