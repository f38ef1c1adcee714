"""Ladder (sequence) diagrams in the terminal: endpoints as columns, messages as arrows.

Each row is one message: its frame, its wall-clock time (UTC), its time from the first frame of
the capture (as Wireshark shows it), and an arrow from the column of its sender to the column of
its receiver, labelled with the method or the status. A retransmission is marked with the
number of its copy and drawn dim. Labels come from the capture and are escaped; widths are
counted in terminal cells, so wide characters stay aligned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from rich.console import Console
from rich.text import Text

from sipdiag.dialogs.ladder import Arrow, ArrowKind, endpoints
from sipdiag.dialogs.records import CallRecord, ExchangeRecord
from sipdiag.network import Endpoint
from sipdiag.report import terminal, wording
from sipdiag.report.cells import cell_len, fit
from sipdiag.report.escape import for_terminal
from sipdiag.report.messages import time_of_day
from sipdiag.rules.catalog import Catalog

R = TypeVar("R", CallRecord, ExchangeRecord)

PREFIX_WIDTH = 20
"""``frame`` (7) and ``+seconds`` from the first frame (12), and a space."""
CLOCK_WIDTH = 13
"""The time of day before ``+seconds`` (``22:13:20.010 ``, UTC, as in the logs of the capture's
hosts), when the lanes keep room for their labels with it."""
MIN_COLUMN = 14
MAX_COLUMN = 48
MEDIA_LINES = {ArrowKind.SIP: "─", ArrowKind.MEDIA: "═", ArrowKind.MEDIA_END: "┄",
               ArrowKind.DTMF: "─"}
"""How each kind of row is drawn: a message, a stream's start (a band) and end, an event."""
MEDIA_STYLES = {ArrowKind.MEDIA: "cyan", ArrowKind.MEDIA_END: "dim cyan",
                ArrowKind.DTMF: "magenta"}


def print_ladder(
    console: Console,
    title: str,
    arrows: Sequence[Arrow],
    catalog: Catalog,
    first_ts_ns: int,
    language: str = "en",
) -> None:
    console.print(Text(for_terminal(title), style="bold underline"))
    heading, rows = ladder_lines(arrows, catalog, first_ts_ns, console.width, language)
    console.print(heading)
    for row in rows:
        console.print(row)


def ladder_lines(
    arrows: Sequence[Arrow],
    catalog: Catalog,
    first_ts_ns: int,
    width: int,
    language: str = "en",
) -> tuple[Text, list[Text]]:
    """The heading (an address over each lane) and one line per arrow, ``width`` cells wide
    at most: how the report prints a ladder, and how the UI lists one to pick a row from."""
    columns = endpoints(arrows)
    lane = column_width(arrows, len(columns), width)
    clock = column_width(arrows, len(columns), width - CLOCK_WIDTH) == lane
    prefix_width = PREFIX_WIDTH + CLOCK_WIDTH * clock
    heading = Text(" " * prefix_width + header(columns, lane), no_wrap=True, overflow="crop")
    rows = []
    for arrow in arrows:
        label = for_terminal(arrow.label)
        if arrow.copy > 1:
            label += wording.copy_mark(catalog, arrow.copy, language)
        seconds = (arrow.ts_ns - first_ts_ns) / 1e9
        when = f"{time_of_day(arrow.ts_ns)} " if clock else ""
        prefix = f"{arrow.frame:>7} {when}{'+' + format(seconds, '.3f'):>11} "
        drawn = draw(columns.index(arrow.src), columns.index(arrow.dst), len(columns), lane,
                     label, MEDIA_LINES[arrow.kind])
        style = MEDIA_STYLES.get(arrow.kind) or (
            "dim" if arrow.copy > 1 else terminal.status_style(arrow.status or None))
        rows.append(Text(prefix + drawn, style=style, no_wrap=True, overflow="crop"))
    return heading, rows


def column_width(arrows: Sequence[Arrow], count: int, console_width: int) -> int:
    """Wide enough for the longest label between two neighbours, within the console."""
    longest = max((cell_len(for_terminal(a.label)) for a in arrows), default=0) + 14
    fits = (console_width - PREFIX_WIDTH) // max(count, 1)
    return max(MIN_COLUMN, min(MAX_COLUMN, longest, fits))


def header(columns: Sequence[Endpoint], width: int) -> str:
    return "".join(fit(_centered(str(c), width), width) for c in columns).rstrip()


def _centered(text: str, width: int) -> str:
    text = fit(text, width - 1).rstrip()
    pad = max(0, (width - cell_len(text)) // 2)
    return " " * pad + text


def draw(src: int, dst: int, count: int, width: int, label: str, line: str = "─") -> str:
    """One row of the lanes: ``│`` for each endpoint, and the labelled arrow from src to dst,
    drawn with ``line``."""
    cells = [" "] * (count * width)
    for column in range(count):
        cells[_center(column, width)] = "│"
    if src == dst:  # a message to itself: a loop beside the lane
        return _place(cells, _center(src, width) + 1, "↺ " + label, len(cells)).rstrip()
    low, high = sorted((_center(src, width), _center(dst, width)))
    for x in range(low + 1, high):
        cells[x] = line
    if dst > src:
        cells[high - 1] = "▶"
    else:
        cells[low + 1] = "◀"
    room = high - low - 4
    text = fit(label, room).rstrip() if room > 0 else ""
    start = low + 2 + max(0, (room - cell_len(text)) // 2)
    return _place(cells, start, f" {text} " if text else "", high - 1).rstrip()


def _center(column: int, width: int) -> int:
    return column * width + width // 2


def _place(cells: list[str], start: int, text: str, limit: int) -> str:
    """Write text over the cells from ``start``; a wide character takes two cells."""
    x = start
    for char in text:
        size = cell_len(char)
        if x + size > limit or x + size > len(cells):
            break
        cells[x] = char
        if size == 2:
            cells[x + 1] = ""
        x += size
    return "".join(cells)
