"""A rule tried and not kept: an unsupported window that writes a figure the evidence does not
state (after the quantity reader's hedged and worked-out figures are set aside) halts at once,
as a clearly unsupported one does, instead of waiting for a second unsupported window.

Each set's windows are aligned and scored once by the shipped detector (the engine's own steps,
as ``stream-guard train --out`` does) and the server's halt policy is simulated with and without
the rule, at the shipped operating point: the dev tune and holdout halves, and every probe in
docs/results (the review sets aside). Writes one JSON file.

    python docs/results/novel_figure_rule.py --data ../shared/data/dev \\
        --out docs/results/novel-figure-rule.json
"""

from __future__ import annotations

import json
from pathlib import Path

from stream_guard.dataset import Record, read_records
from stream_guard.eval.results import results_parser, write_report
from stream_guard.scoring.fusion import MODEL_FEATURES, Fusion, window_support
from stream_guard.text.quantities import drop_worked_out, quantity_index, resolve_hedged_numbers
from stream_guard.text.terms import NUMBER_WEIGHT, known, term_keys, terms
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets

RESULTS = Path(__file__).resolve().parent
DETECTOR = RESULTS.parents[1] / "stream_guard" / "models" / "detector"


def main() -> None:
    args = results_parser(__doc__).parse_args()
    shipped = json.loads((DETECTOR / "detector.json").read_text())
    fusion = Fusion.from_json(shipped["fusion"]["model"], MODEL_FEATURES)
    point = calibrate.OperatingPoint(shipped["threshold"], shipped["clear_margin"],
                                     shipped["run_at_end"])
    _, tune, holdout = load_sets(args.data, training=False)
    probes = {p.stem: read_records(p) for p in sorted(RESULTS.glob("*.jsonl"))
              if ".meta" not in p.name and "review" not in p.name}
    sets = {**{f"tune/{k}": v for k, v in tune.items()},
            **{f"holdout/{k}": v for k, v in holdout.items()}, **probes}
    groups = calibrate.WindowScorer.load(str(DETECTOR / "model.onnx")).groups(sets)
    evidence: dict[int, tuple[frozenset[str], dict[str, frozenset[str]]]] = {}

    def rule(record: Record, window: calibrate.ScoredWindow) -> tuple[float, float]:
        support, contradiction = window_support(window.aligned.signals, window.model_support,
                                                fusion)
        if support >= point.threshold:
            return support, contradiction
        if id(record) not in evidence:
            context = (record.context if isinstance(record.context, str)
                       else json.dumps(record.context))
            evidence[id(record)] = (term_keys(context), quantity_index(context))
        keys, known_figures = evidence[id(record)]
        text = drop_worked_out(resolve_hedged_numbers(window.aligned.text, known_figures),
                               known_figures)
        novel = any(t.weight >= NUMBER_WEIGHT and t.key[:1].isdigit() and not known(t.key, keys)
                    for t in terms(text))
        return (0.0 if novel else support), contradiction

    rows = {name: {"shipped": calibrate.policy_rows({name: group}, fusion, point)[name],
                   "with_rule": calibrate.policy_rows({name: group}, fusion, point,
                                                      rule=rule)[name]}
            for name, group in groups.items()}
    write_report(args.out, {
        "what": (__doc__ or "").split("\n\n")[0], "rows": rows,
        "command": "python docs/results/novel_figure_rule.py --data DATA --out OUT"})


if __name__ == "__main__":
    main()
