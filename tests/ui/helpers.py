"""Driving ``sipdiag ui`` headless (Textual's pilot) in the tests of tests/ui/.

``started(paths)`` runs the app at a fixed size until the capture is read and its rows are in
the list; ``screen_text(app)`` is every row of the screen as the terminal would show it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from textual.pilot import Pilot

from sipdiag.network.tls import Decryption
from sipdiag.rules import Engine, load_engine
from sipdiag.ui.app import SipdiagApp
from sipdiag.ui.feed import CaptureFiles
from tests.report.screens import check_snapshot

SIZE = (120, 40)


@cache
def engine() -> Engine:
    """The built-in rules, loaded once per test process."""
    return load_engine()


@asynccontextmanager
async def started(paths: Sequence[str | Path], language: str = "en",
                  size: tuple[int, int] = SIZE, decryption: Decryption | None = None,
                  ) -> AsyncIterator[tuple[SipdiagApp, Pilot[int]]]:
    app = SipdiagApp(CaptureFiles([str(p) for p in paths], decryption), engine(), language)
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        yield app, pilot


async def loaded(app: SipdiagApp, pilot: Pilot[int]) -> None:
    """Wait for the analysis to end and its last rows to be added."""
    await app.workers.wait_for_complete()
    app.drain()
    await pilot.pause()


async def settled(app: SipdiagApp, pilot: Pilot[int]) -> None:
    """Wait for the workers a key started (a message read, an export) and the redraw."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def screen_text(app: SipdiagApp) -> str:
    """The screen's rows as text, trailing spaces cut."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips) + "\n"


def list_rows(app: SipdiagApp) -> list[tuple[str, str, int]]:
    """(Call-ID, outcome, final status) of each row the list shows, in its order."""
    return [(row.result.call_id, row.result.outcome, row.result.final_status)
            for row in app.table.visible_rows()]


def check_screen(name: str, actual: str) -> None:
    """Compare with tests/snapshots/ui/<name> (rewritten with SIPDIAG_UPDATE_GOLDEN=1)."""
    check_snapshot(f"ui/{name}", actual, written_by="tests/ui/test_snapshots.py")
