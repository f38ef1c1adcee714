"""Which way audio may flow, from the SDP (RFC 3264 6.1 and 8.4; RFC 2543's c=0.0.0.0 hold;
RFC 8839 ICE), whose SDP each message carries (the caller's or the callee's, by From tag or,
without tags, by address), and why a direction that should have carried audio was silent."""

from __future__ import annotations

import pytest

from sipdiag.dialogs.media import Side, SilenceCause, _direction_said, _flowing
from sipdiag.network import Endpoint
from sipdiag.sip.sdp import parse_sdp
from tests.dialogs.media_calls import (
    CALLEE_RTP,
    CALLER_RTP,
    hang_up,
    media_of,
    packets_between,
    reinvite,
    sdp,
    stream,
    talk,
    tied,
)
from tests.flows import Flow

CANDIDATE = "a=candidate:1 1 UDP 2130706431 192.0.2.10 4000 typ host\r\n"
VIDEO = "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
CALLER = frozenset({Side.CALLER})
CALLEE = frozenset({Side.CALLEE})


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (sdp(CALLER_RTP), "sendrecv"),
        (sdp(CALLER_RTP, direction="sendonly"), "sendonly"),
        (sdp(CALLER_RTP, direction="recvonly"), "recvonly"),
        (sdp(Endpoint(CALLER_RTP.ip, 0)), "inactive"),  # port 0 (RFC 3264 8.2)
        (sdp(CALLER_RTP, connection="0.0.0.0"), "inactive"),  # RFC 2543 hold
        (sdp(CALLER_RTP, connection="::"), "inactive"),
        (sdp(CALLER_RTP, connection="0.0.0.0", extra=CANDIDATE), "sendrecv"),  # ICE carries it
        (sdp(CALLER_RTP, kind="image", formats="t38"), "inactive"),  # a switch to T.38 fax
        # the first audio section counts, not the first section
        (sdp(CALLER_RTP, direction="sendonly").replace("m=audio", VIDEO + "m=audio"),
         "sendonly"),
    ],
)
def test_direction_an_sdp_says(body: str, said: str) -> None:
    """The direction of the first audio section; port 0, c=0.0.0.0 or :: without ICE
    candidates, or no audio at all turn it off."""
    assert _direction_said(parse_sdp(body.encode())) == said


@pytest.mark.parametrize(
    ("caller", "callee", "flowing"),
    [
        (None, None, frozenset(Side)),
        ("sendrecv", "sendrecv", frozenset(Side)),
        ("sendonly", "recvonly", CALLER),
        ("sendonly", "sendrecv", CALLER),
        ("sendrecv", "recvonly", CALLER),
        ("recvonly", "sendonly", CALLEE),
        ("recvonly", "sendrecv", CALLEE),
        ("sendonly", None, CALLER),
        (None, "recvonly", CALLER),
        ("inactive", "sendrecv", frozenset()),
        ("sendonly", "sendonly", frozenset()),
        ("recvonly", "recvonly", frozenset()),
    ],
)
def test_which_sides_may_send(caller: str | None, callee: str | None,
                              flowing: frozenset[Side]) -> None:
    """A side sends when it said sendrecv or sendonly and the other sendrecv or recvonly
    (RFC 3264 6.1); a side that said nothing yet counts as sendrecv."""
    said = {side: value for side, value in ((Side.CALLER, caller), (Side.CALLEE, callee))
            if value is not None}
    assert _flowing(said) == flowing


def test_calls_between_addresses_of_one_host() -> None:
    """Both sides announced addresses of one host (a gateway serving both phones): their audio
    never leaves it, so the capture cannot call it silent, unless the capture shows that
    host's traffic to itself."""
    host = "10.0.0.1"
    flow = Flow()
    talk(flow, offer=sdp(Endpoint(host, 4000)), answer=sdp(Endpoint(host, 5000)))
    hang_up(flow, at=11.0)
    assert [d.silent for d in media_of(flow).directions] == [None, None]
    looped = media_of(flow, self_talking=frozenset({host}))
    assert [(d.silent, d.cause) for d in looped.directions] == [
        (True, SilenceCause.NOTHING_SENT)] * 2


@pytest.mark.parametrize(
    ("silent", "comfort_noise", "cause"),
    [
        (packets_between(1.1, 10.9), 0, SilenceCause.ONLY_SILENCE),
        (packets_between(1.1, 10.9) - 2, 0, SilenceCause.ONLY_SILENCE),  # 99% or more
        (None, packets_between(1.1, 10.9), SilenceCause.ONLY_COMFORT_NOISE),
        # silent audio between comfort noise: there was audio, and it was silence
        (packets_between(1.1, 10.9) - 100, 100, SilenceCause.ONLY_SILENCE),
        (packets_between(1.1, 10.9) - 10, 0, None),  # some sound: heard
    ],
)
def test_audio_that_carries_no_sound(silent: int | None, comfort_noise: int,
                                     cause: SilenceCause | None) -> None:
    """G.711 packets at least 99% silent, or nothing but comfort noise, carry no sound: the
    direction is silent, and says how much of its audio was silence."""
    flow = Flow()
    _, ok = talk(flow)
    hang_up(flow, at=11.0)
    sent = stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, silent=silent,
                  comfort_noise=comfort_noise)
    media = media_of(flow, [tied(sent, ok)])
    caller = media.direction(Side.CALLER)
    assert (caller.silent, caller.cause) == (cause is not None, cause)
    assert caller.audio_packets == sent.packets - comfort_noise
    if silent is None:
        assert caller.silent_percent is None
    else:
        assert caller.silent_percent == pytest.approx(100 * silent / (sent.packets
                                                                       - comfort_noise))


@pytest.mark.parametrize(("caller_tag", "callee_tag"), [("", ""), ("caller-tag", "callee-tag")])
def test_whose_sdp_each_message_carries(caller_tag: str, callee_tag: str) -> None:
    """The caller sends requests with its From tag and the responses to the callee's requests;
    without tags (RFC 2543), the caller is whoever sends from the INVITE's address. The
    callee's re-INVITE and the caller's answer to it are read that way."""
    flow = Flow(caller_tag=caller_tag, callee_tag=callee_tag)
    talk(flow)
    moved_caller, moved_callee = Endpoint(CALLER_RTP.ip, 4002), Endpoint(CALLEE_RTP.ip, 5002)
    offer, answer = reinvite(flow, at=5.0, offer=sdp(moved_callee), answer=sdp(moved_caller),
                             reverse=True)
    hang_up(flow, at=11.0)
    media = media_of(flow)
    assert [(d.sender, d.announced, d.announced_frame) for d in media.directions] == [
        (Side.CALLER, moved_callee, offer.frame), (Side.CALLEE, moved_caller, answer.frame)]


def test_a_request_without_from_tag_is_placed_by_its_address() -> None:
    """A request that lost its From tag in a call with tags: its address says it is the
    caller's."""
    flow = Flow()
    talk(flow)
    flow.caller_tag = ""
    moved = Endpoint(CALLER_RTP.ip, 4002)
    offer, _ = reinvite(flow, at=5.0, offer=sdp(moved), answer=sdp(CALLEE_RTP))
    hang_up(flow, at=11.0)
    callee = media_of(flow).direction(Side.CALLEE)
    assert (callee.announced, callee.announced_frame) == (moved, offer.frame)


def test_sdp_without_media_is_no_offer() -> None:
    """A body with no m= line (a 180 with a bare session description) offers nothing; the
    SDPs after it still count."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    bare = "v=0\r\no=- 1 1 IN IP4 198.51.100.20\r\ns=-\r\nt=0 0\r\n"
    flow.response(invite, 180, at=0.2, body=bare)
    ok = flow.response(invite, 200, at=1.0, body=sdp(CALLEE_RTP))
    flow.ack(ok, at=1.05)
    hang_up(flow, at=11.0)
    caller = media_of(flow).direction(Side.CALLER)
    assert (caller.announced, caller.announced_frame) == (CALLEE_RTP, ok.frame)


def test_the_address_asked_for_is_the_audio_one_not_the_video() -> None:
    """An answer with a video section before its audio one: the caller's audio is asked for at
    the audio section's port (the session's c= address)."""
    flow = Flow()
    video = Endpoint(CALLEE_RTP.ip, 5002)
    answer = sdp(video, kind="video", formats="96",
                 extra=f"m=audio {CALLEE_RTP.port} RTP/AVP 0 8\r\n")
    _, ok = talk(flow, answer=answer)
    hang_up(flow, at=11.0)
    caller = media_of(flow).direction(Side.CALLER)
    assert (caller.announced, caller.announced_frame) == (CALLEE_RTP, ok.frame)
