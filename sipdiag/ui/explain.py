"""``sipdiag explain`` inside the UI: a response code (or two compared), a rule, a Q.850 cause
or a Warning code, laid out by the terminal's explain renderer (``report.terminal.explain``)
into a ``Text`` the explain screen shows.

The renderer prints to a rich console; here it prints to one that writes to memory, at the
screen's width, and its lines are read back with their styles. Its words are the catalog's and
the rules' (never capture text).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from sipdiag.report.terminal import explain
from sipdiag.rules import Engine


def explained(engine: Engine, items: Sequence[str], width: int, language: str = "en") -> Text:
    """The explanation of one item (a code, a rule, q850:N, warning:N), or of two response
    codes side by side."""
    console = Console(file=io.StringIO(), width=max(40, width), force_terminal=True,
                      color_system="standard", markup=False, emoji=False, highlight=False,
                      legacy_windows=False, _environ={})
    with console.capture() as captured:
        explain.print_items(console, engine.catalog, engine.rules,
                            [item.strip() for item in items if item.strip()], language)
    return Text.from_ansi(captured.get().rstrip("\n"))
