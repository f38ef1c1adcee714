"""``map_parts``: a function run over all the messages of a capture by several processes.

A large plain pcap or pcapng file is cut into regions of whole records (``capture.regions``),
one process per region (``processes``). A region's process decodes every frame that stands
alone (UDP, the bulk of SIP traffic) and sets aside, whole, the frames that need state from
other frames (TCP segments, IP fragments, SCTP); those are then decoded together, in order, by
the calling process. Every frame is decoded exactly once and every message is seen by exactly
one call of the function, so the combined result is the same as from one process. Frames are
numbered as in the whole file: the regions are counted first, which also checks that every cut
fell between records (if one did not, or the file cannot be cut, one process reads it all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypeVar

from sipdiag.analysis.processes import in_processes
from sipdiag.analysis.reading import (
    CaptureSummary,
    Inputs,
    MessageReader,
    joined_summary,
    paths_of,
)
from sipdiag.capture import Region, open_capture, regions
from sipdiag.capture.replay import Frame
from sipdiag.network.tls import Decryption

T = TypeVar("T")


def map_parts(
    path: Inputs, jobs: int, work: Callable[[MessageReader], T],
    decryption: Decryption | None = None,
) -> tuple[list[T], CaptureSummary]:
    """``work`` applied to disjoint parts of the capture's messages, together covering all
    (``processes.in_processes``: its result must pickle). With one job, several files, or a
    file that cannot be cut, there is one part. TLS is only in the set-aside TCP frames, read
    here: ``decryption`` (``analysis.decryption.decrypt``) goes to that reader.
    """
    paths = paths_of(path)
    planned = regions.plan(paths[0], jobs) if jobs > 1 and len(paths) == 1 else None
    if planned is not None and len(planned) > 1:
        single = paths[0]
        numbered = _number_regions(single, planned)
        if numbered is not None:
            parts = in_processes(partial(_run_region, single, work), numbered)
            return _finish_parts(single, parts, work, decryption)
    reader = MessageReader(path, decryption=decryption)
    return [work(reader)], reader.summary


def _number_regions(path: str | Path, planned: list[Region]) -> list[Region] | None:
    """The regions with their first frame numbers, or None if a cut fell inside a record."""
    return numbered(planned, in_processes(partial(count_region, path), planned))


def numbered(planned: list[Region], counted: list[tuple[int, bool]]) -> list[Region] | None:
    """The regions with their first frame numbers, from each one's (frames, cut right)
    (``count_region``); None if a cut fell inside a record."""
    if not all(aligned for _, aligned in counted):
        return None
    regions, first = [], 1
    for region, (frames, _) in zip(planned, counted, strict=True):
        regions.append(replace(region, first_frame=first))
        first += frames
    return regions


def count_region(path: str | Path, region: Region) -> tuple[int, bool]:
    """The frames of the region, and whether it ends where a record does."""
    reader = open_capture(path, region=region)
    try:
        return reader.count_frames() - (region.first_frame - 1), reader.aligned
    finally:
        reader.close()


def _run_region(
    path: str | Path, work: Callable[[MessageReader], T], region: Region
) -> tuple[T, list[Frame], CaptureSummary]:
    reader = MessageReader(path, region=region)
    return work(reader), reader.deferred, reader.summary


def _finish_parts(
    path: str | Path,
    parts: list[tuple[T, list[Frame], CaptureSummary]],
    work: Callable[[MessageReader], T],
    decryption: Decryption | None,
) -> tuple[list[T], CaptureSummary]:
    """Decode the set-aside stateful frames here, and sum up the parts."""
    replay = MessageReader(path, replay=[frame for _, frames, _ in parts for frame in frames],
                           decryption=decryption)
    results = [result for result, _, _ in parts]
    results.append(work(replay))
    summaries = [summary for _, _, summary in parts]
    return results, joined_summary(summaries[0], summaries, replay.summary)
