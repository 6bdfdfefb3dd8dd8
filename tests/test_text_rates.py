"""Rates over calendar periods: an answer's "$300 a year" is its evidence's "$25 per month"
(a blind probe of price pages, tariffs and leaflets halted 32 of 39 faithful answers that
restate a rate over another period); a wrong reckoning, a rate over a period the evidence does
not give it and a rate worked out of one the answer gives later are not. Through a real server
with the shipped detector as well."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_guard.text.quantities import drop_worked_out, quantity_index, rate_period_swapped
from stream_guard.text.rates import RATES
from tests.conftest import halt_on_detector, random_texts, stream_on_detector


def _kept(evidence: str, window: str) -> str:
    """The window as the signals read its figures."""
    return drop_worked_out(window, quantity_index(evidence))


def test_the_evidence_indexes_its_rates_with_their_periods() -> None:
    index = quantity_index(
        "Standard membership is $25 per month. Digital-only is £2 a week. Annual fee: €1,200."
        " Take 3 tablets daily. Standing charge: 45p per day. Includes 2 GB of data per day."
        " Members get 4 hours of meeting-room time per month. Pay: $18/hour.")
    assert index[RATES] == {"25 $ month", "2 £ week", "1200 € year", "0.45 £ day", "2 gb day",
                            "4 hour month", "18 $ hour"}  # a dose is no rate to reckon


@pytest.mark.parametrize("evidence", [
    "Six-monthly boiler service: £60 per visit.",  # a visit's price, whatever the period
    "Monthly payers spread the £240 over the year.",  # no fee the month names
    "Salary: £27,600 per annum pro rata (full-time equivalent).",  # no one's pay
    "Adults: take 1 capsule daily with a meal.",  # a regimen is no sum
])
def test_no_rate_is_read_where_the_period_is_another_or_the_amount_no_rate(
        evidence: str) -> None:
    assert RATES not in quantity_index(evidence)


@pytest.mark.parametrize(("evidence", "period"), [
    ("Pay: £2,000 gross, paid 4-weekly by BACS.", "4-week"),  # not weekly (a review)
    ("Semi-annual premium: $600.", "6-month"),
    ("Home contents cover: $600 every six months.", "6-month"),
    ("Paid bi-weekly: $1,500 gross.", "fortnight"),
    ("Key cover: £15 per 12 months.", "year"),
])
def test_a_period_of_several_calendar_ones_is_read_as_that_many(evidence: str,
                                                               period: str) -> None:
    assert {rate.rsplit(" ", 1)[1] for rate in quantity_index(evidence)[RATES]} == {period}


@pytest.mark.parametrize(("evidence", "window", "worked"), [
    ("Standard membership is $25 per month.", "The membership works out to $300 a year.",
     "300"),
    ("Annual membership: €1,200.", "That is €100 a month.", "100"),
    ("Print + Digital subscription: £4.50 a week.", "That comes to about £234 a year.", "234"),
    ("The plan includes 2 GB of data per day.", "That's 14 GB a week.", "14"),
    ("Rent: £950 per calendar month.", "It comes to about £219 a week.", "219"),
    ("A monthly fee of $4.99 applies.", "So $60 a year.", "60"),  # rounded
    ("Rent is £950 a month.", "Over 12 months that is £11,400.", "11,400"),  # over a count
    ("Pay: $18 per hour.", "That's $720 for your 40 regular hours.", "720"),
    ("Full day £62 per day.", "Five full days at £62 is £310 per week.", "310"),
    ("Pay: £2,000 gross, paid 4-weekly.", "13 four-weekly payments of £2,000 are £26,000 a year.",
     "26,000"),
    ("Semi-annual premium: $600.", "You pay $600 every six months, so $1,200 a year.", "1,200"),
    # an hourly rate over the hours of a week the evidence gives, both stated in the window
    ("Pay: $18 per hour. Schedule: 40 hours per week.",
     "Working 40 hours a week at $18 an hour for 52 weeks comes to $37,440 a year.", "37,440"),
])
def test_a_rate_worked_out_over_another_period_is_no_new_figure(
        evidence: str, window: str, worked: str) -> None:
    kept = _kept(evidence, window)
    assert worked not in kept and kept != window


@pytest.mark.parametrize(("evidence", "window", "count"), [
    ("Standing charge: 45p per day.",
     "At 45p per day, the standing charge adds up to £164.25 over a 365-day year.", "365"),
    ("Standing charge: 45p per day.",
     "It's roughly £13.50 a month, based on 45p a day over about 30 days.", "30"),
    ("2 GB of data per day.", "It's around 60 GB a month, based on 2 GB each day over a "
                              "30-day month.", "30"),
])
def test_the_count_a_rate_is_reckoned_over_goes_with_it(evidence: str, window: str,
                                                        count: str) -> None:
    assert f" {count}" not in _kept(evidence, window).replace("13.50", "")


def test_a_count_that_is_a_claim_of_its_own_stays() -> None:
    kept = _kept("From $35 a month.", "It's about $420 a year, and pre-existing conditions "
                                      "are covered after 12 months.")
    assert "420" not in kept and "12 months" in kept


@pytest.mark.parametrize(("evidence", "window", "figure"), [
    ("Standard membership is $25 per month.", "The membership works out to $350 a year.",
     "350"),  # a wrong sum
    ("Meal kit: $100 per week.", "That's $400 a month.", "400"),  # a month is no 4 weeks
    ("Pay: £12 an hour.", "That's £96 a day.", "96"),  # a working day has no fixed length
    ("Standard membership is $25 per month.", "It's about $330 a year.", "330"),  # past a hedge
    ("Personal training sessions are $40 each.", "That's $480 a year.", "480"),  # no rate
    ("Take 3 tablets daily.", "That's 21 tablets a week.", "21"),  # a dose: never reckoned
    ("Standard membership is $25 per month.", "It's just under $290 a year.", "290"),  # over
    # the evidence's rates of one unit: only one the window states (a review: the wrong item)
    ("Monthly plan: $12 a month. Annual plan: $99 per year.",
     "The annual plan costs $144 a year.", "144"),
    # the evidence's own schedule (a review: 10 instalments, not 12)
    ("Your Band D bill is £2,025 a year, paid in 10 monthly instalments.",
     "Each monthly instalment will be £168.75.", "168.75"),
])
def test_a_wrong_reckoning_stays_a_new_figure(evidence: str, window: str, figure: str) -> None:
    assert figure in _kept(evidence, window)


def test_a_rate_the_answer_gives_is_an_operand_only_where_it_was_worked_out() -> None:
    """Of a rate the window worked out itself (by its arithmetic: €1,200 shared by 5 users),
    what follows is worked out too; of one it merely gives, nothing (a review: "At £2,000 a
    week, that comes to £104,000 a year" of £2,000 paid 4-weekly passed)."""
    kept = _kept("Team plan: €1,200 a year for up to 5 users.",
                 "With 5 users, the €1,200 annual price comes to €240 per user per year, or €20 "
                 "per user per month.")
    assert "240" not in kept and "20 " not in kept
    kept = _kept("Pay: £2,000 gross, paid 4-weekly by BACS. Contract: 3 nights per week.",
                 "At £2,000 a week, that comes to £104,000 a year.")
    assert "104,000" in kept


@pytest.mark.parametrize(("evidence", "window", "kept"), [
    ("Semi-annual premium: $600.", "You pay $600 every six months, so $1,200 a year.",
     "You pay $600 every  months, so $ a year."),
    ("Pay: £2,000 gross, paid 4-weekly.", "You're paid £2,000 every 4 weeks.",
     "You're paid £2,000 every  weeks."),
    ("Pay: £2,000 gross, paid 4-weekly.", "You're paid £2,000 every 5 weeks.",
     "You're paid £2,000 every 5 weeks."),  # another period: a new figure
])
def test_the_count_that_names_the_evidences_period_is_no_new_figure(
        evidence: str, window: str, kept: str) -> None:
    assert _kept(evidence, window) == kept


@pytest.mark.parametrize(("evidence", "window"), [
    ("Fee: £5 every 0 weeks.", "That's £10 a year."),  # no period: no division by it
    ("Fee: £5 every 00 weeks.", "That's £10 every 0 weeks, £5 a week."),
    ("Fee: £0 a month.", "That's £0 a year."),  # nothing is nothing over every period
])
def test_a_rate_of_no_period_or_of_nothing_is_no_rate(evidence: str, window: str) -> None:
    index = quantity_index(evidence)
    assert RATES not in index
    assert drop_worked_out(window, index) == window and not rate_period_swapped(window, index)


def test_a_count_the_evidence_gives_of_that_period_stays() -> None:
    """A review: "for 7 days, so 42 tablets" hid a changed course length; so would a count of
    days for any rate where the evidence counts days otherwise."""
    kept = _kept("Visitor permits are £2.50 per day, for up to 5 days.",
                 "For 7 days the permits come to £17.50.")
    assert "7 days" in kept


@pytest.mark.parametrize(("evidence", "window", "swapped"), [
    ("Monthly fee: £15.", "You'd pay £15 a year for the account.", True),
    ("Includes 2 GB of data per day.", "You get roughly 2 GB of data per month.", True),
    ("Members get 4 hours of meeting-room time per month.",
     "Members get 4 hours of meeting-room time per week.", True),
    ("Monthly fee: £15.", "You'd pay £15 a month.", False),
    ("Basic is £15 a month; the add-on is £15 a year.", "The add-on is £15 a year.", False),
    ("Monthly fee: £15.", "It costs £15 for the account.", False),  # no period given
    # the evidence names the window's period beside the amount (a review)
    ("Monthly account fee: £15. Gadget cover costs £15 p.a.", "Gadget cover is £15 a year.",
     False),
    ("Breakdown cover: £15 a month. Key cover can be added for £15 per 12 months.",
     "Key cover is an extra £15 a year.", False),
])
def test_a_rate_over_another_period_than_the_evidences_is_a_conflict(
        evidence: str, window: str, swapped: bool) -> None:
    assert rate_period_swapped(window, quantity_index(evidence)) is swapped


_GYM = ("FitZone Gym – Membership prices. Standard membership is $25 per month with no joining "
        "fee and gives 24/7 access to all clubs. Off-peak membership is $18 per month and is "
        "valid 9am–4pm on weekdays only.")


@pytest.mark.slow  # the shipped detector
async def test_a_faithful_yearly_cost_does_not_halt(tmp_path: Path, model_cache: Path) -> None:
    """It halted at fused support 0.06 (the $300 a new figure)."""
    frames = await stream_on_detector(
        tmp_path, model_cache, "At $25 per month, a standard membership comes to $300 over a "
                               "full year, and there's no joining fee on top.", [_GYM])
    assert not [f for f in frames if f["type"] == "halt"]


@pytest.mark.slow  # the shipped detector
@pytest.mark.parametrize("answer", [
    "At $25 per month, a standard membership comes to $350 over a full year.",
    "Standard membership is $25 a year with no joining fee.",
])
async def test_a_wrong_yearly_cost_halts(tmp_path: Path, model_cache: Path,
                                         answer: str) -> None:
    halt = await halt_on_detector(tmp_path, model_cache, answer, [_GYM])
    assert halt["at"] == 0


_PIECES = ("every", "per", "a", "0", "00", "1", "12", "4-weekly", "semi-annual", "bi-weekly",
           "£", "$", "5", "0.0", "p.a.", "paid", "weekly", "monthly", "hours", "day", "weeks",
           "months", "year", "/", "x", "over", "for", "about", "nearly", "Christmas", "Day",
           "Eve", "25", "December", "fee:", "annual", "plan", ",", ".", "45p", "cents", "GB",
           "1,000", "9" * 30)


def test_no_text_of_figures_and_periods_breaks_the_rules() -> None:
    """A fuzz of this session's own found "every 0 weeks" divided by zero: random runs of the
    rules' own words."""
    for evidence, window in random_texts(_PIECES, seed=3):
        index = quantity_index(evidence)
        assert isinstance(drop_worked_out(window, index), str)
        assert rate_period_swapped(window, index) in (True, False)


def test_a_long_run_of_blanks_is_read_in_linear_time() -> None:
    """A review found "1", 20,000 spaces and a word taking 21 s in the figure index (the rates'
    blanks around an optional hyphen backtracked over every split of the run): a context could
    hold the model thread that long. Their blanks are possessive now; 100,000 read at once."""
    for blank in (" ", "\t"):
        index = quantity_index("£1" + blank * 100_000 + "x a month")
        assert index[RATES] == quantity_index("£1 x a month")[RATES] == {"1 £ month"}
