"""A review's cases against the place and unit checks; JSON.

A helper wrote 167 cases against the first version of the checks (``places-review.jsonl``: 133
faithful answers built to tempt them, 34 wrong ones; each its evidence sentences, the window,
and why), and this runs them as the engine does: the evidence's places read per sentence
(``text.places.sentence_places``), the window against them (``names_another_place``), the
opposites check against the sentences (``swaps_opposite``) and the unit check against their
quantity index (``unit_swapped``). Counts of faithful cases marked and wrong ones caught.

    python docs/results/places_review.py --out docs/results/places-review.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stream_guard.text.opposites import swaps_opposite
from stream_guard.text.places import names_another_place, sentence_places
from stream_guard.text.quantities import quantity_index, unit_swapped
from stream_guard.text.terms import term_keys

CASES = Path(__file__).with_name("places-review.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        evidence: list[str] = case["evidence"]
        window: str = case["window"]
        keys = term_keys("\n".join(evidence))
        places = frozenset().union(*map(sentence_places, evidence))
        marks = {"place": names_another_place(window, places, keys),
                 "swap": swaps_opposite(window, evidence, keys),
                 "unit": unit_swapped(window, quantity_index("\n".join(evidence)), evidence)}
        rows.append({"window": window, "faithful": case["faithful"], **marks,
                     "marked": any(marks.values())})
    summary = {check: {"faithful_marked": sum(r[check] for r in rows if r["faithful"]),
                       "wrong_caught": sum(r[check] for r in rows if not r["faithful"])}
               for check in ("place", "swap", "unit", "marked")}
    report = {"command": "python docs/results/places_review.py --out " + str(args.out),
              "faithful": sum(r["faithful"] for r in rows),
              "wrong": sum(not r["faithful"] for r in rows), "by_check": summary,
              "faithful_marked": [r["window"] for r in rows if r["faithful"] and r["marked"]]}
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
