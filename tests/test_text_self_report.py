"""What the user says of themselves (:mod:`stream_guard.text.self_report`): which clauses of a
prompt count, how they are put in the second person, and which windows may use them."""

from __future__ import annotations

import time

import pytest

from stream_guard.text.self_report import (
    promises,
    reports_done,
    self_reports,
    told_names,
    user_may_attest,
)


@pytest.mark.parametrize(("prompt", "told"), [
    ("My daughter Maisie just turned 7 and lost her very first tooth last night — she was so "
     "proud! How much is a check-up?",
     "Your daughter Maisie just turned 7 and lost her very first tooth last night"),
    ("I am flying from Denver on the 14th.", "You are flying from Denver on the 14th."),
    ("I was born in the US.", "You were born in the US."),  # "US" is no pronoun
    ("We've been married 25 years and our son is 12.",
     "You've been married 25 years and your son is 12."),
    ("i moved to leeds in 2019", "You moved to leeds in 2019"),  # a chat user's lower case
    ("I'm a nurse at St Mary's.", "You're a nurse at St Mary's."),
    ("It's our 25th anniversary and I'm surprising my husband, Graham.",
     "It's your 25th anniversary and you're surprising your husband, Graham."),
    ("Our Jack Russell, Bramble, is 13 and 7 kg.", "Your Jack Russell, Bramble, is 13 and 7 kg."),
    ("Thank you, my order arrived.", "Your order arrived."),
    ("I’m 40 and I wasn’t ready.", "You're 40 and you weren't ready."),  # curly apostrophes
    ("Last week my daughter passed her driving test.",
     "Last week your daughter passed her driving test."),
    ("Sadly, my dad passed away in March.", "Your dad passed away in March."),
    # The "I" chat leaves out, put back before a listed verb of what happened.
    ("Got married last weekend! Any tips for Lisbon?", "You got married last weekend!"),
    ("Just got back from Japan. Any tips for jet lag?", "You just got back from Japan."),
    ("So, just adopted a puppy called Biscuit!", "You just adopted a puppy called Biscuit!"),
    ("Yesterday got my results back.", "Yesterday you got your results back."),
    ("Turned 40 yesterday and started running.", "You turned 40 yesterday and started running."),
])
def test_a_report_of_the_users_own_situation_counts_in_the_second_person(
        prompt: str, told: str) -> None:
    assert self_reports(prompt) == told


@pytest.mark.parametrize("prompt", [
    "İ ordered a jacket last week.",  # Turkish keyboards' capital i, dotted
    "I ordered a jacket for uſ last week and I waſ happy.",  # a long s
])
def test_a_letter_that_matches_a_pronoun_only_by_case_folding_is_left_as_written(
        prompt: str) -> None:
    """A review: "İ" matched the case-blind pronoun pattern, its lower case was no key of
    the table, and the KeyError failed the whole stream's evidence."""
    assert "jacket" in self_reports(prompt)


@pytest.mark.parametrize("prompt", [
    "The tower is 500 m tall, right?",  # no first person: a claim about the world
    "Is my order 4471 on its way?",  # a question
    "I heard the museum is free on Sundays.",  # hearsay
    "I think my flight leaves at 5pm.",  # a belief
    "I th\u200bink my flight leaves at 5pm.",  # ... with a zero-width space inside
    "I'd like a refund for order 4471.",  # a request
    "Book me a table for 4 at 7pm on Friday.",  # an imperative: its subject is the listener
    "I want my refund processed today.",
    "I hope my visa gets approved.",  # a wish
    "I'm going to Paris next week.",  # a plan
    "If I cancel today, I get my deposit back.",  # a condition: none of the sentence counts
    "Can you tell me what my balance is.",  # a request to the listener
    "I might be eligible for a discount.",  # a possibility
    "My flight MAY leave at 5pm.",
    "i like the action",  # what the user thinks of a thing: no report of the thing
    "I feel like it lacked motive.",
    "I know blood means nothing but is important for humans to know about their history.",
    "I get that, especially when there is only 11 minutes of action in a game.",
    "i reckon check-ups cost £5 tbh",
    "My dentist confirmed that check-ups for children cost £5.",
    "I learned the Eiffel Tower is 500 m tall.",
    "World War I ended in 1920.",  # "I", the numeral
    "The tower, i.e. the Eiffel Tower, is 500 m tall.",
    "Summarize this note from our CEO: We grew revenue 300% in 2023.",  # handed over
    'The CEO wrote "our revenue tripled" in the memo.',  # quoted
    "Got told the tower is 500 m tall.",  # hearsay, its "I" left out
    "Looks like the museum is free on Sundays.",  # a present: its subject is the world's
    "Going to Paris next week.",  # a plan
    "The bridge fell and got rebuilt in 1990.",  # "got" after a subject of its own
    "Last week, got married in Rome.",  # a clause before the verb: fails closed
])
def test_what_the_user_asks_believes_wants_or_hands_over_does_not_count(prompt: str) -> None:
    assert self_reports(prompt) == ""


@pytest.mark.parametrize(("prompt", "told"), [
    ("I'm a doctor and aspirin cures cancer.", "You're a doctor"),
    ("I live in Paris, the capital of Germany.", "You live in Paris"),
    ("I moved to Leeds in 2019, Leeds has 5 million people.", "You moved to Leeds in 2019"),
    ("I'm a historian — the Battle of Hastings was in 1067.", "You're a historian"),
    ("I work for Acme, which invented the telephone in 1790.", "You work for Acme"),
    ("I drive a Tesla that has 900 miles of range.", "You drive a Tesla"),
    ("I'm a nurse and infected people die within days.", "You're a nurse"),
    ("After aspirin cured my cancer in 2019 I stopped chemo.", ""),
    ("My son's cancer was cured by aspirin.", ""),  # a cause is not the user's to attest
    ("The traps are great, but I still have the poster from 1990.",
     "You still have the poster from 1990."),
    ("My dog Rex is 9. He is the world's oldest dog.", "Your dog Rex is 9."),
    ("I'm 52 and never learned to swim — but my first grandchild, Arlo, was born in May and I "
     "want to be able to take him to the pool.",
     "You're 52 and never learned to swim — but your first grandchild, Arlo, was born in May"),
    ("i like him too. i moved to leeds in 2019", "You moved to leeds in 2019"),
])
def test_a_clause_whose_subject_is_not_the_user_is_left_out(prompt: str, told: str) -> None:
    assert self_reports(prompt) == told


def test_a_conversation_history_counts_only_in_the_users_turns() -> None:
    history = ("[Human]: My dog Rex is 9. [Assistant]: I have a dog called Rex too and he is "
               "the fastest dog in Ohio. [Human]: We adopted him in 2019.")
    assert self_reports(history) == "Your dog Rex is 9.\nYou adopted him in 2019."
    assert self_reports("User: I live in Leeds.\nAssistant: We deliver to Leeds.") == (
        "You live in Leeds.")
    # "agent:" inside a line is no turn; what follows a note's colon is handed over
    assert self_reports("My note to the agent: my dog Rex is 9.") == ""
    # a full-width colon is read as a colon
    assert self_reports("User： my dog is 9\nAssistant： we have a dog called Rex too.") == (
        "Your dog is 9")


@pytest.mark.parametrize("history", [
    "Q: my dog is 9\nA: We have a dog called Rex too.",
    "Me: my dog is 9\nChatGPT: We have a dog called Rex too.",
    "<|im_start|>user\nMy dog is 9<|im_end|><|im_start|>assistant\nWe have Rex.<|im_end|>",
    "Dave: my dog is 9\nAcme Support: We have a dog called Rex too.",
    "[INST] My dog is 9 [/INST] We have a dog called Rex too.",
    '[{"role": "user", "content": "My dog is 9"}, {"role": "assistant", "content": "We too"}]',
    "### User\nMy dog is 9\n### Assistant\nWe have a dog called Rex too.",
])
def test_a_transcript_whose_turns_cannot_be_told_apart_counts_not_at_all(history: str) -> None:
    assert self_reports(history) == ""


def test_other_speakers_lines_inside_the_users_turn_are_not_the_users() -> None:
    history = "User: my kettle broke\n- Assistant: Our warranty lasts 5 years.\nUser: ok"
    assert self_reports(history) == "Your kettle broke"
    assert self_reports("User: my kettle broke\n**Acme Support:** We cover 5 years.") == (
        "Your kettle broke")
    # what someone replied is passed on, not told
    assert self_reports("my kettle broke\n\nThey replied: Our warranty lasts 5 years.") == (
        "Your kettle broke")


def test_a_long_or_spaced_out_prompt_is_read_in_bounded_time() -> None:
    started = time.perf_counter()
    for filler in (" " * 50_000, "\u00a0" * 50_000, "\n" * 32_000, "\t" * 50_000):
        self_reports("I am " + filler + "x.")
        self_reports("I want" + filler + "x.")
        self_reports("User: my dog\n" + filler + "Dave: hi")
    for marks in ("*", "-", ">", "#", "•", "* "):  # a line of list or bold marks, no name
        self_reports("User: hi\n" + marks * (16_000 // len(marks)) + "a")
        self_reports(marks * (16_000 // len(marks)) + "A")
    self_reports("My daughter Maisie just turned 7 and we went to the park. " * 1000)
    # a regression to the quadratic splits took seconds per call; generous for slow machines
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize(("prompt", "names"), [
    ("I'm surprising my husband, Graham, in Lisbon on Friday.", {"graham"}),
    ("We've adopted a greyhound called Blue.", {"blue"}),
    ("My twins, Ella and Sam, are 6.", {"ella", "sam"}),
    ("I've had my Acme kettle for 5 years.", set()),  # a company's name names no one
    ("My grandfather Napoleon won the Battle of Waterloo.", {"napoleon"}),
])
def test_the_names_the_user_gave_are_their_people_and_pets(prompt: str,
                                                          names: set[str]) -> None:
    assert told_names(self_reports(prompt)) == names


@pytest.mark.parametrize(("window", "granted"), [
    ("Children who've just lost their first tooth get their check-up free this month!", True),
    ("We'll waive the cakeage fee for any couple celebrating 40 years!", True),
    ("Rescue dogs get 10% off the first year.", True),
    ("You'll get £10 off your next visit.", True),
    ("Retired NHS staff jump the waiting list.", True),
    ("Anniversary guests get a complimentary bottle of champagne.", True),
    ("As a new customer you're eligible for half-price storage.", True),
    ("Your membership includes admission on Sundays.", True),  # what a plan includes
    ("You won't be charged for the change.", True),
    # what the user asked for, reported done
    ("I've renewed all three of your books for another 21 days.", True),
    ("Her free consultation is booked for Wednesday after school.", True),
    ("They're now enrolled in group lessons for the spring session.", True),
    ("Your order has been shipped.", True),
    ("Your table for 4 at 7pm on Friday is all set.", True),
    ("Your order has been successfully cancelled.", True),
    ("Feel free to call us on 0161 555 0192.", False),  # an invitation, not a grant
    ("Maisie turning 7 and losing her very first tooth, what a week!", False),
    ("Your parcel was delivered on Monday, so it is within the 14 days.", False),
    ("Saturday appointments run 9am to 1pm.", False),
])
def test_a_window_that_promises_something_is_told_apart(window: str, granted: bool) -> None:
    assert promises(window) is granted


@pytest.mark.parametrize(("window", "attests"), [
    ("Maisie turning 7 and losing her very first tooth, what a week!", True),  # her name
    ("Since your daughter just turned 7, she can have fissure sealants.", True),
    ("Aspirin cures cancer.", False),  # of the world: neither "you" nor a name the user gave
    ("A check-up costs £35.", False),
    ("You're right that aspirin cures cancer.", False),  # agreeing with the user
    ("You're absolutely right, your son's cancer was cured by aspirin.", False),
    ("Exactly, your balance is £500.", False),
    ("Like you said, your flight leaves at 5pm.", False),
    ("As you said, check-ups are £5.", False),
    ("My favorite color is green, I like how it is between blue and yellow.", False),
    ("Do you like to watch football?", False),  # a question restates nothing
    ("Your books are renewed for another 21 days.", False),  # a promise
])
def test_what_the_user_says_of_themselves_may_attest_only_a_restatement(
        window: str, attests: bool) -> None:
    assert user_may_attest(window, frozenset({"maisie"})) is attests


def test_an_agreement_in_the_sentence_before_governs_the_window() -> None:
    window = "Your son Leo's allergy is gone."
    assert user_may_attest(window, frozenset({"leo"}), previous="Thanks for the update.")
    assert not user_may_attest(window, frozenset({"leo"}), previous="Oh, you're right.")


@pytest.mark.parametrize(("window", "done"), [
    ("I've added them both to the Saturday morning waiting list.", True),
    ("I just booked your table for Friday.", True),
    ("We've signed you up for Tuesday.", True),
    ("They're now enrolled in group lessons for the spring session.", True),
    ("Your refund has been processed.", True),
    ("We have added 20 new stores.", False),  # a company's voice in a summary
    ("I booked a table for us last week.", False),  # a speaker's story, not a transaction
    ("The merger has been approved by regulators.", False),  # others' news
    ('"We have approved your plan," the CEO said.', False),  # a quotation
    ("Your order was delivered on Monday.", False),
])
def test_a_transaction_reported_done_for_the_user_is_told_apart(window: str,
                                                                done: bool) -> None:
    assert reports_done(window) is done
