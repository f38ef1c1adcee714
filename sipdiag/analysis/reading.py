"""Reading a capture: its SIP messages in frame order, and a summary of what it held.

``MessageReader`` turns one capture (or several read as one) into its SIP messages, in frame
order, a block at a time, and fills in a ``CaptureSummary`` (format, frames, time span, counts,
problems) as it goes. A media sink beside it is offered every other UDP payload and shown each
SIP message as soon as it is read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from sipdiag.capture import Reader, Region, open_capture, open_captures
from sipdiag.capture.replay import Frame, ReplayReader
from sipdiag.network import UdpSink
from sipdiag.network.decoder import Decoder
from sipdiag.network.tls import Decryption, TlsSession, TlsStatus
from sipdiag.problems import ProblemLog
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import SipReader

PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Smaller captures are read by one process: starting more would cost more than it saves."""

Inputs = str | Path | Sequence[str | Path]
"""A capture file (``-``: standard input), or several read as one (``capture.merge``)."""
Source = Inputs | Reader
"""Capture files, or a reader already open (a live capture)."""

Progress = Callable[[int, int | None], None]
"""Called as progress(bytes_read, total_bytes_or_None) after each block."""


class MediaSink(UdpSink, Protocol):
    """What reads the media beside the SIP: every UDP payload that is not SIP, and every SIP
    message as soon as it is read (``MediaTracker``, or a ``PayloadCollector``)."""

    def observe(self, message: SipMessage) -> None: ...


@dataclass(slots=True)
class CaptureSummary:
    name: str
    format: str = ""
    compression: str | None = None
    linktypes: tuple[int, ...] = ()
    frames: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    observed_until_ns: int | None = None
    """When the capture stopped, where the file says so (``Reader.observed_until_ns``)."""
    sip_messages: int = 0
    defective_messages: int = 0
    problems: ProblemLog = field(default_factory=ProblemLog)
    tls_sessions: list[TlsSession] = field(default_factory=list)
    """The TLS sessions on SIP ports or carrying SIP, decrypted or not (``TlsSession``)."""

    @property
    def end_ns(self) -> int | None:
        """Until when the capture watched: its last frame, or later where it says so."""
        if self.observed_until_ns is None or self.last_ts_ns is None:
            return self.last_ts_ns
        return max(self.last_ts_ns, self.observed_until_ns)


class MessageReader:
    """The SIP messages of one capture, in frame order; ``summary`` is complete after iteration.

    Reads the whole capture, or one ``region`` of it (then ``deferred`` collects the frames
    left for the reader of stateful traffic), or ``replay``s such frames. Raises
    ``CaptureError`` (from ``open_capture``) when the input is not a capture.
    """

    def __init__(
        self,
        path: Source,
        *,
        stdin: BinaryIO | None = None,
        region: Region | None = None,
        replay: Sequence[Frame] | None = None,
        progress: Progress | None = None,
        media: MediaSink | None = None,
        decryption: Decryption | None = None,
        sets_aside: bool = False,
    ) -> None:
        self.path = path
        self._decryption = decryption
        """What Wireshark decrypted of the capture's TLS (``analysis.decryption.decrypt``)."""
        self._media = media
        """Shown every SIP message and offered every other UDP payload, if given."""
        self._stdin = stdin
        self._region = region
        self._replay = replay
        self._progress = progress
        self.summary = CaptureSummary(_name(path))
        self.deferred: list[Frame] = []
        """The frames set aside for the reader of stateful traffic: with a ``region``, or
        ``sets_aside``."""
        self._sets_aside = sets_aside or region is not None
        self.position = 0
        """Where the last block read ended (``Reader.frames``: bytes of the file)."""
        self.held_from: int | None = None
        """The lowest frame whose messages the last block held back (TCP data waits before
        them), or None: every message read was handed on."""
        self._reader: Reader | None = None

    def __iter__(self) -> Iterator[SipMessage]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[SipMessage]]:
        """The messages a block at a time (cheaper to consume than one at a time)."""
        reader = self._reader = self._open()
        summary = self.summary
        summary.name, summary.format = reader.source.name, reader.format
        summary.compression = reader.source.compression
        media = self._media
        sip = SipReader(summary.problems, media.observe if media else None, self._decryption)
        decoder = Decoder(sip, summary.problems,
                          self.deferred.append if self._sets_aside else None, media)
        total = _size(self.path, reader)
        try:
            for position in reader.frames(decoder, summary.problems):
                self.position = position
                _fill_summary(summary, reader, sip)
                if summary.last_ts_ns is not None:
                    decoder.tcp.advance(summary.last_ts_ns)  # holes time out between segments
                self.held_from = decoder.tcp.pending_min_frame
                yield sip.drain(self.held_from)
                if self._progress:
                    self._progress(position, total)
            decoder.flush()
            _fill_summary(summary, reader, sip)
            self._tls_summary(sip)
            self.held_from = None
            yield sip.drain(None)
        finally:
            reader.close()

    def _tls_summary(self, sip: SipReader) -> None:
        """The TLS sessions, and a problem for each one that was to be decrypted and was not."""
        summary, decryption = self.summary, self._decryption
        summary.tls_sessions = sip.tls_sessions()
        for session in summary.tls_sessions:
            status = session.outcome = session.judged(decryption)
            # Without keys, each TLS direction on a SIP port was told as it began (tls_encrypted)
            if decryption is not None and status is not TlsStatus.DECRYPTED:
                summary.problems.add("tls_not_decrypted", session.first_frame,
                                     f"{session.describe()} was not decrypted: {status.value}")

    def now_ns(self) -> int | None:
        """The capture's time now, if it goes on past its last frame (``Reader.now_ns``)."""
        return self._reader.now_ns() if self._reader is not None else None

    def _open(self) -> Reader:
        if isinstance(self.path, Reader):
            return self.path
        if self._replay is not None:
            return ReplayReader(self._replay, str(self.path))
        paths = paths_of(self.path)
        if len(paths) > 1:
            return open_captures(paths, self._stdin)
        return open_capture(paths[0], self._stdin, self._region)


def joined_summary(head: CaptureSummary, parts: Sequence[CaptureSummary],
                   set_aside: CaptureSummary | None) -> CaptureSummary:
    """The summary of a capture read in consecutive parts (regions of a file, groups of files;
    in frame order, numbered as the whole) and, after them, its ``set_aside`` frames (TCP,
    fragments: ``MessageReader.deferred``); named as ``head`` is."""
    summary = CaptureSummary(head.name, head.format, head.compression)
    timed = [part for part in parts if part.first_ts_ns is not None]
    summary.linktypes = tuple(sorted({t for part in parts for t in part.linktypes}))
    summary.frames = max((part.frames for part in parts), default=0)
    summary.first_ts_ns = timed[0].first_ts_ns if timed else None
    summary.last_ts_ns = timed[-1].last_ts_ns if timed else None
    summary.observed_until_ns = max((part.observed_until_ns for part in parts
                                     if part.observed_until_ns is not None), default=None)
    for part in [*parts, *filter(None, [set_aside])]:
        summary.sip_messages += part.sip_messages
        summary.defective_messages += part.defective_messages
        summary.problems.merge(part.problems)
    if set_aside is not None:
        summary.tls_sessions = set_aside.tls_sessions
    return summary


def paths_of(inputs: Inputs) -> list[str | Path]:
    return [inputs] if isinstance(inputs, str | Path) else list(inputs)


def _name(path: Source) -> str:
    return path.source.name if isinstance(path, Reader) else " + ".join(map(str, paths_of(path)))


def _size(path: Source, reader: Reader) -> int | None:
    """The bytes to read, for progress (None when that cannot be known in advance)."""
    if isinstance(path, Reader) or reader.source.compression or reader.format == "replay":
        return None
    return _total_size(path)


def _fill_summary(summary: CaptureSummary, reader: Reader, sip: SipReader) -> None:
    summary.linktypes = tuple(sorted(reader.linktypes))
    summary.frames = reader.frame_count
    summary.first_ts_ns, summary.last_ts_ns = reader.first_ts_ns, reader.last_ts_ns
    summary.observed_until_ns = reader.observed_until_ns
    summary.sip_messages = sip.message_count
    summary.defective_messages = sip.defective_count


def message_kind(message: SipMessage) -> str:
    """``INVITE`` for a request, ``200`` for a response: how messages are counted."""
    return message.method or str(message.status)


def default_jobs(path: Inputs) -> int:
    """How many processes to use for a capture: one for small files and standard input."""
    size = _total_size(path)
    return min(os.cpu_count() or 1, 8) if size is not None and size >= PARALLEL_MIN_BYTES else 1


def _total_size(path: Inputs) -> int | None:
    """The size of the files on disk (None for standard input)."""
    paths = paths_of(path)
    if "-" in map(str, paths):
        return None
    try:
        return sum(os.path.getsize(p) for p in paths)
    except OSError:
        return None
