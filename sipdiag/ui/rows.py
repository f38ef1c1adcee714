"""The call list's rows: one per call or exchange, its cells, how it sorts and what finds it.

Plain data, no Textual: ``Row.of(result)`` is built once per result (in the UI's thread), and
the list sorts and filters rows without touching a widget. Cells hold capture text already made
safe for a terminal (``for_terminal``); the widget draws them as ``Text``, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sipdiag.analysis import CallResult, Result, is_problem
from sipdiag.dialogs.ladder import ArrowKind
from sipdiag.dialogs.select import needs_attention, user_text
from sipdiag.report.call_list import status, user, worst
from sipdiag.report.escape import for_terminal
from sipdiag.report.media import state_text
from sipdiag.report.messages import time_of_day
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Severity, severity_rank


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    """A label key of the catalog's report.yaml (the heading follows ``--lang``)."""
    width: int
    """Cells, at least; ``flex`` columns share what the screen has left over."""
    flex: int = 0


COLUMNS = (
    Column("frame", "col_frame", 7),
    Column("time", "col_start", 12),
    Column("method", "col_method", 8),
    Column("from", "col_from", 12, flex=1),
    Column("to", "col_to", 12, flex=1),
    Column("outcome", "col_outcome", 11),
    Column("final", "col_final", 5),
    Column("finding", "col_worst", 14),
    Column("media", "col_media", 12),
    Column("call_id", "col_call_id", 14, flex=2),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
FAILED_WORD = "failed"
"""The filter word that keeps what ``--failed`` keeps."""


def strip_text(result: Result) -> Result:
    """The result without its messages' text (the ladder's ``Arrow.text``): the raw view reads
    a message again from the capture when asked, so the list does not hold every byte."""
    if not result.ladder or not any(arrow.text for arrow in result.ladder):
        return result
    return replace(result, ladder=tuple(replace(arrow, text="") for arrow in result.ladder))


def result_key(result: Result) -> tuple[bool, str, int]:
    """What names a result in a capture: a call or an exchange, its Call-ID, its first frame."""
    return isinstance(result, CallResult), result.call_id, result.first_frame


@dataclass(frozen=True, slots=True, eq=False)
class Row:
    result: Result
    cells: tuple[str, ...]
    """One per column of ``COLUMNS``, escaped for the terminal."""
    severity: Severity | None
    """Of the worst finding (None: no finding)."""
    failing: bool
    """What ``--failed`` keeps: a failed outcome, or a warning or error found."""
    haystack: str
    """Users, Call-ID, addresses, outcome, status, method and rule ids, case-folded: what the
    filter searches."""

    @classmethod
    def of(cls, result: Result, catalog: Catalog, language: str = "en") -> Row:
        findings = result.findings
        severity = findings[0].severity if findings else None
        finding = worst(findings)
        if severity is not None:
            finding = f"{finding} {catalog.label(severity.value, language)}"
        if isinstance(result, CallResult):
            method, media = "INVITE", state_text(catalog, result.media, language)
            uris: tuple[str, ...] = (result.caller, result.callee, result.request_uri)
        else:
            method, media = result.method, "-"
            uris = (result.caller, result.callee)
        cells = (
            str(result.first_frame),
            time_of_day(result.start_ns),
            method,
            user(result.caller),
            user(result.callee),
            result.outcome,
            status(result.final_status),
            finding,
            media,
            result.call_id,
        )
        failing = needs_attention(result.outcome, is_problem(findings))
        words = [user_text(*uris), *map(user, uris), result.call_id, *addresses(result),
                 result.outcome, status(result.final_status), method,
                 *dict.fromkeys(f.rule.id for f in findings)]
        return cls(result, tuple(map(_safe, cells)), severity, failing,
                   " ".join(words).casefold())

    def matches(self, query: str) -> bool:
        """Whether each word of ``query`` finds the row: ``failed`` (what ``--failed`` keeps),
        else a part of a user or number, the Call-ID, an address, the outcome, the final
        status, the method or a rule id."""
        return all(self.failing if word == FAILED_WORD else word in self.haystack
                   for word in query.casefold().split())


def _safe(text: str) -> str:
    """``for_terminal``, skipped for the common text that has nothing to escape."""
    return text if text.isprintable() else for_terminal(text)


def addresses(result: Result) -> list[str]:
    """Every address the call's messages came from or went to (from its ladder, else its
    legs)."""
    found: dict[str, None] = {}
    for arrow in result.ladder or ():
        if arrow.kind is ArrowKind.SIP:
            found.setdefault(arrow.src.ip)
            found.setdefault(arrow.dst.ip)
    if isinstance(result, CallResult):
        for leg in result.legs:
            found.setdefault(leg.src.ip)
            found.setdefault(leg.dst.ip)
    return list(found)


def _severity_order(row: Row) -> tuple[int, str]:
    rank = -1 if row.severity is None else severity_rank(row.severity)
    return rank, row.cells[COLUMN_KEYS.index("finding")]


SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "frame": lambda row: row.result.first_frame,
    "time": lambda row: (row.result.start_ns, row.result.first_frame),
    "final": lambda row: row.result.final_status,
    "finding": _severity_order,
}
"""How a column sorts when not by its text: numbers as numbers, findings by severity."""


def sort_key(column: str) -> Callable[[Row], Any]:
    """The key that orders rows by ``column`` (then by first frame, so that order is stable)."""
    special = SORT_KEYS.get(column)
    if special is not None:
        return lambda row: (special(row), row.result.first_frame)
    index = COLUMN_KEYS.index(column)
    return lambda row: (row.cells[index].casefold(), row.result.first_frame)


def widths(total: int, columns: Sequence[Column] = COLUMNS, margin: int = 2) -> list[int]:
    """Each column's width on a line ``total`` cells wide (a mark of ``margin`` cells first,
    a space after each cell): the fixed ones as given, the flexible ones sharing what is left
    by their weight (never below their own width)."""
    room = total - margin - len(columns)
    sizes = [column.width for column in columns]
    spare = room - sum(sizes)
    flexible = [i for i, column in enumerate(columns) if column.flex]
    if spare > 0 and flexible:
        weight = sum(columns[i].flex for i in flexible)
        for i in flexible:
            sizes[i] += spare * columns[i].flex // weight
        sizes[flexible[-1]] += room - sum(sizes)
    return sizes
