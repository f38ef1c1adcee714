"""TCP reassembly: bytes come out once, in order, whatever way the segments arrived."""

from __future__ import annotations

import random
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.network import Chunk, Endpoint, Flow
from sipdiag.network.tcp import SYN, TcpReassembler
from tests import packets
from tests.conftest import read

FLOW = Flow(Endpoint("192.0.2.1", 40000), Endpoint("192.0.2.2", 5060))
T0 = 1_700_000_000_000_000_000


class StreamSink:
    def __init__(self) -> None:
        self.data = b""
        self.deliveries: list[tuple[list[int], int]] = []
        self.gaps: list[tuple[int, int]] = []
        self.ended = False

    def stream(self, flow: Flow, chunks: list[Chunk], frame: int, ts_ns: int) -> bool:
        self.data += b"".join(data for data, _ in chunks)
        self.deliveries.append(([f for _, f in chunks], frame))
        return True

    def stream_gap(self, flow: Flow, missing: int, frame: int) -> None:
        self.gaps.append((missing, frame))

    def stream_end(self, flow: Flow) -> None:
        self.ended = True

    def datagram(self, *args: object) -> bool:
        return False


def feed(segments: list[tuple[int, bytes]], isn: int | None = 1000) -> StreamSink:
    sink = StreamSink()
    tcp = TcpReassembler(sink)
    frame = 0
    if isn is not None:
        frame += 1
        tcp.segment(frame, T0, FLOW, isn, SYN, b"")
    for seq, data in segments:
        frame += 1
        tcp.segment(frame, T0 + frame, FLOW, seq, 0x18, data)
    tcp.flush()
    return sink


def test_out_of_order_is_delivered_in_the_frame_that_fills_the_hole() -> None:
    sink = feed([(1001, b"abc"), (1007, b"ghi"), (1004, b"def")])
    assert sink.data == b"abcdefghi"
    assert sink.deliveries == [([2], 2), ([4, 3], 4)]


def test_retransmissions_and_overlaps_deliver_each_byte_once() -> None:
    sink = feed([(1001, b"abcd"), (1001, b"abcd"), (1003, b"cdef"), (1005, b"efgh")])
    assert sink.data == b"abcdefgh"


def test_sequence_numbers_wrap_around() -> None:
    sink = feed([(0xFFFFFFFE, b"ab"), (0, b"cd")], isn=0xFFFFFFFD)
    assert sink.data == b"abcd"


def test_capture_started_mid_connection() -> None:
    sink = feed([(5000, b"tail"), (5004, b"more")], isn=None)
    assert sink.data == b"tailmore"


def test_a_hole_never_filled_is_given_up_at_the_end() -> None:
    sink = feed([(1001, b"abc"), (1010, b"xyz")])
    assert sink.data == b"abcxyz"
    assert sink.gaps == [(6, 3)]
    assert sink.ended


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_arrival_order_and_duplication_gives_the_same_stream(data: st.DataObject) -> None:
    """Invariant: permuting and duplicating segments with the same bytes changes nothing."""
    payload = data.draw(st.binary(min_size=1, max_size=300))
    cuts = (
        sorted(data.draw(st.sets(st.integers(1, len(payload) - 1), max_size=8)))
        if len(payload) > 1
        else []
    )
    bounds = [0, *cuts, len(payload)]
    segments = [(1001 + a, payload[a:b]) for a, b in pairwise(bounds)]
    arrival = segments + data.draw(st.lists(st.sampled_from(segments), max_size=4))
    random.Random(data.draw(st.integers())).shuffle(arrival)
    sink = feed(arrival)
    assert sink.data == payload
    assert sink.gaps == []


def _call_over_tcp() -> list[bytes]:
    return [
        packets.sip_request(body=packets.SDP),
        packets.sip_response(180, "Ringing"),
        packets.sip_response(body=packets.SDP),
    ]


def _tcp_frames(segments: list[tuple[int, bytes, bool]], handshake: bool = True) -> list[bytes]:
    """Frames of (sequence offset, payload, client to server?) after an optional handshake."""
    frames = []
    if handshake:
        frames.append(
            packets.ethernet(
                packets.ipv4("192.0.2.1", "192.0.2.2", 6, packets.tcp(40000, 5060, 999, flags=SYN))
            )
        )
        frames.append(
            packets.ethernet(
                packets.ipv4(
                    "192.0.2.2", "192.0.2.1", 6, packets.tcp(5060, 40000, 4999, flags=0x12)
                )
            )
        )
    for offset, payload, outbound in segments:
        src, dst, sport, dport, isn = (
            ("192.0.2.1", "192.0.2.2", 40000, 5060, 1000)
            if outbound
            else ("192.0.2.2", "192.0.2.1", 5060, 40000, 5000)
        )
        frames.append(
            packets.ethernet(
                packets.ipv4(src, dst, 6, packets.tcp(sport, dport, isn + offset, payload))
            )
        )
    return frames


def test_sip_over_tcp_split_coalesced_and_out_of_order(write_capture) -> None:
    invite, ringing, ok = _call_over_tcp()
    half = len(invite) // 2
    frames = _tcp_frames(
        [
            (half, invite[half:], True),  # the second half arrives first
            (0, invite[:half], True),
            (0, ringing + ok, False),  # two messages in one segment
        ]
    )
    messages, summary = read(
        write_capture(packets.pcap([(T0 + i, f) for i, f in enumerate(frames)]))
    )
    assert not summary.problems.counts
    assert [(m.summary, m.transport, m.frame, m.frames) for m in messages] == [
        ("INVITE sip:bob@example.com", "TCP", 4, (3, 4)),
        ("180 Ringing", "TCP", 5, (5,)),
        ("200 OK", "TCP", 5, (5,)),
    ]
    assert messages[0].raw == invite


def test_sip_over_tcp_one_message_in_many_segments(write_capture) -> None:
    invite = _call_over_tcp()[0]
    pieces = [(i, invite[i : i + 40], True) for i in range(0, len(invite), 40)]
    frames = _tcp_frames(pieces)
    messages, _ = read(write_capture(packets.pcap([(T0 + i, f) for i, f in enumerate(frames)])))
    assert len(messages) == 1 and messages[0].raw == invite
    assert messages[0].frames == tuple(range(3, len(frames) + 1))


def test_sip_over_tcp_capture_starting_mid_message(write_capture) -> None:
    invite, ringing, ok = _call_over_tcp()
    frames = _tcp_frames(
        [
            (0, invite[100:], False),
            (len(invite) - 100, ringing, False),
            (len(invite) - 100 + len(ringing), ok, False),
        ],
        handshake=False,
    )
    messages, summary = read(
        write_capture(packets.pcap([(T0 + i, f) for i, f in enumerate(frames)]))
    )
    assert [m.summary for m in messages] == ["180 Ringing", "200 OK"]
    skipped = summary.problems.examples["sip_stream_skipped"][0]
    assert skipped.frame == 1 and "middle of a message" in skipped.detail


def test_sip_over_tcp_hole_is_reported_and_reading_resumes(write_capture) -> None:
    invite, ringing, ok = _call_over_tcp()
    frames = _tcp_frames(
        [
            (0, invite[:50], False),
            (len(invite), ringing, False),
            (len(invite) + len(ringing), ok, False),
        ],
        handshake=False,
    )
    messages, summary = read(
        write_capture(packets.pcap([(T0 + i, f) for i, f in enumerate(frames)]))
    )
    assert [(m.summary, m.frame) for m in messages] == [("180 Ringing", 2), ("200 OK", 3)]
    assert summary.problems.counts["tcp_gap"] == 1


def _websocket_frame(payload: bytes, mask: bytes | None) -> bytes:
    header = bytes([0x81])
    length = len(payload)
    size = bytes([length]) if length < 126 else bytes([126]) + length.to_bytes(2, "big")
    if mask is None:
        return header + size + payload
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + bytes([size[0] | 0x80]) + size[1:] + mask + masked


def test_sip_over_websocket(write_capture) -> None:
    invite, ringing, _ = _call_over_tcp()
    upgrade = (
        b"GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: sip\r\n\r\n"
    )
    accept = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    request = upgrade + _websocket_frame(invite, b"\x01\x02\x03\x04")
    response = accept + _websocket_frame(ringing, None)
    frames = _tcp_frames([(0, request, True), (0, response, False)])
    messages, summary = read(
        write_capture(packets.pcap([(T0 + i, f) for i, f in enumerate(frames)]))
    )
    assert not summary.problems.counts
    assert [(m.summary, m.transport) for m in messages] == [
        ("INVITE sip:bob@example.com", "WS"),
        ("180 Ringing", "WS"),
    ]
    assert messages[0].raw == invite


def test_tls_on_the_sips_port_is_reported_as_unreadable(write_capture) -> None:
    hello = b"\x16\x03\x01\x00\x05hello"
    frame = packets.ethernet(
        packets.ipv4("192.0.2.1", "192.0.2.2", 6, packets.tcp(40000, 5061, 1, hello))
    )
    messages, summary = read(write_capture(packets.pcap([(T0, frame)])))
    assert messages == [] and summary.problems.counts == {"tls_encrypted": 1}
