"""The length of an RTP header (RFC 3550 5.1 and 5.3.1): 12 fixed bytes, 4 per CSRC (CC, the
low four bits of the first byte), and with X set a 4-byte extension header whose second half
counts the 32-bit words after it; 0 when the packet is shorter than its header says."""

from __future__ import annotations

import struct

import pytest

from sipdiag.media.shape import rtp_header_length

FIXED = struct.pack(">BBHII", 0x80, 0, 1, 160, 7)[1:]
"""Everything of the fixed header but its first byte."""


def header(csrcs: int, extension_words: int | None = None, payload: int = 20) -> bytes:
    first = 0x80 | csrcs | (0x10 if extension_words is not None else 0)
    data = bytes([first]) + FIXED + b"\xcc" * (4 * csrcs)
    if extension_words is not None:
        data += struct.pack(">HH", 0xBEDE, extension_words) + b"\xee" * (4 * extension_words)
    return data + b"\x00" * payload


@pytest.mark.parametrize(
    ("csrcs", "words", "expected"),
    [(0, None, 12), (1, None, 16), (15, None, 72), (0, 0, 16), (0, 1, 20), (2, 3, 36),
     (0, 258, 12 + 4 + 4 * 258)],  # the length's high byte counts too
)
def test_header_length(csrcs: int, words: int | None, expected: int) -> None:
    assert rtp_header_length(header(csrcs, words)) == expected


@pytest.mark.parametrize(
    "cut",
    [
        header(2, payload=0)[:19],  # a CSRC cut short
        header(0, 0, payload=0)[:15],  # the extension header cut short
        header(0, 2, payload=0)[:23],  # the extension's words cut short
    ],
)
def test_a_packet_shorter_than_its_header_has_none(cut: bytes) -> None:
    assert rtp_header_length(cut) == 0


def test_a_header_exactly_as_long_as_the_packet() -> None:
    assert rtp_header_length(header(1, 1, payload=0)) == 24
