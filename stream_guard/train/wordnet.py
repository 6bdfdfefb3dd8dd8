"""The trainer's word lists, drawn once from Princeton WordNet 3.0, committed as ``lexicon.json``.

SummEdits' edits the detector accepts are antonyms ("responded slowly" for "quickly") and a
common noun swapped for another of the same document ("carpets" for "curtains"):
``docs/results/detector-pairs.json``. A hand-written list of 47 antonym pairs and name-only swaps
could not teach those. WordNet lists the direct antonyms of its adjectives and adverbs, and
tells which words are nouns; kept to the words the base model's tokenizer knows whole (common
words, not WordNet's rare senses), they make the hard negatives of
:mod:`stream_guard.train.edits`.

The list is built here, once, from Debian's ``wordnet-base`` files (``/usr/share/wordnet``), so
training never depends on a system package and gives the same pairs everywhere:

    python -m stream_guard.train.wordnet /usr/share/wordnet stream_guard/train/lexicon.json \
        stream_guard/text/opposites.json stream_guard/text/places.json

(the second and third files are the server's: :func:`opposites`, :func:`places`).

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. (Its licence allows
use, copying and distribution with this notice; the full text is in ``lexicon.json``.)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

LEXICON = Path(__file__).with_name("lexicon.json")
_POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
_LICENSE = (
    "WordNet Release 3.0. This software and database is being provided to you, the LICENSEE, by "
    "Princeton University under the following license. By obtaining, using and/or copying this "
    "software and database, you agree that you have read, understood, and will comply with these "
    "terms and conditions: Permission to use, copy, modify and distribute this software and "
    "database and its documentation for any purpose and without fee or royalty is hereby granted, "
    "provided that you agree to comply with the following copyright notice and statements, "
    "including the disclaimer, and that the same appear on ALL copies of the software, database "
    "and documentation, including modifications that you make for internal use or for "
    "distribution. WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. THIS "
    "SOFTWARE AND DATABASE IS PROVIDED \"AS IS\" AND PRINCETON UNIVERSITY MAKES NO "
    "REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION, "
    "PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT- ABILITY OR FITNESS "
    "FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR "
    "DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER "
    "RIGHTS. The name of Princeton University or Princeton may not be used in advertising or "
    "publicity pertaining to distribution of the software and/or database. Title to copyright in "
    "this software, database and any associated documentation shall at all times remain with "
    "Princeton University and LICENSEE agrees to preserve same."
)
# Shorter words are function words ("in", "up"), which would be most edits' only kind.
_MIN_LETTERS = 3
_MIN_NOUN_LETTERS = 4
# Modal verbs WordNet also lists as nouns: after "that" or "this" they are the verb.
_MODALS = frozenset({"will", "might", "must", "shall", "would", "could", "should", "can", "may"})
# A noun whose verb reading was tagged this many times more often is read as the verb ("have",
# "know", "make"); "report" or "help", nouns often enough, stay.
_VERB_READINGS = 5


Pointer = tuple[str, str, str, int, int]


def _synsets(wordnet: Path, pos: str) -> Iterator[tuple[str, list[str], list[Pointer]]]:
    """(offset, words in lower case, pointers as (symbol, target offset, target pos, source
    no., target no.)); a satellite adjective's pos "s" is read as "a", as pointers name both."""
    for offset, _, words, pointers in _records(wordnet, pos):
        yield offset, [w.lower() for w in words], pointers


def _records(wordnet: Path, pos: str) -> Iterator[tuple[str, int, list[str], list[Pointer]]]:
    """(offset, lexicographer file, words as written, pointers) of each synset."""
    for line in (wordnet / f"data.{_POS_FILES[pos]}").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):  # the licence header
            continue
        fields = line.split(" | ")[0].split()
        offset, count = fields[0], int(fields[3], 16)
        words = [w.split("(")[0] for w in fields[4:4 + 2 * count:2]]
        at = 4 + 2 * count
        pointers = []
        for i in range(int(fields[at])):
            symbol, target, target_pos, numbers = fields[at + 1 + 4 * i:at + 5 + 4 * i]
            pointers.append((symbol, target, "a" if target_pos == "s" else target_pos,
                             int(numbers[:2], 16), int(numbers[2:], 16)))
        yield offset, int(fields[1]), words, pointers


def build(wordnet: Path, vocabulary: set[str]) -> dict[str, object]:
    """Antonyms and nouns, kept to ``vocabulary``.

    An edit finds a word by its spelling, not its sense, so only words that can be read one way
    are taken (a review of a first, broader list found half its edits nonsense: "hold a
    hearing" made "hold a deaf", "your home" "your away", "like" "unlike"):

    * antonyms: direct antonyms of adjectives and adverbs ("quickly" and "slowly",
      "possible" and "impossible") whose words are never nouns, verbs or a verb's form
      ("touched"), so every use in a text is the one WordNet opposes;
    * nouns: words that are never adjectives or adverbs, nor their compared forms ("lower"),
      nor modal verbs ("will", "might": nouns in WordNet, rarely in a text), nor far more
      often verbs ("have", "know"), nor a verb's inflected form ("touched").
    """
    words: dict[tuple[str, str], list[str]] = {}
    pointers: list[tuple[list[str], list[Pointer]]] = []
    lemmas: dict[str, set[str]] = {p: set() for p in _POS_FILES}
    for pos in _POS_FILES:
        for offset, synset_words, pointers_of in _synsets(wordnet, pos):
            words[(offset, pos)] = synset_words
            lemmas[pos].update(synset_words)
            to_antonyms = [p for p in pointers_of if p[0] == "!"]
            if to_antonyms and pos in ("a", "r"):
                pointers.append((synset_words, to_antonyms))
    verb_forms = _verb_forms(wordnet, lemmas["v"])
    one_reading = (lemmas["a"] | lemmas["r"]) - lemmas["n"] - verb_forms
    antonyms: dict[str, set[str]] = {}
    for synset_words, targets in pointers:
        for _, target, target_pos, source_no, target_no in targets:
            a, b = synset_words[source_no - 1], words[(target, target_pos)][target_no - 1]
            if all(w in one_reading and w in vocabulary and len(w) >= _MIN_LETTERS
                   for w in (a, b)) and a != b:
                antonyms.setdefault(a, set()).add(b)
                antonyms.setdefault(b, set()).add(a)
    compared = {line.split()[0] for name in ("adj.exc", "adv.exc")
                for line in (wordnet / name).read_text(encoding="latin-1").splitlines()}
    compared |= {w for w in lemmas["n"] if _compares(w, lemmas["a"])}
    tagged = {pos: _tagged(wordnet, pos) for pos in ("n", "v")}
    mostly_verbs = {w for w in lemmas["n"]
                    if tagged["v"].get(w, 0) > _VERB_READINGS * tagged["n"].get(w, 0)}
    noun_like = (lemmas["n"] - lemmas["a"] - lemmas["r"] - compared - _MODALS - mostly_verbs
                 - (verb_forms - lemmas["v"]))
    nouns = sorted(n for n in noun_like if n.isalpha() and len(n) >= _MIN_NOUN_LETTERS
                   and n in vocabulary)
    return {"source": "Princeton WordNet 3.0 (Debian wordnet-base), words the all-MiniLM-L6-v2 "
                      "tokenizer knows whole; built by stream_guard.train.wordnet",
            "license": _LICENSE,
            "antonyms": {w: sorted(others) for w, others in sorted(antonyms.items())},
            "nouns": nouns}


def opposites(wordnet: Path, vocabulary: set[str]) -> dict[str, object]:
    """Each word's opposites, for :mod:`stream_guard.text.opposites`, kept to ``vocabulary``,
    and the irregular forms of those words (WordNet's ``*.exc``: "rose" is "rise").

    Unlike the trainer's antonyms, which make edits and so must read one way only, these judge
    a swap an answer made in a sentence it otherwise copies, so every part of speech counts: a
    word's direct antonyms in any of its senses ("increase", "decrease"), the antonyms of the
    word it is derived from or derives ("gain" and "loss"), and for an adjective in a cluster
    the antonyms of the cluster's head ("limited", a satellite of "finite": "infinite",
    "unlimited"). Not the satellites of the opposite cluster: they made "small" the opposite
    of "accumulated" and "good" of "angry".
    """
    synsets: dict[tuple[str, str], tuple[list[str], list[Pointer]]] = {}
    of_word: dict[str, list[tuple[str, str]]] = {}
    for pos in _POS_FILES:
        for offset, synset_words, pointers in _synsets(wordnet, pos):
            synsets[(offset, pos)] = (synset_words, pointers)
            for w in synset_words:
                of_word.setdefault(w, []).append((offset, pos))

    def lexical(key: tuple[str, str], number: int, symbol: str) -> list[tuple[tuple[str, str],
                                                                           int]]:
        return [((target, target_pos), target_no)
                for sym, target, target_pos, source_no, target_no in synsets[key][1]
                if sym == symbol and source_no == number]

    def antonyms(key: tuple[str, str], number: int) -> set[str]:
        return {synsets[t][0][n - 1] for t, n in lexical(key, number, "!")}

    table: dict[str, list[str]] = {}
    for word, keys in of_word.items():
        if word not in vocabulary:
            continue
        found: set[str] = set()
        for key in keys:
            number = synsets[key][0].index(word) + 1
            found |= antonyms(key, number)
            for derived, n in lexical(key, number, "+"):
                found |= antonyms(derived, n)
            if key[1] == "a":
                for sym, target, target_pos, _, _ in synsets[key][1]:
                    head = (target, target_pos)
                    if sym == "&" and any(p[0] == "!" for p in synsets[head][1]):
                        for n in range(1, len(synsets[head][0]) + 1):
                            found |= antonyms(head, n)
        kept = sorted(w for w in found - {word} if w in vocabulary)
        if kept:
            table[word] = kept
    irregular: dict[str, set[str]] = {}
    for name in _POS_FILES.values():
        for line in (wordnet / f"{name}.exc").read_text(encoding="latin-1").splitlines():
            form, *bases = line.split()
            if form.isalpha() and any(b in table for b in bases):
                irregular.setdefault(form, set()).update(b for b in bases if b in table)
    return {"source": "Princeton WordNet 3.0 (Debian wordnet-base), common words (ones the "
                      "all-MiniLM-L6-v2 tokenizer knows whole or WordNet's sense-tagged corpus "
                      "holds); built by stream_guard.train.wordnet",
            "license": _LICENSE, "opposites": table,
            "irregular": {form: sorted(bases) for form, bases in sorted(irregular.items())}}


# WordNet's lexicographer files of places ("noun.location") and people ("noun.person").
_LOCATIONS = 15
_PEOPLE = 18
# Names of places that are directions or sides far more often ("the North", "the Union").
_NOT_PLACES = frozenset(("north", "south", "east", "west", "union"))
# A place's kind, by the first of these its hypernyms reach (a national capital is a city, a
# European country a country); places of no such kind (continents, regions, rivers, parks, a
# city's districts) are left out: "Europe" for "France", "Hollywood" for "Los Angeles" widen or
# narrow a place, and WordNet does not say which is within which.
_PLACE_KINDS = (("country", "country"), ("municipality", "city"), ("state", "state"),
                ("county", "county"))
# A name of one or two capitalised words, as the swap check's tokens read it (no "U.K.", no
# "UK": an abbreviation names too many places).
_PLACE_NAME = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?")


def places(wordnet: Path) -> dict[str, object]:
    """The places WordNet names, for :mod:`stream_guard.text.places`: each name (lower case)
    with the places it may name, each place's kind, and the places each lies within (part
    holonyms, followed up: London is in England, the United Kingdom, the British Isles).

    A place is an instance in WordNet's locations (London, France, Texas, Essex) of a kind the
    check compares (``_PLACE_KINDS``). Names it also writes in lower case (``nice``,
    ``reading``, ``china``, ``turkey``) are marked, so a check can ask for them capitalised
    and not first in a sentence; and so are names it also gives people ("Jackson",
    "Hamilton", "Paris"), so a check can ask for a word of place before them ("in Jackson").
    """
    synsets: dict[str, tuple[int, list[str], list[Pointer]]] = {}
    lower: set[str] = set()
    people: set[str] = set()
    for pos in _POS_FILES:
        for offset, lexfile, words, pointers in _records(wordnet, pos):
            lower.update(w.replace("_", " ") for w in words if w.islower())
            if pos == "n":
                synsets[offset] = (lexfile, words, pointers)
                if lexfile == _PEOPLE:
                    people.update(w.replace("_", " ").lower() for w in words
                                  if w[:1].isupper())

    def kind(offset: str) -> str | None:
        seen, frontier = set(), [offset]
        while frontier:  # breadth first: the nearest anchor decides
            reached = []
            for at in frontier:
                for symbol, target, *_ in synsets[at][2]:
                    if symbol in ("@", "@i") and target not in seen:
                        seen.add(target)
                        reached.append(target)
            for target in reached:
                word = synsets[target][1][0]
                for anchor, name in _PLACE_KINDS:
                    if word == anchor:
                        return name
            frontier = reached
        return None

    def within(offset: str) -> set[str]:
        found: set[str] = set()
        frontier = [offset]
        while frontier:
            frontier = [t for at in frontier for symbol, t, *_ in synsets[at][2]
                        if symbol == "#p" and t not in found and synsets[t][0] == _LOCATIONS]
            found.update(frontier)
        return found

    kinds = {offset: k for offset, (lexfile, _, pointers) in synsets.items()
             if lexfile == _LOCATIONS and any(p[0] == "@i" for p in pointers)
             and (k := kind(offset)) is not None}
    ids = {offset: i for i, offset in enumerate(sorted(kinds))}
    names: dict[str, set[int]] = {}
    for offset in kinds:
        for word in synsets[offset][1]:
            name = word.replace("_", " ")
            if _PLACE_NAME.fullmatch(name) and name.lower() not in _NOT_PLACES:
                names.setdefault(name.lower(), set()).add(ids[offset])
    return {"source": "Princeton WordNet 3.0 (Debian wordnet-base), instances of its locations "
                      "of the kinds listed; built by stream_guard.train.wordnet",
            "license": _LICENSE,
            "names": {name: sorted(found) for name, found in sorted(names.items())},
            "common": sorted(name for name in names if name in lower),
            "people": sorted(name for name in names if name in people),
            "kinds": [kinds[offset] for offset in sorted(kinds)],
            "within": [sorted(ids[t] for t in within(offset) if t in ids)
                       for offset in sorted(kinds)]}


def _verb_forms(wordnet: Path, verbs: set[str]) -> set[str]:
    """Every form a text may write a verb in: its lemma, regular endings ("touched",
    "touches", "touching", "stopped") and WordNet's irregular ones ("took")."""
    forms = set(verbs)
    for verb in verbs:
        stem = verb[:-1] if verb.endswith("e") else verb
        forms.update((verb + "s", verb + "es", verb + "ed", stem + "ed", stem + "ing",
                      verb + verb[-1:] + "ed", verb + verb[-1:] + "ing"))
    for line in (wordnet / "verb.exc").read_text(encoding="latin-1").splitlines():
        forms.add(line.split()[0])
    return forms


def _compares(word: str, adjectives: set[str]) -> bool:
    """Whether ``word`` is a regular comparative or superlative of an adjective ("lower")."""
    for ending in ("er", "est"):
        if word.endswith(ending):
            stem = word[:-len(ending)]
            if {stem, stem + "e", stem[:-1]} & adjectives or (
                    stem.endswith("i") and stem[:-1] + "y" in adjectives):
                return True
    return False


def _tagged(wordnet: Path, pos: str) -> dict[str, int]:
    """How often each lemma was tagged in this part of speech in WordNet's sense-tagged corpus
    (``index.*``: lemma, pos, synsets, pointer count, pointers, senses, tagged senses)."""
    counts: dict[str, int] = {}
    for line in (wordnet / f"index.{_POS_FILES[pos]}").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):  # the licence header
            continue
        fields = line.split()
        at = 4 + int(fields[3])
        counts[fields[0]] = int(fields[at + 1])
    return counts


def load(path: Path = LEXICON) -> tuple[dict[str, list[str]], frozenset[str]]:
    """The committed antonyms and nouns."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["antonyms"], frozenset(data["nouns"])


def main(argv: list[str]) -> int:
    """``WORDNET_DIR LEXICON_OUT [OPPOSITES_OUT [PLACES_OUT]]``."""
    wordnet, out = Path(argv[0]), Path(argv[1])
    # The shipped detector's tokenizer is all-MiniLM-L6-v2's (uncased BERT) one.
    tokenizer = Path(__file__).parents[1] / "models" / "detector" / "tokenizer.json"
    vocab = json.loads(tokenizer.read_text(encoding="utf-8"))
    whole = {w for w in vocab["model"]["vocab"] if w.isalpha()}
    out.write_text(json.dumps(build(wordnet, whole), indent=0, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    if len(argv) > 2:
        # Judging swaps needs common words the tokenizer splits too ("worsen", "unaccompanied").
        common = whole | {w for pos in _POS_FILES
                          for w, count in _tagged(wordnet, pos).items() if count and w.isalpha()}
        Path(argv[2]).write_text(json.dumps(opposites(wordnet, common), indent=0,
                                            ensure_ascii=False) + "\n", encoding="utf-8")
    if len(argv) > 3:
        Path(argv[3]).write_text(json.dumps(places(wordnet), indent=0, ensure_ascii=False)
                                 + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
