"""The UI's screens as a person sees them at 120x40, kept as text under tests/snapshots/ui/.

Each snapshot is every row of the screen (Textual's own rendering, headless), trailing spaces
cut. After an intended change, ``SIPDIAG_UPDATE_GOLDEN=1 python3 -m pytest
tests/ui/test_snapshots.py`` rewrites them; read them (``git diff tests/snapshots/ui``) before
committing. The run is in the project root with relative paths, so no snapshot holds a path of
the machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tests.conftest import ROOT
from tests.ui.helpers import check_screen, screen_text, settled, started

CALLS = ["samples/calls/auth-challenge.pcap", "samples/calls/busy.pcap",
         "samples/calls/bye-481.pcap", "samples/calls/cancelled-call.pcap",
         "samples/calls/options-keepalive.pcap"]
SCREENS = {
    # snapshot: (captures, keys pressed once the capture is read)
    "list": (CALLS, ()),
    "list-failed": (CALLS, ("slash", *"failed", "enter")),
    "call-ladder": (["samples/calls/bye-481.pcap"], ("enter",)),
    "call-findings": (["samples/calls/bye-481.pcap"], ("enter", "2")),
    "message": (["samples/calls/bye-481.pcap"], ("enter", "down", "down", "enter")),
    "explain-481": (["samples/calls/bye-481.pcap"], ("e", *"481", "enter")),
    "help": (["samples/calls/busy.pcap"], ("question_mark",)),
}


@pytest.mark.parametrize("name", SCREENS)
def test_screen(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    captures, keys = SCREENS[name]

    async def scenario(keys: Sequence[str]) -> str:
        async with started(captures) as (app, pilot):
            await pilot.press(*keys)
            await settled(app, pilot)
            return screen_text(app)

    check_screen(f"{name}.120x40.txt", asyncio.run(scenario(keys)))
