"""Does a window's score rise when the wrong word is taken out? Tune-half AUROC; JSON.

raw_ranking.py found that the detector scores an edited SummEdits window below its supported
twin 77.5 % of the time, yet ranks edited against supported windows at only 0.65: how hard a
sentence is to verify moves its score more than an edit does. A faithful version of the same
sentence would say what score its difficulty alone earns; serving has none. The cheapest
stand-in: the window with one content word dropped (each in turn, negations included). If the
edit is what makes a window unsupported, dropping the edited word should raise its score far
more than dropping any word of a faithful but hard sentence. ``max_gain`` is the largest rise
in the detector's logit over the window's drops.

Reported per tune set (nothing fitted, the holdout unused): the window and stream AUROC of the
detector's own probability, of ``max_gain`` alone (a large gain = unsupported), and of the
logit minus ``alpha`` times the gain for a few alphas (a stream = its least supported window).
One pair a content word: about 14 pairs a window.

    python docs/results/drop_probe.py --data ../shared/data/dev \\
        --out docs/results/drop-probe-tune.json
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from raw_ranking import tune_report

from stream_guard.dataset import Record
from stream_guard.scores import Pair
from stream_guard.text.terms import STOPWORDS
from stream_guard.train import calibrate
from stream_guard.train.metrics import auroc
from stream_guard.train.pairs import UNSUPPORTED

WORD = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]", re.UNICODE)
NEGATIONS = frozenset({"not", "no", "never", "neither", "nor"})
ALPHAS = (0.25, 0.5, 1.0, 2.0)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def drops(text: str) -> list[str]:
    """``text`` with one content word (a negation counts) left out, for each such word."""
    out = []
    for m in WORD.finditer(text):
        word = m.group(0).lower()
        if (word in STOPWORDS and word not in NEGATIONS) or (len(word) < 2
                                                             and not word.isdigit()):
            continue
        out.append(re.sub(r"\s{2,}", " ", text[:m.start()] + text[m.end():]).strip())
    return out


def probe(records: Sequence[Record], scorer: calibrate.WindowScorer) -> dict[str, object]:
    windows = calibrate.score_windows(scorer.engine, records, scorer.pipeline)
    labels = calibrate.window_labels(records, windows)
    pairs: list[Pair] = []
    owner: list[int] = []
    for i, w in enumerate(windows):
        for text in drops(w.aligned.text):
            pairs.append(Pair(w.aligned.premise.text, text))
            owner.append(i)
    assert scorer.engine.model is not None
    gain = [0.0] * len(windows)
    for i, s in zip(owner, scorer.engine.model.score_pairs(pairs), strict=True):
        gain[i] = max(gain[i], logit(s.support) - logit(windows[i].model_support))
    base = [logit(w.model_support) for w in windows]
    scores = {"detector": base, "max_gain_alone": [-g for g in gain]}
    for a in ALPHAS:
        scores[f"logit_minus_{a}_gain"] = [b - a * g for b, g in zip(base, gain, strict=True)]
    return {"windows": len(windows), "pairs": len(pairs),
            **rankings(records, windows, scores, labels)}


def rankings(records: Sequence[Record], windows: Sequence[calibrate.ScoredWindow],
             scores: dict[str, list[float]], labels: Sequence[int | None] | None = None
             ) -> dict[str, dict[str, float]]:
    """Per score (one a window, higher = more supported): the window AUROC of unsupported
    against supported windows, and the stream AUROC of each record's least supported window
    (also second_opinion.py's)."""
    labels = calibrate.window_labels(records, windows) if labels is None else labels
    labelled = [i for i, y in enumerate(labels) if y is not None]
    out = {}
    for name, s in scores.items():
        least: dict[int, float] = {}
        for w, v in zip(windows, s, strict=True):
            least[w.record] = min(least.get(w.record, math.inf), v)
        streams = sorted(least)
        out[name] = {
            "window_auroc": round(auroc([s[i] for i in labelled],
                                       [int(labels[i] == UNSUPPORTED) for i in labelled]), 4),
            "stream_auroc": round(auroc([least[n] for n in streams],
                                        [records[n].label for n in streams]), 4)}
    return out


if __name__ == "__main__":
    tune_report("drop_probe.py", __doc__, lambda tune, scorer: {
        name: probe(records, scorer) for name, records in tune.items()})
