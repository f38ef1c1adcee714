"""pcapng files: several sections, several interfaces, each with its own link type and clock.

A file is a sequence of blocks (type, total length, body, total length again). A Section Header
Block sets the byte order and forgets the interfaces of the previous section; each Interface
Description Block adds an interface with its link type and timestamp resolution (``if_tsresol``,
default microseconds) and offset (``if_tsoffset``). Enhanced, Simple and the obsolete Packet
Blocks carry frames; Wireshark numbers each of them as one frame, and so do we. Other blocks
(statistics, name resolution, decryption secrets, custom) are skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from sipdiag.capture import FrameHandler, FrameSink, Reader
from sipdiag.capture.source import ByteSource
from sipdiag.problems import ProblemLog

SECTION_HEADER = 0x0A0D0D0A
INTERFACE = 0x00000001
OBSOLETE_PACKET = 0x00000002
SIMPLE_PACKET = 0x00000003
ENHANCED_PACKET = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPTION_TSRESOL = 9
OPTION_TSOFFSET = 14
MAX_BLOCK = 1 << 26


def recognise(head: bytes) -> bool:
    return head[:4] == b"\x0a\x0d\x0d\x0a"


def open_reader(source: ByteSource, head: bytes) -> PcapngReader:
    return PcapngReader(source, head)


class Interface(NamedTuple):
    handler: FrameHandler
    ts_mul: int
    ts_div: int
    """Timestamp units times ts_mul // ts_div gives nanoseconds."""
    ts_offset_ns: int
    snaplen: int
    linktype: int


class PcapngError(Exception):
    """A block that cannot be read; the rest of the file cannot be trusted."""


class PcapngReader(Reader):
    format = "pcapng"

    def __init__(self, source: ByteSource, head: bytes) -> None:
        super().__init__(source)
        self._first_block = head
        self.interfaces: list[Interface] = []
        self.sections = 0
        self._order = "<"

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        buf, off = self._first_block, 0
        try:
            while True:
                off = self._blocks(buf, off, sink)
                more = self.source.read()
                if not more:
                    break
                buf, off = buf[off:] + more, 0
                yield self.source.consumed
        except PcapngError as exc:
            problems.add("capture_corrupt", self.frame_count + 1, str(exc))
            return
        if off < len(buf):
            self._note_cut(problems, f"the file ends {len(buf) - off} bytes into a block")

    def _blocks(self, buf: bytes, off: int, sink: FrameSink) -> int:
        """Read every whole block of ``buf`` from ``off``; return where the first partial one starts."""
        size = len(buf)
        block = struct.Struct(self._order + "II").unpack_from
        enhanced = struct.Struct(self._order + "IIIII").unpack_from
        interfaces = self.interfaces
        number, ts = self.frame_count, None
        while off + 12 <= size:
            btype, blen = block(buf, off)
            order = self._order
            if btype == SECTION_HEADER:  # reads the same in either byte order
                order = _section_order(buf, off)
                blen = struct.unpack_from(order + "I", buf, off + 4)[0]
            end = off + blen
            if blen < 12 or blen % 4 or blen > MAX_BLOCK:
                raise PcapngError(f"block at byte {off} has an impossible length {blen}")
            if end > size:
                break
            if btype == ENHANCED_PACKET:
                if_id, hi, lo, caplen, origlen = enhanced(buf, off + 8)
                if if_id >= len(interfaces):
                    raise PcapngError(f"packet block refers to undeclared interface {if_id}")
                interface = interfaces[if_id]
                number += 1
                ts = ((hi << 32) | lo) * interface.ts_mul // interface.ts_div
                ts += interface.ts_offset_ns
                interface.handler(number, ts, buf, off + 28, min(off + 28 + caplen, end - 4), origlen)
            elif btype in (SIMPLE_PACKET, OBSOLETE_PACKET):
                number += 1
                ts = self._old_packet(btype, buf, off, end, number)
            elif btype == INTERFACE:
                self._add_interface(buf, off, end, sink)
                interfaces = self.interfaces
            elif btype == SECTION_HEADER:
                self._order, self.interfaces = order, []
                self.sections += 1
                interfaces = self.interfaces
                block = struct.Struct(order + "II").unpack_from
                enhanced = struct.Struct(order + "IIIII").unpack_from
            if self.first_ts_ns is None:
                self.first_ts_ns = ts
            off = end
        self.frame_count = number
        if ts is not None:
            self.last_ts_ns = ts
        return off

    def _add_interface(self, buf: bytes, off: int, end: int, sink: FrameSink) -> None:
        linktype, _, snaplen = struct.unpack_from(self._order + "HHI", buf, off + 8)
        ts_mul, ts_div, ts_offset = 1000, 1, 0
        for code, value in _options(buf, off + 16, end - 4, self._order):
            if code == OPTION_TSRESOL and value:
                ts_mul, ts_div = _resolution(value[0])
            elif code == OPTION_TSOFFSET and len(value) == 8:
                ts_offset = struct.unpack(self._order + "q", value)[0] * 1_000_000_000
        self.linktypes.add(linktype)
        handler = sink.link_handler(linktype)
        self.interfaces.append(Interface(handler, ts_mul, ts_div, ts_offset, snaplen, linktype))

    def _old_packet(self, btype: int, buf: bytes, off: int, end: int, number: int) -> int | None:
        """Simple Packet Block (no timestamp, interface 0) or obsolete Packet Block."""
        if not self.interfaces:
            raise PcapngError(f"packet block at byte {off} comes before any interface")
        if btype == SIMPLE_PACKET:
            origlen = struct.unpack_from(self._order + "I", buf, off + 8)[0]
            interface = self.interfaces[0]
            caplen = min(origlen, end - 4 - (off + 12))
            if interface.snaplen:
                caplen = min(caplen, interface.snaplen)
            interface.handler(number, 0, buf, off + 12, off + 12 + caplen, origlen)
            return None
        if_id, _, hi, lo, caplen, origlen = struct.unpack_from(self._order + "HHIIII", buf, off + 8)
        if if_id >= len(self.interfaces):
            raise PcapngError(f"packet block refers to undeclared interface {if_id}")
        interface = self.interfaces[if_id]
        ts = ((hi << 32) | lo) * interface.ts_mul // interface.ts_div + interface.ts_offset_ns
        interface.handler(number, ts, buf, off + 28, min(off + 28 + caplen, end - 4), origlen)
        return ts


def _section_order(buf: bytes, off: int) -> str:
    magic = buf[off + 8 : off + 12]
    if magic == BYTE_ORDER_MAGIC.to_bytes(4, "little"):
        return "<"
    if magic == BYTE_ORDER_MAGIC.to_bytes(4, "big"):
        return ">"
    raise PcapngError(f"section header at byte {off} has no byte-order magic")


def _options(buf: bytes, off: int, end: int, order: str) -> Iterator[tuple[int, bytes]]:
    """(code, value) pairs of a block's options, up to opt_endofopt."""
    header = struct.Struct(order + "HH").unpack_from
    while off + 4 <= end:
        code, length = header(buf, off)
        if code == 0:
            return
        yield code, buf[off + 4 : off + 4 + length]
        off += 4 + (length + 3) // 4 * 4


def _resolution(tsresol: int) -> tuple[int, int]:
    """(mul, div) turning timestamp units into nanoseconds: 10^-n, or 2^-n with the top bit."""
    exponent = tsresol & 0x7F
    if tsresol & 0x80:
        return 1_000_000_000, 1 << exponent
    if exponent <= 9:
        return 10 ** (9 - exponent), 1
    return 1, 10 ** (exponent - 9)
