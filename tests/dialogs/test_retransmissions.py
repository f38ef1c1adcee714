"""Retransmissions, forks and copies on other hops, counted exactly.

A retransmission is the same request or response sent again by the same transaction to the
same place (RFC 3261 section 17): a request sent three times is two retransmissions. Responses
with different To tags to one request are answers of different UASes behind a forking proxy
(sections 12.1 and 16.7), and reliable provisional responses with a new RSeq are new responses
(RFC 3262 section 3): neither is a retransmission. The same request forwarded by a proxy (its
own Via, another branch, section 16.6) or seen again between other addresses (a NAT) is the
message on another hop, not a retransmission; nor is one packet the capture saw twice.
"""

from __future__ import annotations

import pytest

from sipdiag.analysis.model import result_of
from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.dialogs.ladder import ladder_of
from sipdiag.dialogs.transactions import TransactionMatcher
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import parse_message
from tests.flows import CALLEE, T0, Flow, call_of, read

PROXY = Endpoint("203.0.113.5", 5060)
NAT = Endpoint("203.0.113.77", 5060)
"""The public address a NAT gives the caller: the caller's packets leave it unchanged."""
BALANCER = Endpoint("203.0.113.8", 5060)
"""A load balancer that relays requests without adding its Via."""


def seen_on(flow: Flow, message: SipMessage, *, src: Endpoint, dst: Endpoint,
            at: float) -> SipMessage:
    """The very bytes of ``message`` seen again between other addresses."""
    copy = parse_message(message.raw, len(flow.messages) + 1, T0 + round(at * 1e9), src, dst,
                         message.transport)
    flow.messages.append(copy)
    return copy


def copies(found: Call | Exchange) -> list[tuple[str, tuple[int, ...]]]:
    return [(r.what, r.frames) for r in found.retransmissions]


def test_request_sent_three_times_is_two_retransmissions() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    second = flow.copy(invite, at=0.5)
    third = flow.copy(invite, at=1.5)
    flow.response(invite, 180, at=1.6)
    call = call_of(flow, end=5)
    assert call.retransmission_count == 2
    [schedule] = call.retransmissions
    assert (schedule.what, schedule.frames) == ("INVITE", (invite.frame, second.frame,
                                                           third.frame))
    assert schedule.times == (0.0, 0.5, 1.5)  # T1, then 2*T1 after it (17.1.1.2)
    assert result_of(call, (), ladder=False).retransmission_count == 2


def test_request_sent_once_has_no_retransmission() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.1)
    call = call_of(flow, end=5)
    assert (call.retransmission_count, call.retransmissions) == (0, ())


def test_response_sent_three_times_is_two_retransmissions() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    ok = flow.response(invite, 200, at=1.0)
    again = flow.copy(ok, at=1.5)
    last = flow.copy(ok, at=2.5)
    flow.ack(ok, at=2.51)
    call = call_of(flow, end=10)
    assert copies(call) == [("200 INVITE", (ok.frame, again.frame, last.frame))]
    assert call.retransmission_count == 2


def test_forked_provisional_responses_are_not_retransmissions() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.1, to_tag="fork-a")
    flow.response(invite, 180, at=0.2, to_tag="fork-b")
    flow.response(invite, 183, at=0.3, to_tag="fork-c")
    call = call_of(flow, end=5)
    assert (call.retransmission_count, copies(call)) == (0, [])
    assert len(call.dialogs) == 3  # one early dialog per To tag (12.1)


def test_a_fork_repeating_its_own_provisional_response_is_one_retransmission() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    first = flow.response(invite, 180, at=0.1, to_tag="fork-a")
    flow.response(invite, 180, at=0.2, to_tag="fork-b")
    repeat = flow.copy(first, at=0.6)
    call = call_of(flow, end=5)
    assert copies(call) == [("180 INVITE", (first.frame, repeat.frame))]


def test_forked_2xx_responses_are_not_retransmissions() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    for n, tag in enumerate(("fork-a", "fork-b")):
        flow.callee_tag = tag
        flow.ack(flow.response(invite, 200, at=1 + n * 0.1, to_tag=tag), at=1.01 + n * 0.1)
    call = call_of(flow, end=5)
    assert call.retransmission_count == 0
    assert len(call.dialogs) == 2  # two confirmed dialogs (13.2.2.4)


def test_reliable_provisional_responses_with_a_new_rseq_are_not_retransmissions() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, headers=("Supported: 100rel",))
    first = flow.response(invite, 183, at=0.1, headers=("Require: 100rel", "RSeq: 1"))
    flow.response(invite, 183, at=0.3, headers=("Require: 100rel", "RSeq: 2"))
    again = flow.copy(first, at=0.6)  # RSeq 1 retransmitted until PRACKed (RFC 3262 3)
    call = call_of(flow, end=5)
    assert copies(call) == [("183 INVITE", (first.frame, again.frame))]


def test_request_forwarded_by_a_proxy_is_not_a_retransmission() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, dst=PROXY)
    onward = flow.request("INVITE", at=0.02, src=PROXY, cseq=invite.cseq)  # its own branch
    flow.response(onward, 180, at=0.2)
    flow.response(invite, 180, at=0.21)
    call = call_of(flow, end=5)
    assert (call.retransmission_count, len(call.legs)) == (0, 2)


def test_same_request_seen_between_other_addresses_is_a_copy_on_another_hop() -> None:
    """The caller's INVITE inside and outside a NAT: same bytes, same branch."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    outside = seen_on(flow, invite, src=NAT, dst=flow.callee, at=0.005)
    ringing = flow.response(outside, 180, at=0.2)
    seen_on(flow, ringing, src=flow.callee, dst=flow.caller, at=0.205)
    call = call_of(flow, end=5)
    assert (call.retransmission_count, copies(call)) == (0, [])
    assert [(leg.src, leg.dst) for leg in call.legs] == [
        (flow.caller, flow.callee), (NAT, flow.callee)
    ]
    assert [[r.dst for r in t.responses] for t in call.transactions] == [[flow.caller], [NAT]]
    assert call.outcome == "in_progress"


def test_retransmission_on_each_hop_is_counted_on_that_hop() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    outside = seen_on(flow, invite, src=NAT, dst=flow.callee, at=0.005)
    again = flow.copy(invite, at=0.5)
    again_outside = seen_on(flow, invite, src=NAT, dst=flow.callee, at=0.505)
    call = call_of(flow, end=5)
    assert copies(call) == [
        ("INVITE", (invite.frame, again.frame)),
        ("INVITE", (outside.frame, again_outside.frame)),
    ]
    assert call.retransmission_count == 2


def test_each_hop_keeps_its_own_cancel_and_ack() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    outside = seen_on(flow, invite, src=NAT, dst=flow.callee, at=0.005)
    ringing = flow.response(outside, 180, at=0.2)
    seen_on(flow, ringing, src=flow.callee, dst=flow.caller, at=0.205)
    cancel = flow.request("CANCEL", at=3, cseq=invite.cseq, branch=invite.branch)
    cancel_outside = seen_on(flow, cancel, src=NAT, dst=flow.callee, at=3.005)
    flow.response(cancel_outside, 200, at=3.1)
    terminated = flow.response(outside, 487, at=3.2)
    ack = flow.ack(seen_on(flow, terminated, src=flow.callee, dst=flow.caller, at=3.205), at=3.3)
    seen_on(flow, ack, src=NAT, dst=flow.callee, at=3.305)
    call = call_of(flow)
    inside, outer = call.transactions[0], call.transactions[1]
    assert inside.cancel is not None and inside.cancel.request is cancel
    assert outer.cancel is not None and outer.cancel.request is cancel_outside
    assert (len(inside.acks), len(outer.acks)) == (1, 1)
    assert (call.outcome, call.ended_by, call.retransmission_count) == ("cancelled", "caller", 0)


def test_response_to_the_via_port_joins_its_request() -> None:
    """Without rport, the response goes to the Via's sent-by port (section 18.2.2), not back
    to the ephemeral port the request came from: still the same transaction."""
    flow = Flow(caller=Endpoint("192.0.2.10", 40000))
    options = flow.request("OPTIONS", at=0)
    via_port = Endpoint("192.0.2.10", 5060)
    lines = options.raw.decode().split("\r\n")
    ok_raw = "\r\n".join(["SIP/2.0 200 OK", *lines[1:6], "Content-Length: 0", "", ""]).encode()
    ok = parse_message(ok_raw, 2, T0 + 100_000_000, flow.callee, via_port, "UDP")
    flow.messages.append(ok)
    again = parse_message(ok_raw, 3, T0 + 600_000_000, flow.callee, via_port, "UDP")
    flow.messages.append(again)
    exchange = read(flow)
    assert isinstance(exchange, Exchange)
    assert (exchange.outcome, len(exchange.transactions)) == ("ok", 1)
    assert copies(exchange) == [("200 OPTIONS", (ok.frame, again.frame))]


@pytest.mark.parametrize(("gap", "retransmissions", "duplicates"),
                         [(0.000999, 0, 1), (0.001, 1, 0), (0.5, 1, 0)])
def test_one_packet_captured_twice_within_a_millisecond_is_not_a_retransmission(
    gap: float, retransmissions: int, duplicates: int
) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.copy(invite, at=gap)
    call = call_of(flow, end=5)
    assert (call.retransmission_count, call.duplicates) == (retransmissions, duplicates)


def test_exchange_retransmissions_are_counted_like_a_calls() -> None:
    flow = Flow()
    options = flow.request("OPTIONS", at=0)
    flow.copy(options, at=0.5)
    flow.copy(options, at=1.5)
    ok = flow.response(options, 200, at=1.6)
    exchange = read(flow)
    assert isinstance(exchange, Exchange)
    assert copies(exchange) == [("OPTIONS", (1, 2, 3))]
    assert result_of(exchange, (), ladder=False).retransmission_count == 2
    [transaction] = exchange.transactions
    assert transaction.retransmissions == 2 and transaction.final is ok


def test_transaction_count_is_the_one_the_report_shows() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.copy(invite, at=0.5)
    first = flow.response(invite, 180, at=0.6, to_tag="fork-a")
    flow.response(invite, 180, at=0.7, to_tag="fork-b")
    flow.copy(first, at=1.1)
    ok = flow.response(invite, 200, at=2, to_tag="fork-a")
    flow.copy(ok, at=2.5)
    flow.callee_tag = "fork-a"
    flow.ack(ok, at=2.51)
    call = call_of(flow, end=10)
    assert [t.retransmissions for t in call.transactions] == [3, 0]  # INVITE, then the ACK
    assert call.retransmission_count == 3
    assert [what for what, _ in copies(call)] == ["INVITE", "180 INVITE", "200 INVITE"]


def test_response_seen_on_both_sides_of_a_nat_is_not_a_retransmission() -> None:
    """Only the request outside the NAT was captured; its 180 is seen going to the NAT and
    then, translated, to the caller inside."""
    flow = Flow()
    invite = flow.request("INVITE", at=0, src=NAT)
    ringing = flow.response(invite, 180, at=0.2)
    seen_on(flow, ringing, src=flow.callee, dst=flow.caller, at=0.205)
    call = call_of(flow, end=5)
    assert (call.retransmission_count, copies(call)) == (0, [])


def test_responses_to_the_via_port_join_the_request_of_their_own_hop() -> None:
    """The same INVITE inside and outside a NAT, each 180 sent to the Via's port: each goes
    with the request whose host it goes back to."""
    flow = Flow(caller=Endpoint("192.0.2.10", 40000))
    invite = flow.request("INVITE", at=0)
    outside = seen_on(flow, invite, src=Endpoint(NAT.ip, 40000), dst=flow.callee, at=0.005)
    ringing = flow.response(outside, 180, at=0.2)
    to_nat = seen_on(flow, ringing, src=flow.callee, dst=NAT, at=0.2)
    to_caller = seen_on(flow, ringing, src=flow.callee, dst=Endpoint("192.0.2.10", 5060),
                        at=0.205)
    flow.messages.remove(ringing)
    call = call_of(flow, end=5)
    assert [t.responses for t in call.transactions] == [[to_caller], [to_nat]]
    assert call.retransmission_count == 0


def test_the_ladder_numbers_the_copies_the_report_counts() -> None:
    """A reliable 183 with RSeq 1, another with RSeq 2 (a new response, RFC 3262 3) and RSeq 1
    again: the ladder marks only the repeat as a second copy, as the count says."""
    flow = Flow()
    invite = flow.request("INVITE", at=0, headers=("Supported: 100rel",))
    second_invite = flow.copy(invite, at=0.5)
    first = flow.response(invite, 183, at=0.6, headers=("Require: 100rel", "RSeq: 1"))
    new = flow.response(invite, 183, at=0.7, headers=("Require: 100rel", "RSeq: 2"))
    again = flow.copy(first, at=1.1)
    call = call_of(flow, end=5)
    numbers = {arrow.frame: arrow.copy for arrow in ladder_of(call.messages, call.transactions)}
    assert numbers == {invite.frame: 1, second_invite.frame: 2, first.frame: 1, new.frame: 1,
                       again.frame: 2}
    assert call.retransmission_count == sum(n - 1 for n in numbers.values())


def test_response_sent_again_whose_request_was_not_captured_is_one_retransmission() -> None:
    """The capture started after the OPTIONS: its 200, sent twice, is one response and its
    retransmission in one transaction, not two transactions."""
    flow = Flow()
    options = flow.request("OPTIONS", at=0)
    ok = flow.response(options, 200, at=0.1)
    again = flow.copy(ok, at=0.6)
    flow.messages.remove(options)
    exchange = read(flow)
    assert isinstance(exchange, Exchange)
    assert (len(exchange.transactions), exchange.outcome) == (1, "incomplete")
    assert copies(exchange) == [("200 OPTIONS", (ok.frame, again.frame))]


def test_a_new_request_reusing_a_branch_is_no_retransmission() -> None:
    """A retransmission repeats its request, CSeq included (RFC 3261 17.1.1.2); the same
    branch on a request with the next CSeq is a new request (from a UA that reuses branches)."""
    flow = Flow()
    first = flow.request("OPTIONS", at=0, branch="z9hG4bK-reused")
    second = flow.request("OPTIONS", at=5, branch="z9hG4bK-reused")
    exchange = read(flow)
    assert [t.requests for t in exchange.transactions] == [[first], [second]]
    assert exchange.retransmissions == ()


def test_response_to_the_via_port_joins_the_hop_its_hosts_fit() -> None:
    """An element that relays the INVITE without a Via of its own (a load balancer) gives
    two hops of one branch; its 180 to the Via's port (section 18.2.2) goes between the
    hosts of the caller's hop, so it is that hop's, although the other hop is the latest."""
    flow = Flow(caller=Endpoint("192.0.2.10", 40000), callee=BALANCER)
    invite = flow.request("INVITE", at=0)
    onward = seen_on(flow, invite, src=BALANCER, dst=CALLEE, at=0.005)
    ringing = flow.response(onward, 180, at=0.2)
    to_caller = seen_on(flow, ringing, src=BALANCER, dst=Endpoint("192.0.2.10", 5060), at=0.205)
    call = call_of(flow, end=5)
    assert [t.responses for t in call.transactions] == [[to_caller], [ringing]]


def test_cancel_seen_only_on_another_hop_still_cancels_its_invite() -> None:
    """The caller's INVITE captured inside the NAT, its CANCEL only outside it (same bytes,
    same branch): the CANCEL is the INVITE's (section 9.1), so the 487 ends a cancelled call."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    cancel = flow.request("CANCEL", at=3, cseq=invite.cseq, branch=invite.branch)
    flow.messages.remove(cancel)
    outside = seen_on(flow, cancel, src=NAT, dst=flow.callee, at=3.005)
    flow.response(outside, 200, at=3.1)
    flow.ack(flow.response(invite, 487, at=3.2), at=3.3)
    call = call_of(flow)
    assert call.transactions[0].cancel is call.transactions[1]
    assert (call.outcome, call.ended_by) == ("cancelled", "caller")


def test_a_cancel_seen_before_the_487_of_an_invite_not_captured_cancels_it() -> None:
    """The capture starts after the INVITE: the CANCEL (same top Via, same CSeq number,
    section 9.1) comes first, then its 200 and the INVITE's 487. The 487 answers a cancelled
    INVITE: the caller's doing (section 9.2), not someone else's."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.messages.clear()  # the capture began after it
    cancel = flow.request("CANCEL", at=2.0, cseq=invite.cseq, branch=invite.via_key[0])
    flow.response(cancel, 200, at=2.01)
    flow.response(invite, 487, at=2.02)
    matcher = TransactionMatcher()
    for message in flow.messages:
        matcher.add(message)
    [invite_transaction] = [t for t in matcher.transactions if t.method == "INVITE"]
    assert invite_transaction.request is None and invite_transaction.final_status == 487
    assert invite_transaction.cancel is not None
    assert invite_transaction.cancel.request is not None
    assert invite_transaction.cancel.request.frame == flow.messages[0].frame
