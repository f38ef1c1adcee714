"""Byte builders for tests: SIP text, IP/UDP/TCP packets, link layers and capture files.

Written with struct, field by field, so that every test states exactly the bytes it feeds in.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence

SDP = (
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)


def sip_request(
    method: str = "INVITE",
    call_id: str = "a84b4c76e66710@pc33.example.com",
    cseq: int = 1,
    body: str = "",
    uri: str = "sip:bob@example.com",
    extra: Sequence[str] = (),
) -> bytes:
    lines = [
        f"{method} {uri} SIP/2.0",
        "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@example.com>",
        "From: Alice <sip:alice@example.com>;tag=1928301774",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        "Contact: <sip:alice@pc33.example.com>",
        *extra,
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sip_response(
    status: int = 200,
    reason: str = "OK",
    call_id: str = "a84b4c76e66710@pc33.example.com",
    cseq: int = 1,
    method: str = "INVITE",
    body: str = "",
) -> bytes:
    lines = [
        f"SIP/2.0 {status} {reason}",
        "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds;received=192.0.2.10",
        "To: Bob <sip:bob@example.com>;tag=a6c85cf",
        "From: Alice <sip:alice@example.com>;tag=1928301774",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(
    src: str,
    dst: str,
    protocol: int,
    payload: bytes,
    ident: int = 1,
    fragment: int = 0,
    more: bool = False,
) -> bytes:
    flags = (0x2000 if more else 0) | (fragment // 8)
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        ident,
        flags,
        64,
        protocol,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + payload


def ipv6(src: str, dst: str, next_header: int, payload: bytes) -> bytes:
    return (
        struct.pack(
            "!IHBB16s16s",
            6 << 28,
            len(payload),
            next_header,
            64,
            ipaddress.IPv6Address(src).packed,
            ipaddress.IPv6Address(dst).packed,
        )
        + payload
    )


def ipv6_fragment(next_header: int, offset: int, more: bool, ident: int, data: bytes) -> bytes:
    """An IPv6 Fragment extension header and its data (put inside ``ipv6(..., 44, ...)``)."""
    return struct.pack("!BBHI", next_header, 0, offset | int(more), ident) + data


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(
    sport: int, dport: int, seq: int, payload: bytes = b"", flags: int = 0x18, ack: int = 0
) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


SYN, ACK, PSH_ACK, FIN_ACK = 0x02, 0x10, 0x18, 0x11


def ethernet(
    packet: bytes, ethertype: int = 0x0800, vlans: Sequence[tuple[int, int]] = ()
) -> bytes:
    """Ethernet II; ``vlans`` lists (tag protocol, VLAN id) from the outside in."""
    header = b"\x00\x00\x5e\x00\x53\x01" + b"\x00\x00\x5e\x00\x53\x02"
    for tpid, vid in vlans:
        header += struct.pack("!H", tpid) + struct.pack("!H", vid)
    return header + struct.pack("!H", ethertype) + packet


def udp4_frame(src: str, dst: str, payload: bytes, sport: int = 5060, dport: int = 5060) -> bytes:
    return ethernet(ipv4(src, dst, 17, udp(sport, dport, payload)))


def pcap(
    frames: Iterable[tuple[int, bytes]],
    linktype: int = 1,
    *,
    nanoseconds: bool = False,
    big_endian: bool = False,
    snaplen: int = 65535,
) -> bytes:
    """A libpcap file; each frame is (timestamp in ns, bytes)."""
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for ts, data in frames:
        seconds, rest = divmod(ts, 1_000_000_000)
        fraction = rest if nanoseconds else rest // 1000
        captured = data[:snaplen]
        out.append(struct.pack(order + "IIII", seconds, fraction, len(captured), len(data)))
        out.append(captured)
    return b"".join(out)


def _block(block_type: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def pcapng_section() -> bytes:
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def pcapng_interface(linktype: int, tsresol: int | None = None) -> bytes:
    options = b""
    if tsresol is not None:
        options = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    return _block(1, struct.pack("<HHI", linktype, 0, 0) + options)


def pcapng_packet(interface: int, ts_units: int, data: bytes) -> bytes:
    return _block(
        6,
        struct.pack(
            "<IIIII", interface, ts_units >> 32, ts_units & 0xFFFFFFFF, len(data), len(data)
        )
        + data,
    )


def linux_sll(packet: bytes, protocol: int = 0x0800) -> bytes:
    """Linux cooked capture v1: packet type, ARPHRD type, address length and 8 address bytes,
    then the protocol (an ethertype) in bytes 14-15."""
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x00\x00\x5e\x00\x53\x01\0\0", protocol) + packet


def linux_sll2(packet: bytes, protocol: int = 0x0800) -> bytes:
    """Linux cooked capture v2: the protocol first, then reserved, interface index, ARPHRD
    type, packet type, address length and 8 address bytes (20 bytes in all)."""
    address = b"\x00\x00\x5e\x00\x53\x01\0\0"
    return struct.pack("!HHIHBB8s", protocol, 0, 2, 1, 0, 6, address) + packet


def bsd_null(packet: bytes, family: int, order: str = "<") -> bytes:
    """BSD loopback (NULL, LOOP): a 4-byte address family in ``order`` ("<" or ">")."""
    return struct.pack(order + "I", family) + packet


def vxlan(frame: bytes, vni: int = 1) -> bytes:
    """A VXLAN header (RFC 7348: flags with I set, 24-bit VNI) and the Ethernet frame it carries."""
    return struct.pack("!B3xI", 0x08, vni << 8) + frame


def gtp_u(
    packet: bytes, sequence: int | None = None, extensions: Sequence[tuple[int, bytes]] = ()
) -> bytes:
    """A GTP-U G-PDU (3GPP TS 29.281 5.1): version 1, PT 1, message type 255, length, TEID;
    with a sequence number (S) or extension headers (E), the 4 optional bytes (sequence,
    N-PDU number, next extension header type), then each extension header: its length in
    4-byte units, its content, the type of the next one (0: none). ``extensions`` is a list of
    (type, content), each content 2 bytes short of a multiple of 4."""
    flags = 0x30
    rest = b""
    if sequence is not None or extensions:
        flags |= (0x02 if sequence is not None else 0) | (0x04 if extensions else 0)
        types = [kind for kind, _ in extensions] + [0]
        rest = struct.pack("!HBB", sequence or 0, 0, types[0])
        for (_, content), following in zip(extensions, types[1:], strict=True):
            assert (len(content) + 2) % 4 == 0
            rest += bytes([(len(content) + 2) // 4]) + content + bytes([following])
    rest += packet
    return struct.pack("!BBHI", flags, 0xFF, len(rest), 0x1234) + rest


def sctp(
    sport: int, dport: int, chunks: Sequence[tuple[int, int, bytes]], tag: int = 1
) -> bytes:
    """An SCTP packet (RFC 9260 3): common header, then chunks given as (type, flags, value),
    each with its 4-byte header and padded to a multiple of 4 bytes."""
    body = b""
    for kind, flags, value in chunks:
        chunk = struct.pack("!BBH", kind, flags, 4 + len(value)) + value
        body += chunk + b"\0" * (-len(chunk) % 4)
    return struct.pack("!HHII", sport, dport, tag, 0) + body


def sctp_data(tsn: int, data: bytes, ppid: int = 0, stream: int = 0, ssn: int = 0) -> bytes:
    """The value of a DATA chunk (RFC 9260 3.3.1): TSN, stream id, stream sequence, PPID."""
    return struct.pack("!IHHI", tsn, stream, ssn, ppid) + data


def sctp_i_data(tsn: int, data: bytes, mid: int = 0, ppid: int = 0) -> bytes:
    """The value of an I-DATA chunk (RFC 8260 2.1): TSN, stream id, reserved, message id,
    PPID (or fragment sequence number)."""
    return struct.pack("!IHHII", tsn, 0, 0, mid, ppid) + data


def websocket_frame(opcode: int, payload: bytes, fin: bool = True, key: bytes | None = None,
             rsv: int = 0, length_bytes: int | None = None) -> bytes:
    """One frame (RFC 6455 5.2): FIN, RSV, opcode; MASK and a 7-, 16- or 64-bit payload
    length (the shortest that fits unless ``length_bytes`` says 2 or 8); the masking key; the
    payload, XORed with the key when there is one (5.3)."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    mask = 0x80 if key is not None else 0
    size = len(payload)
    if length_bytes is None:
        length_bytes = 0 if size < 126 else 2 if size < 1 << 16 else 8
    if length_bytes == 0:
        header = bytes([first, mask | size])
    elif length_bytes == 2:
        header = bytes([first, mask | 126]) + struct.pack(">H", size)
    else:
        header = bytes([first, mask | 127]) + struct.pack(">Q", size)
    if key is None:
        return header + payload
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return header + key + masked
