"""libpcap files: microsecond and nanosecond resolution, either byte order.

File header (24 bytes): magic, version 2.4, thiszone, sigfigs, snaplen, link type; then records of
a 16-byte header (seconds, micro- or nanoseconds, captured length, original length) and the
frame. The magic's byte order is the file's byte order; 0xa1b23c4d marks nanoseconds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from sipdiag.capture import FrameSink, Reader
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


def open_reader(source: ByteSource, head: bytes) -> PcapReader:
    return PcapReader(source, head)


class PcapReader(Reader):
    format = "pcap"

    def __init__(self, source: ByteSource, head: bytes) -> None:
        super().__init__(source)
        order, self._ns_per_unit = _MAGICS[head[:4]]
        self._first_block = head
        self.nanosecond = self._ns_per_unit == 1
        self._order = order
        fields = struct.unpack_from(order + "HHiIII", head, 4)
        self.version = (fields[0], fields[1])
        self.snaplen = fields[4]
        # The top bits of the link-type field say whether frames end in an FCS, and its length.
        self.linktype = fields[5] & 0x03FFFFFF
        self.linktypes.add(self.linktype)

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        if len(self._first_block) < HEADER_SIZE:
            self._note_cut(problems, "the file ends inside the 24-byte pcap file header")
            return
        handler = sink.link_handler(self.linktype)
        unpack = struct.Struct(self._order + "IIII").unpack_from
        scale = self._ns_per_unit
        buf, off, number = self._first_block, HEADER_SIZE, 0
        ts = None
        if len(buf) >= HEADER_SIZE + RECORD_HEADER_SIZE:
            sec, frac = unpack(buf, off)[:2]
            self.first_ts_ns = sec * 1_000_000_000 + frac * scale
        while True:
            size = len(buf)
            while off + RECORD_HEADER_SIZE <= size:
                sec, frac, caplen, origlen = unpack(buf, off)
                end = off + RECORD_HEADER_SIZE + caplen
                if end > size:
                    break
                number += 1
                ts = sec * 1_000_000_000 + frac * scale
                handler(number, ts, buf, off + RECORD_HEADER_SIZE, end, origlen)
                off = end
            self.frame_count, self.last_ts_ns = number, ts
            if off + RECORD_HEADER_SIZE <= size and unpack(buf, off)[2] > MAX_RECORD:
                caplen = unpack(buf, off)[2]
                problems.add(
                    "capture_corrupt",
                    number + 1,
                    f"record header claims {caplen} captured bytes; the rest of the file is "
                    "unreadable",
                )
                return
            more = self.source.read()
            if not more:
                break
            buf, off = buf[off:] + more, 0
            yield self.source.consumed
        if off < len(buf):
            self._note_cut(
                problems,
                f"the file ends {len(buf) - off} bytes into a record (frame {number + 1} is cut)",
            )
