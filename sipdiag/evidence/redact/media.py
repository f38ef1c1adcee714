"""UDP payloads that are not SIP: RTP, RTCP and STUN, redacted; anything else refused.

- RTP (RFC 3550 5.1) holds no identifier in its header (SSRCs are random); its payload is the
  conversation, replaced by zeros with ``drop_audio``, RFC 4733 telephone events included
  (the digits of a PIN are as private as the voice). A packet with padding keeps its last
  byte, the padding count (RFC 3550 5.1).
- RTCP (RFC 3550 6): the SDES items are replaced (CNAME mapped like an address or a
  ``user@host``, NAME, EMAIL, PHONE, LOC, NOTE and PRIV letter for letter and digit for digit;
  TOOL kept) and each SDES packet rebuilt with its lengths and padding. A compound packet
  that is not whole (SRTCP, RFC 3711 3.4, or a broken one) cannot be read: it is refused.
- STUN (RFC 8489 14): the addresses of the address attributes (plain and XOR'ed) are
  mapped, USERNAME letter for letter, and FINGERPRINT computed again (15.5);
  MESSAGE-INTEGRITY cannot be (it needs the password) and no longer verifies.
- CRLF keep-alives (RFC 5626 4.4.1) and NAT keep-alives of zeros carry nothing: kept.

Anything else (DNS, TLS/DTLS, a vendor's protocol) may hold identifiers and is refused.
RTP is told from other UDP as sipdiag's media reader tells it: version 2, a header that fits
(``rtp_header_length``), a payload type outside RTCP's range (RFC 5761 4), and, since a
quarter of random bytes look like that, neither port below 1024.
"""

from __future__ import annotations

import struct
import zlib

from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.text import host
from sipdiag.media.shape import is_rtcp_compound, rtp_header_length

RTCP_TYPES = range(200, 208)
SDES = 202
SDES_CNAME, SDES_TOOL = 1, 6
STUN_COOKIE = 0x2112A442
_STUN_ADDRESSES = frozenset({0x0001, 0x8023, 0x802B, 0x802C})
_STUN_XOR_ADDRESSES = frozenset({0x0020, 0x8020, 0x0012, 0x0016})
STUN_USERNAME, STUN_FINGERPRINT = 0x0006, 0x8028
_FINGERPRINT_XOR = 0x5354554E
WELL_KNOWN_PORTS = 1024


def redact_media(payload: bytes, ports: tuple[int, int], names: Pseudonyms,
                 drop_audio: bool) -> bytes:
    if not payload.strip(b"\r\n\0"):
        return payload
    if is_stun(payload):
        return redact_stun(payload, names)
    if payload[0] >> 6 == 2 and payload[1] in RTCP_TYPES:
        if not is_rtcp_compound(payload):
            raise Unredactable("RTCP that is not a whole compound packet (SRTCP, or broken)")
        return redact_rtcp(payload, names)
    if (len(payload) >= 12 and payload[0] >> 6 == 2 and not 72 <= payload[1] & 0x7F <= 76
            and min(ports) >= WELL_KNOWN_PORTS and rtp_header_length(payload)):
        return zero_rtp_payload(payload, names) if drop_audio else payload
    raise Unredactable("a UDP payload of no protocol the redactor knows (not SIP, RTP, RTCP "
                       "or STUN)")


def zero_rtp_payload(packet: bytes, names: Pseudonyms) -> bytes:
    header = rtp_header_length(packet)
    keep = 1 if packet[0] & 0x20 else 0  # the padding count
    names.count(Kind.AUDIO, None)
    return packet[:header] + bytes(len(packet) - header - keep) + packet[len(packet) - keep:]


def redact_rtcp(compound: bytes, names: Pseudonyms) -> bytes:
    out, at = [], 0
    while at < len(compound):
        size = (int.from_bytes(compound[at + 2:at + 4], "big") + 1) * 4
        packet = compound[at:at + size]
        out.append(_redact_sdes(packet, names) if packet[1] == SDES else packet)
        at += size
    return b"".join(out)


def _redact_sdes(packet: bytes, names: Pseudonyms) -> bytes:
    """RFC 3550 6.5: chunks of an SSRC and items (type, length, text), each chunk ended by a
    null item and padded to 32 bits."""
    chunks, at, end = [], 4, len(packet)
    for _ in range(packet[0] & 0x1F):
        if at + 4 > end:
            raise Unredactable("an RTCP SDES packet cut short")
        chunk = bytearray(packet[at:at + 4])
        at += 4
        while at < end and packet[at]:
            kind, length = packet[at], packet[at + 1] if at + 1 < end else 0
            text = packet[at + 2:at + 2 + length].decode("latin-1")
            new = _sdes_item(kind, text, names).encode("latin-1")[:255]
            chunk += bytes([kind, len(new)]) + new
            at += 2 + length
        chunk += bytes(4 - len(chunk) % 4)  # the null item and the padding
        at = (at + 4) & ~3  # past the null item and the original padding
        chunks.append(bytes(chunk))
    body = b"".join(chunks)
    return bytes([packet[0] & ~0x20, SDES]) + struct.pack(">H", (len(body) + 4) // 4 - 1) + body


def _sdes_item(kind: int, text: str, names: Pseudonyms) -> str:
    if kind == SDES_TOOL:
        return text
    names.count(Kind.CNAME, (kind, text))
    if kind == SDES_CNAME:
        local, at, where = text.rpartition("@")
        if at:
            return names.identity(local) + "@" + host(where, names)
        if any(c in text for c in ".:") and " " not in text:
            return host(text, names)
    return names.identity(text)


def is_stun(payload: bytes) -> bool:
    """RFC 8489 5: the two top bits zero, the magic cookie, a length that fits."""
    return (len(payload) >= 20 and payload[0] < 4
            and int.from_bytes(payload[4:8], "big") == STUN_COOKIE
            and int.from_bytes(payload[2:4], "big") + 20 == len(payload))


def redact_stun(message: bytes, names: Pseudonyms) -> bytes:
    out = bytearray(message)
    at = 20
    while at + 4 <= len(out):
        kind, length = struct.unpack_from(">HH", out, at)
        value = at + 4
        if kind in _STUN_ADDRESSES or kind in _STUN_XOR_ADDRESSES:
            _redact_stun_address(out, value, length, kind in _STUN_XOR_ADDRESSES, names)
        elif kind == STUN_USERNAME:
            text = out[value:value + length].decode("latin-1")
            out[value:value + length] = names.identity(text).encode("latin-1")
        elif kind == STUN_FINGERPRINT:
            crc = zlib.crc32(bytes(out[:at])) ^ _FINGERPRINT_XOR
            struct.pack_into(">I", out, value, crc)
        at = value + length + (-length % 4)
    return bytes(out)


def _redact_stun_address(out: bytearray, at: int, length: int, xored: bool,
                         names: Pseudonyms) -> None:
    """RFC 8489 14.1, 14.2: family, port, address; XOR'ed with the cookie (and the
    transaction ID, for IPv6)."""
    size = {1: 4, 2: 16}.get(out[at + 1]) if length >= 8 else None
    if size is None or length < 4 + size:
        raise Unredactable("a STUN address attribute of unknown family")
    mask = bytes(out[4:20]) if xored else bytes(16)
    address = bytes(a ^ m for a, m in zip(out[at + 4:at + 4 + size], mask, strict=False))
    pseudo = names.ip(address)
    out[at + 4:at + 4 + size] = bytes(a ^ m for a, m in zip(pseudo, mask, strict=False))
