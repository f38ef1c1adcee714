"""RTCP compound packets (RFC 3550 6.4, 6.5; RFC 3611 4.7) read into reports, and what is
not RTCP refused with a reason."""

from __future__ import annotations

import struct

import pytest

from sipdiag.media.rtcp import (
    ReportBlock,
    RtcpError,
    SenderReport,
    VoipMetrics,
    parse_compound,
)
from tests.media.rtp import receiver_report, report_block, sdes, sender_report


def voip_metrics(source: int, loss: int, round_trip: int, r_factor: int, mos_lq: int,
                 mos_cq: int) -> bytes:
    block = struct.pack(">BBH", 7, 0, 8) + struct.pack(
        ">IBBBBHHHHbbBBBBBBBBHHH", source, loss, 3, 0, 0, 0, 0, round_trip, 40, -30, -70,
        127, 16, r_factor, 127, mos_lq, mos_cq, 0, 0, 60, 120, 200)
    body = struct.pack(">I", 0xB0B) + block
    return struct.pack(">BBH", 0x80, 207, (len(body) + 4) // 4 - 1) + body


def test_a_sender_report_with_a_block_and_sdes() -> None:
    ntp = (0xE8FE6F83 << 32) | 0x0B089A02
    block = report_block(0xB0B, 26, -3, 0x1_0010, 160, 0x6F830B08, 0x8000)
    items = parse_compound(sender_report(0xA11CE, ntp, 1234, 50, 8000, [block])
                           + sdes(0xA11CE, b"alice@192.0.2.10"))
    assert items == [
        SenderReport(0xA11CE, 0x6F830B08, 1234, 50, 8000),  # middle 32 bits of the NTP time
        ReportBlock(0xA11CE, 0xB0B, 26, -3, 0x1_0010, 160, 0x6F830B08, 0x8000),
    ]


def test_receiver_reports_and_xr_voip_metrics() -> None:
    data = receiver_report(0xB0B, [report_block(0xA11CE, 25, 8, 200, 80, 0, 0)])
    data += voip_metrics(0xA11CE, 12, 30, 80, 40, 39)
    block, metrics = parse_compound(data)
    assert isinstance(block, ReportBlock) and (block.reporter, block.cumulative_lost) == (0xB0B, 8)
    assert metrics == VoipMetrics(0xB0B, 0xA11CE, 12, 3, 30, 40, 80, 4.0, 3.9)


def test_unavailable_xr_figures_are_none() -> None:
    [metrics] = parse_compound(receiver_report(1, []) + voip_metrics(2, 0, 0, 127, 127, 127))[
        -1:]
    assert isinstance(metrics, VoipMetrics)
    assert (metrics.r_factor, metrics.mos_lq, metrics.mos_cq) == (None, None, None)


@pytest.mark.parametrize(("data", "why"), [
    (b"\x80\xc9\x00", "shorter than an RTCP header"),
    (b"\xc0\xc9\x00\x01" + b"\0" * 4, "RTCP version 3"),
    (b"\x80\xca\x00\x01" + b"\0" * 4, "starts with type 202"),
    (b"\x80\xc9\x00\x05" + b"\0" * 4, "runs 16 bytes past the datagram"),
    (b"\x81\xc9\x00\x01" + b"\0" * 4, "RR of 8 bytes for 1 report blocks"),
])
def test_what_is_not_rtcp_is_refused_with_a_reason(data: bytes, why: str) -> None:
    with pytest.raises(RtcpError, match=why):
        parse_compound(data)


def test_srtcp_reads_only_the_first_header() -> None:
    """RFC 3711 3.4: after the first report's sender SSRC everything is encrypted; an index
    and a tag follow the packet."""
    packet = sender_report(0xA11CE, 0, 0, 0, 0, [report_block(1, 2, 3, 4, 5, 6, 7)])
    garbage = bytes(range(len(packet) - 8)) + b"\x80\x00\x00\x01" + b"T" * 10
    assert parse_compound(packet[:8] + garbage, encrypted=True) == []


def test_a_few_stray_bytes_after_the_last_packet_are_tolerated() -> None:
    assert len(parse_compound(receiver_report(1, []) + b"\0\0")) == 0
