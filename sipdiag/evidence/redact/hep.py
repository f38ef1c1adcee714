"""HEP (Homer encapsulation) packets redacted: the SIP message a capture agent mirrored, and
the facts it wrote about it.

- HEP3 (chunks): the address chunks (3 and 4 IPv4, 5 and 6 IPv6) get the pseudonyms the same
  addresses get in IP headers; the payload (chunk 15, or 16 zlib-compressed, compressed again)
  is redacted as SIP; the correlation id (chunk 17, a Call-ID most often) like a Call-ID; the
  agent's password (chunk 14) replaced like a secret. Ports, times, the agent's id and the
  other facts of fixed meaning are kept. Each chunk's length and the total length are written
  again. A chunk of another vendor or of a type not listed here may hold anything: refused.
- HEPv1 and v2 (a fixed header): the two addresses replaced, the payload redacted as SIP.

Only SIP payloads (payload type 1) are redacted; any other is refused, like bytes that are
not HEP as they claim to be.
"""

from __future__ import annotations

import struct
import zlib

from sipdiag.evidence.redact.pseudonyms import Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.sip import redact_message
from sipdiag.evidence.redact.text import redact_text
from sipdiag.network import hep

HEP3 = b"HEP3"
_CHUNK = struct.Struct(">HHH")
ADDRESS_CHUNKS = {3: 4, 4: 4, 5: 16, 6: 16}
"""Chunk type -> the address's size."""
KEPT_CHUNKS = frozenset({1, 2, 7, 8, 9, 10, 11, 12, 13})
"""Address family, transport, ports, time, payload type, agent id, keep-alive timer."""
PASSWORD, PAYLOAD, COMPRESSED, CORRELATION = 14, 15, 16, 17
_AF_INET6 = 10
"""HEPv2's address family is the agent's socket family (AF_INET6 of Linux for IPv6)."""


def redact_hep(payload: bytes, names: Pseudonyms) -> bytes:
    """``payload`` (a UDP payload that looks like HEP) redacted; Unredactable if it cannot be."""
    if payload[:4] == HEP3:
        return _hep3(payload, names)
    return _hep2(payload, names)


def _hep3(payload: bytes, names: Pseudonyms) -> bytes:
    if len(payload) < 6 or struct.unpack_from(">H", payload, 4)[0] != len(payload):
        raise Unredactable("HEP3 whose total length is not its datagram's")
    if not _is_sip(payload):
        raise Unredactable("HEP3 carrying a payload that is not SIP")
    out = bytearray(HEP3 + bytes(2))
    read = 6
    for vendor, kind, value in hep.chunks(payload, len(payload)):  # read by decode: valid
        read += _CHUNK.size + len(value)
        new = _chunk(vendor, kind, value, names)
        out += _CHUNK.pack(vendor, kind, _CHUNK.size + len(new)) + new
    if read != len(payload):  # a chunk cut short, or bytes after the last
        raise Unredactable("HEP3 whose chunks do not fill it")
    if len(out) > 0xFFFF:
        raise Unredactable("HEP3 packet that would be longer than its 16-bit length")
    struct.pack_into(">H", out, 4, len(out))
    return bytes(out)


def _is_sip(payload: bytes) -> bool:
    try:
        decoded = hep.decode(payload)
    except hep.HepError as exc:
        raise Unredactable(f"HEP that cannot be read: {exc}") from exc
    return decoded is not None


def _chunk(vendor: int, kind: int, value: bytes, names: Pseudonyms) -> bytes:
    if vendor != 0:
        raise Unredactable(f"HEP3 chunk of vendor {vendor} is not redacted")
    if kind in KEPT_CHUNKS:
        return value
    if kind in ADDRESS_CHUNKS:
        if len(value) != ADDRESS_CHUNKS[kind]:
            raise Unredactable(f"HEP3 address chunk {kind} of {len(value)} bytes")
        return names.ip(value)
    if kind == PAYLOAD:
        return redact_message(value, names)
    if kind == COMPRESSED:
        try:
            return zlib.compress(redact_message(zlib.decompress(value), names))
        except zlib.error as exc:
            raise Unredactable("a compressed HEP3 payload that does not inflate") from exc
    if kind == CORRELATION:
        return redact_text(value.decode("latin-1"), names).encode("latin-1")
    if kind == PASSWORD:
        return names.token("hep-password", value.decode("latin-1")).encode("latin-1")
    raise Unredactable(f"HEP3 chunk of type {kind} is not redacted")


def _hep2(payload: bytes, names: Pseudonyms) -> bytes:
    """The fixed header (version, its length, family, protocol, ports, addresses, v2's time and
    agent id), then the payload."""
    if not _is_sip(payload):
        raise Unredactable("HEP carrying a payload that is not SIP")
    length, size = payload[1], 16 if payload[2] == _AF_INET6 else 4
    addresses = payload[8:8 + size], payload[8 + size:8 + 2 * size]
    header = payload[:8] + b"".join(names.ip(a) for a in addresses) + payload[8 + 2 * size:length]
    return header + redact_message(payload[length:], names)
