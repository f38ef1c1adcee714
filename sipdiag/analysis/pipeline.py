"""The pipeline: the one place that wires the layers together, capture to findings.

``analyze`` reads a capture (``reading``) into results of calls and exchanges, kept on disk
as they are made (``spool``), into an ``Analysis`` (``model``). With several processes
(``processes``), each reads and parses the whole capture but tracks and judges only the
Call-IDs that fall to it (a ``Share``, by CRC-32), while the time of every message still moves
its clock: each process sees exactly the message stream one process would, so calls end at the
same moments, TCP streams and fragments are reassembled alike, and the merged result is the
same. Reading is the cheap part (read, decode and parse: about 6% of one process's time on the
bench capture); the analysis is what is shared.
"""

from __future__ import annotations

import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from functools import partial
from typing import BinaryIO, TypeVar

from sipdiag.analysis.model import (
    Analysis,
    Attachments,
    CallResult,
    ExchangeResult,
    FindingsBySeverity,
    Result,
    Tally,
    is_problem,
    result_of,
    severity_tag,
    sources_of,
)
from sipdiag.analysis.processes import can_fork, in_processes
from sipdiag.analysis.reading import (
    CaptureSummary,
    Inputs,
    MessageReader,
    Progress,
    Source,
    default_jobs,
    message_kind,
    paths_of,
)
from sipdiag.capture import Reader, open_captures
from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.correlate import Correlator
from sipdiag.dialogs.select import Ladders, Selection
from sipdiag.dialogs.sources import SourceLedger
from sipdiag.dialogs.tracker import CallTracker, Finished
from sipdiag.fingerprint import fingerprint
from sipdiag.media.model import TiedStream
from sipdiag.media.tracker import MediaTracker
from sipdiag.network import Endpoint
from sipdiag.network.tls import Decryption
from sipdiag.problems import ProblemLog
from sipdiag.rules import Engine
from sipdiag.rules.capture import Watch, WatchKind
from sipdiag.rules.model import Finding, Severity
from sipdiag.sip.message import SipMessage
from sipdiag.spool import Mapped, Merged, Spool, SpoolState

T = TypeVar("T")


def analyze(
    path: Inputs,
    *,
    stdin: BinaryIO | None = None,
    progress: Progress | None = None,
    engine: Engine | None = None,
    selection: Selection | None = None,
    ladders: Ladders = Ladders.NONE,
    jobs: int = 0,
    decryption: Decryption | None = None,
    marks: Selection | None = None,
    headers: Sequence[str] = (),
) -> Analysis:
    """Read a capture into calls and exchanges (and the links between B2BUA legs), and what
    the rules of ``engine`` find in each of them; only the calls ``selection`` wants are kept.
    Those ``marks`` wants are named in ``Analysis.marked`` (an export chooses calls so, and
    takes the calls linked to them from the same analysis).

    ``jobs``: how many processes (0: ``default_jobs``). Each process reads the whole capture
    but analyses only its ``Share`` of the Call-IDs; the result is the same whatever the number.
    ``decryption``: the TLS plaintext Wireshark found (``analysis.decryption.decrypt``); every
    process inherits it. ``headers``: those of each call's INVITE its result keeps.
    """
    job = Job(engine, selection, ladders, decryption=decryption, marks=marks,
              headers=tuple(headers))
    jobs = jobs or default_jobs(path)
    reads_stdin = "-" in map(str, paths_of(path))
    if jobs > 1 and not reads_stdin and can_fork():
        with closing(open_captures(paths_of(path))):  # not a capture: say so before forking
            pass
        shares = [Share(index, jobs) for index in range(jobs)]
        parts = in_processes(partial(analyze_share, path, None, None, job), shares,
                             first=partial(analyze_share, path, None, progress, job))
    else:
        parts = [analyze_share(path, stdin, progress, job, Share())]
    return replace(combine(parts, engine), selection=selection or Selection())


def analyze_live(
    capture: Reader,
    *,
    engine: Engine | None = None,
    selection: Selection | None = None,
    ladders: Ladders = Ladders.NONE,
    on_result: Callable[[Result], None] | None = None,
    keep: bool = True,
    decryption: Decryption | None = None,
) -> Analysis:
    """Analyse a capture as it is made (``capture.live``), in this process: each call or
    exchange is judged as soon as it is over and handed to ``on_result``. The analysis returned
    when the capture stops holds every result (``keep``), or only the tallies: a capture that
    runs for days keeps its results on disk, or nowhere."""
    job = Job(engine, selection, ladders, on_result, keep, decryption)
    part = analyze_share(capture, None, None, job, Share())
    return replace(combine([part], engine), selection=selection or Selection())


@dataclass(frozen=True, slots=True)
class Share:
    """The Call-IDs one of ``count`` processes analyses: those whose CRC-32 falls to it."""

    index: int = 0
    count: int = 1

    def owns(self, call_id: str) -> bool:
        return self.index_of(call_id, self.count) == self.index

    @staticmethod
    def index_of(call_id: str, count: int) -> int:
        """The share of ``count`` the Call-ID falls to."""
        return zlib.crc32(call_id.encode("utf-8", "replace")) % count


@dataclass(frozen=True, slots=True)
class Job:
    engine: Engine | None
    selection: Selection | None
    ladders: Ladders
    on_result: Callable[[Result], None] | None = None
    """Called with each result as soon as it is made (a live capture's lines)."""
    keep: bool = True
    """Whether the results are kept (spooled) for the report at the end."""
    decryption: Decryption | None = None
    marks: Selection | None = None
    headers: tuple[str, ...] = ()
    """The headers of each call's first INVITE its result keeps (``CallResult.headers``)."""


@dataclass(slots=True)
class Part:
    """What one process found (sent back to the first one)."""

    summary: CaptureSummary
    calls: SpoolState
    exchanges: SpoolState
    correlator: Correlator
    watches: dict[WatchKind, Watch]
    """What the rules about the whole capture kept of this process's calls, by kind; the
    ``SourceLedger`` always (the per-source summary reads it)."""
    call_ids: array[int]
    """The ``fingerprint`` of every call's Call-ID: enough to tell which linked Call-IDs the
    capture has."""
    counts: Counter[str]
    tally: Tally
    media_problems: ProblemLog
    """Malformed RTP and RTCP of this process's calls (and of orphans, in the first)."""
    unattributed: list[TiedStream]
    marked: list[tuple[str, int]]
    supersedable: list[tuple[str, int, str, Severity]]
    """The findings a rule about the whole capture may supersede: Call-ID and first frame of
    their call or exchange, rule id, severity."""


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


def analyze_share(
    path: Source, stdin: BinaryIO | None, progress: Progress | None, job: Job, share: Share
) -> Part:
    """The share's part of the analysis of the capture at ``path``, read here whole."""
    analysis = ShareAnalysis(job, share)
    reader = MessageReader(path, stdin=stdin, progress=progress, media=analysis.media_sink,
                           decryption=job.decryption)
    analysis.summary = reader.summary
    for batch in reader.batches():
        analysis.add(batch)
        now = reader.now_ns()
        if now is not None:  # a live capture: calls end on time between packets too
            analysis.tick(now)
    return analysis.part()


class ShareAnalysis:
    """The analysis of one share of the Call-IDs, sans I/O: the capture's messages in, in
    frame order (``add``; those of other shares only move the clock) with its media beside them
    (``media_sink``, every SIP message shown as soon as it is read), the share's ``Part`` out.

    Reading the capture here (``analyze_share``) and replaying what tasks read of it elsewhere
    (``analysis.shuffle``) drive this same object the same way."""

    def __init__(self, job: Job, share: Share) -> None:
        self.job = job
        self.owns = share.owns if share.count > 1 else None
        self.media = MediaTracker(self.owns, reports_orphans=share.index == 0,
                                  timelines=job.ladders is not Ladders.NONE)
        self.tracker, self.correlator = CallTracker(self.media), Correlator()
        self.media_sink = _RefusalsToCalls(self.media, self.tracker)
        engine = job.engine
        self.watches = engine.watches() if engine is not None else {}
        self.watches.setdefault(SourceLedger, SourceLedger())
        shared = engine.rules.shared() if engine is not None else {}
        self.summary = CaptureSummary("")
        """The capture's summary: selections count time from its first frame."""
        self.calls: Spool[CallResult] = Spool(shared)
        self.exchanges: Spool[ExchangeResult] = Spool(shared)
        self.call_ids = array("q")
        self.counts: Counter[str] = Counter()
        self.tally = Tally()
        self.marked: list[tuple[str, int]] = []
        self.supersedable: list[tuple[str, int, str, Severity]] = []
        self._may_go = engine.superseded_by_capture if engine is not None else frozenset()

    def add(self, messages: Iterable[SipMessage]) -> None:
        """Messages in frame order: those of other shares' Call-IDs only move the clock."""
        self._keep(self.tracker.add(messages, self.owns))

    def tick(self, now_ns: int) -> None:
        """The capture's clock has reached ``now_ns`` (a message of another share's, or none)."""
        self._keep(self.tracker.tick(now_ns))

    def part(self) -> Part:
        """The end of the capture: every call still open is read; what the share found."""
        self.media.finish()
        self._keep(self.tracker.finish(self.summary.end_ns or 0))
        return Part(self.summary, self.calls.detach(), self.exchanges.detach(), self.correlator,
                    self.watches, self.call_ids, self.counts, self.tally, self.media.problems,
                    self.media.unattributed, self.marked, self.supersedable)

    def _keep(self, finished: Iterator[Finished]) -> None:
        job, engine, selection, marks = self.job, self.job.engine, self.job.selection, \
            self.job.marks
        for item in finished:
            self.counts.update(map(message_kind, item.messages))  # every message ends in one
            found = engine.evaluate(item) if engine is not None else []
            problem = is_problem(found)
            first_ts = self.summary.first_ts_ns or 0
            rules_found = {f.rule.id for f in found}
            if selection is not None and not selection.wants(item, first_ts, problem,
                                                             rules_found):
                continue
            for watch in self.watches.values():
                watch.observe(item)
            result = result_of(item, found, ladder=job.ladders.keeps(item.outcome, problem),
                               headers=job.headers)
            if marks is not None and marks.wants(item, first_ts, problem, rules_found):
                self.marked.append((result.call_id, result.first_frame))
            self.supersedable.extend((result.call_id, result.first_frame, f.rule.id,
                                      f.severity) for f in found if f.rule.id in self._may_go)
            self.tally.add(result)
            if job.on_result is not None:
                job.on_result(result)
            if not job.keep:
                continue
            if isinstance(item, Call):
                self.correlator.add(item)
                self.call_ids.append(fingerprint(item.call_id))
            if isinstance(result, CallResult):
                self.calls.add(result, result.first_frame, tag=severity_tag(found))
            else:
                self.exchanges.add(result, result.first_frame, tag=severity_tag(found))


def combine(parts: Sequence[Part], engine: Engine | None) -> Analysis:
    """One analysis of the parts: every process read the same capture, so the summary of the
    first stands for all; results are merged in the order of their first frames, with the
    findings about the whole capture and the links between calls added as they are read."""
    shared = engine.rules.shared() if engine is not None else {}
    calls = [Spool[CallResult].adopt(part.calls, shared) for part in parts]
    exchanges = [Spool[ExchangeResult].adopt(part.exchanges, shared) for part in parts]
    correlator = Correlator.merged([part.correlator for part in parts])
    call_ids = array("q", (h for part in parts for h in part.call_ids))
    links = correlator.links(_present(correlator.referenced(), call_ids))
    counts = sum((part.counts for part in parts), Counter[str]())
    tally = Tally()
    summary = parts[0].summary
    for part in parts:
        tally.merge(part.tally)
        summary.problems.merge(part.media_problems)
    watches = _merged_watches(parts)
    about_capture = engine.capture_findings(watches) if engine is not None else None
    told_last = about_capture.findings if about_capture is not None else []
    superseded = about_capture.superseded if about_capture is not None else {}
    tally.severities.update(finding.severity for finding in told_last)
    tally.severities.subtract(severity for part in parts
                              for call_id, frame, rule_id, severity in part.supersedable
                              if rule_id in superseded.get((call_id, frame), ()))
    _tag_told_last(calls, told_last)
    _tag_told_last(exchanges, told_last)
    attachments = Attachments.of(told_last, links, superseded)
    unattributed = sorted((s for part in parts for s in part.unattributed),
                          key=lambda s: (s.stream.first_frame, s.stream.ssrc))
    tally.add_streams(s.stream for s in unattributed)
    findings = FindingsBySeverity(calls, exchanges, attachments, sum(tally.severities.values()))
    return Analysis(summary, Mapped(Merged(calls), attachments.to_call),
                    Mapped(Merged(exchanges), attachments.to_exchange), links, counts,
                    findings, tally, unattributed,
                    marked=frozenset(key for part in parts for key in part.marked),
                    sources=sources_of(watches[SourceLedger], told_last))


def _tag_told_last(spools: Sequence[Spool[T]], findings: Sequence[Finding]) -> None:
    """Findings added to results as they are read are read with them (``severity_tag``)."""
    for finding in findings:
        for spool in spools:
            spool.add_tag(0, finding.call_frame, severity_tag([finding]))


def _merged_watches(parts: Sequence[Part]) -> dict[WatchKind, Watch]:
    """Every process's watches, merged into the first one's."""
    watches = parts[0].watches
    for part in parts[1:]:
        for kind, watch in part.watches.items():
            watches[kind].merge(watch)
    return watches


def _present(referenced: set[str], hashes: array[int]) -> set[str]:
    """The referenced Call-IDs that are calls of the capture."""
    wanted = {fingerprint(call_id): call_id for call_id in referenced}
    return {wanted[h] for h in hashes if h in wanted}
