"""Grounding: evidence for each window, then one calibrated support score.

The server's calls: ``validate`` (refuse a stream that could never be checked, before
``started``), ``open_stream`` (prepare a stream's inline evidence once), ``check`` (score one
window by a deadline) and ``check_at_once`` (the lexical tier's small checks, below). Window
checks from every stream go through one scheduler, which orders them by deadline and
micro-batches them onto the model thread, so a window from one stream and a window from another
share a forward pass.

Per window: the stream's evidence sentences (inline context, plus the passages its collection's
search finds for the window, for the window before it and, once, for the stream's prompt, less
the sibling documents of another numbered thing than the one the window names:
:mod:`stream_guard.evidence.scope`) are focused into one short premise
(:class:`~stream_guard.evidence.premise.SentenceIndex`); the lexical signals (coverage, number
conflicts, unknown names) are measured; the detector reads the one (premise, window) pair; and a
small calibrated model (:mod:`stream_guard.scoring.fusion`) fuses the two into the window's
support. The detector's pair is skipped where no score it could give would change the window's
verdict (``GroundingEngine.settled``: a sentence copied from the evidence, say). A window the
scheduler can no longer get through the model before its deadline is scored by the lexical
half alone and marked ``degraded``, as is one the model fails on.

One exception to "every check goes through the scheduler": on the lexical tier, a window whose
evidence is a small inline context (at most :data:`INLINE_LEXICAL_MAX_SENTENCES` sentences,
:data:`INLINE_LEXICAL_MAX_NUMBERS` numbers and :data:`INLINE_LEXICAL_MAX_CHARS` characters) is
scored right away on the event loop
(``check_at_once``, which the connection calls before it would start a task for the check).
That check is pure Python over a few dozen sentences, about 80 µs (``loadtest.bench_session``),
no more than parsing the frames that completed the window, while the two thread hand-offs it
saves cost more than the check. At most :data:`ON_LOOP_CHECKS_PER_TURN` run in one turn of
the loop, all connections together; the rest, collections (an embedding and a FAISS search)
and larger contexts go to the worker thread.
The scheduler's metrics (batch size, queue wait, depth) do not see these checks; overload
detection on the lexical tier rests on the event loop's lag.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import logging
import math
import sqlite3
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from stream_guard.config import Settings
from stream_guard.evidence.context import (
    ContextReadings,
    context_sentences,
    places_of,
)
from stream_guard.evidence.faiss_index import set_search_threads
from stream_guard.evidence.premise import (
    PREMISE_MAX_CHARS,
    EvidenceSentence,
    Premise,
    SentenceIndex,
    passage_sentences,
    unique_sentences,
)
from stream_guard.evidence.reader import Collection, EvidenceLibrary, UnknownCollectionError
from stream_guard.evidence.scope import numbered_names, scoped_sentences
from stream_guard.evidence.structured import cells, read
from stream_guard.exceptions import GuardError
from stream_guard.loop import FairSlots
from stream_guard.metrics import Metrics
from stream_guard.models.embedder import Embedder
from stream_guard.models.small_talk import SmallTalkHead
from stream_guard.oversight.policy import CLEAR_MARGIN, CONTRADICTION_THRESHOLD, Bands
from stream_guard.protocol.errors import ErrorCode
from stream_guard.protocol.frames import ContextItem
from stream_guard.scores import Evidence, Pair, PairScore, PairScorer, WindowScore
from stream_guard.scoring.fusion import (
    MODEL_SUPPORT_RANGE,
    STANCE_FEATURES,
    Fusion,
    Signals,
    signals,
    window_support,
)
from stream_guard.scoring.scheduler import BatchScheduler, BatchStats
from stream_guard.text.absence import beside_absence
from stream_guard.text.places import named
from stream_guard.text.quantities import (
    ANY_UNIT,
    drop_worked_out,
    merge_quantities,
    quantity_index,
    read_unscaled,
    resolve_hedged_numbers,
)
from stream_guard.text.rows import RowIndex
from stream_guard.text.self_report import (
    reports_done,
    self_reports,
    told_names,
    user_may_attest,
)
from stream_guard.text.sentences import without_citations
from stream_guard.text.stance import could_be_small_talk
from stream_guard.text.terms import states_anything, terms

log = logging.getLogger("stream_guard.engine")

# The largest inline context the lexical tier checks on the event loop (see the module
# docstring): sentences, and numbers stated (each window's figures are compared with every one;
# 64 sentences dense with figures cost 5-11 ms a window).
INLINE_LEXICAL_MAX_SENTENCES = 64
INLINE_LEXICAL_MAX_NUMBERS = 32
# And characters: a scoped window's quantities are read again from its evidence's whole text
# (_scoped), which a few dozen long sentences make far longer than a window's check (a review
# held the loop for seconds with 57 sentences of 31 KB).
INLINE_LEXICAL_MAX_CHARS = 8_000
# The most such checks one turn of the event loop runs, all connections together.
ON_LOOP_CHECKS_PER_TURN = 8
# Scoped evidence kept per stream, one per set of numbered names: an answer is about one or a
# few products, and each is an index of up to the stream's whole context (memory).
SCOPES_PER_STREAM = 4
# The end of the user's prompt searches the collection once, with the stream's first window,
# and what it finds is evidence for all its windows: an answer's words seldom name what it
# answers ("It was released in 1994."), the question does. Its last characters, where the
# question is (the embedder reads a query's first tokens only).
PROMPT_QUERY_CHARS = 600
# Collection passages read (split into sentences, their quantities found), kept for every
# stream and window that finds them again: a knowledge base answers most questions from a few
# of its chunks, and reading a chunk costs more than finding it. About 10 KB each.
PASSAGES_READ = 2048
LEXICAL_THRESHOLD = 0.5  # the lexical tier alone: half the weighted content must be in evidence
K = TypeVar("K", float, bool)


# Inline context and prompt, in characters, whose set-up takes the small lane
# (:meth:`GroundingEngine.open_stream`): about 10 ms of set-up on the 2-core machine of
# docs/benchmarks-log.md.
SMALL_SETUP_CHARS = 4096


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """The settings scoring reads, and nothing else (the engine never sees ports, keys or
    limits). Built from the server's settings with :meth:`from_settings`."""

    tier: str = "cascade"
    threshold: float | None = None
    clear_margin: float | None = None
    run_at_end: bool | None = None
    contradiction_threshold: float = CONTRADICTION_THRESHOLD
    settle_windows: bool = True
    batch_max_size: int = 32
    batch_max_wait_ms: float = 4.0
    verdict_deadline_ms: float = 150.0
    setup_concurrency: int = 2
    evidence_top_k: int = 3
    conversation_checks: bool = True
    # Model batches run at once (the scheduler's instances): resolved, never 0 (auto) here.
    model_instances: int = 1
    context_readings_chars: int = 500_000

    @classmethod
    def from_settings(cls, settings: Settings, model_instances: int = 1) -> EngineConfig:
        """``model_instances``: the settings' ``model_instances`` as resolved for the device
        the models run on (:func:`stream_guard.models.devices.model_instances`)."""
        return cls(settings.tier, settings.threshold, settings.clear_margin,
                   settings.halt_run_at_end, settings.contradiction_threshold,
                   settings.settle_windows, settings.batch_max_size, settings.batch_max_wait_ms,
                   settings.verdict_deadline_ms, settings.setup_concurrency,
                   settings.evidence_top_k, settings.conversation_checks, model_instances,
                   settings.context_readings_chars)


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """A validated ``start``: where this stream's evidence comes from."""

    tenant: str
    context: Sequence[ContextItem]
    collection: Collection | None
    prompt: str | None = None  # evidence only where the user reports their own situation

    @property
    def items(self) -> list[tuple[str, str]]:
        """The context as ``(id, text)`` pairs, as :class:`ContextReadings` keys it."""
        return [(item.id, item.text) for item in self.context]


# A window's evidence scoped to the numbered things it names, and its quantities; None when
# nothing is left out (engine._scoped).
_Scoped = tuple[SentenceIndex, dict[str, frozenset[str]]] | None
_UNSCOPED: _Scoped = (SentenceIndex(()), {})  # not scoped yet


@dataclass(frozen=True, slots=True)
class FoundPassage:
    """A collection passage a search found, read: its sentences, quantities and places."""

    passage: Evidence
    sentences: list[EvidenceSentence]
    quantities: dict[str, frozenset[str]]
    places: frozenset[str]

    @classmethod
    def of(cls, passage: Evidence) -> FoundPassage:
        """``passage`` read, or read before (:data:`PASSAGES_READ`); its retrieval score is
        not kept (a window's evidence is scored by its premise's relevance)."""
        return read_passage(passage.id, passage.text, passage.source)


@functools.lru_cache(maxsize=PASSAGES_READ)
def read_passage(chunk_id: str, text: str, source: str) -> FoundPassage:
    """A collection chunk read (:meth:`FoundPassage.of`), cached for the process."""
    passage = Evidence(chunk_id, text, 0.0, source)
    sentences = passage_sentences(passage)
    return FoundPassage(passage, sentences, quantity_index(text), places_of(sentences))


@dataclass(frozen=True, slots=True)
class Told:
    """The inline evidence with what the user says of themselves (text.self_report): its
    sentences indexed, its quantities (the user's figures only of units the context states
    none of: where both state one, "13 kg" against "10 kg", the context's record wins; a sum
    of money is no unit), the names the user gave, and its size."""

    sentences: SentenceIndex
    quantities: dict[str, frozenset[str]]
    names: frozenset[str]
    chars: int

    @classmethod
    def of(cls, context: list[EvidenceSentence], quantities: dict[str, frozenset[str]],
           chars: int, item_id: str, told: str) -> Told:
        own = quantity_index(told)
        return cls(SentenceIndex(context + context_sentences([(item_id, told)])),
                   {**{unit: n for unit, n in own.items() if unit != ANY_UNIT}, **quantities},
                   told_names(told), chars + len(told))


@dataclass(frozen=True, slots=True)
class StreamEvidence:
    """One stream's inline evidence, prepared once at ``start``: its sentences, indexed, and the
    quantities it states."""

    sentences: SentenceIndex
    quantities: dict[str, frozenset[str]]
    collection: Collection | None
    chars: int = 0  # of the inline context
    places: frozenset[str] = frozenset()  # the places it names (text.places.sentence_places)
    # The places the user's prompt names: an answer may put them back ("From Denver, the
    # flight ..."), which is no other place than the evidence's (text.places).
    asked: frozenset[str] = frozenset()
    # The term keys of the user's prompt: small talk may give its figures back ("after 40
    # years"), which are the user's, not the evidence's (text.stance).
    prompt_keys: frozenset[str] = frozenset()
    # The inline evidence scoped for windows naming these numbered things (engine._scoped):
    # a stream about the K-123 names it in window after window.
    # Keyed by the names and whether the user's prompt is in (``told``).
    scoped: dict[tuple[frozenset[str], bool], _Scoped] = field(default_factory=dict)
    # Each document's quantities, read once: a scope's are theirs merged (engine._scoped).
    passage_quantities: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    # The rows of the lists and tables it gives (text.rows); None: it gives none.
    rows: RowIndex | None = None
    # What the user's prompt says of themselves (text.self_report): the inline evidence with
    # it, for a window the user may attest.
    told: Told | None = None
    # The prompt's query (:data:`PROMPT_QUERY_CHARS`) until a window's search takes it, and
    # the collection passages it found.
    prompt_query: list[str] = field(default_factory=list)
    prompt_passages: list[FoundPassage] = field(default_factory=list)
    # The collection passages the stream's last searched window found: evidence for the next
    # one too, which goes on about what it named ("Di Maria was axed after ..." follows the
    # sentence that named the club). Only the scoring threads touch these lists, one
    # turn of the stream's at a time (the scheduler's sequences).
    last_passages: list[FoundPassage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CheckJob:
    """A window to check: its text (as the checks read it: without citation markers, which
    name a source and state nothing; a table's head with its first row as the fields they
    state, "Basic Price: $19/month.", as a table in the evidence is read) and the window
    before it."""

    evidence: StreamEvidence
    text: str
    previous: str
    # Where the stream's halt policy draws its lines (its start's ``threshold`` among them),
    # None for the engine's own: what a window is settled by (GroundingEngine.settled).
    bands: Bands | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _as_checked(self.text))
        object.__setattr__(self, "previous", without_citations(self.previous))


def _as_checked(text: str) -> str:
    """A window's text as the checks read it (:class:`CheckJob`)."""
    text = without_citations(text)
    if text.startswith("|") and "\n" in text:  # a table's head, delimiter row and first row
        head, _, row = text.rpartition("\n")
        if len(cells(row)) > len(cells(head.partition("\n")[0])):
            return text  # cells beyond the head's would not be read (a second review)
        return read(text).prose.strip() or text
    return text


@dataclass(frozen=True, slots=True)
class Alignment:
    """A window, the premise chosen for it, and its lexical signals."""

    text: str  # as written, or its claims beside a true absence statement (beside_absence)
    premise: Premise
    signals: Signals
    previous: str  # the window before it: a detector trained with context reads it
    firm: bool = False  # it reports a transaction done for the user (WindowScore.firm)

    def pair(self) -> Pair:
        """What the detector judges: the premise against the window, with the window before
        it as context (``Pair.context``; prepended only for a detector trained with it)."""
        return Pair(self.premise.text, self.text, self.previous)


class NoEvidence(GuardError, ValueError):
    """A stream asked to be checked against nothing, or against a collection that is not there."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_FRAME) -> None:
        super().__init__(message)
        self.code = code


class GroundingEngine:
    def __init__(self, settings: EngineConfig, metrics: Metrics, *,
                 model: PairScorer | None = None, model_threshold: float | None = None,
                 model_clear_margin: float | None = None,
                 model_run_at_end: bool | None = None,
                 fusion: tuple[Fusion, Fusion] | None = None,
                 embedder: Embedder | None = None,
                 library: EvidenceLibrary | None = None,
                 small_talk: SmallTalkHead | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.model = model if settings.tier == "cascade" else None
        if fusion is not None and not settings.conversation_checks:
            # The stance signals are fitted on top of the rest (Fusion.extend): without them
            # the fusion is the calibrated statement fusion, and the policy still holds.
            fusion = (fusion[0].without(STANCE_FEATURES), fusion[1].without(STANCE_FEATURES))
        self.fusion = fusion if self.model is not None else None
        # Whether a window the detector could not move out of its verdict is settled without
        # it (settled): only with a fusion, whose detector term is bounded, that weighs the
        # detector's score up (so every cap it applies moves one way with it: a review found a
        # fusion weighing it down settled a window the detector would have contradicted), and
        # a detector without a contradiction class, whose every contradiction is 0.
        self._settles = (settings.settle_windows and self.fusion is not None
                         and self.fusion[0].weight("model_logit") >= 0
                         and not bool(getattr(self.model, "reads_contradiction", True)))
        self.embedder = embedder
        self.library = library
        # Read with the model only, on its thread, and only on the vectors it was fitted on.
        self.small_talk = (small_talk if self.model is not None and embedder is not None
                           and small_talk is not None and small_talk.reads(embedder) else None)
        self.premise_chars = PREMISE_MAX_CHARS
        # The halt policy's knobs: the operator's setting, else the detector's calibration (it
        # holds only for the model tier), else the lexical tier's default.
        calibrated = self.model is not None
        self.threshold: float = _policy_knob(
            settings.threshold, model_threshold if calibrated else None, LEXICAL_THRESHOLD)
        self.clear_margin: float = _policy_knob(
            settings.clear_margin, model_clear_margin if calibrated else None, CLEAR_MARGIN)
        self.run_at_end: bool = _policy_knob(
            settings.run_at_end, model_run_at_end if calibrated else None, False)
        self.scheduler: BatchScheduler[CheckJob, WindowScore] = BatchScheduler(
            # The lexical tier has nothing to give up for a late window: no fallback (a
            # review saw most of a loaded lexical server's verdicts flagged degraded).
            self._process, fallback=self._degrade if self.model is not None else None,
            max_batch=settings.batch_max_size,
            max_wait=settings.batch_max_wait_ms / 1000.0,
            # A window arriving mid-turn waits for the turn: a third of its deadline at most.
            max_turn=(settings.verdict_deadline_ms / 3000.0 if settings.verdict_deadline_ms
                      else None),
            instances=settings.model_instances,
            # faiss's OpenMP thread count is each thread's own: the scoring threads search
            # with one, as the library's own setting means (evidence.faiss_index)
            initializer=(functools.partial(set_search_threads, 1) if library is not None
                         else None),
            on_batch=self._observe_batch, on_depth=metrics.queue_depth.set)
        # Stream set-up never runs on the model thread: it must not delay other streams' checks.
        # Small contexts have a lane of their own, where a large one never waits ahead of them.
        self._setup = FairSlots(max(1, settings.setup_concurrency))
        self._setup_small = FairSlots(max(1, settings.setup_concurrency))
        self.contexts = ContextReadings(settings.context_readings_chars)
        self._on_loop_used = 0  # checks the event loop ran in this turn (_on_loop_slot)

    @property
    def description(self) -> str:
        tiers = "lexical" + (f"+{self.model.name}" if self.model is not None else "")
        if self.fusion is not None:
            tiers += " (fused)"
        retrieval = self.embedder.name if self.embedder is not None else "none"
        return f"{tiers}, collection retrieval {retrieval}"

    def validate(self, tenant: str, context: Sequence[ContextItem],
                 collection: str | None, prompt: str | None = None) -> StreamRequest:
        """Refuse, before ``started`` is sent, a stream that could never be checked."""
        found = None
        if collection is not None:
            if self.library is None:
                raise NoEvidence(f"collection {collection!r} does not exist: this server runs "
                                 "without an embedder (embedder = none), so it serves no "
                                 "collections", ErrorCode.UNKNOWN_COLLECTION)
            try:
                found = self.library.get(tenant, collection)
            except UnknownCollectionError as exc:
                raise NoEvidence(
                    f"collection {collection!r} could not be loaded (damaged files, named in "
                    "the server's log) and is not served until it is repaired" if exc.damaged
                    else f"collection {collection!r} does not exist for tenant {tenant!r} "
                    "(a collection belongs to the tenant given to `index add --tenant`)",
                    ErrorCode.UNKNOWN_COLLECTION) from None
            if self.embedder is not None and not found.info.built_with(self.embedder):
                raise NoEvidence(
                    f"collection {collection!r} was indexed with embedder "
                    f"{found.info.embedder!r}, this server embeds with "
                    f"{found.info.embedder_named(self.embedder)}; "
                    "re-index it", ErrorCode.UNKNOWN_COLLECTION)
        elif not any(states_anything(item.text) for item in context):
            raise NoEvidence("a stream needs 'context' or a 'collection': there is nothing to "
                             "check its output against")
        return StreamRequest(tenant, context, found, prompt)

    async def open_stream(self, request: StreamRequest,
                          owner: Hashable = None) -> StreamEvidence:
        """Split and index the stream's inline evidence once, in the set-up lane (a worker
        thread of its own, never the model thread), where ``owner`` (the connection) waits its
        turn among the owners waiting (:class:`~stream_guard.loop.FairSlots`). Cancelled while
        it waits for the lane, it leaves at once; cancelled while its thread runs, it keeps
        the lane until the thread is done, so cancelled streams never run more set-ups at once
        than ``setup_concurrency``.

        A context and prompt of at most :data:`SMALL_SETUP_CHARS` together (a chat's few
        passages, milliseconds of set-up; a context whose reading is kept counts nothing) go
        to a lane of their own: connections looping large
        set-ups (half a second each) kept every other stream's first window waiting 0.2 s
        however short its context (``loadtest.bench_setup_fairness --hogs 2``)."""
        # A context whose reading is kept costs its set-up nothing: only the prompt is read
        # (a review: a kept 60 KB context queued behind other streams' large reads).
        kept = self.contexts.holds(request.tenant, request.items)
        size = (0 if kept else sum(len(item.text) for item in request.context)) + len(
            request.prompt or "")
        lane = self._setup_small if size <= SMALL_SETUP_CHARS else self._setup
        async with lane.slot(owner):
            work = asyncio.ensure_future(asyncio.to_thread(self.prepare, request))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                await asyncio.wait({work})
                if not work.cancelled():
                    work.exception()  # the stream is gone: nobody else will read it
                raise

    def check_at_once(self, evidence: StreamEvidence, text: str,
                      previous: str) -> WindowScore | None:
        """The window's score when it is cheap enough to compute right here on the event loop
        (the lexical tier against a small inline context: about 70 µs, less than two thread
        hand-offs); None when it must go through the scheduler (:meth:`check`)."""
        inline = evidence.told or evidence  # the larger: with what the user told
        if (self.model is None and evidence.collection is None
                and len(inline.sentences) <= INLINE_LEXICAL_MAX_SENTENCES
                and len(inline.quantities.get(ANY_UNIT, ())) <= INLINE_LEXICAL_MAX_NUMBERS
                and inline.chars <= INLINE_LEXICAL_MAX_CHARS
                and self._on_loop_slot()):
            return self._process([CheckJob(evidence, text, previous)])[0]
        return None

    def _on_loop_slot(self) -> bool:
        """One of the :data:`ON_LOOP_CHECKS_PER_TURN` checks the event loop may run in one turn,
        for all connections together; the rest go to the scheduler. Checks that waited for
        the same evidence all wake in one turn: 64 of them held the loop 0.7 s (a review)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside an event loop: there is no turn to hold up
            return True
        if self._on_loop_used == 0:
            loop.call_soon(self._new_turn)  # runs after this turn
        if self._on_loop_used >= ON_LOOP_CHECKS_PER_TURN:
            return False
        self._on_loop_used += 1
        return True

    def _new_turn(self) -> None:
        self._on_loop_used = 0

    async def check(self, evidence: StreamEvidence, text: str, previous: str,
                    deadline: float | None = None, owner: Hashable = None,
                    bands: Bands | None = None) -> WindowScore:
        """The window's score; ``deadline`` (``time.perf_counter()`` seconds) is when the
        verdict is due: a window that cannot get through the model by then is scored by the
        lexical tier alone. ``owner`` (the connection) gets its fair share of the scheduler.
        ``bands``: the lines the stream's halt policy draws (:attr:`CheckJob.bands`)."""
        score = self.check_at_once(evidence, text, previous)
        if score is not None:
            return score
        # One stream's windows never run in two turns at once: aligning one reads and
        # updates what the window before it found (StreamEvidence.last_passages).
        return await self.scheduler.submit(CheckJob(evidence, text, previous, bands),
                                           deadline, owner, sequence=id(evidence))

    def reload_evidence(self) -> list[str]:
        """Re-read every collection (SIGHUP); blocking, call it off the loop."""
        return self.library.reload() if self.library is not None else []

    async def close(self) -> None:
        await self.scheduler.close()
        if self.library is not None:
            # Off the loop: it joins the poller, which may be loading a large collection.
            await asyncio.to_thread(self.library.close)

    # --- pure steps, shared with training and evaluation --------------------------------------
    def prepare(self, request: StreamRequest) -> StreamEvidence:
        """The stream's evidence: its context's reading (kept for the streams that send the
        same context, :class:`~stream_guard.evidence.context.ContextReadings`) and what its
        prompt adds."""
        context, kept = self.contexts.read(request.tenant, request.items)
        if request.context:  # a collection's stream sends none
            self.metrics.context_readings.labels("kept" if kept else "read").inc()
        told = self_reports(request.prompt) if request.prompt else ""
        return StreamEvidence(context.sentences, context.quantities, request.collection,
                              context.chars, context.places,
                              named(request.prompt) if request.prompt else frozenset(),
                              frozenset(t.key for t in terms(request.prompt))
                              if request.prompt else frozenset(),
                              rows=context.rows,
                              prompt_query=[_prompt_query(request.prompt)]
                              if request.prompt and request.collection is not None else [],
                              told=Told.of(context.sentences.sentences, context.quantities,
                                           context.chars, _prompt_id(request.context), told)
                              if told else None)

    def align(self, jobs: Sequence[CheckJob], *, read_talk: bool = True) -> list[Alignment]:
        """Premise and lexical signals per window (collections searched with the embedder);
        ``read_talk``: the small-talk head reads the windows of its shape (not for the deadline
        fallback, which must stay as cheap as the lexical tier)."""
        hits = self._search_collections(jobs)
        out: list[Alignment] = []
        talk: list[int] = []  # windows for the small-talk head
        for i, job in enumerate(jobs):
            ev = job.evidence
            told = (ev.told if ev.told is not None
                    and user_may_attest(job.text, ev.told.names, job.previous) else None)
            inline, quantities = ((told.sentences, told.quantities) if told is not None
                                  else (ev.sentences, ev.quantities))
            index, places = inline, ev.places
            if i in hits:
                own = list(map(FoundPassage.of, hits[i]))
                passages = _distinct([*own, *ev.last_passages, *ev.prompt_passages])
                ev.last_passages[:] = own
                if passages:
                    found = unique_sentences(f.sentences for f in passages)
                    index = SentenceIndex(index.sentences + found)
                    quantities = merge_quantities(quantities, *(f.quantities for f in passages))
                    places = places.union(*(f.places for f in passages))
            # A window that also says, truly, what its source leaves out ("The page lists
            # vegetarian dishes, but it doesn't mention vegan options.") is scored by its claims:
            # the abstention's own words are not the evidence's (text.absence.beside_absence).
            written = beside_absence(job.text, index.keys) or job.text
            window = terms(written)
            numbered = numbered_names(window)
            key = (numbered, told is not None)
            if numbered:  # another numbered thing's documents may be left out
                if index is not inline:  # collection hits: this window's own evidence
                    scoped = _scoped(index, numbered, {})
                elif (scoped := ev.scoped.get(key, _UNSCOPED)) is _UNSCOPED:
                    # inline evidence alone: scoped once per stream and set of names
                    scoped = _scoped(index, numbered, ev.passage_quantities)
                    if len(ev.scoped) >= SCOPES_PER_STREAM:
                        ev.scoped.clear()
                    ev.scoped[key] = scoped
                if scoped is not None:
                    index, quantities = scoped
            premise = index.focus(window, self.premise_chars)
            premise_keys = frozenset().union(*(s.keys for s in premise.sentences))
            # The signals read a rounded figure ("more than 60") as the one it rounds (62),
            # a sum at the scale a call left unsaid ("$196,000" for "about 196") as said, and
            # not a figure worked out of others the window writes ("€18 each, €36 in total");
            # the premise and the model see the window as written.
            text = resolve_hedged_numbers(drop_worked_out(
                read_unscaled(written, quantities), quantities, job.previous,
                None if ev.rows is None else functools.partial(
                    ev.rows.derived, frozenset(t.key for t in window), written, job.previous),
                [s.text for s in premise.sentences]), quantities)
            if text is not written:
                window = terms(text)
            # The polarity check only caps what the detector scored (fusion.capped): the
            # lexical tier, checked on the event loop too, has no use for it; nor, to keep that
            # tier as cheap, for the opposites check.
            model = self.model is not None
            window_signals = signals(
                window, text, index.keys, premise_keys, quantities,
                [(s.text, s.keys) for s in premise.sentences] if model else (),
                list(dict.fromkeys(s.text for s in (*premise.sentences, *premise.nearest)))
                if model else (), places, ev.asked, ev.rows, ev.prompt_keys)
            if (model and read_talk and self.small_talk is not None
                    and not window_signals.small_talk
                    and not window_signals.conflict and could_be_small_talk(
                        written, frozenset(t.key for t in window), index.keys,
                        ev.prompt_keys)):
                talk.append(i)
            out.append(Alignment(written, premise, window_signals, job.previous,
                                 reports_done(job.text)))
        if talk:
            self._read_small_talk(out, talk)
        return out

    def _search_collections(self, jobs: Sequence[CheckJob]) -> dict[int, list[Evidence]]:
        """The passages each window of a collection stream finds (by job index); a stream's
        first window searches its prompt too (:attr:`StreamEvidence.prompt_passages`). One
        embedding batch for all, and one search per collection: FAISS answers a batch of
        queries at a fraction of their cost one by one."""
        if self.embedder is None:  # no collection is served (validate refuses one)
            return {}
        queries: list[tuple[int, str, bool]] = []  # job index, text, whether its prompt's
        for i, job in enumerate(jobs):
            if job.evidence.collection is not None:
                queries.append((i, job.text, False))
                if job.evidence.prompt_query:
                    queries.append((i, job.evidence.prompt_query.pop(), True))
        if not queries:
            return {}
        vectors = self.embedder.embed([text for _, text, _ in queries])
        rows: dict[int, list[int]] = {}  # per collection (a version is one object): its queries
        for r, (i, _, _) in enumerate(queries):
            rows.setdefault(id(jobs[i].evidence.collection), []).append(r)
        hits: dict[int, list[Evidence]] = {}
        for mine in rows.values():
            collection = jobs[queries[mine[0]][0]].evidence.collection
            assert collection is not None
            try:
                found = collection.search(vectors[mine], self.settings.evidence_top_k,
                                          [queries[r][1] for r in mine])
            except sqlite3.DatabaseError as exc:
                # Its document store damaged ("file is not a database", "malformed"); not an
                # OperationalError (an I/O hiccup, a lock), which the next search may not meet.
                if self.library is not None and not isinstance(exc, sqlite3.OperationalError):
                    self.library.set_aside(collection, exc)
                raise
            for r, passages in zip(mine, found, strict=True):
                i, _, prompt = queries[r]
                if prompt:
                    jobs[i].evidence.prompt_passages.extend(map(FoundPassage.of, passages))
                else:
                    hits[i] = passages
        return hits

    def _read_small_talk(self, out: list[Alignment], talk: list[int]) -> None:
        """Windows with the shape of small talk that its words did not show: the small-talk
        head reads what they mean (one embedder batch), and those it reads as small talk are
        marked so (``Signals.small_talk``), in place."""
        assert self.small_talk is not None and self.embedder is not None
        verdicts = self.small_talk.small_talk(self.embedder, [out[i].text for i in talk])
        for i, is_talk in zip(talk, verdicts, strict=True):
            if is_talk:
                out[i] = dataclasses.replace(
                    out[i], signals=dataclasses.replace(out[i].signals, small_talk=True))

    # --- on the model thread ------------------------------------------------------------------
    def _process(self, jobs: list[CheckJob]) -> list[WindowScore]:
        aligned = self.align(jobs)
        if self.model is None:
            return [self._lexical(a) for a in aligned]
        settled = {i: fixed for i, (a, job) in enumerate(zip(aligned, jobs, strict=True))
                   if a.premise.sentences
                   and (fixed := self.settled(a, job.bands)) is not None}
        to_model = [i for i, a in enumerate(aligned) if a.premise.sentences and i not in settled]
        scores = self._model_scores([aligned[i].pair() for i in to_model])
        by_job = dict(zip(to_model, scores, strict=True))
        out = []
        non_finite = 0
        for i, a in enumerate(aligned):
            if i in settled:
                self.metrics.tier_decisions.labels("lexical").inc()
                out.append(settled[i])
                continue
            if i not in by_job:
                out.append(self._lexical(a))
                continue
            score = by_job[i]
            if score is None or not (math.isfinite(score.support)
                                     and math.isfinite(score.contradiction)):
                # The model failed on the pair, or gave NaN or inf (fp16 overflow, a broken
                # export), which says nothing (fused, a NaN read as the highest support: a
                # review): the lexical tier's verdict, marked degraded
                non_finite += score is not None
                out.append(self._lexical(a, degraded=True))
                continue
            self.metrics.tier_decisions.labels("model").inc()
            out.append(_scored(a, *window_support(
                a.signals, score.support, self.fusion[0] if self.fusion else None,
                score.contradiction)))
        if non_finite:  # once a batch: a broken model would log every window
            self.metrics.degraded_windows.inc(non_finite)
            log.warning("the model gave non-finite scores: the lexical tier's verdicts used",
                        extra={"windows": non_finite, "batch": len(to_model)})
        return out

    def bands(self) -> Bands:
        """The lines of the halt policy this engine's settings give a stream with no threshold
        of its own."""
        return Bands.of(self.threshold, self.clear_margin, self.settings.contradiction_threshold)

    def settled(self, a: Alignment, bands: Bands | None = None) -> WindowScore | None:
        """The window's score when the detector cannot change its verdict under the halt
        policy of its stream (``bands``: the lines it draws, else the engine's own), else None.

        The fusion clips the detector's logit to +-``LOGIT_CLIP`` and is monotonic in it, and
        every cap it applies is too, save the polarity cap, which asks the detector (so its two
        ends differ). So where the fused scores at the two ends get one verdict from the halt
        policy (:func:`~stream_guard.oversight.policy.verdict`), every score the detector could
        give gets it, with the same decision, and its pair (most of a window's cost on a CPU)
        is not run: a copied sentence of the evidence is supported, a figure the evidence
        states otherwise contradicted, whatever the detector reads.

        The score given is the lexical fusion's, the calibrated estimate without the detector
        (a degraded window's), held between the two ends; not degraded."""
        if not self._settles:
            return None
        assert self.fusion is not None
        low = window_support(a.signals, MODEL_SUPPORT_RANGE[0], self.fusion[0])
        high = window_support(a.signals, MODEL_SUPPORT_RANGE[1], self.fusion[0])
        bands = bands or self.bands()
        if bands.verdict(*low) is not bands.verdict(*high):
            return None
        lexical = window_support(a.signals, None, self.fusion[1])[0]
        return _scored(a, min(max(lexical, min(low[0], high[0])), max(low[0], high[0])),
                       max(low[1], high[1]))

    def _model_scores(self, pairs: list[Pair]) -> list[PairScore | None]:
        """The model's scores of ``pairs``, None for a pair it raised on. A model that fails
        (a GPU out of memory, an input its runtime rejects) must not let its windows pass
        unchecked, as a window no check could score does: they get the lexical tier's verdict,
        marked degraded, like a window past its deadline. A batch that raises is run again pair
        by pair, so one bad input costs only its own window the model's reading."""
        assert self.model is not None
        try:
            return list(self.model.score_pairs(pairs))
        except Exception as exc:
            failure = exc
        scores: list[PairScore | None] = (
            [self._pair_score(pair) for pair in pairs] if len(pairs) > 1 else [None])
        failed = scores.count(None)
        self.metrics.degraded_windows.inc(failed)
        log.error("the model failed: the lexical tier's verdicts used", exc_info=failure,
                  extra={"windows": failed, "batch": len(pairs)})
        return scores

    def _pair_score(self, pair: Pair) -> PairScore | None:
        assert self.model is not None
        try:
            return self.model.score_pairs([pair])[0]
        except Exception:
            return None

    def _degrade(self, jobs: list[CheckJob]) -> list[WindowScore]:
        """Windows past their deadline: the lexical tier's verdict, marked degraded."""
        self.metrics.degraded_windows.inc(len(jobs))
        return [self._lexical(a, degraded=True) for a in self.align(jobs, read_talk=False)]

    def _lexical(self, a: Alignment, *, degraded: bool = False) -> WindowScore:
        self.metrics.tier_decisions.labels("lexical").inc()
        return _scored(a, *window_support(a.signals, None, self.fusion[1] if self.fusion else None),
                       degraded=degraded)

    def _observe_batch(self, stats: BatchStats) -> None:
        if stats.size:  # a turn of degraded windows alone ran no batch (a review: size 0)
            self.metrics.batch_size.observe(stats.size)
            if stats.model_seconds is not None:  # None: the turn failed and was retried
                # the batch's own time: a turn's fallback sweep is not the model's (a review
                # saw a 5 ms batch reported as 107 ms)
                self.metrics.scorer_latency.observe(stats.model_seconds)
        self.metrics.queue_wait.observe(stats.waited)
        if stats.late:
            self.metrics.deadline_misses.inc(stats.late)


def _prompt_id(context: Sequence[ContextItem]) -> str:
    """The id evidence from the user's prompt is cited by: ``prompt``, or ``prompt-N`` when a
    context item of the client's has that id already."""
    taken = {item.id for item in context}
    return next(name for n in itertools.count()
                if (name := "prompt" if n == 0 else f"prompt-{n}") not in taken)


def _distinct(passages: Sequence[FoundPassage]) -> list[FoundPassage]:
    """``passages`` in order, a chunk found again (by another search) once."""
    first: dict[str, FoundPassage] = {}
    for f in passages:
        first.setdefault(f.passage.id, f)
    return list(first.values())


def _prompt_query(prompt: str) -> str:
    """The end of ``prompt`` (:data:`PROMPT_QUERY_CHARS`), from a word's start."""
    if len(prompt) <= PROMPT_QUERY_CHARS:
        return prompt
    tail = prompt[-PROMPT_QUERY_CHARS:]
    _, space, words = tail.partition(" ")
    return words if space else tail


def _scoped(index: SentenceIndex, numbered: frozenset[str],
            read: dict[str, dict[str, frozenset[str]]]) -> _Scoped:
    """The evidence of a window naming ``numbered``, less other numbered things' documents
    (:mod:`stream_guard.evidence.scope`), and its quantities; None when nothing is left out.
    The quantities are its documents' merged (scoping keeps or leaves out whole documents),
    each document read once into ``read``: reading the kept text again for each new set of
    names cost a window a third of a second over a 60 KB table, and a stream could name a new
    one in every window (a review)."""
    kept = scoped_sentences(index, numbered)
    if kept is None:
        return None
    documents: dict[str, list[str]] = {}  # a document's passages, read together as before:
    for passage in dict.fromkeys(s.passage for s in kept):  # a figure may span two chunks
        documents.setdefault(passage.document, []).append(passage.text)
    indexes = []
    for passages in documents.values():
        text = "\n".join(passages)
        quantities = read.get(text)
        if quantities is None:
            quantities = read[text] = quantity_index(text)
        indexes.append(quantities)
    return SentenceIndex(kept), merge_quantities(*indexes)


def _policy_knob(setting: K | None, calibrated: K | None, default: K) -> K:
    if setting is not None:
        return setting
    return calibrated if calibrated is not None else default


def _scored(a: Alignment, support: float, contradiction: float, *,
            degraded: bool = False) -> WindowScore:
    """The window's score, citing the passages its premise came from."""
    return WindowScore(support, contradiction, a.premise.passages(), degraded, a.firm)
