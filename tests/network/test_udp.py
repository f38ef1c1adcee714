"""UDP (RFC 768) as the decoder reads it: the header, the payload sink first, then the UDP sink
(media), then the tunnels a UDP port names (VXLAN 4789, GTP-U 2152) and HEP."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from sipdiag.capture import linktypes
from sipdiag.network import Endpoint
from tests import packets
from tests.network.recording import SIP, TS, Recorder, decode

A, B = "192.0.2.1", "192.0.2.2"
O1, O2 = "198.51.100.1", "198.51.100.2"
RTP = b"\x80\x00\x00\x01" + b"\0" * 8 + b"\xd5" * 160
INNER = packets.ipv4(A, B, 17, packets.udp(5060, 5062, SIP))
SIP_INSIDE = ("UDP", 1, TS, Endpoint(A, 5060), Endpoint(B, 5062), SIP, ())

WAYS: dict[str, Callable[[bytes], tuple[bytes, int]]] = {
    # The same IP packet by the Ethernet fast path and by the general way.
    "ethernet": lambda ip: (packets.ethernet(ip), linktypes.ETHERNET),
    "vlan": lambda ip: (packets.ethernet(ip, vlans=[(0x8100, 7)]), linktypes.ETHERNET),
    "raw": lambda ip: (ip, linktypes.RAW),
    "ipv6": lambda ip: (ip, linktypes.RAW),
}


def _frame(way: str, payload: bytes, sport: int, dport: int) -> tuple[bytes, int]:
    if way == "ipv6":
        return WAYS[way](packets.ipv6("2001:db8::1", "2001:db8::2", 17,
                                      packets.udp(sport, dport, payload)))
    return WAYS[way](packets.ipv4(O1, O2, 17, packets.udp(sport, dport, payload)))


def _outer(way: str, sport: int, dport: int) -> tuple[Endpoint, Endpoint]:
    if way == "ipv6":
        return Endpoint("2001:db8::1", sport), Endpoint("2001:db8::2", dport)
    return Endpoint(O1, sport), Endpoint(O2, dport)


@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("takes", [True, False])
def test_what_is_not_sip_goes_to_the_udp_sink(way: str, takes: bool) -> None:
    frame, linktype = _frame(way, RTP, 10000, 10002)
    recorder = Recorder(udp_takes=RTP[:4] if takes else b"nothing")
    decoded = decode(frame, linktype=linktype, udp=recorder)
    src, dst = _outer(way, 10000, 10002)
    assert recorder.datagrams == [("UDP", 1, TS, src, dst, RTP, ())]
    assert recorder.udp == [(1, TS, src, dst, RTP)]
    assert decoded.problem_list() == []


@pytest.mark.parametrize("way", sorted(WAYS))
def test_sip_and_empty_datagrams_are_not_offered_to_the_udp_sink(way: str) -> None:
    recorder = Recorder(udp_takes=b"")
    frames = [_frame(way, SIP, 5060, 5062)[0], _frame(way, b"", 5060, 5062)[0]]
    decode(*frames, linktype=_frame(way, b"", 1, 1)[1], udp=recorder)
    assert [d[5] for d in recorder.datagrams] == [SIP, b""]
    assert recorder.udp == []


TUNNELS = {
    "vxlan": (4789, packets.vxlan(packets.ethernet(INNER))),
    "gtp-u": (2152, packets.gtp_u(INNER)),
}


@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("tunnel", sorted(TUNNELS))
@pytest.mark.parametrize("side", ["source", "destination"])
def test_a_tunnel_is_named_by_either_port(way: str, tunnel: str, side: str) -> None:
    """VXLAN (RFC 7348 5) and GTP-U (TS 29.281 4.4.2.3) use a well-known port, which one end
    of the datagram has: the other may be any port."""
    port, payload = TUNNELS[tunnel]
    ports = (port, 40000) if side == "source" else (40000, port)
    frame, linktype = _frame(way, payload, *ports)
    decoded = decode(frame, linktype=linktype, udp=Recorder(udp_takes=b"nothing"))
    assert decoded.sip() == [SIP_INSIDE]


@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_tunnel_the_udp_sink_took_is_not_opened(way: str) -> None:
    port, payload = TUNNELS["vxlan"]
    frame, linktype = _frame(way, payload, 40000, port)
    decoded = decode(frame, linktype=linktype, udp=Recorder(udp_takes=payload[:4]))
    assert decoded.sip() == []


def test_tunnels_without_a_udp_sink() -> None:
    frames = [WAYS["vlan"](packets.ipv4(O1, O2, 17, packets.udp(40000, port, payload)))[0]
              for port, payload in TUNNELS.values()]
    decoded = decode(*frames)
    assert [d[1:3] for d in decoded.sip()] == [(1, TS), (2, TS + 1)]


@pytest.mark.parametrize("way", ["vlan", "raw", "ipv6"])
def test_a_datagram_cut_by_the_snapshot_length_is_reported(way: str) -> None:
    frame, linktype = _frame(way, SIP, 5060, 5062)
    decoded = decode(frame[:-50], linktype=linktype, lengths=[len(frame)])
    assert [d[5] for d in decoded.sink.datagrams] == [SIP[:-50]]
    assert decoded.problem_list() == [
        ("sip_cut_short", 1, f"UDP datagram of {len(SIP)} bytes captured only up to "
         f"{len(SIP) - 50} bytes (snapshot length)")
    ]


@pytest.mark.parametrize("way", ["vlan", "raw", "ipv6"])
@pytest.mark.parametrize("size", [0, 7])
def test_udp_header_cut_short(way: str, size: int) -> None:
    """RFC 768: the UDP header is 8 bytes; fewer is no datagram."""
    frame, linktype = _frame(way, b"", 5060, 5062)
    header = 40 if way == "ipv6" else 20
    ip = frame[-header - 8 :][: header + size]
    if way == "ipv6":
        ip = ip[:4] + struct.pack("!H", size) + ip[6:]
    else:
        ip = ip[:2] + struct.pack("!H", header + size) + ip[4:]
    frame = frame[: len(frame) - header - 8] + ip
    decoded = decode(frame, linktype=linktype, after=b"\x13\xc4" * 8)
    assert decoded.problem_list() == [("udp_bad_header", 1, "UDP header cut short")]
    assert decoded.sink.datagrams == []


@pytest.mark.parametrize("way", ["vlan", "raw", "ipv6"])
def test_udp_header_alone_is_an_empty_datagram(way: str) -> None:
    frame, linktype = _frame(way, b"", 5060, 5062)
    decoded = decode(frame, linktype=linktype)
    assert [d[5] for d in decoded.sink.datagrams] == [b""]
    assert decoded.problem_list() == []
