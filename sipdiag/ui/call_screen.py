"""A call (or exchange) opened from the list: its facts, then four tabs: the ladder (a row
per message; Enter opens the message as captured), the findings (what happened, why it
matters, the usual causes, the fix, the evidence with its frames), the media table and the
linked calls (Enter opens one). Everything from the capture is escaped and drawn as ``Text``.
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from sipdiag.analysis import CallResult, Result
from sipdiag.dialogs.ladder import Arrow
from sipdiag.report.call_list import (
    LINK_COLUMNS,
    headings,
    link_cells,
    seconds,
    status,
    user,
)
from sipdiag.report.escape import for_terminal
from sipdiag.report.findings import finding_rows, finding_title
from sipdiag.report.media import STREAM_COLUMNS, dtmf_text, state_text, stream_cells
from sipdiag.rules.catalog import Catalog
from sipdiag.ui.ladder import is_message, ladder_rows
from sipdiag.ui.screens import BACK, Back, MessageScreen
from sipdiag.ui.table import SEVERITY_STYLES

TABS = ("ladder", "findings", "media", "links")


class CallScreen(Back):
    BINDINGS: ClassVar[list[BindingType]] = [
        *BACK,
        *(Binding(str(n), f"tab('{name}')", name.title(), show=False)
          for n, name in enumerate(TABS, 1)),
        Binding("f6", "raw", "Message"), Binding("R", "raw", show=False),
        Binding("x", "explain_status", "Explain status"),
    ]

    def __init__(self, result: Result) -> None:
        super().__init__()
        self.result = result
        self.arrows: list[Arrow] = []

    def compose(self) -> ComposeResult:
        app = self.sipdiag
        catalog, language = app.catalog, app.language
        yield Static(facts(self.result, catalog, language), id="facts")
        width = max(60, app.size.width - 4)
        heading, rows = ladder_rows(self.result, catalog, app.first_ts_ns, width, language)
        self.arrows = [arrow for arrow, _ in rows]
        with TabbedContent(initial="tab-ladder"):
            with TabPane("1 Ladder", id="tab-ladder"):
                yield Static(heading, id="lanes")
                yield OptionList(*(Option(text) for _, text in rows), id="ladder")
            count = len(self.result.findings)
            with TabPane(f"2 Findings ({count})", id="tab-findings"), VerticalScroll():
                yield Static(findings(self.result, catalog, app.first_ts_ns, language),
                             id="findings")
            with TabPane("3 Media", id="tab-media"), VerticalScroll():
                yield Static(media(self.result, catalog, language), id="media")
            links = getattr(self.result, "links", ())
            with TabPane(f"4 Linked calls ({len(links)})", id="tab-links"):
                yield Static(Text(for_terminal("  ".join(headings(catalog, LINK_COLUMNS,
                                                                   language))), style="bold"))
                yield OptionList(*(Option(Text(for_terminal("  ".join(
                    link_cells(link, catalog, language)))), id=str(n))
                    for n, link in enumerate(links)), id="links")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ladder", OptionList).focus()

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{name}"
        target = {"ladder": "#ladder", "links": "#links"}.get(name)
        if target:
            self.query_one(target, OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "ladder":
            self._open_message(event.option_index)
        elif event.option_list.id == "links" and isinstance(self.result, CallResult):
            self.sipdiag.open_call_id(self.result.links[event.option_index].other)

    def action_raw(self) -> None:
        highlighted = self.query_one("#ladder", OptionList).highlighted
        if highlighted is not None:
            self._open_message(highlighted)

    def _open_message(self, index: int) -> None:
        chosen = self.arrows[index]
        if not is_message(chosen):
            self.notify("a media row: no SIP message to show", markup=False)
            return
        messages = [arrow for arrow in self.arrows if is_message(arrow)]
        self.app.push_screen(MessageScreen(self.result.call_id, messages,
                                           messages.index(chosen)))

    def action_explain_status(self) -> None:
        self.sipdiag.explain_status(self.result)


def facts(result: Result, catalog: Catalog, language: str) -> RenderableType:
    """Who called whom, how it ended, and when: a few labelled lines."""
    label = partial(catalog.label, language=language)
    final = status(result.final_status)
    if result.reason:
        final = f"{final} {result.reason}"
    rows = [(label("col_call_id"), result.call_id),
            (label("col_from"), user(result.caller)), (label("col_to"), user(result.callee)),
            (label("col_outcome"), result.outcome), (label("col_final"), final)]
    if isinstance(result, CallResult):
        timings = result.timings
        rows += [(label("col_media"), state_text(catalog, result.media, language)),
                 ("PDD / answer / talk",
                  f"{seconds(timings.post_dial_delay)} / {seconds(timings.time_to_answer)} / "
                  f"{seconds(timings.talk_time)} s"),
                 (label("col_legs"), str(len(result.legs))),
                 (label("col_retr"), str(result.retransmission_count))]
    else:
        rows += [(label("col_method"), result.method),
                 (label("col_transactions"), str(result.transaction_count))]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(ratio=1)
    for name, value in rows:
        grid.add_row(Text(name), Text(for_terminal(value)))
    return grid


def findings(result: Result, catalog: Catalog, first_ts_ns: int,
             language: str) -> RenderableType:
    """Each finding, most severe first: its title, then what happened, why, the causes, the
    fix and the evidence with its frames."""
    if not result.findings:
        return Text(catalog.label("check_no_finding", language), style="italic")
    parts: list[RenderableType] = []
    for finding in result.findings:
        title = for_terminal(finding_title(finding, catalog, language))
        parts.append(Text(title, style=f"bold {SEVERITY_STYLES[finding.severity]}"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        for name, text in finding_rows(finding, catalog, first_ts_ns, language):
            grid.add_row(Text(""), Text(name), Text(for_terminal(text), overflow="fold"))
        parts += [grid, Text("")]
    return Group(*parts)


def media(result: Result, catalog: Catalog, language: str) -> RenderableType:
    """The media table: a row per stream (direction, hop, addresses, codec, packets, loss,
    jitter, gap, MOS), and the telephone events."""
    call_media = result.media if isinstance(result, CallResult) else None
    state = Text(state_text(catalog, call_media, language), style="bold")
    if call_media is None or not call_media.streams:
        return state
    table = Table(box=None, padding=(0, 1))
    for heading in headings(catalog, STREAM_COLUMNS, language):
        table.add_column(Text(heading), no_wrap=True)
    for item in call_media.streams:
        table.add_row(*(Text(for_terminal(cell)) for cell in stream_cells(catalog, item,
                                                                         language)))
    parts: list[RenderableType] = [state, table]
    digits = dtmf_text(catalog, call_media, language)
    if digits:
        parts.append(Text(for_terminal(digits)))
    return Group(*parts)
