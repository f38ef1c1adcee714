"""The small screens: help, an explanation, a one-line prompt, and a message as captured."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Static
from textual.worker import Worker, WorkerState

from sipdiag.dialogs.ladder import Arrow
from sipdiag.ui.keys import KEYS
from sipdiag.ui.raw import RawMessage, message_text, read_call

if TYPE_CHECKING:
    from sipdiag.ui.app import SipdiagApp

BACK: list[BindingType] = [Binding("q", "back", "Back"), Binding("escape", "back", "Back",
                                                                  show=False)]


class Back(Screen[None]):
    """A screen that ``q`` and Esc close."""

    BINDINGS: ClassVar[list[BindingType]] = BACK

    @property
    def sipdiag(self) -> SipdiagApp:
        from sipdiag.ui.app import SipdiagApp

        assert isinstance(self.app, SipdiagApp)
        return self.app

    def action_back(self) -> None:
        self.dismiss()


def help_text() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(ratio=1)
    for index, (screen, keys) in enumerate(KEYS):
        if index:
            grid.add_row(Text(""), Text(""))
        grid.add_row(Text(screen, style="bold underline"), Text(""))
        for key, what in keys:
            grid.add_row(Text(key), Text(what))
    return grid


class HelpScreen(Back):
    BINDINGS: ClassVar[list[BindingType]] = [*BACK, Binding("question_mark", "back", show=False),
                                             Binding("f1", "back", show=False)]

    def compose(self) -> ComposeResult:
        yield Label(Text("sipdiag ui: keys", style="bold"))
        with VerticalScroll():
            yield Static(help_text(), id="help")
        yield Footer()


class ExplainScreen(Back):
    """What the catalog says of a code or a rule (``ui.explain``)."""

    def __init__(self, title: str, text: Text) -> None:
        super().__init__()
        self.heading, self.text = title, text

    def compose(self) -> ComposeResult:
        yield Label(Text(self.heading, style="bold"))
        with VerticalScroll():
            yield Static(self.text, id="explanation")
        yield Footer()


class Prompt(ModalScreen[str | None]):
    """One line to type: Enter gives it, Esc gives None."""

    DEFAULT_CSS = """
    Prompt { align: center middle; }
    Prompt > Vertical { width: 80%; height: auto; border: round $accent; padding: 0 1;
                        background: $surface; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question, self.value, self.placeholder = question, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.question))
            yield Input(self.value, placeholder=self.placeholder, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MessageScreen(Back):
    """One SIP message as it was captured, read again from the capture (in a worker): ``n``
    and ``p`` go to the next and previous message of the call."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *BACK,
        Binding("n", "step(1)", "Next"), Binding("right", "step(1)", show=False),
        Binding("p", "step(-1)", "Previous"), Binding("left", "step(-1)", show=False),
    ]

    def __init__(self, call_id: str, arrows: Sequence[Arrow], index: int) -> None:
        super().__init__()
        self.call_id, self.arrows, self.index = call_id, list(arrows), index
        self.messages: dict[int, RawMessage] | None = None

    def compose(self) -> ComposeResult:
        yield Label(Text(""), id="where")
        with VerticalScroll():
            yield Static(Text("reading the capture…", style="italic"), id="raw")
        yield Footer()

    def on_mount(self) -> None:
        cached = self.sipdiag.raw_cache.get(self.call_id)
        if cached is not None:
            self._show(cached)
            return
        self.run_worker(partial(read_call, self.sipdiag.paths, self.call_id,
                                self.sipdiag.capture.decryption), thread=True,
                        name="raw", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "raw":
            return
        if event.state is WorkerState.SUCCESS:
            messages: dict[int, RawMessage] = event.worker.result or {}
            self.sipdiag.raw_cache[self.call_id] = messages
            self._show(messages)
        elif event.state is WorkerState.ERROR:
            error = event.worker.error
            self.query_one("#raw", Static).update(Text(f"cannot read the capture: {error}",
                                                       style="red"))

    def _show(self, messages: dict[int, RawMessage]) -> None:
        self.messages = messages
        self._draw()

    def _draw(self) -> None:
        arrow = self.arrows[self.index]
        where = f"{self.call_id}: message {self.index + 1} of {len(self.arrows)}"
        self.query_one("#where", Label).update(Text(where, style="bold"))
        if self.messages is None:
            return
        found = self.messages.get(arrow.frame)
        text = message_text(found, self.sipdiag.first_ts_ns) if found is not None else Text(
            f"frame {arrow.frame}: no message of this call there", style="red")
        self.query_one("#raw", Static).update(text)
        self.query_one(VerticalScroll).scroll_home(animate=False)

    def action_step(self, step: int) -> None:
        index = self.index + step
        if 0 <= index < len(self.arrows):
            self.index = index
            self._draw()
