"""``sipdiag ui --tls-keylog``: SIP over TLS in the UI, as the analysis reads it (the calls of
samples/tls/tls13-call.pcap, by the recorder's truth.json), a message shown again decrypted,
and a call exported as a capture that decrypts by itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sipdiag.analysis import MessageReader
from sipdiag.analysis.decryption import decrypt
from sipdiag.ui.screens import MessageScreen
from tests.conftest import SAMPLES
from tests.ui.helpers import list_rows, screen_text, settled, started
from tests.ui.test_export import export_to

CAPTURE, KEYLOG = SAMPLES / "tls" / "tls13-call.pcap", SAMPLES / "tls" / "tls13-call.keylog"
TRUTH = json.loads((SAMPLES / "tls" / "truth.json").read_text())["tls13-call.pcap"]
MESSAGES = [m for c in TRUTH["connections"] for m in c["messages"]]


def test_the_calls_over_tls_are_listed_shown_and_exported(tmp_path: Path) -> None:
    target = tmp_path / "call.pcapng"
    first = MESSAGES[0]

    async def scenario() -> None:
        async with started([CAPTURE], decryption=decrypt(CAPTURE, KEYLOG)) as (app, pilot):
            assert sorted(c for c, _, _ in list_rows(app)) == sorted(
                {m["call_id"] for m in MESSAGES})
            row = [c for c, _, _ in list_rows(app)].index(first["call_id"])
            await pilot.press(*["down"] * row, "enter", "enter")  # the call, its first message
            await settled(app, pilot)
            assert isinstance(app.screen, MessageScreen)
            assert first["first_line"] in screen_text(app)
            await pilot.press("q", "q", "space")
            await export_to(app, pilot, target)

    asyncio.run(scenario())
    call_ids = {m.call_id for m in MessageReader(target, decryption=decrypt(target, None))}
    assert call_ids == {first["call_id"]}
