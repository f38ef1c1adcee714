"""Transactions, dialogs and calls, scenario by scenario, with flows written in tests.flows."""

from __future__ import annotations

import pytest

from sipdiag.dialogs.acks import AckEvidence, unacknowledged_answers
from sipdiag.dialogs.calls import LINGER_NS, RETRY_LINGER_NS, Call, Conversation, Exchange
from sipdiag.dialogs.correlate import Correlator, groups
from sipdiag.dialogs.tracker import CallTracker
from sipdiag.network import Endpoint
from tests.flows import Flow, answered, call_of, read

PROXY = Endpoint("203.0.113.5", 5060)


def test_completed_call() -> None:
    flow = Flow()
    answered(flow)
    bye = flow.request("BYE", at=5.0, in_dialog=True, reverse=True)
    flow.response(bye, 200, at=5.01)
    call = call_of(flow)
    assert (call.outcome, call.final_status, call.ended_by) == ("completed", 200, "callee")
    assert (call.timings.post_dial_delay, call.timings.time_to_answer) == (0.2, 1.0)
    assert call.timings.talk_time == 4.0 and call.timings.total == 5.01
    assert call.offer is not None and call.offer.sender == "caller" and call.offer.frame == 1
    assert call.answer is not None and call.answer.frame == 4
    assert call.caller == "sip:alice@example.com" and call.callee == "sip:bob@example.com"
    assert len(call.dialogs) == 1 and call.retransmission_count == 0


def test_answered_call_still_up_at_the_end() -> None:
    flow = Flow()
    answered(flow)
    call = call_of(flow, end=60)
    assert (call.outcome, call.ended_by) == ("answered", "")


def test_cancelled_call() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.1)
    cancel = flow.request("CANCEL", at=3, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 200, at=3.01, to_tag="")
    terminated = flow.response(invite, 487, at=3.02)
    flow.ack(terminated, at=3.03)
    call = call_of(flow)
    assert (call.outcome, call.final_status, call.ended_by) == ("cancelled", 487, "caller")
    assert call.transactions[0].cancel is call.transactions[1]
    assert len(call.transactions[0].acks) == 1  # the non-2xx ACK joins the INVITE (17.1.1.3)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (486, "busy"),
        (600, "busy"),
        (480, "no_answer"),
        (408, "no_answer"),
        (404, "rejected"),
        (603, "rejected"),
        (488, "rejected"),
        (503, "rejected"),
        (300, "redirected"),
        (302, "redirected"),
        (407, "auth_failed"),
        (487, "rejected"),  # terminated, but not by the caller: no CANCEL
    ],
)
def test_failures(status: int, outcome: str) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    final = flow.response(invite, status, at=0.5)
    ack = flow.ack(final, at=0.51)
    call = call_of(flow)
    assert (call.outcome, call.final_status) == (outcome, status)
    # the ACK of any 300-699 final response is part of the INVITE transaction (17.1.1.3)
    assert [t.acks for t in call.transactions] == [[ack]]


def test_challenge_then_success_is_one_successful_call() -> None:
    flow = Flow()
    first = flow.request("INVITE", at=0)
    challenge = flow.response(first, 407, at=0.05)
    flow.ack(challenge, at=0.06)
    answered(flow, at=0.1)
    call = call_of(flow, end=60)
    assert (call.outcome, call.final_status) == ("answered", 200)
    assert call.timings.time_to_answer == pytest.approx(1.1)


def test_credentials_refused_after_a_challenge() -> None:
    flow = Flow()
    first = flow.request("INVITE", at=0)
    flow.ack(flow.response(first, 401, at=0.05), at=0.06)
    second = flow.request("INVITE", at=0.1, headers=('Authorization: Digest username="a"',))
    flow.ack(flow.response(second, 403, at=0.15), at=0.16)
    assert call_of(flow).outcome == "auth_failed"


def test_redirect_followed_to_a_new_target() -> None:
    flow = Flow()
    first = flow.request("INVITE", at=0)
    moved = flow.response(first, 302, at=0.1, headers=("Contact: <sip:bob@192.0.2.99>",))
    flow.ack(moved, at=0.11)
    flow.callee = Endpoint("192.0.2.99", 5060)
    answered(flow, at=0.2)
    call = call_of(flow, end=60)
    assert call.outcome == "answered" and len(call.legs) == 2
    assert [leg.final_status for leg in call.legs] == [302, 200]


def test_invite_never_answered_times_out_with_its_retransmissions() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    for at in (0.5, 1.5, 3.5, 7.5, 15.5, 31.5):
        flow.copy(invite, at=at)
    call = call_of(flow, end=40)
    assert (call.outcome, call.ended_by) == ("timeout", "timeout")
    (schedule,) = call.retransmissions
    assert schedule.what == "INVITE" and schedule.times == (0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5)


def test_capture_ending_during_setup_is_in_progress() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    assert call_of(flow, end=5).outcome == "in_progress"


def test_capture_missing_the_start_is_incomplete() -> None:
    flow = Flow()
    bye = flow.request("BYE", at=0, in_dialog=True)
    flow.response(bye, 200, at=0.01)
    reinvite = flow.request("INVITE", at=1, in_dialog=True)
    flow.response(reinvite, 200, at=1.1)
    assert call_of(flow).outcome == "incomplete"


def test_2xx_never_acked_is_dropped_at_32_seconds() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    ok = flow.response(invite, 200, at=1.0)
    for at in (1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5):
        flow.copy(ok, at=at)
    bye = flow.request("BYE", at=33.0, in_dialog=True, reverse=True)
    flow.response(bye, 200, at=33.01)
    call = call_of(flow)
    assert (call.outcome, call.ended_by) == ("dropped", "callee")
    [dialog] = call.dialogs
    assert [f.first.frame for f in unacknowledged_answers(dialog)] == [ok.frame]
    assert (
        call.retransmissions[0].what == "200 INVITE" and len(call.retransmissions[0].frames) == 11
    )


@pytest.mark.parametrize(
    ("bye_headers", "bye_status"),
    [((), 481), (('Reason: Q.850;cause=41;text="Temporary failure"',), 200)],
)
def test_dropped_by_the_bye(bye_headers: tuple[str, ...], bye_status: int) -> None:
    flow = Flow()
    answered(flow)
    bye = flow.request("BYE", at=5, in_dialog=True, headers=bye_headers)
    flow.response(bye, bye_status, at=5.01)
    call = call_of(flow)
    assert (call.outcome, call.ended_by) == ("dropped", "caller")


def test_normal_reason_on_a_bye_is_not_a_drop() -> None:
    flow = Flow()
    answered(flow)
    bye = flow.request("BYE", at=5, in_dialog=True, headers=("Reason: Q.850;cause=16",))
    flow.response(bye, 200, at=5.01)
    assert call_of(flow).outcome == "completed"


def test_bye_never_answered() -> None:
    flow = Flow()
    answered(flow)
    bye = flow.request("BYE", at=5, in_dialog=True)
    for at in (5.5, 6.5, 8.5):
        flow.copy(bye, at=at)
    call = call_of(flow, end=40)
    assert call.outcome == "dropped"
    # not yet given up on, nor accepted (outcomes.yaml: completed is ended by a BYE accepted)
    assert call_of(flow, end=10).outcome == "answered"


def test_session_timer_ran_out() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, headers=("Session-Expires: 90",))
    ok = flow.response(invite, 200, at=1, headers=("Session-Expires: 90;refresher=uac",))
    flow.ack(ok, at=1.01)
    bye = flow.request("BYE", at=61, in_dialog=True, reverse=True)
    flow.response(bye, 200, at=61.01)
    assert call_of(flow).outcome == "dropped"


def test_session_refreshed_in_time_is_completed() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    ok = flow.response(invite, 200, at=1, headers=("Session-Expires: 90;refresher=uac",))
    flow.ack(ok, at=1.01)
    update = flow.request("UPDATE", at=45, in_dialog=True)
    flow.response(update, 200, at=45.1, headers=("Session-Expires: 90;refresher=uac",))
    bye = flow.request("BYE", at=100, in_dialog=True)
    flow.response(bye, 200, at=100.01)
    assert call_of(flow).outcome == "completed"


def test_forked_invite_makes_one_dialog_per_to_tag() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.1, to_tag="fork-a")
    flow.response(invite, 180, at=0.2, to_tag="fork-b")
    ok = flow.response(invite, 200, at=1, to_tag="fork-b")
    flow.callee_tag = "fork-b"
    flow.ack(ok, at=1.01)
    call = call_of(flow, end=60)
    assert call.outcome == "answered"
    assert [(d.callee_tag, d.state.value) for d in call.dialogs] == [
        ("fork-a", "early"),
        ("fork-b", "confirmed"),
    ]


def test_rfc2543_transactions_are_matched_without_the_magic_cookie() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, branch="old-branch-1")
    flow.response(invite, 180, at=0.1)
    busy = flow.response(invite, 486, at=1)
    flow.request("ACK", at=1.01, cseq=busy.cseq, in_dialog=True, branch="old-branch-1")
    call = call_of(flow)
    assert call.outcome == "busy" and len(call.transactions) == 1
    assert len(call.transactions[0].acks) == 1


def test_rfc2543_requests_with_other_from_tags_are_other_transactions() -> None:
    """Without the magic cookie the From tag tells transactions apart (17.2.3): the same
    branch, CSeq and sent-by with another From tag is another request, not a copy."""
    flow = Flow()
    first = flow.request("OPTIONS", at=0, cseq=1, branch="old-branch-1")
    flow.caller_tag = "other-tag"
    second = flow.request("OPTIONS", at=0.5, cseq=1, branch="old-branch-1")
    exchange = read(flow)
    assert [t.requests for t in exchange.transactions] == [[first], [second]]
    assert exchange.retransmissions == ()


def test_a_packet_captured_twice_is_not_a_retransmission() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.copy(invite, at=0.0002)
    flow.ack(flow.response(invite, 486, at=0.5), at=0.51)
    call = call_of(flow)
    assert call.retransmission_count == 0 and call.duplicates == 1


def test_call_through_a_proxy_has_two_legs_and_one_dialog() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, dst=PROXY)
    flow.response(invite, 100, at=0.01)
    onward = flow.request("INVITE", at=0.02, src=PROXY, cseq=invite.cseq)
    flow.response(onward, 180, at=0.2)
    flow.response(invite, 180, at=0.21)
    ok_onward = flow.response(onward, 200, at=1)
    ok = flow.response(invite, 200, at=1.01)
    flow.ack(ok, at=1.02)
    flow.ack(ok_onward, at=1.03)
    call = call_of(flow, end=60)
    assert call.outcome == "answered" and len(call.legs) == 2 and len(call.dialogs) == 1
    assert call.legs[0].dst == PROXY and call.legs[1].src == PROXY
    assert [leg.transport for leg in call.legs] == ["UDP", "UDP"]  # as the frames carried them
    assert call.timings.time_to_answer == pytest.approx(1.01)


def test_ack_lost_between_proxy_and_callee() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, dst=PROXY)
    onward = flow.request("INVITE", at=0.02, src=PROXY, cseq=invite.cseq)
    ok_onward = flow.response(onward, 200, at=1)
    ok = flow.response(invite, 200, at=1.01)
    flow.ack(ok, at=1.02)  # the caller ACKs, the proxy never passes it on
    for offset in (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5):
        flow.copy(ok_onward, at=1 + offset)  # the callee, never ACKed, sends its 2xx again
    call = call_of(flow, end=60)
    assert call.outcome == "dropped"
    [dialog] = call.dialogs
    [found] = unacknowledged_answers(dialog)
    assert found.first == ok_onward and found.evidence == (AckEvidence.RETRANSMITTED_PAST_ACK,)


@pytest.mark.parametrize(
    ("method", "status", "outcome"),
    [("REGISTER", 200, "ok"), ("OPTIONS", 404, "rejected"), ("REGISTER", 401, "auth_failed")],
)
def test_exchanges(method: str, status: int, outcome: str) -> None:
    flow = Flow()
    request = flow.request(method, at=0)
    flow.response(request, status, at=0.1)
    exchange = read(flow)
    assert isinstance(exchange, Exchange)
    assert (exchange.method, exchange.outcome, exchange.final_status) == (method, outcome, status)


def test_register_challenged_then_refused() -> None:
    flow = Flow()
    flow.response(flow.request("REGISTER", at=0), 401, at=0.1)
    flow.response(flow.request("REGISTER", at=0.2), 403, at=0.3)
    assert read(flow).outcome == "auth_failed"


def test_unanswered_options_is_a_timeout() -> None:
    flow = Flow()
    options = flow.request("OPTIONS", at=0)
    for at in (0.5, 1.5, 3.5, 7.5, 11.5, 15.5):
        flow.copy(options, at=at)
    exchange = read(flow, end=20)
    assert exchange.outcome == "timeout"


def finish_at(flow: Flow) -> int | None:
    conversation = Conversation(flow.call_id)
    for message in flow.messages:
        conversation.add(message)
    return conversation.finish_at()


def test_a_request_waiting_for_its_answer_keeps_the_call_open_until_timer_b() -> None:
    """An INVITE still unanswered may get its final response until Timer B (64*T1 = 32 s,
    RFC 3261 17.1.1.2) after it is sent; the linger for late copies comes after that."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    assert finish_at(flow) == invite.ts_ns + 64 * 500_000_000 + LINGER_NS


@pytest.mark.parametrize(
    ("status", "linger"),
    [(300, RETRY_LINGER_NS), (302, RETRY_LINGER_NS), (407, RETRY_LINGER_NS),
     (486, LINGER_NS), (603, LINGER_NS)],
)
def test_after_a_redirect_or_a_challenge_the_call_waits_for_its_next_attempt(
    status: int, linger: int
) -> None:
    """A 3xx (from 300 on, RFC 3261 21.3) or a 401/407 challenge is followed by a new INVITE
    with the same Call-ID (8.1.3.4, 22.2): the call stays open longer than after a failure."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    ack = flow.ack(flow.response(invite, status, at=0.5), at=0.51)
    assert finish_at(flow) == ack.ts_ns + linger


def test_tracker_hands_calls_on_and_keeps_memory_flat() -> None:
    tracker = CallTracker()
    finished, most_open = [], 0
    for n in range(200):
        flow = Flow(call_id=f"call-{n}@example.com")
        start = n * 10.0
        answered(flow, at=start)
        bye = flow.request("BYE", at=start + 5, in_dialog=True)
        flow.response(bye, 200, at=start + 5.01)
        finished.extend(tracker.add(flow.messages))
        most_open = max(most_open, tracker.open_count)
    assert most_open <= 5  # each call ends 32 s (LINGER) after its BYE: a few are open at once
    assert len(finished) > 190
    finished.extend(tracker.finish(0))
    assert sorted(c.call_id for c in finished) == sorted(
        f"call-{n}@example.com" for n in range(200)
    )
    assert {c.outcome for c in finished} == {"completed"}


def _hung_up(flow: Flow, at: float) -> None:
    answered(flow, at=at)
    bye = flow.request("BYE", at=at + 2, in_dialog=True, reverse=True)
    flow.response(bye, 200, at=at + 2.01)


def _calls_of(flow: Flow) -> list[Call | Exchange]:
    tracker = CallTracker()
    return [*tracker.add(flow.messages), *tracker.finish(flow.messages[-1].ts_ns)]


def test_a_call_template_replayed_with_its_call_id_is_a_call_each_time() -> None:
    """A generator replaying one call (same Call-ID, tags and branch) a second after the last
    was hung up: a new INVITE outside any dialog after the BYE was accepted is another call."""
    flow = Flow()
    for start in (0.0, 3.0, 6.0):
        _hung_up(flow, at=start)
    calls = _calls_of(flow)
    assert [(c.outcome, c.messages[0].frame) for c in calls] == [
        ("completed", 1), ("completed", 8), ("completed", 15)]


@pytest.mark.parametrize("refused", [486, 407, 302])
def test_a_new_invite_after_a_final_refusal_stays_in_the_call(refused: int) -> None:
    """After a challenge or a redirect the UA sends its new INVITE with the same Call-ID
    (RFC 3261 22.2, 8.1.3.4): one call, with the outcome of the last attempt."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.ack(flow.response(invite, refused, at=0.5), at=0.51)
    _hung_up(flow, at=1.0)
    calls = _calls_of(flow)
    assert [(c.outcome, c.messages[0].frame) for c in calls] == [("completed", 1)]


def test_a_new_invite_while_the_first_call_is_up_stays_in_it() -> None:
    """A second INVITE without To tag while the first dialog is up (no BYE yet) is no new
    call: it may be a forked or retried request of the same call."""
    flow = Flow()
    answered(flow, at=0.0)
    _hung_up(flow, at=1.5)
    assert len(_calls_of(flow)) == 1


def test_b2bua_legs_are_linked_by_their_headers() -> None:
    correlator = Correlator()
    legs = {}
    for call_id, headers in (
        (
            "leg-a",
            ("Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=" + "0" * 32,),
        ),
        ("leg-b", ("X-CID: leg-a", "Session-ID: ab30317f1a784dc48ff824d0d3715d86")),
        ("leg-c", ('P-Charging-Vector: icid-value="x1";orig-ioi=home',)),
        ("leg-d", ("P-Charging-Vector: icid-value=x1",)),
        ("leg-e", ()),
    ):
        flow = Flow(call_id=call_id)
        legs[call_id] = flow.request("INVITE", at=0, headers=headers)
        correlator.add(call_of(flow))
    links = correlator.links(set(legs))
    assert [(link.call_id, link.other, link.reason) for link in links] == [
        ("leg-b", "leg-a", "X-CID in frame 1"),  # found first; the Session-ID says the same
        ("leg-c", "leg-d", "same P-Charging-Vector icid-value x1"),
    ]
    assert groups(legs, links) == [["leg-a", "leg-b"], ["leg-c", "leg-d"], ["leg-e"]]


def test_a_call_the_capture_joined_midway_stays_open_while_its_dialog_is_up() -> None:
    """The INVITE came before the capture; an UPDATE inside the dialog is accepted (RFC 3311):
    the call is up, so it is not handed on after LINGER_NS, and its BYE 81 s later ends the
    same conversation."""
    flow = Flow()
    update = flow.request("UPDATE", at=0.0, in_dialog=True)
    flow.response(update, 200, at=0.01)
    assert finish_at(flow) is None
    bye = flow.request("BYE", at=81.0, in_dialog=True)
    flow.response(bye, 200, at=81.01)
    assert finish_at(flow) == flow.messages[-1].ts_ns + LINGER_NS


def test_a_subscription_joined_midway_is_handed_on_as_before() -> None:
    """A NOTIFY accepted inside a subscription's dialog shows no call: the usual linger."""
    flow = Flow()
    notify = flow.request("NOTIFY", at=0.0, in_dialog=True)
    ok = flow.response(notify, 200, at=0.01)
    assert finish_at(flow) == ok.ts_ns + LINGER_NS
