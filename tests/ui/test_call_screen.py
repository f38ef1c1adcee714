"""A call opened from the list: its findings, its ladder, a message as captured, the catalog's
explanation of its final status, the linked calls and the help screen.

Expected values from the captures (tshark) and the RFCs: bye-481.pcap is a call answered 200
whose BYE (frames 11, 12, through a proxy) is answered 481 (frames 13, 14): D101, a BYE
answered 481 (RFC 3261 15.1.2); its frame 1 is the INVITE ``INVITE sip:bob@127.0.0.1:5060
SIP/2.0``.
"""

from __future__ import annotations

import asyncio

from textual.widgets import OptionList, TabbedContent

from sipdiag.ui.call_screen import CallScreen
from sipdiag.ui.screens import ExplainScreen, HelpScreen, MessageScreen, Prompt
from tests.conftest import SAMPLES
from tests.ui.helpers import screen_text, settled, started

BYE_481 = SAMPLES / "calls" / "bye-481.pcap"


def test_enter_opens_the_call_with_its_finding_d101() -> None:
    async def scenario() -> None:
        async with started([BYE_481]) as (app, pilot):
            await pilot.press("enter")
            assert isinstance(app.screen, CallScreen)
            assert app.screen.result.call_id == "bye-481-1@127.0.0.1"
            await pilot.press("2")
            assert app.screen.query_one(TabbedContent).active == "tab-findings"
            shown = screen_text(app)
            assert "WARNING D101 bye-answered-481" in shown
            assert "The BYE in frame 11" in shown  # what happened, with its frame
            assert "11 BYE +3.221 s" in shown      # the evidence: frame 11, 3.221 s in
            await pilot.press("q")
            assert app.screen is app.list_screen

    asyncio.run(scenario())


def test_the_ladder_has_a_row_per_message_between_the_three_addresses() -> None:
    async def scenario() -> None:
        async with started([BYE_481]) as (app, pilot):
            await pilot.press("enter")
            ladder = app.screen.query_one("#ladder", OptionList)
            assert ladder.option_count == 14  # the 14 SIP messages of the capture
            shown = screen_text(app)
            for endpoint in ("127.0.0.1:5080", "127.0.0.1:5060", "127.0.0.1:5070"):
                assert endpoint in shown
            assert "◀ 481 Call/Transaction Does N" in shown

    asyncio.run(scenario())


def test_the_raw_view_shows_the_invite_as_captured() -> None:
    async def scenario() -> None:
        async with started([BYE_481]) as (app, pilot):
            await pilot.press("enter", "enter")  # the call, then its first message
            await settled(app, pilot)
            assert isinstance(app.screen, MessageScreen)
            shown = screen_text(app)
            assert "INVITE sip:bob@127.0.0.1:5060 SIP/2.0" in shown
            assert "frame 1 " in shown
            assert "Call-ID: bye-481-1@127.0.0.1" in shown
            await pilot.press("n")  # frame 2: the proxy's 100 Trying to the caller
            assert "SIP/2.0 100 " in screen_text(app)
            await pilot.press("p", "q")
            assert isinstance(app.screen, CallScreen)

    asyncio.run(scenario())


def test_f6_on_the_chosen_row_shows_that_message() -> None:
    async def scenario() -> None:
        async with started([BYE_481]) as (app, pilot):
            await pilot.press("enter", *["down"] * 12, "f6")  # the 13th row: frame 13
            await settled(app, pilot)
            shown = screen_text(app)
            assert "frame 13 " in shown
            assert "SIP/2.0 481 Call/Transaction Does Not Exist" in shown
            assert "CSeq: 2 BYE" in shown

    asyncio.run(scenario())


def test_x_explains_the_final_status_and_e_a_code() -> None:
    async def scenario() -> None:
        async with started([SAMPLES / "calls" / "busy.pcap"]) as (app, pilot):
            await pilot.press("x")
            assert isinstance(app.screen, ExplainScreen)
            assert "486 Busy Here" in screen_text(app)
            await pilot.press("q", "e")
            assert isinstance(app.screen, Prompt)
            await pilot.press(*"302 481", "enter")
            shown = screen_text(app)
            assert "302 Moved Temporarily" in shown and "481 Call/Transaction Does Not " \
                "Exist" in shown

    asyncio.run(scenario())


def test_the_explanation_follows_the_language() -> None:
    async def scenario() -> None:
        async with started([SAMPLES / "calls" / "busy.pcap"], language="ja") as (app, pilot):
            await pilot.press("enter", "x")
            shown = screen_text(app)
            assert "486 Busy Here" in shown
            meaning = app.catalog.responses[486].text.meaning.get("ja")
            assert meaning[:10] in shown.replace("\n", "")

    asyncio.run(scenario())


def test_help_lists_the_keys() -> None:
    async def scenario() -> None:
        async with started([SAMPLES / "calls" / "busy.pcap"]) as (app, pilot):
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            shown = screen_text(app)
            assert "/  F3  F7" in shown and "F2  w" in shown and "Enter  F6  R" in shown
            await pilot.press("escape")
            assert app.screen is app.list_screen

    asyncio.run(scenario())
