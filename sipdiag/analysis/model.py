"""The analysis of a capture, as every report reads it.

``Analysis`` holds the capture's summary, its calls and exchanges (records kept on disk and
read back in the order of their first frames, ``spool``), the links between B2BUA legs, the
findings in two orders, the tallies behind the summary figures, and the RTP streams of no call.
``with_findings`` and ``findings_by_call`` join records with their findings; ``with_ladders``
gives the analysis as if fewer ladders had been kept.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TypeVar

from sipdiag.analysis.reading import CaptureSummary
from sipdiag.dialogs.correlate import Link
from sipdiag.dialogs.records import CallRecord, ExchangeRecord
from sipdiag.dialogs.select import Ladders, Selection
from sipdiag.media.model import TiedStream
from sipdiag.media.stream import Stream
from sipdiag.rules.model import Finding, severity_rank
from sipdiag.spool import Listing, Mapped

R = TypeVar("R", CallRecord, ExchangeRecord)
FindingsByCall = dict[tuple[str, int], list[Finding]]


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


LAST_ORDINAL = (1 << 20) - 1
"""The place within its call of a finding told after all the others."""


def finding_keys(finding: Finding, ordinal: int) -> tuple[int, int]:
    """Sort keys of a finding: most severe first, then by call (its first frame), then in the
    engine's order within the call; and by call, then the engine's order."""
    by_call = (finding.call_frame << 20) | min(ordinal, LAST_ORDINAL)
    return ((2 - severity_rank(finding.severity)) << 61) | by_call, by_call


def findings_by_call(findings: Iterable[Finding]) -> FindingsByCall:
    """Findings of each call or exchange, keyed by (Call-ID, first frame), all in memory (for
    reports that need them at random; ``with_findings`` goes through them in step)."""
    found: FindingsByCall = {}
    for finding in findings:
        found.setdefault((finding.call_id, finding.call_frame), []).append(finding)
    return found


def with_findings(
    records: Iterable[R], call_findings: Iterable[Finding]
) -> Iterator[tuple[R, list[Finding]]]:
    """Each record with its findings, both read in the order of first frames (a merge join:
    one record and one call's findings in memory at a time). The findings of other records
    (exchanges beside calls) are passed over."""
    pending = iter(call_findings)
    finding = next(pending, None)
    for record in records:
        while finding is not None and finding.call_frame < record.first_frame:
            finding = next(pending, None)
        found = []
        while finding is not None and finding.call_frame == record.first_frame:
            found.append(finding)
            finding = next(pending, None)
        yield record, found


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
