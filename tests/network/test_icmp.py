"""ICMP and ICMPv6 destination unreachable quoting a UDP datagram (RFC 792, RFC 4443 3.1).

The decoder hands each one to the UDP sink (the media layer) as who reported it, the quoted
datagram's source and destination, and why; every other ICMP message is ignored.
"""

from __future__ import annotations

import struct

import pytest

from sipdiag.capture import linktypes
from sipdiag.network import Endpoint
from sipdiag.network.decoder import Decoder
from sipdiag.problems import ProblemLog
from tests import packets

TS = 1_700_000_000_123_456_789
FRAME = 42


class Sink:
    """A PayloadSink that takes nothing and a UdpSink that records unreachables."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[object, ...]] = []
        self.unreachables: list[tuple[object, ...]] = []

    def datagram(self, *args: object) -> bool:
        self.datagrams.append(args)
        return False

    def unreachable(self, *args: object) -> None:
        self.unreachables.append(args)


def feed(frame: bytes, udp_sink: bool = True) -> tuple[Sink, ProblemLog]:
    """Decode one Ethernet frame placed inside a larger buffer, as capture readers do."""
    sink, problems = Sink(), ProblemLog()
    decoder = Decoder(sink, problems, udp=sink if udp_sink else None)  # type: ignore[arg-type]
    buf = b"\xaa" * 7 + frame + b"\xbb" * 9
    decoder.link_handler(linktypes.ETHERNET)(FRAME, TS, buf, 7, 7 + len(frame), len(frame))
    return sink, problems


def icmp(kind: int, code: int, quoted: bytes) -> bytes:
    return struct.pack("!BBHI", kind, code, 0, 0) + quoted


# The datagram that was refused: 192.0.2.1:5060 -> 198.51.100.7:5080.
QUOTED4 = packets.ipv4("192.0.2.1", "198.51.100.7", 17, packets.udp(5060, 5080, b"x" * 100))
QUOTED6 = packets.ipv6("2001:db8::1", "2001:db8:1::7", 17, packets.udp(5062, 5084, b"y" * 100))


def icmp4_frame(kind: int, code: int, quoted: bytes) -> bytes:
    return packets.ethernet(packets.ipv4("203.0.113.9", "192.0.2.1", 1, icmp(kind, code, quoted)))


def icmp6_frame(kind: int, code: int, quoted: bytes) -> bytes:
    outer = packets.ipv6("2001:db8:ff::9", "2001:db8::1", 58, icmp(kind, code, quoted))
    return packets.ethernet(outer, 0x86DD)


@pytest.mark.parametrize(
    ("code", "reason"),
    [(0, "network"), (1, "host"), (2, "other"), (3, "port"), (4, "other"), (9, "prohibited"),
     (10, "prohibited"), (13, "prohibited"), (12, "other")],
)
def test_icmp_unreachable_reports_the_quoted_udp_flow(code: int, reason: str) -> None:
    sink, problems = feed(icmp4_frame(3, code, QUOTED4[:28]))  # IP header + 8 bytes (RFC 792)
    assert sink.unreachables == [
        (FRAME, TS, "203.0.113.9", Endpoint("192.0.2.1", 5060), Endpoint("198.51.100.7", 5080),
         reason)
    ]
    assert sink.datagrams == [] and problems.counts == {}


def test_icmp_unreachable_may_quote_the_whole_datagram() -> None:
    sink, _ = feed(icmp4_frame(3, 3, QUOTED4))
    assert [u[2:] for u in sink.unreachables] == [
        ("203.0.113.9", Endpoint("192.0.2.1", 5060), Endpoint("198.51.100.7", 5080), "port")
    ]


def _quoted4_with_options(ihl: int, udp_bytes: int) -> bytes:
    """The quoted IPv4 header carrying (ihl - 5) words of options, then part of the UDP header."""
    plain = packets.ipv4("192.0.2.1", "198.51.100.7", 17, b"")
    header = bytes([0x40 | ihl]) + plain[1:] + b"\x01" * (4 * (ihl - 5))  # NOP options
    return header + packets.udp(5060, 5080, b"")[:udp_bytes]


@pytest.mark.parametrize("ihl", [6, 7, 15])
def test_icmp_quoted_ipv4_options_are_skipped_to_reach_the_ports(ihl: int) -> None:
    sink, _ = feed(icmp4_frame(3, 3, _quoted4_with_options(ihl, 8)))
    assert [u[3:] for u in sink.unreachables] == [
        (Endpoint("192.0.2.1", 5060), Endpoint("198.51.100.7", 5080), "port")
    ]


def test_icmp_needs_both_quoted_ports() -> None:
    # 28 quoted bytes but a 28-byte IP header: 4 bytes of UDP, both ports, are enough.
    sink, _ = feed(icmp4_frame(3, 3, _quoted4_with_options(7, 4)))
    assert len(sink.unreachables) == 1
    sink, _ = feed(icmp4_frame(3, 3, _quoted4_with_options(7, 3)))
    assert sink.unreachables == []


@pytest.mark.parametrize(
    ("kind", "code", "quoted"),
    [
        (0, 0, QUOTED4[:28]),  # echo reply
        (11, 0, QUOTED4[:28]),  # time exceeded quotes too, but is not an unreachable
        (1, 3, QUOTED4[:28]),  # the ICMPv6 unreachable type means nothing in ICMPv4
        (3, 3, QUOTED4[:27]),  # the UDP header cut before the destination port
        (3, 3, packets.ipv4("192.0.2.1", "198.51.100.7", 6, packets.tcp(5060, 5080, 1))[:28]),
    ],
    ids=["echo", "time-exceeded", "v6-type", "cut", "tcp"],
)
def test_other_icmp_is_ignored(kind: int, code: int, quoted: bytes) -> None:
    sink, problems = feed(icmp4_frame(kind, code, quoted))
    assert sink.unreachables == [] and sink.datagrams == [] and problems.counts == {}


def test_icmp_header_cut_short_is_ignored() -> None:
    sink, problems = feed(packets.ethernet(packets.ipv4("203.0.113.9", "192.0.2.1", 1, b"\3\3")))
    assert sink.unreachables == [] and problems.counts == {}


def test_icmp_without_a_udp_sink_is_not_decoded() -> None:
    sink, problems = feed(icmp4_frame(3, 3, QUOTED4[:28]), udp_sink=False)
    assert sink.unreachables == [] and sink.datagrams == [] and problems.counts == {}


@pytest.mark.parametrize(
    ("code", "reason"),
    [(0, "network"), (1, "prohibited"), (2, "other"), (3, "host"), (4, "port"), (5, "other")],
)
def test_icmpv6_unreachable_reports_the_quoted_udp_flow(code: int, reason: str) -> None:
    sink, problems = feed(icmp6_frame(1, code, QUOTED6[:48]))
    assert sink.unreachables == [
        (FRAME, TS, "2001:db8:ff::9", Endpoint("2001:db8::1", 5062),
         Endpoint("2001:db8:1::7", 5084), reason)
    ]
    assert sink.datagrams == [] and problems.counts == {}


@pytest.mark.parametrize(
    ("kind", "quoted"),
    [
        (1, QUOTED6[:47]),  # the quoted UDP header cut short
        (3, QUOTED6[:48]),  # time exceeded (type 3 in ICMPv6)
        (128, QUOTED6[:48]),  # echo request
        (1, packets.ipv6("2001:db8::1", "2001:db8:1::7", 6, packets.tcp(5062, 5084, 1))[:48]),
        # TCP again, from an address whose second byte is 17: where IPv4 keeps its protocol
        (1, packets.ipv6("2011:db8::1", "2001:db8:1::7", 6, packets.tcp(5062, 5084, 1))[:48]),
    ],
    ids=["cut", "time-exceeded", "echo", "tcp", "tcp-not-read-as-ipv4"],
)
def test_other_icmpv6_is_ignored(kind: int, quoted: bytes) -> None:
    sink, problems = feed(icmp6_frame(kind, 4, quoted))
    assert sink.unreachables == [] and problems.counts == {}


def test_icmpv6_unreachable_inside_ipv4_tunnel_keeps_the_ipv6_reporter() -> None:
    inner = packets.ipv6("2001:db8:ff::9", "2001:db8::1", 58, icmp(1, 4, QUOTED6))
    sink, _ = feed(packets.ethernet(packets.ipv4("198.51.100.1", "198.51.100.2", 41, inner)))
    assert [u[2:] for u in sink.unreachables] == [
        ("2001:db8:ff::9", Endpoint("2001:db8::1", 5062), Endpoint("2001:db8:1::7", 5084), "port")
    ]
