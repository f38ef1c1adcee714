"""``sipdiag stats`` on a terminal: a row per group of calls, then the total, as a table when
it fits the console. On a narrower one, a line per group with the figures (the answered and
attempts counts, then the 95th percentile of the post-dial delay left out while a line is too
long; the keys always whole), then a line per group with its most frequent findings."""

from __future__ import annotations

from functools import partial

from rich.console import Console

from sipdiag.report import terminal
from sipdiag.report.escape import for_terminal
from sipdiag.report.group_stats import GroupBy, GroupFigures, GroupStats
from sipdiag.rules.catalog import Catalog

KEY_COLUMNS = {GroupBy.HOUR: "col_hour", GroupBy.DAY: "col_day", GroupBy.TRUNK: "col_trunk",
               GroupBy.SOURCE: "col_source"}
FIGURE_COLUMNS = ("calls", "col_attempts", "col_answered", "col_asr", "col_ner",
                  "col_pdd_median", "col_pdd_p95", "col_top_findings")
DROPPED_FIRST = ("col_answered", "col_attempts", "col_pdd_p95")
"""The figures left out, in this order, of a line too long for the console."""
NONE = "-"


def print_group_stats(console: Console, stats: GroupStats, catalog: Catalog,
                      language: str = "en") -> None:
    label = partial(catalog.label, language=language)
    title = label("stats_title", groups=", ".join(_group_names(stats)))
    headings = [label(KEY_COLUMNS[group]) for group in stats.by]
    headings += [label(column) for column in FIGURE_COLUMNS]
    keys = [[for_terminal(key) for key in figures.keys] for figures in stats.groups]
    keys.append([label("total"), *([""] * (len(stats.by) - 1))])
    cells_of = [figure_cells(group) for group in (*stats.groups, stats.total)]
    rows = [[*key, *cells, found] for key, (cells, found) in zip(keys, cells_of, strict=True)]
    if terminal.table_fits(console, headings, rows):
        terminal.print_table(console, title, headings, rows, count=len(rows))
        return
    *figure_headings, findings_heading = headings
    terminal.print_lines(console, title, figure_headings, [row[:-1] for row in rows],
                         shrinkable=frozenset(),
                         droppable=[len(stats.by) + FIGURE_COLUMNS.index(column)
                                    for column in DROPPED_FIRST])
    found = [row[:len(stats.by)] + row[-1:] for row in rows if row[-1]]
    if found:
        terminal.print_lines(console, findings_heading, [*headings[:len(stats.by)],
                                                         findings_heading], found, frozenset())


def _group_names(stats: GroupStats) -> list[str]:
    """``hour``, ``trunk (dst)``: the keys as ``--by`` names them, and what names a trunk."""
    return [f"{group.value} ({stats.trunk})" if group is GroupBy.TRUNK
            else group.value for group in stats.by]


def figure_cells(figures: GroupFigures) -> tuple[list[str], str]:
    """The figures' cells, and the findings' cell."""
    delay = figures.post_dial_delay
    return [
        str(figures.calls), str(figures.counted.attempts), str(figures.counted.answered),
        _fixed(figures.asr, 1), _fixed(figures.ner, 1),
        _fixed(delay.median if delay else None, 3), _fixed(delay.p95 if delay else None, 3),
    ], ", ".join(f"{f.rule}{f' {f.name}' if f.name else ''} ({f.calls})"
                 for f in figures.top_findings)


def _fixed(value: float | None, places: int) -> str:
    return NONE if value is None else f"{value:.{places}f}"
