"""The request head judged before websockets reads it (sans-I/O; through a socket in
tests/test_server_auth.py and tests/test_server_fuzz.py)."""

from __future__ import annotations

import pytest

from stream_guard.protocol.http_head import MAX_HEAD_BYTES, HangUp, HeadReader, HeadRefusal

UPGRADE = (b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def feed_all(pieces: list[bytes]) -> list[bytes | HeadRefusal | HangUp]:
    reader = HeadReader()
    out = []
    for piece in pieces:
        out.append(reader.feed(piece))
        if reader.done:
            break
    return out


def test_a_head_a_byte_at_a_time_passes_through_unchanged() -> None:
    pieces = [UPGRADE[i:i + 1] for i in range(len(UPGRADE))]
    assert b"".join(feed_all(pieces)) == UPGRADE  # type: ignore[arg-type]


def test_after_an_upgrade_its_first_frame_is_kept_after_a_plain_request_dropped() -> None:
    frame = b"\x81\x85abcd" + b"12345"
    assert feed_all([UPGRADE + frame]) == [UPGRADE + frame]
    probe = b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
    assert feed_all([probe + b"\r\n"]) == [probe]  # a stray line end after a probe


@pytest.mark.parametrize(("head", "status", "says"), [
    (b"GET / HTTP/1.1\nHost: x\n\n", 400, "CRLF"),
    (b"POST /v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 400,
     "authorised by its Authorization header alone"),
    (b"PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "PUT /x sent one"),
    (b"GET / HTTP/1.1\r\nbad header line\r\n\r\n", 400, "not an HTTP/1.1 request head"),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n", 431, "over 65536 bytes"),
    # Under the head's limit, past websockets' own: answered as RFC 9110 and RFC 6585 name them.
    (b"GET / HTTP/1.1\r\nCookie: " + b"a" * 9000 + b"\r\n\r\n", 431,
     "a header line is over 8192 bytes"),
    (b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 129 + b"\r\n", 431, "more than 128 header fields"),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414,
     "the request line is over 8192 bytes"),
])
def test_heads_websockets_would_drop_without_a_word_are_refused(
        head: bytes, status: int, says: str) -> None:
    [refusal] = feed_all([head])
    assert isinstance(refusal, HeadRefusal) and refusal.status == status
    assert says in refusal.message


def test_a_zero_content_length_of_several_digits_is_given_to_websockets_as_0() -> None:
    """RFC 9110 8.6: Content-Length is 1*DIGIT, so "00" is zero; websockets refuses any value
    but "0" (a review: GET /livez with "Content-Length: 00" was refused 400). The head reaches
    websockets only once whole, so that it can be so rewritten."""
    head = UPGRADE[:-2] + b"Content-Length: 00\r\ncontent-length: 0\r\n\r\n"
    frame = b"\x81\x85abcd" + b"12345"
    pieces = [head[:30], head[30:] + frame]
    assert feed_all(pieces) == [b"", UPGRADE[:-2] + b"Content-Length: 0\r\n"
                                b"content-length: 0\r\n\r\n" + frame]


def test_tls_to_the_plain_port_is_hung_up_on() -> None:
    assert feed_all([b"\x16\x03\x01\x02\x00"]) == [HangUp()]


def test_a_head_growing_past_the_limit_is_refused_as_it_arrives() -> None:
    reader = HeadReader()
    assert reader.feed(b"GET / HTTP/1.1\r\nX: ") == b""  # websockets reads it once judged
    refusal = reader.feed(b"a" * MAX_HEAD_BYTES)
    assert isinstance(refusal, HeadRefusal) and refusal.status == 431 and reader.done
