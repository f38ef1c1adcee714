"""Calls with media, built by hand for the tests of a call's media (sipdiag/dialogs/media.py).

The signalling is a ``tests.flows.Flow`` whose messages carry SDP written here; the media is
what the media layer would hand over (``CapturedMedia``): streams, RTCP reports and ICMP
errors, each field set from what the test means, so that expected values follow from the
inputs rather than from a whole capture.

    flow = Flow()
    invite, ok = talk(flow)               # INVITE with the caller's SDP, 200 with the callee's
    hang_up(flow, at=11.0)
    media = media_of(flow, [tied(stream(CALLER_RTP, CALLEE_RTP, start=1.1, end=10.9), ok)])

Times are seconds from the flow's first message (``tests.flows.T0``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sipdiag.dialogs.calls import Call, Conversation, read_conversation
from sipdiag.dialogs.media import CallMedia
from sipdiag.media.codecs import Codec, static_codec
from sipdiag.media.model import (
    Announcement,
    CapturedMedia,
    RtcpReport,
    Tie,
    TiedStream,
    Unreachable,
)
from sipdiag.media.stream import Outage, Stream
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage
from tests.flows import T0, Flow

CALLER_RTP = Endpoint("192.0.2.10", 4000)
"""Where the caller (tests.flows.CALLER, 192.0.2.10) asks for its audio."""
CALLEE_RTP = Endpoint("198.51.100.20", 5000)
"""Where the callee (tests.flows.CALLEE, 198.51.100.20) asks for its audio."""
PCMU = static_codec(0)
PACKET_S = 0.02
"""20 ms of G.711 per packet."""


def ns(seconds: float) -> int:
    """The capture time ``seconds`` after the flow's first message."""
    return T0 + round(seconds * 1e9)


def sdp(address: Endpoint, *, direction: str = "sendrecv", formats: str = "0 8",
        kind: str = "audio", connection: str | None = None, extra: str = "") -> str:
    """An SDP with one media section at ``address`` (its c= may be set apart, for holds)."""
    host = connection or address.ip
    family = "IP6" if ":" in host else "IP4"
    return (f"v=0\r\no=- 1 1 IN IP4 {address.ip}\r\ns=-\r\nc=IN {family} {host}\r\nt=0 0\r\n"
            f"m={kind} {address.port} RTP/AVP {formats}\r\na={direction}\r\n{extra}")


def talk(flow: Flow, *, offer: str | None = None, answer: str | None = None,
         ) -> tuple[SipMessage, SipMessage]:
    """INVITE (frame 1, at 0 s, the caller's SDP), 100, 180, 200 (frame 4, at 1 s, the
    callee's SDP) and its ACK (frame 5, at 1.05 s); returns the INVITE and the 200."""
    invite = flow.request("INVITE", at=0.0, body=offer or sdp(CALLER_RTP))
    flow.response(invite, 100, at=0.01)
    flow.response(invite, 180, at=0.2)
    ok = flow.response(invite, 200, at=1.0, body=answer or sdp(CALLEE_RTP))
    flow.ack(ok, at=1.05)
    return invite, ok


def reinvite(flow: Flow, *, at: float, offer: str, answer: str | None = None,
             status: int = 200, reverse: bool = False) -> tuple[SipMessage, SipMessage]:
    """A re-INVITE with ``offer`` at ``at``, its final response 10 ms later (with ``answer``)
    and the ACK; returns the re-INVITE and the response."""
    request = flow.request("INVITE", at=at, in_dialog=True, reverse=reverse, body=offer)
    final = flow.response(request, status, at=at + 0.01, body=answer or "")
    flow.ack(final, at=at + 0.02)
    return request, final


def hang_up(flow: Flow, *, at: float, reverse: bool = False) -> SipMessage:
    """A BYE at ``at`` (the caller's unless ``reverse``) and its 200; returns the BYE."""
    bye = flow.request("BYE", at=at, in_dialog=True, reverse=reverse)
    flow.response(bye, 200, at=at + 0.01)
    return bye


def packets_between(start: float, end: float) -> int:
    """A packet every 20 ms from ``start`` to ``end``, both included."""
    return round((end - start) / PACKET_S) + 1


def stream(src: Endpoint, dst: Endpoint, *, start: float, end: float, ssrc: int = 0x1111,
           lost: int = 0, silent: int | None = 0, comfort_noise: int = 0,
           payload_types: tuple[tuple[int, int], ...] | None = None,
           outages: tuple[Outage, ...] = (), codec: Codec = PCMU,
           frames: tuple[int, int] | None = None) -> Stream:
    """A stream of a packet every 20 ms from ``start`` to ``end`` (seconds), ``lost`` of them
    missing; its first and last frames are ``frames`` (default: 1000 + its times in ms)."""
    packets = packets_between(start, end) - lost
    first_frame, last_frame = frames or (1000 + round(start * 1000), 1000 + round(end * 1000))
    return Stream(
        src=src, dst=dst, ssrc=ssrc, payload_type=0, codec=codec,
        payload_types=payload_types or ((0, packets),),
        packets=packets, expected=packets + lost, lost=lost, duplicates=0, out_of_order=0,
        sequence_errors=0, loss_bursts=len(outages), outages=outages,
        first_frame=first_frame, last_frame=last_frame, first_ns=ns(start), last_ns=ns(end),
        jitter_ms_mean=None, jitter_ms_max=None, max_delta_ms=None, max_delta_frame=0,
        max_delta_ns=0, markers=1, comfort_noise=comfort_noise, silent=silent, events=(),
        event_packets=0, encrypted=False, timeline=None,
    )


def tied(found: Stream, by: SipMessage | None = None, *, tie: Tie = Tie.TO_ANNOUNCED,
         kind: str = "audio") -> TiedStream:
    """The stream tied to the SDP of ``by`` (its destination announced there, or its source
    for ``FROM_ANNOUNCED``); without ``by``, an orphan found by its shape."""
    if by is None:
        return TiedStream(found, Tie.HEURISTIC, None)
    address = found.src if tie is Tie.FROM_ANNOUNCED else found.dst
    return TiedStream(found, tie, Announcement(by.frame, by.ts_ns, by.src, address, 0, kind,
                                               False))


def outage(start: float, end: float, lost: int) -> Outage:
    return Outage(ns(start), ns(end), lost, 0)


def icmp(refused: Stream, *, at: float, reporter: str, frame: int = 900) -> Unreachable:
    """An ICMP port unreachable that ``reporter`` sent about a packet of ``refused``."""
    return Unreachable(frame, ns(at), reporter, refused.src, refused.dst, "port")


def call_with_media(flow: Flow, streams: Iterable[TiedStream] = (), *,
                    rtcp: Iterable[RtcpReport] = (), unreachable: Iterable[Unreachable] = (),
                    captured: bool = True, self_talking: frozenset[str] = frozenset(),
                    end: float | None = None) -> Call:
    """The flow's call, read with what the capture held of its media; ``end``: the end of the
    capture in seconds (default: the flow's last message)."""
    conversation = Conversation(flow.call_id)
    for message in flow.messages:
        conversation.add(message)
    end_ns = flow.messages[-1].ts_ns if end is None else ns(end)
    held = CapturedMedia(tuple(streams), tuple(rtcp), tuple(unreachable), 0, 0, captured,
                         self_talking)
    call = read_conversation(conversation, end_ns, held)
    assert isinstance(call, Call) and call.media is not None
    return call


def media_of(flow: Flow, streams: Iterable[TiedStream] = (), *,
             rtcp: Iterable[RtcpReport] = (), unreachable: Iterable[Unreachable] = (),
             captured: bool = True, self_talking: frozenset[str] = frozenset(),
             end: float | None = None) -> CallMedia:
    """The media of the flow's call (``call_with_media``)."""
    media = call_with_media(flow, streams, rtcp=rtcp, unreachable=unreachable,
                            captured=captured, self_talking=self_talking, end=end).media
    assert media is not None
    return media
