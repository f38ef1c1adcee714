"""The analysis of a capture, as every report reads it.

One frozen result per call (``CallResult``) and per exchange (``ExchangeResult``): its record
(``dialogs.records``: the facts, computed once), what the rules found in it and, for a call,
the other calls it is linked to as legs of one call. Results are spooled as they are made and
read back in the order of their first frames. ``Analysis`` holds them with the capture's
summary, the links, the findings of every result most severe first (read from the same spool),
the tallies behind the summary figures, and the RTP streams of no call. ``with_ladders`` gives
the analysis as if fewer ladders had been kept.
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

from sipdiag.analysis.reading import CaptureSummary
from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.dialogs.correlate import Link
from sipdiag.dialogs.ladder import ladder_of
from sipdiag.dialogs.records import CallRecord, ExchangeRecord, without_timelines
from sipdiag.dialogs.select import Ladders, Selection
from sipdiag.dialogs.sources import SourceLedger
from sipdiag.media.model import TiedStream
from sipdiag.media.stream import Stream
from sipdiag.pickling import by_values
from sipdiag.rules.model import SEVERITIES, Finding, Severity, severity_rank
from sipdiag.spool import Listing, Mapped, Spool, merged


@by_values
@dataclass(frozen=True, slots=True)
class CallResult(CallRecord):
    """What the analysis keeps of a call and every report reads."""

    findings: tuple[Finding, ...] = ()
    """Most severe first, then in the engine's order (those of the rules about the whole
    capture last of their severity)."""
    links: tuple[Link, ...] = ()
    """The calls linked to this one, each ``Link`` seen from this call (``other``: the other)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Headers of the call's first INVITE the analysis was asked to keep (``--keep-header``),
    by name as asked, in that order; a header the INVITE lacks is left out."""


@by_values
@dataclass(frozen=True, slots=True)
class ExchangeResult(ExchangeRecord):
    """What the analysis keeps of an exchange and every report reads."""

    findings: tuple[Finding, ...] = ()


Result = CallResult | ExchangeResult
R = TypeVar("R", CallResult, ExchangeResult)
_CALL_FIELDS = tuple(f.name for f in fields(CallRecord) if f.name not in ("ladder", "media"))
_EXCHANGE_FIELDS = tuple(f.name for f in fields(ExchangeRecord) if f.name != "ladder")


def result_of(item: Call | Exchange, findings: Sequence[Finding], *, ladder: bool,
              headers: Sequence[str] = ()) -> Result:
    """What is kept of a finished call or exchange: its record, with its ladder if a report
    will draw it (the media's per-second figures too, else they go), its findings, and for a
    call the ``headers`` of its first INVITE named."""
    arrows = ladder_of(item.messages, item.transactions) if ladder else None
    if isinstance(item, Call):
        media = item.media if ladder or item.media is None else without_timelines(item.media)
        return CallResult(**{name: getattr(item, name) for name in _CALL_FIELDS},
                          media=media, ladder=arrows, findings=tuple(findings),
                          headers=_invite_headers(item, headers) if headers else ())
    return ExchangeResult(**{name: getattr(item, name) for name in _EXCHANGE_FIELDS},
                          ladder=arrows, findings=tuple(findings))


def _invite_headers(call: Call, names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    invite = next((m for m in call.messages if m.method == "INVITE"), None)
    if invite is None:
        return ()
    values = ((name, invite.first_value(name)) for name in names)
    return tuple((name, value) for name, value in values if value is not None)


def is_problem(findings: Iterable[Finding]) -> bool:
    """Something worse than information was found."""
    return any(f.severity is not Severity.INFO for f in findings)


def severity_tag(findings: Iterable[Finding]) -> int:
    """A result's spool tag: a bit for each severity among its findings (``FindingsBySeverity``
    reads only the results that have the one it wants)."""
    tag = 0
    for finding in findings:
        tag |= 1 << severity_rank(finding.severity)
    return tag


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

    def add(self, record: Result) -> None:
        self.severities.update(f.severity for f in record.findings)
        if isinstance(record, ExchangeResult):
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

    Results are spooled to disk as they are made and read back in order (``spool.Spool``), so
    that memory follows the calls in progress, not the length of the capture; a report may go
    through them several times.
    """

    summary: CaptureSummary
    calls: Listing[CallResult]
    """In the order of their first frames."""
    exchanges: Listing[ExchangeResult]
    links: list[Link]
    message_counts: Counter[str]
    """SIP messages by request method and by status code."""
    findings: Listing[Finding] = ()
    """The findings of every result, most severe first, then by call, then in its order."""
    tally: Tally = field(default_factory=Tally)
    unattributed: list[TiedStream] = field(default_factory=list)
    """RTP streams that belong to no call of the capture, in frame order."""
    selection: Selection = field(default_factory=Selection)
    """The calls and exchanges kept (all unless chosen): the figures of ``summary`` are the
    whole capture's, those of the calls and their findings the selection's."""
    marked: frozenset[tuple[str, int]] = frozenset()
    """The Call-ID and first frame of each call or exchange ``analyze(marks=...)`` wanted."""
    sources: list[SourceSummary] = field(default_factory=list)
    """Every address requests came from, those a security rule named first (``sources_of``)."""


@by_values
@dataclass(frozen=True, slots=True)
class SourceSummary:
    """What one source address sent and got back, and what the rules about the whole capture
    said of it: a line of ``sipdiag CAPTURE --sources``."""

    address: str
    requests: tuple[tuple[str, int], ...]
    """By method, the most sent first (then by name)."""
    statuses: tuple[tuple[str, int], ...]
    """How many got a final status of each class (``2xx`` ... ``6xx``) or none (``none``)."""
    users: int
    """The distinct users its requests outside a dialog were for."""
    first_ns: int
    last_ns: int
    first_frame: int
    last_frame: int
    agents: tuple[str, ...]
    findings: tuple[Finding, ...]
    """The findings that name it as their ``{source}`` (the security rules), most severe
    first."""

    @property
    def request_count(self) -> int:
        return sum(count for _, count in self.requests)


STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "6xx", "none")


def sources_of(ledger: object, findings: Iterable[Finding]) -> list[SourceSummary]:
    """The summary of every source of the ledger (``dialogs.sources.SourceLedger``): those
    named by a finding first, the worst first, then by the requests they sent."""
    assert isinstance(ledger, SourceLedger)
    named: dict[str, list[Finding]] = {}
    for finding in findings:
        source = finding.values.get("source")
        if source is not None:
            named.setdefault(source, []).append(finding)
    summaries = [
        SourceSummary(
            address, tuple(sorted(tally.requests.items(), key=lambda m: (-m[1], m[0]))),
            tuple((c, tally.statuses[c]) for c in STATUS_CLASSES if tally.statuses[c]),
            len(tally.users), tally.first_ns, tally.last_ns, tally.first_frame,
            tally.last_frame, tally.first_agents(),
            tuple(sorted(named.get(address, ()), key=lambda f: -severity_rank(f.severity))))
        for address, tally in ledger.tallies.items()]
    return sorted(summaries, key=lambda s: (
        -max((severity_rank(f.severity) + 1 for f in s.findings), default=0),
        -s.request_count, s.address))


@dataclass(frozen=True, slots=True)
class Attachments:
    """What is added to results as they are read back, known only once every call is over:
    the findings of the rules about the whole capture (by the Call-ID and first frame of the
    result they are told on), the links between calls, and the rules whose findings a finding
    about the whole capture supersedes on a result (``rules.engine.CaptureFindings``)."""

    findings: Mapping[tuple[str, int], tuple[Finding, ...]]
    links: Mapping[str, tuple[Link, ...]]
    superseded: Mapping[tuple[str, int], frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, findings: Iterable[Finding], links: Iterable[Link],
           superseded: Mapping[tuple[str, int], frozenset[str]] | None = None) -> Attachments:
        by_result: dict[tuple[str, int], tuple[Finding, ...]] = {}
        for finding in findings:
            key = (finding.call_id, finding.call_frame)
            by_result[key] = (*by_result.get(key, ()), finding)
        by_call: dict[str, tuple[Link, ...]] = {}
        for link in links:
            for seen in (link, replace(link, call_id=link.other, other=link.call_id)):
                by_call[seen.call_id] = (*by_call.get(seen.call_id, ()), seen)
        return cls(by_result, by_call, superseded or {})

    def to_call(self, result: CallResult) -> CallResult:
        key = (result.call_id, result.first_frame)
        found, gone = self.findings.get(key), self.superseded.get(key)
        links = self.links.get(result.call_id)
        if found is None and links is None and gone is None:
            return result
        return replace(result, findings=_told_last(_kept(result.findings, gone), found or ()),
                       links=links or result.links)

    def to_exchange(self, result: ExchangeResult) -> ExchangeResult:
        key = (result.call_id, result.first_frame)
        found, gone = self.findings.get(key), self.superseded.get(key)
        if found is None and gone is None:
            return result
        return replace(result, findings=_told_last(_kept(result.findings, gone), found or ()))


def _kept(findings: tuple[Finding, ...], gone: frozenset[str] | None) -> tuple[Finding, ...]:
    """The findings, less those of the rules a finding about the whole capture supersedes."""
    return findings if not gone else tuple(f for f in findings if f.rule.id not in gone)


def _told_last(findings: tuple[Finding, ...], added: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """The findings with those added, still most severe first: each added one after those of
    its severity."""
    return tuple(sorted(findings + added, key=lambda f: -severity_rank(f.severity)))


class FindingsBySeverity:
    """The findings of every call and exchange, most severe first, then by the first frame of
    their call, then in the call's order: for each severity, a reading of the spooled results
    tagged with it (``severity_tag``), one result in memory at a time."""

    def __init__(self, calls: Sequence[Spool[CallResult]],
                 exchanges: Sequence[Spool[ExchangeResult]], attachments: Attachments,
                 count: int) -> None:
        self._calls, self._exchanges = calls, exchanges
        self._attachments, self._count = attachments, count

    def __iter__(self) -> Iterator[Finding]:
        for severity in reversed(SEVERITIES):
            tag = 1 << severity_rank(severity)
            results: Iterator[Result] = heapq.merge(
                map(self._attachments.to_call, merged(self._calls, 0, tag)),
                map(self._attachments.to_exchange, merged(self._exchanges, 0, tag)),
                key=_first_frame)
            for result in results:
                yield from (f for f in result.findings if f.severity is severity)

    def __len__(self) -> int:
        return self._count


def _first_frame(result: Result) -> int:
    return result.first_frame


def with_ladders(analysis: Analysis, ladders: Ladders) -> Analysis:
    """The analysis (made with ``Ladders.ALL``) as if it had been made with ``ladders``: one
    report draws every call, another on the same analysis only what its user asked for."""
    if ladders is Ladders.ALL:
        return analysis

    def kept(result: R) -> R:
        if result.ladder is None or ladders.keeps(result.outcome, is_problem(result.findings)):
            return result
        if isinstance(result, CallResult) and result.media is not None:  # as result_of keeps it
            return replace(result, ladder=None, media=without_timelines(result.media))
        return replace(result, ladder=None)

    unattributed = analysis.unattributed if ladders is not Ladders.NONE else [
        replace(tied, stream=tied.stream._replace(timeline=None))  # none drawn: none made
        for tied in analysis.unattributed]
    return replace(analysis, calls=Mapped(analysis.calls, kept),
                   exchanges=Mapped(analysis.exchanges, kept), unattributed=unattributed)
