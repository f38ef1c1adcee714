"""``CallTracker.tick``: a live capture's clock moves on between packets, and a call whose
time is up ends then, as it would at the next message. A rejected call ends ``LINGER_NS``
(64*T1, 32 s) after its last message, the time in which retransmissions of its final response
and their ACKs may still arrive (RFC 3261 17.1.1.2), not before."""

from __future__ import annotations

from sipdiag.dialogs.calls import LINGER_NS
from sipdiag.dialogs.tracker import CallTracker
from tests.flows import T0, Flow


def rejected() -> Flow:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    busy = flow.response(invite, 486, at=0.1)
    flow.ack(busy, at=0.2)
    return flow


def test_a_tick_past_the_linger_time_ends_the_call() -> None:
    tracker = CallTracker()
    assert list(tracker.add(rejected().messages)) == []
    last = T0 + 200_000_000
    assert list(tracker.tick(last + LINGER_NS - 1)) == []
    [call] = list(tracker.tick(last + LINGER_NS))
    assert (call.call_id, call.final_status) == ("flow-1@example.com", 486)
    assert tracker.open_count == 0


def test_a_tick_back_in_time_changes_nothing() -> None:
    tracker = CallTracker()
    list(tracker.add(rejected().messages))
    assert list(tracker.tick(T0)) == []
    assert tracker.open_count == 1


def test_a_call_still_up_does_not_end_on_a_tick() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.ack(flow.response(invite, 200, at=0.1), at=0.2)
    tracker = CallTracker()
    list(tracker.add(flow.messages))
    assert list(tracker.tick(T0 + 3600 * 1_000_000_000)) == []  # a dialog up has no end in sight
    assert tracker.open_count == 1
