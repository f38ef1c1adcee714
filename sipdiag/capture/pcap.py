"""libpcap files: microsecond and nanosecond resolution, either byte order.

File header (24 bytes): magic, version 2.4, thiszone, sigfigs, snaplen, link type; then records of
a 16-byte header (seconds, micro- or nanoseconds, captured length, original length) and the
frame. The magic's byte order is the file's byte order; 0xa1b23c4d marks nanoseconds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from sipdiag.capture import FrameSink, Reader, Region
from sipdiag.capture.source import ByteSource
from sipdiag.problems import ProblemLog

HEADER_SIZE = 24
RECORD_HEADER_SIZE = 16
MAX_RECORD = 1 << 24
"""A captured length above this is a damaged record header, not a frame (Wireshark's own
limit for most link types is 256 KiB; this leaves room for jumbo and reassembled captures)."""

_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000),
    b"\xa1\xb2\xc3\xd4": (">", 1000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1),
}


def recognise(head: bytes) -> bool:
    return head[:4] in _MAGICS


def open_reader(source: ByteSource, head: bytes, region: Region | None = None) -> PcapReader:
    return PcapReader(source, head, region)


class PcapReader(Reader):
    format = "pcap"

    def __init__(self, source: ByteSource, head: bytes, region: Region | None = None) -> None:
        super().__init__(source, region)
        order, self._ns_per_unit = _MAGICS[head[:4]]
        self._first_block, self._first_offset = head, HEADER_SIZE
        if region is not None:
            self._start_region()
            self._first_block, self._first_offset = b"", 0
        self.nanosecond = self._ns_per_unit == 1
        self._order = order
        # A file cut inside its header is reported by ``frames``; read what there is.
        fields = struct.unpack_from(order + "HHiIII", head.ljust(HEADER_SIZE, b"\0"), 4)
        self.version = (fields[0], fields[1])
        self.snaplen = fields[4]
        # The top bits of the link-type field say whether frames end in an FCS, and its length.
        self.linktype = fields[5] & 0x03FFFFFF
        self.linktypes.add(self.linktype)

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        if self.region is None and len(self._first_block) < HEADER_SIZE:
            self._note_cut(problems, "the file ends inside the 24-byte pcap file header")
            return
        handler = sink.link_handler(self.linktype)
        unpack = struct.Struct(self._order + "IIII").unpack_from
        scale = self._ns_per_unit
        number, ts = self.frame_count, None
        for buf, off in self._blocks(problems):
            size = len(buf)
            if self.first_ts_ns is None and off + RECORD_HEADER_SIZE <= size:
                sec, frac = unpack(buf, off)[:2]
                self.first_ts_ns = sec * 1_000_000_000 + frac * scale
            while off + RECORD_HEADER_SIZE <= size:
                sec, frac, caplen, origlen = unpack(buf, off)
                end = off + RECORD_HEADER_SIZE + caplen
                if end > size:
                    break
                number += 1
                ts = sec * 1_000_000_000 + frac * scale
                handler(number, ts, buf, off + RECORD_HEADER_SIZE, end, origlen)
                off = end
            self._consumed = off
            self.frame_count = number
            if ts is not None:
                self.last_ts_ns = ts
            yield self.source.consumed

    def count_frames(self) -> int:
        unpack = struct.Struct(self._order + "8xI").unpack_from
        number = self.frame_count
        for buf, off in self._blocks(ProblemLog()):
            size = len(buf)
            while off + RECORD_HEADER_SIZE <= size:
                end = off + RECORD_HEADER_SIZE + unpack(buf, off)[0]
                if end > size:
                    break
                number += 1
                off = end
            self._consumed = off
            self.frame_count = number
        return number

    def _damaged(self, buf: bytes, off: int) -> str | None:
        if off + RECORD_HEADER_SIZE > len(buf):
            return None
        caplen = struct.unpack_from(self._order + "8xI", buf, off)[0]
        if caplen <= MAX_RECORD:
            return None
        return f"record header claims {caplen} captured bytes; the rest of the file is unreadable"
