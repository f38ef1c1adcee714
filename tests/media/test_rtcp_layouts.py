"""RTCP packet layouts (RFC 3550 6.4 to 6.7; RFC 3611 4.7) and how a compound datagram is
walked: by each packet's length field, a 16-bit count of 32-bit words minus one (6.4.1)."""

from __future__ import annotations

import struct

import pytest

from sipdiag.media.rtcp import ReportBlock, RtcpError, SenderReport, VoipMetrics, parse_compound
from tests.media.rtp import receiver_report, report_block, sdes, sender_report


def packet(packet_type: int, body: bytes, count: int = 0, padding: int = 0) -> bytes:
    """A header (V=2, P, count, type, length) and a body, padded to 32 bits and then by
    ``padding`` bytes whose last one is their count (RFC 3550 6.4.1)."""
    body += b"\0" * (-len(body) % 4)
    if padding:
        body += b"\0" * (padding - 1) + bytes([padding])
    first = 0x80 | (0x20 if padding else 0) | count
    return struct.pack(">BBH", first, packet_type, len(body) // 4) + body


BLOCK = report_block(0x5EED5EED, 0x40, -1, 0x0002_FFFF, 0x12345678, 0x9ABCDEF0, 0xFEDCBA98)
BLOCK_READ = ReportBlock(0xDEADBEEF, 0x5EED5EED, 0x40, -1, 0x0002_FFFF, 0x12345678, 0x9ABCDEF0,
                         0xFEDCBA98)


def test_every_field_of_a_receiver_report_block() -> None:
    """RR: the reporter's SSRC (all 32 bits), then per block source, fraction lost (8 bits),
    cumulative lost (24-bit signed), extended highest sequence, jitter, LSR, DLSR."""
    assert parse_compound(receiver_report(0xDEADBEEF, [BLOCK])) == [BLOCK_READ]


def test_every_field_of_a_sender_report() -> None:
    """SR: sender SSRC, 64-bit NTP time (the middle 32 bits kept, what LSR echoes), RTP
    timestamp, packet and octet counts, then its report blocks."""
    ntp = 0x0123_4567_89AB_CDEF
    data = sender_report(0xDEADBEEF, ntp, 0xCAFEF00D, 0x10203040, 0x50607080, [BLOCK, BLOCK])
    assert parse_compound(data) == [
        SenderReport(0xDEADBEEF, 0x4567_89AB, 0xCAFEF00D, 0x10203040, 0x50607080),
        BLOCK_READ, BLOCK_READ]


def test_padding_at_the_end_of_a_packet_is_skipped_with_it() -> None:
    """The P bit: padding octets count in the length, so the next packet follows them."""
    rr = packet(201, struct.pack(">I", 0xDEADBEEF) + BLOCK, count=1, padding=8)
    assert parse_compound(rr + receiver_report(0xDEADBEEF, [BLOCK])) == [BLOCK_READ] * 2


def test_sdes_bye_and_app_are_walked_over() -> None:
    """Recognised but not kept; the report after them is still read. The APP packet is over
    256 words long: both bytes of the length field count."""
    app = packet(204, struct.pack(">I4s", 0xDEADBEEF, b"TEST") + bytes(1100), count=1)
    assert len(app) > 1024
    bye = packet(203, struct.pack(">I", 0xDEADBEEF) + b"\x04ciao", count=1)
    data = (receiver_report(1, []) + sdes(1, b"bob@198.51.100.20") + app + bye
            + receiver_report(0xDEADBEEF, [BLOCK]))
    assert parse_compound(data) == [BLOCK_READ]


@pytest.mark.parametrize(("data", "why"), [
    (packet(200, bytes(20)), "SR of 24 bytes for 0 report blocks"),
    (packet(200, bytes(24 + 20), count=1), "SR of 48 bytes for 1 report blocks"),
    (packet(201, bytes(4 + 20), count=1), "RR of 28 bytes for 1 report blocks"),
    (receiver_report(1, []) + b"\x80\xc9\x00\x00", "RR of 4 bytes for 0 report blocks"),
    (receiver_report(1, []) + b"\x00\xc9\x00\x00", "RTCP version 0"),
])
def test_a_report_too_short_for_its_blocks_is_refused(data: bytes, why: str) -> None:
    """Four bytes left after a packet are a header and are read as one."""
    with pytest.raises(RtcpError, match=why):
        parse_compound(data)


def test_an_xr_packet_without_blocks_or_with_others() -> None:
    """XR (RFC 3611 2): the reporter's SSRC then blocks of type, reserved, length (16 bits);
    blocks of other types (4, receiver reference time, 3 words; an unknown type of over 256
    words) are passed over."""
    reference_time = struct.pack(">BBHQ", 4, 0, 2, 0x0123456789ABCDEF)
    unknown = struct.pack(">BBH", 99, 0, 275) + b"\xee" * 1100
    metrics = struct.pack(">BBH", 7, 0, 8) + struct.pack(
        ">IBBBBHHHHbbBBBBBBBBHHH", 0x5EED5EED, 5, 6, 0, 0, 0, 0, 70, 80, -30, -70, 127, 16, 93,
        127, 41, 42, 0, 0, 60, 120, 200)
    data = (receiver_report(1, []) + packet(207, struct.pack(">I", 0xDEADBEEF))
            + packet(207, struct.pack(">I", 0xDEADBEEF) + reference_time + unknown + metrics))
    assert parse_compound(data) == [
        VoipMetrics(0xDEADBEEF, 0x5EED5EED, 5, 6, 70, 80, 93, 4.1, 4.2)]


def test_an_xr_block_running_past_its_packet_is_refused() -> None:
    data = receiver_report(1, []) + packet(207, struct.pack(">IBBH", 1, 7, 0, 8))
    with pytest.raises(RtcpError, match="XR block of type 7 runs past its packet"):
        parse_compound(data)
