"""What counts as evidence that a final response to INVITE was never acknowledged
(``sipdiag.dialogs.acks``): its sender's own behaviour, never the mere absence of an ACK in the
capture.

The timers are RFC 3261's defaults: T1 = 0.5 s, T2 = 4 s, 64*T1 = 32 s. An unacknowledged 2xx
goes out again at T1 doubling up to T2 (section 13.3.1.4), a non-2xx over UDP the same way on
Timer G until Timer H (17.2.1): copies at 0, 0.5, 1.5, 3.5, 7.5, 11.5, ... 31.5 s, eleven in
all; the last one before 64*T1 is at most T2 before it, so copies still going out 28 s after the
first went on until 64*T1.
"""

from __future__ import annotations

from sipdiag.dialogs.acks import AckEvidence, unacknowledged_answers, unacknowledged_failure
from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.transactions import Transaction
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage
from tests.flows import CALLEE, CALLER, SDP_BODY, Flow, call_of, read

SCHEDULE = (0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)
"""When copies of an unacknowledged response go out, from the first (T1 doubling up to T2)."""
ANSWER_AT = 1.0


def answered_without_ack(flow: Flow, copies: tuple[float, ...] = (0.0,)) -> SipMessage:
    """INVITE, 180 and a 200 at 1 s sent at these offsets from 1 s; no ACK. Returns the 200."""
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    flow.response(invite, 180, at=0.2)
    ok = flow.response(invite, 200, at=ANSWER_AT, body=SDP_BODY)
    for offset in copies[1:]:
        flow.copy(ok, at=ANSWER_AT + offset)
    return ok


def ack_from(flow: Flow, ok: SipMessage, *, at: float, src: Endpoint, dst: Endpoint,
             cseq: int | None = None) -> SipMessage:
    """An ACK of the dialog (its tags) from ``src`` to ``dst``, with a branch of its own."""
    return flow.request("ACK", at=at, cseq=ok.cseq if cseq is None else cseq, in_dialog=True,
                        src=src, dst=dst)


def evidence_of(call: Call) -> list[tuple[AckEvidence, ...]]:
    return [found.evidence for dialog in call.dialogs for found in unacknowledged_answers(dialog)]


def test_a_2xx_retransmitted_until_64t1_with_no_ack_is_unacknowledged() -> None:
    flow = Flow()
    answered_without_ack(flow, SCHEDULE)
    call = call_of(flow)
    [found] = [f for d in call.dialogs for f in unacknowledged_answers(d)]
    assert found.evidence == (AckEvidence.RETRANSMITTED,)
    assert len(found.copies) == 11 and found.span_ns == 31_500_000_000
    assert found.acks == () and found.bye is None


def test_a_2xx_seen_once_with_no_ack_captured_was_acknowledged_out_of_sight() -> None:
    """Its sender stopped retransmitting: the ACK reached it, whatever the capture shows; the
    capture goes on for a minute (a BYE from the caller) and the 2xx never came again."""
    flow = Flow()
    ok = answered_without_ack(flow)
    flow.request("BYE", at=61.0, in_dialog=True)
    assert ok.to_tag
    assert evidence_of(call_of(flow)) == []


def test_copies_that_stop_short_of_64t1_are_no_evidence() -> None:
    """Ten copies, the last at 27.5 s: more than T2 before 64*T1, so the sender stopped on its
    own account (an ACK the capture missed)."""
    flow = Flow()
    answered_without_ack(flow, SCHEDULE[:-1])
    assert evidence_of(call_of(flow)) == []


def test_copies_going_on_exactly_64t1_minus_t2_after_the_first_are_evidence() -> None:
    flow = Flow()
    answered_without_ack(flow, (*SCHEDULE[:-2], 28.0))
    assert evidence_of(call_of(flow)) == [(AckEvidence.RETRANSMITTED,)]


def test_an_ack_captured_elsewhere_that_did_not_stop_the_copies_is_named() -> None:
    """The caller's ACK (from another host than the 2xx went to, to another than it came from:
    the hop before a proxy) at 1.01 s, and the 2xx still goes out until 64*T1: that ACK never
    reached the sender of the 2xx."""
    flow = Flow()
    ok = answered_without_ack(flow, SCHEDULE)
    proxy_side = Endpoint("203.0.113.7", 5060)
    ack = ack_from(flow, ok, at=ANSWER_AT + 0.01, src=proxy_side, dst=Endpoint("203.0.113.8",
                                                                                5060))
    [found] = [f for d in call_of(flow).dialogs for f in unacknowledged_answers(d)]
    assert found.evidence == (AckEvidence.RETRANSMITTED_PAST_ACK,)
    assert [m.frame for m in found.acks] == [ack.frame]


def test_an_ack_from_the_receivers_host_on_another_port_after_the_last_copy_stops_it() -> None:
    """The ACK leaves the caller's host from port 5062, not its Via's 5060, just after the last
    copy: the sender got it in time."""
    flow = Flow()
    ok = answered_without_ack(flow, SCHEDULE)
    ack_from(flow, ok, at=ANSWER_AT + 31.6, src=Endpoint(CALLER.ip, 5062), dst=CALLEE)
    assert evidence_of(call_of(flow)) == []


def test_an_ack_to_the_senders_host_from_elsewhere_stops_it() -> None:
    """Without Record-Route the ACK goes straight to the UAS, from wherever the caller is: it
    counts for the hop whose 2xx came from that host."""
    flow = Flow()
    ok = answered_without_ack(flow, SCHEDULE)
    ack_from(flow, ok, at=ANSWER_AT + 31.6, src=Endpoint("203.0.113.7", 5060),
             dst=Endpoint(CALLEE.ip, 5080))
    assert evidence_of(call_of(flow)) == []


def test_the_ack_of_another_cseq_does_not_acknowledge_the_2xx() -> None:
    """An ACK with CSeq 7 (a later re-INVITE's) from the caller after the last copy: not this
    2xx's ACK (section 13.2.2.4: the ACK has the INVITE's CSeq number)."""
    flow = Flow()
    ok = answered_without_ack(flow, SCHEDULE)
    ack_from(flow, ok, at=ANSWER_AT + 31.6, src=CALLER, dst=CALLEE, cseq=7)
    assert evidence_of(call_of(flow)) == [(AckEvidence.RETRANSMITTED,)]


def test_a_bye_from_the_uas_as_64t1_runs_out_is_evidence() -> None:
    flow = Flow()
    answered_without_ack(flow)
    bye = flow.request("BYE", at=ANSWER_AT + 32.0, reverse=True, in_dialog=True)
    [found] = [f for d in call_of(flow).dialogs for f in unacknowledged_answers(d)]
    assert found.evidence == (AckEvidence.BYE_AT_64T1,)
    assert found.bye is not None and found.bye.frame == bye.frame


def test_a_bye_from_the_uas_within_t2_of_64t1_either_way_is_evidence() -> None:
    for offset in (32.0 - 4.0, 32.0 + 4.0):
        flow = Flow()
        answered_without_ack(flow)
        flow.request("BYE", at=ANSWER_AT + offset, reverse=True, in_dialog=True)
        assert evidence_of(call_of(flow)) == [(AckEvidence.BYE_AT_64T1,)], offset


def test_a_bye_from_the_uas_more_than_t2_away_from_64t1_is_a_hang_up() -> None:
    for offset in (32.0 - 4.1, 32.0 + 4.1):
        flow = Flow()
        answered_without_ack(flow)
        flow.request("BYE", at=ANSWER_AT + offset, reverse=True, in_dialog=True)
        assert evidence_of(call_of(flow)) == [], offset


def test_a_bye_from_the_caller_at_64t1_says_nothing_of_the_uas() -> None:
    flow = Flow()
    answered_without_ack(flow)
    flow.request("BYE", at=ANSWER_AT + 32.0, in_dialog=True)
    assert evidence_of(call_of(flow)) == []


def test_a_bye_at_64t1_after_an_ack_on_that_hop_is_a_hang_up() -> None:
    flow = Flow()
    ok = answered_without_ack(flow)
    ack_from(flow, ok, at=ANSWER_AT + 0.01, src=Endpoint(CALLER.ip, 5062), dst=CALLEE)
    flow.request("BYE", at=ANSWER_AT + 32.0, reverse=True, in_dialog=True)
    assert evidence_of(call_of(flow)) == []


def test_a_2xx_with_another_to_tag_is_not_the_early_dialogs() -> None:
    """180 with To tag A, then the 200 with To tag B (another early dialog, as a forking proxy
    or a PBX that changes tags gives) and its ACK: the dialog of tag A was never answered, so
    it has no 2xx to be unacknowledged, and the dialog of tag B got its ACK."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    flow.response(invite, 180, at=0.2, to_tag="tag-a")
    ok = flow.response(invite, 200, at=ANSWER_AT, to_tag="tag-b", body=SDP_BODY)
    flow.copy(ok, at=ANSWER_AT + 0.5)
    flow.callee_tag = "tag-b"
    flow.ack(ok, at=ANSWER_AT + 0.51)
    for offset in SCHEDULE[2:]:  # copies to 64*T1 of a 2xx of tag B, ACKed: none is tag A's
        flow.copy(ok, at=ANSWER_AT + offset)
    flow.ack(ok, at=ANSWER_AT + 31.51)
    call = call_of(flow)
    assert {d.callee_tag for d in call.dialogs} == {"tag-a", "tag-b"}
    assert evidence_of(call) == []


def test_a_reinvites_2xx_never_acked_is_found_too() -> None:
    """The callee's re-INVITE at 5 s, answered 200 by the caller and retransmitted until 64*T1:
    the same rule holds for any INVITE of the dialog (section 14.2)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    ok = flow.response(invite, 200, at=ANSWER_AT, body=SDP_BODY)
    flow.ack(ok, at=ANSWER_AT + 0.01)
    reinvite = flow.request("INVITE", at=5.0, reverse=True, in_dialog=True, body=SDP_BODY)
    again = flow.response(reinvite, 200, at=5.1, body=SDP_BODY)
    for offset in SCHEDULE[1:]:
        flow.copy(again, at=5.1 + offset)
    [found] = [f for d in call_of(flow).dialogs for f in unacknowledged_answers(d)]
    assert found.first.frame == again.frame and found.invite.request is not None
    assert found.invite.request.frame == reinvite.frame


def failure(flow: Flow, copies: tuple[float, ...]) -> SipMessage:
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    flow.response(invite, 180, at=0.2)
    busy = flow.response(invite, 486, at=ANSWER_AT)
    for offset in copies[1:]:
        flow.copy(busy, at=ANSWER_AT + offset)
    return busy


def invite_of(call: Call) -> Transaction:
    [invite] = [t for t in call.transactions if t.method == "INVITE"]
    return invite


def test_a_486_retransmitted_until_timer_h_is_unacknowledged() -> None:
    flow = Flow()
    busy = failure(flow, SCHEDULE)
    found = unacknowledged_failure(invite_of(call_of(flow)))
    assert found is not None and found.evidence == (AckEvidence.RETRANSMITTED,)
    assert found.first.frame == busy.frame and len(found.copies) == 11


def test_a_486_acked_after_its_third_copy_is_acknowledged() -> None:
    flow = Flow()
    busy = failure(flow, SCHEDULE[:3])
    flow.ack(busy, at=ANSWER_AT + 1.51)
    assert unacknowledged_failure(invite_of(call_of(flow))) is None


def test_a_486_whose_ack_did_not_stop_it_names_that_ack() -> None:
    """The ACK (same branch, section 17.1.1.3) at 1.01 s, and the copies go on until Timer H:
    the ACK never reached the server transaction."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    busy = flow.response(invite, 486, at=ANSWER_AT)
    ack = flow.ack(busy, at=ANSWER_AT + 0.01)
    for offset in SCHEDULE[1:]:
        flow.copy(busy, at=ANSWER_AT + offset)
    found = unacknowledged_failure(invite_of(call_of(flow)))
    assert found is not None and found.evidence == (AckEvidence.RETRANSMITTED_PAST_ACK,)
    assert [m.frame for m in found.acks] == [ack.frame]


def test_a_failure_sent_once_is_no_evidence() -> None:
    """Over a reliable transport, or its ACK missed by the capture: no copies, nothing to say."""
    flow = Flow()
    failure(flow, (0.0,))
    assert unacknowledged_failure(invite_of(call_of(flow, end=60.0))) is None


def test_a_non_invite_answered_again_for_each_copy_is_no_ack_matter() -> None:
    """A REGISTER sent until 64*T1 and answered 403 each time: a non-INVITE server transaction
    repeats its response for each copy of the request (17.2.2), and nothing ACKs it."""
    flow = Flow(call_id="register-1@example.com")
    register = flow.request("REGISTER", at=0.0)
    forbidden = flow.response(register, 403, at=0.01)
    for offset in SCHEDULE[1:]:
        flow.copy(register, at=offset)
        flow.copy(forbidden, at=offset + 0.01)
    [transaction] = read(flow).transactions
    assert unacknowledged_failure(transaction) is None


def test_a_2xx_is_not_a_failure() -> None:
    flow = Flow()
    answered_without_ack(flow, SCHEDULE)
    assert unacknowledged_failure(invite_of(call_of(flow))) is None
