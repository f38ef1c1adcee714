"""A call's ladder for the call screen: the terminal report's drawing, a row per arrow.

``report.terminal.ladder.print_ladder`` prints a ladder to a console in one go; the call screen
needs each row apart, to pick one and open its message: the same lines
(``report.terminal.ladder.ladder_lines``), with the media rows of ``report.media.with_media``.
"""

from __future__ import annotations

from rich.text import Text

from sipdiag.analysis import CallResult, Result
from sipdiag.dialogs.ladder import Arrow, ArrowKind
from sipdiag.report.media import with_media
from sipdiag.report.terminal.ladder import ladder_lines
from sipdiag.rules.catalog import Catalog


def ladder_rows(result: Result, catalog: Catalog, first_ts_ns: int, width: int,
                language: str = "en") -> tuple[Text, list[tuple[Arrow, Text]]]:
    """The heading line (an address over each lane) and each arrow with its row."""
    media = result.media if isinstance(result, CallResult) else None
    arrows = with_media(result.ladder or (), media, catalog, language)
    heading, lines = ladder_lines(arrows, catalog, first_ts_ns, width, language)
    heading.stylize("bold")
    return heading, list(zip(arrows, lines, strict=True))


def is_message(arrow: Arrow) -> bool:
    """A row that is a SIP message (media rows have no text to show)."""
    return arrow.kind is ArrowKind.SIP
