"""Claim windows: where a live stream is cut into the units that get scored.

:class:`WindowSegmenter` cuts a stream into :class:`Window` objects at the sentence boundaries of
:mod:`stream_guard.text.sentences` (the same scanner, fed delta by delta), then caps their length
and merges fragments too short to be judged on their own. Pure and incremental, like h11's
protocol objects: a decision never depends on how the text was cut into deltas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stream_guard.text.figures import has_digit
from stream_guard.text.sentences import (
    QUIET_BREAKS,
    TERMINALS,
    Segment,
    SentenceScanner,
    WindowKind,
    leading_blank,
)
from stream_guard.text.stance import (
    beyond_lowercase_words,
    heads_sources,
    is_service_talk,
    lowercase_words,
    may_answer,
    source_entry,
)
from stream_guard.text.terms import terms

# A sentence in it (sentence-final punctuation, before closing quotes, at its end or before a
# space: "No. Use:"), an answer word ("Yes, run:"), or a number in a text that does not end in
# a colon ("Price: $999", not "Step 1:", which introduces what follows).
_STATEMENT = re.compile(
    f"[{TERMINALS}][\"'’”)\\]]*(?:$|\\s)|\\b(?:yes|no|not|never|true|false)\\b|n['’]t\\b"
    "|^(?=.*\\d)(?!.*:\\s*$)", re.DOTALL | re.IGNORECASE)
# A verb of being in a text that does not end in a colon ("It's free", "The old API is
# deprecated": a review found them joined to the code after them, unchecked); a statement when
# it names something besides what introduces code ("Here's the code", "This is how", "It is
# as follows" stay introductions: a second review).
_BEING = re.compile(r"^(?!.*:\s*$)(?=.*\b(?<!\bhere )(?:is|are|was|were|been)\b"
                    r"|.*\b(?!(?:here|let|that)['’]s\b)[a-z]+['’](?:s|re)\b)",
                    re.DOTALL | re.IGNORECASE)
_INTRO_TERMS = frozenset(t.key for t in terms(
    "follows following below above example code snippet command commands output result "
    "results step steps script usage syntax way"))

# A markdown table's delimiter row ("|---|:---:|"): with a pipe, or it is a rule ("---").
_TABLE_RULE = re.compile(r"(?=[^|]*\|)\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?")
# Column names that name no attribute of what the table is about ("| Metric | Value |", "| Item |
# Details |"): a head of these alone states nothing. A head of attributes ("| Product | Lifetime
# warranty |" over "| TrailPro 45 | Included |") makes its rows' claims: it is scored, with the
# first row (a review's probe hid false heads and column swaps when any short head was talk).
_GENERIC_COLUMNS = frozenset("""metric metrics value values item items detail details feature
features description descriptions field fields info information key keys topic topics answer
answers name names type types option options setting settings default defaults note notes
category categories property properties attribute attributes parameter parameters result
results step steps action actions question questions response responses aspect aspects point
points summary source sources example examples term terms definition meaning explanation
comment comments what where when who how why figure figures number data fact facts
particulars specification specifications spec specs column entry entries label labels
plan plans product products model models service services ticket tickets version versions
price prices cost costs fee fees charge charges amount amounts total totals rate rates limit
limits duration time times date dates deadline period quantity size weight length height
width capacity range speed unit units level tier status availability age""".split())  # noqa: SIM905
# (Not "monthly", "annual", "daily", "per", "valid until" or "dose": "| Plan | Annual price |"
# over "| Pro | $20 |" states the price is annual, against evidence of $20 a month.)


def _column_names(line: str) -> bool:
    """Whether a table row could be a head that states nothing: every cell a generic column
    name ("Metric", "Value", "Details", "Notes"), and no figure or other word ("| Price | 免费
    |": free, a review)."""
    words = lowercase_words(line)
    return bool(words) and not beyond_lowercase_words(line) and words <= _GENERIC_COLUMNS


@dataclass(frozen=True, slots=True)
class Window:
    """One claim window of a stream.

    ``start``/``end`` are offsets into the stream's full text and ``text == full[start:end]``
    (already trimmed). ``previous`` is the text of the window before it ("" for the first): the
    scorer uses it to resolve pronouns without judging it again. ``kind == "code"`` marks fenced
    code, which carries no factual claim a grounding model can judge, and ``kind == "talk"`` a
    sentence of nothing but service talk ("I hope this helps!", :mod:`stream_guard.text.stance`);
    the server skips both.
    """

    index: int
    start: int
    end: int
    text: str
    previous: str
    kind: WindowKind = "text"



class WindowSegmenter:
    """Cuts one live stream into claim windows as its deltas arrive.

    Deltas may be cut anywhere (mid-word, mid-number, mid-abbreviation); the windows are the same
    as for the whole text fed at once. Each window is emitted exactly once, in order, as soon as
    its end is decided. Windows never overlap, are at most ``max_chars`` long and together cover
    every non-space character.

    Beyond the sentence boundaries of :func:`sentence_spans`:

    * a sentence longer than ``max_chars`` is cut where its last clause in the second half of
      the cap begins (after a comma, semicolon or colon, or before "and", "but", "which" ...),
      else before the figures and names its last words start ("five" before "years", "New"
      before "York"), else at its last space that fits (hard-cut inside a longer word), so a
      run-on sentence is still checked promptly, and its last clause as one claim;
    * a text window shorter than ``min_chars`` ("Yes.", "1."), or a short one that leans on
      what came before and states almost nothing on its own (a pronoun or answer word first,
      no figure, at most one content word: "It's best not to.", "Not necessarily."), is
      merged into the following window when the result fits in ``max_chars``: alone it has too
      little content to be judged; so is a sentence that announces what follows ("The article
      points to several limitations.") and a paragraph's short topic sentence ("Money was also
      a problem."), which sum up what the next sentences say; the last one is flushed alone by
      :meth:`finish` (``min_chars=0`` merges nothing);
    * fenced code becomes ``kind="code"`` windows of whole lines, packed up to ``max_chars``;
    * a markdown table's delimiter row ("|---|---|") is ``kind="talk"``, and so is a head of
      generic column names over one ("| Metric | Value |"): such names state nothing, and
      they halted faithful tables at their first character. A head of attributes ("| Product
      | Lifetime warranty |") states its rows' claims: it is one window with the delimiter row
      and the table's first row (the scorer reads the three as the fields they state). A
      first row that could be a head is held until the next line shows whether it heads a
      table; without a delimiter row under it, it is a row like any other.
    """

    def __init__(self, max_chars: int = 400, min_chars: int = 12) -> None:
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 8:
            raise ValueError(f"max_chars must be an integer >= 8, got {max_chars!r}")
        if isinstance(min_chars, bool) or not isinstance(min_chars, int) or not (
                0 <= min_chars <= max_chars):
            raise ValueError(
                f"min_chars must be an integer in [0, max_chars={max_chars}], got {min_chars!r}")
        self.max_chars = max_chars
        self.min_chars = min_chars
        self._scanner = SentenceScanner(max_chars)
        self._buf = ""  # the stream's text from offset _base on
        self._base = 0
        self._index = 0
        self._previous = ""
        # The window being held back: a short text not yet merged, or a code block being packed.
        self._held: Segment | None = None
        # A table's first row, held until the next line says whether it is the table's head.
        self._head: Segment | None = None
        # A head of attributes and its delimiter row, held until the table's first row: the
        # three are one window (_place_row).
        self._table: tuple[Segment, Segment] | None = None
        self._finished = False
        # After a heading of sources ("References:"): the list items naming sources are talk,
        # until a window that is neither.
        self._sources = False
        # Where the last segment ended, and the newlines after it that left the buffer: a blank
        # line before a segment opens a paragraph (_place_row, for _topic).
        self._last_end = 0
        self._newlines_dropped = 0

    @property
    def buffered_chars(self) -> int:
        """Characters held in memory: the undecided tail, at most about ``2 * max_chars``."""
        return len(self._buf)

    @property
    def finished(self) -> bool:
        return self._finished

    def feed(self, text: str) -> list[Window]:
        """Append the next delta; returns the windows it completed.

        Most deltas are words in mid-sentence, which decide nothing: those are only appended
        and scanned with the delta that can end something (one scan over many words is far
        cheaper than one per word, and this runs for every delta of every stream). Windows are
        still returned by the very delta that completes them (``tests/test_segmenter.py``).
        """
        if (not self._finished and QUIET_BREAKS.search(text) is None
                and self._scanner.quiet_until(self._base + len(self._buf) + len(text))):
            self._buf += text
            return []
        return self._run(text, final=False)

    def finish(self) -> list[Window]:
        """End of stream: returns the remaining windows. No feed may follow."""
        return self._run("", final=True)

    def _run(self, text: str, final: bool) -> list[Window]:
        if self._finished:
            raise RuntimeError("the stream has finished; no more text can be fed")
        self._finished = final
        self._buf += text
        out: list[Window] = []
        for segment in self._scanner.advance(self._buf, self._base, final):
            self._place_row(segment, out)
        frontier = self._scanner.keep_from
        if self._head is not None and (final or frontier - self._head.start > self.max_chars):
            # no line came under it, or none can come near it: a row like any other
            head, self._head = self._head, None
            self._place(head, out)
        if self._table is not None and (final or frontier - self._table[0].start > self.max_chars):
            self._rowless_table(out)  # no row came under it, or none can fit with it
        # Nothing still to come can fit with the held window within max_chars.
        if self._held is not None and (final or frontier - self._held.start >= self.max_chars):
            self._emit(self._held, out)
            self._held = None
        table = self._table[0] if self._table is not None else None
        keep = min([frontier] + [seg.start for seg in (self._held, self._head, table)
                                 if seg is not None])
        if keep > self._last_end:
            self._newlines_dropped += self._buf.count(
                "\n", max(self._last_end - self._base, 0), keep - self._base)
        self._buf = self._buf[keep - self._base:]
        self._base = keep
        return out

    def _place_row(self, seg: Segment, out: list[Window]) -> None:
        """Place a segment, deciding a held first row of a table by the line after it."""
        text = self._text(seg)
        newlines = self._newlines_dropped + self._buf.count(
            "\n", max(self._last_end - self._base, 0), max(seg.start - self._base, 0))
        opens_paragraph = self._last_end > 0 and newlines >= 2
        self._last_end, self._newlines_dropped = seg.end, 0
        rule = seg.kind == "text" and _TABLE_RULE.fullmatch(text) is not None
        if self._table is not None:
            table_head = self._table[0]
            if (seg.kind == "text" and text.startswith("|") and not rule
                    and seg.end - table_head.start <= self.max_chars):
                # A head of attributes with the table's first row, one window, checked as the
                # fields it states ("Basic Price: $19/month."): alone, a head states nothing
                # the evidence says in its words and halted faithful tables at their first
                # character (a review: "| Plan | Price | Seats |"); left out, a false head
                # ("| Product | Lifetime warranty |") would go unchecked.
                self._table = None
                self._emit(Segment(table_head.start, seg.end, "text", False), out)
                return
            self._rowless_table(out)
        head, self._head = self._head, None
        if head is not None:
            # A delimiter row heads a table only right under the row (within max_chars of its
            # start, as _run decides while it waits for the next line: the same however the
            # text is cut, and the row is not held for ever).
            if rule and seg.start - head.start <= self.max_chars:
                self._flush(out)
                if _column_names(self._text(head)):
                    self._append(self._window(head, "talk"), out)
                else:
                    self._table = head, seg
                    return
            else:
                self._place(head, out)
        if rule:
            # a delimiter row states nothing, under any row: never scored, never merged
            self._flush(out)
            self._append(self._window(seg, "talk"), out)
            return
        before = self._text(self._held) if self._held is not None else self._previous
        if (seg.kind == "text" and text.startswith("|")
                and not before.rpartition("\n")[2].lstrip().startswith("|")):
            # A table's first row, maybe: the next line decides. A short text before it is
            # emitted now, alone, whatever the row turns out to be: held on, it would be
            # emitted when the text moved on, which depends on how the text was cut.
            self._flush(out)
            self._head = seg
            return
        self._place(seg, out, opens_paragraph)

    def _rowless_table(self, out: list[Window]) -> None:
        """The held head of attributes and delimiter row, with no row under them to join:
        the head scored alone, as a row, and the delimiter row talk."""
        assert self._table is not None
        head, delimiter = self._table
        self._table = None
        self._place(head, out)
        self._flush(out)
        self._append(self._window(delimiter, "talk"), out)

    def _text(self, seg: Segment) -> str:
        return self._buf[seg.start - self._base: seg.end - self._base]

    def _window(self, seg: Segment, kind: WindowKind) -> Window:
        return Window(self._index, seg.start, seg.end, self._text(seg), self._previous, kind)

    def _flush(self, out: list[Window]) -> None:
        if self._held is not None:
            self._emit(self._held, out)
            self._held = None

    def _place(self, seg: Segment, out: list[Window], opens_paragraph: bool = False) -> None:
        held = self._held
        own = self._text(seg)  # this segment's own text, before any join
        if held is not None:
            fits = seg.end - held.start <= self.max_chars
            if held.kind == "code":
                if fits and seg.kind == "code" and not seg.opens_block:
                    self._held = Segment(held.start, seg.end, "code", held.opens_block)
                    return
            elif fits and not self._cut_part(held, seg) and (
                    seg.kind != "code" or not self._states_something(held)) and (
                    seg.kind != "text" or self._joins_text(held, seg)):
                # a short text takes the kind of the window it joins: an introduction
                # ("Example:") joins the code it introduces and is not scored
                seg = Segment(held.start, seg.end, seg.kind, seg.opens_block)
                self._held = None
            if self._held is not None:
                self._emit(held, out)
                self._held = None
        if seg.kind == "code" or seg.end - seg.start < self.min_chars or (
                seg.kind == "text" and self.min_chars and (
                    _says_little(self._text(seg)) or _announces(own)
                    # (its own text: a joined window holds what it announced, and is not held
                    # again for that announcement, which absorbed the sentences after it)
                    or (opens_paragraph and _topic(own)))):
            self._held = seg
        else:
            self._emit(seg, out)

    def _cut_part(self, held: Segment, seg: Segment) -> bool:
        """Whether a held short sentence ("entire length.", the tail of one the cap cut) would
        join a sentence's first part the cap cut (half the cap long at least, where its run-on
        cut falls, and ending in no sentence's end): it does not, since the halt that window
        took retracted the true tail (the load generator's planted claim halted early once the
        run-on cut made such first parts short enough to join). An announcement (":") still
        joins what it announces."""
        if seg.kind != "text" or seg.end - seg.start < self.max_chars // 2:
            return False
        return (self._text(held).rstrip().endswith((".", "!", "?"))
                and not self._text(seg).rstrip().endswith(_SENTENCE_ENDS))

    def _joins_text(self, held: Segment, seg: Segment) -> bool:
        """Whether a held short text joins the text after it: not across talk. No talk swallows
        what is not ("No, it isn't." before "Let me know if you have any other questions!" was
        never scored: a review), and talk does not dilute the claim after it ("Hi Maria," over
        a faithful policy sentence halted it: a review), unless it may answer the question
        that claim goes on with ("Sure! It opens at 9.")."""
        held_text = self._text(held)
        if is_service_talk(self._text(seg)):
            return is_service_talk(held_text)
        return not is_service_talk(held_text) or may_answer(held_text)

    def _states_something(self, seg: Segment) -> bool:
        """Whether a short text says something to check (a number, or a whole sentence): then
        it is scored on its own rather than joining the code after it ("It's $999." before a
        fence was dropped unchecked)."""
        text = self._text(seg)
        return _STATEMENT.search(text) is not None or (
            _BEING.search(text) is not None
            and any(t.key not in _INTRO_TERMS for t in terms(text)))

    def _emit(self, seg: Segment, out: list[Window]) -> None:
        text = self._text(seg)
        if seg.kind == "text":
            # An opener on a line of its own, ending in a colon ("A few highlights:\nShe won
            # ..."): the talk apart, so the claim after it is judged, and halts, on its own.
            # Only scaffolding is split off: "The capital is:\nCanberra." stays one claim.
            line, colon, rest = text.partition(":\n")
            if colon and rest.strip() and is_service_talk(line + ":"):
                self._append(Window(self._index, seg.start, seg.start + len(line) + 1,
                                    line + ":", self._previous, "talk"), out)
                self._sources = heads_sources(line + ":")
                # the opener, its newline, spaces (and invisible characters, read as space)
                skipped = len(text) - len(rest) + leading_blank(rest)
                seg = Segment(seg.start + skipped, seg.end, seg.kind, seg.opens_block)
                text = text[skipped:]
        kind = seg.kind
        if kind == "text":
            if is_service_talk(text):
                kind = "talk"
                self._sources = self._sources or heads_sources(text)
            elif self._sources and source_entry(text):
                kind = "talk"  # a source listed under "References:" (a review: they halted)
            else:
                self._sources = False
        self._append(Window(self._index, seg.start, seg.end, text, self._previous, kind), out)

    def _append(self, window: Window, out: list[Window]) -> None:
        out.append(window)
        self._index += 1
        self._previous = window.text


_SENTENCE_ENDS = (".", "!", "?", ":", ";", "\u2026", '"', "\u201d", ")", "'", "\u2019")
# A sentence that leans on what came before and states almost nothing on its own: short, no
# figure, a pronoun or an answer word first, at most one content word ("It's best not to.",
# "Not necessarily."). Scored alone it lacked the words its evidence uses and halted faithful
# answers. Two content words are often a whole claim ("It's fully waterproof.", "It stands in
# Paris."): judged on their own, as "Snow is white." is (a review).
_LITTLE_CHARS = 40
_LITTLE_TERMS = 1
# An answer may open with how the speaker feels about it: "Unfortunately not.", "I'm afraid not."
# (a review's probe halted a faithful answer on the first alone).
_LEANING = re.compile(r"((?:unfortunately|sadly|fortunately|luckily|happily|regrettably|"
                      r"thankfully|i['’]m afraid|i am afraid)[,\s]+)?"
                      r"(?:it|its|that|this|these|those|they|he|she|we|you|there|yes|no|not|"
                      r"yeah|nope|sure|so)\b", re.IGNORECASE)  # "it" takes "it's" and "it’s"


def _says_little(text: str) -> bool:
    text = text.lstrip(" \t\n-*>\"'(")
    leaning = _LEANING.match(text)
    # (the feeling before it is no content word: "Unfortunately, that is not possible." held
    # two, and was judged alone: a review)
    return (len(text) < _LITTLE_CHARS and leaning is not None and not has_digit(text)
            and len(terms(text[max(leaning.end(1), 0):])) <= _LITTLE_TERMS)


# A sentence that announces what the next ones give: how many things there are, not what they
# are ("The article points to several limitations.", "The reviewer is mostly impressed by the
# characters, with one notable exception."). The evidence has no sentence that says it, so
# alone it halted faithful long answers at their first character (five of the six false halts
# of a probe of long answers, docs/results/long-answer-probe.jsonl); joined to the next
# sentence it is judged with what it announces, and nothing goes unscored. Short, and no
# figure ("The report lists 3 risks." states its count in a figure the evidence must have).
_ANNOUNCING_CHARS = 160
# What may stand between the count and what it counts: "two main factors", "several key
# risks". A bare count ("six goals", "three decisions") is a figure of the report, not an
# announcement: a number word must be qualified so. What is counted must not follow in the
# same sentence ("various aspects of life, including ..."); a single exception or caveat ends
# it ("..., with one notable exception.").
_QUALITY = (r"(?:main|key|major|notable|important|significant|distinct|broad|specific|clear"
            r"|separate|practical|central|core|primary|potential|possible|further|other"
            r"|additional|general|big|concrete|different|related|competing)")
# What an announcement counts: kinds of points an answer goes on to list.
_ANNOUNCED = (r"(?:factors|reasons|limitations|changes|issues|concerns|steps|findings|risks"
              r"|challenges|benefits|advantages|drawbacks|themes|aspects|ways|options"
              r"|measures|recommendations|lessons|questions|problems|priorities|developments"
              r"|updates|decisions|causes|effects|components|elements|stages|phases"
              r"|categories|features|improvements|criticisms|caveats|takeaways|highlights"
              r"|outcomes|trends|arguments|objections|conditions|requirements|exceptions"
              r"|strengths|weaknesses|milestones|initiatives|proposals|actions|explanations"
              r"|things|parts)\b")
_ANNOUNCING = re.compile(
    r"\b(?:(?:several|a few|a number of|a couple of|a handful of|various|multiple)"
    r"(?:\s+" + _QUALITY + r"){0,2}|(?:two|three|four|five|six|seven)(?:\s+" + _QUALITY
    + r"){1,2})\s+" + _ANNOUNCED + r"(?![^.!?]*(?::|\bincluding\b|\bsuch as\b|\bnamely\b))"
    r"|\b(?:one|a)\s+(?:" + _QUALITY + r"\s+)?(?:exception|caveat|drawback|limitation"
    r"|reservation)\W*$",
    re.IGNORECASE)


# A paragraph's first sentence, short and with no figure or name ("Money was also a problem.",
# "Not everything went down well.", "Her preparation also changed."), is its topic: the
# sentences after it spell it out, and the evidence has none that says it. Alone it halted
# faithful long answers (a second probe of them, docs/results/long-answer-probe2.jsonl: both
# of its false halts); joined to the next sentence it is judged with what it sums up. Not the
# answer's first paragraph: a short answer's first sentence is its claim ("Snow is white."), and
# BEGIN's and SummEdits' answers are one paragraph. Not a list item or heading (their own
# lines), and at most a few content words: "The utility replaced 212 lead lines." is a claim.
_TOPIC_CHARS = 60
_TOPIC_TERMS = 4
_OPENING_MARKS = "\"'“‘([*_"


def _names_something(text: str) -> bool:
    """Whether a word after the first starts with a capital ("the deal went to Ørsted", any
    script; "I" is no name), or any word has one after its first letter ("the iPhone"): a
    claim about someone or something named."""
    words = [word.lstrip(_OPENING_MARKS) for word in text.split()]
    return any(any(c.isupper() for c in word[1:]) for word in words) or any(
        word[:1].isupper() and word != "I" and not word.startswith(("I'", "I’"))
        for word in words[1:])


# A sentence's end: a held sentence must be one, or it joined a code block after it and went
# unscored ("This function is deprecated" before a fence: a review).
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]*_]*\s*$")


# Words about the document and what it does, not about the world ("The article also covers
# criticism and wider impacts." says three things of its own): not counted.
_DOCUMENT_TERMS = frozenset(t.key for t in terms(
    "article report story review study paper document text transcript interview minutes "
    "covers discusses describes mentions notes outlines addresses turns"))


def _topic(text: str) -> bool:
    return (len(text) < _TOPIC_CHARS and text[:1].isalpha() and not has_digit(text)
            and _SENTENCE_END.search(text) is not None and not _names_something(text)
            and sum(t.key not in _DOCUMENT_TERMS for t in terms(text)) <= _TOPIC_TERMS)


def _announces(text: str) -> bool:
    return (len(text) <= _ANNOUNCING_CHARS and not has_digit(text)
            and _SENTENCE_END.search(text) is not None and _ANNOUNCING.search(text) is not None)
