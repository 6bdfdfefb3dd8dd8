"""Browser tickets: opaque, single use, short-lived, bound to a tenant.

Browsers must never hold an API key, so the page's own backend trades its key for a ticket and
hands that to the page. Only a hash of the ticket is ever stored, so a leaked state store or log
cannot be replayed into a connection.
"""

from __future__ import annotations

import hashlib
import secrets

TICKET_BYTES = 32  # 256 random bits, comfortably above the 128 required


def new_ticket() -> str:
    return secrets.token_urlsafe(TICKET_BYTES)


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(b"stream-guard-ticket:" + ticket.encode("utf-8", "replace")).hexdigest()


def plausible_ticket(ticket: str) -> bool:
    """Cheap shape check before touching the store: refuses junk without a round trip."""
    return 16 <= len(ticket) <= 128 and ticket.isascii() and all(
        c.isalnum() or c in "-_" for c in ticket)
