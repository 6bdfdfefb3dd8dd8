"""Builds the grounding engine the settings ask for, loading models off the event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from stream_guard.config import ENV_PREFIX, Settings, SettingsError
from stream_guard.exceptions import GuardError
from stream_guard.metrics import Metrics
from stream_guard.scoring.engine import EngineConfig, GroundingEngine
from stream_guard.scoring.fusion import load_fusion

if TYPE_CHECKING:
    from stream_guard.evidence.reader import EvidenceLibrary
    from stream_guard.models.embedder import SentenceEmbedder

log = logging.getLogger("stream_guard.engine")


def check_engine(settings: Settings) -> None:
    """What the engine would refuse of a detector short of loading it, checked before the port
    opens: a ``detector.json`` fusion this version cannot read (the engine reads it only once
    the port is open, and the server then never got ready)."""
    if settings.tier != "cascade" or settings.detector == "default":
        return
    from stream_guard.models.cross_encoder import detector_metadata

    try:
        load_fusion(detector_metadata(settings.detector).get("fusion"))
    except GuardError as exc:
        raise SettingsError(f"{ENV_PREFIX}DETECTOR: {settings.detector}: {exc}") from None


async def build_engine(settings: Settings, metrics: Metrics) -> GroundingEngine:
    return await asyncio.to_thread(_build, settings, metrics)


def _build(settings: Settings, metrics: Metrics) -> GroundingEngine:
    from stream_guard.models.cpus import cpu_budget
    from stream_guard.models.devices import model_instances, resolve_backend, resolve_device

    # The lexical tier runs no model: one instance, and no device to resolve (a review: a
    # lexical server asked for CUDA on a host without it refused to start).
    instances, threads = (1, settings.intra_op_threads) if settings.tier == "lexical" else \
        model_instances(settings.model_instances,
                        resolve_device(settings.device, resolve_backend(settings.backend)),
                        settings.intra_op_threads, cpu_budget())
    config = EngineConfig.from_settings(settings, instances)
    common = {**settings.model_runtime(), "intra_op_threads": threads}
    embedder = library = None
    if settings.embedder != "none":
        from stream_guard.evidence.reader import EvidenceLibrary
        from stream_guard.models.embedder import load_embedder

        embedder = load_embedder(settings.embedder, **common)
        library = EvidenceLibrary(settings.data_dir)
        changed = library.poll()
        log.info("evidence collections loaded", extra={"collections": changed})
        # A stream naming one of these is refused (unknown_collection, "index it again"):
        # say so now, not first to a client (a review: the log said loaded, /readyz 200).
        stale = [key for key in changed if not _served(library, key, embedder)]
        if stale:
            log.warning("collections indexed with another embedder are not served until "
                        "indexed again with this one (stream-guard index add)",
                        extra={"collections": stale, "embedder": embedder.name})
        library.start_polling(settings.index_poll_s)
    from stream_guard.text import places

    places.load()  # read by both tiers' place checks: here, not in a first window's deadline
    if settings.tier == "lexical":
        return GroundingEngine(config, metrics, embedder=embedder,
                               library=library)
    from stream_guard.models.cross_encoder import load_detector
    from stream_guard.models.labels import parse_label_map
    from stream_guard.models.small_talk import load_small_talk_head
    from stream_guard.text import opposites

    opposites.load()  # the opposites check runs with the model: its table is read here

    detector = load_detector(
        settings.detector, batch_size=max(8, settings.batch_max_size),
        use_context=settings.detector_context,
        label_map=parse_label_map(settings.detector_labels) if settings.detector_labels else None,
        **common)
    return GroundingEngine(config, metrics, model=detector,
                           model_threshold=detector.threshold,
                           model_clear_margin=detector.clear_margin,
                           model_run_at_end=detector.run_at_end,
                           fusion=load_fusion(detector.fusion), embedder=embedder, library=library,
                           small_talk=load_small_talk_head() if embedder is not None else None)


def _served(library: EvidenceLibrary, key: str, embedder: SentenceEmbedder) -> bool:
    """Whether the collection ``tenant/name`` loaded, if it did, can be searched with
    ``embedder`` (one that did not load is logged as damaged where it failed)."""
    from stream_guard.evidence.reader import UnknownCollectionError

    tenant, name = key.split("/", 1)
    try:
        return library.get(tenant, name).info.built_with(embedder)
    except UnknownCollectionError:
        return True
