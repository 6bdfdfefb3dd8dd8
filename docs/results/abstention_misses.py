"""Why a probe's right abstentions still halt: each halted faithful answer's halting window,
read by ``text.absence``; writes one JSON file of counts and the windows.

    python docs/results/abstention_misses.py --data ../shared/data/dev \\
        --out docs/results/abstention-misses-probe5.json

(``--data`` is unused: the probe is this folder's ``abstention-probe5.jsonl``, its halts the
``probes-44/abstention-probe5.per-record.jsonl`` of ``stream-guard eval --per-record``.) Kinds:
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
    args = results_parser(__doc__).parse_args()
    records = {r["id"]: r for r in map(json.loads, (
        HERE / "abstention-probe5.jsonl").read_text(encoding="utf-8").splitlines())}
    kinds: Counter[str] = Counter()
    windows = []
    for line in (HERE / "probes-44" / "abstention-probe5.per-record.jsonl").read_text(
            encoding="utf-8").splitlines():
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
                            "--out OUT", "kinds": dict(kinds), "windows": windows})


if __name__ == "__main__":
    main()
