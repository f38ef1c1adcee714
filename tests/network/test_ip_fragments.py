"""IP fragment reassembly (RFC 791, RFC 8200 4.5) with its bounds: the largest datagram, the
time a datagram waits for its fragments, the number of datagrams open at once, and how an
incomplete one is reported; and the transport headers the decoder checks (TCP, ICMP)."""

from __future__ import annotations

import struct

import pytest

from sipdiag.capture import linktypes
from sipdiag.network import Endpoint, fragments
from sipdiag.network.fragments import FragmentReassembler
from sipdiag.problems import ProblemLog
from tests import packets
from tests.network.recording import SIP, TS, Recorder, decode

A, B = "192.0.2.1", "192.0.2.2"
SECOND = 1_000_000_000


def _problems(log: ProblemLog) -> list[tuple[str, int, str]]:
    return [(p.kind, p.frame, p.detail) for p in log.all_examples()]


def test_a_fragment_past_the_largest_datagram_is_refused() -> None:
    log = ProblemLog()
    reassembler = FragmentReassembler(log)
    last = fragments.MAX_DATAGRAM - 8
    assert reassembler.add(("k",), last, False, b"12345678", 1, 0) is None  # ends at the limit
    assert log.counts == {}
    assert reassembler.add(("j",), last, False, b"123456789", 2, 0) is None
    assert _problems(log) == [
        ("ip_bad_fragment", 2, f"fragment ends at byte {fragments.MAX_DATAGRAM + 1}")
    ]


def test_an_incomplete_datagram_waits_its_timeout_then_is_reported() -> None:
    log = ProblemLog()
    reassembler = FragmentReassembler(log)
    reassembler.add(("a",), 0, True, b"x" * 16, 1, 0)
    reassembler.add(("a",), 16, True, b"y" * 8, 2, SECOND)
    reassembler.add(("b",), 0, True, b"z" * 8, 3, fragments.TIMEOUT_NS)  # "a" is not stale yet
    assert reassembler.add(("a",), 24, False, b"!", 4, fragments.TIMEOUT_NS) == (
        b"x" * 16 + b"y" * 8 + b"!", (1, 2, 4))
    reassembler.add(("c",), 0, True, b"w" * 8, 5, 2 * fragments.TIMEOUT_NS)  # "b": not yet
    assert log.counts == {}
    reassembler.add(("d",), 0, True, b"v" * 8, 6, 2 * fragments.TIMEOUT_NS + 1)  # "b" is now
    assert _problems(log) == [("ip_fragments_incomplete", 3, "fragmented datagram in frames 3 is "
                               "incomplete (8 bytes seen): its other fragments never arrived")]


def test_the_oldest_datagram_gives_way_when_too_many_are_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fragments, "MAX_PENDING", 3)
    log = ProblemLog()
    reassembler = FragmentReassembler(log)
    for key in range(3):
        reassembler.add((key,), 8, True, b"abcdefgh", 10 + key, 0)
    assert log.counts == {}
    reassembler.add((3,), 8, True, b"abcdefgh", 13, 1)  # a fourth: the first gives way
    assert _problems(log) == [("ip_fragments_incomplete", 10, "fragmented datagram in frames 10 "
                               "is incomplete (8 bytes seen): its other fragments never arrived")]


def test_a_stale_datagram_is_the_one_that_gives_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fragments, "MAX_PENDING", 3)
    log = ProblemLog()
    reassembler = FragmentReassembler(log)
    reassembler.add((0,), 8, True, b"abcdefgh", 10, 0)
    reassembler.add((1,), 8, True, b"abcdefgh", 11, fragments.TIMEOUT_NS)
    reassembler.add((2,), 8, True, b"abcdefgh", 12, fragments.TIMEOUT_NS + 1)  # 0 is stale
    assert [p.frame for p in log.all_examples()] == [10]
    reassembler.flush()
    assert [p.frame for p in log.all_examples()] == [10, 11, 12]


def test_an_incomplete_datagram_lists_its_first_ten_frames() -> None:
    log = ProblemLog()
    reassembler = FragmentReassembler(log)
    for i in range(12):
        reassembler.add(("k",), 8 * (i + 1), True, b"12345678", 100 + i, i)
    reassembler.flush()
    frames = ", ".join(str(100 + i) for i in range(10))
    assert _problems(log) == [
        ("ip_fragments_incomplete", 100, f"fragmented datagram in frames {frames} is incomplete "
         "(96 bytes seen): the capture ends before its other fragments")
    ]


# The IPv4 header's fragment fields, as the decoder reads them.


def _fragments(datagram: bytes, size: int, ident: int) -> list[bytes]:
    pieces = [datagram[i : i + size] for i in range(0, len(datagram), size)]
    return [packets.ipv4(A, B, 17, piece, ident=ident, fragment=i * size,
                         more=i < len(pieces) - 1) for i, piece in enumerate(pieces)]


def test_fragment_offsets_past_2048_bytes() -> None:
    """The offset is 13 bits in 8-byte units (RFC 791): 2960 bytes is 370 = 0x172, whose
    high bits share a byte with the MF flag."""
    big = packets.sip_request(body=packets.SDP * 14)
    datagram = packets.udp(5060, 5062, big)
    frames = _fragments(datagram, 1480, 0x0102)
    assert len(frames) == 3
    decoded = decode(*reversed(frames), linktype=linktypes.RAW)
    assert [(d[1], d[5], d[6]) for d in decoded.sink.datagrams] == [(3, big, (1, 2, 3))]


def test_fragments_are_told_apart_by_the_whole_identification() -> None:
    """RFC 791: the 16-bit identification (with addresses and protocol) names the datagram."""
    one = _fragments(packets.udp(5060, 5062, SIP), 256, 0x0100)
    two = _fragments(packets.udp(5060, 5062, SIP.replace(b"INVITE", b"INFO  ")), 256, 0x0200)
    decoded = decode(one[0], two[0], *one[1:], *two[1:], linktype=linktypes.RAW)
    assert [d[5] for d in decoded.sink.datagrams] == [SIP, SIP.replace(b"INVITE", b"INFO  ")]


def test_fragmented_datagram_that_is_not_sip_goes_to_the_udp_sink() -> None:
    payload = b"\x80" + b"\x11" * 300
    recorder = Recorder(udp_takes=b"\x80")
    decode(*_fragments(packets.udp(10000, 10002, payload), 160, 9), linktype=linktypes.RAW,
           udp=recorder)
    assert recorder.udp == [(2, TS + 1, Endpoint(A, 10000), Endpoint(B, 10002), payload)]


# IPv6 extension headers that end the packet; TCP and ICMP headers cut short.


def test_an_extension_header_that_ends_the_packet() -> None:
    """A hop-by-hop header of 8 bytes says UDP follows, but the packet ends there."""
    packet = packets.ipv6("2001:db8::1", "2001:db8::2", 0, bytes([17, 0]) + b"\x01" * 6)
    decoded = decode(packet, linktype=linktypes.RAW)
    assert decoded.problem_list() == [("udp_bad_header", 1, "UDP header cut short")]


def test_an_extension_header_cut_short_is_not_read() -> None:
    packet = packets.ipv6("2001:db8::1", "2001:db8::2", 0, bytes([17, 0, 1, 1]))
    decoded = decode(packet, linktype=linktypes.RAW)
    assert decoded.problem_list() == [] and decoded.sink.datagrams == []


@pytest.mark.parametrize(
    ("segment", "detail"),
    [
        (packets.tcp(5060, 5062, 1, SIP)[:19], "TCP header cut short"),
        (b"", "TCP header cut short"),
        (packets.tcp(5060, 5062, 1, SIP)[:12] + b"\x40" + packets.tcp(5060, 5062, 1, SIP)[13:],
         "TCP data offset 16 < 20"),
        (packets.tcp(5060, 5062, 1, SIP)[:12] + b"\x00" + packets.tcp(5060, 5062, 1, SIP)[13:],
         "TCP data offset 0 < 20"),
    ],
    ids=["19-bytes", "empty", "offset-4", "offset-0"],
)
def test_tcp_header_problems(segment: bytes, detail: str) -> None:
    """RFC 9293 3.1: the header is at least 20 bytes and its data offset at least 5 words."""
    decoded = decode(packets.ipv4(A, B, 6, segment), linktype=linktypes.RAW)
    assert decoded.problem_list() == [("tcp_bad_header", 1, detail)]
    assert decoded.sink.streams == []


def test_tcp_header_of_twenty_bytes_is_read() -> None:
    syn = packets.tcp(5060, 5062, 1000, b"", 0x02)
    data = packets.tcp(5060, 5062, 1001, SIP)
    decoded = decode(packets.ipv4(A, B, 6, syn), packets.ipv4(A, B, 6, data),
                     linktype=linktypes.RAW)
    flow = (Endpoint(A, 5060), Endpoint(B, 5062))
    assert decoded.sink.streams == [(flow, SIP, 2, TS + 1), ("end", flow)]


@pytest.mark.parametrize("icmp", [b"\x03", b"\x03\x03", struct.pack("!BBHI", 3, 3, 0, 0)])
def test_icmp_unreachable_cut_short_is_ignored(icmp: bytes) -> None:
    recorder = Recorder()
    decoded = decode(packets.ipv4("203.0.113.9", A, 1, icmp), linktype=linktypes.RAW,
                     udp=recorder)
    assert recorder.unreachables == [] and decoded.problem_list() == []
