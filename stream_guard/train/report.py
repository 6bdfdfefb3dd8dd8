"""Calibration and the written record of a trained detector (``detector.json``, model card).

Numbers in the card are computed, never typed in: the card is rendered from the same results
dictionary that ``detector.json`` is written from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stream_guard.models.packaged import PACKAGED_BACKBONES
from stream_guard.train.evaluate import DatasetScores
from stream_guard.train.export import QUANTIZATION
from stream_guard.train.metrics import choose_threshold


def calibrate(tune: list[DatasetScores], max_false_halt: float) -> dict[str, Any]:
    """The default threshold: best mean balanced accuracy over the validation datasets (tune
    half) with every dataset's stream-level false-halt rate within the cap."""
    point = choose_threshold([(d.scores, d.hallucinated) for d in tune], max_false_halt)
    return {
        "threshold": round(point.threshold, 6),
        "max_false_halt_rate": max_false_halt,
        "tune": {"false_halt_rate": point.false_halt_rate,
                 "balanced_accuracy": point.balanced_accuracy,
                 "per_dataset": describe(tune, point.threshold)},
    }


def describe(results: list[DatasetScores], threshold: float) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for d in results:
        op = d.at(threshold)
        out[d.dataset] = {
            "n": len(d.scores),
            "hallucinated": sum(d.hallucinated),
            "auroc": round(d.auroc, 4),
            "balanced_accuracy": round(op.balanced_accuracy, 4),
            "false_halt_rate": round(op.false_halt_rate, 4),
            "halt_rate_hallucinated": round(op.halt_rate_hallucinated, 4),
        }
    return out


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| dataset | n (halluc.) | AUROC | balanced acc. | false-halt rate | halt rate on "
             "hallucinated |", "|---|---|---|---|---|---|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m['n']} ({m['hallucinated']}) | {m['auroc']:.3f} | "
                     f"{m['balanced_accuracy']:.3f} | {m['false_halt_rate']:.3f} | "
                     f"{m['halt_rate_hallucinated']:.3f} |")
    return "\n".join(lines)


def _policy_table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| dataset | n | balanced acc. | recall | false-halt rate |", "|---|---|---|---|---|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m['n']} | {m['balanced_accuracy']:.3f} | {m['recall']:.3f} | "
                     f"{m['false_halt_rate']:.3f} |")
    return "\n".join(lines)


def _length_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| evidence chars | supported records | false-halt rate | windows | premise recall "
             "(mean) | windows with full recall |", "|---|---|---|---|---|---|"]
    for m in rows:
        lines.append(f"| {m['context_chars']} | {m['supported_records']} | "
                     f"{m['false_halt_rate']:.3f} | {m['windows']} | "
                     f"{m['premise_recall_mean']:.3f} | {m['windows_full_recall']:.3f} |")
    return "\n".join(lines)


def _aims(rows: dict[str, dict[str, float]], fhr_cap: float) -> str:
    """Which of the issue's aims the figures meet, stated plainly next to the table."""
    goals = {"summedits_dev": 0.62, "begin_dev": 0.82}
    parts = [f"{name} balanced accuracy {rows[name]['balanced_accuracy']:.3f} "
             f"{'meets' if rows[name]['balanced_accuracy'] >= goal else 'misses'} {goal:.2f}"
             for name, goal in goals.items() if name in rows]
    worst = max(m["false_halt_rate"] for m in rows.values())
    parts.append(f"worst false-halt rate {worst:.3f} "
                 f"{'meets' if worst <= fhr_cap else 'misses'} {fhr_cap:.2f}")
    return "Status: " + "; ".join(parts) + "."


def _stages_table(stages: list[dict[str, Any]]) -> str:
    """Earlier training stages this checkpoint was warm-started from (``--init-from``), as
    recorded in the work dir's ``train_summary.json``; empty for a single-stage run."""
    if not stages:
        return ""
    lines = ["", "", "Trained in stages, each starting from the previous stage's best state "
             "(`--init-from`); the recipe, history and pair counts below are the last stage's.",
             "", "| stage | steps | pairs seen | seconds | lr | summedits repeats | command |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {i} | {st['steps_run']} | {st['pairs_seen']} | {st['train_seconds']} | "
              f"{st['learning_rate']:g} | {st['summedits_repeats']} | `{st['command']}` |"
              for i, st in enumerate(stages, start=1)]
    return "\n".join(lines)


def model_card(r: dict[str, Any]) -> str:
    """The model card, rendered from the results of one training and export run."""
    run = r.get("training", {})
    fit = run.get("training", {})
    backbone = _backbone(run.get("base_model", "minilm"))
    precision = r.get("quantization", QUANTIZATION["int8"])  # runs before --precision: int8
    hist = "\n".join(
        ["| step | pairs seen | elapsed s | tune mean AUROC |", "|---|---|---|---|"]
        + [f"| {h['step']} | {h['pairs_seen']} | {h['elapsed_s']} | {h['tune_metric']:.4f} |"
           for h in fit.get("history", [])])
    counts = "\n".join(f"| {k} | {v} |" for k, v in run.get("train_examples", {}).items())
    cal = r["calibration"]
    fusion = r["fusion"]["model"]
    weights = ", ".join(f"{f} {w:+.3f}" for f, w in zip(fusion["features"], fusion["weights"],
                                                        strict=True))
    recipe = run.get("recipe", {})
    lr = recipe.get("learning_rate", 5e-5)
    lineage = _stages_table(run.get("stages", []))
    at_end = "halts" if r["policy"].get("run_at_end") else "does not halt"
    return f"""# stream-guard default detector ({r.get('version', 'v4')})

A cross-encoder that judges whether one claim window of a streamed response is supported by its
**focused premise**: the evidence sentences that best cover the window, about 100 tokens
(`stream_guard.evidence.premise`). Input `[CLS] premise [SEP] window [SEP]`, at most
{r['max_length']} tokens (the premise is cut, never the window, in training as when served);
output `logits` [N, 2], class 1 = supported.
At most one pair per window (none where no score the detector could give would change the
window's verdict: `GroundingEngine.settled`). The server fuses P(supported) with the lexical
signals in a calibrated logistic model shipped in `detector.json` (`fusion`); a stream halts per
the halt policy on the fused window supports.{lineage}

- Backbone: {backbone}, fine-tuned as a sequence classifier with 2 labels.
- Artifact: `model.onnx`, {precision}, {r['size_bytes']:,} bytes,
  sha256 `{r['sha256']}`.
- Fusion (fitted on the tune halves' windows, each tune set weighted equally; the speaker and
  listener signals, `stream_guard.text.stance`, fitted on top of the rest, which they leave as
  they are): bias {fusion['bias']:+.3f}; {weights}.
- Halt policy fitted on the tune halves by simulating the server's policy window by window:
  threshold {r['policy']['threshold']:.2f}, clear margin {r['policy']['clear_margin']:.2f}, a run
  the output ends in {at_end} (best mean balanced accuracy with every tune set's false-halt
  rate <= {cal['max_false_halt_rate']:.0%}); all three ship in `detector.json` and are checked
  through the real server (`stream-guard eval --split tune`, see docs/quality.md).

## Data

Training ({run.get('train_records', 'n/a')} records, repeats counted): HaluEval QA, dialogue and
summarization (whole items: the right and the hallucinated answer to one question together),
all of `summedits_train.jsonl` (69 documents, none of them in `summedits_dev`).
Windows and premises are built by the server's own pipeline
(`stream_guard.train.pairs.TextPipeline`: the segmenter, the context chunker and the premise
builder), so training pairs have exactly the
shape the server scores; a test holds the two equal.

- supported: every window of a right response (windows sharing < 25% of their content with the
  evidence are left out as chit-chat); windows that end before a SummEdits edit's onset;
  evidence sentences, often compressed (a clause, parenthetical or leading phrase dropped);
- unsupported: the window holding a SummEdits edit's onset; of a HaluEval hallucinated response
  its least covered window; synthetic hard negatives from each record's own evidence (a number,
  name or date swapped for another of the same document, a digit changed, negation flipped, an
  antonym, two names' roles swapped), each next to its unedited positive and scored against the
  premise the server would build for the edited text; a window of another record (off-topic).

| kind:label (1 = supported) | pairs |
|---|---|
{counts}

Validation: SummEdits dev split **by document** (`doc_id`) and BEGIN dev by record, half of
each domain's documents (records) on each side (`stream_guard.dataset.assign_splits`). The
**tune** halves picked the checkpoint, fitted the fusion and the threshold; the **holdout**
halves were used only for reported figures.

## Recipe and compute

AdamW, lr {lr:g}, batch {recipe.get('batch_size', 32)}, linear warm-up/decay, label smoothing 0.05,
128 tokens, embeddings frozen, torch {r['torch_version']}, {_compute(run)}.
Run: {fit.get('steps_run', 'n/a')} of {fit.get('steps_planned', 'n/a')} steps,
{fit.get('pairs_seen', 'n/a')} pairs, {fit.get('train_seconds', 'n/a')} s.
Resumable (`--resume`), checkpoint every 5 minutes.
{('Stopped ' + fit['stopped'] + '.') if fit.get('stopped') else ''}

{hist}

{_commands(run)}Export command:

```
{r['command']}
```

## Offline figures (int8)

Ranking (AUROC: stream = its least supported window); the tables' halts use the min-window rule
at its own fitted threshold {cal['threshold']:.4f}.

Holdout, fused score:

{_table(r['holdout_offline'])}

Holdout, detector probability alone (no fusion), same threshold:

{_table(r['holdout_offline_raw_detector'])}

Holdout under the server's halt policy (threshold {r['policy']['threshold']:.2f}, clear margin
{r['policy']['clear_margin']:.2f}, two unsupported windows in a row, a run the output ends in
{at_end}), fused score:

{_policy_table(r['holdout_policy'])}

{_aims(r['holdout_policy'], cal['max_false_halt_rate'])}

Long sources (holdout, supported records only, by evidence length): false halts under the
policy, and the premise's recall (share of a window's terms found anywhere in the evidence that
its ~100-token premise also holds):

{_length_table(r['holdout_long_documents'])}

The figures through the real server (streamed, default settings, threshold re-fitted on the tune
half) are measured with `stream-guard eval --split tune|holdout` (docs/quality.md in the
stream-guard source has the commands).
"""


def _compute(run: dict[str, Any]) -> str:
    """Where the training ran, as its summary recorded it."""
    machine = run.get("machine")
    if not machine:
        return "trained on a machine this run did not record"
    gpus = machine.get("gpus") if run.get("recipe", {}).get("device") == "cuda" else None
    where = (f"on {', '.join(gpus)}" if gpus
             else f"on {machine.get('threads', 'n/a')} CPU threads of {machine.get('cpus')} "
                  f"({machine.get('cpu_model')}), no GPU")
    nice = machine.get("nice")
    return f"trained {where}" + (f", at nice {nice}" if nice else "")


def _commands(run: dict[str, Any]) -> str:
    """The training commands of the run (the first, then each ``--resume``), if recorded."""
    commands = run.get("commands") or []
    if not commands:
        return ""
    return "Training commands:\n\n```\n" + "\n".join(commands) + "\n```\n\n"


def _backbone(name: str) -> str:
    if name in PACKAGED_BACKBONES:
        return (f"{name} ({PACKAGED_BACKBONES[name]} from the packaged weights,\n"
                "  sha256-verified)")
    return name
