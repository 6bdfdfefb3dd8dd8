"""Samples of a py-spy profile by thread and by function, inclusive and self (fifty-eighth
session). The profile: the server under 12 streams of written answers, 40 s at 200 Hz
(``py-spy record -p PID -r 200 -d 40 -f raw --threads -o prof.txt`` beside ``python -m
loadtest.run --url ... --streams 12 --duration 30 --corpus ... --answers written``):

    python docs/results/s58/profile_aggregate.py docs/results/s58/py-spy-12-written.txt.gz
"""

from __future__ import annotations

import collections
import gzip
import re
import sys


def main() -> None:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    with gzip.open(sys.argv[1], "rt") as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            n = int(count)
            total += n
            frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
            threads[frames[0][:60]] += n
            for frame in set(frames[1:]):
                inclusive[frame] += n
            own[frames[-1]] += n
    print(total, "samples")
    for name, n in threads.most_common(10):
        print(n, name)
    print("--- inclusive")
    for name, n in inclusive.most_common(60):
        print(n, name[:160])
    print("--- self")
    for name, n in own.most_common(30):
        print(n, name[:160])


if __name__ == "__main__":
    main()
