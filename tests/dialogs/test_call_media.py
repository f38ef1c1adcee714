"""A call's media read against its offers and answers (sipdiag/dialogs/media.py), on calls
built by hand (tests/dialogs/media_calls.py): the verdict (two-way, one-way, on hold), when
each direction's audio started and stopped against the answer, its ACK and the BYE, what
evidence names it, and how a late-joined capture and a failed re-INVITE are read."""

from __future__ import annotations

import pytest

from sipdiag.dialogs.media import (
    CallMedia,
    Destination,
    Direction,
    MediaState,
    Side,
    SilenceCause,
)
from sipdiag.media.codecs import Codec
from sipdiag.media.model import Tie
from sipdiag.network import Endpoint
from tests.dialogs.media_calls import (
    CALLEE_RTP,
    CALLER_RTP,
    hang_up,
    media_of,
    ns,
    packets_between,
    reinvite,
    sdp,
    stream,
    talk,
    tied,
)
from tests.flows import CALLEE, CALLER, Flow

BOTH = frozenset(Side)


def two_way_call() -> CallMedia:
    """Answered at 1 s (frame 4), ACKed at 1.05 s, the caller hangs up at 11 s (frame 6);
    the callee's audio starts at 1.02 s (before the ACK), the caller's at 1.1 s."""
    flow = Flow()
    invite, ok = talk(flow)
    hang_up(flow, at=11.0)
    caller = stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA, frames=(20, 980))
    callee = stream(CALLEE_RTP, CALLER_RTP, start=1.02, end=10.98, ssrc=0xB, frames=(10, 990))
    return media_of(flow, [tied(caller, ok), tied(callee, invite)])


def test_two_way_call_times_against_answer_ack_and_bye() -> None:
    """Both directions delivered: each one's start after the answer and its ACK (negative when
    the answerer sends before the ACK, RFC 3264 lets it), its stop before the BYE."""
    media = two_way_call()
    assert (media.state, media.silent_side) == (MediaState.TWO_WAY, None)
    assert (media.answered_ns, media.acked_ns, media.end_ns, media.bye_frame) == (
        ns(1.0), ns(1.05), ns(11.0), 6)
    assert media.windows == ((ns(1.0), ns(11.0), BOTH),)
    assert media.stopped_before_end_s == pytest.approx(0.02)
    caller_audio = packets_between(1.1, 10.9)
    assert media.direction(Side.CALLER) == Direction(
        sender=Side.CALLER, expected_s=10.0, packets=caller_audio, audio_packets=caller_audio,
        silent_percent=0.0, silent=False, cause=None, first_ns=ns(1.1), last_ns=ns(10.9),
        first_frame=20, last_frame=980, start_after_answer_s=0.1, start_after_ack_s=0.05,
        stop_before_end_s=0.1, on_hold_at_end=False, announced=CALLEE_RTP, announced_frame=4,
        receiver_sip=CALLEE, sent_to=CALLEE_RTP, refused_by=None, evidence=(4, 20, 980))
    callee = media.direction(Side.CALLEE)
    assert (callee.first_ns, callee.last_ns, callee.first_frame, callee.last_frame) == (
        ns(1.02), ns(10.98), 10, 990)
    assert callee.start_after_answer_s == pytest.approx(0.02)
    assert callee.start_after_ack_s == pytest.approx(-0.03)
    assert callee.stop_before_end_s == pytest.approx(0.02)
    assert (callee.announced, callee.announced_frame, callee.receiver_sip, callee.sent_to) == (
        CALLER_RTP, 1, CALLER, CALLER_RTP)
    assert callee.evidence == (1, 10, 990)


def test_streams_to_announced_addresses_are_each_sides_audio() -> None:
    """A stream to the address an SDP announced is the other side's audio, on the hop of that
    SDP, delivered where it was asked for, from where its sender announced."""
    media = two_way_call()
    read = [(s.stream.ssrc, s.kind, s.sender, s.hop, s.tie, s.destination, s.from_elsewhere,
             s.unexpected_payload_types, s.follows_ssrc, s.remote, s.upstream_loss_percent,
             s.capture_dropped, s.unreachable, s.unreachable_from) for s in media.streams]
    assert read == [
        (0xA, "audio", Side.CALLER, 0, Tie.TO_ANNOUNCED, Destination.ANNOUNCED, False, (),
         None, None, None, 0, 0, None),
        (0xB, "audio", Side.CALLEE, 0, Tie.TO_ANNOUNCED, Destination.ANNOUNCED, False, (),
         None, None, None, 0, 0, None),
    ]


def test_stopped_before_end_counts_audio_only() -> None:
    """The time from the last audio packet to the BYE: a video stream that runs on later does
    not count."""
    flow = Flow()
    invite, ok = talk(flow)
    hang_up(flow, at=11.0)
    video_to = Endpoint(CALLEE_RTP.ip, 6000)
    media = media_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=8.0, ssrc=0xA), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=9.0, ssrc=0xB), invite),
        tied(stream(Endpoint(CALLER_RTP.ip, 6002), video_to, start=1.1, end=10.9, ssrc=0xC,
                    codec=Codec("H264", 90000), silent=None), ok, kind="video"),
    ])
    assert media.stopped_before_end_s == pytest.approx(2.0)
    assert [s.kind for s in media.streams] == ["audio", "audio", "video"]
    assert media.direction(Side.CALLER).packets == packets_between(1.1, 8.0)


def test_audio_up_to_the_bye_did_not_stop_before_the_end() -> None:
    """The last packets of both directions are sent as the BYE is: no time between them."""
    flow = Flow()
    invite, ok = talk(flow)
    hang_up(flow, at=11.0)
    media = media_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=11.0, ssrc=0xA), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=11.0, ssrc=0xB), invite),
    ])
    assert media.end_ns == ns(11.0)
    assert media.stopped_before_end_s is None
    assert [d.stop_before_end_s for d in media.directions] == [None, None]


def test_a_capture_ending_with_the_answer_has_no_window() -> None:
    """The capture stops at the 200 itself: no time after the answer, so no period of it."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    flow.response(invite, 200, at=1.0, body=sdp(CALLEE_RTP))
    media = media_of(flow)
    assert (media.answered_ns, media.end_ns, media.windows) == (ns(1.0), ns(1.0), ())


def test_caller_silent_is_one_way() -> None:
    """Only the callee's audio flows: the caller's direction is silent, nothing sent."""
    flow = Flow()
    invite, _ = talk(flow)
    hang_up(flow, at=11.0)
    media = media_of(flow, [tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9), invite)])
    assert (media.state, media.silent_side) == (MediaState.ONE_WAY, Side.CALLER)
    caller = media.direction(Side.CALLER)
    assert (caller.silent, caller.cause, caller.packets, caller.sent_to) == (
        True, SilenceCause.NOTHING_SENT, 0, None)
    assert (caller.first_ns, caller.start_after_answer_s, caller.stop_before_end_s) == (
        None, None, None)
    assert caller.evidence == (4,)
    assert media.direction(Side.CALLEE).silent is False


def test_no_audio_either_way() -> None:
    """An answered call with neither side's audio is ``none``; each direction nothing sent."""
    flow = Flow()
    talk(flow)
    hang_up(flow, at=11.0)
    media = media_of(flow)
    assert (media.state, media.silent_side) == (MediaState.NONE, None)
    assert [(d.silent, d.cause) for d in media.directions] == [
        (True, SilenceCause.NOTHING_SENT)] * 2
    assert media.stopped_before_end_s is None


def test_short_call_is_not_judged_silent() -> None:
    """A call up for less than 2 s after the answer says nothing of its audio."""
    flow = Flow()
    talk(flow)
    hang_up(flow, at=2.5)
    media = media_of(flow)
    assert [d.expected_s for d in media.directions] == [1.5, 1.5]
    assert [d.silent for d in media.directions] == [False, False]
    assert media.state is MediaState.TWO_WAY


def test_capture_that_cannot_hold_the_media() -> None:
    """No stream, and a capture without the call's media ports: ``not_captured``, and no
    direction can be called silent."""
    flow = Flow()
    talk(flow)
    hang_up(flow, at=11.0)
    media = media_of(flow, captured=False)
    assert (media.state, media.silent_side) == (MediaState.NOT_CAPTURED, None)
    assert [d.silent for d in media.directions] == [None, None]


def test_media_before_an_answer_that_never_came() -> None:
    """Early media (183 with SDP) and no 2xx: ``early_only``, nothing expected after an
    answer."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    early = flow.response(invite, 183, at=0.5, body=sdp(CALLEE_RTP))
    cancel = flow.request("CANCEL", at=6.0, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 200, at=6.01, to_tag="")
    flow.ack(flow.response(invite, 487, at=6.02), at=6.03)
    media = media_of(flow, [tied(stream(CALLEE_RTP, CALLER_RTP, start=0.6, end=5.9), invite)])
    assert (media.state, media.answered_ns, media.acked_ns, media.windows) == (
        MediaState.EARLY_ONLY, None, None, ())
    callee = media.direction(Side.CALLEE)
    assert (callee.expected_s, callee.start_after_answer_s, callee.silent) == (0.0, None, False)
    assert media.direction(Side.CALLER).announced_frame == early.frame


def test_callers_bye_of_an_early_dialog_does_not_answer_the_call() -> None:
    """The caller may end an early dialog with a BYE (RFC 3261 15): with the INVITE captured
    and no 2xx, the call was never answered, and its media is early only, up to the BYE."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    flow.response(invite, 183, at=0.5, body=sdp(CALLEE_RTP))
    bye = hang_up(flow, at=6.0)
    media = media_of(flow, [tied(stream(CALLEE_RTP, CALLER_RTP, start=0.6, end=5.9), invite)])
    assert (media.state, media.answered_ns, media.windows) == (MediaState.EARLY_ONLY, None, ())
    assert (media.end_ns, media.bye_frame) == (ns(6.0), bye.frame)


def test_bye_of_another_fork_does_not_end_the_calls_media() -> None:
    """Two branches answer a forked INVITE; the caller keeps the first and ends the other
    with a BYE (RFC 3261 13.2.2.4). The call is still up when the capture ends: its media runs
    to the end of the capture, not to that BYE."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    for n, tag in enumerate(("fork-a", "fork-b")):
        flow.callee_tag = tag
        answer = sdp(Endpoint(CALLEE_RTP.ip, CALLEE_RTP.port + 2 * n))
        flow.ack(flow.response(invite, 200, at=1.0 + n / 10, body=answer), at=1.01 + n / 10)
    hang_up(flow, at=1.2)  # to fork-b, the last To tag
    media = media_of(flow, [tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=9.9), invite)],
                     end=10.0)
    assert (media.end_ns, media.bye_frame) == (ns(10.0), None)
    assert media.windows[-1][1] == ns(10.0)


def test_call_joined_after_its_answer() -> None:
    """A capture that starts mid-call (no INVITE, only the BYE): the call counts as answered
    when the capture first saw it, here its first RTP packet; every SDP-less stream is on the
    caller's leg."""
    flow = Flow()
    bye = hang_up(flow, at=10.0)
    media = media_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=0.5, end=9.9, ssrc=0xA)),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=-2.0, end=9.9, ssrc=0xB)),
    ])
    assert (media.answered_ns, media.acked_ns, media.end_ns, media.bye_frame) == (
        ns(-2.0), None, ns(10.0), bye.frame)
    assert [(s.sender, s.hop) for s in media.streams] == [(Side.CALLER, 0), (Side.CALLEE, 0)]
    assert media.state is MediaState.TWO_WAY


def test_call_joined_after_its_answer_starts_at_its_first_message() -> None:
    """Without earlier RTP, the late-joined call counts from its first SIP message."""
    flow = Flow()
    hang_up(flow, at=0.0)
    media = media_of(flow, [tied(stream(CALLER_RTP, CALLEE_RTP, start=0.5, end=9.9))],
                     end=10.0)
    assert media.answered_ns == ns(0.0)


def test_unanswered_call_without_bye_has_no_answer_time() -> None:
    """An INVITE that is never answered (and no BYE) gives the media no answer time, even
    when RTP flowed."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    media = media_of(flow, [tied(stream(CALLEE_RTP, CALLER_RTP, start=0.5, end=5.0), invite)],
                     end=6.0)
    assert (media.answered_ns, media.state) == (None, MediaState.EARLY_ONLY)


@pytest.mark.parametrize("direction", ["sendonly", "inactive"])
def test_call_put_on_hold(direction: str) -> None:
    """The caller's re-INVITE puts the call on hold at 5 s (RFC 3264 8.4): the windows split
    there, the held directions stop being expected, the state is on hold, and no stop before
    the end is counted for audio that was meant to stop."""
    flow = Flow()
    invite, ok = talk(flow)
    hold, answer = reinvite(flow, at=5.0, offer=sdp(CALLER_RTP, direction=direction),
                            answer=sdp(CALLEE_RTP, direction=(
                                "recvonly" if direction == "sendonly" else "inactive")))
    hang_up(flow, at=11.0)
    media = media_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=4.9, ssrc=0xB), invite),
    ])
    held = frozenset({Side.CALLER}) if direction == "sendonly" else frozenset()
    assert media.windows == ((ns(1.0), ns(5.0), BOTH), (ns(5.0), ns(5.01), held),
                             (ns(5.01), ns(11.0), held))
    assert media.state is MediaState.ON_HOLD
    assert media.stopped_before_end_s is None
    callee = media.direction(Side.CALLEE)
    assert callee.expected_s == pytest.approx(4.0)
    assert (callee.on_hold_at_end, callee.silent) == (True, False)
    assert media.held(ns(6.0), ns(7.0)) and not media.held(ns(2.0), ns(4.0))
    assert (answer.frame, hold.frame) == (7, 6)


def test_refused_reinvite_changes_nothing() -> None:
    """A re-INVITE answered 491 leaves the session as it was (RFC 3261 14.1): its hold offer
    does not count, and the receiver's address stays the one of its last accepted SDP."""
    flow = Flow()
    invite, ok = talk(flow)
    reinvite(flow, at=5.0, offer=sdp(Endpoint(CALLER_RTP.ip, 4002), direction="inactive"),
             status=491)
    hang_up(flow, at=11.0)
    media = media_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB), invite),
    ])
    assert media.windows == ((ns(1.0), ns(11.0), BOTH),)
    assert media.state is MediaState.TWO_WAY
    assert media.direction(Side.CALLEE).announced == CALLER_RTP


@pytest.mark.parametrize("status", [300, 488])
def test_sdp_of_a_failure_response_is_no_answer(status: int) -> None:
    """An SDP in a 3xx-6xx response to a re-INVITE answers nothing: the receiver's address is
    still the one of the 200 OK."""
    flow = Flow()
    _, ok = talk(flow)
    reinvite(flow, at=5.0, offer=sdp(CALLER_RTP), answer=sdp(Endpoint(CALLEE_RTP.ip, 5002)),
             status=status)
    hang_up(flow, at=11.0)
    media = media_of(flow, [tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9), ok)])
    assert media.direction(Side.CALLER).announced == CALLEE_RTP


def test_forked_invite_answered_by_one_branch_keeps_its_offer() -> None:
    """One branch of a forked INVITE refuses it (486), another answers (200): the INVITE's
    offer stands, and the callee's audio goes where it asked."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    busy = flow.response(invite, 486, at=0.5, to_tag="branch-1")
    flow.ack(busy, at=0.51)
    ok = flow.response(invite, 200, at=1.0, body=sdp(CALLEE_RTP), to_tag="branch-2")
    flow.ack(ok, at=1.05)
    hang_up(flow, at=11.0)
    media = media_of(flow, [tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9), invite)])
    callee = media.direction(Side.CALLEE)
    assert (callee.announced, callee.announced_frame, callee.silent) == (
        CALLER_RTP, invite.frame, False)


def test_held_is_any_one_way_window_overlapping() -> None:
    """``held``: some window that overlaps the period strictly lets fewer than both sides
    send."""
    media = two_way_call()._replace(windows=(
        (ns(1.0), ns(5.0), BOTH), (ns(5.0), ns(8.0), frozenset({Side.CALLER})),
        (ns(8.0), ns(11.0), BOTH)))
    assert media.held(ns(4.0), ns(6.0))
    assert media.held(ns(7.0), ns(9.0))
    assert not media.held(ns(1.0), ns(5.0))
    assert not media.held(ns(8.0), ns(10.0))
    assert not media.held(ns(2.0), ns(3.0))
