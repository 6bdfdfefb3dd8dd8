"""Streams to send: a context paragraph, a response built from it, and where a halt must land.

By default every response is made of sentences copied from its own context, so each window is
supported by construction; a "bad" response has one fabricated sentence (invented names and
numbers that occur nowhere in the context) planted between two of them. The generator therefore
knows the exact character offset where the halt must land, and can count missed halts and false
ones without trusting the server's own labels.

Copies are the cheapest text a server can check: the cascade settles most of their windows
without its detector (``GroundingEngine.settled``), which an answer a model wrote in its own
words rarely allows. ``written`` answers (:func:`load_answers`) are the corpus's own faithful
responses, as their records wrote them (summaries, replies), with the same planted sentence: the
load of real traffic. Whether such an answer is supported is the record's label, not
construction, so a halt of one is the detector's judgement (``stream-guard eval`` measures it),
not the generator's certainty.

The script also records which delta completes each window, computed with the server's own
incremental segmenter, so latency is measured from exactly the moment the server could first
have scored the window (its ``stream_guard_*_latency_seconds`` metrics start at the same point).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson

from stream_guard.config import Settings, SettingsError, load_settings
from stream_guard.dataset import data_files, iter_records
from stream_guard.oversight.segmenter import WindowSegmenter
from stream_guard.text.sentences import sentence_spans

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev"
MAX_CONTEXT_CHARS = 4000
MIN_SENTENCE_CHARS = 25
MAX_SENTENCE_CHARS = 300

# What a stream's response is made of: runs of its context's sentences, or a written answer.
ANSWERS = ("copied", "written")
# Texts a bad script is tried on before the window settings are blamed (ScriptBuilder.build).
_TEXTS_TRIED = 100
# A written answer's context is sent whole (its summary may draw on any part of it), up to this
# many bytes as JSON: its ``start`` frame must fit the server's default 64 KiB frame limit.
MAX_WRITTEN_CONTEXT_BYTES = 60_000

_WORD = re.compile(r"\s*\S+")
_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]]*$")
_STARTS_SENTENCE = re.compile(r"[\"'(\[]?[A-Z0-9]")
# Tokens of an LLM are about four characters of English; long words are cut so a delta is
# the size of a real token and the server sees a realistic number of frames per character.
_TOKEN_MAX_CHARS = 7
_TOKEN_PIECE = 5

_FIRST = ("Velmora", "Quistan", "Orlaith", "Brannoc", "Tesska", "Yvarne", "Dromund", "Ilsabet")
_LAST = ("Kettleborn", "Marsquell", "Ondriveth", "Paskerell", "Vantoria", "Wyndhollow")
_PLACES = ("Tarnholt", "Esquimalt Vale", "Brisenmoor", "Calderwick", "Norrebay", "Quillon Reach")
_UNITS = ("tonnes of copper", "registered voters", "patent filings", "hectares of vineyard",
          "seismic readings", "unpaid invoices")


# What a halt of a script's stream was (StreamScript.judge_halt).
HaltKind = Literal["caught", "false", "late", "wrong_offset"]


@dataclass(frozen=True, slots=True)
class StreamScript:
    """One stream: what ``start`` carries, the deltas in order, and the expected halt.

    ``completes`` maps a window's ``(start, end)`` to the index of the delta whose arrival
    completed it; ``len(deltas)`` stands for the ``end`` frame (the last window is completed by
    ``end``, not by a delta).
    """

    context: str
    deltas: tuple[str, ...]
    bad_at: int | None
    completes: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(self.deltas)

    @property
    def bad(self) -> bool:
        return self.bad_at is not None

    def judge_halt(self, at: int, window: tuple[int, int] | None) -> HaltKind:
        """What a halt of this script's stream was. The server retracts a run of unsupported
        windows from its first (``at``) and names the window whose verdict triggered it
        (``window``), so the halt covers the text from ``at`` to that window's end:

        - ``false``: all of it before any claim (faithful text);
        - ``late``: all of it past the claim, which went through (a miss, and a false halt);
        - ``wrong_offset``: the triggering window runs across the claim's start (other window
          settings than the server's);
        - ``caught``: the claim's window is in it (the run may begin before the claim, on a
          borderline window, or end after it).

        An operator halt judges no window: its ``at`` stands for one."""
        start, end = window if window is not None else (at, at + 1)
        if self.bad_at is None or end <= self.bad_at:
            return "false"
        if at > self.bad_at:
            return "late"
        return "wrong_offset" if start < self.bad_at else "caught"


def tokenize(text: str) -> list[str]:
    """Cut ``text`` into token-sized deltas whose concatenation is exactly ``text``."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group()
        if len(word) <= _TOKEN_MAX_CHARS:
            out.append(word)
            continue
        out.extend(word[i: i + _TOKEN_PIECE] for i in range(0, len(word), _TOKEN_PIECE))
    if "".join(out) != text:  # only trailing whitespace can be lost; keep it on the last token
        out[-1] += text[len("".join(out)):]
    return out


def completing_deltas(deltas: Sequence[str], max_chars: int,
                      min_chars: int) -> dict[tuple[int, int], int]:
    """Which delta completes each window, replaying the server's own segmenter."""
    segmenter = WindowSegmenter(max_chars, min_chars)
    out: dict[tuple[int, int], int] = {}
    for i, delta in enumerate(deltas):
        for window in segmenter.feed(delta):
            out[(window.start, window.end)] = i
    for window in segmenter.finish():
        out[(window.start, window.end)] = len(deltas)
    return out


def fabricated_sentence(rng: random.Random) -> str:
    """A fluent sentence whose names and numbers cannot be in any real context."""
    who = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    count = f"{rng.randrange(1000, 99000):,}"
    return (f"According to {who} of {rng.choice(_PLACES)}, {count} "
            f"{rng.choice(_UNITS)} were recorded there in {rng.randrange(1700, 1900)}.")


def usable_sentences(context: str) -> list[str]:
    """Sentences that start and end like sentences.

    A fragment without final punctuation (a byline, an embedded tweet) would be glued by the
    segmenter to the sentence after it; a planted claim behind one would share its window with
    supported text and the generator would report a miss that is its own doing.
    """
    return [context[s:e] for s, e in sentence_spans(context) if _usable(context, s, e)]


def _usable(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]``, one of its sentences, is usable (:func:`usable_sentences`)."""
    sentence = text[start:end]
    return (MIN_SENTENCE_CHARS <= end - start <= MAX_SENTENCE_CHARS and "\n" not in sentence
            and _ENDS_SENTENCE.search(sentence) is not None
            and _STARTS_SENTENCE.match(sentence) is not None)


def clip_context(context: str, limit: int = MAX_CONTEXT_CHARS) -> str:
    """At most ``limit`` characters, cut at a sentence end so no sentence is half there."""
    if len(context) <= limit:
        return context
    ends = [e for _, e in sentence_spans(context) if e <= limit]
    return context[: ends[-1]] if ends else context[:limit]


@dataclass(frozen=True, slots=True)
class WrittenAnswer:
    """A faithful response of the corpus and the context it answers from: its sentences, in
    order, are the whole response as its record wrote it."""

    context: str
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScriptBuilder:
    """Builds scripts with the server's window settings: from runs of sentences copied out of
    ``paragraphs``, or, when ``answers`` are given, from those written answers whole."""

    paragraphs: Sequence[str]
    window_max_chars: int = Settings.window_max_chars
    window_min_chars: int = Settings.window_min_chars
    min_sentences: int = 4
    max_sentences: int = 7
    answers: Sequence[WrittenAnswer] = ()

    @classmethod
    def for_server(cls, paragraphs: Sequence[str],
                   answers: Sequence[WrittenAnswer] = ()) -> ScriptBuilder:
        """With the window settings of this environment (``STREAM_GUARD_WINDOW_MAX_CHARS``,
        ``STREAM_GUARD_WINDOW_MIN_CHARS``, the ``STREAM_GUARD_CONFIG`` file): a spawned server
        inherits them, so the windows a latency
        is measured from are the ones it cuts (a review: with other sizes most windows were
        unmatched and some latencies negative). Against ``--url``, set them as that server's."""
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise SystemExit(f"loadtest: {exc}") from None
        return cls(paragraphs, settings.window_max_chars, settings.window_min_chars,
                   answers=answers)

    def build(self, rng: random.Random, bad: bool) -> StreamScript:
        for _ in range(_TEXTS_TRIED):
            context, chosen = self._text(rng)
            if not bad:
                return self._script(context, chosen, None)
            # Never first (supported windows precede it) and never last (a later delta, not
            # ``end``, completes its window, as in a real stream that keeps going). The draws
            # are those of earlier revisions: a seed gives the streams it gave them.
            slot = rng.randint(1, len(chosen) - 1)
            planted = fabricated_sentence(rng)
            for at in (*range(slot, len(chosen)), *range(1, slot)):
                bad_at = sum(len(s) + 1 for s in chosen[:at])
                script = self._script(context, [*chosen[:at], planted, *chosen[at:]], bad_at)
                # With small windows the short tail of a long sentence cut before it is
                # merged into the planted sentence's window: a halt there would not start at
                # the claim, so the next slot (or another text) is taken.
                if any(start == bad_at for start, _ in script.completes):
                    return script
        raise ValueError(f"no text of the corpus starts a window where a claim is planted "
                         f"(windows of {self.window_min_chars}-{self.window_max_chars} "
                         f"characters, {_TEXTS_TRIED} texts tried)")

    def _text(self, rng: random.Random) -> tuple[str, list[str]]:
        """A context and the sentences a response says: a written answer whole, or a run of
        sentences copied from a paragraph."""
        if self.answers:
            answer = rng.choice(self.answers)
            return answer.context, list(answer.sentences)
        context = rng.choice(self.paragraphs)
        sentences = usable_sentences(context)
        n = min(len(sentences), rng.randint(self.min_sentences, self.max_sentences))
        first = rng.randrange(0, len(sentences) - n + 1)
        return context, sentences[first: first + n]

    def _script(self, context: str, sentences: Sequence[str],
                bad_at: int | None) -> StreamScript:
        deltas = tuple(tokenize(" ".join(sentences)))
        return StreamScript(context, deltas, bad_at, completing_deltas(
            deltas, self.window_max_chars, self.window_min_chars))


def load_paragraphs(paths: Iterable[Path], per_file: int = 300,
                    min_sentences: int = 4) -> list[str]:
    """Context paragraphs (clipped) with enough usable sentences, ``per_file`` from each file.

    Records are read lazily so the 88 MB summarization file costs only the lines used.
    """
    out: list[str] = []
    for path in paths:
        taken = 0
        for record in iter_records(path):
            context = clip_context(record.context)
            if len(usable_sentences(context)) >= min_sentences:
                out.append(context)
                taken += 1
                if taken >= per_file:
                    break
    if not out:
        raise ValueError("the corpus has no context with enough sentences to build streams from")
    return out


def load_answers(paths: Iterable[Path], per_file: int = 300) -> list[WrittenAnswer]:
    """Faithful responses (label 0) of at least two sentences, ``per_file`` from each file,
    each with its context whole (at most :data:`MAX_WRITTEN_CONTEXT_BYTES`). Every sentence of
    the response must be usable (:func:`usable_sentences`), so the response is streamed as
    written and a planted sentence starts a window of its own."""
    out: list[WrittenAnswer] = []
    for path in paths:
        taken = 0
        for record in iter_records(path):
            if record.label or len(orjson.dumps(record.context)) > MAX_WRITTEN_CONTEXT_BYTES:
                continue
            spans = sentence_spans(record.response)
            if len(spans) >= 2 and all(_usable(record.response, s, e) for s, e in spans):
                out.append(WrittenAnswer(record.context,
                                         tuple(record.response[s:e] for s, e in spans)))
                taken += 1
                if taken >= per_file:
                    break
    if not out:
        raise ValueError("the corpus has no faithful response of two or more sentences to "
                         "build written answers from")
    return out


# The dev files of the written-answer load's capacity searches (docs/benchmarks-log.md).
WRITTEN_FILES = ("summedits_dev", "summedits_train", "halueval_summarization", "begin_dev")


def written_contexts(data_dir: Path, per_file: int = 300) -> list[str]:
    """The distinct contexts of the written-answer load over :data:`WRITTEN_FILES` of
    ``data_dir``, in the order first met."""
    answers = load_answers([data_dir / f"{name}.jsonl" for name in WRITTEN_FILES], per_file)
    return list(dict.fromkeys(a.context for a in answers))


def load_texts(paths: Sequence[Path], per_file: int,
               answers: str) -> tuple[list[str], list[WrittenAnswer]]:
    """What :meth:`ScriptBuilder.for_server` builds from: the contexts and, for ``answers ==
    "written"``, the written answers (:data:`ANSWERS`: ``copied`` takes no answers)."""
    if answers == "written":
        written = load_answers(paths, per_file)
        return list(dict.fromkeys(a.context for a in written)), written
    if answers != "copied":
        raise ValueError(f"answers must be one of {ANSWERS}, not {answers!r}")
    return load_paragraphs(paths, per_file), []


def corpus_files(corpus: Path) -> list[Path]:
    """A JSONL file, or every record file of a directory; a clear exit when there is none (the
    default is the shared dev data beside the checkout, which a clone elsewhere lacks)."""
    corpus = Path(corpus)
    if not corpus.exists():
        raise SystemExit(f"load-test corpus {corpus} not found: pass --corpus with a .jsonl "
                         "file of records, or a directory of them (the shared dev data)")
    return data_files(corpus) if corpus.is_dir() else [corpus]
