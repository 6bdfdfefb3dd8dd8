"""What the sentence splitter costs over long documents (every inline context and every chunked
document goes through it at stream set-up); writes JSON.

``sentence_spans`` over the contexts of the first ``--records`` HaluEval summarization records
(CNN/DailyMail articles, about 1 MB), best of ``--repeats`` runs, one thread.

    python -m loadtest.bench_sentences --out loadtest/results/v24/bench-sentences.json
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from loadtest.corpus import DEFAULT_CORPUS
from stream_guard.dataset import iter_records
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.text.sentences import sentence_spans


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path,
                   default=DEFAULT_CORPUS / "halueval_summarization.jsonl")
    p.add_argument("--records", type=int, default=300)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    texts = [r.context for r in itertools.islice(iter_records(args.corpus), args.records)]
    runs = []
    for _ in range(args.repeats):
        began = time.perf_counter()
        for text in texts:
            sentence_spans(text)
        runs.append(time.perf_counter() - began)
    write_report(args.out, {
        "records": len(texts), "chars": sum(map(len, texts)),
        "best_ms": round(min(runs) * 1000, 1), "runs_ms": [round(r * 1000, 1) for r in runs],
        "code_revision": code_revision(), "machine": machine_info()})


if __name__ == "__main__":
    main()
