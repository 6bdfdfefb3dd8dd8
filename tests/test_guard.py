"""Credentials, Origin, client address, tickets, per-connection limits and the hung-store breaker
(no sockets)."""

from __future__ import annotations

import hashlib
import re

import pytest
from websockets.datastructures import Headers

from stream_guard.guard.auth import (
    DEFAULT_TENANT,
    KeyRing,
    Principal,
    Refusal,
    api_key_from_headers,
    client_ip,
    client_key,
    key_principal,
    origin_allowed,
    ticket_in,
    ticket_principal,
)
from stream_guard.guard.breaker import StoreBreaker
from stream_guard.guard.limits import (
    Admission,
    CharBudget,
    HeadsInProgress,
    MessageLimiter,
    PenaltyBox,
)
from stream_guard.guard.tickets import (
    MAX_TENANT_BYTES,
    TICKET_BYTES,
    FallbackTickets,
    is_fallback_ticket,
    new_ticket,
    plausible_ticket,
    ticket_hash,
)

KEY_A = "key-a-0123456789abcdef"
KEY_B = "key-b-0123456789abcdef"


# --- API keys -----------------------------------------------------------------------------------

def test_keyring_maps_keys_to_tenants() -> None:
    ring = KeyRing({KEY_A: "tenant-a", KEY_B: "tenant-b"})
    assert ring and not KeyRing({})
    assert ring.tenant(KEY_A) == "tenant-a" and ring.tenant(KEY_B) == "tenant-b"
    for wrong in (None, "", KEY_A[:-1], KEY_A + "x", KEY_A.upper(), "ключ", "\udcff"):
        assert ring.tenant(wrong) is None


KEYS = KeyRing({"k" * 16: "acme"})


@pytest.mark.parametrize(("query", "ticket"), [
    ("ticket=abc", "abc"), ("x=1&ticket=abc&ticket=def", "abc"), ("", None), ("ticket=", None),
    ("tickets=abc", None)])
def test_the_ticket_of_a_query(query: str, ticket: str | None) -> None:
    assert ticket_in(query) == ticket


def test_a_redeemed_ticket_acts_for_its_tenant_if_a_key_here_serves_it() -> None:
    assert ticket_principal("acme", KEYS) == Principal("acme", "ticket")
    assert ticket_principal(None, KEYS) == Refusal(
        "bad_ticket", "the ticket is invalid, expired or used")
    other = ticket_principal("globex", KEYS)  # minted by a deployment with other keys
    assert isinstance(other, Refusal) and other.reason == "bad_ticket"
    assert "none of this server's keys serve" in other.message


@pytest.mark.parametrize(("headers", "auth_disabled", "expected"), [
    ({"X-API-Key": "k" * 16}, False, Principal("acme", "api_key")),
    ({"Authorization": "Bearer " + "k" * 16}, True, Principal("acme", "api_key")),
    ({"X-API-Key": "x" * 16}, True, "bad_key"),  # a wrong key is refused, dev mode or not
    ({}, True, Principal(DEFAULT_TENANT, "dev")),
    ({}, False, "unauthorized"),
])
def test_a_handshake_without_a_ticket_acts_for_its_key(
        headers: dict[str, str], auth_disabled: bool, expected: Principal | str) -> None:
    decided = key_principal(Headers(headers), KEYS, auth_disabled)
    if isinstance(expected, str):
        assert isinstance(decided, Refusal) and decided.reason == expected
    else:
        assert decided == expected


def test_an_authorization_header_not_in_the_bearer_form_is_named() -> None:
    decided = key_principal(Headers({"Authorization": "k" * 16}), KEYS, False)
    assert isinstance(decided, Refusal) and decided.reason == "unauthorized"
    assert "must be 'Bearer KEY'" in decided.message


@pytest.mark.parametrize(("headers", "key"), [
    ({"Authorization": f"Bearer {KEY_A}"}, KEY_A),
    ({"authorization": f"bearer   {KEY_A}  "}, KEY_A),
    ({"AUTHORIZATION": f"BEARER {KEY_A}"}, KEY_A),
    ({"X-API-Key": KEY_B}, KEY_B),
    ({"x-api-key": f" {KEY_B} "}, KEY_B),
    ({"Authorization": f"Bearer {KEY_A}", "X-API-Key": KEY_B}, KEY_A),
    ({"Authorization": "Basic dXNlcjpwYXNz", "X-API-Key": KEY_B}, KEY_B),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, None),
    ({"Authorization": "Bearer "}, None),
    ({"Authorization": KEY_A}, None),
    ({"X-API-Key": "   "}, None),
    ({}, None),
])
def test_api_key_from_headers(headers: dict[str, str], key: str | None) -> None:
    assert api_key_from_headers(Headers(headers)) == key


# --- Origin -------------------------------------------------------------------------------------

def test_origin_allow_list() -> None:
    allowed = ("https://app.example", "http://localhost:3000/")
    assert origin_allowed(None, ())  # backends send no Origin
    assert origin_allowed(None, allowed)
    assert origin_allowed("https://app.example", allowed)
    assert origin_allowed("https://app.example/", allowed)
    assert origin_allowed("http://localhost:3000", allowed)
    for origin in ("https://evil.example", "http://app.example", "https://app.example.evil",
                   "https://app.example:8443", "null", ""):
        assert not origin_allowed(origin, allowed)
    assert not origin_allowed("https://app.example", ())
    assert origin_allowed("https://anything.example", ("*",))


# --- client address -----------------------------------------------------------------------------

PROXIES = ("10.0.0.0/8", "192.0.2.1", "2001:db8::/32")


@pytest.mark.parametrize(("peer", "xff", "proxies", "ip"), [
    # no trusted proxies: the header is never believed
    ("203.0.113.5", "198.51.100.7", (), "203.0.113.5"),
    # the peer is not a proxy: its own X-Forwarded-For is a spoof
    ("203.0.113.5", "198.51.100.7", PROXIES, "203.0.113.5"),
    # one trusted proxy in front
    ("10.1.2.3", "198.51.100.7", PROXIES, "198.51.100.7"),
    ("192.0.2.1", " 198.51.100.7 ", PROXIES, "198.51.100.7"),
    # a client that sends its own header through the proxy: the proxy appends the real address,
    # the walk stops at the first hop that is not a trusted proxy
    ("10.1.2.3", "1.1.1.1, 198.51.100.7", PROXIES, "198.51.100.7"),
    # two trusted proxies in a chain
    ("10.1.2.3", "198.51.100.7, 10.9.9.9", PROXIES, "198.51.100.7"),
    ("10.1.2.3", "6.6.6.6, 198.51.100.7, 10.9.9.9", PROXIES, "198.51.100.7"),
    # garbage hops stop the walk at the last address that was believed
    ("10.1.2.3", "not-an-ip", PROXIES, "10.1.2.3"),
    ("10.1.2.3", "198.51.100.7, garbage, 10.9.9.9", PROXIES, "10.9.9.9"),
    ("10.1.2.3", "", PROXIES, "10.1.2.3"),
    ("10.1.2.3", None, PROXIES, "10.1.2.3"),
    # IPv6
    ("2001:db8::1", "2001:470::5", PROXIES, "2001:470::5"),
    ("2001:470::9", "198.51.100.7", PROXIES, "2001:470::9"),
    # a peer that is not an address at all (unix socket) is kept as it is
    ("unknown", "198.51.100.7", PROXIES, "unknown"),
])
def test_client_ip(peer: str, xff: str | None, proxies: tuple[str, ...], ip: str) -> None:
    assert client_ip(peer, xff, proxies) == ip


# --- tickets ------------------------------------------------------------------------------------

def test_ticket_shape() -> None:
    tickets = {new_ticket() for _ in range(200)}
    assert len(tickets) == 200
    for ticket in tickets:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", ticket)  # 256 bits, URL-safe base64
        assert plausible_ticket(ticket)
    assert TICKET_BYTES * 8 >= 128


def test_ticket_hash_is_stable_salted_and_hides_the_ticket() -> None:
    ticket = new_ticket()
    digest = ticket_hash(ticket)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == ticket_hash(ticket) != ticket_hash(new_ticket())
    assert ticket not in digest
    assert digest != hashlib.sha256(ticket.encode()).hexdigest()  # domain-separated
    assert re.fullmatch(r"[0-9a-f]{64}", ticket_hash("\udcff"))  # never raises


@pytest.mark.parametrize("junk", ["", "short", "x" * 389, "a" * 20 + "/", "a" * 20 + "=",
                                  "a" * 20 + " ", "a" * 20 + "%00", "é" * 20])
def test_implausible_tickets(junk: str) -> None:
    assert not plausible_ticket(junk)


# --- per-connection limits ----------------------------------------------------------------------

def test_message_limiter_burst_refill_and_strikes() -> None:
    now = 1000.0
    limiter = MessageLimiter(rate_per_s=2.0, burst=3, strikes=3, now=now)
    assert [limiter.admit(now) for _ in range(3)] == [Admission.OK] * 3
    assert limiter.admit(now) is Admission.RATE_LIMITED  # strike 1
    now += 0.5  # one token back
    assert limiter.admit(now) is Admission.OK
    assert limiter.admit(now) is Admission.RATE_LIMITED  # strike 2
    now += 100  # refills to the burst, never beyond
    assert [limiter.admit(now) for _ in range(3)] == [Admission.OK] * 3
    assert limiter.admit(now) is Admission.ABUSE  # strike 3: strikes never reset
    assert limiter.admit(now) is Admission.ABUSE


def test_message_limiter_single_strike() -> None:
    limiter = MessageLimiter(rate_per_s=1.0, burst=1, strikes=1, now=0.0)
    assert limiter.admit(0.0) is Admission.OK
    assert limiter.admit(0.0) is Admission.ABUSE


def test_char_budget() -> None:
    budget = CharBudget(10)
    assert budget.charge(4) and budget.charge(6)
    assert budget.used == 10
    assert not budget.charge(1)
    assert budget.used == 10  # a refused charge costs nothing
    assert budget.charge(0)
    budget = CharBudget(5)
    assert not budget.charge(6) and budget.used == 0


# --- fallback tickets (open fail mode) ----------------------------------------------------------

def test_fallback_tickets_are_signed_expire_and_are_single_use_per_worker() -> None:
    keys = {"k" * 20: "acme"}
    one, other = FallbackTickets(keys), FallbackTickets(keys)
    ticket = one.issue("acme", 30, now=1000.0)
    assert is_fallback_ticket(ticket) and plausible_ticket(ticket)
    assert not is_fallback_ticket(new_ticket())
    assert one.redeem(ticket, now=1010.0) == "acme"
    assert one.redeem(ticket, now=1011.0) is None  # used on this worker
    assert other.redeem(ticket, now=1011.0) == "acme"  # once per worker, by design
    assert FallbackTickets({"x" * 20: "acme"}).redeem(ticket, now=1011.0) is None  # other keys
    assert FallbackTickets(keys).redeem(ticket, now=1031.0) is None  # expired
    forged = ticket[:-2] + ("AA" if ticket[-2:] != "AA" else "BB")
    assert FallbackTickets(keys).redeem(forged, now=1010.0) is None
    assert one.redeem("sgf-!!!", now=1010.0) is None


def test_a_fallback_ticket_of_the_longest_tenant_name_is_plausible() -> None:
    """A fallback ticket carries its tenant, and one of 158 bytes or more made it longer than
    the 256 characters plausible_ticket allowed: minted, then always refused. The cap now
    follows the longest tenant name the settings accept (in bytes: "é" is two)."""
    tenant = "é" * (MAX_TENANT_BYTES // 2)
    tickets = FallbackTickets({"k" * 20: tenant})
    ticket = tickets.issue(tenant, 30, now=1000.0)
    assert len(ticket) == 388 and is_fallback_ticket(ticket) and plausible_ticket(ticket)
    assert tickets.redeem(ticket, now=1010.0) == tenant
    assert not plausible_ticket(ticket + "x")


def test_penalty_box() -> None:
    box = PenaltyBox(10.0, max_entries=2)
    box.add("192.0.2.1", now=100.0)
    assert box.remaining("192.0.2.1", now=104.0) == 6.0
    assert box.remaining("192.0.2.2", now=104.0) == 0.0
    assert box.remaining("192.0.2.1", now=110.0) == 0.0  # served, and forgotten
    box.add("192.0.2.1", now=200.0)
    box.add("192.0.2.2", now=201.0)
    box.add("192.0.2.3", now=202.0)  # full: the oldest goes
    assert [box.remaining(ip, now=203.0) for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3")] == [
        0.0, 8.0, 9.0]
    off = PenaltyBox(0.0)
    off.add("192.0.2.1", now=0.0)
    assert off.remaining("192.0.2.1", now=0.0) == 0.0


def test_malformed_messages_are_strikes_and_floods_are_penalised_at_once() -> None:
    """A backend serving many users from one address was locked out for a whole penalty by
    one user's oversized message (a review): a malformed message is a strike, the third
    within a penalty's time holds the address back; a flood does at once."""
    box = PenaltyBox(10.0, max_entries=2)
    assert not box.charge("192.0.2.1", "frame_too_large", now=100.0)
    assert not box.charge("192.0.2.1", "invalid_utf8", now=101.0)
    assert box.remaining("192.0.2.1", now=101.0) == 0.0
    assert box.charge("192.0.2.1", "frame_too_large", now=102.0)  # the third within 10 s
    assert box.remaining("192.0.2.1", now=102.0) == 10.0
    # strikes further apart than a penalty's time never add up; any three within it do
    assert [box.charge("192.0.2.2", "frame_too_large", now=t)
            for t in (200.0, 210.0, 220.0, 225.0, 229.0)] == [False, False, False, False, True]
    assert box.charge("192.0.2.3", "rate_abuse", now=300.0)  # a flood: at once
    assert box.remaining("192.0.2.3", now=300.0) == 10.0
    # bounded: the strikes of many addresses do not grow without limit
    for i in range(10):
        box.charge(f"198.51.100.{i}", "invalid_utf8", now=400.0)
    assert len(box._strikes) <= 2
    off = PenaltyBox(0.0)
    assert not off.charge("192.0.2.1", "rate_abuse", now=0.0)


@pytest.mark.parametrize(("ip", "key"), [
    ("198.51.100.7", "198.51.100.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # the same /64: one client
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("64:ff9b::c633:6407", "198.51.100.7"),  # NAT64: every IPv4 client shares one /64
    ("64:ff9b::c633:6408", "198.51.100.8"),
    ("unknown", "unknown"),
])
def test_limits_count_an_ipv6_client_by_its_64(ip: str, key: str) -> None:
    """Caps counted by full IPv6 address let one host, which holds a whole /64, take any
    number of them (a review found it)."""
    assert client_key(ip) == key


def test_a_slow_store_failure_opens_the_breaker_for_one_timeout() -> None:
    """A hung store (a call that failed only once most of its timeout was spent) is skipped for
    one timeout, then asked again; a quick failure (a refused connection) never trips it."""
    breaker = StoreBreaker(timeout_s=1.0)
    assert not breaker.open(100.0)
    breaker.failed(began=100.0, now=100.05)  # refused at once: a dead store, ask again freely
    assert not breaker.open(100.06)
    breaker.failed(began=100.0, now=100.98)  # waited out the timeout: hung
    assert breaker.open(100.99)
    assert breaker.open(101.97)
    assert not breaker.open(101.98)  # one timeout later the next handshake asks again


def test_heads_in_progress_are_bounded_by_address_and_in_all() -> None:
    """Past its address's bound a head is refused; at the total the oldest is closed for it,
    so tricklers on many addresses cannot shut a new client out."""
    closed: list[int] = []
    heads = HeadsInProgress(per_address=2, total=3, on_closed=lambda: closed.append(1))
    assert heads.begin("a1", "10.0.0.1") == (True, None)
    assert heads.begin("a2", "10.0.0.1") == (True, None)
    assert heads.begin("a3", "10.0.0.1") == (False, None)  # the address's bound
    assert heads.begin("b1", "10.0.0.2") == (True, None)
    assert heads.begin("c1", "10.0.0.3") == (True, "a1")  # the total: the oldest goes
    assert len(heads) == 3 and len(closed) == 2
    heads.end("a1")  # its connection closing later: no longer counted, nothing changes
    assert heads.begin("a4", "10.0.0.1") == (True, "a2")  # 10.0.0.1 holds one again
    heads.end("b1")
    assert heads.begin("p1", "10.0.0.1", proxy=True) == (True, None)  # a proxy: the total
    assert len(heads) == 3
