"""RTCP (RFC 3550 section 6) and RTCP XR VoIP metrics (RFC 3611 section 4.7), sans-I/O.

A compound RTCP datagram is read into ``RtcpItem``s: sender reports (``SenderReport``), the
report blocks of SRs and RRs (``ReportBlock``: what the reporter received from one source),
and XR VoIP metrics blocks (``VoipMetrics``). SDES, BYE, APP and feedback packets are
recognised and counted, not kept. What does not add up (a length that runs past the datagram)
raises ``RtcpError``; the caller counts it as a malformed packet.

SRTCP (RFC 3711 section 3.4) encrypts everything after the first report's sender SSRC: for an
encrypted session only that first header is read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR = 200, 201, 202, 203, 204, 205, 206, 207
KNOWN_TYPES = frozenset({SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR})
VOIP_METRICS_BLOCK = 7
_SR = struct.Struct(">IIIIII")
"""Sender SSRC, NTP seconds, NTP fraction, RTP timestamp, packet count, octet count."""
_BLOCK = struct.Struct(">IB3sIIII")
"""Source SSRC, fraction lost, cumulative lost (24 bits), highest sequence, jitter, LSR, DLSR."""
_VOIP = struct.Struct(">IBBBBHHHHbbBBBBBBBBHHH")
"""Source SSRC; loss, discard, burst and gap density; burst and gap duration; round trip and
end system delay; signal, noise, RERL, Gmin; R, external R, MOS-LQ, MOS-CQ; RX config,
reserved; jitter buffer nominal, maximum, absolute maximum (RFC 3611 section 4.7)."""


class RtcpError(ValueError):
    """The datagram is not a well-formed RTCP compound packet."""


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_middle: int
    """The middle 32 bits of the NTP timestamp: what a receiver echoes as LSR."""
    rtp_timestamp: int
    packets: int
    octets: int


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """What ``reporter`` says it received from ``source`` (RFC 3550 section 6.4.1)."""

    reporter: int
    source: int
    fraction_lost: int
    """Lost since the previous report, in 1/256."""
    cumulative_lost: int
    """Signed: duplicates can make it negative."""
    highest_sequence: int
    jitter: int
    """Interarrival jitter in RTP timestamp units."""
    lsr: int
    dlsr: int
    """Delay since the last SR, in 1/65536 s."""


@dataclass(frozen=True, slots=True)
class VoipMetrics:
    """An RTCP XR VoIP metrics block (RFC 3611 section 4.7): the receiver's own verdict."""

    reporter: int
    source: int
    loss_rate: int
    """Fraction of packets lost, in 1/256."""
    discard_rate: int
    round_trip_ms: int
    end_system_ms: int
    r_factor: int | None
    """0-100, None when the reporter did not compute it (127)."""
    mos_lq: float | None
    mos_cq: float | None


RtcpItem = SenderReport | ReportBlock | VoipMetrics


def parse_compound(data: bytes, encrypted: bool = False) -> list[RtcpItem]:
    """The reports of an RTCP datagram; ``encrypted``: SRTCP, only the first header is read."""
    items: list[RtcpItem] = []
    offset, end = 0, len(data)
    if end < 8:
        raise RtcpError(f"{end} bytes: shorter than an RTCP header")
    while end - offset >= 4:  # fewer left: stray padding some stacks add; nothing to read
        first, packet_type, words = data[offset], data[offset + 1], data[offset + 2 : offset + 4]
        length = (int.from_bytes(words, "big") + 1) * 4
        if first >> 6 != 2:
            raise RtcpError(f"RTCP version {first >> 6}")
        if offset == 0 and packet_type not in (SR, RR):
            raise RtcpError(f"a compound packet starts with type {packet_type}, not SR or RR")
        if offset + length > end:
            if encrypted:
                return items  # the SRTCP trailer (index, tag) is not part of a packet
            raise RtcpError(f"packet of type {packet_type} runs {offset + length - end} bytes "
                            "past the datagram")
        if encrypted:
            return items  # everything after the first header is ciphertext
        _read_packet(data, offset, length, first & 0x1F, packet_type, items)
        offset += length
    return items


def _read_packet(data: bytes, offset: int, length: int, count: int, packet_type: int,
                 items: list[RtcpItem]) -> None:
    if packet_type == SR:
        if length < 28 + 24 * count:
            raise RtcpError(f"SR of {length} bytes for {count} report blocks")
        ssrc, seconds, fraction, rtp_ts, packets, octets = _SR.unpack_from(data, offset + 4)
        middle = ((seconds & 0xFFFF) << 16) | (fraction >> 16)
        items.append(SenderReport(ssrc, middle, rtp_ts, packets, octets))
        _blocks(data, offset + 28, count, ssrc, items)
    elif packet_type == RR:
        if length < 8 + 24 * count:
            raise RtcpError(f"RR of {length} bytes for {count} report blocks")
        reporter = int.from_bytes(data[offset + 4 : offset + 8], "big")
        _blocks(data, offset + 8, count, reporter, items)
    elif packet_type == XR and length >= 8:
        reporter = int.from_bytes(data[offset + 4 : offset + 8], "big")
        _xr_blocks(data, offset + 8, offset + length, reporter, items)


def _blocks(data: bytes, at: int, count: int, reporter: int, items: list[RtcpItem]) -> None:
    for index in range(count):
        source, fraction, lost, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(
            data, at + 24 * index)
        cumulative = int.from_bytes(lost, "big", signed=True)
        items.append(ReportBlock(reporter, source, fraction, cumulative, highest, jitter, lsr,
                                 dlsr))


def _xr_blocks(data: bytes, at: int, end: int, reporter: int, items: list[RtcpItem]) -> None:
    while at + 4 <= end:
        block_type = data[at]
        length = (int.from_bytes(data[at + 2 : at + 4], "big") + 1) * 4
        if at + length > end:
            raise RtcpError(f"XR block of type {block_type} runs past its packet")
        if block_type == VOIP_METRICS_BLOCK and length >= 36:
            items.append(_voip_metrics(data, at + 4, reporter))
        at += length


def _voip_metrics(data: bytes, at: int, reporter: int) -> VoipMetrics:
    fields = _VOIP.unpack_from(data, at)
    source, loss, discard = fields[0], fields[1], fields[2]
    round_trip, end_system = fields[7], fields[8]
    r_factor, mos_lq, mos_cq = fields[13], fields[15], fields[16]
    return VoipMetrics(
        reporter, source, loss, discard, round_trip, end_system,
        None if r_factor == 127 else r_factor,
        None if mos_lq == 127 else mos_lq / 10,
        None if mos_cq == 127 else mos_cq / 10,
    )
