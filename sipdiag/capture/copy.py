"""Copying chosen frames of a capture into pcapng files, as they were captured: link type,
time and original length kept (how calls are exported).

Each frame goes to the writers ``route`` names for its number: none (left out), one, or
several (``export --split``: a frame of two calls exported apart goes into both files). A
frame may be copied cut short (``cut``: bytes left off its end), as a capture with a short
snapshot length has it: its original length is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sipdiag.capture import FrameHandler, FrameWriter, Reader
from sipdiag.problems import ProblemLog

Route = Callable[[int], Sequence[FrameWriter]]
"""The writers a frame goes to, by its number (empty: left out)."""


class _Routed:
    """A frame sink that writes each frame to the writers its route names."""

    def __init__(self, route: Route, cut: Mapping[int, int]) -> None:
        self._route, self._cut = route, cut
        self.copied = 0

    def link_handler(self, linktype: int) -> FrameHandler:
        def copy(number: int, ts_ns: int, buf: bytes, start: int, end: int,
                 orig_len: int) -> None:
            writers = self._route(number)
            if writers:
                data = buf[start:end - self._cut.get(number, 0)]
                for writer in writers:
                    writer.write(linktype, ts_ns, data, orig_len)
                self.copied += 1

        return copy


def route_frames(reader: Reader, route: Route, cut: Mapping[int, int] | None = None,
                 problems: ProblemLog | None = None) -> int:
    """Write each frame of ``reader`` to the writers ``route`` names (``cut``: by frame, the
    bytes to leave off its end); how many frames were written anywhere. What is wrong with
    the capture itself goes to ``problems`` (by default nowhere: reported by its analysis)."""
    sink = _Routed(route, cut or {})
    for _ in reader.frames(sink, problems or ProblemLog()):
        pass
    return sink.copied
