"""Redaction through encapsulations, on crafted frames: IP in IP, GRE (with checksum, PPTP's
enhanced GRE, ERSPAN), VXLAN, GTP-U, HEP and SCTP. The SIP inside is redacted; every length
and checksum on the way out is right, as tshark checks them and as the RFCs compute them; the
outer headers' addresses get the same pseudonyms as the inner ones."""

from __future__ import annotations

import ipaddress
import struct
import subprocess
import zlib
from pathlib import Path

from sipdiag.capture import open_captures
from sipdiag.capture.copy import route_frames
from sipdiag.evidence.redact import RedactionSummary
from sipdiag.problems import ProblemLog
from tests.evidence.redact_checks import redact
from tests.packets import (
    ethernet,
    gtp_u,
    ipv4,
    ipv6,
    pcap,
    sctp,
    sctp_data,
    sip_request,
    udp,
    vxlan,
)

ALICE, BOB = "192.0.2.10", "198.51.100.20"
"""The SIP endpoints, inside the tunnel."""
GATE_A, GATE_B = "203.0.113.1", "203.0.113.2"
"""The tunnel's ends."""
V6_A, V6_B = "2001:db8::a", "2001:db8::b"
USER = "alicesecretuser"
GRE, IPIP, IPV6_IN_IP, UDP, SCTP = 47, 4, 41, 17, 132
CHECKED = ("-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-o", "sctp.checksum:CRC-32C")
GOOD = "1"
"""A checksum status tshark found right (0 is wrong, 2 not checked)."""
NO_CHECKSUM = "3"
"""UDP over IPv4 with a checksum of zero: none (RFC 768)."""


def _sip() -> bytes:
    return sip_request("INVITE", uri=f"sip:{USER}@example.com",
                       extra=[f"P-Asserted-Identity: <sip:{USER}@example.com>"])


def _inner(src: str = ALICE, dst: str = BOB) -> bytes:
    return ipv4(src, dst, UDP, _checksummed_udp(src, dst, _sip()))


def _checksummed_udp(src: str, dst: str, payload: bytes, sport: int = 5060) -> bytes:
    """A UDP datagram with its checksum (RFC 768), so that the redactor keeps one."""
    segment = bytearray(udp(sport, 5060, payload))
    pseudo = (ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
              + struct.pack("!HH", UDP, len(segment)))
    struct.pack_into("!H", segment, 6, _internet_checksum(pseudo + bytes(segment)) or 0xFFFF)
    return bytes(segment)


def _internet_checksum(data: bytes) -> int:
    """RFC 1071: the ones' complement of the ones' complement sum of 16-bit words."""
    data += b"\0" * (len(data) % 2)
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _redacted(tmp_path: Path, *frames: bytes, linktype: int = 1) -> tuple[Path, RedactionSummary]:
    source, target = tmp_path / "in.pcap", tmp_path / "out.pcapng"
    source.write_bytes(pcap([(i * 1000, f) for i, f in enumerate(frames)], linktype))
    return target, redact(source, target)


def _fields(path: Path, *fields: str) -> list[list[str]]:
    command = ["tshark", "-n", "-r", str(path), *CHECKED, "-T", "fields", "-E", "occurrence=a",
               "-E", "aggregator=|"]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def _frames(path: Path) -> list[bytes]:
    """The frames of the redacted file, as read back."""
    frames: list[bytes] = []

    class Sink:
        def write(self, linktype: int, ts_ns: int, data: bytes, orig_len: int) -> None:
            frames.append(data)

    reader = open_captures([path])
    route_frames(reader, lambda _: (Sink(),), problems=ProblemLog())
    reader.close()
    return frames


def _assert_clean(path: Path, summary: RedactionSummary, frames: int = 1) -> None:
    """Every frame written, no user left, every IP and UDP checksum right, nothing malformed."""
    assert summary.left_out == {}
    assert summary.frames_written == frames
    data = path.read_bytes()
    assert USER.encode() not in data
    for address in (ALICE, BOB, GATE_A, GATE_B):
        assert ipaddress.ip_address(address).packed not in data
    rows = _fields(path, "ip.checksum.status", "udp.checksum.status", "_ws.malformed",
                   "_ws.expert.severity")
    for ip_status, udp_status, malformed, _ in rows:
        assert set(ip_status.split("|")) <= {GOOD, ""}
        assert set(udp_status.split("|")) <= {GOOD, NO_CHECKSUM, ""}
        assert not malformed


def _ip_lengths(path: Path) -> list[list[int]]:
    return [[int(v) for v in row[0].split("|")] for row in _fields(path, "ip.len")]


def test_ip_in_ip_inner_sip_redacted_and_both_ip_headers_rewritten(tmp_path: Path) -> None:
    """RFC 2003: the outer total length is the inner packet's plus 20; both headers' checksums
    are computed again."""
    frame = ethernet(ipv4(GATE_A, GATE_B, IPIP, _inner()))
    out, summary = _redacted(tmp_path, frame)
    _assert_clean(out, summary)
    [(outer, inner)] = _ip_lengths(out)
    [data] = _frames(out)
    assert len(data) != len(frame)  # the SIP message changed size: the lengths had to move
    assert outer == len(data) - 14 and inner == outer - 20
    [[sources]] = _fields(out, "ip.src")
    assert len(set(sources.split("|"))) == 2


def test_ipv6_in_ipv4_and_ipv4_in_ipv6(tmp_path: Path) -> None:
    """RFC 4213 (protocol 41) and RFC 2473: the IPv6 payload length follows the new size."""
    v6_inner = ipv6(V6_A, V6_B, UDP, _checksummed_udp(V6_A, V6_B, _sip()))
    six_in_four = ethernet(ipv4(GATE_A, GATE_B, IPV6_IN_IP, v6_inner))
    four_in_six = ethernet(ipv6(V6_A, V6_B, IPIP, _inner()), ethertype=0x86DD)
    out, summary = _redacted(tmp_path, six_in_four, four_in_six)
    _assert_clean(out, summary, frames=2)
    first, second = _frames(out)
    rows = _fields(out, "ip.len", "ipv6.plen", "udp.checksum.status")
    assert int(rows[0][1]) == len(first) - 14 - 20 - 40
    assert int(rows[1][1]) == len(second) - 14 - 40 and int(rows[1][0]) == len(second) - 14 - 40
    assert all(row[2] == GOOD for row in rows)
    assert ipaddress.ip_address(V6_A).packed not in first + second


def _gre(protocol: int, payload: bytes, flags: int = 0xB0) -> bytes:
    """GRE (RFC 2784, RFC 2890) with a checksum, a key and a sequence number when ``flags``
    says so (C 0x80, K 0x20, S 0x10); the checksum is computed here."""
    header = bytearray(struct.pack("!BBH", flags, 0, protocol))
    if flags & 0x80:
        header += bytes(4)
    if flags & 0x20:
        header += struct.pack("!I", 0x1234)
    if flags & 0x10:
        header += struct.pack("!I", 7)
    if flags & 0x80:
        struct.pack_into("!H", header, 4, _internet_checksum(bytes(header) + payload))
    return bytes(header) + payload


def test_gre_with_checksum_key_and_sequence(tmp_path: Path) -> None:
    """RFC 2784 2.5: the GRE checksum covers the GRE header and its payload."""
    frame = ethernet(ipv4(GATE_A, GATE_B, GRE, _gre(0x0800, _inner())))
    out, summary = _redacted(tmp_path, frame)
    _assert_clean(out, summary)
    [data] = _frames(out)
    gre = data[14 + 20:]
    assert _internet_checksum(gre) == 0  # a right checksum sums to all ones
    assert gre[8:12] == struct.pack("!I", 0x1234) and gre[12:16] == struct.pack("!I", 7)
    [[status]] = _fields(out, "gre.checksum.status")
    assert status == GOOD


def test_enhanced_gre_carrying_ppp(tmp_path: Path) -> None:
    """RFC 2637 4.1: PPTP's GRE (version 1, key present) writes the length of its payload (the
    PPP frame) in the key's high half."""
    ppp = b"\xff\x03\x00\x21" + _inner()
    header = struct.pack("!BBHHHI", 0x30, 0x01, 0x880B, len(ppp), 0x77, 5)
    frame = ethernet(ipv4(GATE_A, GATE_B, GRE, header + ppp))
    out, summary = _redacted(tmp_path, frame)
    _assert_clean(out, summary)
    [data] = _frames(out)
    [[length, call]] = _fields(out, "gre.key.payload_length", "gre.key.call_id")
    assert int(length) == len(data) - 14 - 20 - 12 and call == str(0x77)


def test_erspan_ii_and_iii_carrying_ethernet(tmp_path: Path) -> None:
    """ERSPAN type II (GRE 0x88BE, a sequence number, 8 bytes) and type III (GRE 0x22EB, 12
    bytes): the mirrored Ethernet frame has its MAC and IP addresses replaced."""
    mirrored = ethernet(_inner())
    type2 = _gre(0x88BE, struct.pack("!II", 0x1000_0001, 0) + mirrored, flags=0x10)
    type3 = _gre(0x22EB, struct.pack("!IIHH", 0x2000_0001, 0, 0, 0) + mirrored, flags=0x10)
    out, summary = _redacted(tmp_path, ethernet(ipv4(GATE_A, GATE_B, GRE, type2)),
                             ethernet(ipv4(GATE_A, GATE_B, GRE, type3)))
    _assert_clean(out, summary, frames=2)
    macs = _fields(out, "eth.src")
    assert all(len(row[0].split("|")) == 2 for row in macs)
    assert b"\x00\x00\x5e\x00\x53\x01" not in out.read_bytes()
    for data, (outer, inner), erspan in zip(_frames(out), _ip_lengths(out), (8, 12),
                                            strict=True):
        assert outer == len(data) - 14 and inner == outer - 20 - 8 - erspan - 14


def test_vxlan_udp_length_and_checksum(tmp_path: Path) -> None:
    """RFC 7348: UDP, 8 bytes of VXLAN, an Ethernet frame; the outer UDP length and checksum
    (over the pseudo-header, RFC 768) follow the new inner frame."""
    carried = vxlan(ethernet(_inner()))
    frame = ethernet(ipv4(GATE_A, GATE_B, UDP, _checksummed_udp(GATE_A, GATE_B, carried, 4789)))
    out, summary = _redacted(tmp_path, frame)
    _assert_clean(out, summary)
    [data] = _frames(out)
    [[lengths, statuses]] = _fields(out, "udp.length", "udp.checksum.status")
    outer, inner = (int(v) for v in lengths.split("|"))
    assert outer == len(data) - 14 - 20 and inner == outer - 8 - 8 - 14 - 20
    assert statuses == f"{GOOD}|{GOOD}"


def test_gtp_u_with_extension_header_length(tmp_path: Path) -> None:
    """3GPP TS 29.281 5.1: GTP-U's length counts what follows its first 8 bytes, optional
    fields and extension headers included; a zero outer UDP checksum stays zero (RFC 768)."""
    carried = gtp_u(_inner(), sequence=3, extensions=[(0x85, b"\x00\x09")])
    frame = ethernet(ipv4(GATE_A, GATE_B, UDP, udp(2152, 2152, carried)))
    out, summary = _redacted(tmp_path, frame)
    _assert_clean(out, summary)
    [data] = _frames(out)
    [[length, checksums]] = _fields(out, "gtp.length", "udp.checksum")
    assert int(length) == len(data) - 14 - 20 - 8 - 8
    assert checksums.split("|")[0] == "0x0000"


def _hep3(chunks: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(struct.pack("!HHH", 0, kind, 6 + len(value)) + value
                    for kind, value in chunks)
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def _hep3_chunks(packet: bytes) -> dict[int, bytes]:
    assert packet[:4] == b"HEP3" and struct.unpack_from("!H", packet, 4)[0] == len(packet)
    chunks, off = {}, 6
    while off < len(packet):
        _, kind, length = struct.unpack_from("!HHH", packet, off)
        chunks[kind] = packet[off + 6:off + length]
        off += length
    assert off == len(packet)
    return chunks


def test_hep3_chunks_redacted_like_ip_headers(tmp_path: Path) -> None:
    """HEP3: the address chunks get the pseudonyms the same addresses get in IP headers; the
    payload (plain or zlib-compressed) is redacted SIP; the password is replaced; each chunk's
    length and the total length are right. The agent sends from ALICE's address to BOB's, so
    the outer IP header holds the addresses the chunks name."""
    common = [(1, b"\x02"), (2, b"\x11"), (3, ipaddress.ip_address(ALICE).packed),
              (4, ipaddress.ip_address(BOB).packed), (7, b"\x13\xc4"), (8, b"\x13\xc4"),
              (11, b"\x01"), (14, b"agentpassword")]
    plain = _hep3([*common, (15, _sip())])
    compressed = _hep3([*common, (16, zlib.compress(_sip()))])
    frames = [ethernet(ipv4(ALICE, BOB, UDP, _checksummed_udp(ALICE, BOB, hep, 9060)))
              for hep in (plain, compressed)]
    out, summary = _redacted(tmp_path, *frames)
    _assert_clean(out, summary, frames=2)
    for data in _frames(out):
        udp_at = 14 + 20
        chunks = _hep3_chunks(data[udp_at + 8:])
        assert chunks[3] == data[14 + 12:14 + 16] and chunks[4] == data[14 + 16:14 + 20]
        assert chunks[7] == chunks[8] == b"\x13\xc4"
        assert b"agentpassword" not in chunks[14]
        sip = chunks[15] if 15 in chunks else zlib.decompress(chunks[16])
        assert sip.startswith(b"INVITE sip:") and USER.encode() not in sip
        assert struct.unpack_from("!H", data, udp_at + 4)[0] == len(data) - udp_at


def test_hepv2_addresses_and_payload_redacted(tmp_path: Path) -> None:
    """HEPv2 for IPv4: version, header length 28, family, protocol, ports, the two addresses,
    then seconds, microseconds and the agent's id (12 bytes), then the SIP message."""
    header = (struct.pack("!BBBBHH", 2, 28, 2, 17, 5060, 5060)
              + ipaddress.ip_address(ALICE).packed + ipaddress.ip_address(BOB).packed
              + struct.pack("<IIHxx", 1_700_000_000, 5, 7))
    frame = ethernet(ipv4(ALICE, BOB, UDP, _checksummed_udp(ALICE, BOB, header + _sip(), 9060)))
    out, summary = _redacted(tmp_path, frame)
    _assert_clean(out, summary)
    [data] = _frames(out)
    hep = data[14 + 20 + 8:]
    assert hep[:8] == header[:8] and hep[16:28] == header[16:28]
    assert hep[8:12] == data[14 + 12:14 + 16] and hep[12:16] == data[14 + 16:14 + 20]
    assert hep[28:].startswith(b"INVITE sip:") and USER.encode() not in hep


def _crc32c(data: bytes) -> int:
    """CRC32c bit by bit (RFC 9260 appendix A: reflected, polynomial 0x1EDC6F41)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _sctp_checksum_right(packet: bytes) -> bool:
    zeroed = packet[:8] + bytes(4) + packet[12:]
    return packet[8:12] == struct.pack("<I", _crc32c(zeroed))


def test_sctp_data_redacted_whole_and_split_over_packets(tmp_path: Path) -> None:
    """RFC 4168: one SIP message per user message. A whole one (B and E flags) is redacted in
    its chunk; one split over two packets is put together, redacted and cut again (the first
    piece keeps its size, the last takes the rest). Chunk lengths and the CRC32c (RFC 9260
    6.8) are right."""
    message = _sip()
    whole = sctp(5060, 5060, [(0, 0x03, sctp_data(1, message))])
    first = sctp(5060, 5060, [(0, 0x02, sctp_data(2, message[:40]))])
    last = sctp(5060, 5060, [(0, 0x01, sctp_data(3, message[40:]))])
    frames = [ethernet(ipv4(ALICE, BOB, SCTP, p)) for p in (whole, first, last)]
    out, summary = _redacted(tmp_path, *frames)
    _assert_clean(out, summary, frames=3)
    pieces = []
    for data in _frames(out):
        packet = data[14 + 20:]
        assert _sctp_checksum_right(packet)
        length = struct.unpack_from("!H", packet, 14)[0]
        assert len(packet) == 12 + length + -length % 4
        pieces.append(packet[12 + 16:12 + length])
    assert len(pieces[1]) == 40
    assert pieces[1] + pieces[2] == pieces[0]  # the same message, redacted the same way
    assert pieces[0].startswith(b"INVITE sip:") and USER.encode() not in pieces[0]
    statuses = _fields(out, "sctp.checksum.status")
    assert [row[0] for row in statuses] == [GOOD] * 3


def test_sctp_init_is_left_out_counted(tmp_path: Path) -> None:
    """INIT lists the endpoint's addresses (RFC 9260 3.3.2): not redacted, so left out."""
    init = sctp(5060, 5060, [(1, 0, struct.pack("!IIHHI", 1, 65535, 1, 1, 1)
                                  + struct.pack("!HH4s", 5, 8, bytes(4)))], tag=0)
    _, summary = _redacted(tmp_path, ethernet(ipv4(ALICE, BOB, SCTP, init)))
    assert summary.left_out == {"SCTP chunks of type 1 are not redacted": 1}


def test_tunnels_nested_deeper_than_the_decoder_reads_are_left_out(tmp_path: Path) -> None:
    packet = _inner()
    for _ in range(9):
        packet = ipv4(GATE_A, GATE_B, IPIP, packet)
    _, summary = _redacted(tmp_path, ethernet(packet))
    assert summary.left_out == {"more than 8 encapsulations": 1}


def test_hep3_whose_chunks_do_not_fill_it_is_left_out(tmp_path: Path) -> None:
    """Three bytes after the last chunk (too few for a chunk's header), or a chunk shorter
    than its own header: the packet cannot be taken apart whole, so it is left out."""
    common = [(1, b"\x02"), (2, b"\x11"), (3, ipaddress.ip_address(ALICE).packed),
              (4, ipaddress.ip_address(BOB).packed), (11, b"\x01"), (15, _sip())]
    good = _hep3(common)
    trailing = good[:4] + struct.pack("!H", len(good) + 3) + good[6:] + b"\x00\x01\x02"
    short = good[:4] + struct.pack("!H", len(good) + 6) + good[6:] + struct.pack("!HHH", 0, 9, 2)
    frames = [ethernet(ipv4(ALICE, BOB, UDP, _checksummed_udp(ALICE, BOB, hep, 9060)))
              for hep in (trailing, short)]
    out, summary = _redacted(tmp_path, *frames)
    assert _frames(out) == [] and sum(summary.left_out.values()) == 2
