#!/usr/bin/env python3
"""Craft the captures of samples/rules/ about challenges and registrations (RFC 3261 10, 22).

Calls challenged by the callee (a PBX answering 401) and answered quickly or slowly, so that
the post-dial delay is read from the INVITE with credentials; registrations whose second
challenge says the nonce went stale, or answers a late reply; REGISTERs refused without a
challenge (403, 404, 503); a client looping on 423 Interval Too Brief; a binding that runs out
with no refresh, one refreshed in time, and de-registrations (expires=0, Contact: *).
Made as craft_scenarios.py makes its captures (sipflow.py, pcapkit.py): deterministic,
documentation addresses (Alice 192.0.2.10, Bob 198.51.100.20, the registrar 198.51.100.1).

Usage:  python3 samples/craft_registrations.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from craft_scenarios import REALM, registration
from pcapkit import Catalogue
from sipflow import (
    ALICE,
    BOB,
    PROXY,
    Call,
    Capture,
    Node,
    Tx,
    authorization,
    http_date,
    www_authenticate,
)

CATALOGUE = Catalogue("rules")
Build = Callable[[Capture], None]
PASSWORD = "secret"
CAROL = Node("carol", "192.0.2.30", user="carol", agent="sipdiag-craft-carol/1.0")


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


def nonce(call: Call, n: int) -> str:
    return call.id("nonce", str(n), n=32)


def challenge(tx: Tx, at: float, given: str, stale: bool = False) -> None:
    """tx answered 401 with the nonce ``given`` (``stale=true`` added when asked)."""
    value = www_authenticate(REALM, given) + (", stale=true" if stale else "")
    tx.reply(at, 401, headers={"WWW-Authenticate": value})


def credentials(call: Call, method: str, uri: str, given: str, password: str = PASSWORD) -> str:
    user = call.caller.user
    assert user is not None
    cnonce = call.id("cnonce", given, method, n=16)
    return authorization(user, password, REALM, given, method, uri, cnonce)


def register(reg: Call, at: float, given: str | None = None, *, expires: int = 60,
             password: str = PASSWORD) -> Tx:
    """A REGISTER of the caller's Contact for ``expires`` seconds, with credentials computed
    over ``given`` when there is one."""
    assert reg.ruri is not None
    headers: dict[str, str | None] = {"Expires": str(expires)}
    if given is not None:
        headers["Authorization"] = credentials(reg, "REGISTER", reg.ruri, given, password)
    return reg.request("REGISTER", at, headers=headers)


def accept(tx: Tx, at: float, expires: int = 60) -> None:
    """The registrar's 200, listing the binding with its expires (RFC 3261 10.3 step 8)."""
    binding = f"{tx.src.contact};expires={expires}"
    tx.reply(at, 200, headers={"Contact": binding, "Date": http_date(at)})


def challenged_call(cap: Capture, answer_after: float) -> None:
    """Alice calls Bob's PBX, which challenges the INVITE (401); Alice answers the challenge
    ``answer_after`` seconds after it; the new INVITE rings 0.3 s later, is answered at 3 s."""
    c = cap.call(ALICE, BOB)
    first = c.invite(0.0, sdp=c.sdp(ALICE))
    first.reply(0.002, 100)
    challenge(first, 0.004, nonce(c, 1))
    first.ack()
    at = 0.004 + answer_after
    assert c.ruri is not None
    auth = credentials(c, "INVITE", c.ruri, nonce(c, 1))
    c.setup(at, trying=0.004, ringing=0.3, answer=3.0, headers={"Authorization": auth})
    c.bye(at + 10.0).reply(at + 10.004, 200)


@scenario(
    "invite-challenge-quick.pcap",
    "INVITE answered 100 and 401 (WWW-Authenticate, realm sipdiag.test), ACK; 46 ms after the "
    "401 the INVITE again with Authorization (CSeq 2): 100, 180 0.3 s later, 200 at 3 s, "
    "ACK; BYE 10 s after the second INVITE, 200",
)
def invite_challenge_quick(cap: Capture) -> None:
    challenged_call(cap, 0.046)


@scenario(
    "invite-challenge-slow.pcap",
    "as invite-challenge-quick, but the INVITE with Authorization comes 8 s after the 401; "
    "180 0.3 s after it",
)
def invite_challenge_slow(cap: Capture) -> None:
    challenged_call(cap, 8.0)


@scenario(
    "register-stale-nonce.pcap",
    "REGISTER (Expires: 60) -> 401 (nonce 1); REGISTER with credentials -> 200 (expires=60). "
    "At 50 s the refresh reuses nonce 1 -> 401 with a new nonce and stale=true; REGISTER "
    "with credentials for nonce 2 -> 200 (expires=60)",
)
def register_stale_nonce(cap: Capture) -> None:
    reg = registration(cap)
    challenge(register(reg, 0.0), 0.004, nonce(reg, 1))
    accept(register(reg, 0.012, nonce(reg, 1)), 0.016)
    challenge(register(reg, 50.0, nonce(reg, 1)), 50.004, nonce(reg, 2), stale=True)
    accept(register(reg, 50.012, nonce(reg, 2)), 50.016)


@scenario(
    "register-late-answers.pcap",
    "two registrations, each REGISTER -> 401 answered with credentials 20 s later and "
    "challenged again (401, no stale), then nothing more: in the first (Alice) the new "
    "challenge offers a new nonce, in the second (Carol, from 30 s) the nonce she answered",
)
def register_late_answers(cap: Capture) -> None:
    reg = registration(cap)
    challenge(register(reg, 0.0), 0.004, nonce(reg, 1))
    challenge(register(reg, 20.004, nonce(reg, 1)), 20.008, nonce(reg, 2))
    other = cap.call(CAROL, PROXY, domain=PROXY.ip, to_user="carol", ruri=f"sip:{PROXY.ip}")
    challenge(register(other, 30.0), 30.004, nonce(other, 1))
    challenge(register(other, 50.004, nonce(other, 1), password="wrong"), 50.008,
              nonce(other, 1))


def refused(cap: Capture, code: int) -> None:
    register(registration(cap), 0.0).reply(0.004, code)


@scenario("register-forbidden-403.pcap", "REGISTER answered 403 Forbidden, no challenge")
def register_forbidden_403(cap: Capture) -> None:
    refused(cap, 403)


@scenario("register-not-found-404.pcap", "REGISTER answered 404 Not Found, no challenge")
def register_not_found_404(cap: Capture) -> None:
    refused(cap, 404)


@scenario(
    "register-unavailable-503.pcap",
    "REGISTER answered 503 Service Unavailable (no Retry-After), no challenge",
)
def register_unavailable_503(cap: Capture) -> None:
    refused(cap, 503)


@scenario(
    "register-423-loop.pcap",
    "REGISTER (Expires: 60) -> 423 Interval Too Brief (Min-Expires: 300), sent again three "
    "times 12 ms apart still with Expires: 60, each answered 423; the client stops",
)
def register_423_loop(cap: Capture) -> None:
    reg = registration(cap)
    for n in range(4):
        at = 0.012 * n
        register(reg, at).reply(at + 0.004, 423, headers={"Min-Expires": "300"})


def options_at(cap: Capture, at: float) -> None:
    """An OPTIONS from Alice to the registrar, answered 200: the capture goes on until then."""
    cap.call(ALICE, PROXY, to_uri=f"sip:{PROXY.ip}").request("OPTIONS", at).reply(at + 0.003, 200)


@scenario(
    "register-expired.pcap",
    "REGISTER (Expires: 60) -> 200 (expires=60), never refreshed; at 120 s an OPTIONS to the "
    "registrar (another Call-ID), 200",
)
def register_expired(cap: Capture) -> None:
    accept(register(registration(cap), 0.0), 0.004)
    options_at(cap, 120.0)


@scenario(
    "register-refreshed.pcap",
    "REGISTER (Expires: 60) -> 200 (expires=60); at 50 s the same REGISTER again (CSeq 2) -> "
    "200 (expires=60); at 100 s an OPTIONS to the registrar, 200",
)
def register_refreshed(cap: Capture) -> None:
    reg = registration(cap)
    accept(register(reg, 0.0), 0.004)
    accept(register(reg, 50.0), 50.004)
    options_at(cap, 100.0)


@scenario(
    "register-deregistration.pcap",
    "Alice: REGISTER (Expires: 60) -> 200 (expires=60); at 30 s REGISTER with expires=0 on "
    "its Contact -> 200 (no Contact). Carol at 40 s: REGISTER Contact: * with Expires: 0 -> "
    "200",
)
def register_deregistration(cap: Capture) -> None:
    reg = registration(cap)
    accept(register(reg, 0.0), 0.004)
    unbind = {"Contact": f"{ALICE.contact};expires=0", "Expires": None}
    reg.request("REGISTER", 30.0, headers=unbind).reply(30.004, 200)
    other = cap.call(CAROL, PROXY, domain=PROXY.ip, to_user="carol", ruri=f"sip:{PROXY.ip}")
    other.request("REGISTER", 40.0, headers={"Contact": "*", "Expires": "0"}).reply(40.004, 200)


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
