"""Grounding: evidence for each window, then a support score, tier by tier.

The server knows only two calls: ``open_stream`` (prepare a stream's inline evidence once) and
``check`` (score one window). Everything they need from the models runs in the scheduler's
micro-batches on the model thread, so a window from one stream and a window from another share a
forward pass of the embedder and of the cross-encoder.

Retrieval: BM25 over the stream's inline context always (exact words matter for numbers and
names); with an embedder, also dense search over the context and the stream's collection, merged
by cosine. Scoring: the lexical tier settles windows whose content is literally in the evidence;
the model tier (when loaded) judges the rest against each candidate chunk, and a window's support
is its best chunk's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stream_guard.config import Settings
from stream_guard.evidence.context import ContextIndex, context_chunks, merge_evidence
from stream_guard.evidence.reader import Collection, EvidenceLibrary, UnknownCollectionError
from stream_guard.metrics import Metrics
from stream_guard.models.embedder import Embedder
from stream_guard.oversight.stream import WindowScore
from stream_guard.protocol.errors import ErrorCode
from stream_guard.protocol.frames import ContextItem
from stream_guard.scoring.base import Evidence, Pair, PairScorer
from stream_guard.scoring.lexical import (
    BM25,
    CONFLICT_CONTRADICTION,
    coverage,
    number_conflict,
    term_keys,
    terms,
)
from stream_guard.scoring.scheduler import BatchScheduler, BatchStats

log = logging.getLogger("stream_guard.engine")

LEXICAL_THRESHOLD = 0.5  # the lexical tier alone: half the weighted content must be in evidence


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """A validated ``start``: where this stream's evidence comes from."""

    tenant: str
    context: Sequence[ContextItem]
    collection: Collection | None


@dataclass(slots=True)
class StreamEvidence:
    """One stream's evidence, prepared once at ``start``."""

    chunks: list[Evidence]
    bm25: BM25
    dense: ContextIndex | None
    collection: Collection | None


@dataclass(frozen=True, slots=True)
class CheckJob:
    evidence: StreamEvidence
    text: str
    previous: str


class NoEvidence(ValueError):
    """A stream asked to be checked against nothing, or against a collection that is not there."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_FRAME) -> None:
        super().__init__(message)
        self.code = code


class GroundingEngine:
    def __init__(self, settings: Settings, metrics: Metrics, *,
                 model: PairScorer | None = None, model_threshold: float | None = None,
                 embedder: Embedder | None = None,
                 library: EvidenceLibrary | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.model = model if settings.tier == "cascade" else None
        self.embedder = embedder
        self.library = library
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
        tiers = "lexical" + (f"+{self.model.name}" if self.model is not None else "")
        retrieval = self.embedder.name if self.embedder is not None else "bm25"
        return f"{tiers}, retrieval {retrieval}"

    def validate(self, tenant: str, context: Sequence[ContextItem],
                 collection: str | None) -> StreamRequest:
        """Refuse, before ``started`` is sent, a stream that could never be checked."""
        found = None
        if collection is not None:
            if self.library is None:
                raise NoEvidence(f"collection {collection!r} does not exist: this server runs "
                                 "without an embedder (embedder = none), so it serves no "
                                 "collections", ErrorCode.UNKNOWN_COLLECTION)
            try:
                found = self.library.get(tenant, collection)
            except UnknownCollectionError:
                raise NoEvidence(f"collection {collection!r} does not exist",
                                 ErrorCode.UNKNOWN_COLLECTION) from None
            if self.embedder is not None and found.info.embedder != self.embedder.name:
                raise NoEvidence(
                    f"collection {collection!r} was indexed with embedder "
                    f"{found.info.embedder!r}, this server embeds with {self.embedder.name!r}; "
                    "re-index it", ErrorCode.UNKNOWN_COLLECTION)
        elif not any(item.text.strip() for item in context):
            raise NoEvidence("a stream needs 'context' or a 'collection': there is nothing to "
                             "check its output against")
        return StreamRequest(tenant, context, found)

    async def open_stream(self, request: StreamRequest) -> StreamEvidence:
        """Chunk (and embed) the stream's inline evidence once, on the model thread."""
        return await self.scheduler.run_exclusive(lambda: self._prepare(request))

    async def check(self, evidence: StreamEvidence, text: str, previous: str) -> WindowScore:
        return await self.scheduler.submit(CheckJob(evidence, text, previous))

    def reload_evidence(self) -> list[str]:
        """Re-read every collection (SIGHUP); blocking, call it off the loop."""
        return self.library.reload() if self.library is not None else []

    async def close(self) -> None:
        await self.scheduler.close()
        if self.library is not None:
            self.library.close()

    # --- on the model thread ------------------------------------------------------------------
    def _prepare(self, request: StreamRequest) -> StreamEvidence:
        chunks = context_chunks([(item.id, item.text) for item in request.context])
        # A context of at most k chunks is searched by taking all of it: embedding it (and every
        # window) would only reorder the same candidates, at most of the tier's CPU cost.
        needs_dense = len(chunks) > self.settings.evidence_top_k
        dense = (ContextIndex.from_chunks(chunks, self.embedder)
                 if self.embedder is not None and needs_dense else None)
        return StreamEvidence(chunks, BM25([c.text for c in chunks]), dense, request.collection)

    def _retrieve(self, jobs: list[CheckJob]) -> list[list[Evidence]]:
        k = self.settings.evidence_top_k
        dense_jobs = [i for i, job in enumerate(jobs)
                      if job.evidence.dense is not None or job.evidence.collection is not None]
        vectors = (self.embedder.embed([jobs[i].text for i in dense_jobs])
                   if self.embedder is not None and dense_jobs else np.zeros((0, 0), np.float32))
        row = {job_index: r for r, job_index in enumerate(dense_jobs)}
        out = []
        for i, job in enumerate(jobs):
            ev = job.evidence
            # Chunks sharing no word with the window still come back (last): a paraphrase is
            # for the model to judge, and it can only judge what it is shown.
            lexical = [Evidence(c.id, c.text, 0.0, c.source)
                       for c in (ev.chunks[j] for j, _ in ev.bm25.top(job.text, k))]
            vec = vectors[row[i]: row[i] + 1] if i in row else None
            context = ev.dense.search(vec, k)[0] if ev.dense is not None and vec is not None \
                else lexical
            collection = ev.collection.search(vec, k)[0] if ev.collection is not None and \
                vec is not None else []
            hits = merge_evidence([context, collection], 2 * k)
            if ev.dense is not None:
                # BM25's best chunk joins the dense ones: an exact name or number match must
                # never be missed because its sentence embeds far from the window's.
                known = {h.text for h in hits}
                hits += [e for e in lexical if e.text not in known][:1]
            out.append(hits)
        return out

    def _process(self, jobs: list[CheckJob]) -> list[WindowScore]:
        candidates = self._retrieve(jobs)
        results: list[WindowScore | None] = []
        pending: list[tuple[int, list[Evidence], bool]] = []
        for i, (job, hits) in enumerate(zip(jobs, candidates, strict=True)):
            window_terms = terms(job.text)
            chunk_keys = [term_keys(e.text) for e in hits]
            lexical = coverage(window_terms, set().union(*chunk_keys))
            conflict = number_conflict(job.text, " ".join(e.text for e in hits))
            settled = lexical >= self.settings.lexical_accept and not conflict
            if self.model is None or settled or not hits:
                self.metrics.tier_decisions.labels("lexical").inc()
                # Each chunk's own coverage of the window, so evidence scores mean "support of
                # this window by this chunk" in every tier (0-1), not a retrieval similarity.
                ranked = sorted((Evidence(e.id, e.text, coverage(window_terms, keys), e.source)
                                 for e, keys in zip(hits, chunk_keys, strict=True)),
                                key=lambda e: -e.score)
                results.append(_conflicted(WindowScore(lexical, 0.0, ranked), conflict))
            else:
                results.append(None)
                pending.append((i, hits, conflict))
        if pending and self.model is not None:
            pairs = [Pair(e.text, jobs[i].text, jobs[i].previous)
                     for i, hits, _ in pending for e in hits]
            scores = self.model.score_pairs(pairs)
            pos = 0
            for i, hits, conflict in pending:
                mine = scores[pos: pos + len(hits)]
                pos += len(hits)
                ranked = sorted((Evidence(e.id, e.text, s.support, e.source)
                                 for e, s in zip(hits, mine, strict=True)), key=lambda e: -e.score)
                self.metrics.tier_decisions.labels("model").inc()
                results[i] = _conflicted(WindowScore(
                    max(s.support for s in mine), max(s.contradiction for s in mine), ranked),
                    conflict)
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    def _observe_batch(self, stats: BatchStats) -> None:
        self.metrics.batch_size.observe(stats.size)
        self.metrics.scorer_latency.observe(stats.seconds)


def _conflicted(score: WindowScore, conflict: bool) -> WindowScore:
    """A number the evidence states differently outweighs whatever else matched.

    Support from the other words (or from a model that overlooks one digit) must not outvote it:
    the window is capped to the contradiction's complement, so every threshold treats it as
    contradicted.
    """
    if not conflict:
        return score
    return WindowScore(min(score.support, 1.0 - CONFLICT_CONTRADICTION),
                       max(score.contradiction, CONFLICT_CONTRADICTION), score.evidence)
