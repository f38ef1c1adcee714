"""The media tracker: UDP payloads and SIP messages in, each call's streams out.

Theory of operation. Every SIP message of an INVITE call is shown to the tracker as it is read
(``observe``), in frame order and before any later packet, so that an SDP binds its addresses
at the very frame it was seen (as Wireshark's SDP-to-RTP setup does). Each address a c=/m=
line, an ``a=rtcp`` line or an ICE candidate announces becomes a ``Binding`` to the call. A
UDP payload that is not SIP reaches ``datagram``: its flow (source, destination) is looked up
once, and the flow keeps its handler: the call's streams when the destination was announced
(the stream goes to whoever announced it) or, failing that, the source (symmetric RTP sent to
where a NAT's packets came from, or to a wrong port); a ``Candidate`` for a flow no SDP named,
until its packets show the shape of RTP (``shape``) or not; or nothing, for UDP that is not
media. A later SDP that announces an address again (a re-INVITE, or a new call reusing a port)
moves it, and the flows through it look their binding up again.

Streams no SDP announced are orphans. When an orphan goes quiet (or when the capture ends, or
when a call it may belong to is over) it is tied to the one call whose SIP hosts include both
its ends and whose time it overlaps; if no call, or more than one, fits, it stays unattributed
and is reported as such.

When a call is over, the call layer ``claim``s what the tracker holds of it: its streams (with
how each was tied), its RTCP reports and the ICMP errors its packets drew.

Several processes: every process reads every packet and every SIP message, and binds every
SDP; a process keeps statistics only for the calls it owns (``owns``) and passes over the
packets of the others with one lookup. Orphans are followed by all and tied identically, since
the decision depends only on what every process sees; only the first process reports the
unattributed ones.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from sipdiag.media.codecs import Codec, codec_map
from sipdiag.media.model import (
    NO_MEDIA,
    Announcement,
    CapturedMedia,
    RtcpReport,
    Tie,
    TiedStream,
    Unreachable,
)
from sipdiag.media.rtcp import ReportBlock, RtcpError, SenderReport, parse_compound
from sipdiag.media.shape import Candidate, Shape, rtp_header_length
from sipdiag.media.stream import StreamStats
from sipdiag.network import Endpoint
from sipdiag.network.addresses import normal_ip
from sipdiag.problems import ProblemLog
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import SIP_PORTS
from sipdiag.sip.sdp import Media

CALL_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE"})
"""The methods of an INVITE call (RFC 3261, 3262, 3311): the messages that set up media."""
SWEEP_NS = 1_000_000_000
"""How often orphans are checked for going quiet."""
EXPIRY_NS = 10_000_000_000
"""How often idle flows and old spans are looked for (each a pass over all of them)."""
ORPHAN_QUIET_NS = 5_000_000_000
"""An orphan stream silent this long is over: it is tied to its call, or given up."""
ORPHAN_SLACK_NS = 2_000_000_000
"""How far outside a call's SIP an orphan may start or end and still be the call's."""
IDLE_FLOW_NS = 60_000_000_000
"""Flows of no call (candidates, UDP that is not media) are forgotten after this long idle."""
SPAN_KEEP_NS = 600_000_000_000
"""How long after its last SIP message a call's span stays in the index orphans are tied by."""
SR_KEPT = 16
SHARE_NS = 10_000_000_000
"""Two calls that announce one address within this time, both up, share its media (the legs
of a back-to-back user agent that moved the media to flow directly)."""
_RTP = struct.Struct(">BBHII")
Key = tuple[Endpoint, Endpoint]
MAX_SHARING = 16
"""Calls that announce one address at once, at most, the latest first: a conference bridge or
a B2BUA shares an address among a few; a load test that gives every call the same port (SIPp's
default) would otherwise make every call the partner of every other (time and memory growing
with the square of the calls up)."""


class Binding(NamedTuple):
    """An address an SDP announced, bound to its call. A named tuple rather than a frozen
    dataclass: one is made for every address of every SDP, and is built in about a third of
    the time."""

    call_id: str
    owned: bool
    announcement: Announcement
    codecs: dict[int, Codec]
    encrypted: bool
    rtcp: bool
    """The address receives RTCP only (on any other, RTCP is told from RTP by its second
    byte, RFC 5761 section 4, whether or not the SDP said rtcp-mux)."""
    rtp: bool = True
    """False for media that is not RTP (T.38's UDPTL, a data channel): its packets are the
    call's, and not read."""


@dataclass(slots=True)
class _Span:
    """What every process knows of a call, for tying orphans: its SIP hosts and times."""

    hosts: set[str]
    """The addresses of its SIP messages and those its SDPs announced."""
    first_ns: int
    last_ns: int
    ended_ns: int | None = None
    """The BYE or CANCEL, or the failure of the call's INVITE (a new INVITE opens it again:
    a challenge, a redirect)."""
    answered: bool = False
    invited: bool = False
    """The capture holds the call's INVITE (else it joined the call later)."""
    media_hosts: set[str] = field(default_factory=set)
    """The addresses its SDPs announced."""
    bound: set[Endpoint] = field(default_factory=set)
    """The addresses and ports its SDPs announced (each bound to it)."""


@dataclass(slots=True)
class _CallStore:
    """What an owned call has so far: streams by (source, destination, SSRC), and the rest."""

    streams: dict[tuple[Endpoint, Endpoint, int], tuple[StreamStats, Tie, Announcement | None]] = (
        field(default_factory=dict))
    tied: list[TiedStream] = field(default_factory=list)
    """Orphans tied to the call, already finished."""
    rtcp: list[RtcpReport] = field(default_factory=list)
    sender_reports: dict[tuple[int, int], int] = field(default_factory=dict)
    """(SSRC, NTP middle 32 bits) of each SR seen -> its capture time."""
    unreachable: list[Unreachable] = field(default_factory=list)
    other: int = 0
    malformed: int = 0
    keys: set[Key] = field(default_factory=set)
    """The flows that feed it."""


class _Flow:
    """A flow of a call (or an orphan): its RTP by SSRC, its RTCP.

    Usually one call has the flow; two have it when the same address is announced by two
    calls that are both up (the two legs of a back-to-back user agent that let the media flow
    directly between the phones): then both get the same streams, each call with its own
    SDP's announcement. An orphan has a store and no binding."""

    __slots__ = ("_announcements", "_binding", "_key", "_stores", "_tie", "_timeline",
                 "_tracker", "current", "last_ns", "rtcp_only", "ssrc")

    def __init__(self, tracker: MediaTracker, key: Key, stores: tuple[_CallStore, ...],
                 bindings: tuple[Binding, ...], tie: Tie) -> None:
        self._tracker, self._key, self._stores = tracker, key, stores
        binding = bindings[0] if bindings else None
        self._binding, self._tie = binding, tie
        self._announcements = tuple(b.announcement for b in bindings) or (None,)
        self._timeline = tracker.timelines
        self.rtcp_only = binding is not None and binding.rtcp
        self.current: StreamStats | None = None
        self.ssrc = -1
        self.last_ns = 0
        for store in stores:
            store.keys.add(key)

    def packet(self, frame: int, ts_ns: int, payload: bytes) -> bool:
        self.last_ns = ts_ns
        if (len(payload) < 12 or payload[0] & 0xC0 != 0x80 or self.rtcp_only
                or 192 <= payload[1] <= 223):  # RFC 5761 section 4: RTCP beside RTP
            self._not_rtp(frame, ts_ns, payload)
            return True
        first, second_byte, seq, rtp_ts, ssrc = _RTP.unpack_from(payload)
        header = 12
        if first & 0x1F:  # CSRCs or an extension
            header = rtp_header_length(payload)
            if not header:  # no stream for it: its SSRC may be as broken as the rest
                self._malformed(frame, f"RTP header longer than the packet ({len(payload)} "
                                       "bytes)")
                return True
        stream = self.current
        if ssrc != self.ssrc or stream is None:
            stream = self._stream(ssrc)
        stream.add(frame, ts_ns, second_byte & 0x7F, second_byte & 0x80, seq, rtp_ts, payload,
                   header)
        return True

    def _not_rtp(self, frame: int, ts_ns: int, payload: bytes) -> None:
        """RTCP, or a packet too short or of another version than RTP's."""
        if len(payload) < 8 or payload[0] & 0xC0 != 0x80:
            self._not_media(frame, payload)
        elif self.rtcp_only or 192 <= payload[1] <= 223:
            self._rtcp(frame, ts_ns, payload)
        else:
            self._malformed(frame, f"RTP of {len(payload)} bytes, shorter than its header")

    def _stream(self, ssrc: int) -> StreamStats:
        """The stream of this SSRC, shared by every call of the flow."""
        src, dst = self._key
        key = (src, dst, ssrc)
        binding = self._binding
        codecs = binding.codecs if binding else {}
        found = next((store.streams[key][0] for store in self._stores if key in store.streams),
                     None)
        if found is None:
            encrypted = binding is not None and binding.encrypted
            found = StreamStats(src, dst, ssrc, codecs, encrypted, self._timeline)
        else:
            found.use_codecs(codecs)
        for store, announcement in zip(self._stores, self._announcements, strict=True):
            if key not in store.streams:
                store.streams[key] = (found, self._tie, announcement)
        self.current, self.ssrc = found, ssrc
        return found

    def _not_media(self, frame: int, payload: bytes) -> None:
        """RFC 7983: STUN (0-3), ZRTP (16-19), DTLS (20-63) and TURN channels (64-79) share the
        port with RTP in WebRTC; anything else here is a broken packet."""
        if payload and payload[0] < 80:
            for store in self._stores:
                store.other += 1
        else:
            self._malformed(frame, f"not RTP ({len(payload)} bytes, first byte "
                                   f"{payload[:1].hex() or '-'})")

    def _malformed(self, frame: int, detail: str, kind: str = "rtp_malformed") -> None:
        """Counted for the call; recorded as a problem by the process that owns it (an
        orphan's by the first process)."""
        for store in self._stores:
            store.malformed += 1
        if self._binding is not None or self._tracker.reports_orphans:
            self._tracker.problems.add(kind, frame, f"{self._key[0]} -> {self._key[1]}: {detail}")

    def _rtcp(self, frame: int, ts_ns: int, payload: bytes) -> None:
        encrypted = self._binding is not None and self._binding.encrypted
        try:
            items = parse_compound(payload, encrypted)
        except RtcpError as exc:
            self._malformed(frame, str(exc), "rtcp_malformed")
            return
        src, dst = self._key
        for store in self._stores:
            for item in items:
                round_trip = None
                if isinstance(item, SenderReport):
                    _remember(store.sender_reports, (item.ssrc, item.ntp_middle), ts_ns)
                elif isinstance(item, ReportBlock) and item.lsr:
                    sent = store.sender_reports.get((item.source, item.lsr))
                    if sent is not None:  # RFC 3550 6.4.1, timed at the capture point
                        round_trip = max(0.0, (ts_ns - sent) / 1e6 - item.dlsr * 1000 / 65536)
                store.rtcp.append(RtcpReport(frame, ts_ns, src, dst, item, round_trip))

    def unreachable(self, error: Unreachable) -> None:
        for store in self._stores:
            store.unreachable.append(error)

    def finished(self) -> list[TiedStream]:
        """The streams of this flow, done (for an orphan)."""
        return [TiedStream(stats.result(), tie, announcement)
                for store in self._stores[:1]
                for stats, tie, announcement in store.streams.values()]


def _remember(reports: dict[tuple[int, int], int], key: tuple[int, int], ts_ns: int) -> None:
    reports[key] = ts_ns
    if len(reports) > SR_KEPT * 8:
        for old in list(reports)[: SR_KEPT * 4]:
            del reports[old]


class _Other:
    """A flow of media that is not RTP (T.38 fax over UDPTL): counted for its calls."""

    __slots__ = ("_stores", "last_ns")

    def __init__(self, stores: tuple[_CallStore, ...]) -> None:
        self._stores = stores
        self.last_ns = 0

    def packet(self, frame: int, ts_ns: int, payload: bytes) -> bool:
        self.last_ns = ts_ns
        for store in self._stores:
            store.other += 1
        return True


class _Passed:
    """A flow of another process's call: taken, and left to that process."""

    __slots__ = ("last_ns",)

    def __init__(self) -> None:
        self.last_ns = 0

    def packet(self, frame: int, ts_ns: int, payload: bytes) -> bool:
        self.last_ns = ts_ns
        return True


class _Claimed:
    """A flow of a call already claimed: its late packets are counted, not kept."""

    __slots__ = ("_tracker", "last_ns")

    def __init__(self, tracker: MediaTracker) -> None:
        self._tracker = tracker
        self.last_ns = 0

    def packet(self, frame: int, ts_ns: int, payload: bytes) -> bool:
        self.last_ns = ts_ns
        self._tracker.late_packets += 1
        return True


class _NotMedia:
    """UDP that is not media (or not yet shown to be): passed on to whoever wants it."""

    __slots__ = ("_key", "_tracker", "candidate", "last_ns")

    def __init__(self, tracker: MediaTracker, key: Key) -> None:
        self._tracker, self._key = tracker, key
        self.candidate: Candidate | None = Candidate()
        self.last_ns = 0

    def packet(self, frame: int, ts_ns: int, payload: bytes) -> bool:
        """False for a packet that is not media; a candidate's packets are held back (True)
        until its shape is clear, and replayed to the flow it becomes."""
        self.last_ns = ts_ns
        candidate = self.candidate
        if candidate is None:
            return False
        shape = candidate.offer(frame, ts_ns, payload)
        if shape is Shape.PENDING:
            return True
        if shape is Shape.NOT_MEDIA:
            if candidate.given_up:
                self.candidate = None
            return False
        self._tracker.found_orphan(self._key, candidate, shape)
        return True


Handler = _Flow | _Other | _Passed | _Claimed | _NotMedia


class MediaTracker:
    """Binds SDP addresses to calls, follows RTP and RTCP, and hands each call its media."""

    def __init__(self, owns: Callable[[str], bool] | None = None, *,
                 reports_orphans: bool = True, timelines: bool = False) -> None:
        self.problems = ProblemLog()
        """Malformed RTP and RTCP of the calls this process owns (and of orphans, if it
        reports them): each process's log is merged into the capture's."""
        self._owns = owns
        self.reports_orphans = reports_orphans
        self.timelines = timelines
        """Keep a per-second timeline of every stream (for reports that draw one)."""
        self._bindings: dict[Endpoint, tuple[Binding, ...]] = {}
        """Each announced address: the calls that announced it, the latest first."""
        self._partners: dict[str, set[str]] = {}
        """The calls each call shares its media addresses with."""
        self._flows: dict[Key, Handler] = {}
        self._by_endpoint: dict[Endpoint, set[Key]] = {}
        self._calls: dict[str, _CallStore] = {}
        self._claimed: set[str] = set()
        self._spans: dict[str, _Span] = {}
        self._span_hosts: dict[str, set[str]] = {}
        self._orphans: dict[Key, tuple[_Flow, _CallStore]] = {}
        self.unattributed: list[TiedStream] = []
        """Streams that belong to no call of the capture (reported by the first process)."""
        self.udp_hosts: set[str] = set()
        """Every address seen sending or receiving UDP away from SIP's ports: what shows that
        the capture was not filtered to the signalling."""
        self._signalling: set[Endpoint] = set()
        """Every address and port SIP was seen on."""
        self._self_talking: set[str] = set()
        """Every address seen sending SIP or UDP to itself."""
        self.late_packets = 0
        """Packets of calls already over (after their linger time)."""
        self._swept = self._expired = 0


    # -- SIP --------------------------------------------------------------------------------

    def observe(self, message: SipMessage) -> None:
        """A SIP message, as soon as it is read: its call's span, and the SDP it carries."""
        self._signalling.add(message.src)
        self._signalling.add(message.dst)
        if message.src.ip == message.dst.ip:
            self._self_talking.add(message.src.ip)
        if message.cseq_method not in CALL_METHODS:
            return
        ts_ns = message.ts_ns
        if ts_ns - self._swept >= SWEEP_NS:
            self._sweep(ts_ns)
        span = self._span(message)
        if message.method in ("BYE", "CANCEL"):
            span.ended_ns = span.ended_ns or ts_ns
            self._unpair(message.call_id)
        elif message.cseq_method == "INVITE":
            self._invite_progress(message, span)
        if message.content_length != 0 and message.sdp is not None:
            self._announce(message, span)

    def _span(self, message: SipMessage) -> _Span:
        call_id = message.call_id
        span = self._spans.get(call_id)
        if span is None:
            span = self._spans[call_id] = _Span(set(), message.ts_ns, message.ts_ns)
        span.last_ns = message.ts_ns
        for ip in (message.src.ip, message.dst.ip):
            if ip not in span.hosts:
                span.hosts.add(ip)
                self._span_hosts.setdefault(ip, set()).add(call_id)
        return span

    @staticmethod
    def _invite_progress(message: SipMessage, span: _Span) -> None:
        status = message.status
        if 200 <= status < 300:
            span.answered = True
        elif status >= 300 and not span.answered:
            span.ended_ns = message.ts_ns
        elif not status and message.method == "INVITE" and not message.to_tag:
            span.ended_ns = None
            span.invited = True

    def _announce(self, message: SipMessage, span: _Span) -> None:
        sdp = message.sdp
        assert sdp is not None
        call_id = message.call_id
        # Every process binds every call's addresses, its own or not: which calls hold an
        # address (so whether a flow is this process's, another's or an orphan's), the
        # MAX_SHARING cut and the partners all depend on the other calls' announcements.
        # Only what reading the packets needs, the codecs, is left to the owner.
        owned = self._owns is None or self._owns(call_id)
        self._claimed.discard(call_id)  # the Call-ID is used again, by a new call
        for index, media in enumerate(sdp.media):
            if media.port == 0:
                continue  # a stream turned off (RFC 3264 8.2)
            codecs = codec_map(media.codecs) if owned else {}  # another process reads it
            for address, rtcp, candidate in _addresses(media):
                announcement = Announcement(message.frame, message.ts_ns, message.src, address,
                                            index, media.kind, candidate)
                binding = Binding(call_id, owned, announcement, codecs, media.encrypted, rtcp,
                                  media.is_rtp)
                self._bind(address, binding)
                span.media_hosts.add(address.ip)
                span.bound.add(address)
                if address.ip not in span.hosts:
                    span.hosts.add(address.ip)
                    self._span_hosts.setdefault(address.ip, set()).add(call_id)

    def _bind(self, address: Endpoint, binding: Binding) -> None:
        """Announce an address (again): the flows through it look their binding up anew.
        Another call keeps the address beside this one while both are up and they announced
        it together (or shared addresses before); otherwise the address is this call's now
        (a port used again by a new call)."""
        sharing = self._sharing(self._bindings.get(address, ()), binding)
        self._bindings[address] = (binding, *sharing)
        if sharing:
            self._pair(binding.call_id, sharing)
        flows = self._by_endpoint.get(address)
        if flows:  # most announcements (every call of a SIP-only capture) have none
            for key in list(flows):
                if key in self._orphans:
                    self._orphan_over(key)
                elif key in self._flows:
                    self._forget_flow(key)

    def _sharing(self, earlier: tuple[Binding, ...], later: Binding) -> list[Binding]:
        """The earlier bindings of the address that keep it beside ``later``: of another call
        that is still up, announced within ``SHARE_NS`` or a partner of the later call.

        One loop with the lookups hoisted, not a call a binding: a load test that gives every
        call the same port brings ``MAX_SHARING`` bindings to every announcement. Each call
        is there once (an earlier binding of the later call is replaced), so the partners
        recorded after the loop are those a check inside it would have seen."""
        spans, partners = self._spans, self._partners
        call_id, ts_ns = later.call_id, later.announcement.ts_ns
        found = []
        for binding in earlier[:MAX_SHARING - 1]:
            other = binding.call_id
            span = spans.get(other)
            if other == call_id or span is None or span.ended_ns is not None:
                continue
            if (ts_ns - binding.announcement.ts_ns <= SHARE_NS
                    or call_id in partners.get(other, ())):
                found.append(binding)
        return found

    def _pair(self, call_id: str, sharing: list[Binding]) -> None:
        """The call and each of those it shares an address with are partners, both ways. The
        relation is kept symmetric (``_forget_span`` too undoes both ways), so the partners
        the call already has need no second visit: a call binds its RTP and RTCP addresses,
        both beside the same calls."""
        partners = self._partners
        mine = partners.setdefault(call_id, set())
        for binding in sharing:
            other = binding.call_id
            if other not in mine:
                mine.add(other)
                partners.setdefault(other, set()).add(call_id)

    def _unpair(self, call_id: str) -> None:
        """A call hung up or cancelled shares no address any more (``_sharing`` passes over an
        ended call): its partners are let go, both ways, rather than kept with its span for
        ``SPAN_KEEP_NS`` (a load test's calls each have dozens). Only a new call on the same
        Call-ID could have used them."""
        for partner in self._partners.pop(call_id, ()):
            self._partners.get(partner, set()).discard(call_id)

    # -- UDP --------------------------------------------------------------------------------

    def datagram(self, frame: int, ts_ns: int, src: Endpoint, dst: Endpoint,
                 payload: bytes) -> bool:
        """A UDP payload that is not SIP; True if it was media (taken)."""
        handler = self._flows.get((src, dst))
        if handler is None:
            handler = self._new_flow((src, dst))
        return handler.packet(frame, ts_ns, payload)

    def _new_flow(self, key: Key) -> Handler:
        src, dst = key
        bindings, tie = self._bindings.get(dst), Tie.TO_ANNOUNCED
        if not bindings:
            bindings, tie = self._bindings.get(src), Tie.FROM_ANNOUNCED
        handler: Handler
        if not self._on_signalling_port(src, dst):
            self.udp_hosts.update((src.ip, dst.ip))
        if src.ip == dst.ip:
            self._self_talking.add(src.ip)
        if not bindings:
            handler = _NotMedia(self, key)
        else:
            mine = [b for b in bindings if b.owned and b.call_id not in self._claimed]
            if mine and not mine[0].rtp:
                handler = _Other(tuple(self._store(b.call_id) for b in mine))
            elif mine:
                stores = tuple(self._store(b.call_id) for b in mine)
                handler = _Flow(self, key, stores, tuple(mine), tie)
            elif any(b.owned for b in bindings):
                handler = _Claimed(self)
            else:
                handler = _Passed()
        self._flows[key] = handler
        self._by_endpoint.setdefault(src, set()).add(key)
        self._by_endpoint.setdefault(dst, set()).add(key)
        return handler

    def _on_signalling_port(self, src: Endpoint, dst: Endpoint) -> bool:
        """A flow a capture filtered to SIP would hold too (keep-alives, junk on 5060)."""
        return (src in self._signalling or dst in self._signalling
                or src.port in SIP_PORTS or dst.port in SIP_PORTS)

    def _store(self, call_id: str) -> _CallStore:
        store = self._calls.get(call_id)
        if store is None:
            store = self._calls[call_id] = _CallStore()
        return store

    def found_orphan(self, key: Key, candidate: Candidate, shape: Shape) -> None:
        """A flow no SDP named turned out to be RTP or RTCP: an orphan, fed what was held."""
        store = _CallStore()
        flow = _Flow(self, key, (store,), (), Tie.HEURISTIC)
        flow.rtcp_only = shape is Shape.RTCP
        self._flows[key] = flow
        self._orphans[key] = (flow, store)
        for held in candidate.packets:
            flow.packet(*held)

    def unreachable(self, frame: int, ts_ns: int, reporter: str, src: Endpoint, dst: Endpoint,
                    reason: str) -> None:
        """An ICMP error that quotes a UDP packet from ``src`` to ``dst``."""
        handler = self._flows.get((src, dst))
        if isinstance(handler, _Flow):
            handler.unreachable(Unreachable(frame, ts_ns, reporter, src, dst, reason))

    # -- calls over -------------------------------------------------------------------------

    def claim(self, call_id: str) -> CapturedMedia:
        """Everything held of a call that is over; later packets of it are only counted."""
        self._tie_fitting(call_id)
        self._claimed.add(call_id)
        store = self._calls.pop(call_id, None)
        span = self._spans.get(call_id)
        captured = self._captured(span)
        self_talking = frozenset(span.media_hosts & self._self_talking) if span else frozenset()
        if store is None:
            return NO_MEDIA if not captured else CapturedMedia((), (), (), 0, 0, True,
                                                               self_talking)
        for key in store.keys:
            if key in self._flows:
                self._flows[key] = _Claimed(self)
        streams = [TiedStream(stats.result(), tie, announcement)
                   for stats, tie, announcement in store.streams.values()]
        streams += store.tied
        streams.sort(key=lambda s: (s.stream.first_frame, s.stream.ssrc))
        return CapturedMedia(tuple(streams), tuple(store.rtcp), tuple(store.unreachable),
                             store.other, store.malformed, captured or bool(streams),
                             self_talking)

    def _captured(self, span: _Span | None) -> bool:
        """Could the capture hold this call's media? Only if it holds UDP other than SIP to or
        from an address the call's SDP announced: a capture filtered to the SIP ports (or to
        other hosts) has none, and says nothing of this call's audio."""
        return span is not None and not span.media_hosts.isdisjoint(self.udp_hosts)

    def finish(self) -> None:
        """The end of the capture: every orphan is tied or given up."""
        for key in list(self._orphans):
            self._orphan_over(key)

    def _sweep(self, now: int) -> None:
        self._swept = now
        for key, (flow, _) in list(self._orphans.items()):
            if now - flow.last_ns >= ORPHAN_QUIET_NS:
                self._orphan_over(key)
        if now - self._expired >= EXPIRY_NS:
            self._expire(now)

    def _expire(self, now: int) -> None:
        """Forget flows of no call idle for ``IDLE_FLOW_NS`` and spans ``SPAN_KEEP_NS`` old."""
        self._expired = now
        for key, handler in list(self._flows.items()):
            if not isinstance(handler, _Flow) and now - handler.last_ns >= IDLE_FLOW_NS:
                self._forget_flow(key)
        for call_id, span in list(self._spans.items()):
            if now - span.last_ns >= SPAN_KEEP_NS:
                self._forget_span(call_id, span)

    def _forget_flow(self, key: Key) -> None:
        del self._flows[key]
        for endpoint in key:
            keys = self._by_endpoint.get(endpoint)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_endpoint[endpoint]

    def _forget_span(self, call_id: str, span: _Span) -> None:
        """A call long over: its addresses are no longer bound to it (memory follows the calls
        in progress, not all the calls of the capture)."""
        del self._spans[call_id]
        self._claimed.discard(call_id)
        self._unpair(call_id)
        for address in span.bound:
            kept = tuple(b for b in self._bindings.get(address, ()) if b.call_id != call_id)
            if kept:
                self._bindings[address] = kept
            else:
                self._bindings.pop(address, None)
        for host in span.hosts:
            calls = self._span_hosts.get(host)
            if calls is not None:
                calls.discard(call_id)
                if not calls:
                    del self._span_hosts[host]

    # -- orphans ----------------------------------------------------------------------------

    def _orphan_over(self, key: Key) -> None:
        flow, store = self._orphans.pop(key)
        if self._flows.get(key) is flow:
            self._forget_flow(key)
        call_id = self._fitting_call(key, store)
        streams = flow.finished()
        if call_id is None:
            if self.reports_orphans:
                self.unattributed.extend(streams)
            return
        owned = self._owns is None or self._owns(call_id)
        if not owned or call_id in self._claimed:
            return
        target = self._store(call_id)
        target.tied.extend(streams)
        target.rtcp.extend(store.rtcp)
        target.unreachable.extend(store.unreachable)

    def _tie_fitting(self, call_id: str) -> None:
        """Before a call is claimed: tie the orphans in progress that are its own."""
        for key, (_, store) in list(self._orphans.items()):
            if self._fitting_call(key, store) == call_id:
                self._orphan_over(key)

    def _fitting_call(self, key: Key, store: _CallStore) -> str | None:
        """The one call the orphan fits; None if none or several do. It fits a call whose SIP
        went between its two hosts, or one of whose SDPs announced either of them (at another
        port), and whose time it falls in (``_in_time``)."""
        src, dst = key
        hosts = self._span_hosts
        candidates = hosts.get(src.ip, set()) | hosts.get(dst.ip, set())
        first, last = _orphan_times(store)
        fitting = []
        for call_id in candidates:
            span = self._spans[call_id]
            ends = {src.ip, dst.ip}
            if (ends <= span.hosts or not ends.isdisjoint(span.media_hosts)) and _in_time(
                    span, first, last):
                fitting.append(call_id)
        return fitting[0] if len(fitting) == 1 else None


def _orphan_times(store: _CallStore) -> tuple[int, int]:
    times = [(s.first_ns, s.last_ns) for s, _, _ in store.streams.values() if s.packets]
    times += [(r.ts_ns, r.ts_ns) for r in store.rtcp]
    if not times:
        return 0, 0
    return min(t[0] for t in times), max(t[1] for t in times)


def _in_time(span: _Span, first: int, last: int) -> bool:
    """The orphan starts after the call's INVITE (any time before, if the capture missed
    it) and before its end, and lasts into its time (each within ``ORPHAN_SLACK_NS``)."""
    slack = ORPHAN_SLACK_NS
    if span.invited and first < span.first_ns - slack:
        return False
    if span.ended_ns is not None and first > span.ended_ns + slack:
        return False
    return last >= span.first_ns - slack


def _addresses(media: Media) -> Iterator[tuple[Endpoint, bool, bool]]:
    """(address, receives RTCP only, is an ICE candidate) for each address a media section
    announces: c= and m=, the RTCP address (a=rtcp, RFC 3605; else the next port up, RFC 3550
    11; none with rtcp-mux, RFC 5761), and the UDP ICE candidates (RFC 8839)."""
    ip = normal_ip(media.connection) if media.connection else None
    if ip is not None:
        yield Endpoint(ip, media.port), False, False
        if media.is_rtp and not media.rtcp_mux:
            rtcp_ip, rtcp_port = (media.rtcp[0], media.rtcp[1]) if media.rtcp else (
                None, media.port + 1)
            rtcp_ip = normal_ip(rtcp_ip) if rtcp_ip else ip
            if rtcp_ip is not None:
                yield Endpoint(rtcp_ip, rtcp_port), True, False
    for candidate in media.candidates:
        candidate_ip = normal_ip(candidate.address)
        if candidate.transport != "UDP" or candidate_ip is None:
            continue
        if candidate.component == 1 or not media.rtcp_mux:
            yield Endpoint(candidate_ip, candidate.port), candidate.component == 2, True

