"""``python -m loadtest.run``: N concurrent streams, open-loop paced, precise latencies.

Examples::

    # spawn a lexical-tier server, 100 streams at 30 tokens/s for 30 s, 20 % with a planted claim
    python -m loadtest.run --spawn --tier lexical --streams 100 --duration 30 \\
        --out loadtest/results/lexical-100.json

    # against a running server (its pid for CPU/RSS)
    python -m loadtest.run --url ws://127.0.0.1:8765/v1/stream --api-key KEY --server-pid PID

    python -m loadtest.run --compare A.json B.json

Traffic goes to loopback only unless ``--allow-remote`` is given: a load test is aimed on
purpose, never by a typo.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import secrets
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from loadtest.corpus import ANSWERS, DEFAULT_CORPUS, ScriptBuilder, corpus_files, load_texts
from loadtest.driver import ConnectionDriver, DriverConfig, Recorder
from loadtest.kb import COLLECTION, TENANT, ensure_collection, kb_dir
from loadtest.serverproc import (
    MachineCpu,
    ResourceSampler,
    SpawnedServer,
    sample_all,
    sample_forever,
)
from loadtest.stats import compare_rows, format_table, summarize
from loadtest.wire import is_loopback, mint_ticket, scoring_counts
from stream_guard.client.client import stream_url
from stream_guard.eval.results import code_revision, machine_info
from stream_guard.loop import freeze_heap

DEFAULT_URL = "ws://127.0.0.1:8765/v1/stream"
API_KEY_ENV = "LOADTEST_API_KEY"  # not STREAM_GUARD_*: the server refuses unknown settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m loadtest.run", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                   help="print a ratio table of two result files and exit")
    target = p.add_argument_group("target")
    target.add_argument("--url", default=DEFAULT_URL, type=_stream_url,
                        help=f"server URL, with or without /v1/stream (default {DEFAULT_URL})")
    target.add_argument("--api-key", default=os.environ.get(API_KEY_ENV),
                        help=f"API key (default ${API_KEY_ENV}; generated with --spawn)")
    target.add_argument("--auth", choices=("key", "ticket"), default="key",
                        help="send the key on the upgrade, or mint a ticket per connection")
    target.add_argument("--server-pid", type=int, help="sample this process tree's CPU and RSS")
    target.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback URL (never needed on one machine)")
    spawn = p.add_argument_group("spawned server")
    spawn.add_argument("--spawn", action="store_true", help="start the server for this run")
    spawn.add_argument("--workers", type=int, default=1, help="server worker processes; >1 "
                       "uses STREAM_GUARD_REDIS_URL or starts a throwaway redis-server")
    spawn.add_argument("--tier", choices=("lexical", "cascade"),
                       help="the spawned server's tier (default lexical); a server at --url "
                       "runs its own")
    spawn.add_argument("--ready-timeout", type=float, default=300.0,
                       help="seconds to wait for /readyz (model loading)")
    load = p.add_argument_group("load")
    load.add_argument("--streams", type=int, default=50, help="concurrent streams")
    load.add_argument("--streams-per-conn", type=int, default=8,
                      help="streams multiplexed on one connection (server cap: 8)")
    load.add_argument("--rate", type=float, default=30.0, help="tokens per second per stream")
    load.add_argument("--duration", type=float, default=30.0,
                      help="seconds during which streams start; in-flight ones then finish")
    load.add_argument("--ramp", type=float, default=None,
                      help="first starts spread over this many seconds (default min(5, T/3))")
    load.add_argument("--drain-timeout", type=float, default=60.0,
                      help="seconds after --duration before unfinished connections are cut")
    load.add_argument("--bad-share", type=float, default=0.2,
                      help="share of streams with a planted unsupported sentence")
    load.add_argument("--ping-interval", type=float, default=1.0,
                      help="seconds between app-level pings per connection (pong RTT)")
    load.add_argument("--no-compression", action="store_true",
                      help="do not offer permessage-deflate")
    load.add_argument("--seed", type=int, default=0)
    corpus = p.add_argument_group("corpus")
    corpus.add_argument("--corpus", type=Path, nargs="+", default=[DEFAULT_CORPUS],
                        help="JSONL files or directories of records (default: shared dev data)")
    corpus.add_argument("--corpus-per-file", type=int, default=300,
                        help="contexts (written answers) taken from each corpus file")
    corpus.add_argument("--answers", choices=ANSWERS, default="copied",
                        help="copied: runs of sentences copied from the context (most windows "
                        "settle without the detector); written: the corpus's own faithful "
                        "responses as written, the load of real answers (a halt of one is the "
                        "detector's judgement: false halts are reported, see loadtest.capacity)")
    corpus.add_argument("--collection", action="store_true",
                        help="streams name an evidence collection that holds every corpus "
                        "context instead of sending theirs inline, so each window is searched "
                        "for too (needs --spawn; the collection is indexed once and kept)")
    corpus.add_argument("--kb-root", type=Path, default=None,
                        help="where --collection keeps its indexed collections (default: the "
                        "system's temporary directory)")
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, help="result JSON")
    out.add_argument("--plot", type=Path, help="latency PNG (default: --out with .png)")
    out.add_argument("--label", default="", help="free text stored in the result")
    return p


def _machine() -> dict[str, Any]:
    try:
        loop = f"uvloop {version('uvloop')}"
    except PackageNotFoundError:
        loop = "asyncio"
    return {**machine_info(), "loop": loop, "server_revision": code_revision()}


def _server_env() -> dict[str, str]:
    """Settings the spawned server inherited from this environment, secrets left out."""
    secret = {"STREAM_GUARD_API_KEYS", "STREAM_GUARD_REDIS_URL"}
    return {k: v for k, v in sorted(os.environ.items())
            if k.startswith("STREAM_GUARD_") and k not in secret}


def _spawn_env(args: argparse.Namespace, key: str, connections: int) -> dict[str, str]:
    """Server settings for the run; guards that would cap the load itself are raised."""
    messages_per_conn = args.streams_per_conn * args.rate + 2 / args.ping_interval
    return {
        "STREAM_GUARD_API_KEYS": f"{key}:{TENANT}",
        "STREAM_GUARD_TIER": args.tier,
        "STREAM_GUARD_LOG_LEVEL": os.environ.get("STREAM_GUARD_LOG_LEVEL", "warning"),
        "STREAM_GUARD_MAX_CONNECTIONS": str(max(256, connections + 16)),
        "STREAM_GUARD_MAX_CONNECTIONS_PER_IP": str(max(16, connections + 16)),
        "STREAM_GUARD_RATE_PER_S": str(max(200.0, math.ceil(messages_per_conn * 1.5))),
        # every generated connection comes from 127.0.0.1: the per-address handshake bucket
        # would meter the load generator's own ramp-up, not a client's churn
        "STREAM_GUARD_HANDSHAKE_BURST": str(max(32, 2 * connections)),
        "STREAM_GUARD_HANDSHAKE_RATE_PER_S": str(max(4.0, float(connections))),
    }


def _stream_url(url: str) -> str:
    try:
        return stream_url(url)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def run_load(args: argparse.Namespace) -> dict[str, Any]:
    if not args.allow_remote and not is_loopback(args.url):
        raise SystemExit(f"{args.url}: not a loopback address (use --allow-remote on purpose)")
    if args.collection and not args.spawn:
        raise SystemExit("--collection needs --spawn: the spawned server is given the "
                         "collection indexed from the corpus")
    paragraphs, answers = await asyncio.to_thread(
        load_texts, [f for path in args.corpus for f in corpus_files(path)],
        args.corpus_per_file, args.answers)
    builder = ScriptBuilder.for_server(paragraphs, answers)
    bad_share = args.bad_share
    kb: dict[str, object] | None = None
    if args.collection:
        kb = await asyncio.to_thread(
            ensure_collection, paragraphs, kb_dir(paragraphs, _server_env(), args.kb_root))

    def make_script(rng: random.Random) -> Any:
        return builder.build(rng, rng.random() < bad_share)

    n_conns = math.ceil(args.streams / args.streams_per_conn)
    server: SpawnedServer | None = None
    url, key = args.url, args.api_key
    if args.spawn:
        key = key or "loadtest-" + secrets.token_hex(12)
        env = _spawn_env(args, key, n_conns)
        if kb is not None:
            env["STREAM_GUARD_DATA_DIR"] = str(kb["data_dir"])
        server = SpawnedServer(env, workers=args.workers)
        await server.start(args.ready_timeout)
        assert server.process is not None
        url = f"ws://127.0.0.1:{server.port}/v1/stream"
        args.server_pid = server.process.pid
    if not key:
        raise SystemExit(f"an API key is needed: --api-key or ${API_KEY_ENV}")
    try:
        result = await _measure(args, url, key, n_conns, make_script, server)
    finally:
        if server is not None:
            await server.stop()
    result["config"]["collection"] = kb
    return result


async def _measure(args: argparse.Namespace, url: str, key: str, n_conns: int,
                   make_script: Any, server: SpawnedServer | None) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    samplers = [ResourceSampler(os.getpid(), include_children=False)]
    if args.server_pid:
        samplers.append(ResourceSampler(args.server_pid))
    ramp = args.ramp if args.ramp is not None else min(5.0, args.duration / 3)
    # The corpus read and the modules out of the generator's full collections: one walked them
    # for 59-78 ms mid-run (fifty-eighth session), and a frame received meanwhile reads as that
    # much more latency of the server's.
    freeze_heap()
    t0 = time.monotonic() + 0.5  # connections open before the first stream is due
    rec = Recorder(t0=t0)
    ticket = (lambda: mint_ticket(host, port, key)) if args.auth == "ticket" else None
    cfg = DriverConfig(url=url, headers={} if ticket else {"Authorization": f"Bearer {key}"},
                       rate=args.rate, deadline=t0 + args.duration,
                       ping_interval=args.ping_interval, compression=not args.no_compression,
                       ticket=ticket, collection=COLLECTION if args.collection else None)
    drivers = []
    for c in range(n_conns):
        first = c * args.streams_per_conn
        slots = range(first, min(first + args.streams_per_conn, args.streams))
        starts = [t0 + ramp * g / args.streams for g in slots]
        drivers.append(ConnectionDriver(cfg, c, starts, make_script, rec, args.seed * 100003 + c))
    machine = MachineCpu()
    machine.start()
    for s in samplers:
        s.start()
    sampling = asyncio.create_task(sample_forever(samplers, 1.0))
    tasks = [asyncio.create_task(d.run()) for d in drivers]
    _, pending = await asyncio.wait(tasks, timeout=args.duration + 1 + args.drain_timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    t_end = time.monotonic()
    sampling.cancel()
    await asyncio.to_thread(sample_all, samplers)
    resources = {"generator": samplers[0].summary(), "machine": machine.summary()}
    if len(samplers) > 1:
        resources["server"] = samplers[1].summary()
    # Without --server-pid the server is not measured apart: "others" then includes it.
    measured = sum(r["cpu_mean_pct"] for k, r in resources.items() if k != "machine")
    resources["machine"]["others_include_server"] = "server" not in resources
    resources["machine"]["others_cpu_mean_pct"] = round(
        max(0.0, resources["machine"]["cpu_mean_pct"] - measured), 1)
    result = _result(args, rec, t_end - t0, resources, len(pending), url)
    if server is not None and args.workers == 1:  # one process: its /metrics is the server's
        result["scoring"] = await scoring_counts(host, port)
    if (args.plot or args.out) and rec.timeline:  # nothing measured, nothing to draw
        from loadtest.plot import plot_run

        png = args.plot or args.out.with_suffix(".png")
        title = (f"{args.label or args.tier} · {args.streams} streams × {args.rate:g} tok/s · "
                 f"{args.workers} worker(s)")
        if plot_run(png, title, rec.timeline, samplers[-1].samples if args.server_pid else [],
                    rec.t0):
            result["plot"] = str(png)
    return result


def _result(args: argparse.Namespace, rec: Recorder, elapsed: float,
            resources: dict[str, Any], cut: int, url: str) -> dict[str, Any]:
    c = rec.counts
    bad = c["streams_bad"]
    return {
        "label": args.label,
        "config": {"url": url, "spawn": args.spawn, "tier": args.tier if args.spawn else None,
                   "workers": args.workers if args.spawn else None, "streams": args.streams,
                   "streams_per_conn": args.streams_per_conn, "rate_tokens_per_s": args.rate,
                   "duration_s": args.duration, "bad_share": args.bad_share,
                   "auth": args.auth, "compression": not args.no_compression,
                   "seed": args.seed, "corpus": [str(c) for c in args.corpus],
                   "answers": args.answers,
                   "server_env": _server_env() if args.spawn else None},
        "machine": _machine(),
        "elapsed_s": round(elapsed, 3),
        "streams": {
            "started": c["streams_started"], "done": c["streams_done"],
            "bad": bad, "halted": c["streams_halted"], "halts_correct": c["halts_correct"],
            "halts_wrong_offset": c["halts_wrong_offset"], "missed_halts": c["missed_halts"],
            "halts_from_earlier_window": c["halts_from_earlier_window"],
            "false_halts": c["false_halts"],
            "false_halts_degraded": c["false_halts_degraded"], "refused": c["streams_refused"],
            "deltas_after_halt": c["deltas_after_halt"],
            "aborted": c["streams_aborted"], "windows_unmatched": c["windows_unmatched"],
            "verdicts_supported": c["verdicts_supported"],
            "verdicts_unsupported": c["verdicts_unsupported"],
            "verdicts_contradicted": c["verdicts_contradicted"],
            "verdicts_degraded": c["verdicts_degraded"],
            "degraded_share": round(c["verdicts_degraded"] / max(1, c["verdicts_supported"]
                                    + c["verdicts_unsupported"] + c["verdicts_contradicted"]),
                                    4),
        },
        "rates": {
            # over the whole run, ramp and drain included; offered: what the schedule asks at
            # full load (streams x rate)
            "streams_per_s": round(c["streams_done"] / elapsed, 2),
            "deltas_per_s": round(c["deltas_sent"] / elapsed, 1),
            "offered_deltas_per_s": round(args.streams * args.rate, 1),
            "frames_received_per_s": round(c["frames_received"] / elapsed, 1),
        },
        "latency_ms": {
            "halt": summarize(rec.halt), "verdict": summarize(rec.verdict),
            "halt_from_send": summarize(rec.halt_sent),
            "verdict_from_send": summarize(rec.verdict_sent), "pong": summarize(rec.pong),
        },
        "send_lag_ms": summarize(rec.send_lag),
        "connections": {"opened": c["connections"], "connect_failures": c["connect_failures"],
                        "cut_at_drain_timeout": cut},
        "missed_halt_examples": rec.missed,
        "false_halt_examples": rec.false,
        "errors": dict(rec.errors),
        "close_codes": dict(rec.close_codes),
        "resources": resources,
    }


def unmeasured(result: dict[str, Any]) -> list[str]:
    """What makes a run's figures no measure of the server: streams cut off by the drain
    timeout (a server that stopped answering: their claims were neither halted nor missed),
    frames for windows the script does not cut (another window setting: their latencies are
    unknown), halts at another offset than the planted claim's. Empty: every stream was
    followed to its end (a review: a server frozen mid-run passed with a clean headline)."""
    st, cut = result["streams"], result["connections"]["cut_at_drain_timeout"]
    out = []
    if st["aborted"] or cut:
        out.append(f"{st['aborted']} streams aborted, {cut} connections cut at the drain "
                   "timeout")
    if st["windows_unmatched"]:
        out.append(f"{st['windows_unmatched']} frames for windows the script does not cut "
                   "(the server's window settings differ from this environment's?)")
    if st["halts_wrong_offset"]:
        out.append(f"{st['halts_wrong_offset']} halts at another offset than the planted "
                   "claim's")
    return out


def _abnormal_closes(result: dict[str, Any]) -> dict[str, int]:
    """Connections that ended otherwise than a normal close (1000): refused handshakes
    (``http_401``: a wrong key), server closes, drops."""
    return {code: n for code, n in result["close_codes"].items() if code != "1000"}


def _headline(result: dict[str, Any]) -> str:
    lat, st, res = result["latency_ms"], result["streams"], result["resources"]
    server = res.get("server", {})
    return (f"streams={result['config']['streams']} done={st['done']} "
            f"halt p50/p99={lat['halt']['p50']}/{lat['halt']['p99']} ms "
            f"verdict p50/p99={lat['verdict']['p50']}/{lat['verdict']['p99']} ms "
            f"missed={st['missed_halts']} false={st['false_halts']} "
            f"wrong_offset={st['halts_wrong_offset']} aborted={st['aborted']} "
            f"unmatched={st['windows_unmatched']} "
            f"degraded={st['degraded_share']} refused={st['refused']} "
            f"errors={sum(result['errors'].values())} "
            f"connect_failures={result['connections']['connect_failures']} "
            f"closes={_abnormal_closes(result) or 'none abnormal'} "
            + (f"server cpu={server['cpu_mean_pct']}% rss={server.get('rss_max_mb')} MB "
               if server.get("cpu_mean_pct") is not None
               else "server cpu/rss unmeasured (no --server-pid) ")
            + f"generator cpu={res['generator']['cpu_mean_pct']}% "
            f"other jobs cpu={res['machine']['others_cpu_mean_pct']}% "
            f"steal={res['machine']['steal_mean_pct']}%")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.compare:
        a, b = (orjson.loads(Path(f).read_bytes()) for f in args.compare)
        pa, pb = (Path(f) for f in args.compare)
        names = (pa.stem, pb.stem) if pa.stem != pb.stem else (
            f"{pa.parent.name}/{pa.stem}", f"{pb.parent.name}/{pb.stem}")
        print(format_table(compare_rows(a, b), names))
        return 0
    if args.streams < 1 or args.rate <= 0 or args.duration <= 0:
        raise SystemExit("--streams, --rate and --duration must be positive")
    if args.tier is not None and not args.spawn:
        # it was ignored without a word (a new user's walk): the tier is the server's setting
        raise SystemExit("--tier sets the tier of the server --spawn starts; a server at --url "
                         "runs the tier it was started with (STREAM_GUARD_TIER)")
    args.tier = args.tier or "lexical"

    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        result = asyncio.run(run_load(args))
    else:
        result = uvloop.run(run_load(args))
    payload = orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(payload + b"\n")
    print(_headline(result), file=sys.stderr)
    if not args.out:
        print(payload.decode())
    invalid = unmeasured(result)
    if invalid:
        print(f"loadtest: not a clean measurement: {'; '.join(invalid)}", file=sys.stderr)
        return 1
    if result["connections"]["opened"] == 0:
        # Nothing was measured: a wrong key or URL, or no server, must not read as a clean run.
        print(f"loadtest: no connection was opened ({result['connections']['connect_failures']} "
              f"failed; closes {_abnormal_closes(result) or 'none'}): check --url and the key",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
