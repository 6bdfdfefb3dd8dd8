"""How many windows the shipped detector's training encoding (longest-first truncation) gave
other token ids than the server's (the premise alone cut), per dev file.

v3.3 was trained with the trainer's own pair encoder, which cut a long window to share the 128
tokens with its premise; the server keeps the window and cuts the premise. The trainer now
encodes pairs as the server does (``stream_guard/train/encoding.py``); this counts the pairs
the old encoding shaped otherwise, over every window of each file's records (both halves).

    python docs/results/truncation_skew.py --data ../shared/data/dev \
        --out docs/results/truncation-skew.json
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer

from stream_guard.config import load_settings
from stream_guard.dataset import read_records
from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.train.encoding import MAX_LENGTH, pair_tokenizer
from stream_guard.train.pairs import TextPipeline

DETECTOR = Path(__file__).resolve().parents[2] / "stream_guard" / "models" / "detector"
FILES = ("summedits_dev.jsonl", "begin_dev.jsonl", "summedits_train.jsonl")


def main() -> None:
    args = results_parser(__doc__).parse_args()
    before = Tokenizer.from_file(str(DETECTOR / "tokenizer.json"))
    before.no_padding()
    before.enable_truncation(max_length=MAX_LENGTH, strategy="longest_first")
    served = pair_tokenizer(DETECTOR)
    pipeline = TextPipeline.from_settings(load_settings())
    counts = {}
    for name in FILES:
        pairs = [(a.premise.text, a.window.text) for record in read_records(args.data / name)
                 for a in pipeline.align(record)]
        old = before.encode_batch(pairs)
        new = served.encode_pairs([p for p, _ in pairs], [h for _, h in pairs])
        counts[name] = {"windows": len(pairs),
                        "encoded_otherwise": sum(a.ids != b.ids for a, b in zip(old, new,
                                                                               strict=True))}
    write_report(args.out, {"command": "python docs/results/truncation_skew.py --data "
                                       "../shared/data/dev --out docs/results/truncation-skew.json",
                            "machine": machine_info(), "files": counts})


if __name__ == "__main__":
    main()
