"""A datagram to or from a SIP port that is not SIP is reported, unless it is one of the things
that share SIP's ports by design: keep-alives (CRLF, RFC 5626 section 3.5.1; a stack's few bytes
of its own), STUN (RFC 5389 section 6, RFC 3489 section 11.1) and HEP."""

from __future__ import annotations

import struct

import pytest

from sipdiag.network import Endpoint
from sipdiag.problems import ProblemLog
from sipdiag.sip.reader import SipReader

PHONE = Endpoint("192.0.2.1", 40000)
REGISTRAR = Endpoint("192.0.2.2", 5060)
WEB = Endpoint("192.0.2.2", 8080)
COOKIE = 0x2112A442
"""RFC 5389's magic cookie; RFC 3489 had 16 bytes of transaction ID there instead."""


def stun(message_type: int, attributes: bytes = b"", length: int | None = None) -> bytes:
    """A STUN header (type, length of what follows it, cookie, 96-bit transaction ID)."""
    size = len(attributes) if length is None else length
    return struct.pack("!HHI", message_type, size, COOKIE) + b"\x5a" * 12 + attributes


def xor_mapped_address() -> bytes:
    """An XOR-MAPPED-ADDRESS attribute (type 0x0020, 8 bytes of value) for IPv4."""
    return struct.pack("!HHBBH4s", 0x0020, 8, 0, 1, 0x1234, b"\x01\x02\x03\x04")


def reported(payload: bytes, src: Endpoint = PHONE, dst: Endpoint = REGISTRAR) -> list[int]:
    """The frames reported ``sip_unrecognised`` after one datagram (frame 7)."""
    problems = ProblemLog()
    assert not SipReader(problems).datagram("UDP", 7, 70, src, dst, payload, (7,))
    return [p.frame for p in problems.examples.get("sip_unrecognised", [])]


@pytest.mark.parametrize(
    "payload",
    [
        stun(0x0001),  # Binding request: a bare 20-byte header
        stun(0x0101, xor_mapped_address()),  # Binding success response
        stun(0x0111, b"\x00" * 300),  # an error response longer than 255 bytes
        stun(0x0003, b"\x00" * 8),  # TURN Allocate (RFC 5766): method 0x003
    ],
    ids=["binding-request", "binding-response", "long-error-response", "turn-allocate"],
)
def test_stun_beside_sip_is_not_reported(payload: bytes) -> None:
    assert reported(payload) == []
    assert reported(payload, REGISTRAR, PHONE) == []


@pytest.mark.parametrize(
    "payload",
    [
        # Every registered STUN/TURN method is below 0x080, so the first byte of the type is
        # 0x00 or 0x01 (the class bit C1); 0x02 there is not a STUN message we know.
        stun(0x0201, b"\x00" * 8),
        stun(0x4001, b"\x00" * 8),  # the two top bits of a STUN message are zero
        stun(0x0001, b"\x00" * 8, length=4),  # the length does not match the bytes after it
        stun(0x0001, b"\x00" * 8, length=12),
        stun(0x0101, b"\x00" * 260, length=4),  # only the low byte of 260 matches
        stun(0x0001)[:19],  # shorter than a STUN header
    ],
    ids=["method-0x080", "top-bits", "length-short", "length-long", "length-low-byte", "cut"],
)
def test_what_only_looks_like_stun_is_reported(payload: bytes) -> None:
    assert reported(payload) == [7]


@pytest.mark.parametrize(
    "payload",
    [b"\r\n\r\n", b"\r\n", b"\x00" * 4, b"jaK\x00", b"12345678", b"\r\n\x00 " * 5],
    ids=["double-crlf", "crlf", "zeros", "exosip", "eight-bytes", "long-blank"],
)
def test_keep_alives_are_not_reported(payload: bytes) -> None:
    assert reported(payload) == []


@pytest.mark.parametrize("text", [b"123456789", b"XXXXXXXXX"])
def test_nine_bytes_of_text_are_not_a_keep_alive(text: bytes) -> None:
    assert reported(text) == [7]


@pytest.mark.parametrize("payload", [b"", b"\n"], ids=["empty", "one-byte"])
def test_empty_and_one_byte_datagrams_are_nothing(payload: bytes) -> None:
    assert reported(payload) == []


def test_the_problem_shows_where_and_the_first_16_bytes() -> None:
    problems = ProblemLog()
    payload = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    SipReader(problems).datagram("UDP", 7, 70, PHONE, REGISTRAR, payload, (7,))
    assert [p.detail for p in problems.examples["sip_unrecognised"]] == [
        "UDP payload to 192.0.2.2:5060 is not SIP: starts 'GET / HTTP/1.1\\r\\n'"
    ]


def test_hep_is_not_reported() -> None:
    assert reported(b"HEP3" + b"\x00\x10" + b"\x00" * 10) == []


def test_only_datagrams_of_a_sip_port_are_judged() -> None:
    assert reported(b"GET / HTTP/1.1\r\n\r\n", PHONE, WEB) == []
    assert reported(b"GET / HTTP/1.1\r\n\r\n", WEB, REGISTRAR) == [7]
