"""``sipdiag explain`` inside the UI: a response code (or two compared), a rule, a Q.850 cause
or a Warning code, laid out by the terminal's explain renderer (``report.terminal.explain``)
into a ``Text`` the explain screen shows.

The renderer prints to a rich console; here it prints to one that writes to memory, at the
screen's width, and its lines are read back with their styles. Its words are the catalog's and
the rules' (never capture text).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from sipdiag.report.terminal import explain
from sipdiag.rules import Engine
from sipdiag.rules.catalog import ResponseCode

_CATALOG_ITEM = re.compile(r"^(q850|warning):(\d+)$", re.I)


class NotExplained(ValueError):
    """What was asked is not something the catalog explains (one line for the user)."""


def explained(engine: Engine, items: Sequence[str], width: int, language: str = "en") -> Text:
    """The explanation of one item (a code, a rule, q850:N, warning:N), or of two response
    codes side by side."""
    console = Console(file=io.StringIO(), width=max(40, width), force_terminal=True,
                      color_system="standard", markup=False, emoji=False, highlight=False,
                      legacy_windows=False, _environ={})
    with console.capture() as captured:
        _print(console, engine, [item.strip() for item in items if item.strip()], language)
    return Text.from_ansi(captured.get().rstrip("\n"))


def _print(console: Console, engine: Engine, items: list[str], language: str) -> None:
    catalog = engine.catalog
    if not items or len(items) > 2:
        raise NotExplained("give one item (481, D101, q850:41, warning:305) or two codes")
    if len(items) == 2:
        a, b = (_response(engine, item) for item in items)
        explain.print_comparison(console, catalog, a, b, language)
        return
    item = items[0]
    if item.isdigit():
        code = int(item)
        if not 100 <= code <= 699:
            raise NotExplained(f"{item} is not a SIP response code (100 to 699)")
        explain.print_response(console, catalog, code, language)
        return
    match = _CATALOG_ITEM.match(item)
    if match:
        kind, number = match[1].lower(), int(match[2])
        if number not in (catalog.q850 if kind == "q850" else catalog.warnings):
            raise NotExplained(f"the catalog has no {kind} entry {number}")
        show = explain.print_q850 if kind == "q850" else explain.print_warning
        show(console, catalog, number, language)
        return
    rule = engine.rules.by_id(item)
    if rule is None:
        raise NotExplained(f"'{item}' is not a response code, a rule, q850:N or warning:N")
    explain.print_rule(console, catalog, rule, language)


def _response(engine: Engine, item: str) -> ResponseCode:
    entry = engine.catalog.response(int(item)) if item.isdigit() else None
    if entry is None:
        raise NotExplained(f"'{item}' is not a registered SIP response code; two codes are "
                           f"needed to compare")
    return entry
