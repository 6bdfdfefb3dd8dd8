"""How many helper-written friendly lines the server would let through as small talk, JSON.

``small-talk-review-lines.jsonl`` beside this script: 500 lines written for this review by a
helper that saw no code and no probe: 250 of small talk that restates the user's own news
("Twelve years at an agency and now out on your own — a brave leap.", label 1), and 250 in the
same voice that make a claim: the user's news with a claim slipped in ("Forty years married —
and couples celebrating a ruby anniversary get free entry!"), a claim about the user's world
the speaker cannot know ("Don't worry — your mum's blood tests came back normal."), other warm
claims (label 0). Each is judged as the engine judges a window with no evidence word and no
prompt: passed as small talk by the word lists (``stance.chats_about_listener``), or by the
shipped small-talk head where it has the shape (``stance.could_be_small_talk``). Per kind:
how many pass::

    python docs/results/small_talk_review.py --out docs/results/small-talk-review.json
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from stream_guard.config import Settings
from stream_guard.models.embedder import load_embedder
from stream_guard.models.small_talk import load_small_talk_head
from stream_guard.text.stance import chats_about_listener, could_be_small_talk
from stream_guard.text.terms import term_keys

LINES = Path(__file__).resolve().with_name("small-talk-review-lines.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = [json.loads(line) for line in LINES.read_text(encoding="utf-8").splitlines()]
    head = load_small_talk_head()
    assert head is not None, "the package ships the small-talk head"
    embedder = load_embedder("minilm", cache_dir=Settings().cache_dir)
    read = head.small_talk(embedder, [row["text"] for row in rows])
    counted: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    through: dict[str, list[str]] = {}
    for row, by_head in zip(rows, read, strict=True):
        text, kind = row["text"], row["kind"]
        keys = term_keys(text)
        lists = chats_about_listener(text, keys, frozenset())
        shaped = could_be_small_talk(text, keys, frozenset())
        counted[kind] += 1
        if lists or (shaped and by_head):
            passed[kind] += 1
            if row["label"] == 0:
                through.setdefault(kind, []).append(text)
    report = {"passed_as_small_talk": {k: [passed[k], counted[k]] for k in sorted(counted)},
              "claims_passed": through, "head_threshold": head.threshold,
              "command": "python docs/results/small_talk_review.py --out OUT"}
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report["passed_as_small_talk"]))


if __name__ == "__main__":
    main()
