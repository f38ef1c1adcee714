"""What SipReader hands on: its counts of messages and of defective ones, each defect as a
problem at its message's frame, every message to the observer as it is read, and ``drain``'s
cut at the first frame TCP reassembly still holds back."""

from __future__ import annotations

from sipdiag.network import Endpoint
from sipdiag.problems import Problem, ProblemLog
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import SipReader
from tests import packets

PHONE = Endpoint("192.0.2.1", 5060)
PROXY = Endpoint("192.0.2.2", 5060)
GOOD = packets.sip_request()
NO_CALL_ID = GOOD.replace(b"Call-ID: a84b4c76e66710@pc33.example.com\r\n", b"")
"""A request without its mandatory Call-ID (RFC 3261 8.1.1): read, with one defect."""


def read_datagrams(
    payloads: dict[int, bytes], observer: list[SipMessage] | None = None
) -> tuple[SipReader, ProblemLog]:
    """A reader that was given each payload as a UDP datagram of its frame, in that order."""
    problems = ProblemLog()
    sip = SipReader(problems, None if observer is None else observer.append)
    for frame, payload in payloads.items():
        assert sip.datagram("UDP", frame, frame * 10, PHONE, PROXY, payload, (frame,))
    return sip, problems


def test_messages_and_defective_ones_are_counted() -> None:
    sip, _ = read_datagrams({1: NO_CALL_ID, 2: GOOD, 3: NO_CALL_ID})
    assert (sip.message_count, sip.defective_count) == (3, 2)
    assert (SipReader(ProblemLog()).message_count, SipReader(ProblemLog()).defective_count) == (
        0, 0
    )


def test_each_defect_is_a_problem_at_its_message_frame() -> None:
    _, problems = read_datagrams({4: GOOD, 9: NO_CALL_ID})
    assert problems.examples == {
        "sip_missing_header": [Problem("sip_missing_header", 9, "no Call-ID header")]
    }


def test_the_observer_is_shown_each_message_as_it_is_read() -> None:
    """Before any drain: the media layer binds an SDP's addresses from it at once."""
    seen: list[SipMessage] = []
    sip, _ = read_datagrams({1: GOOD, 3: NO_CALL_ID}, seen)
    assert [(m.frame, m.raw) for m in seen] == [(1, GOOD), (3, NO_CALL_ID)]
    assert sip.drain(None) == seen


def test_drain_keeps_the_messages_from_the_pending_frame_on() -> None:
    """Frame 5 may still be overtaken by data TCP holds back from frame 4: only frame 2 is
    final; the rest comes with a later drain."""
    sip, _ = read_datagrams({2: GOOD, 5: GOOD, 7: GOOD})
    assert [m.frame for m in sip.drain(4)] == [2]
    assert [m.frame for m in sip.drain(4)] == []
    assert [m.frame for m in sip.drain(None)] == [5, 7]
