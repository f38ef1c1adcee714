"""HEP/EEP (Homer encapsulation): SIP mirrored by a capture agent inside UDP.

HEPv3 is "HEP3", a total length, then chunks (vendor, type, length, value) carrying the original
addresses, ports, transport and the payload, which may be zlib-compressed (chunk type 16).
HEPv2 (and v1) is a fixed header with the same facts, then the payload. Only payloads of type
SIP are handed on; the frame and time stay those of the packet that carried them.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from typing import NamedTuple

from sipdiag.network import Endpoint

_CHUNK = struct.Struct(">HHH")
_TRANSPORTS = {6: "TCP", 17: "UDP", 132: "SCTP"}
SIP_PAYLOAD_TYPE = 1


class HepPacket(NamedTuple):
    transport: str
    src: Endpoint
    dst: Endpoint
    payload: bytes


class HepError(Exception):
    """Bytes that start like HEP but cannot be read as HEP."""


def looks_like_hep(payload: bytes) -> bool:
    return payload[:4] == b"HEP3" or (
        len(payload) > 3 and payload[0] in (1, 2) and payload[1] in (16, 28, 40, 52)
    )


def decode(payload: bytes) -> HepPacket | None:
    """The SIP message a HEP packet carries; None for other payload types; HepError if broken."""
    if payload[:4] == b"HEP3":
        return _decode_v3(payload)
    return _decode_v2(payload)


def _decode_v3(payload: bytes) -> HepPacket | None:
    if len(payload) < 6:
        raise HepError("HEP3 header cut short")
    total = min(struct.unpack_from(">H", payload, 4)[0], len(payload))
    values: dict[int, bytes] = {}
    off = 6
    while off + 6 <= total:
        vendor, kind, length = _CHUNK.unpack_from(payload, off)
        if length < 6:
            raise HepError(f"HEP3 chunk of type {kind} has length {length}")
        if vendor == 0:
            values[kind] = payload[off + 6 : off + length]
        off += length
    if values.get(11, b"\x01")[:1] != bytes([SIP_PAYLOAD_TYPE]):
        return None
    body = values.get(15)
    if body is None and 16 in values:
        try:
            body = zlib.decompress(values[16])
        except zlib.error as exc:
            raise HepError(f"compressed HEP payload does not inflate: {exc}") from exc
    if body is None:
        raise HepError("HEP3 packet without a payload chunk")
    # Each address has its own chunk: source 3 (IPv4) or 5 (IPv6), destination 4 or 6.
    return HepPacket(
        _TRANSPORTS.get(_int(values.get(2)), "UDP"),
        Endpoint(_address(values.get(5, values.get(3))), _int(values.get(7))),
        Endpoint(_address(values.get(6, values.get(4))), _int(values.get(8))),
        body,
    )


def _decode_v2(payload: bytes) -> HepPacket:
    version, length, family, protocol = payload[:4]
    size = 16 if family == 10 else 4
    if len(payload) < length or length < 8 + 2 * size:
        raise HepError(f"HEPv{version} header of {length} bytes is cut short")
    sport, dport = struct.unpack_from(">HH", payload, 4)
    src = payload[8 : 8 + size]
    dst = payload[8 + size : 8 + 2 * size]
    return HepPacket(
        _TRANSPORTS.get(protocol, "UDP"),
        Endpoint(_address(src), sport),
        Endpoint(_address(dst), dport),
        payload[length:],
    )


def _int(value: bytes | None) -> int:
    return int.from_bytes(value, "big") if value else 0


def _address(raw: bytes | None) -> str:
    if raw is None or len(raw) not in (4, 16):
        return "0.0.0.0"
    return str(ipaddress.ip_address(raw))
