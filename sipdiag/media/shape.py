"""Is it RTP? The shape of RTP and RTCP, for UDP that no SDP announced.

A flow no SDP of the capture named (the SDP was not captured, the capture starts mid-call) is
held as a ``Candidate`` until its packets show the shape of RTP, or show that they are not.
The test is strict, because unrelated UDP (DNS, NTP, syslog, games, tunnels) must never be
taken for a call's audio: ``ACCEPT_AFTER`` packets in a row of version 2, with a payload type
RFC 3551 assigns to media (static 0-34 or dynamic 96-127), one SSRC, sequence numbers that
step forward by 1 to 3, timestamps that never go back, and a timestamp rate (units per second
of arrival time) that a media clock can have. RTCP is recognised by its compound structure: the
lengths of its packets (all version 2, types 200-207, the first an SR or RR) add up exactly to
the datagram.
"""

from __future__ import annotations

import struct
from enum import Enum

from sipdiag.media.rtcp import RR, SR

ACCEPT_AFTER = 5
GIVE_UP_AFTER = 64
"""Packets after which a flow that never showed the shape is left alone."""
MIN_CLOCK, MAX_CLOCK = 4_000, 100_000
"""Timestamp units per second of arrival: every audio and video clock lies between."""
_RTP = struct.Struct(">BBHII")


class Shape(Enum):
    """What a packet showed a candidate flow to be."""

    PENDING = "pending"
    """The packet continues a run that looks like RTP: held until the run is long enough."""
    RTP = "rtp"
    RTCP = "rtcp"
    NOT_MEDIA = "not_media"
    """The packet is not media (the flow stays a candidate until ``given_up``)."""


def media_payload_type(payload_type: int) -> bool:
    """A payload type RFC 3551 gives to media: static 0-34, or dynamic 96-127."""
    return payload_type <= 34 or payload_type >= 96


def rtp_or_rtcp(payload: bytes) -> Shape:
    """What a datagram on a media port is by its first bytes: RTP or RTCP (version 2, told
    apart by the second byte, RFC 5761 4), else ``NOT_MEDIA`` (STUN, DTLS, keep-alives)."""
    if len(payload) < 8 or payload[0] >> 6 != 2:
        return Shape.NOT_MEDIA
    if 192 <= payload[1] <= 223:
        return Shape.RTCP
    return Shape.RTP if len(payload) >= 12 else Shape.NOT_MEDIA


def rtp_header_length(payload: bytes) -> int:
    """The fixed header, the CSRCs and any extension (RFC 3550 5.1, 5.3.1); 0 if the
    packet is shorter than what its header announces."""
    first = payload[0]
    length = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(payload) < length + 4:
            return 0
        length += 4 + 4 * int.from_bytes(payload[length + 2 : length + 4], "big")
    return length if length <= len(payload) else 0


def is_rtcp_compound(payload: bytes) -> bool:
    """Version 2 packets of types 200-207, the first an SR or RR, filling the datagram."""
    offset, end = 0, len(payload)
    if end < 8 or payload[1] not in (SR, RR):
        return False
    while offset + 4 <= end:
        if payload[offset] >> 6 != 2 or not 200 <= payload[offset + 1] <= 207:
            return False
        offset += (int.from_bytes(payload[offset + 2 : offset + 4], "big") + 1) * 4
    return offset == end


class Candidate:
    """The first packets of a flow nobody announced, until they say what it carries."""

    __slots__ = ("_seen", "packets")


    def __init__(self) -> None:
        self.packets: list[tuple[int, int, bytes]] = []
        """(frame, ts_ns, payload) of the run of packets that look like one RTP stream."""
        self._seen = 0

    @property
    def given_up(self) -> bool:
        return self._seen >= GIVE_UP_AFTER

    def offer(self, frame: int, ts_ns: int, payload: bytes) -> Shape:
        self._seen += 1
        if is_rtcp_compound(payload):
            self.packets = [(frame, ts_ns, payload)]
            return Shape.RTCP
        if not self._fits(payload):
            self.packets = []
            return Shape.NOT_MEDIA
        self.packets.append((frame, ts_ns, payload))
        if len(self.packets) >= ACCEPT_AFTER and self._clock_plausible():
            return Shape.RTP
        return Shape.PENDING

    def _fits(self, payload: bytes) -> bool:
        """The packet is RTP and continues the run held so far."""
        if len(payload) < 13 or payload[0] >> 6 != 2 or not rtp_header_length(payload):
            return False
        _, second, seq, timestamp, ssrc = _RTP.unpack_from(payload)
        if not media_payload_type(second & 0x7F):
            return False
        if not self.packets:
            return True
        _, _, last = self.packets[-1]
        _, _, last_seq, last_ts, last_ssrc = _RTP.unpack_from(last)
        return bool(
            ssrc == last_ssrc
            and 1 <= (seq - last_seq) & 0xFFFF <= 3
            and (timestamp - last_ts) & 0xFFFFFFFF < 0x10000
        )

    def _clock_plausible(self) -> bool:
        (_, first_ns, first), (_, last_ns, last) = self.packets[0], self.packets[-1]
        units: int = (_RTP.unpack_from(last)[3] - _RTP.unpack_from(first)[3]) & 0xFFFFFFFF
        elapsed = (last_ns - first_ns) / 1e9
        return elapsed > 0 and MIN_CLOCK <= units / elapsed <= MAX_CLOCK
