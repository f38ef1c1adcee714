"""The pipeline: the one place that wires capture -> network -> SIP together.

``MessageReader`` turns one capture into its SIP messages, in frame order, and fills in a
``CaptureSummary`` (format, frames, time span, counts, problems) as it goes.

``map_partitions`` runs a function over the messages of a capture in several processes at once.
Each process reads the whole file but keeps only the messages whose Call-ID falls in its share
(``partition_of``), so everything that belongs to one call is seen by exactly one process, in
order, and the results are the same as with one process. Reading is cheap next to what is done
with the messages, which is what the processes share. Problems found below the SIP layer (a cut
file, a bad IP header) are seen by every process and kept from the first only; problems with a
message are kept by the process that owns the message.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from sipdiag.capture import Reader, open_capture
from sipdiag.network.decoder import Decoder
from sipdiag.problems import ProblemLog
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import Partition, SipReader

T = TypeVar("T")
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Smaller captures are read by one process: starting more would cost more than it saves."""

Progress = Callable[[int, int | None], None]
"""Called as progress(bytes_read, total_bytes_or_None) after each block."""


@dataclass(slots=True)
class CaptureSummary:
    name: str
    format: str = ""
    compression: str | None = None
    linktypes: tuple[int, ...] = ()
    frames: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    sip_messages: int = 0
    defective_messages: int = 0
    problems: ProblemLog = field(default_factory=ProblemLog)

    def merge_partition(self, other: CaptureSummary) -> None:
        """Add another partition's share of the same capture."""
        self.sip_messages += other.sip_messages
        self.defective_messages += other.defective_messages
        self.problems.merge(other.problems)


class MessageReader:
    """The SIP messages of one capture, in frame order; ``summary`` is complete after iteration.

    Raises ``CaptureError`` (from ``open_capture``) when the input is not a capture.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        stdin: BinaryIO | None = None,
        partition: Partition | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.path = path
        self._stdin = stdin
        self._partition = partition
        self._progress = progress
        self.summary = CaptureSummary(str(path))

    def __iter__(self) -> Iterator[SipMessage]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[SipMessage]]:
        """The messages a block at a time (cheaper to consume than one at a time)."""
        summary = self.summary
        reader = open_capture(self.path, self._stdin)
        summary.name, summary.format = reader.source.name, reader.format
        summary.compression = reader.source.compression
        lower_layers = summary.problems if _owns_lower_layers(self._partition) else ProblemLog()
        sip = SipReader(lower_layers, summary.problems, self._partition)
        decoder = Decoder(sip, lower_layers)
        total = _size(self.path, reader)
        try:
            for position in reader.frames(decoder, lower_layers):
                if reader.last_ts_ns is not None:
                    decoder.tcp.expire(reader.last_ts_ns)
                _fill_summary(summary, reader, sip)
                yield sip.drain(decoder.tcp.pending_min_frame)
                if self._progress:
                    self._progress(position, total)
            decoder.flush()
            _fill_summary(summary, reader, sip)
            yield sip.drain(None)
        finally:
            reader.close()
            _fill_summary(summary, reader, sip)


def _owns_lower_layers(partition: Partition | None) -> bool:
    return partition is None or partition[0] == 0


def _size(path: str | Path, reader: Reader) -> int | None:
    if str(path) == "-" or reader.source.compression:
        return None
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _fill_summary(summary: CaptureSummary, reader: Reader, sip: SipReader) -> None:
    summary.linktypes = tuple(sorted(reader.linktypes))
    summary.frames = reader.frame_count
    summary.first_ts_ns, summary.last_ts_ns = reader.first_ts_ns, reader.last_ts_ns
    summary.sip_messages = sip.message_count
    summary.defective_messages = sip.defective_count


def default_jobs(path: str | Path) -> int:
    """How many processes to use for a capture: one for small files and standard input."""
    if str(path) == "-":
        return 1
    try:
        size = os.path.getsize(path)
    except OSError:
        return 1
    return min(os.cpu_count() or 1, 4) if size >= PARALLEL_MIN_BYTES else 1


def map_partitions(
    path: str | Path, jobs: int, work: Callable[[MessageReader], T]
) -> list[tuple[T, CaptureSummary]]:
    """Run ``work`` on each of ``jobs`` partitions of the capture's messages, in parallel.

    ``work`` must be a module-level function (it is sent to other processes) and its result
    must pickle. Returns (result, summary) per partition, partition 0 first.
    """
    if jobs <= 1:
        return [_run_partition(path, (0, 1), work)]
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [pool.submit(_run_partition, path, (k, jobs), work) for k in range(jobs)]
        return [future.result() for future in futures]


def _run_partition(
    path: str | Path, partition: Partition, work: Callable[[MessageReader], T]
) -> tuple[T, CaptureSummary]:
    reader = MessageReader(path, partition=partition)
    return work(reader), reader.summary


def merge_summaries(parts: list[CaptureSummary]) -> CaptureSummary:
    merged = parts[0]
    for other in parts[1:]:
        merged.merge_partition(other)
    return merged
