"""What StreamFramer skips on a stream, how many bytes, at which frame and why.

Bytes that are not a SIP message are skipped up to the next start line (RFC 3261 7.1: a
Request-Line or a Status-Line), whatever method it names: an extension method is any token
(RFC 3261 25.1, extension-method = token). The expected sizes below are counted on the bytes
each test builds.
"""

from __future__ import annotations

from sipdiag.sip.framing import MAX_BODY, MAX_HEADER, Framed, Skipped, StreamFramer
from tests import packets
from tests.sip.test_stream_framing import NEXT, request

AT_START = "the stream was captured in the middle of a message"
HEADER_OVER_LIMIT = ("a message whose header runs past 64 kB (the most sipdiag reads of a "
                     "header): skipped")
BODY_OVER_LIMIT = ("a message whose Content-Length 16777217 is over 16 MB (the most sipdiag "
                   "reads of a body): skipped")
"""What a message over the limits is skipped for (MAX_HEADER 64 kB, MAX_BODY 16 MB, 2**24)."""
BETWEEN = "bytes between messages that are not SIP"
ENDED = "the stream ended inside a message"
INVITE = packets.sip_request()
JUNK = b"tail of an earlier body\r\n"
"""Not a start line, and no start line inside."""


def feed_once(*chunks: bytes) -> list[Framed | Skipped]:
    """What one ``feed`` call gives for ``chunks``, chunk k in frame k (from 1)."""
    return StreamFramer().feed([(data, frame) for frame, data in enumerate(chunks, start=1)])


def test_a_single_byte_before_a_start_line_is_skipped() -> None:
    """A NUL is no token character: the start line begins one byte later."""
    assert feed_once(b"\x00" + INVITE) == [Skipped(1, 1, AT_START), Framed(INVITE, (1,))]


def test_junk_before_an_extension_method_is_skipped_up_to_its_start_line() -> None:
    """Only the junk goes: neither the request of an unknown method nor the response after it
    (a start line further on, of a method the framer knows by name) is taken for junk."""
    extension = request(["Content-Length: 0"], method="FOO")
    assert feed_once(JUNK + extension + NEXT) == [
        Skipped(len(JUNK), 1, AT_START),
        Framed(extension, (1,)),
        Framed(NEXT, (1,)),
    ]


def test_junk_after_messages_read_in_the_same_piece_is_skipped_alone() -> None:
    """The start lines of messages already taken from the buffer are not the next one."""
    first, second = request(["Content-Length: 0"]), request(["Content-Length: 0"], method="INFO")
    assert feed_once(first + second + JUNK + NEXT) == [
        Framed(first, (1,)),
        Framed(second, (1,)),
        Skipped(len(JUNK), 1, BETWEEN),
        Framed(NEXT, (1,)),
    ]


def test_a_start_line_glued_after_the_first_byte_of_an_endless_header_is_found() -> None:
    """"xINVITE ..." looks like a request of method xINVITE whose header runs past MAX_HEADER;
    given up, it is skipped up to the next start line, the INVITE one byte later, whose header
    is MAX_HEADER bytes long and ends in the next piece."""
    start = b"x" + INVITE.split(b"\r\n")[0] + b"\r\nSubject: "
    endless = start + b"s" * (MAX_HEADER + 1 - len(start))
    framer = StreamFramer()
    assert framer.feed([(endless, 1)]) == [Skipped(1, 1, HEADER_OVER_LIMIT)]
    assert framer.feed([(b"\r\n\r\n" + NEXT, 2)]) == [
        Framed(endless[1:] + b"\r\n\r\n", (1, 2)),
        Framed(NEXT, (2,)),
    ]


def test_a_body_too_large_is_skipped_up_to_the_start_line_one_byte_later() -> None:
    huge = b"x" + request([f"Content-Length: {MAX_BODY + 1}"])
    assert feed_once(huge + NEXT) == [
        Skipped(1, 1, BODY_OVER_LIMIT),
        Skipped(len(huge) - 1, 1, BODY_OVER_LIMIT),
        Framed(NEXT, (1,)),
    ]


def test_junk_with_no_start_line_in_sight_keeps_a_tail_for_one_arriving() -> None:
    """All but the last 512 bytes go at once; the tail goes once a start line shows, here
    glued to it."""
    junk = b"\x00" * 2000  # no token character: no start line can begin in it
    framer = StreamFramer()
    assert framer.feed([(junk, 1)]) == [Skipped(2000 - 512, 1, AT_START)]
    assert framer.feed([(INVITE, 2)]) == [Skipped(512, 1, AT_START), Framed(INVITE, (2,))]


def test_junk_after_a_hole_is_named_as_at_the_start() -> None:
    """After a hole the stream resumes at an unknown place, as when the capture started: the
    message read before it does not name what follows."""
    framer = StreamFramer()
    assert framer.feed([(request([]) + b"\x00", 1)]) == [Framed(request([]), (1,))]
    assert framer.gap(2) == Skipped(1, 2, "the message was cut by a hole in the capture")
    assert framer.feed([(JUNK + NEXT, 3)]) == [Skipped(len(JUNK), 3, AT_START), Framed(NEXT, (3,))]


def test_an_unfinished_message_at_the_end_is_named() -> None:
    framer = StreamFramer()
    assert framer.feed([(INVITE[:-1], 4)]) == []
    assert framer.end() == Skipped(len(INVITE) - 1, 4, ENDED)


def test_a_new_framer_holds_nothing() -> None:
    framer = StreamFramer()
    assert framer.buffered == 0
    assert (framer.end(), framer.gap(1)) == (None, None)
