"""Browser tickets: opaque, single use, short-lived, bound to a tenant.

Browsers must never hold an API key, so the page's own backend trades its key for a ticket and
hands that to the page. Only a hash of the ticket is ever stored, so a leaked state store or log
cannot be replayed into a connection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import struct
from collections.abc import Mapping

TICKET_BYTES = 32  # 256 random bits, comfortably above the 128 required


def new_ticket() -> str:
    return secrets.token_urlsafe(TICKET_BYTES)


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(b"stream-guard-ticket:" + ticket.encode("utf-8", "replace")).hexdigest()


FALLBACK_PREFIX = "sgf-"
_MAC_BYTES = 16
_EXPIRY_NONCE_BYTES = 16  # expiry (4) and nonce (12), between the MAC and the tenant
# The longest tenant name the settings accept, in UTF-8 bytes: a fallback ticket carries its
# tenant's, so this bounds the longest ticket there is.
MAX_TENANT_BYTES = 256
_MAX_TICKET_CHARS = len(FALLBACK_PREFIX) + math.ceil(
    (_MAC_BYTES + _EXPIRY_NONCE_BYTES + MAX_TENANT_BYTES) * 4 / 3)  # unpadded base64


def plausible_ticket(ticket: str) -> bool:
    """Cheap shape check before touching the store: refuses junk without a round trip, and
    passes every ticket issued (the longest: a fallback ticket of the longest tenant name)."""
    return 16 <= len(ticket) <= _MAX_TICKET_CHARS and ticket.isascii() and all(
        c.isalnum() or c in "-_" for c in ticket)


class FallbackTickets:
    """Tickets any worker can check without the shared store, for ``redis_fail_mode = open``.

    With Redis away, a ticket kept in one worker's memory could only be redeemed on that worker,
    and a load balancer sends the browser anywhere. So these carry their tenant and expiry,
    signed with a key derived from the API keys (every worker and node has the same ones), and
    any worker accepts them. What is lost is "once anywhere": each worker remembers the nonces
    it redeemed until they expire, so a ticket is single use *per worker*. Pure: the caller
    passes the wall-clock time (tickets cross machines, so a monotonic clock would not do).
    """

    def __init__(self, api_keys: Mapping[str, str]) -> None:
        material = "\n".join(sorted(f"{k}:{t}" for k, t in api_keys.items()))
        self._key = hashlib.sha256(b"stream-guard-fallback-ticket:" + material.encode()).digest()
        self._used: dict[bytes, float] = {}  # nonce -> expiry

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, tenant: str, ttl_s: float, now: float) -> str:
        body = struct.pack(">I", int(now + ttl_s)) + secrets.token_bytes(12) + tenant.encode()
        raw = self._mac(body) + body
        return FALLBACK_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def redeem(self, ticket: str, now: float) -> str | None:
        """The tenant, the first time this worker sees a valid, unexpired ticket; else None."""
        if not ticket.startswith(FALLBACK_PREFIX):
            return None
        encoded = ticket[len(FALLBACK_PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            return None
        mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if len(body) < _EXPIRY_NONCE_BYTES or not hmac.compare_digest(mac, self._mac(body)):
            return None
        expires = float(struct.unpack(">I", body[:4])[0])
        nonce = body[4:_EXPIRY_NONCE_BYTES]
        if expires <= now:
            return None
        if len(self._used) > 1024:  # forget what has expired; bounded by live tickets
            self._used = {n: e for n, e in self._used.items() if e > now}
        if nonce in self._used:
            return None
        self._used[nonce] = expires
        try:
            return body[_EXPIRY_NONCE_BYTES:].decode()
        except UnicodeDecodeError:
            return None


def is_fallback_ticket(ticket: str) -> bool:
    """Store tickets are exactly 43 characters; fallback tickets are longer and prefixed."""
    return ticket.startswith(FALLBACK_PREFIX) and len(ticket) != 43
