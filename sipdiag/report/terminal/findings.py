"""Findings on a terminal: each with its explanation, causes, fix and evidence, the
explanation once per rule. Values that come from the capture go through ``for_terminal``
before they reach rich."""

from __future__ import annotations

from functools import partial

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sipdiag.report.escape import for_terminal
from sipdiag.report.findings import finding_rows
from sipdiag.report.terminal import print_fields
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding
from sipdiag.spool import Listing

SEVERITY_STYLES = {"info": "cyan", "warning": "yellow", "error": "bold red"}
INDENT = 2


def print_findings(
    console: Console, findings: Listing[Finding], catalog: Catalog, first_ts_ns: int,
    language: str = "en",
) -> None:
    label = partial(catalog.label, language=language)
    console.print(Text(label("findings"), style="bold underline"))
    if not findings:
        console.print(Text(label("no_findings")))
        return
    explained: set[str] = set()
    for finding in findings:
        console.print()
        _print_finding(console, finding, catalog, first_ts_ns, language,
                       again=finding.rule.id in explained)
        explained.add(finding.rule.id)


def _print_finding(
    console: Console, finding: Finding, catalog: Catalog, first_ts_ns: int, language: str,
    again: bool,
) -> None:
    """A finding with its explanation, or, ``again`` (its rule explained above), only what
    happened in this call and its evidence."""
    console.print(heading(finding, catalog, language))
    rows = finding_rows(finding, catalog, first_ts_ns, language)
    if again:
        keep = {catalog.label(key, language)
                for key in ("call", "what_happened", "evidence", "see_also")}
        rows = [row for row in rows if row[0] in keep]
        rows.append(("", catalog.label("as_above", language, rule=finding.rule.id)))
    print_fields(console, [(name, for_terminal(text)) for name, text in rows], INDENT)


def heading(finding: Finding, catalog: Catalog, language: str, count: str = "") -> Table:
    """``ERROR  D104 ack-missing  Answer never ACKed`` (``count``: `` x3`` after the name); a
    title too long for the line wraps under itself, not under the severity."""
    rule = finding.rule
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    text = Text(f"{rule.id} {rule.name}{count}  ", style="bold")
    text.append(rule.title.get(language), style="bold")
    grid.add_row(Text(catalog.label(rule.severity, language).upper(),
                      style=SEVERITY_STYLES[rule.severity]), text)
    return grid
