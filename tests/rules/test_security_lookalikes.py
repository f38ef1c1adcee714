"""Ordinary traffic that looks like an attack and must not raise one (a review of issue 18
built each case): every expected value follows from RFC 3261 and the flow built here."""

from __future__ import annotations

import base64

from sipdiag.dialogs.sources import ExposureKind
from sipdiag.network import Endpoint
from tests.rules.test_security_ledger import (
    Capture,
    attempt,
    call,
    digest,
    ledger_of,
    values,
)

TRUNK = Endpoint("203.0.113.30", 5060)
OFFICE = Endpoint("192.0.2.200", 5060)
QUEUE = Endpoint("198.51.100.70", 5060)
GUESSER = Endpoint("203.0.113.77", 5070)
OWNER = Endpoint("192.0.2.10", 5060)


def test_calls_refused_403_after_credentials_are_no_guessing() -> None:
    """A trunk out of credit: each call challenged 407, sent with credentials, refused 403.
    A 403 after credentials says the user may not do it (RFC 3261 21.4.4), not that the
    password is wrong: no S103, and no account taken when its next call goes through."""
    capture = Capture()
    calls = [call(capture, f"0049301234{n:03d}", at=4.0 * n, src=TRUNK, user="trunk7",
                  answers=(407, 403), credentials=digest("trunk7")) for n in range(12)]
    paid = call(capture, "00493012345000", at=60.0, src=TRUNK, user="trunk7",
                answers=(407, 200), credentials=digest("trunk7"))
    for rule in ("S103", "S104", "S105", "S108"):
        assert values(rule, [*calls, paid]) == [], rule


def test_a_proxy_challenge_then_the_servers_is_one_attempt() -> None:
    """407 from a proxy, then 401 from the server for its realm (RFC 3261 22.3): the second
    challenge asks for other credentials, it refuses none."""
    capture = Capture()
    subjects = [attempt(capture, at=5.0 * n, method="INVITE", user="alice", to="bob",
                        uri="sip:bob@example.com", answers=(407, 401, 200),
                        credentials=digest("alice")) for n in range(12)]
    made = ledger_of(subjects).attempts
    assert len(made) == 12 and not any(a.credentials_refused for a in made)
    assert values("S103", subjects) == []


def test_calls_still_ringing_are_no_enumeration() -> None:
    """A capture that ends while twelve calls of a trunk ring (180, no final response)."""
    capture = Capture()
    ringing = [call(capture, f"20255501{n:02d}", at=1.0 * n, src=TRUNK, answers=(0,),
                    ringing=True) for n in range(12)]
    assert values("S102", ringing) == []


def test_a_registrar_down_is_no_enumeration() -> None:
    """Fifteen phones behind one office NAT re-register to a registrar that answers none of
    them: a server down, told by N101, not a scan."""
    capture = Capture()
    phones = [attempt(capture, at=2.0 * n, src=Endpoint(OFFICE.ip, 20000 + n),
                      user=f"30{n:02d}", answers=(0,)) for n in range(15)]
    assert values("S102", phones) == []


def test_a_ring_group_is_no_host_sweep() -> None:
    """A queue rings twelve home agents, each on its own address, one Call-ID per leg: one
    answers, the others are cancelled (487)."""
    capture = Capture()
    legs = [attempt(capture, at=0.1 * n, method="INVITE", src=QUEUE,
                    dst=Endpoint(f"198.51.100.{120 + n}", 5060), user="queue", to="agent",
                    uri=f"sip:agent@198.51.100.{120 + n}", answers=(200 if n == 0 else 487,))
            for n in range(12)]
    assert values("S113", legs) == []


def test_the_owner_accepted_after_a_failed_attack_is_no_takeover() -> None:
    """A guesser fails twenty times for 1001; the owner's phone then refreshes from its own
    address: the guesser failed, the owner is the owner."""
    capture = Capture()
    guesses = [attempt(capture, at=1.0 * n, src=GUESSER, user="1001", answers=(401, 403),
                       credentials=digest("1001")) for n in range(20)]
    owner = attempt(capture, at=60.0, src=OWNER, user="1001", answers=(401, 200),
                    credentials=digest("1001"))
    assert values("S105", [*guesses, owner]) == []
    assert len(values("S103", [*guesses, owner])) == 1


def test_the_same_extension_in_another_realm_is_another_account() -> None:
    """Extension 1001 of tenant A keeps an old password; 1001 of tenant B registers from the
    same office NAT: another realm, another account."""
    capture = Capture()
    tenant_a = [attempt(capture, at=60.0 * n, src=OFFICE, user="1001", answers=(401, 403),
                        credentials=digest("1001", "tenant-a.example")) for n in range(6)]
    tenant_b = attempt(capture, at=400.0, src=OFFICE, user="1001", answers=(401, 200),
                       credentials=digest("1001", "tenant-b.example"))
    assert values("S105", [*tenant_a, tenant_b]) == []
    same_realm = attempt(capture, at=400.0, src=OFFICE, user="1001", answers=(401, 200),
                         credentials=digest("1001", "tenant-a.example"))
    assert len(values("S105", [*tenant_a, same_realm])) == 1  # the control: same account


def test_basic_credentials_without_a_colon_name_no_user() -> None:
    """``Basic base64(token)`` with no colon (RFC 7617 2 wants user:password): the token may
    be a secret of its own, so no part of it is a user name."""
    token = "api-key-7f3a9c1d5e"
    subject = attempt(Capture(), at=0.0, answers=(401, 200),
                      credentials="Basic " + base64.b64encode(token.encode()).decode())
    ledger = ledger_of([subject])
    [exposure] = [e for e in ledger.exposures if e.kind is ExposureKind.BASIC]
    assert exposure.user == "" and token not in repr(ledger.attempts)
