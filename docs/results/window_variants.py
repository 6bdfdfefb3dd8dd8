"""Two ways to show the detector its text otherwise, measured and not taken: tune AUROC, JSON.

SummEdits' edits change one clause of a summary sentence, and two of its domains summarise
speech (``qmsumm`` meeting transcripts, ``samsum`` chats), where the shipped detector ranks
worse than chance. Each variant keeps the server's premise builder and scores every pair with
the shipped detector; a stream's score is its least supported window, as the halt rule reads it:

* ``clauses``: a window of several clauses (cut before ", and", ", but", ", which", "; ", and a
  bare "and"/"but" that starts a new subject; every part at least four words) is scored clause
  by clause, each against its own focused premise, and counts as its least supported clause:
  an edit would no longer be diluted by the rest of the sentence. One pair a clause.
* ``spoken``: the evidence with the marks of speech taken out before sentences are cut and
  premises packed (fillers "um", "uh", "mm-hmm"; a word said twice; stutters "w w way"; the
  space before punctuation), so a transcript's premise spends its 100 tokens on what was said.

Reported per tune set and domain (nothing fitted, the holdout unused):

    python docs/results/window_variants.py --data ../shared/data/dev \\
        --out docs/results/window-variants-tune.json
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from raw_ranking import tune_report

from stream_guard.dataset import Record
from stream_guard.protocol.frames import ContextItem
from stream_guard.scores import Pair
from stream_guard.scoring.engine import StreamRequest
from stream_guard.text.terms import terms
from stream_guard.train import calibrate
from stream_guard.train.metrics import auroc

VARIANTS = ("shipped", "clauses", "spoken")
_CLAUSE_BREAK = re.compile(
    r",\s+(?:and|but|while|which|as|with|whereas|although|though|who|where)\s+|;\s+"
    r"|\s+(?:and|but|while|whereas)\s+(?=(?:the|he|she|they|it|we|i|this|his|her|their|[A-Z])\b)")
_MIN_CLAUSE_WORDS = 4
_FILLER = re.compile(r"(?i)(?<![\w'-])(?:u+m+|u+h+|e+r+m+|h+m+|m+-?hm+|uh-huh|mm+|ah+)(?![\w'-])"
                     r"[ ,.]*")
_STUTTER = re.compile(r"(?<!\S)(?:[a-z]\s+)+(?=[a-z]\w+)")
_REPEAT = re.compile(r"(?i)\b(\w+)(?:\s+\1\b)+")
_SPACE_BEFORE_MARK = re.compile(r"\s+([.,?!;:])")


def clauses(text: str) -> list[str]:
    """``text`` cut into clauses of at least four words (a shorter piece joins its neighbour)."""
    parts: list[str] = []
    last = 0
    for m in _CLAUSE_BREAK.finditer(text):
        parts.append(text[last:m.start()])
        last = m.start()
    parts.append(text[last:])
    out: list[str] = []
    for part in parts:
        if out and (len(part.split()) < _MIN_CLAUSE_WORDS
                    or len(out[-1].split()) < _MIN_CLAUSE_WORDS):
            out[-1] += part
        else:
            out.append(part)
    return [p.strip(" ,;") for p in out]


def unspoken(text: str) -> str:
    """``text`` without fillers, repeated words, stutters and spaces before punctuation."""
    text = _STUTTER.sub("", _FILLER.sub("", text))
    text = _SPACE_BEFORE_MARK.sub(r"\1", _REPEAT.sub(r"\1", text))
    return re.sub(r"[ \t]{2,}", " ", text)


def variant_auroc(records: Sequence[Record], scorer: calibrate.WindowScorer
                  ) -> dict[str, object]:
    """Stream AUROC of each variant over ``records``, overall and per domain."""
    engine, pipeline = scorer.engine, scorer.pipeline
    assert engine.model is not None
    pairs: list[Pair] = []
    owners: list[tuple[int, str]] = []
    for n, record in enumerate(records):
        for variant, context in (("shipped", record.context), ("spoken", unspoken(record.context))):
            index = engine.prepare(StreamRequest(
                variant, [ContextItem("context", context)], None)).sentences
            for window in pipeline.windows(record.response):
                scored = {"spoken": [window.text]} if variant == "spoken" else {
                    "shipped": [window.text], "clauses": clauses(window.text)}
                for owner, texts in scored.items():
                    for text in texts:
                        pairs.append(Pair(index.focus(terms(text)).text, text))
                        owners.append((n, owner))
    least: dict[str, dict[int, float]] = {v: {} for v in VARIANTS}
    for (n, variant), score in zip(owners, engine.model.score_pairs(pairs), strict=True):
        least[variant][n] = min(least[variant].get(n, 1.0), score.support)
    groups: dict[str, list[int]] = defaultdict(list)
    for n in least["shipped"]:
        groups["all"].append(n)
        groups[records[n].dataset].append(n)
    return {group: {"records": len(ns), **{
        v: round(auroc([least[v][n] for n in ns], [records[n].label for n in ns]), 4)
        for v in VARIANTS}} for group, ns in sorted(groups.items())}


def compute(tune: dict[str, list[Record]], scorer: calibrate.WindowScorer) -> dict[str, object]:
    return {"stream_auroc": {name: variant_auroc(records, scorer)
                             for name, records in tune.items()}}


if __name__ == "__main__":
    tune_report("window_variants.py", __doc__, compute)
