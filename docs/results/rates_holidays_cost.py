"""What the forty-seventh session's text rules cost a stream's evidence and windows: holidays
(``text.holidays``: each evidence sentence indexed by ``holiday_keys``, each text read for
figures through ``with_dates``) and rates (``text.rates``: the evidence's rates indexed once per
stream by ``rates``), against what was there before; JSON.

Times on the sentences of HaluEval summarization's source articles (long news prose), best of
``--rounds``, in microseconds a sentence, and ``quantity_index`` (the whole figure index, rates
inside) against ``rates`` alone on the articles, in microseconds an article:

    python docs/results/rates_holidays_cost.py --data ../shared/data/dev \\
        --out docs/results/rates-holidays-cost.json
"""

from __future__ import annotations

import sys

from initials_cost import cost_args, news_articles, sentences_of  # (a script beside this one)

from stream_guard.eval.results import best_microseconds, machine_info, write_report
from stream_guard.text.holidays import holiday_keys, with_dates
from stream_guard.text.quantities import _quantity_text, quantity_index
from stream_guard.text.rates import rates
from stream_guard.text.terms import term_keys


def main(argv: list[str] | None = None) -> int:
    args = cost_args(__doc__, argv)
    articles = news_articles(args.data, args.articles)
    sentences = sentences_of(articles)
    canonical = [_quantity_text(text, both_readings=True, halves=True) for text in articles]
    write_report(args.out, {
        "articles": len(articles), "sentences": len(sentences), "rounds": args.rounds,
        "term_keys_us_per_sentence": best_microseconds(term_keys, sentences, args.rounds),
        "holiday_keys_us_per_sentence": best_microseconds(holiday_keys, sentences, args.rounds),
        "with_dates_us_per_sentence": best_microseconds(with_dates, sentences, args.rounds),
        "quantity_index_us_per_article": best_microseconds(quantity_index, articles, args.rounds),
        "rates_us_per_article": best_microseconds(rates, canonical, args.rounds),
        "mean_article_chars": round(sum(map(len, articles)) / len(articles)),
        "machine": machine_info()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
