"""SIP framing on streams pinned down against RFC 3261 (7.3.3, 7.5, 18.3, 20.14) and RFC 5626.

On a stream a message ends where its Content-Length says (18.3), in its long or compact form
``l`` (7.3.3), any case (7.3.1: field names are case-insensitive), with any whitespace around
the colon (7.3.1, 25.1: HCOLON = *( SP / HTAB ) ":" SWS). Only header fields count: the
search for it stops at the empty line that ends the header (7, 7.5). CRLFs before a start
line are ignored (7.5) and are the keep-alives of RFC 5626 4.4.1. Every expected message below
is a piece of the bytes the test built, never something read back from sipdiag.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.network.tcp import SYN, TcpReassembler
from sipdiag.problems import ProblemLog
from sipdiag.sip.framing import MAX_BODY, MAX_HEADER, Framed, Skipped, StreamFramer
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import SipReader
from tests import packets
from tests.network.test_tcp import FLOW, T0
from tests.sip.test_framing import frame_all

BODY = b"v=0\r\n\r\nINVITE sip:decoy@example.com SIP/2.0\r\nContent-Length: 999\r\n"
"""A body that holds an empty line, a start line and a Content-Length: only its size tells
where it ends, and a framer that takes a wrong size finds a bogus message in it."""
NEXT = packets.sip_response(body=packets.SDP)
"""The message after the one under test."""


def message(first: str, headers: list[str], body: bytes = b"", eol: str = "\r\n") -> bytes:
    return (first + eol + "".join(h + eol for h in headers) + eol).encode() + body


def request(headers: list[str], body: bytes = b"", method: str = "MESSAGE") -> bytes:
    base = ["Call-ID: f81d4fae@example.com", f"CSeq: 7 {method}", "Max-Forwards: 70"]
    return message(f"{method} sip:bob@example.com SIP/2.0", base + headers, body)


def framed(found: list[Framed | Skipped]) -> list[bytes]:
    assert [f for f in found if isinstance(f, Skipped)] == []
    return [f.data for f in found if isinstance(f, Framed)]


def read_stream(pieces: list[bytes]) -> tuple[list[SipMessage], ProblemLog]:
    """The messages SipReader reads from one TCP direction carrying ``pieces`` in turn.

    Frame 1 is the SYN, piece k is in frame k + 2; the stream is ended by a FIN at the end.
    """
    problems = ProblemLog()
    reader = SipReader(problems)
    tcp = TcpReassembler(reader)
    tcp.segment(1, T0, FLOW, 1000, SYN, b"")
    seq = 1001
    for frame, piece in enumerate(pieces, start=2):
        tcp.segment(frame, T0 + frame, FLOW, seq, 0x18, piece)
        seq += len(piece)
    tcp.segment(len(pieces) + 2, T0 + len(pieces) + 2, FLOW, seq, 0x11, b"")
    tcp.flush()
    return reader.drain(None), problems


# Content-Length: long and compact forms, any case, any whitespace (RFC 3261 7.3.1, 7.3.3).

FORMS = [
    "Content-Length: {n}",
    "content-length: {n}",
    "CONTENT-LENGTH: {n}",
    "Content-length:{n}",
    "Content-Length :{n}",
    "Content-Length\t:\t{n}",
    "Content-Length:   {n}",
    "Content-Length: {n}  ",
    "l: {n}",
    "L: {n}",
    "l:{n}",
    "l :  {n}",
    "l\t: {n}",
]


@pytest.mark.parametrize("position", ["first", "middle", "last"])
@pytest.mark.parametrize("form", FORMS)
def test_content_length_in_every_form_frames_the_body(form: str, position: str) -> None:
    line = form.format(n=len(BODY))
    others = ["Content-Type: application/sdp", "Subject: hi"]
    headers = {
        "first": [line, *others],
        "middle": [others[0], line, others[1]],
        "last": [*others, line],
    }[position]
    first = request(headers, BODY)
    assert framed(frame_all([first + NEXT])) == [first, NEXT]
    assert framed(frame_all([first, NEXT])) == [first, NEXT]


@pytest.mark.parametrize("form", ["Content-Length: {n}", "l: {n}", "L:{n}", "content-LENGTH : {n}"])
def test_compact_and_long_forms_through_tcp_and_the_reader(form: str) -> None:
    first = request(["Content-Type: application/sdp", form.format(n=len(BODY))], BODY)
    half = len(first) // 2
    messages, problems = read_stream([first[:half], first[half:] + NEXT[:30], NEXT[30:]])
    assert [m.raw for m in messages] == [first, NEXT]
    assert messages[0].body == BODY and messages[0].content_length == len(BODY)
    assert [m.frames for m in messages] == [(2, 3), (3, 4)]
    assert problems.counts == {}


# Only the Content-Length header field itself counts.

DECOYS = {
    "a longer header name ending in Content-Length": ["X-Content-Length: 5", "Content-Length: {n}"],
    "a header name ending in l": ["Xl: 5", "Content-Length: {n}"],
    "Content-Length inside a header value": ["Subject: Content-Length: 5", "l: {n}"],
    "a folded line looking like a compact l": ["Subject: see", " l: 5", "Content-Length: {n}"],
    "a folded line looking like Content-Length": ["Subject: x", "\tContent-Length: 5", "l: {n}"],
}


@pytest.mark.parametrize("headers", DECOYS.values(), ids=DECOYS.keys())
def test_only_the_content_length_header_field_counts(headers: list[str]) -> None:
    """A folded line continues the field before it (RFC 3261 7.3.1): it is not a header."""
    first = request([h.format(n=len(BODY)) for h in headers], BODY)
    assert framed(frame_all([first + NEXT])) == [first, NEXT]


def test_a_message_without_content_length_is_not_given_the_next_ones() -> None:
    """The search ends at the empty line: the next message's Content-Length is not this one's."""
    bare = request([])  # no Content-Length, no body
    assert framed(frame_all([bare + NEXT])) == [bare, NEXT]
    assert framed(frame_all([bare + NEXT[:-10], NEXT[-10:]])) == [bare, NEXT]
    assert framed(frame_all([bare, NEXT])) == [bare, NEXT]


def test_the_search_stops_at_an_empty_line_of_bare_lfs() -> None:
    """A sender ending lines with LF alone: its empty line still ends the header."""
    bare = message(
        "OPTIONS sip:bob@example.com SIP/2.0", ["Call-ID: lf@x", "CSeq: 1 OPTIONS"], eol="\n"
    )
    assert framed(frame_all([bare + NEXT])) == [bare, NEXT]
    with_length = message(
        "MESSAGE sip:bob@example.com SIP/2.0",
        ["Call-ID: lf@x", "CSeq: 2 MESSAGE", "l: 5"],
        b"hello",
        eol="\n",
    )
    assert framed(frame_all([with_length + NEXT])) == [with_length, NEXT]


def test_the_header_ends_at_the_first_empty_line_of_bare_lfs_not_one_in_the_body() -> None:
    body = b"a\n\nb"
    first = message("MESSAGE sip:bob@example.com SIP/2.0", [f"l: {len(body)}"], body, eol="\n")
    assert framed(frame_all([first + NEXT])) == [first, NEXT]


def test_a_bare_lf_message_is_taken_as_soon_as_its_empty_line_arrives() -> None:
    """Its empty line is the last two bytes fed: nothing more is needed."""
    bare = message("OPTIONS sip:bob@example.com SIP/2.0", ["Call-ID: lf@x"], eol="\n")
    assert StreamFramer().feed([(bare, 1)]) == [Framed(bare, (1,))]


def test_a_body_with_content_length_in_it_is_only_a_body() -> None:
    first = request([f"Content-Length: {len(BODY)}"], BODY)
    bare = request([], method="OPTIONS")
    assert framed(frame_all([first + bare + NEXT])) == [first, bare, NEXT]


def test_missing_content_length_on_a_stream_is_reported_and_loses_nothing_after() -> None:
    """RFC 3261 18.3: on a stream Content-Length MUST be used. Without it the message is
    taken to end at its empty line; the body it may have had is skipped and said; the next
    message is read whole."""
    body = b"hello"  # a text body without a final CRLF, straight before the next start line
    orphan = request(["Content-Type: text/plain"], body)
    head = orphan[: -len(body)]
    messages, problems = read_stream([orphan + NEXT])
    assert [m.raw for m in messages] == [head, NEXT]
    assert messages[1].body == packets.SDP.encode()
    assert problems.counts.get("sip_stream_skipped") == 1
    skipped = problems.examples["sip_stream_skipped"][0]
    assert skipped.detail.startswith(f"{len(body)} bytes ")
    [missing] = problems.examples["sip_missing_header"]
    assert "Content-Length" in missing.detail and missing.frame == 2


def test_missing_content_length_without_a_body_is_reported_once() -> None:
    bare = request([])
    messages, problems = read_stream([bare, NEXT])
    assert [m.raw for m in messages] == [bare, NEXT]
    assert problems.counts == {"sip_missing_header": 1}
    assert problems.examples["sip_missing_header"][0].frame == 2


# Keep-alives: CRLFs before a start line are not a message and not junk (RFC 3261 7.5,
# RFC 5626 4.4.1: a double CRLF ping, a single CRLF pong).

INVITE = packets.sip_request(body=packets.SDP)
RINGING = packets.sip_response(180, "Ringing")


@pytest.mark.parametrize(
    "stream",
    [
        b"\r\n\r\n" + INVITE + RINGING,
        INVITE + b"\r\n\r\n" + RINGING,
        INVITE + b"\r\n" + RINGING,
        INVITE + b"\r\n\r\n" * 5 + RINGING + b"\r\n\r\n",
        b"\r\n" + INVITE + b"\r\n\r\n\r\n" + RINGING + b"\r\n",
    ],
    ids=["before the first", "ping between", "pong between", "many", "odd counts"],
)
def test_keepalives_between_messages_are_skipped_silently(stream: bytes) -> None:
    framer = StreamFramer()
    found = framer.feed([(stream, 1)])
    assert framed(found) == [INVITE, RINGING]
    assert framer.end() is None
    byte_by_byte = StreamFramer()
    found = [f for i in range(len(stream)) for f in byte_by_byte.feed([(stream[i : i + 1], i)])]
    assert framed(found) == [INVITE, RINGING] and byte_by_byte.end() is None


def test_keepalive_segments_on_a_tcp_stream() -> None:
    messages, problems = read_stream([b"\r\n\r\n", INVITE, b"\r\n\r\n", b"\r\n", RINGING, b"\r\n"])
    assert [(m.raw, m.frame) for m in messages] == [(INVITE, 3), (RINGING, 6)]
    assert problems.counts == {}


# A message split anywhere.

SPLIT_STREAM = INVITE + b"\r\n\r\n" + request(["l: 5"], b"hello") + RINGING
SPLIT_MESSAGES = [INVITE, request(["l: 5"], b"hello"), RINGING]


def _spans() -> list[tuple[int, int]]:
    spans, start = [], 0
    for data in SPLIT_MESSAGES:
        start = SPLIT_STREAM.index(data, start)
        spans.append((start, start + len(data)))
        start += len(data)
    return spans


def test_split_at_every_byte_boundary() -> None:
    spans = _spans()
    for cut in range(1, len(SPLIT_STREAM)):
        found = frame_all([SPLIT_STREAM[:cut], SPLIT_STREAM[cut:]])
        assert framed(found) == SPLIT_MESSAGES, cut
        expected_frames = [
            tuple(f for f, inside in ((1, start < cut), (2, end > cut)) if inside)
            for start, end in spans
        ]
        assert [f.frames for f in found if isinstance(f, Framed)] == expected_frames, cut


def test_split_at_every_byte_boundary_through_tcp() -> None:
    first = request(["Content-Type: text/plain", "l: 5"], b"hello")
    for cut in range(1, len(first)):
        messages, problems = read_stream([first[:cut], first[cut:] + RINGING])
        assert [(m.raw, m.frames) for m in messages] == [(first, (2, 3)), (RINGING, (3,))], cut
        assert problems.counts == {}, cut


def test_a_message_ending_where_its_segment_ends_is_carried_by_that_segment_alone() -> None:
    """Segments fed together: the next segment holds none of the first message's bytes."""
    found = StreamFramer().feed([(INVITE, 1), (RINGING, 2)])
    assert found == [Framed(INVITE, (1,)), Framed(RINGING, (2,))]


# Property: any header order, any Content-Length spelling, any body, any split.

OTHER_HEADERS = [
    "Via: SIP/2.0/TCP pc33.example.com;branch=z9hG4bK776asdhds",
    "v: SIP/2.0/TCP pc33.example.com;branch=z9hG4bK776asdhds",
    "From: Alice <sip:alice@example.com>;tag=1928301774",
    "f: <sip:alice@example.com>;tag=1928301774",
    "To: <sip:bob@example.com>",
    "Max-Forwards: 70",
    "Content-Type: application/octet-stream",
    "X-Content-Length: 77",
    "Subject: Content-Length: 77",
    "Subject: folded\r\n l: 77",
    "Contact: <sip:alice@pc33.example.com;transport=tcp>",
]


BODY_POOL = BODY + b"\r\nl: 9\r\n\r\n" + bytes(range(256)) + BODY
"""Bodies are slices of this: empty lines, start lines, Content-Length, every byte value."""
LENGTH_NAMES = ["Content-Length", "content-length", "CONTENT-LENGTH", "cONTENT-lENGTH", "l", "L"]


@st.composite
def sip_messages(draw: st.DrawFn) -> bytes:
    start = draw(st.integers(0, len(BODY_POOL)))
    body = BODY_POOL[start : start + draw(st.integers(0, 120))]
    name = draw(st.sampled_from(LENGTH_NAMES))
    space = st.sampled_from(["", " ", "\t", "  "])
    length = f"{name}{draw(space)}:{draw(space)}{len(body)}"
    headers = [
        "Call-ID: f81d4fae@example.com",
        *draw(st.lists(st.sampled_from(OTHER_HEADERS), max_size=5)),
    ]
    headers.insert(draw(st.integers(0, len(headers))), length)
    if draw(st.booleans()):
        method = draw(st.sampled_from(["INVITE", "MESSAGE", "INFO", "NOTIFY"]))
        headers.append(f"CSeq: 1 {method}")
        first = f"{method} sip:bob@example.com SIP/2.0"
    else:
        headers.append("CSeq: 1 INVITE")
        first = draw(st.sampled_from(["SIP/2.0 200 OK", "SIP/2.0 486 Busy Here"]))
    return message(first, headers, body)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([b"", b"\r\n", b"\r\n\r\n"]), sip_messages()),
        min_size=1,
        max_size=3,
    ),
    st.data(),
)
def test_any_header_order_and_form_any_split(
    items: list[tuple[bytes, bytes]], data: st.DataObject
) -> None:
    stream = b"".join(keepalive + msg for keepalive, msg in items)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=10)))
    bounds = [0, *cuts, len(stream)]
    found = frame_all([stream[a:b] for a, b in pairwise(bounds)])
    assert framed(found) == [msg for _, msg in items]


# Limits: a header that never ends and a body too large to hold are not waited for.

def _skipped(found: list[Framed | Skipped]) -> list[tuple[int, str]]:
    return [(f.size, f.reason) for f in found if isinstance(f, Skipped)]


@pytest.mark.parametrize("extra", [0, 1])
def test_a_header_without_its_empty_line_is_waited_for_up_to_the_limit(extra: int) -> None:
    """The second message's header has run to MAX_HEADER bytes with no empty line yet: it may
    still end, and does. One byte more and it is given up: skipped, and the message after it
    is read."""
    first = request(["Content-Length: 0"])
    start = b"OPTIONS sip:bob@example.com SIP/2.0\r\nX: "
    endless = start + b"x" * (MAX_HEADER - len(start) + extra)
    found = frame_all([first + endless, b"\r\n\r\n" + NEXT])
    if extra:
        assert [f.data for f in found if isinstance(f, Framed)] == [first, NEXT]
        assert sum(size for size, _ in _skipped(found)) == len(endless) + 4
    else:
        assert framed(found) == [first, endless + b"\r\n\r\n", NEXT]


def test_the_header_limit_counts_from_the_start_of_the_message_it_bounds() -> None:
    """A long message before it in the same piece does not make a header too long."""
    long = request([f"Content-Length: {MAX_HEADER - 4096}"], b"b" * (MAX_HEADER - 4096))
    second = request(["Subject: " + "s" * 2000, "Content-Length: 0"])
    found = frame_all([long + second[:1500], second[1500:]])
    assert framed(found) == [long, second]


@pytest.mark.parametrize(("length", "waits"), [(MAX_BODY, True), (MAX_BODY + 1, False)])
def test_a_body_larger_than_the_limit_is_not_waited_for(length: int, waits: bool) -> None:
    first = request(["Content-Length: 0"])
    huge = request([f"Content-Length: {length}"])
    found = frame_all([first + huge + NEXT])
    if waits:
        assert framed(found) == [first]
    else:
        assert [f.data for f in found if isinstance(f, Framed)] == [first, NEXT]
        assert _skipped(found) == [(len(huge), f"a message whose Content-Length {length} is over "
                                    "16 MB (the most sipdiag reads of a body): skipped")]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([], "the body of a message without Content-Length (RFC 3261 18.3)"),
        (["Content-Length: 0"], "bytes between messages that are not SIP"),
    ],
)
def test_bytes_after_a_message_are_named_by_whether_it_had_content_length(
    headers: list[str], reason: str
) -> None:
    message_ = request(headers)
    found = frame_all([message_ + b"hello\r\n" + NEXT])
    assert [f.data for f in found if isinstance(f, Framed)] == [message_, NEXT]
    assert _skipped(found) == [(7, reason)]
