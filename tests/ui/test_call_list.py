"""The call list of ``sipdiag ui``: filled with exactly the calls and exchanges of the
captures, each with the outcome its messages give it; the filter, the sort and the marks.

Expected values come from the captures as tshark reads them (``tshark -r FILE -Y sip -T fields
-e frame.number -e sip.Method -e sip.Status-Code -e sip.Call-ID``) and from the RFCs, never from
sipdiag's output.
"""

from __future__ import annotations

import asyncio

from sipdiag.ui.table import CallTable
from tests.conftest import SAMPLES
from tests.ui.helpers import list_rows, screen_text, started

CALLS = SAMPLES / "calls"
EXPECTED = {
    # Call-ID: (outcome, final status), by the capture's messages
    # frame 5 486 to the INVITE, ACKed: the callee was busy (RFC 3261 21.4.24)
    "busy-1@127.0.0.1": ("busy", 486),
    # frames 7-8 CANCEL, 11 487 to the INVITE: cancelled by the caller (RFC 3261 9.1)
    "cancelled-call-1@127.0.0.1": ("cancelled", 487),
    # 200 to the INVITE, ACK, BYE answered 200: completed
    "basic-call-1@127.0.0.1": ("completed", 200),
    "ipv6-call-1@sipdiag.test": ("completed", 200),
    "tcp-call-1@127.0.0.1": ("completed", 200),
    "bc5c003469865c3c": ("completed", 200),
    # 407, then the INVITE with credentials answered 200, BYE 200: one call (its last attempt)
    "auth-challenge-1@127.0.0.1": ("completed", 200),
    # 302 followed by a new INVITE answered 200, then BYE 200
    "redirect-302-1@127.0.0.1": ("completed", 200),
    # answered 200, the BYE answered 481 (frames 13-14): the call dropped (RFC 3261 15.1.2)
    "bye-481-1@127.0.0.1": ("dropped", 200),
    # the 200 sent again and again (frames 4-14), never ACKed, then a BYE: dropped
    "no-ack-32s-1@127.0.0.1": ("dropped", 200),
}
EXCHANGES = {
    # OPTIONS answered 200 (ok), OPTIONS sent again and never answered (timeout, Timer F)
    "options-keepalive-ok-1@127.0.0.1": ("ok", 200),
    "options-keepalive-ok-2@127.0.0.1": ("ok", 200),
    "options-keepalive-ok-3@127.0.0.1": ("ok", 200),
    "options-keepalive-lost-1@127.0.0.1": ("timeout", 0),
    "options-keepalive-lost-2@127.0.0.1": ("timeout", 0),
    # REGISTER challenged 401, sent again with credentials, 200
    "register-1@127.0.0.1": ("ok", 200),
    "5d9604c32943c353": ("ok", 200),
}
FAILING = {
    # a failed outcome (dropped, timeout): what --failed keeps; busy and cancelled are the
    # users' doing, not failures of the service
    "bye-481-1@127.0.0.1", "no-ack-32s-1@127.0.0.1",
    "options-keepalive-lost-1@127.0.0.1", "options-keepalive-lost-2@127.0.0.1",
}


def captures() -> list[str]:
    return [str(p) for p in sorted(CALLS.glob("*.pcap"))]


def test_the_list_holds_every_call_and_exchange_with_its_outcome() -> None:
    async def scenario() -> None:
        async with started(captures()) as (app, _pilot):
            rows = list_rows(app)
            assert len(rows) == len(EXPECTED) + len(EXCHANGES)
            assert {call_id: (outcome, final) for call_id, outcome, final in rows} == {
                **EXPECTED, **EXCHANGES}
            shown = screen_text(app)
            assert "busy" in shown and "486" in shown and "cancelled" in shown
            assert app.feed.progress.done and app.feed.progress.error is None

    asyncio.run(scenario())


def test_one_capture_gives_its_one_call() -> None:
    async def scenario() -> None:
        async with started([CALLS / "busy.pcap"]) as (app, _pilot):
            assert list_rows(app) == [("busy-1@127.0.0.1", "busy", 486)]
            assert "read 8 frames, 1 calls, 0 exchanges | shown 1" in screen_text(app)

    asyncio.run(scenario())


def test_the_filter_failed_keeps_the_failing_ones_and_esc_clears_it() -> None:
    async def scenario() -> None:
        async with started(captures()) as (app, pilot):
            await pilot.press("slash", *"failed", "enter")
            assert {call_id for call_id, _, _ in list_rows(app)} == FAILING
            assert "filter: failed" in screen_text(app)
            assert isinstance(app.focused, CallTable)
            await pilot.press("escape")
            assert len(list_rows(app)) == len(EXPECTED) + len(EXCHANGES)

    asyncio.run(scenario())


def test_the_filter_finds_a_number_an_address_an_outcome_and_a_rule() -> None:
    async def scenario() -> None:
        async with started(captures()) as (app, pilot):
            table = app.table
            for query, expected in (
                ("busy", {"busy-1@127.0.0.1"}),            # the outcome (and its Call-ID)
                ("d101", {"bye-481-1@127.0.0.1"}),         # a rule id, any case
                ("blackhole", {"options-keepalive-lost-1@127.0.0.1",  # the user of To
                               "options-keepalive-lost-2@127.0.0.1"}),
                ("::1", {"ipv6-call-1@sipdiag.test"}),     # an address (the IPv6 loopback)
                ("486", {"busy-1@127.0.0.1"}),             # a final status
                ("failed 481", {"bye-481-1@127.0.0.1"}),   # every word must match
            ):
                table.filter(query)
                await pilot.pause()
                assert {call_id for call_id, _, _ in list_rows(app)} == expected, query

    asyncio.run(scenario())


def test_typing_in_the_filter_does_not_run_the_list_keys() -> None:
    async def scenario() -> None:
        async with started([CALLS / "busy.pcap"]) as (app, pilot):
            await pilot.press("slash", *"qwex?")
            assert app.screen is app.list_screen and app.is_running
            assert app.table.filter_text == "qwex?"

    asyncio.run(scenario())


def test_sort_by_a_column_and_reverse() -> None:
    async def scenario() -> None:
        async with started([CALLS / "options-keepalive.pcap"]) as (app, pilot):
            frames = [row.result.first_frame for row in app.table.visible_rows()]
            assert frames == sorted(frames)  # by frame first: the OPTIONS in frames 1, 3, 5 ...
            await pilot.press("r")
            assert [row.result.first_frame for row in app.table.visible_rows()] == frames[::-1]
            await pilot.press("r", "greater_than_sign")  # the next column: Start
            assert app.table.sort_column == "time"
            app.table.sort("finding", reverse=True)  # the worst finding first
            await pilot.pause()
            worst = [row.cells[7] for row in app.table.visible_rows()]
            assert worst[:2] == ["N105 warning"] * 2 and set(worst[2:]) == {"-"}

    asyncio.run(scenario())


def test_a_click_on_a_heading_sorts_by_it() -> None:
    async def scenario() -> None:
        async with started(captures()) as (app, pilot):
            x = next(i for i, c in enumerate(screen_text(app).splitlines()[1]) if
                     screen_text(app).splitlines()[1][i:].startswith("Final"))
            await pilot.click(CallTable, offset=(x, 0))
            assert app.table.sort_column == "final"
            finals = [row.result.final_status for row in app.table.visible_rows()]
            assert finals == sorted(finals)
            await pilot.click(CallTable, offset=(x, 0))
            assert app.table.reverse

    asyncio.run(scenario())


def test_space_marks_the_call_under_the_cursor() -> None:
    async def scenario() -> None:
        async with started(captures()) as (app, pilot):
            first = app.table.current
            assert first is not None
            await pilot.press("space")
            assert [r.result.call_id for r in app.table.marked_rows()] == [first.result.call_id]
            assert "marked 1" in screen_text(app)
            await pilot.press("up", "space")
            assert app.table.marked_rows() == []

    asyncio.run(scenario())
