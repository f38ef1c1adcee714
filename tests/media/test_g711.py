"""G.711 decoding (ITU-T G.711 Tables 1a/2a), the silent codes, and where ``audio.pcm`` puts a
packet by its RTP timestamp (RFC 3550 5.1).

The expected samples are written from the standard's segment tables, not from the program's
arithmetic: a code is a sign, a 3-bit segment and a 4-bit step within the segment.

- µ-law (Table 2a): the code is transmitted inverted; sign bit 1 is positive. On the 14-bit
  scale (±8159) segment e starts at 33 * 2^e - 33 and its steps are 2^(e+1) apart; the 16-bit
  sample is four times that (so 0xFF and 0x7F are 0, the extremes ±32124).
- A-law (Table 1a): the even bits are transmitted inverted (XOR 0x55); sign bit 1 is positive.
  On the 13-bit scale (±4032) segment 0 has steps of 2 from 0, each higher segment s steps of
  2^s from 2^(s+4); a decoded value is the middle of its interval. The 16-bit sample is
  eight times that (so 0xD5 is +8, 0x55 -8, the extremes ±32256).
"""

from __future__ import annotations

import pytest

from sipdiag.media import audio, codecs
from sipdiag.media.audio import RtpPayload


def ulaw_by_table(code: int) -> int:
    """G.711 Table 2a, 16-bit."""
    inverted = code ^ 0xFF
    segment, step = (inverted >> 4) & 7, inverted & 0x0F
    magnitude = 33 * (1 << segment) - 33 + step * (2 << segment)  # 2^e, 2^(e+1)
    return 4 * (-magnitude if inverted & 0x80 else magnitude)


def alaw_by_table(code: int) -> int:
    """G.711 Table 1a, 16-bit."""
    value = code ^ 0x55
    segment, step = (value >> 4) & 7, value & 0x0F
    if segment == 0:
        magnitude = 2 * step + 1
    else:  # from 2^(s+4) in steps of 2^s, the middle of the step
        magnitude = (16 << segment) + step * (1 << segment) + (1 << segment) // 2
    return 8 * (magnitude if value & 0x80 else -magnitude)


@pytest.mark.parametrize(("code", "sample"), [
    (0xFF, 0), (0x7F, 0),            # the two zeros
    (0xFE, 8), (0x7E, -8),           # segment 0, step 1: 2 on the 14-bit scale
    (0xF0, 120), (0x70, -120),       # segment 0, step 15: 30
    (0xEF, 132), (0x6F, -132),       # segment 1 starts at 33
    (0xDF, 396),                     # segment 2 starts at 99
    (0x8F, 16764),                   # segment 7 starts at 4191
    (0x80, 32124), (0x00, -32124),   # the extremes, 8031
])
def test_ulaw_codes_by_hand(code: int, sample: int) -> None:
    assert codecs._ulaw_linear(code) == sample


@pytest.mark.parametrize(("code", "sample"), [
    (0xD5, 8), (0x55, -8),           # segment 0, step 0: 1 on the 13-bit scale
    (0xD4, 24), (0x54, -24),         # step 1: 3
    (0xDA, 248), (0x5A, -248),       # segment 0, step 15: 31
    (0xC5, 264), (0x45, -264),       # segment 1, step 0: 33
    (0xF5, 528),                     # segment 2 starts at 64, steps of 4: 66
    (0xA5, 16896), (0x25, -16896),   # segment 7 starts at 2048, steps of 128: 2112
    (0xAA, 32256), (0x2A, -32256),   # the extremes, 4032
])
def test_alaw_codes_by_hand(code: int, sample: int) -> None:
    assert codecs._alaw_linear(code) == sample


def test_every_ulaw_code_as_the_table() -> None:
    expected = [ulaw_by_table(code) for code in range(256)]
    assert [codecs._ulaw_linear(code) for code in range(256)] == expected
    assert list(codecs.ULAW_LINEAR) == expected


def test_every_alaw_code_as_the_table() -> None:
    expected = [alaw_by_table(code) for code in range(256)]
    assert [codecs._alaw_linear(code) for code in range(256)] == expected
    assert list(codecs.ALAW_LINEAR) == expected


def test_the_silent_codes() -> None:
    """Within ±32 of zero: µ-law steps 0 to 4 of segment 0 either side (0, 8, ... 32), A-law
    steps 0 and 1 (8, 24; step 2 is 40)."""
    ulaw = bytes([0x7B, 0x7C, 0x7D, 0x7E, 0x7F, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF])
    alaw = bytes([0x54, 0x55, 0xD4, 0xD5])
    assert codecs._silent_codes(codecs.ULAW_LINEAR) == ulaw
    assert codecs._silent_codes(codecs.ALAW_LINEAR) == alaw
    assert {"PCMU": ulaw, "PCMA": alaw} == codecs.SILENT_SAMPLES


def test_silence_includes_its_bound() -> None:
    """The codes (indexes) of samples within ±32, both bounds included."""
    assert codecs._silent_codes((33, -33, 32, -32, 0, 1000)) == bytes([2, 3, 4])


@pytest.mark.parametrize(("codec", "text"), [(codecs.Codec("PCMU", 8000), "PCMU/8000"),
                                             (codecs.UNKNOWN, "")])
def test_codec_as_text(codec: codecs.Codec, text: str) -> None:
    assert str(codec) == text


def test_static_types_without_rtpmap() -> None:
    """An m= line's payload type without a=rtpmap is RFC 3551's static one, a dynamic type
    without one unknown; a format that is no RTP payload type (0 to 127, RFC 3550 5.1) is
    left out."""
    assert codecs.codec_map({"0": "", "8": "", "96": "", "97": "opus/48000/2", "128": "",
                             "t38": "", "127": "L16/16000"}) == {
        0: codecs.Codec("PCMU", 8000), 8: codecs.Codec("PCMA", 8000), 96: codecs.UNKNOWN,
        97: codecs.Codec("opus", 48000), 127: codecs.Codec("L16", 16000)}


@pytest.mark.parametrize(("rtpmap", "codec"), [
    ("opus/48000/2", codecs.Codec("opus", 48000)),   # encoding/clock rate/channels
    ("telephone-event/8000", codecs.Codec("telephone-event", 8000)),
    (" PCMA /8000", codecs.Codec("PCMA", 8000)),
    ("PCMU", codecs.Codec("PCMU", 0)),                # no clock rate: unknown
    ("G729/fast", codecs.Codec("G729", 0)),
])
def test_rtpmap_as_codec(rtpmap: str, codec: codecs.Codec) -> None:
    """a=rtpmap:<payload type> <encoding name>/<clock rate>[/<parameters>] (RFC 4566 6)."""
    assert codecs.codec_of(rtpmap) == codec


@pytest.mark.parametrize(("difference", "signed"), [
    (0, 0), (160, 160), (-160, -160),
    (0xFFFFFF60, -160),                # 2^32 - 160: back across the wrap
    (0x7FFFFFFF, 0x7FFFFFFF), (0x80000000, -0x80000000), (-0x80000001, 0x7FFFFFFF),
])
def test_timestamp_difference_the_short_way(difference: int, signed: int) -> None:
    """RTP timestamps are modulo 2^32 (RFC 3550 5.1)."""
    assert audio._signed(difference) == signed


@pytest.mark.parametrize("later", [True, False])
def test_a_packet_four_hours_away_is_cut(later: bool) -> None:
    """A packet whose timestamp is MAX_SECONDS (4 h at 8000 Hz) after or before the first
    packet's is out of the stream (and does not move its start)."""
    limit = audio.MAX_SECONDS * audio.SAMPLE_RATE
    away = 1000 + limit if later else 1000 - limit
    packets = [RtpPayload(1, 0, 1000, b"\xff"), RtpPayload(2, 0, away & 0xFFFFFFFF, b"\x80")]
    assert audio.pcm(packets, "PCMU", 0) == b"\0\0"


def test_samples_land_at_their_timestamps() -> None:
    """A late packet fills its place; a later one overwrites nothing before it."""
    packets = [RtpPayload(1, 0, 100, b"\x80\x80"), RtpPayload(2, 0, 104, b"\x00"),
               RtpPayload(3, 0, 102, b"\xff\x80")]
    high, low = 32124 .to_bytes(2, "little", signed=True), (-32124).to_bytes(
        2, "little", signed=True)
    assert audio.pcm(packets, "PCMU", 0) == high + high + b"\0\0" + high + low


def test_only_the_streams_own_samples_in_timestamp_order() -> None:
    """The earliest timestamp leads even when its packet came second; a telephone event, an
    empty payload and a packet that jumps out of the stream leave nothing, and a packet after
    the jump still lands. The stream starts a quarter of the way round the 32-bit clock."""
    start = 0x40000000
    packets = [RtpPayload(1, 0, start + 160, b"\x80"), RtpPayload(2, 0, start, b"\x00"),
               RtpPayload(3, 101, start + 320, b"\x80\x80\x80"),
               RtpPayload(4, 0, start + 320, b""),
               RtpPayload(5, 0, start + 0x40000000, b"\x80"),
               RtpPayload(6, 0, start + 320, b"\x00")]
    low, high = (-32124).to_bytes(2, "little", signed=True), 32124 .to_bytes(
        2, "little", signed=True)
    silence = b"\0\0" * 159
    assert audio.pcm(packets, "PCMU", 0) == low + silence + high + silence + low
    assert audio.pcm(packets[3:5:2], "PCMU", 8) == b""
    assert audio.pcm([], "PCMA", 8) == b""


def test_which_codecs_decode() -> None:
    assert audio.decodable("PCMU") and audio.decodable("PCMA") and not audio.decodable("G722")
