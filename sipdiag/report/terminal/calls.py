"""The call list on a terminal: the calls, the linked legs and the exchanges, each as a table
when it fits the console, else one line per call with the columns a NOC engineer reads first
(every column with ``--wide``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from rich.console import Console
from rich.text import Text

from sipdiag.analysis import Analysis, CallResult, ExchangeResult
from sipdiag.dialogs.correlate import Link
from sipdiag.report import terminal
from sipdiag.report.call_list import (
    CALL_COLUMNS,
    EXCHANGE_COLUMNS,
    LINK_COLUMNS,
    call_cells,
    exchange_cells,
    headings,
    link_cells,
    status,
    user,
    worst,
)
from sipdiag.report.escape import for_terminal
from sipdiag.report.media import state_text
from sipdiag.rules.catalog import Catalog

BRIEF_CALL_COLUMNS = ("col_start", "col_from", "col_to", "col_outcome", "col_final",
                      "col_worst", "col_media", "col_call_id")
BRIEF_EXCHANGE_COLUMNS = ("col_start", "col_method", "col_from", "col_to", "col_outcome",
                          "col_final", "col_worst", "col_call_id")
"""What a NOC engineer reads first, one line per call on a narrow terminal (the whole table
with --wide, in JSON, Markdown and HTML)."""


@dataclass(frozen=True)
class Narrowing:
    """How a one-line-per-call list fits a narrow terminal: the columns cut with an ellipsis
    first, then those left out (in order) while a line is still too long."""

    shrinkable: frozenset[int]
    droppable: tuple[int, ...]


NARROW_CALLS = Narrowing(frozenset({1, 2, 3, 6}), (6, 0))
"""From, To, Outcome and Media cut; then Media and Start left out (in --wide and JSON)."""
NARROW_EXCHANGES = Narrowing(frozenset({2, 3, 4}), (0,))
"""From, To and Outcome cut; then Start left out."""


def brief_call_cells(call: CallResult, catalog: Catalog, language: str = "en") -> list[str]:
    return [clock(call.start_ns), party(call.caller), party(call.callee), call.outcome,
            status(call.final_status), worst(call.findings),
            state_text(catalog, call.media, language), call.call_id]


def brief_exchange_cells(exchange: ExchangeResult) -> list[str]:
    return [clock(exchange.start_ns), exchange.method, party(exchange.caller),
            party(exchange.callee), exchange.outcome, status(exchange.final_status),
            worst(exchange.findings), exchange.call_id]


def party(uri: str) -> str:
    """Who, in a few cells: the user part of the URI (a number, a name), else its host."""
    whole = user(uri)
    return whole.split("@", 1)[0] if "@" in whole else whole


def clock(ts_ns: int) -> str:
    """The wall-clock time of day (UTC) to the second: when a call began."""
    return time.strftime("%H:%M:%S", time.gmtime(ts_ns // 1_000_000_000))


def print_calls(
    console: Console, analysis: Analysis, catalog: Catalog, language: str = "en",
    wide: bool = False,
) -> None:
    """The calls, the linked legs and the exchanges: each as a table when it fits the console,
    else one line per call: with the columns read first, or every column if ``wide``."""
    label = partial(catalog.label, language=language)
    if analysis.calls:
        _print_records(console, label("calls"), wide, len(analysis.calls), (
            headings(catalog, CALL_COLUMNS, language),
            lambda: (call_cells(c, catalog, language) for c in analysis.calls)), (
            headings(catalog, BRIEF_CALL_COLUMNS, language),
            lambda: (brief_call_cells(c, catalog, language) for c in analysis.calls)),
            NARROW_CALLS)
    if analysis.links:
        _print_links(console, analysis.links, catalog, language)
    if analysis.exchanges:
        _print_records(console, label("exchanges"), wide, len(analysis.exchanges), (
            headings(catalog, EXCHANGE_COLUMNS, language),
            lambda: map(exchange_cells, analysis.exchanges)), (
            headings(catalog, BRIEF_EXCHANGE_COLUMNS, language),
            lambda: map(brief_exchange_cells, analysis.exchanges)),
            NARROW_EXCHANGES)


Rows = tuple[list[str], Callable[[], Iterator[list[str]]]]
"""Headings, and a way to make the rows under them (each time afresh: they are streamed)."""


def _print_records(console: Console, title: str, wide: bool, count: int, whole: Rows,
                   brief: Rows, narrowing: Narrowing) -> None:
    whole_headings, whole_rows = whole
    if terminal.table_fits(console, whole_headings, _escaped(whole_rows())):
        terminal.print_table(console, title, whole_headings, _escaped(whole_rows()), count)
    elif wide:  # every column, one line per call however long: never a folded cell
        terminal.print_lines(console, title, whole_headings, _escaped(whole_rows()), frozenset())
    else:
        brief_headings, brief_rows = brief
        terminal.print_lines(console, title, brief_headings, _escaped(brief_rows()),
                             narrowing.shrinkable, droppable=narrowing.droppable)


def _print_links(console: Console, links: Sequence[Link], catalog: Catalog,
                 language: str) -> None:
    """The linked legs as a table when it fits; else each link as lines that keep both
    Call-IDs whole (to copy into --call), what links them wrapped below."""
    title = catalog.label("linked_legs", language)
    column_names = headings(catalog, LINK_COLUMNS, language)
    rows = [link_cells(link, catalog, language) for link in links]
    if terminal.table_fits(console, column_names, _escaped(rows)):
        terminal.print_table(console, title, column_names, _escaped(rows))
        return
    console.print(Text(title, style="italic"))
    for call_id, other, sure, reason in _escaped(rows):
        console.print(Text(call_id), no_wrap=True, overflow="ignore", crop=False)
        console.print(Text(f"  = {other}"), no_wrap=True, overflow="ignore", crop=False)
        terminal.print_fields(console, [(column_names[2], sure), (column_names[3], reason)],
                              terminal.FIELD_INDENT)


def _escaped(rows: Iterable[list[str]]) -> Iterator[list[str]]:
    return ([for_terminal(cell) for cell in row] for row in rows)
