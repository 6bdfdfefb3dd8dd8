"""What indexing an evidence sentence costs with its names' initials (the forty-sixth session's
``text.initials``), against its words alone; JSON.

Every stream's inline evidence (and every collection passage a window finds) is cut into
sentences, each indexed by ``EvidenceSentence.of``: its ``term_keys`` and, since the forty-sixth
session, ``name_initials``. Times both on the sentences of HaluEval summarization's source
articles (long news prose, many names), best of ``--rounds``, in microseconds a sentence:

    python docs/results/initials_cost.py --data ../shared/data/dev \\
        --out docs/results/initials-cost.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stream_guard.dataset import read_records
from stream_guard.eval.results import (
    best_microseconds,
    machine_info,
    results_parser,
    write_report,
)
from stream_guard.text.initials import name_initials
from stream_guard.text.sentences import sentence_spans
from stream_guard.text.terms import term_keys


def cost_args(doc: str | None, argv: list[str] | None) -> argparse.Namespace:
    """The options of a text rule's cost script: ``--data``, ``--out``, how many of HaluEval
    summarization's source articles (``--articles``) and timing rounds (``--rounds``)."""
    parser = results_parser(doc)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args(argv)


def news_articles(data: Path, count: int) -> list[str]:
    """The first ``count`` source articles of HaluEval summarization (long news prose)."""
    return [r.context for r in read_records(data / "halueval_summarization.jsonl")[:count]]


def sentences_of(texts: list[str]) -> list[str]:
    return [text[a:b] for text in texts for a, b in sentence_spans(text)]


def main(argv: list[str] | None = None) -> int:
    args = cost_args(__doc__, argv)
    sentences = sentences_of(news_articles(args.data, args.articles))
    keys = best_microseconds(term_keys, sentences, args.rounds)
    initials = best_microseconds(name_initials, sentences, args.rounds)
    write_report(args.out, {
        "sentences": len(sentences), "rounds": args.rounds,
        "term_keys_us": keys, "name_initials_us": initials,
        "initials_share_of_term_keys": round(initials / keys, 3),
        "initials_keys_per_sentence": round(
            sum(len(name_initials(s)) for s in sentences) / len(sentences), 2),
        "machine": machine_info()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
