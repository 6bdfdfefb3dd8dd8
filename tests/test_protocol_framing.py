"""Frame headers, the data framer and the frame budget, without sockets (the transport's use
of them is in test_transport.py, which also checks the framer against websockets' parser)."""

from __future__ import annotations

from websockets.frames import Frame, Opcode

from stream_guard.protocol.framing import DataFramer, FrameBudget, frame_extent


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


def test_the_framer_unmasks_whole_data_frames_and_keeps_a_partial_one() -> None:
    data = _frames(Frame(Opcode.TEXT, b"hello"), Frame(Opcode.BINARY, b"\x00\x01" * 200),
                   Frame(Opcode.TEXT, "é".encode() * 40_000))
    framer = DataFramer(max_frame=2**20)
    cut = len(data) - 1000
    assert list(framer.frames(data[:cut])) == [(True, b"hello"), (False, b"\x00\x01" * 200)]
    assert 0 < framer.pending < len(data)  # the third frame's start, kept
    assert list(framer.frames(data[cut:cut + 500])) == []
    assert list(framer.frames(data[cut + 500:])) == [(True, "é".encode() * 40_000)]
    assert framer.pending == 0 and not framer.handing_over


def test_the_framer_hands_over_anything_but_a_plain_data_frame_from_its_header() -> None:
    """Control frames, fragments, RSV bits, an unmasked frame and one over ``max_frame``: each
    goes to websockets' parser with everything after it, its payload not waited for."""
    text = _frames(Frame(Opcode.TEXT, b"a"))
    rsv1 = _frames(Frame(Opcode.TEXT, b"r"))
    others = [
        _frames(Frame(Opcode.PING, b"p")),
        _frames(Frame(Opcode.TEXT, b"part", fin=False)),
        bytes([rsv1[0] | 0x40]) + rsv1[1:],
        Frame(Opcode.TEXT, b"unmasked").serialize(mask=False, extensions=[]),
        _frames(Frame(Opcode.BINARY, bytes(101)))[:4],  # a header over max_frame, alone
    ]
    for other in others:
        framer = DataFramer(max_frame=100)
        assert list(framer.frames(text + other + text)) == [(True, b"a")]
        assert framer.handing_over
        assert framer.rest() == other + text and framer.pending == 0
        assert not framer.handing_over


def test_a_caller_that_stops_early_finds_the_rest_in_rest() -> None:
    """The transport stops taking frames once a message closed the connection: the frames
    after it go to websockets."""
    first = _frames(Frame(Opcode.TEXT, b"a"))
    after = _frames(Frame(Opcode.TEXT, b"b"), Frame(Opcode.TEXT, b"c"))
    framer = DataFramer(max_frame=None)
    for frame in framer.frames(first + after):
        assert frame == (True, b"a")
        break
    assert framer.rest() == after


def test_the_framer_waits_for_a_header_cut_short() -> None:
    data = _frames(Frame(Opcode.TEXT, b"x" * 300))  # a 2-byte length: 8 bytes of header
    framer = DataFramer(max_frame=None)
    assert list(framer.frames(data[:3])) == [] and framer.pending == 3
    assert list(framer.frames(data[3:])) == [(True, b"x" * 300)]
