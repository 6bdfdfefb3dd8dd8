"""Fair slots among owners (the stream set-up lane), without sockets."""

from __future__ import annotations

import asyncio

from stream_guard.loop import FairSlots


async def _hold(slots: FairSlots, owner: str, name: str, order: list[str],
                gate: asyncio.Event) -> None:
    async with slots.slot(owner):
        order.append(name)
        await gate.wait()


async def test_owners_take_turns_not_arrival_order() -> None:
    """One owner with many waiters (a connection opening streams with large contexts) delayed
    another owner's first by all of them (a review: a first verdict 0.5-3 s late)."""
    slots, order, gate = FairSlots(1), list[str](), asyncio.Event()
    holders = [asyncio.create_task(_hold(slots, "busy", f"busy{i}", order, gate))
               for i in range(5)]
    await asyncio.sleep(0)
    holders.append(asyncio.create_task(_hold(slots, "new", "new0", order, gate)))
    await asyncio.sleep(0)
    assert order == ["busy0"]
    gate.set()
    await asyncio.gather(*holders)
    assert order == ["busy0", "new0", "busy1", "busy2", "busy3", "busy4"]


async def test_at_most_limit_hold_at_once_and_cancelled_waiters_give_up_their_turn() -> None:
    slots, order, gate = FairSlots(2), list[str](), asyncio.Event()
    first = [asyncio.create_task(_hold(slots, o, o, order, gate)) for o in ("a", "b")]
    waiting = asyncio.create_task(_hold(slots, "c", "c", order, gate))
    last = asyncio.create_task(_hold(slots, "d", "d", order, gate))
    await asyncio.sleep(0)
    assert order == ["a", "b"]
    waiting.cancel()  # leaves the queue: its turn passes to the next owner
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*first, last)
    assert order == ["a", "b", "d"]
    # every slot came back: two can be held at once again
    gate.clear()
    again = [asyncio.create_task(_hold(slots, o, o, order, gate)) for o in ("e", "f")]
    await asyncio.sleep(0)
    assert order[-2:] == ["e", "f"]
    gate.set()
    await asyncio.gather(*again)
    assert not slots._served and not slots._held and not slots._waiting  # nothing kept


async def test_a_waiter_cancelled_just_as_it_was_granted_passes_the_slot_on() -> None:
    slots, order, gate = FairSlots(1), list[str](), asyncio.Event()
    holder = asyncio.create_task(_hold(slots, "a", "a", order, gate))
    granted = asyncio.create_task(_hold(slots, "b", "b", order, gate))
    after = asyncio.create_task(_hold(slots, "c", "c", order, gate))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.sleep(0)  # a's task runs first: its release grants b, whose task waits to run
    assert holder.done() and order == ["a"]
    granted.cancel()
    await asyncio.gather(after)
    assert order == ["a", "c"]
    assert granted.cancelled()
    assert not slots._served and not slots._held and not slots._waiting  # nothing kept


async def test_no_owner_holds_every_slot() -> None:
    """A review: one connection looping large set-ups kept both slots busy, and every other
    client's first halt waited for one of them to end (0.8 s). An owner holds all slots but
    one; the one left serves a newcomer at once, and the owner's own waiters in turn."""
    slots, order, gate = FairSlots(2), list[str](), asyncio.Event()
    hog = [asyncio.create_task(_hold(slots, "hog", f"hog{i}", order, gate)) for i in range(3)]
    await asyncio.sleep(0)
    assert order == ["hog0"]  # its second waits though a slot is free
    newcomer = asyncio.create_task(_hold(slots, "new", "new", order, gate))
    await asyncio.sleep(0)
    assert order == ["hog0", "new"]
    gate.set()
    await asyncio.gather(*hog, newcomer)
    assert order == ["hog0", "new", "hog1", "hog2"]
    assert not slots._served and not slots._held and not slots._waiting
    lone = FairSlots(1)  # one slot: its owner takes it
    async with lone.slot("a"):
        pass
