"""The pipeline: the one place that wires capture -> network -> SIP together.

``MessageReader`` turns one capture into its SIP messages, in frame order, and fills in a
``CaptureSummary`` (format, frames, time span, counts, problems) as it goes.

``analyze`` turns the messages into calls, exchanges and findings, kept on disk as they are
made (``spool``). With several processes, each reads and parses the whole capture but tracks
and judges only the Call-IDs that fall to it (a ``Share``, by CRC-32), while the time of every
message still moves its clock: each process sees exactly the message stream one process would,
so calls end at the same moments, TCP streams and fragments are reassembled alike, and the
merged result is the same (reading is the cheap part; the analysis is what is shared). Cutting
the file into regions instead would split calls at the cuts and need a reconciliation that can
only approximate one reader.

``map_parts`` runs a function over all the messages of a capture using several processes: a
large plain pcap or pcapng file is cut into regions of whole records (``capture.regions``), one
process per region. A region's process decodes every frame that stands alone (UDP, the bulk of
SIP traffic) and sets aside, whole, the frames that need state from other frames (TCP segments,
IP fragments, SCTP); those are then decoded together, in order, by the calling process. Every
frame is decoded exactly once and every message is seen by exactly one call of the function,
so the combined result is the same as from one process. Frames are numbered as in the whole
file: the regions are counted first, which also checks that every cut fell between records
(if one did not, or the file cannot be cut, one process reads it all).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from enum import Enum
from itertools import repeat
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

from sipdiag.capture import Reader, Region, open_capture, open_captures, regions
from sipdiag.capture.replay import Frame, ReplayReader
from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.correlate import Correlator, Link
from sipdiag.dialogs.records import CallRecord, ExchangeRecord, call_record, exchange_record
from sipdiag.dialogs.select import Selection, needs_attention
from sipdiag.dialogs.tracker import CallTracker, Finished
from sipdiag.media.model import TiedStream
from sipdiag.media.stream import Stream
from sipdiag.media.tracker import MediaTracker
from sipdiag.network import Endpoint, UdpSink
from sipdiag.network.decoder import Decoder
from sipdiag.problems import ProblemLog
from sipdiag.rules import Engine
from sipdiag.rules.capture import Watch
from sipdiag.rules.model import Finding, severity_rank
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import SipReader
from sipdiag.spool import Listing, Mapped, Merged, Spool, SpoolState

T = TypeVar("T")
R = TypeVar("R", CallRecord, ExchangeRecord)
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Smaller captures are read by one process: starting more would cost more than it saves."""

Inputs = str | Path | Sequence[str | Path]
"""A capture file (``-``: standard input), or several read as one (``capture.merge``)."""

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
    sip_messages: int = 0
    defective_messages: int = 0
    problems: ProblemLog = field(default_factory=ProblemLog)


class MessageReader:
    """The SIP messages of one capture, in frame order; ``summary`` is complete after iteration.

    Reads the whole capture, or one ``region`` of it (then ``deferred`` collects the frames
    left for the reader of stateful traffic), or ``replay``s such frames. Raises
    ``CaptureError`` (from ``open_capture``) when the input is not a capture.
    """

    def __init__(
        self,
        path: Inputs,
        *,
        stdin: BinaryIO | None = None,
        region: Region | None = None,
        replay: Sequence[Frame] | None = None,
        progress: Progress | None = None,
        media: MediaSink | None = None,
    ) -> None:
        self.path = path
        self._media = media
        """Shown every SIP message and offered every other UDP payload, if given."""
        self._stdin = stdin
        self._region = region
        self._replay = replay
        self._progress = progress
        self.summary = CaptureSummary(" + ".join(map(str, paths_of(path))))
        self.deferred: list[Frame] = []

    def __iter__(self) -> Iterator[SipMessage]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[SipMessage]]:
        """The messages a block at a time (cheaper to consume than one at a time)."""
        reader = self._open()
        summary = self.summary
        summary.name, summary.format = reader.source.name, reader.format
        summary.compression = reader.source.compression
        media = self._media
        sip = SipReader(summary.problems, media.observe if media else None)
        decoder = Decoder(sip, summary.problems, self.deferred.append if self._region else None,
                          media)
        total = _size(self.path, reader)
        try:
            for position in reader.frames(decoder, summary.problems):
                _fill_summary(summary, reader, sip)
                if summary.last_ts_ns is not None:
                    decoder.tcp.advance(summary.last_ts_ns)  # holes time out between segments
                yield sip.drain(decoder.tcp.pending_min_frame)
                if self._progress:
                    self._progress(position, total)
            decoder.flush()
            _fill_summary(summary, reader, sip)
            yield sip.drain(None)
        finally:
            reader.close()

    def _open(self) -> Reader:
        if self._replay is not None:
            return ReplayReader(self._replay, str(self.path))
        paths = paths_of(self.path)
        if len(paths) > 1:
            return open_captures(paths, self._stdin)
        return open_capture(paths[0], self._stdin, self._region)


def paths_of(inputs: Inputs) -> list[str | Path]:
    return [inputs] if isinstance(inputs, str | Path) else list(inputs)


def _size(path: Inputs, reader: Reader) -> int | None:
    """The bytes to read, for progress (None when that cannot be known in advance)."""
    if reader.source.compression or reader.format == "replay":
        return None
    return _total_size(path)


def _fill_summary(summary: CaptureSummary, reader: Reader, sip: SipReader) -> None:
    summary.linktypes = tuple(sorted(reader.linktypes))
    summary.frames = reader.frame_count
    summary.first_ts_ns, summary.last_ts_ns = reader.first_ts_ns, reader.last_ts_ns
    summary.sip_messages = sip.message_count
    summary.defective_messages = sip.defective_count


@dataclass(slots=True)
class Tally:
    """Counts kept as calls, exchanges and findings are spooled, so that the summary figures
    need not read them all back."""

    call_outcomes: Counter[str] = field(default_factory=Counter)
    final_statuses: Counter[int] = field(default_factory=Counter)
    """The final status of each call (0: none)."""
    post_dial_delays: array[float] = field(default_factory=lambda: array("d"))
    """Seconds, of every call that rang or was answered, in no particular order."""
    exchange_outcomes: Counter[str] = field(default_factory=Counter)
    severities: Counter[str] = field(default_factory=Counter)
    media_states: Counter[str] = field(default_factory=Counter)
    """Calls by media state (calls without a media session are not counted)."""
    streams: int = 0
    """RTP streams, of the calls and of no call."""
    rtp_packets: int = 0

    def add(self, record: CallRecord | ExchangeRecord) -> None:
        if isinstance(record, ExchangeRecord):
            self.exchange_outcomes[record.outcome] += 1
            return
        self.call_outcomes[record.outcome] += 1
        self.final_statuses[record.final_status] += 1
        if record.timings.post_dial_delay is not None:
            self.post_dial_delays.append(record.timings.post_dial_delay)
        if record.media is not None:
            self.media_states[record.media.state.value] += 1
            self.add_streams(s.stream for s in record.media.streams)

    def add_streams(self, streams: Iterable[Stream]) -> None:
        for stream in streams:
            self.streams += 1
            self.rtp_packets += stream.packets

    def merge(self, other: Tally) -> None:
        self.call_outcomes += other.call_outcomes
        self.final_statuses += other.final_statuses
        self.post_dial_delays.extend(other.post_dial_delays)
        self.exchange_outcomes += other.exchange_outcomes
        self.severities += other.severities
        self.media_states += other.media_states
        self.streams += other.streams
        self.rtp_packets += other.rtp_packets


@dataclass(slots=True)
class Analysis:
    """Everything a report says about one capture.

    Calls, exchanges and findings are spooled to disk as they are made and read back in order
    (``spool.Spool``), so that memory follows the calls in progress, not the length of the
    capture; a report may go through them several times.
    """

    summary: CaptureSummary
    calls: Listing[CallRecord]
    """In the order of their first frames."""
    exchanges: Listing[ExchangeRecord]
    links: list[Link]
    message_counts: Counter[str]
    """SIP messages by request method and by status code."""
    findings: Listing[Finding] = ()
    """What the rules found, most severe first, then by call and frame."""
    call_findings: Listing[Finding] = ()
    """The same findings by call (the order of the calls' first frames), then by severity."""
    tally: Tally = field(default_factory=Tally)
    unattributed: list[TiedStream] = field(default_factory=list)
    """RTP streams that belong to no call of the capture, in frame order."""
    selection: Selection = field(default_factory=Selection)
    """The calls and exchanges kept (all unless chosen): the figures of ``summary`` are the
    whole capture's, those of the calls and their findings the selection's."""


class Ladders(Enum):
    """Which calls keep their messages as a ladder, for a report to draw."""

    NONE = "none"
    FAILING = "failing"
    ALL = "all"

    def keeps(self, outcome: str, problem: bool) -> bool:
        """Whether a call or exchange with this outcome (and a warning or error if ``problem``)
        keeps its ladder."""
        return self is Ladders.ALL or (self is Ladders.FAILING
                                       and needs_attention(outcome, problem))


def with_ladders(analysis: Analysis, ladders: Ladders) -> Analysis:
    """The analysis (made with ``Ladders.ALL``) as if it had been made with ``ladders``: one
    report draws every call, another on the same analysis only what its user asked for."""
    if ladders is Ladders.ALL:
        return analysis
    problems = {f.call_frame for f in analysis.findings if f.severity != "info"}

    def kept(record: R) -> R:
        problem = record.first_frame in problems
        if record.ladder is None or ladders.keeps(record.outcome, problem):
            return record
        return replace(record, ladder=None)

    return replace(analysis, calls=Mapped(analysis.calls, kept),
                   exchanges=Mapped(analysis.exchanges, kept))


def analyze(
    path: Inputs,
    *,
    stdin: BinaryIO | None = None,
    progress: Progress | None = None,
    engine: Engine | None = None,
    selection: Selection | None = None,
    ladders: Ladders = Ladders.NONE,
    jobs: int = 0,
) -> Analysis:
    """Read a capture into calls and exchanges (and the links between B2BUA legs), and what
    the rules of ``engine`` find in each of them; only the calls ``selection`` wants are kept.

    ``jobs``: how many processes (0: ``default_jobs``). Each process reads the whole capture
    but analyses only its ``Share`` of the Call-IDs; the result is the same whatever the number.
    """
    job = _Job(engine, selection, ladders)
    jobs = jobs or default_jobs(path)
    reads_stdin = "-" in map(str, paths_of(path))
    if jobs > 1 and not reads_stdin and "fork" in multiprocessing.get_all_start_methods():
        with closing(open_captures(paths_of(path))):  # not a capture: say so before forking
            pass
        parts = _analyze_in_processes(path, jobs, progress, job)
    else:
        parts = [_analyze_share(path, stdin, progress, job, Share())]
    return replace(_combine(parts, engine), selection=selection or Selection())


@dataclass(frozen=True, slots=True)
class Share:
    """The Call-IDs one of ``count`` processes analyses: those whose CRC-32 falls to it."""

    index: int = 0
    count: int = 1

    def owns(self, call_id: str) -> bool:
        return zlib.crc32(call_id.encode("utf-8", "replace")) % self.count == self.index


@dataclass(frozen=True, slots=True)
class _Job:
    engine: Engine | None
    selection: Selection | None
    ladders: Ladders


@dataclass(slots=True)
class _Part:
    """What one process found (sent back to the first one)."""

    summary: CaptureSummary
    calls: SpoolState
    exchanges: SpoolState
    findings: SpoolState
    correlator: Correlator
    watches: dict[str, Watch]
    """What the rules about the whole capture kept of this process's calls, by rule id."""
    call_ids: array[int]
    """A hash of every call's Call-ID: enough to tell which linked Call-IDs the capture has
    (``hash`` of a string is the same in forked processes, which share the hash seed)."""
    counts: Counter[str]
    tally: Tally
    media_problems: ProblemLog
    """Malformed RTP and RTCP of this process's calls (and of orphans, in the first)."""
    unattributed: list[TiedStream]


class _RefusalsToCalls:
    """The media tracker as the reader's media sink, with its ICMP errors handed to the call
    tracker too: one that quotes a SIP request refused it (RFC 3261 section 17.1.4)."""

    def __init__(self, media: MediaTracker, calls: CallTracker) -> None:
        self.observe = media.observe
        self.datagram = media.datagram  # bound once: no extra call for every RTP packet
        self._media, self._calls = media, calls

    def unreachable(self, frame: int, ts_ns: int, reporter: str, src: Endpoint, dst: Endpoint,
                    reason: str) -> None:
        self._media.unreachable(frame, ts_ns, reporter, src, dst, reason)
        self._calls.unreachable(frame, ts_ns, reporter, src, dst, reason)


def _analyze_share(
    path: Inputs, stdin: BinaryIO | None, progress: Progress | None, job: _Job, share: Share
) -> _Part:
    engine, selection, ladders = job.engine, job.selection, job.ladders
    owns = share.owns if share.count > 1 else None
    media = MediaTracker(owns, reports_orphans=share.index == 0,
                         timelines=ladders is not Ladders.NONE)
    tracker, correlator = CallTracker(media), Correlator()
    watches = engine.watches() if engine is not None else {}
    reader = MessageReader(path, stdin=stdin, progress=progress,
                           media=_RefusalsToCalls(media, tracker))
    calls: Spool[CallRecord] = Spool()
    exchanges: Spool[ExchangeRecord] = Spool()
    findings: Spool[Finding] = Spool(engine.rules.shared() if engine else {}, orders=2)
    call_ids = array("q")
    counts: Counter[str] = Counter()
    tally = Tally()

    def keep(finished: Iterator[Finished]) -> None:
        for item in finished:
            counts.update(map(message_kind, item.messages))  # every message ends in one
            found = engine.evaluate(item) if engine is not None else []
            problem = any(f.severity != "info" for f in found)
            first_ts = reader.summary.first_ts_ns or 0
            if selection is not None and not selection.wants(item, first_ts, problem):
                continue
            for ordinal, finding in enumerate(found):
                findings.add(finding, *finding_keys(finding, ordinal))
                tally.severities[finding.severity] += 1
            for watch in watches.values():
                watch.observe(item)
            ladder = ladders.keeps(item.outcome, problem)
            if isinstance(item, Call):
                correlator.add(item)
                call_ids.append(hash(item.call_id))
                record = call_record(item, ladder=ladder)
                calls.add(record, record.first_frame)
                tally.add(record)
            else:
                record_ = exchange_record(item, ladder=ladder)
                exchanges.add(record_, record_.first_frame)
                tally.add(record_)

    for batch in reader.batches():
        keep(tracker.add(batch, owns))
    media.finish()
    keep(tracker.finish(reader.summary.last_ts_ns or 0))
    return _Part(reader.summary, calls.detach(), exchanges.detach(), findings.detach(),
                 correlator, watches, call_ids, counts, tally, media.problems,
                 media.unattributed)


def _combine(parts: Sequence[_Part], engine: Engine | None) -> Analysis:
    """One analysis of the parts: every process read the same capture, so the summary of the
    first stands for all; calls and findings are merged in the order of their keys."""
    shared = engine.rules.shared() if engine is not None else {}
    calls = Merged([Spool[CallRecord].adopt(part.calls) for part in parts])
    exchanges = Merged([Spool[ExchangeRecord].adopt(part.exchanges) for part in parts])
    findings = [Spool[Finding].adopt(part.findings, shared) for part in parts]
    findings.append(_capture_findings(parts, engine, shared))
    correlator = Correlator.merged([part.correlator for part in parts])
    call_ids = array("q", (h for part in parts for h in part.call_ids))
    links = correlator.links(_present(correlator.referenced(), call_ids))
    counts = sum((part.counts for part in parts), Counter[str]())
    tally = Tally()
    summary = parts[0].summary
    for part in parts:
        tally.merge(part.tally)
        summary.problems.merge(part.media_problems)
    tally.severities.update(finding.severity for finding in findings[-1])
    unattributed = sorted((s for part in parts for s in part.unattributed),
                          key=lambda s: (s.stream.first_frame, s.stream.ssrc))
    tally.add_streams(s.stream for s in unattributed)
    return Analysis(summary, calls, exchanges, links, counts, Merged(findings, 0),
                    Merged(findings, 1), tally, unattributed)


def _capture_findings(parts: Sequence[_Part], engine: Engine | None,
                      shared: Mapping[str, object]) -> Spool[Finding]:
    """The findings of the rules about the whole capture, from every process's watches, spooled
    like those of one call (after them: they are told last on the call they begin in)."""
    spooled: Spool[Finding] = Spool(shared, orders=2)
    if engine is None:
        return spooled
    watches = parts[0].watches
    for part in parts[1:]:
        for rule_id, watch in part.watches.items():
            watches[rule_id].merge(watch)
    for finding in engine.capture_findings(watches):
        spooled.add(finding, *finding_keys(finding, LAST_ORDINAL))
    return spooled


def _analyze_in_processes(
    path: Inputs, jobs: int, progress: Progress | None, job: _Job
) -> list[_Part]:
    """Shares 1 to jobs-1 in forked processes (the engine is inherited, not sent), share 0
    here, meanwhile: no process waits idle, and this one reports the progress."""
    context = multiprocessing.get_context("fork")
    receivers: list[Connection] = []
    workers: list[BaseProcess] = []
    try:
        for index in range(1, jobs):
            receiver, sender = context.Pipe(duplex=False)
            worker: BaseProcess = context.Process(
                target=_share_worker, daemon=True, args=(path, job, Share(index, jobs), sender))
            worker.start()
            sender.close()
            receivers.append(receiver)
            workers.append(worker)
        parts = [_analyze_share(path, None, progress, job, Share(0, jobs))]
        parts += [_receive(receiver) for receiver in receivers]
        for worker in workers:
            worker.join()
        return parts
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()


def _share_worker(path: Inputs, job: _Job, share: Share, sender: Connection) -> None:
    try:
        sender.send(_analyze_share(path, None, None, job, share))
    except BaseException as exc:  # sent back and raised there: the worker only reports it
        sender.send(exc if _pickles(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def _receive(receiver: Connection) -> _Part:
    try:
        outcome = receiver.recv()
    except EOFError:
        raise RuntimeError("a worker process ended without a result") from None
    if isinstance(outcome, BaseException):
        raise outcome
    assert isinstance(outcome, _Part)
    return outcome


def _pickles(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


LAST_ORDINAL = (1 << 20) - 1
"""The place within its call of a finding told after all the others."""


def finding_keys(finding: Finding, ordinal: int) -> tuple[int, int]:
    """Sort keys of a finding: most severe first, then by call (its first frame), then in the
    engine's order within the call; and by call, then the engine's order."""
    by_call = (finding.call_frame << 20) | min(ordinal, LAST_ORDINAL)
    return ((2 - severity_rank(finding.severity)) << 61) | by_call, by_call


def _present(referenced: set[str], hashes: array[int]) -> set[str]:
    """The referenced Call-IDs that are calls of the capture."""
    wanted = {hash(call_id): call_id for call_id in referenced}
    return {wanted[h] for h in hashes if h in wanted}


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


def map_parts(
    path: Inputs, jobs: int, work: Callable[[MessageReader], T]
) -> tuple[list[T], CaptureSummary]:
    """``work`` applied to disjoint parts of the capture's messages, together covering all.

    ``work`` must be a module-level function (it is sent to other processes) and its result
    must pickle. With one job, several files, or a file that cannot be cut, there is one part.
    """
    paths = paths_of(path)
    planned = regions.plan(paths[0], jobs) if jobs > 1 and len(paths) == 1 else None
    if planned is not None and len(planned) > 1:
        single = paths[0]
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(len(planned), mp_context=context) as pool:
            numbered = _number_regions(single, planned, pool)
            if numbered is not None:
                parts = list(pool.map(_run_region, repeat(single), numbered, repeat(work)))
                return _finish_parts(single, parts, work)
    reader = MessageReader(path)
    return [work(reader)], reader.summary


def _number_regions(
    path: str | Path, planned: list[Region], pool: ProcessPoolExecutor
) -> list[Region] | None:
    """The regions with their first frame numbers, or None if a cut fell inside a record."""
    counted = list(pool.map(_count_region, repeat(path), planned))
    if not all(aligned for _, aligned in counted):
        return None
    numbered, first = [], 1
    for region, (frames, _) in zip(planned, counted, strict=True):
        numbered.append(replace(region, first_frame=first))
        first += frames
    return numbered


def _count_region(path: str | Path, region: Region) -> tuple[int, bool]:
    reader = open_capture(path, region=region)
    try:
        return reader.count_frames() - (region.first_frame - 1), reader.aligned
    finally:
        reader.close()


def _run_region(
    path: str | Path, region: Region, work: Callable[[MessageReader], T]
) -> tuple[T, list[Frame], CaptureSummary]:
    reader = MessageReader(path, region=region)
    return work(reader), reader.deferred, reader.summary


def _finish_parts(
    path: str | Path,
    parts: list[tuple[T, list[Frame], CaptureSummary]],
    work: Callable[[MessageReader], T],
) -> tuple[list[T], CaptureSummary]:
    """Decode the set-aside stateful frames here, and sum up the parts."""
    replay = MessageReader(path, replay=[frame for _, frames, _ in parts for frame in frames])
    results = [result for result, _, _ in parts]
    results.append(work(replay))
    summaries = [summary for _, _, summary in parts]
    summary = summaries[0]
    for other in summaries[1:]:
        summary.linktypes = tuple(sorted({*summary.linktypes, *other.linktypes}))
        summary.last_ts_ns = other.last_ts_ns or summary.last_ts_ns
        _add_counts(summary, other)
    summary.frames = summaries[-1].frames  # the last region's last frame number is the total
    _add_counts(summary, replay.summary)
    return results, summary


def _add_counts(summary: CaptureSummary, other: CaptureSummary) -> None:
    summary.sip_messages += other.sip_messages
    summary.defective_messages += other.defective_messages
    summary.problems.merge(other.problems)
