"""The verdict on an expectations file on a terminal: the table of every check, the checks
that failed with what was found instead, and the line that sums it up."""

from __future__ import annotations

from functools import partial

from rich.console import Console
from rich.text import Text

from sipdiag.expectations.engine import Verdict
from sipdiag.report import terminal
from sipdiag.report.escape import for_terminal
from sipdiag.report.expectations import COLUMNS, failures, rows, summary_text
from sipdiag.rules.catalog import Catalog

RESULT_STYLES = {True: "green", False: "bold red"}


def print_verdict(console: Console, verdict: Verdict, catalog: Catalog,
                  language: str = "en") -> None:
    label = partial(catalog.label, language=language)
    title = label("check_title", file=verdict.source, capture=verdict.capture)
    table = [[for_terminal(cell) for cell in row] for row in rows(verdict, catalog, language)]
    terminal.print_table(console, for_terminal(title), [label(c) for c in COLUMNS], table)
    unmet = failures(verdict, catalog, language)
    if unmet:
        console.print()
        console.print(Text(label("check_failures"), style=terminal.HEADING_STYLE))
        for failure in unmet:
            console.print()
            heading = Text(for_terminal(failure.name), style=RESULT_STYLES[False])
            if failure.call:
                heading.append(f"  {for_terminal(failure.call)}", style="bold")
            console.print(heading)
            for line in failure.lines:
                console.print(Text("  " + for_terminal(line)))
    console.print()
    console.print(Text(summary_text(verdict, catalog, language),
                       style=RESULT_STYLES[verdict.passed]))
