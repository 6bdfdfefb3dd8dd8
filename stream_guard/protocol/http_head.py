"""The HTTP request head of a new connection, judged as it arrives, before websockets reads it.

websockets closes a head it cannot read without a word, and reads bytes after a whole
non-upgrade head (a stray line end, a pipelined request) as a WebSocket frame. So the head is
watched here first, and handed to websockets only once whole: what cannot be answered by
websockets is refused with a status (or, for TLS spoken to this plain port, hung up on), a zero
Content-Length websockets would misread is rewritten, and what follows a whole non-upgrade head
is dropped.
Sans-I/O, like websockets' own protocol objects: :class:`HeadReader` takes bytes and says what
to do; the transport (:mod:`stream_guard.server.transport`) writes and closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from websockets.exceptions import HeaderLineTooLong, RequestLineTooLong, TooManyHeaders
from websockets.http11 import MAX_LINE_LENGTH, MAX_NUM_HEADERS, Request
from websockets.streams import StreamReader

from stream_guard.protocol.paths import TICKETS_PATH

# The largest request head taken (431 past it). websockets' own limits allow 128 lines of 8 KiB,
# about 1 MiB a connection for handshake_timeout_s: a few hundred slow heads held the server's
# memory at several hundred MB (a review).
MAX_HEAD_BYTES = 64 * 1024
# A TLS record of a handshake (ClientHello) begins so: a client speaking TLS to this plain port
# waited for the handshake timeout for an answer it could not read.
_TLS_HANDSHAKE = b"\x16"


@dataclass(frozen=True, slots=True)
class HeadRefusal:
    """Answer the request with this JSON error and close."""

    status: int
    error: str
    message: str


@dataclass(frozen=True, slots=True)
class HangUp:
    """Close without an answer: the client cannot read one (TLS to a plain port)."""


class HeadReader:
    """Watches one request head go by. :meth:`feed` each read until :attr:`done`.

    Each read is scanned once, not the whole head again: a head sent a byte at a time stays
    cheap.
    """

    def __init__(self) -> None:
        self._head = bytearray()
        self.done = False  # the head was whole, refused or hung up on: feed no more

    def feed(self, data: bytes) -> bytes | HeadRefusal | HangUp:
        """What websockets is to parse, or the refusal to send instead: nothing until the
        head is whole and judged, then the head (rewritten where websockets would misread
        it: a zero Content-Length) and what follows it of ``data``."""
        assert not self.done, "the head was already judged"
        head = self._head
        seen = len(head)
        head += data
        if head[:1] == _TLS_HANDSHAKE:
            self._finish()
            return HangUp()
        end = head.find(b"\r\n\r\n", max(0, seen - 3))
        if _bare_lf(head, seen, len(head) if end < 0 else end + 4):
            self._finish()
            return HeadRefusal(400, "bad_request", "HTTP request lines end in CRLF")
        if end < 0 and len(head) - 3 <= MAX_HEAD_BYTES:  # its end may still come at the limit
            return b""
        if end < 0 or end > MAX_HEAD_BYTES:  # a whole head in one read is measured too
            self._finish()
            return HeadRefusal(431, "request_header_fields_too_large",
                               f"the request head is over {MAX_HEAD_BYTES} bytes")
        whole, after = bytes(head[:end + 4]), bytes(head[end + 4:])
        self._finish()
        request, *lines = whole[:-4].split(b"\r\n")
        pairs = [(name.strip().lower(), value.strip()) for name, _, value in
                 (line.partition(b":") for line in lines)]
        fields = dict(pairs)
        lengths = {value for name, value in pairs if name == b"content-length"}
        if not all(map(_zero, lengths)) or b"transfer-encoding" in fields:
            method, _, rest = request.decode("latin-1").partition(" ")
            target = rest.rpartition(" ")[0] or rest
            return HeadRefusal(400, "bad_request", (
                "requests take no body: POST /v1/tickets is authorised by its Authorization "
                "header alone" if target.split("?", 1)[0].endswith(TICKETS_PATH)
                else f"requests take no body, and {method} {target:.100} sent one"))
        if lengths - {b"0"}:
            # RFC 9110 8.6: Content-Length is 1*DIGIT, so "00" is no body either; websockets
            # takes "0" alone (a review: GET /livez with "Content-Length: 00" was refused 400)
            lines = [line.partition(b":")[0] + b": 0" if name == b"content-length" else line
                     for line, (name, _) in zip(lines, pairs, strict=True)]
            whole = b"\r\n".join([request, *lines, b"", b""])
        refusal = _unreadable(whole)
        if refusal is not None:
            return refusal
        if after and b"websocket" not in fields.get(b"upgrade", b"").lower():
            return whole  # after an upgrade they are its first frame: kept
        return whole + after

    def _finish(self) -> None:
        self.done = True
        self._head = bytearray()


def _zero(length: bytes) -> bool:
    """Whether a Content-Length value is zero: 1*DIGIT (no sign, no space inside), all of
    them 0 (counted without int(), which refuses more than 4,300 digits)."""
    return length.isdigit() and not length.strip(b"0")


def _unreadable(head: bytes) -> HeadRefusal | None:
    """The answer to a whole request head websockets' own parser refuses (it would close the
    connection without one), or None: its grammar and limits, not a second copy of them. A line
    or a count of fields past its limits is answered as RFC 9110 and RFC 6585 name it (414 for
    the request line, 431 for the fields), anything else it cannot read 400."""
    reader = StreamReader()
    reader.feed_data(head)
    reader.feed_eof()
    try:
        next(Request.parse(reader.read_line))
    except StopIteration:
        return None
    except RequestLineTooLong:
        return HeadRefusal(414, "uri_too_long",
                           f"the request line is over {MAX_LINE_LENGTH} bytes")
    except HeaderLineTooLong:
        return HeadRefusal(431, "request_header_fields_too_large",
                           f"a header line is over {MAX_LINE_LENGTH} bytes")
    except TooManyHeaders:
        return HeadRefusal(431, "request_header_fields_too_large",
                           f"the request has more than {MAX_NUM_HEADERS} header fields")
    except Exception as exc:  # websockets raises ValueError, EOFError, UnicodeDecodeError, ...
        return HeadRefusal(400, "bad_request", f"not an HTTP/1.1 request head: {str(exc)[:200]}")
    # not reached: the whole head was given
    return HeadRefusal(400, "bad_request", "not an HTTP/1.1 request head: incomplete")


def _bare_lf(head: bytearray, start: int, stop: int) -> bool:
    """Whether ``head[start:stop]`` (the bytes just read, up to the head's end) holds a line
    feed without its carriage return: websockets waits for CRLF, so such a head was never
    answered."""
    at = head.find(b"\n", start, stop)
    while at >= 0:
        if at == 0 or head[at - 1] != 0x0D:  # "\r"
            return True
        at = head.find(b"\n", at + 1, stop)
    return False
