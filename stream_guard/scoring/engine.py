"""Grounding: evidence for each window, then a support score, tier by tier.

The server knows only two calls: ``open_stream`` (prepare a stream's inline evidence once) and
``check`` (score one window). Everything they need from the models runs in the scheduler's
micro-batches on the model thread, so a window from one stream and a window from another share a
forward pass.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from stream_guard.config import Settings
from stream_guard.metrics import Metrics
from stream_guard.oversight.segmenter import sentence_spans
from stream_guard.oversight.stream import WindowScore
from stream_guard.protocol.errors import ErrorCode
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.base import Evidence, Pair, PairScorer
from stream_guard.scoring.lexical import BM25, CONFLICT_CONTRADICTION, coverage, number_conflict
from stream_guard.scoring.scheduler import BatchScheduler, BatchStats

log = logging.getLogger("stream_guard.engine")

CHUNK_CHARS = 600
LEXICAL_THRESHOLD = 0.5  # the lexical tier alone: half the weighted content must be in evidence


@dataclass(slots=True)
class StreamEvidence:
    """One stream's inline evidence, prepared once at ``start``."""

    tenant: str
    chunks: list[Evidence]
    bm25: BM25
    keys: list[set[str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CheckJob:
    evidence: StreamEvidence
    text: str
    previous: str


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """A validated ``start``: where this stream's evidence comes from."""

    tenant: str
    context: Sequence[ContextItem]
    collection: str | None


class NoEvidence(ValueError):
    """A stream asked to be checked against nothing, or against a collection that is not there."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_FRAME) -> None:
        super().__init__(message)
        self.code = code


class GroundingEngine:
    def __init__(self, settings: Settings, metrics: Metrics,
                 model: PairScorer | None = None, model_threshold: float | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.model = model if settings.tier == "cascade" else None
        default = LEXICAL_THRESHOLD
        if self.model is not None and model_threshold is not None:
            default = model_threshold
        self.threshold: float = settings.threshold if settings.threshold is not None else default
        self.scheduler: BatchScheduler[CheckJob, WindowScore] = BatchScheduler(
            self._process, max_batch=settings.batch_max_size,
            max_wait=settings.batch_max_wait_ms / 1000.0, on_batch=self._observe_batch,
            on_depth=metrics.queue_depth.set)

    @property
    def description(self) -> str:
        return f"lexical+{self.model.name}" if self.model is not None else "lexical"

    def validate(self, tenant: str, context: Sequence[ContextItem],
                 collection: str | None) -> StreamRequest:
        """Refuse, before ``started`` is sent, a stream that could never be checked."""
        if collection is not None:
            raise NoEvidence(f"collection {collection!r} does not exist",
                             ErrorCode.UNKNOWN_COLLECTION)
        if not any(item.text.strip() for item in context):
            raise NoEvidence("a stream needs 'context' or a 'collection': there is nothing to "
                             "check its output against")
        return StreamRequest(tenant, context, collection)

    async def open_stream(self, request: StreamRequest) -> StreamEvidence:
        """Chunk (and embed) the stream's inline evidence once, on the model thread."""
        return await self.scheduler.run_exclusive(
            lambda: self._prepare(request.tenant, request.context))

    async def check(self, evidence: StreamEvidence, text: str, previous: str) -> WindowScore:
        return await self.scheduler.submit(CheckJob(evidence, text, previous))

    async def close(self) -> None:
        await self.scheduler.close()

    # --- on the model thread ------------------------------------------------------------------
    def _prepare(self, tenant: str, context: Sequence[ContextItem]) -> StreamEvidence:
        chunks = [Evidence(f"{item.id}#{n}" if n else item.id, text, source="context")
                  for item in context for n, text in enumerate(chunk_text(item.text))]
        bm25 = BM25([c.text for c in chunks])
        return StreamEvidence(tenant, chunks, bm25, bm25.keys)

    def _process(self, jobs: list[CheckJob]) -> list[WindowScore]:
        k = self.settings.evidence_top_k
        results: list[WindowScore | None] = []
        pending: list[tuple[int, list[Evidence]]] = []
        conflicts: list[bool] = []
        for i, job in enumerate(jobs):
            ranked = job.evidence.bm25.top(job.text, k)
            top = [job.evidence.chunks[j] for j, _ in ranked]
            keys = set().union(*(job.evidence.keys[j] for j, _ in ranked)) if ranked else set()
            lexical = coverage(job.text, keys)
            conflict = number_conflict(job.text, " ".join(e.text for e in top))
            if self.model is None or (lexical >= self.settings.lexical_accept and not conflict):
                self.metrics.tier_decisions.labels("lexical").inc()
                hits = [Evidence(e.id, e.text, s, e.source)
                        for e, (_, s) in zip(top, ranked, strict=True)]
                results.append(WindowScore(lexical, CONFLICT_CONTRADICTION if conflict else 0.0,
                                           hits))
            else:
                results.append(None)
                pending.append((i, top))
                conflicts.append(conflict)
        if pending and self.model is not None:
            pairs = [Pair(e.text, jobs[i].text, jobs[i].previous)
                     for i, top in pending for e in top]
            scores = self.model.score_pairs(pairs)
            pos = 0
            for (i, top), conflict in zip(pending, conflicts, strict=True):
                mine = scores[pos: pos + len(top)]
                pos += len(top)
                ranked_ev = sorted((Evidence(e.id, e.text, s.support, e.source)
                                    for e, s in zip(top, mine, strict=True)),
                                   key=lambda e: -e.score)
                support = max((s.support for s in mine), default=0.0)
                contradiction = max([s.contradiction for s in mine] + [
                    CONFLICT_CONTRADICTION if conflict else 0.0])
                self.metrics.tier_decisions.labels("model").inc()
                results[i] = WindowScore(support, contradiction, ranked_ev)
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    def _observe_batch(self, stats: BatchStats) -> None:
        self.metrics.batch_size.observe(stats.size)
        self.metrics.scorer_latency.observe(stats.seconds)


def chunk_text(text: str, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Sentence-aligned chunks of at most ``max_chars`` with one sentence of overlap."""
    spans = sentence_spans(text)
    chunks: list[str] = []
    current: list[tuple[int, int]] = []
    for span in spans:
        if current and span[1] - current[0][0] > max_chars:
            chunks.append(text[current[0][0]: current[-1][1]])
            current = current[-1:] if span[1] - current[-1][0] <= max_chars else []
        current.append(span)
    if current:
        chunks.append(text[current[0][0]: current[-1][1]])
    return [c[i: i + max_chars] for c in chunks for i in range(0, len(c), max_chars)] or []
