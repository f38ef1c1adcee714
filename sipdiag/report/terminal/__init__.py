"""Terminal output with rich: this package holds every writer that draws on a terminal, and
only it (with the CLI, and ``cells`` for widths) imports rich. Here: the console and the
tables, lines and fields every terminal writer prints with.

Everything printed is a ``Text`` built from strings that went through ``escape.for_terminal``;
nothing from a capture is ever read as rich markup. Colour follows ``NO_COLOR``, ``--no-color``
and whether the output is a terminal at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sipdiag.report.cells import cell_len, fit

STATUS_STYLES = {1: "dim", 2: "green", 3: "cyan", 4: "yellow", 5: "red", 6: "red"}
REQUEST_STYLE = "bold"
HEADING_STYLE = "bold underline"
PIPE_WIDTH = 200


class _Console(Console):
    """rich's console, but a reader that leaves (``| head``) is the caller's to handle: rich
    would exit the process with status 1 from the middle of a report."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def make_console(
    out: TextIO, *, environ: Mapping[str, str], no_color: bool = False, width: int | None = None
) -> Console:
    colour = not no_color and "NO_COLOR" not in environ
    console = _Console(
        file=out,
        markup=False,
        emoji=False,
        highlight=False,
        no_color=not colour,
        color_system="auto" if colour else None,
        width=width,
        soft_wrap=False,
        _environ=environ,  # rich reads COLUMNS, FORCE_COLOR, TERM from the given environment
    )
    if width is None and not console.is_terminal and "COLUMNS" not in environ:
        console.width = PIPE_WIDTH  # a file or a pipe has no edge (unless COLUMNS gives one)
    return console


ROWS_PER_PRINT = 256
"""Rows handed to rich at once: one call per row costs more than laying out the row."""


def print_rows(console: Console, rows: Iterable[tuple[list[str], str]], widths: list[int]) -> None:
    """Print (cells, style) rows as fixed-width columns, one line each, as they come."""
    for chunk in _chunks(iter(rows)):
        text = Text()
        for cells, style in chunk:
            line = " ".join(fit(cell, width) for cell, width in zip(cells, widths, strict=True))
            text.append(line.rstrip() + "\n", style=style)
        console.print(text, no_wrap=True, overflow="crop", end="")


def cell(text: str, style: str = "") -> Text:
    """A table cell whose text folds anywhere when a run has no space to wrap at, as Japanese
    and Chinese sentences have none (rich would otherwise cut it with an ellipsis)."""
    return Text(text, style=style, overflow="fold")


def status_style(status: int | None) -> str:
    return STATUS_STYLES.get(status // 100, "") if status else REQUEST_STYLE


def print_key_values(console: Console, title: str, rows: Iterable[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(cell(key), cell(value))
    console.print(table)


FIELD_INDENT = 4
"""Cells before the fields under a heading line."""


def print_fields(console: Console, rows: Iterable[tuple[str, str]], indent: int = 0) -> None:
    """``name  text`` rows, the names in bold, each text wrapped in its own column."""
    grid = Table.grid(padding=(0, 1))
    if indent:
        grid.add_column(width=indent - 1)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(ratio=1)
    for name, text in rows:
        grid.add_row(*([cell("")] if indent else []), cell(name), cell(text))
    console.print(grid)


BOXED_ROWS = 1000
"""Up to this many rows a table is drawn in a box; more are printed as they come, in columns
as wide as the first rows need (a boxed table must be held whole, and rich takes minutes to
lay out a hundred thousand rows)."""
WIDEST_COLUMN = 48


def print_table(
    console: Console, title: str, headings: list[str], rows: Iterable[list[str]],
    count: int | None = None, whole_first: bool = False,
) -> None:
    """A table of text cells; ``count``: how many rows there are, if ``rows`` is a stream;
    ``whole_first``: the first column is never wrapped (a file name and line to copy)."""
    if count is not None and count > BOXED_ROWS:
        _print_streamed(console, title, headings, iter(rows))
        return
    table = Table(title=title, title_justify="left")
    for index, heading in enumerate(headings):
        table.add_column(heading, no_wrap=whole_first and index == 0)
    for row in rows:
        table.add_row(*(cell(text) for text in row))
    console.print(table)


def table_fits(console: Console, headings: list[str], rows: Iterable[list[str]]) -> bool:
    """Whether a boxed table of these rows (the first ``BOXED_ROWS``: more are streamed) fits
    the console without folding a cell: each cell and its border take three more."""
    first = list(itertools.islice(rows, BOXED_ROWS))
    if len(first) == BOXED_ROWS:
        return False  # streamed: in columns that crop, not a table that fits
    widths = [max(cell_len(text) for text in column)
              for column in zip(headings, *first, strict=True)]
    return sum(widths) + 3 * len(widths) + 1 <= console.width


NARROWEST_NAME = 8
"""The fewest cells a shrunk column (a From or To) keeps."""


def print_lines(
    console: Console, title: str, headings: list[str], rows: Iterable[list[str]],
    shrinkable: frozenset[int], styles: Sequence[str] = (), droppable: Sequence[int] = (),
) -> None:
    """One line per row, as sngrep lists calls: columns as wide as their widest cell (of the
    first ``BOXED_ROWS``), the ``shrinkable`` ones cut with an ellipsis so that the line fits
    the console, then the ``droppable`` ones left out, in that order, while it still does not;
    the last column printed whole (a Call-ID is copied, never cut; on a terminal too narrow
    for it, it runs on). ``styles``: of the first rows, one each."""
    pending = iter(rows)
    first = list(itertools.islice(pending, BOXED_ROWS))
    widths = [max(cell_len(text) for text in column)
              for column in zip(headings, *first, strict=True)]
    kept = list(range(len(widths)))

    def over() -> int:
        return sum(widths[i] for i in kept) + len(kept) - 1 - console.width

    while over() > 0 and any(widths[i] > NARROWEST_NAME for i in shrinkable):
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    for column in droppable:
        if over() <= 0:
            break
        kept.remove(column)
    console.print(Text(title, style="italic"))
    styled = ((row, styles[n] if n < len(styles) else "")
              for n, row in enumerate(itertools.chain(first, pending)))
    for chunk in _chunks(itertools.chain([(headings, HEADING_STYLE)], styled)):
        text = Text()
        for cells, style in chunk:
            fitted = [fit(cells[i], widths[i]) for i in kept[:-1]]
            text.append(" ".join([*fitted, cells[kept[-1]]]).rstrip() + "\n", style=style)
        console.print(text, no_wrap=True, overflow="ignore", crop=False, end="")


def _chunks(rows: Iterator[tuple[list[str], str]]) -> Iterator[list[tuple[list[str], str]]]:
    while chunk := list(itertools.islice(rows, ROWS_PER_PRINT)):
        yield chunk


def _print_streamed(
    console: Console, title: str, headings: list[str], rows: Iterator[list[str]]
) -> None:
    first = list(itertools.islice(rows, BOXED_ROWS))
    widths = [
        min(WIDEST_COLUMN, max(cell_len(text) for text in column))
        for column in zip(headings, *first, strict=True)
    ]
    console.print(Text(title, style="italic"))
    print_rows(console, itertools.chain(
        [(headings, HEADING_STYLE)], ((row, "") for row in itertools.chain(first, rows))
    ), widths)
