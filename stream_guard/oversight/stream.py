"""The per-stream state machine: sequence checks, windows, ordered verdicts, releases and the halt.

Pure and synchronous, like h11's connection object: the server feeds it client frames and scores,
and it answers with the server frames to send. Scores may come back in any order (windows of one
stream land in different micro-batches); they are applied strictly in window order, because the
halt policy and the release offset are only meaningful in stream order.

A stream's lifecycle is one named :class:`Phase` rather than a set of flags, so that an impossible
combination cannot be represented and every rule can say which phases it applies to.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from stream_guard.oversight.policy import HaltPolicy, check_scores
from stream_guard.oversight.segmenter import Window, WindowSegmenter
from stream_guard.protocol.errors import ErrorCode, ProtocolError
from stream_guard.protocol.frames import StreamOptions
from stream_guard.protocol.server_frames import (
    Done,
    EvidenceItem,
    Halt,
    HaltReason,
    Label,
    Release,
    ServerFrame,
    Verdict,
)
from stream_guard.scores import Evidence, WindowScore
from stream_guard.text.sentences import ends_sentence

# Characters of a delta segmented in one go, with the lexical checks of the windows they close
# (another client's worst ping while one sends 60 KB deltas of the most costly text, one-letter
# sentences "A. A. A.": 21 ms at 4,096, 6-9 ms at 1,024; docs/benchmarks-log.md); the rest waits
# for segment_more, a loop turn a slice.
SEGMENT_SLICE = 1024


class Phase(enum.Enum):
    """Where a stream is in its life. Transitions: OPEN -> ENDED (``end``) or HALTED (a halt);
    ENDED -> DONE (every window applied, or a halt); HALTED -> DONE (``end``); any -> DONE on
    ``cancel`` or a drain. Whether the stream was halted is :attr:`StreamState.halt`, an
    outcome that outlives the HALTED phase (``done`` reports it)."""

    OPEN = "open"  # takes deltas
    ENDED = "ended"  # ``end`` received; the last windows are still being scored
    HALTED = "halted"  # halted before ``end``: deltas are refused, ``end`` or ``cancel`` closes
    DONE = "done"  # ``done`` was produced; nothing more happens to this stream


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    threshold: float
    contradiction_threshold: float
    consecutive: int
    clear_margin: float
    window_max_chars: int
    window_min_chars: int
    run_at_end: bool = False


# The last run of space in a text (then its last word begins after it).
_LAST_SPACE = re.compile(r"\s+(?=\S*$)")


class StreamState:
    """One stream of one connection. Never shared: each stream has its own policy and windows."""

    def __init__(self, stream_id: str, options: StreamOptions, config: PolicyConfig) -> None:
        self.stream_id = stream_id
        self.options = options
        self.threshold = options.threshold if options.threshold is not None else config.threshold
        self._policy = HaltPolicy(self.threshold, config.contradiction_threshold,
                                  config.consecutive, config.clear_margin, config.run_at_end)
        # Where its policy draws its lines: a window no detector score moves across one is
        # settled without the detector (GroundingEngine.settled).
        self.bands = self._policy.bands
        self._segmenter = WindowSegmenter(config.window_max_chars, config.window_min_chars)
        self._unsegmented = ""  # the rest of the last delta, for segment_more
        self.next_seq = 0
        self.chars = 0
        self.windows_scored = 0
        self.phase = Phase.OPEN
        self.halt: Halt | None = None  # the halt frame, once the stream is halted
        self._pending: dict[int, Window] = {}  # emitted, waiting for their score
        # None: not scored (code); UNCHECKED: could not be scored (a fault of the server's)
        self._scores: dict[int, WindowScore | _Unchecked | None] = {}
        self._next_apply = 0
        self._verified = 0  # text before this offset has passed the policy
        self._run: list[tuple[Window, WindowScore]] = []  # unsupported windows not yet cleared
        self._labels: list[Label] = []
        self._ended_by_server = False  # on_end(by_server=True): its done says drained
        self._cut_short: int | None = None  # the index of a last window the server cut
        self._release_end: int | None = None  # where release stops at done (a cut window)

    @property
    def halted(self) -> bool:
        return self.halt is not None

    # --- client frames ------------------------------------------------------------------------
    def on_delta(self, seq: int, text: str) -> list[Window]:
        """Accept the next delta; returns the windows its first :data:`SEGMENT_SLICE`
        characters completed (to be scored). A longer delta is taken whole, and the rest of it
        is segmented by :meth:`segment_more`, a slice a call: the caller lets other work run
        in between, so one large message does not hold the event loop for all of it."""
        self.check_delta(seq)
        self.next_seq += 1
        self.chars += len(text)
        self._unsegmented += text  # after any rest of the last one: text stays in order
        return self.segment_more()

    @property
    def unsegmented(self) -> bool:
        """Whether the last delta still has text for :meth:`segment_more`."""
        return bool(self._unsegmented)

    def segment_more(self) -> list[Window]:
        """Segment the next slice of the last delta; returns the windows it completed. Nothing
        once the stream is halted or done: its text after that is not scored."""
        if self.halted or self.phase is Phase.DONE:
            self._unsegmented = ""
            return []
        piece = self._unsegmented[:SEGMENT_SLICE]
        self._unsegmented = self._unsegmented[SEGMENT_SLICE:]
        return self._track(self._segmenter.feed(piece))

    def check_delta(self, seq: int) -> None:
        """Raise the error a delta numbered ``seq`` would be refused with, if any."""
        if self.halted:
            raise ProtocolError(ErrorCode.STREAM_HALTED,
                                f"stream {self.stream_id!r} was halted; no more deltas",
                                self.stream_id)
        if self.phase is not Phase.OPEN:
            self._check_not_ended_by_server()
            raise ProtocolError(ErrorCode.BAD_FRAME,
                                f"stream {self.stream_id!r} has ended; no more deltas",
                                self.stream_id)
        if seq != self.next_seq:
            raise ProtocolError(ErrorCode.BAD_SEQ,
                                f"expected seq {self.next_seq}, got {seq}", self.stream_id)

    def _check_not_ended_by_server(self) -> None:
        """A stream the server ended (a drain's last second) refuses the client's frames with
        ``draining``, as it would once forgotten: no fault of the client's."""
        if self._ended_by_server:
            raise ProtocolError(ErrorCode.DRAINING,
                                f"stream {self.stream_id!r} was ended by the server (its "
                                "connection drains); this frame was not taken", self.stream_id)

    def on_end(self, *, by_server: bool = False) -> tuple[list[Window], list[ServerFrame]]:
        """The output is complete: flush the last window; ``done`` follows once all are scored.
        ``by_server``: the client did not end it, the server did (its connection is closing
        for something the client did): its ``done`` says ``drained``."""
        if self.phase in (Phase.ENDED, Phase.DONE):
            self._check_not_ended_by_server()
            raise ProtocolError(ErrorCode.BAD_FRAME,
                                f"stream {self.stream_id!r} has already ended", self.stream_id)
        if self.halted:
            windows = []
        else:  # a caller that did not slice the last delta: the rest of it, then the end
            rest, self._unsegmented = self._unsegmented, ""
            windows = [*self._segmenter.feed(rest), *self._segmenter.finish()]
            if by_server and windows and not ends_sentence(windows[-1].text):
                windows[-1] = self._cut(windows[-1])
            self._track(windows)
        self.phase = Phase.ENDED
        self._ended_by_server = by_server
        return windows, self._maybe_done()

    def _cut(self, window: Window) -> Window:
        """The last window of a stream the server ended mid-sentence, as it is checked: without
        a last word the end may have cut ("It is 33" of "330"; none when its text ended in a
        space), and only a contradiction halts it (:meth:`_apply`); no more of it is released
        than passes."""
        text = window.text
        if window.end == self.chars:  # no space after it: its last word may be cut short
            # (of words split by spaces, any: a no-break space too; text with none, Chinese or
            # Japanese, is kept whole: a review saw it dropped, a complete sentence with it)
            words = _LAST_SPACE.search(text)
            if words is not None:
                text = text[:words.start()].rstrip()
        self._release_end = window.start
        self._cut_short = window.index
        return dataclasses.replace(window, end=window.start + len(text), text=text)

    def cancel(self) -> Done:
        self._pending.clear()
        self.phase = Phase.DONE
        return self._done_frame(cancelled=True)

    def drain(self) -> Done:
        """Server shutdown: close the stream with ``done`` whatever is still pending."""
        self._pending.clear()
        self.phase = Phase.DONE
        return self._done_frame(drained=True)

    # --- scores -------------------------------------------------------------------------------
    def skip(self, index: int) -> list[ServerFrame]:
        """A window that is not scored (code): it passes without moving the halt policy."""
        return self._record(index, None)

    def on_scored(self, index: int, score: WindowScore) -> list[ServerFrame]:
        return self._record(index, score)

    def fail(self, index: int) -> list[ServerFrame]:
        """A window that could not be scored (a fault of the server's: its evidence store
        unreadable, a bug). In observe mode it passes as code does (the client is told by an
        ``internal`` error, and its text is on screen already); in holdback mode, whose text
        is shown only once checked, the stream halts there (reason ``unchecked``) rather than
        release text no one checked (a review: a damaged collection let a false claim
        through, released)."""
        return self._record(index, UNCHECKED if self.options.mode == "holdback" else None)

    def force_halt(self, reason: HaltReason) -> list[ServerFrame]:
        """Halt from outside the policy (operator kill switch) at the first unverified offset."""
        if self.halted or self.phase is Phase.DONE:
            return []
        at = self._run[0][0].start if self._run else self._verified
        self._pending.clear()
        self._scores.clear()
        self._run.clear()
        halt = self._halted(Halt(self.stream_id, at, "", reason, None, (), None))
        return [halt, *self._maybe_done()]

    def take_labels(self) -> list[Label]:
        """Labels of the windows applied since the last call (for metrics)."""
        labels, self._labels = self._labels, []
        return labels

    @property
    def pending(self) -> int:
        return len(self._pending)

    # --- internals ----------------------------------------------------------------------------
    def _track(self, windows: list[Window]) -> list[Window]:
        for window in windows:
            self._pending[window.index] = window
        return windows

    def _record(self, index: int, score: WindowScore | _Unchecked | None
                ) -> list[ServerFrame]:
        if self.halted or self.phase is Phase.DONE or index not in self._pending:
            return []  # late result for a halted or cancelled stream
        if isinstance(score, WindowScore):
            check_scores(score.support, score.contradiction)  # raises before any change
        self._scores[index] = score
        frames: list[ServerFrame] = []
        while self._next_apply in self._scores and not self.halted:
            i = self._next_apply
            window = self._pending.pop(i)
            frames.extend(self._apply(window, self._scores.pop(i)))
            self._next_apply += 1
        if self.halted:
            self._pending.clear()
            self._scores.clear()
        frames.extend(self._maybe_done())
        return frames

    def _apply(self, window: Window, score: WindowScore | _Unchecked | None
               ) -> list[ServerFrame]:
        if score is None:
            if not self._run:
                return self._release(window.end)
            return []
        if isinstance(score, _Unchecked):
            # At the first unverified offset, as every halt; the window named is this one.
            first = self._run[0][0] if self._run else window
            self._run.clear()
            return [self._halted(Halt(self.stream_id, first.start, first.text, "unchecked",
                                      None, (), (window.start, window.end)))]
        self.windows_scored += 1
        cut_short = window.index == self._cut_short
        decision = self._policy.observe(score.support, score.contradiction, firm=score.firm,
                                        cut_short=cut_short)
        self._labels.append(decision.label)
        frames: list[ServerFrame] = []
        if self.options.verdicts:
            frames.append(Verdict(self.stream_id, window.start, window.end,
                                  round(score.support, 4), decision.label,
                                  _evidence(score.evidence), score.degraded))
        if decision.reason is not None:  # set exactly when the policy halts
            frames.append(self._run_halt(decision.reason, window, score))
            return frames
        if decision.label == "supported":
            self._run.clear()
            frames.extend(self._release(window.end))
            if cut_short:  # what the cut left of it passed
                self._release_end = window.end
        elif not cut_short:  # a cut window below the threshold is no run's part
            self._run.append((window, score))
        return frames

    def _run_halt(self, reason: HaltReason, window: Window, score: WindowScore) -> Halt:
        """Halt at the start of the run that ``window`` ends (the window itself when no run
        was open), citing the run's first window."""
        first, first_score = self._run[0] if self._run else (window, score)
        self._run.clear()
        return self._halted(Halt(
            self.stream_id, first.start, first.text, reason, round(first_score.support, 4),
            _evidence(first_score.evidence), (window.start, window.end),
            score.degraded or first_score.degraded))

    def _halted(self, halt: Halt) -> Halt:
        """Record the halt; an ENDED stream stays ENDED until :meth:`_maybe_done` closes it."""
        self.halt = halt
        if self.phase is Phase.OPEN:
            self.phase = Phase.HALTED
        return halt

    def _release(self, upto: int) -> list[ServerFrame]:
        if upto <= self._verified:
            return []
        self._verified = upto
        if self.options.mode != "holdback":
            return []
        return [Release(self.stream_id, upto)]

    def _maybe_done(self) -> list[ServerFrame]:
        if self.phase is not Phase.ENDED or (self._pending and not self.halted):
            return []
        frames: list[ServerFrame] = []
        if not self.halted and self._run:
            decision = self._policy.finish()  # the output ends in a run: halt on it?
            if decision is not None and decision.reason is not None:
                window, score = self._run[-1]
                frames.append(self._run_halt(decision.reason, window, score))
        if not self.halted:
            # The policy let every window pass, a lone low window at the very end included
            # when it does not halt runs at the end, so the whole text counts as verified;
            # all but a low window the server cut short.
            frames.extend(self._release(
                self.chars if self._release_end is None else self._release_end))
        self.phase = Phase.DONE
        frames.append(self._done_frame())
        return frames

    def _done_frame(self, *, cancelled: bool = False, drained: bool = False) -> Done:
        return Done(self.stream_id, self.halted, self.chars, self.windows_scored, cancelled,
                    drained or self._ended_by_server)


class _Unchecked:
    """The mark of a window that could not be scored (:meth:`StreamState.fail`)."""


UNCHECKED = _Unchecked()


def _evidence(evidence: Sequence[Evidence]) -> tuple[EvidenceItem, ...]:
    return tuple(EvidenceItem(e.id, e.text, round(e.score, 4)) for e in evidence)
