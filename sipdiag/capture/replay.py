"""Replaying frames that were read before (by another process) as if from a capture file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sipdiag.capture import FrameHandler, FrameSink, Reader
from sipdiag.capture.source import ByteSource
from sipdiag.problems import ProblemLog

Frame = tuple[int, int, int, bytes, int]
"""(number, ts_ns, link type, bytes, original length), numbered as in the original file."""

BATCH = 2048


class ReplayReader(Reader):
    format = "replay"

    def __init__(self, frames: Sequence[Frame], name: str) -> None:
        super().__init__(ByteSource.empty(name))
        self._frames = frames

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        handlers: dict[int, FrameHandler] = {}
        for index, (number, ts, linktype, data, orig_len) in enumerate(self._frames, start=1):
            handler = handlers.get(linktype)
            if handler is None:
                handler = handlers[linktype] = sink.link_handler(linktype)
            handler(number, ts, data, 0, len(data), orig_len)
            self.frame_count, self.last_ts_ns = number, ts
            if self.first_ts_ns is None:
                self.first_ts_ns = ts
            if index % BATCH == 0:
                yield index
        yield len(self._frames)

    def count_frames(self) -> int:
        return len(self._frames)
