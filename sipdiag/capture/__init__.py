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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from sipdiag.capture.source import ByteSource, SourceError, open_source
from sipdiag.problems import ProblemLog

HEAD_SIZE = 1 << 16
"""Bytes read before choosing a reader: enough to check several ERF records."""

FrameHandler = Callable[[int, int, bytes, int, int, int], None]
"""Called as handler(number, ts_ns, buf, start, end, orig_len) for each frame."""


class CaptureError(Exception):
    """The input is not a capture this tool can read; the message is one line for the user."""


class FrameSink(Protocol):
    def link_handler(self, linktype: int) -> FrameHandler:
        """The handler for frames of this link type (asked once per interface)."""
        ...


class Reader:
    """What every format reader offers; subclasses implement ``frames``."""

    format = "capture"

    def __init__(self, source: ByteSource) -> None:
        self.source = source
        self.frame_count = 0
        self.linktypes: set[int] = set()
        self.first_ts_ns: int | None = None
        self.last_ts_ns: int | None = None

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        """Push every frame to ``sink``; yield the number of bytes read after each block."""
        raise NotImplementedError

    def _note_cut(self, problems: ProblemLog, detail: str) -> None:
        """Record that the capture ends inside frame ``frame_count + 1``."""
        if self.source.cut:
            detail = f"{detail}; {self.source.cut}"
        problems.add("capture_truncated", self.frame_count + 1, detail)

    def close(self) -> None:
        self.source.close()


def open_capture(path: str | Path, stdin: BinaryIO | None = None) -> Reader:
    """Open a capture file, or ``-`` for standard input, and pick the reader for its format."""
    from sipdiag.capture import erf, netmon, pcap, pcapng

    try:
        source = open_source(path, stdin)
        head = source.read(HEAD_SIZE)
    except SourceError as exc:
        raise CaptureError(str(exc)) from exc
    for module in (pcap, pcapng, netmon, erf):
        if module.recognise(head):
            try:
                return module.open_reader(source, head)
            except SourceError as exc:
                raise CaptureError(str(exc)) from exc
    source.close()
    raise CaptureError(f"{source.name}: {_not_a_capture(head)}")


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
    "Reader",
    "open_capture",
]
