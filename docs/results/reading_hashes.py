"""Whether two trees read every record's text alike: for each record of the given sets, a hash
of the terms, term keys, quantities and quantity index of its context and its response, and of
whether each of the response's sentences conflicts with the context's quantities. Run it once
per tree (``PYTHONPATH`` a copy of that tree's ``stream_guard``, cwd elsewhere) and compare the
two JSON files with ``--compare``: a change meant to read only some text differently should
change only the records that hold it.

    PYTHONPATH=/tmp/before python docs/results/reading_hashes.py SETS... --out /tmp/a.json
    PYTHONPATH=/tmp/after python docs/results/reading_hashes.py SETS... --out /tmp/b.json
    python docs/results/reading_hashes.py --compare /tmp/a.json /tmp/b.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from stream_guard.text.quantities import quantities, quantity_conflict, quantity_index
from stream_guard.text.terms import term_keys, terms


def record_hash(context: str, response: str) -> str:
    evidence = quantity_index(context)
    parts = []
    for text in (context, response):
        parts += [repr(sorted(t.key for t in terms(text))), repr(sorted(term_keys(text))),
                  repr(sorted(quantities(text))),
                  repr(sorted((unit, sorted(numbers))
                              for unit, numbers in quantity_index(text).items()))]
    parts += [str(quantity_conflict(sentence, evidence)) for sentence in response.split(". ")]
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sets", nargs="*", type=Path, help="records, .jsonl")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    args = parser.parse_args()
    if args.compare:
        a, b = (json.loads(p.read_text()) for p in args.compare)
        changed = sorted(k for k in a if a[k] != b.get(k))
        print(json.dumps({"records": len(a), "read_differently": changed}, indent=1))
        return
    out = {}
    for path in args.sets:
        for line in path.open():
            record = json.loads(line)
            context = record.get("context") or ""
            if not isinstance(context, str):
                context = json.dumps(context)
            out[f"{path.name}:{record.get('id')}"] = record_hash(context,
                                                                record.get("response") or "")
    args.out.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
