"""The report for a person at a terminal: summary, calls, findings, ladders.

In that order: what the capture holds and how its calls went in figures; the calls and the
other exchanges as tables (with the rules each one triggered); what could not be read; the
findings, most serious first, with what happened, why, the fix and the evidence; and the ladder
of every call the user asked to see drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from rich.console import Console

from sipdiag.dialogs.records import CallRecord, ExchangeRecord
from sipdiag.pipeline import Analysis
from sipdiag.report import calls, findings, ladder, summary
from sipdiag.report.stats import Stats
from sipdiag.rules.catalog import Catalog


def print_report(
    console: Console, analysis: Analysis, stats: Stats, catalog: Catalog, language: str = "en"
) -> None:
    summary.print_summary(console, analysis, stats, catalog, language)
    if analysis.message_counts:
        summary.print_message_counts(console, analysis.message_counts, catalog, language)
    calls.print_calls(console, analysis, catalog, language)
    summary.print_problems(console, analysis.summary, catalog, language)
    first_ts = analysis.summary.first_ts_ns or 0
    findings.print_findings(console, analysis.findings, catalog, first_ts, language)
    records: Iterable[CallRecord | ExchangeRecord] = itertools.chain(analysis.calls,
                                                                     analysis.exchanges)
    for record in records:
        if record.ladder is not None:
            console.print()
            title = catalog.label("ladder", language, call_id=record.call_id,
                                  frame=record.first_frame, outcome=record.outcome)
            ladder.print_ladder(console, title, record.ladder, catalog, first_ts, language)
