"""Messages a connection has read and not yet handed over: bookkeeping only, no socket.

The server's transport (:mod:`stream_guard.server.transport`) keeps messages here while there is
no handler yet (the connection handler may first be checking slots) and while the handler
holds them (it has too much of this client's work in hand); this class says when there are so
many that reading should pause, so that the client meets TCP backpressure instead of the
server's memory.
"""

from __future__ import annotations

import collections
from collections.abc import Collection, Iterator

Message = str | bytes


class Inbox:
    """Held messages in arrival order, each with when it arrived (the loop's clock: a message
    held for a while is still judged by when the client sent it).

    Full at more than ``max_bytes`` (characters or bytes) of messages, or, before a handler
    attached, at ``max_early`` messages, as websockets' own Assembler bounds them.
    """

    def __init__(self, max_bytes: int, max_early: int) -> None:
        self._max_bytes = max_bytes
        self._max_early = max_early
        self._held: collections.deque[tuple[Message, float]] = collections.deque()
        self._size = 0  # characters or bytes of the messages held

    def __len__(self) -> int:
        return len(self._held)

    def put(self, message: Message, arrived: float) -> None:
        """Hold one more message, behind the others."""
        self._held.append((message, arrived))
        self._size += len(message)

    def take(self) -> tuple[Message, float]:
        """The oldest message held and its arrival, no longer held."""
        message, arrived = self._held.popleft()
        self._size -= len(message)
        return message, arrived

    def messages(self) -> Iterator[Message]:
        """The messages held, in order: lazily, as most callers look at none of them."""
        return (message for message, _ in self._held)

    def oldest(self) -> float | None:
        """When the oldest message held arrived; None when none is."""
        return self._held[0][1] if self._held else None

    def withdraw(self, positions: Collection[int]) -> None:
        """Drop the messages at ``positions`` of :meth:`messages`."""
        dropped = set(positions)
        self._held = collections.deque(
            held for position, held in enumerate(self._held) if position not in dropped)
        self._size = sum(len(message) for message, _ in self._held)

    def clear(self) -> None:
        """Drop every message held."""
        self._held.clear()
        self._size = 0

    def full(self, *, attached: bool) -> bool:
        """Whether reading should pause: past ``max_bytes``, or (no handler ``attached`` yet)
        at ``max_early`` messages."""
        return self._size > self._max_bytes or (
            not attached and len(self._held) >= self._max_early)

    def within_bytes(self) -> bool:
        """Whether the messages held fit ``max_bytes``: reading may resume."""
        return self._size <= self._max_bytes
