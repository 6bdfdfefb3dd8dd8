"""What the forty-eighth session's rule costs (``text.hours``: the lengths of the evidence's
ranges of times, read once per stream by ``clock_spans`` inside ``quantity_index``; a window's
durations matched to them by ``drop_spans``), against the whole figure index; JSON.

Times, best of ``--rounds``, in microseconds: ``quantity_index`` and ``clock_spans`` an article
on HaluEval summarization's source articles (long news prose, few times of day), the same a
context on the timetables and opening hours of the blind probe
(``docs/results/time-spans-probe10.jsonl``), and ``drop_spans`` a window on that probe's
answers against their contexts' spans:

    python docs/results/hours_cost.py --data ../shared/data/dev --out docs/results/hours-cost.json
"""

from __future__ import annotations

import sys
from pathlib import Path

from initials_cost import cost_args, news_articles  # (a script beside this one)

from stream_guard.dataset import read_records
from stream_guard.eval.results import best_microseconds, machine_info, write_report
from stream_guard.text.hours import SPANS, clock_spans, drop_spans
from stream_guard.text.quantities import quantity_index

PROBE = Path(__file__).resolve().parent / "time-spans-probe10.jsonl"


def main(argv: list[str] | None = None) -> int:
    args = cost_args(__doc__, argv)
    articles = news_articles(args.data, args.articles)
    probe = read_records(PROBE)
    contexts = [r.context for r in probe]

    windows = [(r.response, spans) for r in probe
               if (spans := quantity_index(r.context).get(SPANS))]
    write_report(args.out, {
        "articles": len(articles), "probe_contexts": len(contexts),
        "windows_with_spans": len(windows), "rounds": args.rounds,
        "quantity_index_us_per_article": best_microseconds(quantity_index, articles,
                                                           args.rounds),
        "clock_spans_us_per_article": best_microseconds(clock_spans, articles, args.rounds),
        "quantity_index_us_per_context": best_microseconds(quantity_index, contexts,
                                                           args.rounds),
        "clock_spans_us_per_context": best_microseconds(clock_spans, contexts, args.rounds),
        "drop_spans_us_per_window": best_microseconds(lambda p: drop_spans(*p), windows,
                                                      args.rounds),
        "machine": machine_info()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
