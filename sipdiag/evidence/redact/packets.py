"""Frames taken apart down to the transport, and put together again after redaction.

Theory of operation. ``parse_frame`` reads the link layer (Ethernet with any 802.1Q/802.1ad
tags, Linux cooked v1 and v2, BSD loopback, raw IP: the link types sipdiag's decoder reads,
with the header sizes it uses; PPPoE sessions, whose length is written again) and the IP
header, replacing the MAC addresses of the link
layer and the IP addresses at once. What it returns, a ``Packet``, holds the link and IP
headers as bytes and the transport segment; ``Packet.frame`` puts a new segment back, with the
IPv4 total length and header checksum, or the IPv6 payload length, made right for it.
``udp_segment``/``tcp_segment`` rebuild a transport header with its length and checksum
(RFC 768; RFC 9293 3.1; the pseudo-header of RFC 8200 8.1 for IPv6).

Encapsulations are taken apart by recursion: when what IP carries is a tunnel (IP in IP and
IPv6 in IP, GRE with its key, sequence and checksum, PPTP's enhanced GRE carrying PPP, ERSPAN
types I to III, VXLAN, GTP-U with its extension headers), the carried bytes are parsed as a
frame of their own (Ethernet or raw IP), addresses replaced by the same pseudonyms, and the
inner ``Packet`` keeps a ``Carrier``: the outer packet and the bytes between the two. Putting
the inner packet together again then wraps it in its carrier, whose lengths (UDP's, GTP-U's,
enhanced GRE's payload length) and checksums (UDP's, GRE's) are computed again, and so on out
to the link layer. ``MAX_DEPTH`` encapsulations at most, as in the decoder.

A frame this cannot take apart raises ``Unredactable`` with the reason: it is left out. That
is: other link types, what is not IP (ARP, LLDP), IPv4 options, IPv6 routing headers and
IPsec, tunnels within IP fragments, and anything too short for its headers.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from enum import Enum

from sipdiag.capture import linktypes
from sipdiag.evidence.redact.pseudonyms import Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.network import tunnels
from sipdiag.network.decoder import (
    IPPROTO_GRE,
    IPPROTO_IPIP,
    IPPROTO_IPV6,
    IPPROTO_SCTP,
    MAX_DEPTH,
    VLAN_TAGS,
)
from sipdiag.network.encode import checksum, transport_checksum

IPV4, IPV6 = tunnels.IPV4, tunnels.IPV6
UDP, TCP, ICMP, ICMPV6, SCTP = 17, 6, 1, 58, IPPROTO_SCTP
IPV6_FRAGMENT = 44
IPV6_OPTIONS = frozenset({0, 60})
"""Hop-by-hop and destination options (RFC 8200 4.3, 4.6): each option kept as it is, but the
Home Address (RFC 6275 6.3), an address, replaced; an option of another type, unknown here,
makes the packet unredactable."""
PAD1, PADN, ROUTER_ALERT, JUMBO, TUNNEL_LIMIT, HOME_ADDRESS = 0, 1, 5, 0xC2, 4, 0xC9
_PLAIN_OPTIONS = frozenset({PADN, ROUTER_ALERT, JUMBO, TUNNEL_LIMIT})
"""Options that name no one (RFC 8200 4.2, RFC 2711, RFC 2675, RFC 2473 4.1.1)."""
_ETHERNET_MIN = 60
"""The shortest Ethernet frame without its FCS (IEEE 802.3 4.2.3.3): shorter ones are padded."""
_AF_IPV4 = frozenset({2})
_AF_IPV6 = frozenset({10, 24, 28, 30})


@dataclass(frozen=True, slots=True)
class Fragment:
    """Where a fragment's data sits in its datagram."""

    key: tuple[object, ...]
    offset: int
    more: bool


class Tunnel(Enum):
    IP = "IP in IP"
    GRE = "GRE"
    UDP = "a UDP tunnel"


@dataclass(frozen=True, slots=True)
class Carrier:
    """What carries an encapsulated packet: the outer packet, and the bytes of its segment
    before the carried frame (a GRE header and PPP's, a UDP header and VXLAN's or GTP-U's)."""

    outer: Packet
    header: bytes
    tunnel: Tunnel
    length_at: int | None = None
    """Where in ``header`` a 16-bit length is written, of the bytes from ``length_from`` on."""
    length_from: int = 0

    def wrap(self, carried: bytes) -> tuple[bytes, int]:
        """The outer frame carrying ``carried``, and its original length."""
        if self.outer.cut:  # bytes not captured: the lengths and checksums cannot be made right
            return self.outer.frame(self.header + carried)
        segment = bytearray(self.header + carried)
        if self.length_at is not None:
            struct.pack_into(">H", segment, self.length_at, len(segment) - self.length_from)
        if self.tunnel == Tunnel.GRE and segment[0] & _GRE_CHECKSUM and segment[1] & 7 == 0:
            # RFC 2784 2.5: the checksum of the GRE header and payload, computed with zero in it
            struct.pack_into(">H", segment, 4, 0)
            struct.pack_into(">H", segment, 4, checksum(bytes(segment)))
        if self.tunnel == Tunnel.UDP:
            return self.outer.frame(udp_segment(self.outer, self.header[:8], bytes(segment[8:])))
        return self.outer.frame(bytes(segment))


@dataclass(frozen=True, slots=True)
class Packet:
    linktype: int
    link: bytes
    """The link-layer header (MAC addresses replaced)."""
    ip: bytes
    """The IP header (addresses replaced), with IPv6 extension headers."""
    version: int
    protocol: int
    src: bytes
    dst: bytes
    """The addresses as written in the redacted header."""
    segment: bytes
    """What IP carries: the transport header and data (a fragment's share of it)."""
    cut: int
    """Bytes of the frame not captured (the snapshot length): its lengths cannot change."""
    fragment: Fragment | None = None
    length_at: int | None = None
    """Where in ``link`` a length of what follows it is written (PPPoE's), if anywhere."""
    carrier: Carrier | None = None
    """The packet this one is encapsulated in, if it is."""

    def frame(self, segment: bytes) -> tuple[bytes, int]:
        """The frame carrying ``segment`` instead, and its original length."""
        ip = bytearray(self.ip)
        if self.version == 4:
            if not self.cut:
                struct.pack_into(">H", ip, 2, len(ip) + len(segment))
            struct.pack_into(">H", ip, 10, 0)
            struct.pack_into(">H", ip, 10, checksum(bytes(ip)))
        elif not self.cut:
            struct.pack_into(">H", ip, 4, len(ip) - 40 + len(segment))
        link = self.link
        if self.length_at is not None and not self.cut:  # RFC 2516 4: PPP's protocol and data
            size = len(link) - self.length_at - 2 + len(ip) + len(segment)
            link = link[:self.length_at] + struct.pack(">H", size) + link[self.length_at + 2:]
        data = link + bytes(ip) + segment
        if self.carrier is not None:
            return self.carrier.wrap(data)
        if self.linktype == linktypes.ETHERNET and len(data) < _ETHERNET_MIN:
            data += bytes(_ETHERNET_MIN - len(data))
        return data, len(data) + self.cut

    def fragment_frame(self, offset: int, more: bool, data: bytes) -> tuple[bytes, int]:
        """This fragment's frame carrying ``data`` at ``offset`` of the redacted datagram."""
        ip = bytearray(self.ip)
        if self.version == 4:
            struct.pack_into(">H", ip, 6, (ip[6] & 0x40) << 8 | (0x2000 if more else 0)
                             | offset // 8)
        else:
            at = _fragment_header_at(bytes(ip))
            struct.pack_into(">H", ip, at + 2, offset | int(more))
        return replace(self, ip=bytes(ip), cut=0).frame(data)


def parse_frame(linktype: int, data: bytes, orig_len: int, names: Pseudonyms) -> Packet:
    """The frame taken apart down to its innermost IP packet (addresses replaced)."""
    return _parse(linktype, data, max(orig_len - len(data), 0), names, None)


def _parse(linktype: int, data: bytes, cut: int, names: Pseudonyms,
           carrier: Carrier | None, depth: int = 0) -> Packet:
    link_end, ethertype = _link(linktype, data)
    length_at = None
    if ethertype == tunnels.PPPOE_SESSION:
        length_at, (ethertype, link_end) = link_end + 4, _pppoe(data, link_end)
    if ethertype not in (IPV4, IPV6):
        raise Unredactable(f"not IP (ethertype 0x{ethertype:04x})")
    link = _redact_link(linktype, data[:link_end], names)
    if ethertype == IPV4:
        packet = _ipv4(linktype, link, data[link_end:], cut, names)
    else:
        packet = _ipv6(linktype, link, data[link_end:], cut, names)
    packet = replace(packet, length_at=length_at, carrier=carrier)
    found = _tunnel(packet) if packet.fragment is None else None
    if found is None:
        return packet
    if depth >= MAX_DEPTH:
        raise Unredactable(f"more than {MAX_DEPTH} encapsulations")
    if found.ethertype not in (IPV4, IPV6, tunnels.TRANSPARENT_ETHERNET):
        raise Unredactable(f"{found.tunnel.value} carrying ethertype 0x{found.ethertype:04x}")
    outer = Carrier(packet, packet.segment[:found.at], found.tunnel, found.length_at,
                    found.length_from)
    inner_linktype = (linktypes.ETHERNET if found.ethertype == tunnels.TRANSPARENT_ETHERNET
                      else linktypes.RAW)
    return _parse(inner_linktype, packet.segment[found.at:], cut, names, outer, depth + 1)


_GRE_CHECKSUM, _GRE_SEQUENCE, _GRE_ACK = 0x80, 0x10, 0x80
_GTP_LENGTH_AT = 8 + 2
"""GTP-U's length (TS 29.281 5.1) counts the bytes after its first 8, behind the UDP header."""


@dataclass(frozen=True, slots=True)
class _Found:
    tunnel: Tunnel
    ethertype: int
    """What the tunnel carries."""
    at: int
    """Where in the outer segment it starts."""
    length_at: int | None = None
    length_from: int = 0


def _tunnel(packet: Packet) -> _Found | None:
    """The encapsulation ``packet`` carries, if it is one the decoder reads too."""
    segment = packet.segment
    if packet.protocol in (IPPROTO_IPIP, IPPROTO_IPV6):
        return _Found(Tunnel.IP, IPV4 if packet.protocol == IPPROTO_IPIP else IPV6, 0)
    if packet.protocol == IPPROTO_GRE:
        inner = tunnels.gre(segment, 0, len(segment))
        if inner is None:
            raise Unredactable("GRE carrying no IP and no Ethernet (or cut short)")
        if segment[1] & 7 == 1:  # enhanced GRE (RFC 2637 4.1): the length of its payload
            size = 8 + 4 * bool(segment[0] & _GRE_SEQUENCE) + 4 * bool(segment[1] & _GRE_ACK)
            return _Found(Tunnel.GRE, *inner, length_at=4, length_from=size)
        return _Found(Tunnel.GRE, *inner)
    if packet.protocol != UDP or len(segment) < 8:
        return None
    ports = (_u16(segment, 0), _u16(segment, 2))
    if tunnels.VXLAN_PORT in ports:
        inner = tunnels.vxlan(segment, 8, len(segment))
        return None if inner is None else _Found(Tunnel.UDP, *inner)
    if tunnels.GTP_U_PORT in ports:
        inner = tunnels.gtp_user(segment, 8, len(segment))
        return None if inner is None else _Found(Tunnel.UDP, *inner, length_at=_GTP_LENGTH_AT,
                                                 length_from=16)
    return None


def _pppoe(data: bytes, at: int) -> tuple[int, int]:
    """A PPPoE session header and PPP's protocol (RFC 2516 4, RFC 1661 2): the ethertype of
    what PPP carries, and where it starts."""
    inner = tunnels.pppoe(data, at, len(data))
    if inner is None:
        raise Unredactable("PPPoE carrying something other than IP")
    return inner


def _link(linktype: int, data: bytes) -> tuple[int, int]:
    """Where the link layer ends, and the ethertype of what follows."""
    if linktype == linktypes.ETHERNET:
        return _vlans(data, 14, _u16(data, 12))
    if linktype == linktypes.LINUX_SLL:
        return _vlans(data, 16, _u16(data, 14))
    if linktype == linktypes.LINUX_SLL2:
        return _vlans(data, 20, _u16(data, 0))
    if linktype in (linktypes.NULL, linktypes.LOOP):
        if len(data) < 4:
            raise Unredactable("a loopback frame shorter than its header")
        family = int.from_bytes(data[:4], "little")
        if family > 0xFFFF:
            family = int.from_bytes(data[:4], "big")
        return 4, IPV4 if family in _AF_IPV4 else IPV6 if family in _AF_IPV6 else -family
    if linktype in (linktypes.RAW, linktypes.RAW_BSDOS, linktypes.RAW_OPENBSD,
                    linktypes.IPV4, linktypes.IPV6):
        inner = tunnels.ip_by_version(data, 0) if data else None
        if inner is None:
            raise Unredactable("raw IP frame with no IP version 4 or 6")
        return 0, inner[0]
    raise Unredactable(f"frames of {linktypes.name(linktype)} are not redacted")


def _vlans(data: bytes, end: int, ethertype: int) -> tuple[int, int]:
    if len(data) < end:
        raise Unredactable("a frame shorter than its link-layer header")
    while ethertype in VLAN_TAGS:
        if len(data) < end + 4:
            raise Unredactable("a VLAN tag cut short")
        ethertype, end = _u16(data, end + 2), end + 4
    return end, ethertype


def _redact_link(linktype: int, header: bytes, names: Pseudonyms) -> bytes:
    """The MAC addresses of Ethernet (destination, source) and of Linux cooked captures
    (the link-layer address of the packet's sender, when it is 6 bytes long)."""
    if linktype == linktypes.ETHERNET:
        return names.mac(header[:6]) + names.mac(header[6:12]) + header[12:]
    at = {linktypes.LINUX_SLL: (4, 6), linktypes.LINUX_SLL2: (10, 11)}.get(linktype)
    if at is not None and header[at[0]:at[0] + 2].endswith(b"\x06"):
        address = at[1]
        return header[:address] + names.mac(header[address:address + 6]) + header[address + 6:]
    return header


def _ipv4(linktype: int, link: bytes, data: bytes, cut: int, names: Pseudonyms) -> Packet:
    if len(data) < 20 or data[0] >> 4 != 4:
        raise Unredactable("IPv4 header too short or not version 4")
    size = (data[0] & 15) * 4
    if size != 20:
        raise Unredactable("IPv4 options (they may hold addresses)")
    total = _u16(data, 2)
    end = min(total, len(data)) if total >= 20 else len(data)
    src, dst = names.ip(data[12:16]), names.ip(data[16:20])
    header = data[:12] + src + dst
    fragment = None
    if data[6] & 0x3F or data[7]:  # MF set or an offset (RFC 791 3.1)
        offset = (_u16(data, 6) & 0x1FFF) * 8
        fragment = Fragment((data[12:20], data[9], data[4:6]), offset, bool(data[6] & 0x20))
    return Packet(linktype, link, header, 4, data[9], src, dst, data[20:end], cut, fragment)


def _ipv6(linktype: int, link: bytes, data: bytes, cut: int, names: Pseudonyms) -> Packet:
    if len(data) < 40 or data[0] >> 4 != 6:
        raise Unredactable("IPv6 header too short or not version 6")
    length = _u16(data, 4)
    end = min(40 + length, len(data)) if length else len(data)
    src, dst = names.ip(data[8:24]), names.ip(data[24:40])
    protocol, pos, fragment = data[6], 40, None
    extensions = bytearray()
    while protocol in IPV6_OPTIONS or protocol == IPV6_FRAGMENT:
        if pos + 8 > end:
            raise Unredactable("IPv6 extension header cut short")
        if protocol == IPV6_FRAGMENT:
            offset, more = _u16(data, pos + 2) & 0xFFF8, bool(data[pos + 3] & 1)
            if offset or more:
                fragment = Fragment((data[8:40], data[pos], data[pos + 4:pos + 8]), offset, more)
            extensions += data[pos:pos + 8]
            protocol, pos = data[pos], pos + 8
        else:
            size = (data[pos + 1] + 1) * 8
            if pos + size > end:
                raise Unredactable("IPv6 extension header cut short")
            extensions += _options(data[pos:pos + size], names)
            protocol, pos = data[pos], pos + size
    header = data[:8] + src + dst + bytes(extensions)
    return Packet(linktype, link, header, 6, protocol, src, dst, data[pos:end], cut, fragment)


def _options(block: bytes, names: Pseudonyms) -> bytes:
    """A hop-by-hop or destination options header (next header, length, then options as
    type, length, value: RFC 8200 4.2), its Home Address replaced."""
    out, at = bytearray(block), 2
    while at < len(block):
        kind = block[at]
        if kind == PAD1:
            at += 1
            continue
        if at + 2 > len(block) or at + 2 + block[at + 1] > len(block):
            raise Unredactable("an IPv6 option longer than its header")
        size = block[at + 1]
        if kind == HOME_ADDRESS and size == 16:
            out[at + 2:at + 18] = names.ip(block[at + 2:at + 18])
        elif kind not in _PLAIN_OPTIONS:
            raise Unredactable(f"IPv6 option {kind} is not redacted")
        at += 2 + size
    return bytes(out)


def _fragment_header_at(ip: bytes) -> int:
    protocol, pos = ip[6], 40
    while protocol != IPV6_FRAGMENT:
        protocol, pos = ip[pos], pos + (ip[pos + 1] + 1) * 8
    return pos


def _u16(data: bytes, at: int) -> int:
    if len(data) < at + 2:
        raise Unredactable("a frame shorter than its headers")
    return data[at] << 8 | data[at + 1]


def udp_segment(packet: Packet, header: bytes, payload: bytes) -> bytes:
    """A UDP header and payload with the length and checksum made right (a zero checksum,
    which IPv4 allows for no checksum, stays zero: RFC 768)."""
    segment = bytearray(header[:8] + payload)
    struct.pack_into(">H", segment, 4, len(segment))
    if packet.version == 4 and header[6:8] == b"\0\0":
        return bytes(segment)
    return with_checksum(packet.src, packet.dst, segment, 6, UDP)


def tcp_segment(packet: Packet, header: bytes, seq: int, ack: int | None,
                payload: bytes) -> bytes:
    segment = bytearray(header + payload)
    struct.pack_into(">I", segment, 4, seq & 0xFFFFFFFF)
    if ack is not None:
        struct.pack_into(">I", segment, 8, ack & 0xFFFFFFFF)
    return with_checksum(packet.src, packet.dst, segment, 16, TCP)


def with_checksum(src: bytes, dst: bytes, segment: bytearray, at: int, protocol: int) -> bytes:
    """``segment`` with its checksum, at ``at``, computed over the pseudo-header too."""
    struct.pack_into(">H", segment, at, 0)
    struct.pack_into(">H", segment, at, transport_checksum(src, dst, protocol, bytes(segment)))
    return bytes(segment)


def icmp_checksum(packet: Packet, message: bytes) -> bytes:
    """ICMP's checksum covers the message (RFC 792); ICMPv6's a pseudo-header too (RFC 4443
    2.3)."""
    if packet.protocol == ICMPV6:
        return with_checksum(packet.src, packet.dst, bytearray(message), 2, ICMPV6)
    out = bytearray(message)
    struct.pack_into(">H", out, 2, 0)
    struct.pack_into(">H", out, 2, checksum(bytes(out)))
    return bytes(out)
