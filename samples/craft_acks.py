#!/usr/bin/env python3
"""Craft the captures of samples/rules/ about ACKs and requests that are never answered.

A 2xx whose ACK went where the capture does not see (another hop, another port) and whose
sender stopped retransmitting: acknowledged. A 2xx never acknowledged, shown by its sender:
retransmitted until 64*T1, or ended with a BYE from the UAS 64*T1 after it, or retransmitted
although the caller's ACK reached a proxy that did not pass it on. A 486 retransmitted until
Timer H without ACK, and one ACKed after a few copies. Requests refused with ICMP destination
unreachable (port unreachable from the callee, host unreachable from a router), and a CANCEL
never answered. Made as craft_scenarios.py makes its captures (sipflow.py, pcapkit.py):
deterministic, documentation addresses.

Usage:  python3 samples/craft_acks.py [--out DIR] [--check] [--list]

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

from pcapkit import T0_US, Catalogue, ether_frame, hexid, ip_packet
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from sipflow import ALICE, BOB, PROXY, TIMER_B, Call, Capture, Node, Response, Tx, uri_of

CATALOGUE = Catalogue("rules")
ROUTER = Node("router", "198.51.100.254")
"""A router on the way to the callee, which reports its host unreachable."""
ICMP_PORT_UNREACHABLE, ICMP_HOST_UNREACHABLE = 3, 1
"""ICMP destination unreachable (type 3) codes (RFC 792)."""
QUOTE = 20 + 8
"""What an ICMP error quotes of the datagram: its IP header and 64 bits of it (RFC 792)."""


@dataclass(frozen=True)
class Refusal:
    at: float
    quoted_at: float
    """The time the refused datagram was sent (each datagram of these captures has its own)."""
    reporter: Node
    code: int


class RefusingCapture(Capture):
    """A Capture whose datagrams may draw ICMP destination unreachable errors."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.refusals: list[Refusal] = []

    def refuse(self, at: float, quoted_at: float, reporter: Node, code: int) -> None:
        """An ICMP error from ``reporter`` at ``at`` quoting the datagram sent at ``quoted_at``."""
        self.refusals.append(Refusal(at, quoted_at, reporter, code))

    def frames(self) -> list[tuple[int, bytes]]:
        frames = super().frames()
        by_time = dict(frames)
        for index, refusal in enumerate(self.refusals):
            quoted = Ether(bytes(by_time[T0_US + round(refusal.quoted_at * 1_000_000)]))[IP]
            ip_id = int(hexid(self.name, "icmp", str(index), n=4), 16)
            packet = (ip_packet(refusal.reporter.ip, quoted.src, ip_id)
                      / ICMP(type=3, code=refusal.code) / Raw(bytes(quoted)[:QUOTE]))
            frame = ether_frame(refusal.reporter.mac, ALICE.mac, packet)
            frames.append((T0_US + round(refusal.at * 1_000_000), frame))
        return sorted(frames, key=lambda frame: frame[0])


Build = Callable[[RefusingCapture], None]


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    return CATALOGUE.scenario(name, desc, RefusingCapture)


def ringing(c: Call, at: float = 0.0) -> Tx:
    """The caller's INVITE straight to the callee, 100 after 4 ms, 180 after 0.2 s."""
    inv = c.invite(at, sdp=c.sdp(c.caller))
    inv.reply(at + 0.004, 100)
    inv.reply(at + 0.2, 180)
    return inv


def proxied(c: Call, record_route: bool) -> tuple[Tx, Tx]:
    """The caller's INVITE through the proxy to the callee, ringing: (first hop, second hop)."""
    inv = c.invite(0.0, sdp=c.sdp(c.caller))
    inv.reply(0.004, 100)
    out = inv.forward(0.010, c.callee, ruri=uri_of(c.callee.contact), record_route=record_route)
    out.reply(0.014, 100)
    inv.relay(0.204, out.reply(0.2, 180))
    return inv, out


def ack_of_2xx(inv: Tx, ok: Response, at: float, src: Node, dst: Node) -> Tx:
    """The caller's ACK of a 2xx (section 13.2.2.4): a new branch, the INVITE's CSeq number,
    sent from ``src`` to ``dst`` (which sipflow's own ``Tx.ack``, to the 2xx's sender, is not)."""
    c = inv.call
    headers = [
        ("Via", src.via(c.branch())),
        ("Max-Forwards", "70"),
        ("From", inv.get("From")),
        ("To", ok.get("To")),
        ("Call-ID", c.call_id),
        ("CSeq", f"{inv.cseq} ACK"),
        ("User-Agent", src.agent),
    ]
    return Tx(c, at, src, dst, "ACK", uri_of(ok.get("Contact")), headers)


@scenario(
    "ack-on-another-hop.pcap",
    "alice -> proxy -> bob, the proxy does not record-route; bob's 200 (2.5 s) is relayed to "
    "alice, sent once each; alice ACKs straight to bob from port 5062, not her Via's 5060; at "
    "40 s alice's BYE goes straight to bob, 200: the 2xx was acknowledged off the proxy's path",
)
def ack_on_another_hop(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    inv, out = proxied(c, record_route=False)
    ok = out.reply(2.5, 200, sdp=c.sdp(BOB))
    inv.relay(2.504, ok)
    ack_of_2xx(inv, ok, 2.506, replace(ALICE, wire_port=5062), BOB)
    c.bye(40.0).reply(40.004, 200)


@scenario(
    "ack-missing-retransmitted.pcap",
    "alice -> bob; bob's 200 (2.5 s) is never ACKed and goes out 11 times, T1 doubling up to "
    "T2, the last at 34.0 s (64*T1 after the first, within T2); no BYE; the capture ends there",
)
def ack_missing_retransmitted(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    ringing(c).reply(2.5, 200, sdp=c.sdp(BOB)).retransmit()


@scenario(
    "ack-missing-bye-32s.pcap",
    "alice -> bob; bob sends its 200 once (2.5 s), no ACK comes; at 34.5 s (64*T1 later) bob "
    "sends BYE, answered 200",
)
def ack_missing_bye_32s(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    ringing(c).reply(2.5, 200, sdp=c.sdp(BOB))
    c.bye(2.5 + TIMER_B, by=BOB).reply(2.5 + TIMER_B + 0.004, 200)


@scenario(
    "ack-off-path-caller-bye.pcap",
    "alice -> bob; bob sends its 200 once (2.5 s), no ACK in the capture and no copy of the "
    "200: bob got the ACK out of sight; at 34.5 s alice (the caller) sends BYE, answered 200",
)
def ack_off_path_caller_bye(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    ringing(c).reply(2.5, 200, sdp=c.sdp(BOB))
    c.bye(2.5 + TIMER_B).reply(2.5 + TIMER_B + 0.004, 200)


@scenario(
    "ack-lost-at-proxy.pcap",
    "alice -> proxy -> bob with Record-Route; bob's 200 (2.5 s) goes out 11 times until 34.0 "
    "s, the proxy relays each copy to alice, who ACKs each to the proxy; the proxy never "
    "passes the ACK on; at 34.5 s bob's BYE through the proxy, 200",
)
def ack_lost_at_proxy(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    inv, out = proxied(c, record_route=True)
    ok = out.reply(2.5, 200, sdp=c.sdp(BOB)).retransmit()
    ack = None
    for copy in sorted(s.t_us for s in cap.sent if s.data == ok.data):
        at = copy / 1_000_000
        inv.relay(at + 0.004, ok)
        if ack is None:
            ack = ack_of_2xx(inv, ok, at + 0.006, ALICE, PROXY)
        else:
            cap.send(at + 0.006, ALICE, PROXY, ack.data)  # the same ACK for each copy
    c.contacts[ALICE.name] = (c.contacts[ALICE.name][0], PROXY)  # bob's BYE via the proxy
    bye = c.bye(2.5 + TIMER_B, by=BOB)
    hop = bye.forward(2.5 + TIMER_B + 0.004, ALICE, record_route=False)
    bye.relay(2.5 + TIMER_B + 0.012, hop.reply(2.5 + TIMER_B + 0.008, 200))


@scenario(
    "busy-486-unacked.pcap",
    "alice -> bob; bob answers 486 Busy Here at 3 s and, no ACK coming, sends it 11 times on "
    "Timer G until Timer H (the last at 34.5 s)",
)
def busy_486_unacked(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    ringing(c).reply(3.0, 486).retransmit()


@scenario(
    "busy-486-acked-late.pcap",
    "alice -> bob; bob answers 486 Busy Here at 3 s, sends it again at 3.5 and 4.5 s; alice's "
    "ACK (same branch) at 4.502 s stops it",
)
def busy_486_acked_late(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    inv = ringing(c)
    inv.reply(3.0, 486).retransmit(copies=3)
    inv.ack(4.502)


@scenario(
    "invite-port-unreachable.pcap",
    "alice's INVITE to bob (198.51.100.20:5060) goes out 7 times on Timer A (0 to 31.5 s); "
    "bob's host answers each copy 30 ms later with ICMP port unreachable: nothing listens there",
)
def invite_port_unreachable(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    inv = c.invite(0.0, sdp=c.sdp(ALICE)).retransmit()
    for copy in sorted(s.t_us for s in cap.sent if s.data == inv.data):
        at = copy / 1_000_000
        cap.refuse(at + 0.030, at, BOB, ICMP_PORT_UNREACHABLE)


@scenario(
    "register-host-unreachable.pcap",
    "alice's REGISTER to 198.51.100.20:5060, sent once; 20 ms later a router (198.51.100.254) "
    "answers ICMP host unreachable, and alice gives up (a transport error, RFC 3261 17.1.4)",
)
def register_host_unreachable(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB, to_user="alice")
    register = c.request("REGISTER", 0.0)
    cap.refuse(0.020, register.at, ROUTER, ICMP_HOST_UNREACHABLE)


@scenario(
    "invite-refused-then-answered.pcap",
    "alice's INVITE to bob draws ICMP port unreachable (bob's SIP service restarting); its "
    "copy 0.5 s later is answered 100, 180, 200, ACK; alice hangs up at 5 s",
)
def invite_refused_then_answered(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    inv = c.invite(0.0, sdp=c.sdp(ALICE)).retransmit(copies=2)
    cap.refuse(0.030, inv.at, BOB, ICMP_PORT_UNREACHABLE)
    inv.reply(0.504, 100)
    inv.reply(0.7, 180)
    inv.reply(2.5, 200, sdp=c.sdp(BOB))
    inv.ack()
    c.bye(5.0).reply(5.004, 200)


@scenario(
    "cancel-unanswered.pcap",
    "alice -> bob; 100, 180; alice's CANCEL at 3 s is never answered: sent 11 times on Timer E "
    "until 34.5 s; no 487 to the INVITE either",
)
def cancel_unanswered(cap: RefusingCapture) -> None:
    c = cap.call(ALICE, BOB)
    ringing(c).cancel(3.0).retransmit()


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
