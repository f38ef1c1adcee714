"""Stream framing by Content-Length: the same messages whatever way the stream is split."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.sip.framing import Framed, Skipped, StreamFramer
from tests import packets

STREAM = (
    packets.sip_request(body=packets.SDP)
    + b"\r\n\r\n"  # a keep-alive between messages (RFC 5626)
    + packets.sip_response(180, "Ringing")
    + packets.sip_response(body=packets.SDP)
    + packets.sip_request("ACK", cseq=1)
)
MESSAGES = [
    packets.sip_request(body=packets.SDP),
    packets.sip_response(180, "Ringing"),
    packets.sip_response(body=packets.SDP),
    packets.sip_request("ACK", cseq=1),
]


def frame_all(pieces: list[bytes]) -> list[Framed | Skipped]:
    framer = StreamFramer()
    found: list[Framed | Skipped] = []
    for frame, piece in enumerate(pieces, start=1):
        found.extend(framer.feed([(piece, frame)]))
    return found


def test_whole_stream_at_once() -> None:
    assert [f.data for f in frame_all([STREAM]) if isinstance(f, Framed)] == MESSAGES


def test_one_byte_at_a_time() -> None:
    found = frame_all([STREAM[i : i + 1] for i in range(len(STREAM))])
    assert [f.data for f in found if isinstance(f, Framed)] == MESSAGES
    assert not any(isinstance(f, Skipped) for f in found)


@settings(max_examples=300, deadline=None)
@given(st.sets(st.integers(1, len(STREAM) - 1), max_size=30))
def test_any_split_gives_the_same_messages(cuts: set[int]) -> None:
    """Invariant: framing does not depend on where the stream was cut into segments."""
    bounds = [0, *sorted(cuts), len(STREAM)]
    found = frame_all([STREAM[a:b] for a, b in pairwise(bounds)])
    assert [f.data for f in found if isinstance(f, Framed)] == MESSAGES


def test_frames_of_each_message() -> None:
    invite = MESSAGES[0]
    found = frame_all([invite[:100], invite[100:] + MESSAGES[1][:10], MESSAGES[1][10:]])
    assert [(f.frames) for f in found if isinstance(f, Framed)] == [(1, 2), (2, 3)]


def test_junk_before_the_first_message_is_skipped_and_said() -> None:
    found = frame_all([b"y: 70\r\nContent-Length: 0\r\n\r\n" + MESSAGES[1]])
    assert isinstance(found[0], Skipped) and found[0].size == 28
    assert "middle of a message" in found[0].reason
    assert isinstance(found[1], Framed) and found[1].data == MESSAGES[1]


def test_missing_content_length_means_no_body() -> None:
    message = b"OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
    found = frame_all([message + MESSAGES[1]])
    assert [f.data for f in found if isinstance(f, Framed)] == [message, MESSAGES[1]]


def test_an_unfinished_message_at_the_end_is_said() -> None:
    framer = StreamFramer()
    assert framer.feed([(MESSAGES[0][:-5], 1)]) == []
    skipped = framer.end()
    assert skipped is not None and skipped.size == len(MESSAGES[0]) - 5 and skipped.frame == 1
