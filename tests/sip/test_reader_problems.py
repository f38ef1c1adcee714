"""What SipReader reports about a TCP direction it cannot read, each problem with its frame."""

from __future__ import annotations

from sipdiag.network import Endpoint, Flow
from sipdiag.problems import Problem, ProblemLog
from sipdiag.sip.reader import CLASSIFY_LIMIT, SipReader
from tests import packets

FLOW = Flow(Endpoint("192.0.2.1", 40000), Endpoint("192.0.2.2", 5060))
OTHER = Flow(Endpoint("192.0.2.1", 40000), Endpoint("192.0.2.2", 8080))  # not a SIP port
NAME = "TCP 192.0.2.1:40000 -> 192.0.2.2:5060"


def reader() -> tuple[SipReader, ProblemLog]:
    problems = ProblemLog()
    return SipReader(problems), problems


def examples(problems: ProblemLog) -> list[Problem]:
    return [problem for kept in problems.examples.values() for problem in kept]


def test_a_hole_in_a_sip_stream_is_reported_with_its_frame() -> None:
    sip, problems = reader()
    whole = packets.sip_request(body=packets.SDP)
    assert sip.stream(FLOW, [(whole[:100], 3)], 3, 30)
    sip.stream_gap(FLOW, 1460, 5)
    assert examples(problems) == [
        Problem("tcp_gap", 5, f"1460 bytes of {NAME} were not captured"),
        Problem("sip_stream_skipped", 5,
                f"100 bytes of {NAME} skipped: the message was cut by a hole in the capture"),
    ]
    # After the hole, the next message is read from its start line.
    assert sip.stream(FLOW, [(packets.sip_response(), 6)], 6, 60)
    [message] = sip.drain(None)
    assert (message.status, message.frame, message.ts_ns, message.src, message.dst) == (
        200, 6, 60, FLOW.src, FLOW.dst
    )


def test_a_hole_in_a_websocket_stream_stops_it() -> None:
    sip, problems = reader()
    upgrade = b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    assert sip.stream(FLOW, [(upgrade, 2)], 2, 20)
    sip.stream_gap(FLOW, 10, 4)
    assert examples(problems) == [
        Problem("tcp_gap", 4, f"10 bytes of {NAME} were not captured; "
                "the WebSocket messages after it cannot be read"),
    ]
    assert not sip.stream(FLOW, [(b"\x81\x05hello", 5)], 5, 50)


def test_a_hole_before_the_first_start_line_starts_the_search_again() -> None:
    sip, problems = reader()
    assert sip.stream(FLOW, [(b"tail of an earlier message ", 1)], 1, 10)
    sip.stream_gap(FLOW, 10, 2)
    assert examples(problems) == []
    assert sip.stream(FLOW, [(packets.sip_request(), 3)], 3, 30)
    assert [m.frame for m in sip.drain(None)] == [3]
    assert examples(problems) == []  # nothing before the hole is kept or reported


def test_tls_is_reported_on_a_sip_port_only() -> None:
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32)
    for first in (b"\x14", b"\x15", b"\x16", b"\x17"):  # TLS record content types
        sip, problems = reader()
        # followed on until its ClientHello is read (a ChangeCipherSpec ends that at once)
        assert sip.stream(FLOW, [(first + hello[1:], 9)], 9, 90) == (first == b"\x16")
        assert examples(problems) == [
            Problem("tls_encrypted", 9, f"{NAME} is TLS: the SIP inside cannot be read")
        ]
    sip, problems = reader()
    assert not sip.stream(OTHER, [(hello, 9)], 9, 90)
    assert examples(problems) == []
    # Neither a TLS content type nor version 3: not TLS, and not classified yet.
    sip, problems = reader()
    assert sip.stream(FLOW, [(b"\x18\x03abc", 9)], 9, 90)
    assert sip.stream(FLOW, [(b"X\x03abc", 9)], 9, 90)
    assert examples(problems) == []


def test_a_stream_with_no_start_line_is_left_alone_after_the_limit() -> None:
    sip, problems = reader()
    assert sip.stream(FLOW, [(b"x" * CLASSIFY_LIMIT, 1)], 1, 10)  # not past it yet
    assert not sip.stream(FLOW, [(b"x", 2)], 2, 20)
    assert examples(problems) == [Problem("sip_unrecognised", 2, f"{NAME} carries no SIP")]
    quiet, none = reader()
    assert not quiet.stream(OTHER, [(b"x" * (CLASSIFY_LIMIT + 1), 1)], 1, 10)
    assert examples(none) == []


def test_a_content_length_that_is_not_a_number_is_not_a_missing_one() -> None:
    sip, problems = reader()
    raw = packets.sip_request().replace(b"Content-Length: 0", b"Content-Length: zero")
    assert sip.stream(FLOW, [(raw, 4)], 4, 40)
    assert [p.kind for p in examples(problems)] == ["sip_bad_header"]


def test_a_framed_message_whose_first_line_is_not_sip_is_skipped_and_counted() -> None:
    """The framer finds a message from the look of its first line; the parser then wants the
    line to end after ``SIP/2.0`` (RFC 3261 7.1): one that does not is skipped, whole."""
    sip, problems = reader()
    odd = b"INVITE sip:bob@example.com SIP/2.0junk\r\nContent-Length: 0\r\n\r\n"
    stream = packets.sip_request() + odd + packets.sip_response()
    assert sip.stream(FLOW, [(stream, 8)], 8, 80)
    assert [m.status for m in sip.drain(None)] == [0, 200]
    assert examples(problems) == [
        Problem("sip_stream_skipped", 8,
                f"{len(odd)} bytes of {NAME} skipped: its first line is not a SIP start line"),
    ]


def test_a_message_without_content_length_on_a_stream_is_reported() -> None:
    sip, problems = reader()
    raw = packets.sip_request().replace(b"Content-Length: 0\r\n", b"")
    assert sip.stream(FLOW, [(raw, 6)], 6, 60)
    assert examples(problems) == [
        Problem("sip_missing_header", 6,
                f"no Content-Length header on {NAME}, where it is required (RFC 3261 18.3): "
                "the message is taken to end at its empty line"),
    ]


def test_a_stream_that_ends_inside_a_message_is_reported_at_its_first_frame() -> None:
    sip, problems = reader()
    cut = packets.sip_request()[:-10]
    assert sip.stream(FLOW, [(cut, 3)], 3, 30)
    sip.stream_end(FLOW)
    assert examples(problems) == [
        Problem("sip_stream_skipped", 3,
                f"{len(cut)} bytes of {NAME} skipped: the stream ended inside a message"),
    ]
    # The direction is forgotten: a new connection on the same ports starts afresh.
    assert sip.stream(FLOW, [(packets.sip_response(), 4)], 4, 40)
    assert [m.frame for m in sip.drain(None)] == [4]
    sip.stream_end(FLOW)
    assert len(examples(problems)) == 1
