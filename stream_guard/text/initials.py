"""Initials: an answer's acronym of a name its evidence spells out is that name.

"The campsite was found in remote WA bushland." against an article that says "Western
Australia", "a property in the UAE" against "the United Arab Emirates", "a nephew of JFK"
against "John F Kennedy": the acronym is no word of the evidence, so word coverage counted it a
new name, and the least supported window of a faithful news summary halted on it. Answers
abbreviate what their sources spell out, in every domain.

An evidence sentence is indexed (:class:`~stream_guard.evidence.premise.EvidenceSentence`)
beside its words by ``^`` and the initials of each name it spells out: a run of capitalised
words (its connectors "of", "and", "the", "for" and "&" skipped, and "of" also counted:
"Department of Defense" is "DD" and "DoD"), whole or without a first word that only opens it
("The", "In", "Because of", a title: "President John F. Kennedy" is also "JFK") or a last
word that only
closes it ("Martin Luther King Jr." is also "MLK"). No word's key can equal
such a key. A window's acronym, written in capitals, is known where the evidence holds its
key (:func:`initialisms_known`): a word ("war") that happens to spell a name's initials ("Wild
Animal Rescue") is not that name.

Not the other way, and not parts of a name. An answer that spells out an acronym of its
evidence is read word by word, as before: a review found that crediting a name whose initials
match ("Microsoft Securities" for an analyst note's "MS", "Canadian Dental Council" for "CDC",
a person "Fiona Reed" for a shop's "FREE") let exactly the wrong expansions a model makes pass;
and a slice of a longer name ("UFC" in "Manchester United Football Club") names something else.
Nicknames and short forms ("Man Utd", "the Gunners"), and acronyms of words in lower case
("ATMs" for "automated teller machines"), stay new.

Pure: regular expressions over the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet

RUN_INITIALS = "^"  # the initials of a name the evidence spells out

# A capitalised word, or an initial and its full stop ("John F. Kennedy"): another word's full
# stop ends the run, as it ends the sentence.
_CAPITALISED = r"(?:[A-Z]\.|[A-Z][\w'’-]*)"
_CONNECTORS = ("of", "and", "the", "for", "&")
_NAME_RUN = re.compile(
    rf"(?<![\w'’-]){_CAPITALISED}(?:(?: (?:{'|'.join(_CONNECTORS)}))* {_CAPITALISED})+")
_RUN_WORD = re.compile(rf"{_CAPITALISED}|of\b")
# Two to six capitals, alone or made plural ("ATMs"): not a word in capitals for emphasis,
# which is longer, nor a capital that opens a word.
_ACRONYM = re.compile(r"(?<![\w'’.-])[A-Z]{2,6}(?:s)?(?![\w'’-])")
_MIN, _MAX = 2, 6
# A first word that only opens a name's run: a sentence's opener or a title before a name.
_OPENERS = frozenset({
    "the", "a", "an", "in", "on", "at", "by", "for", "from", "to", "with", "as", "of", "and",
    "but", "or", "so", "after", "before", "since", "under", "when", "while", "if", "this",
    "that", "these", "those", "its", "their", "our", "his", "her", "my", "your", "because",
    "despite", "during", "following", "according", "due", "instead", "thanks", "unlike", "like",
    "about", "across", "among", "between", "within", "without", "throughout", "until", "upon",
    "via", "then", "also", "yesterday", "today", "tomorrow", "last", "next", "every", "each",
    "all", "both", "many", "some", "most", "several", "former", "new", "only", "why", "how",
    "what", "where", "who", "which", "meanwhile", "however", "although", "though", "once",
    "president", "prime", "minister", "senator", "governor", "mayor", "king", "queen",
    "prince", "princess", "pope", "dr", "mr", "mrs", "ms", "sir", "dame", "lord", "lady",
    "professor", "prof", "judge", "justice", "general", "captain", "chancellor", "secretary",
})


# A last word that only closes a person's name.
_SUFFIXES = frozenset({"jr", "sr", "jnr", "snr", "ii", "iii", "iv"})


def name_initials(text: str) -> frozenset[str]:
    """The initials keys of an evidence sentence (the module's docstring)."""
    names: list[list[str]] = []
    for run in _runs(text):
        names.append(run)
        if len(run) > 2 and run[-1].rstrip(".").lower() in _SUFFIXES:
            run = run[:-1]  # "Martin Luther King Jr." is "MLK"
            names.append(run)
        while len(run) > 2 and (run[0] == "of" or run[0].rstrip(".").lower() in _OPENERS):
            run = run[1:]
            if run[0] != "of":  # "Because of Martin Luther King Jr. Day"
                names.append(run)
    return frozenset(RUN_INITIALS + initials for name in names for initials in _initials(name))


def initialisms_known(window_text: str, evidence_keys: AbstractSet[str]) -> frozenset[str]:
    """The keys of the window's acronyms whose initials name a name the evidence spells out.
    Empty where the evidence holds no initials keys."""
    out: set[str] = set()
    for match in _ACRONYM.finditer(window_text):
        acronym = match.group()
        key = (acronym[:-1] if acronym.endswith("s") else acronym).lower()
        if key not in evidence_keys and RUN_INITIALS + key in evidence_keys:
            out.add(key)
    return frozenset(out)


def _runs(text: str) -> Iterator[list[str]]:
    """Each run of capitalised words, as its capitalised words and its "of"s."""
    for match in _NAME_RUN.finditer(text):
        yield _RUN_WORD.findall(match.group())


def _initials(run: list[str]) -> set[str]:
    """The initials of the whole run, without and with its "of"s."""
    caps = "".join(w[0] for w in run if w != "of").lower()
    with_of = "".join(w[0] for w in run).lower()
    return {i for i in (caps, with_of) if _MIN <= len(i) <= _MAX}
