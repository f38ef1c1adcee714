"""ICMP destination unreachable errors given to the transactions whose requests they refused
(``CallTracker.unreachable``): an error quotes one datagram (RFC 792, RFC 4443 3.1), the last
one sent on its flow, and comes back within a round trip."""

from __future__ import annotations

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.dialogs.tracker import CallTracker
from sipdiag.dialogs.transactions import Transaction
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage
from tests.flows import CALLEE, CALLER, SDP_BODY, T0, Flow

ROUTER = "198.51.100.254"


def at(seconds: float) -> int:
    return T0 + round(seconds * 1e9)


def refuse(tracker: CallTracker, frame: int, seconds: float, quoted: SipMessage,
           reason: str = "port") -> None:
    tracker.unreachable(frame, at(seconds), quoted.dst.ip, quoted.src, quoted.dst, reason)


def finished(tracker: CallTracker, flow: Flow, end: float = 100.0) -> list[Call | Exchange]:
    done = list(tracker.add(flow.messages))
    return done + list(tracker.finish(at(end)))


def transaction(item: Call | Exchange, method: str) -> Transaction:
    [found] = [t for t in item.transactions if t.method == method]
    return found


def test_an_error_quoting_a_request_is_given_to_its_transaction() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    tracker = CallTracker()
    refuse(tracker, 100, 0.03, invite)
    [call] = finished(tracker, flow)
    assert [(r.frame, r.reason, r.src, r.dst) for r in transaction(call, "INVITE").refusals] == [
        (100, "port", CALLER, CALLEE)]


def test_an_error_before_the_tracker_saw_the_request_is_kept_for_it() -> None:
    """The decoder hands the error over as it reads its frame; the request of the same block
    reaches the tracker afterwards."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    tracker = CallTracker()
    refuse(tracker, 100, 0.03, invite)
    assert tracker.open_count == 0
    [call] = finished(tracker, flow)
    assert len(transaction(call, "INVITE").refusals) == 1


def test_an_error_more_than_a_second_after_the_request_quotes_something_else() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    tracker = CallTracker()
    refuse(tracker, 100, 1.01, invite)
    [call] = finished(tracker, flow)
    assert transaction(call, "INVITE").refusals == []


def test_an_error_on_another_flow_is_not_the_requests() -> None:
    flow = Flow()
    flow.request("INVITE", at=0.0, body=SDP_BODY)
    tracker = CallTracker()
    tracker.unreachable(100, at(0.03), CALLEE.ip, CALLER, Endpoint(CALLEE.ip, 5070), "port")
    [call] = finished(tracker, flow)
    assert transaction(call, "INVITE").refusals == []


def test_an_error_quoting_a_response_refuses_no_request() -> None:
    """The callee's 200 to the caller's BYE refused at the caller: the last datagram on that flow
    (callee to caller) was the response, not a request."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    ok = flow.response(invite, 200, at=1.0, body=SDP_BODY)
    flow.ack(ok, at=1.01)
    bye = flow.request("BYE", at=5.0, in_dialog=True)
    answer = flow.response(bye, 200, at=5.01)
    tracker = CallTracker()
    refuse(tracker, 100, 5.02, answer)
    [call] = finished(tracker, flow)
    assert all(t.refusals == [] for t in call.transactions)


def test_the_error_goes_to_the_last_request_sent_on_the_flow_before_it() -> None:
    """An INVITE at 0 s, its CANCEL at 0.2 s and the INVITE again at 0.5 s on the same flow; an
    error at 0.03 s quotes the INVITE, one at 0.25 s the CANCEL."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    cancel = flow.request("CANCEL", at=0.2, cseq=invite.cseq, branch=invite.branch)
    flow.copy(invite, at=0.5)
    tracker = CallTracker()
    refuse(tracker, 100, 0.03, invite)
    refuse(tracker, 101, 0.25, cancel)
    [call] = finished(tracker, flow)
    assert [r.frame for r in transaction(call, "INVITE").refusals] == [100]
    assert [r.frame for r in transaction(call, "CANCEL").refusals] == [101]


def test_an_exchange_gets_its_errors_too() -> None:
    flow = Flow(call_id="register-1@example.com")
    register = flow.request("REGISTER", at=0.0)
    tracker = CallTracker()
    tracker.unreachable(100, at(0.02), ROUTER, register.src, register.dst, "host")
    [exchange] = finished(tracker, flow)
    assert isinstance(exchange, Exchange)
    assert [(r.reporter, r.reason) for r in transaction(exchange, "REGISTER").refusals] == [
        (ROUTER, "host")]


def test_errors_older_than_every_open_conversation_are_forgotten() -> None:
    """Memory follows the calls in progress: an OPTIONS a second, each open for 64*T1 after its
    deadline (Timer F, then the time late answers may come in), and an error a second about a
    flow of none of them. Only the errors an open conversation could still have drawn are kept,
    about as many as there are open conversations, not all 1,000."""
    tracker = CallTracker()
    stranger = Endpoint("203.0.113.9", 5060)
    for second in range(1000):
        flow = Flow(call_id=f"options-{second}@example.com")
        flow.request("OPTIONS", at=float(second))
        list(tracker.add(flow.messages))
        tracker.unreachable(second, at(second + 0.5), ROUTER, stranger, CALLEE, "host")
    assert tracker.open_count < 100
    assert len(tracker._refusal_order) <= tracker.open_count + 2
