"""Several captures read as one: their frames merged in time order, as ``mergecap`` merges them.

Rotated capture files (``tcpdump -G``/``-C``, dumpcap ring buffers) and captures taken at the
same time on several hosts hold pieces of the same calls. Reading them as one capture makes a
call that spans two files one call. Frames are merged by timestamp (frames with equal
timestamps: the file named last goes first, as mergecap 4.0 orders them) and numbered from 1
across the merge, so frame numbers are those of ``mergecap -w merged.pcapng FILE...`` opened in
Wireshark.

Each file is read by its own reader, a block at a time; the frames of the current block of every
file are copied out and merged, so memory stays at one block per file. Problems of a file (a
file cut short) are reported with the file's name and the frame number within that file.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from sipdiag.capture import FrameHandler, FrameSink, Reader
from sipdiag.capture.replay import BATCH
from sipdiag.capture.source import ByteSource
from sipdiag.problems import Problem, ProblemLog

_Copied = tuple[int, int, bytes, int]
"""(ts_ns, link type, bytes, original length) of a frame copied out of its block."""


class _Input:
    """One file of the merge: its reader and the frames of its current block."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.problems = ProblemLog()
        self.frames: list[_Copied] = []
        self.next = 0
        self.position = 0
        self._blocks = reader.frames(self, self.problems)

    def link_handler(self, linktype: int) -> FrameHandler:
        def copy(_number: int, ts: int, buf: bytes, start: int, end: int, orig_len: int) -> None:
            self.frames.append((ts, linktype, buf[start:end], orig_len))

        return copy

    def fill(self) -> bool:
        """Read blocks until there is a frame to hand out; False at the end of the file."""
        while self.next >= len(self.frames):
            self.frames, self.next = [], 0
            position = next(self._blocks, None)
            if position is None:
                return False
            self.position = position
        return True


class MergedReader(Reader):
    """The frames of ``readers`` merged, numbered from ``first_frame`` (the files read with
    others that come before them in time, elsewhere)."""

    def __init__(self, readers: Sequence[Reader], first_frame: int = 1) -> None:
        super().__init__(ByteSource.empty(" + ".join(r.source.name for r in readers)))
        self.format = "+".join(dict.fromkeys(r.format for r in readers))
        compressions = sorted({r.source.compression or "" for r in readers} - {""})
        self.source.compression = "+".join(compressions) or None
        self._readers = readers
        self._first_frame = first_frame

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        handlers: dict[int, FrameHandler] = {}
        inputs = [_Input(reader) for reader in self._readers]
        # (time, -index): of frames with the same time, the later file's comes out first
        due = [(i.frames[i.next][0], -index) for index, i in enumerate(inputs) if i.fill()]
        heapq.heapify(due)
        number = self._first_frame - 1
        while due:
            current = inputs[-due[0][1]]
            ts, linktype, data, orig_len = current.frames[current.next]
            current.next += 1
            handler = handlers.get(linktype)
            if handler is None:
                handler = handlers[linktype] = sink.link_handler(linktype)
                self.linktypes.add(linktype)
            number += 1
            handler(number, ts, data, 0, len(data), orig_len)
            self.frame_count, self.last_ts_ns = number, ts
            if self.first_ts_ns is None:
                self.first_ts_ns = ts
            if current.fill():
                heapq.heapreplace(due, (current.frames[current.next][0], due[0][1]))
            else:
                heapq.heappop(due)
            if number % BATCH == 0:
                yield sum(i.position for i in inputs)
        for item in inputs:
            _add_problems(problems, item)
        self.observed_until_ns = max((r.observed_until_ns for r in self._readers
                                      if r.observed_until_ns is not None), default=None)
        self.observed_from_ns = min((r.observed_from_ns for r in self._readers
                                     if r.observed_from_ns is not None), default=None)
        yield sum(i.position for i in inputs)

    def count_frames(self) -> int:
        return sum(reader.count_frames() for reader in self._readers)

    def close(self) -> None:
        for reader in self._readers:
            reader.close()


def _add_problems(problems: ProblemLog, item: _Input) -> None:
    """A file's problems, with its name and its own frame number, at frame 0 of the merge (the
    merged numbering has no place for a frame that was never read)."""
    name = item.reader.source.name
    problems.merge(ProblemLog(dict(item.problems.counts), {
        kind: [Problem(kind, 0, f"{name}, its frame {p.frame}: {p.detail}") for p in kept]
        for kind, kept in item.problems.examples.items()
    }))
