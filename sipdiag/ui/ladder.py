"""A call's ladder for the call screen: the terminal report's drawing, a row per arrow.

``report.terminal.ladder.print_ladder`` prints a ladder to a console in one go; the call screen
needs each row apart, to pick one and open its message. This draws each row as that function
does (its columns, lanes, prefix and styles: ``column_width``, ``header``, ``draw``), with the
media rows of ``report.media.with_media``.
"""

from __future__ import annotations

from rich.text import Text

from sipdiag.analysis import CallResult, Result
from sipdiag.dialogs.ladder import Arrow, ArrowKind, endpoints
from sipdiag.report import terminal, wording
from sipdiag.report.escape import for_terminal
from sipdiag.report.media import with_media
from sipdiag.report.messages import time_of_day
from sipdiag.report.terminal.ladder import (
    CLOCK_WIDTH,
    MEDIA_LINES,
    MEDIA_STYLES,
    PREFIX_WIDTH,
    column_width,
    draw,
    header,
)
from sipdiag.rules.catalog import Catalog


def ladder_rows(result: Result, catalog: Catalog, first_ts_ns: int, width: int,
                language: str = "en") -> tuple[Text, list[tuple[Arrow, Text]]]:
    """The heading line (an address over each lane) and each arrow with its row."""
    media = result.media if isinstance(result, CallResult) else None
    arrows = with_media(result.ladder or (), media, catalog, language)
    columns = endpoints(arrows)
    lane = column_width(arrows, len(columns), width)
    clock = column_width(arrows, len(columns), width - CLOCK_WIDTH) == lane
    prefix_width = PREFIX_WIDTH + CLOCK_WIDTH * clock
    heading = Text(" " * prefix_width + header(columns, lane), style="bold", no_wrap=True,
                   overflow="crop")
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
        rows.append((arrow, Text(prefix + drawn, style=style, no_wrap=True, overflow="crop")))
    return heading, rows


def is_message(arrow: Arrow) -> bool:
    """A row that is a SIP message (media rows have no text to show)."""
    return arrow.kind is ArrowKind.SIP
