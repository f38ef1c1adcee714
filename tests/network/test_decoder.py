"""Link layers, IP, fragments and tunnels: SIP is found whatever it is wrapped in."""

from __future__ import annotations

import struct
import zlib

import pytest

from sipdiag.capture import linktypes
from tests import packets
from tests.conftest import read

T0 = 1_700_000_000_000_000_000
INVITE = packets.sip_request(body=packets.SDP)
OK = packets.sip_response(body=packets.SDP)


def one_message(write_capture, frame: bytes, linktype: int = linktypes.ETHERNET):  # type: ignore[no-untyped-def]
    messages, summary = read(write_capture(packets.pcap([(T0, frame)], linktype)))
    assert not summary.problems.counts, summary.problems.counts
    assert len(messages) == 1
    return messages[0]


UDP4 = packets.ipv4("192.0.2.1", "192.0.2.2", 17, packets.udp(5060, 5060, INVITE))
UDP6 = packets.ipv6("2001:db8::1", "2001:db8::2", 17, packets.udp(5060, 5062, INVITE))


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [
        (linktypes.ETHERNET, packets.ethernet(UDP4)),
        (linktypes.ETHERNET, packets.ethernet(UDP4, vlans=[(0x8100, 10)])),
        (linktypes.ETHERNET, packets.ethernet(UDP4, vlans=[(0x88A8, 100), (0x8100, 10)])),
        (linktypes.LINUX_SLL, b"\x00\x00\x00\x01\x00\x06" + b"\x00" * 8 + b"\x08\x00" + UDP4),
        (linktypes.LINUX_SLL2, b"\x08\x00\x00\x00" + b"\x00" * 16 + UDP4),
        (linktypes.NULL, struct.pack("<I", 2) + UDP4),
        (linktypes.NULL, struct.pack(">I", 2) + UDP4),
        (linktypes.LOOP, struct.pack(">I", 2) + UDP4),
        (linktypes.RAW, UDP4),
        (linktypes.RAW_BSDOS, UDP4),
        (linktypes.IPV4, UDP4),
        (linktypes.RAW, UDP6),
        (linktypes.IPV6, UDP6),
        (linktypes.NULL, struct.pack("<I", 30) + UDP6),
    ],
    ids=[
        "ethernet",
        "vlan",
        "qinq",
        "sll",
        "sll2",
        "null-le",
        "null-be",
        "loop",
        "raw4",
        "raw-bsdos",
        "ipv4",
        "raw6",
        "ipv6",
        "null-ipv6",
    ],
)
def test_link_layers(write_capture, linktype: int, frame: bytes) -> None:
    message = one_message(write_capture, frame, linktype)
    assert message.method == "INVITE" and message.transport == "UDP"
    assert message.src.port == 5060


def test_ipv6_addresses_are_compressed_text(write_capture) -> None:
    message = one_message(write_capture, packets.ethernet(UDP6, 0x86DD))
    assert (str(message.src), str(message.dst)) == ("[2001:db8::1]:5060", "[2001:db8::2]:5062")


def test_ethernet_padding_is_not_part_of_the_message(write_capture) -> None:
    message = one_message(write_capture, packets.ethernet(UDP4) + b"\0" * 20)
    assert message.raw == INVITE


def _ipv4_fragments(payload: bytes, size: int) -> list[bytes]:
    datagram = packets.udp(5060, 5060, payload)
    pieces = [datagram[i : i + size] for i in range(0, len(datagram), size)]
    return [
        packets.ethernet(
            packets.ipv4(
                "192.0.2.1",
                "192.0.2.2",
                17,
                piece,
                ident=77,
                fragment=i * size,
                more=i < len(pieces) - 1,
            )
        )
        for i, piece in enumerate(pieces)
    ]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 0, 1], [1, 2, 0]])
def test_ipv4_fragments_in_any_order(write_capture, order: list[int]) -> None:
    big = packets.sip_request(body=packets.SDP * 6)
    fragments = _ipv4_fragments(big, 736)  # offsets count 8-byte units
    assert len(fragments) == 3
    frames = [(T0 + i * 1000, fragments[k]) for i, k in enumerate(order)]
    messages, summary = read(write_capture(packets.pcap(frames)))
    assert not summary.problems.counts
    assert [m.raw for m in messages] == [big]
    assert messages[0].frame == 3 and messages[0].frames == (1, 2, 3)
    assert messages[0].ts_ns == T0 + 2000  # the frame that completed it, as Wireshark shows


def test_missing_fragment_is_reported(write_capture) -> None:
    fragments = _ipv4_fragments(packets.sip_request(body=packets.SDP * 6), 736)
    messages, summary = read(
        write_capture(packets.pcap([(T0, fragments[0]), (T0 + 1, fragments[2])]))
    )
    assert messages == []
    assert summary.problems.counts == {"ip_fragments_incomplete": 1}
    assert "frames 1, 2" in summary.problems.examples["ip_fragments_incomplete"][0].detail


def test_ipv6_fragments(write_capture) -> None:
    datagram = packets.udp(5060, 5060, packets.sip_request(body=packets.SDP * 6))
    half = len(datagram) // 2 // 8 * 8
    frames = [
        packets.ethernet(
            packets.ipv6(
                "2001:db8::1",
                "2001:db8::2",
                44,
                packets.ipv6_fragment(17, 0, True, 9, datagram[:half]),
            ),
            0x86DD,
        ),
        packets.ethernet(
            packets.ipv6(
                "2001:db8::1",
                "2001:db8::2",
                44,
                packets.ipv6_fragment(17, half, False, 9, datagram[half:]),
            ),
            0x86DD,
        ),
    ]
    messages, summary = read(write_capture(packets.pcap([(T0, frames[0]), (T0 + 1, frames[1])])))
    assert not summary.problems.counts
    assert len(messages) == 1 and messages[0].frames == (1, 2)


def _gre(protocol: int, inner: bytes, flags: int = 0, extra: bytes = b"") -> bytes:
    return packets.ipv4(
        "198.51.100.1", "198.51.100.2", 47, struct.pack("!BBH", flags, 0, protocol) + extra + inner
    )


INNER_ETHERNET = packets.ethernet(UDP4)


@pytest.mark.parametrize(
    "outer",
    [
        packets.ipv4("198.51.100.1", "198.51.100.2", 4, UDP4),  # IP in IP
        packets.ipv4("198.51.100.1", "198.51.100.2", 41, UDP6),  # IPv6 in IPv4
        _gre(0x0800, UDP4),
        _gre(0x0800, UDP4, flags=0x20, extra=b"\0\0\0\1"),  # GRE with a key
        _gre(0x6558, INNER_ETHERNET),
        _gre(0x88BE, INNER_ETHERNET),  # ERSPAN type I
        _gre(
            0x88BE,
            b"\x10\x01\x00\x01\x00\x00\x00\x00" + INNER_ETHERNET,
            flags=0x10,
            extra=b"\0\0\0\1",
        ),  # ERSPAN type II
        _gre(0x22EB, b"\x20" + b"\0" * 11 + INNER_ETHERNET, flags=0x10, extra=b"\0\0\0\1"),  # III
        packets.ipv4(
            "198.51.100.1",
            "198.51.100.2",
            17,
            packets.udp(40000, 4789, b"\x08\0\0\0\0\0\x01\0" + INNER_ETHERNET),
        ),  # VXLAN
        packets.ipv4(
            "198.51.100.1",
            "198.51.100.2",
            17,
            packets.udp(2152, 2152, struct.pack("!BBHI", 0x30, 0xFF, len(UDP4), 1) + UDP4),
        ),
    ],
    ids=[
        "ipip",
        "6in4",
        "gre",
        "gre-key",
        "gre-ethernet",
        "erspan1",
        "erspan2",
        "erspan3",
        "vxlan",
        "gtpu",
    ],
)
def test_tunnels(write_capture, outer: bytes) -> None:
    message = one_message(write_capture, packets.ethernet(outer))
    assert message.method == "INVITE"
    assert message.src.ip in ("192.0.2.1", "2001:db8::1")


def test_mpls_and_pppoe(write_capture) -> None:
    mpls = packets.ethernet(b"\x00\x01\x01\x40" + UDP4, 0x8847)
    pppoe = packets.ethernet(b"\x11\x00\x00\x01\x00\x3a\x00\x21" + UDP4, 0x8864)
    for frame in (mpls, pppoe):
        assert one_message(write_capture, frame).method == "INVITE"


def _hep3(payload: bytes, compress: bool = False) -> bytes:
    def chunk(kind: int, value: bytes) -> bytes:
        return struct.pack("!HHH", 0, kind, 6 + len(value)) + value

    chunks = b"".join(
        [
            chunk(1, b"\x02"),
            chunk(2, b"\x11"),
            chunk(3, bytes([10, 0, 0, 1])),
            chunk(4, bytes([10, 0, 0, 2])),
            chunk(7, struct.pack("!H", 5070)),
            chunk(8, struct.pack("!H", 5080)),
            chunk(11, b"\x01"),
            chunk(16, zlib.compress(payload)) if compress else chunk(15, payload),
        ]
    )
    return b"HEP3" + struct.pack("!H", 6 + len(chunks)) + chunks


@pytest.mark.parametrize("compress", [False, True])
def test_hep3_carries_the_original_addresses(write_capture, compress: bool) -> None:
    frame = packets.udp4_frame("198.51.100.9", "198.51.100.10", _hep3(INVITE, compress), 9060, 9060)
    message = one_message(write_capture, frame)
    assert (str(message.src), str(message.dst)) == ("10.0.0.1:5070", "10.0.0.2:5080")
    assert message.raw == INVITE


def _sctp(chunks: list[tuple[int, int, bytes]]) -> bytes:
    """An SCTP packet of DATA chunks given as (tsn, flags, data)."""
    body = b""
    for tsn, flags, data in chunks:
        chunk = struct.pack("!BBHIHHI", 0, flags, 16 + len(data), tsn, 0, 0, 0) + data
        body += chunk + b"\0" * (-len(chunk) % 4)
    return packets.ipv4(
        "192.0.2.1", "192.0.2.2", 132, struct.pack("!HHII", 5060, 5060, 1, 0) + body
    )


def test_sctp_bundles_fragments_and_retransmissions(write_capture) -> None:
    half = len(OK) // 2
    frames = [
        packets.ethernet(_sctp([(1, 0x03, INVITE), (2, 0x02, OK[:half])])),  # whole + first half
        packets.ethernet(_sctp([(1, 0x03, INVITE)])),  # a retransmission: not a new message
        packets.ethernet(_sctp([(3, 0x01, OK[half:])])),
    ]
    messages, _ = read(write_capture(packets.pcap([(T0 + i, f) for i, f in enumerate(frames)])))
    assert [(m.summary, m.transport, m.frame, m.frames) for m in messages] == [
        ("INVITE sip:bob@example.com", "SCTP", 1, (1,)),
        ("200 OK", "SCTP", 3, (1, 3)),
    ]


def test_sip_on_any_port_and_not_sip_on_the_sip_port(write_capture) -> None:
    frames = [
        packets.udp4_frame("192.0.2.1", "192.0.2.2", INVITE, 40000, 7070),
        packets.udp4_frame("192.0.2.1", "192.0.2.2", b"hello, this is not sip at all"),
        packets.udp4_frame("192.0.2.1", "192.0.2.2", b"\r\n\r\n"),  # a keep-alive
        packets.udp4_frame(
            "192.0.2.1", "192.0.2.2", b"\x80\x00" + b"\0" * 170, 10000, 10002
        ),  # RTP
    ]
    messages, summary = read(
        write_capture(packets.pcap([(T0 + i, f) for i, f in enumerate(frames)]))
    )
    assert [m.frame for m in messages] == [1]
    assert summary.problems.counts == {"sip_unrecognised": 1}
    assert summary.problems.examples["sip_unrecognised"][0].frame == 2


def test_snapshot_cut_message_is_reported(write_capture) -> None:
    frame = packets.udp4_frame("192.0.2.1", "192.0.2.2", INVITE)
    messages, summary = read(write_capture(packets.pcap([(T0, frame)], snaplen=200)))
    assert len(messages) == 1
    assert summary.problems.counts.keys() >= {"sip_cut_short"}


def test_bad_ip_header_is_reported_and_reading_goes_on(write_capture) -> None:
    bad = packets.ethernet(b"\x55" + UDP4[1:])  # version 5
    short = packets.ethernet(b"\x45\x00")
    good = packets.udp4_frame("192.0.2.1", "192.0.2.2", INVITE)
    messages, summary = read(
        write_capture(packets.pcap([(T0, short), (T0 + 1, bad), (T0 + 2, good)]))
    )
    assert [m.frame for m in messages] == [3]
    assert [p.frame for p in summary.problems.examples["ip_bad_header"]] == [1, 2]
