"""The main screen: every call and exchange as it is judged, a filter, and the status line."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from sipdiag.report.escape import for_terminal
from sipdiag.ui.rows import COLUMNS
from sipdiag.ui.table import CallTable

if TYPE_CHECKING:
    from sipdiag.ui.app import SipdiagApp


class CallListScreen(Screen[None]):
    DEFAULT_CSS = """
    CallListScreen #filter { display: none; }
    CallListScreen #filter.shown { display: block; }
    CallListScreen #status { height: 1; background: $panel; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("f3", "filter", show=False), Binding("f7", "filter", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("f2", "export", "Export"), Binding("w", "export", show=False),
        Binding("x", "explain_status", "Explain status"),
        Binding("e", "explain", "Explain code"),
        Binding("question_mark", "help", "Help"), Binding("f1", "help", show=False),
        Binding("q", "quit", "Quit"), Binding("f10", "quit", show=False),
    ]

    def __init__(self, app: SipdiagApp) -> None:
        super().__init__()
        self.owner = app
        self.table = CallTable(app.catalog, app.language, id="calls")
        self.status = Static(Text(""), id="status")

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.table
        yield Input(placeholder="filter: number, user, Call-ID, IP, outcome, status, rule id "
                    "or failed", id="filter")
        yield self.status
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        if not event.value.strip():
            event.input.remove_class("shown")
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("shown")
        self.table.filter("")
        self.table.focus()

    def on_call_table_opened(self, event: CallTable.Opened) -> None:
        self.owner.open_call(event.row.result)

    def on_call_table_changed(self, _event: CallTable.Changed) -> None:
        self.show_status()

    def show_status(self) -> None:
        """Reading or read, the frames and results so far, what the list shows."""
        progress, table = self.owner.feed.progress, self.table
        if progress.error is not None:
            state = Text(for_terminal(f"stopped: {progress.error}"), style="bold red")
        elif progress.done:
            state = Text("read", style="bold green")
        else:
            state = Text("reading…", style="bold yellow")
        line = Text.assemble(state, f" {progress.frames:,} frames, {progress.calls:,} calls, "
                             f"{progress.exchanges:,} exchanges | shown {table.count:,}")
        if table.marked:
            line.append(f" | marked {len(table.marked):,}")
        if table.filter_text:
            line.append(for_terminal(f" | filter: {table.filter_text}"))
        heading = next(c.label for c in COLUMNS if c.key == table.sort_column)
        order = "▼" if table.reverse else "▲"
        line.append(f" | sort: {self.owner.catalog.label(heading, self.owner.language)} "
                    f"{order} | ? help")
        self.status.update(line)

    def action_export(self) -> None:
        self.owner.ask_export(self.table)

    def action_explain_status(self) -> None:
        row = self.table.current
        if row is not None:
            self.owner.explain_status(row.result)

    def action_explain(self) -> None:
        self.owner.ask_explain()

    def action_help(self) -> None:
        self.owner.show_help()

    async def action_quit(self) -> None:
        self.owner.exit(0)
