"""Plain HTTP over loopback for the generator: readiness polls and ticket minting.

A raw HTTP/1.1 exchange on an asyncio socket keeps the generator free of an HTTP client library
and of blocking calls on its event loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import orjson


class HttpError(RuntimeError):
    """A non-2xx answer; the message carries status and body."""


async def http_request(host: str, port: int, method: str, path: str,
                       headers: dict[str, str] | None = None,
                       timeout: float = 5.0) -> tuple[int, bytes]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        if method == "POST":
            lines.append("Content-Length: 0")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


async def mint_ticket(host: str, port: int, api_key: str) -> str:
    """A browser ticket from ``POST /v1/tickets``, as a page's own backend would get it."""
    status, body = await http_request(host, port, "POST", "/v1/tickets",
                                      {"Authorization": f"Bearer {api_key}"})
    if status != 200:
        raise HttpError(f"POST /v1/tickets: {status} {body[:200]!r}")
    return str(orjson.loads(body)["ticket"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine's loopback range."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def scoring_counts(host: str, port: int) -> dict[str, Any]:
    """How the server scored its windows so far, from its ``/metrics``: windows settled by
    each tier (the model's, and the lexical tier's: degraded ones, and those no detector score
    could change), windows degraded, and the scorer's micro-batches (count and mean size).
    What a run's latency owes to the detector's load."""
    from prometheus_client.parser import text_string_to_metric_families

    status, body = await http_request(host, port, "GET", "/metrics")
    if status != 200:
        raise HttpError(f"GET /metrics: {status} {body[:200]!r}")
    tiers: dict[str, int] = {}
    degraded = 0
    batches, batched = 0, 0.0
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "stream_guard_tier_decisions_total":
                tiers[sample.labels["tier"]] = int(sample.value)
            elif sample.name == "stream_guard_degraded_windows_total":
                degraded = int(sample.value)
            elif sample.name == "stream_guard_scorer_batch_size_count":
                batches = int(sample.value)
            elif sample.name == "stream_guard_scorer_batch_size_sum":
                batched = sample.value
    return {"tier_decisions": tiers, "degraded_windows": degraded, "batches": batches,
            "mean_batch_size": round(batched / batches, 2) if batches else None}
