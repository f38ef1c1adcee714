"""The call list: a virtual table of rows, drawn a line at a time (Textual's Line API).

Only the lines on the screen are drawn, from the rows shown (``shown``, filtered and in sort
order), so a capture of a hundred thousand calls scrolls, sorts and filters as one of ten:
sorting and filtering are a Python sort and a list comprehension over plain rows (``rows``),
never a widget per row. (On the development machine Textual's DataTable took 11 s to take
80,000 rows and 100 s to be cleared and given 40,000 again; with 80,000 rows here, a sort
takes 0.5 s, a filter 0.5 to 0.8 s, and each row costs about 0.15 ms to make as its result
comes, a fraction of what analysing its call cost.) The first line is the headings, fixed while
the rows scroll; a click on a heading sorts by it, again reverses.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sipdiag.analysis import Result
from sipdiag.report.cells import fit
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Severity
from sipdiag.ui.rows import COLUMN_KEYS, COLUMNS, Row, result_key, sort_key, widths

SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow",
                   Severity.INFO: "cyan"}
FAILED_STYLE = "red"
MARK = "*"
INSORT_LIMIT = 64
"""Up to this many new rows are put in place one by one; more, and the list is sorted again
(timsort merges the sorted run with the new rows)."""


class CallTable(ScrollView, can_focus=True):
    """Calls and exchanges, one line each; Enter opens one, Space marks it."""

    DEFAULT_CSS = """
    CallTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "open", "Open", show=False),
        Binding("space", "mark", "Mark", show=False),
        Binding("less_than_sign", "sort_by(-1)", "Sort ←", show=False),
        Binding("greater_than_sign", "sort_by(1)", "Sort →", show=False),
        Binding("r", "reverse", "Reverse", show=False),
    ]

    class Opened(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    class Changed(Message):
        """The rows shown changed (added, filtered, sorted): the status line counts them."""

    def __init__(self, catalog: Catalog, language: str = "en", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.catalog, self.language = catalog, language
        self.rows: list[Row] = []
        """Every row, in the order the results came."""
        self.shown: list[Row] = []
        """The rows the filter keeps, in ascending sort order (``reverse`` draws them from the
        end)."""
        self.where: dict[tuple[bool, str, int], int] = {}
        """Each result's row, by ``result_key``."""
        self.marked: set[tuple[bool, str, int]] = set()
        self.filter_text = ""
        self.sort_column = "frame"
        self.reverse = False
        self.cursor = 0
        self._key: Callable[[Row], Any] = sort_key(self.sort_column)

    # --- rows

    def add(self, results: Iterable[Result]) -> None:
        """New results, each a row, put in place in the rows shown."""
        new = []
        for result in results:
            row = Row.of(result, self.catalog, self.language)
            self.where[result_key(result)] = len(self.rows)
            self.rows.append(row)
            if row.matches(self.filter_text):
                new.append(row)
        if not new:
            return
        current = self.current
        if len(new) > INSORT_LIMIT:
            self.shown.extend(new)
            self.shown.sort(key=self._key)
        else:
            for row in new:
                bisect.insort(self.shown, row, key=self._key)
        self._after_change(current)

    def update(self, results: Iterable[Result]) -> None:
        """Results that changed (links and findings known at the end): their rows remade."""
        changed = False
        for result in results:
            index = self.where.get(result_key(result))
            if index is None:
                continue
            self.rows[index] = Row.of(result, self.catalog, self.language)
            changed = True
        if changed:
            self._reshow()

    def filter(self, query: str) -> None:
        self.filter_text = query
        self._reshow()

    def sort(self, column: str, reverse: bool = False) -> None:
        self.sort_column, self.reverse = column, reverse
        self._key = sort_key(column)
        self._reshow()

    @property
    def count(self) -> int:
        return len(self.shown)

    def row_at(self, index: int) -> Row:
        """The row drawn ``index``-th (from 0) in the list."""
        return self.shown[len(self.shown) - 1 - index if self.reverse else index]

    @property
    def current(self) -> Row | None:
        return self.row_at(self.cursor) if self.shown else None

    def visible_rows(self) -> list[Row]:
        return [self.row_at(i) for i in range(len(self.shown))]

    def marked_rows(self) -> list[Row]:
        return [row for row in self.rows if result_key(row.result) in self.marked]

    def _reshow(self) -> None:
        current = self.current
        kept = (row for row in self.rows if row.matches(self.filter_text))
        self.shown = sorted(kept, key=self._key)
        self._after_change(current)

    def _after_change(self, current: Row | None) -> None:
        """Keep the cursor on the row it was on, if still shown."""
        if current is not None:
            try:
                at = self.shown.index(current)
            except ValueError:
                at = -1
            if at >= 0:
                self.cursor = len(self.shown) - 1 - at if self.reverse else at
        self.cursor = max(0, min(self.cursor, len(self.shown) - 1))
        self.virtual_size = Size(self.size.width, len(self.shown) + 1)
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Changed())

    # --- drawing

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        sizes = widths(width)
        if y == 0:
            return self._strip(self._heading(sizes), width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.shown):
            return Strip.blank(width, self.rich_style)
        row = self.row_at(index)
        text = self._line(row, sizes)
        if index == self.cursor:
            text.stylize("reverse" if self.has_focus else "underline")
        return self._strip(text, width)

    def _strip(self, text: Text, width: int) -> Strip:
        segments = list(text.render(self.app.console))
        return Strip(segments).adjust_cell_length(width, self.rich_style) \
            .apply_style(self.rich_style)

    def _heading(self, sizes: list[int]) -> Text:
        text = Text("  ", style="bold")
        for column, size in zip(COLUMNS, sizes, strict=True):
            heading = self.catalog.label(column.label, self.language)
            if column.key == self.sort_column:
                heading = f"{heading} {'▼' if self.reverse else '▲'}"
            text.append(fit(heading, size) + " ", style="bold")
        return text

    def _line(self, row: Row, sizes: list[int]) -> Text:
        text = Text(MARK + " " if result_key(row.result) in self.marked else "  ",
                    style="bold")
        for key, cell, size in zip(COLUMN_KEYS, row.cells, sizes, strict=True):
            style = ""
            if key == "finding" and row.severity is not None:
                style = SEVERITY_STYLES[row.severity]
            elif key == "outcome" and row.failing:
                style = FAILED_STYLE
            text.append(fit(cell, size), style=style)
            text.append(" ")
        return text

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self.size.width, len(self.shown) + 1)

    def on_focus(self, _event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, _event: events.Blur) -> None:
        self.refresh()

    # --- moving

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _keep_cursor_visible(self) -> None:
        top = round(self.scroll_offset.y)
        height = self._page_height()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def move_to(self, index: int) -> None:
        self.cursor = max(0, min(index, len(self.shown) - 1))
        self._keep_cursor_visible()
        self.refresh()

    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.move_to(self.cursor + step * self._page_height())

    def action_jump(self, index: int) -> None:
        self.move_to(len(self.shown) - 1 if index < 0 else index)

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def action_mark(self) -> None:
        row = self.current
        if row is None:
            return
        self.marked ^= {result_key(row.result)}
        self.move_to(self.cursor + 1)
        self.post_message(self.Changed())

    def action_sort_by(self, step: int) -> None:
        index = (COLUMN_KEYS.index(self.sort_column) + step) % len(COLUMN_KEYS)
        self.sort(COLUMN_KEYS[index])

    def action_reverse(self) -> None:
        self.sort(self.sort_column, not self.reverse)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                reverse = not self.reverse if column == self.sort_column else False
                self.sort(column, reverse)
            return
        index = round(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self.shown):
            self.move_to(index)
            if event.chain >= 2:
                self.action_open()

    def _column_at(self, x: int) -> str | None:
        left = 2
        for column, size in zip(COLUMNS, widths(self.scrollable_content_region.width),
                                strict=True):
            if left <= x < left + size + 1:
                return column.key
            left += size + 1
        return None

