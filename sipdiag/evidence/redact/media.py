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
  mapped, USERNAME and REALM letter for letter, and FINGERPRINT computed again (15.5);
  MESSAGE-INTEGRITY cannot be (it needs the password) and no longer verifies.
- CRLF keep-alives (RFC 5626 4.4.1) and NAT keep-alives of zeros carry nothing: kept.

Anything else (DNS, TLS/DTLS, a vendor's protocol) may hold identifiers and is refused.
RTP is told from other UDP by its shape (version 2, a header that fits: ``rtp_header_length``,
a payload type outside RTCP's range, RFC 5761 4, neither port below 1024) and, since a
quarter of random bytes have that shape, by where it goes (``MediaFlows``): to or from an
address and port an SDP announced, or on a flow whose previous packet had the same SSRC. The
first packet of a flow no SDP announced is therefore refused (counted), the rest kept.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib

from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.text import host
from sipdiag.media.shape import is_rtcp_compound, rtp_header_length
from sipdiag.sip.parser import NotSip, parse_message

RTCP_TYPES = range(200, 208)
SDES = 202
SDES_CNAME, SDES_TOOL = 1, 6
STUN_COOKIE = 0x2112A442
_STUN_ADDRESSES = frozenset({0x0001, 0x8023, 0x802B, 0x802C})
_STUN_XOR_ADDRESSES = frozenset({0x0020, 0x8020, 0x0012, 0x0016})
STUN_USERNAME, STUN_REALM, STUN_FINGERPRINT = 0x0006, 0x0014, 0x8028
_FINGERPRINT_XOR = 0x5354554E
WELL_KNOWN_PORTS = 1024
MAX_FLOWS = 1 << 16
"""Flows whose last SSRC is remembered (all are forgotten past it)."""


Address = tuple[bytes, int]
"""An IP address (as packed in the redacted packet) and a port."""


class MediaFlows:
    """Where RTP may go: the addresses and ports the redacted SDPs announced, and the SSRC
    last seen on each flow no SDP announced."""

    def __init__(self) -> None:
        self._announced: set[Address] = set()
        self._ssrcs: dict[tuple[Address, Address], bytes] = {}

    def announce(self, message: bytes) -> None:
        """Every RTP and RTCP address of the SDP of a (redacted) message."""
        try:
            sdp = parse_message(message).sdp
        except NotSip:
            return
        for media in sdp.media if sdp is not None else ():
            addresses = [(media.connection, media.port), (media.connection, media.port + 1)]
            if media.rtcp is not None:
                addresses.append((media.rtcp[0] or media.connection, media.rtcp[1]))
            addresses += [(c.address, c.port) for c in media.candidates]
            for ip, port in addresses:
                packed = _packed(ip)
                if packed is not None:
                    self._announced.add((packed, port))

    def carries_rtp(self, src: Address, dst: Address, packet: bytes) -> bool:
        if dst in self._announced or src in self._announced:
            return True
        ssrc, flow = packet[8:12], (src, dst)
        seen = self._ssrcs.get(flow)
        if len(self._ssrcs) >= MAX_FLOWS:
            self._ssrcs.clear()
        self._ssrcs[flow] = ssrc
        return seen == ssrc


def _packed(ip: str | None) -> bytes | None:
    try:
        return ipaddress.ip_address(ip).packed if ip else None
    except ValueError:
        return None  # a host name: no packet carries it


def redact_media(payload: bytes, src: Address, dst: Address, flows: MediaFlows,
                 names: Pseudonyms, drop_audio: bool) -> bytes:
    if not payload.strip(b"\r\n\0"):
        return payload
    if is_stun(payload):
        return redact_stun(payload, names)
    if payload[0] >> 6 == 2 and payload[1] in RTCP_TYPES:
        if not is_rtcp_compound(payload):
            raise Unredactable("RTCP that is not a whole compound packet (SRTCP, or broken)")
        return redact_rtcp(payload, names)
    if (len(payload) >= 12 and payload[0] >> 6 == 2 and not 72 <= payload[1] & 0x7F <= 76
            and min(src[1], dst[1]) >= WELL_KNOWN_PORTS and rtp_header_length(payload)):
        if not flows.carries_rtp(src, dst, payload):
            raise Unredactable("the first RTP-like packet of a flow no SDP announced (RTP is "
                               "known by its second packet of the same SSRC)")
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
        elif kind in (STUN_USERNAME, STUN_REALM):
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
    size = {1: 4, 2: 16}.get(out[at + 1]) if length >= 8 and at + 2 <= len(out) else None
    if size is None or length < 4 + size:
        raise Unredactable("a STUN address attribute of unknown family")
    if at + 4 + size > len(out):
        raise Unredactable("a STUN address attribute longer than its packet")
    mask = bytes(out[4:20]) if xored else bytes(16)
    address = bytes(a ^ m for a, m in zip(out[at + 4:at + 4 + size], mask, strict=False))
    pseudo = names.ip(address)
    out[at + 4:at + 4 + size] = bytes(a ^ m for a, m in zip(pseudo, mask, strict=False))
