"""The last lines of the terminal report: the verdict, on the screen when the report ends.

First each rule that fired, most severe first, with how many calls it fired in and the first
of them; then one line per call or exchange that needs attention (it failed, or a rule found a
warning or an error in it: what ``--failed`` keeps), the worst first, each with its most
severe finding and its Call-ID whole, to copy into ``--call``. As many are listed as fill the
terminal's screen (``ATTENTION_LINES`` in a file or pipe); the others are counted.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from sipdiag.analysis import Analysis, Result, is_problem
from sipdiag.dialogs.select import needs_attention
from sipdiag.report import terminal
from sipdiag.report.call_list import status
from sipdiag.report.escape import for_terminal
from sipdiag.report.terminal.calls import party
from sipdiag.report.terminal.findings import SEVERITY_STYLES, heading
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding, severity_rank
from sipdiag.spool import Listing

VERDICT_CALLS = 3
"""Calls named on a rule's line; the others are counted."""
ATTENTION_LINES = 20
"""Calls listed one per line at the end of a report written to a file or a pipe (with the
title, headings and the count of the rest, they fill a 24-line terminal). On a terminal, as
many as fill its screen."""
FRAME_LINES = 4
"""The lines around the listed calls: a blank line, the title, the headings, the count of the
rest."""
ATTENTION_COLUMNS = ("severity", "col_from", "col_to", "col_outcome", "col_final", "col_worst",
                     "col_call_id")
SHRINKABLE = frozenset({1, 2, 5})
"""From, To and the finding: cut first when a line is too long."""


def print_verdict(console: Console, analysis: Analysis, catalog: Catalog,
                  language: str = "en") -> None:
    """The rules that fired, then the calls that need attention."""
    if analysis.findings:
        console.print()
        console.print(Text(catalog.label("verdict", language), style="bold underline"))
        _print_rules(console, analysis.findings, catalog, language)
    _print_attention(console, analysis, catalog, language)


def _print_rules(console: Console, findings: Listing[Finding], catalog: Catalog,
                 language: str) -> None:
    first: dict[str, Finding] = {}
    calls: dict[str, dict[str, None]] = {}
    for finding in findings:
        first.setdefault(finding.rule.id, finding)
        calls.setdefault(finding.rule.id, {})[finding.call_id] = None
    for rule_id, finding in first.items():
        names = list(calls[rule_id])
        shown = ", ".join(for_terminal(name) for name in names[:VERDICT_CALLS])
        if len(names) > VERDICT_CALLS:
            more = catalog.label("and_more", language, count=len(names) - VERDICT_CALLS)
            shown = f"{shown}, {more}"
        console.print(heading(finding, catalog, language, f" x{len(names)}"))
        console.print(Text("  " + catalog.label("verdict_line", language, count=len(names),
                                                calls=shown)))


@dataclass(frozen=True)
class _Attention:
    """A call or exchange that needs attention, and its findings most severe first."""

    record: Result
    findings: Sequence[Finding]

    @property
    def rank(self) -> int:
        """The severity rank of its worst finding; -1 for a failure no rule explained."""
        return severity_rank(self.findings[0].severity) if self.findings else -1

    def cells(self, catalog: Catalog, language: str) -> list[str]:
        record = self.record
        return [self._severity(catalog, language), party(record.caller), party(record.callee),
                record.outcome, status(record.final_status), self._finding(language),
                record.call_id]

    def _severity(self, catalog: Catalog, language: str) -> str:
        return catalog.label(self.findings[0].severity, language).upper() if self.findings else "-"

    def _finding(self, language: str) -> str:
        """``C109 +1 Server failure (500, 502, 504)``: the worst rule, how many more fired."""
        if not self.findings:
            return "-"
        rules = dict.fromkeys(f.rule.id for f in self.findings)
        worst = self.findings[0].rule
        more = f" +{len(rules) - 1}" if len(rules) > 1 else ""
        return f"{worst.id}{more} {worst.title.get(language)}"


def _print_attention(console: Console, analysis: Analysis, catalog: Catalog,
                     language: str) -> None:
    counted = _Counted(_needing_attention(analysis))
    room = console.height - FRAME_LINES if console.is_terminal else ATTENTION_LINES
    shown = heapq.nsmallest(max(room, 1), counted,
                            key=lambda a: (-a.rank, a.record.first_frame))
    if not shown:
        return
    total = len(analysis.calls) + len(analysis.exchanges)
    console.print()
    title = catalog.label("attention", language, count=counted.count, total=total)
    rows = [[for_terminal(cell) for cell in item.cells(catalog, language)] for item in shown]
    styles = [SEVERITY_STYLES[item.findings[0].severity] if item.findings else ""
              for item in shown]
    terminal.print_lines(console, title, _headings(catalog, language), rows, SHRINKABLE,
                         styles=styles)
    if counted.count > len(shown):
        console.print(Text(catalog.label("attention_more", language,
                                         count=counted.count - len(shown))))


def _headings(catalog: Catalog, language: str) -> list[str]:
    return [catalog.label(column, language) for column in ATTENTION_COLUMNS]


def _needing_attention(analysis: Analysis) -> Iterator[_Attention]:
    results: Iterable[Result] = itertools.chain(analysis.calls, analysis.exchanges)
    for result in results:
        if needs_attention(result.outcome, is_problem(result.findings)):
            yield _Attention(result, result.findings)


class _Counted(Iterator[_Attention]):
    """The items of an iterator, counted as they go by."""

    def __init__(self, items: Iterator[_Attention]) -> None:
        self._items = items
        self.count = 0

    def __next__(self) -> _Attention:
        item = next(self._items)
        self.count += 1
        return item
