"""What each side heard: a G.711 stream's packets back into 16-bit samples.

The packets of a stream are laid out by their RTP timestamps (RFC 3550 5.1: the timestamp
counts samples from the sampling clock), so a lost packet leaves silence where its samples
would have been and a late one still lands in its place; a duplicate writes the same samples
twice. Only the stream's own codec is decoded: telephone events and comfort noise leave
silence. G.711 has one sample per byte at 8000 Hz (ITU-T G.711; RFC 3551 4.5.14).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sipdiag.media.codecs import LINEAR

SAMPLE_RATE = 8000
MAX_SECONDS = 4 * 3600
"""A stream longer than this (or a timestamp that jumps this far) is cut there."""


@dataclass(frozen=True, slots=True)
class RtpPayload:
    frame: int
    payload_type: int
    timestamp: int
    data: bytes
    """The payload, after the RTP header (padding removed)."""


def decodable(codec: str) -> bool:
    """Whether ``pcm`` can decode this codec (its name, upper case)."""
    return codec in LINEAR


def pcm(packets: Iterable[RtpPayload], codec: str, payload_type: int) -> bytes:
    """Little-endian 16-bit mono samples at 8000 Hz, from the stream's earliest timestamp on
    (a first packet that came late still leads)."""
    low, high = _tables(codec)
    own = [p for p in packets if p.payload_type == payload_type and p.data]
    if not own:
        return b""
    offsets = [_signed(p.timestamp - own[0].timestamp) for p in own]
    origin = min((o for o in offsets if abs(o) < MAX_SECONDS * SAMPLE_RATE), default=0)
    samples = bytearray()
    for packet, relative in zip(own, offsets, strict=True):
        offset = relative - origin
        if not 0 <= offset < MAX_SECONDS * SAMPLE_RATE:
            continue  # a jump out of the stream
        start, end = 2 * offset, 2 * (offset + len(packet.data))
        if end > len(samples):
            samples.extend(bytes(end - len(samples)))
        samples[start:end:2] = packet.data.translate(low)
        samples[start + 1 : end : 2] = packet.data.translate(high)
    return bytes(samples)


def _signed(difference: int) -> int:
    """A difference of 32-bit RTP timestamps, taken the short way round the wrap."""
    return ((difference + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def _tables(codec: str) -> tuple[bytes, bytes]:
    """Translate tables from a G.711 byte to the low and the high byte of its sample."""
    linear = LINEAR[codec]
    return (bytes(sample & 0xFF for sample in linear),
            bytes((sample >> 8) & 0xFF for sample in linear))
