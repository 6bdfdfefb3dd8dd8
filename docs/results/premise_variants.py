"""Which evidence sentences should the detector read? Premise choices on the tune halves; JSON.

The server builds one focused premise per window by lexical set cover
(:meth:`stream_guard.evidence.premise.SentenceIndex.focus`). Issue #11 asked for "BM25 plus
dense similarity where the embedder is on"; this measures whether dense similarity, or a second
premise, would let the shipped detector rank better. Every variant packs its sentences into the
same character budget and is scored by the shipped detector through the server's scorer class,
window by window; a stream's score is its least supported window, as the halt rule reads it:

* ``shipped``: the lexical set cover the server uses;
* ``dense``: the sentences most similar to the window by all-MiniLM-L6-v2 cosine, best first;
* ``lexical_plus_dense``: ranked by the mean of the cover's relevance (the rarity-weighted share
  of the window's terms a sentence holds) and the cosine;
* ``cover_first_dense_fill``: the cover's first sentence, then the most similar ones;
* ``two_premises_max``: the better of the shipped premise and a second one focused on the
  sentences the first left out (two pairs a window, twice the model's work).

Raw detector AUROC only (no fusion, no policy): the question is what the model is shown.
Tune halves only; nothing here is fitted.

    python docs/results/premise_variants.py --data ../shared/data/dev \\
        --out docs/results/premise-variants-tune.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stream_guard.config import load_settings
from stream_guard.dataset import Record
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    started = time.time()
    _, tune, _ = load_sets(args.data, training=False)
    scorer = calibrate.WindowScorer.load()
    embedder = load_embedder("minilm", cache_dir=load_settings().cache_dir)
    result: dict[str, object] = {}
    for name, records in tune.items():
        rows = window_support(records, scorer, embedder)
        least: dict[str, dict[int, float]] = {v: {} for v in VARIANTS}
        for n, row in rows:
            for v in VARIANTS:
                least[v][n] = min(least[v].get(n, 1.0), row[v])
        streams = sorted(least["shipped"])
        result[name] = {
            "records": len(streams),
            "windows": len(rows),
            "raw_auroc": {v: round(auroc([least[v][n] for n in streams],
                                         [records[n].label for n in streams]), 4)
                          for v in VARIANTS},
        }
        print(name, json.dumps(result[name]), flush=True)
    result["command"] = ("python docs/results/premise_variants.py --data ../shared/data/dev "
                         f"--out {args.out}")
    result["machine"] = {"platform": platform.platform(), "python": platform.python_version(),
                         "cpus": os.cpu_count()}
    result["elapsed_s"] = round(time.time() - started, 1)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
