"""Two CPU levers read on SummEdits and not built (the fifty-third session); writes one JSON file.

* *New words WordNet cannot explain*: each sentence of a summary is read for the content words
  the evidence does not hold (any inflection); such a word is explained where the evidence
  holds a synonym, a hypernym, a hyponym, a similar or derived word of it in WordNet 3.0
  (Debian's ``wordnet-base``). Counted: the share of edited sentences (the one holding the
  edit's onset) and of faithful summaries' sentences with at least one word unexplained, per
  domain, for ``summedits_train`` and the dev tune half. A lever only if it marks many more
  edited sentences than faithful ones.
* *Names swapped where a sentence opens*: a summary sentence whose capitalised first word the
  evidence lacks while an evidence sentence opens with another word and then the same two
  words; counted by label for ``summedits_train`` (the names check reads no sentence opener).

    python docs/results/summedits_levers.py --data ../shared/data/dev \\
        --wordnet /usr/share/wordnet --out docs/results/summedits-levers.json
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from stream_guard.dataset import Record, read_records, split_records
from stream_guard.eval.results import write_report
from stream_guard.text.terms import STOPWORDS

_WORD = re.compile(r"[A-Za-z][a-z]+(?:-[a-z]+)*")
_SENTENCE = re.compile(r"[^.!?]+[.!?]?")
_POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
_RELATED = frozenset(("@", "@i", "~", "~i", "&", "+", "^", "=", "\\", "<"))
_SUFFIXES = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
             ("ing", "e"), ("er", ""), ("est", ""), ("ly", ""))


class WordNet:
    """Lemma -> synsets, synset -> related synsets, and the exception lists' base forms."""

    def __init__(self, folder: Path) -> None:
        self.synsets: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
        self.related: defaultdict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        self.base: dict[str, str] = {}
        for pos, name in _POS.items():
            for line in (folder / f"data.{name}").read_text(encoding="latin-1").splitlines():
                if line.startswith("  "):
                    continue
                parts = line.split("|")[0].split()
                synset, count = (pos, parts[0]), int(parts[3], 16)
                for k in range(count):
                    self.synsets[re.sub(r"\(.*\)", "", parts[4 + 2 * k].lower())].add(synset)
                k = 4 + 2 * count
                for p in range(int(parts[k])):
                    symbol, offset, target = parts[k + 1 + 4 * p:k + 4 + 4 * p]
                    if symbol in _RELATED:
                        self.related[synset].add(("a" if target == "s" else target, offset))
            for line in (folder / f"{name}.exc").read_text(encoding="latin-1").splitlines():
                if len(words := line.split()) >= 2:
                    self.base.setdefault(words[0], words[1])

    def lemmas(self, word: str) -> set[str]:
        found = {word, self.base.get(word, word)}
        found |= {word[:-len(end)] + add for end, add in _SUFFIXES
                  if word.endswith(end) and len(word) - len(end) >= 3}
        return {w for w in found if w in self.synsets}

    def explained(self, word: str, evidence: set[tuple[str, str]]) -> bool:
        """Known to WordNet and related to a synset of the evidence, or unknown to it."""
        own = {s for lemma in self.lemmas(word) for s in self.synsets[lemma]}
        if not own:
            return True  # a name or a number: the other checks' to judge
        return bool(own & evidence) or any(self.related[s] & evidence for s in own)


def _unexplained(record: Record, sentence: str, wordnet: WordNet) -> bool:
    words = {w.lower() for w in _WORD.findall(record.context)}
    lemmas = words | {lemma for w in words for lemma in wordnet.lemmas(w)}
    evidence = {s for lemma in lemmas for s in wordnet.synsets[lemma]}
    for word in _WORD.findall(sentence):
        low = word.lower()
        if (word[0].isupper() and not sentence.lstrip().startswith(word)) or low in STOPWORDS \
                or len(low) < 3 or ({low} | wordnet.lemmas(low)) & lemmas:
            continue
        if not wordnet.explained(low, evidence):
            return True
    return False


def _sentences(record: Record) -> Iterable[tuple[str, str]]:
    """(edit or faithful, sentence): every sentence of a faithful summary, the onset's of an
    edited one."""
    for match in _SENTENCE.finditer(record.response):
        if not match.group().strip():
            continue
        if record.label == 0:
            yield "faithful", match.group()
        elif record.onset is not None and match.start() <= record.onset < match.end():
            yield "edit", match.group()


def new_words(records: list[Record], wordnet: WordNet) -> dict[str, dict[str, float | int]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        for kind, sentence in _sentences(record):
            for domain in (record.dataset, "all"):
                counts[domain, kind, "n"] += 1
                counts[domain, kind, "marked"] += _unexplained(record, sentence, wordnet)
    return {f"{domain} {kind}": {"sentences": counts[domain, kind, "n"],
                                 "marked": counts[domain, kind, "marked"],
                                 "share": round(counts[domain, kind, "marked"]
                                                / max(1, counts[domain, kind, "n"]), 3)}
            for domain, kind, what in sorted(counts) if what == "n"}


def openers(records: list[Record]) -> dict[str, int]:
    found: Counter[str] = Counter()
    for record in records:
        starts: dict[tuple[str, ...], set[str]] = {}
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", record.context):
            if len(words := re.findall(r"[A-Za-z][\w'&-]*", sentence)) >= 3:
                starts.setdefault(tuple(w.lower() for w in words[1:3]), set()).add(words[0])
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", record.response):
            words = re.findall(r"[A-Za-z][\w'&-]*", sentence)
            if (len(words) >= 3 and words[0][:1].isupper() and words[0].lower() not in STOPWORDS
                    and words[0].lower() not in record.context.lower()
                    and tuple(w.lower() for w in words[1:3]) in starts):
                found["edited" if record.label else "faithful"] += 1
    return dict(found)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    wordnet = WordNet(args.wordnet)
    train = list(read_records(args.data / "summedits_train.jsonl"))
    tune = split_records(read_records(args.data / "summedits_dev.jsonl"), "tune")
    write_report(args.out, {
        "new words WordNet cannot explain": {"summedits_train": new_words(train, wordnet),
                                             "summedits_dev tune": new_words(tune, wordnet)},
        "names swapped where a sentence opens (summedits_train sentences)": openers(train)})


if __name__ == "__main__":
    main()
