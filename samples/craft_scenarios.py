#!/usr/bin/env python3
"""Craft the SIP failure-scenario captures of samples/rules/.

One capture per way a call, a registration or a request can go wrong (or
almost wrong), for the tests of sipdiag's rules: 481 to a re-INVITE, a
CANCEL crossing a 200, BYE never answered, session timers, glare (491),
4xx/5xx/6xx answers, redirects, loops, extensions, codecs, registration
failures, time-outs, UDP fragmentation, private addresses behind NAT.

Each scenario below says who sends what at what time; sipflow.py does
the RFC 3261 mechanics (Via branches and received/rport, tags, CSeq
numbering, Contact, both kinds of ACK, CANCEL, retransmission timers,
SDP versions) and pcapkit.py the packets and the pcap file (Ethernet,
IPv4, UDP, link type 1, microsecond timestamps).

Output is deterministic: addresses from the documentation ranges
(caller 192.0.2.10, callee 198.51.100.20, proxy 198.51.100.1, MAC
00:00:5e:00:53:xx; RFC 1918 addresses where a scenario is about them),
times from 2023-11-14 22:13:20 UTC, ids derived by sha1 from the names,
so running the script again gives byte-identical files.

Usage:  python3 samples/craft_scenarios.py [--out DIR] [--check] [--list]
  --check  regenerate into a temporary directory and compare with DIR
  --list   print each file name with what happens in it

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pcapkit import BOB_V4, Catalogue
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


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    """Register build(capture) as the maker of samples/rules/NAME."""
    return CATALOGUE.scenario(name, desc, Capture)


def ringing_invite(c: Call, at: float = 0.0, **kw) -> Tx:
    """INVITE with the caller's SDP offer, 100 after 4 ms, 180 after 0.2 s."""
    inv = c.invite(at, sdp=c.sdp(c.caller), **kw)
    inv.reply(at + 0.004, 100)
    inv.reply(at + 0.2, 180)
    return inv


def rejected(c: Call, at: float, code: int, delay: float = 0.006, **kw) -> Tx:
    """INVITE answered code (no provisional) after delay, and the ACK; kw go to reply()."""
    inv = c.invite(at, sdp=c.sdp(c.caller))
    inv.reply(at + delay, code, **kw)
    inv.ack()
    return inv


def big_offer(c: Call) -> str:
    """The caller's SDP with ICE candidate lines: the INVITE comes to about 1,600 bytes."""
    return c.sdp(c.caller, extra_lines=9)


def checked_size(inv: Tx) -> Tx:
    assert 1550 <= len(inv.data) <= 1700, len(inv.data)
    return inv


# --------------------------------------------------------------------------
# Dialog state: 481, CANCEL/200 race, BYE lost, session timers, glare


@scenario(
    "reinvite-481.pcap",
    "call set up; at 10 s the caller's re-INVITE (hold, with SDP) is answered 481 "
    "Call/Transaction Does Not Exist and ACKed; at 10.5 s its BYE is answered 481 too",
)
def reinvite_481(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    reinvite = c.invite(10.0, sdp=c.sdp(ALICE, direction="sendonly"))
    reinvite.reply(10.004, 481)
    reinvite.ack()
    c.bye(10.5).reply(10.504, 481)


@scenario(
    "cancel-crosses-200.pcap",
    "INVITE, 100, 180; the callee's 200 OK (3.000 s) and the caller's CANCEL (3.001 s) "
    "cross; the CANCEL is answered 481; the caller ACKs the 200 and hangs up at 3.05 s",
)
def cancel_crosses_200(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = ringing_invite(c)
    inv.reply(3.0, 200, sdp=c.sdp(BOB))
    inv.cancel(3.001).reply(3.002, 481)
    inv.ack(3.003)
    c.bye(3.05).reply(3.054, 200)


@scenario(
    "bye-unanswered.pcap",
    "call set up; the caller's BYE at 5 s is never answered: 11 copies on the "
    "non-INVITE schedule (T1 doubling capped at T2), the last at 36.5 s",
)
def bye_unanswered(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    c.bye(5.0).retransmit()


SESSION_TIMER = {"Session-Expires": "90;refresher=uac"}
SESSION_TIMER_OK = {"Require": "timer", "Session-Expires": "90;refresher=uac"}


@scenario(
    "session-timer-expired.pcap",
    "session timer of 90 s, refresher=uac, agreed in the INVITE and the 200; the caller "
    "never refreshes; at 75 s the callee sends BYE (answered 200)",
)
def session_timer_expired(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup(headers=SESSION_TIMER, answer_headers=SESSION_TIMER_OK)
    c.bye(75.0, by=BOB).reply(75.004, 200)


@scenario(
    "session-timer-refreshed.pcap",
    "session timer of 90 s, refresher=uac; the caller refreshes at 45 s with a re-INVITE "
    "(same SDP, version + 1), 200, ACK; the caller hangs up at 100 s",
)
def session_timer_refreshed(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup(headers=SESSION_TIMER, answer_headers=SESSION_TIMER_OK)
    refresh = c.invite(45.0, sdp=c.sdp(ALICE, bump=True), headers=SESSION_TIMER)
    refresh.reply(45.004, 200, sdp=c.sdp(BOB), headers=SESSION_TIMER_OK)
    refresh.ack()
    c.bye(100.0).reply(100.004, 200)


def glare(c: Call) -> None:
    """Both sides send a re-INVITE (hold) 1 ms apart; each answers the other 491; both ACK."""
    c.setup()
    mine = c.invite(10.0, sdp=c.sdp(ALICE, direction="sendonly"))
    theirs = c.invite(10.001, by=BOB, sdp=c.sdp(BOB, direction="sendonly"))
    mine.reply(10.002, 491)
    theirs.reply(10.003, 491)
    mine.ack(10.004)
    theirs.ack(10.005)


@scenario(
    "glare-491.pcap",
    "call set up; at 10.000 s the caller and at 10.001 s the callee send a re-INVITE; "
    "each answers the other 491 Request Pending (ACKed); the callee, which does not own "
    "the Call-ID, retries at 11.2 s (200, ACK); BYE from the caller at 20 s",
)
def glare_491(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    glare(c)
    retry = c.invite(11.2, by=BOB, sdp=c.sdp(BOB, direction="sendonly"))
    retry.reply(11.204, 200, sdp=c.sdp(ALICE, direction="recvonly"))
    retry.ack()
    c.bye(20.0).reply(20.004, 200)


@scenario(
    "glare-unresolved.pcap",
    "as glare-491 up to the two 491s and their ACKs, then neither side retries; "
    "BYE from the caller at 20 s",
)
def glare_unresolved(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    glare(c)
    c.bye(20.0).reply(20.004, 200)


# --------------------------------------------------------------------------
# Final answers to an INVITE


@scenario(
    "no-cancel-487.pcap",
    "INVITE, 100, 180, then at 5 s the callee answers 487 Request Terminated although "
    "no CANCEL was sent; ACK",
)
def no_cancel_487(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = ringing_invite(c)
    inv.reply(5.0, 487)
    inv.ack()


@scenario(
    "redirect-not-followed.pcap",
    "INVITE answered 302 Moved Temporarily (Contact: <sip:bob@198.51.100.30>); ACK; "
    "the caller does not try the new address",
)
def redirect_not_followed(cap: Capture) -> None:
    rejected(cap.call(ALICE, BOB), 0.0, 302, headers={"Contact": "<sip:bob@198.51.100.30>"})


@scenario("declined-603.pcap", "INVITE, 100, 180, 603 Decline at 4 s, ACK")
def declined_603(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = ringing_invite(c)
    inv.reply(4.0, 603)
    inv.ack()


@scenario(
    "not-found-404.pcap",
    "INVITE for +12125550199 to the proxy; the proxy sends 100 Trying, then 404 Not Found "
    "(the number is not in its dial plan); ACK",
)
def not_found_404(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY, to_user="+12125550199")
    inv = c.invite(0.0, sdp=c.sdp(ALICE))
    inv.reply(0.003, 100)
    inv.reply(0.012, 404)
    inv.ack()


@scenario(
    "long-post-dial-delay.pcap",
    "INVITE, 100 at 0.05 s, 180 only at 9.5 s, 200 at 14 s, ACK, BYE at 30 s, 200",
)
def long_post_dial_delay(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup(trying=0.05, ringing=9.5, answer=14.0)
    c.bye(30.0).reply(30.004, 200)


@scenario(
    "proxy-408.pcap",
    "caller -> proxy INVITE, 100; the proxy forwards it to the callee (Record-Route, its "
    "own Via on top), which never answers: 7 copies up to 31.5 s; at 32 s the proxy "
    "answers the caller 408 Request Timeout; ACK",
)
def proxy_408(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    inv = c.invite(0.0, sdp=c.sdp(ALICE))
    inv.reply(0.002, 100)
    inv.forward(0.004, BOB, ruri=f"sip:bob@{BOB.ip}:5060").retransmit()
    inv.reply(32.004, 408)
    inv.ack()


@scenario(
    "server-errors.pcap",
    "three calls to the proxy, 5 s apart, each 100 Trying then 500 Server Internal Error, "
    "502 Bad Gateway, 504 Server Time-out (after 4 s); each ACKed",
)
def server_errors(cap: Capture) -> None:
    for start, code, delay in ((0.0, 500, 0.01), (5.0, 502, 0.15), (10.0, 504, 4.0)):
        c = cap.call(ALICE, BOB, proxy=PROXY)
        inv = c.invite(start, sdp=c.sdp(ALICE))
        inv.reply(start + 0.003, 100)
        inv.reply(start + delay, code)
        inv.ack()


@scenario(
    "service-unavailable-retry-after.pcap",
    "INVITE answered 503 Service Unavailable with Retry-After: 120; ACK",
)
def service_unavailable_retry_after(cap: Capture) -> None:
    rejected(cap.call(ALICE, BOB), 0.0, 503, headers={"Retry-After": "120"})


@scenario(
    "service-unavailable.pcap", "INVITE answered 503 Service Unavailable, no Retry-After; ACK"
)
def service_unavailable(cap: Capture) -> None:
    rejected(cap.call(ALICE, BOB), 0.0, 503)


FORWARDER = Node("forwarder", BOB_V4, agent="sipdiag-craft-forwarder/1.0")


@scenario(
    "loops-482-483.pcap",
    "two calls through the proxy. 1: the proxy forwards the INVITE to 198.51.100.20, "
    "which sends it back; the proxy finds its own Via and answers 482 Loop Detected, "
    "passed back hop by hop (each hop ACKs). 2 (5 s): an INVITE arrives with "
    "Max-Forwards: 0 and is answered 483 Too Many Hops; ACK",
)
def loops_482_483(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    inv = c.invite(0.0, sdp=c.sdp(ALICE))
    inv.reply(0.002, 100)
    out = inv.forward(0.003, FORWARDER)
    out.reply(0.005, 100)
    back = out.forward(0.006, PROXY, record_route=False)
    loop = back.reply(0.007, 482)
    back.ack(0.008)
    out.relay(0.009, loop)
    out.ack(0.010)
    inv.relay(0.011, out.final)
    inv.ack(0.013)
    c2 = cap.call(ALICE, BOB, proxy=PROXY)
    inv2 = c2.invite(5.0, sdp=c2.sdp(ALICE), headers={"Max-Forwards": "0"})
    inv2.reply(5.002, 483)
    inv2.ack()


@scenario(
    "extension-420-421.pcap",
    "two calls. 1: INVITE with Require: foo answered 420 Bad Extension (Unsupported: foo). "
    "2 (5 s): INVITE without 100rel in Supported answered 421 Extension Required "
    "(Require: 100rel). Each ACKed",
)
def extension_420_421(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = c.invite(0.0, sdp=c.sdp(ALICE), headers={"Require": "foo"})
    inv.reply(0.006, 420, headers={"Unsupported": "foo"})
    inv.ack()
    rejected(cap.call(ALICE, BOB), 5.0, 421, headers={"Require": "100rel"})


@scenario(
    "session-interval-422-retried.pcap",
    "INVITE with Session-Expires: 60 answered 422 Session Interval Too Small (Min-SE: 90), "
    "ACK; a new INVITE (same Call-ID, CSeq 2) with Session-Expires: 90 and Min-SE: 90 "
    "succeeds; BYE at 10 s",
)
def session_interval_422_retried(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = c.invite(0.0, sdp=c.sdp(ALICE), headers={"Session-Expires": "60"})
    inv.reply(0.004, 422, headers={"Min-SE": "90"})
    inv.ack()
    c.setup(
        0.02,
        headers={"Session-Expires": "90", "Min-SE": "90"},
        answer_headers=SESSION_TIMER_OK,
    )
    c.bye(10.0).reply(10.004, 200)


@scenario(
    "session-interval-422-loop.pcap",
    "INVITE with Session-Expires: 60 answered 422 (Min-SE: 90), ACK; the caller tries "
    "three more times, still with Session-Expires: 60, each answered 422 and ACKed; "
    "then it stops",
)
def session_interval_422_loop(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    for attempt in range(4):
        t = 0.02 * attempt
        inv = c.invite(t, sdp=c.sdp(ALICE), headers={"Session-Expires": "60"})
        inv.reply(t + 0.004, 422, headers={"Min-SE": "90"})
        inv.ack()


G729 = ((18, "G729/8000", "annexb=no"),)
PCMU_PCMA = ((0, "PCMU/8000", None), (8, "PCMA/8000", None))
H264 = ((96, "H264/90000", "profile-level-id=42e01f;packetization-mode=1"),)


@scenario(
    "codec-mismatch-488-606.pcap",
    "two calls. 1: INVITE offering only G.729 answered 488 Not Acceptable Here with "
    'Warning: 305 ... "Incompatible media format" and an SDP of PCMU/PCMA. 2 (5 s): '
    "INVITE offering only H.264 video answered 606 Not Acceptable, no body. Each ACKed",
)
def codec_mismatch_488_606(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    inv = c.invite(0.0, sdp=c.sdp(ALICE, port=4000, codecs=G729))
    inv.reply(
        0.006,
        488,
        headers={"Warning": f'305 {BOB.ip} "Incompatible media format"'},
        sdp=c.sdp(BOB, codecs=PCMU_PCMA),
    )
    inv.ack()
    c2 = cap.call(ALICE, BOB)
    video = c2.sdp(ALICE, media="video", port=4002, codecs=H264, ptime=None)
    inv2 = c2.invite(5.0, sdp=video)
    inv2.reply(5.006, 606)
    inv2.ack()


# --------------------------------------------------------------------------
# Time-outs and registration


@scenario(
    "invite-no-response.pcap",
    "an INVITE never answered: 7 copies on the INVITE schedule (0 to 31.5 s); at 33 s an "
    "unrelated OPTIONS from the caller to the proxy (another Call-ID) is answered 200",
)
def invite_no_response(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.invite(0.0, sdp=c.sdp(ALICE)).retransmit()
    ping = cap.call(ALICE, PROXY, to_uri=f"sip:{PROXY.ip}")
    ping.request("OPTIONS", 33.0).reply(33.003, 200)


REALM = "sipdiag.test"


def registration(cap: Capture) -> Call:
    """alice's registration at the proxy (registrar): To = From = sip:alice@198.51.100.1."""
    return cap.call(ALICE, PROXY, domain=PROXY.ip, to_user="alice", ruri=f"sip:{PROXY.ip}")


def register_with_auth(reg: Call, at: float, nonce: str, password: str) -> Tx:
    auth = authorization(
        "alice", password, REALM, nonce, "REGISTER", reg.ruri, reg.id("cnonce", nonce, n=16)
    )
    return reg.request("REGISTER", at, headers={"Authorization": auth})


def challenge(reg: Call, tx: Tx, at: float, n: int) -> str:
    """tx answered 401 with a fresh nonce (the n-th); returns the nonce."""
    nonce = reg.id("nonce", str(n), n=32)
    tx.reply(at, 401, headers={"WWW-Authenticate": www_authenticate(REALM, nonce)})
    return nonce


@scenario(
    "register-wrong-password.pcap",
    "REGISTER answered 401 (Digest, MD5, qop=auth); REGISTER again (CSeq 2) with an "
    "Authorization computed from the wrong password, answered 403 Forbidden",
)
def register_wrong_password(cap: Capture) -> None:
    reg = registration(cap)
    nonce = challenge(reg, reg.request("REGISTER", 0.0), 0.004, 1)
    register_with_auth(reg, 0.012, nonce, "not-the-password").reply(0.016, 403)


@scenario(
    "register-repeated-challenge.pcap",
    "REGISTER -> 401; REGISTER with Authorization -> 401 again (new nonce, no stale); "
    "REGISTER with Authorization -> 401 again; the client stops",
)
def register_repeated_challenge(cap: Capture) -> None:
    reg = registration(cap)
    nonce = challenge(reg, reg.request("REGISTER", 0.0), 0.004, 1)
    for n in (2, 3):
        t = 0.012 * (n - 1)
        nonce = challenge(reg, register_with_auth(reg, t, nonce, "not-the-password"), t + 0.004, n)


def register_too_brief(cap: Capture) -> Call:
    reg = registration(cap)
    reg.request("REGISTER", 0.0, headers={"Expires": "60"}).reply(
        0.004, 423, headers={"Min-Expires": "300"}
    )
    return reg


@scenario(
    "register-423.pcap",
    "REGISTER with Expires: 60 answered 423 Interval Too Brief (Min-Expires: 300); "
    "the client does not retry",
)
def register_423(cap: Capture) -> None:
    register_too_brief(cap)


@scenario(
    "register-423-retried.pcap",
    "as register-423, then a REGISTER (CSeq 2) with Expires: 300 answered 200 OK "
    "(Contact ...;expires=300)",
)
def register_423_retried(cap: Capture) -> None:
    reg = register_too_brief(cap)
    binding = f"{ALICE.contact};expires=300"
    reg.request("REGISTER", 0.012, headers={"Expires": "300"}).reply(
        0.016, 200, headers={"Contact": binding, "Date": http_date(0.016)}
    )


@scenario(
    "register-no-response.pcap",
    "a REGISTER never answered: 11 copies on the non-INVITE schedule (0 to 31.5 s); at "
    "33 s an unrelated OPTIONS from the caller to 198.51.100.20 is answered 200",
)
def register_no_response(cap: Capture) -> None:
    registration(cap).request("REGISTER", 0.0).retransmit()
    cap.call(ALICE, BOB).request("OPTIONS", 33.0).reply(33.004, 200)


# --------------------------------------------------------------------------
# Transport and addresses


@scenario(
    "udp-large-invite.pcap",
    "an INVITE of about 1,600 bytes over UDP (SDP with ICE candidate lines), sent as two "
    "IP fragments; 100, 180, 200, ACK, BYE at 10 s, 200",
)
def udp_large_invite(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    checked_size(c.setup(offer=big_offer(c)))
    c.bye(10.0).reply(10.004, 200)


@scenario(
    "too-large-513.pcap",
    "an INVITE of about 1,600 bytes over UDP (two IP fragments) to the proxy, answered "
    "513 Message Too Large; ACK",
)
def too_large_513(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    inv = checked_size(c.invite(0.0, sdp=big_offer(c)))
    inv.reply(0.004, 513)
    inv.ack()


@scenario(
    "private-address-behind-nat.pcap",
    "the caller's packets come from 203.0.113.5, but its Via, Contact and SDP carry its "
    "private address 192.168.1.20 (a phone behind NAT, no ALG or STUN); the callee "
    "(198.51.100.20) answers with its public address; ACK; BYE at 10 s; 200",
)
def private_address_behind_nat(cap: Capture) -> None:
    phone = Node(
        "alice",
        "192.168.1.20",
        user="alice",
        display="Alice",
        agent="sipdiag-craft-alice/1.0",
        rtp_port=49170,
        wire_ip="203.0.113.5",
    )
    c = cap.call(phone, BOB)
    c.setup()
    c.bye(10.0).reply(10.004, 200)


@scenario(
    "private-address-same-lan.pcap",
    "192.168.1.20 calls 192.168.1.30 on the same LAN, both with their private addresses "
    "in Contact and SDP (a normal LAN call); BYE at 10 s, 200",
)
def private_address_same_lan(cap: Capture) -> None:
    a = Node(
        "alice", "192.168.1.20", user="alice", display="Alice", agent=ALICE.agent, rtp_port=49170
    )
    b = Node("bob", "192.168.1.30", user="bob", agent=BOB.agent, rtp_port=3456)
    c = cap.call(a, b)
    c.setup()
    c.bye(10.0).reply(10.004, 200)


@scenario(
    "bye-reason-q850.pcap",
    'call set up; at 8 s the callee hangs up with BYE carrying Reason: Q.850;cause=41;text="'
    'Temporary failure"; 200',
)
def bye_reason_q850(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    c.setup()
    reason = {"Reason": 'Q.850;cause=41;text="Temporary failure"'}
    c.bye(8.0, by=BOB, headers=reason).reply(8.004, 200)


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
