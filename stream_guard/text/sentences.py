"""Sentence boundaries, in a text complete or still streaming: the one splitter of the package.

Contract used across the package: ``sentence_spans(text)`` returns ``(start, end)`` character
offsets of each sentence, whitespace trimmed, in order. The segmenter
(:mod:`stream_guard.oversight.segmenter`) cuts live streams into claim windows with the same
boundaries; evidence chunking and the premise builder split documents with it.

Design (sans-I/O, like h11's protocol objects):

* One scanner serves both. It reads the text token by token (runs of non-space and runs of space)
  and decides the boundary after a word only once the next word's first :data:`_HEAD` characters
  (or the whole word) have arrived. Every rule looks at a bounded neighbourhood and all state is
  carried forward, so a decision never depends on how the text was cut into deltas, and
  ``sentence_spans(text)`` is exactly what the stream would produce with no length cap.
* Nothing is re-read: each feed scans only the new characters, and only the undecided tail (at
  most about ``2 * max_chars`` characters) is kept, so a 5M-character stream costs O(delta) per
  feed and O(max_chars) memory.
* Rules are deliberately conservative about splitting: a missed split only makes a window longer
  (still capped), while a wrong split produces a fragment ("He met Mr.") that is scored out of
  context and can halt a truthful stream.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

# "talk": a text window of nothing but an assistant's service talk (text.stance), set by the
# segmenter; like code it states no claim.
WindowKind = Literal["text", "code", "talk"]

# Characters of a word seen before it is classified, and kept from its end for the abbreviation
# check. Every marker, abbreviation and sentence-starter rule needs fewer, so a longer word can
# be judged from its first/last _HEAD characters without holding it whole.
_HEAD = 16

# Invisible format characters (Unicode's Cf outside the Arabic and Syriac number signs: soft
# hyphen, the Arabic letter mark, zero-width space and joiners, direction marks, embeddings and
# isolates, word joiner, byte-order mark, interlinear annotation marks, tags) are read as space:
# one before a fabricated sentence, or alone between two spaces, joined it to the true sentence
# before it (a fuzzing review). So are the control characters that are no space (a NUL before
# a sentence joined it to the one before: a second fuzzing review).
_INVISIBLE = ("\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
              "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
              "\ufeff\ufff9-\ufffb\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_SPACE = re.compile(f"[\\s{_INVISIBLE}]*")
_ODD_INDENT = re.compile(r"[^ \t\r\n]")  # in a space run: what indents no fence
# Chinese and Japanese end sentences with full-width marks and no space after them: a word
# (a run of non-space) ends right after one, so the sentence rule sees it as it sees ". ".
_CJK_TERMINALS = "。！？"
_WORD = re.compile(f"[^\\s{_INVISIBLE}{_CJK_TERMINALS}]*[{_CJK_TERMINALS}]?")
_LETTER = re.compile(r"[^\W\d_]")
_LIST_MARKER = re.compile(r"[-*+•]|\d{1,9}[.)]")
_HEADING = re.compile(r"#{1,6}")
_RULE = re.compile(r"[-*_=]{3,}")
_DOTTED = re.compile(r"(?:[A-Za-z]{1,3}\.)+[A-Za-z]{1,3}")  # U.S, e.g, a.m, Ph.D

# Sentence-final marks: Latin, the full-width ones of Chinese and Japanese (a full-width full
# stop ends a sentence before a space only: it is also a full-width decimal point), the Arabic
# question mark and Urdu full stop, the Devanagari danda.
TERMINALS = ".!?…．" + _CJK_TERMINALS + "؟۔।"
# Text without these can close no segment by itself (:meth:`SentenceScanner.quiet_until`).
QUIET_BREAKS = re.compile(f"[\\n{TERMINALS}]")
_TERMINAL_TUPLE = tuple(TERMINALS)
# Space without a newline, then a word with no terminal punctuation, complete (space follows).
_PLAIN_RUN = re.compile(f"(?:(?:[^\\S\\n]|[{_INVISIBLE}])+[^\\s{_INVISIBLE}{TERMINALS}]+"
                        f"(?=[\\s{_INVISIBLE}]))*")
_CLOSERS = "\"')]}»”’*_"
# Superscript digits, as citation markers write them ("¹²"): a regex class, and the set of them.
SUPERSCRIPT_CLASS = "\u00b9\u00b2\u00b3\u2070\u2074-\u2079"
_SUPERSCRIPTS = frozenset("\u00b9\u00b2\u00b3\u2070\u2074\u2075\u2076\u2077\u2078\u2079")
# Citation markers a sentence's end may carry after its full stop: "[1]", "[1][2]", "[1,2]",
# "[2-4]", a footnote "[^1]", superscript digits ("¹²"). A RAG answer puts one after every
# sentence; read as part of the word they hid the full stop, and a whole paragraph became one
# window (a review: a faithful answer halted at its first character; a false sentence diluted
# by the true ones around it passed).
_CITATIONS = re.compile(r"(?:\[\^?[\w-]{1,8}\]|\[\d{1,3}(?:\s?[,;–-]\s?\d{1,3})+\]"
                        f"|【[^】\\s]{{1,14}}】|[{SUPERSCRIPT_CLASS}†‡]+)+$")
_CITATION_ENDS = ("]", "】", "†", "‡", *_SUPERSCRIPTS)
# A numbered marker written with spaces ("[1, 2]", "[1 , 2]") spans words: a word ending in one
# still open, and a word that goes on with it. The scanner reads the two as one word, so the
# full stop before the marker still ends the sentence (a review: "... in 1889.[1, 2] It is
# ..." was one window).
_CITATION_OPEN_ENDS = tuple("0123456789,;–-")
_CITATION_OPEN = re.compile(r"\[\d{1,3}(?:\s?[,;–-]\s?\d{1,3})*\s?[,;–-]?$")
_CITATION_REST = re.compile(r"[,;–-]?\d{0,3}(?:[,;–-]\d{1,3})*[,;–-]?(?:\]\S*)?")


def _opens_citation(tail: str) -> bool:
    """Whether a word ends in a numbered citation marker still open ("[1,")."""
    return tail.endswith(_CITATION_OPEN_ENDS) and _CITATION_OPEN.search(tail) is not None


def _goes_on_citation(tail: str, word: str) -> bool:
    """Whether ``word`` goes on with the marker the word ending in ``tail`` opened ("2]")."""
    return _opens_citation(tail) and _CITATION_REST.fullmatch(word) is not None


# A note a command's help text puts after an option's description, on its line: "[default: 4]"
# (click, clap), "(default: 4)" (argparse), "(default 4)" (Go), "[env var: X]", "[required]",
# "[possible values: a, b]"; lower case, as the tools write them. It
# belongs to the sentence before it: read as the next sentence's opening, each default was
# joined to the next option's line, and an answer giving the next option that default passed
# (a probe of developer answers: "--retries ... [default: 3]" then "--timeout ... [default:
# 30]" said the timeout was 3 seconds).
_OPTION_NOTE = re.compile(r"[\[(](?:default|defaults|env|required|possible)(?:[\s:=;\])]|$)")
# A line opening with a command-line option ("-j, --jobs INTEGER", "--timeout SECONDS",
# "-jobs int") starts a new sentence: a help text's options are one a line, most without a full
# stop at the end of their description, and a note (above) never has one.
_OPTION_LINE = re.compile(r"--?[A-Za-z]")
# Characters of a word that starts with a bracket read before it is known to be no note: the
# longest note word ("(defaults", "[possible") and the character after it.
_OPTION_NOTE_HEAD = 10
_OPENERS = "\"'([{«“‘¿¡"
# A sentence may start with these besides capitals and digits: quotes, brackets, markdown.
_STARTS = _OPENERS + "-*•#>|`$€£¥_"

# Never end a sentence: they announce the word that follows (a capitalised one is a name:
# text.terms).
NEVER_ENDS_SENTENCE = frozenset({
    "mr", "mrs", "ms", "mx", "dr", "prof", "messrs", "mme", "mlle", "rev", "hon", "gen", "lt",
    "col", "maj", "capt", "cpt", "sgt", "cpl", "adm", "gov", "sen", "rep", "pres", "supt", "fr",
    "e.g", "i.e", "cf", "viz", "vs", "approx", "ca", "resp", "incl", "esp", "dept", "univ",
})
# Do not end a sentence when a number follows ("No. 5", "Fig. 3", "Jan. 12").
_ABBREV_NUMERIC = frozenset({
    "no", "nos", "nr", "fig", "figs", "eq", "eqs", "vol", "vols", "pp", "ch", "chap", "sec",
    "sect", "art", "ref", "refs", "para", "tab", "ex", "pt", "tel", "ext", "op", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# Often end a sentence ("... in the U.S. The ..."): split only before a typical sentence opener,
# or, after the few of _GOES_ON, before a capital that does not go on with them.
_ABBREV_AMBIGUOUS = frozenset({
    "etc", "inc", "ltd", "co", "corp", "llc", "plc", "jr", "sr", "al", "st", "ave", "blvd", "rd",
    "bros", "esq", "a.m", "p.m",
})
_ABBREVIATIONS = NEVER_ENDS_SENTENCE | _ABBREV_NUMERIC | _ABBREV_AMBIGUOUS
# Words that open a sentence and go on with no name before them: function words, answer words
# and sentence adverbs (not "Under", "Open", "Second": "U.S. Under Secretary", "U.S. Open").
_SENTENCE_OPENERS = frozenset("""The A An This That These Those It Its He She They We I You His
Her Their Our My Your There Here In On At For But And Or So Yet However Therefore Thus Then Also
After Before When While If As Since Although Meanwhile Moreover Furthermore Finally First Today
Now What Why How Who Where Which Some Many Most All Each Every One Not No Yes
Is Are Was Were Do Does Did Has Have Had Can Could Would Should Must Let Please Both Any Such
Several Another Other Only Even Still Instead Otherwise Because Though Unless Once Whether
Whereas Despite According Unlike During From With Without By To Within Through Until Among Along
Besides Later Earlier Previously Recently Currently Usually Typically Generally Often Sometimes
Always Never Overall Indeed Hence Consequently Nevertheless Nonetheless Additionally
Alternatively Similarly Likewise Unfortunately Fortunately Eventually Ultimately Initially
Originally Lastly Everyone Everything Nothing Nobody Someone Something Anyone Anything None
Whose Whom Thanks Sorry""".split())  # noqa: SIM905
# After these a capitalised word opens a sentence unless it goes on with the abbreviation: a
# time's zone, day or month ("9 p.m. Eastern", "10 a.m. Monday", "a.m. ET"), a city a time is
# told in ("8:45 p.m. Paris time": dev summaries were cut before "Paris"), a company's officer or
# form ("Acme Inc. CEO", "Inc. Chief Executive", "Co. Ltd"). A word in capitals alone goes on
# (a zone, "CEO", "UK"); so does a bracket ("Inc. (NASDAQ: X)"). Any capital after "etc."
# opens one ("chairs, desks, etc. Shipping is free."; a review found the two claims one
# window, the false second diluted by the true first, and a halt at the first). The word after
# a city is not read, so a city that opens a sentence there stays in the window, as any
# capital did before this rule ("at 9 p.m. London was quiet"); a city of two words is left
# out, "New" opens sentences ("10 p.m. New York time" is cut).
# The others name too much after them ("U.S. Army", "St. Louis", "Co. Cork", "Warner Bros.
# Pictures", "King Jr. Day"): only an opener ends them.
_TIME_GOES_ON = frozenset("""Monday Tuesday Wednesday Thursday Friday Saturday Sunday Mondays
Tuesdays Wednesdays Thursdays Fridays Saturdays Sundays Weekdays Mon Tue
Tues Wed Thu Thur Thurs Fri Sat Sun January February March April May June July August September
October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Eastern Pacific
Central Mountain Atlantic Alaska Alaskan Hawaii Hawaiian Greenwich Universal Coordinated Local
Daylight Standard Summer British Western European Indian Japan Korea Korean China Moscow
Israel Arabian Gulf
London Paris Berlin Madrid Rome Lisbon Dublin Amsterdam Brussels Vienna Zurich Geneva Stockholm
Oslo Copenhagen Helsinki Warsaw Prague Budapest Athens Istanbul Kyiv Kiev Cairo Jerusalem
Nairobi Lagos Johannesburg Dubai Riyadh Tehran Delhi Mumbai Kolkata Karachi Dhaka Bangkok
Jakarta Singapore Manila Beijing Shanghai Taipei Seoul Tokyo Sydney Melbourne Perth Auckland
Chicago Denver Toronto Vancouver""".split())  # noqa: SIM905
_COMPANY_GOES_ON = frozenset("""Chief Chairman Chairwoman Chair President Vice Executive Founder
Co Director Managing Spokesman Spokeswoman Spokesperson Senior General Head Board Group Holdings
Limited Inc Ltd Corp Corporation Company Class Common Preferred Deputy""".split())  # noqa: SIM905
_GOES_ON: dict[str, frozenset[str]] = {
    "etc": frozenset(), "a.m": _TIME_GOES_ON, "p.m": _TIME_GOES_ON, "inc": _COMPANY_GOES_ON,
    "ltd": _COMPANY_GOES_ON, "corp": _COMPANY_GOES_ON, "llc": _COMPANY_GOES_ON,
    "plc": _COMPANY_GOES_ON,
}
# A unit's symbol after a figure ("after 300 s.", "500 ms.", "12 h.", "10 m.", "200 g.") is no
# initial nor the title "Ms.": its full stop ends the sentence before a capitalised word, unless
# that word is an initial itself ("Schalke 04 e. V.") or a bracket ("5 m. (16 ft)") (a probe:
# "Tasks are killed after 300 s. Results are kept for 12 hours by default." was one window, its
# false second claim diluted by the true first and its halt at the first). Symbols in lower
# case only: a capital letter after a figure is as often a name's initial ("In 2004 M. Night
# Shyamalan", "From 1983 to 1995 C. Stephen Lynn", "229 F. Supp.", "at 220 S. Main Street"), so
# one ("93 K.", "2 M.") ends a sentence only before a sentence opener, as "U.S." does.
_UNITS_AFTER_FIGURE = frozenset(("s", "ms", "h", "m", "d", "g", "l", "k", "t"))
# A figure, as the last word before such a symbol: "300", "0.9", "1,500", "3-5", "~20", "$2".
_FIGURE_WORD = re.compile(r"[~≈±<>+$€£¥-]?\d(?:[\d.,:/–-]*\d)?")
_INITIAL = re.compile(r"[^\W\d_]\.")  # "J." of "J. K. Rowling", "V." of "e. V."


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    kind: WindowKind
    opens_block: bool  # first line of a fenced block: never packed with the block before


class SentenceScanner:
    """Finds segments (sentences; lines of code) in text that arrives in pieces.

    ``advance`` consumes everything it is given, holding back only decisions that need text not
    yet seen. With ``max_chars`` set, no segment is longer: a sentence that would be is cut
    where its last clause in the second half of the cap begins, else before the figures and
    names its last words start, else at its last word end that fits (:func:`_run_on_cut`), or
    hard-cut inside a word longer than ``max_chars``.
    """

    def __init__(self, max_chars: int | None) -> None:
        self._max = max_chars
        self._pos = 0  # everything before this absolute offset is consumed
        # Current word (a run of non-space).
        self._in_word = False
        self._word_start = 0
        self._head = ""
        self._tail = ""
        self._word_len = 0
        self._word_letter = False
        self._word_ticks = 0  # backticks in it
        self._classified = False
        # The whitespace run before the current or next word: newlines in it, capped at 2.
        # The text start counts as a paragraph start.
        self._newlines = 2
        # Where the current line starts, and whether a tab indents it: a fence indented 4
        # columns or more is no fence (CommonMark: indented code or a paragraph's text) outside
        # a list. Kept without slicing the text: every space run passes here.
        self._line_start = 0
        self._indent_tab = False
        # The line's indentation holds something other than spaces and tabs (a no-break or
        # zero-width space, a byte-order mark): no fence may stand there, as in CommonMark (a
        # review: "\u200b```" opened a block that made the rest of an answer unchecked code).
        self._indent_odd = False
        self._in_list = False  # a list item opened since the last line at column 0
        # The content columns of the open list items, outermost first (a marker's column, its
        # length and one space): a nested item's fence belongs to the item it is indented under.
        self._items: list[int] = []
        # The open block is inside a list item whose content starts at this column (0: not in
        # one): a line indented less ends the item, and the block with it (CommonMark; a
        # review: a block opened in a list item and never closed made the rest of an answer
        # unchecked code, where a chat UI renders it as prose).
        self._block_item = 0
        # The last completed word of the open segment, for the sentence rule.
        self._prev_tail = ""
        self._prev_len = 0
        self._colon_before = False  # the word before it ends with ":" ("Steps: 1. Open it.")
        self._figure_before = False  # the word before it is a figure ("300 s. Results")
        # Block state.
        self._code = False
        self._fence = ""  # fence character of the open code block
        self._fence_len = 0
        # The line of a backtick fence is open: a backtick later on it makes it inline code
        # (CommonMark: a backtick fence's info string holds none), so the line is text after all.
        self._fence_line = False
        # The opening fence line is open (its info string is still being read), and the block
        # it opens holds prose (an info string of PROSE_LABELS): checked as text, line by line
        # as any paragraph, until its closing fence. The blocks are CommonMark's, what a chat
        # UI renders: nothing nests in a fenced block (a reading that let a code block nest in
        # it made the rest of an answer code when the two did not pair up: a review), so a
        # fence line inside it is text, and the first closing fence ends it.
        self._info_line = False
        self._prose_pending = False
        self._prose_block = False
        self._single_line = False  # the current line is a heading, table row or rule
        # Open segment.
        self._seg_open = False
        self._seg_start = 0
        self._seg_end = 0  # end of its last word
        self._seg_kind: WindowKind = "text"
        self._seg_block = False
        self._seg_letter = False  # holds a letter (or began inside a word: assumed to)
        self._out: list[Segment] = []

    @property
    def keep_from(self) -> int:
        """The earliest offset a future segment can start at; text before it is never needed."""
        if self._seg_open:
            return self._seg_start
        return self._word_start if self._in_word else self._pos

    def quiet_until(self, end: int) -> bool:
        """Whether scanning on to absolute offset ``end`` can close no segment, provided the text
        up to there holds no newline and no terminal punctuation (:data:`QUIET_BREAKS`).

        Every close needs one of: a newline before a word (paragraphs, lines, lists, fences), a
        word ending in terminal punctuation before the next word (sentences), a change of kind
        (code), or the cap. So with a text segment open, no newline pending, no terminal in the
        current or the last word, and ``end`` short of the cap, such text decides nothing: a
        caller may hold it unscanned and scan it with what follows, and every segment is still
        decided on the same character (scanning never depends on how text was cut).
        """
        return (self._seg_open and not self._code and self._seg_kind == "text"
                and self._newlines == 0
                and (self._max is None or end - self._seg_start < self._max - 1)
                and QUIET_BREAKS.search(self._tail) is None
                and QUIET_BREAKS.search(self._prev_tail) is None)

    def advance(self, buf: str, base: int, final: bool) -> list[Segment]:
        """Consume ``buf`` (the text from offset ``base`` on) from where the last call stopped;
        returns the segments completed.

        ``final`` means no text follows: pending decisions are made with the end of text as
        their lookahead and the open segment is closed.
        """
        self._out = []
        end = base + len(buf)
        while self._pos < end:
            if self._in_word:
                self._scan_word(buf, base, final)
            else:
                self._skip_plain(buf, base)
                self._scan_space(buf, base)
        if final:
            if self._in_word:
                self._scan_word(buf, base, True)
            if self._seg_open:
                self._close()
        return self._out

    def _skip_plain(self, buf: str, base: int) -> None:
        """Fast path over words that cannot end a sentence or a block (no newline before them,
        no terminal punctuation in them or before them): they simply join the open segment.
        Skipping them gives exactly what the word-by-word path would, only faster."""
        if (not self._seg_open or self._code or self._newlines or self._seg_kind != "text"
                or _sentence_tail(self._prev_tail).endswith(_TERMINAL_TUPLE)
                or _opens_citation(self._prev_tail)):
            # (newlines: the space run before the next word, begun earlier, had some; a code
            # segment still open after its closing fence ends at the next word, a text one)
            return
        limit = len(buf) if self._max is None else min(
            len(buf), self._seg_start + self._max + 1 - base)
        start = self._pos - base
        match = _PLAIN_RUN.match(buf, start, limit)
        if match is None or match.end() == start:
            return
        run_end = end = match.end()
        # The last word of the run that is not symbols alone (read through, as _scan_word
        # does: a review found "Steps: 🎉 1." cut otherwise whole than one character at a time).
        # The run starts with space, so each word's start is found inside it.
        while end > start:
            word = end
            while _SPACE.fullmatch(buf[word - 1]) is None:  # back to the start of the word
                word -= 1
            if not (end - word <= _HEAD and _symbols_only(buf[word:end])):
                # _colon_before and _figure_before are left stale: they are only read after a
                # word with terminal punctuation, which this path never skips, and that word's
                # completion sets them afresh.
                self._prev_len = end - word
                self._prev_tail = buf[max(word, end - _HEAD):end]
                break
            end = word
            while end > start and _SPACE.fullmatch(buf[end - 1]) is not None:
                end -= 1
        if not self._seg_letter and _LETTER.search(buf, start, run_end):
            self._seg_letter = True
        self._pos = self._seg_end = base + run_end

    def _scan_space(self, buf: str, base: int) -> None:
        start = self._pos - base
        end = _run_end(_SPACE, buf, start)
        line = buf.rfind("\n", start, end)
        if line >= 0:
            if self._newlines < 2:
                self._newlines = min(2, self._newlines + buf.count("\n", start, line + 1))
            self._line_start = base + line + 1
            self._indent_tab = buf.find("\t", line + 1, end) >= 0
            self._indent_odd = _ODD_INDENT.search(buf, line + 1, end) is not None
        elif self._newlines:  # the indentation goes on from the last delta
            self._indent_tab = self._indent_tab or buf.find("\t", start, end) >= 0
            self._indent_odd = self._indent_odd or _ODD_INDENT.search(buf, start, end) is not None
        self._pos = base + end
        # A segment that ends whatever word comes next is closed now, not when that word
        # arrives: a paragraph's last sentence (and a line of code, a heading, a table row)
        # reaches the segmenter while the stream pauses after it, which checks it then unless it
        # holds it to join the next (too short, or an announcement) (a review: a false sentence
        # followed by a paragraph break went unchecked until the next word was complete).
        if self._seg_open and (self._newlines >= 2 or (
                self._newlines and (self._code or self._single_line))):
            self._close()
        # Any word still to come ends past the cap: the open segment cannot grow any more. It
        # ends here, unless the next word may cut it where its last clause begins instead
        # (_cut_run_on), which that word's first character decides: the space before it is
        # waited out, unless it is longer than a word (no decision waits on a space run).
        if (self._seg_open and self._max is not None and self._pos - self._seg_start >= self._max
                and not (self._pos - self._seg_end <= _HEAD
                         and self._run_on_cut(buf, base) is not None)):
            self._close()
        if self._pos < base + len(buf):
            self._in_word = True
            self._word_start = self._pos
            self._head = self._tail = ""
            self._word_len = 0
            self._word_letter = False
            self._word_ticks = 0
            self._classified = False

    def _scan_word(self, buf: str, base: int, final: bool) -> None:
        start = self._pos - base
        end = _run_end(_WORD, buf, start)
        chunk = buf[start:end]
        # A full-width terminal ends the word whatever follows, so a delta ending on one
        # decides as the whole text would.
        complete = final or end < len(buf) or chunk.endswith(tuple(_CJK_TERMINALS))
        self._pos += len(chunk)
        self._word_len += len(chunk)
        if len(self._head) < _HEAD:
            self._head += chunk[: _HEAD - len(self._head)]
        self._tail = (self._tail + chunk[-_HEAD:])[-_HEAD:]
        if not self._word_letter and _LETTER.search(chunk):
            self._word_letter = True
        self._word_ticks += chunk.count("`")
        if not self._classified:
            while (self._seg_open and self._max is not None
                   and self._pos - self._seg_start > self._max):
                # This word cannot join the open segment in any case. A text segment is cut
                # now as _cap would cut it once the word is classified, unless that
                # classification may end the segment before the word: it decides.
                if self._run_on_cut(buf, base) is not None:
                    if self._may_end():
                        break
                    self._cut_run_on(buf, base)
                else:
                    self._close()
            if len(self._head) >= _HEAD or complete:
                self._classify()
            elif self._ends_before_word():
                self._close()  # the word, when classified, opens the next sentence
        if self._classified and self._max is not None:
            self._cap(buf, base)
        if complete:
            if self._fence_line and self._word_ticks > (
                    self._fence_len if self._word_start == self._seg_start else 0):
                self._unfence()
            self._in_word = False
            self._newlines = 0
            self._seg_end = self._pos  # a classified word is always in the open segment
            self._seg_letter = self._seg_letter or self._word_letter
            if not self._word_letter and _goes_on_citation(self._prev_tail, self._tail):
                # the word goes on with a marker the last one opened ("[1," then "2]")
                self._prev_tail = (self._prev_tail + " " + self._tail)[-_HEAD:]
                self._prev_len += 1 + self._word_len
            elif not (self._word_len <= _HEAD and not self._word_letter
                      and _symbols_only(self._tail)):
                self._colon_before = self._prev_tail.endswith(":")
                self._figure_before = _is_figure(self._prev_tail)
                self._prev_tail = self._tail
                self._prev_len = self._word_len

    def _cap(self, buf: str, base: int) -> None:
        """Keep the open segment within ``max_chars`` while its current word grows."""
        assert self._max is not None
        while self._pos - self._seg_start > self._max:
            if self._word_start > self._seg_start:  # cut before the word, or its clause
                if not self._cut_run_on(buf, base):
                    self._close()
                    self._open(self._word_start, self._seg_kind, False)
            else:  # the word alone is too long: hard cut
                cut = self._seg_start + self._max
                self._seg_end = cut
                self._close()
                self._open(cut, self._seg_kind, False)
                self._seg_letter = True  # its letters are unknown; do not block a split

    def _may_end(self) -> bool:
        """Whether the classification of the word begun may end the open text segment before
        it: the word follows a newline or end punctuation. Otherwise it joins the segment,
        whatever its characters (a sentence ends at end punctuation)."""
        return self._newlines > 0 or _sentence_tail(self._prev_tail).endswith(_TERMINAL_TUPLE)

    def _run_on_cut(self, buf: str, base: int) -> tuple[int, int] | None:
        """Where :meth:`_cut_run_on` would cut the open segment, if it is text (not code, a
        table row or a heading): offsets into ``buf``; None where it would not."""
        assert self._max is not None
        if self._seg_kind != "text" or self._code or self._single_line:
            return None
        start, end = self._seg_start - base, self._seg_end - base
        cut = _run_on_cut(buf[start:end], self._max // 2)
        return None if cut is None else (start + cut[0], start + cut[1])

    def _cut_run_on(self, buf: str, base: int) -> bool:
        """Cut the open text segment, which the word begun does not fit in, where a clause of
        its second half begins (:func:`_run_on_cut`), not just before that word; returns
        whether it did. The segment's last words open the next one, which the word joins.

        The cut is made where the word cannot end the segment (:meth:`_may_end`), or once it
        is classified and has not: before or after its classification alike, read from the
        segment's completed words alone, so the same however the text was cut into deltas (a
        reverted clause cut read the text up to where the cap was reached, and cut only
        before a word already classified: a review)."""
        cut = self._run_on_cut(buf, base)
        if cut is None:
            return False
        end = self._seg_end
        self._seg_end = base + cut[0]
        self._close()
        self._open(base + cut[1], "text", False)
        self._seg_end = end  # the words after the cut, completed: the last clause
        self._seg_letter = _LETTER.search(buf, cut[1], end - base) is not None
        return True

    def _classify(self) -> None:
        """Place the word whose head has just arrived: which block it is in, and whether the
        open segment ends before it."""
        self._classified = True
        head = self._head
        line_first = self._newlines >= 1
        opens_block = False
        kind: WindowKind
        if line_first:
            self._fence_line = self._info_line = False
            if self._prose_pending:  # the fence line of a prose block has ended
                self._prose_pending, self._prose_block, self._code = False, True, False
            if (self._block_item and not self._indent_tab
                    and self._word_start - self._line_start < self._block_item
                    and not _is_closing_fence(head, self._fence, self._fence_len)):
                # its list item has ended; but a closing fence indented too little still
                # closes it (CommonMark would end the item and open a block to the end of the
                # answer there: a model's sloppy indentation would hide the rest from checks)
                self._code = self._prose_block = False
                self._block_item = 0
        elif self._info_line and not self._prose_pending:  # the info string's first word
            self._info_line = False
            self._prose_pending = _is_prose_label(head)
        # Its closing fence is indented less than four columns whatever its lines hold: a
        # list in the prose does not indent the fence of the block around it (CommonMark).
        if self._prose_block and line_first and not (
                self._indent_tab or self._indent_odd or self._word_start - self._line_start >= 4
        ) and _is_closing_fence(head, self._fence, self._fence_len):
            kind = "code"  # the closing fence line: no claim
            break_before = True
            self._prose_block = False
            self._block_item = 0
        elif self._code:
            kind = "code"
            break_before = line_first
            # A fence indented four columns or more (outside a list) is the block's content, not
            # its end (a review: it closed the block, and the real closing fence then opened one
            # that took in the rest of the answer).
            if (line_first and self._fence_may_stand()
                    and _is_closing_fence(head, self._fence, self._fence_len)):
                self._code = False
                self._block_item = 0
        elif (line_first and not self._prose_block and self._fence_may_stand()
              and (fence := _opening_fence(head))):
            kind = "code"
            break_before = opens_block = True
            self._code = True
            self._fence, self._fence_len = fence[0], len(fence)
            self._block_item = self._containing_item() if self._in_list else 0
            self._fence_line = fence[0] == "`"
            self._single_line = False
            info = head[len(fence):]
            self._prose_pending = bool(info) and _is_prose_label(info)
            self._info_line = not info
        else:
            kind = "text"
            break_before = self._newlines >= 2
            if line_first:
                if _LIST_MARKER.fullmatch(head):
                    self._in_list = True
                    column = self._word_start - self._line_start
                    while self._items and self._items[-1] > column:  # siblings, deeper ones
                        self._items.pop()
                    self._items.append(column + len(head) + 1)
                elif self._word_start == self._line_start:
                    self._in_list = False
                    self._items.clear()
                single = bool(head.startswith("|") or _HEADING.fullmatch(head)
                              or _RULE.fullmatch(head))
                break_before = (break_before or self._single_line or single
                                or bool(_LIST_MARKER.fullmatch(head))
                                or _OPTION_LINE.match(head) is not None)
                self._single_line = single
        if self._seg_open and (
                break_before or kind != self._seg_kind
                or (kind == "text" and self._sentence_ends(head))):
            self._close()
        if not self._seg_open:
            self._open(self._word_start, kind, opens_block)

    def _ends_before_word(self) -> bool:
        """Whether the open sentence ends before the word begun, decided by the word's first
        characters where they decide it: a window was checked only once the next word was
        complete ("It " checked "... 450 metres tall.", "It" did not), one token late for a
        voice frontend (a review). Only after a word that may be an abbreviation of the
        ambiguous kind ("Inc.", "U.S.") does the whole next word decide ("The" opens a
        sentence, "Army" does not), and after a numeric one ("No.") its first non-quote
        character. Decided here or at classification alike, a segment closes on the same
        character however the text was cut (a word's first character is scanned first)."""
        if not (self._seg_open and self._seg_kind == "text" and not self._code
                and self._newlines == 0 and self._head):
            return False
        tail = _sentence_tail(self._prev_tail)
        stem = tail.rstrip(TERMINALS)
        if self._head[0] in "[(" and len(self._head) < _OPTION_NOTE_HEAD:
            return False  # it may be an option's note ("[default: 4]"): the whole word decides
        if tail[len(stem):] == "." and self._prev_len <= _HEAD:
            bare = stem.lstrip(_OPENERS)
            low = bare.lower()
            if low in _ABBREV_AMBIGUOUS or _DOTTED.fullmatch(bare):
                return False
            if low in _ABBREV_NUMERIC and not self._head.lstrip(_OPENERS):
                return False
            if (self._figure_before and _unit_after_figure(bare)
                    and (bare.isupper() or len(self._head.lstrip(_OPENERS)) < 2)):
                # a unit after a figure: its second character says whether the next word is
                # an initial (and, after a capital, only the whole word whether it opens one)
                return False
        return self._sentence_ends(self._head)

    def _sentence_ends(self, next_head: str) -> bool:
        """Does the open text segment end with a sentence, given the word that follows?"""
        if self._single_line and next_head.startswith("|"):
            return False  # a table row's next cell ("| Plan | Unlimited seats? |": a review)
        tail = _sentence_tail(self._prev_tail)
        stem = tail.rstrip(TERMINALS)
        punct = tail[len(stem):]
        if not punct or not self._seg_letter or not _starts_sentence(next_head):
            return False  # "1." alone is a list number, not a sentence
        if self._newlines == 0 and _OPTION_NOTE.match(next_head):
            return False  # an option's note on its line ("... transfers.  [default: 4]")
        if punct != "." or self._prev_len > _HEAD:
            return True  # "!", "?", "..." and long words (URLs, numbers) end a sentence
        stem = stem.lstrip(_OPENERS)
        low = stem.lower()
        if self._figure_before and _unit_after_figure(stem):
            return _ends_after_unit(stem, next_head)  # "after 300 s. Results are kept"
        if (len(stem) == 1 and stem.isalpha()) or low in NEVER_ENDS_SENTENCE:
            return False  # initials ("J. K. Rowling") and titles
        if stem.isdigit() and len(stem) <= 2 and self._colon_before:
            return False  # an inline enumeration ("Steps: 1. Open it.")
        if low in _ABBREV_NUMERIC:
            return not next_head.lstrip(_OPENERS)[:1].isdigit()
        if low in _ABBREV_AMBIGUOUS or _DOTTED.fullmatch(stem):
            return _ends_after_ambiguous(stem, next_head)
        return True

    def _fence_may_stand(self) -> bool:
        """A fence may open or close at the current word: it is indented by spaces and tabs
        alone, less than four columns (a tab counts four), or less than four more than the
        content of the list item it is in (more is an indented code block's text)."""
        indent = self._word_start - self._line_start
        if self._indent_odd:
            return False
        if self._in_list:
            return self._indent_tab or indent < self._containing_item() + 4
        return not self._indent_tab and indent < 4

    def _containing_item(self) -> int:
        """The content column of the innermost open list item the current word is indented
        under (the last item's, past a tab); 0 when it is under none."""
        if self._indent_tab:
            return self._items[-1] if self._items else 0
        indent = self._word_start - self._line_start
        return max((column for column in self._items if column <= indent), default=0)

    def _unfence(self) -> None:
        """The open fence line holds a backtick in its info string: it is a paragraph with
        inline code, and the text after it is prose to check, not a code block."""
        self._code = self._fence_line = self._info_line = self._prose_pending = False
        self._block_item = 0
        if self._seg_kind == "code":  # the line's segment, still open: it was never emitted
            self._seg_kind = "text"
            self._seg_block = False

    def _open(self, start: int, kind: WindowKind, opens_block: bool) -> None:
        self._seg_open = True
        self._seg_start = self._seg_end = start
        self._seg_kind = kind
        self._seg_block = opens_block
        self._seg_letter = False

    def _close(self) -> None:
        self._seg_open = False
        self._out.append(Segment(self._seg_start, self._seg_end, self._seg_kind,
                                  self._seg_block))


def _run_end(pattern: re.Pattern[str], buf: str, start: int) -> int:
    match = pattern.match(buf, start)
    assert match is not None  # both patterns match the empty string
    return match.end()


def leading_blank(text: str) -> int:
    """How many characters ``text`` opens with that the scanner reads as space (whitespace and
    invisible format characters)."""
    return _run_end(_SPACE, text, 0)


def _sentence_tail(tail: str) -> str:
    """A word's end as the sentence rule reads it: without symbols after it ("1889.🎉"),
    citation markers and closers."""
    last = tail[-1:]
    if last.isascii() and last != "]":  # most words: no symbol or marker to take off
        return tail.rstrip(_CLOSERS)
    while tail and not tail[-1].isascii() and unicodedata.category(tail[-1]) in _SYMBOL_CATEGORIES:
        tail = tail[:-1]  # emoji and signs, not ASCII's "^" and "`" (inline code)
    if tail.endswith(_CITATION_ENDS):
        tail = _CITATIONS.sub("", tail)
    return tail.rstrip(_CLOSERS)


# Citation markers anywhere in a text: numbered ("[1]", "[2, 3]", "[1; 2]", "[4-6]"), footnotes
# ("[^1]", "[^note]"), a source by its number ("[Source 2]", "(Sources: 1, 2)"), and
# superscript digits, daggers or "^1" after punctuation (not "m²": a unit's exponent). (A
# review: each of these styles read as a new figure or word, and halted faithful answers.) Not
# "(Ref: Q4M8Z1)", "(Doc 1120)" or "[S25]": a booking, a form, a model (a second review).
_SOURCE_NUMBERS = r"[\[(](?i:sources?):?\s?\d{1,3}(?:\s?[,;]\s?\d{1,3})*[\])]"
_INLINE_CITATIONS = re.compile(
    r"\[\^?\d{1,3}(?:\s?[,;–-]\s?\d{1,3})*\]|\[\^[\w-]{1,8}\]|【\d{1,3}(?:[†:][^】]{0,40})?】"
    f"|{_SOURCE_NUMBERS}|(?<=[.!?,;:)\\]\"'”’])(?:[{SUPERSCRIPT_CLASS}†‡]+|\\^\\d{{1,3}})")


def without_citations(text: str) -> str:
    """The text without citation markers: they name a source, state nothing, and read as
    unknown words to the checks (a review: a faithful RAG answer with "[1]" after each sentence
    scored 0.44 where the same sentences without them scored 0.72, and halted). The text
    itself when it has none."""
    if ("[" not in text and "【" not in text and "(" not in text and "^" not in text
            and "†" not in text and "‡" not in text and _SUPERSCRIPTS.isdisjoint(text)):
        return text
    return _INLINE_CITATIONS.sub("", text)


def ends_sentence(text: str) -> bool:
    """Whether the text surely ends a sentence, with nothing more to come: its last word
    (past any words of symbols, "Klimt. 🎉") ends with end punctuation (before closing quotes,
    brackets and citation markers), and a full stop is no decimal point or abbreviation's
    ("It is 330 metres tall." does; "It stands i", "rainfall is 37.", "the company of Dr." do
    not: a review found a drain's cut there judged as a claim)."""
    words = text.split()
    while words and len(words[-1]) <= _HEAD and _symbols_only(words[-1]):
        words.pop()
    if not words:
        return False
    before = last = ""
    for word in words[-8:]:  # as the scanner reads them: "[1," "2]" is one marker
        if _goes_on_citation(last, word):
            last = f"{last} {word}"[-_HEAD:]
        else:
            before, last = last, word
    tail = _sentence_tail(last[-_HEAD:])
    stem = tail.rstrip(TERMINALS)
    if stem == tail:
        return False
    if tail[len(stem):] != ".":
        return True
    stem = stem.lstrip(_OPENERS)
    if stem in _UNITS_AFTER_FIGURE and _is_figure(before[-_HEAD:]):
        return True  # a unit's symbol after a figure ("It times out after 300 s.")
    return not (stem[-1:].isdigit() or len(stem) <= 1 or _DOTTED.fullmatch(stem)
                or stem.lower() in _ABBREVIATIONS)


def _starts_sentence(head: str) -> bool:
    first = head[:1]
    return bool(first) and (first.isdigit() or (first.isalpha() and not first.islower())
                            or first in _STARTS)


# Unicode categories of a word of symbols alone: emoji and other signs, their modifiers (skin
# tones), variation selectors and combining marks.
_SYMBOL_CATEGORIES = frozenset(("So", "Sk", "Mn", "Me"))


def _symbols_only(word: str) -> bool:
    """Whether a word is symbols alone ("🎉", "✅", "👍🏽"), which the sentence rule reads
    through: the sentence before it ends (with it) where the next word opens one ("... in 1889.
    🗼 It is ...": a review found the true sentence retracted with the false one after it)."""
    return not word.isascii() and any(unicodedata.category(c) == "So" for c in word) and all(
        unicodedata.category(c) in _SYMBOL_CATEGORIES for c in word)


def _ends_after_ambiguous(stem: str, next_head: str) -> bool:
    """Whether a sentence ends after an ambiguous abbreviation (``stem``: without its full
    stop), given the first characters of the next word: before a sentence opener, or after one
    of :data:`_GOES_ON` before a capitalised word that does not go on with it. A time is
    written in lower case there ("A.M. 'Marty' Stroud" is a name's initials)."""
    word = _leading_word(next_head)
    if word in _SENTENCE_OPENERS:
        return True
    key = stem if "." in stem else stem.lower()
    goes_on = _GOES_ON.get(key)
    if goes_on is None or not word[:1].isupper() or next_head[:1] in "([":
        return False
    if key == "etc":
        return True  # a list's end: nothing goes on with it
    return not (word.isupper() and len(word) > 1) and word not in goes_on


def _is_figure(tail: str) -> bool:
    """Whether a word (its last characters) is a figure ("300", "0.9", "(3-5")."""
    return _FIGURE_WORD.fullmatch(tail.lstrip(_OPENERS)) is not None


def _unit_after_figure(stem: str) -> bool:
    """Whether a word before a full stop, after a figure, may be a unit's symbol: one of
    :data:`_UNITS_AFTER_FIGURE`, or a capital letter ("K.", "M."; or an initial)."""
    return stem in _UNITS_AFTER_FIGURE or (len(stem) == 1 and stem.isupper())


def _ends_after_unit(stem: str, next_head: str) -> bool:
    """Whether a sentence ends after a unit's symbol and a full stop, after a figure (``stem``:
    the symbol), given the first characters of the next word: a capitalised word that is no
    initial nor bracket, after a symbol in lower case; a sentence opener after a capital."""
    if _INITIAL.match(next_head.lstrip(_OPENERS)):
        return False  # "J. K. Rowling", "e. V.": a name's initials go on
    word = _leading_word(next_head)
    if stem.isupper():
        return word in _SENTENCE_OPENERS  # "2 M. The"; "In 2004 M. Night Shyamalan" goes on
    return word[:1].isupper() and next_head[:1] not in "(["


def _leading_word(head: str) -> str:
    match = re.match(r"[^\W\d_]+", head.lstrip(_OPENERS))
    return match.group() if match else ""


# A run-on sentence too long for a window is cut where a clause begins in its second half: after
# a comma, semicolon or colon, or before a conjunction; else before the figures and names its
# last words start ("for five" | "years"). Not after a figure: "five, ten or fifteen dollars",
# "two and a half years" hold their figures together.
_SEG_WORD = re.compile(f"[^\\s{_INVISIBLE}]+")
_CLAUSE_CONJUNCTIONS = frozenset(("and", "but", "so", "or", "because", "which", "while", "then",
                                  "although", "though", "whereas", "since"))
# Words that join figures ("5 to 10", "two and a half", "four point five").
_FIGURE_LINKS = frozenset(("and", "or", "to", "a", "point", "-", "–"))
_NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve
thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty
seventy eighty ninety hundred thousand million billion trillion dozen half""".split())  # noqa: SIM905


def _figure(word: str) -> bool:
    """A figure ("5", "$15", "2,5", "five"), which goes with the word after it (its unit)."""
    bare = word.strip(_OPENERS + _CLOSERS + ",;:.")
    return any(c.isdigit() for c in bare) or bare.lower() in _NUMBER_WORDS


def _name_word(word: str) -> bool:
    """A capitalised word of a name ("New" of "New York"; not "I", "I'm"), mid-sentence."""
    bare = word.lstrip(_OPENERS).rstrip(_CLOSERS + ",;:")
    return bare[:1].isupper() and bare != "I" and not bare.startswith(("I'", "I’"))


def _run_on_cut(segment: str, half: int) -> tuple[int, int] | None:
    """Where to cut a run-on segment (its completed words, trimmed) that the next word does not
    fit in: ``(end of the first part, start of the rest)``, or None for a cut before the next
    word. The rest starts at or after ``half``: where the last clause begins, else where the
    figures and names its last words end with begin ("the warranty lasts for five" before
    "years": a review found the false last clause cut from its unit, and passed)."""
    words = [(m.start(), m.end()) for m in _SEG_WORD.finditer(segment)]
    for i in range(len(words) - 1, 0, -1):
        start = words[i][0]
        if start < half:
            break
        before = segment[words[i - 1][0]:words[i - 1][1]]
        word = segment[start:words[i][1]]
        if _figure(before):
            continue  # "five, ten or fifteen dollars", "two and a half years": one figure
        if (before.rstrip(_CLOSERS).endswith((",", ";", ":")) and _LETTER.match(word)) or (
                word.lower() in _CLAUSE_CONJUNCTIONS):
            return words[i - 1][1], start
    first = len(words)  # of the figures and names the segment ends with, and words joining them
    while first > 1 and (_figure(word := segment[words[first - 1][0]:words[first - 1][1]])
                         or _name_word(word) or word.lower() in _FIGURE_LINKS):
        first -= 1
    while first < len(words) and segment[words[first][0]:words[first][1]].lower() in (
            _FIGURE_LINKS):
        first += 1  # the run starts at a figure or a name
    if first < len(words) and words[first][0] >= half:
        return words[first - 1][1], words[first][0]
    return None


def _opening_fence(head: str) -> str:
    """The fence run (``` or ~~~, 3+) that opens a code block on this line, or ""."""
    match = re.match(r"`{3,}|~{3,}", head)
    if not match:
        return ""
    # CommonMark: a backtick fence's info string has no backtick ("```x```" is inline code).
    if match.group()[0] == "`" and "`" in head[match.end():]:
        return ""
    return match.group()


# Info strings of a fenced block that holds prose, not code: a model that wraps its answer in
# ```markdown or ```text still states claims there (a review: they were released unchecked).
PROSE_LABELS = frozenset({"markdown", "md", "text", "txt", "plain", "plaintext", "prose"})


def _is_prose_label(info: str) -> bool:
    """Whether a fence's info string (its first word, as far as read) names prose; braces
    and a leading dot of attribute syntax (``{.markdown}``) are ignored."""
    return info.strip("{}.").lower() in PROSE_LABELS


def _is_closing_fence(head: str, fence: str, length: int) -> bool:
    return len(head) >= length and head == fence * len(head)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text`` (each line, inside fenced code), trimmed.

    The same boundaries as :class:`WindowSegmenter`, without its length cap and merging.
    """
    return [(s.start, s.end) for s in SentenceScanner(None).advance(text, 0, final=True)]
