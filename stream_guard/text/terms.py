"""Content terms of a text: what the lexical tier, BM25 and the premise compare.

A window whose content words, numbers and names all occur in its evidence is almost always
supported, and one that introduces a new number or name often is not. Terms are normalised
(case, possessives, plurals, numbers spelled out, figures however written, places and their
peoples) so "cities" meets "city", "twenty - five" meets "25", "$2.5bn" meets "2,500,000,000",
"15 per cent" meets "15%" and "Belgian" meets "Belgium", and weighted: a changed number or name
is the typical hallucination, a changed common word rarely is. The notation of figures is
:mod:`stream_guard.text.figures`; numbers with their units, compared as quantities, are
:mod:`stream_guard.text.quantities`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from stream_guard.text.cjk import CJK, has_cjk, is_cjk, letter_pairs, narrow
from stream_guard.text.figures import (
    _ORDINAL,
    _SCALES,
    _SMALL,
    _TENS,
    ORDINAL_WORDS,
    canonical_figures,
    evidence_readings,
    has_month,
    plain_number,
    spell_out_numbers,
    time_of_day,
)
from stream_guard.text.sentences import NEVER_ENDS_SENTENCE

# Words split at hyphens, so "Go-there" meets the "Go - there" of a transcript and "well-known"
# meets "well known". A capitalised name with a number after its hyphen ("COVID-19", "CoV-2",
# "F-35") stays one token: a numbered name (see :func:`known`).
# Typeset text writes the hyphen of "K‑221" as U+2010 (hyphen), U+2011 (non-breaking) or U+2012
# (figure dash): the same numbered name, keyed with "-". ASCII first, so that it opens a
# character class (no range).
HYPHENS = "-\u2010\u2011\u2012"
_NUMBERED_NAME = rf"[A-Z][^\W_]*[{HYPHENS}]\d+"
# Figures joined by colons are one token (:func:`_colon_keys`); a colon after them is a label's
# ("Late pick-up until 17:30: £8").
_COLON_FIGURES = r"(?<![\d:.])\d{1,2}(?::\d\d)+(?!\d|[:.]\d)(?: [ap]m\b)?"
_NUMBER = r"\d+(?:[.,]\d+)*%?"
# A version's "v" is no word of it: "v2.3.1" is the "2.3.1" of "Version 2.3.1" (read as "v2"
# and "3.1", it failed a faithful answer and passed "v2.4.1": a review).
_VERSION_V = r"(?![vV]\d+\.\d)"
# A command-line option ("-j", "-O2", "--jobs", "--dry-run") is one term, as specific as a name:
# after a space, a backtick or a bracket. Read as its words it was nothing ("-j": one letter) or
# a common word ("--jobs": "job"), so an answer naming the help text's short option had no
# coverage and halted, and one naming an option the help text never gives ("--verify" for
# "--checksum") said no new name (a probe of developer answers). Its key is the option as
# written: "-v" and "-V" are two options. One dash takes one letter (and digits) only: tokenised
# text spaces a word's hyphen ("rapidly -evolved", "Sci -Fi": BEGIN's dialogues), and a quote
# closes a name before one ('"Bayern"-class'); those stay words. A quote or emphasis opening
# before a long option is markup ("'--no-cache'", "**--no-cache**", '"--jobs"' in JSON; and a
# slash, "-j/--jobs": read as words in the evidence, a faithful answer's bare "--no-cache" was
# a new name: a review); not before a short one: a quoted "-s" is a suffix as often (a review).
_FLAG = (r"(?:(?:(?<=[\s`(\[/])|^)(?:--[A-Za-z](?:[\w-]*\w)?|-[A-Za-z]\d*(?![\w-]))"
         r"|(?:(?<=[\s`(\[/:][\"'*_\u201c\u2018])|(?<=\*\*)|(?<=^[\"'*_]))--[A-Za-z](?:[\w-]*\w)?)")
_FLAG_WORD = re.compile(r"[^\W\d_](?:[\w'’]*\w)?")
_TOKEN = re.compile(rf"{_FLAG}|{_NUMBERED_NAME}(?!\w)|{_COLON_FIGURES}|{_NUMBER}"
                    rf"|{_VERSION_V}[^\W\d_](?:[\w'’]*\w)?")
# In text with Chinese, Japanese or Korean letters a run of them is one token, read as pairs of
# letters (:mod:`stream_guard.text.cjk`), and a word of any other script stops where one starts.
# A pattern of its own: telling the scripts apart costs every other text a third more.
_CJK_TOKEN = re.compile(rf"{_FLAG}|{_NUMBERED_NAME}(?![^\W{CJK}])|{_COLON_FIGURES}|{_NUMBER}"
                        rf"|{_VERSION_V}[^\W\d_{CJK}](?:(?:[^\W{CJK}]|['’])*[^\W{CJK}])?|[{CJK}]+")
_TO_ASCII = str.maketrans({"’": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-"})
# The key that says evidence names some numbered variant of a name: "covid-#" for "COVID-19".
_NUMBERED = "-#"

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each either else even ever every few for from further get gets got had hadn't
has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
how's however i i'd i'll i'm i've if in into is isn't it it's its itself just let's like made make
many may me might more most much must mustn't my myself neither no nor not now of off often on once
one only or other ought our ours ourselves out over own per quite rather really same shall shan't
she she'd she'll she's should shouldn't since so some such than that that's the their theirs them
themselves then there there's these they they'd they'll they're they've this those though through
thus to too under until up upon us use used very via was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's whether which while who who's whom whose why why's
will with within without won't would wouldn't yes yet you you'd you'll you're you've your yours
yourself yourselves well still way ways thing things lot lots okay ok yeah sure oh really actually
""".split()  # noqa: SIM905 - a word list reads better as text
)
# The ending of an ordinal written in digits ("12th") is a token of its own; as a word it made
# "April 12th" say more than "12 April". Dropped straight after a digit only: "St", "Rd" and
# "Nd" elsewhere are names, and as the unit after a number "12th floor" still meets "14th".
_ORDINAL_ENDINGS = frozenset(("st", "nd", "rd", "th"))

# Weights: a changed number or name is the typical hallucination, a changed common word rarely is.
NUMBER_WEIGHT = 2.0
NAME_WEIGHT = 1.5
WORD_WEIGHT = 1.0


# The apostrophes a "n't" or "I'd" may be written with, as the ASCII one.
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    weight: float


def _normalize(token: str) -> str:
    t = token.lower().translate(_TO_ASCII)
    if t[0].isdigit():
        return t.replace(",", "")
    if t.endswith("'s"):
        t = t[:-2]
    # Plurals must meet their singulars: cities/city, boxes/box, but metres/metre (not "metr").
    if len(t) > 4 and t.endswith("ies"):
        return t[:-3] + "y"
    if len(t) > 4 and t.endswith(("sses", "xes", "zes", "ches", "shes")):
        return t[:-2]
    if len(t) > 3 and t.endswith("s") and not t.endswith(("ss", "us", "is")):
        return t[:-1]
    return t


# token -> its key, or "" for a token that is not a content term. Text keeps reusing a small
# vocabulary, so most tokens are looked up rather than normalised again (terms() runs for every
# sentence of every stream's evidence and for every window). Only short tokens are kept (a
# stream of long made-up tokens must not pin memory), and the table starts over when full, so
# its memory is bounded (about 20 MB) and it keeps serving today's vocabulary. Shared by
# threads: a dict get/set/clear is atomic.
_KEYS: dict[str, str] = {}
_KEYS_MAX = 100_000
_KEY_TOKEN_MAX = 32


def _key(token: str) -> str:
    key = _normalize(token)
    if key in STOPWORDS or (len(key) < 2 and not key.isdigit()):
        return ""
    return key


# The key of a number word ("five", "twenty"): the text needs spelling out in digits first. Not
# "one" (alone mostly a pronoun, and it stays a word), nor "hundred" and the scales alone
# ("3.5 billion" is common): those need spelling out only after "one" ("one hundred"), since
# any other number they belong to has a word of the first kind ("twenty-one", "two million").
_SPELLED_KEY = "#"
_ONE_KEY = "#1"
# An ordinal in words ("eleventh") is a day to read in digits too; "first" to "ninth" only
# where a month's name says it is a day (:data:`~stream_guard.text.figures.ORDINAL_WORDS`).
_DAY_KEY = "#d"
_NUMBER_WORDS = frozenset([*_SMALL, *_TENS, *ORDINAL_WORDS]) - {"one", *_ORDINAL.split("|")}
_DAY_WORDS = frozenset(_ORDINAL.split("|"))
_SCALE_KEYS = frozenset(["hundred", *_SCALES])


def states_anything(text: str) -> bool:
    """Whether ``text`` holds a letter or digit: blank, zero-width or punctuation-only text
    (``str.strip`` keeps U+200B) states nothing, and is no evidence, inline or in a file."""
    return any(c.isalnum() for c in text)


def terms(text: str) -> list[Term]:
    """Content terms of ``text`` with their weights; stopwords dropped."""
    cjk = has_cjk(text)
    if cjk:
        text = narrow(text)
    found = _terms(canonical_figures(text), spelled_out=False, weighted=True, cjk=cjk)
    if found is None:
        found = _terms(canonical_figures(spell_out_numbers(text, zero_as_no=True)),
                       spelled_out=True, weighted=True, cjk=cjk) or []
    return found


def term_keys(text: str) -> frozenset[str]:
    """The keys of :func:`terms` alone: what an evidence sentence is indexed by. Skips the
    weights, about a third of the work, on every sentence of every stream's evidence."""
    cjk = has_cjk(text)
    if cjk:
        text = narrow(text)
    found = _terms(evidence_readings(canonical_figures(text, both_readings=True)),
                   spelled_out=False, weighted=False, cjk=cjk)
    if found is None:
        found = _terms(evidence_readings(canonical_figures(spell_out_numbers(text),
                                                           both_readings=True),
                                         spelled_out=True),
                       spelled_out=True, weighted=False, cjk=cjk) or []
    if names := _name_readings(text):
        found = [*found, *(_terms(names, spelled_out=False, weighted=False, cjk=False) or [])]
    return frozenset(found)


# A name written as one word of two capitalised parts ("SoftRoll", "HomeHub"), which answers
# also write as two words (a blind probe's faithful "the Soft Roll head" of the manual's
# "SoftRoll head" halted on two new words). Not the other way: joining any two capitalised
# words ("Per Cent") would give the evidence words it does not say.
_CAMEL = re.compile(r"\b([A-Z][a-z]+)([A-Z][a-z]+)\b")


def _name_readings(text: str) -> str:
    """The evidence's names of two capitalised parts as two words (above), for
    :func:`term_keys`; empty where it has none."""
    if text.islower() or not text.isascii():  # (a window's token, read for its key: no name)
        return ""
    return " ".join(f"{m.group(1)} {m.group(2)}" for m in _CAMEL.finditer(text))


# key -> its Term at each weight: a term is immutable, and made again for every window and
# evidence sentence; bounded like _KEYS.
_TERMS: tuple[dict[str, Term], dict[str, Term], dict[str, Term]] = ({}, {}, {})


def _term(key: str, weight: float, table: dict[str, Term]) -> Term:
    term = table.get(key)
    if term is None:
        if len(table) >= _KEYS_MAX:
            table.clear()
        term = table[key] = Term(key, weight)
    return term


# Words before "one" that make it no count: "no one", "each one", "any one", "every one".
_NOT_A_COUNT_BEFORE = frozenset({"no", "each", "any", "every", "which", "this", "that"})


def _terms(text: str, *, spelled_out: bool, weighted: bool, cjk: bool) -> list[Any] | None:
    """The terms (``weighted``) or just their keys, or None (before spelling out) where the text
    writes a number in words: most text does not, and finding that out here costs a comparison
    or two a token, not a regex pass. ``cjk``: the text has CJK letters or full-width forms
    (:func:`~stream_guard.text.cjk.has_cjk`), and is read with the pattern that tells them
    apart."""
    out: list[Any] = []
    keys = _KEYS
    numbers, names, words = _TERMS
    after_one = one_counts = False
    month: bool | None = None  # whether the text names a month: read once, when asked
    for i, match in enumerate((_CJK_TOKEN if cjk else _TOKEN).finditer(text)):
        token = match.group()
        if cjk and is_cjk(token):
            pairs = letter_pairs(token)
            out += [_term(k, WORD_WEIGHT, words) for k in pairs] if weighted else pairs
            after_one = False
            continue
        if token[0] == "-":  # a command-line option (_FLAG)
            if weighted:
                out.append(_term(token, NAME_WEIGHT, names))
            else:  # evidence also gives its words: "the jobs option" for "--jobs"
                out.append(token)
                out += [k for k in map(_key, _FLAG_WORD.findall(token)) if k]
            after_one = one_counts = False
            continue
        key = keys.get(token)
        if key is None:
            norm = _normalize(token)  # "five's" is a number word too
            key = (_SPELLED_KEY if norm in _NUMBER_WORDS else _ONE_KEY if norm in ("one", "a")
                   else _DAY_KEY if norm in _DAY_WORDS else _key(token))
            if len(token) <= _KEY_TOKEN_MAX:
                if len(keys) >= _KEYS_MAX:
                    keys.clear()
                keys[token] = key
        if key == _ONE_KEY:
            after_one = True
            # the evidence's "one case" is an answer's "1 case"; not "no one", "one of"
            one_counts = not weighted and token.lower() == "one" and text[
                max(0, match.start() - 5):match.start()].lower().rstrip().rpartition(" ")[2] \
                not in _NOT_A_COUNT_BEFORE
            continue
        if one_counts:
            one_counts = False
            if key and key not in STOPWORDS and token[0].isalpha():
                out.append("1")
        if key == _DAY_KEY:
            if month is None:
                month = has_month(text)
            if not month:
                key = _key(token)
        if key in (_SPELLED_KEY, _DAY_KEY) or (after_one and key in _SCALE_KEYS):
            if not spelled_out:
                return None
            key = _key(token)  # what spelling out left as a word: "thousand" alone
        after_one = False
        if not key or (key in _ORDINAL_ENDINGS and text[match.start() - 1:match.start()].isdigit()):
            continue
        if ":" in token:
            clock, parts = _colon_keys(token, evidence=not weighted)
            if not weighted:
                out += [*clock, *parts]
            elif clock:  # a time is two figures, its hour and its minutes
                out.append(_term(clock[0], 2 * NUMBER_WEIGHT, numbers))
            else:
                out += [_term(part, NUMBER_WEIGHT, numbers) for part in parts]
        elif token[0].isdigit():
            if _list_marker(text, match.start(), match.end()):
                continue
            out.append(_term(key, NUMBER_WEIGHT, numbers) if weighted else key)
        elif "-" in key:  # a numbered name: as specific as a number
            if weighted:
                out.append(_term(key, NUMBER_WEIGHT, numbers))
            else:  # evidence also names the name alone, and that it has numbered variants
                name = numbered_name_of(key)
                out += (key, name, name + _NUMBERED)
        elif not weighted:
            out.append(key)
        elif token[0].isupper() and i > 0 and not _opens_sentence(text, match.start()):
            out.append(_term(key, NAME_WEIGHT, names))
        else:
            out.append(_term(key, WORD_WEIGHT, words))
    return out


# The word before a full stop, as far back as an abbreviation goes ("Dr.", "e.g.").
_WORD_BEFORE_STOP = re.compile(r"([^\W\d_][\w.]{0,7})\.\s*$")


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the capitalised word at ``start`` opens a sentence (and so is no name by its
    capital): after end punctuation, but for a full stop of a title or another abbreviation
    that never ends one ("led by Dr. Maria Ortiz": a review found "Maria" weighed as a word,
    and "Dr." as the name)."""
    before = text[start - 2:start].strip()
    if before not in {".", "!", "?"}:
        return False
    if before == ".":
        word = _WORD_BEFORE_STOP.search(text, max(0, start - 12), start)
        return word is None or word.group(1).lower() not in NEVER_ENDS_SENTENCE
    return True


def _colon_keys(token: str, *, evidence: bool) -> tuple[list[str], list[str]]:
    """The keys of figures joined by colons: (the time of day it is, or none; its figures).

    A time of day ("10:35", as :mod:`stream_guard.text.figures` writes every clock time) is one
    term, and a window's time stands for it alone: read as its hour and its minutes apart,
    "leaves at 10:35" passed against "Departure 09:35" beside "10 kg" and "35 euros". Anything
    else ("0:24:45", a lap's "28:25") is its figures, as before. The evidence's keys also hold
    its figures ("open at 9" for "9:00") and each time of day inside a longer run, so a
    split's "0:05:38" states the "5:38" an answer writes for it."""
    token, _, half = token.partition(" ")
    parts = token.split(":")
    times = [f"{int(hour)}:{minutes}" for hour, minutes in itertools.pairwise(parts)
             if time_of_day(int(hour), int(minutes))]
    if len(parts) == 2:
        # A morning's time (canonical "3:00 am", figures.MORNING) is a key of its own, which a
        # window's says and the evidence's morning or unplaced "3:00" states, but not its
        # afternoon's "15:00" read on the 12-hour clock ("3:00 pm", figures.AFTERNOON): an
        # answer's "3:00 AM" for its "3:00 PM" passed (a probe of schedules).
        morning = [times[0] + _MORNING_KEY] if times and 1 <= int(parts[0]) <= 11 else []
        if not evidence:
            return (morning if half == "am" else times), (parts if not times else [])
        return (times + ([] if half == "pm" else morning)), parts
    return (times if evidence else []), parts


_MORNING_KEY = "am"  # after a morning's time in its key: "3:00am"


def _list_marker(text: str, start: int, end: int) -> bool:
    """Whether the number at ``start:end`` numbers a list item ("9) The group...", "2. Then"):
    one or two digits that open their line, a bracket or full stop and a space after. It states
    nothing. (A year that opens a window cut inside a long sentence, "1899. It is tall.", is
    no list number.)"""
    after = text[end + 1:end + 2]
    if end - start > 2 or text[end:end + 1] not in (")", ".") or (after and not after.isspace()):
        return False
    return not text[text.rfind("\n", 0, start) + 1:start].strip(" \t(")


def coverage(window: str | Sequence[Term], evidence_keys: AbstractSet[str]) -> float:
    """Weighted share of the window's content terms found in the evidence (1.0 if it has none).

    ``window`` may be given as its :func:`terms` already, when one window is measured against
    several chunks.
    """
    window_terms = terms(window) if isinstance(window, str) else window
    total = sum(t.weight for t in window_terms)
    if total == 0:
        return 1.0
    covered = sum(t.weight for t in window_terms if known(t.key, evidence_keys))
    return covered / total


def known(key: str, evidence_keys: AbstractSet[str]) -> bool:
    """Whether the evidence (its :func:`term_keys`) states the term ``key``.

    A numbered name is also known where the evidence names it only without a number: a summary's
    "COVID-19" for a call that says "COVID" is the same thing, not a new fact. Where the
    evidence gives the name with a number of its own ("SARS-CoV-2"), another number ("CoV-4")
    is new.
    """
    if key in evidence_keys:
        return True
    if is_option(key):
        return False
    if key[:1].isdigit() and "." in key and key.rstrip("%").endswith("0"):
        # "$412.80" for a tool's 412.8 (the evidence's "960.00" is read as "960" too:
        # figures.evidence_readings)
        number = key.removesuffix("%")
        if plain_number(number) + key[len(number):] in evidence_keys:
            return True
    if "-" not in key:
        return any(form in evidence_keys for form in place_forms(key))
    name = numbered_name_of(key)
    return name in evidence_keys and name + _NUMBERED not in evidence_keys


# A place and the word for its people or things name one place: an answer's "the Belgian
# striker" is its source's "the Belgium international", "a Kenyan college" its "a college in
# Kenya" (news writes both, and answers paraphrase one into the other). A table, not suffix
# rules: rules made Roman numerals ("WWII" for "WWI"), names (Julian, Julia; Karimi, Karim) and
# words (guardian, guard) one another's forms. Keys: lower case, plurals dropped ("Wales" is
# "wale", "Philippines" "philippine"); the place side of a multi-word name by its last word
# ("New Zealand": "zealand").
_PLACES = """
afghanistan afghan; albania albanian; algeria algerian; angola angolan; argentina argentine
argentinian; armenia armenian; australia australian aussie; austria austrian; azerbaijan
azerbaijani azeri; bahrain bahraini; bangladesh bangladeshi; belarus belarusian; belgium belgian;
bolivia bolivian; bosnia bosnian; brazil brazilian; britain british briton brit; bulgaria
bulgarian; cambodia cambodian; cameroon cameroonian; canada canadian; chile chilean; china
chinese; colombia colombian; congo congolese; croatia croatian croat; cuba cuban; cyprus cypriot;
denmark danish dane; ecuador ecuadorian; egypt egyptian; england english englishman; estonia
estonian; ethiopia ethiopian; finland finnish finn; france french frenchman; georgia georgian;
germany german; ghana ghanaian; greece greek; haiti haitian; hungary hungarian; iceland icelandic
icelander; india indian; indonesia indonesian; iran iranian; iraq iraqi; ireland irish irishman;
israel israeli; italy italian; jamaica jamaican; japan japanese; jordan jordanian; kazakhstan
kazakh; kenya kenyan; korea korean; kosovo kosovan kosovar; kuwait kuwaiti; latvia latvian;
lebanon lebanese; libya libyan; lithuania lithuanian; malaysia malaysian; mali malian; malta
maltese; mexico mexican; moldova moldovan; mongolia mongolian; morocco moroccan; myanmar burmese;
burma burmese; nepal nepali nepalese; netherland dutch dutchman; holland dutch; zealand
zealander; nigeria nigerian; niger nigerien; norway norwegian; oman omani; pakistan pakistani;
palestine palestinian; panama panamanian; paraguay paraguayan; peru peruvian; philippine
filipino; poland polish; portugal portuguese; qatar qatari; romania romanian; russia russian;
rwanda rwandan; arabia arabian; scotland scottish scot scotsman; senegal senegalese; serbia
serbian serb; singapore singaporean; slovakia slovak slovakian; slovenia slovenian slovene;
somalia somali; spain spanish spaniard; lanka lankan; sudan sudanese; sweden swedish swede;
switzerland swiss; syria syrian; taiwan taiwanese; tanzania tanzanian; thailand thai; tunisia
tunisian; turkey turkish turk; uganda ugandan; ukraine ukrainian; emirate emirati; uruguay
uruguayan; uzbekistan uzbek; venezuela venezuelan; vietnam vietnamese; wale welsh welshman;
yemen yemeni; zambia zambian; zimbabwe zimbabwean; tibet tibetan; catalonia catalan; kurdistan
kurdish kurd; chechnya chechen; crimea crimean; siberia siberian; persia persian; flanders
flemish; cornwall cornish; quebec quebecer quebecois; bavaria bavarian; scandinavia
scandinavian; sicily sicilian; europe european; africa african; asia asian; america american;
texas texan; california californian; florida floridian; arizona arizonan; ohio ohioan; virginia
virginian; carolina carolinian; alaska alaskan; hawaii hawaiian; oklahoma oklahoman; minnesota
minnesotan; michigan michigander; paris parisian; london londoner; berlin berliner; york yorker;
rome roman; moscow muscovite; chicago chicagoan; boston bostonian; vienna viennese; milan
milanese; venice venetian; naples neapolitan
"""


def _place_table(table: str) -> dict[str, tuple[str, ...]]:
    """Each place with the words for its people, and each such word with its places (both
    ways: "dutch" names the Netherlands and Holland)."""
    out: dict[str, tuple[str, ...]] = {}
    for entry in table.split(";"):
        place, *people = (_normalize(word) for word in entry.split())
        out[place] = (*out.get(place, ()), *people)
        for word in people:
            out[word] = (*out.get(word, ()), place)
    return out


_PLACE_OF = _place_table(_PLACES)


def place_forms(key: str) -> tuple[str, ...]:
    """The other words for the place or people ``key`` names; a people's plural in "-is" keeps
    its "s" as a key ("Israelis"), so it is read as its singular here."""
    forms = _PLACE_OF.get(key)
    if forms is None and key.endswith("is"):
        forms = _PLACE_OF.get(key[:-1])
    return forms or ()


def names_another_variant(key: str, evidence_keys: AbstractSet[str]) -> bool:
    """Whether the evidence (its :func:`term_keys`) gives the numbered name ``key``'s name with
    another number and never ``key`` itself: a sheet naming the "K-200" says nothing of the
    "K-123". False for a key that is no numbered name."""
    return ("-" in key and not is_option(key) and key not in evidence_keys
            and numbered_name_of(key) + _NUMBERED in evidence_keys)


def is_option(key: str) -> bool:
    """Whether a term's key is a command-line option's ("--jobs"), no numbered name."""
    return key[:1] == "-"


def numbered_name_of(numbered: str) -> str:
    """The name of a numbered name's key: "covid" of "covid-19"."""
    return numbered.rsplit("-", 1)[0]


