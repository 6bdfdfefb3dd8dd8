"""WebSocket frame headers (RFC 6455 5.2), read without a socket and without websockets.

Two users, both of the server's transport (:mod:`stream_guard.server.transport`):
:class:`DataFramer`, which cuts plain data messages out of the socket's bytes itself, and
:class:`FrameBudget`, which bounds the frames a connection hands to websockets' parser.
"""

from __future__ import annotations

from collections.abc import Iterator

from stream_guard.guard.bucket import TokenBucket

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - a websockets build without its C extension
    from websockets.utils import apply_mask

_FIN, _CONTINUATION = 0x80, 0x0  # first byte: the final-fragment bit; opcode 0
_MASKED, _LENGTH = 0x80, 0x7F  # second byte
MAX_HEADER = 14  # 2 bytes, 8 of extended length, 4 of masking key
_FIN_NO_RSV, _FLAGS = 0x80, 0xF0  # first byte: FIN set, RSV1-3 clear
_TEXT = 0x1
_DATA = frozenset((_TEXT, 0x2))  # text, binary


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


class DataFramer:
    """Cuts whole, unfragmented, masked data frames (text or binary, within ``max_frame``
    bytes) out of a byte stream that begins at a frame boundary, and unmasks their payloads.

    Anything else (a control frame, a fragment, a frame with RSV bits, an unmasked frame, one
    over ``max_frame``) is not its business: :meth:`frames` stops at that frame's first two
    bytes (a refused frame's payload is not waited for), sets :attr:`handing_over`, and
    :meth:`rest` gives every byte from it on, for websockets' parser. A frame begun in one read
    is kept and completed by the next: its pieces are appended, not joined again each read (a
    client trickling a large frame must not cost the server quadratic copying).
    """

    def __init__(self, max_frame: int | None) -> None:
        self.max_frame = max_frame
        self.handing_over = False  # the frames stopped at one to hand over
        self._data = b""  # the bytes of the current read, from ``_pos`` on not framed yet
        self._pos = 0
        self._partial = bytearray()  # the start of a frame not yet complete
        self._need = 0  # ... and the bytes that frame needs, once its header is known

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame kept for the next read."""
        return len(self._partial)

    def frames(self, data: bytes) -> Iterator[tuple[bool, bytes]]:
        """The data frames of the socket's next bytes, as ``(is_text, payload)``, up to the
        first frame to hand over or an incomplete one (kept for the next read). A caller may
        stop early: :meth:`rest` then holds what it did not take."""
        if self._partial:  # the rest of a frame begun in an earlier read
            self._partial += data
            if len(self._partial) < self._need:
                return  # appended, not joined again: a frame in many small reads stays linear
            data, self._partial = bytes(self._partial), bytearray()
        self._data, self._pos = data, 0
        pos, end = 0, len(data)
        while pos < end:
            first = data[pos]
            if ((first & _FLAGS) != _FIN_NO_RSV or (first & 0x0F) not in _DATA
                    or (end - pos > 1 and not data[pos + 1] & _MASKED)):
                self.handing_over = True
                return
            extent = frame_extent(data, pos)
            if extent is None:  # the header is incomplete: read again when more comes
                self._keep(pos, 0)
                return
            header, length = extent
            if self.max_frame is not None and length > self.max_frame:
                self.handing_over = True  # websockets refuses it from its header (1009)
                return
            stop = pos + header + length
            if stop > end:
                self._keep(pos, stop - pos)
                return
            key = pos + header - 4  # the masking key, right before the payload
            self._pos = pos = stop
            yield (first & 0x0F) == _TEXT, apply_mask(data[key + 4:stop], data[key:key + 4])
        self._data, self._pos = b"", 0

    def rest(self) -> bytes:
        """Every byte fed and not framed, from the current frame boundary on (an incomplete
        frame included); the framer is left empty."""
        rest = bytes(self._partial) + self._data[self._pos:]
        self._data, self._pos, self._partial, self._need = b"", 0, bytearray(), 0
        self.handing_over = False
        return rest

    def _keep(self, pos: int, need: int) -> None:
        """Keep the incomplete frame at ``pos`` of the current read for the next one."""
        self._partial = bytearray(self._data[pos:])
        self._need = need
        self._data, self._pos = b"", 0
