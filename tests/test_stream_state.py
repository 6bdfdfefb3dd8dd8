"""The per-stream state machine, driven directly: no sockets, no scorer, scores chosen by hand.

The text is plain sentences ("... . " then a capital), so the windows are the sentences whatever
the segmenter's finer rules; scores are chosen relative to the policy's documented knobs.
Frames are compared as the wire carries them (``to_wire``), so these tests also pin the layout
of every server frame the state machine produces.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_guard.oversight.segmenter import Window
from stream_guard.oversight.stream import Phase, PolicyConfig, StreamState, WindowScore
from stream_guard.protocol.errors import ErrorCode, ProtocolError
from stream_guard.protocol.frames import StreamOptions
from stream_guard.protocol.server_frames import HaltReason, ServerFrame
from stream_guard.scores import Evidence

CONFIG = PolicyConfig(threshold=0.5, contradiction_threshold=0.8, consecutive=2,
                      clear_margin=0.15, window_max_chars=400, window_min_chars=12)
EVIDENCE = [Evidence("doc#1", "The evidence text.", 0.91234)]
SUPPORTED = WindowScore(0.9, 0.0, EVIDENCE)
LOW = WindowScore(0.45, 0.0, EVIDENCE)  # below the threshold, within the clear margin
FAR = WindowScore(0.05, 0.0, EVIDENCE)  # far below: halts on its own
CONTRADICTED = WindowScore(0.1, 0.95, EVIDENCE)

SENTENCES = ["The harbour opened in the spring of 1921. ",
             "Ships from Lisbon arrived every second week. ",
             "Its lighthouse was painted red and white. ",
             "The museum now keeps the original lamp."]
TEXT = "".join(SENTENCES)
STARTS = [TEXT.index(s) for s in SENTENCES]


def wire(frames: list[ServerFrame]) -> list[dict[str, Any]]:
    return [f.to_wire() for f in frames]


class WireState(StreamState):
    """The state machine as a client sees it: every frame it returns as its JSON object."""

    def on_end(self) -> tuple[list[Window], list[dict[str, Any]]]:  # type: ignore[override]
        windows, frames = super().on_end()
        return windows, wire(frames)

    def on_scored(self, index: int, score: WindowScore) -> list[dict[str, Any]]:  # type: ignore[override]
        return wire(super().on_scored(index, score))

    def skip(self, index: int) -> list[dict[str, Any]]:  # type: ignore[override]
        return wire(super().skip(index))

    def fail(self, index: int) -> list[dict[str, Any]]:  # type: ignore[override]
        return wire(super().fail(index))

    def force_halt(self, reason: HaltReason) -> list[dict[str, Any]]:  # type: ignore[override]
        return wire(super().force_halt(reason))

    def cancel(self) -> dict[str, Any]:  # type: ignore[override]
        return super().cancel().to_wire()

    def drain(self) -> dict[str, Any]:  # type: ignore[override]
        return super().drain().to_wire()

    @property
    def finished(self) -> bool:
        return self.phase is Phase.DONE


def new_state(**options: Any) -> WireState:
    return WireState("s1", StreamOptions(**options), CONFIG)


def feed(state: WireState, text: str = TEXT, piece: int = 5) -> list[Window]:
    windows: list[Window] = []
    for seq, i in enumerate(range(0, len(text), piece)):
        windows += state.on_delta(seq, text[i:i + piece])
    return windows


def feed_and_end(state: WireState, text: str = TEXT) -> tuple[list[Window], list[dict[str, Any]]]:
    windows = feed(state, text)
    last, frames = state.on_end()
    return windows + last, frames


def types(frames: list[dict[str, Any]]) -> list[str]:
    return [f["type"] for f in frames]


def test_windows_are_the_sentences_in_order() -> None:
    state = new_state()
    windows, frames = feed_and_end(state)
    assert frames == []  # done waits for every window's score
    assert [w.index for w in windows] == list(range(len(SENTENCES)))
    assert [w.start for w in windows] == STARTS
    for w, sentence in zip(windows, SENTENCES, strict=True):
        assert w.text == TEXT[w.start:w.end] == sentence.strip()
    assert state.chars == len(TEXT) and state.pending == len(SENTENCES)


def test_seq_gaps_and_repeats_are_refused_and_not_taken() -> None:
    state = new_state()
    for seq, expected in ((1, 0), (-1, 0)):
        with pytest.raises(ProtocolError) as info:
            state.on_delta(seq, "The harbour")
        assert info.value.code is ErrorCode.BAD_SEQ and info.value.stream_id == "s1"
        assert f"expected seq {expected}, got {seq}" in info.value.message
    assert state.chars == 0
    state.on_delta(0, "The harbour")
    for seq in (0, 2, 7):
        with pytest.raises(ProtocolError) as info:
            state.on_delta(seq, "junk")
        assert info.value.code is ErrorCode.BAD_SEQ
    state.on_delta(1, " opened")
    assert state.chars == len("The harbour opened") and state.next_seq == 2


def test_scores_out_of_order_are_applied_in_window_order() -> None:
    state = new_state(mode="holdback")
    windows, _ = feed_and_end(state)
    assert state.on_scored(3, SUPPORTED) == []
    assert state.on_scored(1, SUPPORTED) == []
    assert state.on_scored(2, SUPPORTED) == []
    frames = state.on_scored(0, SUPPORTED)
    assert types(frames) == ["verdict", "release"] * 4 + ["done"]
    verdicts = [f for f in frames if f["type"] == "verdict"]
    assert [(v["start"], v["end"]) for v in verdicts] == [(w.start, w.end) for w in windows]
    assert verdicts[0] == {"type": "verdict", "stream_id": "s1", "start": 0,
                           "end": windows[0].end, "score": 0.9, "label": "supported",
                           "evidence": [{"id": "doc#1", "text": "The evidence text.",
                                         "score": 0.9123}]}
    assert [f["upto"] for f in frames if f["type"] == "release"] == [
        windows[0].end, windows[1].end, windows[2].end, len(TEXT)]
    assert frames[-1] == {"type": "done", "stream_id": "s1", "halted": False,
                          "chars": len(TEXT), "windows": 4}
    assert state.on_scored(2, SUPPORTED) == []  # a late duplicate changes nothing


def test_observe_mode_sends_no_releases() -> None:
    state = new_state()
    feed_and_end(state)
    frames = [f for i in range(4) for f in state.on_scored(i, SUPPORTED)]
    assert types(frames) == ["verdict"] * 4 + ["done"]


def test_verdicts_off_still_halts_and_releases() -> None:
    state = new_state(mode="holdback", verdicts=False)
    windows, _ = feed_and_end(state)
    frames = state.on_scored(0, SUPPORTED) + state.on_scored(1, FAR)
    assert types(frames) == ["release", "halt", "done"]
    assert frames[1]["at"] == windows[1].start


def test_halt_is_at_the_first_window_of_an_unsupported_run() -> None:
    state = new_state(mode="holdback")
    windows = feed(state)  # not ended
    windows += state.on_end()[0]
    frames = state.on_scored(0, SUPPORTED) + state.on_scored(1, LOW)
    assert types(frames) == ["verdict", "release", "verdict"]
    assert frames[2]["label"] == "unsupported"
    frames = state.on_scored(2, LOW)
    assert types(frames) == ["verdict", "halt", "done"]
    halt = frames[1]
    assert halt == {"type": "halt", "stream_id": "s1", "at": windows[1].start,
                    "text": windows[1].text, "reason": "unsupported_run", "score": 0.45,
                    "evidence": [{"id": "doc#1", "text": "The evidence text.", "score": 0.9123}],
                    "window": {"start": windows[2].start, "end": windows[2].end}}
    assert frames[2] == {"type": "done", "stream_id": "s1", "halted": True, "chars": len(TEXT),
                         "windows": 3}
    assert state.on_scored(3, SUPPORTED) == []


def test_a_window_that_could_not_be_scored_halts_holdback_only() -> None:
    """Holdback shows only checked text: a window the server could not score halts there (at
    the start of an open run, as every halt), while observe mode passes it as code."""
    state = new_state(mode="holdback")
    windows = feed(state)
    windows += state.on_end()[0]
    frames = state.on_scored(0, SUPPORTED) + state.on_scored(1, LOW) + state.fail(2)
    assert types(frames) == ["verdict", "release", "verdict", "halt", "done"]
    assert frames[3] == {"type": "halt", "stream_id": "s1", "at": windows[1].start,
                         "text": windows[1].text, "reason": "unchecked", "score": None,
                         "evidence": [],
                         "window": {"start": windows[2].start, "end": windows[2].end}}
    assert frames[1]["upto"] == windows[0].end
    observed = new_state()
    windows = feed(observed)
    windows += observed.on_end()[0]
    frames = observed.fail(0)
    for window in windows[1:]:
        frames += observed.on_scored(window.index, SUPPORTED)
    assert "halt" not in types(frames) and types(frames)[-1] == "done"


def test_a_supported_window_clears_the_run() -> None:
    state = new_state(mode="holdback")
    windows, _ = feed_and_end(state)
    frames = [f for i, score in enumerate([LOW, SUPPORTED, LOW, SUPPORTED])
              for f in state.on_scored(i, score)]
    assert "halt" not in types(frames)
    # the low window is released only together with the supported one after it
    assert [f["upto"] for f in frames if f["type"] == "release"] == [windows[1].end, len(TEXT)]


@pytest.mark.parametrize(("score", "reason"), [(FAR, "unsupported"),
                                               (CONTRADICTED, "contradicted")])
def test_one_clear_window_halts_at_once(score: WindowScore, reason: str) -> None:
    state = new_state()
    windows, _ = feed_and_end(state)
    frames = state.on_scored(0, SUPPORTED) + state.on_scored(1, score)
    assert types(frames) == ["verdict", "verdict", "halt", "done"]
    assert frames[1]["label"] == ("contradicted" if reason == "contradicted" else "unsupported")
    assert frames[2]["reason"] == reason and frames[2]["at"] == windows[1].start
    assert frames[2]["window"] == {"start": windows[1].start, "end": windows[1].end}


def test_nothing_after_a_halt_but_done_on_end() -> None:
    state = new_state(mode="holdback")
    windows = feed(state)
    assert len(windows) >= 2
    frames = state.on_scored(0, FAR)
    assert types(frames) == ["verdict", "halt"]  # not ended: no done yet
    assert state.halted and state.phase is Phase.HALTED and state.pending == 0
    assert state.on_scored(1, SUPPORTED) == []
    assert state.skip(1) == []
    assert state.force_halt("operator") == []
    assert state.take_labels() == ["unsupported"]
    with pytest.raises(ProtocolError) as info:
        state.on_delta(state.next_seq, "More text. ")
    assert info.value.code is ErrorCode.STREAM_HALTED
    last, frames = state.on_end()
    assert last == []
    assert frames == [{"type": "done", "stream_id": "s1", "halted": True, "chars": len(TEXT),
                       "windows": 1}]
    with pytest.raises(ProtocolError) as info:
        state.on_end()
    assert info.value.code is ErrorCode.BAD_FRAME


def test_delta_and_end_after_end_are_refused() -> None:
    state = new_state()
    feed_and_end(state)
    with pytest.raises(ProtocolError) as info:
        state.on_delta(state.next_seq, "late")
    assert info.value.code is ErrorCode.BAD_FRAME and "ended" in info.value.message
    with pytest.raises(ProtocolError) as info:
        state.on_end()
    assert info.value.code is ErrorCode.BAD_FRAME


def test_done_waits_for_the_last_window() -> None:
    state = new_state()
    windows, frames = feed_and_end(state)
    assert frames == []
    for i in range(len(windows) - 1):
        assert "done" not in types(state.on_scored(i, SUPPORTED))
    assert types(state.on_scored(len(windows) - 1, SUPPORTED)) == ["verdict", "done"]
    assert state.finished


def test_empty_stream() -> None:
    state = new_state(mode="holdback")
    assert state.on_end() == ([], [{"type": "done", "stream_id": "s1", "halted": False,
                                    "chars": 0, "windows": 0}])


def test_cancel_drops_pending_windows() -> None:
    state = new_state(mode="holdback")
    windows = feed(state)
    assert state.on_scored(0, SUPPORTED)
    assert state.cancel() == {"type": "done", "stream_id": "s1", "halted": False,
                              "chars": len(TEXT), "windows": 1, "cancelled": True}
    assert state.finished and state.pending == 0
    assert state.on_scored(1, SUPPORTED) == [] and state.skip(len(windows) - 1) == []
    assert state.force_halt("operator") == []


def test_drain_closes_whatever_is_pending() -> None:
    state = new_state()
    feed_and_end(state)
    state.on_scored(1, SUPPORTED)  # waits for window 0
    assert state.drain() == {"type": "done", "stream_id": "s1", "halted": False,
                             "chars": len(TEXT), "windows": 0, "drained": True}
    assert state.finished and state.on_scored(0, SUPPORTED) == []


def test_force_halt_without_a_run_halts_at_the_verified_offset() -> None:
    state = new_state(mode="holdback")
    windows = feed(state)
    state.on_scored(0, SUPPORTED)
    frames = state.force_halt("operator")
    assert frames == [{"type": "halt", "stream_id": "s1", "at": windows[0].end, "text": "",
                       "reason": "operator", "score": None, "evidence": [], "window": None}]
    assert state.pending == 0
    assert state.on_end()[1][-1]["halted"] is True


def test_force_halt_inside_a_run_halts_at_its_first_window() -> None:
    state = new_state()
    windows, _ = feed_and_end(state)
    state.on_scored(0, SUPPORTED)
    state.on_scored(1, LOW)
    frames = state.force_halt("operator")
    assert types(frames) == ["halt", "done"]  # the stream had ended: it is done at once
    assert frames[0]["at"] == windows[1].start
    assert frames[1]["halted"] is True and frames[1]["windows"] == 2


def test_skipped_windows_pass_without_a_verdict() -> None:
    state = new_state(mode="holdback")
    windows, _ = feed_and_end(state)
    frames = state.skip(0) + state.on_scored(1, LOW) + state.skip(2) + state.on_scored(
        3, SUPPORTED)
    assert types(frames) == ["release", "verdict", "verdict", "release", "done"]
    assert frames[0]["upto"] == windows[0].end  # a skip releases when no run is open
    assert frames[-1]["windows"] == 2  # skipped windows are not counted as scored


@pytest.mark.parametrize("score", [WindowScore(float("nan"), 0.0, EVIDENCE),
                                   WindowScore(0.1, float("nan"), EVIDENCE),
                                   WindowScore(1.5, 0.0, EVIDENCE)])
def test_a_score_that_is_no_probability_raises_and_leaves_the_stream_as_it_was(
        score: WindowScore) -> None:
    """A review: a NaN contradiction raised half-way through recording (the window taken off
    the pending ones, the next to apply not moved), and the stream never answered again."""
    state = new_state()
    windows, _ = feed_and_end(state)
    with pytest.raises(ValueError):
        state.on_scored(0, score)
    frames = state.skip(0) + [f for i in range(1, len(windows))
                              for f in state.on_scored(i, SUPPORTED)]
    assert types(frames)[-1] == "done" and frames[-1]["windows"] == len(windows) - 1


def test_the_stream_threshold_overrides_the_server_one() -> None:
    state = new_state(threshold=0.95)
    assert state.threshold == 0.95 and new_state().threshold == CONFIG.threshold
    feed_and_end(state)
    assert state.on_scored(0, SUPPORTED)[0]["label"] == "unsupported"


def test_labels_are_taken_once() -> None:
    state = new_state()
    feed_and_end(state)
    state.on_scored(0, SUPPORTED)
    state.on_scored(1, LOW)
    assert state.take_labels() == ["supported", "unsupported"]
    assert state.take_labels() == []


scores = st.sampled_from([SUPPORTED, LOW, FAR, CONTRADICTED, None])


@settings(max_examples=200, deadline=None)
@given(st.lists(scores, min_size=4, max_size=4), st.permutations(range(4)),
       st.integers(1, 40), st.booleans())
def test_any_arrival_order_gives_the_same_frames(chosen: list[WindowScore | None],
                                                 order: list[int], piece: int,
                                                 verdicts: bool) -> None:
    """Scores may come back in any order; the frames are those of in-order arrival, releases
    only grow, and an unhalted stream ends with everything released."""
    def run(arrival: list[int]) -> list[dict[str, Any]]:
        state = new_state(mode="holdback", verdicts=verdicts)
        windows = feed(state, piece=piece) + state.on_end()[0]
        assert len(windows) == 4
        out: list[dict[str, Any]] = []
        for i in arrival:
            score = chosen[i]
            out += state.skip(i) if score is None else state.on_scored(i, score)
        assert state.finished
        return out

    frames = run(order)
    assert frames == run([0, 1, 2, 3])
    assert types(frames).count("done") == 1 and frames[-1]["type"] == "done"
    assert types(frames).count("halt") <= 1
    ups = [f["upto"] for f in frames if f["type"] == "release"]
    assert ups == sorted(set(ups))
    halts = [f for f in frames if f["type"] == "halt"]
    if halts:
        assert frames[-1]["halted"] is True
        assert halts[0]["at"] in STARTS and (not ups or ups[-1] <= halts[0]["at"])
        assert types(frames).index("halt") == len(frames) - 2
    else:
        assert frames[-1]["halted"] is False and ups and ups[-1] == len(TEXT)


@pytest.mark.parametrize("run_at_end", [False, True])
def test_a_run_the_output_ends_in_halts_only_with_run_at_end(run_at_end: bool) -> None:
    config = PolicyConfig(0.5, 0.8, 2, 0.15, 400, 12, run_at_end=run_at_end)
    state = WireState("s1", StreamOptions(mode="holdback"), config)
    windows, _ = feed_and_end(state)
    frames: list[dict[str, Any]] = []
    for i in range(len(windows) - 1):
        frames += state.on_scored(i, SUPPORTED)
    frames = state.on_scored(len(windows) - 1, LOW)  # one low window, last: no run of two
    last = windows[-1]
    if not run_at_end:
        assert types(frames) == ["verdict", "release", "done"]  # the whole text released
        assert frames[-1]["halted"] is False
        return
    assert types(frames) == ["verdict", "halt", "done"]  # nothing past the run released
    assert frames[1] == {"type": "halt", "stream_id": "s1", "at": last.start, "text": last.text,
                         "reason": "unsupported_run", "score": 0.45,
                         "evidence": [{"id": "doc#1", "text": "The evidence text.",
                                       "score": 0.9123}],
                         "window": {"start": last.start, "end": last.end}}
    assert frames[2]["halted"] is True



@pytest.mark.parametrize("mode", ["observe", "holdback"])
def test_a_window_the_server_cut_short_halts_only_when_contradicted(mode: str) -> None:
    """Reviews: a drain (or a spent budget) ended a stream mid-sentence, and its fragment ("It
    stands i", "It is 33" of "330"), lacking the words that would support it, halted a
    faithful answer. A window the server cut is checked without the word the cut may have
    split, halts only on a contradiction, is no part of a run, and holdback releases no more
    of it than passed; a sentence the client finished is judged as ever."""
    cut = TEXT[:STARTS[1]] + "Ships from Lis"
    for score, halted in ((FAR, False), (LOW, False), (CONTRADICTED, True), (SUPPORTED, False)):
        state = new_state(mode=mode)
        windows = feed(state, cut)
        last, _ = StreamState.on_end(state, by_server=True)
        windows += last
        assert [w.text for w in windows] == [SENTENCES[0].strip(), "Ships from"]
        state.on_scored(0, SUPPORTED)
        frames = state.on_scored(1, score)
        assert ("halt" in types(frames)) is halted
        done = frames[-1]
        assert done["type"] == "done" and done["drained"] is True and done["halted"] is halted
        released = [f["upto"] for f in frames if f["type"] == "release"]
        passed = STARTS[1] + len("Ships from") if score is SUPPORTED else STARTS[1]
        assert all(upto <= passed for upto in released)  # never the split word
    # text with no space in it (one word, or Chinese) is checked whole, contradiction-only
    for rest in ("Shi", "它于一九二五年建成，高四百五"):
        state = new_state(mode=mode)
        feed(state, TEXT[:STARTS[1]] + rest)
        last, _ = StreamState.on_end(state, by_server=True)
        assert [w.text for w in last] == [rest]
        state.on_scored(0, SUPPORTED)
        frames = state.on_scored(1, FAR)
        assert "halt" not in types(frames) and types(frames)[-1] == "done"
        assert all(f["upto"] <= STARTS[1] for f in frames if f["type"] == "release")
    # a finished sentence the server ended after is judged as the client's own end would be
    state = new_state(mode=mode)
    feed(state, TEXT[:STARTS[2]])
    last, _ = StreamState.on_end(state, by_server=True)
    state.on_scored(0, SUPPORTED)
    assert "halt" in types(state.on_scored(1, FAR))


@pytest.mark.parametrize(("ending", "cut"), [
    ("Its rainfall is 37.", True), ("It joined the company of Dr.", True), ("It stands i", True),
    ("It is 330 metres tall.", False), ("It was designed by Gustave Klimt. 🎉", False),
    ("It is 330 metres tall.[1 , 2]", False), ("It is 330 metres tall.[1,", True),
    # a unit after a figure ends one (a probe's "after 300 s."); a capital may be an initial
    ("Tasks are killed after 300 s.", False), ("It was filmed in 2004 by M.", True),
    ("Its prize was 2 M.", True),
])
def test_what_counts_as_cut_when_the_server_ends_a_stream(ending: str, cut: bool) -> None:
    """A review: a drain's cut after a decimal point or an abbreviation ("37." of "37.5") was
    judged a finished sentence (and halted), and a finished one before an emoji was judged
    cut (and could not halt)."""
    state = new_state()
    windows = feed(state, TEXT[:STARTS[1]] + ending)
    windows += StreamState.on_end(state, by_server=True)[0]
    assert len(windows) == 2
    state.on_scored(0, SUPPORTED)
    frames = state.on_scored(1, FAR)
    assert ("halt" in types(frames)) is not cut
