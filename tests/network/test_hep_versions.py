"""HEP (Homer encapsulation), versions 1, 2 and 3 (github.com/sipcapture/HEP).

HEPv1/v2: version, header length, address family, IP protocol, source and destination ports
(network order), source and destination addresses; v2 adds timestamp seconds, microseconds,
capture id and two unused bytes (in the agent's host order, little-endian: Kamailio's siptrace
copies the struct, and sngrep's collector reads it so); the payload follows the header.
HEPv3: "HEP3", total length, then chunks of (vendor, type, length, value).
"""

from __future__ import annotations

import ipaddress
import struct
import zlib

import pytest

from sipdiag.capture import linktypes
from sipdiag.network import Endpoint, hep
from sipdiag.network.decoder import Decoder
from sipdiag.problems import ProblemLog
from tests import packets

INVITE = packets.sip_request()
TS = 1_700_000_000_987_654_321


def hep2(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    payload: bytes,
    protocol: int = 17,
    version: int = 2,
) -> bytes:
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    family = 2 if a.version == 4 else 10
    addresses = a.packed + b.packed
    extra = struct.pack("<IIHH", 1_700_000_000, 123_456, 2001, 0) if version == 2 else b""
    length = 8 + len(addresses) + len(extra)
    header = struct.pack("!BBBBHH", version, length, family, protocol, sport, dport)
    return header + addresses + extra + payload


def chunk(kind: int, value: bytes, vendor: int = 0) -> bytes:
    return struct.pack("!HHH", vendor, kind, 6 + len(value)) + value


def hep3(*chunks: bytes, total: int | None = None, trailer: bytes = b"") -> bytes:
    body = b"".join(chunks)
    return b"HEP3" + struct.pack("!H", 6 + len(body) if total is None else total) + body + trailer


def every_chunk(payload: bytes = INVITE, protocol: int = 17, six: bool = False) -> list[bytes]:
    """All the chunks a capture agent sends (types 1 to 12 and 15)."""
    if six:
        addresses = [
            chunk(5, ipaddress.IPv6Address("2001:db8::5").packed),
            chunk(6, ipaddress.IPv6Address("2001:db8::6").packed),
        ]
    else:
        addresses = [chunk(3, bytes([10, 0, 0, 3])), chunk(4, bytes([10, 0, 0, 4]))]
    return [
        chunk(1, b"\x0a" if six else b"\x02"),
        chunk(2, bytes([protocol])),
        *addresses,
        chunk(7, struct.pack("!H", 5071)),
        chunk(8, struct.pack("!H", 5082)),
        chunk(9, struct.pack("!I", 1_700_000_000)),
        chunk(10, struct.pack("!I", 654_321)),
        chunk(11, b"\x01"),
        chunk(12, struct.pack("!I", 2001)),
        chunk(15, payload),
    ]


# HEPv1 and HEPv2


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize(
    ("protocol", "transport"), [(17, "UDP"), (6, "TCP"), (132, "SCTP"), (50, "UDP")]
)
def test_hep2_ipv4(version: int, protocol: int, transport: str) -> None:
    packet = hep2("10.1.2.3", "10.4.5.6", 5061, 5062, INVITE, protocol, version)
    assert hep.looks_like_hep(packet)
    assert hep.decode(packet)[:4] == (
        transport, Endpoint("10.1.2.3", 5061), Endpoint("10.4.5.6", 5062), INVITE
    )


@pytest.mark.parametrize("version", [1, 2])
def test_hep2_ipv6(version: int) -> None:
    packet = hep2("2001:db8::a", "2001:db8::b", 40000, 5060, INVITE, 6, version)
    assert packet[1] == (40 if version == 1 else 52)
    assert hep.looks_like_hep(packet)
    assert hep.decode(packet)[:4] == (
        "TCP", Endpoint("2001:db8::a", 40000), Endpoint("2001:db8::b", 5060), INVITE
    )


def test_hep2_header_cut_short_is_an_error() -> None:
    packet = hep2("10.1.2.3", "10.4.5.6", 5061, 5062, b"")
    with pytest.raises(hep.HepError, match=r"^HEPv2 header of 28 bytes is cut short$"):
        hep.decode(packet[:27])
    assert hep.decode(packet)[:4] == ("UDP", Endpoint("10.1.2.3", 5061), Endpoint("10.4.5.6", 5062),
                                  b"")


def test_hep2_length_too_small_for_its_addresses_is_an_error() -> None:
    six = hep2("2001:db8::a", "2001:db8::b", 1, 2, INVITE, version=1)
    bad = six[:1] + bytes([39]) + six[2:]  # an IPv6 header needs 8 + 32 bytes
    with pytest.raises(hep.HepError, match=r"^HEPv1 header of 39 bytes is cut short$"):
        hep.decode(bad)
    four = hep2("10.1.2.3", "10.4.5.6", 1, 2, INVITE, version=1)
    with pytest.raises(hep.HepError, match="HEPv1 header of 15 bytes"):
        hep.decode(four[:1] + bytes([15]) + four[2:])


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (bytes([1, 16, 2, 17]), True),
        (bytes([2, 28, 2, 17]), True),
        (bytes([1, 40, 10, 17]), True),
        (bytes([2, 52, 10, 17]), True),
        (bytes([3, 28, 2, 17]), False),
        (bytes([0, 28, 2, 17]), False),
        (bytes([2, 29, 2, 17]), False),
        (bytes([2, 28, 2]), False),  # too short to hold even the first fields
        (b"HEP3", True),
        (b"HEP2\0\0", False),
        (b"\x80\x00\x12\x34", False),  # RTP
    ],
)
def test_looks_like_hep(payload: bytes, expected: bool) -> None:
    assert hep.looks_like_hep(payload) is expected


@pytest.mark.parametrize("six", [False, True])
def test_hep2_time_and_agent_are_read_in_the_agents_order(six: bool) -> None:
    src, dst = ("2001:db8::a", "2001:db8::b") if six else ("10.1.2.3", "10.4.5.6")
    decoded = hep.decode(hep2(src, dst, 5061, 5062, INVITE))
    assert decoded is not None
    assert (decoded.ts_ns, decoded.agent, decoded.password) == (1_700_000_000_123_456_000, 2001,
                                                                None)
    assert decoded.payload == INVITE


def test_hep1_has_no_time() -> None:
    decoded = hep.decode(hep2("10.1.2.3", "10.4.5.6", 5061, 5062, INVITE, version=1))
    assert decoded is not None and (decoded.ts_ns, decoded.agent) == (None, None)


# HEPv3


def test_hep3_every_chunk_ipv4() -> None:
    assert hep.decode(hep3(*every_chunk()))[:4] == (
        "UDP", Endpoint("10.0.0.3", 5071), Endpoint("10.0.0.4", 5082), INVITE
    )


@pytest.mark.parametrize(("protocol", "transport"), [(6, "TCP"), (132, "SCTP"), (17, "UDP")])
def test_hep3_every_chunk_ipv6(protocol: int, transport: str) -> None:
    assert hep.decode(hep3(*every_chunk(protocol=protocol, six=True)))[:4] == (
        transport, Endpoint("2001:db8::5", 5071), Endpoint("2001:db8::6", 5082), INVITE
    )


def test_hep3_time_agent_and_password() -> None:
    decoded = hep.decode(hep3(*every_chunk(), chunk(14, b"s3cret")))
    assert decoded is not None
    assert (decoded.ts_ns, decoded.agent, decoded.password) == (1_700_000_000_654_321_000, 2001,
                                                                b"s3cret")


def test_hep3_without_time_chunks_has_no_time() -> None:
    decoded = hep.decode(hep3(chunk(15, INVITE)))
    assert decoded is not None and (decoded.ts_ns, decoded.agent, decoded.password) == (
        None, None, None)


def test_hep3_minimal_packet_defaults() -> None:
    """Only a payload: SIP over UDP, unknown addresses and ports."""
    assert hep.decode(hep3(chunk(15, INVITE)))[:4] == (
        "UDP", Endpoint("0.0.0.0", 0), Endpoint("0.0.0.0", 0), INVITE
    )


def test_hep3_address_of_the_wrong_size_is_unknown() -> None:
    packet = hep3(chunk(3, b"\x0a\0\0"), chunk(4, b"\x0a\0\0\0\0"), chunk(15, INVITE))
    decoded = hep.decode(packet)
    assert decoded is not None and (decoded.src.ip, decoded.dst.ip) == ("0.0.0.0", "0.0.0.0")


def test_hep3_each_address_is_read_from_the_chunk_that_carries_it() -> None:
    """Chunks 3/4 are the IPv4 source/destination, 5/6 the IPv6 ones: a source given only as
    IPv6 and a destination given only as IPv4 are both read."""
    packet = hep3(chunk(5, ipaddress.IPv6Address("2001:db8::5").packed),
                  chunk(4, bytes([10, 0, 0, 4])), chunk(15, INVITE))
    decoded = hep.decode(packet)
    assert decoded is not None and (decoded.src.ip, decoded.dst.ip) == ("2001:db8::5", "10.0.0.4")


def test_hep3_payload_type_is_the_first_byte_of_its_chunk() -> None:
    """The payload type is a uint8: a chunk that carries more bytes is read by its first one."""
    chunks = every_chunk()
    chunks[8] = chunk(11, b"\x01\x00")
    decoded = hep.decode(hep3(*chunks))
    assert decoded is not None and decoded.payload == INVITE


@pytest.mark.parametrize("kind", [5, 8, 100])  # RTCP, Q.850 reason, log
def test_hep3_payloads_other_than_sip_are_skipped(kind: int) -> None:
    chunks = every_chunk()
    chunks[8] = chunk(11, bytes([kind]))
    assert hep.decode(hep3(*chunks)) is None


def test_hep3_vendor_chunks_are_ignored() -> None:
    packet = hep3(
        chunk(11, b"\x05", vendor=0x0003),  # would say "not SIP" were it generic
        chunk(15, INVITE),
        chunk(15, b"vendor payload", vendor=0x0003),
        chunk(15, b"vendor payload", vendor=0x0001),
        chunk(7, struct.pack("!H", 9999), vendor=0x0003),
        chunk(7, struct.pack("!H", 5071)),
    )
    decoded = hep.decode(packet)
    assert decoded is not None and decoded.payload == INVITE and decoded.src.port == 5071


def test_hep3_compressed_payload() -> None:
    decoded = hep.decode(hep3(chunk(3, bytes([10, 0, 0, 3])), chunk(16, zlib.compress(INVITE))))
    assert decoded is not None and decoded.payload == INVITE and decoded.src.ip == "10.0.0.3"


def test_hep3_plain_payload_wins_over_compressed() -> None:
    decoded = hep.decode(hep3(chunk(16, zlib.compress(b"other")), chunk(15, INVITE)))
    assert decoded is not None and decoded.payload == INVITE


def test_hep3_chunks_beyond_the_total_length_are_not_read() -> None:
    inside = hep3(chunk(15, INVITE))
    packet = hep3(chunk(15, INVITE), trailer=chunk(7, struct.pack("!H", 5071)))
    assert hep.decode(packet) == hep.decode(inside)
    with pytest.raises(hep.HepError, match="without a payload"):
        hep.decode(hep3(chunk(7, b"\x13\xc4"), total=12, trailer=chunk(15, INVITE)))


def test_hep3_total_length_beyond_the_packet_reads_what_is_there() -> None:
    decoded = hep.decode(hep3(chunk(15, INVITE), total=60000))
    assert decoded is not None and decoded.payload == INVITE


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (b"HEP3\x00", "HEP3 header cut short"),
        (b"HEP3\x00\x06", "HEP3 packet without a payload chunk"),
        (hep3(chunk(7, b"\x13\xc4")), "HEP3 packet without a payload chunk"),
        (hep3(struct.pack("!HHH", 0, 15, 5) + b"x", chunk(15, INVITE)),
         "HEP3 chunk of type 15 has length 5"),
        (hep3(struct.pack("!HHH", 0, 3, 0)), "HEP3 chunk of type 3 has length 0"),
    ],
)
def test_hep3_broken_packets(packet: bytes, message: str) -> None:
    with pytest.raises(hep.HepError, match=f"^{message}$"):
        hep.decode(packet)


def test_hep3_chunk_of_exactly_six_bytes_is_empty() -> None:
    decoded = hep.decode(hep3(chunk(7, b""), chunk(15, INVITE)))
    assert decoded is not None and decoded.src.port == 0 and decoded.payload == INVITE


def test_hep3_compressed_payload_that_does_not_inflate() -> None:
    with pytest.raises(hep.HepError, match=r"^compressed HEP payload does not inflate: "):
        hep.decode(hep3(chunk(16, b"not zlib")))


# Through the decoder: HEP arrives in UDP on any port.


class Sink:
    def __init__(self) -> None:
        self.datagrams: list[tuple[object, ...]] = []

    def datagram(self, *args: object) -> bool:
        self.datagrams.append(args)
        payload = args[5]
        assert isinstance(payload, bytes)
        return payload.startswith(b"INVITE")


def feed(payload: bytes) -> tuple[Sink, ProblemLog]:
    sink, problems = Sink(), ProblemLog()
    frame = packets.udp4_frame("198.51.100.9", "198.51.100.10", payload, 47000, 9060)
    Decoder(sink, problems).link_handler(linktypes.ETHERNET)(  # type: ignore[arg-type]
        7, TS, frame, 0, len(frame), len(frame)
    )
    return sink, problems


@pytest.mark.parametrize(
    "packet",
    [hep2("10.1.2.3", "10.4.5.6", 5061, 5062, INVITE, 6), hep3(*every_chunk(protocol=6))],
    ids=["v2", "v3"],
)
def test_decoder_hands_on_the_encapsulated_message(packet: bytes) -> None:
    sink, problems = feed(packet)
    assert problems.counts == {}
    assert len(sink.datagrams) == 2  # the HEP packet itself, not SIP; then what it carried
    transport, frame, ts, src, dst, payload, frames = sink.datagrams[1]
    assert (transport, frame, ts, payload, frames) == ("TCP", 7, TS, INVITE, ())
    assert src.port in (5061, 5071) and dst.port in (5062, 5082)  # type: ignore[attr-defined]


def test_decoder_reports_broken_hep() -> None:
    sink, problems = feed(hep3(chunk(7, b"\x13\xc4")))
    assert len(sink.datagrams) == 1
    assert problems.counts == {"hep_bad_packet": 1}
    (problem,) = problems.examples["hep_bad_packet"]
    assert (problem.frame, problem.detail) == (7, "HEP3 packet without a payload chunk")


def test_decoder_skips_hep_that_is_not_sip() -> None:
    chunks = every_chunk()
    chunks[8] = chunk(11, b"\x05")
    sink, problems = feed(hep3(*chunks))
    assert len(sink.datagrams) == 1 and problems.counts == {}


# HEP3 over TCP: a stream of packets, each framed by its total length.


def test_split_stream_gives_whole_packets_and_keeps_the_rest() -> None:
    first, second = hep3(*every_chunk()), hep3(chunk(15, INVITE))
    packets, rest = hep.split_stream(first + second + second[:9])
    assert packets == [first, second]
    assert rest == second[:9]
    packets, rest = hep.split_stream(rest + second[9:])
    assert (packets, rest) == ([second], b"")


def test_split_stream_waits_for_a_whole_header() -> None:
    assert hep.split_stream(b"HEP3\x00") == ([], b"HEP3\x00")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"GET / HTTP/1.1\r\n", "does not start a HEP3 packet"),
        (b"HEP3\x00\x05xxxx", "total length 5"),
    ],
)
def test_split_stream_refuses_what_is_not_hep3(data: bytes, error: str) -> None:
    with pytest.raises(hep.HepError, match=error):
        hep.split_stream(hep3(chunk(15, INVITE)) + data)
