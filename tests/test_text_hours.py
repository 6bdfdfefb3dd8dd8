"""How long the evidence's times of day last: an answer's "open for 8 hours" of "9am-5pm" is no
new figure (it halted faithful answers about opening hours, sessions and timetables), a wrong
length of hours is a conflict ("9 hours a day" passed, its 9 the evidence's "9am"), and a
length across time zones or of times that are no range is not worked out. Through a real
server with the shipped detector as well."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.text.hours import SPANS, span_conflict
from stream_guard.text.quantities import drop_worked_out, quantity_conflict, quantity_index
from tests.conftest import halt_on_detector, random_texts, stream_on_detector

_SHOP = "Harbour Books opening hours: Monday to Friday 9am-5pm, Saturday 10am-2pm, closed Sundays."


@pytest.mark.parametrize(("evidence", "spans"), [
    (_SHOP, {"8", "4"}),
    ("The workshop runs from 9:30 am to 12:00 pm on Tuesday.", {"2.5"}),
    ("Reception: 10:00–14:00.", {"4"}),
    ("Drop-in clinic 8.30am until noon.", {"3.5"}),
    ("Open 9 a.m. to 5 p.m.", {"8"}),
    ("Late bar 10pm-2am.", {"4"}),  # over midnight
    ("Breakfast is served 7-10am.", {"3"}),  # the start an hour alone
    ("Quiet hours are between 8 and 10 pm.", {"2"}),
    ("Counter open 10:00-2:00.", {"4"}),  # either half of the day: the shorter span
    ("Surgery 8:00-12:00 and 13:00-17:00.", {"4", "8"}),  # a split day, and its total
    ("Open 08:00-18:00, closed for lunch 12:00-1:00.", {"10", "1", "9"}),  # less its break
    ("Office hours: 09:00-5:30.", {"8.5"}),
    ("Members' access: 06:00–22:00.", {"16"}),  # a 24-hour clock's
    ("Old Town tours leave from the cathedral steps at 10:30 and return by 12:45.", {"2.25"}),
    ("Sailings: the 16:15 ferry from Portsmouth arrives at Fishbourne at 16:55.", {"0.6667"}),
    ("Check-in from 3 pm, check-out by 11 am.", {"20"}),
    ("Kitchen open 6pm to midnight.", {"6"}),
    ("The 2A train departs at 08:15 and arrives at 11:45.", {"3.5"}),  # a timetable's pair
])
def test_the_evidence_indexes_how_long_its_ranges_of_times_last(evidence: str,
                                                                 spans: set[str]) -> None:
    assert {entry.split("|")[0] for entry in quantity_index(evidence)[SPANS]} == spans


@pytest.mark.parametrize("evidence", [
    "Flight BA117 departs London at 08:15 and arrives in New York at 11:45 local time.",
    "Guided tours start at 10:00 and 12:00 daily.",  # two starts, no range
    "Mon-Fri 9-5, call us.",  # no time of day written
    "Tickets cost $10-12 each.",
    "Bus departures from Central: 7:15 – 8:45 – 10:15 – 11:45.",  # a list, no range
    "Dilute 1:10 to 1:20 in water.",  # ratios, paces and verses are no times
    "Aim for a pace of 5:30-6:00 per km.",
    "Read Matthew 5:10-5:48.",
    "Session 1 – 9:00 in Room 4.",  # a label's number is no hour
    "The museum opens at 10:00 and the café closes at 16:00.",  # two subjects
    "Flight LH901 departs Frankfurt at 07:00 and arrives at London Heathrow at 07:45.",
])
def test_no_span_is_read_across_time_zones_or_of_times_that_are_no_range(evidence: str) -> None:
    assert SPANS not in quantity_index(evidence)


@pytest.mark.parametrize(("evidence", "window", "figure"), [
    (_SHOP, "On weekdays Harbour Books is open for 8 hours a day.", "8"),
    (_SHOP, "On Saturdays it is open for four hours.", "4"),
    ("The workshop runs from 9:30 am to 12:00 pm.", "The workshop lasts two and a half hours.",
     "2.5"),
    ("The workshop runs from 9:30 am to 12:00 pm.", "The workshop is a 150-minute session.",
     "150"),
    ("The workshop runs from 9:30 am to 12:00 pm.", "The workshop lasts 2 hours 30 minutes.",
     "30"),
    ("Open 08:00-18:00, closed for lunch 12:00-1:00.", "It is open 9 hours a day.", "9"),
    # from a time inside a range to its end, and two lengths in one window, each its own
    ("Summer opening at Westfield Zoo: 9.30am to 6pm (last entry 4.30pm).",
     "The zoo is open 8.5 hours, and last entry is at 4.30pm, an hour and a half before closing.",
     "1.5"),
    ("Suds Laundrette: open 7am-10pm every day. Last wash 8.30pm.",
     "It is open 15 hours a day, and the last wash is 90 minutes before closing.", "15"),
    ("Drop-in clinic 8:30am-noon.", "The clinic runs for about three and a half hours.", "3.5"),
    ("Pool: 6:40am-9pm.", "The pool is open for just over 14 hours.", "14"),
    ("The exam runs 9:00-11:50.", "The exam lasts nearly 3 hours.", "3"),
    ("The exam runs 9:00-11:50.", "The exam takes under 3 hours.", "3"),
])
def test_a_length_of_the_evidences_times_is_no_new_figure(evidence: str, window: str,
                                                          figure: str) -> None:
    kept = drop_worked_out(window, quantity_index(evidence))
    assert figure not in kept and kept != window


@pytest.mark.parametrize(("evidence", "window"), [
    (_SHOP, "On Saturdays it is open for six hours."),
    (_SHOP, "From Monday to Friday it is open for 9 hours a day."),  # its 9 is "9am"'s
    ("Weekday hours 8:00-18:00, 9:00-13:00 on Saturday.", "On Saturday it is open 10 hours."),
    ("Shift A: 22:00-06:00. Shift B: 06:00-14:00.", "The shift from 22:00 to 06:00 is 9 hours."),
    # a day, or the item the window names (a review: each passed with the other's span)
    (_SHOP, "On Saturdays Harbour Books is open for 8 hours."),
    ("Ferry A leaves Portsmouth at 08:00 and arrives at Fishbourne at 08:45. Ferry B leaves "
     "Portsmouth at 09:00 and arrives at Cowes at 10:05.", "Ferry B takes 45 minutes to reach "
     "Cowes."),
    ("The 9:15 bus reaches the airport at 10:05. The 9:45 bus reaches the airport at 10:50.",
     "The 9:45 bus takes 50 minutes to reach the airport."),
    ("Suds Laundrette: open 7am-10pm every day. Last wash 8.30pm.",
     "It is open 15 hours a day, and the last wash is two hours before closing."),
    # two days in one clause's run, and a day written short
    ("Our helpline is open Monday to Friday 8am–8pm, Saturday 9am–5pm and Sunday 10am–4pm.",
     "On Sunday the helpline is open for eight hours."),
    ("Mon-Fri 9am-5pm, Sat 10am-2pm.", "On Saturdays it is open 8 hours."),
    ("The workshop runs from 9:30 am to 12:00 pm.", "The workshop lasts three hours."),
    ("The exam runs 9:00-11:10.", "The exam lasts just over 3 hours."),  # under it, not over
    ("The exam runs 9:00-12:10.", "The exam lasts nearly 3 hours."),  # over it, not under
])
def test_a_wrong_length_of_a_range_the_window_names_is_a_conflict(evidence: str,
                                                                    window: str) -> None:
    index = quantity_index(evidence)
    assert span_conflict(drop_worked_out(window, index), index)


@pytest.mark.parametrize(("evidence", "window"), [
    # a length of something else, equal to a span, stays a figure of its own (a review)
    ("Pharmacy opening hours: 8am-8pm. Dosage: take one tablet every 8 hours.",
     "Take one tablet every 12 hours."),
    ("Visiting hours 2pm-4pm. Patients must fast for 6 hours.", "You must fast for 2 hours."),
    ("Lunch 12:00-12:30. The hotel is a 10-minute walk.", "The hotel is a 30-minute walk."),
])
def test_a_length_of_something_else_is_no_span(evidence: str, window: str) -> None:
    index = quantity_index(evidence)
    kept = drop_worked_out(window, index)
    assert quantity_conflict(kept, index) and not span_conflict(kept, index)


def test_a_length_the_evidence_states_otherwise_stays_its_own() -> None:
    """The spans add to the evidence's hours; a figure of hours it states stays stated."""
    index = quantity_index("Workshop open 9am-5pm. Workshop repairs take 2 hours.")
    for window in ("Workshop repairs take 2 hours.", "The workshop is open 8 hours a day."):
        kept = drop_worked_out(window, index)
        assert not quantity_conflict(kept, index) and not span_conflict(kept, index)


_CAFE = "Riverside Cafe: Monday to Saturday 8am-4pm, Sunday 9am-1pm."


@pytest.mark.slow  # the shipped detector
async def test_a_faithful_length_of_opening_hours_does_not_halt(tmp_path: Path,
                                                                model_cache: Path) -> None:
    """It halted, the length a new figure."""
    frames = await stream_on_detector(
        tmp_path, model_cache, "On Sundays the cafe is open for four hours, from 9am to 1pm.",
        [_CAFE])
    assert not [f for f in frames if f["type"] == "halt"]


@pytest.mark.slow  # the shipped detector
async def test_a_wrong_length_of_opening_hours_halts(tmp_path: Path, model_cache: Path) -> None:
    halt = await halt_on_detector(tmp_path, model_cache,
                                  "On Sundays the cafe is open for six hours.", [_CAFE])
    assert halt["reason"] == "contradicted"


_PIECES = ("9am", "5pm", "-", "to", "until", "between", "and", "noon", "midnight", "0:00",
           "23:59", "12:00", "24:00", "7", "10pm", "2am", "departs", "arrives", "at", "hours",
           "hour", "minutes", "0", "0.0", "about", "nearly", "just over", "under", "local",
           ";", ".", "1.5", "90", "99999999999999999999", "h", "mins", "9 a.m.")


def test_no_text_of_times_and_lengths_breaks_the_rules() -> None:
    """Random runs of the rules' own words."""
    for evidence, window in random_texts(_PIECES, seed=5):
        index = quantity_index(evidence)
        assert isinstance(drop_worked_out(window, index), str)
        assert span_conflict(window, index) in (True, False)


def test_a_length_in_words_of_the_evidences_times_is_no_new_figure() -> None:
    """Read whole (the evidence now states 1.5 hours), "an hour and a half" was a new 1.5."""
    from stream_guard.text.quantities import resolve_hedged_numbers
    from stream_guard.text.terms import known, term_keys, terms

    evidence = "Time: 1:00 PM - 2:30 PM ET. The link is emailed 1 hour before."
    index = quantity_index(evidence)
    read = resolve_hedged_numbers(drop_worked_out("It lasts an hour and a half.", index), index)
    assert not quantity_conflict(read, index)
    assert all(known(t.key, term_keys(evidence)) for t in terms(read) if t.key[:1].isdigit())


@pytest.mark.parametrize(("evidence", "window"), [
    # a length the evidence states of what the window names is the quantities' to check
    ("Westgate car park is open 7am-7pm daily. Maximum stay is 3 hours.",
     "The maximum stay at Westgate car park is 12 hours."),
    ("Bakery class: the dough proves 9am-10am, then bake the loaves for 40 minutes.",
     "Bake the loaves for 60 minutes."),
])
def test_a_length_the_evidence_states_of_it_is_not_a_span(evidence: str, window: str) -> None:
    index = quantity_index(evidence)
    kept = drop_worked_out(window, index)
    assert kept == window and quantity_conflict(kept, index)


def test_a_table_of_thousands_of_ranges_in_one_sentence_is_read_whole() -> None:
    """One sentence of 2,000 ranges took 8 s (each range looked back over the whole sentence
    for its clause and its list); each looks a few words round it now."""
    def table(rows: int) -> str:
        return " ".join(f"Room {i} {i % 12 + 1}:00-{(i + 3) % 12 + 1}:30pm," for i in range(rows))

    assert quantity_index(table(4000))[SPANS] == quantity_index(table(24))[SPANS]
