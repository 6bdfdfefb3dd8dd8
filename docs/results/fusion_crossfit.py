"""How the fusion and the halt policy carry over to unseen documents of the tune halves; JSON.

Everything here is fitted on the tune halves only, and without ``--holdout`` judged there too. The
tune records are split in two by their split key (SummEdits: the document), for several seeds;
each half fits, the other half judges, and the two directions are averaged:

* ``fusion``: the mean over the tune sets of the stream AUROC (a stream = its least supported
  window) of the fused score as shipped (the statement features fitted first, the speaker and
  question signals on top, each tune set weighted equally), with all features fitted jointly
  (sets weighted equally, or pooled), without the speaker and question features (the fusion
  before them), and with two of the features the fusion dropped re-derived
  here (the window's content-term count and the share of its adjacent term pairs found in the
  evidence; the third, how many sentences the premise's cover step needed, is no longer
  computed anywhere);
* ``policy``: the halt policy chosen on one half (``calibrate.choose_policy``, with a
  false-halt cap of 3 %, 1 % or 0 % on that half) and its false-halt rate and balanced accuracy
  on the other half;
* ``rules``: the shipped fusion, the fusion without the speaker and question features or
  with them fitted jointly with the rest, and rules tried and not shipped (docs/quality.md),
  each with its own halt policy chosen on one half (3 % cap) and judged on the other: an
  evidence-size feature in the fusion (log of the evidence's sentence count), a lexical veto (a
  window's support is the lower of the fused score and the lexical-only fusion's plus a shift
  chosen with the policy), and windows that state no claim (a question, or only words of
  politeness, with no name or number) skipped.

With ``--holdout`` the same rules, fitted on the whole tune halves, are also judged on the
holdout halves (what was looked at before deciding, as docs/quality.md says), and with
``--dialogue N`` on N records of HaluEval dialogue.

    python docs/results/fusion_crossfit.py --data ../shared/data/dev \\
        --out docs/results/fusion-crossfit-tune.json --holdout --dialogue 600
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import sys
from collections.abc import Callable

import numpy as np

from stream_guard.dataset import Record, read_records
from stream_guard.eval.results import results_parser, write_report
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import StreamRequest
from stream_guard.scoring.fusion import (
    MODEL_FEATURES,
    STANCE_FEATURES,
    Fusion,
    capped,
    window_support,
)
from stream_guard.text.stance import POLITENESS, is_question
from stream_guard.text.terms import terms
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets
from stream_guard.train.metrics import auroc

Groups = calibrate.Groups
SHIPPED = "shipped: statement features, then speaker and question on top, sets weighted equally"
Row = Callable[[Record, calibrate.ScoredWindow], list[float]]


def _pairs(text: str) -> set[tuple[str, str]]:
    keys = [t.key for t in terms(text)]
    return set(itertools.pairwise(keys))


def _subset(groups: Groups, keep: Callable[[Record], bool]) -> Groups:
    out: Groups = {}
    for name, (records, windows) in groups.items():
        index = [i for i, r in enumerate(records) if keep(r)]
        new = {old: n for n, old in enumerate(index)}
        out[name] = ([records[i] for i in index],
                     [calibrate.ScoredWindow(new[w.record], w.start, w.end, w.aligned,
                                             w.model_support)
                      for w in windows if w.record in new])
    return out


def _fit(groups: Groups, row: Row, balanced: bool) -> Fusion:
    rows, labels, weights = [], [], []
    sets = sum(1 for records, windows in groups.values() if windows)
    total = sum(len(w) for _, w in groups.values())
    for records, windows in groups.values():
        known = [(w, y) for w, y in zip(windows, calibrate.window_labels(records, windows),
                                          strict=True) if y is not None]
        for w, y in known:
            rows.append(row(records[w.record], w))
            labels.append(y)
            weights.append(total / sets / len(known) if balanced else 1.0)
    names = tuple(f"f{i}" for i in range(len(rows[0])))
    return Fusion.fit(names, rows, labels, weights)


def _mean_auroc(groups: Groups, row: Row, fusion: Fusion) -> float:
    values = []
    for records, windows in groups.values():
        least = [1.0] * len(records)
        for w in windows:
            least[w.record] = min(least[w.record], fusion.support(row(records[w.record], w)))
        values.append(auroc(least, [r.label for r in records]))
    return float(np.mean(values))


def _folds(seed: int) -> Callable[[Record], int]:
    return lambda r: int(hashlib.sha256(f"{seed}:{r.split_key}".encode()).hexdigest(), 16) % 2


def _states_no_claim(text: str) -> bool:
    found = terms(text)
    if any(t.weight > 1.0 for t in found):
        return False
    return is_question(text) or all(t.key in POLITENESS for t in found)


Rule = Callable[[Groups], tuple[Fusion | None, calibrate.WindowRule | None]]


def _rules(shipped_row: Row, evidence_size: Row, without_stance: Row) -> dict[str, list[Rule]]:
    """Each rule tried: the ways to fit it on a half (the policy picks the best of them)."""
    def shipped(g: Groups) -> tuple[Fusion | None, calibrate.WindowRule | None]:
        return calibrate.fit_fusion(g)[0], None

    def row_fusion(row: Row) -> Rule:
        def fit(g: Groups) -> tuple[Fusion | None, calibrate.WindowRule | None]:
            fusion = _fit(g, row, True)
            return None, lambda r, w: capped(w.aligned.signals, fusion.support(row(r, w)))
        return fit

    def veto(shift: float) -> Rule:
        def fit(g: Groups) -> tuple[Fusion | None, calibrate.WindowRule | None]:
            full, lexical = calibrate.fit_fusion(g)
            return None, lambda _r, w: capped(w.aligned.signals, min(
                full.support(w.aligned.signals.features(w.model_support)),
                lexical.support(w.aligned.signals.features()) + shift))
        return fit

    def no_claim(g: Groups) -> tuple[Fusion | None, calibrate.WindowRule | None]:
        fusion = calibrate.fit_fusion(g)[0]
        return None, lambda _r, w: (
            None if _states_no_claim(w.aligned.text)
            else window_support(w.aligned.signals, w.model_support, fusion))

    return {"shipped": [shipped],
            "without the speaker and question features": [row_fusion(without_stance)],
            "speaker and question fitted jointly with the rest": [row_fusion(shipped_row)],
            "evidence size feature": [row_fusion(evidence_size)],
            "lexical veto": [veto(shift) for shift in (0.0, 0.05, 0.1, 0.2)],
            "no-claim windows skipped": [no_claim]}


def _fit_rule(fits: list[Rule], g: Groups) -> tuple[Fusion | None, calibrate.WindowRule | None,
                                                    calibrate.OperatingPoint]:
    """The rule's best fit on ``g`` and its halt policy (3 % false-halt cap)."""
    best = None
    for fit in fits:
        fusion, rule = fit(g)
        chosen = calibrate.choose_policy(g, fusion, 0.03, rule)
        if best is None or chosen.mean_balanced_accuracy > best[0]:
            best = (chosen.mean_balanced_accuracy, fusion, rule, chosen.point)
    assert best is not None
    return best[1], best[2], best[3]


def _judged(rows: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{k}_{m}": v[m] for k, v in rows.items()
            for m in ("false_halt_rate", "balanced_accuracy")}


def main() -> None:
    p = results_parser(__doc__)
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--holdout", action="store_true",
                   help="also judge the rules, fitted on the tune halves, on the holdout")
    p.add_argument("--dialogue", type=int, default=0,
                   help="also judge them on this many HaluEval dialogue records")
    args = p.parse_args()
    scorer = calibrate.WindowScorer.load()
    engine = scorer.engine
    _, tune, holdout = load_sets(args.data)
    groups = scorer.groups(tune)
    evidence_pairs: dict[str, set[tuple[str, str]]] = {}
    sentences: dict[str, int] = {}
    for records, _ in groups.values():
        for r in records:
            index = engine.prepare(StreamRequest("x", [ContextItem("context", r.context)], None))
            evidence_pairs[r.id] = set().union(*(_pairs(s.text)
                                                 for s in index.sentences.sentences))
            sentences[r.id] = len(index.sentences)

    def sentence_count(r: Record) -> int:
        if r.id not in sentences:
            sentences[r.id] = len(engine.prepare(StreamRequest(
                "x", [ContextItem("context", r.context)], None)).sentences)
        return sentences[r.id]

    def shipped(_r: Record, w: calibrate.ScoredWindow) -> list[float]:
        return w.aligned.signals.features(w.model_support)

    def with_dropped(r: Record, w: calibrate.ScoredWindow) -> list[float]:
        text = r.response[w.start:w.end]
        pairs = _pairs(text)
        share = (sum(1 for q in pairs if q in evidence_pairs[r.id]) / len(pairs)
                 if pairs else 1.0)
        return [*shipped(r, w), math.log1p(len({t.key for t in terms(text)})), share]

    def without_stance(_r: Record, w: calibrate.ScoredWindow) -> list[float]:
        return shipped(_r, w)[:-len(STANCE_FEATURES)]

    def evidence_size(r: Record, w: calibrate.ScoredWindow) -> list[float]:
        return [*shipped(r, w), math.log1p(sentence_count(r))]

    rules = _rules(shipped, evidence_size, without_stance)
    rule_runs: dict[str, list[dict[str, float]]] = {name: [] for name in rules}
    variants: dict[str, tuple[Row, bool]] = {
        "all features fitted jointly, sets weighted equally": (shipped, True),
        "all features fitted jointly, pooled": (shipped, False),
        "without speaker and question, sets weighted equally": (without_stance, True),
        "with window term count and pair share, sets weighted equally": (with_dropped, True),
        "with window term count and pair share, pooled": (with_dropped, False)}
    fusion_scores: dict[str, list[float]] = {name: [] for name in (SHIPPED, *variants)}
    policy: dict[str, list[dict[str, float]]] = {str(cap): [] for cap in (0.03, 0.01, 0.0)}
    for seed in range(args.seeds):
        fold = _folds(seed)
        for side in (0, 1):
            fit_half = _subset(groups, lambda r: fold(r) == side)  # noqa: B023 - used at once
            judge_half = _subset(groups, lambda r: fold(r) != side)  # noqa: B023
            fusion_scores[SHIPPED].append(_mean_auroc(judge_half, shipped,
                                                      calibrate.fit_fusion(fit_half)[0]))
            for name, (row, balanced) in variants.items():
                fusion = _fit(fit_half, row, balanced)
                fusion_scores[name].append(_mean_auroc(judge_half, row, fusion))
            shipped_fusion = calibrate.fit_fusion(fit_half)[0]
            for cap in policy:
                point = calibrate.choose_policy(fit_half, shipped_fusion, float(cap)).point
                policy[cap].append(_judged(calibrate.policy_rows(judge_half, shipped_fusion,
                                                                 point)))
            for name, fits in rules.items():
                rule_fusion, rule, point = _fit_rule(fits, fit_half)
                rule_runs[name].append(_judged(calibrate.policy_rows(judge_half, rule_fusion, point,
                                                                     rule)))
    result = {
        "command": "python docs/results/fusion_crossfit.py " + " ".join(sys.argv[1:]),
        "seeds": args.seeds, "features": list(MODEL_FEATURES),
        "fusion_mean_auroc": {k: round(float(np.mean(v)), 4) for k, v in fusion_scores.items()},
        "policy_judged_on_the_other_half": {
            f"cap {cap}": {m: round(float(np.mean([d[m] for d in runs])), 4) for m in runs[0]}
            for cap, runs in policy.items()},
        "rules_judged_on_the_other_half": {
            name: {m: round(float(np.mean([d[m] for d in runs])), 4) for m in runs[0]}
            for name, runs in rule_runs.items()},
    }
    judges: Groups = {}
    if args.holdout:
        judges.update(scorer.groups(holdout))
    if args.dialogue:
        dialogue = read_records(args.data / "halueval_dialogue.jsonl")
        judges.update(scorer.groups({"halueval_dialogue": random.Random(11).sample(
            dialogue, args.dialogue)}))
    if judges:
        result["rules_fitted_on_tune_judged_elsewhere"] = {}
        for name, fits in rules.items():
            rule_fusion, rule, point = _fit_rule(fits, groups)
            result["rules_fitted_on_tune_judged_elsewhere"][name] = {
                "point": [point.threshold, point.clear_margin, point.run_at_end],
                **_judged(calibrate.policy_rows(judges, rule_fusion, point, rule))}
    write_report(args.out, result)


if __name__ == "__main__":
    main()
