"""When a stream must be halted, judged window by window.

One :class:`HaltPolicy` per stream, never shared: its state (the current run of unsupported
windows, whether it has halted) belongs to one output.

Contract with the caller: windows may be scored out of order (the windows of one stream land in
different micro-batches), but :meth:`HaltPolicy.observe` must be called in stream order, once
per scored window. The policy cannot check this because it never sees window indices; the run
rule is meaningless otherwise ("two unsupported windows in a row" is about adjacent text).
Windows that are not scored (code) are not observed: they neither extend nor reset a run.

Why these rules:

* A window is *contradicted* only when the evidence also fails to support it: a contradiction
  from one chunk next to support from another (an outdated or unrelated passage) is trusted less
  than the support, because halting a correct output is the costlier mistake for a live stream.
* One contradicted window halts at once: the output now states the opposite of the evidence.
* One *clearly* unsupported window (support below ``threshold - clear_margin``) halts at once.
* A window just below the threshold alone does not: a single borderline score is the model's
  noise more often than a hallucination, while ``consecutive`` such windows in a row are not.
  Except a *firm* one, a transaction reported done for the user ("I've added them to the
  Saturday list"): the user acts on it at once, and the supported line after it (the price
  of the lessons) is no reason to believe it; it halts at once, below the threshold.
  A supported window in between resets the run.
* With ``run_at_end``, a run the output ends in halts too (:meth:`HaltPolicy.finish`): waiting
  for more windows to confirm it cannot help once there are none, and short answers (one or two
  windows) could otherwise only ever be halted by a clear or contradicted window. The detector's
  calibration says whether its policy uses this (``detector.json``).
"""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import dataclass

from stream_guard.protocol.server_frames import HaltReason, Label

# The policy's defaults, here only: the settings (``contradiction_threshold``,
# ``halt_consecutive``, ``clear_margin``), the engine and the calibration read them from here.
CONTRADICTION_THRESHOLD = 0.8
HALT_CONSECUTIVE = 2
CLEAR_MARGIN = 0.15  # when neither the settings nor the detector's calibration give one


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one window. ``reason`` is set exactly when ``halt`` is."""

    label: Label
    halt: bool
    reason: HaltReason | None = None


class HaltPolicy:
    """Turns each window's (support, contradiction) into a label and, at most once, a halt.

    After the halt the policy is spent: :meth:`observe` keeps labelling windows (the ones
    scored in the same batch as the halting window still get a verdict) but always returns
    ``halt=False``, so a stream can never be halted twice.
    """

    def __init__(self, threshold: float, contradiction_threshold: float = CONTRADICTION_THRESHOLD,
                 consecutive: int = HALT_CONSECUTIVE, clear_margin: float = CLEAR_MARGIN,
                 run_at_end: bool = False) -> None:
        _check_unit("threshold", threshold)
        _check_unit("contradiction_threshold", contradiction_threshold)
        _check_unit("clear_margin", clear_margin)
        if isinstance(consecutive, bool) or not isinstance(consecutive, int) or consecutive < 1:
            raise ValueError(f"consecutive must be an integer >= 1, got {consecutive!r}")
        self.threshold = float(threshold)
        self.contradiction_threshold = float(contradiction_threshold)
        self.consecutive = consecutive
        self.clear_margin = float(clear_margin)
        self.run_at_end = run_at_end
        self.bands = Bands.of(self.threshold, self.clear_margin, self.contradiction_threshold)
        self._run = 0
        self._halted = False

    @property
    def halted(self) -> bool:
        return self._halted

    @property
    def run(self) -> int:
        """Unsupported windows in a row, up to the latest one observed."""
        return self._run

    def observe(self, support: float, contradiction: float, *, firm: bool = False,
                cut_short: bool = False) -> Decision:
        """Judge the next window of the stream (in stream order). Scores are probabilities;
        a NaN or out-of-range score is a scorer bug and raises ``ValueError`` rather than
        passing as "supported" (every comparison with NaN is false). ``cut_short``: the last
        window of a stream the server ended mid-sentence (its connection closing), which may
        lack the words that would support it: only a contradiction halts it, and it starts or
        extends no run (a review: a drain's "It stands i" halted a faithful answer)."""
        check_scores(support, contradiction)
        kind = self.bands.verdict(support, contradiction)
        if kind is Verdict.SUPPORTED:
            self._run = 0
            return Decision("supported", False)
        label: Label = "contradicted" if kind is Verdict.CONTRADICTED else "unsupported"
        if cut_short and label != "contradicted":
            return Decision(label, False)
        self._run += 1
        reason: HaltReason | None = None
        if label == "contradicted":
            reason = "contradicted"
        elif kind is Verdict.CLEAR or firm:
            reason = "unsupported"
        elif self._run >= self.consecutive:
            reason = "unsupported_run"
        if reason is None or self._halted:
            return Decision(label, False)
        self._halted = True
        return Decision(label, True, reason)

    def finish(self) -> Decision | None:
        """The output has ended: with ``run_at_end``, an open run of unsupported windows halts
        (reason ``unsupported_run``); otherwise, or with no run open, nothing happens."""
        if not self.run_at_end or self._halted or self._run == 0:
            return None
        self._halted = True
        return Decision("unsupported", True, "unsupported_run")


class Verdict(enum.Enum):
    """What :meth:`HaltPolicy.observe` reads in one window's scores, before the stream's state
    (its run, a firm window, one cut short) is weighed."""

    SUPPORTED = "supported"  # at or above the threshold: resets a run
    CONTRADICTED = "contradicted"  # below it, contradicted: halts at once
    BORDERLINE = "borderline"  # below it, not clearly: halts as a run (or when firm)
    CLEAR = "clear"  # below ``threshold - clear_margin``: halts at once


@dataclass(frozen=True, slots=True)
class Bands:
    """Where a policy draws its lines: its threshold, the support below which a window is
    clearly unsupported (``threshold - clear_margin``) and its contradiction threshold."""

    threshold: float
    clear_below: float
    contradiction_threshold: float

    @classmethod
    def of(cls, threshold: float, clear_margin: float, contradiction_threshold: float) -> Bands:
        """The lines of a policy with these knobs."""
        return cls(threshold, threshold - clear_margin, contradiction_threshold)

    def verdict(self, support: float, contradiction: float) -> Verdict:
        """The :class:`Verdict` of a window's scores. Two pairs of scores with one verdict get
        the same decision from :meth:`HaltPolicy.observe` in every state of the policy: what
        lets the engine settle a window without the detector when no score the detector could
        give changes its verdict
        (:meth:`~stream_guard.scoring.engine.GroundingEngine.settled`)."""
        if support >= self.threshold:
            return Verdict.SUPPORTED
        if contradiction >= self.contradiction_threshold:
            return Verdict.CONTRADICTED
        return Verdict.CLEAR if support < self.clear_below else Verdict.BORDERLINE


def check_scores(support: float, contradiction: float) -> None:
    """Raise ``ValueError`` unless both scores are probabilities (what :meth:`HaltPolicy.observe`
    takes): a stream checks a window's scores before it records them, so a scorer bug leaves
    it as it was (a NaN raised half-way through recording and froze the stream: a review)."""
    _check_unit("support", support)
    _check_unit("contradiction", contradiction)


def _check_unit(name: str, value: float) -> None:
    # numbers.Real admits numpy scalars (a scorer may hand back np.float32).
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
