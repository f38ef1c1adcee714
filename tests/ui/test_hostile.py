"""Capture text is data, never markup: a Call-ID, a user and a header that look like rich
markup (``[bold]``, ``[/]``, ``[link=...]``) or hold escape sequences are shown as they are,
their control characters as ``\\xNN``, in the list, the call screen and the raw view."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sipdiag.ui.call_screen import CallScreen
from sipdiag.ui.screens import MessageScreen
from tests import packets
from tests.report.hostile import hostile_capture
from tests.ui.helpers import screen_text, settled, started

CALL_ID = "[bold]x[/bold]\x1b[31m@evil"
USER = "[red]1001[/red]"
AGENT = "Evil [link=http://evil.example]click[/link] \x1b]0;owned\x07"
T0 = 1_700_000_000_000_000_000


def markup_capture(path: Path) -> Path:
    """An INVITE answered 486, whose Call-ID, From user and User-Agent look like markup."""
    def hostile(message: bytes) -> bytes:
        return message.replace(b"From: Alice <sip:alice@example.com>",
                               f"From: \"[b]Mallory[/b]\" <sip:{USER}@evil.example>".encode())

    invite = hostile(packets.sip_request(call_id=CALL_ID, extra=[f"User-Agent: {AGENT}"]))
    busy = hostile(packets.sip_response(486, "Busy [blink]Here[/blink]", call_id=CALL_ID))
    ack = hostile(packets.sip_request("ACK", call_id=CALL_ID))
    sent = [("192.0.2.1", "192.0.2.2", invite), ("192.0.2.2", "192.0.2.1", busy),
            ("192.0.2.1", "192.0.2.2", ack)]
    path.write_bytes(packets.pcap([(T0 + i * 10_000_000, packets.udp4_frame(s, d, m))
                                   for i, (s, d, m) in enumerate(sent)]))
    return path


def test_markup_looking_text_is_shown_literally(tmp_path: Path) -> None:
    capture = markup_capture(tmp_path / "markup.pcap")

    async def scenario() -> None:
        async with started([capture], size=(160, 40)) as (app, pilot):
            shown = screen_text(app)
            assert "[bold]x[/bold]\\x1b[31m@evil" in shown   # the Call-ID, whole
            assert "[red]1001[/red]@" in shown   # the From user (cut to fit the column)
            await pilot.press("enter")
            assert isinstance(app.screen, CallScreen)
            shown = screen_text(app)
            assert "[bold]x[/bold]\\x1b[31m@evil" in shown
            assert "486 Busy [blink]Here[/blink]" in shown   # the reason phrase
            await pilot.press("enter")
            await settled(app, pilot)
            assert isinstance(app.screen, MessageScreen)
            shown = screen_text(app)
            assert f"From: \"[b]Mallory[/b]\" <sip:{USER}@evil.example>" in shown
            assert ("User-Agent: Evil [link=http://evil.example]click[/link] "
                    "\\x1b]0;owned\\x07") in shown
            assert "Call-ID: [bold]x[/bold]\\x1b[31m@evil" in shown

    asyncio.run(scenario())


def test_the_attackers_capture_of_the_report_tests(tmp_path: Path) -> None:
    capture = tmp_path / "hostile.pcap"
    capture.write_bytes(hostile_capture())

    async def scenario() -> None:
        async with started([capture], size=(200, 40)) as (app, pilot):
            shown = screen_text(app)
            assert "\x1b" not in shown and "\x07" not in shown
            assert "a|b`c`<b>d</b>*e*_f_[g](h)&amp;~i~\\x1b[2J\\x07" in shown
            await pilot.press("enter", "2")
            shown = screen_text(app)
            assert "Server <b>Error</b> | `boom` \\x07" in shown  # C109 quotes the reason

    asyncio.run(scenario())
