"""Endace ERF files: a sequence of records with no file header and no magic number.

Record header (16 bytes): a little-endian 32.32 fixed-point timestamp, the record type (top bit:
extension headers follow), flags, then big-endian record length, loss counter and wire length.
Ethernet records put two bytes of padding before the frame; IPv4 and IPv6 records hold the
packet itself. With no magic, a file is taken as ERF only when its first records are all
plausible (known type, sane lengths, timestamps that do not run backwards), as Wireshark does.
(Absolute times are not checked: traffic generators write ERF files that start at time zero.)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from sipdiag.capture import FrameHandler, FrameSink, Reader, Region, linktypes
from sipdiag.capture.source import ByteSource, SourceError
from sipdiag.problems import ProblemLog

HEADER = struct.Struct("<QBB6x")
"""Timestamp, type and flags (little-endian); the lengths follow, big-endian."""
LENGTHS = struct.Struct(">HHH")
ETHERNET_TYPES = frozenset({2, 11, 16, 20})
IP_TYPES = {22: linktypes.IPV4, 23: linktypes.IPV6}
KNOWN_TYPES = frozenset(range(1, 30)) - {26}
EXTENSION_FLAG = 0x80
RECORDS_TO_CHECK = 3


def recognise(head: bytes) -> bool:
    off, checked, last_ts = 0, 0, 0
    while checked < RECORDS_TO_CHECK and off + HEADER.size <= len(head):
        ts, rtype, _flags, rlen, _lctr, _wlen = _header(head, off)
        if (rtype & 0x7F) not in KNOWN_TYPES or rlen <= HEADER.size:  # 16 bits: no upper bound
            return False
        if ts < last_ts or ((rtype & 0x7F) in ETHERNET_TYPES and rlen < 32):
            return False
        off, checked, last_ts = off + rlen, checked + 1, ts
        if off > len(head) and checked == 1:
            return False  # not one whole record: a fifth of short random files would pass
    # Fewer records than that: the data must end with them, or inside the last or the next
    # one (a capture cut short after its first record is still ERF, and reported as cut).
    return checked > 0 and (checked == RECORDS_TO_CHECK or len(head) - off < HEADER.size)


def open_reader(source: ByteSource, head: bytes, region: Region | None = None) -> ErfReader:
    if region is not None:
        raise SourceError(f"{source.name}: only pcap and pcapng files can be read in parts")
    return ErfReader(source, head)


def _header(buf: bytes, off: int) -> tuple[int, int, int, int, int, int]:
    ts, rtype, flags = HEADER.unpack_from(buf, off)
    return (ts, rtype, flags, *LENGTHS.unpack_from(buf, off + 10))


def _ts_ns(ts: int) -> int:
    """32.32 fixed point to nanoseconds, rounded as Wireshark rounds it."""
    seconds, fraction = ts >> 32, ts & 0xFFFFFFFF
    nanos = (fraction * 1_000_000_000 + 0x80000000) >> 32
    return seconds * 1_000_000_000 + nanos


class ErfReader(Reader):
    format = "erf"

    def __init__(self, source: ByteSource, head: bytes) -> None:
        super().__init__(source)
        self._first_block = head
        self._handlers: dict[int, FrameHandler] = {}

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        for buf, off in self._blocks(problems):
            self._consumed = self._records(buf, off, sink, problems)
            yield self.source.consumed

    def _damaged(self, buf: bytes, off: int) -> str | None:
        if off + HEADER.size <= len(buf) and _header(buf, off)[3] < HEADER.size:
            return f"ERF record length {_header(buf, off)[3]} at byte {off}"
        return None

    def _records(self, buf: bytes, off: int, sink: FrameSink, problems: ProblemLog) -> int:
        while off + HEADER.size <= len(buf):
            ts, rtype, _flags, rlen, _lctr, wlen = _header(buf, off)
            end = off + rlen
            if rlen < HEADER.size or end > len(buf):
                break
            self.frame_count += 1
            self.last_ts_ns = _ts_ns(ts)
            if self.first_ts_ns is None:
                self.first_ts_ns = self.last_ts_ns
            self._frame(buf, off, end, rtype, wlen, sink, problems)
            off = end
        return off

    def _frame(
        self,
        buf: bytes,
        off: int,
        end: int,
        rtype: int,
        wlen: int,
        sink: FrameSink,
        problems: ProblemLog,
    ) -> None:
        start = off + HEADER.size
        if rtype & EXTENSION_FLAG:
            while start + 8 <= end and buf[start] & EXTENSION_FLAG:
                start += 8
            start += 8
        kind = rtype & 0x7F
        if kind in ETHERNET_TYPES:
            linktype, start = linktypes.ETHERNET, start + 2
        elif kind in IP_TYPES:
            linktype = IP_TYPES[kind]
        else:
            problems.add("capture_unsupported_record", self.frame_count, f"ERF record type {kind}")
            return
        handler = self._handlers.get(linktype)
        if handler is None:
            handler = self._handlers[linktype] = sink.link_handler(linktype)
            self.linktypes.add(linktype)
        handler(self.frame_count, self.last_ts_ns or 0, buf, start, min(end, start + wlen), wlen)
