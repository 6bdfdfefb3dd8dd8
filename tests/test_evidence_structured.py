"""Structured evidence (a tool's JSON, a table, "key: value" records) read as sentences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_guard.evidence.context import context_sentences
from stream_guard.evidence.premise import SentenceIndex
from stream_guard.evidence.structured import as_prose
from stream_guard.text.sentences import sentence_spans
from stream_guard.text.terms import coverage, term_keys, terms

FLIGHTS = json.dumps({"request_id": "fs-8a21c9", "flights": [
    {"flight_number": "BA1442", "gate": "A10", "delayed": False},
    {"flight_number": "BA117", "gate": "B42", "delayMinutes": 45, "delayed": True}]}, indent=2)


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_json_is_one_sentence_per_field_named_by_its_item() -> None:
    assert _sentences(as_prose(FLIGHTS)) == [
        "request id: fs-8a21c9.", "flights flight number: BA1442.", "BA1442 gate: A10.",
        "BA1442 delayed: no.", "flights flight number: BA117.", "BA117 gate: B42.",
        "BA117 delay: 45 minutes.", "BA117 delayed: yes."]


def test_json_lines_nested_objects_lists_and_percentages() -> None:
    lines = "\n".join(json.dumps(row) for row in (
        {"city": "Lisbon", "current": {"temp_c": 22, "humidity_pct": 58}, "tags": ["clear", "dry"]},
        {"city": "Porto", "current": {"temp_c": 19, "humidity_pct": 71}, "tags": []}))
    assert _sentences(as_prose(lines)) == [
        "city: Lisbon.", "current temp: 22 °C.", "current humidity pct: 58%.",
        "tags: clear, dry.", "city: Porto.", "current temp: 19 °C.", "current humidity pct: 71%.",
        "tags: none."]


def test_a_markdown_table_reads_each_cell_with_its_row_and_column() -> None:
    text = ("Final: Heat at Celtics\n\n| Team | Q1 | Final |\n|---|:-:|---|\n"
            "| Heat | 25 | 104 |\n| Celtics | 28 | 112 |\n\nA close game.")
    assert _sentences(as_prose(text)) == [
        "Final: Heat at Celtics", "Heat Q1: 25.", "Heat Final: 104.", "Celtics Q1: 28.",
        "Celtics Final: 112.", "A close game."]
    sheet = "| Spec | Value |\n|---|---|\n| Weight | 1.09 kg |\n| HDMI | true |"
    assert _sentences(as_prose(sheet)) == ["Weight: 1.09 kg.", "HDMI: yes."]


def test_csv_rows_and_a_record_of_fields() -> None:
    text = "date,description,amount_usd\n2024-05-03,CHIPOTLE,-14.85\n2024-05-06,BLUE BOTTLE,-6.75\n"
    assert _sentences(as_prose(text)) == [
        "2024-05-03 description: CHIPOTLE.", "2024-05-03 amount: -$14.85.",
        "2024-05-06 description: BLUE BOTTLE.", "2024-05-06 amount: -$6.75."]
    record = "Rent: $2,150/month\nBeds: 2\nOutdoor_seating: false\nBroker fee: none"
    assert _sentences(as_prose(record)) == [
        "Rent: $2,150/month.", "Beds: 2.", "Outdoor seating: no.", "Broker fee: none."]


def test_a_yaml_like_list_names_each_items_fields() -> None:
    text = ("cluster: prod\nthresholds:\n  disk_critical_pct: 90\nhosts:\n"
            "  - name: db-01\n    disk_pct: 94\n  - name: web-01\n    disk_pct: 61\nchecked: today")
    assert _sentences(as_prose(text)) == [
        "cluster: prod.", "thresholds disk critical pct: 90%.", "name: db-01.",
        "db-01 disk pct: 94%.", "name: web-01.", "web-01 disk pct: 61%.", "checked: today."]


@pytest.mark.parametrize("text", [
    "The Eiffel Tower is 330 metres tall. It was completed in 1889.",
    "Anna: are you coming\nBen: yes\nAnna: great\nBen: see you",  # a transcript repeats keys
    "Note: the museum is closed on Mondays.\nIt opens at 9.",  # one field is no record
    "However, this was not the case, as the report shows.\nBut the board, in turn, agreed.\n"
    "Then, at last, the vote.",  # commas are no CSV
    "[citation needed] The claim stands.",
    "2 cups flour, sifted\n1 cup sugar, packed\n3 eggs, beaten",  # shared commas, no table
    "Paris, France\nRome, Italy\nBerlin, Germany",
    "[" * 1000 + "1" + "]" * 1000,  # nested past what a walk follows
    "{not json} at all",
])
def test_prose_is_returned_as_it_is(text: str) -> None:
    assert as_prose(text) is text


def test_the_server_and_the_trainer_read_structure_the_same_way() -> None:
    """A faithful answer's words are found in the premise built from the fields: the one
    reading the engine, the collections and the trainer share."""
    from stream_guard.train.pairs import TextPipeline

    pipeline = TextPipeline(window_max_chars=400, window_min_chars=20)
    index = pipeline.index(FLIGHTS)
    served = SentenceIndex(context_sentences([("ctx", as_prose(FLIGHTS))]))
    assert [s.text for s in index.sentences] == [s.text for s in served.sentences]
    premise = pipeline.premise(index, "Flight BA117 leaves from gate B42, 45 minutes late.")
    assert "BA117 gate: B42." in premise.text


def test_times_and_weekdays_an_answer_gives_of_the_datas() -> None:
    evidence = term_keys(as_prose(json.dumps(
        {"date": "2024-09-21", "open": "08:00", "close": "17:00", "last_entry": "15:45"})))
    for window in ("On Saturday it opens at 8 am and closes at 5 pm.",
                   "Saturday: open 8:00 a.m. to 5:00 p.m., last entry 3:45."):
        assert coverage(terms(window), evidence) == 1.0, window
    assert coverage(terms("On Sunday it opens at 9 am."), evidence) < 1.0


@pytest.mark.parametrize(("window", "dropped"), [
    ("It's 22°C, which is about 72°F.", True),
    ("It weighs 1.09 kg (about 2.4 lb).", True),
    ("Wind around 12 mph.", True),
    ("It is about 1,100 feet tall.", True),
    ("It takes 2 hours.", True),
    ("It's about 62°F.", False),  # a wrong conversion is a new figure
    ("It takes 3 hours.", False),
    ("It is 330 feet tall.", False),  # the evidence's number in another unit: no conversion
])
def test_a_figure_converted_from_the_evidences_is_worked_out(window: str, dropped: bool) -> None:
    from stream_guard.text.quantities import drop_worked_out, quantity_index

    evidence = quantity_index(as_prose(json.dumps({
        "temp_c": 22, "wind_kmh": 19, "weight_kg": 1.09, "height": "330 metres",
        "duration_minutes": 120})))
    assert (drop_worked_out(window, evidence) != window) is dropped


def test_a_conversion_rounded_past_its_measure_is_a_new_figure() -> None:
    """"1 hour" for the evidence's 45 minutes is no conversion (it rounds a third off), as
    a probe's wrong answer had it; 2 hours for 120 minutes is."""
    from stream_guard.text.quantities import drop_worked_out, quantity_index

    evidence = quantity_index("The audio guide lasts 45 minutes. The tour lasts 120 minutes.")
    assert drop_worked_out("The audio guide runs for 1 hour.", evidence).endswith("1 hour.")
    assert drop_worked_out("The tour takes 2 hours.", evidence) == "The tour takes  hours."


@pytest.mark.parametrize(("window", "conflict"), [
    ("It should arrive on Friday, May 16.", True),  # 2024-05-16 was a Thursday
    ("On Wednesday, 15 October, it starts.", True),
    ("It should arrive on Thursday, May 16.", False),
    ("Arrives Thu 16th May.", False),
    ("It arrives Friday.", False),  # no date beside it: a new word, not a conflict
    ("On Friday, May 17.", False),  # a date the evidence does not give
    ("Ana and Ben wed 16 May 2024 in Rome.", False),  # married, no Wednesday
    ("The interview ran in The Sun, 16 May 2024.", False),
    ("Open Tuesday to Friday, 16 May to 30 June.", False),  # a range's last day
])
def test_a_dates_weekday_the_date_was_not(window: str, conflict: bool) -> None:
    from stream_guard.text.quantities import quantity_index, weekday_conflict

    evidence = quantity_index(as_prose(json.dumps(
        {"estimated_delivery": "2024-05-16", "event": {"date": "2024-10-15"}})))
    assert weekday_conflict(window, evidence) is conflict


def test_a_timestamp_is_its_date_and_time_of_day() -> None:
    text = as_prose(json.dumps({"arrived_at": "2024-05-15T14:17:00-04:00"}))
    assert text == "arrived at: 2024-05-15 14:17."
    assert coverage(terms("It arrived at 2:17 pm on May 15."), term_keys(text)) == 1.0


@pytest.mark.slow  # the shipped detector
async def test_a_tools_json_passes_its_times_and_halts_a_misnamed_day(
        tmp_path: Path, model_cache: Path) -> None:
    """A restaurant listing as a tool returns it: the blind probe's faithful answer (its
    "5:00 pm to 10:30 pm" for "17:00-22:30" halted it before) streams through, and one that
    gives its date another weekday halts there."""
    from tests.conftest import stream_on_detector

    listing = json.dumps({"name": "Casa Olivo", "address": "418 Alder St, Portland, OR 97205",
                          "date": "2024-09-21", "hours": "17:00-22:30", "reservations": True,
                          "outdoor_seating": False, "good_for_groups": True}, indent=2)
    right = ("Casa Olivo doesn't have outdoor seating. It takes reservations and is good for "
             "groups. On Saturday they're open from 5:00 pm to 10:30 pm at 418 Alder St.")
    frames = await stream_on_detector(tmp_path, model_cache, right, [listing])
    assert not [f for f in frames if f["type"] == "halt"]
    wrong = ("Casa Olivo takes reservations. On Friday, September 21 they're open from 5:00 pm "
             "to 10:30 pm.")
    frames = await stream_on_detector(tmp_path, model_cache, wrong, [listing])
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["at"] == wrong.index("On Friday") and halt["reason"] == "contradicted"


def test_fields_keep_their_names_numbers_and_columns() -> None:
    """A suffix that names no one unit stays a word ("salary_min", "vitamin_c"), a number
    stays as written (a tracking number past 64 bits), a name keeps its case, and a
    two-column table's header names its values unless it is a generic "Value"."""
    text = as_prose(json.dumps({"salary_min": 85000, "vitamin_c": 90, "temp_c": 20,
                                "tracking": 9400111899223344556677, "host": "db-02"}))
    assert _sentences(text) == ["salary min: 85000.", "vitamin c: 90.", "temp: 20 °C.",
                                "tracking: 9400111899223344556677.", "host: db-02."]
    rsvp = "| Guest | Attending |\n|---|---|\n| Ben | No |\n| Ann | Yes |"
    assert _sentences(as_prose(rsvp)) == ["Ben Attending: no.", "Ann Attending: yes."]
