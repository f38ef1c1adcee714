"""The report in Markdown, to paste into a ticket (GitHub, GitLab, Jira's Markdown, ...).

The same facts as the terminal report, in the same order: the summary and the meaning of each
outcome as tables, the calls, linked legs and other exchanges as tables, what could not be read,
then the findings, most severe first, each with what happened, why it matters, the usual causes,
the fix, the evidence and the catalog entries it names; with ``--sources``, the per-source
summary after them (``report.sources``, the terminal's rows). Every text, from the capture or
from the data files, goes through ``escape.for_markdown``: a ``|`` cannot end a cell, a ``<b>``
or a backtick stays literal, and a control character shows as ``\\xNN``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TextIO

from sipdiag.analysis import Analysis
from sipdiag.report.call_list import (
    CALL_COLUMNS,
    EXCHANGE_COLUMNS,
    LINK_COLUMNS,
    call_cells,
    exchange_cells,
    headings,
    link_cells,
)
from sipdiag.report.escape import for_markdown
from sipdiag.report.findings import finding_rows, finding_title
from sipdiag.report.sources import SOURCE_COLUMNS, more_sources, source_rows
from sipdiag.report.stats import Stats
from sipdiag.report.summary import PROBLEM_COLUMNS, outcome_legend, problem_cells, summary_rows
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding


def write_markdown(
    analysis: Analysis, stats: Stats, catalog: Catalog, out: TextIO, language: str = "en",
    sources: bool = False,
) -> None:
    out.write("\n\n".join(markdown_blocks(analysis, stats, catalog, language, sources)) + "\n")


def markdown_blocks(
    analysis: Analysis, stats: Stats, catalog: Catalog, language: str = "en",
    sources: bool = False,
) -> list[str]:
    """The report as Markdown blocks (headings, tables, lists), to be joined by blank lines;
    ``sources``: the per-source summary last."""
    label = partial(catalog.label, language=language)
    blocks = [heading(1, label("report_title", file=analysis.summary.name)),
              heading(2, label("capture")),
              table(["", ""], [list(row) for row in summary_rows(analysis, stats, catalog,
                                                                  language)])]
    legend = outcome_legend(stats, catalog, language)
    if legend:
        blocks += [heading(2, label("outcomes")),
                   table(headings(catalog, ("col_outcome", "meaning"), language),
                         [list(row) for row in legend])]
    if analysis.calls:
        rows = [call_cells(c, catalog, language) for c in analysis.calls]
        blocks += [heading(2, label("calls")),
                   table(headings(catalog, CALL_COLUMNS, language), rows)]
    if analysis.links:
        rows = [link_cells(link, catalog, language) for link in analysis.links]
        blocks += [heading(2, label("linked_legs")),
                   table(headings(catalog, LINK_COLUMNS, language), rows)]
    if analysis.exchanges:
        rows = [exchange_cells(e) for e in analysis.exchanges]
        blocks += [heading(2, label("exchanges")),
                   table(headings(catalog, EXCHANGE_COLUMNS, language), rows)]
    problems = problem_cells(analysis.summary)
    if problems:
        blocks += [heading(2, label("problems")),
                   table(headings(catalog, PROBLEM_COLUMNS, language), problems)]
    blocks.append(heading(2, label("findings")))
    if not analysis.findings:
        blocks.append(for_markdown(label("no_findings")))
    first_ts = analysis.summary.first_ts_ns or 0
    for finding in analysis.findings:
        blocks += finding_blocks(finding, catalog, first_ts, language)
    if sources:
        blocks += source_blocks(analysis, catalog, language)
    return blocks


def source_blocks(analysis: Analysis, catalog: Catalog, language: str = "en") -> list[str]:
    """``## Sources``, a row per source, and how many more the JSON has (if any)."""
    blocks = [heading(2, catalog.label("sources_title", language)),
              table(headings(catalog, SOURCE_COLUMNS, language),
                    list(source_rows(analysis.sources)))]
    more = more_sources(analysis.sources, catalog, language)
    if more is not None:
        blocks.append(for_markdown(more))
    return blocks


def finding_blocks(
    finding: Finding, catalog: Catalog, first_ts_ns: int, language: str = "en"
) -> list[str]:
    """``### ERROR D104 ack-missing: title`` and a list of ``**label:** text``."""
    items = [f"- **{for_markdown(name)}:** {for_markdown(text)}"
             for name, text in finding_rows(finding, catalog, first_ts_ns, language)]
    return [heading(3, finding_title(finding, catalog, language)), "\n".join(items)]


def heading(level: int, text: str) -> str:
    return "#" * level + " " + for_markdown(text)


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured table; every cell escaped (an empty heading stays empty)."""
    lines = [_row(head), "|" + "|".join("---" for _ in head) + "|"]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(for_markdown(cell) for cell in cells) + " |"
