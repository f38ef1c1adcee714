"""Copying chosen frames of a capture into a pcapng file, as they were captured: link type,
time and original length kept (how calls are exported)."""

from __future__ import annotations

from collections.abc import Container

from sipdiag.capture import FrameHandler, Reader
from sipdiag.capture.writer import PcapngWriter
from sipdiag.problems import ProblemLog


class _Chosen:
    """A frame sink that writes the frames whose numbers are wanted."""

    def __init__(self, wanted: Container[int], writer: PcapngWriter) -> None:
        self._wanted, self._writer = wanted, writer
        self.copied = 0

    def link_handler(self, linktype: int) -> FrameHandler:
        def copy(number: int, ts_ns: int, buf: bytes, start: int, end: int,
                 orig_len: int) -> None:
            if number in self._wanted:
                self._writer.write(linktype, ts_ns, buf[start:end], orig_len)
                self.copied += 1

        return copy


def copy_frames(reader: Reader, wanted: Container[int], writer: PcapngWriter) -> int:
    """Write the frames of ``reader`` whose numbers are in ``wanted``; how many were."""
    sink = _Chosen(wanted, writer)
    for _ in reader.frames(sink, ProblemLog()):  # the capture's problems were reported already
        pass
    return sink.copied
