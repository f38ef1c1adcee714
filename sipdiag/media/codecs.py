"""Codecs as the media layer needs them: clock rates, and what G.711 samples sound like.

A payload type means a codec through the SDP that announced the stream (``a=rtpmap``) or, for
the static types, RFC 3551's tables. The clock rate turns RTP timestamps into time (jitter);
the codec names the E-model's impairment figures (``quality``). G.711 payloads can be looked
at without a decoder: each byte is one sample, and a table gives its loudness (for silence) or
its 16-bit value (for a WAV file).
"""

from __future__ import annotations

from typing import NamedTuple

from sipdiag.sip.sdp import STATIC_PAYLOAD_TYPES

TELEPHONE_EVENT = "telephone-event"
COMFORT_NOISE = "CN"
CN_STATIC_TYPES = frozenset({13, 19})
"""RFC 3389's static type 13 (and 19, which early drafts reserved for it)."""
PCMU, PCMA = "PCMU", "PCMA"


class Codec(NamedTuple):
    name: str
    """The encoding name as the SDP writes it (``PCMU``, ``opus``), or ``""`` if unknown."""
    clock_rate: int
    """RTP timestamp units per second; 0 when unknown."""

    @property
    def key(self) -> str:
        """Upper-case name, for comparisons (``opus`` and ``OPUS`` are one codec)."""
        return self.name.upper()

    def __str__(self) -> str:
        return f"{self.name}/{self.clock_rate}" if self.name else ""


UNKNOWN = Codec("", 0)


def codec_of(rtpmap: str) -> Codec:
    """``PCMU/8000`` or ``opus/48000/2`` (an rtpmap value or a static table entry)."""
    name, _, rest = rtpmap.partition("/")
    rate = rest.partition("/")[0]
    return Codec(name.strip(), int(rate) if rate.isdigit() else 0)


def static_codec(payload_type: int) -> Codec:
    entry = STATIC_PAYLOAD_TYPES.get(payload_type)
    return codec_of(entry) if entry else UNKNOWN


def codec_map(codecs: dict[str, str]) -> dict[int, Codec]:
    """An SDP media section's payload types (as ``Media.codecs`` gives them) as codecs."""
    found = {}
    for payload_type, rtpmap in codecs.items():
        if payload_type.isdigit() and int(payload_type) < 128:
            found[int(payload_type)] = codec_of(rtpmap) if rtpmap else static_codec(
                int(payload_type))
    return found


# -- G.711 (ITU-T G.711): one byte per sample ----------------------------------------------

def _ulaw_linear(byte: int) -> int:
    """μ-law: the byte is inverted; sign, a 3-bit segment and a 4-bit step; bias 0x84."""
    value = ~byte & 0xFF
    magnitude = (((value & 0x0F) << 3) + 0x84) << ((value >> 4) & 0x07)
    return 0x84 - magnitude if value & 0x80 else magnitude - 0x84


def _alaw_linear(byte: int) -> int:
    """A-law: even bits inverted (XOR 0x55); sign, a 3-bit segment and a 4-bit step."""
    value = byte ^ 0x55
    segment = (value >> 4) & 0x07
    step = (value & 0x0F) << 4
    magnitude = step + 8 if segment == 0 else (step + 0x108) << (segment - 1)
    return magnitude if value & 0x80 else -magnitude


ULAW_LINEAR = tuple(_ulaw_linear(b) for b in range(256))
"""μ-law byte -> 16-bit linear sample (±32124)."""
ALAW_LINEAR = tuple(_alaw_linear(b) for b in range(256))
"""A-law byte -> 16-bit linear sample (±32256)."""

SILENT_PEAK = 32
"""A packet whose every sample is within ±32 of zero (about -60 dBov) carries no sound: the
digital silence of a muted or idle source (μ-law 0xFF/0x7F, A-law 0xD5/0x55) and the lowest
steps around it. Room noise from a live microphone is louder than this."""


def _silent_codes(linear: tuple[int, ...]) -> bytes:
    """The byte values of silent samples: a payload from which ``bytes.translate`` deletes
    them all and leaves nothing had no sound (found at C speed)."""
    return bytes(code for code, sample in enumerate(linear) if abs(sample) <= SILENT_PEAK)


SILENT_SAMPLES = {PCMU: _silent_codes(ULAW_LINEAR), PCMA: _silent_codes(ALAW_LINEAR)}
LINEAR = {PCMU: ULAW_LINEAR, PCMA: ALAW_LINEAR}
