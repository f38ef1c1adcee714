"""The top of the terminal report: the capture's figures and the meaning of each outcome,
the SIP messages counted, and the problems met reading the capture."""

from __future__ import annotations

from collections import Counter
from functools import partial

from rich.console import Console
from rich.text import Text

from sipdiag.analysis import Analysis, CaptureSummary
from sipdiag.report import terminal
from sipdiag.report.escape import for_terminal
from sipdiag.report.sources import SOURCE_COLUMNS, more_sources, source_rows
from sipdiag.report.stats import Stats
from sipdiag.report.summary import PROBLEM_COLUMNS, outcome_legend, problem_cells, summary_rows
from sipdiag.rules.catalog import Catalog


def print_summary(
    console: Console, analysis: Analysis, stats: Stats, catalog: Catalog, language: str = "en"
) -> None:
    rows = [(name, for_terminal(value)) for name, value in
            summary_rows(analysis, stats, catalog, language)]
    terminal.print_key_values(console, catalog.label("capture", language), rows)
    legend = outcome_legend(stats, catalog, language)
    if legend:
        terminal.print_key_values(console, catalog.label("outcomes", language), legend)


def print_message_counts(
    console: Console, counts: Counter[str], catalog: Catalog, language: str = "en"
) -> None:
    label = partial(catalog.label, language=language)
    requests = sorted((k, v) for k, v in counts.items() if not k.isdigit())
    responses = sorted((k, v) for k, v in counts.items() if k.isdigit())
    rows = [[name, str(count)] for name, count in requests + responses]
    rows.append([label("total"), str(sum(counts.values()))])
    terminal.print_table(console, label("sip_messages"), [label("method_status"), label("count")],
                         rows)


def print_problems(
    console: Console, summary: CaptureSummary, catalog: Catalog, language: str = "en"
) -> None:
    problems = summary.problems
    if not problems.counts:
        return
    label = partial(catalog.label, language=language)
    rows = [[kind, count, frames, for_terminal(detail)]
            for kind, count, frames, detail in problem_cells(summary)]
    terminal.print_table(console, label("problems"), [
        label(column) for column in PROBLEM_COLUMNS], rows)


def print_sources(console: Console, analysis: Analysis, catalog: Catalog, language: str = "en"
                  ) -> None:
    """The per-source summary: each address that sent requests, the worst first."""
    label = partial(catalog.label, language=language)
    rows = [[for_terminal(cell) for cell in row]
            for row in source_rows(analysis.sources)]
    terminal.print_table(console, label("sources_title"),
                         [label(column) for column in SOURCE_COLUMNS], rows)
    more = more_sources(analysis.sources, catalog, language)
    if more is not None:
        console.print(Text(for_terminal(more)))
