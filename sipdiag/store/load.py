"""Stored results read back into the ``Analysis`` every report reads.

Theory of operation. The runs of the dataset are read first (one small file each): they say
which partition files each run wrote and the latest end of a call or exchange in each, so a
time window (``Selection.since``/``until``: calls still going at ``since``, started by
``until``) opens only the files that can hold one. The chosen calls and exchanges are read a
row group at a time from their ``record`` column, each unpickled (``records``), chosen by the
selection as ``sipdiag CAPTURE`` chooses calls (``Selection.wants`` on the stored messages'
addresses and request line), and spooled (``spool.Spool``), so memory does not grow with the
dataset; the summary figures are counted as they come (``Tally``).

One run gives back its analysis as it was: calls in the order of their first frames, the run's
capture summary, message counts, sources, links and streams of no call. Several runs make one
report: their calls in the order they started (a run's own calls keep their order when their
start times agree with it), their summaries combined (file names and formats joined, frames,
messages and problems added up, the earliest first frame and the latest last one), their
message counts added, their sources and streams of no call one run after the other (a source
seen by two runs is listed twice, once as each saw it). Frame numbers stay each run's own. A
time window leaves out the runs whose captures end before it or start after it, summaries
included: the report of a day's hour is not that of the whole year's runs. A run of a file,
then one of that file with others, leave the second alone (``Results.write``); runs that share
only some captures are separate analyses: a call in both is shown twice.

Filters decide from the stored results: the findings a call has are those the run reported
(with the findings of the rules about the whole capture), the links those between two of the
calls chosen; the sources and the capture's summary are the runs' whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar, cast

import pyarrow as pa
import pyarrow.dataset as ds

from sipdiag.analysis.model import (
    Analysis,
    Attachments,
    CallResult,
    ExchangeResult,
    FindingsBySeverity,
    Result,
    Tally,
    is_problem,
    severity_tag,
)
from sipdiag.analysis.reading import CaptureSummary
from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.correlate import Confidence, Link
from sipdiag.dialogs.ladder import ArrowKind
from sipdiag.dialogs.select import Selection
from sipdiag.network import Endpoint
from sipdiag.problems import ProblemLog
from sipdiag.spool import Listing, Mapped, Spool
from sipdiag.store import schema as s
from sipdiag.store.dataset import Results, Run, committed_runs, read_table
from sipdiag.store.records import RecordReader, RunState
from sipdiag.store.schema import StoreError, Table

R = TypeVar("R", CallResult, ExchangeResult)
BATCH_ROWS = 256
"""Records unpickled at a time (a row group is read in batches of this many)."""


def load_analysis(url: str, shared: Mapping[str, object],
                  selection: Selection | None = None) -> Analysis:
    """The analysis of every run of the dataset at ``url``, the calls and exchanges
    ``selection`` wants; the rules findings name are resolved against ``shared``
    (``RuleSet.shared()``). Raises ``StoreError`` for a dataset that cannot be read."""
    selection = selection or Selection()
    results = Results(url)
    every = committed_runs(results)
    first_ns = _extreme(min, [run.first_ns for run in every]) or 0
    since, until = (point.resolve(first_ns) if point else None
                    for point in (selection.since, selection.until))
    runs = [run for run in every if run.overlaps(since, until)]
    reader = RecordReader(shared)
    states = [reader.loads(run.row[s.RECORD], RunState, run.path) for run in runs]
    summary = _combined(results, [state.summary for state in states])
    order = _first_frame if len(runs) == 1 else _start
    tally = Tally()
    chosen = _Chosen(reader, selection, first_ns, tally)
    calls: Spool[CallResult] = Spool(shared)
    exchanges: Spool[ExchangeResult] = Spool(shared)
    for run in runs:
        chosen.spool(_records(run, Table.CALLS, since, until, selection.call_ids), CallResult,
                     calls, order)
        chosen.spool(_records(run, Table.EXCHANGES, since, until, selection.call_ids),
                     ExchangeResult, exchanges, order)
    unattributed = [stream for state in states for stream in state.unattributed]
    tally.add_streams(item.stream for item in unattributed)
    links = [link for run in runs for link in _links(run, since, until)]
    call_listing: Listing[CallResult] = calls
    if not selection.everything:
        links = [link for link in links if {link.call_id, link.other} <= chosen.call_ids]
        call_listing = Mapped(calls, _LinksAmong(chosen.call_ids))
    findings = FindingsBySeverity([calls], [exchanges], Attachments.of((), ()),
                                  tally.severities.total())
    return Analysis(summary, call_listing, exchanges, sorted(links, key=_link_order),
                    sum((state.message_counts for state in states), Counter[str]()),
                    findings, tally, unattributed, selection,
                    sources=[source for state in states for source in state.sources])


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored record, and the file it came from (to name it in an error)."""

    data: bytes
    path: str


def _records(run: Run, table: Table, since: int | None, until: int | None,
             call_ids: Sequence[str]) -> Iterator[_Stored]:
    """The records of the run's files of ``table`` that can hold a call or exchange of the
    time window, a batch of rows at a time; only the rows of the window and of ``call_ids``
    (all if none) are read whole (row groups whose statistics rule them out, not at all)."""
    rows = ds.scalar(True)
    if since is not None:
        rows &= ds.field(s.END_NS) >= since  # still going at since
    if until is not None:
        rows &= ds.field(s.START_NS) <= until
    if call_ids:
        rows &= ds.field(s.CALL_ID).isin(call_ids)
    for path in run.going(table, since, until):
        files = ds.dataset(path, schema=s.SCHEMAS[table], format="parquet",
                           filesystem=run.results.fs)
        try:
            for batch in files.to_batches(columns=[s.RECORD], filter=rows,
                                          batch_size=BATCH_ROWS, use_threads=False,
                                          batch_readahead=0, fragment_readahead=0):
                for data in batch.column(0).to_pylist():
                    yield _Stored(data, path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{path}: not a readable Parquet file ({exc})") from None


class _Chosen:
    """Decides which stored results a report shows, as ``analyze`` decides which calls it
    keeps, and spools them."""

    def __init__(self, reader: RecordReader, selection: Selection, first_ns: int,
                 tally: Tally) -> None:
        self._reader, self._selection, self._first_ns = reader, selection, first_ns
        self._tally = tally
        self.call_ids: set[str] = set()
        """The calls chosen, when not all are."""

    def spool(self, stored: Iterator[_Stored], kind: type[R], into: Spool[R],
              order: Callable[[Result], int]) -> None:
        everything = self._selection.everything
        for item in stored:
            result = self._reader.loads(item.data, kind, item.path)
            if not everything and not self._wants(result):
                continue
            self._tally.add(result)
            if not everything and isinstance(result, CallResult):  # their links are kept
                self.call_ids.add(result.call_id)
            into.add(result, order(result), tag=severity_tag(result.findings))

    def _wants(self, result: Result) -> bool:
        # Selection.wants reads a call's or exchange's Call-ID, parties, times, outcome and
        # its messages' methods, request URIs and addresses: the stored ladder has them all
        subject = cast(Call, _Subject.of(result))
        return self._selection.wants(subject, self._first_ns, is_problem(result.findings),
                                     {finding.rule.id for finding in result.findings})


@dataclass(frozen=True, slots=True)
class _Message:
    method: str
    request_uri: str
    src: Endpoint
    dst: Endpoint


@dataclass(frozen=True, slots=True)
class _Subject:
    """A stored result as ``Selection.wants`` reads a call or exchange."""

    call_id: str
    caller: str
    callee: str
    start_ns: int
    end_ns: int
    outcome: str
    messages: tuple[_Message, ...]

    @classmethod
    def of(cls, result: Result) -> _Subject:
        if result.ladder is None:
            raise StoreError(f"the result of {result.call_id} was stored without its messages")
        messages = tuple(_Message(*_request_line(arrow.text, arrow.status), arrow.src,
                                  arrow.dst)
                         for arrow in result.ladder if arrow.kind is ArrowKind.SIP)
        return cls(result.call_id, result.caller, result.callee, result.start_ns,
                   result.end_ns, result.outcome, messages)


def _request_line(text: str, status: int) -> tuple[str, str]:
    """A request's method and Request-URI, from its start line (RFC 3261 7.1:
    ``Method SP Request-URI SP SIP-Version``); a response has neither."""
    if status:
        return "", ""
    parts = text.split("\n", 1)[0].split()
    return (parts[0], parts[1]) if len(parts) > 2 else (parts[0] if parts else "", "")


class _LinksAmong:
    """A call's links, less those to calls that are not among ``call_ids``."""

    def __init__(self, call_ids: set[str]) -> None:
        self._call_ids = call_ids

    def __call__(self, result: CallResult) -> CallResult:
        kept = tuple(link for link in result.links if link.other in self._call_ids)
        return result if len(kept) == len(result.links) else replace(result, links=kept)


def _first_frame(result: Result) -> int:
    return result.first_frame


def _start(result: Result) -> int:
    return result.start_ns


def _links(run: Run, since: int | None, until: int | None) -> Iterator[Link]:
    for path in run.going(Table.LINKS, since, until):
        for row in read_table(run.results, path).to_pylist():
            yield Link(row[s.CALL_ID], row["other"], row["reason"],
                       Confidence(row["confidence"]))


def _link_order(link: Link) -> tuple[str, str]:
    return link.call_id, link.other


def _combined(results: Results, summaries: Sequence[CaptureSummary]) -> CaptureSummary:
    """One summary of several runs' captures (the only one when there is one; an empty one,
    named after the dataset, when there is none)."""
    if len(summaries) == 1:
        return summaries[0]
    if not summaries:
        return CaptureSummary(results.url)
    problems = ProblemLog()
    for summary in summaries:
        problems.merge(summary.problems)
    compressions = {summary.compression for summary in summaries}
    return CaptureSummary(
        name=" + ".join(summary.name for summary in summaries),
        format="+".join(dict.fromkeys(summary.format for summary in summaries)),
        compression=compressions.pop() if len(compressions) == 1 else None,
        linktypes=tuple(sorted({t for summary in summaries for t in summary.linktypes})),
        frames=sum(summary.frames for summary in summaries),
        first_ts_ns=_extreme(min, [summary.first_ts_ns for summary in summaries]),
        last_ts_ns=_extreme(max, [summary.last_ts_ns for summary in summaries]),
        observed_until_ns=_extreme(max, [summary.observed_until_ns for summary in summaries]),
        sip_messages=sum(summary.sip_messages for summary in summaries),
        defective_messages=sum(summary.defective_messages for summary in summaries),
        problems=problems,
        tls_sessions=[session for summary in summaries for session in summary.tls_sessions],
    )


def _extreme(pick: Callable[[list[int]], int], values: list[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return pick(known) if known else None
