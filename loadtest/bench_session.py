"""Benchmark of the pure per-delta protocol path, without sockets; writes one JSON file.

How much of the server's CPU per delta is stream-guard's own protocol work (parsing, the stream
table, the budget, the segmenter) and how much is the socket layer around it: this measures the
first (``Session.receive`` on a delta, as the connection calls it) so it can be set against the
server CPU per delta that ``loadtest.run`` reports under load.

    python loadtest/bench_session.py --out loadtest/results/v2/bench-session.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import orjson

from stream_guard.oversight.session import Session, SessionConfig
from stream_guard.oversight.stream import PolicyConfig
from stream_guard.protocol.frames import Start

TEXT = ("The Eiffel Tower was completed in 1889 in Paris, France. It is 330 metres tall and was "
        "designed by the engineering company of Gustave Eiffel. ")


class _Admit:
    """Admits every stream; its prepared evidence is the stream id (no scorer involved)."""

    def overloaded(self) -> bool:
        return False

    def prepare(self, frame: Start) -> str:
        return frame.stream_id


def run(deltas: int, piece: int, repeats: int) -> dict[str, object]:
    text = TEXT * (deltas * piece // len(TEXT) + 1)
    pieces = [text[i:i + piece] for i in range(0, deltas * piece, piece)]
    messages = [orjson.dumps({"type": "delta", "stream_id": "s1", "seq": i, "text": p}).decode()
                for i, p in enumerate(pieces)]
    per_delta_us = []
    for _ in range(repeats):
        session: Session[str] = Session(SessionConfig(
            8, 10**12, 65536, PolicyConfig(0.5, 0.8, 2, 0.15, 400, 12)), _Admit())
        session.receive(orjson.dumps({"type": "start", "stream_id": "s1",
                                      "context": ["evidence"]}).decode())
        started = time.process_time()
        for message in messages:
            session.receive(message)
        per_delta_us.append((time.process_time() - started) * 1e6 / len(messages))
    return {"benchmark": "Session.receive per delta (CPU time, no sockets)",
            "deltas": deltas, "chars_per_delta": piece, "repeats": repeats,
            "us_per_delta_median": round(statistics.median(per_delta_us), 2),
            "us_per_delta_min": round(min(per_delta_us), 2),
            "machine": {"platform": platform.platform(), "python": platform.python_version(),
                        "processor": platform.processor()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--deltas", type=int, default=5000)
    p.add_argument("--piece", type=int, default=5, help="characters per delta (about a token)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    result = run(args.deltas, args.piece, args.repeats)
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
