"""``python -m loadtest.capacity``: the most concurrent streams one server holds under a target.

Each probe is a full ``loadtest.run`` with a freshly spawned server (no state carried over), so
the answer is reproducible from the probe files it leaves. The search doubles N until a probe
fails (halves it while even the first fails), then bisects between the last pass and the first
fail down to ``--resolution``.

A probe passes when halt latency p99 is under ``--p99-ms``, no planted claim was missed, no
stream was falsely halted (with ``-- --answers written``: none by a degraded verdict; a
faithful answer the detector halts on its own is its judgement, which ``stream-guard eval``
measures, and the probe reports the count), no error frame or abnormal close occurred, and at most
``--max-degraded`` of the verdicts were degraded (the model tier had no time for them and the
lexical tier answered: a server that meets its latency only by skipping the model is not holding
that load on the model tier). A probe whose generator
fell behind its own schedule (send lag p99 over ``--max-send-lag-ms``) is reported as
generator-bound: its latencies would say as much about the generator as about the server.

    python -m loadtest.capacity --tier lexical --workers 1 --out-dir loadtest/results/lexical-1w

Streams that name an evidence collection instead of sending their context (the corpus indexed
once, see ``loadtest.kb``)::

    python -m loadtest.capacity --tier cascade --out-dir loadtest/results/cascade-kb \
        -- --collection
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from loadtest.run import build_parser as run_parser
from loadtest.run import run_load, unmeasured
from stream_guard.eval.results import redacted_command


def verdict(result: dict[str, Any], p99_ms: float, max_lag_ms: float,
            max_degraded: float = 1.0, min_halts: int = 1) -> tuple[bool | None, str]:
    """(passed, why) for one probe; passed is None when it measured no p99: fewer than
    ``min_halts`` halts (a review: two probes passed on one halt)."""
    st = result["streams"]
    degraded = st.get("degraded_share", 0.0)
    halt_p99 = result["latency_ms"]["halt"]["p99"]
    halts = result["latency_ms"]["halt"]["count"]
    lag_p99 = result["send_lag_ms"]["p99"]
    if halt_p99 is None or halts < min_halts:
        return None, f"inconclusive: {halts} halts measured, fewer than {min_halts}"
    problems = unmeasured(result)
    if halt_p99 >= p99_ms:
        problems.append(f"halt p99 {halt_p99:.1f} ms")
    # Of written answers, only a false halt the load caused (a degraded verdict) is a failure.
    false = (st["false_halts_degraded"] if result["config"].get("answers") == "written"
             else st["false_halts"])
    if st["missed_halts"] or false:
        problems.append(f"missed {st['missed_halts']} / false {false} halts")
    if result["errors"] or result["close_codes"] or result["connections"]["connect_failures"]:
        problems.append(f"errors {result['errors']} closes {result['close_codes']}")
    if degraded > max_degraded:
        problems.append(f"degraded verdicts {degraded:.1%}")
    if lag_p99 is not None and lag_p99 > max_lag_ms:
        problems.append(f"generator-bound (send lag p99 {lag_p99:.1f} ms)")
    return (not problems), "; ".join(problems) or f"halt p99 {halt_p99:.1f} ms"


def build_parser() -> argparse.ArgumentParser:
    # defaults shown by --help (a review: no option said what it takes when not given)
    p = argparse.ArgumentParser(prog="python -m loadtest.capacity", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tier", choices=("lexical", "cascade"), default="lexical",
                   help="scoring tier of the spawned server")
    p.add_argument("--workers", type=int, default=1, help="worker processes of the server")
    p.add_argument("--start", type=int, default=25, help="first N probed")
    p.add_argument("--max", type=int, default=4000, help="never probe above this N")
    p.add_argument("--resolution", type=float, default=0.1,
                   help="stop bisecting when fail/pass - 1 is below this")
    p.add_argument("--p99-ms", type=float, default=100.0,
                   help="halt latency p99 a passing probe stays under")
    p.add_argument("--max-send-lag-ms", type=float, default=25.0,
                   help="send lag p99 past which a probe is generator-bound, not a pass")
    p.add_argument("--max-degraded", type=float, default=0.01,
                   help="largest share of degraded verdicts a passing probe may have")
    p.add_argument("--min-halts", type=int, default=10,
                   help="fewest halts a probe's p99 is taken from; fewer: inconclusive, no pass")
    p.add_argument("--duration", type=float, default=30.0,
                   help="seconds during which each probe's streams start (loadtest.run)")
    p.add_argument("--rate", type=float, default=30.0,
                   help="tokens per second per stream (loadtest.run)")
    p.add_argument("--out-dir", type=Path, required=True,
                   help="folder for the probes' result files (nN.json)",
                   default=argparse.SUPPRESS)  # required: no default to show
    p.add_argument("run_args", nargs=argparse.REMAINDER,
                   help="after --, more options for loadtest.run (e.g. -- --bad-share 0.3)")
    return p


def _probe(args: argparse.Namespace, n: int) -> dict[str, Any]:
    extra = [a for a in args.run_args if a != "--"]
    out = args.out_dir / f"n{n}.json"
    run_args = run_parser().parse_args([
        "--spawn", "--tier", args.tier, "--workers", str(args.workers), "--streams", str(n),
        "--rate", str(args.rate), "--duration", str(args.duration), "--out", str(out),
        "--label", f"{args.tier} {args.workers}w N={n}", *extra])
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        import asyncio

        result: dict[str, Any] = asyncio.run(run_load(run_args))
    else:
        result = uvloop.run(run_load(run_args))
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    probes: list[dict[str, Any]] = []
    machine: dict[str, Any] = {}
    duration: list[float] = []  # as the probes ran (an option after "--" may override it)
    collection: dict[str, Any] = {}  # what -- --collection indexed (the same for every probe)
    answers: list[str] = []  # what the streams said (-- --answers)

    def probe(n: int) -> bool:
        """Whether N streams pass; an inconclusive probe ends the search (:class:`_Unmeasured`):
        fewer streams would only give fewer halts."""
        result = _probe(args, n)
        ok, why = verdict(result, args.p99_ms, args.max_send_lag_ms, args.max_degraded,
                          args.min_halts)
        server = result["resources"].get("server", {})
        if not machine:  # the machine and revision, once: every probe runs on the same
            machine.update(result["machine"])
            duration.append(result["config"]["duration_s"])
            collection.update(result["config"].get("collection") or {})
            answers.append(result["config"]["answers"])
        probes.append({"streams": n, "passed": ok, "why": why,
                       "halts": result["latency_ms"]["halt"]["count"],
                       "verdicts": result["latency_ms"]["verdict"]["count"],
                       "halt_p50_ms": result["latency_ms"]["halt"]["p50"],
                       "halt_p99_ms": result["latency_ms"]["halt"]["p99"],
                       "verdict_p50_ms": result["latency_ms"]["verdict"]["p50"],
                       "verdict_p99_ms": result["latency_ms"]["verdict"]["p99"],
                       "deltas_per_s": result["rates"]["deltas_per_s"],
                       "streams_per_s": result["rates"]["streams_per_s"],
                       "degraded_share": result["streams"].get("degraded_share"),
                       "false_halts": result["streams"]["false_halts"],
                       "lexical_share": _lexical_share(result.get("scoring")),
                       "server_cpu_pct": server.get("cpu_mean_pct"),
                       "others_cpu_pct": result["resources"]["machine"]["others_cpu_mean_pct"],
                       "file": f"n{n}.json"})
        print(f"N={n}: {'pass' if ok else 'FAIL' if ok is False else 'INCONCLUSIVE'} ({why})",
              file=sys.stderr)
        if ok is None:
            raise _Unmeasured(n)
        return ok

    best, worst, unmeasured_at = 0, None, None
    try:
        n = args.start
        while n <= args.max:
            if not probe(n):
                worst = n
                break
            # the last doubling past --max probes --max itself (it was never probed)
            best, n = n, (n * 2 if n * 2 <= args.max or n == args.max else args.max)
        while best == 0 and worst is not None and worst > 1:  # even the start failed: halve
            n = worst // 2
            if probe(n):
                best = n
            else:
                worst = n
        while (worst is not None and best and worst - best > 1
               and worst / best - 1 > args.resolution):
            mid = (best + worst) // 2
            if probe(mid):
                best = mid
            else:
                worst = mid
    except _Unmeasured as stop:
        unmeasured_at = stop.streams
    summary = {"tier": args.tier, "workers": args.workers, "rate_tokens_per_s": args.rate,
               "answers": answers[0] if answers else None,
               "p99_target_ms": args.p99_ms, "max_streams_passing": best,
               "first_failing": worst, "inconclusive_at": unmeasured_at,
               "duration_s": duration[0] if duration else args.duration,
               "collection": collection or None, "probes": probes,
               "machine": machine, "command": redacted_command(sys.argv)}
    (args.out_dir / "capacity.json").write_bytes(
        orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    if unmeasured_at is not None:
        print(f"loadtest.capacity: the search stopped at N={unmeasured_at}, which measured too "
              f"few halts for a p99 (--min-halts {args.min_halts}): run longer (--duration) or "
              "plant more claims (-- --bad-share 0.5)", file=sys.stderr)
        return 1
    return 0


def _lexical_share(scoring: dict[str, Any] | None) -> float | None:
    """The share of the spawned server's windows its lexical tier decided though the model
    had time for them: on the cascade, those settled without the detector and those with no
    evidence sentence to pair them with; on the lexical tier, all. None where the run read no
    /metrics (several workers)."""
    if not scoring:
        return None
    tiers = scoring["tier_decisions"]
    total = sum(tiers.values())
    undegraded = tiers.get("lexical", 0) - scoring["degraded_windows"]
    return round(undegraded / total, 3) if total else None


class _Unmeasured(Exception):
    def __init__(self, streams: int) -> None:
        super().__init__(streams)
        self.streams = streams


if __name__ == "__main__":
    sys.exit(main())
