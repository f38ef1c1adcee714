"""``sipdiag ui``: the capture's calls in a terminal UI, as sngrep lists them, each with
sipdiag's diagnosis.

The analysis runs in a worker thread (``feed.Feed``: ``analyze_live`` over the capture files,
ladders kept for the call screen); its results are taken every ``BATCH_SECONDS`` and added to
the list at once. From the list: a call's screen (ladder, findings, media, links), the message
as captured, the catalog's explanation of a code, the help, and an export of the calls chosen
as a report file.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from textual.app import App
from textual.worker import Worker, WorkerState

from sipdiag.analysis import Result
from sipdiag.report.escape import for_terminal
from sipdiag.report.reporters import Settings
from sipdiag.report.terminal.explain import NotExplained
from sipdiag.rules import Engine
from sipdiag.ui.call_screen import CallScreen
from sipdiag.ui.explain import explained
from sipdiag.ui.export import ExportError, check_target, export
from sipdiag.ui.feed import BATCH_SECONDS, Capture, Feed
from sipdiag.ui.list_screen import CallListScreen
from sipdiag.ui.raw import RawMessage
from sipdiag.ui.screens import ExplainScreen, HelpScreen, Prompt
from sipdiag.ui.table import CallTable

RAW_CALLS_KEPT = 8
"""Calls whose messages the raw view keeps after reading them (the last ones opened)."""


class SipdiagApp(App[int]):
    TITLE = "sipdiag"

    def __init__(self, capture: Capture, engine: Engine, language: str = "en") -> None:
        super().__init__()
        self.capture = capture
        self.engine, self.catalog, self.language = engine, engine.catalog, language
        self.feed = Feed(capture, engine)
        self.raw_cache: OrderedDict[str, dict[int, RawMessage]] = _Lru(RAW_CALLS_KEPT)
        self.list_screen = CallListScreen(self)
        self.sub_title = capture.name
        self.exported: Path | None = None
        """The last file written by an export (tests wait for it)."""

    @property
    def paths(self) -> list[str | Path]:
        """The files that hold every frame read so far."""
        return self.capture.files()

    @property
    def first_ts_ns(self) -> int:
        return self.feed.progress.first_ts_ns or 0

    def on_mount(self) -> None:
        self.push_screen(self.list_screen)
        self.run_worker(self.feed.run, thread=True, name="analysis", exit_on_error=False)
        self.set_interval(BATCH_SECONDS, self.drain)

    def on_unmount(self) -> None:
        self.feed.stop()

    def drain(self) -> None:
        """Add the results that came since the last time, at once."""
        pending, updates = self.feed.take()
        table = self.list_screen.table
        if pending:
            table.add(pending)
        if updates:
            table.update(updates)
        self.list_screen.show_status()

    @property
    def table(self) -> CallTable:
        return self.list_screen.table

    # --- screens

    def open_call(self, result: Result) -> None:
        self.push_screen(CallScreen(result))

    def open_call_id(self, call_id: str) -> None:
        row = next((r for r in self.table.rows if r.result.call_id == call_id), None)
        if row is None:
            self.notify(f"{for_terminal(call_id)} is not in the capture", markup=False)
            return
        self.open_call(row.result)

    def show_help(self) -> None:
        self.push_screen(HelpScreen())

    def explain(self, items: Sequence[str]) -> None:
        try:
            text = explained(self.engine, items, self.size.width - 2, self.language)
        except NotExplained as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(ExplainScreen(f"sipdiag explain {' '.join(items)}", text))

    def explain_status(self, result: Result) -> None:
        if not result.final_status:
            self.notify("no final response: nothing to explain", markup=False)
            return
        self.explain([str(result.final_status)])

    def ask_explain(self) -> None:
        def answered(value: str | None) -> None:
            if value and value.strip():
                self.explain(value.replace(",", " ").split())

        self.push_screen(Prompt("Explain: a response code (481), two to compare (302 481), "
                                "a rule (D101), q850:N or warning:N", placeholder="481"),
                         answered)

    # --- export

    def ask_export(self, table: CallTable) -> None:
        marked = table.marked_rows()
        if marked:
            rows, what = marked, f"the {len(marked)} marked calls"
        else:
            rows = table.visible_rows()
            what = f"the {len(rows)} calls shown" if table.filter_text else "every call"
        call_ids = [row.result.call_id for row in rows] if (marked or table.filter_text) else None
        if call_ids == []:
            self.notify("no call to export", severity="warning", markup=False)
            return

        def answered(value: str | None) -> None:
            if value and value.strip():
                self.start_export(Path(value.strip()).expanduser(), call_ids)

        self.push_screen(Prompt(f"Export {what} to (.json, .md or .html):",
                                value="sipdiag-calls.json"), answered)

    def start_export(self, path: Path, call_ids: Sequence[str] | None) -> None:
        try:
            check_target(path)
        except ExportError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        settings = Settings(self.catalog, self.language)
        self.notify(f"writing {path}…", markup=False)
        self.run_worker(partial(export, self.paths, self.engine, settings, call_ids, path,
                                self.capture.decryption),
                        thread=True, name=f"export:{path}", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        name = event.worker.name
        if not name.startswith("export:"):
            return
        path = Path(name.removeprefix("export:"))
        if event.state is WorkerState.SUCCESS:
            self.exported = path
            self.notify(f"wrote {path}", markup=False)
        elif event.state is WorkerState.ERROR:
            self.notify(f"export failed: {event.worker.error}", severity="error", markup=False)


class _Lru(OrderedDict[str, dict[int, RawMessage]]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: str, value: dict[int, RawMessage]) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)

