"""IPv4 and IPv6 headers as the decoder reads them: options, extension headers, fragments,
lengths, and headers it must refuse (RFC 791, RFC 8200)."""

from __future__ import annotations

import struct

import pytest

from sipdiag.capture import linktypes
from sipdiag.network import Endpoint
from sipdiag.network.decoder import Decoder
from sipdiag.problems import ProblemLog
from tests import packets

INVITE = packets.sip_request()
TS = 1_700_000_000_111_222_333
SRC6, DST6 = "2001:db8::1", "2001:db8::2"


class Sink:
    """Records every datagram; takes it (as SIP) when it starts with INVITE."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[object, ...]] = []
        self.streams: list[tuple[object, ...]] = []

    def datagram(self, *args: object) -> bool:
        self.datagrams.append(args)
        payload = args[5]
        assert isinstance(payload, bytes)
        return payload.startswith(b"INVITE")

    def stream(self, flow: object, chunks: list[tuple[bytes, int]], frame: int, ts: int) -> bool:
        self.streams.append((flow, b"".join(c for c, _ in chunks), frame, ts))
        return True

    def stream_gap(self, *args: object) -> None:
        self.streams.append(("gap", *args))

    def stream_end(self, flow: object) -> None:
        self.streams.append(("end", flow))


def feed(*ips: bytes, linktype: int = linktypes.RAW) -> tuple[Sink, ProblemLog]:
    """Decode raw IP packets as frames 1, 2, ... at TS, TS + 1, ..., each inside a larger buffer."""
    sink, problems = Sink(), ProblemLog()
    decoder = Decoder(sink, problems)  # type: ignore[arg-type]
    handler = decoder.link_handler(linktype)
    for i, ip in enumerate(ips):
        buf = b"\x60" * 5 + ip + b"\x45" * 11
        handler(i + 1, TS + i, buf, 5, 5 + len(ip), len(ip))
    decoder.flush()
    return sink, problems


def problem_list(problems: ProblemLog) -> list[tuple[str, int, str]]:
    return [(p.kind, p.frame, p.detail) for p in problems.all_examples()]


def ext(next_header: int, units: int, fill: int = 0x01) -> bytes:
    """An IPv6 extension header of (units + 1) * 8 bytes (hop-by-hop, routing, options)."""
    return bytes([next_header, units]) + bytes([fill]) * ((units + 1) * 8 - 2)


def ah(next_header: int, words: int) -> bytes:
    """An Authentication Header: its length field counts 4-byte words minus 2 (RFC 4302)."""
    return bytes([next_header, words - 2]) + b"\x33" * (words * 4 - 2)


UDP_INVITE = packets.udp(5060, 5062, INVITE)


def expect_invite(sink: Sink, src: str = SRC6, dst: str = DST6, frame: int = 1,
                  frames: tuple[int, ...] = ()) -> None:
    assert sink.datagrams == [
        ("UDP", frame, TS + frame - 1, Endpoint(src, 5060), Endpoint(dst, 5062), INVITE, frames)
    ]


@pytest.mark.parametrize(
    ("first", "chain"),
    [
        (0, ext(17, 0)),  # hop-by-hop, 8 bytes
        (0, ext(60, 1) + ext(17, 0, 0x11)),  # hop-by-hop of 16 bytes, destination options
        (43, ext(60, 0, 0x11) + ext(17, 2, 0x11)),  # routing, 24 bytes of destination options
        (0, ext(51, 0) + ah(17, 6)),  # AH of 24 bytes
        (51, ah(17, 4)),
        (44, packets.ipv6_fragment(17, 0, False, 5, b"")),  # an atomic fragment (RFC 6946)
        (0, ext(44, 0) + packets.ipv6_fragment(60, 0, False, 5, b"") + ext(17, 3, 0x11)),
    ],
    ids=["hop", "hop16-dst", "routing-dst", "ah24", "ah16", "atomic", "hop-atomic-dst"],
)
def test_ipv6_extension_headers_are_skipped(first: int, chain: bytes) -> None:
    sink, problems = feed(packets.ipv6(SRC6, DST6, first, chain + UDP_INVITE))
    assert problems.counts == {}
    expect_invite(sink)


def test_ipv6_payload_length_ends_the_packet() -> None:
    # A UDP length of 0 (left to offload) means "up to the end of IP": the IPv6 payload length.
    udp = struct.pack("!HHHH", 5060, 5062, 0, 0) + INVITE
    packet = packets.ipv6(SRC6, DST6, 0, ext(17, 0) + udp)
    sink, _ = feed(packet + b"\0" * 6)  # Ethernet padding after the IPv6 packet
    expect_invite(sink)


def test_ipv6_payload_length_zero_reads_to_the_end_of_the_frame() -> None:
    udp = struct.pack("!HHHH", 5060, 5062, 0, 0) + INVITE
    packet = packets.ipv6(SRC6, DST6, 17, udp)
    sink, _ = feed(packet[:4] + b"\0\0" + packet[6:])  # a jumbogram's length (RFC 2675)
    expect_invite(sink)


@pytest.mark.parametrize(
    "packet",
    [packets.ipv6(SRC6, DST6, 17, UDP_INVITE)[:39],
     b"\x45" + packets.ipv6(SRC6, DST6, 17, UDP_INVITE)[1:]],
    ids=["short", "version-4"],
)
def test_bad_ipv6_header_is_reported(packet: bytes) -> None:
    sink, problems = feed(packets.ethernet(packet, 0x86DD), linktype=linktypes.ETHERNET)
    assert sink.datagrams == []
    assert problem_list(problems) == [
        ("ip_bad_header", 1, "IPv6 header too short or not version 6")
    ]


def test_ipv6_header_alone_is_not_a_problem() -> None:
    sink, problems = feed(packets.ipv6(SRC6, DST6, 59, b""))  # no next header
    assert sink.datagrams == [] and problems.counts == {}


def _fragments6(datagram: bytes, ident: int, first: int = 0) -> list[bytes]:
    half = len(datagram) // 2 // 8 * 8
    return [
        packets.ipv6(SRC6, DST6, first or 44, (ext(44, 0) if first else b"")
                     + packets.ipv6_fragment(17, 0, True, ident, datagram[:half])),
        packets.ipv6(SRC6, DST6, first or 44, (ext(44, 0) if first else b"")
                     + packets.ipv6_fragment(17, half, False, ident, datagram[half:])),
    ]


def test_ipv6_fragments_are_told_apart_by_identification() -> None:
    other = packets.udp(5060, 5062, packets.sip_request(call_id="other@example.com"))
    a, b = _fragments6(UDP_INVITE, 0x01000000), _fragments6(other, 0x02000000)
    sink, problems = feed(a[0], b[1], b[0], a[1])
    assert problems.counts == {}
    assert [(d[1], d[2], d[5], d[6]) for d in sink.datagrams] == [
        (3, TS + 2, other[8:], (2, 3)),
        (4, TS + 3, INVITE, (1, 4)),
    ]


def test_ipv6_fragments_after_a_hop_by_hop_header() -> None:
    sink, problems = feed(*_fragments6(UDP_INVITE, 7, first=0))
    assert problems.counts == {}
    expect_invite(sink, frame=2, frames=(1, 2))


def test_ipv6_fragments_carrying_a_tunnel() -> None:
    inner = packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)
    gre = struct.pack("!HH", 0, 0x0800) + inner
    half = len(gre) // 2 // 8 * 8
    frames = [
        packets.ipv6(
            SRC6, DST6, 60, ext(44, 0) + packets.ipv6_fragment(47, 0, True, 3, gre[:half])
        ),
        packets.ipv6(SRC6, DST6, 44, packets.ipv6_fragment(47, half, False, 3, gre[half:])),
    ]
    sink, problems = feed(*frames)
    assert problems.counts == {}
    # Not asserted: the frames a tunnelled payload was reassembled from are not yet passed on
    # through the tunnel (frames is empty here, not (1, 2)).
    assert [d[:6] for d in sink.datagrams] == [
        ("UDP", 2, TS + 1, Endpoint("192.0.2.1", 5060), Endpoint("192.0.2.2", 5062), INVITE)
    ]


def test_ipv6_extension_headers_then_a_tunnel() -> None:
    inner = packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)
    packet = packets.ipv6(SRC6, DST6, 0, ext(51, 0) + ah(47, 6) + struct.pack("!HH", 0, 0x800)
                          + inner)
    sink, problems = feed(packet)
    assert problems.counts == {}
    expect_invite(sink, "192.0.2.1", "192.0.2.2")


# IPv4


def _with_options(packet: bytes, words: int) -> bytes:
    """The IPv4 packet with ``words`` 4-byte words of options (NOPs) added to its header."""
    total = struct.unpack("!H", packet[2:4])[0] + 4 * words
    header = bytes([0x45 + words, packet[1]]) + struct.pack("!H", total) + packet[4:20]
    return header + b"\x01" * (4 * words) + packet[20:]


@pytest.mark.parametrize("words", [1, 3, 10])
def test_ipv4_options_are_skipped(words: int) -> None:
    packet = _with_options(packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE), words)
    sink, problems = feed(packet)
    assert problems.counts == {}
    expect_invite(sink, "192.0.2.1", "192.0.2.2")


def test_ipv4_total_length_ends_the_packet() -> None:
    udp = struct.pack("!HHHH", 5060, 5062, 0, 0) + INVITE
    sink, _ = feed(packets.ipv4("192.0.2.1", "192.0.2.2", 17, udp) + b"\0" * 6)
    expect_invite(sink, "192.0.2.1", "192.0.2.2")


def test_ipv4_header_alone_is_not_a_problem() -> None:
    sink, problems = feed(packets.ipv4("192.0.2.1", "192.0.2.2", 59, b""))
    assert sink.datagrams == [] and problems.counts == {}


def test_ipv4_total_length_zero_reads_to_the_end_of_the_frame() -> None:
    udp = struct.pack("!HHHH", 5060, 5062, 0, 0) + INVITE
    packet = packets.ipv4("192.0.2.1", "192.0.2.2", 17, udp)
    sink, _ = feed(packet[:2] + b"\0\0" + packet[4:])  # TCP segmentation offload leaves 0
    expect_invite(sink, "192.0.2.1", "192.0.2.2")


def test_ipv4_dont_fragment_is_not_a_fragment() -> None:
    packet = packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)
    sink, problems = feed(packet[:6] + b"\x40\x00" + packet[8:])
    assert problems.counts == {}
    expect_invite(sink, "192.0.2.1", "192.0.2.2")


@pytest.mark.parametrize(
    ("packet", "detail"),
    [
        (packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)[:19],
         "IPv4 header too short or not version 4"),
        (b"\x44" + packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)[1:],
         "IPv4 header too short or not version 4"),
        (b"\x65" + packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)[1:],
         "IPv4 header too short or not version 4"),
        (_with_options(packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE), 1)[:2]
         + b"\x00\x17" + _with_options(packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE),
                                       1)[4:],
         "IPv4 total length 23 < header"),
    ],
    ids=["short", "ihl-4", "version-6-nibble", "total-below-header"],
)
def test_bad_ipv4_header_is_reported(packet: bytes, detail: str) -> None:
    sink, problems = feed(packets.ethernet(packet), linktype=linktypes.ETHERNET)
    assert sink.datagrams == []
    assert problem_list(problems) == [("ip_bad_header", 1, detail)]


def test_ipv4_fragment_offsets_and_more_flag() -> None:
    datagram = packets.udp(5060, 5062, packets.sip_request(body=packets.SDP * 4))
    size = 8 * 40
    pieces = [datagram[i : i + size] for i in range(0, len(datagram), size)]
    frames = [
        _with_options(
            packets.ipv4("192.0.2.1", "192.0.2.2", 17, piece, ident=0x0A0B, fragment=i * size,
                         more=i < len(pieces) - 1),
            1,
        )
        for i, piece in enumerate(pieces)
    ]
    sink, problems = feed(*reversed(frames))
    assert problems.counts == {}
    n = len(frames)
    assert [(d[1], d[5], d[6]) for d in sink.datagrams] == [
        (n, datagram[8:], tuple(range(1, n + 1)))
    ]


def test_too_many_encapsulations_are_reported() -> None:
    packet = packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)
    for _ in range(8):
        packet = packets.ipv4("198.51.100.1", "198.51.100.2", 4, packet)
    sink, problems = feed(packet)
    expect_invite(sink, "192.0.2.1", "192.0.2.2")  # eight are fine
    sink, problems = feed(packets.ipv4("198.51.100.1", "198.51.100.2", 4, packet))
    assert sink.datagrams == []
    assert problem_list(problems) == [("tunnel_too_deep", 1, "more than 8 encapsulations")]


def test_tcp_and_unknown_protocols_after_ipv6_extensions() -> None:
    syn = packets.tcp(5060, 5062, 1000, b"", packets.SYN)
    data = packets.tcp(5060, 5062, 1001, INVITE)
    sink, problems = feed(
        packets.ipv6(SRC6, DST6, 0, ext(6, 0) + syn),
        packets.ipv6(SRC6, DST6, 60, ext(6, 1) + data),
        packets.ipv6(SRC6, DST6, 0, ext(99, 0) + b"\0" * 30),
    )
    assert problems.counts == {}
    assert sink.datagrams == []  # TCP goes to the stream side, not as datagrams
    flow = (Endpoint(SRC6, 5060), Endpoint(DST6, 5062))
    assert sink.streams == [(flow, INVITE, 2, TS + 1), ("end", flow)]


def test_ipv6_in_ipv4_counts_as_an_encapsulation() -> None:
    inner = packets.ipv4("192.0.2.1", "192.0.2.2", 17, UDP_INVITE)
    packet = packets.ipv4("198.51.100.1", "198.51.100.2", 41, packets.ipv6(SRC6, DST6, 4, inner))
    for _ in range(6):
        packet = packets.ipv4("198.51.100.1", "198.51.100.2", 4, packet)
    sink, problems = feed(packet)
    expect_invite(sink, "192.0.2.1", "192.0.2.2")
    sink, problems = feed(packets.ipv4("198.51.100.1", "198.51.100.2", 4, packet))
    assert sink.datagrams == []
    assert problem_list(problems) == [("tunnel_too_deep", 1, "more than 8 encapsulations")]
