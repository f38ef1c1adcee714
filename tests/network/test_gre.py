"""GRE (RFC 2784, RFC 2890): the checksum, key and sequence number fields each add four bytes
before the payload; PPTP's enhanced GRE (RFC 2637) carries PPP."""

from __future__ import annotations

import struct

import pytest

from sipdiag.network import tunnels
from tests import packets

INNER = packets.ipv4("192.0.2.1", "192.0.2.2", 17, packets.udp(5060, 5060, b"x"))
C, K, S = 0x80, 0x20, 0x10


@pytest.mark.parametrize(
    ("flags", "fields"),
    [(0, 0), (C, 1), (K, 1), (S, 1), (C | K, 2), (C | S, 2), (K | S, 2), (C | K | S, 3)],
)
@pytest.mark.parametrize("protocol", [tunnels.IPV4, tunnels.IPV6, tunnels.TRANSPARENT_ETHERNET])
def test_gre_optional_fields(flags: int, fields: int, protocol: int) -> None:
    header = struct.pack("!BBH", flags, 0, protocol) + b"\xee" * (4 * fields)
    buf = b"\x99" * 3 + header + INNER
    assert tunnels.gre(buf, 3, len(buf)) == (protocol, 3 + 4 + 4 * fields)


def test_gre_shorter_than_its_header() -> None:
    buf = b"\x99" * 3 + struct.pack("!BBH", 0, 0, 0x0800)
    assert tunnels.gre(buf, 3, len(buf) - 1) is None
    assert tunnels.gre(buf, 3, len(buf)) == (0x0800, 7)


@pytest.mark.parametrize(("flags", "start"), [(0, 4), (K, 8), (C | K, 12)])
def test_erspan(flags: int, start: int) -> None:
    type1 = struct.pack("!BBH", flags, 0, tunnels.ERSPAN_2) + b"\xee" * (start - 4)
    assert tunnels.gre(type1, 0, 100) == (tunnels.TRANSPARENT_ETHERNET, start)
    type2 = struct.pack("!BBH", flags | S, 0, tunnels.ERSPAN_2) + b"\xee" * start
    assert tunnels.gre(type2, 0, 100) == (tunnels.TRANSPARENT_ETHERNET, start + 4 + 8)
    type3 = struct.pack("!BBH", flags | S, 0, tunnels.ERSPAN_3) + b"\xee" * start
    assert tunnels.gre(type3 + b"\0" * 12, 0, 100) == (
        tunnels.TRANSPARENT_ETHERNET, start + 4 + 12
    )
    optional = type3 + b"\0" * 11 + b"\x01"  # the O flag: an 8-byte platform subheader
    assert tunnels.gre(optional, 0, 100) == (tunnels.TRANSPARENT_ETHERNET, start + 4 + 20)
    assert tunnels.gre(type3 + b"\0" * 11, 0, len(type3) + 11) is None


@pytest.mark.parametrize(("sequence", "ack"), [(False, False), (True, False), (False, True),
                                               (True, True)])
@pytest.mark.parametrize(
    ("ppp", "skip"),
    [(b"\xff\x03\x00\x21", 4), (b"\x00\x21", 2), (b"\x21", 1), (b"\xff\x03\x00\x57", 4)],
)
def test_enhanced_gre_carries_ppp(sequence: bool, ack: bool, ppp: bytes, skip: int) -> None:
    flags = K | (S if sequence else 0)
    header = struct.pack("!BBHHH", flags, 0x01 | (0x80 if ack else 0), tunnels.PPP, 8, 7)
    header += b"\xee" * (4 * sequence + 4 * ack)
    buf = header + ppp + INNER
    expected = tunnels.IPV6 if ppp.endswith(b"\x57") else tunnels.IPV4
    assert tunnels.gre(buf, 0, len(buf)) == (expected, len(header) + skip)


def test_enhanced_gre_that_is_not_ppp_or_not_ip() -> None:
    header = struct.pack("!BBHHH", K, 0x01, 0x0800, 8, 7)
    assert tunnels.gre(header + INNER, 0, 100) is None
    lcp = struct.pack("!BBHHH", K, 0x01, tunnels.PPP, 8, 7) + b"\xff\x03\xc0\x21"
    assert tunnels.gre(lcp, 0, len(lcp)) is None
