"""The report for a person at a terminal: summary, calls, findings, ladders.

In that order: what the capture holds and how its calls went in figures; the calls and the
other exchanges as tables (with the rules each one triggered); what could not be read; the
findings, most serious first, with what happened, why, the fix and the evidence; and the ladder
of every call the user asked to see drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.text import Text

from sipdiag.analysis import Analysis
from sipdiag.dialogs.ladder import Arrow
from sipdiag.dialogs.records import CallRecord, ExchangeRecord
from sipdiag.report import call_list, media, terminal
from sipdiag.report.escape import for_terminal
from sipdiag.report.stats import Stats
from sipdiag.report.terminal import calls, findings, ladder, summary, verdict
from sipdiag.rules.catalog import Catalog


def print_report(
    console: Console, analysis: Analysis, stats: Stats, catalog: Catalog, language: str = "en",
    wide: bool = False, sources: bool = False,
) -> None:
    """``wide``: every column of the call list, even when it does not fit the console;
    ``sources``: the per-source summary after the findings."""
    summary.print_summary(console, analysis, stats, catalog, language)
    if analysis.message_counts:
        summary.print_message_counts(console, analysis.message_counts, catalog, language)
    calls.print_calls(console, analysis, catalog, language, wide)
    summary.print_problems(console, analysis.summary, catalog, language)
    first_ts = analysis.summary.first_ts_ns or 0
    findings.print_findings(console, analysis.findings, catalog, first_ts, language)
    if sources:
        summary.print_sources(console, analysis, catalog, language)
    records: Iterable[CallRecord | ExchangeRecord] = itertools.chain(analysis.calls,
                                                                     analysis.exchanges)
    for record in records:
        if record.ladder is None:
            continue
        console.print()
        arrows: Sequence[Arrow] = record.ladder
        if isinstance(record, CallRecord) and record.media is not None:
            if record.media.streams:
                print_media(console, record, catalog, language)
            arrows = media.with_media(arrows, record.media, catalog, language)
        title = catalog.label("ladder", language, call_id=record.call_id,
                              frame=record.first_frame, outcome=record.outcome)
        ladder.print_ladder(console, title, arrows, catalog, first_ts, language)
        if isinstance(record, CallRecord) and (record.agents.caller or record.agents.callee):
            console.print(Text(for_terminal(catalog.label(
                "agents", language, caller=record.agents.caller or "-",
                callee=record.agents.callee or "-"))))
    verdict.print_verdict(console, analysis, catalog, language)


def print_media(console: Console, call: CallRecord, catalog: Catalog, language: str) -> None:
    """The streams of a call in a table, and the telephone events its sides sent."""
    assert call.media is not None
    title = catalog.label("media_title", language, call_id=call.call_id,
                          frame=call.first_frame,
                          state=media.state_text(catalog, call.media, language))
    rows = [[for_terminal(cell) for cell in media.stream_cells(catalog, item, language)]
            for item in call.media.streams]
    terminal.print_table(console, for_terminal(title),
                         call_list.headings(catalog, media.STREAM_COLUMNS, language), rows)
    events = media.dtmf_text(catalog, call.media, language)
    if events:
        terminal.print_key_values(console, "", [(catalog.label("dtmf", language), events)])
