"""HEP/EEP (Homer encapsulation): SIP mirrored by a capture agent inside UDP.

HEPv3 is "HEP3", a total length, then chunks (vendor, type, length, value) carrying the original
addresses, ports, transport and the payload, which may be zlib-compressed (chunk type 16).
HEPv2 (and v1) is a fixed header with the same facts, then the payload. Only payloads of type
SIP are handed on. Read from a capture, the frame and time stay those of the packet that carried
them; a collector (``collector``) takes the time the agent wrote (``ts_ns``) instead.

HEP3 over TCP is a stream of packets, each framed by its own total length (``split_stream``).
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from collections.abc import Iterator
from typing import NamedTuple

from sipdiag.network import Endpoint

_CHUNK = struct.Struct(">HHH")
_V2_TIME = struct.Struct("<IIH")
_TRANSPORTS = {6: "TCP", 17: "UDP", 132: "SCTP"}
SIP_PAYLOAD_TYPE = 1


class HepPacket(NamedTuple):
    transport: str
    src: Endpoint
    dst: Endpoint
    payload: bytes
    ts_ns: int | None = None
    """When the agent captured the message (HEPv2 and HEP3 only; None if it wrote none)."""
    agent: int | None = None
    """The capture agent's id (HEPv2 and HEP3)."""
    password: bytes | None = None
    """The authentication key chunk (HEP3 chunk 14), if the agent sent one."""


class HepError(ValueError):
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
    values = {kind: value for vendor, kind, value in chunks(payload, total) if vendor == 0}
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
    # Each address has its own chunk: source 3 (IPv4) or 5 (IPv6), destination 4 or 6; the
    # time is seconds (chunk 9) and microseconds (chunk 10), the agent's id chunk 12.
    return HepPacket(
        _TRANSPORTS.get(_int(values.get(2)), "UDP"),
        Endpoint(_address(values.get(5, values.get(3))), _int(values.get(7))),
        Endpoint(_address(values.get(6, values.get(4))), _int(values.get(8))),
        body,
        _time(_int(values.get(9)), _int(values.get(10))),
        _int(values[12]) if 12 in values else None,
        values.get(14),
    )


def chunks(payload: bytes, end: int) -> Iterator[tuple[int, int, bytes]]:
    """The chunks of a HEP3 packet up to ``end``: (vendor, type, value). HepError for a chunk
    shorter than its own 6-byte header; one that runs past ``end`` is cut there, and bytes
    too few for a chunk header at the end are left."""
    off = 6
    while off + _CHUNK.size <= end:
        vendor, kind, length = _CHUNK.unpack_from(payload, off)
        if length < _CHUNK.size:
            raise HepError(f"HEP3 chunk of type {kind} has length {length}")
        yield vendor, kind, payload[off + _CHUNK.size : min(off + length, end)]
        off += length


def _decode_v2(payload: bytes) -> HepPacket:
    version, length, family, protocol = payload[:4]
    size = 16 if family == 10 else 4
    if len(payload) < length or length < 8 + 2 * size:
        raise HepError(f"HEPv{version} header of {length} bytes is cut short")
    sport, dport = struct.unpack_from(">HH", payload, 4)
    src = payload[8 : 8 + size]
    dst = payload[8 + size : 8 + 2 * size]
    ts_ns = agent = None
    if version == 2 and length >= 8 + 2 * size + _V2_TIME.size:
        # Kamailio's siptrace copies its time header as a struct, in host order (little-endian
        # on the x86 and ARM hosts agents run on), unlike the ports and addresses before it;
        # sngrep's collector reads it back the same way.
        seconds, microseconds, agent = _V2_TIME.unpack_from(payload, 8 + 2 * size)
        ts_ns = _time(seconds, microseconds)
    return HepPacket(
        _TRANSPORTS.get(protocol, "UDP"),
        Endpoint(_address(src), sport),
        Endpoint(_address(dst), dport),
        payload[length:],
        ts_ns,
        agent,
    )


def split_stream(data: bytes) -> tuple[list[bytes], bytes]:
    """The whole HEP3 packets at the start of ``data`` (a TCP stream) and the bytes left after
    them; HepError if the stream does not hold HEP3 where a packet should start."""
    packets, off = [], 0
    while len(data) - off >= 6:
        if data[off : off + 4] != b"HEP3":
            raise HepError("TCP stream does not start a HEP3 packet where one should start")
        total = struct.unpack_from(">H", data, off + 4)[0]
        if total < 6:
            raise HepError(f"HEP3 packet in a TCP stream has total length {total}")
        if len(data) - off < total:
            break
        packets.append(data[off : off + total])
        off += total
    return packets, data[off:]


def _time(seconds: int, microseconds: int) -> int | None:
    return seconds * 1_000_000_000 + microseconds * 1_000 if seconds else None


def _int(value: bytes | None) -> int:
    return int.from_bytes(value, "big") if value else 0


def _address(raw: bytes | None) -> str:
    if raw is None or len(raw) not in (4, 16):
        return "0.0.0.0"
    return str(ipaddress.ip_address(raw))
