"""Replaying frames that were read before (by another process) as if from a capture file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sipdiag.capture import FrameHandler, FrameSink, Reader
from sipdiag.capture.source import ByteSource
from sipdiag.problems import ProblemLog

Frame = tuple[int, int, int, bytes, int]
"""(number, ts_ns, link type, bytes, original length), numbered as in the original file."""

BATCH = 2048

End = tuple[int, int | None]
"""(number, ts_ns) of the last frame of a block of the whole capture."""


class ReplayReader(Reader):
    """The frames, a block of ``BATCH`` at a time; or, given ``ends``, in the blocks of the
    whole capture they were set aside from: each block ends where one of the whole capture
    did, with that capture's frame count and time, so what reacts to the end of a block (TCP
    data timing out, messages handed on) does so as reading the whole capture would.

    ``moment`` tells when what the frames' decoding makes happens, in the whole capture's
    order: during frame N, ``4 N``; after the block ending at frame N, ``4 N + 1``; after the
    last block (the end of the capture), ``4 N + 2``."""

    format = "replay"

    def __init__(self, frames: Sequence[Frame], name: str,
                 ends: Sequence[End] | None = None) -> None:
        super().__init__(ByteSource.empty(name))
        self._frames = frames
        self._ends = ends
        self.moment = 0

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        """Push the frames to ``sink``; yield how many were pushed after each block."""
        handlers: dict[int, FrameHandler] = {}
        ends = self._ends if self._ends is not None else self._batch_ends()
        frames = iter(self._frames)
        held, replayed = next(frames, None), 0
        for end, end_ts in ends:
            while held is not None and held[0] <= end:
                number, ts, linktype, data, orig_len = held
                handler = handlers.get(linktype)
                if handler is None:
                    handler = handlers[linktype] = sink.link_handler(linktype)
                self.moment = number * 4
                handler(number, ts, data, 0, len(data), orig_len)
                if self.first_ts_ns is None:
                    self.first_ts_ns = ts
                held, replayed = next(frames, None), replayed + 1
            self.frame_count, self.last_ts_ns = end, end_ts
            self.moment = end * 4 + 1
            yield replayed
        self.moment = self.frame_count * 4 + 2

    def _batch_ends(self) -> list[End]:
        frames = self._frames
        last = {*range(BATCH - 1, len(frames), BATCH), len(frames) - 1} - {-1}
        return [(frames[i][0], frames[i][1]) for i in sorted(last)]

    def count_frames(self) -> int:
        return len(self._frames)
