"""Keeping the payloads of chosen RTP streams (for ``sipdiag audio``), as a ``UdpSink``.

The analysis keeps only figures of every stream; to hear one, its packets are read again and
kept whole: the ones of the (source, destination, SSRC) asked for, nothing else.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from sipdiag.media.audio import RtpPayload
from sipdiag.media.shape import rtp_header_length
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage

StreamKey = tuple[Endpoint, Endpoint, int]
_RTP = struct.Struct(">BBHII")


class PayloadCollector:
    """The RTP packets of the streams asked for, in the order they arrived."""

    def __init__(self, wanted: Iterable[StreamKey]) -> None:
        self.packets: dict[StreamKey, list[RtpPayload]] = {key: [] for key in wanted}
        self._flows = {(src, dst) for src, dst, _ in self.packets}

    def observe(self, message: SipMessage) -> None:
        """SIP is not needed here."""

    def unreachable(self, frame: int, ts_ns: int, reporter: str, src: Endpoint, dst: Endpoint,
                    reason: str) -> None:
        """Nor ICMP."""

    def datagram(self, frame: int, ts_ns: int, src: Endpoint, dst: Endpoint,
                 payload: bytes) -> bool:
        if (src, dst) not in self._flows or len(payload) < 12:
            return False
        first, second, _, timestamp, ssrc = _RTP.unpack_from(payload)
        kept = self.packets.get((src, dst, ssrc))
        header = rtp_header_length(payload)
        if kept is None or not header:
            return False
        end = len(payload) - (payload[-1] if first & 0x20 else 0)  # RFC 3550 5.1 padding
        kept.append(RtpPayload(frame, second & 0x7F, timestamp, payload[header:max(header, end)]))
        return True
