"""SIP over WebSocket (RFC 7118) on a TCP stream, as SipReader reads it: the HTTP upgrade
(RFC 6455 section 4) turns the stream into WebSocket frames, each message of which is one SIP
message; a frame RFC 6455 does not allow stops the stream with a problem at its frame."""

from __future__ import annotations

import pytest

from sipdiag.network import Endpoint, Flow
from sipdiag.problems import Problem, ProblemLog
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import SipReader
from tests import packets
from tests.packets import websocket_frame

BROWSER = Endpoint("192.0.2.1", 50000)
SERVER = Endpoint("192.0.2.2", 443)
FLOW = Flow(BROWSER, SERVER)
TEXT = 1
KEY = b"\x01\x02\x03\x04"
UPGRADE = (b"GET /sip HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n")
SWITCHED = (b"HTTP/1.1 101 Switching Protocols\r\nUPGRADE:websocket\r\n"
            b"Connection: Upgrade\r\n\r\n")


def reader() -> tuple[SipReader, ProblemLog]:
    problems = ProblemLog()
    return SipReader(problems), problems


def read(sip: SipReader) -> list[SipMessage]:
    return sip.drain(None)


@pytest.mark.parametrize("handshake", [UPGRADE, SWITCHED], ids=["request", "response"])
def test_messages_after_the_upgrade_are_sip_over_websocket(handshake: bytes) -> None:
    """The bytes after the handshake's empty line are frames; a client masks its frames."""
    sip, problems = reader()
    invite = packets.sip_request()
    assert sip.stream(FLOW, [(handshake + websocket_frame(TEXT, invite, key=KEY), 5)], 5, 50)
    [message] = read(sip)
    assert (message.method, message.transport, message.frame, message.ts_ns) == (
        "INVITE", "WS", 5, 50
    )
    assert (message.src, message.dst, message.frames) == (BROWSER, SERVER, (5,))
    assert problems.examples == {}


def test_a_message_finished_by_an_earlier_segment_keeps_that_segment() -> None:
    """Reassembly can hand on several segments at once: a message completed in segment 3 but
    read when segment 4 arrives is numbered 4 and carried by 3."""
    sip, _ = reader()
    first, second = packets.sip_request(), packets.sip_response()
    chunks = [(UPGRADE + websocket_frame(TEXT, first), 3), (websocket_frame(TEXT, second), 4)]
    assert sip.stream(FLOW, chunks, 4, 40)
    assert [(m.frame, m.frames, m.is_request) for m in read(sip)] == [
        (4, (3,), True), (4, (4,), False)
    ]


def test_messages_of_segments_handed_on_together_keep_their_own_segments() -> None:
    """The upgrade was read before; segments 3 and 4, each one whole message, come at once."""
    sip, _ = reader()
    assert sip.stream(FLOW, [(UPGRADE, 1)], 1, 10)
    first, second = packets.sip_request(), packets.sip_response()
    chunks = [(websocket_frame(TEXT, first, key=KEY), 3), (websocket_frame(TEXT, second), 4)]
    assert sip.stream(FLOW, chunks, 4, 40)
    assert [(m.raw, m.frame, m.frames) for m in read(sip)] == [
        (first, 4, (3,)), (second, 4, (4,))
    ]


@pytest.mark.parametrize("cut", [10, len(UPGRADE), len(UPGRADE) + 3])
def test_segments_split_anywhere_around_the_handshake_keep_their_frames(cut: int) -> None:
    sip, _ = reader()
    stream = UPGRADE + websocket_frame(TEXT, packets.sip_request(), key=KEY)
    assert sip.stream(FLOW, [(stream[:cut], 1), (stream[cut:], 2)], 2, 20)
    [message] = read(sip)
    assert message.frames == ((1, 2) if cut > len(UPGRADE) else (2,))


def test_each_message_is_carried_by_the_segments_its_bytes_came_in() -> None:
    """A ping in a segment of its own carries no message; a segment holding the end of one
    message, a whole one and the start of a third carries all three."""
    sip, _ = reader()
    ping = websocket_frame(0x9, b"hi")
    one, two, three = (websocket_frame(TEXT, packets.sip_request(call_id=f"c{n}"))
                       for n in (1, 2, 3))
    middle = one[20:] + two + three[:30]
    chunks = [(UPGRADE, 1), (ping, 2), (one[:20], 3), (middle, 4), (three[30:], 5)]
    assert sip.stream(FLOW, chunks, 5, 50)
    assert [m.frames for m in read(sip)] == [(3, 4), (4,), (4, 5)]


def test_an_http_exchange_without_upgrade_is_not_read() -> None:
    sip, problems = reader()
    page = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"
    assert not sip.stream(FLOW, [(page + websocket_frame(TEXT, packets.sip_request()), 2)], 2, 20)
    assert read(sip) == []
    assert problems.examples == {}


def test_only_the_http_header_can_ask_for_the_upgrade() -> None:
    """A body that holds an Upgrade line and an empty line is not a handshake (RFC 6455 4.2.2:
    the Upgrade header field of the response)."""
    sip, problems = reader()
    body = b"Upgrade: websocket\r\n\r\n"
    page = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    assert not sip.stream(FLOW, [(page + websocket_frame(TEXT, packets.sip_request()), 2)], 2, 20)
    assert read(sip) == []
    assert problems.examples == {}  # its bytes are not read as WebSocket frames either


def test_a_frame_rfc_6455_forbids_stops_the_stream_at_its_frame() -> None:
    """RSV1 set without an extension that defines it (RFC 6455 section 5.2)."""
    sip, problems = reader()
    assert sip.stream(FLOW, [(UPGRADE, 1)], 1, 10)
    bad = websocket_frame(TEXT, packets.sip_request(), rsv=4)
    assert not sip.stream(FLOW, [(bad, 2)], 2, 20)
    [(kind, [problem])] = problems.examples.items()
    assert kind == "websocket_bad_frame"
    assert problem.frame == 2
    assert problem.detail.startswith(f"TCP {BROWSER} -> {SERVER}: ")
    # What follows on the stream is no longer read.
    assert not sip.stream(FLOW, [(websocket_frame(TEXT, packets.sip_request()), 3)], 3, 30)
    assert read(sip) == []
    assert sum(len(kept) for kept in problems.examples.values()) == 1


def test_the_problem_names_its_kind() -> None:
    sip, problems = reader()
    sip.stream(FLOW, [(UPGRADE + websocket_frame(TEXT, b"x", rsv=2), 9)], 9, 90)
    assert [p for kept in problems.examples.values() for p in kept] == [
        Problem("websocket_bad_frame", 9, f"TCP {BROWSER} -> {SERVER}: "
                "frame with opcode 1 and length 1 is not valid"),
    ]
