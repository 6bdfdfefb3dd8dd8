"""The connection's protocol rules, driven without a socket (like websockets' test_protocol.py).

Every error code, cap and close decision the session makes is reached here by feeding it client
messages, scores and server-side events (drain, kill) by hand; the socket tests check that the
connection carries these decisions out.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from stream_guard.oversight.session import (
    Close,
    ConnectionClock,
    Drain,
    Expiry,
    Outcome,
    ScoreJob,
    Session,
    SessionConfig,
)
from stream_guard.oversight.stream import PolicyConfig
from stream_guard.protocol.errors import CloseCode, ErrorCode, ProtocolError
from stream_guard.protocol.frames import Delta, End, Ping, Start
from stream_guard.protocol.server_frames import Done, Error, Halt, Pong, Started, Verdict
from stream_guard.scores import Evidence, WindowScore

POLICY = PolicyConfig(threshold=0.5, contradiction_threshold=0.8, consecutive=2,
                      clear_margin=0.15, window_max_chars=400, window_min_chars=12)
SUPPORTED = WindowScore(0.9, 0.0, [Evidence("doc#1", "The evidence text.", 0.9)])
FAR = WindowScore(0.05, 0.0, [])
CONTRADICTED = WindowScore(0.1, 0.95, [])
SENTENCE = "The harbour opened in the spring of 1921. "
OPENING = SENTENCE + "Ships came"  # completes one window: the next sentence has begun


class FakeAdmission:
    """The server's side of a start: overloaded or not, and which collections exist."""

    def __init__(self) -> None:
        self.busy = False
        self.prepared: list[str] = []

    def overloaded(self) -> bool:
        return self.busy

    def prepare(self, frame: Start) -> str:
        if frame.collection == "missing":
            raise ProtocolError(ErrorCode.UNKNOWN_COLLECTION, "no such collection",
                                frame.stream_id)
        self.prepared.append(frame.stream_id)
        return f"request:{frame.stream_id}"


def new_session(*, max_streams: int = 2, max_chars: int = 10_000,
                max_frame_bytes: int = 4096) -> tuple[Session[str], FakeAdmission]:
    admission = FakeAdmission()
    return Session(SessionConfig(max_streams, max_chars, max_frame_bytes, POLICY),
                   admission), admission


def send(session: Session[str], frame: dict[str, Any]) -> Outcome[str]:
    return session.receive(orjson.dumps(frame).decode())


def start(session: Session[str], sid: str = "s1", **fields: Any) -> Outcome[str]:
    return send(session, {"type": "start", "stream_id": sid, "context": ["x"], **fields})


def delta(session: Session[str], text: str, sid: str = "s1", seq: int = 0) -> Outcome[str]:
    return send(session, {"type": "delta", "stream_id": sid, "seq": seq, "text": text})


def end(session: Session[str], sid: str = "s1") -> Outcome[str]:
    return send(session, {"type": "end", "stream_id": sid})


def error_code(outcome: Outcome[str]) -> ErrorCode:
    """The one frame of a refusal: an error, nothing else to do, the connection stays open."""
    [frame] = outcome.frames
    assert isinstance(frame, Error)
    assert outcome.close is None and not outcome.score and outcome.opened is None
    return frame.code


def score_all(session: Session[str], jobs: list[ScoreJob],
              score: WindowScore = SUPPORTED) -> list[Any]:
    return [f for job in jobs for f in session.scored(job, score).frames]


# --- opening streams ----------------------------------------------------------------------------

def test_start_opens_a_stream_and_asks_for_its_evidence() -> None:
    session, admission = new_session()
    out = start(session)
    assert out.frames == [Started("s1")] and out.opened == ("s1", "request:s1")
    assert out.received is Start and out.close is None
    assert admission.prepared == ["s1"] and session.open_streams == 1


def test_ping_gets_pong() -> None:
    session, _ = new_session()
    out = send(session, {"type": "ping"})
    assert out.frames == [Pong()] and out.received is Ping


@pytest.mark.parametrize(("raw", "code"), [
    ("{not json", ErrorCode.BAD_FRAME),
    (b"\x00binary", ErrorCode.BAD_FRAME),
    ('{"type": "hello"}', ErrorCode.UNKNOWN_TYPE),
    ('{"type": "start", "stream_id": "s1", "context": ["x"], "extra": 1}', ErrorCode.BAD_FRAME),
])
def test_unparseable_frames_are_refused(raw: str | bytes, code: ErrorCode) -> None:
    session, _ = new_session()
    out = session.receive(raw)
    assert error_code(out) is code and out.received is None
    assert session.open_streams == 0


def test_duplicate_stream() -> None:
    session, _ = new_session()
    start(session)
    assert error_code(start(session)) is ErrorCode.DUPLICATE_STREAM


def test_too_many_open_streams() -> None:
    session, _ = new_session(max_streams=2)
    start(session, "a")
    start(session, "b")
    out = start(session, "c")
    assert error_code(out) is ErrorCode.TOO_MANY_STREAMS
    assert out.frames[0].stream_id == "c"
    send(session, {"type": "cancel", "stream_id": "a"})
    assert start(session, "c").frames == [Started("c")]


def test_halted_streams_free_their_slot_but_fill_a_table_of_four_times_the_cap() -> None:
    """A halted stream waits for its ``end`` without scoring anything, so it does not count as
    open; but a client that never ends them could pile them up, hence the table cap."""
    session, _ = new_session(max_streams=1)
    for i in range(4):
        start(session, f"s{i}")
        assert session.kill(lambda sid, i=i: sid == f"s{i}").frames[0] == Halt(
            f"s{i}", 0, "", "operator", None, (), None)
    assert session.open_streams == 4
    assert error_code(start(session, "s4")) is ErrorCode.TOO_MANY_STREAMS
    end(session, "s0")
    assert start(session, "s4").frames == [Started("s4")]


def test_overloaded_refuses_new_streams_only() -> None:
    session, admission = new_session()
    start(session)
    admission.busy = True
    assert error_code(start(session, "s2")) is ErrorCode.OVERLOADED
    assert delta(session, OPENING).chars == len(OPENING)  # the open stream goes on


def test_the_caps_are_checked_before_the_server_is_asked() -> None:
    session, admission = new_session(max_streams=1)
    start(session)
    admission.busy = True
    assert error_code(start(session, "s2")) is ErrorCode.TOO_MANY_STREAMS
    assert admission.prepared == ["s1"]


def test_unknown_collection_opens_nothing() -> None:
    session, _ = new_session()
    out = start(session, collection="missing")
    assert error_code(out) is ErrorCode.UNKNOWN_COLLECTION and session.open_streams == 0


@pytest.mark.parametrize("frame", [{"type": "delta", "stream_id": "nope", "seq": 0, "text": "x"},
                                   {"type": "end", "stream_id": "nope"},
                                   {"type": "cancel", "stream_id": "nope"}])
def test_unknown_stream(frame: dict[str, Any]) -> None:
    session, _ = new_session()
    assert error_code(send(session, frame)) is ErrorCode.UNKNOWN_STREAM


# --- deltas, windows and scores -----------------------------------------------------------------

def test_deltas_give_windows_to_score_and_scores_give_frames() -> None:
    session, _ = new_session()
    start(session)
    out = delta(session, SENTENCE + "Ships came")
    assert out.received is Delta and out.frames == [] and out.chars == len(SENTENCE) + 10
    [job] = out.score
    assert job.stream_id == "s1" and job.window.text == SENTENCE.strip()
    scored = session.scored(job, SUPPORTED)
    assert [type(f) for f in scored.frames] == [Verdict] and scored.labels == ["supported"]
    out = end(session)
    assert out.received is End and out.frames == [] and len(out.score) == 1
    frames = score_all(session, out.score)
    assert frames[-1] == Done("s1", False, len(SENTENCE) + 10, 2)


def test_bad_seq_is_refused_and_not_charged() -> None:
    session, _ = new_session(max_chars=len(OPENING))
    start(session)
    assert error_code(delta(session, SENTENCE, seq=3)) is ErrorCode.BAD_SEQ
    assert delta(session, OPENING).chars == len(OPENING)  # the budget was left whole


def test_delta_after_end_is_a_bad_frame() -> None:
    session, _ = new_session()
    start(session)
    delta(session, OPENING)
    end(session)
    assert error_code(delta(session, "more", seq=1)) is ErrorCode.BAD_FRAME


def test_code_windows_are_skipped_not_scored() -> None:
    session, _ = new_session()
    start(session, options={"mode": "holdback"})
    text = "```\nvalue = compute(1) + 1.5\n```\n"
    out = delta(session, text)
    out_end = end(session)
    assert not out.score and not out_end.score  # nothing goes to the scorer
    frames = out.frames + out_end.frames
    assert frames[-1] == Done("s1", False, len(text), 0)
    assert all(f.type in ("release", "done") for f in frames)


def test_service_talk_is_skipped_not_scored() -> None:
    # A closing "I hope this helps!" states nothing to check: it must not halt an answer whose
    # claims were all supported (as a run the output ends in would).
    session, _ = new_session()
    start(session)
    jobs = delta(session, OPENING).score
    jobs += delta(session, " in May. I hope this helps!", seq=1).score
    out = delta(session, " Let me know if you have any other questions.", seq=2)
    out_end = end(session)
    assert [j.window.text for j in jobs] == [SENTENCE.strip(), "Ships came in May."]
    assert not out.score and not out_end.score
    assert score_all(session, jobs)[-1] == Done("s1", False, len(OPENING) + 72, 2)


def test_a_failed_window_is_an_internal_error_and_is_skipped() -> None:
    session, _ = new_session()
    start(session)
    [job] = delta(session, OPENING).score
    out = session.failed(job, "RuntimeError")
    assert out.frames[0] == Error(ErrorCode.INTERNAL, f"window 0-{job.window.end} could "
                                  "not be scored: RuntimeError", "s1")
    last = end(session).score  # the rest of the text
    assert score_all(session, last)[-1] == Done("s1", False, len(OPENING), 1)


def test_stream_halted_then_end_gives_done_and_forgets() -> None:
    session, _ = new_session()
    start(session)
    [job] = delta(session, OPENING).score
    halted = session.scored(job, FAR)
    frames = halted.frames
    assert isinstance(frames[-1], Halt) and frames[-1].reason == "unsupported"
    # its queued windows are moot: scored after the halt, for no one (a review)
    assert halted.stop == ["s1"]
    assert error_code(delta(session, "more", seq=1)) is ErrorCode.STREAM_HALTED
    out = end(session)
    assert out.frames == [Done("s1", True, len(OPENING), 1)] and out.stop == ["s1"]
    assert session.open_streams == 0


# --- forgetting a stream ------------------------------------------------------------------------

def test_done_forgets_the_stream_so_its_id_can_be_reused_at_once() -> None:
    session, _ = new_session()
    start(session)
    out = end(session)
    assert out.frames == [Done("s1", False, 0, 0)] and out.stop == ["s1"]
    assert session.open_streams == 0
    assert error_code(end(session)) is ErrorCode.UNKNOWN_STREAM
    assert start(session).frames == [Started("s1")]


def test_a_late_score_for_a_forgotten_stream_is_dropped_even_when_its_id_is_reused() -> None:
    session, _ = new_session()
    start(session)
    [old] = delta(session, OPENING).score
    out = send(session, {"type": "cancel", "stream_id": "s1"})
    assert out.frames == [Done("s1", False, len(OPENING), 0, cancelled=True)]
    assert out.stop == ["s1"]  # forgotten at its done: its scoring is moot
    start(session)
    assert session.scored(old, FAR).frames == [] and session.failed(old, "E").frames == []
    [new] = delta(session, OPENING).score
    assert [type(f) for f in session.scored(new, SUPPORTED).frames] == [Verdict]


# --- limits that close the connection -----------------------------------------------------------

def test_a_spent_budget_drains_the_connection_and_twice_the_budget_closes_1009() -> None:
    """Spending the budget cut every stream on the connection (1009): a chat backend lost
    every answer in flight. Now the connection drains: no new stream, those on it may take as
    many characters again to finish; past that, 1009 as before."""
    budget = len(OPENING) + 5
    session, _ = new_session(max_chars=budget)
    start(session)
    assert delta(session, OPENING).drain is None
    out = delta(session, "12345", seq=1)  # exactly the budget: spent
    assert out.drain is Drain.BUDGET and out.chars == 5 and out.close is None
    assert session.draining
    refused = start(session, "s2")
    assert error_code(refused) is ErrorCode.DRAINING
    assert "spent its character budget" in refused.frames[0].message  # type: ignore[union-attr]
    assert delta(session, "x" * budget, seq=2).chars == budget  # as much again: taken
    out = delta(session, "1", seq=3)
    [frame] = out.frames
    assert isinstance(frame, Error) and frame.code is ErrorCode.BUDGET_EXCEEDED
    assert frame.stream_id == "s1" and out.chars == 0 and not out.score
    assert out.close == Close(CloseCode.MESSAGE_TOO_BIG, "character budget spent")
    assert out.close.abuse is None


def test_the_budget_is_checked_after_the_stream() -> None:
    session, _ = new_session(max_chars=1)
    assert error_code(delta(session, "too long", sid="nope")) is ErrorCode.UNKNOWN_STREAM


def test_a_delta_the_stream_refuses_is_not_charged_to_the_budget() -> None:
    """A delta out of order (or for a halted stream) is not taken, so it gets its own error and
    the connection stays open; it used to be refused as over the budget and closed 1009."""
    session, _ = new_session(max_chars=len(OPENING))
    start(session)
    out = delta(session, OPENING + "!", seq=5)
    assert error_code(out) is ErrorCode.BAD_SEQ
    assert delta(session, OPENING).chars == len(OPENING)  # the budget was left whole


@pytest.mark.parametrize("size", [4097, 4090])
def test_frame_too_large_closes_1009_as_abuse(size: int) -> None:
    session, _ = new_session(max_frame_bytes=4096)
    message = '{"type":"ping"' + " " * (size - 15) + "}"
    if size == 4090:  # under the limit in characters, over it in bytes once encoded
        message = message[:-7] + "ééééééé" + "}"
    assert len(message.encode()) > 4096
    out = session.receive(message)
    [frame] = out.frames
    assert isinstance(frame, Error) and frame.code is ErrorCode.FRAME_TOO_LARGE
    assert out.close == Close(CloseCode.MESSAGE_TOO_BIG, "frame too large", "frame_too_large")
    assert out.received is None


def test_a_frame_of_exactly_the_limit_is_taken() -> None:
    session, _ = new_session(max_frame_bytes=16)
    assert session.receive('{"type":"ping"} ').frames == [Pong()]


def test_a_throttled_message_is_answered_then_flooding_closes_1008_as_abuse() -> None:
    session, _ = new_session()
    out = session.throttled('{"type":"ping"}', abusive=False)
    assert error_code(out) is ErrorCode.RATE_LIMITED and out.frames[0].stream_id is None
    out = session.throttled(b"\xff not json", abusive=False)
    assert error_code(out) is ErrorCode.RATE_LIMITED and out.frames[0].stream_id is None
    out = session.throttled('{"type":"ping"}', abusive=True)
    assert out.frames == [] and out.close == Close(
        CloseCode.POLICY_VIOLATION, "too many rate-limited messages", "rate_abuse")


def test_a_throttled_streams_message_names_its_stream_and_takes_nothing() -> None:
    """Unnamed, a dropped delta's error went to every stream of the connection, and a client
    failed them all; it names its stream (and its seq, which the stream still expects)."""
    session, _ = new_session()
    start(session)
    dropped = orjson.dumps({"type": "delta", "stream_id": "s1", "seq": 0, "text": OPENING}
                           ).decode()
    out = session.throttled(dropped, abusive=False)
    [frame] = out.frames
    assert isinstance(frame, Error) and frame.code is ErrorCode.RATE_LIMITED
    assert frame.stream_id == "s1" and "delta seq 0 was dropped" in frame.message
    assert out.chars == 0 and not out.score
    assert delta(session, OPENING).chars == len(OPENING)  # seq 0 is still expected
    out = session.throttled('{"type":"end","stream_id":"s1"}', abusive=False)
    assert out.frames[0].stream_id == "s1" and "this end was dropped" in \
        out.frames[0].message  # type: ignore[union-attr]


@pytest.mark.parametrize(("expiry", "reason"), [(Expiry.IDLE, "idle timeout"),
                                                (Expiry.LIFETIME, "connection lifetime reached")])
def test_expiry_closes_1001(expiry: Expiry, reason: str) -> None:
    session, _ = new_session()
    assert session.expired(expiry) == Close(CloseCode.GOING_AWAY, reason)


# --- drain --------------------------------------------------------------------------------------

def test_drain_refuses_new_streams_but_takes_and_scores_open_ones() -> None:
    session, _ = new_session()
    start(session)
    session.start_drain()
    assert error_code(start(session, "s2")) is ErrorCode.DRAINING
    out = delta(session, OPENING)
    assert out.chars == len(OPENING) and len(out.score) == 1
    frames = score_all(session, out.score + end(session).score)
    assert frames[-1] == Done("s1", False, len(OPENING), 2)
    assert session.open_streams == 0


def test_finish_drain_ends_open_streams_with_what_was_taken_then_closes_1001() -> None:
    session, _ = new_session()
    start(session, "a")
    start(session, "b")
    delta(session, SENTENCE + "Half a sent", sid="a")
    session.start_drain()
    out = session.finish_drain()
    # drained: its window was not scored (a client cannot tell that from chars alone)
    assert out.frames == [Done("a", False, len(SENTENCE) + 11, 0, drained=True),
                          Done("b", False, 0, 0, drained=True)]
    assert set(out.stop) == {"a", "b"} and session.open_streams == 0
    assert out.close == Close(CloseCode.GOING_AWAY, "server shutting down")
    # A frame for a stream the drain ended says why it was not taken.
    assert error_code(delta(session, "more", sid="a", seq=1)) is ErrorCode.DRAINING


@pytest.mark.parametrize(("cause", "reason"), [
    (Drain.LIFETIME, "connection lifetime reached"), (Drain.BUDGET, "character budget spent")])
def test_a_connections_own_drain_names_its_cause(cause: Drain, reason: str) -> None:
    """A lifetime or a spent budget drains the connection like a shutdown, and says so: the
    client opens a new connection for its next stream."""
    session, _ = new_session()
    start(session)
    session.start_drain(cause)
    session.start_drain(Drain.BUDGET if cause is Drain.LIFETIME else Drain.LIFETIME)
    refused = start(session, "s2")  # the first cause stays
    assert error_code(refused) is ErrorCode.DRAINING
    assert "start it on a new connection" in refused.frames[0].message  # type: ignore[union-attr]
    assert session.finish_drain().close == Close(CloseCode.GOING_AWAY, reason)
    session.start_drain()  # a shutdown is said over it
    assert session.finish_drain().close == Close(CloseCode.GOING_AWAY, "server shutting down")


def test_a_close_for_the_clients_doing_ends_its_streams_and_scores_what_was_taken() -> None:
    """The connection closes for something the client did (a message too large, a flood,
    twice its budget): its open streams are ended by the server, so the text taken is scored
    (the unfinished sentence becomes the last window, without the word the end may have cut)
    and a halt can still come, on a contradiction (the cut sentence may lack the words that
    support it); ``done`` says
    ``drained``. A stream with nothing left to score is done at once."""
    session, _ = new_session()
    start(session, "a")
    start(session, "b")
    taken = delta(session, OPENING, sid="a")
    out = session.end_for_close()
    assert [j.window.text for j in out.score] == ["Ships"]  # "came" may be cut short
    assert out.frames == [Done("b", False, 0, 0, drained=True)] and session.open_streams == 1
    frames = session.scored(taken.score[0], SUPPORTED).frames
    frames += session.scored(out.score[0], CONTRADICTED).frames
    assert [type(f) for f in frames] == [Verdict, Verdict, Halt, Done]
    assert frames[-1] == Done("a", True, len(OPENING), 2, drained=True)
    assert session.open_streams == 0
    closing = Close(CloseCode.MESSAGE_TOO_BIG, "frame too large", "frame_too_large")
    assert session.finish_drain(closing).close is closing


def test_a_stream_the_server_ended_refuses_the_clients_frames_with_draining() -> None:
    """In a drain's last second the server ends the open streams (to score their last
    windows): a delta or ``end`` the client sends then is no fault of its own, so it is
    refused ``draining`` (not taken), as once the stream is forgotten; a cancel is taken."""
    session, _ = new_session()
    start(session, "a")
    delta(session, OPENING, sid="a")
    session.start_drain()
    session.end_for_close()
    assert error_code(delta(session, " more", sid="a", seq=1)) is ErrorCode.DRAINING
    assert error_code(end(session, "a")) is ErrorCode.DRAINING
    cancelled = send(session, {"type": "cancel", "stream_id": "a"})
    assert [type(f) for f in cancelled.frames] == [Done]


def test_finish_drain_without_streams_only_closes() -> None:
    session, _ = new_session()
    session.start_drain()
    out = session.finish_drain()
    assert out.frames == [] and out.close is not None and out.close.code == 1001


# --- operator kill ------------------------------------------------------------------------------

def test_kill_halts_matching_live_streams_once() -> None:
    session, _ = new_session()
    start(session, "a")
    start(session, "b")
    [job] = delta(session, OPENING, sid="a").score
    session.scored(job, SUPPORTED)
    out = session.kill(lambda sid: sid == "a")
    assert out.frames == [Halt("a", job.window.end, "", "operator", None, (), None)]
    assert out.stop == ["a"]
    assert session.kill(lambda sid: sid == "a").frames == []  # already halted
    assert error_code(delta(session, "x", sid="a", seq=1)) is ErrorCode.STREAM_HALTED
    assert delta(session, OPENING, sid="b").chars  # the other stream goes on


def test_kill_of_an_ended_stream_is_done_at_once() -> None:
    session, _ = new_session()
    start(session)
    delta(session, OPENING)
    end(session)
    out = session.kill(lambda sid: True)
    assert [type(f) for f in out.frames] == [Halt, Done] and session.open_streams == 0
    assert out.stop == ["s1"]
    assert out.frames[1] == Done("s1", True, len(OPENING), 0)


# --- a large delta is segmented a slice at a time -------------------------------------------

def test_a_large_delta_is_taken_whole_and_segmented_a_slice_a_call() -> None:
    """One message of one-letter sentences is the costliest text to segment (about 2 us a
    character): the session takes it whole (seq, budget, chars) but segments it a slice per
    call, so the connection can let other clients run in between. The windows are exactly
    those of the delta segmented in one go."""
    from stream_guard.oversight.segmenter import WindowSegmenter
    from stream_guard.oversight.stream import SEGMENT_SLICE

    text = "A. " * SEGMENT_SLICE + "The end is near. And"
    session, _ = new_session(max_chars=len(text), max_frame_bytes=4 * len(text))
    start(session)
    out = delta(session, text)
    assert out.chars == len(text) and out.more == "s1"
    jobs = list(out.score)
    calls = 1
    while out.more is not None:
        out = session.segment_more(out.more)
        jobs += out.score
        calls += 1
    assert calls == -(-len(text) // SEGMENT_SLICE)
    whole = WindowSegmenter(POLICY.window_max_chars, POLICY.window_min_chars).feed(text)
    assert [(j.window.start, j.window.end) for j in jobs] == [(w.start, w.end) for w in whole]
    # the stream goes on as usual: the next delta, then the end, flush the last window
    assert delta(session, " so", seq=1).more is None


def test_a_halt_between_slices_stops_segmenting() -> None:
    text = "The harbour opened in 1921. " * 600
    session, _ = new_session(max_chars=len(text), max_frame_bytes=4 * len(text))
    start(session)
    out = delta(session, text)
    assert out.more == "s1"
    # the first two windows are far from the evidence: a halt before the rest is segmented
    assert any(isinstance(f, Halt) for f in score_all(session, out.score[:2], FAR))
    assert session.segment_more("s1").score == []
    assert session.segment_more("s1").more is None


# --- a cancel read while the connection's messages wait -------------------------------------------

def _wire(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


CANCEL_S1 = _wire({"type": "cancel", "stream_id": "s1"})


def test_a_cancel_withdraws_its_streams_waiting_deltas_and_end_only() -> None:
    session, _ = new_session()
    start(session, "s1")
    start(session, "s2")
    waiting: list[str | bytes] = [
        _wire({"type": "delta", "stream_id": "s1", "seq": 1, "text": "More. "}),
        _wire({"type": "delta", "stream_id": "s2", "seq": 0, "text": "Other. "}),
        _wire({"type": "ping"}),
        "{not json",
        _wire({"type": "end", "stream_id": "s1"}),
        _wire({"type": "end", "stream_id": "s2"}).encode()]
    assert session.cancel_ahead(CANCEL_S1, waiting) == [0, 4]
    assert session.cancel_ahead(CANCEL_S1.encode(), waiting) is None  # binary: refused in turn
    assert session.cancel_ahead(CANCEL_S1, []) == []  # nothing waits for it: taken all the same


@pytest.mark.parametrize("message", [
    _wire({"type": "cancel", "stream_id": "nope"}),  # not open: refused in its turn
    _wire({"type": "end", "stream_id": "s1"}),  # only a cancel goes first
    _wire({"type": "delta", "stream_id": "s1", "seq": 1, "text": '"cancel"'}),
    '{"type": "cancel"}',  # malformed: its error comes in its turn
    _wire({"type": "cancel", "stream_id": "s1", "pad": "x" * 5000}),  # over the frame limit
])
def test_other_messages_wait_their_turn(message: str) -> None:
    session, _ = new_session()
    start(session, "s1")
    assert session.cancel_ahead(message, [_wire({"type": "end", "stream_id": "s1"})]) is None


@pytest.mark.parametrize("earlier", [
    {"type": "start", "stream_id": "s1", "context": ["x"]},  # a duplicate, refused in order
    {"type": "cancel", "stream_id": "s1"},  # the cancel that waits ends it first
])
def test_a_cancel_waits_when_a_frame_that_changes_its_meaning_waits_before_it(
        earlier: dict[str, Any]) -> None:
    session, _ = new_session()
    start(session, "s1")
    waiting = [_wire({"type": "delta", "stream_id": "s1", "seq": 0, "text": "A. "}),
               _wire(earlier)]
    assert session.cancel_ahead(CANCEL_S1, waiting) is None


def test_an_oversize_waiting_message_is_not_parsed_and_keeps_its_place() -> None:
    session, _ = new_session(max_frame_bytes=200)
    start(session, "s1")
    big = _wire({"type": "delta", "stream_id": "s1", "seq": 0, "text": "x" * 300})
    assert session.cancel_ahead(CANCEL_S1, [big]) == []
    outcome = session.receive(CANCEL_S1)  # then taken as usual: done, cancelled
    assert outcome.frames == [Done("s1", halted=False, chars=0, windows=0, cancelled=True)]


def _untouchable() -> Any:
    """Waiting messages that must not be looked at."""
    raise AssertionError("the waiting messages were scanned")
    yield ""  # pragma: no cover - makes this a generator


def test_a_blocked_cancel_is_remembered_until_its_blocker_is_taken() -> None:
    """A review: a client could hold a duplicate start, then send thousands of cancels, each of
    which parsed every waiting message again. Once blocked, a cancel of that id waits without
    a scan until the start or cancel that blocked it is taken."""
    session, _ = new_session()
    start(session, "s1")
    waiting: list[str | bytes] = [_wire({"type": "ping"}),
                                  _wire({"type": "start", "stream_id": "s1", "context": ["x"]})]
    assert session.cancel_ahead(CANCEL_S1, waiting) is None
    assert session.cancel_ahead(CANCEL_S1, _untouchable()) is None
    start(session, "s1")  # the duplicate start, taken in its turn (refused)
    assert session.cancel_ahead(CANCEL_S1, []) == []


def test_no_cancel_goes_first_while_the_connection_drains() -> None:
    """The drain closes the connection once its last stream is done: a cancel taken ahead of
    a ping and a start left them unanswered (a review)."""
    session, _ = new_session()
    start(session, "s1")
    session.start_drain()
    assert session.cancel_ahead(CANCEL_S1, _untouchable()) is None


def test_waiting_messages_of_other_streams_are_not_parsed() -> None:
    session, _ = new_session()
    start(session, "s1")
    # another stream's frame that would block if it were read as s1's: the id is not in it
    waiting: list[str | bytes] = ['{"type":"start","stream_id":"s10","context":["x"]}',
                                  # an escaped id is parsed: it may spell s1
                                  '{"type":"start","stream_id":"\\u0073\\u0031","context":["x"]}']
    assert session.cancel_ahead(CANCEL_S1, waiting[:1]) == []
    assert session.cancel_ahead(CANCEL_S1, waiting) is None


def test_the_connection_clock_runs_out_idle_or_at_its_lifetime() -> None:
    """Idle: no message for ``idle_s`` while nothing is owed (windows in flight keep it
    active); lifetime: ``lifetime_s`` after it opened, whatever it did."""
    clock = ConnectionClock(idle_s=10.0, lifetime_s=100.0, now=0.0)
    assert clock.next_check() == 10.0 and clock.expiry(9.9, owed=False) is None
    clock.touch(8.0)
    assert clock.expiry(17.9, owed=False) is None and clock.next_check() == 18.0
    assert clock.expiry(18.0, owed=False) is Expiry.IDLE
    owed = ConnectionClock(idle_s=10.0, lifetime_s=100.0, now=0.0)
    assert owed.expiry(50.0, owed=True) is None  # verdicts still due: not idle
    assert owed.next_check() == 60.0
    assert owed.expiry(100.0, owed=True) is Expiry.LIFETIME
    assert ConnectionClock(idle_s=300.0, lifetime_s=5.0, now=0.0).next_check() == 5.0
