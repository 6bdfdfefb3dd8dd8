"""The held-message inbox of a connection, without sockets (the transport's use of it is in
test_transport.py)."""

from __future__ import annotations

from stream_guard.protocol.inbox import Inbox


def test_messages_are_taken_in_order_with_their_arrival() -> None:
    inbox = Inbox(max_bytes=100, max_early=4)
    inbox.put("one", 1.0)
    inbox.put(b"two", 2.0)
    assert len(inbox) == 2 and inbox.oldest() == 1.0
    assert list(inbox.messages()) == ["one", b"two"]
    assert inbox.take() == ("one", 1.0)
    assert inbox.oldest() == 2.0
    assert inbox.take() == (b"two", 2.0)
    assert not inbox and inbox.oldest() is None


def test_full_past_its_bytes_or_at_its_early_count_before_a_handler() -> None:
    inbox = Inbox(max_bytes=10, max_early=3)
    inbox.put("a", 0.0)
    inbox.put("b", 0.0)
    assert not inbox.full(attached=False)
    inbox.put("c", 0.0)
    assert inbox.full(attached=False) and not inbox.full(attached=True)  # three messages
    inbox.put("x" * 8, 0.0)  # 11 characters in all
    assert inbox.full(attached=True) and not inbox.within_bytes()
    inbox.take()
    assert inbox.within_bytes() and not inbox.full(attached=True)


def test_withdrawn_and_cleared_messages_free_their_bytes() -> None:
    inbox = Inbox(max_bytes=10, max_early=16)
    for i, message in enumerate(["aaaa", "bbbb", "cccc"]):
        inbox.put(message, float(i))
    inbox.withdraw([0, 2])
    assert list(inbox.messages()) == ["bbbb"] and inbox.oldest() == 1.0
    inbox.put("dddddd", 3.0)  # 10 characters: fits
    assert inbox.within_bytes()
    inbox.clear()
    assert not inbox and inbox.within_bytes()
