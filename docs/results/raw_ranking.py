"""What the shipped detector is shown, and where its ranking fails: tune-half raw AUROC; JSON.

Nothing here is fitted or uses the holdout. Every figure is the shipped detector's own
P(supported) for a window against a premise, scored through the server's scorer class; a
stream's score is its least supported window, as the halt rule reads it.

``premise_variants``. The server builds one focused premise per window by lexical set cover
(:meth:`stream_guard.evidence.premise.SentenceIndex.focus`). Issue #11 asked for "BM25 plus
dense similarity where the embedder is on"; this measures whether dense similarity, or a second
premise, would let the detector rank better. Every variant packs the same character budget:

* ``shipped``: the lexical set cover the server uses;
* ``dense``: the sentences most similar to the window by all-MiniLM-L6-v2 cosine, best first;
* ``lexical_plus_dense``: ranked by the mean of the cover's relevance (the rarity-weighted share
  of the window's terms a sentence holds) and the cosine;
* ``cover_first_dense_fill``: the cover's first sentence, then the most similar ones;
* ``two_premises_max``: the better of the shipped premise and a second one focused on the
  sentences the first left out (two pairs a window, twice the model's work).

``edit_pairs`` (``summedits_dev`` only). SummEdits edits one seed summary per document many
times, so most edited windows have a nearly identical supported window in another summary of the
same document:

* ``pairs``: each edited window (the window holding a hallucinated summary's onset) paired with
  the supported window of the same document most like it (word Jaccard >= 0.6, not the same
  text), and how often the edit scores lower; per domain;
* ``window_auroc``: edited windows against supported windows, ranked within each document (mean
  over documents, each weighted by its pairs) and across the whole half pooled. A ranking good
  within documents and poor pooled would mean one threshold is the problem, not the comparison.

    python docs/results/raw_ranking.py --data ../shared/data/dev \\
        --out docs/results/raw-ranking-tune.json
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from stream_guard.config import load_settings
from stream_guard.dataset import Record
from stream_guard.eval.results import machine_info, write_report
from stream_guard.evidence.premise import EvidenceSentence, SentenceIndex
from stream_guard.models.embedder import Embedder, load_embedder
from stream_guard.protocol.frames import ContextItem
from stream_guard.scores import Pair
from stream_guard.scoring.engine import StreamRequest
from stream_guard.text.terms import terms
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets
from stream_guard.train.metrics import auroc

VARIANTS = ("shipped", "dense", "lexical_plus_dense", "cover_first_dense_fill",
            "two_premises_max")


def packed(sentences: Sequence[EvidenceSentence], order: Sequence[int], budget: int) -> str:
    """The sentences in ``order`` that fit ``budget`` characters, as the cover packs them (a
    first sentence longer than the budget is cut)."""
    chosen: list[str] = []
    used = 0
    for i in order:
        text = sentences[i].text
        if not chosen:
            text = text[:budget]
        elif used + len(text) > budget:
            continue
        chosen.append(text)
        used += len(text) + 1
    return " ".join(chosen)


def relevance(window: str, sentences: Sequence[EvidenceSentence], idf: SentenceIndex
              ) -> np.ndarray:
    """The cover's relevance of each sentence to ``window``: the share of the window's
    rarity-weighted terms it holds (0-1)."""
    window_terms = terms(window)
    if not window_terms:
        return np.zeros(len(sentences))
    ranked = idf.focus(window_terms, 10**9)  # an unbounded budget: every candidate, ranked
    by_text = dict(zip((s.text for s in ranked.sentences), ranked.relevance, strict=True))
    return np.array([by_text.get(s.text, 0.0) for s in sentences])


def window_support(records: Sequence[Record], scorer: calibrate.WindowScorer,
                   embedder: Embedder) -> list[tuple[int, dict[str, float]]]:
    """Per window of ``records``: its record and the detector's P(supported) under each variant."""
    engine, pipeline = scorer.engine, scorer.pipeline
    budget = pipeline.premise_max_chars
    pairs: list[Pair] = []
    owners: list[tuple[int, str]] = []  # (window number, variant) per pair
    windows: list[int] = []  # the record of each window
    for n, record in enumerate(records):
        evidence = engine.prepare(StreamRequest("premise", [ContextItem("context",
                                                                        record.context)], None))
        index = evidence.sentences
        sentences = index.sentences
        texts = [w.text for w in pipeline.windows(record.response)]
        if not texts or not sentences:
            continue
        cosine = embedder.embed(texts) @ embedder.embed([s.text for s in sentences]).T
        for k, text in enumerate(texts):
            shipped = index.focus(terms(text), budget)
            dense = [int(i) for i in np.argsort(-cosine[k], kind="stable")]
            mixed = 0.5 * relevance(text, sentences, index) + 0.5 * cosine[k]
            first = [sentences.index(shipped.sentences[0])] if (
                shipped.sentences and shipped.sentences[0] in sentences) else []
            used = {s.text for s in shipped.sentences}
            rest = [s for s in sentences if s.text not in used]
            premises = {
                "shipped": shipped.text,
                "dense": packed(sentences, dense, budget),
                "lexical_plus_dense": packed(
                    sentences, [int(i) for i in np.argsort(-mixed, kind="stable")], budget),
                "cover_first_dense_fill": packed(
                    sentences, first + [i for i in dense if i not in first], budget),
                "second": SentenceIndex(rest).focus(terms(text), budget).text if rest else "",
            }
            for variant, premise in premises.items():
                if premise:
                    pairs.append(Pair(premise, text))
                    owners.append((len(windows), variant))
            windows.append(n)
    assert engine.model is not None
    scores: list[dict[str, float]] = [{} for _ in windows]
    for (w, variant), s in zip(owners, engine.model.score_pairs(pairs), strict=True):
        scores[w][variant] = s.support
    for row in scores:
        row["two_premises_max"] = max(row["shipped"], row.get("second", 0.0))
    return list(zip(windows, scores, strict=True))


def premise_variants(records: Sequence[Record], scorer: calibrate.WindowScorer,
                     embedder: Embedder) -> dict[str, object]:
    """Raw AUROC of each premise variant over ``records``."""
    rows = window_support(records, scorer, embedder)
    least: dict[str, dict[int, float]] = {v: {} for v in VARIANTS}
    for n, row in rows:
        for v in VARIANTS:
            least[v][n] = min(least[v].get(n, 1.0), row[v])
    streams = sorted(least["shipped"])
    return {"records": len(streams), "windows": len(rows),
            "raw_auroc": {v: round(auroc([least[v][n] for n in streams],
                                         [records[n].label for n in streams]), 4)
                          for v in VARIANTS}}


MIN_JACCARD = 0.6


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def document_windows(records: list[Record], scorer: calibrate.WindowScorer
                     ) -> tuple[list[str], list[str]]:
    """One document's edited windows and its distinct supported windows."""
    edited: list[str] = []
    supported: list[str] = []
    for r in records:
        for w in scorer.pipeline.windows(r.response):
            if r.label == 0 and w.text not in supported:
                supported.append(w.text)
            elif r.label == 1 and r.onset is not None and w.start <= r.onset < w.end:
                edited.append(w.text)
    return edited, supported


def edit_pairs(records: Sequence[Record], scorer: calibrate.WindowScorer) -> dict[str, object]:
    """How often an edit scores below its supported twin, and the window ranking within
    documents and pooled (see the module docstring)."""
    model = scorer.engine.model
    assert model is not None
    by_doc: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_doc[r.split_key].append(r)
    pair_wins: dict[str, list[float]] = defaultdict(list)
    within: list[tuple[float, int]] = []  # (document's AUROC, its edited x supported pairs)
    pooled_scores: list[float] = []
    pooled_labels: list[int] = []
    for doc in by_doc.values():
        evidence = scorer.engine.prepare(StreamRequest(
            "edit-pairs", [ContextItem("context", doc[0].context)], None))
        edited, supported = document_windows(doc, scorer)
        texts = edited + supported
        support = dict(zip(texts, (s.support for s in model.score_pairs(
            [Pair(evidence.sentences.focus(terms(t)).text, t) for t in texts])), strict=True))
        if edited and supported:
            labels = [1] * len(edited) + [0] * len(supported)
            within.append((auroc([support[t] for t in texts], labels),
                           len(edited) * len(supported)))
            pooled_scores += [support[t] for t in texts]
            pooled_labels += labels
        for t in edited:
            twin = max(supported, key=lambda s: jaccard(words(t), words(s)), default=None)
            if twin is None or twin == t or jaccard(words(t), words(twin)) < MIN_JACCARD:
                continue
            lower = support[t] < support[twin]
            pair_wins[doc[0].dataset].append(1.0 if lower else
                                             0.5 if support[t] == support[twin] else 0.0)
    everything = [w for wins in pair_wins.values() for w in wins]
    return {
        "pairs": {
            "pairs": len(everything),
            "edit_scored_lower": round(sum(everything) / len(everything), 3),
            "by_domain": {d: {"pairs": len(w), "edit_scored_lower": round(sum(w) / len(w), 3)}
                          for d, w in sorted(pair_wins.items())},
        },
        "window_auroc": {
            "documents": len(within),
            "within_documents": round(sum(a * n for a, n in within)
                                      / sum(n for _, n in within), 4),
            "pooled": round(auroc(pooled_scores, pooled_labels), 4),
        },
    }


Compute = Callable[[dict[str, list[Record]], calibrate.WindowScorer], dict[str, object]]


def tune_report(script: str, doc: str, compute: Compute) -> None:
    """A tune-half probe's command line (``--data``, ``--out``): ``compute`` over the tune
    halves with the shipped detector, written as JSON with its command, machine and time (also
    drop_probe.py's)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    started = time.time()
    _, tune, _ = load_sets(args.data, training=False)
    result = compute(tune, calibrate.WindowScorer.load())
    result.update({
        "command": f"python docs/results/{script} --data ../shared/data/dev --out {args.out}",
        "machine": machine_info(),
        "elapsed_s": round(time.time() - started, 1)})
    write_report(args.out, result)


def ranking(tune: dict[str, list[Record]], scorer: calibrate.WindowScorer
            ) -> dict[str, object]:
    embedder = load_embedder("minilm", cache_dir=load_settings().cache_dir)
    return {"premise_variants": {name: premise_variants(records, scorer, embedder)
                                 for name, records in tune.items()},
            "edit_pairs": edit_pairs(tune["summedits_dev"], scorer)}


if __name__ == "__main__":
    tune_report("raw_ranking.py", __doc__, ranking)
