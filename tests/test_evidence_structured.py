"""Structured evidence (a tool's JSON, a table, "key: value" records) read as sentences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stream_guard.evidence.context import context_sentences
from stream_guard.evidence.premise import SentenceIndex
from stream_guard.evidence.structured import as_prose, read
from stream_guard.text.figures import canonical_figures
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
        "BA117 delay: 45 minutes.", "BA117 delayed: yes.", "flights count: 2."]


def test_a_reading_far_longer_than_its_text_is_the_text_itself() -> None:
    """Each leaf's sentence repeats its key path: 34 KB of JSON nested 50 deep in 100-letter
    keys read as 15 M characters, and its set-up held the set-up lanes for 23 s (a review).
    A leaf's sentence now repeats the last 120 characters of its path; and a reading past 16
    times its text's length (real data reads at most about 6) is the text as written: here a
    CSV whose long column names every cell repeats."""
    nested = "{" + ",".join(f'"a{i}":{i % 10}' for i in range(3000)) + "}"
    for depth in range(50):
        nested = '{"' + chr(97 + depth % 26) * 100 + '":' + nested + "}"
    prose = read(nested).prose
    assert prose != nested and len(prose) < 16 * len(nested)
    assert max(len(sentence) for sentence in _sentences(prose)) < 140
    wide = ",".join(["name"] + [f"column {i} " + "x" * 200 for i in range(40)]) + "\n" + "\n".join(
        f"r{r}," + ",".join("1" for _ in range(40)) for r in range(300))
    assert read(wide) == (wide, ())
    assert read(FLIGHTS).prose != FLIGHTS  # as before


def test_json_lines_nested_objects_lists_and_percentages() -> None:
    lines = "\n".join(json.dumps(row) for row in (
        {"city": "Lisbon", "current": {"temp_c": 22, "humidity_pct": 58}, "tags": ["clear", "dry"]},
        {"city": "Porto", "current": {"temp_c": 19, "humidity_pct": 71}, "tags": []}))
    assert _sentences(as_prose(lines)) == [  # each line a list's item, named by its city
        "city: Lisbon.", "Lisbon current temp: 22 °C.", "Lisbon current humidity pct: 58%.",
        "Lisbon tags: clear, dry.", "city: Porto.", "Porto current temp: 19 °C.",
        "Porto current humidity pct: 71%.", "Porto tags: none.", "count: 2."]


def test_a_markdown_table_reads_each_cell_with_its_row_and_column() -> None:
    text = ("Final: Heat at Celtics\n\n| Team | Q1 | Final |\n|---|:-:|---|\n"
            "| Heat | 25 | 104 |\n| Celtics | 28 | 112 |\n\nA close game.")
    assert _sentences(as_prose(text)) == [
        "Final: Heat at Celtics", "Heat Q1: 25.", "Heat Final: 104.", "Celtics Q1: 28.",
        "Celtics Final: 112.", "count: 2.", "total Q1: 53.", "total Final: 216.", "A close game."]
    sheet = "| Spec | Value |\n|---|---|\n| Weight | 1.09 kg |\n| HDMI | true |"
    assert _sentences(as_prose(sheet)) == ["Weight: 1.09 kg.", "HDMI: yes."]


def test_csv_rows_and_a_record_of_fields() -> None:
    text = "date,description,amount_usd\n2024-05-03,CHIPOTLE,-14.85\n2024-05-06,BLUE BOTTLE,-6.75\n"
    assert _sentences(as_prose(text)) == [
        "2024-05-03 description: CHIPOTLE.", "2024-05-03 amount: -$14.85.",
        "2024-05-06 description: BLUE BOTTLE.", "2024-05-06 amount: -$6.75.", "count: 2.",
        "total amount: -$21.60."]
    record = "Rent: $2,150/month\nBeds: 2\nOutdoor_seating: false\nBroker fee: none"
    assert _sentences(as_prose(record)) == [
        "Rent: $2,150/month.", "Beds: 2.", "Outdoor seating: no.", "Broker fee: none."]


def test_a_yaml_like_list_names_each_items_fields() -> None:
    text = ("cluster: prod\nthresholds:\n  disk_critical_pct: 90\nhosts:\n"
            "  - name: db-01\n    disk_pct: 94\n  - name: web-01\n    disk_pct: 61\nchecked: today")
    assert _sentences(as_prose(text)) == [
        "cluster: prod.", "thresholds disk critical pct: 90%.", "name: db-01.",
        "db-01 disk pct: 94%.", "name: web-01.", "web-01 disk pct: 61%.", "checked: today.",
        "hosts count: 2."]


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


@pytest.mark.parametrize(("text", "sentences"), [
    # a probe of policies: "Accidental damage is covered." passed against the list
    ("What is not covered: accidental damage; cosmetic damage such as scratches and dents.",
     "Accidental damage is not covered. Cosmetic damage such as scratches and dents is not "
     "covered."),
    ("Returns are free. The following cannot be returned unless they are faulty: earrings, "
     "swimwear and personalised items.",
     "Returns are free. Earrings cannot be returned unless they are faulty. Swimwear cannot be "
     "returned unless they are faulty. Personalised items cannot be returned unless they are "
     "faulty."),
    ("Do not take if you: are allergic to ibuprofen; have had a stomach ulcer.",
     "Do not take if you are allergic to ibuprofen. Do not take if you have had a stomach "
     "ulcer."),
    ("Not covered: theft from an unlocked car; loss of cash.",
     "Theft from an unlocked car is not covered. Loss of cash is not covered."),
    # a serial "and", and a relative clause inside an item, leave it an item (a fourth review)
    ("Not covered: theft; loss of cash; and damage caused by pets.",
     "Theft is not covered. Loss of cash is not covered. Damage caused by pets is not covered."),
    ("Not covered:\n- theft\n- items that were left unattended\n- cosmetic damage",
     "Theft is not covered. Items that were left unattended is not covered. Cosmetic damage is "
     "not covered."),
    ("Claims:\nWe will not pay for:\n- wear and tear\n- damage caused by pets\nCall us.",
     "Claims:\nWe will not pay for wear and tear. We will not pay for damage caused by pets.\n"
     "Call us."),
])
def test_a_list_under_a_negated_heading_is_a_sentence_per_item(text: str,
                                                               sentences: str) -> None:
    assert as_prose(text) == sentences


@pytest.mark.parametrize("text", [
    "He said he would not resign: the party, the voters and the press wanted it.",
    "The minister did not say: reporters asked twice; she left.",  # no heading asking for items
    "What is covered: breakdown; fire; theft.",  # no negation lost
    "Not covered: theft from an unlocked car.",  # one item: a sentence already
    "Note: this is not a list; it is prose.",
    "We will not pay for:\n- wear and tear\nClaims must be made in 30 days.",
    # an item that is a clause: the list is read as written (a review: its heading's negation
    # went to "Northern Ireland is delivered in 5 days", and an exception became an item)
    "We don't deliver to: the Channel Islands; the Isle of Man; Northern Ireland is delivered "
    "in 5 days.",
    "Exclusions: pre-existing conditions, except those you have declared and we have accepted.",
    "The following are not covered: theft from an unlocked car, and loss, unless reported to "
    "police within 24 hours.",
    "Not covered: cosmetic damage; accidental damage is covered if you buy the Plus upgrade.",
    "We do not refund: tickets bought from resellers; tickets for events that were cancelled are "
    "refunded automatically.",  # a verb past a relative clause's (a fifth review)
])
def test_what_is_no_negated_list_is_read_as_it_is(text: str) -> None:
    assert as_prose(text) is text


def test_the_server_and_the_trainer_read_structure_the_same_way() -> None:
    """A faithful answer's words are found in the premise built from the fields: the one
    reading the engine, the collections and the trainer share."""
    from stream_guard.train.pairs import TextPipeline

    pipeline = TextPipeline(window_max_chars=400, window_min_chars=20)
    evidence = pipeline.evidence(FLIGHTS)
    served = SentenceIndex(context_sentences([("ctx", as_prose(FLIGHTS))]))
    assert [s.text for s in evidence.sentences.sentences] == [s.text for s in served.sentences]
    (premise,) = pipeline.premises(
        evidence, ["Flight BA117 leaves from gate B42, 45 minutes late."])
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
    listing = json.dumps({"name": "Casa Olivo", "address": "418 Alder St, Portland, OR 97205",
                          "date": "2024-09-21", "hours": "17:00-22:30", "reservations": True,
                          "outdoor_seating": False, "good_for_groups": True}, indent=2)
    right = ("Casa Olivo doesn't have outdoor seating. It takes reservations and is good for "
             "groups. On Saturday they're open from 5:00 pm to 10:30 pm at 418 Alder St.")
    wrong = ("Casa Olivo takes reservations. On Friday, September 21 they're open from 5:00 pm "
             "to 10:30 pm.")
    await _passes_and_halts(tmp_path, model_cache, listing, right, wrong, "On Friday")


async def _passes_and_halts(tmp_path: Path, model_cache: Path, context: str, right: str,
                            wrong: str, wrong_from: str) -> None:
    """``right`` streams through on the shipped detector; ``wrong`` halts as contradicted at
    the window that starts with ``wrong_from``."""
    from tests.conftest import halt_on_detector, stream_on_detector

    frames = await stream_on_detector(tmp_path, model_cache, right, [context])
    assert not [f for f in frames if f["type"] == "halt"]
    halt = await halt_on_detector(tmp_path, model_cache, wrong, [context])
    assert halt["at"] == wrong.index(wrong_from) and halt["reason"] == "contradicted"


def test_fields_keep_their_names_numbers_and_columns() -> None:
    """A suffix that names no one unit stays a word ("salary_min", "vitamin_c"), a number
    stays as written (a tracking number past 64 bits), a name keeps its case, and a
    two-column table's header names its values unless it is a generic "Value"."""
    text = as_prose(json.dumps({"salary_min": 85000, "vitamin_c": 90, "temp_c": 20,
                                "tracking": 9400111899223344556677, "host": "db-02"}))
    assert _sentences(text) == ["salary min: 85000.", "vitamin c: 90.", "temp: 20 °C.",
                                "tracking: 9400111899223344556677.", "host: db-02."]
    # "s" is seconds after a duration's word only (a probe's CI run of 754 s halted its
    # "754 seconds, about 12.5 minutes")
    text = as_prose(json.dumps({"duration_s": 754, "timeout_s": 30, "runs": 3}))
    assert _sentences(text) == ["duration: 754 seconds.", "timeout: 30 seconds.", "runs: 3."]
    rsvp = "| Guest | Attending |\n|---|---|\n| Ben | No |\n| Ann | Yes |"
    assert _sentences(as_prose(rsvp)) == ["Ben Attending: no.", "Ann Attending: yes.",
                                          "count: 2."]


HOSTS = ("cluster: prod\nhosts:\n" + "".join(
    f"  - name: {name}\n    role: {role}\n    cpu_pct: {cpu}\n    mem_used_gb: {mem}\n"
    f"    status: {status}\n" for name, role, cpu, mem, status in (
        ("web-01", "web", 92.4, 11.2, "WARNING"), ("web-02", "web", 47.9, 9.8, "OK"),
        ("web-03", "web", 88.1, 12.6, "WARNING"), ("db-01", "postgres", 35.2, 58.7, "CRITICAL"),
        ("cache-01", "redis", 12.6, 5.1, "OK"))))
SPENDING = ("date,description,category,amount,order_id,year\n"
            "2024-05-01,PAYROLL,Income,3250.00,1001,2024\n"
            "2024-05-03,CHIPOTLE,Dining,-14.85,1002,2024\n"
            "2024-05-06,BLUE BOTTLE,Dining,-6.75,1003,2024\n"
            "2024-05-07,SAFEWAY,Groceries,-112.64,1004,2024\n"
            "2024-05-10,SUSHI RAN,Dining,-78.39,1005,2024\n")


def test_a_lists_rows_are_counted_and_added_up() -> None:
    """An answer's count of rows, of rows holding a value, a column's total and a category's
    total are worked out of the rows, as the blind probes' faithful answers wrote them."""
    hosts = _sentences(as_prose(HOSTS))
    assert {"hosts count: 5.", "hosts status OK: 2 of 5.", "hosts status WARNING: 2 of 5.",
            "hosts role web: 3 of 5.", "hosts total mem used: 97.4 GB."} <= set(hosts)
    evidence = term_keys(as_prose(HOSTS))
    assert coverage(terms("Of the 5 hosts, 2 are OK and 3 are web hosts."), evidence) == 1.0
    assert coverage(terms("Of the 5 hosts, 4 are OK."), evidence) < 1.0
    spending = _sentences(as_prose(SPENDING))
    assert {"count: 5.", "total amount: 3037.37.", "Dining total amount: -99.99.",
            "category Dining: 3 of 5."} <= set(spending)
    evidence = term_keys(as_prose(SPENDING))
    assert coverage(terms("Your dining total is $99.99."), evidence) == 1.0
    assert coverage(terms("Your dining total is $106.75."), evidence) < 1.0


def test_what_is_not_added_up_or_counted() -> None:
    """Names, ids, years, dates and percentages are not added up, amounts of two currencies
    not together; a column of distinct or long values is no category."""
    spending = " ".join(_sentences(as_prose(SPENDING)))
    assert "total order id" not in spending and "total year" not in spending
    assert "description" not in spending.split("total amount")[-1]  # no counts of names
    mixed = json.dumps({"fees": [{"name": "a", "fee": "$5", "share_pct": 40, "note": n}
                                 for n in ("paid on the first of the month", "x", "y")]
                        + [{"name": "b", "fee": "€7", "share_pct": 60, "note": "x"}]})
    text = " ".join(_sentences(as_prose(mixed)))
    assert "fees total fee" not in text and "total share" not in text
    assert "fees share pct 40%: 3 of 4." in text and "fees note" not in text  # a long note


def test_a_tables_own_total_rows_are_not_added_up_again() -> None:
    invoice = ("| Item | Amount |\n|---|---|\n| Consulting | $1,500.00 |\n| Hosting | $240.00 |\n"
               "| Subtotal | $1,740.00 |\n| Tax (8%) | $139.20 |\n| Total | $1,879.20 |")
    sentences = _sentences(as_prose(invoice))
    assert sentences[-2:] == ["count: 3.", "total Amount: $1879.20."]


def test_a_headers_unit_in_brackets_and_a_pathological_key() -> None:
    """"Produced (kWh)" carries its unit; a key of thousands of spaces in brackets is read at
    once (a review: a backtracking pattern took 32 s over it)."""
    table = "| Month | Produced (kWh) |\n|---|---|\n| Jun | 812 |\n| Jul | 845 |"
    assert _sentences(as_prose(table))[:2] == ["Jun Produced: 812 kWh.", "Jul Produced: 845 kWh."]
    key = "(" + " " * 20000 + "x"
    assert as_prose(json.dumps({key: 1, "b": 2})) != ""


@pytest.mark.parametrize(("window", "known"), [
    ("Storage costs $960.", True),  # "960.00"
    ("The total is $12,960.", True),  # "$12,960.00"
    ("Your share is 3.1%.", True),  # "3.10%"
    ("The change is 12.5.", True),  # "12.50"
    ("Storage costs $96.", False),
    ("Your share is 31%.", False),
    ("It was built in 2 BC.", False),  # "2000" is no "2"
])
def test_a_figure_is_known_without_its_trailing_zeros(window: str, known: bool) -> None:
    evidence = term_keys(as_prose("| Item | Cost | Share | Change | Year |\n|---|---|---|---|---|\n"
                                  "| Storage | $960.00 | 3.10% | 12.50 | 2000 |\n"
                                  "| Total | $12,960.00 | 100% | 0 | 2000 |"))
    assert (coverage(terms(window), evidence) == 1.0) is known


@pytest.mark.slow  # the shipped detector
async def test_a_tools_list_passes_its_counts_and_totals_and_halts_another_rows_value(
        tmp_path: Path, model_cache: Path) -> None:
    """Hosts as a monitoring tool lists them: an answer that counts them and adds up their
    memory streams through; one that gives web-02 the CPU figure of web-01 halts there."""
    right = ("Of the 5 hosts, 2 are OK and 2 show warnings. db-01 is critical at 35.2% CPU. "
             "Together the hosts use 97.4 GB of memory.")
    wrong = ("Of the 5 hosts in the prod cluster, 2 are OK, 2 show warnings and 1 is critical. "
             "Meanwhile web-02 is running hot at 92.4% CPU.")
    await _passes_and_halts(tmp_path, model_cache, HOSTS, right, wrong, "Meanwhile")


@pytest.mark.slow  # the shipped detector
async def test_a_status_list_passes_its_counts_and_halts_a_status_or_count_given_otherwise(
        tmp_path: Path, model_cache: Path) -> None:
    """A CSV of hosts and their status (no column of figures): an answer that counts them
    streams through; one that gives web1 web2's status, or counts the OK hosts wrong, halts
    there (a README walk found both passing)."""
    status = "hostname,status\nweb1,OK\nweb2,DOWN\ndb1,OK\ndb2,DOWN\ncache1,DOWN\n"
    right = "2 of the 5 hosts are OK. web1 is OK and web2 is DOWN."
    await _passes_and_halts(tmp_path, model_cache, status, right,
                            "2 of the 5 hosts are OK. Right now web1 is DOWN.", "Right now")
    await _passes_and_halts(tmp_path, model_cache, status, right,
                            "web2 is DOWN. In all, 3 of the 5 hosts are OK.", "In all")


def test_short_month_names_are_months_and_a_csv_may_follow_a_line_or_two() -> None:
    """"Jun 2024" is the answer's "June" (a blind probe halted "Over June–August you
    generated 2,435 kWh" on words the data lacked; chat answers write "Oct 4" for the data's
    2024-10-04); a CSV after a line of its own ("billing cycle: ...", "# handoff every
    Monday") is still read as rows, its lines kept as sentences."""
    table = "| Month | Produced (kWh) |\n|---|---:|\n| Jun 2024 | 812 |\n| Sep 2024 | 651 |\n"
    assert coverage(terms("In June you produced 812 kWh."), term_keys(as_prose(table))) == 1.0
    paid = term_keys(as_prose(json.dumps({"pay_date": "2024-09-20", "net": 3216.4})))
    for window in ("The pay date is Sept 20.", "The pay date is Sep. 20, 2024.",
                   "The pay date is 20 Sep."):
        assert coverage(terms(window), paid) == 1.0, window
    assert coverage(terms("The pay date is Sept 27."), paid) < 1.0
    assert canonical_figures("In 1999 Oct rain fell. On 5th Oct. We left.") == (
        "In 1999 Oct rain fell. On 5 October. We left.")  # a year is no day; a full stop stays
    # "Jan", "Jun" and "Mar" are names too: months only with a year, an ordinal or a dating
    # word (an adversarial review: "Action items: Jan 2, Jun 4" lost its names)
    for names in ("Action items: Jan 2, Jun 4, Ola 1.", "Jan 12 tickets, Mar 9."):
        assert canonical_figures(names) == names
    assert canonical_figures("Paid on Jan 5; due Mar 3rd; since Jun 2024.") == (
        "Paid on 5 January; due 3 March; since June 2024.")
    usage = ("billing_cycle: 2024-10-05 to 2024-11-04\napp,cellular_mb,wifi_mb\n"
             "YouTube,4820,18230\nSpotify,1380,2950\n")
    reading = read(usage)
    assert _sentences(reading.prose)[:3] == [
        "billing_cycle: 2024-10-05 to 2024-11-04.", "YouTube cellular: 4820 MB.",
        "YouTube wifi: 18230 MB."]
    assert ("YouTube", "cellular mb", "4820") in reading.fields
    # a line with a comma is no preamble: the table's own header, or a sentence
    assert not read("Attendees: Ana, Ben, Chloe\nBudget,120000\nTravel,3\nFood,5\n").fields
    # a title and prose with commas stay prose
    prose = "Notes\nWe met, talked, and left.\nThen, later, we ate.\nAnd so, again, on."
    assert as_prose(prose) == prose


SOLAR = ("| Month | Produced (kWh) | Exported (kWh) |\n|---|---:|---:|\n"
         "| Jun 2024 | 812 | 341 |\n| Jul 2024 | 845 | 332 |\n| Aug 2024 | 778 | 290 |\n"
         "| Sep 2024 | 651 | 214 |\n")


@pytest.mark.slow  # the shipped detector
async def test_an_answer_that_computes_over_a_tools_rows_passes_and_a_wrong_sum_halts(
        tmp_path: Path, model_cache: Path) -> None:
    """Sums of some months, a difference between two and a share, worked out of the rows the
    answer names, stream through; the same answer with a wrong sum halts at it."""
    right = ("Over June–August you generated 2,435 kWh. July produced 67 kWh more than August, "
             "and June's 812 kWh was about 26% of the four months' output.")
    wrong = ("July produced 67 kWh more than August. Over June–August you generated 2,535 kWh.")
    await _passes_and_halts(tmp_path, model_cache, SOLAR, right, wrong, "Over June")


def test_prose_with_a_quote_left_open_past_the_csv_cell_limit_is_read_as_prose() -> None:
    """A comma in the first line makes a text a CSV candidate; a straight quote closed by a
    curly one then made one cell of the rest, past the csv module's 128 KiB, and its error
    ended `index add` (and scoring a stream) with a traceback (a review)."""
    text = "\n".join(["Chapter 1, The Beginning", '"We leave at dawn,” said the captain.',
                      *(f"Paragraph {i} tells how they crossed the river." for i in range(4000))])
    assert len(text) > 131_072
    assert read(text).prose == text
    assert as_prose(text) == text
