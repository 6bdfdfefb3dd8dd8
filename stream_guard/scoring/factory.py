"""Builds the grounding engine the settings ask for, loading models off the event loop."""

from __future__ import annotations

import asyncio

from stream_guard.config import Settings
from stream_guard.metrics import Metrics
from stream_guard.scoring.engine import GroundingEngine


async def build_engine(settings: Settings, metrics: Metrics) -> GroundingEngine:
    return await asyncio.to_thread(_build, settings, metrics)


def _build(settings: Settings, metrics: Metrics) -> GroundingEngine:
    if settings.tier == "lexical":
        return GroundingEngine(settings, metrics)
    from stream_guard.models.cross_encoder import load_detector

    detector = load_detector(settings.detector, backend=settings.backend, device=settings.device,
                             cache_dir=settings.cache_dir,
                             intra_op_threads=settings.intra_op_threads)
    return GroundingEngine(settings, metrics, detector, detector.threshold)
