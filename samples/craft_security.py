#!/usr/bin/env python3
"""Craft the captures of samples/security/ (the security rules, S101-S112).

Attacks seen from the signalling: many accounts tried with leaked passwords, an account broken
into and used for an international call, expensive numbers called from a source never seen
before, a burst of short calls, credentials and SRTP keys readable by anyone on the path
(Digest over UDP, Basic, SDES over UDP), a server that challenges one caller and lets another
call unchallenged; and healthy twins that must not be taken for attacks: a busy registrar, a
phone with a wrong password that retries once a minute, an IP-authenticated trunk. The
scanner and password-guessing captures of the same folder are recorded with SIPp
(record_security.sh).

Made as craft_registrations.py makes its captures (sipflow.py, pcapkit.py): deterministic,
documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, which count as
public) and private LANs (10.0.0.0/8, 192.168.0.0/16) where a scenario is about them.

Usage:  python3 samples/craft_security.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from collections.abc import Callable
from dataclasses import replace

from craft_media import sdp_of
from craft_registrations import PASSWORD, accept, challenge, credentials, nonce, register
from craft_scenarios import REALM
from pcapkit import Catalogue
from sipflow import ALICE, BOB, Call, Capture, Node, www_authenticate

CATALOGUE = Catalogue("security")
Build = Callable[[Capture], None]

PROXY_AUTH_REQUIRED = "Proxy Authentication Required"

# A PBX on a public address: registrar, and the B2BUA that answers the calls of its users
PBX = Node("pbx", "198.51.100.1", user="pbx", agent="sipdiag-craft-pbx/1.0")
# The attackers: each node's user is replaced by the account it tries
STUFFER = Node("stuffer", "203.0.113.66", port=5070, agent="sipdiag-craft-softphone/2.1")
INTRUDER = Node("intruder", "203.0.113.77", port=5070, user="2001",
                agent="sipdiag-craft-softphone/2.1")
DIALER = Node("dialer", "203.0.113.40", user="7001", agent="sipdiag-craft-dialer/1.0")
RELAYED = Node("caller-b", "203.0.113.99", user="9001", agent="sipdiag-craft-softphone/2.1")


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


def registration_of(cap: Capture, phone: Node, registrar: Node) -> Call:
    """phone's registration: To = From = sip:USER@registrar, Request-URI sip:registrar."""
    return cap.call(phone, registrar, domain=registrar.ip, to_user=phone.user,
                    ruri=f"sip:{registrar.ip}")


def login(reg: Call, at: float, n: int, *, password: str = PASSWORD, answer: int = 200,
          expires: int = 60) -> None:
    """REGISTER -> 401 (the call's n-th nonce); 12 ms later the REGISTER again with credentials
    computed from ``password``, answered ``answer`` 4 ms after: 200 lists the binding, 401
    challenges again with a new nonce."""
    given = nonce(reg, n)
    challenge(register(reg, at, expires=expires), at + 0.004, given)
    retry = register(reg, at + 0.012, given, expires=expires, password=password)
    if answer == 200:
        accept(retry, at + 0.016, expires)
    elif answer == 401:
        challenge(retry, at + 0.016, reg.id("nonce", str(n), "again", n=32))
    else:
        retry.reply(at + 0.016, answer)


def hang_up(c: Call, at: float) -> None:
    """The caller's BYE, answered 200."""
    c.bye(at).reply(at + 0.004, 200)


def proxy_challenge(c: Call, at: float) -> str:
    """The caller's INVITE answered 100 and 407 (Proxy-Authenticate, the call's first nonce),
    ACKed; returns the nonce."""
    first = c.invite(at, sdp=c.sdp(c.caller))
    first.reply(at + 0.002, 100)
    given = nonce(c, 1)
    first.reply(at + 0.004, 407, PROXY_AUTH_REQUIRED,
                headers={"Proxy-Authenticate": www_authenticate(REALM, given)})
    first.ack()
    return given


def authenticated_call(c: Call, at: float, duration: float) -> None:
    """INVITE challenged 407; 40 ms later the INVITE with Proxy-Authorization: 100, 180,
    200 2.5 s later, ACK; the caller hangs up ``duration`` seconds after that INVITE."""
    given = proxy_challenge(c, at)
    assert c.ruri is not None
    auth = credentials(c, "INVITE", c.ruri, given)
    c.setup(at + 0.04, headers={"Proxy-Authorization": auth})
    hang_up(c, at + 0.04 + duration)


def plain_call(c: Call, at: float, duration: float) -> None:
    """INVITE, 100, 180, 200 2.5 s later, ACK, no challenge; the caller hangs up
    ``duration`` seconds after the INVITE."""
    c.setup(at)
    hang_up(c, at + duration)


def call_to(cap: Capture, caller: Node, server: Node, number: str) -> Call:
    """A call from caller to ``number`` at server: Request-URI and To sip:NUMBER@server."""
    return cap.call(caller, server, to_user=number, domain=server.ip)


# --------------------------------------------------------------------------
# Attacks


STUFFED = ("4101", "4102", "4103", "4104", "4105", "4106", "4107", "4108")


@scenario(
    "credential-stuffing.pcap",
    "203.0.113.66 tries 8 accounts (4101-4108) on the PBX 198.51.100.1, one try every 10 s, "
    "each a new Call-ID: REGISTER -> 401, REGISTER with credentials from a leaked password "
    "-> 403; 4101 and 4105 are tried twice (10 tries in 90 s); none accepted",
)
def credential_stuffing(cap: Capture) -> None:
    tries = [*STUFFED[:4], "4101", *STUFFED[4:], "4105"]
    for k, account in enumerate(tries):
        leaked = f"leaked-{account}-{k}"
        reg = registration_of(cap, replace(STUFFER, name=f"stuffer-{account}", user=account),
                              PBX)
        login(reg, 10.0 * k, 1, password=leaked, answer=403)


COMPROMISED_NUMBER = "0044207946000"


@scenario(
    "compromise-then-call.pcap",
    "203.0.113.77 fails account 2001 six times in 285 s (REGISTER -> 401, REGISTER with a "
    "wrong password -> 403, 0, 57, 114, 171, 228 and 285 s, each a new Call-ID); at 300 s "
    "the right password: 401, 200 (Expires: 3600); at 420 s an INVITE from 2001 to "
    "0044207946000: 407, INVITE with Proxy-Authorization, 100, 180, 200, ACK, BYE 95 s "
    "later, 200",
)
def compromise_then_call(cap: Capture) -> None:
    for k in range(6):
        reg = registration_of(cap, INTRUDER, PBX)
        login(reg, 57.0 * k, 1, password=f"guess-{k}", answer=403)
    login(registration_of(cap, INTRUDER, PBX), 300.0, 1, expires=3600)
    authenticated_call(call_to(cap, INTRUDER, PBX, COMPROMISED_NUMBER), 420.0, 95.0)


LAN_PBX = Node("lan-pbx", "192.168.10.1", user="pbx", agent="sipdiag-craft-pbx/1.0")
DESK_PHONES = tuple(
    Node(f"desk-{n}", f"192.168.10.{20 + n}", user=f"10{n}", agent="sipdiag-craft-deskphone/3.0")
    for n in range(1, 5))
NEWCOMER = Node("newcomer", "192.168.10.66", user="105", agent="sipdiag-craft-softphone/2.1")
TOLL_NUMBERS = ("011972599123456", "+8816312345678")


@scenario(
    "toll-new-source.pcap",
    "a PBX on a LAN (192.168.10.1) that challenges no one. Four desk phones (192.168.10.21-24) "
    "each call an extension (201-204) at 0, 40, 80, 120 s: 100, 180, 200, ACK, BYE 30 s "
    "later. Then 192.168.10.66, never seen before, calls 011972599123456 at 200 s and "
    "+8816312345678 at 270 s, both answered, BYE 60 s later",
)
def toll_new_source(cap: Capture) -> None:
    for k, phone in enumerate(DESK_PHONES):
        plain_call(call_to(cap, phone, LAN_PBX, f"20{k + 1}"), 40.0 * k, 30.0)
    for at, number in zip((200.0, 270.0), TOLL_NUMBERS, strict=True):
        plain_call(call_to(cap, NEWCOMER, LAN_PBX, number), at, 60.0)


SBC = Node("sbc", "198.51.100.1", user="sbc", agent="sipdiag-craft-sbc/1.0")
BURST = (404, 403, 503, 404, 200, 403, 503, 404, 403, 200, 503, 404)


@scenario(
    "short-call-burst.pcap",
    "203.0.113.40 calls 12 numbers abroad (00447700900110-00447700900121, a UK drama range) "
    "through an SBC (198.51.100.1, no challenge) in 36.3 s, one INVITE every 3.3 s: 100 then "
    "404, 403, 503, 404, (answered), 403, 503, 404, 403, (answered), 503, 404, each ACKed; "
    "the two answered calls ring 0.3 s, are answered 1.5 s after the INVITE and hung up 2 s "
    "after that",
)
def short_call_burst(cap: Capture) -> None:
    for k, status in enumerate(BURST):
        at = 3.3 * k
        c = call_to(cap, DIALER, SBC, f"00447700900{110 + k}")
        if status == 200:
            c.setup(at, ringing=0.3, answer=1.5)
            hang_up(c, at + 3.5)
        else:
            inv = c.invite(at, sdp=c.sdp(DIALER))
            inv.reply(at + 0.004, 100)
            inv.reply(at + 0.05, status)
            inv.ack()


SWEEPER = Node("sweeper", "203.0.113.5", port=5061, user="100", agent="Zoiper rv2.10.8")
SWEPT = tuple(f"198.51.100.{n}" for n in range(1, 25))
LIVE = frozenset({"198.51.100.3", "198.51.100.11", "198.51.100.17"})


@scenario(
    "host-sweep.pcap",
    "203.0.113.5 sends OPTIONS sip:100@ADDRESS to 198.51.100.1-24, one every 0.5 s (11.5 s), "
    "each once; 198.51.100.3, .11 and .17 answer 200, the other 21 never answer",
)
def host_sweep(cap: Capture) -> None:
    for k, address in enumerate(SWEPT):
        host = Node(f"host-{k}", address, user="100", agent="sipdiag-craft-pbx/1.0")
        ping = cap.call(SWEEPER, host, to_user="100", domain=address)
        sent = ping.request("OPTIONS", 0.5 * k)
        if address in LIVE:
            sent.reply(0.5 * k + 0.004, 200)


GATEWAYS = tuple(f"198.51.100.{n}" for n in range(101, 113))


@scenario(
    "gateway-keepalives.pcap",
    "an SBC (203.0.113.20) checks its 12 gateways (198.51.100.101-112) with OPTIONS every 30 s "
    "for 2 minutes (5 rounds, 0.2 s apart within a round); every gateway answers 200",
)
def gateway_keepalives(cap: Capture) -> None:
    sbc = Node("sbc", "203.0.113.20", user="sbc", agent="sipdiag-craft-sbc/1.0")
    for k, address in enumerate(GATEWAYS):
        gateway = Node(f"gateway-{k}", address, user="gw", agent="sipdiag-craft-gateway/1.0")
        ping = cap.call(sbc, gateway, to_uri=f"sip:{address}")
        for round_ in range(5):
            at = 30.0 * round_ + 0.2 * k
            ping.request("OPTIONS", at).reply(at + 0.003, 200)


# --------------------------------------------------------------------------
# Secrets in the clear


@scenario(
    "digest-in-clear.pcap",
    "Alice (192.0.2.10) registers at 198.51.100.1 over UDP: REGISTER (Expires: 60) -> 401, "
    "REGISTER with Digest credentials -> 200; refreshed the same way (challenged again) at "
    "50 s and 100 s",
)
def digest_in_clear(cap: Capture) -> None:
    reg = registration_of(cap, ALICE, PBX)
    for n, at in enumerate((0.0, 50.0, 100.0), start=1):
        login(reg, at, n)


@scenario(
    "basic-credentials.pcap",
    "Alice (192.0.2.10) registers at 198.51.100.1 over UDP: REGISTER -> 401 with "
    "WWW-Authenticate: Basic realm=\"sipdiag.test\"; REGISTER with Authorization: Basic "
    "(base64 of alice:secret) -> 200",
)
def basic_credentials(cap: Capture) -> None:
    reg = registration_of(cap, ALICE, PBX)
    register(reg, 0.0).reply(0.004, 401, headers={"WWW-Authenticate": f'Basic realm="{REALM}"'})
    basic = base64.b64encode(f"{ALICE.user}:{PASSWORD}".encode()).decode()
    retry = reg.request("REGISTER", 0.012, headers={"Expires": "60",
                                                    "Authorization": f"Basic {basic}"})
    accept(retry, 0.016)


def sdes_key(call: Call, node: Node) -> str:
    """An SDES crypto attribute (RFC 4568): a 30-byte master key and salt, base64 (40
    characters), made from the call and the node."""
    key = hashlib.sha256(f"{call.cap.name}/{call.name}/{node.name}/srtp".encode()).digest()[:30]
    return f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{base64.b64encode(key).decode()}"


@scenario(
    "sdes-in-clear.pcap",
    "Alice (192.0.2.10) calls Bob (198.51.100.20) directly over UDP; offer and answer carry "
    "m=audio ... RTP/SAVP and a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<40 base64 "
    "characters>: 100, 180, 200, ACK, BYE at 10 s, 200",
)
def sdes_in_clear(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = c.invite(0.0, sdp=sdp_of(c, ALICE, profile="RTP/SAVP", attrs=(sdes_key(c, ALICE),)))
    inv.reply(0.004, 100)
    inv.reply(0.2, 180)
    inv.reply(2.5, 200, sdp=sdp_of(c, BOB, profile="RTP/SAVP", attrs=(sdes_key(c, BOB),)))
    inv.ack()
    hang_up(c, 10.0)


@scenario(
    "open-relay.pcap",
    "the PBX 198.51.100.1 challenges Alice's INVITE (192.0.2.10, to 2025550130): 407, ACK, "
    "INVITE with Proxy-Authorization, 100, 180, 200, ACK, BYE at 20 s. Then 203.0.113.99 "
    "calls 00442079460147 at 30 s and 00442079460148 at 60 s with no credentials and is "
    "never challenged: 100, 180, 200, ACK, BYE 20 s later, 200",
)
def open_relay(cap: Capture) -> None:
    authenticated_call(call_to(cap, ALICE, PBX, "2025550130"), 0.0, 20.0)
    for at, number in ((30.0, "00442079460147"), (60.0, "00442079460148")):
        plain_call(call_to(cap, RELAYED, PBX, number), at, 20.0)


# --------------------------------------------------------------------------
# Healthy twins


LAN_REGISTRAR = Node("registrar", "10.0.0.1", agent="sipdiag-craft-registrar/1.0")
NAT_ADDRESS = "10.0.9.9"
OFFICE = tuple(
    Node(f"phone-{k}", f"10.0.1.{k}", user=f"{3000 + k}", agent="sipdiag-craft-deskphone/3.0")
    for k in range(1, 61))
BEHIND_NAT = tuple(
    Node(f"phone-{60 + k}", f"192.168.9.{10 + k}", user=f"{3060 + k}",
         agent="sipdiag-craft-deskphone/3.0", wire_ip=NAT_ADDRESS, wire_port=20000 + k)
    for k in range(1, 21))
MISTYPED = ("3007", "3042", "3075")
BUSY_EXPIRES = 120


@scenario(
    "busy-registrar.pcap",
    "a registrar on a LAN (10.0.0.1) and 80 phones: 3001-3060 on 10.0.1.1-60, 3061-3080 "
    "behind one NAT (10.0.9.9, ports 20001-20020). One phone every 1.45 s (all 80 in 115 s): "
    "REGISTER (Expires: 120) -> 401, REGISTER with credentials -> 200. 3007, 3042 and 3075 "
    "first send a mistyped password: their retry is challenged again (401) and given up; "
    "5 s later a new REGISTER with the right password: 401, 200. Each phone refreshes "
    "100 s after its first REGISTER (401, 200)",
)
def busy_registrar(cap: Capture) -> None:
    for k, phone in enumerate((*OFFICE, *BEHIND_NAT)):
        at = 1.45 * k
        reg = registration_of(cap, phone, LAN_REGISTRAR)
        if phone.user in MISTYPED:
            login(reg, at, 1, password="mistyped", answer=401, expires=BUSY_EXPIRES)
            login(reg, at + 5.0, 2, expires=BUSY_EXPIRES)
        else:
            login(reg, at, 1, expires=BUSY_EXPIRES)
        login(reg, at + 100.0, 3, expires=BUSY_EXPIRES)


OFFICE_REGISTRAR = Node("registrar", "192.168.1.1", agent="sipdiag-craft-registrar/1.0")
STALE_PHONE = Node("phone", "192.168.1.30", user="205", agent="sipdiag-craft-deskphone/3.0")


@scenario(
    "phone-wrong-password.pcap",
    "a desk phone (192.168.1.30, account 205) keeps an old password: every 60 s for 10 "
    "minutes (0 to 600 s, 11 times, one Call-ID) REGISTER -> 401, REGISTER with credentials "
    "-> 403; never registered",
)
def phone_wrong_password(cap: Capture) -> None:
    reg = registration_of(cap, STALE_PHONE, OFFICE_REGISTRAR)
    for k in range(11):
        login(reg, 60.0 * k, k + 1, password="old-password", answer=403)


CARRIER = Node("carrier", "198.51.100.50", agent="sipdiag-craft-carrier/1.0")
TRUNK_PBX = Node("trunk-pbx", "203.0.113.10", user="pbx", agent="sipdiag-craft-pbx/1.0")


@scenario(
    "trunk-ip-auth.pcap",
    "a carrier (198.51.100.50) delivers 5 calls to a PBX (203.0.113.10) over an IP-"
    "authenticated trunk, every 30 s from 0 s, to 2025550101-2025550105 from 3125550171-"
    "3125550175: INVITE, 100, 180, 200, ACK, BYE 20 s later, 200; nobody is challenged",
)
def trunk_ip_auth(cap: Capture) -> None:
    for k in range(5):
        caller = replace(CARRIER, user=f"31255501{71 + k}")
        plain_call(call_to(cap, caller, TRUNK_PBX, f"20255501{k + 1:02d}"), 30.0 * k, 20.0)


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
