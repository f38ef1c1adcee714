"""Every outcome of a call and of an exchange, and who ended the call, pinned down branch by
branch with flows whose expected outcome follows from RFC 3261 (and RFC 3326, RFC 4028).

Times: T1 is 500 ms, so a client transaction gives up after 64*T1 = 32 s (Timer B for an
INVITE, Timer F for any other request, section 17.1), and a UAS that retransmits its 2xx for
64*T1 without an ACK ends the session (section 13.3.1.4). ``read(flow, end=...)`` says when the
capture ends, in seconds from the flow's first message.
"""

from __future__ import annotations

import pytest

from sipdiag.dialogs.calls import Exchange
from sipdiag.network import Endpoint
from sipdiag.rules import Engine, load_engine
from sipdiag.sip.message import SipMessage
from tests.flows import Flow, answered, call_of, read

PROXY = Endpoint("203.0.113.5", 5060)
TIMER_B = 64 * 0.5
"""64*T1 seconds, from RFC 3261 (not from sipdiag)."""


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine()


def outcome(flow: Flow, end: float | None = None) -> tuple[str, str]:
    call = call_of(flow, end)
    return call.outcome, call.ended_by


def failed_with(status: int) -> Flow:
    """An INVITE answered with one final response, ACKed (section 17.1.1.3)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 100, at=0.01)
    flow.ack(flow.response(invite, status, at=0.5), at=0.51)
    return flow


def hung_up(flow: Flow, *, by_caller: bool, at: float = 5.0, headers: tuple[str, ...] = (),
            status: int = 200) -> SipMessage:
    bye = flow.request("BYE", at=at, in_dialog=True, reverse=not by_caller, headers=headers)
    flow.response(bye, status, at=at + 0.01)
    return bye


# --- answered calls: completed, answered, dropped -------------------------------------------


@pytest.mark.parametrize(("by_caller", "ended_by"), [(True, "caller"), (False, "callee")])
def test_bye_after_the_answer_completes_the_call_ended_by_its_sender(
    by_caller: bool, ended_by: str
) -> None:
    flow = Flow()
    answered(flow)
    hung_up(flow, by_caller=by_caller)
    assert outcome(flow) == ("completed", ended_by)


def test_answered_call_without_bye_is_answered_and_ended_by_nobody() -> None:
    flow = Flow()
    answered(flow)
    assert outcome(flow, end=600) == ("answered", "")


@pytest.mark.parametrize(("last", "expected"), [(TIMER_B - 4.0, "dropped"),
                                                (TIMER_B - 4.001, "answered")])
def test_2xx_resent_until_64_t1_drops_the_call(last: float, expected: str) -> None:
    """The UAS resends its unacknowledged 2xx, T1 doubling up to T2 (section 13.3.1.4): copies
    still going out within T2 of 64*T1 show it never got the ACK; copies that stop sooner, an
    ACK the capture did not hold."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    ok = flow.response(invite, 200, at=1.0)
    for offset in (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, last):
        flow.copy(ok, at=1.0 + offset)
    assert call_of(flow, end=40).outcome == expected


def test_2xx_sent_once_with_no_ack_captured_is_answered() -> None:
    """No ACK in the capture and no copy of the 2xx for a minute: the UAS got its ACK out of
    the capture's sight (section 13.2.2.4: it need not pass where the 2xx did)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 200, at=1.0)
    assert call_of(flow, end=61).outcome == "answered"


def test_bye_after_a_2xx_never_acked_is_a_drop() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 200, at=1.0)
    hung_up(flow, by_caller=False, at=1.0 + TIMER_B)  # the UAS gives up (13.3.1.4)
    assert outcome(flow) == ("dropped", "callee")


def test_bye_answered_481_is_a_drop_ended_by_the_bye_sender() -> None:
    flow = Flow()
    answered(flow)
    hung_up(flow, by_caller=False, status=481)
    assert outcome(flow) == ("dropped", "callee")


@pytest.mark.parametrize(("end", "expected"), [(5.0 + TIMER_B, ("dropped", "caller")),
                                               (5.0 + TIMER_B - 0.001, ("answered", ""))])
def test_bye_never_answered_is_a_drop_from_exactly_64_t1(
    end: float, expected: tuple[str, str]
) -> None:
    """Before Timer F runs out the BYE is only not answered yet: the call is not over for
    sure (completed needs the BYE accepted), nor dropped."""
    flow = Flow()
    answered(flow)
    flow.request("BYE", at=5.0, in_dialog=True)  # sent once: Timer F alone decides
    assert outcome(flow, end=end) == expected


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Q.850;cause=16", "completed"),  # normal call clearing
        ("Q.850;cause=31", "completed"),  # normal, unspecified
        ('Q.850;cause=41;text="Temporary failure"', "dropped"),
        ("Q.850;cause=17", "dropped"),  # user busy: not a hang-up of an answered call
        ("SIP;cause=200", "completed"),  # RFC 3326: the SIP status that ended it
        ("SIP;cause=300", "dropped"),
        ("SIP;cause=503", "dropped"),
    ],
)
def test_reason_of_the_bye_says_whether_the_call_dropped(reason: str, expected: str) -> None:
    flow = Flow()
    answered(flow)
    hung_up(flow, by_caller=True, headers=(f"Reason: {reason}",))
    assert outcome(flow) == (expected, "caller")


@pytest.mark.parametrize(
    ("interval", "bye_after", "expected"),
    [
        # RFC 4028 section 10: the BYE comes min(32, interval/3) seconds before expiry
        (90, 60.0, "dropped"),
        (90, 59.9, "completed"),
        (1800, 1768.0, "dropped"),
        (1800, 1767.0, "completed"),
    ],
)
def test_bye_as_the_session_interval_runs_out_is_a_drop(
    interval: int, bye_after: float, expected: str
) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, headers=(f"Session-Expires: {interval}",))
    ok = flow.response(invite, 200, at=1.0,
                       headers=(f"Session-Expires: {interval};refresher=uac",))
    flow.ack(ok, at=1.01)
    hung_up(flow, by_caller=False, at=1.0 + bye_after)
    assert outcome(flow) == (expected, "callee")


def test_a_refresh_restarts_the_session_interval() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    ok = flow.response(invite, 200, at=1.0, headers=("Session-Expires: 90;refresher=uac",))
    flow.ack(ok, at=1.01)
    update = flow.request("UPDATE", at=50, in_dialog=True)
    flow.response(update, 200, at=50.01, headers=("Session-Expires: 90;refresher=uac",))
    hung_up(flow, by_caller=True, at=100)  # 99 s after the 2xx, 50 s after the refresh
    assert outcome(flow) == ("completed", "caller")


# --- calls that were never answered ---------------------------------------------------------


def test_caller_cancel_answered_487_is_cancelled_by_the_caller() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    cancel = flow.request("CANCEL", at=3, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 200, at=3.01)
    flow.ack(flow.response(invite, 487, at=3.02), at=3.03)
    call = call_of(flow)
    assert (call.outcome, call.ended_by, call.final_status) == ("cancelled", "caller", 487)


def test_487_without_a_cancel_is_not_the_callers_doing() -> None:
    assert outcome(failed_with(487)) == ("rejected", "callee")


def test_487_after_a_cancel_on_another_hop_only_is_not_the_callers_doing() -> None:
    """The proxy cancelled its own branch (section 16.7 / Timer C); the caller sent no CANCEL."""
    flow = Flow()
    invite = flow.request("INVITE", at=0, dst=PROXY)
    flow.response(invite, 100, at=0.01)
    onward = flow.request("INVITE", at=0.02, src=PROXY, cseq=invite.cseq)
    flow.response(onward, 180, at=0.2)
    cancel = flow.request("CANCEL", at=3, src=PROXY, cseq=invite.cseq, branch=onward.branch)
    flow.response(cancel, 200, at=3.01)
    flow.ack(flow.response(onward, 487, at=3.02), at=3.03)
    flow.ack(flow.response(invite, 487, at=3.04), at=3.05)
    call = call_of(flow)
    assert call.transactions[1].cancel is not None  # the proxy's CANCEL is seen
    assert (call.outcome, call.ended_by) == ("rejected", "callee")


def test_cancel_crossed_by_a_busy_leaves_the_call_busy() -> None:
    """A CANCEL has no effect on an INVITE that already got its final response (9.1)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    busy = flow.response(invite, 486, at=3.0)
    cancel = flow.request("CANCEL", at=3.001, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 200, at=3.01)
    flow.ack(busy, at=3.02)
    assert outcome(flow) == ("busy", "callee")


def test_cancel_still_waiting_for_its_487_when_the_capture_ends_is_cancelled() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    cancel = flow.request("CANCEL", at=3, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 200, at=3.01)
    assert outcome(flow, end=5) == ("cancelled", "caller")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (486, "busy"),  # Busy Here
        (600, "busy"),  # Busy Everywhere
        (480, "no_answer"),  # Temporarily Unavailable
        (408, "no_answer"),  # Request Timeout
        (300, "redirected"),
        (302, "redirected"),
        (380, "redirected"),
        (399, "redirected"),
        (401, "auth_failed"),
        (407, "auth_failed"),
        (400, "rejected"),
        (403, "rejected"),  # Forbidden without a challenge first: not an authentication
        (404, "rejected"),
        (488, "rejected"),
        (500, "rejected"),
        (503, "rejected"),
        (603, "rejected"),
        (606, "rejected"),
    ],
)
def test_final_response_decides_the_outcome_and_the_callee_ended_it(
    status: int, expected: str
) -> None:
    call = call_of(failed_with(status))
    assert (call.outcome, call.ended_by, call.final_status) == (expected, "callee", status)


@pytest.mark.parametrize(
    ("challenge", "last", "expected"),
    [
        (401, 403, "auth_failed"),  # credentials refused (section 22.2)
        (407, 403, "auth_failed"),
        (407, 407, "auth_failed"),  # challenged again: the credentials did not do
        (401, 486, "busy"),  # authenticated, then the callee was busy
        (407, 404, "rejected"),
        (403, 403, "rejected"),  # no challenge ever came
        (404, 403, "rejected"),
    ],
)
def test_403_is_an_authentication_failure_only_after_a_challenge(
    challenge: int, last: int, expected: str
) -> None:
    flow = Flow()
    first = flow.request("INVITE", at=0)
    flow.ack(flow.response(first, challenge, at=0.05), at=0.06)
    again = flow.request("INVITE", at=0.1, headers=('Proxy-Authorization: Digest username="a"',))
    flow.ack(flow.response(again, last, at=0.15), at=0.16)
    call = call_of(flow)
    assert (call.outcome, call.ended_by, call.final_status) == (expected, "callee", last)


def test_outcome_is_the_callers_final_response_not_another_hops() -> None:
    """The proxy tried a callee that said 404, the caller heard 486 from the proxy (16.7)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0, dst=PROXY)
    onward = flow.request("INVITE", at=0.02, src=PROXY, cseq=invite.cseq)
    flow.ack(flow.response(invite, 486, at=0.3), at=0.31)
    flow.ack(flow.response(onward, 404, at=0.4), at=0.41)
    call = call_of(flow)
    assert (call.outcome, call.final_status) == ("busy", 486)


@pytest.mark.parametrize(("end", "expected"), [(TIMER_B, ("timeout", "timeout")),
                                               (TIMER_B - 0.001, ("in_progress", ""))])
def test_invite_without_final_response_times_out_at_exactly_64_t1(
    end: float, expected: tuple[str, str]
) -> None:
    """Without a provisional response (with one, Timer B no longer runs: test_timer_b)."""
    flow = Flow()
    flow.request("INVITE", at=0)
    assert outcome(flow, end=end) == expected


@pytest.mark.parametrize(
    ("copies", "trying", "expected"),
    [(6, False, "timeout"), (5, False, "in_progress"), (6, True, "in_progress")],
)
def test_invite_sent_six_times_without_any_response_is_a_timeout_before_64_t1(
    copies: int, trying: bool, expected: str
) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    if trying:
        flow.response(invite, 100, at=0.01)
    for at in (0.5, 1.5, 3.5, 7.5, 15.5)[: copies - 1]:  # T1, doubling (17.1.1.2)
        flow.copy(invite, at=at)
    assert call_of(flow, end=16).outcome == expected


def test_ringing_when_the_capture_ends_is_in_progress() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    assert outcome(flow, end=10) == ("in_progress", "")


def test_call_whose_invite_was_not_captured_is_incomplete() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    ok = flow.response(invite, 200, at=1.0)
    flow.ack(ok, at=1.01)
    hung_up(flow, by_caller=True)
    flow.messages.remove(invite)  # the capture started just after it
    assert outcome(flow) == ("incomplete", "")
    call = call_of(flow)
    assert (call.final_status, call.reason) == (200, "Reason")  # the 200 it was answered with


def test_call_seen_only_from_its_bye_is_incomplete() -> None:
    flow = Flow()
    hung_up(flow, by_caller=True, at=0)
    assert outcome(flow) == ("incomplete", "")


# --- redirects: followed only to the Contact ------------------------------------------------


def redirected_to(target: str, contact: str = "sip:bob@192.0.2.99") -> Flow:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    moved = flow.response(invite, 302, at=0.1, headers=(f"Contact: <{contact}>",))
    flow.ack(moved, at=0.11)
    flow.callee = Endpoint("192.0.2.99", 5060)
    retry = flow.request("INVITE", at=0.2, uri=target)
    flow.ack(flow.response(retry, 486, at=0.3), at=0.31)
    return flow


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("sip:bob@192.0.2.99", True),  # the Contact becomes the Request-URI (8.1.3.4)
        ("sip:carol@192.0.2.99", False),  # same host, another user: not the Contact
        ("sip:Bob@192.0.2.99", False),  # the user part is case-sensitive (19.1.4)
        ("sip:bob@192.0.2.98", False),
        ("sips:bob@192.0.2.99", False),
    ],
)
def test_redirect_is_followed_only_by_an_invite_to_its_contact(
    engine: Engine, target: str, followed: bool
) -> None:
    found = [f.rule.id for f in engine.evaluate(read(redirected_to(target)))]
    assert ("C103" in found) is followed


def test_redirect_followed_to_a_contact_host_in_other_case(engine: Engine) -> None:
    flow = redirected_to("sip:bob@gateway.example.com", contact="sip:bob@Gateway.Example.COM")
    assert "C103" in [f.rule.id for f in engine.evaluate(read(flow))]  # hosts: no case (19.1.4)


def test_redirect_not_followed_is_the_outcome_redirected(engine: Engine) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.ack(flow.response(invite, 302, at=0.1, headers=("Contact: <sip:bob@192.0.2.99>",)),
             at=0.11)
    assert outcome(flow) == ("redirected", "callee")
    assert [f.rule.id for f in engine.evaluate(read(flow))] == ["C104"]


# --- exchanges ------------------------------------------------------------------------------


def exchange_of(flow: Flow, end: float | None = None) -> Exchange:
    found = read(flow, end)
    assert isinstance(found, Exchange)
    return found


@pytest.mark.parametrize(
    ("method", "statuses", "expected"),
    [
        ("REGISTER", (200,), "ok"),
        ("SUBSCRIBE", (202,), "ok"),
        ("MESSAGE", (299,), "ok"),
        ("OPTIONS", (300,), "rejected"),  # a redirect is not a success
        ("OPTIONS", (404,), "rejected"),
        ("REGISTER", (403,), "rejected"),  # Forbidden, never challenged
        ("REGISTER", (423,), "rejected"),
        ("REGISTER", (503,), "rejected"),
        ("REGISTER", (401,), "auth_failed"),
        ("MESSAGE", (407,), "auth_failed"),
        ("REGISTER", (401, 403), "auth_failed"),  # credentials refused after the challenge
        ("REGISTER", (401, 401), "auth_failed"),
        ("REGISTER", (401, 200), "ok"),
        ("REGISTER", (401, 404), "rejected"),
        ("REGISTER", (403, 403), "rejected"),
    ],
)
def test_exchange_outcome_is_read_from_its_last_attempt(
    method: str, statuses: tuple[int, ...], expected: str
) -> None:
    flow = Flow()
    for n, status in enumerate(statuses):
        flow.response(flow.request(method, at=n * 0.2), status, at=n * 0.2 + 0.1)
    exchange = exchange_of(flow)
    assert (exchange.method, exchange.outcome, exchange.final_status) == (
        method, expected, statuses[-1]
    )


@pytest.mark.parametrize(("end", "expected"), [(TIMER_B, "timeout"),
                                               (TIMER_B - 0.001, "in_progress")])
def test_exchange_without_final_response_times_out_at_exactly_64_t1(
    end: float, expected: str
) -> None:
    flow = Flow()
    options = flow.request("OPTIONS", at=0)
    flow.response(options, 100, at=0.01)
    assert exchange_of(flow, end=end).outcome == expected


def test_exchange_whose_request_was_not_captured_is_incomplete() -> None:
    flow = Flow()
    register = flow.request("REGISTER", at=0)
    flow.response(register, 200, at=0.1)
    flow.messages.remove(register)
    assert exchange_of(flow).outcome == "incomplete"


def test_subscription_outcome_is_its_subscribe_not_the_notify_after_it() -> None:
    flow = Flow()
    flow.response(flow.request("SUBSCRIBE", at=0), 202, at=0.1)
    notify = flow.request("NOTIFY", at=0.2, reverse=True, in_dialog=True)
    flow.response(notify, 481, at=0.3)
    exchange = exchange_of(flow)
    assert (exchange.method, exchange.outcome, exchange.final_status) == ("SUBSCRIBE", "ok", 202)


def test_a_2xx_without_a_to_tag_answers_the_call_though_no_dialog_is_made() -> None:
    """The UAS forgot the To tag of its 200 (RFC 3261 8.2.6.2 requires it): no dialog can be
    named, yet the call was answered, not refused (P101 says why it cannot go on)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 200, at=1.0, to_tag="")
    call = call_of(flow, end=5.0)
    assert (call.outcome, call.final_status) == ("answered", 200)
