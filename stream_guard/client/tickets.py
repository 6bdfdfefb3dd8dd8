"""Minting browser tickets (``POST /v1/tickets``) from a backend that holds an API key.

A web page must never see the API key; its backend calls this and hands the page the single-use
ticket, which the page puts in ``?ticket=``. The request runs on the standard library's urllib in
a worker thread, so minting needs no HTTP dependency and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from stream_guard.client.backoff import retry_after_seconds
from stream_guard.client.errors import (
    RETRYABLE_HANDSHAKE_STATUSES,
    AuthError,
    GuardClientError,
    TicketUnavailableError,
)
from stream_guard.protocol.paths import TICKETS_PATH

_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def http_base(url: str) -> str:
    """``scheme://host:port`` of a server URL, ``ws(s)://`` turned into ``http(s)://``."""
    parts = urlsplit(url)
    scheme = _HTTP_SCHEME.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not a stream-guard server URL: {url!r}")
    return urlunsplit((scheme, parts.netloc, "", "", ""))


async def mint_ticket(base_url: str, api_key: str, *, timeout: float = 10.0) -> str:
    """A fresh single-use ticket for the tenant of ``api_key``.

    ``base_url`` may be the server's HTTP or WebSocket URL; only its scheme and host are used.
    Raises :class:`AuthError` when the key is refused, :class:`TicketUnavailableError`
    (retryable) when the server cannot issue one right now or cannot be reached (restarting,
    say), :class:`GuardClientError` otherwise.
    """
    return await asyncio.to_thread(mint_ticket_sync, base_url, api_key, timeout=timeout)


def _final(exc: Exception) -> bool:
    """A failure no retry mends: TLS refused (a certificate, a protocol), or a URL urllib
    cannot open ("unknown url type"), which would be retried through the whole backoff."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)):
        return False  # the connection cut during the handshake: a restart, say
    return isinstance(reason, ssl.SSLError) or (isinstance(exc, urllib.error.URLError)
                                                and not isinstance(reason, OSError))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answers a redirect as the error it is here. urllib would follow it with the API key in
    the request, to whatever host it names (over plain HTTP too), and return that host's
    "ticket"; the server never redirects a ticket request."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def mint_ticket_sync(base_url: str, api_key: str, *, timeout: float = 10.0) -> str:
    """:func:`mint_ticket` for synchronous backends (Flask, Django, a thread-per-request server)."""
    url = http_base(base_url) + TICKETS_PATH
    request = urllib.request.Request(url, data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {api_key}"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise GuardClientError(
                f"ticket request to {url} was redirected (HTTP {exc.code}) to "
                f"{exc.headers.get('Location')!r}; not followed, since it would carry the API "
                "key there: use the server's own URL") from None
        detail = exc.read().decode("utf-8", "replace")
        if exc.code in (401, 403):
            raise AuthError(exc.code, detail) from None
        if exc.code in RETRYABLE_HANDSHAKE_STATUSES:
            wait = retry_after_seconds(exc.headers.get("Retry-After"))
            raise TicketUnavailableError(exc.code, detail, wait) from None
        raise GuardClientError(f"ticket request failed: HTTP {exc.code}: {detail}") from None
    except (OSError, http.client.HTTPException) as exc:
        if _final(exc):
            raise GuardClientError(f"ticket request to {url} failed: {exc}") from exc
        # No answer (refused, unreachable, timed out, cut off: URLError and TimeoutError are
        # OSErrors): the server may be restarting, so a later request may get one.
        raise TicketUnavailableError(None, f"{url}: {exc}") from exc
    except ValueError as exc:  # an answer that is not JSON, a port that is not one: final
        raise GuardClientError(f"ticket request to {url} failed: {exc}") from exc
    ticket = body.get("ticket") if isinstance(body, dict) else None
    if not isinstance(ticket, str):
        raise GuardClientError(f"ticket response without a ticket: {body!r}")
    return ticket
