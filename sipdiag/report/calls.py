"""Calls and exchanges as rows of cells: the same facts in every format.

``call_cells`` and ``exchange_cells`` give plain text (as it came from the capture); each format
escapes it its own way (``for_terminal``, Markdown, HTML). Headings are label keys of
report.yaml, so they follow the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import TypeVar

from rich.console import Console

from sipdiag.dialogs.records import CallRecord, ExchangeRecord
from sipdiag.pipeline import Analysis
from sipdiag.report import terminal
from sipdiag.report.escape import for_terminal
from sipdiag.report.media import state_text
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding

CALL_COLUMNS = ("col_frame", "col_from", "col_to", "col_outcome", "col_media", "col_final",
                "col_pdd", "col_answer", "col_talk", "col_legs", "col_retr", "col_findings",
                "col_call_id")
EXCHANGE_COLUMNS = ("col_frame", "col_method", "col_from", "col_to", "col_outcome", "col_final",
                    "col_transactions", "col_retr", "col_findings", "col_call_id")
LINK_COLUMNS = ("col_call_id", "col_linked", "col_because")
FindingsByCall = dict[tuple[str, int], list[Finding]]
R = TypeVar("R", CallRecord, ExchangeRecord)


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

def headings(catalog: Catalog, columns: Sequence[str], language: str = "en") -> list[str]:
    return [catalog.label(column, language) for column in columns]


def call_cells(call: CallRecord, findings: Sequence[Finding], catalog: Catalog,
               language: str = "en") -> list[str]:
    timings = call.timings
    return [
        str(call.first_frame),
        user(call.caller),
        user(call.callee),
        call.outcome,
        state_text(catalog, call.media, language),
        status(call.final_status),
        seconds(timings.post_dial_delay),
        seconds(timings.time_to_answer),
        seconds(timings.talk_time),
        str(len(call.legs)),
        str(call.retransmission_count),
        rule_ids(findings),
        call.call_id,
    ]


def exchange_cells(exchange: ExchangeRecord, findings: Sequence[Finding]) -> list[str]:
    return [
        str(exchange.first_frame),
        exchange.method,
        user(exchange.caller),
        user(exchange.callee),
        exchange.outcome,
        status(exchange.final_status),
        str(exchange.transaction_count),
        str(exchange.retransmission_count),
        rule_ids(findings),
        exchange.call_id,
    ]


def rule_ids(findings: Sequence[Finding]) -> str:
    return " ".join(dict.fromkeys(f.rule.id for f in findings)) or "-"


def user(uri: str) -> str:
    """``sip:alice@example.com;user=phone`` -> ``alice@example.com``."""
    bare = uri.split(";")[0]
    return bare.split(":", 1)[1] if ":" in bare else bare


def status(code: int) -> str:
    return str(code) if code else "-"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_calls(
    console: Console, analysis: Analysis, catalog: Catalog, language: str = "en"
) -> None:
    label = partial(catalog.label, language=language)
    if analysis.calls:
        calls = with_findings(analysis.calls, analysis.call_findings)
        terminal.print_table(console, label("calls"), headings(catalog, CALL_COLUMNS, language),
                             _escaped(call_cells(c, found, catalog, language)
                                      for c, found in calls),
                             len(analysis.calls))
    if analysis.links:
        rows = [[link.call_id, link.other, link.reason] for link in analysis.links]
        terminal.print_table(console, label("linked_legs"),
                             headings(catalog, LINK_COLUMNS, language), _escaped(rows))
    if analysis.exchanges:
        exchanges = with_findings(analysis.exchanges, analysis.call_findings)
        terminal.print_table(console, label("exchanges"),
                             headings(catalog, EXCHANGE_COLUMNS, language),
                             _escaped(exchange_cells(e, found) for e, found in exchanges),
                             len(analysis.exchanges))


def _escaped(rows: Iterable[list[str]]) -> Iterator[list[str]]:
    return ([for_terminal(cell) for cell in row] for row in rows)
