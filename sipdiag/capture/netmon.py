"""Microsoft Network Monitor 1.x and 2.x files.

A 128-byte header (magic ``RTSS`` or ``GMBU``, version, media type, the capture start as a
SYSTEMTIME, and the offset of a frame table at the end of the file), then the frames, each found
through the table. 1.x frames carry a millisecond delta, 2.x a microsecond delta; 2.1 and later
append a trailer with a per-frame media type, and 2.3 an absolute UTC time. The frame table is at
the end, so this reader takes the whole file into memory: NetMon files are small in practice.
The start time is read as UTC (Wireshark reads it in its local time zone).
"""

from __future__ import annotations

import calendar
import struct
from collections.abc import Iterator
from datetime import UTC, datetime

from sipdiag.capture import LATEST_NS, FrameHandler, FrameSink, Reader, Region, linktypes
from sipdiag.capture.source import ByteSource, SourceError
from sipdiag.problems import ProblemLog

HEADER = struct.Struct("<4sBBH8HII")
RECORD_V1 = struct.Struct("<IHH")
RECORD_V2 = struct.Struct("<QII")
TRAILER_SIZE = {1: 2, 2: 6, 3: 15}
"""Trailer bytes after each frame, by 2.x minor version (2.3 and later: 15)."""
MEDIA_TYPES = {
    0: linktypes.ETHERNET,
    1: linktypes.ETHERNET,
    7: linktypes.RAW,
    8: linktypes.RAW,
    9: linktypes.RAW,
}
PCAP_MEDIA_BASE = 0xE000
FILETIME_EPOCH_OFFSET = 11_644_473_600  # seconds from 1601-01-01 to 1970-01-01


def recognise(head: bytes) -> bool:
    return head[:4] in (b"RTSS", b"GMBU")


def open_reader(source: ByteSource, head: bytes, region: Region | None = None) -> NetmonReader:
    if region is not None:
        raise SourceError(f"{source.name}: only pcap and pcapng files can be read in parts")
    return NetmonReader(source, head)


class NetmonReader(Reader):
    format = "netmon"

    def __init__(self, source: ByteSource, head: bytes) -> None:
        super().__init__(source)
        self._data = head + source.read_all()
        self._handlers: dict[int, FrameHandler] = {}

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        data = self._data
        if len(data) < HEADER.size:
            self._note_cut(problems, "the file ends inside the NetMon header")
            return
        _magic, minor, major, media, *when, table_offset, table_length = HEADER.unpack_from(data)
        start_ns = _start_ns(*when)
        if start_ns is None:
            problems.add("capture_bad_time", 1, f"the NetMon header's start time {when} is no "
                         f"date: frames timed from 1970")
            start_ns = 0
        table = data[table_offset : table_offset + table_length]
        if len(table) < table_length:
            self._note_cut(problems, "the frame table at the end of the NetMon file is cut")
        offsets = struct.unpack_from(f"<{len(table) // 4}I", table)
        trailer = TRAILER_SIZE.get(min(minor, 3), 0) if major == 2 else 0
        for offset in offsets:
            if not self._frame(data, offset, major, trailer, media, start_ns, sink):
                self._report_noted(problems)
                self._note_cut(problems, f"frame at byte {offset} lies beyond the end of the file")
                return
        self._report_noted(problems)
        yield len(data)

    def _frame(
        self,
        data: bytes,
        offset: int,
        major: int,
        trailer: int,
        media: int,
        start_ns: int,
        sink: FrameSink,
    ) -> bool:
        record = RECORD_V1 if major == 1 else RECORD_V2
        if offset + record.size > len(data):
            return False
        delta, origlen, caplen = record.unpack_from(data, offset)
        start = offset + record.size
        end = start + caplen
        if end + trailer > len(data):
            return False
        ts = start_ns + delta * (1_000_000 if major == 1 else 1000)
        if trailer:
            media = struct.unpack_from("<H", data, end)[0]
        if trailer >= TRAILER_SIZE[3]:
            filetime = struct.unpack_from("<Q", data, end + 6)[0]
            ts = filetime * 100 - FILETIME_EPOCH_OFFSET * 1_000_000_000
        self.frame_count += 1
        if not 0 <= ts <= LATEST_NS:
            ts = self._time_out_of_range(self.frame_count, ts, self.last_ts_ns)
        self.first_ts_ns = ts if self.first_ts_ns is None else self.first_ts_ns
        self.last_ts_ns = ts
        self._handler(media, sink)(self.frame_count, ts, data, start, end, origlen)
        return True

    def _handler(self, media: int, sink: FrameSink) -> FrameHandler:
        if media >= PCAP_MEDIA_BASE:
            linktype = media - PCAP_MEDIA_BASE
        else:
            linktype = MEDIA_TYPES.get(media, linktypes.UNKNOWN)
        if linktype not in self._handlers:
            self._handlers[linktype] = sink.link_handler(linktype)
            self.linktypes.add(linktype)
        return self._handlers[linktype]


def _start_ns(year: int, month: int, _weekday: int, day: int, hour: int, minute: int,
              second: int, millis: int) -> int | None:
    """The capture's start (a SYSTEMTIME, UTC) in ns since 1970; None if it is no date."""
    try:
        start = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return calendar.timegm(start.timetuple()) * 1_000_000_000 + millis * 1_000_000
