"""The shipped detector in padded batches against one unpadded row at a time; writes JSON.

Two questions, on the same dev pairs (BEGIN-dev records: the first 400 characters of the
context, the first 300 of the response): what each way costs per pair on this CPU, and how far
a pair's probability moves when it shares a padded batch (dynamic int8 quantization takes its
scale from the whole batch). ``OnnxRunner`` runs such a model row by row on a CPU; here its
``per_row`` switch is set both ways.

    python -m loadtest.bench_detector_rows --data ../shared/data/dev \\
        --pairs 128 --out loadtest/results/v4/bench-detector-rows.json
"""

from __future__ import annotations

import sys
import time

from loadtest.bench_scoring import machine_info
from stream_guard.config import load_settings
from stream_guard.dataset import read_records
from stream_guard.eval.results import results_parser, write_report
from stream_guard.models.cross_encoder import CrossEncoderScorer, load_detector
from stream_guard.scores import Pair


def _ms_per_pair(detector: CrossEncoderScorer, pairs: list[Pair], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(pairs), batch):
        detector.score_pairs(pairs[i:i + batch])
    return (time.perf_counter() - started) / len(pairs) * 1000


def main() -> None:
    p = results_parser(__doc__)
    p.add_argument("--pairs", type=int, default=64)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    detector = load_detector("default", cache_dir=load_settings().cache_dir, backend="onnx",
                             device="cpu", intra_op_threads=2)
    runner = detector._runner
    records = read_records(args.data / "begin_dev.jsonl")[:args.pairs]
    pairs = [Pair(r.context[:400], r.response[:300]) for r in records]
    detector.score_pairs(pairs[:8])  # warm up
    result: dict[str, object] = {
        "benchmark": __doc__.split("\n\n")[0],
        "command": "python -m loadtest.bench_detector_rows " + " ".join(sys.argv[1:]),
        "pairs": len(pairs), "repeats": args.repeats}
    # The two ways take turns, repeat after repeat (best of the repeats kept): this machine's
    # speed drifts by a third between minutes, so timing one way after the other would mislead.
    modes = {"padded_batches": False, "row_by_row": True}
    best: dict[tuple[str, int], float] = {}
    for _ in range(args.repeats):
        for mode, per_row in modes.items():
            runner.per_row = per_row  # type: ignore[attr-defined]
            for b in (1, 8, 32):
                ms = _ms_per_pair(detector, pairs, b)
                best[mode, b] = min(best.get((mode, b), ms), ms)
    for mode, per_row in modes.items():
        runner.per_row = per_row  # type: ignore[attr-defined]
        result[f"ms_per_pair_{mode}"] = {str(b): round(best[mode, b], 2) for b in (1, 8, 32)}
        alone = [detector.score_pairs([pr])[0].support for pr in pairs[:32]]
        batched = [s.support for s in detector.score_pairs(pairs[:32])]
        shifts = [abs(a - b) for a, b in zip(alone, batched, strict=True)]
        result[f"support_shift_in_batch_of_32_{mode}"] = {
            "max": round(max(shifts), 4), "mean": round(sum(shifts) / len(shifts), 5)}
    result["machine"] = machine_info()
    write_report(args.out, result)


if __name__ == "__main__":
    main()
