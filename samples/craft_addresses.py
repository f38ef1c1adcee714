#!/usr/bin/env python3
"""Craft the captures of samples/rules/ about addresses, sizes and the causes a message states.

Private addresses (N104): an ICE offer whose private c= is only the default beside a server
reflexive candidate; the same with host candidates only; a proxy relaying a LAN phone's private
Contact and SDP, both ways; a phone behind NAT whose Contact the far end reaches through the
NAT. Large requests over UDP (N102, N106): a 1,400-byte INVITE answered normally; a 1,600-byte
INVITE in two IP fragments, sent seven times and never answered. Causes read from the answer
(C117): 480 No DNS results, a Warning about DNS, a Reason with Q.850 cause 3, against a 480 the
callee gave. Refused offers (C116, C118): offers with no usable stream, and one with a disabled
stream beside a real codec mismatch. Made as craft_scenarios.py makes its captures
(sipflow.py, pcapkit.py): deterministic, documentation addresses (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24), RFC 1918 addresses where a scenario is about them.

Usage:  python3 samples/craft_addresses.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pcapkit import CRLF, Catalogue
from sipflow import ALICE, BOB, PROXY, Call, Capture, Node, Tx, uri_of

CATALOGUE = Catalogue("rules")
Build = Callable[[Capture], None]

NAT_PUBLIC = "203.0.113.5"
"""The public address of the NAT in front of the phone (TEST-NET-3)."""
PHONE_LAN = "192.168.1.20"
PHONE = Node("alice", PHONE_LAN, user="alice", display="Alice", agent="sipdiag-craft-phone/1.0",
             rtp_port=49170, wire_ip=NAT_PUBLIC)
"""A phone behind NAT with no ALG and no STUN: Via, Contact and SDP carry its LAN address."""
STUN_PHONE = Node("alice", NAT_PUBLIC, user="alice", display="Alice",
                  agent="sipdiag-craft-ice/1.0", rtp_port=49170)
"""A phone behind the same NAT that learned its public address (STUN, rport) for SIP."""
DESK = Node("carol", "192.168.1.30", user="carol", agent="sipdiag-craft-desk/1.0", rtp_port=5678)
"""A desk phone on the company LAN, behind the proxy."""
PROXY2 = Node("proxy2", "198.51.100.2", agent="sipdiag-craft-proxy2/1.0")
GATEWAY = Node("gateway", "198.51.100.30", agent="sipdiag-craft-gateway/1.0")
G729 = ((18, "G729/8000", "annexb=no"),)
PCMU_PCMA = ((0, "PCMU/8000", None), (8, "PCMA/8000", None))
H264 = ((96, "H264/90000", None),)


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, Capture)


# --------------------------------------------------------------------------
# Private addresses (N104)


def ice_offer(c: Call, srflx: bool) -> str:
    """STUN_PHONE's offer: c= is its LAN address (the default destination, RFC 8839 section 2),
    with a host candidate and, if srflx, the server reflexive one at the NAT's address."""
    body = c.sdp(STUN_PHONE).replace(f"IN IP4 {NAT_PUBLIC}", f"IN IP4 {PHONE_LAN}")
    port = STUN_PHONE.rtp_port
    lines = [f"a=candidate:1 1 UDP 2130706431 {PHONE_LAN} {port} typ host"]
    if srflx:
        lines.append(f"a=candidate:2 1 UDP 1694498815 {NAT_PUBLIC} 61000 typ srflx "
                     f"raddr {PHONE_LAN} rport {port}")
    return body + CRLF.join(lines) + CRLF


def ice_call(cap: Capture, srflx: bool) -> None:
    c = cap.call(STUN_PHONE, BOB)
    c.setup(offer=ice_offer(c, srflx))
    c.bye(10.0).reply(10.004, 200)


@scenario(
    "ice-private-default.pcap",
    f"a phone behind NAT signals from {NAT_PUBLIC} with that address in Via and Contact; its "
    f"SDP has c={PHONE_LAN} with a host candidate there and a server reflexive candidate "
    f"{NAT_PUBLIC}:61000 (ICE); Bob answers; BYE at 10 s",
)
def ice_private_default(cap: Capture) -> None:
    ice_call(cap, srflx=True)


@scenario(
    "ice-host-candidates-only.pcap",
    f"as ice-private-default, but the only candidate is the host one at {PHONE_LAN}: nothing "
    "reachable from outside",
)
def ice_host_candidates_only(cap: Capture) -> None:
    ice_call(cap, srflx=False)


@scenario(
    "proxy-relays-private-addresses.pcap",
    f"two calls through the company proxy {PROXY.ip} (Record-Route). 1: the desk phone "
    f"{DESK.ip} calls Bob: the proxy relays its INVITE (two Vias) with the phone's private "
    f"Contact and SDP; Bob answers. 2: Alice calls the desk phone: the proxy relays the phone's "
    "200 with its private Contact and SDP back to Alice (at 5 s). Each ACKed through the "
    "proxy",
)
def proxy_relays_private_addresses(cap: Capture) -> None:
    for at, caller, callee in ((0.0, DESK, BOB), (5.0, ALICE, DESK)):
        c = cap.call(caller, callee, proxy=PROXY)
        invite = c.invite(at, sdp=c.sdp(caller))
        invite.reply(at + 0.002, 100)
        onward = invite.forward(at + 0.004, callee)
        ok = onward.reply(at + 1.0, 200, sdp=c.sdp(callee))
        invite.relay(at + 1.002, ok)
        invite.ack(at + 1.004).forward(at + 1.006, callee, record_route=False)


@scenario(
    "private-contact-reached-through-nat.pcap",
    f"the phone behind NAT ({PHONE_LAN}, packets from {NAT_PUBLIC}) calls Bob with its private "
    f"Contact and SDP; Bob's answer puts its media at its own address; at 10 s Bob's BYE, for "
    f"the private Contact, goes to {NAT_PUBLIC}: Bob reaches the phone through the NAT; 200",
)
def private_contact_reached_through_nat(cap: Capture) -> None:
    c = cap.call(PHONE, BOB)
    c.setup()
    c.bye(10.0, by=BOB).reply(10.004, 200)


# --------------------------------------------------------------------------
# Large requests over UDP (N102, N106)


def padded_offer(c: Call, lines: int) -> str:
    """The caller's SDP with ICE candidate lines, to make a large INVITE."""
    return c.sdp(c.caller, extra_lines=lines)


def sized(tx: Tx, low: int, high: int) -> Tx:
    assert low <= len(tx.data) <= high, len(tx.data)
    return tx


@scenario(
    "udp-large-invite-answered.pcap",
    "an INVITE of about 1,400 bytes over UDP (one IP packet on a 1,500-byte MTU); 100, 180, "
    "200, ACK, BYE at 10 s, 200",
)
def udp_large_invite_answered(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    sized(c.setup(offer=padded_offer(c, 7)), 1350, 1450)
    c.bye(10.0).reply(10.004, 200)


@scenario(
    "udp-large-invite-lost.pcap",
    "an INVITE of about 1,600 bytes over UDP in two IP fragments, sent 7 times (0 to 31.5 s) "
    "and never answered: the capture is taken at the caller, and a firewall on the way drops "
    "the second fragment of every copy",
)
def udp_large_invite_lost(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    sized(c.invite(0.0, sdp=padded_offer(c, 9)), 1550, 1700).retransmit()


# --------------------------------------------------------------------------
# Causes read from the answer (C117)


@scenario(
    "routing-failure-no-dns.pcap",
    "three calls refused by a server on the way. 1: the proxy answers Alice's INVITE for "
    "bob@example.net 100, then 480 No DNS results. 2: the proxy forwards to a second proxy "
    f"({PROXY2.ip}), which answers 503 Service Unavailable with Warning: 399 saying its DNS "
    f"lookup failed; the proxy relays it. 3: the proxy forwards to a gateway ({GATEWAY.ip}), "
    "which answers 404 Not Found with Reason: Q.850;cause=3; relayed. Each ACKed",
)
def routing_failure_no_dns(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY, domain="example.net")
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.reply(0.002, 100)
    invite.reply(0.05, 480, "No DNS results")
    invite.ack()
    warning = {"Warning": f'399 {PROXY2.ip} "DNS lookup for sip.example.org failed"'}
    no_route = {"Reason": 'Q.850;cause=3;text="No route to destination"'}
    for at, (node, code, headers) in ((5.0, (PROXY2, 503, warning)),
                                      (10.0, (GATEWAY, 404, no_route))):
        c = cap.call(ALICE, BOB, proxy=PROXY, domain="example.net")
        invite = c.invite(at, sdp=c.sdp(ALICE))
        invite.reply(at + 0.002, 100)
        onward = invite.forward(at + 0.004, node)
        refused = onward.reply(at + 0.05, code, headers=headers)
        onward.ack()
        invite.relay(at + 0.052, refused)
        invite.ack()


@scenario(
    "callee-unavailable-480.pcap",
    "Alice's INVITE through the proxy reaches Bob (the proxy puts Bob's Contact in the "
    "Request-URI), who answers 480 Temporarily Unavailable; the proxy relays it; ACKed",
)
def callee_unavailable_480(cap: Capture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    invite = c.invite(0.0, sdp=c.sdp(ALICE))
    invite.reply(0.002, 100)
    onward = invite.forward(0.004, BOB, ruri=uri_of(BOB.contact))
    unavailable = onward.reply(0.5, 480, "Temporarily Unavailable")
    onward.ack()
    invite.relay(0.502, unavailable)
    invite.ack()


# --------------------------------------------------------------------------
# Refused offers (C116, C118)


def with_stream(body: str, section: str) -> str:
    """body with one more media section (its m= line and attributes) at the end."""
    return body + section[section.index("m="):]


def disabled(body: str) -> str:
    """body with its m= port set to 0: offered but not to be used (RFC 3264 5.1)."""
    head, media = body.split("m=", 1)
    kind, _, rest = media.partition(" ")
    return f"{head}m={kind} 0 {rest.partition(' ')[2]}"


@scenario(
    "offer-without-stream-488.pcap",
    "three INVITEs from Alice, each answered 488 by Bob and ACKed: 1. m=audio port 0; "
    "2. c=0.0.0.0 (no ICE candidate); 3. audio and video both a=inactive",
)
def offer_without_stream_488(cap: Capture) -> None:
    offers = []
    c = cap.call(ALICE, BOB)
    offers.append((c, disabled(c.sdp(ALICE))))
    c = cap.call(ALICE, BOB)
    offers.append((c, c.sdp(ALICE).replace(f"c=IN IP4 {ALICE.ip}", "c=IN IP4 0.0.0.0")))
    c = cap.call(ALICE, BOB)
    video = c.sdp(ALICE, media="video", port=49172, codecs=H264, direction="inactive",
                  ptime=None)
    offers.append((c, with_stream(c.sdp(ALICE, direction="inactive"), video)))
    for n, (c, offer) in enumerate(offers):
        invite = c.invite(5.0 * n, sdp=offer)
        invite.reply(5.0 * n + 0.006, 488)
        invite.ack()


@scenario(
    "offer-partly-disabled-488.pcap",
    "Alice's INVITE offers video on port 0 (disabled) and audio G.729 only; Bob answers 488 "
    "with his SDP (PCMU, PCMA) and a Warning 305; ACKed",
)
def offer_partly_disabled_488(cap: Capture) -> None:
    c = cap.call(ALICE, BOB)
    video = disabled(c.sdp(ALICE, media="video", codecs=H264, ptime=None))
    invite = c.invite(0.0, sdp=with_stream(c.sdp(ALICE, port=4000, codecs=G729), video))
    invite.reply(0.006, 488, headers={"Warning": f'305 {BOB.ip} "Incompatible media format"'},
                 sdp=c.sdp(BOB, codecs=PCMU_PCMA))
    invite.ack()


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
