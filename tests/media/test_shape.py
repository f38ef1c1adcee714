"""RTP no SDP announced: recognised by its shape, strictly; UDP that is not media left alone."""

from __future__ import annotations

import random
import struct

import pytest

from sipdiag.media.shape import ACCEPT_AFTER, GIVE_UP_AFTER, Candidate, Shape, is_rtcp_compound
from tests.media.rtp import receiver_report, rtp, sdes


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


@pytest.mark.parametrize(("pt", "media"), [(0, True), (34, True), (35, False), (95, False),
                                           (96, True), (127, True)])
def test_a_run_is_media_only_with_a_payload_type_rfc_3551_gives_media(pt: int,
                                                                      media: bool) -> None:
    """RFC 3551 6: static types 0-34 (34 is H263), dynamic 96-127; 35-95 are unassigned or
    what RTCP's packet types would look like (RFC 5761 4)."""
    shapes = offer_all([rtp(100 + i, 160 * i, pt=pt) for i in range(ACCEPT_AFTER)])
    assert (shapes[-1] is Shape.RTP) is media


def test_a_compound_may_end_with_a_packet_that_is_only_a_header() -> None:
    """A BYE with no SSRC (SC 0, length 0: RFC 3550 6.6) is 4 bytes: it ends the compound."""
    bye = struct.pack(">BBH", 0x80, 203, 0)
    assert is_rtcp_compound(receiver_report(1, []) + bye)


def test_a_flow_is_given_up_after_exactly_give_up_after_packets() -> None:
    candidate = Candidate()
    for n in range(1, GIVE_UP_AFTER):
        candidate.offer(n, n * 20_000_000, dns_query(n))
    assert not candidate.given_up
    candidate.offer(GIVE_UP_AFTER, GIVE_UP_AFTER * 20_000_000, dns_query(0))
    assert candidate.given_up


def test_every_packet_of_a_compound_must_be_version_2() -> None:
    """RFC 3550 6.1: each packet of a compound has V = 2; an SDES of version 1 after the RR
    spoils it, even though the lengths add up."""
    spoiled = bytearray(sdes(1, b"a@b"))
    spoiled[0] = 0x41
    assert is_rtcp_compound(receiver_report(1, []) + sdes(1, b"a@b"))
    assert not is_rtcp_compound(receiver_report(1, []) + bytes(spoiled))


def test_the_clock_is_the_rate_over_the_whole_run() -> None:
    """The first two packets share a timestamp (one frame in two packets, RFC 3550 5.1);
    over the run, 480 units in 80 ms is 6000 a second: a media clock."""
    shapes = offer_all([rtp(100 + i, ts) for i, ts in enumerate((0, 0, 160, 320, 480))])
    assert shapes[-1] is Shape.RTP


def test_a_packet_with_one_byte_of_payload_can_be_rtp() -> None:
    """12 bytes of fixed header (RFC 3550 5.1) and one of payload."""
    shapes = offer_all([rtp(100 + i, 160 * i, payload=b"\xff") for i in range(ACCEPT_AFTER)])
    assert shapes[-1] is Shape.RTP
