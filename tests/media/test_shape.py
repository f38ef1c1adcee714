"""RTP no SDP announced: recognised by its shape, strictly; UDP that is not media left alone."""

from __future__ import annotations

import random
import struct

from sipdiag.media.shape import ACCEPT_AFTER, GIVE_UP_AFTER, Candidate, Shape, is_rtcp_compound
from tests.media.rtp import receiver_report, rtp


def offer_all(packets: list[bytes], step_ns: int = 20_000_000) -> list[Shape]:
    candidate = Candidate()
    return [candidate.offer(n, n * step_ns, p) for n, p in enumerate(packets, 1)]


def test_rtp_is_recognised_after_a_run_of_packets() -> None:
    shapes = offer_all([rtp(100 + i, 160 * i) for i in range(ACCEPT_AFTER)])
    assert shapes == [Shape.PENDING] * (ACCEPT_AFTER - 1) + [Shape.RTP]


def test_a_small_loss_does_not_break_the_run() -> None:
    shapes = offer_all([rtp(100 + i, 160 * i) for i in (0, 1, 3, 4, 5)])
    assert shapes[-1] is Shape.RTP


def test_rtcp_is_recognised_by_its_lengths() -> None:
    assert offer_all([receiver_report(1, [])]) == [Shape.RTCP]
    assert not is_rtcp_compound(receiver_report(1, []) + b"\0\0\0\0")


def dns_query(ident: int) -> bytes:
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\0\0\1\0\1"


def test_unrelated_udp_is_never_taken_for_rtp() -> None:
    rng = random.Random(1)
    dns = [dns_query(rng.randrange(65536)) for _ in range(GIVE_UP_AFTER)]
    fake = [b"\x80" + bytes(rng.randrange(256) for _ in range(171)) for _ in range(GIVE_UP_AFTER)]
    ntp = [b"\x23" + bytes(47) for _ in range(GIVE_UP_AFTER)]
    for packets in (dns, fake, ntp):
        candidate = Candidate()
        shapes = [candidate.offer(n, n * 20_000_000, p) for n, p in enumerate(packets, 1)]
        assert Shape.RTP not in shapes and Shape.RTCP not in shapes
        assert candidate.given_up


def test_a_clock_no_media_has_is_refused() -> None:
    """Timestamps that move 10 units in 20 ms (500 per second) are no media clock."""
    shapes = offer_all([rtp(100 + i, 10 * i) for i in range(GIVE_UP_AFTER)])
    assert Shape.RTP not in shapes


def test_payload_types_rtcp_could_have_are_refused() -> None:
    shapes = offer_all([rtp(100 + i, 160 * i, pt=72) for i in range(ACCEPT_AFTER * 2)])
    assert Shape.RTP not in shapes
