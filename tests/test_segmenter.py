"""Sentence spans and live claim windows: rules, streaming invariance, bounds."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream_guard.oversight.segmenter import Window, WindowSegmenter
from stream_guard.text.sentences import _INVISIBLE, sentence_spans, without_citations


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def stream(pieces: list[str], max_chars: int = 400, min_chars: int = 12) -> list[Window]:
    segmenter = WindowSegmenter(max_chars, min_chars)
    windows: list[Window] = []
    for piece in pieces:
        windows += segmenter.feed(piece)
    return windows + segmenter.finish()


def texts(windows: list[Window]) -> list[str]:
    return [w.text for w in windows]


# --- sentence rules ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Mr. Smith went to Washington. He met Dr. Jones there.",
     ["Mr. Smith went to Washington.", "He met Dr. Jones there."]),
    ("J. K. Rowling wrote it. She lives in Edinburgh.",
     ["J. K. Rowling wrote it.", "She lives in Edinburgh."]),
    ("Use a tool, e.g. A hammer, i.e. Something heavy. Then hit.",
     ["Use a tool, e.g. A hammer, i.e. Something heavy.", "Then hit."]),
    ("Cats vs. Dogs is a film. It is long.", ["Cats vs. Dogs is a film.", "It is long."]),
    ("See Fig. 3 and No. 5 in Vol. 2 of the book. It is on Jan. 12 this year.",
     ["See Fig. 3 and No. 5 in Vol. 2 of the book.", "It is on Jan. 12 this year."]),
    ("Was it him? No. It was not.", ["Was it him?", "No.", "It was not."]),
])
def test_abbreviations_and_initials_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # Ambiguous abbreviations end a sentence only before a typical sentence opener.
    ("He moved to the U.S. The move was hard.", ["He moved to the U.S.", "The move was hard."]),
    ("He joined the U.S. Army in 1990.", ["He joined the U.S. Army in 1990."]),
    ("We met at 5 p.m. It rained.", ["We met at 5 p.m.", "It rained."]),
    ("Apples, pears, etc. and more. Fine.", ["Apples, pears, etc. and more.", "Fine."]),
    ("It was made by Acme Inc. Then it sold.", ["It was made by Acme Inc.", "Then it sold."]),
    # After "etc.", a time and a company's form, a capital that does not go on with them opens
    # a sentence (a review: the false second claim was one window with the true first).
    ("The store closes at 9 p.m. Returns need a receipt.",
     ["The store closes at 9 p.m.", "Returns need a receipt."]),
    ("We sell chairs, desks, etc. Shipping is free.",
     ["We sell chairs, desks, etc.", "Shipping is free."]),
    ("Orders are packed by Acme Inc. Refunds take 10 days.",
     ["Orders are packed by Acme Inc.", "Refunds take 10 days."]),
    ("It is sold by Acme Ltd. Delivery is free.", ["It is sold by Acme Ltd.", "Delivery is free."]),
    ("The lab ran from 6 a.m. \"Quiet\" hours followed.",
     ["The lab ran from 6 a.m.", "\"Quiet\" hours followed."]),
    # ... and not before what goes on with them.
    ("It opens at 9 a.m. Eastern time.", ["It opens at 9 a.m. Eastern time."]),
    ("It opens at 9 a.m. Monday to Friday.", ["It opens at 9 a.m. Monday to Friday."]),
    ("It airs at 8 p.m. ET on Fox.", ["It airs at 8 p.m. ET on Fox."]),
    ("It began at 8:45 p.m. Paris time (2:45 p.m. ET) on Wednesday.",
     ["It began at 8:45 p.m. Paris time (2:45 p.m. ET) on Wednesday."]),
    ("It opens at 9 a.m. Tokyo time.", ["It opens at 9 a.m. Tokyo time."]),
    ("Acme Inc. reported a loss.", ["Acme Inc. reported a loss."]),
    # a share class, and AP style's plural days, go on too (a second review)
    ("Alphabet Inc. Class A shares rose 3%.", ["Alphabet Inc. Class A shares rose 3%."]),
    ("Hours are 10 a.m. to 6 p.m. Saturdays and noon to 5 p.m. Sundays.",
     ["Hours are 10 a.m. to 6 p.m. Saturdays and noon to 5 p.m. Sundays."]),
    ("Acme Inc. CEO Jane Doe said so.", ["Acme Inc. CEO Jane Doe said so."]),
    ("Acme Inc. Chief Executive Jo Li said so.", ["Acme Inc. Chief Executive Jo Li said so."]),
    ("Acme Inc. (NASDAQ: ACME) rose.", ["Acme Inc. (NASDAQ: ACME) rose."]),
    ("Pens, etc. and more.", ["Pens, etc. and more."]),
    ("Regrets: A.M. Stroud wrote it.", ["Regrets: A.M. Stroud wrote it."]),  # initials
    # The others name too much after them: only a word that opens sentences ends them.
    ("He met Dr. Smith in St. Louis.", ["He met Dr. Smith in St. Louis."]),
    ("She works for the U.S. Geological Survey.", ["She works for the U.S. Geological Survey."]),
    ("It ships from the U.S. Only a few items ship abroad.",
     ["It ships from the U.S.", "Only a few items ship abroad."]),
    ("It stars Robert Downey Jr. Did you like it?",
     ["It stars Robert Downey Jr.", "Did you like it?"]),
    ("It is a Warner Bros. Pictures film.", ["It is a Warner Bros. Pictures film."]),
])
def test_ambiguous_abbreviations(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected
    whole = stream([text], min_chars=0)  # live windows: the same, however the text is cut
    assert texts(whole) == expected
    assert stream(list(text), min_chars=0) == whole


@pytest.mark.parametrize(("text", "expected"), [
    # A unit's symbol after a figure is no initial nor the title "Ms.": a capitalised word
    # after it opens a sentence (a probe: the false second claim was one window with the true
    # first, and its halt landed at the first).
    ("Tasks are killed after 300 s. Results are kept for 12 hours by default. Log level "
     "defaults to info.", ["Tasks are killed after 300 s.",
                           "Results are kept for 12 hours by default.",
                           "Log level defaults to info."]),
    ("The timeout is 500 ms. Retries are off.", ["The timeout is 500 ms.", "Retries are off."]),
    ("A run takes 2 h. Reports follow.", ["A run takes 2 h.", "Reports follow."]),
    ("Waves reach 1.25-3 m. Wind is light.", ["Waves reach 1.25-3 m.", "Wind is light."]),
    ("It keeps 5 d. \"Old\" logs go.", ["It keeps 5 d.", "\"Old\" logs go."]),
    ("A bag holds 1,500 g. Shipping is free.", ["A bag holds 1,500 g.", "Shipping is free."]),
    ("It differs by up to 0.9 s. Consequently, GMT is used.",
     ["It differs by up to 0.9 s.", "Consequently, GMT is used."]),
    # ... not before an initial, a bracket, a figure or a lower-case word
    ("Schalke 04 e. V. is a club.", ["Schalke 04 e. V. is a club."]),
    ("It is 5 m. (16 ft) tall.", ["It is 5 m. (16 ft) tall."]),
    ("It waits 300 s. 5 tries follow.", ["It waits 300 s. 5 tries follow."]),
    ("It is 5 m. long.", ["It is 5 m. long."]),
    # A capital after a figure is as often an initial: only a sentence opener ends it.
    ("The prize is 2 M. The winner is named.", ["The prize is 2 M.", "The winner is named."]),
    ("In 2004 M. Night Shyamalan made it.", ["In 2004 M. Night Shyamalan made it."]),
    ("From 1983 to 1995 C. Stephen Lynn led it.", ["From 1983 to 1995 C. Stephen Lynn led it."]),
    ("It is at 220 S. Main Street.", ["It is at 220 S. Main Street."]),
    ("In 1997 J. K. Rowling wrote it.", ["In 1997 J. K. Rowling wrote it."]),
    ("In 2001 J. A. Smith won.", ["In 2001 J. A. Smith won."]),
    # and the title, initials and "U. S." stay whole
    ("Ms. Smith met J. R. R. Tolkien in the U. S. Army.",
     ["Ms. Smith met J. R. R. Tolkien in the U. S. Army."]),
])
def test_a_unit_after_a_figure_ends_a_sentence(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected
    whole = stream([text], min_chars=0)  # live windows: the same, however the text is cut
    assert texts(whole) == expected
    assert stream(list(text), min_chars=0) == whole
    for cut in range(1, len(text)):
        assert stream([text[:cut], text[cut:]], min_chars=0) == whole


def test_numbers_urls_and_emails_are_not_boundaries() -> None:
    text = ("Pi is 3.14 and the build is v2.0.1 today. It cost $1.5 billion. "
            "See https://example.com/a.b?x=1 or mail a.b@c.org. Done now.")
    assert sentences(text) == [
        "Pi is 3.14 and the build is v2.0.1 today.", "It cost $1.5 billion.",
        "See https://example.com/a.b?x=1 or mail a.b@c.org.", "Done now."]


def test_ellipses_quotes_and_brackets() -> None:
    text = 'Wait... what happened? He said "Stop." Then he left (quietly.) Really?! Yes… Go.'
    assert sentences(text) == [
        "Wait... what happened?", 'He said "Stop."', "Then he left (quietly.)", "Really?!",
        "Yes…", "Go."]


def test_blank_lines_and_single_newlines() -> None:
    text = "A heading without stop\n\nThe body wraps\nover two lines. Next one.\nAnd more"
    assert sentences(text) == [
        "A heading without stop", "The body wraps\nover two lines.", "Next one.", "And more"]


def test_list_items_are_each_a_sentence_and_numbers_are_not_sentences() -> None:
    text = ("Steps:\n1. Open the door.\n2. Walk in. Then sit.\n- one bullet\n  continued here\n"
            "* star item\n3) paren item\n10. Tenth")
    assert sentences(text) == [
        "Steps:", "1. Open the door.", "2. Walk in.", "Then sit.",
        "- one bullet\n  continued here", "* star item", "3) paren item", "10. Tenth"]


def test_inline_numbered_steps_keep_their_number() -> None:
    assert sentences("Do this: 1. Open it. 2. Close it.") == [
        "Do this: 1. Open it.", "2. Close it."]
    assert sentences("Do these:\t 1. Open it.") == ["Do these:\t 1. Open it."]
    # A number that ends a sentence is not an enumeration.
    assert sentences("Middleton scored 12. Game three is Thursday.") == [
        "Middleton scored 12.", "Game three is Thursday."]
    assert sentences("Shots: Middleton scored 12. Game three is Thursday.") == [
        "Shots: Middleton scored 12.", "Game three is Thursday."]


HELP = """Options:
  -j, --jobs INTEGER         Number of parallel transfers.  [default: 4]
  --retries INTEGER          Retries per file on network errors.  [default: 3]
  --timeout SECONDS          Per-request timeout (default: 30).
  -v, --verbose              Increase verbosity."""


def test_a_help_texts_option_lines_are_sentences_with_their_notes() -> None:
    # A probe of developer answers: each "[default: N]" opened the next option's sentence and
    # took its line in ("[default: 3]\n  --timeout SECONDS  Per-request timeout."), so an
    # answer that gave the timeout the retries' default was supported.
    assert sentences(HELP) == [
        "Options:",
        "-j, --jobs INTEGER         Number of parallel transfers.  [default: 4]",
        "--retries INTEGER          Retries per file on network errors.  [default: 3]",
        "--timeout SECONDS          Per-request timeout (default: 30).",
        "-v, --verbose              Increase verbosity."]
    assert texts(stream(list(HELP), min_chars=0)) == sentences(HELP)
    assert sentences("Usage of syncer:\n  -jobs int\n    \tParallel transfers (default 4)") == [
        "Usage of syncer:", "-jobs int\n    \tParallel transfers (default 4)"]
    assert sentences("Mode.  [possible values: a, b] [env: M=] Next.") == [
        "Mode.  [possible values: a, b] [env: M=] Next."]
    # A bracket that opens no such note still opens a sentence, and a note on the next line is
    # read as before; a flag inside a line ends nothing.
    for text, expected in (
            ("It was built. (It is tall.) [Required reading.]",
             ["It was built.", "(It is tall.)", "[Required reading.]"]),
            ("It was built. (environment permitting) It is tall.",
             ["It was built.", "(environment permitting) It is tall."]),
            ("Done.\n[default: 4] is kept.", ["Done.", "[default: 4] is kept."]),
            ("Pass -j or\nwrap --jobs to it.", ["Pass -j or\nwrap --jobs to it."])):
        assert sentences(text) == expected, text


def test_headings_tables_and_rules_are_single_lines() -> None:
    text = "# Title\nIntro line\n| a | b |\n|---|---|\n| 1 | 2 |\n---\nAfter the table"
    assert sentences(text) == [
        "# Title", "Intro line", "| a | b |", "|---|---|", "| 1 | 2 |", "---", "After the table"]


def test_fenced_code_is_split_by_line_not_by_period() -> None:
    text = ("Run it. Like so:\n```python\nx = 1.5\nprint(x. Y)\n\n```\nBack. Done.\n"
            "~~~\nA. B\n~~~")
    assert sentences(text) == [
        "Run it.", "Like so:", "```python", "x = 1.5", "print(x. Y)", "```", "Back.", "Done.",
        "~~~", "A. B", "~~~"]


def test_longer_fence_is_closed_only_by_an_equal_or_longer_fence() -> None:
    text = "````js\n```\nIn. Side\n````\nOut. Side"
    assert sentences(text) == ["````js", "```", "In. Side", "````", "Out.", "Side"]


@pytest.mark.parametrize("opening", ["```markdown", "``` text", "~~~md", "```{.markdown}",
                                     "````Markdown"])
def test_a_fenced_block_of_prose_is_checked_as_text(opening: str) -> None:
    """A review: a model that wrapped its answer in ```markdown or ```text had it released
    unchecked in holdback mode (and never halted), as code. Its lines are sentences to check;
    the fences themselves are not; a block of another language stays code."""
    fence = opening[:len(opening) - len(opening.lstrip(opening[0]))]
    text = (f"Sure:\n{opening}\nThe Eiffel Tower is 450 metres tall. It is made of gold.\n"
            f"{fence}\nThat is all I know.")
    for pieces in ([text], list(text), [text[:9], text[9:23], text[23:]]):
        assert [(w.kind, w.text) for w in stream(pieces)] == [
            ("code", f"Sure:\n{opening}"),
            ("text", "The Eiffel Tower is 450 metres tall."), ("text", "It is made of gold."),
            ("code", fence), ("text", "That is all I know.")]
    assert [w.kind for w in stream(["Sure:\n```pythonic\nx = 1\n```\nDone now."])] == [
        "code", "text"]


@pytest.mark.parametrize(("text", "checked"), [
    # a fence of the other character is its text, and its own fence closes it
    ("~~~text\nThe tower is gold.\n```\nThe moon is cheese.\n~~~\nDone here.",
     ["The tower is gold.", "```\nThe moon is cheese.", "Done here."]),
    # the first closing fence ends it, and the blocks after pair up as a chat UI shows them
    ("```markdown\n# Title\n```python\nx = 1\n```\nThe claim is here.\n```\nls -la\n```\n"
     "The moon is made of cheese. It orbits Mars.",
     ["# Title\n```python\nx = 1", "The claim is here.", "The moon is made of cheese.",
      "It orbits Mars."]),
])
def test_nothing_nests_in_a_prose_block(text: str, checked: list[str]) -> None:
    """A review: a reading that let a code block nest in a prose block made the rest of the
    answer code, unchecked, when the fences did not pair up. The blocks are CommonMark's."""
    for pieces in ([text], list(text)):
        assert [w.text for w in stream(pieces) if w.kind == "text"] == checked


def test_inline_triple_backticks_do_not_open_a_block() -> None:
    assert sentences("```x``` is inline. Next.") == ["```x``` is inline.", "Next."]


def test_spans_are_trimmed_offsets() -> None:
    text = "  \n Hello there.   World here.  \n"
    assert sentence_spans(text) == [(4, 16), (19, 30)]
    assert sentence_spans("") == [] and sentence_spans(" \n\t ") == []


# --- windows ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # a short sentence that leans on the question or on what follows joins the next one
    ("Not necessarily. Older editions work.", ["Not necessarily. Older editions work."]),
    ("It\u2019s best not to. Aerosol sprays damage the coating.",
     ["It\u2019s best not to. Aerosol sprays damage the coating."]),
    ("- That's unfortunate.\n- The shop closed in May.",
     ["- That's unfortunate.\n- The shop closed in May."]),
    # ... also after how the speaker feels about the answer (a probe's faithful answer halted)
    ("Unfortunately not. Dogs over 9 years cannot be enrolled.",
     ["Unfortunately not. Dogs over 9 years cannot be enrolled."]),
    ("I'm afraid not. The shop closed in May.", ["I'm afraid not. The shop closed in May."]),
    # one that states something of its own is judged on its own
    ("Snow is white. Grass is green.", ["Snow is white.", "Grass is green."]),
    ("Paris is in Spain. It has a tower.", ["Paris is in Spain.", "It has a tower."]),
    # two content words are often a whole claim (a review)
    ("They moved fast. Within 18 days, Parliament passed a law.",
     ["They moved fast.", "Within 18 days, Parliament passed a law."]),
    ("It's fully waterproof. It has a tower.", ["It's fully waterproof.", "It has a tower."]),
    ("It costs $5. Returns are free.", ["It costs $5.", "Returns are free."]),
    ("Unfortunately, drones are banned. It has a tower.",
     ["Unfortunately, drones are banned.", "It has a tower."]),
    ("They rebuilt Westminster Abbey. It took years.",
     ["They rebuilt Westminster Abbey.", "It took years."]),
    # no talk swallows a claim: "No, it isn't." was merged into the closer and never scored
    ("No, it isn't. Let me know if you have any other questions!",
     ["No, it isn't.", "Let me know if you have any other questions!"]),
    ("Yes. Is there anything else I can help you with?",
     ["Yes.", "Is there anything else I can help you with?"]),
])
def test_a_short_sentence_that_says_little_joins_the_next(text: str,
                                                         expected: list[str]) -> None:
    assert texts(stream([text])) == expected
    assert texts(stream(list(text))) == expected  # however the text is cut
    # min_chars=0 merges nothing
    assert len(stream([text], min_chars=0)) == len(sentence_spans(text))


@pytest.mark.parametrize(("text", "expected"), [
    # a sentence that announces what the next gives joins it (a long-answer probe's faithful
    # answers halted on it at their first character)
    ("The article points to several limitations. First, the study was observational.",
     ["The article points to several limitations. First, the study was observational."]),
    ("It names two main factors, one natural and one commercial. The river silted up.",
     ["It names two main factors, one natural and one commercial. The river silted up."]),
    ("The reviewer likes the characters, with one notable exception. Anton is flat.",
     ["The reviewer likes the characters, with one notable exception. Anton is flat."]),
    # the last sentence is judged alone, as any held one
    ("Snow is white. The report raises a few key concerns.",
     ["Snow is white.", "The report raises a few key concerns."]),
    # not an announcement: a bare count is a figure, the things listed in the sentence, a
    # figure in digits, one exception that does not end it
    ("Bent scored seven goals. He left.", ["Bent scored seven goals.", "He left."]),
    ("It made three decisions. They stand.", ["It made three decisions.", "They stand."]),
    ("It covers various aspects of life, including faith. It is long.",
     ["It covers various aspects of life, including faith.", "It is long."]),
    ("The report lists 3 main risks. Rates rose.", ["The report lists 3 main risks.",
                                                    "Rates rose."]),
    ("One exception is the bridge. It was closed.", ["One exception is the bridge.",
                                                     "It was closed."]),
])
def test_a_sentence_that_announces_what_follows_joins_the_next(text: str,
                                                               expected: list[str]) -> None:
    assert texts(stream([text])) == expected
    assert texts(stream(list(text))) == expected  # however the text is cut


OPENED = "The line opened in 1845.\n\n"


@pytest.mark.parametrize(("text", "expected"), [
    # a paragraph's short first sentence is its topic: judged with the sentence that spells it
    # out (a long-answer probe's faithful answers halted on "Money was also a problem.")
    (OPENED + "Money was also a problem. The company overspent by £40,000.",
     ["The line opened in 1845.", "Money was also a problem. The company overspent by £40,000."]),
    (OPENED + "Not everything went down well.\nPrices rose by 20%.",  # one newline: same paragraph
     ["The line opened in 1845.", "Not everything went down well.\nPrices rose by 20%."]),
    (OPENED + "  \n  Her preparation also changed. She ran more.",
     ["The line opened in 1845.", "Her preparation also changed. She ran more."]),
    # words about the document itself are not counted: it says three things of its own
    (OPENED + "The article also covers criticism and wider impacts. Farmers objected.",
     ["The line opened in 1845.",
      "The article also covers criticism and wider impacts. Farmers objected."]),
    # the answer's first sentence is its claim; a paragraph's last sentence is judged alone
    ("Money was also a problem. The company overspent.",
     ["Money was also a problem.", "The company overspent."]),
    (OPENED + "Money was also a problem.", ["The line opened in 1845.",
                                           "Money was also a problem."]),
    # a claim with a figure or a name, a long one, a list item: on its own
    (OPENED + "It cost £40,000 more. Nobody paid.",
     ["The line opened in 1845.", "It cost £40,000 more.", "Nobody paid."]),
    (OPENED + "The engineer was Joseph Locke. He resigned.",
     ["The line opened in 1845.", "The engineer was Joseph Locke.", "He resigned."]),
    (OPENED + "Costs rose sharply after the tunnel collapsed in the wet winter. It closed.",
     ["The line opened in 1845.", "Costs rose sharply after the tunnel collapsed in the wet "
      "winter.", "It closed."]),
    (OPENED + "- Money was a problem.\n- Time was short.",
     ["The line opened in 1845.", "- Money was a problem.", "- Time was short."]),
    # a name anywhere but first, in any script, or inside a word (a review)
    (OPENED + "The deal went to Ørsted. It was signed.",
     ["The line opened in 1845.", "The deal went to Ørsted.", "It was signed."]),
    (OPENED + "The iPhone was recalled. It overheated.",
     ["The line opened in 1845.", "The iPhone was recalled.", "It overheated."]),
])

def test_a_paragraphs_short_topic_sentence_joins_the_next(text: str,
                                                         expected: list[str]) -> None:
    assert texts(stream([text])) == expected
    assert texts(stream(list(text))) == expected  # however the text is cut

def test_a_held_topic_or_announcement_is_a_sentence_and_joins_no_code() -> None:
    """A review: a topic line with no full stop was held, then joined the code block after it,
    and code is not scored."""
    text = OPENED + "This function is deprecated\n```python\nclient.send(x)\n```\n"
    windows = stream([text])
    assert [(w.kind, w.text) for w in windows][1] == ("text", "This function is deprecated")
    assert [(w.kind, w.text) for w in stream(list(text))] == [(w.kind, w.text) for w in windows]


def test_a_joined_announcement_does_not_hold_the_sentences_after_it() -> None:
    """A review: the joined window was held again for the announcement in it, and a false lead
    absorbed every sentence after it up to 160 characters."""
    text = ("Doctors raised several major concerns. It cost a lot of money. Most liked it. "
            "The most common side effect was a mild headache.")
    assert texts(stream([text])) == [
        "Doctors raised several major concerns. It cost a lot of money.", "Most liked it.",
        "The most common side effect was a mild headache."]


def test_windows_carry_offsets_previous_and_index() -> None:
    text = "The sky is blue today. Grass is green in May. Snow is white."
    windows = stream([text])
    assert texts(windows) == ["The sky is blue today.", "Grass is green in May.", "Snow is white."]
    assert [w.index for w in windows] == [0, 1, 2]
    assert [w.previous for w in windows] == ["", "The sky is blue today.", "Grass is green in May."]
    assert all(text[w.start:w.end] == w.text and w.kind == "text" for w in windows)


def test_a_window_is_emitted_once_its_boundary_is_decided() -> None:
    segmenter = WindowSegmenter()
    assert segmenter.feed("Mr") == []
    assert segmenter.feed(". Smith arrived at 3") == []
    assert segmenter.feed(".") == []
    assert segmenter.feed("14 pm sharp.") == []
    assert segmenter.feed(" ") == []  # the next sentence might still start in lower case
    (window,) = segmenter.feed("He left.")
    assert window.text == "Mr. Smith arrived at 3.14 pm sharp."
    assert texts(segmenter.finish()) == ["He left."]


def test_short_text_merges_into_the_next_window() -> None:
    windows = stream(["Yes. No. The answer is forty two."])
    assert texts(windows) == ["Yes. No. The answer is forty two."]
    # A short last window is flushed alone at the end.
    assert texts(stream(["The answer is forty two. Yes."])) == [
        "The answer is forty two.", "Yes."]


def test_short_text_is_not_merged_past_max_chars() -> None:
    long = "Many " + "word " * 6 + "end."  # 39 characters
    windows = stream(["Yes. " + long], max_chars=40)
    assert texts(windows) == ["Yes.", long]


VOICE = ("so here's everything you need to know your order ships within two business days and "
         "if you need it sooner express delivery costs fifteen dollars and arrives the next "
         "business day and if you want to send it back returns are accepted within thirty days "
         "as long as the item is unused and still in its original packaging and just so you "
         "know gift cards cannot be returned and the warranty lasts for five years")


@pytest.mark.parametrize("size", [1, 2, 4, 7, 16, len(VOICE)])
@pytest.mark.parametrize("gap", [" ", "   ", " " * 16])
def test_a_run_on_sentence_is_cut_where_its_last_clause_begins(size: int, gap: str) -> None:
    """A voice answer without full stops was cut at its last space that fit, between "five"
    and "years", and its false last clause passed (a review); the cut is where the last clause
    of the window's second half begins. However the text is cut into deltas, and whether the
    cap is reached inside a word or in the space before it."""
    text = VOICE.replace(" five years", gap + "five years")
    pieces = [text[i:i + size] for i in range(0, len(text), size)]
    assert texts(stream(pieces)) == [text[:text.index(" and the warranty")],
                                     text[text.index("and the warranty"):]]


@pytest.mark.parametrize(("tail", "whole"), [
    # no clause in the second half: a figure stays with its unit, a name whole
    ("it costs us 15 dollars a month", "15 dollars"),
    ("the fee is fifteen dollars a month", "fifteen dollars"),
    ("it takes from 5 to 10 business days", "5 to 10 business"),
    ("the office is in New York City today", "New York City"),
    # a figure before a comma or a conjunction begins no clause: one figure, one unit
    ("the plans cost 5, 10 or 15 dollars", "5, 10 or 15 dollars"),
    ("the warranty lasts two and a half years", "two and a half years"),
    # a clause begins after a comma: the last one whole
    ("the parcel ships today, the receipt comes by mail", "the receipt comes by mail"),
])
def test_a_run_on_sentence_keeps_a_figure_with_its_unit(tail: str, whole: str) -> None:
    """A run-on sentence was cut at its last space that fit, "15" from "dollars", "New" from
    "York", and the part after the cut was judged alone (a review)."""
    for pad in range(len(tail) + 2):  # the cap at each character of the tail
        text = "our service " + "very " * 70 + "x" * pad + " " + tail
        windows = stream([text])
        assert any(whole in w.text for w in windows), (pad, texts(windows))
        assert stream(list(text)) == windows


def test_a_sentence_that_fits_is_not_cut_at_a_clause() -> None:
    """A window cut short of the cap only when the next word goes on with its sentence: a
    sentence that fits, followed by the next, or by a space run past the cap, stays whole."""
    sentence = "It ships today, and " + "very " * 74 + "fast."
    for gap in [" ", " " * 10, " " * 30, "\n"]:
        text = sentence + gap + "The receipt comes by mail."
        assert texts(stream([text])) == [sentence, "The receipt comes by mail."], gap
        assert stream(list(text)) == stream([text])
    # nothing after it at all
    assert texts(stream([sentence + " " * 20])) == [sentence]


def test_run_on_sentence_is_cut_at_the_last_space_that_fits() -> None:
    text = "aaaa " * 30  # 150 characters, no sentence end, clause, figure or name
    windows = stream([text], max_chars=42, min_chars=0)
    assert all(len(w.text) <= 42 for w in windows)
    assert texts(windows) == ["aaaa " * 7 + "aaaa"] * 3 + ["aaaa " * 5 + "aaaa"]


def test_a_word_longer_than_max_chars_is_hard_cut() -> None:
    text = "x" * 100 + " tail end."
    windows = stream([text], max_chars=40, min_chars=0)
    assert texts(windows) == ["x" * 40, "x" * 40, "x" * 20 + " tail end."]


def test_run_on_sentence_is_checked_before_it_ends() -> None:
    segmenter = WindowSegmenter(max_chars=40, min_chars=0)
    windows = segmenter.feed("one two three four five six seven eight nine ten eleven")
    assert texts(windows) == ["one two three four five six seven eight"]


def test_code_windows_are_kind_code_split_at_newlines() -> None:
    code_lines = [f"value_{i} = compute({i}) + 1.5" for i in range(6)]  # 26 chars each
    text = "Here it comes in full.\n```python\n" + "\n".join(code_lines) + "\n```\nAll done here."
    windows = stream([text], max_chars=64)
    assert [w.kind for w in windows] == ["text", "code", "code", "code", "text"]
    code = [w for w in windows if w.kind == "code"]
    assert all(len(w.text) <= 64 for w in code)
    assert "\n".join(w.text for w in code) == "```python\n" + "\n".join(code_lines) + "\n```"
    assert all(not w.text.startswith(("\n", " ")) for w in code)


def test_short_intro_joins_the_code_block() -> None:
    windows = stream(["Example:\n```\nx = 1\n```\nThat is all for now."])
    assert [(w.kind, w.text) for w in windows] == [
        ("code", "Example:\n```\nx = 1\n```"), ("text", "That is all for now.")]


def test_a_short_statement_before_code_is_scored_on_its_own() -> None:
    """A short text joined the code block after it and took its kind, so "It's $999." before
    a fence was never checked (a review found it); an introduction still joins its code."""
    text = ("The K-200 costs $249. It's $999.\n```\npip install k200\n```\n"
            "That is the install command.")
    assert [(w.kind, w.text) for w in stream([text])] == [
        ("text", "The K-200 costs $249."), ("text", "It's $999."),
        ("code", "```\npip install k200\n```"), ("text", "That is the install command.")]
    assert [w.kind for w in stream(["Price: $999\n```\nx = 1\n```"])] == ["text", "code"]
    assert [w.kind for w in stream(["Run this\n```\nx = 1\n```"])] == ["code"]
    # a numbered introduction still introduces: "Step 1:" scored alone halted faithful answers
    for intro in ("Step 1:", "Python 3:", "Option 2:"):
        assert [w.kind for w in stream([f"{intro}\n```\npip install foo\n```"])] == ["code"]
    # ... and an answer before its code is an answer
    for answer in ("No. Use:", "Yes, run:"):
        assert [w.kind for w in stream([f"{answer}\n```\nx = 1\n```"])] == ["text", "code"]
    # ... and so is a claim with a verb of being and no end punctuation (a review: "It's
    # free" went out with the code after it, unchecked), but not "Here's how"
    for claim in ("It's free", "The old API is deprecated", "They're closed", "There is a fee"):
        assert [w.kind for w in stream([f"{claim}\n```\nx = 1\n```"])] == ["text", "code"]
    for intro in ("Here's how", "Let's see", "Run it so", "This is how", "It is as follows",
                  "This is it", "It's this one"):
        assert [w.kind for w in stream([f"{intro}\n```\nx = 1\n```"])] == ["code"]


def test_an_openers_line_is_split_off_and_a_predicate_is_not() -> None:
    """An answer's opener on a line of its own is talk, apart from the claim under it, so
    that claim halts at its own first character; a sentence that only wraps after its colon
    ("The capital of Australia is:\nCanberra.") stays one claim (cutting at every line-end
    colon judged "Canberra." without its subject)."""
    text = "A few highlights:\nShe won the Nobel Prize in 1903."
    for pieces in ([text], list(text)):
        assert [(w.kind, w.text) for w in stream(pieces)] == [
            ("talk", "A few highlights:"), ("text", "She won the Nobel Prize in 1903.")]
    assert [(w.kind, w.text) for w in stream(["The capital of Australia is:\nCanberra."])] == [
        ("text", "The capital of Australia is:\nCanberra.")]


def test_chinese_japanese_and_arabic_sentences_end_at_their_marks() -> None:
    """。！？ (with no space after them), ؟, ۔ and । end sentences: a whole Chinese answer
    was one window, cut only at max_chars, and its fabrication went unseen."""
    text = "埃菲尔铁塔于1889年在巴黎建成。它是用铁建造的！它高450米吗？高450米。"
    assert texts(stream([text], min_chars=0)) == [
        "埃菲尔铁塔于1889年在巴黎建成。", "它是用铁建造的！", "它高450米吗？", "高450米。"]
    assert texts(stream(list(text), min_chars=0)) == texts(stream([text], min_chars=0))
    assert texts(stream(["هل هو طويل؟ نعم هو طويل۔ ठीक है। Done."], min_chars=0)) == [
        "هل هو طويل؟", "نعم هو طويل۔", "ठीक है।", "Done."]


def test_separate_code_blocks_are_not_packed_together() -> None:
    windows = stream(["```\na = 1\n```\n```\nb = 2\n```"])
    assert texts(windows) == ["```\na = 1\n```", "```\nb = 2\n```"]


def test_unclosed_code_block_runs_to_the_end() -> None:
    windows = stream(["Intro sentence here.\n```\nx. Y = 1"])
    assert [(w.kind, w.text) for w in windows] == [
        ("text", "Intro sentence here."), ("code", "```\nx. Y = 1")]


@pytest.mark.parametrize(("text", "expected"), [
    ("It was completed in 1889 in Paris.[1] It is made of iron.[2] It is tall.[3]",
     ["It was completed in 1889 in Paris.[1]", "It is made of iron.[2]", "It is tall.[3]"]),
    ("It was built in 1889.[1][2] It is made of gold.[3,4] It is fine.[2-4] Ok then.",
     ["It was built in 1889.[1][2]", "It is made of gold.[3,4]", "It is fine.[2-4]",
      "Ok then."]),
    ("It was built in 1889.¹ It is made of gold.²³ Done now.",
     ["It was built in 1889.¹", "It is made of gold.²³", "Done now."]),
    ("It was built in 1889.[^1] It is made of gold.[^note] Done now.",
     ["It was built in 1889.[^1]", "It is made of gold.[^note]", "Done now."]),
    ("It was built in 1889.【1】 It is made of gold.【3†source】 Done now.",
     ["It was built in 1889.【1】", "It is made of gold.【3†source】", "Done now."]),
    # still no end after an abbreviation that never ends one
    ("He met Mr.[1] Smith there.", ["He met Mr.[1] Smith there."]),
    # a marker written with spaces spans words: still one marker
    ("It was built in 1889.[1, 2] It is made of gold.[1 , 3] It is fine.[2 - 4] Ok then.",
     ["It was built in 1889.[1, 2]", "It is made of gold.[1 , 3]", "It is fine.[2 - 4]",
      "Ok then."]),
    ("It was built in 1889.[1, 2, 3][4] It is made of gold.", [
        "It was built in 1889.[1, 2, 3][4]", "It is made of gold."]),
    ("See items [1, 2] and [3] for it. Values [1, 2] are small.",
     ["See items [1, 2] and [3] for it.", "Values [1, 2] are small."]),
])
def test_a_citation_marker_after_a_full_stop_still_ends_the_sentence(
        text: str, expected: list[str]) -> None:
    """A review: "[1]" or "¹" after each sentence of a RAG answer hid its full stop, and a
    whole paragraph became one window (a faithful one halted at its first character)."""
    assert sentences(text) == expected
    assert stream(list(text)) == stream([text])


@pytest.mark.parametrize(("text", "expected"), [
    ("It was built in 1889. 🗼 It is made of gold.",
     ["It was built in 1889. 🗼", "It is made of gold."]),
    ("It was built in 1889. 👍🏽 🎉\nIt is made of gold.",
     ["It was built in 1889. 👍🏽 🎉", "It is made of gold."]),
    ("Have fun! 🎉", ["Have fun! 🎉"]),  # a trailing emoji is no window of its own
    ("It was built in 1889.🎉 It is made of gold.",
     ["It was built in 1889.🎉", "It is made of gold."]),
    # read through on the fast path too: as whole, so one character at a time (a review)
    ("Done! Steps: 🎉 1. Open the app.", ["Done!", "Steps: 🎉 1. Open the app."]),
    ("I love 🗼 towers. Yes.", ["I love 🗼 towers.", "Yes."]),
    ("It was built in 1889． It is made of gold.",
     ["It was built in 1889．", "It is made of gold."]),
    ("価格は３．５ドルです。", ["価格は３．５ドルです。"]),  # a full-width decimal point
])
def test_an_emoji_after_a_sentence_and_a_full_width_stop_end_it(
        text: str, expected: list[str]) -> None:
    """A review: an emoji after a full stop, or a full-width full stop, joined the next (false)
    sentence to the true one, and the halt retracted both."""
    assert sentences(text) == expected
    assert stream(list(text)) == stream([text])


def test_the_sources_under_a_heading_of_sources_are_talk() -> None:
    """A review: "References:\n1. Returns policy" halted a faithful answer; the entries under a
    heading of sources name sources (titles, links), until a window that is neither."""
    text = ("Refunds take 14 days.\n\nReferences:\n1. Returns policy\n2. https://ex.com/a\n\n"
            "Also, shipping is free.")
    for pieces in ([text], list(text)):
        assert [(w.kind, w.text) for w in stream(pieces)] == [
            ("text", "Refunds take 14 days."), ("talk", "References:"),
            ("talk", "1. Returns policy"), ("talk", "2. https://ex.com/a"),
            ("text", "Also, shipping is free.")]
    claim = "Refunds take 14 days.\n\nSources:\n1. Refunds take 30 days.\n2. Returns policy"
    assert [w.kind for w in stream([claim])] == ["text", "talk", "text", "text"]
    verb = "Refunds take 14 days.\n\nSources:\n- Shipping is free\n- Returns policy"
    assert [w.kind for w in stream([verb])] == ["text", "talk", "text", "text"]


def test_a_fence_indented_four_spaces_is_no_fence_outside_a_list() -> None:
    """A review: an indented ``` opened a code block that never closed, so the false sentences
    after it were never checked (CommonMark renders them as a paragraph)."""
    text = "It is tall.\n\n    ```\n\nIt is made of gold. It was built in 1925."
    assert [(w.kind, w.text) for w in stream([text])] == [("text", text)]
    assert stream(list(text)) == stream([text])
    # ... while a list item's fence, indented under it, still opens code
    listed = "1. Install it:\n\n    ```\n    pip install x\n    ```\n\nThat is all there is to it."
    assert [(w.kind, w.text) for w in stream([listed])] == [
        ("text", "1. Install it:"), ("code", "```\n    pip install x\n    ```"),
        ("text", "That is all there is to it.")]
    assert [w.kind for w in stream(["Run it:\n   ```\nx = 1\n   ```\nDone with it now."])] == [
        "code", "text"]


@pytest.mark.parametrize("odd", ["\u200b", "\u00a0", "\ufeff", "\u200e", " \u2003"])
def test_a_fence_after_an_invisible_or_unusual_space_is_no_fence(odd: str) -> None:
    """A review: a zero-width, no-break or other non-ASCII space before ``` opened a code block
    that never closed, and the false sentence after it went unchecked. CommonMark indents a
    fence with spaces and tabs only; with anything else the line is a paragraph's text."""
    text = f"It was completed in 1889.\n\n{odd}```python\nprint(1)\n\nIt is made of gold."
    for pieces in ([text], list(text)):
        windows = stream(pieces)
        assert [w.kind for w in windows] == ["text"] * len(windows)
        assert windows[-1].text == "It is made of gold."
    closing = f"Run it:\n```\nx = 1\n{odd}```\ny = 2\n```\nIt is made of gold."
    assert [(w.kind, w.text) for w in stream([closing])][-1] == ("text", "It is made of gold.")


def test_a_block_in_a_list_item_ends_with_the_item() -> None:
    """A review: a block opened in a list item and never closed made the rest of an answer
    unchecked code; CommonMark (and a chat UI) ends it with the item: at a line indented less
    than the item's content. An 8-space fence in an item is an indented code block's text."""
    gold = "It is made of gold and 450 metres tall."
    cases = [f"- It is in Paris.\n\n    ```python\nprint(1)\n\n{gold}\n",
             f"1. It was completed in 1889.\n   ```bash\n   pip install x\n2. {gold}\n",
             f"- It was completed in 1889.\n\n        ```python\n\n{gold}\n"]
    for text in cases:
        for pieces in ([text], list(text)):
            windows = stream(pieces)
            assert windows[-1].kind == "text" and windows[-1].text.endswith(gold), text
    # a fence in an outer item after a nested one belongs to the outer item (a diff review)
    nested = f"- a thing\n  - b thing\n  ```\n  x = 1\n- {gold}\n\nIt was completed in 1925."
    assert [(w.kind, w.text) for w in stream([nested])][-2:] == [
        ("text", f"- {gold}"), ("text", "It was completed in 1925.")]
    # a closing fence indented less than the item still closes its block (not a new block
    # that would take in the rest of the answer)
    sloppy = f"- Install:\n  ```\n  pip install x\n```\n{gold}"
    for pieces in ([sloppy], list(sloppy)):
        assert [(w.kind, w.text) for w in stream(pieces)][-1] == ("text", gold)
    # a block whose lines keep the item's indentation is code to its closing fence
    steps = "1. Run:\n   ```python\n   import x\n\n   x.run()\n   ```\n2. Then it is done."
    assert [(w.kind, w.text) for w in stream([steps])] == [
        ("text", "1. Run:"), ("code", "```python\n   import x\n\n   x.run()\n   ```"),
        ("text", "2. Then it is done.")]


def test_a_fence_indented_four_spaces_inside_a_block_does_not_close_it() -> None:
    """A review: the indented fence of a markdown example inside a code block closed the
    block, and the block's real closing fence then opened one that took in the rest of the
    answer, unchecked."""
    text = ("Write it so:\n\n```markdown\n1. Install:\n    ```bash\n    pip install x\n    ```\n"
            "```\n\nThe package was released in 1999 by Google.")
    for pieces in ([text], list(text)):
        windows = stream(pieces)
        assert (windows[-1].kind, windows[-1].text) == (
            "text", "The package was released in 1999 by Google.")


def test_a_backtick_fence_with_a_backtick_later_on_its_line_is_inline_code() -> None:
    """A review: "``` `x` ```" opened a code block (only the first word was read), and the rest
    of the answer went unchecked."""
    text = "It is tall.\n``` `x` ``` marks inline code.\n\nIt is made of gold."
    for pieces in ([text], list(text)):
        assert [(w.kind, w.text) for w in stream(pieces)] == [
            ("text", "It is tall.\n``` `x` ``` marks inline code."),
            ("text", "It is made of gold.")]
    long_info = "Intro line.\n```" + "p" * 20 + "`x\nIt is made of gold."
    assert [(w.kind, w.text) for w in stream([long_info])] == [("text", long_info)]
    assert [w.kind for w in stream(["Intro line.\n```python\nx = `y`\n```"])][-1] == "code"


@pytest.mark.parametrize("pause", ["\n\n", "\n \n", "\n\n\n  "])
def test_a_paragraph_break_completes_the_sentence_before_the_next_word(pause: str) -> None:
    """A review: a false sentence followed by a paragraph break waited for the next word, so a
    stream that paused there (a voice answer, a tool call) kept it unchecked for the pause."""
    segmenter = WindowSegmenter()
    assert texts(segmenter.feed("The tower is in Paris. It is 900 metres tall.")) == [
        "The tower is in Paris."]
    assert texts(segmenter.feed(pause)) == ["It is 900 metres tall."]


def test_a_heading_is_complete_at_its_newline() -> None:
    segmenter = WindowSegmenter(min_chars=0)
    assert texts(segmenter.feed("## The tower has 900 floors\n")) == [
        "## The tower has 900 floors"]


def test_finish_ends_the_stream() -> None:
    segmenter = WindowSegmenter()
    assert texts(segmenter.feed("No stop at the end")) == []
    assert texts(segmenter.finish()) == ["No stop at the end"]
    assert segmenter.finished
    with pytest.raises(RuntimeError):
        segmenter.feed("more")
    with pytest.raises(RuntimeError):
        segmenter.finish()


def test_empty_and_blank_streams() -> None:
    assert stream([]) == [] and stream(["", "  \n\n ", "\t"]) == []


@pytest.mark.parametrize(("max_chars", "min_chars"), [
    (7, 0), (0, 0), (400, -1), (40, 41), (400.0, 12), (True, 1), (400, None)])
def test_invalid_limits_are_rejected(max_chars: object, min_chars: object) -> None:
    with pytest.raises(ValueError, match="_chars"):
        WindowSegmenter(max_chars, min_chars)  # type: ignore[arg-type]


@pytest.mark.parametrize("mark", ["\u200b", "\u200d", "\u202e", "\u2060", "\ufeff", "\u00ad",
                                  "\u2066", "\u061c", "\U000e0041", "\x00", "\x1b", "\x7f"])
def test_an_invisible_format_character_leaves_a_sentence_boundary(mark: str) -> None:
    """A fuzzing review: a zero-width or direction mark before a fabricated sentence joined it
    to the true sentence before it, and the joined window passed (no halt). Such a mark before
    a sentence's first letter, or after its last stop, is read as not there."""
    true, false = "The Eiffel Tower was completed in 1889.", "It is made of gold."
    for text in (f"{true} {mark}{false}", f"{true}{mark} {false}", f"{true} {mark} {false}"):
        windows = texts(stream([text]))
        assert len(windows) == 2 and windows[1].endswith(false)
        assert texts(stream(list(text))) == windows
    assert sentences(f"Mr. {mark}Smith came.") == [f"Mr. {mark}Smith came."]  # still a title
    opener = f"A few highlights:\n{mark}She won the Nobel Prize in 1903."
    assert texts(stream([opener])) == ["A few highlights:", "She won the Nobel Prize in 1903."]


# --- properties -------------------------------------------------------------------------------

_TOKENS = [
    "Mr.", "Dr.", "e.g.", "U.S.", "etc.", "p.m.", "No.", "Fig.", "J.", "K.", "3.", "14", "3.14",
    "s.", "ms.",
    "v2.0.1", "$1.5", "https://example.com/a.b?x=1", "a.b@c.org", "The", "It", "he", "said",
    "Paris", "word", "x" * 45, ".", "!", "?", "...", "…", "?!", '"', "'", ")", "(", " ", " ", " ",
    "  ", "\n", "\n", "\n\n", "\n \n", "\t", "\r\n", "```", "```py", "````", "~~~", "- ", "* ",
    "1. ", "12. ", "2) ", "Steps:", "# ", "## ", "| ", "---", "Yes.", "ok", "élan", "Ünïcode",
    "中文。", "它是铁。", "高吗？", "好！", "。」", "مرحبا؟", "جيد۔", "ठीक।",
    # Near the limits: words about _HEAD long, space runs about max_chars long.
    "-" * 14 + "x", "`" * 15, "#" * 7, "Furthermore", "I", "a", " " * 6, " " * 17, " " * 37,
    # Fences CommonMark does not open: indented four spaces; with a backtick in the info.
    "    ```", "``` `x` ```", "```" + "p" * 14 + "`",
    # Format characters (zero-width space, joiner, byte-order and direction marks).
    "\u200b", "\u200bThe", ".\u200b", "\ufeff", "\u202e", "\u2060It", "\u2066", ":\n\u200b",
    "\x00It", ".\x00", "\x7f",
    # A help text's options and their notes, and words a bracket opens that are none.
    "[default:", "(default", "[possible", "(defaultsx", "[env", "(environment", "--jobs", "-j,",
]

_token = st.sampled_from(_TOKENS)
# Lines of tokens, so that line-start rules (lists, headings, fences) are exercised often.
_gap = st.builds(lambda n, c: c * n, st.integers(1, 45), st.sampled_from([" ", "\n", "\t"]))
_line = st.lists(st.one_of(_token, _token, _token, _gap, st.text(max_size=4)), min_size=1,
                 max_size=10).map("".join)
_text = st.lists(st.tuples(_line, st.sampled_from(["\n", "\n", "\n\n", " ", "\r\n", "\n   "])),
                 max_size=14).map(lambda lines: "".join(a + b for a, b in lines))
_limits = st.sampled_from([(8, 0), (8, 3), (20, 0), (20, 12), (40, 12), (64, 1), (400, 12)])


@st.composite
def _cut(draw: st.DrawFn, text: str) -> list[str]:
    points = sorted(draw(st.lists(st.integers(0, len(text)), max_size=40)))
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize(("text", "max_chars", "min_chars"), [
    # A held short window next to a space run just under max_chars: flushed only when nothing
    # can join it any more.
    ("Yes.\n\n" + " " * 11 + "No. Ok, that is all there is. ", 20, 12),
    # A line-start word exactly around the classification length.
    ("Hello there\n" + "-" * 14 + "x more", 40, 0),
    ("Hello there\n" + "`" * 15 + "\ncode\n" + "`" * 15 + "\nText.", 40, 0),
    # An indented fence, a fence in a list, a fence that is inline code after all.
    ("Tall.\n\n    ```\n\nGold here.\n- item\n    ```\ncode\n    ```\nText.", 40, 0),
    ("It is.\n``` `x` ``` code.\n```" + "p" * 16 + "`q\nMore text.", 20, 3),
    # Space runs crossing the cap; a word crossing it; a cut inside a long word.
    ("One two." + " " * 30 + "Three four five.", 20, 0),
    ("Alpha beta gamma delta epsilon zeta", 20, 0),
    ("x" * 50 + ". Next one.", 20, 12),
    # A run-on cut where its last clause begins, the cap reached in a word or in the space
    # before one, a figure kept with its unit.
    ("one two three, and four five six", 20, 0),
    ("one two three, and four five" + " " * 9 + "six", 20, 0),
    ("one two three four costs 15 dollars", 20, 3),
    ("Done. one two, and three four five.\nsix", 20, 12),
])
def test_tricky_texts_stream_like_whole(text: str, max_chars: int, min_chars: int) -> None:
    whole = stream([text], max_chars, min_chars)
    _check_windows(text, whole, max_chars)
    assert stream(list(text), max_chars, min_chars) == whole
    for cut in range(len(text) + 1):
        assert stream([text[:cut], text[cut:]], max_chars, min_chars) == whole


def _blank(text: str) -> bool:
    """Space, or invisible format characters, which the scanner reads as space."""
    return re.fullmatch(f"[\\s{_INVISIBLE}]*", text) is not None


def _check_windows(text: str, windows: list[Window], max_chars: int) -> None:
    previous = ""
    covered = 0
    for index, w in enumerate(windows):
        assert w.index == index and w.previous == previous
        assert w.text == text[w.start:w.end] and w.text
        assert not _blank(w.text[0]) and not _blank(w.text[-1])
        assert w.end - w.start <= max_chars
        assert w.start >= covered  # in order, no overlap
        assert _blank(text[covered:w.start])  # nothing skipped
        covered, previous = w.end, w.text
    assert _blank(text[covered:])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), text=_text, limits=_limits)
def test_any_cutting_into_deltas_gives_the_same_windows(
        data: st.DataObject, text: str, limits: tuple[int, int]) -> None:
    max_chars, min_chars = limits
    whole = stream([text], max_chars, min_chars)
    _check_windows(text, whole, max_chars)
    pieces = data.draw(_cut(text))
    assert stream(pieces, max_chars, min_chars) == whole
    assert stream(list(text), max_chars, min_chars) == whole


@settings(max_examples=150, deadline=None)
@given(text=_text)
def test_windows_agree_with_sentence_spans_without_cap_or_merge(text: str) -> None:
    windows = stream([text], max_chars=10**9, min_chars=0)
    spans = sentence_spans(text)
    code = [(w.start, w.end) for w in windows if w.kind == "code"]
    text_windows = [(w.start, w.end) for w in windows if w.kind != "code"]  # talk is text
    assert text_windows == [s for s in spans if not any(a <= s[0] < b for a, b in code)]
    for a, b in code:  # code windows are whole code lines
        lines = [s for s in spans if a <= s[0] < b]
        assert lines and lines[0][0] == a and lines[-1][1] == b


@settings(max_examples=100, deadline=None)
@given(data=st.data(), text=_text, limits=_limits)
def test_memory_stays_bounded_by_max_chars(
        data: st.DataObject, text: str, limits: tuple[int, int]) -> None:
    max_chars, min_chars = limits
    segmenter = WindowSegmenter(max_chars, min_chars)
    for piece in data.draw(_cut(text)):
        segmenter.feed(piece)
        assert segmenter.buffered_chars <= 2 * max(max_chars, 16)


def test_a_megabyte_in_five_character_deltas_is_linear() -> None:
    # Prose with abbreviations, a run-on stretch, whitespace runs and code: every path.
    unit = ("Dr. Smith paid $1.5 billion in the U.S. The deal closed at 3 p.m. on Jan. 5. "
            "- a list item\n1. numbered\n```\ncode = 1.5\n```\n" + "runon " * 120 + "\n\n\n"
            + " " * 900 + "x" * 700 + ". ")
    text = unit * (1_000_000 // len(unit) + 1)
    segmenter = WindowSegmenter()
    windows: list[Window] = []
    peak = 0
    for i in range(0, len(text), 5):
        windows += segmenter.feed(text[i:i + 5])
        peak = max(peak, segmenter.buffered_chars)
    windows += segmenter.finish()
    assert peak <= 800  # the tail, never the stream: each feed does O(delta + max_chars) work
    _check_windows(text, windows, 400)
    assert windows == stream([text])


def test_words_after_a_closing_fence_on_its_line_are_cut_the_same_in_any_deltas() -> None:
    """Found by hypothesis: the fast path over plain words kept " 14" in the code segment of
    the closing fence when the whole text arrived at once, but not when it arrived in pieces."""
    text = "```\n``` 14\n"
    whole = WindowSegmenter(8, 0)
    expected = whole.feed(text) + whole.finish()
    cut = WindowSegmenter(8, 0)
    assert cut.feed(text[:8]) + cut.feed(text[8:]) + cut.finish() == expected


def _stream_per_delta(pieces: list[str], max_chars: int, min_chars: int) -> list[list[Window]]:
    segmenter = WindowSegmenter(max_chars, min_chars)
    return [*(segmenter.feed(piece) for piece in pieces), segmenter.finish()]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), text=_text, limits=_limits)
def test_held_deltas_change_no_window_nor_the_delta_that_completes_it(
        data: st.DataObject, text: str, limits: tuple[int, int]) -> None:
    """Deltas that decide nothing are only appended (``feed``): every window still comes back
    from the same delta as when each delta is scanned at once."""
    from unittest import mock

    from stream_guard.text.sentences import SentenceScanner

    max_chars, min_chars = limits
    pieces = data.draw(_cut(text)) + list(" Some words here. Then a few more words, one by one. ")
    held = _stream_per_delta(pieces, max_chars, min_chars)
    with mock.patch.object(SentenceScanner, "quiet_until", return_value=False):
        scanned = _stream_per_delta(pieces, max_chars, min_chars)
    assert held == scanned


def test_words_in_mid_sentence_are_held_unscanned() -> None:
    segmenter = WindowSegmenter(400, 12)
    assert segmenter.feed("The tower is") == []
    scanned = segmenter._scanner._pos
    for word in [" very", " tall", " and", " old"]:
        assert segmenter.feed(word) == []
    assert segmenter._scanner._pos == scanned  # held, not scanned
    assert [w.text for w in segmenter.feed(". It")] == ["The tower is very tall and old."]
    assert segmenter.feed(" stands") == []


@pytest.mark.parametrize(("before", "first", "rest", "now"), [
    # a plain word's full stop: the next word's first letter decides (a review: the window
    # waited for the whole next word, one token late for a voice frontend)
    ("The tower is 450 metres tall.", " I", "t is old.", True),
    ("The tower is 450 metres tall!", " \u201cW", "ow.\u201d", True),
    ("It opened in 1889.", " 5", "0 years later it was painted.", True),
    ("The tower is 450 metres tall.", " i", "t is old.", False),  # lower case: no sentence
    ("See fig.", " 3", " for the tower.", False),  # a number after "fig." continues it
    ("He is Dr.", " S", "mith.", False),  # a title never ends one
    # an ambiguous abbreviation: only the whole word says ("Inc. The" ends, "Inc. Army" not)
    ("They work at Apple Inc.", " T", "he firm is large.", False),
    ("He moved to the U.S.", " I", "n 1990 he left.", False),
    ("The store closes at 9 p.m.", " R", "eturns need a receipt.", False),
    # a unit after a figure: the next word's second character says it is no initial
    ("Tasks are killed after 300 s.", " R", "esults are kept.", False),
    ("Tasks are killed after 300 s.", " Re", "sults are kept.", True),
])
def test_a_sentence_ends_at_the_first_character_of_the_next_where_that_decides(
        before: str, first: str, rest: str, now: bool) -> None:
    segmenter = WindowSegmenter(400, 12)
    assert segmenter.feed(before) == []
    at_first = segmenter.feed(first)
    assert [w.text for w in at_first] == ([before] if now else [])
    later = segmenter.feed(rest) + segmenter.finish()
    whole = WindowSegmenter(400, 12)
    assert at_first + later == whole.feed(before + first + rest) + whole.finish()  # as one


@pytest.mark.parametrize(("text", "expected"), [
    ("| Metric | Value |\n|---|---|\n| Revenue | $4.8 billion |\n",
     [("| Metric | Value |", "talk"), ("|---|---|", "talk"),
      ("| Revenue | $4.8 billion |", "text")]),
    ("Yes.\n| Item | Details |\n| :-- | --: |\n| x | y |",
     [("Yes.", "text"), ("| Item | Details |", "talk"), ("| :-- | --: |", "talk"),
      ("| x | y |", "text")]),
    ("| Plan | Price | Limit |\n|---|---|---|\n| Plus | $9.99 | 5 |",
     [("| Plan | Price | Limit |", "talk"), ("|---|---|---|", "talk"),
      ("| Plus | $9.99 | 5 |", "text")]),
    # a head that states something is checked with the table's first row, one window
    ("| Plan | Annual price |\n|---|---|\n| Pro | $20 |\n| Max | $30 |",
     [("| Plan | Annual price |\n|---|---|\n| Pro | $20 |", "text"), ("| Max | $30 |", "text")]),
    # a head of generic names beside a word of another script states it (免费: free)
    ("| Price | 免费 |\n|---|---|\n| x | y |",
     [("| Price | 免费 |\n|---|---|\n| x | y |", "text")]),
    # a head whose table has no row: the head alone, as a row
    ("| Plan | Seats |\n|---|---|\n\nNone yet.",
     [("| Plan | Seats |", "text"), ("|---|---|", "talk"), ("None yet.", "text")]),
    # a cell's question mark ends no sentence inside its row (a review)
    ("| Plan | Unlimited seats? |\n|---|---|\n| Pro | Yes |",
     [("| Plan | Unlimited seats? |\n|---|---|\n| Pro | Yes |", "text")]),
    # a first row with no delimiter row under it heads no table: it is a row like any other
    ("| Key | Value |\n", [("| Key | Value |", "text")]),
    ("| Key | Value |\nIt is great.", [("| Key | Value |", "text"), ("It is great.", "text")]),
    # a head of attributes makes its rows' claims, a head of figures states them: scored; a
    # delimiter row never is; a rule without pipes is no delimiter row
    ("| Product | Lifetime warranty |\n|---|---|\n| TrailPro 45 | Included |",
     [("| Product | Lifetime warranty |\n|---|---|\n| TrailPro 45 | Included |", "text")]),
    ("| Metric | Q3 2024 | FY2023 |\n|---|---|---|\n| Revenue | $4.8bn | $4.3bn |",
     [("| Metric | Q3 2024 | FY2023 |\n|---|---|---|\n| Revenue | $4.8bn | $4.3bn |", "text")]),
    ("| The XR-7 is waterproof to 100 m |\n---\nNext one.",
     [("| The XR-7 is waterproof to 100 m |", "text"), ("---\nNext one.", "text")]),
    # rows under the head are claims, a second table has a head of its own
    ("| Item | Details |\n|---|---|\n| x is 1 | y |\n\nNext:\n"
     "| Key | Value |\n|---|---|\n| z | w |",
     [("| Item | Details |", "talk"), ("|---|---|", "talk"), ("| x is 1 | y |", "text"),
      ("Next:", "text"), ("| Key | Value |", "talk"), ("|---|---|", "talk"),
      ("| z | w |", "text")]),
])
def test_a_tables_head_is_talk_and_its_rows_are_claims(
        text: str, expected: list[tuple[str, str]]) -> None:
    """Generic column names state nothing (they halted faithful tables at their first
    character), and a head that states something is checked with the first row under it (a
    review: "| Plan | Price | Seats |" alone halted a faithful table); the first row is held
    until the line under it shows it heads a table, the same however the text is cut."""
    for size in (1, 3, 7, len(text)):
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
        assert [(w.text, w.kind) for w in stream(pieces)] == expected


@pytest.mark.parametrize("text", ["Parise.g. |       Mr.\nMr.\n",
                                  "Yes.\n| Item | Details |\n|---|---|\n| x | y |\n"])
def test_a_held_first_row_keeps_the_windows_independent_of_the_cutting(text: str) -> None:
    """Hypothesis found it: a short text held before a table's first row was emitted when the
    text moved on past it, which depended on how the text was cut."""
    whole = stream([text], 8, 3)
    assert stream(list(text), 8, 3) == whole
    assert stream([text[:20], text[20:]], 8, 3) == whole


def test_a_held_first_row_as_long_as_a_window_keeps_the_cutting_invariant() -> None:
    """A review's case at the default sizes: a short text, a row of 391 characters, the text
    cut inside what follows."""
    text = "Yes.\n| " + "Plan " * 77 + "|\n\n\n\nIt has 3 rows. It is new."
    whole = stream([text])
    for cut in (403, 300, 410):
        assert stream([text[:cut], text[cut:]]) == whole


@pytest.mark.parametrize(("text", "expected"), [
    # a greeting is talk on its own, not joined to the claim after it (a review)
    ("Hi Maria,\n\nReturns are accepted within 30 days.",
     [("Hi Maria,", "talk"), ("Returns are accepted within 30 days.", "text")]),
    ("Hello. I am a big fan of Cadillac!",
     [("Hello.", "talk"), ("I am a big fan of Cadillac!", "text")]),
    # ... unless it may answer what the claim goes on with
    ("Sure! It opens at 9 am daily.", [("Sure! It opens at 9 am daily.", "text")]),
    # a feeling before a short answer is no content word: it joins the next (a review)
    ("Unfortunately, that is not possible. Gift cards cannot be returned.",
     [("Unfortunately, that is not possible. Gift cards cannot be returned.", "text")]),
])
def test_talk_does_not_join_a_claim(text: str, expected: list[tuple[str, str]]) -> None:
    for size in (1, 3, len(text)):
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
        assert [(w.text, w.kind) for w in stream(pieces)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("It opened in 1889.[1] It is tall.[2, 3]", "It opened in 1889. It is tall."),
    # styles a review's RAG answers used, each read as a new figure or word before
    ("Non-residents pay $25 per year (Source 2).", "Non-residents pay $25 per year ."),
    ("Members borrow 20 items [Source: 2].", "Members borrow 20 items ."),
    ("Members borrow 20 items [1; 2].", "Members borrow 20 items ."),
    ("It costs $25 per year.† Next.", "It costs $25 per year. Next."),
    ("It costs $25 per year.^1 Next.", "It costs $25 per year. Next."),
    # not words of the claim, nor a unit's exponent
    ("It holds 5 m² of source code (source code).", "It holds 5 m² of source code (source code)."),
    ("It costs $5 (2 units).", "It costs $5 (2 units)."),
    # a booking, a form, a model (a second review)
    ("Your booking (Ref: Q4M8Z1) is confirmed.", "Your booking (Ref: Q4M8Z1) is confirmed."),
    ("Use form (Doc 1120) to file.", "Use form (Doc 1120) to file."),
    ("The Galaxy [S25] costs $799.", "The Galaxy [S25] costs $799."),
])
def test_citation_markers_are_not_checked(text: str, expected: str) -> None:
    assert without_citations(text) == expected


# Pieces of what answers write that the window rules read specially: tables, citations that
# span words, talk before claims, sign-offs, run-ons past the window's length.
_PIECES = ["and ", "but ", "so ", ", ", ". ", "; ", ": ", "\n", "\n\n", "  ", "It ", "the ",
           "warranty ", "lasts ", "five ", "years", "Unfortunately, ", "no. ", "| a | b |\n",
           "|---|---|\n", "[1, 2] ", "Hi Maria,\n\n", "Best regards,\nThe Team", "x" * 30 + " ",
           "1889.", "\t", "| Plan | Seats? |\n", "9 p.m. ", "Acme Inc. ", "etc. ", "U.S. ",
           "Returns ", "Eastern ", "CEO ", "(NASDAQ) ", "$15 ", "New York ", "fifteen dollars ",
           "which ", "two and a half ", "5, 10 ", " " * 17, "x" * 12 + " ", "300 s. ",
           "500 ms. ", "2 M. ", "J. ", "e. V. ", "(16 ft) ", "Paris ", "time "]


@pytest.mark.parametrize("seed", range(4))
def test_texts_of_the_special_pieces_stream_like_whole(seed: int) -> None:
    """A fuzzer found windows that depended on how the text was cut (a clause cut of run-on
    sentences, reverted): texts made of the pieces the rules read specially, fed whole, one
    character at a time and cut once, give the same windows."""
    rng = random.Random(seed)
    for _ in range(150):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randrange(5, 60)))
        max_chars = rng.choice([20, 40, 60, 100])
        min_chars = rng.choice([0, 3, 12])
        whole = stream([text], max_chars, min_chars)
        cut = rng.randrange(1, len(text) + 1)
        assert stream(list(text), max_chars, min_chars) == whole, text
        assert stream([text[:cut], text[cut:]], max_chars, min_chars) == whole, text


def test_a_cut_sentences_tail_joins_no_first_part_of_the_next() -> None:
    """A sentence the cap cut leaves its tail short ("entire length."); a short sentence held
    to join the next joined the first part of a run-on cut after it, and the halt that window
    took retracted the true tail (the load generator's planted claim halted early)."""
    text = ("No bridge crosses the main stem of the river along its entire length. According to "
            "Velmora Paskerell of Quillon Reach, 33,643 tonnes of copper were recorded there.")
    windows = texts(stream([text], 60, 20))
    assert windows == texts(stream(list(text), 60, 20))
    assert "entire length." in windows
    assert any(w.startswith("According to") for w in windows)
