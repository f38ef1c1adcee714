"""A call's media: its RTP streams read against its offers and answers.

The media layer hands over what the capture holds of a call's media (``CapturedMedia``): its
streams, each tied to the SDP address it was sent to or from, its RTCP reports and the ICMP
errors its packets drew. Here they are read the way the call's signalling says:

- each stream gets a direction (the caller's audio to the callee, or the callee's to the
  caller: the SDP that announced the address says whose it is), the hop it was seen on, and
  where it went: to an address the receiving side announced, to where the receiving side's
  own packets come from (symmetric RTP, RFC 4961, as an SBC latches to a NAT), to a private
  address the receiver announced from behind a NAT, or elsewhere;
- each direction is judged over the time the offers and answers let it flow (RFC 3264 6.1:
  ``sendonly``, ``recvonly``, ``inactive``, port 0 and the old c=0.0.0.0 hold turn it off):
  silent when nothing audible of it reached the other side, with the most likely cause the
  capture shows;
- the call's media state: ``two_way``, ``one_way`` (and which side is silent), ``none``,
  ``on_hold``, ``not_captured`` (a capture that cannot hold this call's media), or
  ``early_only`` (media before an answer that never came).

Each stream gets an estimated MOS (``media.quality``), and what the receiver's RTCP said of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import NamedTuple

from sipdiag.dialogs.transactions import Transaction
from sipdiag.media import quality
from sipdiag.media.codecs import CN_STATIC_TYPES
from sipdiag.media.model import (
    Announcement,
    CapturedMedia,
    RtcpReport,
    Tie,
    TiedStream,
    Unreachable,
)
from sipdiag.media.rtcp import ReportBlock, VoipMetrics
from sipdiag.media.stream import Dtmf, Outage, Stream
from sipdiag.network import Endpoint
from sipdiag.network.addresses import address_kind, normal_ip
from sipdiag.sip.message import SipMessage
from sipdiag.sip.sdp import Sdp

SILENT_SHARE = 0.99
"""A direction whose audio packets are this silent throughout carries no sound."""
MIN_EXPECTED_S = 2.0
"""A direction is judged silent only when the SDP let it flow this long after the answer (a
capture that ends a moment after the answer says nothing of the audio)."""
MIN_CAPTURE_GAP_S = 0.1
"""Gaps at least this long missing in both directions at once are the capture's (a mirror port
or capture host that dropped packets), not the network's: a link that fails beyond the capture
point takes only the packets coming across it."""
REFUSED_AFTER = 3
"""ICMP errors while a stream flows that make it refused (one can answer a stray packet sent
before the far end opened its port, such as an ICE check)."""
ICMP_GRACE_NS = 1_000_000_000
NS = 1_000_000_000


class MediaState(Enum):
    TWO_WAY = "two_way"
    ONE_WAY = "one_way"
    NONE = "none"
    ON_HOLD = "on_hold"
    NOT_CAPTURED = "not_captured"
    EARLY_ONLY = "early_only"


class Side(Enum):
    CALLER = "caller"
    CALLEE = "callee"

    @property
    def other(self) -> Side:
        return Side.CALLEE if self is Side.CALLER else Side.CALLER


class Destination(Enum):
    """Where a stream went, against what the receiving side announced."""

    ANNOUNCED = "announced"
    LATCHED = "latched"
    """To where the receiving side's own packets come from (symmetric RTP)."""
    PRIVATE = "private"
    """To a private address announced by a receiver whose SIP came from a public one, from a
    public sender: it cannot arrive."""
    ELSEWHERE = "elsewhere"


class SilenceCause(Enum):
    """Why a direction that should have carried audio did not, most likely first."""

    UNREACHABLE = "unreachable"
    """Its packets were refused with ICMP destination unreachable."""
    PRIVATE_ADDRESS = "private_address"
    WRONG_DESTINATION = "wrong_destination"
    UNNEGOTIATED_PAYLOAD = "unnegotiated_payload"
    """It came in a payload type the receiver never offered or accepted: it cannot decode it."""
    ONLY_COMFORT_NOISE = "only_comfort_noise"
    ONLY_SILENCE = "only_silence"
    NOTHING_SENT = "nothing_sent"


Window = tuple[int, int, frozenset[Side]]
"""(from, to, the sides whose audio the SDP let flow then)."""


class RemoteView(NamedTuple):
    """What the receiver's RTCP said of a stream (RFC 3550 6.4.1; RFC 3611 4.7)."""

    reports: int
    fraction_lost_max: float
    """Percent, the largest of any report."""
    cumulative_lost: int
    """The last report's count."""
    jitter_ms_max: float | None
    round_trip_ms: float | None
    """The last round trip measured from the capture point to the receiver and back."""
    mos_lq: float | None
    """From an RTCP XR VoIP metrics block, when the receiver sent one."""
    r_factor: int | None


class MediaStream(NamedTuple):
    """A stream of the call, read against its offers and answers."""

    stream: Stream
    kind: str
    """audio, video, ... as its SDP says (an orphan at a 90 kHz clock is video)."""
    sender: Side | None
    """The side whose audio it is (None: the capture cannot tell)."""
    hop: int
    """The leg of the call (0: the caller's) whose SDP announced it."""
    tie: Tie
    announcement: Announcement | None
    destination: Destination
    from_elsewhere: bool
    """It came from another address than its sender announced (a NAT, or latching)."""
    unexpected_payload_types: tuple[int, ...]
    """Payload types that the receiver's SDP did not offer or accept."""
    follows_ssrc: int | None
    """The SSRC this stream took over from on the same path, when no SDP came in between."""
    mos: float | None
    r_factor: float | None
    delay_ms: float | None
    """The mouth-to-ear delay the MOS assumed."""
    remote: RemoteView | None
    upstream_loss_percent: float | None
    """Loss of the same direction's stream on the hop before this one."""
    capture_dropped: int
    """Of its lost packets, those missing in gaps the other direction has at the same time:
    dropped by the capture, not by the network."""
    unreachable: int
    """ICMP destination unreachable errors its packets drew while it flowed."""
    unreachable_from: str | None
    """Where the first of them came from."""

    @property
    def audible(self) -> bool:
        """It carried audio the receiver can play: in a payload type it accepted, and not all
        comfort noise or silence."""
        stream = self.stream
        unexpected = sum(n for pt, n in stream.payload_types
                         if pt in self.unexpected_payload_types)
        audio = stream.audio_packets - unexpected
        if audio <= 0:
            return False
        return stream.silent is None or stream.silent < SILENT_SHARE * audio

    @property
    def refused(self) -> bool:
        """The far end (or a firewall on the way) answered it with ICMP unreachable."""
        return self.unreachable >= REFUSED_AFTER


class Direction(NamedTuple):
    """One side's audio toward the other."""

    sender: Side
    expected_s: float
    """Seconds after the answer during which the offers and answers let it flow."""
    packets: int
    audio_packets: int
    silent_percent: float | None
    """Of its G.711 audio packets, those with no sound (None for other codecs)."""
    silent: bool | None
    """Expected, but nothing audible of it reached the other side; None when the capture
    cannot hold the call's media (``not_captured``): it cannot tell."""
    cause: SilenceCause | None
    first_ns: int | None
    last_ns: int | None
    """Its first and last audible packet that reached the other side."""
    first_frame: int | None
    last_frame: int | None
    start_after_answer_s: float | None
    start_after_ack_s: float | None
    """From the ACK of the answer to its first audible packet (negative: before the ACK, as
    RFC 3264 lets the answerer send once it has sent the answer)."""
    stop_before_end_s: float | None
    on_hold_at_end: bool
    announced: Endpoint | None
    """Where the receiving side last asked for this audio (its SDP's c= and m=)."""
    announced_frame: int | None
    receiver_sip: Endpoint | None
    """Where the SIP message with that SDP came from."""
    sent_to: Endpoint | None
    """Where most of the sender's packets went."""
    refused_by: str | None
    """The address whose ICMP errors refused the packets, if they were refused."""
    evidence: tuple[int, ...]
    """Frames that show it: the SDP that announced the receiver, the first and last packet."""

    @property
    def receiver(self) -> Side:
        return self.sender.other

    @property
    def expected(self) -> bool:
        return self.expected_s > 0


class CallMedia(NamedTuple):
    state: MediaState
    silent_side: Side | None
    """For ``one_way``: the side whose audio does not reach the other."""
    answered_ns: int | None
    acked_ns: int | None
    """The ACK of that answer."""
    end_ns: int
    """The BYE (or CANCEL), or the end of the capture while the call was up."""
    bye_frame: int | None
    directions: tuple[Direction, ...]
    streams: tuple[MediaStream, ...]
    rtcp_packets: int
    dtmf: tuple[tuple[Side | None, Dtmf], ...]
    other_packets: int
    malformed: int
    stopped_before_end_s: float | None
    """From the last audio packet to the end, when audio flowed at all and the SDP did not
    stop it (a hold, a switch to fax)."""
    windows: tuple[Window, ...] = ()
    """From the answer to the end: the periods the offers and answers cut it into, each with
    the sides whose audio they let flow."""

    def direction(self, sender: Side) -> Direction:
        return next(d for d in self.directions if d.sender is sender)

    def held(self, start_ns: int, end_ns: int) -> bool:
        """The SDP put the call on hold (either way) at some time between start and end: the
        side holding often stops sending too (RFC 3264 8.4 lets it)."""
        return any(a < end_ns and start_ns < b and len(sides) < 2
                   for a, b, sides in self.windows)


@dataclass(frozen=True, slots=True)
class _Offer:
    """An SDP of the call: who sent it, on which hop, when."""

    message: SipMessage
    side: Side
    hop: int
    sdp: Sdp
    refused: bool
    """An offer whose request failed (a re-INVITE or UPDATE answered 3xx-6xx): the session
    stays as it was (RFC 3261 14.1, RFC 3311 5.2). Who announced what still counts."""


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the call layer knows that the media reading needs."""

    messages: Sequence[SipMessage]
    first_invite: SipMessage | None
    hops: Sequence[tuple[Endpoint, Endpoint]]
    """Where each leg's INVITE went (src, dst), the caller's leg first."""
    answer: SipMessage | None
    """The 2xx that answered the call on the caller's leg."""
    bye: Transaction | None
    observed_until_ns: int


def read_media(facts: CallFacts, captured: CapturedMedia | None) -> CallMedia | None:
    """The call's media, or None when it had neither a session offered and answered nor any
    stream."""
    if captured is None:
        return None
    caller = _Caller.of(facts)
    offers = _offers(facts, caller)
    if not captured.streams and not _answered_with_sdp(facts, offers):
        return None
    answered_ns = _answered_at(facts, captured)
    bye = facts.bye.request if facts.bye is not None and facts.bye.request else None
    times = _Times(answered_ns, _acked_at(facts, answered_ns),
                   bye.ts_ns if bye is not None else facts.observed_until_ns)
    end_ns = times.end_ns
    streams = _media_streams(facts, caller, offers, captured, end_ns)
    windows = _windows(offers, answered_ns, end_ns)
    directions = tuple(_direction(side, streams, offers, windows, captured, times)
                       for side in (Side.CALLER, Side.CALLEE))
    state, silent_side = _state(directions, streams, captured, answered_ns)
    last = max((s.stream.last_ns for s in streams if s.kind == "audio"), default=None)
    if windows and len(windows[-1][2]) < 2:
        last = None  # on hold (or fax) at the end: the audio was meant to stop
    return CallMedia(
        state=state,
        silent_side=silent_side,
        answered_ns=answered_ns,
        acked_ns=times.acked_ns,
        end_ns=end_ns,
        bye_frame=bye.frame if bye is not None else None,
        directions=directions,
        streams=streams,
        rtcp_packets=len({r.frame for r in captured.rtcp}),
        dtmf=tuple((s.sender, event) for s in streams for event in s.stream.events),
        other_packets=captured.other_packets,
        malformed=captured.malformed,
        stopped_before_end_s=(end_ns - last) / NS if last is not None and end_ns > last else None,
        windows=tuple(windows),
    )


class _Times(NamedTuple):
    """When the call was answered, when that answer was ACKed, and when the call ended."""

    answered_ns: int | None
    acked_ns: int | None
    end_ns: int


def _acked_at(facts: CallFacts, answered_ns: int | None) -> int | None:
    """The first ACK at or after the answer (RFC 3261 13.2.2.4: the caller ACKs the 2xx)."""
    if answered_ns is None:
        return None
    return next((m.ts_ns for m in facts.messages
                 if m.method == "ACK" and m.ts_ns >= answered_ns), None)


def _answered_at(facts: CallFacts, captured: CapturedMedia) -> int | None:
    """The 2xx that answered the call; for a call the capture joined after it was answered
    (no INVITE, a dialog's requests), the start of the capture's view of it."""
    if facts.answer is not None:
        return facts.answer.ts_ns
    if facts.first_invite is not None or facts.bye is None:
        return None
    starts = [facts.messages[0].ts_ns, *(s.stream.first_ns for s in captured.streams)]
    return min(starts)


# -- who sent what -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Caller:
    """Who sent a message: the caller sends requests with its own From tag and responses to
    the callee's requests (whose From tag is the callee's). Without the INVITE (a capture that
    joined the call late), the caller is the From of the first message, as for the call's
    record."""

    tag: str | None
    address: Endpoint

    @classmethod
    def of(cls, facts: CallFacts) -> _Caller:
        anchor = facts.first_invite or facts.messages[0]
        return cls(anchor.from_tag, anchor.src if anchor.is_request else anchor.dst)

    def side(self, message: SipMessage) -> Side:
        tag = message.from_tag
        if self.tag and tag:
            caller_sent = (tag == self.tag) == message.is_request
        else:
            caller_sent = message.src == self.address
        return Side.CALLER if caller_sent else Side.CALLEE


def _hop_of(message: SipMessage, facts: CallFacts) -> int:
    pair = {message.src, message.dst}
    for index, (src, dst) in enumerate(facts.hops):
        if pair == {src, dst}:
            return index
    ips = {message.src.ip, message.dst.ip}
    for index, (src, dst) in enumerate(facts.hops):
        if ips == {src.ip, dst.ip}:
            return index
    return 0


def _offers(facts: CallFacts, caller: _Caller) -> list[_Offer]:
    finals = [((m.cseq, m.cseq_method), m.status) for m in facts.messages if m.status >= 200]
    failed = {key for key, status in finals if status >= 300} - {
        key for key, status in finals if status < 300}  # a forked branch may have answered
    found = []
    seen = set()
    for message in facts.messages:
        if message.content_length == 0 or message.status == 100:
            continue
        sdp = message.sdp
        if sdp is None or not sdp.media:
            continue
        side, hop = caller.side(message), _hop_of(message, facts)
        copy = (side, hop, message.cseq, message.cseq_method, message.status, message.to_tag)
        if copy not in seen:
            seen.add(copy)  # a retransmission repeats its first copy's SDP: no new offer
            refused = message.status >= 300 or (
                message.is_request and (message.cseq, message.cseq_method) in failed)
            found.append(_Offer(message, side, hop, sdp, refused))
    return found


def _answered_with_sdp(facts: CallFacts, offers: list[_Offer]) -> bool:
    return facts.answer is not None and {o.side for o in offers} == {Side.CALLER, Side.CALLEE}


# -- streams -----------------------------------------------------------------------------

class _Placed(NamedTuple):
    """A stream and where it sits in the call, before it is read against the others."""

    stream: Stream
    sender: Side | None
    hop: int


def _media_streams(facts: CallFacts, caller: _Caller, offers: list[_Offer],
                   captured: CapturedMedia, end_ns: int) -> tuple[MediaStream, ...]:
    if not captured.streams:
        return ()  # most calls of a capture filtered to SIP: nothing to place or read
    by_frame = {offer.message.frame: offer for offer in offers}
    announced = {side: _announced(offers, side) for side in Side}
    hosts = _side_hosts(facts, caller, announced)
    placed = [_place(tied, by_frame, hosts) for tied in captured.streams]
    sources = {side: {p.stream.src for p in placed if p.sender is side} for side in Side}
    unreachable = _unreachable_by_flow(captured)
    rtcp = _remote_views(captured.rtcp)
    round_trips = _round_trips(captured.streams, [p.sender for p in placed], rtcp)
    sdp_times = sorted(o.message.ts_ns for o in offers)
    streams = []
    for index, (tied, here) in enumerate(zip(captured.streams, placed, strict=True)):
        stream, sender = here.stream, here.sender
        receiver = sender.other if sender is not None else None
        score = _score(stream, _one_way_ms(round_trips, sender))
        refusals = [error for error in unreachable.get((stream.src, stream.dst), ())
                    if stream.first_ns <= error.ts_ns
                    <= min(end_ns, stream.last_ns + ICMP_GRACE_NS)]
        streams.append(MediaStream(
            stream=stream,
            kind=_kind(tied),
            sender=sender,
            hop=here.hop,
            tie=tied.tie,
            announcement=tied.announcement,
            destination=_destination(stream, receiver, announced, sources, offers),
            from_elsewhere=sender is not None and stream.src not in announced[sender],
            unexpected_payload_types=_unexpected(stream, offers, receiver),
            follows_ssrc=_follows(stream, placed[:index], sdp_times),
            mos=score.mos if score else None,
            r_factor=score.r_factor if score else None,
            delay_ms=score.delay_ms if score else None,
            remote=rtcp.get(stream.ssrc),
            upstream_loss_percent=_upstream(here, placed),
            capture_dropped=_capture_dropped(here, placed),
            unreachable=len(refusals),
            unreachable_from=refusals[0].reporter if refusals else None,
        ))
    return tuple(streams)


def _place(tied: TiedStream, by_frame: dict[int, _Offer],
           hosts: dict[Side, set[str]]) -> _Placed:
    announcement = tied.announcement
    offer = by_frame.get(announcement.frame) if announcement else None
    return _Placed(tied.stream, _sender(tied, offer, hosts), offer.hop if offer else 0)


def _sender(tied: TiedStream, offer: _Offer | None, hosts: dict[Side, set[str]]) -> Side | None:
    """A stream to an announced address is the other side's audio; one from it, the
    announcer's own; an orphan is the side whose host it comes from (or the other side of
    the one it goes to)."""
    if offer is not None:
        return offer.side.other if tied.tie is Tie.TO_ANNOUNCED else offer.side
    src, dst = tied.stream.src.ip, tied.stream.dst.ip
    for side in Side:
        if src in hosts[side] and src not in hosts[side.other]:
            return side
    for side in Side:
        if dst in hosts[side] and dst not in hosts[side.other]:
            return side.other
    return None


def _side_hosts(facts: CallFacts, caller: _Caller,
                announced: dict[Side, set[Endpoint]]) -> dict[Side, set[str]]:
    """The addresses of each side: where its SIP came from, and what its SDPs announced
    (``_announced``)."""
    found: dict[Side, set[str]] = {side: set() for side in Side}
    found[Side.CALLER].add(caller.address.ip)
    for message in facts.messages:
        found[caller.side(message)].add(message.src.ip)
    for side in Side:
        found[side] |= {a.ip for a in announced[side]}
    return found


def _kind(tied: TiedStream) -> str:
    if tied.announcement is not None:
        return tied.announcement.kind
    return "video" if tied.stream.codec.clock_rate == 90000 else "audio"


def _announced(offers: Iterable[_Offer], side: Side) -> set[Endpoint]:
    """Every address the side announced for RTP: c= and m=, and its ICE candidates."""
    found = set()
    for offer in offers:
        if offer.side is not side:
            continue
        for media in offer.sdp.media:
            ip = normal_ip(media.connection) if media.connection else None
            if ip is not None and media.port:
                found.add(Endpoint(ip, media.port))
            for candidate in media.candidates:
                candidate_ip = normal_ip(candidate.address)
                if candidate_ip is not None and candidate.component == 1:
                    found.add(Endpoint(candidate_ip, candidate.port))
    return found


def _public_signalling(offers: Iterable[_Offer], side: Side) -> bool:
    return any(o.side is side and address_kind(o.message.src.ip) == "public" for o in offers)


def _destination(stream: Stream, receiver: Side | None, announced: dict[Side, set[Endpoint]],
                 sources: dict[Side, set[Endpoint]],
                 offers: list[_Offer]) -> Destination:
    if receiver is None:
        return Destination.ANNOUNCED
    dst = stream.dst
    if dst in announced[receiver]:
        behind_nat = (address_kind(dst.ip) == "private" and address_kind(stream.src.ip) == "public"
                      and _public_signalling(offers, receiver))
        return Destination.PRIVATE if behind_nat else Destination.ANNOUNCED
    if dst in sources[receiver]:
        return Destination.LATCHED
    return Destination.ELSEWHERE


def _unexpected(stream: Stream, offers: list[_Offer], receiver: Side | None) -> tuple[int, ...]:
    """Payload types no SDP of the receiving side listed (RFC 3264 5.1: an SDP's formats are
    what its sender is prepared to receive). Comfort noise in its static type is left out:
    many stacks send it unannounced, and a receiver that does not know it drops it."""
    if receiver is None:
        return ()
    listed = {int(fmt) for o in offers if o.side is receiver
              for m in o.sdp.media for fmt in m.formats if fmt.isdigit()}
    if not listed:
        return ()
    return tuple(pt for pt, _ in stream.payload_types
                 if pt not in listed and pt not in CN_STATIC_TYPES)


def _unreachable_by_flow(
    captured: CapturedMedia,
) -> dict[tuple[Endpoint, Endpoint], list[Unreachable]]:
    found: dict[tuple[Endpoint, Endpoint], list[Unreachable]] = {}
    for error in captured.unreachable:
        found.setdefault((error.src, error.dst), []).append(error)
    return found


def _remote_views(reports: Sequence[RtcpReport]) -> dict[int, RemoteView]:
    """For each SSRC reported on, what the reports said."""
    blocks: dict[int, list[RtcpReport]] = {}
    metrics: dict[int, VoipMetrics] = {}
    for report in reports:
        item = report.item
        if isinstance(item, ReportBlock):
            blocks.setdefault(item.source, []).append(report)
        elif isinstance(item, VoipMetrics):
            metrics[item.source] = item
    views = {}
    for ssrc in blocks.keys() | metrics.keys():
        found = blocks.get(ssrc, [])
        items = [r.item for r in found if isinstance(r.item, ReportBlock)]
        xr = metrics.get(ssrc)
        trips = [r.round_trip_ms for r in found if r.round_trip_ms is not None]
        views[ssrc] = RemoteView(
            reports=len(found),
            fraction_lost_max=max((i.fraction_lost * 100 / 256 for i in items), default=0.0),
            cumulative_lost=items[-1].cumulative_lost if items else 0,
            jitter_ms_max=None,
            round_trip_ms=trips[-1] if trips else (xr.round_trip_ms if xr else None),
            mos_lq=xr.mos_lq if xr else None,
            r_factor=xr.r_factor if xr else None,
        )
    return views


def _round_trips(tied: Sequence[TiedStream], senders: Sequence[Side | None],
                 views: dict[int, RemoteView]) -> dict[Side, float]:
    """The round trip between the capture point and each side, from the RTCP reports that
    side sent (about the streams it received)."""
    found: dict[Side, float] = {}
    for item, sender in zip(tied, senders, strict=True):
        view = views.get(item.stream.ssrc)
        if sender is not None and view is not None and view.round_trip_ms is not None:
            found[sender.other] = view.round_trip_ms
    return found


def _one_way_ms(round_trips: dict[Side, float], sender: Side | None) -> float:
    """Half the round trip from one side to the other through the capture point (each side's
    round trip to the capture point added, as rtpengine does); one side's alone when only
    it sent reports; 0 without RTCP."""
    if sender is None:
        return 0.0
    return sum(round_trips.get(side, 0.0) for side in Side) / 2


def _score(stream: Stream, network_ms: float) -> quality.Score | None:
    """The E-model's estimate for the stream (see ``media.quality`` for the delay)."""
    if stream.audio_packets < 2:
        return None
    packet_ms = stream.duration_s * 1000 / max(1, stream.expected - 1)
    jitter = stream.jitter_ms_mean or 0.0
    delay = network_ms + max(packet_ms, 2 * jitter) + packet_ms
    burst = quality.burst_ratio(stream.expected, stream.lost, stream.loss_bursts)
    return quality.score(stream.codec.key, stream.loss_percent, burst, delay)


def _follows(stream: Stream, earlier: list[_Placed], sdp_times: list[int]) -> int | None:
    """The SSRC this stream took over from on the same path with no SDP in between."""
    for before in reversed(earlier):
        if (before.stream.src, before.stream.dst) == (stream.src, stream.dst) and (
                before.stream.ssrc != stream.ssrc):
            quiet = not any(before.stream.last_ns <= t <= stream.first_ns for t in sdp_times)
            return before.stream.ssrc if quiet else None
    return None


def _capture_dropped(current: _Placed, streams: list[_Placed]) -> int:
    """Packets lost in gaps of at least ``MIN_CAPTURE_GAP_S`` that a stream of the other
    direction has at the same time (each gap covering most of the other)."""
    if current.sender is None or not current.stream.outages:
        return 0
    others = [o for s in streams if s.sender is current.sender.other
              for o in s.stream.outages if o.seconds >= MIN_CAPTURE_GAP_S]
    return sum(outage.lost for outage in current.stream.outages
               if outage.seconds >= MIN_CAPTURE_GAP_S
               and any(_same_moment(outage, other) for other in others))


def _same_moment(one: Outage, other: Outage) -> bool:
    overlap = min(one.end_ns, other.end_ns) - max(one.start_ns, other.start_ns)
    return overlap * 2 >= max(one.end_ns - one.start_ns, other.end_ns - other.start_ns)


def _upstream(current: _Placed, streams: list[_Placed]) -> float | None:
    """The caller's audio flows hop 0, 1, ...; the callee's the other way round."""
    if current.sender is None:
        return None
    step = -1 if current.sender is Side.CALLER else 1
    before = [s for s in streams if s.sender is current.sender and s.hop == current.hop + step
              and s.stream.audio_packets]
    return max((s.stream.loss_percent for s in before), default=None)


# -- directions --------------------------------------------------------------------------

def _windows(offers: list[_Offer], answered_ns: int | None, end_ns: int) -> list[Window]:
    """The periods after the answer, each with the directions the latest SDP of each side
    allowed (RFC 3264 6.1: a side sends if it said sendrecv or sendonly and the other
    sendrecv or recvonly; RFC 3264 8.4 and RFC 2543's c=0.0.0.0 for hold)."""
    if answered_ns is None:
        return []
    said: dict[Side, str] = {}
    windows: list[Window] = []
    start = answered_ns
    for offer in (o for o in offers if not o.refused):
        ts = offer.message.ts_ns
        if ts > start and said:
            windows.append((start, ts, _flowing(said)))
            start = ts
        said[offer.side] = _direction_said(offer.sdp)
    if end_ns > start:
        windows.append((start, end_ns, _flowing(said) if said else frozenset(Side)))
    return windows


def _direction_said(sdp: Sdp) -> str:
    """The direction of the first audio section; port 0 turns it off (RFC 3264 8.2), and so
    does RFC 2543's c=0.0.0.0 hold, unless ICE candidates carry the media (RFC 8839 5.1). An
    SDP without audio (a switch to T.38 fax) stops the audio."""
    audio = next((m for m in sdp.media if m.kind == "audio"), None)
    if audio is None:
        return "inactive"
    held = audio.port == 0 or (audio.connection in ("0.0.0.0", "::") and not audio.candidates)
    return "inactive" if held else audio.direction


def _flowing(said: dict[Side, str]) -> frozenset[Side]:
    return _flowing_between(said.get(Side.CALLER, "sendrecv"), said.get(Side.CALLEE, "sendrecv"))


@cache
def _flowing_between(caller: str, callee: str) -> frozenset[Side]:
    """The sides that send, given what each said (kept: the direction attributes are a closed
    set of four, and every window of every call asks)."""
    said = {Side.CALLER: caller, Side.CALLEE: callee}
    sends = {"sendrecv", "sendonly"}
    receives = {"sendrecv", "recvonly"}
    return frozenset(side for side in Side if said[side] in sends and said[side.other] in receives)


def _direction(sender: Side, streams: Sequence[MediaStream], offers: list[_Offer],
               windows: list[Window], captured: CapturedMedia, times: _Times) -> Direction:
    own = [s for s in streams if s.sender is sender and s.kind == "audio"]
    delivered = [s for s in own if s.destination in (Destination.ANNOUNCED, Destination.LATCHED)
                 and not s.refused and s.audible]
    expected_ns = sum(b - a for a, b, sides in windows if sender in sides)
    audio = sum(s.stream.audio_packets for s in own)
    g711 = [s.stream for s in own if s.stream.silent is not None]
    g711_audio = sum(s.audio_packets for s in g711)
    first = min(delivered, key=lambda s: s.stream.first_ns, default=None)
    last = max(delivered, key=lambda s: s.stream.last_ns, default=None)
    first_ns = first.stream.first_ns if first else None
    last_ns = last.stream.last_ns if last else None
    asked = _last_asked(offers, sender.other)
    seen = captured.captured and _crosses_the_wire(asked, offers, sender, captured)
    silent = expected_ns >= MIN_EXPECTED_S * NS and not delivered if seen else None
    at_end = windows[-1][2] if windows else frozenset(Side)
    main = max(own, key=lambda s: s.stream.packets, default=None)
    refused = next((s for s in own if s.refused), None)
    return Direction(
        sender=sender,
        expected_s=expected_ns / NS,
        packets=sum(s.stream.packets for s in own),
        audio_packets=audio,
        silent_percent=(100 * sum(s.silent or 0 for s in g711) / g711_audio
                        if g711_audio else None),
        silent=silent,
        cause=_cause(own) if silent else None,
        first_ns=first_ns,
        last_ns=last_ns,
        first_frame=first.stream.first_frame if first else None,
        last_frame=last.stream.last_frame if last else None,
        start_after_answer_s=_seconds_between(times.answered_ns, first_ns),
        start_after_ack_s=_seconds_between(times.acked_ns, first_ns),
        stop_before_end_s=(times.end_ns - last_ns) / NS
        if last_ns is not None and times.end_ns > last_ns else None,
        on_hold_at_end=sender not in at_end,
        announced=asked[0] if asked else None,
        announced_frame=asked[1].frame if asked else None,
        receiver_sip=asked[1].src if asked else None,
        sent_to=main.stream.dst if main else None,
        refused_by=refused.unreachable_from if refused else None,
        evidence=_direction_evidence(own, offers, sender),
    )


def _crosses_the_wire(asked: tuple[Endpoint, SipMessage] | None, offers: list[_Offer],
                      sender: Side, captured: CapturedMedia) -> bool:
    """Whether the capture could hold this direction: not when both sides announced addresses
    of one host (a gateway serving both phones), whose audio to itself never leaves it,
    unless the capture shows that host's traffic to itself (a capture on the loopback)."""
    if asked is None:
        return True
    host = asked[0].ip
    own = {address.ip for address in _announced(offers, sender)}
    return own != {host} or host in captured.self_talking


def _seconds_between(start_ns: int | None, end_ns: int | None) -> float | None:
    return None if start_ns is None or end_ns is None else (end_ns - start_ns) / NS


def _last_asked(offers: list[_Offer], side: Side) -> tuple[Endpoint, SipMessage] | None:
    """The address the side's last SDP asked for audio at, and the message it came in."""
    for offer in reversed(offers):
        if offer.side is not side or offer.refused:
            continue
        for media in offer.sdp.media:
            ip = normal_ip(media.connection) if media.connection else None
            if media.kind == "audio" and ip is not None and media.port:
                return Endpoint(ip, media.port), offer.message
    return None


def _cause(own: list[MediaStream]) -> SilenceCause:
    """The most likely reason the side's audio did not get through, from what it sent."""
    if any(s.refused for s in own):
        return SilenceCause.UNREACHABLE
    if any(s.destination is Destination.PRIVATE for s in own):
        return SilenceCause.PRIVATE_ADDRESS
    if any(s.destination is Destination.ELSEWHERE and s.stream.audio_packets for s in own):
        return SilenceCause.WRONG_DESTINATION
    if any(s.unexpected_payload_types for s in own):
        return SilenceCause.UNNEGOTIATED_PAYLOAD
    audio = sum(s.stream.audio_packets for s in own)
    if own and not audio and any(s.stream.comfort_noise for s in own):
        return SilenceCause.ONLY_COMFORT_NOISE
    if audio:
        return SilenceCause.ONLY_SILENCE
    return SilenceCause.NOTHING_SENT


def _direction_evidence(own: list[MediaStream], offers: list[_Offer],
                        sender: Side) -> tuple[int, ...]:
    frames = [o.message.frame for o in offers if o.side is sender.other][:1]
    for stream in own[:2]:
        frames += [stream.stream.first_frame, stream.stream.last_frame]
    return tuple(sorted(set(frames)))


def _state(directions: tuple[Direction, ...], streams: Sequence[MediaStream],
           captured: CapturedMedia, answered_ns: int | None) -> tuple[MediaState, Side | None]:
    if not captured.captured and not streams:
        return MediaState.NOT_CAPTURED, None
    if answered_ns is None:
        return MediaState.EARLY_ONLY, None
    expected = [d for d in directions if d.expected]
    silent = [d for d in expected if d.silent]
    if not expected:
        return MediaState.ON_HOLD, None
    if len(silent) == 2:
        return MediaState.NONE, None
    if len(silent) == 1:
        return MediaState.ONE_WAY, silent[0].sender
    if len(expected) == 1 or any(d.on_hold_at_end for d in directions):
        return MediaState.ON_HOLD, None
    return MediaState.TWO_WAY, None
