"""Link layers as the decoder reads them: Ethernet (its fast path for IPv4/UDP and the general
way), 802.1Q tags, Linux cooked v1/v2, BSD loopback, raw IP; frames too short for their header;
the limit on nested encapsulations; and frames left whole to another process (``defer``)."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from sipdiag.capture import linktypes
from sipdiag.network import Endpoint
from tests import packets
from tests.network.recording import SIP, TS, decode

A, B = "192.0.2.1", "192.0.2.2"
UDP_SIP = packets.ipv4(A, B, 17, packets.udp(5060, 5062, SIP))
SIP_FROM_A = ("UDP", 1, TS, Endpoint(A, 5060), Endpoint(B, 5062), SIP, ())

LINKS: dict[str, tuple[int, Callable[[bytes], bytes]]] = {
    "ethernet": (linktypes.ETHERNET, packets.ethernet),
    "vlan": (linktypes.ETHERNET, lambda ip: packets.ethernet(ip, vlans=[(0x8100, 7)])),
    "sll": (linktypes.LINUX_SLL, packets.linux_sll),
    "sll2": (linktypes.LINUX_SLL2, packets.linux_sll2),
    "null": (linktypes.NULL, lambda ip: packets.bsd_null(ip, 2)),
    "loop": (linktypes.LOOP, lambda ip: packets.bsd_null(ip, 2, ">")),
    "raw": (linktypes.RAW, lambda ip: ip),
}


# Ethernet and its fast path: the same answers as the general way (an 802.1Q tag).


@pytest.mark.parametrize("vlans", [(), ((0x8100, 7),)], ids=["fast", "vlan"])
def test_sip_over_udp_keeps_frame_time_and_addresses(vlans: tuple[tuple[int, int], ...]) -> None:
    decoded = decode(packets.ethernet(UDP_SIP, vlans=vlans))
    assert decoded.sink.datagrams == [SIP_FROM_A]
    assert decoded.problem_list() == []


def _with_options(packet: bytes, words: int) -> bytes:
    """The IPv4 packet with ``words`` 4-byte words of NOP options (IHL 5 + words, RFC 791)."""
    total = struct.unpack("!H", packet[2:4])[0] + 4 * words
    return (bytes([0x45 + words, packet[1]]) + struct.pack("!H", total) + packet[4:20]
            + b"\x01" * (4 * words) + packet[20:])


@pytest.mark.parametrize("words", [1, 2])
def test_ipv4_options_on_ethernet_move_the_udp_header(words: int) -> None:
    decoded = decode(packets.ethernet(_with_options(UDP_SIP, words)))
    assert decoded.sink.datagrams == [SIP_FROM_A]


@pytest.mark.parametrize("vlans", [(), ((0x8100, 7),)], ids=["fast", "vlan"])
def test_udp_length_zero_reads_to_the_end_of_ip(vlans: tuple[tuple[int, int], ...]) -> None:
    """A UDP length of 0 (left to offload) is no length: the datagram ends with IP."""
    udp = struct.pack("!HHHH", 5060, 5062, 0, 0) + SIP
    decoded = decode(packets.ethernet(packets.ipv4(A, B, 17, udp), vlans=vlans) + b"\0" * 8)
    assert decoded.sink.datagrams == [SIP_FROM_A]


@pytest.mark.parametrize("vlans", [(), ((0x8100, 7),)], ids=["fast", "vlan"])
@pytest.mark.parametrize(
    ("udp_length", "ip_extra", "payload"),
    [
        (8 + len(SIP), 5, SIP),  # RFC 768: the UDP length ends the datagram inside IP
        (8, 5, b""),  # a UDP header alone: nothing, even with bytes after it in IP
        (8 + len(SIP) + 6, 0, SIP),  # a UDP length past IP's end: IP's total length wins
    ],
    ids=["udp-shorter-than-ip", "header-only", "udp-longer-than-ip"],
)
def test_udp_payload_ends_at_the_shorter_of_udp_and_ip_lengths(
    vlans: tuple[tuple[int, int], ...], udp_length: int, ip_extra: int, payload: bytes
) -> None:
    udp = struct.pack("!HHHH", 5060, 5062, udp_length, 0) + SIP + b"\x55" * ip_extra
    frame = packets.ethernet(packets.ipv4(A, B, 17, udp), vlans=vlans) + b"\0" * 7  # padding
    decoded = decode(frame)
    assert [d[5] for d in decoded.sink.datagrams] == [payload]


@pytest.mark.parametrize("vlans", [(), ((0x8100, 7),)], ids=["fast", "vlan"])
def test_a_datagram_cut_by_the_snapshot_length_is_reported(
    vlans: tuple[tuple[int, int], ...]
) -> None:
    frame = packets.ethernet(UDP_SIP, vlans=vlans)
    cut = len(frame) - 100
    decoded = decode(frame[:cut], lengths=[len(frame)])
    assert [d[5] for d in decoded.sink.datagrams] == [SIP[: len(SIP) - 100]]
    assert decoded.problem_list() == [
        ("sip_cut_short", 1, f"UDP datagram of {len(SIP)} bytes captured only up to "
         f"{len(SIP) - 100} bytes (snapshot length)")
    ]


@pytest.mark.parametrize(
    ("ethertype", "payload"),
    [(0x0806, UDP_SIP), (0x0808, b"\0" + UDP_SIP), (0x88CC, UDP_SIP)],
    ids=["arp", "shifted", "lldp"],
)
def test_only_ethertype_0800_is_read_as_ipv4(ethertype: int, payload: bytes) -> None:
    """IEEE 802.3: the ethertype names the protocol; bytes that merely look like IPv4 are not."""
    decoded = decode(packets.ethernet(payload, ethertype))
    assert decoded.sink.datagrams == [] and decoded.problem_list() == []


def test_mac_addresses_that_look_like_ipv4_are_not_read_as_ipv4() -> None:
    """Destination 08:00:45:00:00:40 and source 02:00:00:00:00:11 are valid addresses; the
    IPv4 header still starts after the ethertype, at byte 14."""
    frame = (b"\x08\x00\x45\x00\x00\x40" + b"\x02\x00\x00\x00\x00\x11" + b"\x08\x00" + UDP_SIP)
    decoded = decode(frame, before=b"")  # the frame at the start of the reader's buffer
    assert decoded.sink.datagrams == [SIP_FROM_A]


def test_endpoints_are_told_apart_by_address_and_port() -> None:
    """Each endpoint is its own address and port, however close their bits are: 20.0.0.2 is
    10.0.0.1 shifted left, 192.0.2.1 and 192.0.2.2 share their upper 16 bits."""
    pairs = [
        ("20.0.0.2", 5060, "20.0.0.6", 5062),
        ("0.0.0.0", 7108, "0.0.0.0", 7110),
        ("0.0.0.0", 0, "0.0.0.0", 0),
        ("10.0.0.1", 5060, "10.0.0.3", 5062),
        ("20.0.0.2", 5060, "20.0.0.6", 5062),  # again, after 10.0.0.1 and 10.0.0.3
        ("192.0.2.1", 5060, "192.0.2.2", 5060),
        ("192.0.2.1", 5060, "192.0.2.2", 5060),
    ]
    frames = [packets.udp4_frame(s, d, b"x", sp, dp) for s, sp, d, dp in pairs]
    frames[-1] = packets.ethernet(frames[-1][14:], vlans=[(0x8100, 3)])  # the general way
    decoded = decode(*frames)
    assert [(d[3], d[4]) for d in decoded.sink.datagrams] == [
        (Endpoint(s, sp), Endpoint(d, dp)) for s, sp, d, dp in pairs
    ]


def test_ipv6_addresses_below_2_to_the_32_stay_ipv6() -> None:
    """::1 and ::c000:201 are IPv6 addresses (RFC 4291 2.5.3, 2.5.5.1), not IPv4 ones."""
    packet = packets.ipv6("::1", "::c000:201", 17, packets.udp(5060, 5062, SIP))
    decoded = decode(packets.ethernet(packet, 0x86DD))
    assert [(str(d[3]), str(d[4])) for d in decoded.sink.datagrams] == [
        ("[::1]:5060", "[::c000:201]:5062")
    ]


# 802.1Q tags.


def test_a_vlan_tag_cut_short_carries_nothing() -> None:
    """The tag's 4 bytes are not all there: what comes after the frame is not part of it."""
    frame = packets.ethernet(b"", 0x8100) + b"\x00\x07"
    decoded = decode(frame, after=b"\x08\x00" + UDP_SIP)
    assert decoded.sink.datagrams == [] and decoded.problem_list() == []


def test_a_vlan_tag_announcing_ipv4_that_is_missing() -> None:
    decoded = decode(packets.ethernet(b"", vlans=[(0x8100, 7)]))
    assert decoded.problem_list() == [
        ("ip_bad_header", 1, "IPv4 header too short or not version 4")
    ]


# Fixed-size link headers: Linux cooked v1 (16 bytes), v2 (20), BSD loopback (4).


@pytest.mark.parametrize(
    ("linktype", "size", "name"),
    [(linktypes.LINUX_SLL, 16, "Linux cooked"), (linktypes.LINUX_SLL2, 20, "Linux cooked v2"),
     (linktypes.ETHERNET, 14, "Ethernet"), (linktypes.NULL, 4, "loopback")],
)
def test_frames_shorter_than_their_link_header(linktype: int, size: int, name: str) -> None:
    header = {linktypes.LINUX_SLL: packets.linux_sll(b""),
              linktypes.LINUX_SLL2: packets.linux_sll2(b""),
              linktypes.ETHERNET: packets.ethernet(b""),
              linktypes.NULL: packets.bsd_null(b"", 2)}[linktype]
    assert len(header) == size
    short = decode(header[:-1], linktype=linktype, after=header[-1:] + UDP_SIP)
    assert short.problem_list() == [("link_bad_header", 1, f"{name} frame shorter than its header")]
    assert short.sink.datagrams == []
    exact = decode(header, linktype=linktype)  # the header alone announces IPv4 that is missing
    assert exact.problem_list() == [("ip_bad_header", 1, "IPv4 header too short or not version 4")]


@pytest.mark.parametrize(
    ("family", "order", "packet"),
    [(2, "<", UDP_SIP), (2, ">", UDP_SIP)]
    + [(af, order, packets.ipv6("2001:db8::1", "2001:db8::2", 17, packets.udp(5060, 5062, SIP)))
       for af in (24, 28, 30) for order in "<>"],
)
def test_bsd_loopback_families_in_either_byte_order(family: int, order: str, packet: bytes) -> None:
    """AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS)."""
    decoded = decode(packets.bsd_null(packet, family, order), linktype=linktypes.NULL)
    assert [(d[1], d[2], d[5]) for d in decoded.sink.datagrams] == [(1, TS, SIP)]


@pytest.mark.parametrize("family", [0, 7, 0xFFFF, 0x10000, 17])
def test_bsd_loopback_other_families_carry_no_ip(family: int) -> None:
    decoded = decode(packets.bsd_null(UDP_SIP, family), linktype=linktypes.NULL)
    assert decoded.sink.datagrams == [] and decoded.problem_list() == []


# Raw IP and link types the decoder does not know.


@pytest.mark.parametrize("first", [b"\x55", b"\x05", b""], ids=["version-5", "version-0", "empty"])
def test_raw_ip_needs_version_4_or_6(first: bytes) -> None:
    decoded = decode(first, linktype=linktypes.RAW, after=UDP_SIP)
    assert decoded.problem_list() == [
        ("ip_bad_header", 1, "raw IP frame with no IP version 4 or 6")
    ]
    assert decoded.sink.datagrams == []


def test_unsupported_link_type_is_reported_by_name() -> None:
    decoded = decode(UDP_SIP, UDP_SIP, linktype=147)  # DLT_USER0
    assert decoded.problem_list() == [
        ("link_unsupported", 1, "frames of link type 147 cannot be decoded"),
        ("link_unsupported", 2, "frames of link type 147 cannot be decoded"),
    ]


# Nested encapsulations: at most eight, whatever the link layer.


def _gtp_chain(layers: int) -> bytes:
    packet = UDP_SIP
    for _ in range(layers):
        packet = packets.ipv4("198.51.100.1", "198.51.100.2", 17,
                              packets.udp(2152, 2152, packets.gtp_u(packet)))
    return packet


def _vxlan_chain(layers: int) -> bytes:
    packet = UDP_SIP
    for _ in range(layers):
        packet = packets.ipv4("198.51.100.1", "198.51.100.2", 17,
                              packets.udp(40000, 4789, packets.vxlan(packets.ethernet(packet))))
    return packet


@pytest.mark.parametrize("link", sorted(LINKS))
@pytest.mark.parametrize(
    ("chain", "layers", "found"),
    [(_gtp_chain, 8, True), (_gtp_chain, 9, False), (_vxlan_chain, 4, True),
     (_vxlan_chain, 5, False)],
    ids=["gtp-8", "gtp-9", "vxlan-4", "vxlan-5"],
)
def test_nested_encapsulations_up_to_eight(
    link: str, chain: Callable[[int], bytes], layers: int, found: bool
) -> None:
    """Each GTP-U layer is one encapsulation (IP in UDP), each VXLAN layer two (Ethernet in
    UDP, then IP in Ethernet): eight are decoded, a ninth is not."""
    linktype, wrap = LINKS[link]
    decoded = decode(wrap(chain(layers)), linktype=linktype)
    assert decoded.sip() == ([SIP_FROM_A] if found else [])


def _ipv6_in_ipv6(layers: int) -> bytes:
    packet = packets.ipv6("2001:db8::1", "2001:db8::2", 17, packets.udp(5060, 5062, SIP))
    for _ in range(layers):
        packet = packets.ipv6("2001:db8:1::1", "2001:db8:1::2", 41, packet)
    return packet


@pytest.mark.parametrize(("layers", "found"), [(8, True), (9, False)])
@pytest.mark.parametrize("linktype", [linktypes.RAW, linktypes.NULL])
def test_ipv6_in_ipv6_up_to_eight(linktype: int, layers: int, found: bool) -> None:
    """The outermost IPv6 header is no encapsulation, on raw IP as on BSD loopback (AF_INET6
    30, macOS): eight IPv6-in-IPv6 layers inside it are decoded, a ninth is not."""
    packet = _ipv6_in_ipv6(layers)
    decoded = decode(packets.bsd_null(packet, 30) if linktype == linktypes.NULL else packet,
                     linktype=linktype)
    expected = ("UDP", 1, TS, Endpoint("2001:db8::1", 5060), Endpoint("2001:db8::2", 5062), SIP,
                ())
    assert decoded.sip() == ([expected] if found else [])


MPLS_LABEL = struct.pack("!I", 16 << 12 | 1 << 8 | 64)  # label 16, bottom of stack, TTL 64
PPPOE_IPV4 = struct.pack("!BBHH", 0x11, 0, 1, 2 + len(UDP_SIP)) + b"\x00\x21"
"""PPPoE session data (RFC 2516: version 1, type 1, code 0, session 1, length), PPP IPv4."""


@pytest.mark.parametrize(
    ("ethertype", "header"), [(0x8847, MPLS_LABEL), (0x8864, PPPOE_IPV4)], ids=["mpls", "pppoe"]
)
def test_sip_under_mpls_or_pppoe_keeps_frame_time_and_addresses(
    ethertype: int, header: bytes
) -> None:
    decoded = decode(packets.ethernet(header + UDP_SIP, ethertype))
    assert decoded.sink.datagrams == [SIP_FROM_A]


@pytest.mark.parametrize(("kept", "problems"), [
    (13, []), (14, [("ip_bad_header", 1, "IPv4 header too short or not version 4")])])
def test_bridged_ethernet_shorter_than_its_header(
    kept: int, problems: list[tuple[str, int, str]]
) -> None:
    """GRE carrying Ethernet (0x6558) that ends inside its 14-byte header is not read; one that
    is the header alone announces IPv4 that is missing. The bytes after the frame are SIP."""
    bridged = packets.ethernet(b"")[:kept]
    packet = packets.ipv4("198.51.100.1", "198.51.100.2", 47,
                          struct.pack("!HH", 0, 0x6558) + bridged)
    decoded = decode(packets.ethernet(packet), after=packets.ethernet(UDP_SIP)[kept:])
    assert decoded.problem_list() == problems and decoded.sink.datagrams == []


@pytest.mark.parametrize(("wrappers", "found"), [(6, True), (7, False)])
def test_bridged_ethernet_counts_as_an_encapsulation(wrappers: int, found: bool) -> None:
    packet = packets.ipv4("198.51.100.1", "198.51.100.2", 47,
                          struct.pack("!HH", 0, 0x6558) + packets.ethernet(UDP_SIP))
    for _ in range(wrappers):
        packet = packets.ipv4("198.51.100.1", "198.51.100.2", 4, packet)
    decoded = decode(packets.ethernet(packet))
    assert decoded.sip() == ([SIP_FROM_A] if found else [])
    assert decoded.problem_list() == (
        [] if found else [("tunnel_too_deep", 1, "more than 8 encapsulations")]
    )


# Frames left whole for the process that reads all stateful traffic.


def _sctp_sip() -> bytes:
    return packets.sctp(5060, 5062, [(0, 0x03, packets.sctp_data(1, SIP))])


DEFERRED = {
    "tcp": (linktypes.ETHERNET, packets.ethernet(packets.ipv4(A, B, 6, packets.tcp(5060, 5062, 1,
                                                                                   SIP)))),
    "sctp": (linktypes.ETHERNET, packets.ethernet(packets.ipv4(A, B, 132, _sctp_sip()))),
    "fragment": (linktypes.ETHERNET, packets.ethernet(packets.ipv4(A, B, 17, UDP_SIP[20:100],
                                                                   more=True))),
    "vxlan-tcp": (linktypes.ETHERNET, packets.udp4_frame(
        "198.51.100.1", "198.51.100.2",
        packets.vxlan(packets.ethernet(packets.ipv4(A, B, 6, packets.tcp(5060, 5062, 1, SIP)))),
        40000, 4789)),
    "sll-tcp": (linktypes.LINUX_SLL, packets.linux_sll(packets.ipv4(A, B, 6, packets.tcp(
        5060, 5062, 1, SIP)))),
    "null-sctp": (linktypes.NULL, packets.bsd_null(packets.ipv4(A, B, 132, _sctp_sip()), 2)),
    "raw-fragment": (linktypes.RAW, packets.ipv4(A, B, 17, UDP_SIP[20:100], more=True)),
}


@pytest.mark.parametrize("kind", sorted(DEFERRED))
def test_stateful_frames_are_deferred_whole(kind: str) -> None:
    """TCP, SCTP and IP fragments need the frames before them: the frame is handed on as it
    was read (number, time, link type, bytes, original length), after a plain UDP frame."""
    linktype, frame = DEFERRED[kind]
    plain = LINKS["raw" if linktype == linktypes.RAW else "ethernet"][1](UDP_SIP)
    frames = [plain, frame] if linktype in (linktypes.ETHERNET, linktypes.RAW) else [frame]
    decoded = decode(*frames, linktype=linktype, defer=True, lengths=[len(f) + 4 for f in frames])
    number = len(frames)
    stored = linktypes.NULL if linktype == linktypes.LOOP else linktype
    assert decoded.deferred == [(number, TS + number - 1, stored, frame, len(frame) + 4)]
    assert decoded.sink.streams == []
