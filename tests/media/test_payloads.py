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



def test_a_packet_of_another_stream_on_the_flow_is_not_taken() -> None:
    """Same source and destination, but an SSRC not asked for: not kept, not taken."""
    collector = PayloadCollector([(A, B, SSRC)])
    assert not collector.datagram(1, 0, A, B, rtp(7, 1120, SSRC + 1))
    assert collector.packets == {(A, B, SSRC): []}


def test_a_packet_shorter_than_its_csrc_list_is_not_taken() -> None:
    """CC = 15 announces 60 bytes of CSRCs after the 12 fixed ones (RFC 3550 5.1): a
    20-byte packet cannot be RTP."""
    packet = bytearray(rtp(7, 1120, SSRC, payload=b"\0" * 8))
    packet[0] |= 0x0F
    collector = PayloadCollector([(A, B, SSRC)])
    assert not collector.datagram(1, 0, A, B, bytes(packet))
    assert collector.packets == {(A, B, SSRC): []}
