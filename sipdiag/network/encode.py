"""Building IP packets: the UDP datagrams and TCP segments a message travelled in.

Used where a message reaches sipdiag without its packet (a HEP collector) and the packet is
written down again, so that every reader (sipdiag, Wireshark, sngrep) sees ordinary traffic.
Packets are raw IPv4 or IPv6 (``linktypes.RAW``), with every length and checksum right.
"""

from __future__ import annotations

import ipaddress
import struct

from sipdiag.network import Endpoint

UDP, TCP = 17, 6
TTL = 64
_IPV4 = struct.Struct(">BBHHHBBH4s4s")
_IPV6 = struct.Struct(">IHBB16s16s")
_UDP = struct.Struct(">HHHH")
_TCP = struct.Struct(">HHIIBBHHH")
_PSH_ACK = 0x18


def udp_packet(src: Endpoint, dst: Endpoint, payload: bytes) -> bytes:
    header = _UDP.pack(src.port, dst.port, _UDP.size + len(payload), 0)
    return _ip_packet(src.ip, dst.ip, UDP, header, payload, checksum_at=6)


def tcp_segment(src: Endpoint, dst: Endpoint, seq: int, payload: bytes) -> bytes:
    """A segment of an established connection (PSH, ACK) carrying ``payload`` at ``seq``."""
    header = _TCP.pack(src.port, dst.port, seq & 0xFFFFFFFF, 0, 5 << 4, _PSH_ACK, 65535, 0, 0)
    return _ip_packet(src.ip, dst.ip, TCP, header, payload, checksum_at=16)


def _ip_packet(src: str, dst: str, protocol: int, header: bytes, payload: bytes,
               checksum_at: int) -> bytes:
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    segment = header + payload
    check = transport_checksum(a, b, protocol, segment)
    segment = segment[:checksum_at] + struct.pack(">H", check) + segment[checksum_at + 2:]
    if len(a) == 16:
        return _IPV6.pack(6 << 28, len(segment), protocol, TTL, a, b) + segment
    ip = _IPV4.pack(0x45, 0, _IPV4.size + len(segment), 0, 0x4000, TTL, protocol, 0, a, b)
    return ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:] + segment


def transport_checksum(src: bytes, dst: bytes, protocol: int, segment: bytes) -> int:
    """The checksum of a UDP, TCP or ICMPv6 ``segment`` (its checksum field zero), which also
    covers a pseudo-header of the addresses, protocol and length (RFC 768, RFC 793 3.1; RFC
    8200 8.1 for IPv6, where UDP's is mandatory). Never 0, which would mean "no checksum" to
    UDP (0xFFFF is the same value in ones' complement)."""
    pseudo = src + dst + struct.pack(">HH", protocol, len(segment)) if len(src) == 4 else (
        src + dst + struct.pack(">IxxxB", len(segment), protocol))
    return checksum(pseudo + segment) or 0xFFFF


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
    the 16-bit words. That sum is the number the bytes spell, modulo 0xFFFF (2**16 is 1
    modulo 0xFFFF), except that a non-zero sum that is a multiple of 0xFFFF is 0xFFFF."""
    if len(data) % 2:
        data += b"\0"
    number = int.from_bytes(data, "big")
    total = number % 0xFFFF or (0xFFFF if number else 0)
    return 0xFFFF - total
