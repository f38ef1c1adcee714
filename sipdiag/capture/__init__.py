"""Capture layer: capture files in, link-layer frames out.

Theory of operation: ``open_capture`` reads the first bytes of a file (or of standard input),
undoes gzip/bzip2/xz compression, recognises the format by its magic number (pcap in both byte
orders and both resolutions, pcapng, NetMon; ERF by checking that its first records are
plausible, since ERF has no magic) and returns a reader.

A reader pushes every frame to a ``FrameSink``: it asks the sink once per interface for the
handler of that interface's link type, then calls the handler with the frame number (counted
as Wireshark counts them, from 1), the timestamp in integer nanoseconds, and the frame's bytes
as a window ``buf[start:end]`` of the block being read, so no frame is copied here. Pushing
rather than yielding keeps the per-frame cost to one call, which matters at half a million
frames a second. ``frames()`` is a generator that yields after each block, so the caller keeps
control (progress, batching) while memory stays at one block.

A file cut in the middle of a record is read up to the cut and the cut is recorded as a
``capture_truncated`` problem. A file that is not a capture raises ``CaptureError`` with one
line for the user. The capture layer knows nothing about IP or SIP.

A large plain pcap or pcapng file can be read in parts by several processes at once: the
``regions`` module finds record boundaries that cut the file into ``Region``s, and a reader
opened with a region reads only its records, numbering frames from the region's first frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from sipdiag.capture.source import ByteSource, SourceError, open_source
from sipdiag.problems import ProblemLog

HEAD_SIZE = 1 << 16
"""Bytes read before choosing a reader: enough to check several ERF records."""

FrameHandler = Callable[[int, int, bytes, int, int, int], None]
"""Called as handler(number, ts_ns, buf, start, end, orig_len) for each frame."""


@dataclass(frozen=True, slots=True)
class Region:
    """Part of a plain capture file: whole records from byte ``start`` up to byte ``end``."""

    start: int
    end: int
    first_frame: int = 1
    """The number of the region's first frame in the whole file."""


class CaptureError(Exception):
    """The input is not a capture this tool can read; the message is one line for the user."""


class FrameSink(Protocol):
    def link_handler(self, linktype: int) -> FrameHandler:
        """The handler for frames of this link type (asked once per interface)."""
        ...


class FrameWriter(Protocol):
    """Where frames are written: a ``PcapngWriter``, or a redactor in front of one."""

    def write(self, linktype: int, ts_ns: int, data: bytes, orig_len: int) -> None:
        """One frame of link type ``linktype``, ``orig_len`` bytes long on the wire."""
        ...


LATEST_NS = 253_402_300_799_999_999_999
"""The end of 9999-12-31 UTC: the last time a date can be written for (a frame's time must lie
between the epoch and it)."""


class Reader:
    """What every format reader offers; subclasses implement ``frames``."""

    format = "capture"

    def __init__(self, source: ByteSource, region: Region | None = None) -> None:
        self.source = source
        self.region = region
        self.frame_count = region.first_frame - 1 if region else 0
        self.linktypes: set[int] = set()
        self.first_ts_ns: int | None = None
        self.last_ts_ns: int | None = None
        self.observed_until_ns: int | None = None
        """When the capture stopped, where the file says so (pcapng's ``isb_endtime``): a
        capture watched past its last frame saw nothing more happen meanwhile."""
        self.observed_from_ns: int | None = None
        """When it began, where the file says so (``isb_starttime``)."""
        self.aligned = True
        """False if a region's last record runs past its end (the region was cut wrongly)."""
        self._first_block = b""
        self._first_offset = 0
        """Where reading starts: the head already read, and the first record in it."""
        self._consumed = 0
        self._noted: list[tuple[str, int, str]] = []
        """(kind, frame, detail) of problems met where the problem log is not at hand (a
        block's hot loop), reported after the block (``_report_noted``)."""

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        """Push every frame to ``sink``; yield the number of bytes read after each block."""
        raise NotImplementedError

    def count_frames(self) -> int:
        """Count the frames without decoding them (how regions learn their first frame)."""
        raise NotImplementedError

    def watched(self) -> tuple[int, int] | None:
        """When the capture began and stopped, where the file says so (for a copy to say it
        too), once its frames are read."""
        if self.observed_until_ns is None or self.first_ts_ns is None:
            return None
        begun = min(self.first_ts_ns, self.observed_from_ns or self.first_ts_ns)
        return begun, max(self.observed_until_ns, self.last_ts_ns or 0)

    def now_ns(self) -> int | None:
        """The capture's time now, when it goes on past its last frame (a live capture waiting
        for packets); None for a file, whose time is that of its frames."""
        return None

    def _blocks(self, problems: ProblemLog) -> Iterator[tuple[bytes, int]]:
        """The data a block at a time, each with where its first unread record starts.

        After handling a block the caller sets ``_consumed`` to where the record it could not
        finish starts; that record is carried over into the next block. A damaged record
        header (``_damaged``) or the end of the data ends the iteration.
        """
        buf, off = self._first_block, self._first_offset
        while True:
            self._consumed = off
            yield buf, off
            self._report_noted(problems)
            off = self._consumed
            damage = self._damaged(buf, off)
            if damage:
                problems.add("capture_corrupt", self.frame_count + 1, damage)
                return
            more = self.source.read()
            if not more:
                break
            buf, off = buf[off:] + more, 0
        if off < len(buf):
            self._note_cut(
                problems,
                f"the file ends {len(buf) - off} bytes into a record "
                f"(frame {self.frame_count + 1} is cut)",
            )
        elif self.source.cut:  # the data stopped between two records
            problems.add("capture_truncated", self.frame_count + 1,
                         f"after frame {self.frame_count}: {self.source.cut}")

    def _time_out_of_range(self, number: int, ts_ns: int, previous: int | None) -> int:
        """A frame time before 1970 or after 9999 (a damaged timestamp, a wild offset or
        resolution): noted, and the time of the frame before taken instead, so that times go
        on forward and every report can write them."""
        self._noted.append(("capture_bad_time", number, f"frame {number} is timed "
                            f"{ts_ns // 1_000_000_000} s from 1970, outside the years 1970 to "
                            f"9999: taken as the time of the frame before it"))
        return previous or 0

    def _report_noted(self, problems: ProblemLog) -> None:
        for kind, frame, detail in self._noted:
            problems.add(kind, frame, detail)
        self._noted.clear()

    def _damaged(self, buf: bytes, off: int) -> str | None:
        """Why the record header at ``off`` cannot be right, if it cannot; else None."""
        return None

    def _start_region(self) -> None:
        """Move to the region's first record (formats that can be read in parts call this)."""
        if self.region is not None:
            self.source.seek_region(self.region.start, self.region.end, HEAD_SIZE)

    def _note_cut(self, problems: ProblemLog, detail: str) -> None:
        """Record that the capture ends inside frame ``frame_count + 1``."""
        if self.region is not None and self.source.limit is not None and not self._at_eof():
            self.aligned = False  # the record goes on into the next region
            return
        if self.source.cut:
            detail = f"{detail}; {self.source.cut}"
        problems.add("capture_truncated", self.frame_count + 1, detail)

    def _at_eof(self) -> bool:
        return self.source.at_end()

    def close(self) -> None:
        self.source.close()


def open_capture(
    path: str | Path, stdin: BinaryIO | None = None, region: Region | None = None
) -> Reader:
    """Open a capture file, or ``-`` for standard input, and pick the reader for its format.

    With a ``region``, only that part of a plain pcap or pcapng file is read.
    """
    from sipdiag.capture import erf, netmon, pcap, pcapng

    try:
        source = open_source(path, stdin)
    except SourceError as exc:
        raise CaptureError(str(exc)) from exc
    try:
        head = source.read(HEAD_SIZE)
    except SourceError as exc:
        source.close()
        raise CaptureError(str(exc)) from exc
    for module in (pcap, pcapng, netmon, erf):
        if module.recognise(head):
            try:
                reader: Reader = module.open_reader(source, head, region)
                return reader
            except SourceError as exc:
                source.close()
                raise CaptureError(str(exc)) from exc
    source.close()
    if not head and source.cut:  # e.g. bzip2, undone a block (up to 900 kB) at a time
        raise CaptureError(f"{source.name}: {source.cut}: not one byte of it could be "
                           f"decompressed")
    raise CaptureError(f"{source.name}: {_not_a_capture(head)}")


def open_captures(paths: Sequence[str | Path], stdin: BinaryIO | None = None) -> Reader:
    """One capture, or several read as one with their frames merged in time order."""
    if len(paths) == 1:
        return open_capture(paths[0], stdin)
    return open_merged(paths, stdin)


def open_merged(paths: Sequence[str | Path], stdin: BinaryIO | None = None,
                first_frame: int = 1) -> Reader:
    """Captures read as one merge (``capture.merge``), its frames numbered from
    ``first_frame`` (files that come later in time than others read elsewhere)."""
    from sipdiag.capture.merge import MergedReader

    readers: list[Reader] = []
    try:
        readers.extend(open_capture(path, stdin) for path in paths)
    except CaptureError:
        for reader in readers:
            reader.close()
        raise
    return MergedReader(readers, first_frame)


def _not_a_capture(head: bytes) -> str:
    expected = "expected pcap, pcapng, ERF or NetMon, optionally gzip/bzip2/xz compressed"
    if not head:
        return f"the file is empty ({expected})"
    if all(32 <= byte < 127 or byte in b"\r\n\t" for byte in head):
        return f"this is text, not a packet capture ({expected})"
    return f"not a packet capture: unknown format starting {head[:8].hex(' ')} ({expected})"


__all__ = [
    "CaptureError",
    "FrameHandler",
    "FrameSink",
    "FrameWriter",
    "Reader",
    "Region",
    "open_capture",
    "open_captures",
]
