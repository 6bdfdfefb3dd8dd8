"""Turns per-record stream results into the report's figures and its stdout table.

Two halt-delay measures are kept because they answer different questions. ``halt_delay_chars``
counts the characters past the onset the client had sent when the halt reached it: what a user
saw before the retraction, so it depends on pacing (unpaced, the whole response is usually out
before the first verdict). ``halt_window_overrun_chars`` is how far past the onset the window that
triggered the halt ends: the detector's own lag, whatever the pacing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from stream_guard.eval.metrics import (
    auroc,
    confusion,
    halt_scores,
    quantile,
    ratio,
    threshold_at_fhr,
)
from stream_guard.eval.replay import StreamResult


def summarize(results: Sequence[StreamResult], target_fhr: float) -> dict[str, Any]:
    """Every figure of one group of records (the whole run, or one dataset)."""
    ok = [r for r in results if r.error is None]
    labels = [r.record.label for r in ok]
    c = confusion([r.halted for r in ok], labels)
    scores = halt_scores(c)
    support = [r.min_score for r in ok]
    pick = threshold_at_fhr(support, labels, target_fhr)
    onset_halts = [r for r in ok if r.halted and r.record.onset is not None]
    delays = [float(r.chars_at_halt - r.record.onset) for r in onset_halts
              if r.chars_at_halt is not None and r.record.onset is not None]
    overruns = [float(r.halt_window_end - r.record.onset) for r in onset_halts
                if r.halt_window_end is not None and r.record.onset is not None]
    early = sum(1 for d in overruns if d <= 0)
    # Supported records that share a source document fail together (SummEdits: many paraphrases
    # of a few seed summaries per document), so a false-halt rate is read with how many
    # documents it comes from.
    by_document: dict[str, list[bool]] = {}
    for r in ok:
        if r.record.label == 0 and r.record.doc_id is not None:
            by_document.setdefault(r.record.doc_id, []).append(r.halted)
    return {
        "n": len(ok),
        "n_positive": sum(labels),
        "n_negative": len(labels) - sum(labels),
        "errors": len(results) - len(ok),
        "error_codes": dict(Counter(r.error for r in results if r.error is not None)),
        "halted": c.tp + c.fp,
        "tp": c.tp, "fp": c.fp, "tn": c.tn, "fn": c.fn,
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "balanced_accuracy": scores.balanced_accuracy,
        "false_halt_rate": scores.false_halt_rate,
        "auroc": auroc([1.0 - s for s in support], labels),
        "target_fhr": target_fhr,
        "threshold_at_target_fhr": None if pick is None else pick.threshold,
        "recall_at_threshold": None if pick is None else pick.recall,
        "false_halt_rate_at_threshold": None if pick is None else pick.false_halt_rate,
        "n_onset_halts": len(onset_halts),
        "halt_delay_chars_median": quantile(delays, 0.5),
        "halt_delay_chars_p90": quantile(delays, 0.9),
        "halt_window_overrun_chars_median": quantile(overruns, 0.5),
        "halt_window_overrun_chars_p90": quantile(overruns, 0.9),
        "early_halt_rate": ratio(early, len(overruns)),
        "halt_reasons": dict(Counter(r.halt_reason for r in ok if r.halt_reason is not None)),
        "windows": sum(r.windows for r in ok),
        "supported_documents": len(by_document),
        "false_halts_by_document": {doc: {"supported": len(h), "halted": sum(h)}
                                    for doc, h in sorted(by_document.items()) if any(h)},
    }


def quality_report(results: Sequence[StreamResult], target_fhr: float) -> dict[str, Any]:
    """``overall``, ``by_family`` (the part of the dataset name before its first ``-``:
    ``summedits``, ``begin``) and ``by_dataset`` (source or domain) figures."""
    by_dataset: dict[str, list[StreamResult]] = {}
    by_family: dict[str, list[StreamResult]] = {}
    for r in results:
        by_dataset.setdefault(r.record.dataset, []).append(r)
        by_family.setdefault(r.record.dataset.split("-", 1)[0], []).append(r)
    return {"overall": summarize(results, target_fhr),
            "by_family": {name: summarize(group, target_fhr)
                          for name, group in sorted(by_family.items())},
            "by_dataset": {name: summarize(group, target_fhr)
                           for name, group in sorted(by_dataset.items())}}


def throughput(results: Sequence[StreamResult], seconds: float) -> dict[str, float | None]:
    windows = sum(r.windows for r in results)
    chars = sum(len(r.record.response) for r in results)
    return {"replay_s": seconds, "records_per_s": ratio(len(results), seconds),
            "windows_per_s": ratio(windows, seconds), "chars_per_s": ratio(chars, seconds)}


_COLUMNS = (("n", "n", "{:d}"), ("P", "precision", "{:.3f}"), ("R", "recall", "{:.3f}"),
            ("F1", "f1", "{:.3f}"), ("BA", "balanced_accuracy", "{:.3f}"),
            ("FHR", "false_halt_rate", "{:.3f}"), ("AUROC", "auroc", "{:.3f}"),
            ("thr@FHR", "threshold_at_target_fhr", "{:.3f}"),
            ("R@thr", "recall_at_threshold", "{:.3f}"),
            ("delay", "halt_delay_chars_median", "{:.0f}"),
            ("overrun", "halt_window_overrun_chars_median", "{:.0f}"),
            ("early", "early_halt_rate", "{:.3f}"), ("err", "errors", "{:d}"))


def format_table(quality: dict[str, Any]) -> str:
    """Fixed-width table: one row per dataset, then the overall row; ``-`` for undefined."""
    families = quality.get("by_family", {})
    rows = [*quality["by_dataset"].items(),
            *(((f"{name} (all)", f) for name, f in families.items()) if len(families) > 1
              else ()),
            ("overall", quality["overall"])]
    width = max(len(name) for name, _ in rows)
    header = f"{'dataset':<{width}}" + "".join(f"{title:>9}" for title, _, _ in _COLUMNS)
    lines = [header]
    for name, figures in rows:
        cells = ("-" if figures[key] is None else fmt.format(figures[key])
                 for _, key, fmt in _COLUMNS)
        lines.append(f"{name:<{width}}" + "".join(f"{cell:>9}" for cell in cells))
    return "\n".join(lines)
