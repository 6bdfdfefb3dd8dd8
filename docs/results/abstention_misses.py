"""Why a probe's right abstentions still halt: each halted faithful answer's halting window,
read by ``text.absence``; writes one JSON file of counts and the windows.

    python docs/results/abstention_misses.py --data ../shared/data/dev \\
        --out docs/results/abstention-misses-probe5.json
    python docs/results/abstention_misses.py --data ../shared/data/dev \\
        --probe abstention-probe6 \\
        --per-record docs/results/probes-45/abstention-probe6.per-record.jsonl \\
        --out docs/results/abstention-misses-probe6.json

(``--data`` is unused: the probe is this folder's ``PROBE.jsonl``, its halts the
``--per-record`` file of ``stream-guard eval --per-record``; by default
``abstention-probe5`` and ``probes-44/abstention-probe5.per-record.jsonl``.) Kinds:
read as an absence statement whose named thing the evidence shares words with (not borne
out); claims beside clauses read as absence statements; no clause read as one.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from stream_guard.eval.results import results_parser, write_report
from stream_guard.text import absence
from stream_guard.text.terms import term_keys

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = results_parser(__doc__)
    parser.add_argument("--probe", default="abstention-probe5")
    parser.add_argument("--per-record", type=Path,
                        default=HERE / "probes-44" / "abstention-probe5.per-record.jsonl")
    args = parser.parse_args()
    records = {r["id"]: r for r in map(json.loads, (
        HERE / f"{args.probe}.jsonl").read_text(encoding="utf-8").splitlines())}
    kinds: Counter[str] = Counter()
    windows = []
    for line in args.per_record.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["label"] != 0 or not row["halted"]:
            continue
        record = records[row["id"]]
        window = record["response"][row["halt_at"]:row["halt_window_end"]]
        clauses = absence._clauses(absence._normal(window)) or ()
        if absence.left_out(window) is not None:
            kind = ("read as one, borne out" if absence.borne_out(window, term_keys(
                record["context"])) else "read as one, not borne out")
        elif any(c.kind not in (None, "referral") for c in clauses):
            kind = "claims beside an absence statement"
        else:
            kind = "not read as one"
        kinds[kind] += 1
        windows.append({"id": row["id"], "kind": kind, "window": window})
    write_report(args.out, {"command": "python docs/results/abstention_misses.py --data DATA "
                            f"--probe {args.probe} --per-record PER_RECORD --out OUT",
                            "kinds": dict(kinds), "windows": windows})


if __name__ == "__main__":
    main()
