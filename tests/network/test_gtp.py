"""Tunnel headers read on their own: GTP-U (3GPP TS 29.281), VXLAN (RFC 7348), MPLS (RFC 3032),
PPP (RFC 1661) in PPPoE (RFC 2516) and in GRE. Each reader gives (ethertype, offset) of what the
tunnel carries, or None; none reads past the end it is given, even when the buffer ends there."""

from __future__ import annotations

import struct

import pytest

from sipdiag.network import tunnels
from tests import packets

IP4 = packets.ipv4("192.0.2.1", "192.0.2.2", 17, packets.udp(5060, 5060, b"x"))
IP6 = packets.ipv6("2001:db8::1", "2001:db8::2", 17, packets.udp(5060, 5060, b"x"))
LEAD = b"\x99" * 8
"""Bytes before the header: readers are given an offset into a larger buffer (as long as a
fixed header, so a reader that added the offset to the end it was given would be seen)."""
PDU_SESSION, UDP_PORT = 0x85, 0x40  # extension header types (TS 29.281 5.2.1)


def read(reader: object, header: bytes, inner: bytes = b"") -> tuple[int, int] | None:
    """``reader`` on LEAD + header + inner, from after LEAD to the end of the buffer; the
    offset it gives is made relative to the header."""
    buf = LEAD + header + inner
    found = reader(buf, len(LEAD), len(buf))  # type: ignore[operator]
    return None if found is None else (found[0], found[1] - len(LEAD))


# GTP-U


@pytest.mark.parametrize(
    ("header", "size"),
    [
        (packets.gtp_u(b"")[:8], 8),
        (packets.gtp_u(b"", sequence=0x0102)[:12], 12),  # S: the 4 optional bytes
        (packets.gtp_u(b"", extensions=[(PDU_SESSION, b"\x00\x09")])[:16], 16),
        (packets.gtp_u(b"", extensions=[(UDP_PORT, b"\x13\xc4"), (PDU_SESSION,
                                                                  b"\x10\x01" + b"\0" * 4)])[:24],
         24),
        (packets.gtp_u(b"", sequence=7, extensions=[(PDU_SESSION, b"\x00" * 10)])[:24], 24),
        (bytes([0x31]) + packets.gtp_u(b"")[1:8] + b"\0\0\0\0", 12),  # PN: optional bytes too
    ],
    ids=["plain", "sequence", "extension", "two-extensions", "long-extension", "n-pdu"],
)
@pytest.mark.parametrize(("inner", "ethertype"), [(IP4, tunnels.IPV4), (IP6, tunnels.IPV6)])
def test_gtp_u_headers_before_the_ip_packet(header: bytes, size: int, inner: bytes,
                                            ethertype: int) -> None:
    assert len(header) == size
    assert read(tunnels.gtp_user, header, inner) == (ethertype, size)


@pytest.mark.parametrize(
    "header",
    [
        b"\x30",  # a single byte
        packets.gtp_u(b"")[:7],
        packets.gtp_u(b"")[:8],  # no T-PDU after the header
        bytes([0x50]) + packets.gtp_u(IP4)[1:],  # version 2 (GTPv2-C), IP after all the same
        bytes([0x30, 0x01]) + packets.gtp_u(IP4)[2:],  # echo request, not a G-PDU
        packets.gtp_u(b"", sequence=1)[:10],  # the optional bytes cut short
        packets.gtp_u(b"", sequence=1)[:12],  # optional bytes, then nothing
        packets.gtp_u(b"", extensions=[(PDU_SESSION, b"\0\0")])[:12],  # extension missing
        packets.gtp_u(b"", extensions=[(PDU_SESSION, b"\0\0")])[:14],  # extension cut short
        packets.gtp_u(b"", extensions=[(PDU_SESSION, b"\0\0")])[:16],  # nothing after it
        packets.gtp_u(b"", extensions=[(PDU_SESSION, b"\0\0")])[:12] + b"\x00\x00\x00\x85",
    ],
    ids=["one-byte", "short", "header-only", "version-2", "not-g-pdu", "optional-cut",
         "optional-only", "extension-missing", "extension-cut", "extension-only",
         "zero-length-extension"],
)
def test_gtp_u_that_carries_no_ip(header: bytes) -> None:
    """A zero extension length is invalid (TS 29.281 5.2.1: the length counts 4-byte units
    and is at least 1): the packet is not read, and not looped on."""
    assert read(tunnels.gtp_user, header) is None


def test_gtp_u_inner_packet_that_is_not_ip() -> None:
    assert read(tunnels.gtp_user, packets.gtp_u(b"")[:8], b"\x20" + IP4[1:]) is None


# VXLAN


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"\x08\0\0\0\0\0\x01\0", (tunnels.TRANSPARENT_ETHERNET, 8)),  # I flag
        (b"\x0c\0\0\0\0\0\x01\0", (tunnels.TRANSPARENT_ETHERNET, 8)),  # I and a GPE-style bit
        (b"\x00\0\0\0\0\0\x01\0", None),  # I clear: no valid VNI (RFC 7348 5)
        (b"\x01\0\0\0\0\0\x01\0", None),  # a reserved bit only
        (b"\x08\0\0\0\0\0\x01", None),  # 7 bytes
    ],
)
def test_vxlan_header(header: bytes, expected: tuple[int, int] | None) -> None:
    assert read(tunnels.vxlan, header) == expected


# MPLS


def _label(value: int, bottom: bool) -> bytes:
    """A label stack entry: 20-bit label, 3-bit traffic class, S (bottom of stack), TTL."""
    return struct.pack("!I", value << 12 | int(bottom) << 8 | 64)


@pytest.mark.parametrize(
    ("stack", "inner", "expected"),
    [
        (_label(16, True), IP4, (tunnels.IPV4, 4)),
        (_label(16, False) + _label(17, True), IP6, (tunnels.IPV6, 8)),
        (_label(0x40000, False) + _label(0x60000, False) + _label(3, True), IP4,
         (tunnels.IPV4, 12)),
        (_label(16, True), b"", None),  # the bottom label, then nothing
        (_label(16, False), b"", None),  # the stack ends without a bottom label
        (_label(16, False) + _label(17, False)[:3], b"", None),
        (_label(16, True), b"\x00" + IP4[1:], None),  # not IP after the stack
    ],
)
def test_mpls_label_stack(stack: bytes, inner: bytes, expected: tuple[int, int] | None) -> None:
    assert read(tunnels.mpls, stack, inner) == expected


# PPP in PPPoE and in PPTP's GRE


PPPOE = b"\x11\x00\x00\x01"  # version 1, type 1, code 0 (session data), session id 1


@pytest.mark.parametrize(
    ("ppp", "inner", "expected"),
    [
        (b"\x00\x21", IP4, (tunnels.IPV4, 8)),
        (b"\x00\x57", IP6, (tunnels.IPV6, 8)),
        (b"\x21", IP4, (tunnels.IPV4, 7)),  # protocol field compression (RFC 1661 6.5)
        (b"\x21", b"", (tunnels.IPV4, 7)),  # an empty IP packet is IP's problem, not PPP's
        (b"\x00\x21", b"", (tunnels.IPV4, 8)),
        (b"\x00", b"", None),  # half a protocol field
        (b"", b"", None),
        (b"\xc0\x21", b"", None),  # LCP: not IP
    ],
)
def test_pppoe_session(ppp: bytes, inner: bytes, expected: tuple[int, int] | None) -> None:
    header = PPPOE + struct.pack("!H", len(ppp) + len(inner)) + ppp
    assert read(tunnels.pppoe, header, inner) == expected


@pytest.mark.parametrize(
    ("ppp", "expected"),
    [(b"\xff\x03\x00\x21", (tunnels.IPV4, 4)), (b"\xff\x03", None), (b"\xff\x03\x00", None),
     (b"\xff\x03\x57", (tunnels.IPV6, 3))],
)
def test_ppp_address_and_control_bytes(ppp: bytes, expected: tuple[int, int] | None) -> None:
    assert read(tunnels.ppp, ppp) == expected


def test_enhanced_gre_carries_only_ppp() -> None:
    """RFC 2637 4.1: enhanced GRE's protocol type is PPP (0x880B); with another one the
    payload is not read as PPP, whatever it looks like."""
    header = struct.pack("!BBHHH", 0x20, 0x01, 0x0800, 8, 7)
    assert read(tunnels.gre, header, b"\xff\x03\x00\x21" + IP4) is None


def test_gre_reserved_bits_are_ignored() -> None:
    """RFC 2784 2.2: Reserved0 bits 6-12 are ignored on receipt (no sequence number here)."""
    assert read(tunnels.gre, struct.pack("!BBH", 0x01, 0, 0x0800), IP4) == (tunnels.IPV4, 4)


def test_erspan_type_iii_header_exactly() -> None:
    """ERSPAN type III: a 12-byte header after GRE's sequence number, then Ethernet."""
    header = struct.pack("!BBHI", 0x10, 0, tunnels.ERSPAN_3, 1) + b"\x20" + b"\0" * 11
    assert read(tunnels.gre, header) == (tunnels.TRANSPARENT_ETHERNET, 20)
