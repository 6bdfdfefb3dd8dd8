"""Training pairs, cut and focused by the server's own text pipeline.

The server scores one (premise, window) pair per claim window: windows come from
:class:`~stream_guard.oversight.segmenter.WindowSegmenter`, the premise from the engine's set-up
of the stream's evidence and its alignment of each window
(:meth:`~stream_guard.scoring.engine.GroundingEngine.align`). Training builds its pairs with
exactly those objects (:class:`TextPipeline`, sized by the same settings), so the detector
learns the pair shapes it will be asked to score;
``tests/test_train.py::test_trainer_pairs_are_exactly_what_the_server_scores`` holds the two
paths equal.

Labels. A record's label says that *some* part of a hallucinated response is wrong. When the
record gives the onset of the first wrong span (SummEdits), windows ending before it are
supported and the window holding it is not; without an onset, a hallucinated response gives only
its least-covered window as unsupported and the rest are left out rather than guessed.

Synthetic pairs teach what lexical overlap cannot see: each supported window or evidence sentence
gets an edited twin (a number, entity, date or unit swapped for another of the same kind from the
same document, a negation flipped, an antonym, two names' roles swapped) scored against the premise
the server would build for the *edited* text; and positives are not only copies: evidence
sentences are compressed (a clause or parenthetical dropped) so "a word the evidence lacks" and
"a word dropped" are not confused with "unsupported".
"""

from __future__ import annotations

import functools
import gzip
import json
import random
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from stream_guard.config import Settings
from stream_guard.dataset import Record
from stream_guard.evidence.premise import PREMISE_MAX_CHARS, Premise, SentenceIndex
from stream_guard.exceptions import GuardError
from stream_guard.guard.auth import DEFAULT_TENANT
from stream_guard.metrics import Metrics
from stream_guard.oversight.segmenter import Window, WindowSegmenter
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.engine import (
    CheckJob,
    EngineConfig,
    GroundingEngine,
    StreamEvidence,
    StreamRequest,
)
from stream_guard.text.terms import coverage
from stream_guard.train.edits import compress, entities, local_edit, nouns

SUPPORTED = 1
UNSUPPORTED = 0
ID2LABEL = {UNSUPPORTED: "unsupported", SUPPORTED: "supported"}
# A window of fewer words ("Arthur's Magazine") cannot be judged without the question, which the
# server does not see; HaluEval QA answers are often that short.
MIN_WINDOW_WORDS = 4
# A "right" response window sharing almost no content with the evidence is chit-chat or
# knowledge from outside it: labelling it supported would teach the detector to wave through
# ungrounded text, so it is left out.
MIN_SUPPORTED_OVERLAP = 0.25
CONTEXT_ID = "context"


@dataclass(frozen=True, slots=True)
class Example:
    """One training pair; ``label`` uses the detector's classes (1 = supported)."""

    premise: str
    hypothesis: str
    label: int
    kind: str
    group: str  # the record it came from: pairs of one record stay on one side of any split


@dataclass(frozen=True, slots=True)
class Aligned:
    """A window and the premise the server builds for it."""

    window: Window
    premise: Premise


@dataclass(frozen=True, slots=True)
class TextPipeline:
    """The server's windowing and premise settings, as the trainer must use them."""

    window_max_chars: int
    window_min_chars: int
    premise_max_chars: int = PREMISE_MAX_CHARS

    @classmethod
    def from_settings(cls, settings: Settings) -> TextPipeline:
        """The windows the server with these settings cuts: training, evaluation and
        calibration read them where serving does, so a changed window size changes all four."""
        return cls(settings.window_max_chars, settings.window_min_chars)

    def windows(self, response: str) -> list[Window]:
        """The text windows the server cuts ``response`` into (fenced code and service talk are
        never scored)."""
        seg = WindowSegmenter(self.window_max_chars, self.window_min_chars)
        return [w for w in seg.feed(response) + seg.finish() if w.kind == "text"]

    def evidence(self, context: str) -> StreamEvidence:
        """The evidence a stream started with ``context`` gets: the engine's own set-up."""
        return _engine(self.premise_max_chars).prepare(
            StreamRequest(DEFAULT_TENANT, [ContextItem(CONTEXT_ID, context)], None))

    def premises(self, evidence: StreamEvidence, texts: Sequence[str]) -> list[Premise]:
        """The premise the engine builds for each window text (its alignment step, where
        windows naming numbered things are scoped to their documents): the trainer has no
        premise code of its own to drift from the server's (a review found one that did)."""
        engine = _engine(self.premise_max_chars)
        jobs = [CheckJob(evidence, text, "") for text in texts]
        return [a.premise for a in engine.align(jobs, read_talk=False)]

    def aligned(self, evidence: StreamEvidence, windows: Sequence[Window]) -> list[Aligned]:
        premises = self.premises(evidence, [w.text for w in windows])
        return [Aligned(w, p) for w, p in zip(windows, premises, strict=True)]

    def align(self, record: Record) -> list[Aligned]:
        return self.aligned(self.evidence(record.context), self.windows(record.response))


@functools.lru_cache(maxsize=4)
def _engine(premise_chars: int) -> GroundingEngine:
    """A lexical-tier engine, for its evidence set-up and premises alone (no scorer runs)."""
    engine = GroundingEngine(EngineConfig(tier="lexical"), Metrics())
    engine.premise_chars = premise_chars
    return engine


@dataclass(frozen=True, slots=True)
class Mix:
    """How much each synthetic source contributes per record (probabilities: budgetable)."""

    edit_window: float = 0.7
    context_sentence: float = 0.6
    edit_context: float = 0.8
    off_topic: float = 0.15


DEFAULT_MIX = Mix()


def labelled_windows(record: Record, aligned: Sequence[Aligned],
                     index: SentenceIndex) -> list[tuple[Aligned, int]]:
    """The windows of a record whose label is known, with it (see the module docstring)."""
    usable = [a for a in aligned if len(a.window.text.split()) >= MIN_WINDOW_WORDS]
    grounded = [a for a in usable if coverage(a.window.text, index.keys) >= MIN_SUPPORTED_OVERLAP]
    if record.label == 0:
        return [(a, SUPPORTED) for a in grounded]
    if record.onset is not None:
        before = [(a, SUPPORTED) for a in grounded if a.window.end <= record.onset]
        holding = [(a, UNSUPPORTED) for a in usable
                   if a.window.start <= record.onset < a.window.end]
        return before + holding
    if not usable:
        return []
    worst = min(usable, key=lambda a: coverage(a.window.text, index.keys))
    return [(worst, UNSUPPORTED)]


def record_examples(record: Record, pipeline: TextPipeline, rng: random.Random,
                    others: Sequence[Record] = (), mix: Mix = DEFAULT_MIX) -> list[Example]:
    """Every pair one record yields: its labelled windows and their synthetic twins."""
    evidence = pipeline.evidence(record.context)
    index = evidence.sentences
    if not len(index):
        return []
    out: list[Example] = []

    def add(hypothesis: str, label: int, kind: str) -> None:
        (premise,) = pipeline.premises(evidence, [hypothesis])
        if premise.text:
            out.append(Example(premise.text, hypothesis, label, kind, record.id))

    pool = entities(record.context) + nouns(record.context)
    aligned = pipeline.aligned(evidence, pipeline.windows(record.response))
    for a, label in labelled_windows(record, aligned, index):
        text = a.window.text
        out.append(Example(a.premise.text, text, label, f"record-{record.dataset}", record.id))
        if label == SUPPORTED and rng.random() < mix.edit_window:
            edited = local_edit(text, pool, rng)
            if edited is not None:
                add(edited[0], UNSUPPORTED, f"edit-window-{edited[1]}")
    if rng.random() < mix.context_sentence:
        sentences = [s.text for s in index.sentences if len(s.text.split()) >= MIN_WINDOW_WORDS]
        if sentences:
            sentence = rng.choice(sentences)
            shorter = compress(sentence, rng)
            add(shorter or sentence, SUPPORTED, "context-compressed" if shorter else "context")
            if rng.random() < mix.edit_context:
                edited = local_edit(shorter or sentence, pool, rng)
                if edited is not None:
                    add(edited[0], UNSUPPORTED, f"edit-context-{edited[1]}")
    if others and rng.random() < mix.off_topic:
        other = others[rng.randrange(len(others))]
        windows = pipeline.windows(other.response) if other.context != record.context else []
        if windows:
            add(rng.choice(windows).text, UNSUPPORTED, "off-topic")
    return out


def training_examples(records: Sequence[Record], rng: random.Random, pipeline: TextPipeline,
                      mix: Mix = DEFAULT_MIX) -> list[Example]:
    out: list[Example] = []
    for record in records:
        out.extend(record_examples(record, pipeline, rng, records, mix))
    return out


def write_examples(path: Path, examples: Sequence[Example]) -> None:
    """Training pairs as gzipped JSON lines, in order: a run elsewhere (a GPU machine without
    the source data) trains on exactly these pairs, and soft labels index into them."""
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for e in examples:
            fh.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")


class ExamplesError(GuardError, ValueError):
    """A ``--examples`` file that is not pairs as ``--dump-examples`` writes them."""


def read_examples(path: Path) -> list[Example]:
    """The pairs :func:`write_examples` wrote, in the same order. A file that is not such pairs
    is refused naming the file and line (:class:`ExamplesError`), not with a traceback."""
    out = []
    n = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                n += 1  # the line at fault, should one be
                if line.strip():
                    out.append(Example(**json.loads(line)))
    except (FileNotFoundError, IsADirectoryError):
        raise  # said as it is: the path is wrong, not its content
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError,
            TypeError) as exc:
        where = f"{path}:{n}" if n else str(path)
        raise ExamplesError(f"{where}: not training pairs as --dump-examples writes them "
                         f"(gzipped JSON lines): {exc}") from None
    return out
