"""Frame headers and the frame budget, without sockets (the transport's use of them is in
test_transport.py)."""

from __future__ import annotations

from websockets.frames import Frame, Opcode

from stream_guard.protocol.framing import FrameBudget, frame_extent


def _frames(*frames: Frame) -> bytes:
    return b"".join(f.serialize(mask=True, extensions=[]) for f in frames)


def test_frame_extent_reads_each_length_form_and_waits_for_a_whole_header() -> None:
    short = Frame(Opcode.TEXT, b"x" * 5).serialize(mask=True, extensions=[])
    medium = Frame(Opcode.TEXT, b"x" * 300).serialize(mask=True, extensions=[])
    long = Frame(Opcode.BINARY, b"x" * 70_000).serialize(mask=True, extensions=[])
    unmasked = Frame(Opcode.TEXT, b"x" * 5).serialize(mask=False, extensions=[])
    assert frame_extent(short, 0) == (6, 5)
    assert frame_extent(medium, 0) == (8, 300)
    assert frame_extent(long, 0) == (14, 70_000)
    assert frame_extent(unmasked, 0) == (2, 5)
    assert frame_extent(b"??" + medium, 2) == (8, 300)
    assert frame_extent(short[:1], 0) is None
    assert frame_extent(medium[:3], 0) is None
    assert frame_extent(long[:9], 0) is None


def test_the_budget_passes_the_frames_within_it_and_stops_at_the_first_past_it() -> None:
    pong = Frame(Opcode.PONG, b"").serialize(mask=True, extensions=[])
    budget = FrameBudget(rate_per_s=10, burst=3, now=0.0)
    data = pong * 5
    assert budget.feed(data, 0.0) == 3 * len(pong)  # the fourth frame begins past it
    assert budget.feed(pong, 0.05) == 0  # half a token refilled: still none
    assert budget.feed(pong * 2, 0.1) == len(pong)  # one more after 0.1 s


def test_the_budget_counts_frames_cut_anywhere_across_reads() -> None:
    """A frame's header or payload may end a read and go on in the next: each frame counts
    once, wherever the cuts fall, and the budget stops at the start of the frame past it."""
    frames = [Frame(Opcode.PING, b"p" * 3), Frame(Opcode.TEXT, b"t" * 300, fin=False),
              Frame(Opcode.CONT, b"c" * 70_000, fin=False), Frame(Opcode.CONT, b""),
              Frame(Opcode.PONG, b"")]
    data = _frames(*frames)
    starts = [0]
    for f in frames[:-1]:
        starts.append(starts[-1] + len(_frames(f)))
    for cut in (1, 2, 3, 7, 100, 4096):
        budget = FrameBudget(rate_per_s=1e-9, burst=4, now=0.0)
        passed = 0
        for i in range(0, len(data), cut):
            piece = data[i:i + cut]
            within = budget.feed(piece, 0.0)
            passed += within
            if within < len(piece):
                break
        assert passed == starts[4], cut  # four frames, then the fifth's first byte is refused


def test_messages_sent_whole_are_not_counted() -> None:
    """A whole message, compressed (RSV1) or not, is charged by the message rate, not here;
    a control frame or a fragment between them is."""
    whole = _frames(Frame(Opcode.TEXT, b"t" * 300), Frame(Opcode.BINARY, b"b"))
    compressed = bytes([whole[0] | 0x40]) + whole[1:]
    budget = FrameBudget(rate_per_s=1e-9, burst=1, now=0.0)
    assert budget.feed(whole * 50 + compressed, 0.0) == len(whole) * 50 + len(compressed)
    ping = _frames(Frame(Opcode.PING, b""))
    assert budget.feed(ping + whole + ping, 0.0) == len(ping) + len(whole)
