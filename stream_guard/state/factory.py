"""Picks the state store the settings ask for."""

from __future__ import annotations

from stream_guard.config import Settings
from stream_guard.state.base import StateStore
from stream_guard.state.memory import MemoryStateStore


def create_store(settings: Settings) -> StateStore:
    """Redis when ``redis_url`` is set, else the in-memory store.

    Nothing connects here: the first call (or an explicit ``await store.ping()`` at start-up)
    does, so a Redis that is down at start is reported like any later outage.
    """
    if settings.redis_url:
        from stream_guard.state.redis_store import RedisStateStore

        return RedisStateStore.from_url(settings.redis_url, prefix=settings.redis_prefix)
    return MemoryStateStore()
