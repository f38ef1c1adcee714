"""SCTP packets redacted: SIP in DATA and I-DATA chunks (RFC 4168), the checksum computed again.

A packet is its common header (ports, verification tag, CRC32c checksum: RFC 9260 3.1) and
chunks, each padded to 4 bytes. A DATA chunk that holds a whole user message (B and E flags
set) and carries SIP has it redacted, and the chunk's length written again. The pieces of a
message split over chunks, maybe over packets, are put together in TSN order (by the
decoder's ``SctpReassembler``), the message redacted, and cut again: each piece keeps its
size but the last, which takes the rest (pieces are shortened, if the message shrank, so that
each keeps a byte at least). Until then the packet waits (``SctpPacket.ready``); a piece
whose message never completes (or repeats one already seen) makes its packet left out.
Chunks that carry no identifier (SACK, SHUTDOWN and its answers, COOKIE ACK) are kept. The
others are refused: INIT and INIT ACK list the endpoints' addresses, and HEARTBEAT, COOKIE
ECHO, ABORT and ERROR carry opaque or free data that may hold them.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from sipdiag.evidence.redact.pseudonyms import Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.sip import redact_message
from sipdiag.network import Endpoint, Flow, sctp

COMMON_HEADER = 12
CHECKSUM_AT = 8
SACK, SHUTDOWN, SHUTDOWN_ACK, COOKIE_ACK, SHUTDOWN_COMPLETE = 3, 7, 8, 11, 14
KEPT = frozenset({SACK, SHUTDOWN, SHUTDOWN_ACK, COOKIE_ACK, SHUTDOWN_COMPLETE})
DATA_HEADERS = {sctp.DATA: 16, sctp.I_DATA: 20}
"""The size of a data chunk's header before its user data (RFC 9260 3.3.1, RFC 8260 2.1)."""
_CHUNK = struct.Struct(">BBH")
_WHOLE = sctp.FLAG_BEGIN | sctp.FLAG_END


Piece = bytes | int
"""A chunk as it goes out, or the number of a piece of a message not yet redacted."""


@dataclass(frozen=True, slots=True)
class SctpPacket:
    """A packet's chunks, some of them pieces of messages that may not be redacted yet."""

    messages: SctpMessages
    header: bytes
    chunks: tuple[Piece, ...]

    def ready(self) -> bool:
        return all(self.messages.done(c) for c in self.chunks if isinstance(c, int))

    def give_up(self) -> None:
        for chunk in self.chunks:
            if isinstance(chunk, int):
                self.messages.fail(chunk, "a piece of a SIP message over SCTP whose other "
                                   "pieces never came (or a repeated piece)")

    def render(self) -> bytes:
        out = bytearray(self.header)
        for chunk in self.chunks:
            data = chunk if isinstance(chunk, bytes) else self.messages.piece(chunk)
            out += data + bytes(-len(data) % 4)  # chunks are padded to 4 bytes (RFC 9260 3.2)
        struct.pack_into("<I", out, CHECKSUM_AT, 0)
        struct.pack_into("<I", out, CHECKSUM_AT, crc32c(bytes(out)))
        return bytes(out)


class SctpMessages:
    """The SCTP packets of a capture read in order; messages split over chunks put together."""

    def __init__(self, names: Pseudonyms) -> None:
        self._names = names
        self._reassembler = sctp.SctpReassembler()
        self._waiting: dict[int, bytes] = {}
        """Pieces not yet redacted: their chunk as it came."""
        self._pieces: dict[int, bytes | str] = {}
        """Pieces redacted (the chunk as it goes out), or why they cannot be."""
        self._count = 0

    def read(self, src: bytes, dst: bytes, packet: bytes) -> SctpPacket:
        """``packet``, from and to these (redacted) addresses, taken apart."""
        if len(packet) < COMMON_HEADER:
            raise Unredactable("an SCTP common header cut short")
        flow = Flow(_endpoint(src, packet, 0), _endpoint(dst, packet, 2))
        chunks: list[Piece] = []
        off = COMMON_HEADER
        while off < len(packet):
            if off + _CHUNK.size > len(packet):
                raise Unredactable("an SCTP chunk header cut short")
            kind, flags, length = _CHUNK.unpack_from(packet, off)
            if length < _CHUNK.size or off + length > len(packet):
                raise Unredactable(f"an SCTP chunk of type {kind} with a bad length {length}")
            chunks.append(self._chunk(flow, kind, flags, packet[off:off + length]))
            off += length + -length % 4
        return SctpPacket(self, packet[:COMMON_HEADER], tuple(chunks))

    def done(self, number: int) -> bool:
        return number in self._pieces

    def fail(self, number: int, why: str) -> None:
        self._pieces.setdefault(number, why)
        self._waiting.pop(number, None)

    def piece(self, number: int) -> bytes:
        piece = self._pieces.pop(number)
        if isinstance(piece, str):
            raise Unredactable(piece)
        return piece

    def _chunk(self, flow: Flow, kind: int, flags: int, chunk: bytes) -> Piece:
        if kind in KEPT:
            return chunk
        header = DATA_HEADERS.get(kind)
        if header is None:
            raise Unredactable(f"SCTP chunks of type {kind} are not redacted")
        if len(chunk) < header:
            raise Unredactable("an SCTP data chunk header cut short")
        if flags & _WHOLE == _WHOLE:
            return _with_data(chunk, header, redact_message(chunk[header:], self._names))
        number = self._count
        self._count += 1
        self._waiting[number] = chunk
        # the reassembler reads packets: this chunk alone behind an empty common header
        alone = bytes(COMMON_HEADER) + chunk
        for message, numbers in self._reassembler.packet(flow, alone, 0, len(alone), number):
            self._redact(message, numbers)
        return number

    def _redact(self, message: bytes, numbers: tuple[int, ...]) -> None:
        """A message put together from these pieces redacted, and cut again."""
        try:
            new = redact_message(message, self._names)
            if len(new) < len(numbers):
                raise Unredactable("a SIP message over SCTP too short for its pieces")
        except Unredactable as exc:
            for number in numbers:
                self.fail(number, str(exc))
            return
        at = 0
        for index, number in enumerate(numbers):
            chunk = self._waiting.pop(number)
            header = DATA_HEADERS[chunk[0]]
            later = len(numbers) - 1 - index
            end = (min(at + len(chunk) - header, len(new) - later) if later else len(new))
            self._pieces[number] = _with_data(chunk, header, new[at:end])
            at = end


def _endpoint(address: bytes, packet: bytes, at: int) -> Endpoint:
    return Endpoint(str(ipaddress.ip_address(address)), packet[at] << 8 | packet[at + 1])


def _with_data(chunk: bytes, header: int, data: bytes) -> bytes:
    """A data chunk carrying ``data`` instead, its length written again."""
    return chunk[:2] + struct.pack(">H", header + len(data)) + chunk[4:header] + data


def _table() -> tuple[int, ...]:
    """CRC32c (Castagnoli, RFC 9260 appendix A), its reflected polynomial 0x82F63B78."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = crc >> 1 ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return tuple(table)


_TABLE = _table()


def crc32c(data: bytes) -> int:
    """The CRC32c of ``data``: written least significant byte first into SCTP's checksum field
    (RFC 9260 appendix A, whose reflected bit order puts it so on the wire)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ crc >> 8
    return crc ^ 0xFFFFFFFF
