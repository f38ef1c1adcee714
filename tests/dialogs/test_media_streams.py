"""Each stream of a call read against its offers and answers (sipdiag/dialogs/media.py): whose
audio it is and on which hop, where it went (announced, latched, a private address it cannot
reach, elsewhere), payload types the receiver never listed, ICMP refusals, packets the capture
dropped, an SSRC taking over, and what the receiver's RTCP said (RFC 3550 6.4.1, RFC 3611 4.7)
with the delay the MOS assumes."""

from __future__ import annotations

import pytest

from sipdiag.dialogs.media import CallMedia, Destination, MediaStream, RemoteView, Side
from sipdiag.media.codecs import Codec
from sipdiag.media.model import RtcpReport, Tie, TiedStream
from sipdiag.media.rtcp import ReportBlock, VoipMetrics
from sipdiag.network import Endpoint
from tests.dialogs.media_calls import (
    CALLEE_RTP,
    CALLER_RTP,
    hang_up,
    icmp,
    media_of,
    ns,
    outage,
    packets_between,
    reinvite,
    sdp,
    stream,
    talk,
    tied,
)
from tests.flows import CALLEE, CALLER, Flow

SBC = Endpoint("203.0.113.5", 5060)
SBC_FOR_CALLER = Endpoint("203.0.113.5", 20000)
SBC_FOR_CALLEE = Endpoint("203.0.113.5", 30000)
NAT = Endpoint("203.0.113.77", 31000)
ELSEWHERE = Endpoint("203.0.113.99", 7000)


def streams_of(flow: Flow, streams: list[TiedStream], **kwargs: object) -> CallMedia:
    hang_up(flow, at=11.0)
    return media_of(flow, streams, **kwargs)  # type: ignore[arg-type]


def by_ssrc(media: CallMedia) -> dict[int, MediaStream]:
    return {s.stream.ssrc: s for s in media.streams}


def test_destinations() -> None:
    """To the address the receiver announced; back to where the receiver's own packets come
    from (symmetric RTP, a NAT's address: latched); anywhere else: elsewhere, and a direction
    whose audio only went elsewhere is silent for a wrong destination."""
    flow = Flow()
    invite, _ = talk(flow)
    media = streams_of(flow, [
        tied(stream(NAT, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB), invite),
        tied(stream(CALLER_RTP, NAT, start=1.1, end=10.9, ssrc=0xA), invite,
             tie=Tie.FROM_ANNOUNCED),
        tied(stream(CALLER_RTP, ELSEWHERE, start=5.0, end=10.9, ssrc=0xC), invite,
             tie=Tie.FROM_ANNOUNCED),
    ])
    found = by_ssrc(media)
    assert [(found[s].sender, found[s].destination, found[s].from_elsewhere)
            for s in (0xA, 0xB, 0xC)] == [
        (Side.CALLER, Destination.LATCHED, False),
        (Side.CALLEE, Destination.ANNOUNCED, True),
        (Side.CALLER, Destination.ELSEWHERE, False),
    ]
    assert media.direction(Side.CALLER).silent is False
    assert media.direction(Side.CALLER).sent_to == NAT  # where most of its packets went


def test_audio_only_elsewhere_is_a_wrong_destination() -> None:
    """Audible audio that went to no address the receiver announced or sends from is not
    delivered: the direction is silent, cause wrong destination."""
    flow = Flow()
    invite, _ = talk(flow)
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, ELSEWHERE, start=1.1, end=10.9), invite, tie=Tie.FROM_ANNOUNCED),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB), invite),
    ])
    caller = media.direction(Side.CALLER)
    assert (caller.silent, caller.cause.value if caller.cause else None, caller.sent_to) == (
        True, "wrong_destination", ELSEWHERE)
    assert (media.state.value, media.silent_side) == ("one_way", Side.CALLER)


@pytest.mark.parametrize(
    ("callee_sip", "announced", "caller_rtp", "destination"),
    [
        # the callee signals from a public address but announces a private one
        (CALLEE, Endpoint("10.0.0.5", 5000), CALLER_RTP, Destination.PRIVATE),
        # the callee signals from a private address: a LAN, the private address can be right
        (Endpoint("10.0.0.4", 5060), Endpoint("10.0.0.5", 5000), CALLER_RTP,
         Destination.ANNOUNCED),
        # a private sender reaches a private address
        (CALLEE, Endpoint("10.0.0.5", 5000), Endpoint("10.1.1.1", 4000),
         Destination.ANNOUNCED),
        # a public announced address
        (CALLEE, CALLEE_RTP, CALLER_RTP, Destination.ANNOUNCED),
    ],
)
def test_private_address_behind_a_nat(callee_sip: Endpoint, announced: Endpoint,
                                      caller_rtp: Endpoint, destination: Destination) -> None:
    """A private address announced by a receiver whose SIP came from a public one cannot be
    reached from a public sender: private. A caller's public SIP does not make it so."""
    flow = Flow(callee=callee_sip)
    _, ok = talk(flow, answer=sdp(announced))
    media = streams_of(flow, [tied(stream(caller_rtp, announced, start=1.1, end=10.9), ok)])
    [found] = media.streams
    assert (found.sender, found.destination) == (Side.CALLER, destination)
    caller = media.direction(Side.CALLER)
    if destination is Destination.PRIVATE:
        assert (caller.silent, caller.cause.value if caller.cause else None) == (
            True, "private_address")
    else:
        assert caller.silent is False


def test_payload_types_the_receiver_never_listed() -> None:
    """A payload type no SDP of the receiver listed is unexpected (RFC 3264 5.1) and not
    audible; static comfort noise is left out; the receiver's own payload types are fine."""
    flow = Flow()
    invite, ok = talk(flow, offer=sdp(CALLER_RTP, formats="0 101"), answer=sdp(CALLEE_RTP,
                                                                               formats="8"))
    audio = packets_between(1.1, 10.9)
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA,
                    comfort_noise=10, payload_types=((0, audio - 10), (13, 10))), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB,
                    payload_types=((0, audio),)), invite),
    ])
    found = by_ssrc(media)
    assert (found[0xA].unexpected_payload_types, found[0xB].unexpected_payload_types) == (
        (0,), ())
    assert (found[0xA].audible, found[0xB].audible) == (False, True)
    caller = media.direction(Side.CALLER)
    assert (caller.silent, caller.cause.value if caller.cause else None) == (
        True, "unnegotiated_payload")


@pytest.mark.parametrize(
    ("errors_at", "refused", "counted"),
    [
        ((5.0,), False, 1),
        ((2.0, 5.0, 10.95), True, 3),
        ((0.5, 5.0, 11.5), False, 1),  # before the stream, and after its grace: not counted
        ((5.0, 11.005, 11.008), False, 1),  # after the BYE, within the grace: not counted
    ],
)
def test_icmp_unreachable_while_the_stream_flows(errors_at: tuple[float, ...], refused: bool,
                                                 counted: int) -> None:
    """ICMP errors about a stream count from its first packet to 1 s after its last, and not
    after the call ended; three make it refused, silent with cause unreachable, naming the
    first reporter."""
    flow = Flow()
    _, ok = talk(flow)
    caller = stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9)
    errors = [icmp(caller, at=t, reporter=f"198.51.100.{i + 1}") for i, t in enumerate(errors_at)]
    bye = flow.request("BYE", at=11.0, in_dialog=True)
    flow.response(bye, 200, at=11.01)
    media = media_of(flow, [tied(caller, ok)], unreachable=errors, end=12.0)
    [found] = media.streams
    first = next(i for i, t in enumerate(errors_at) if 1.1 <= t <= 11.0)
    assert (found.unreachable, found.refused, found.unreachable_from) == (
        counted, refused, f"198.51.100.{first + 1}")
    direction = media.direction(Side.CALLER)
    assert (direction.silent, direction.refused_by) == (
        (True, f"198.51.100.{first + 1}") if refused else (False, None))
    if refused:
        assert direction.cause is not None and direction.cause.value == "unreachable"


@pytest.mark.parametrize(
    ("caller_gap", "callee_gap", "lost", "dropped"),
    [
        ((5.0, 5.5), (5.0, 5.5), 25, 25),  # the same moment: the capture's
        ((5.0, 5.5), (5.25, 5.75), 25, 25),  # overlapping half of each: still the same moment
        ((5.0, 5.5), (5.3, 5.8), 25, 0),  # overlapping less than half
        ((5.0, 5.5), (7.0, 7.5), 25, 0),  # another moment
        ((5.0, 5.1), (5.0, 5.1), 4, 4),  # both exactly 0.1 s: long enough
    ],
)
def test_gaps_in_both_directions_at_once_are_the_captures(
    caller_gap: tuple[float, float], callee_gap: tuple[float, float], lost: int, dropped: int
) -> None:
    """Packets lost in a gap of at least 0.1 s that the other direction has at the same time
    (overlapping at least half of the longer gap) were dropped by the capture."""
    flow = Flow()
    invite, ok = talk(flow)
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA, lost=lost,
                    outages=(outage(*caller_gap, lost), outage(8.0, 8.05, 2))), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB, lost=lost,
                    outages=(outage(*callee_gap, lost), outage(8.0, 8.05, 2))), invite),
    ])
    assert [s.capture_dropped for s in media.streams] == [dropped, dropped]


def test_ice_candidates_for_rtp_are_announced_addresses() -> None:
    """An ICE candidate of component 1 is an address the callee receives its RTP on (RFC 8839
    5.1); one of component 2 is for RTCP: audio sent there went elsewhere."""
    rtp, rtcp = Endpoint("198.51.100.21", 6000), Endpoint("198.51.100.21", 6001)
    candidates = (f"a=candidate:1 1 UDP 2130706431 {rtp.ip} {rtp.port} typ host\r\n"
                  f"a=candidate:1 2 UDP 2130706430 {rtcp.ip} {rtcp.port} typ host\r\n")
    flow = Flow()
    _, ok = talk(flow, answer=sdp(CALLEE_RTP, extra=candidates))
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, rtp, start=1.1, end=10.9, ssrc=1), ok),
        tied(stream(CALLER_RTP, rtcp, start=1.1, end=10.9, ssrc=2), ok),
    ])
    assert [s.destination for s in media.streams] == [Destination.ANNOUNCED,
                                                      Destination.ELSEWHERE]


def test_new_ssrc_on_the_same_path_follows_the_old_one() -> None:
    """A stream that replaces another on the same path with no SDP in between follows it; one
    after a re-INVITE's SDP is a new stream of its own."""
    flow = Flow()
    invite, ok = talk(flow)
    reinvite(flow, at=6.0, offer=sdp(CALLER_RTP), answer=sdp(CALLEE_RTP))
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=3.0, ssrc=0xA1), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB), invite),
        tied(stream(CALLER_RTP, CALLEE_RTP, start=3.02, end=5.9, ssrc=0xA2), ok),
        tied(stream(CALLER_RTP, CALLEE_RTP, start=6.1, end=10.9, ssrc=0xA3), ok),
    ])
    assert [s.follows_ssrc for s in media.streams] == [None, None, 0xA1, None]
    caller = media.direction(Side.CALLER)
    assert (caller.first_ns, caller.last_ns) == (ns(1.1), ns(10.9))
    assert caller.packets == sum(packets_between(a, b)
                                 for a, b in ((1.1, 3.0), (3.02, 5.9), (6.1, 10.9)))
    assert caller.sent_to == CALLEE_RTP
    assert caller.evidence == (4, 2100, 4000, 4020, 6900)  # the answer, two streams' ends


def test_an_sdp_as_the_new_ssrc_starts_comes_in_between() -> None:
    """The re-INVITE's answer arrives at the very moment the new SSRC's first packet does:
    an SDP came in between, so the new stream follows nothing."""
    flow = Flow()
    _, ok = talk(flow)
    _, answer = reinvite(flow, at=6.0, offer=sdp(CALLER_RTP), answer=sdp(CALLEE_RTP))
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=6.005, ssrc=0xA1), ok),
        tied(stream(CALLER_RTP, CALLEE_RTP, start=6.01, end=10.9, ssrc=0xA2), ok),
    ])
    assert answer.ts_ns == media.streams[1].stream.first_ns
    assert [s.follows_ssrc for s in media.streams] == [None, None]


def test_orphan_streams_belong_to_the_side_of_their_hosts() -> None:
    """A stream no SDP announced is the audio of the side whose host sends it, or of the other
    side than the one whose host receives it; between unknown hosts, nobody's. One at a
    90 kHz clock is video."""
    flow = Flow()
    talk(flow)
    stranger = Endpoint("192.0.2.200", 9000)
    media = streams_of(flow, [
        tied(stream(Endpoint(CALLEE.ip, 7000), stranger, start=1.1, end=10.9, ssrc=1)),
        tied(stream(stranger, Endpoint(CALLER.ip, 7002), start=1.1, end=10.9, ssrc=2)),
        tied(stream(stranger, Endpoint("192.0.2.201", 9002), start=1.1, end=10.9, ssrc=3)),
        tied(stream(Endpoint(CALLER.ip, 7004), Endpoint(CALLEE.ip, 7006), start=1.1, end=10.9,
                    ssrc=4, codec=Codec("H264", 90000), silent=None)),
    ])
    assert [(s.sender, s.kind, s.tie, s.announcement) for s in media.streams] == [
        (Side.CALLEE, "audio", Tie.HEURISTIC, None),
        (Side.CALLEE, "audio", Tie.HEURISTIC, None),
        (None, "audio", Tie.HEURISTIC, None),
        (Side.CALLER, "video", Tie.HEURISTIC, None),
    ]
    assert [s.destination for s in media.streams][2] is Destination.ANNOUNCED


def test_hops_of_a_call_through_an_sbc() -> None:
    """Through an SBC that rewrites the SDP, each stream is on the hop of the SDP that
    announced it (0: the caller's), and carries the loss of the same direction's stream on
    the hop before it (the caller's audio flows hop 0 then 1, the callee's 1 then 0)."""
    flow = Flow(callee=SBC)
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    onward = flow.request("INVITE", at=0.01, cseq=invite.cseq, src=SBC, dst=CALLEE,
                          body=sdp(SBC_FOR_CALLEE))
    ok_in = flow.response(onward, 200, at=0.9, body=sdp(CALLEE_RTP))
    ok = flow.response(invite, 200, at=1.0, body=sdp(SBC_FOR_CALLER))
    flow.ack(ok, at=1.05)
    flow.ack(ok_in, at=1.06)
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, SBC_FOR_CALLER, start=1.1, end=10.9, ssrc=0xA0, lost=49), ok),
        tied(stream(SBC_FOR_CALLEE, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA1), ok_in),
        tied(stream(CALLEE_RTP, SBC_FOR_CALLEE, start=1.1, end=10.9, ssrc=0xB1, lost=98),
             onward),
        tied(stream(SBC_FOR_CALLER, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB0), invite),
    ])
    assert [(s.sender, s.hop, s.destination) for s in media.streams] == [
        (Side.CALLER, 0, Destination.ANNOUNCED), (Side.CALLER, 1, Destination.ANNOUNCED),
        (Side.CALLEE, 1, Destination.ANNOUNCED), (Side.CALLEE, 0, Destination.ANNOUNCED)]
    expected = packets_between(1.1, 10.9)
    assert [s.upstream_loss_percent for s in media.streams] == [
        None, pytest.approx(100 * 49 / expected), None, pytest.approx(100 * 98 / expected)]


def test_hops_between_the_same_hosts_are_told_apart_by_port() -> None:
    """A PBX that sends the call back to a second phone on the caller's host: both legs join
    the same two hosts, and the ports tell which leg an SDP came on."""
    pbx = Endpoint("203.0.113.5", 5060)
    pbx_out = Endpoint("203.0.113.5", 5080)
    phone = Endpoint(CALLER.ip, 5062)
    phone_rtp = Endpoint(CALLER.ip, 4100)
    flow = Flow(callee=pbx)
    invite = flow.request("INVITE", at=0.0, body=sdp(CALLER_RTP))
    onward = flow.request("INVITE", at=0.01, cseq=invite.cseq, src=pbx_out, dst=phone,
                          body=sdp(Endpoint(pbx.ip, 30000)))
    ok_in = flow.response(onward, 200, at=0.9, body=sdp(phone_rtp))
    ok = flow.response(invite, 200, at=1.0, body=sdp(Endpoint(pbx.ip, 20000)))
    flow.ack(ok, at=1.05)
    media = streams_of(flow, [
        tied(stream(Endpoint(pbx.ip, 30000), phone_rtp, start=1.1, end=10.9, ssrc=1), ok_in),
        tied(stream(CALLER_RTP, Endpoint(pbx.ip, 20000), start=1.1, end=10.9, ssrc=2), ok),
    ])
    assert [(s.sender, s.hop) for s in media.streams] == [(Side.CALLER, 1), (Side.CALLER, 0)]


def test_call_joined_late_puts_its_sdp_on_the_callers_leg() -> None:
    """Without the initial INVITE the call has no legs: a re-INVITE's SDP counts on hop 0."""
    flow = Flow()
    offer, answer = reinvite(flow, at=1.0, offer=sdp(CALLER_RTP), answer=sdp(CALLEE_RTP))
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=1), answer),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=2), offer),
    ])
    assert [(s.sender, s.hop) for s in media.streams] == [(Side.CALLER, 0), (Side.CALLEE, 0)]


def round_trip_ms(sr_at: float, report_at: float, dlsr: int) -> float:
    """RFC 3550 6.4.1: arrival of the report - LSR (the capture time of the SR it echoes) -
    DLSR (in 1/65536 s)."""
    return (report_at - sr_at - dlsr / 65536) * 1000


def block(reporter: int, source: int, fraction: int, cumulative: int, *, at: float,
          trip: float | None) -> RtcpReport:
    src, dst = (CALLEE_RTP, CALLER_RTP) if source == 0xA else (CALLER_RTP, CALLEE_RTP)
    item = ReportBlock(reporter, source, fraction, cumulative, 0, 0, 0, 0)
    return RtcpReport(round(at * 100), ns(at), Endpoint(src.ip, src.port + 1),
                      Endpoint(dst.ip, dst.port + 1), item, trip)


def test_what_the_receivers_rtcp_said() -> None:
    """Per SSRC reported on: how many report blocks, the largest fraction lost in percent
    (of 256), the last cumulative count, the last round trip measured, and an XR VoIP metrics
    block's MOS-LQ and R (its round trip when no report block gave one)."""
    callee_trip = round_trip_ms(5.0, 5.1, 3277)  # the callee's reports on the caller's audio
    flow = Flow()
    invite, ok = talk(flow)
    reports = [
        block(0xB, 0xA, 64, 5, at=3.0, trip=None),
        block(0xB, 0xA, 128, 9, at=5.1, trip=callee_trip),
        block(0xB, 0xA, 32, 12, at=7.0, trip=None),
        RtcpReport(800, ns(8.0), CALLER_RTP, CALLEE_RTP,
                   VoipMetrics(0xA, 0xB, 0, 0, 42, 0, 88, 4.1, 4.0)),
    ]
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB), invite),
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xC), ok),
    ], rtcp=reports)
    found = by_ssrc(media)
    assert found[0xA].remote == RemoteView(3, 50.0, 12, None, callee_trip, None, None)
    assert found[0xB].remote == RemoteView(0, 0.0, 0, None, 42, 4.1, 88)
    assert found[0xC].remote is None
    assert media.rtcp_packets == 4


@pytest.mark.parametrize(
    ("trips", "one_way_ms"),
    [
        ({}, 0.0),
        ({0xA: 60.0}, 30.0),  # only the callee reported: its round trip alone, halved
        ({0xA: 60.0, 0xB: 100.0}, 80.0),  # half of both round trips through the capture point
    ],
)
def test_delay_the_mos_assumes(trips: dict[int, float], one_way_ms: float) -> None:
    """The mouth-to-ear delay: half the round trips of both sides to the capture point, plus
    twice the packet time (one packet to fill, one in the jitter buffer, without jitter)."""
    flow = Flow()
    invite, ok = talk(flow)
    reports = [block(0xB if ssrc == 0xA else 0xA, ssrc, 0, 0, at=5.0, trip=trip)
               for ssrc, trip in trips.items()]
    stranger = Endpoint("192.0.2.200", 9000)
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9, ssrc=0xA), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=10.9, ssrc=0xB), invite),
        tied(stream(stranger, Endpoint("192.0.2.201", 9002), start=1.1, end=10.9, ssrc=0xC)),
    ], rtcp=reports)
    packet_ms = 9800 / (packets_between(1.1, 10.9) - 1)  # 20 ms
    found = by_ssrc(media)
    assert [found[0xA].delay_ms, found[0xB].delay_ms] == pytest.approx(
        [one_way_ms + 2 * packet_ms] * 2)
    assert found[0xC].sender is None
    assert found[0xC].delay_ms == pytest.approx(2 * packet_ms)  # nobody's: no round trip
    assert found[0xA].mos is not None and found[0xA].r_factor is not None


def test_two_packets_are_enough_for_a_score() -> None:
    """Two packets give the packet time (20 ms here), so a delay (one packet in the jitter
    buffer, one to fill) and a MOS; one packet gives neither."""
    flow = Flow()
    invite, ok = talk(flow)
    media = streams_of(flow, [
        tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=1.12, ssrc=2), ok),
        tied(stream(CALLEE_RTP, CALLER_RTP, start=1.1, end=1.1, ssrc=1), invite),
    ])
    two, one = by_ssrc(media)[2], by_ssrc(media)[1]
    assert (two.stream.packets, one.stream.packets) == (2, 1)
    assert two.delay_ms == pytest.approx(2 * 20.0) and two.mos is not None
    assert (one.mos, one.r_factor, one.delay_ms) == (None, None, None)
