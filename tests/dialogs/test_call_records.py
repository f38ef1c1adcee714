"""What a call's record says beyond its outcome: the final response's reason phrase, its
timings when the capture joined late or the call is still up, a late offer (RFC 3261 13.2.1:
the offer in the 2xx, the answer in the ACK), and which responses make a dialog and which 2xx
still waits for its ACK (RFC 3261 12.1, 13.3.1.4)."""

from __future__ import annotations

import pytest

from sipdiag.analysis.model import result_of
from sipdiag.dialogs.acks import unacknowledged_answers
from sipdiag.dialogs.calls import Exchange
from sipdiag.dialogs.records import Agents, MediaRecord, agents_of
from sipdiag.media.stream import Timeline
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import parse_message
from tests.dialogs.media_calls import (
    CALLEE_RTP,
    CALLER_RTP,
    call_with_media,
    hang_up,
    sdp,
    stream,
    talk,
    tied,
)
from tests.flows import CALLEE, Flow, answered, call_of, read

PROXY = Endpoint("203.0.113.5", 5060)


@pytest.mark.parametrize(("final", "reason"), [(486, "Busy Here"), (None, "")])
def test_reason_phrase_of_the_final_response(final: int | None, reason: str) -> None:
    """The call's reason is its final response's phrase; none without a final response."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 180, at=0.2)
    if final is not None:
        flow.ack(flow.response(invite, final, at=0.5, reason=reason), at=0.51)
    call = call_of(flow, end=1.0)
    assert (call.final_status, call.reason) == (final or 0, reason)
    assert (call.caller, call.callee) == ("sip:alice@example.com", "sip:bob@example.com")


def test_timings_of_a_call_joined_late() -> None:
    """Without its INVITE the call has no ringing, answer or talk time, only its length from
    the first message to the last."""
    flow = Flow()
    bye = flow.request("BYE", at=2.0, in_dialog=True)
    flow.response(bye, 200, at=2.25)
    timings = call_of(flow).timings
    assert (timings.post_dial_delay, timings.time_to_answer, timings.talk_time,
            timings.total) == (None, None, None, 0.25)


def test_talk_time_of_a_call_still_up_runs_to_its_last_message() -> None:
    """An answered call with no BYE talks from the answer to its last message."""
    flow = Flow()
    answered(flow)
    info = flow.request("INFO", at=20.0, in_dialog=True)
    flow.response(info, 200, at=20.5)
    assert call_of(flow, end=30.0).timings.talk_time == 19.5


def test_late_offer_is_the_callees() -> None:
    """An INVITE without SDP: the offer comes in the 2xx (the callee's), the answer in the
    ACK (the caller's)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    ok = flow.response(invite, 200, at=1.0, body=sdp(CALLER_RTP))
    ack = flow.request("ACK", at=1.05, cseq=invite.cseq, in_dialog=True, body=sdp(CALLER_RTP))
    call = call_of(flow)
    assert call.offer is not None and call.answer is not None
    assert (call.offer.sender, call.offer.frame) == ("callee", ok.frame)
    assert (call.answer.sender, call.answer.frame) == ("caller", ack.frame)


@pytest.mark.parametrize("tagged", [True, False])
def test_100_trying_never_makes_a_dialog(tagged: bool) -> None:
    """A 100 Trying, even one carrying a To tag, makes no dialog (RFC 3261 12.1); a failure
    after it leaves the call with none."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 100, at=0.01, to_tag="trying-tag" if tagged else "")
    flow.ack(flow.response(invite, 486, at=0.5, to_tag="trying-tag"), at=0.51)
    assert call_of(flow).dialogs == ()


def test_a_hop_without_2xx_owes_no_ack() -> None:
    """Through a proxy: the capture missed the callee's 2xx on the proxy's hop, and the
    caller never ACKed the proxy's 2xx, which the proxy sends until 64*T1; only that 2xx is
    shown waiting for its ACK."""
    flow = Flow(callee=PROXY)
    invite = flow.request("INVITE", at=0.0)
    onward = flow.request("INVITE", at=0.01, cseq=invite.cseq, src=PROXY, dst=CALLEE)
    flow.response(onward, 180, at=0.09)
    flow.response(invite, 180, at=0.1)
    ok = flow.response(invite, 200, at=1.01)
    for offset in (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5):
        flow.copy(ok, at=1.01 + offset)
    call = call_of(flow)
    [dialog] = call.dialogs
    assert [t.request for t in dialog.invites] == [onward, invite]
    assert [f.first for f in unacknowledged_answers(dialog)] == [ok]


def test_sdp_in_brief_is_each_media_line_as_written() -> None:
    """The offer and answer keep, per m= line, its type, c= address, port, protocol, codecs
    (a=rtpmap names) and direction (sendrecv when none is given, RFC 4566 6)."""
    flow = Flow()
    answered(flow)  # the same SDP (tests.flows.SDP_BODY) in the INVITE and the 200
    record = call_of(flow)
    line = MediaRecord("audio", "192.0.2.10", 4000, "RTP/AVP", ("PCMU/8000", "PCMA/8000"),
                       "sendrecv")
    assert record.offer is not None and record.answer is not None
    assert (record.offer.sender, record.offer.frame, record.offer.media) == ("caller", 1, (line,))
    assert (record.answer.sender, record.answer.frame, record.answer.media) == (
        "callee", 4, (line,))


def test_exchange_record_keeps_its_ladder_only_when_asked() -> None:
    flow = Flow()
    options = flow.request("OPTIONS", at=0.0)
    flow.response(options, 200, at=0.1)
    exchange = read(flow)
    assert isinstance(exchange, Exchange)
    assert result_of(exchange, (), ladder=False).ladder is None
    ladder = result_of(exchange, (), ladder=True).ladder
    assert ladder is not None and [a.label for a in ladder] == ["OPTIONS", "200 Reason"]


def test_stream_timelines_are_kept_only_with_a_ladder() -> None:
    """The per-second figures of a stream are drawn beside the ladder; a record without one
    keeps the stream without them."""
    flow = Flow()
    _, ok = talk(flow)
    hang_up(flow, at=4.0)
    timeline = Timeline((50, 50), (0, 0), (0.5, 0.5))
    sent = stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=3.08)._replace(timeline=timeline)
    call = call_with_media(flow, [tied(sent, ok)])
    plain = result_of(call, (), ladder=False).media
    drawn = result_of(call, (), ladder=True).media
    assert plain is not None and drawn is not None
    assert [s.stream for s in plain.streams] == [sent._replace(timeline=None)]
    assert [s.stream for s in drawn.streams] == [sent]


def _said(first_line: str, src: Endpoint, dst: Endpoint, **headers: str) -> SipMessage:
    lines = [first_line, "Call-ID: a@b", "CSeq: 1 INVITE",
             *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return parse_message(("\r\n".join(lines) + "\r\n\r\n").encode(), src=src, dst=dst)


def test_agents_are_the_callers_user_agent_and_the_last_answer_not_from_the_caller() -> None:
    """RFC 3261 20.41, 20.35: the caller names itself in the INVITE's User-Agent; the far side
    in its answers' Server (else User-Agent). A proxy's own 100 names the proxy; the last
    naming answer stands. With no INVITE captured, any answer to one names the callee."""
    a, proxy, b = Endpoint("192.0.2.1", 5060), Endpoint("192.0.2.2", 5060), Endpoint(
        "192.0.2.3", 5060)
    invite = _said("INVITE sip:b@x SIP/2.0", a, proxy, User_Agent="phone/1")
    trying = _said("SIP/2.0 100 Trying", proxy, a, Server="proxy/2")
    ok = _said("SIP/2.0 200 OK", proxy, a, User_Agent="pbx/3")
    ack = _said("ACK sip:b@x SIP/2.0", a, proxy, User_Agent="phone/1")
    assert agents_of([invite, trying, ok, ack]) == Agents("phone/1", "pbx/3")
    assert agents_of([invite, trying]) == Agents("phone/1", "proxy/2")
    assert agents_of([invite]) == Agents("phone/1", "")
    assert agents_of([ok]) == Agents("", "pbx/3")  # the INVITE was not captured
    assert agents_of([_said("SIP/2.0 200 OK", b, a)]) == Agents("", "")
