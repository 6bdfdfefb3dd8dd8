"""A stream's context read once per tenant while it stays in use (evidence.context).

The cache is pure (no sockets); the engine and a real server over loopback show that streams
sending one context share its reading, keep their own per-stream state, and get the verdicts
a fresh reading gives.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

from stream_guard.evidence.context import (
    ROWS_CHARGE,
    ContextReading,
    ContextReadings,
    read_context,
)
from stream_guard.metrics import Metrics
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import CheckJob, EngineConfig, GroundingEngine, StreamRequest
from tests.conftest import make_settings, running_server
from tests.wsclient import API_KEY, API_KEY_2, http, open_ws, stream_text

POLICY = ("Refunds are issued within 30 days of purchase. The warranty covers parts for two "
          "years. Support is open from 9 am to 5 pm on weekdays.")
TABLE = "| plan | price |\n| --- | --- |\n| Basic | $19/month |\n| Pro | $49/month |"
FLIGHTS = json.dumps({"flights": [
    {"flight_number": "BA1442", "gate": "A10", "departs": "11:20", "delay_minutes": 0},
    {"flight_number": "BA117", "gate": "B42", "departs": "12:05", "delay_minutes": 45},
    {"flight_number": "LH401", "gate": "Z25", "departs": "09:40", "delay_minutes": 5},
    # no value of one token: a row the rows index names but holds no value of
    {"flight_number": "AF990", "gate": "B44 or B45", "departs": "13:00 or 13:30"}]})


def _same(a: ContextReading, b: ContextReading) -> None:
    assert [s.text for s in a.sentences.sentences] == [s.text for s in b.sentences.sentences]
    assert [s.passage for s in a.sentences.sentences] == [
        s.passage for s in b.sentences.sentences]
    assert a.quantities == b.quantities and a.places == b.places and a.chars == b.chars
    assert (a.rows is None) == (b.rows is None)


def test_a_context_is_read_once_per_tenant() -> None:
    readings = ContextReadings(10_000)
    items = [("policy", POLICY), ("plans", TABLE)]
    first, kept = readings.read("a", items)
    assert not kept and first.rows is not None
    again, kept = readings.read("a", list(items))  # equal items, new objects: a stream's
    assert kept and again is first
    # another tenant's set-up must not come back at once: it learns nothing of tenant a's
    other, kept = readings.read("b", items)
    assert not kept and other is not first
    _same(other, first)
    _same(first, read_context(items))
    # the same texts under other ids are other passages (frames cite the ids)
    renamed, kept = readings.read("a", [("terms", POLICY), ("plans", TABLE)])
    assert not kept and renamed.sentences.sentences[0].passage.id == "terms#0"


def test_the_least_recently_used_reading_goes_first_within_the_characters_held() -> None:
    texts = [f"Plant {i} employs {i * 10 + 10} workers in Ohio." for i in range(4)]
    size = len("c") + 2 * len(texts[0])  # the text and its reading
    readings = ContextReadings(3 * size)
    for text in texts[:3]:
        readings.read("t", [("c", text)])
    assert readings.read("t", [("c", texts[0])])[1]  # used again: now the most recent
    readings.read("t", [("c", texts[3])])  # one too many: the least recently used goes
    assert len(readings) == 3
    assert not readings.read("t", [("c", texts[1])])[1]
    assert readings.read("t", [("c", texts[3])])[1]


def test_a_context_larger_than_the_whole_budget_is_never_kept() -> None:
    readings = ContextReadings(len(POLICY))
    for _ in range(2):
        reading, kept = readings.read("t", [("policy", POLICY)])
        assert not kept and reading.sentences.sentences
    assert len(readings) == 0
    none = ContextReadings(0)
    assert not none.read("t", [("c", "Ohio has 11 million people.")])[1]
    assert not none.read("t", [("c", "Ohio has 11 million people.")])[1]
    # nor is no context at all (a collection's stream): a review found it kept, even with 0
    for store in (none, ContextReadings(1000)):
        assert not store.read("t", [])[1] and not store.read("t", [])[1]
        assert len(store) == 0 and store.chars == 0


def test_a_reading_is_charged_its_characters_and_a_tables_six_times_over() -> None:
    readings = ContextReadings(1_000_000)
    prose, _ = readings.read("t", [("policy", POLICY)])
    assert prose.rows is None and readings.chars == len("policy") + 2 * len(POLICY)
    table, _ = readings.read("t", [("flights", FLIGHTS)])
    assert table.rows is not None
    assert readings.chars == (len("policy") + 2 * len(POLICY) + len("flights") + len(FLIGHTS)
                              + ROWS_CHARGE * table.chars)
    # a table whose charge is over the budget is read, not kept, though its text is under it
    small = ContextReadings(len("flights") + len(FLIGHTS) + table.chars)
    assert not small.read("t", [("flights", FLIGHTS)])[1] and len(small) == 0


def test_threads_reading_one_context_at_once_keep_one_reading() -> None:
    readings = ContextReadings(100_000)
    texts = [f"Store {i} opens at {i % 12 + 1} am and sells {i} bikes a day." for i in range(20)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        try:
            barrier.wait()
            for text in texts * 3:
                reading, _ = readings.read("t", [("c", text)])
                assert reading.sentences.sentences[0].text == text
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(readings) == len(texts)
    assert readings.chars == sum(1 + 2 * len(text) for text in texts)
    assert all(readings.read("t", [("c", text)])[1] for text in texts)


def _state(obj: Any) -> dict[str, Any]:
    """Every attribute of a slotted or plain object, copied (a lazily kept one left out)."""
    names = getattr(type(obj), "__slots__", None) or vars(obj)
    return {n: copy.deepcopy(getattr(obj, n)) for n in names
            if n != "_document_keys" and hasattr(obj, n)}


def test_checking_windows_changes_nothing_of_a_shared_reading() -> None:
    """Streams share one reading, on the scoring threads at once: no check may write to it
    (a review found a row looked up in a defaultdict of the rows index grew it)."""
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    fresh = GroundingEngine(EngineConfig(tier="lexical", context_readings_chars=0), Metrics())
    context = [ContextItem("flights", FLIGHTS), ContextItem("policy", POLICY)]
    shared = engine.prepare(StreamRequest("t", context, None))
    assert shared.rows is not None
    before = (_state(shared.sentences), _state(shared.rows), copy.deepcopy(shared.quantities))
    windows = ["BA117 leaves from gate A10.", "BA117 leaves from gate B42 at 12:05.",
               "LH401 departs at 11:20 from gate Z25.", "Refunds are issued within 60 days.",
               "The warranty covers parts for two years.", "BA1442 and LH401 leave at 9:40.",
               "AF990 leaves from gate A10."]
    for previous, window in zip(["", *windows], windows, strict=False):
        for _ in range(2):  # a second stream over the same reading
            stream = engine.prepare(StreamRequest("t", context, None))
            got = engine._process([CheckJob(stream, window, previous)])[0]
            alone = fresh._process([CheckJob(fresh.prepare(StreamRequest("t", context, None)),
                                             window, previous)])[0]
            assert (got.support, got.contradiction, [e.id for e in got.evidence]) == (
                alone.support, alone.contradiction, [e.id for e in alone.evidence]), window
    assert stream.sentences is shared.sentences
    assert (_state(shared.sentences), _state(shared.rows), shared.quantities) == before


def test_streams_of_one_context_share_its_reading_and_keep_their_own_state() -> None:
    metrics = Metrics()
    engine = GroundingEngine(EngineConfig(tier="lexical"), metrics)
    request = StreamRequest("t", [ContextItem("policy", POLICY)], None)
    one, two = engine.prepare(request), engine.prepare(request)
    assert one is not two and one.sentences is two.sentences
    assert one.last_passages is not two.last_passages and one.scoped is not two.scoped
    # what the user says of themselves is the stream's own, over the shared reading
    prompt = "I bought the kettle 45 days ago. Can I still get a refund?"
    told = engine.prepare(StreamRequest("t", [ContextItem("policy", POLICY)], None, prompt))
    fresh = GroundingEngine(EngineConfig(tier="lexical", context_readings_chars=0), Metrics())
    told_fresh = fresh.prepare(StreamRequest("t", [ContextItem("policy", POLICY)], None, prompt))
    assert told.told is not None and told_fresh.told is not None
    assert [s.text for s in told.told.sentences.sentences] == [
        s.text for s in told_fresh.told.sentences.sentences]
    assert told.told.quantities == told_fresh.told.quantities
    assert len(one.sentences.sentences) == 3  # the user's sentence joined no shared list
    (family,) = metrics.context_readings.collect()
    samples = {s.labels["result"]: s.value for s in family.samples if s.name.endswith("_total")}
    assert samples == {"kept": 2.0, "read": 1.0}
    assert len(fresh.contexts) == 0


async def test_a_server_reads_a_context_once_for_the_streams_of_a_tenant(tmp_path: Path) -> None:
    answer = ("Refunds are issued within 30 days of purchase. The warranty covers parts for "
              "five years.")
    async with running_server(make_settings(tmp_path)) as server:
        frames = []
        for key in (API_KEY, API_KEY, API_KEY_2):
            async with open_ws(server.port, key=key) as ws:
                frames.append(await stream_text(ws, "s", answer, context=[POLICY]))
        body = (await http(server.port, "GET", "/metrics")).body.decode()
    verdicts = [[(f["type"], f.get("label"), f.get("offset")) for f in got
                 if f["type"] in ("verdict", "halt")] for got in frames]
    assert verdicts[0] == verdicts[1] == verdicts[2]
    assert any(kind == "halt" for kind, _, _ in verdicts[0])  # "five years" is not two
    assert 'stream_guard_context_readings_total{result="kept"} 1.0' in body
    assert 'stream_guard_context_readings_total{result="read"} 2.0' in body
