"""Keeping the payloads of chosen RTP streams (``PayloadCollector``, for ``sipdiag audio``):
the bytes after the header, without the padding RFC 3550 5.1 allows at the end."""

from __future__ import annotations

from sipdiag.media.payloads import PayloadCollector
from tests.media.rtp import TONE, A, B, rtp

SSRC = 0x11223344


def test_padding_is_removed_from_the_payload_kept() -> None:
    """With the P bit set, the last byte counts the padding bytes, itself included."""
    padding = b"\0\0\3"
    packet = bytearray(rtp(7, 1120, SSRC, payload=TONE + padding))
    packet[0] |= 0x20
    collector = PayloadCollector([(A, B, SSRC)])
    assert collector.datagram(1, 0, A, B, bytes(packet))
    [kept] = collector.packets[(A, B, SSRC)]
    assert (kept.payload_type, kept.timestamp, kept.data) == (0, 1120, TONE)

