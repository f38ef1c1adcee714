"""pcapng files: several sections, several interfaces, each with its own link type and clock.

A file is a sequence of blocks (type, total length, body, total length again). A Section Header
Block sets the byte order and forgets the interfaces of the previous section; each Interface
Description Block adds an interface with its link type and timestamp resolution (``if_tsresol``,
default microseconds) and offset (``if_tsoffset``). Enhanced, Simple and the obsolete Packet
Blocks carry frames; Wireshark numbers each of them as one frame, and so do we. An Interface
Statistics Block's ``isb_endtime`` says when the capture stopped (``observed_until_ns``: it
may be long after the last frame). Other blocks (name resolution, decryption secrets, custom)
are skipped.

A region of the file (for reading in parts) holds only packet and other non-structural blocks:
the reader learns the interfaces from the blocks before the region (the preamble), and a
section or interface block inside the region means the file cannot be read in parts (the region
is then not ``aligned``, and the caller reads the file whole).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from sipdiag.capture import LATEST_NS, FrameHandler, FrameSink, Reader, Region
from sipdiag.capture.source import ByteSource
from sipdiag.problems import ProblemLog

SECTION_HEADER = 0x0A0D0D0A
INTERFACE = 0x00000001
OBSOLETE_PACKET = 0x00000002
SIMPLE_PACKET = 0x00000003
INTERFACE_STATISTICS = 0x00000005
ENHANCED_PACKET = 0x00000006
PACKET_BLOCKS = frozenset({ENHANCED_PACKET, SIMPLE_PACKET, OBSOLETE_PACKET})
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPTION_TSRESOL = 9
OPTION_TSOFFSET = 14
OPTION_ISB_STARTTIME, OPTION_ISB_ENDTIME = 2, 3
MAX_BLOCK = 1 << 26


def recognise(head: bytes) -> bool:
    return head[:4] == b"\x0a\x0d\x0d\x0a"


def open_reader(source: ByteSource, head: bytes, region: Region | None = None) -> PcapngReader:
    return PcapngReader(source, head, region)


class Interface(NamedTuple):
    linktype: int
    ts_mul: int
    ts_div: int
    """Timestamp units times ts_mul // ts_div gives nanoseconds."""
    ts_offset_ns: int
    snaplen: int


class PcapngError(Exception):
    """A block that cannot be read; the rest of the file cannot be trusted."""


class PcapngReader(Reader):
    format = "pcapng"

    def __init__(self, source: ByteSource, head: bytes, region: Region | None = None) -> None:
        super().__init__(source, region)
        self.interfaces: list[Interface] = []
        self.sections = 0
        self._order = "<"
        self._handlers: list[FrameHandler] = []
        self._sink: FrameSink | None = None
        self._first_block = head
        if region is not None:
            self.read_preamble(head[: region.start])
            self._start_region()
            self._first_block = b""

    def read_preamble(self, data: bytes) -> int:
        """Learn byte order and interfaces from the blocks before the first packet block.

        Returns where the first packet block starts (or where the data ends).
        """
        off = 0
        while off + 12 <= len(data):
            btype, blen = self._block_header(data, off)
            if btype in PACKET_BLOCKS or off + blen > len(data):
                break
            self._structure_block(btype, data, off, off + blen)
            off += blen
        return off

    @property
    def byte_order(self) -> str:
        """The struct byte-order character of the current section."""
        return self._order

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        self._sink = sink
        self._handlers = [sink.link_handler(i.linktype) for i in self.interfaces]
        try:
            for buf, off in self._blocks(problems):
                self._consumed = self._packets(buf, off)
                yield self.source.consumed
        except PcapngError as exc:
            self._report_noted(problems)
            problems.add("capture_corrupt", self.frame_count + 1, str(exc))

    def count_frames(self) -> int:
        problems = ProblemLog()
        try:
            for buf, off in self._blocks(problems):
                while off + 12 <= len(buf):
                    btype, blen = self._block_header(buf, off)
                    if off + blen > len(buf):
                        break
                    if btype in PACKET_BLOCKS:
                        self.frame_count += 1
                    elif btype in (SECTION_HEADER, INTERFACE):
                        if self.region is not None:
                            self.aligned = False  # a region cannot be read without these blocks
                            return self.frame_count
                        self._structure_block(btype, buf, off, off + blen)  # a section's order
                    off += blen
                self._consumed = off
        except PcapngError:
            self.aligned = False  # reading stops at a damaged block: read the file whole
        return self.frame_count

    def _block_header(self, buf: bytes, off: int) -> tuple[int, int]:
        """(type, total length) of the block at ``off``, checked for sanity."""
        btype = struct.unpack_from(self._order + "I", buf, off)[0]
        order = _section_order(buf, off) if btype == SECTION_HEADER else self._order
        blen = struct.unpack_from(order + "I", buf, off + 4)[0]
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            raise PcapngError(f"block at byte {off} has an impossible length {blen}")
        return btype, blen

    def _packets(self, buf: bytes, off: int) -> int:
        """Read the whole blocks of ``buf`` from ``off``; return where the first partial one is."""
        size = len(buf)
        block = struct.Struct(self._order + "II").unpack_from
        enhanced = struct.Struct(self._order + "IIIII").unpack_from
        interfaces, handlers = self.interfaces, self._handlers
        number, ts, first = self.frame_count, None, self.first_ts_ns
        try:
            while off + 12 <= size:
                btype, blen = block(buf, off)
                end = off + blen
                if btype == ENHANCED_PACKET and 32 <= blen <= MAX_BLOCK and end <= size:
                    if_id, hi, lo, caplen, origlen = enhanced(buf, off + 8)
                    if if_id >= len(interfaces):
                        raise PcapngError(f"packet block refers to undeclared interface {if_id}")
                    interface = interfaces[if_id]
                    number += 1
                    at = ((hi << 32) | lo) * interface.ts_mul // interface.ts_div
                    at += interface.ts_offset_ns
                    ts = at if 0 <= at <= LATEST_NS else self._time_out_of_range(
                        number, at, ts if ts is not None else self.last_ts_ns)
                    if first is None:
                        first = ts
                    end_data = off + 28 + caplen
                    if end_data > end - 4:
                        end_data = self._overlong(number, caplen, blen, end)
                    handlers[if_id](number, ts, buf, off + 28, end_data, origlen)
                    off = end
                    continue
                btype, blen = self._block_header(buf, off)  # checks it, reads a new section right
                end = off + blen
                if end > size:
                    break
                if btype in PACKET_BLOCKS:
                    other = self._other_packet(btype, buf, off, end, number + 1,
                                               ts if ts is not None else self.last_ts_ns)
                    number += 1
                    if other is not None:  # a Simple Packet Block has no time
                        ts = other
                        if first is None:
                            first = ts
                elif btype == INTERFACE_STATISTICS:
                    self._statistics(buf, off, end)
                elif btype in (SECTION_HEADER, INTERFACE):
                    if self.region is not None:
                        self.aligned = False
                        return size
                    self._structure_block(btype, buf, off, end)
                    block = struct.Struct(self._order + "II").unpack_from
                    enhanced = struct.Struct(self._order + "IIIII").unpack_from
                    interfaces, handlers = self.interfaces, self._handlers
                off = end
        finally:  # also when a damaged block stops the file: the frames before it were read
            self.frame_count, self.first_ts_ns = number, first
            if ts is not None:
                self.last_ts_ns = ts
        return off

    def _structure_block(self, btype: int, buf: bytes, off: int, end: int) -> None:
        if btype == SECTION_HEADER:
            self._order = _section_order(buf, off)
            self.interfaces, self._handlers = [], []
            self.sections += 1
        elif btype == INTERFACE:
            self._add_interface(buf, off, end)

    def _statistics(self, buf: bytes, off: int, end: int) -> None:
        """pcapng 4.6: the ``isb_starttime`` and ``isb_endtime`` of an interface declared
        before, in its units."""
        if end - off < 24:
            return
        if_id = struct.unpack_from(self._order + "I", buf, off + 8)[0]
        if if_id >= len(self.interfaces):
            return
        interface = self.interfaces[if_id]
        for code, value in _options(buf, off + 20, end - 4, self._order):
            if code not in (OPTION_ISB_STARTTIME, OPTION_ISB_ENDTIME) or len(value) != 8:
                continue
            hi, lo = struct.unpack(self._order + "II", value)
            at = ((hi << 32) | lo) * interface.ts_mul // interface.ts_div + interface.ts_offset_ns
            if not 0 <= at <= LATEST_NS:
                continue
            if code == OPTION_ISB_ENDTIME:
                self.observed_until_ns = max(at, self.observed_until_ns or 0)
            else:
                self.observed_from_ns = min(at, self.observed_from_ns or at)

    def _add_interface(self, buf: bytes, off: int, end: int) -> None:
        if end - off < 20:  # type, length, link type, reserved, snaplen, length again
            raise PcapngError(f"interface block at byte {off} is too short: {end - off} bytes")
        linktype, _, snaplen = struct.unpack_from(self._order + "HHI", buf, off + 8)
        ts_mul, ts_div, ts_offset = 1000, 1, 0
        for code, value in _options(buf, off + 16, end - 4, self._order):
            if code == OPTION_TSRESOL and value:
                ts_mul, ts_div = _resolution(value[0])
            elif code == OPTION_TSOFFSET and len(value) == 8:
                ts_offset = struct.unpack(self._order + "q", value)[0] * 1_000_000_000
        self.linktypes.add(linktype)
        self.interfaces.append(Interface(linktype, ts_mul, ts_div, ts_offset, snaplen))
        if self._sink is not None:
            self._handlers.append(self._sink.link_handler(linktype))

    def _other_packet(self, btype: int, buf: bytes, off: int, end: int, number: int,
                      previous: int | None) -> int | None:
        """Simple Packet Block (no timestamp, interface 0) or obsolete Packet Block (its time,
        or ``previous``, the time of the frame before, when its own is out of range)."""
        if not self.interfaces:
            raise PcapngError(f"packet block at byte {off} comes before any interface")
        if end - off < (16 if btype == SIMPLE_PACKET else 32):  # the fields before the data
            raise PcapngError(f"packet block at byte {off} is too short: {end - off} bytes")
        if btype == SIMPLE_PACKET:
            origlen = struct.unpack_from(self._order + "I", buf, off + 8)[0]
            interface = self.interfaces[0]
            caplen = min(origlen, end - 4 - (off + 12))
            if interface.snaplen:
                caplen = min(caplen, interface.snaplen)
            self._handlers[0](number, 0, buf, off + 12, off + 12 + caplen, origlen)
            return None
        if_id, _, hi, lo, caplen, origlen = struct.unpack_from(self._order + "HHIIII", buf, off + 8)
        if if_id >= len(self.interfaces):
            raise PcapngError(f"packet block refers to undeclared interface {if_id}")
        interface = self.interfaces[if_id]
        ts: int = ((hi << 32) | lo) * interface.ts_mul // interface.ts_div + interface.ts_offset_ns
        if not 0 <= ts <= LATEST_NS:
            ts = self._time_out_of_range(number, ts, previous)
        end_data = off + 28 + caplen
        if end_data > end - 4:
            end_data = self._overlong(number, caplen, end - off, end)
        self._handlers[if_id](number, ts, buf, off + 28, end_data, origlen)
        return ts

    def _overlong(self, number: int, caplen: int, blen: int, end: int) -> int:
        """A packet block that claims more captured bytes than it holds (pcapng 4.3, 4.6):
        noted, and read as far as the block goes (where its data ends)."""
        self._noted.append(("capture_corrupt", number, f"packet block of {blen} bytes says it "
                            f"captured {caplen}: read as far as the block goes"))
        return end - 4


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
        if code == 0 or off + 4 + length > end:  # the end, or an option that overruns its block
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
