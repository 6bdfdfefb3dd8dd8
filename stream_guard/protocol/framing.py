"""WebSocket frame headers (RFC 6455 5.2), read without a socket and without websockets.

Two users: the server's transport, which frames plain data messages itself
(:mod:`stream_guard.server.transport`), and :class:`FrameBudget`, which bounds the frames a
connection hands to websockets' parser.
"""

from __future__ import annotations

from stream_guard.guard.bucket import TokenBucket

_FIN, _CONTINUATION = 0x80, 0x0  # first byte: the final-fragment bit; opcode 0
_MASKED, _LENGTH = 0x80, 0x7F  # second byte
MAX_HEADER = 14  # 2 bytes, 8 of extended length, 4 of masking key


def frame_extent(data: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """The header and payload lengths of the frame starting at ``data[pos]``, or None while its
    header is incomplete."""
    available = len(data) - pos
    if available < 2:
        return None
    second = data[pos + 1]
    length = second & _LENGTH
    if length < 126:
        header = 2
    elif length == 126:
        if available < 4:
            return None
        length, header = int.from_bytes(data[pos + 2:pos + 4], "big"), 4
    else:
        if available < 10:
            return None
        length, header = int.from_bytes(data[pos + 2:pos + 10], "big"), 10
    if second & _MASKED:
        header += 4
    return header, length


def _counted(first: int) -> bool:
    """Whether a frame whose first byte is ``first`` counts: a control frame (opcode 8 and
    up), or one of a fragmented message (FIN clear, or a continuation)."""
    opcode = first & 0x0F
    return bool(opcode & 0x08) or not first & _FIN or opcode == _CONTINUATION


class FrameBudget:
    """How many control frames and fragments a connection may hand to websockets' parser: a
    token bucket, one token a frame, over a byte stream that begins at a frame boundary.

    A message sent whole (one frame with FIN set, text or binary, compressed or not) is not
    counted: the connection's message rate charges it. Control frames (ping, pong, close) and
    the frames of a fragmented message are what a client needs a handful of a second, and
    what costs the event loop unbounded: websockets parses and answers each (about 20 us, a
    pong written for every ping), and one client flooding empty pongs (6 bytes each) or
    messages of 1,000 fragments held every other connection of the worker for seconds (a
    review: a halt 10 to 16 s late, the health check as slow, a shutdown 38 s in coming).
    So each frame's header is read here, a few operations, before websockets reads it;
    :meth:`feed` says where the first frame past the budget begins, and the connection hands
    websockets only what comes before it.
    """

    def __init__(self, rate_per_s: float, burst: int, now: float) -> None:
        self._bucket = TokenBucket.full(rate_per_s, burst, now)
        self._head = bytearray()  # the header bytes seen of a frame whose header is incomplete
        self._rest = 0  # bytes of the current frame still to come

    def feed(self, data: bytes, now: float) -> int:
        """The bytes of ``data`` within the budget: all of them (``len(data)``), or the offset
        where the first frame over it begins."""
        pos, end = 0, len(data)
        while pos < end:
            if self._rest:
                step = min(self._rest, end - pos)
                self._rest -= step
                pos += step
                continue
            if not self._head and _counted(data[pos]) and not self._bucket.take(now):
                return pos
            taken = data[pos:pos + MAX_HEADER - len(self._head)]
            self._head += taken
            pos += len(taken)
            extent = frame_extent(self._head, 0)
            if extent is None:  # all of data went into the header, which needs more
                continue
            frame = extent[0] + extent[1]
            beyond = len(self._head) - frame  # header bytes taken past a short frame's end
            if beyond > 0:
                pos -= beyond
            self._rest = max(0, -beyond)
            self._head = bytearray()
        return end
