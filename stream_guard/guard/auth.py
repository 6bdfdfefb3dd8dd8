"""Credentials, Origin and client address checks on the opening handshake."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# The tenant of unauthenticated dev connections (auth_disabled), of `stream-guard index`
# without --tenant and of `stream-guard eval`'s in-process server: the collections indexed
# by default are the ones they see.
DEFAULT_TENANT = "default"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a connection acts for. ``via`` is how it proved it: api_key, ticket or dev."""

    tenant: str
    via: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A handshake refused 401: ``reason`` is what ``stream_guard_rejections_total`` counts,
    ``message`` what the client is told."""

    reason: str
    message: str


class KeyRing:
    """API keys and their tenants, compared in constant time so timing reveals nothing."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = [(k.encode(), t) for k, t in keys.items()]
        self._tenants = frozenset(keys.values())

    def __bool__(self) -> bool:
        return bool(self._keys)

    def tenant(self, key: str | None) -> str | None:
        if not key:
            return None
        candidate = key.encode("utf-8", "replace")
        found = None
        for known, tenant in self._keys:  # no early exit: constant work per request
            if hmac.compare_digest(known, candidate):
                found = tenant
        return found

    def serves(self, tenant: str) -> bool:
        """Whether one of these keys is ``tenant``'s: a ticket names its tenant, and one minted
        by another deployment sharing the Redis (its own keys) must not open a stream here."""
        return tenant in self._tenants


def ticket_in(query: str) -> str | None:
    """The ``ticket`` of a request target's query string (the first, if sent twice)."""
    tickets = parse_qs(query).get("ticket")
    return tickets[0] if tickets else None


def ticket_principal(tenant: str | None, keys: KeyRing) -> Principal | Refusal:
    """Who a redeemed ticket acts for: ``tenant`` is what redeeming it gave (None: invalid,
    expired or used)."""
    if tenant is None:
        return Refusal("bad_ticket", "the ticket is invalid, expired or used")
    if not keys.serves(tenant):  # minted by a server with other keys
        return Refusal("bad_ticket", "the ticket is for a tenant none of this server's keys "
                       "serve (another deployment sharing its Redis, or a key not yet on "
                       "every replica)")
    return Principal(tenant, "ticket")


def key_principal(headers: Mapping[str, str], keys: KeyRing,
                  auth_disabled: bool) -> Principal | Refusal:
    """Who a handshake without a ticket acts for: its API key's tenant; with no key, the dev
    tenant when authentication is off. A ticket, when one is sent, is judged instead (a
    browser cannot send headers, so a ticket is never overridden by them)."""
    key = api_key_from_headers(headers)
    if key is not None:
        tenant = keys.tenant(key)
        return Refusal("bad_key", "unknown API key") if tenant is None else Principal(
            tenant, "api_key")
    if auth_disabled:
        return Principal(DEFAULT_TENANT, "dev")
    if headers.get("Authorization"):  # there, but not as "Bearer KEY" (a review: read as none)
        return Refusal("unauthorized", "the Authorization header must be 'Bearer KEY' (or send "
                       "X-API-Key: KEY); a browser uses a ticket (?ticket=)")
    return Refusal("unauthorized", "a ticket (?ticket=) or an API key (Authorization: Bearer "
                   "KEY or X-API-Key: KEY) is required")


def api_key_from_headers(headers: Mapping[str, str]) -> str | None:
    """``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    auth = headers.get("Authorization")
    if auth:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = headers.get("X-API-Key")
    return key.strip() if key and key.strip() else None


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Backends send no Origin and are judged by their key; browsers must be on the list."""
    if origin is None:
        return True
    return "*" in allowed or origin.rstrip("/") in {a.rstrip("/") for a in allowed}


@lru_cache(maxsize=64)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def is_trusted_proxy(addr: str, trusted_proxies: tuple[str, ...]) -> bool:
    """Whether ``addr`` is one of the proxies (addresses or CIDRs) whose forwarding is believed."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in _networks(trusted_proxies))


def client_ip(peer: str, forwarded_for: str | None, trusted_proxies: tuple[str, ...]) -> str:
    """The client's address: X-Forwarded-For is believed only hop by hop from trusted proxies.

    Walking the header right to left and stopping at the first untrusted hop means a client
    cannot forge its address by sending its own X-Forwarded-For through the load balancer.
    """
    if not forwarded_for or not is_trusted_proxy(peer, trusted_proxies):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    current = peer
    for hop in reversed(hops):
        if not is_trusted_proxy(current, trusted_proxies):
            break
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        current = hop
    return current


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix


def client_key(ip: str) -> str:
    """What the per-address limits (connection cap, handshake rate, abuse penalties) count a
    client by: its IPv4 address, or its IPv6 address's /64. One subscriber or host is given a
    whole /64 (RFC 6177), so counted by full address a single client could take 2^64 caps; an
    IPv4 address mapped into IPv6, or translated by NAT64 (whose clients all share one /64),
    is the IPv4 one. A peer that is no address (a Unix socket) is itself."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        if addr in _NAT64:  # an IPv4 client seen through NAT64: each is its own
            return str(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)

