"""Summarise a py-spy speedscope profile: the functions with the most samples, inclusive and self.

    python docs/profiles/aggregate.py docs/profiles/lexical-100-streams.speedscope.json

Samples are weighted by py-spy's weights; ``--busy`` drops samples whose innermost frame is the
event loop's or a pool thread's wait (py-spy counts those as samples too), so the shares are of
the time the server was actually working.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

IDLE_LEAVES = frozenset({"Runner.run", "_worker", "run"})


def _name(frame: dict[str, object], with_line: bool) -> str:
    file = str(frame.get("file", "")).split("/")[-1]
    where = f"{file}:{frame.get('line', '')}" if with_line else file
    return f"{frame['name']} ({where})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("profile", type=Path)
    p.add_argument("--busy", action="store_true", help="drop idle-wait samples")
    p.add_argument("--top", type=int, default=45)
    args = p.parse_args()
    data = json.loads(args.profile.read_text())
    frames = data["shared"]["frames"]
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0.0
    for prof in data["profiles"]:
        for stack, weight in zip(prof["samples"], prof["weights"], strict=True):
            if not stack or (args.busy and frames[stack[-1]]["name"] in IDLE_LEAVES):
                continue
            total += weight
            for name in {_name(frames[i], True) for i in stack}:
                inclusive[name] += weight
            own[_name(frames[stack[-1]], False)] += weight
    print("total", total)
    print("--- inclusive")
    for name, w in inclusive.most_common(args.top):
        print(f"{100 * w / total:5.1f}% {name}")
    print("--- self")
    for name, w in own.most_common(25):
        print(f"{100 * w / total:5.1f}% {name}")


if __name__ == "__main__":
    main()
