"""Encapsulations peeled to reach the SIP inside: GRE, ERSPAN, VXLAN, GTP-U, MPLS, PPPoE.

Each function looks at the bytes of one encapsulation header at ``buf[off:end]`` and returns
``(ethertype, offset)`` of what it carries, or None when the header is not one it can read.
An ethertype of ``TRANSPARENT_ETHERNET`` (0x6558, GRE's own code for bridged Ethernet) means an
Ethernet frame starts at ``offset``, so every tunnel that carries Ethernet says so in the same way.
"""

from __future__ import annotations

IPV4 = 0x0800
IPV6 = 0x86DD
TRANSPARENT_ETHERNET = 0x6558
ERSPAN_2 = 0x88BE
ERSPAN_3 = 0x22EB
MPLS_UNICAST = 0x8847
MPLS_MULTICAST = 0x8848
PPPOE_SESSION = 0x8864

VXLAN_PORT = 4789
GTP_U_PORT = 2152

PPP = 0x880B
_PPP_PROTOCOLS = {0x0021: IPV4, 0x0057: IPV6}


def ip_by_version(buf: bytes, off: int) -> tuple[int, int] | None:
    """Raw IP whose version nibble tells IPv4 from IPv6."""
    version = buf[off] >> 4
    if version == 4:
        return IPV4, off
    if version == 6:
        return IPV6, off
    return None


def gre(buf: bytes, off: int, end: int) -> tuple[int, int] | None:
    """GRE (RFC 2784/2890), PPTP's enhanced GRE (RFC 2637) and the ERSPAN headers in GRE."""
    if end - off < 4:
        return None
    flags, protocol = buf[off], buf[off + 2] << 8 | buf[off + 3]
    has_sequence = bool(flags & 0x10)
    if buf[off + 1] & 0x07 == 1:  # enhanced GRE: key (length, call id), sequence, ack; then PPP
        inner = off + 8 + 4 * has_sequence + 4 * (buf[off + 1] >> 7)
        return ppp(buf, inner, end) if protocol == PPP else None
    off += 4 + 4 * ((flags >> 7 & 1) + (flags >> 5 & 1) + has_sequence)
    if protocol == ERSPAN_2:
        # Type I has no sequence number and no ERSPAN header; type II has both.
        return (TRANSPARENT_ETHERNET, off + 8) if has_sequence else (TRANSPARENT_ETHERNET, off)
    if protocol == ERSPAN_3:
        if end - off < 12:
            return None
        optional = buf[off + 11] & 0x01  # the O flag: a platform-specific subheader follows
        return TRANSPARENT_ETHERNET, off + 12 + 8 * optional
    return protocol, off


def ppp(buf: bytes, off: int, end: int) -> tuple[int, int] | None:
    """A PPP frame (RFC 1661): optional address/control bytes, a 1- or 2-byte protocol."""
    if buf[off : off + 2] == b"\xff\x03":
        off += 2
    if off >= end:
        return None
    if buf[off] & 0x01:  # protocol field compression: one byte
        protocol, off = buf[off], off + 1
    elif off + 2 <= end:
        protocol, off = buf[off] << 8 | buf[off + 1], off + 2
    else:
        return None
    inner = _PPP_PROTOCOLS.get(protocol)
    return (inner, off) if inner else None


def vxlan(buf: bytes, off: int, end: int) -> tuple[int, int] | None:
    """VXLAN (RFC 7348): eight bytes with the I flag set, then Ethernet."""
    if end - off < 8 or not buf[off] & 0x08:
        return None
    return TRANSPARENT_ETHERNET, off + 8


def gtp_user(buf: bytes, off: int, end: int) -> tuple[int, int] | None:
    """GTP-U version 1 G-PDU (3GPP TS 29.281): header, optional fields, extensions, then IP."""
    if end - off < 8 or buf[off] >> 5 != 1 or buf[off + 1] != 0xFF:
        return None
    flags = buf[off]
    inner = off + 8
    if flags & 0x07:
        if end - inner < 4:
            return None
        next_type = buf[inner + 3]
        inner += 4
        while next_type and inner < end:
            length = buf[inner] * 4
            if not length or inner + length > end:
                return None
            next_type = buf[inner + length - 1]
            inner += length
    if inner >= end:
        return None
    return ip_by_version(buf, inner)


def mpls(buf: bytes, off: int, end: int) -> tuple[int, int] | None:
    """An MPLS label stack (RFC 3032) down to the bottom label, then IP guessed by version."""
    while off + 4 <= end:
        bottom = buf[off + 2] & 0x01
        off += 4
        if bottom:
            return ip_by_version(buf, off) if off < end else None
    return None


def pppoe(buf: bytes, off: int, end: int) -> tuple[int, int] | None:
    """PPPoE session stage (RFC 2516): six bytes, then PPP."""
    return ppp(buf, off + 6, end) if end - off > 6 else None
