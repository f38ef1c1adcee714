"""Timer B runs only while an INVITE client transaction is Calling (RFC 3261 17.1.1.2): after
a provisional response it is Proceeding, and nothing but a final response (or a proxy's Timer
C, which sends 408) ends it. Non-INVITE requests time out with Timer F in either state."""

from __future__ import annotations

from tests.flows import Flow, call_of

TIMER_B = 32.0


def test_an_invite_that_rang_and_then_heard_nothing_is_still_ringing() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 183, at=0.3)
    call = call_of(flow, end=TIMER_B + 10)
    assert call.outcome == "in_progress"


def test_an_invite_with_no_response_at_all_times_out() -> None:
    flow = Flow()
    flow.request("INVITE", at=0.0)
    call = call_of(flow, end=TIMER_B + 10)
    assert call.outcome == "timeout"


def test_a_100_trying_is_a_provisional_response_too() -> None:
    """100 Trying moves the transaction to Proceeding as any 1xx does (17.1.1.2)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 100, at=0.01)
    assert call_of(flow, end=TIMER_B + 10).outcome == "in_progress"
