"""One RTP stream (one SSRC, one direction): packets in, statistics out.

``StreamStats`` takes the packets of a stream as they arrive and keeps only running figures, so
memory follows the streams in progress, not the packets: sequence numbers extended past their
16-bit wrap (RFC 3550 appendix A.1), so that the expected count, losses, duplicates and
late packets come out right; the interarrival jitter of RFC 3550 section 6.4.1 from the RTP
clock of the payload type; the largest gap between packets; the payload types, marker bits,
comfort noise, silent G.711 packets and RFC 4733 telephone events; and a per-second timeline
(packets, losses, jitter) for reports that draw one. ``result()`` freezes it all into a
``Stream``.

The common packet (the next sequence number, same payload type) takes one short path through
``add``; everything unusual (gaps, late, duplicate or restarted numbering, events) is handled
by the methods below it.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import NamedTuple

from sipdiag.media.codecs import (
    CN_STATIC_TYPES,
    COMFORT_NOISE,
    SILENT_SAMPLES,
    TELEPHONE_EVENT,
    Codec,
    static_codec,
)
from sipdiag.network import Endpoint

MAX_DROPOUT = 3000
"""A jump forward of more sequence numbers than this is a restart, not a loss (RFC 3550 A.1)."""
MAX_MISORDER = 100
"""A packet this many numbers behind the highest is late; further behind, a restart."""
OUTAGES_KEPT = 64
NS_PER_SECOND = 1_000_000_000
TIMELINE_SECONDS = 7 * 86_400
"""The longest timeline a stream keeps (a week of seconds): memory stays bounded whatever the
timestamps of a damaged capture say."""
DTMF_EVENTS = "0123456789*#ABCD"
FLASH_EVENT = 16


class Dtmf(NamedTuple):
    """A telephone event (RFC 4733): the key, and where it started and how long it lasted."""

    event: str
    """``0``-``9``, ``*``, ``#``, ``A``-``D``, ``flash``, or the event number."""
    frame: int
    ts_ns: int
    duration_ms: float
    """The longest duration its packets gave (RFC 4733 2.5.1.3), in the event's clock."""


class Timeline(NamedTuple):
    """Per second of the stream, from its first packet: packets, packets found missing, and the
    largest jitter (ms)."""

    packets: tuple[int, ...]
    lost: tuple[int, ...]
    jitter_ms: tuple[float, ...]


class Outage(NamedTuple):
    """A stretch with packets missing: from the packet before the gap to the one after it."""

    start_ns: int
    end_ns: int
    lost: int
    frame: int
    """The packet after the gap."""

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / NS_PER_SECOND


class Stream(NamedTuple):
    """What one RTP stream did, as seen at the capture point."""

    src: Endpoint
    dst: Endpoint
    ssrc: int
    payload_type: int
    """The payload type of most packets."""
    codec: Codec
    payload_types: tuple[tuple[int, int], ...]
    """(payload type, packets), in order of first appearance."""
    packets: int
    expected: int
    """From the extended sequence numbers: highest - first + 1, over each restart."""
    lost: int
    """Expected but never seen (0 or more; duplicates are counted apart)."""
    duplicates: int
    out_of_order: int
    sequence_errors: int
    """Jumps so large that the numbering restarted."""
    loss_bursts: int
    """Runs of consecutive lost packets (a gap of any length counts once)."""
    outages: tuple[Outage, ...]
    """The gaps in which packets went missing, longest first (at most ``OUTAGES_KEPT``)."""
    first_frame: int
    last_frame: int
    first_ns: int
    last_ns: int
    jitter_ms_mean: float | None
    jitter_ms_max: float | None
    """RFC 3550 interarrival jitter; None when the clock rate is unknown."""
    max_delta_ms: float | None
    max_delta_frame: int
    """The frame that ended the largest gap (0: none)."""
    max_delta_ns: int
    """When that frame arrived."""
    markers: int
    comfort_noise: int
    """Packets of comfort noise (RFC 3389)."""
    silent: int | None
    """G.711 packets with no sound (``codecs.SILENT_PEAK``); None for other codecs or SRTP."""
    events: tuple[Dtmf, ...]
    event_packets: int
    encrypted: bool
    timeline: Timeline | None

    @property
    def loss_percent(self) -> float:
        return 100.0 * self.lost / self.expected if self.expected > 0 else 0.0

    @property
    def duration_s(self) -> float:
        return (self.last_ns - self.first_ns) / NS_PER_SECOND

    @property
    def audio_packets(self) -> int:
        """Packets that carry the codec's media: not comfort noise, not telephone events."""
        return self.packets - self.comfort_noise - self.event_packets


class StreamStats:
    """The running figures of one stream (see the module's docstring)."""

    __slots__ = (
        "_after_cn",
        "_audio_arrival",
        "_base",
        "_codecs",
        "_event",
        "_event_clock",
        "_events",
        "_first_ts",
        "_gap",
        "_last_arrival",
        "_last_nominal",
        "_max",
        "_missing",
        "_outages",
        "_pt",
        "_pt_kind",
        "_rate",
        "_regular",
        "_restart",
        "_run_start",
        "_seen_early",
        "_silence",
        "_timeline",
        "comfort_noise",
        "delta_max",
        "delta_max_frame",
        "delta_max_ns",
        "dst",
        "duplicates",
        "encrypted",
        "event_packets",
        "expected_before",
        "first_frame",
        "first_ns",
        "jitter",
        "jitter_max",
        "jitter_mean",
        "last_frame",
        "last_ns",
        "loss_bursts",
        "markers",
        "out_of_order",
        "packets",
        "payload_types",
        "sequence_errors",
        "silent",
        "src",
        "ssrc",
        "strays",
        "timed",
        "wrong_timestamps",
    )

    def __init__(self, src: Endpoint, dst: Endpoint, ssrc: int, codecs: Mapping[int, Codec],
                 encrypted: bool, timeline: bool) -> None:
        self.src, self.dst, self.ssrc = src, dst, ssrc
        self._codecs = codecs
        self.encrypted = encrypted
        self.packets = self.duplicates = self.out_of_order = self.sequence_errors = 0
        self.loss_bursts = self.markers = self.comfort_noise = self.event_packets = 0
        self.silent = self.expected_before = self.wrong_timestamps = self.timed = 0
        self.strays = 0
        """Packets far out of the numbering that did not start a new one (RFC 3550 A.1 does
        not count them as received)."""
        self._base = self._max = 0
        """Extended sequence numbers (RFC 3550 A.1) of the first and the highest packet."""
        self._missing: set[int] = set()
        """Numbers a gap skipped, within ``MAX_MISORDER`` of the highest: one that comes
        later is late; any other number behind the highest is a duplicate."""
        self._seen_early: set[int] | None = None
        """Numbers below the first packet's that came late (each counts once)."""
        self._gap: tuple[int, int, Outage | None] = (0, 0, None)
        """The latest gap: (first missing extended number, how many still missing, its
        outage); its numbers are the outage's ``lost`` from the first, in any order late."""
        self._outages: list[Outage] = []
        self._restart = -1
        self.first_frame = self.last_frame = self.first_ns = self.last_ns = 0
        self._first_ts = -1
        self._last_arrival = self._audio_arrival = 0
        self._last_nominal = 0.0
        self._after_cn = False
        self._regular = False
        """The last packet was audio of a known clock, timed in full: the next one, if it is
        the next number with the same payload type and no marker, may take the short path
        (which leaves ``_last_arrival`` and ``_audio_arrival`` to ``_settle``)."""
        self.jitter = self.jitter_max = self.jitter_mean = 0.0
        self.delta_max = -1.0
        self.delta_max_frame = self.delta_max_ns = 0
        self.payload_types: dict[int, int] = {}
        """Packets of each payload type but the current one's run (see ``_run_start``)."""
        self._pt = -1
        self._run_start = 0
        """The packet count when the current payload type's run began."""
        self._pt_kind = ""
        self._rate = 0
        """The clock rate of the current payload type in units per millisecond."""
        self._silence: bytes | None = None
        self._events: list[Dtmf] = []
        self._event_clock = 8000
        self._event: tuple[int, int, int, int, int] | None = None
        """The telephone event in progress: (RTP timestamp, event, frame, ts_ns, duration)."""
        self._timeline: tuple[array[int], array[int], array[float]] | None = (
            (array("I"), array("i"), array("d")) if timeline else None)

    # -- per packet ----------------------------------------------------------------------

    def add(self, frame: int, ts_ns: int, payload_type: int, marker: int, seq: int,
            rtp_ts: int, payload: bytes, header: int) -> None:
        """One packet: its frame and arrival time, header fields, the datagram and where its
        payload starts (``header``: the length of the RTP header).

        The short path is the common packet, the next audio packet after a regular one; it
        does what ``_add`` and ``_timing`` would do for it, with nothing to decide."""
        if (self._regular and payload_type == self._pt and not marker
                and (seq - self._max) & 0xFFFF == 1):
            offset = (rtp_ts - self._first_ts) & 0xFFFFFFFF
            if offset < 0x80000000:
                self._max += 1
                delta = (ts_ns - self.last_ns) / 1e6
                self.last_frame, self.last_ns = frame, ts_ns
                count = self.packets
                self.packets = count + 1
                nominal = offset / self._rate
                jitter = self.jitter = (15 * self.jitter
                                        + abs(delta - (nominal - self._last_nominal))) / 16
                self._last_nominal = nominal
                self.timed += 1
                if delta > self.delta_max:
                    self.delta_max, self.delta_max_frame, self.delta_max_ns = delta, frame, ts_ns
                self.jitter_mean = (self.jitter_mean * (count - 1) + jitter) / count
                if jitter > self.jitter_max:
                    self.jitter_max = jitter
                silent = self._silence
                if silent is not None and not payload[header:].translate(None, silent):
                    self.silent += 1
                return
        self._add(frame, ts_ns, payload_type, marker, seq, rtp_ts, payload, header)

    def _settle(self) -> None:
        """Store the arrivals the short path leaves alone (while regular, both are the last
        packet's) before anything else reads them."""
        if self._regular:
            self._last_arrival = self._audio_arrival = self.last_ns
            self._regular = False

    def _add(self, frame: int, ts_ns: int, payload_type: int, marker: int, seq: int,
             rtp_ts: int, payload: bytes, header: int) -> None:
        self._settle()
        self.packets += 1
        previous_ns = self.last_ns
        self.last_frame, self.last_ns = frame, ts_ns
        if payload_type != self._pt:
            self._payload_type(payload_type)
        if marker:
            self.markers += 1
        if self._timeline is not None:
            self._count_now(ts_ns)
        if self.packets == 1:
            self._first(frame, ts_ns, seq)
            new = True
        else:
            new = self._sequence(seq, frame, ts_ns, previous_ns)
        kind = self._pt_kind
        self._timing(frame, ts_ns, rtp_ts, bool(marker) or kind == COMFORT_NOISE)
        if kind == TELEPHONE_EVENT:
            self._telephone_event(frame, ts_ns, rtp_ts, payload, header)
            return
        if kind:
            self.comfort_noise += 1
            return
        silent = self._silence
        if new and silent is not None and not payload[header:].translate(None, silent):
            self.silent += 1
        self._regular = (self._rate > 0 and self._timeline is None
                         and self._last_arrival == self._audio_arrival == ts_ns)

    def _first(self, frame: int, ts_ns: int, seq: int) -> None:
        self.first_frame, self.first_ns = frame, ts_ns
        self._base = self._max = 65536 + seq  # room below for packets that come late

    def _sequence(self, seq: int, frame: int, ts_ns: int, previous_ns: int) -> bool:
        """A packet after the first; True if it had not been seen before."""
        step = (seq - self._max) & 0xFFFF
        if step == 1:
            self._max += 1
            return True
        if step == 0:
            self.duplicates += 1
            return False
        if step < MAX_DROPOUT:  # a gap: step - 1 packets missing (or yet to come, late)
            self._skip(step - 1, Outage(previous_ns, ts_ns, step - 1, frame))
            return True
        if step > 0x10000 - MAX_MISORDER:
            return self._late(self._max - (0x10000 - step), ts_ns)
        return self._jump(seq)

    def _skip(self, missing: int, outage: Outage) -> None:
        """A gap of ``missing`` numbers before this packet."""
        first = self._max + 1
        self._max += missing + 1
        floor = self._max - MAX_MISORDER
        self._missing = {n for n in self._missing if n >= floor}
        self._missing.update(range(max(first, floor), self._max))
        self._gap = (first, missing, outage)
        self.loss_bursts += 1
        self._lost_over(outage)
        self._outage(outage)

    def _late(self, extended: int, ts_ns: int) -> bool:
        """A packet behind the highest: a duplicate if seen before, else one that was late."""
        if extended < self._base:
            early = self._seen_early = self._seen_early or set()
            if extended in early:
                self.duplicates += 1
                return False
            early.add(extended)
        elif extended in self._missing:
            self._missing.discard(extended)
        else:
            self.duplicates += 1
            return False
        self.out_of_order += 1
        first, missing, outage = self._gap
        if missing and outage is not None and first <= extended < first + outage.lost:
            self._found_late(extended - first, outage, ts_ns)
            self._gap = (first, missing - 1, outage)
            if missing == 1:
                self.loss_bursts -= 1  # the gap was a reordering, not a loss
                if outage in self._outages:
                    self._outages.remove(outage)
        else:
            self._found_late(-1, None, ts_ns)
        return True

    def _outage(self, outage: Outage) -> None:
        """Keep the longest ``OUTAGES_KEPT`` gaps (a stream with steady light loss has many
        short ones)."""
        outages = self._outages
        if len(outages) < OUTAGES_KEPT:
            outages.append(outage)
            return
        shortest = min(range(len(outages)), key=lambda i: outages[i].end_ns - outages[i].start_ns)
        if outage.end_ns - outage.start_ns > outages[shortest].end_ns - outages[shortest].start_ns:
            outages[shortest] = outage

    def _jump(self, seq: int) -> bool:
        """A jump beyond MAX_DROPOUT: the numbering restarted if the next packet follows it
        (RFC 3550 A.1); otherwise a stray packet."""
        if seq != self._restart:
            self._restart = (seq + 1) & 0xFFFF
            self.sequence_errors += 1
            self.strays += 1
            return True
        self.expected_before += self._max - self._base + 1
        self._base, self._max = 65536 + seq - 1, 65536 + seq  # the stray packet began it
        self._missing, self._seen_early = set(), None
        self._gap = (0, 0, None)  # a packet of the new numbering fills no gap of the old
        self._restart = -1
        self.strays -= 1  # the stray packet was the first of the new numbering
        return True

    def _timing(self, frame: int, ts_ns: int, rtp_ts: int, excluded: bool) -> None:
        """Delta and interarrival jitter as Wireshark's RTP analysis computes them: J += (|D| -
        J) / 16 (RFC 3550 6.4.1), D the difference between the arrival spacing and the RTP
        timestamp spacing (in ms, the clock taken in whole units per ms) of a packet and the
        one before it in time order; timestamps are read against the stream's first (one more
        than 2**31 units ahead of it is wrong); the figures reported leave out the first
        packet, packets with the marker bit, comfort noise and the packet after it, and the
        means are Wireshark's running means over the packets so far.

        Telephone events count for the delta but not for the jitter: their timestamp stays at
        the event's start while their packets go on, so D is taken between audio packets
        (Wireshark takes the first audio packet after an event against the event's last, and
        its jitter jumps after every key press)."""
        after_cn, self._after_cn = self._after_cn, self._pt_kind == COMFORT_NOISE
        if self._first_ts < 0:
            self._first_ts, self._last_arrival, self._audio_arrival = rtp_ts, ts_ns, ts_ns
            return
        offset = (rtp_ts - self._first_ts) & 0xFFFFFFFF
        if offset >= 0x80000000:
            self.wrong_timestamps += 1
            return
        delta = (ts_ns - self._last_arrival) / 1e6
        self._last_arrival = ts_ns
        rate = 0 if self._pt_kind == TELEPHONE_EVENT else self._rate
        if rate:
            nominal = offset / rate
            spacing = (ts_ns - self._audio_arrival) / 1e6
            self.jitter = (15 * self.jitter + abs(spacing - (nominal - self._last_nominal))) / 16
            self._last_nominal, self._audio_arrival = nominal, ts_ns
        if excluded or after_cn:
            return
        count = self.packets - 1  # as Wireshark counts, every packet before this one
        self.timed += 1
        if delta > self.delta_max:
            self.delta_max, self.delta_max_frame, self.delta_max_ns = delta, frame, ts_ns
        if rate:
            jitter = self.jitter
            self.jitter_mean = (self.jitter_mean * (count - 1) + jitter) / count
            if jitter > self.jitter_max:
                self.jitter_max = jitter
            if self._timeline is not None:
                self._jitter_now(ts_ns, jitter)

    # -- the timeline --------------------------------------------------------------------

    def _second(self, ts_ns: int) -> int:
        """The slot of the timeline a time falls in: a frame timed before the stream's first
        (a capture whose clock went back) in the first, one past ``TIMELINE_SECONDS`` (a
        damaged timestamp) in the last."""
        second = (ts_ns - (self.first_ns or ts_ns)) // NS_PER_SECOND
        return min(max(second, 0), TIMELINE_SECONDS - 1)

    def _count_now(self, ts_ns: int) -> None:
        assert self._timeline is not None
        packets = self._timeline[0]
        second = self._second(ts_ns)
        _grow(packets, second)
        packets[second] += 1

    def _jitter_now(self, ts_ns: int, jitter: float) -> None:
        assert self._timeline is not None
        values = self._timeline[2]
        second = self._second(ts_ns)
        _grow(values, second)
        values[second] = max(values[second], jitter)

    def _lost_over(self, outage: Outage) -> None:
        """The packets of a gap, each lost in the second it was due: spread evenly over the
        gap, as they were sent at a steady pace."""
        if self._timeline is None:
            return
        lost = self._timeline[1]
        for n in range(1, outage.lost + 1):
            second = self._second(_due(outage, n - 1))
            _grow(lost, second)
            lost[second] += 1

    def _found_late(self, index: int, outage: Outage | None, ts_ns: int) -> None:
        """A packet counted lost came after all: taken back from the second it was due in
        (that of the latest gap), or else from the latest second before it that lost one."""
        if self._timeline is None:
            return
        lost = self._timeline[1]
        second = min(self._second(ts_ns if outage is None else _due(outage, index)),
                     len(lost) - 1)
        while second > 0 and lost[second] <= 0:
            second -= 1
        if second >= 0 and lost[second] > 0:
            lost[second] -= 1

    # -- payload types, comfort noise, telephone events ----------------------------------

    def use_codecs(self, codecs: Mapping[int, Codec]) -> None:
        """A new SDP of the call (a re-INVITE) named the payload types anew."""
        if codecs is not self._codecs:
            self._codecs = codecs
            self._settle()
            if self._pt >= 0:
                self._describe(self._pt)

    def _codec(self, payload_type: int) -> Codec:
        return self._codecs.get(payload_type) or static_codec(payload_type)

    def _payload_type(self, payload_type: int) -> None:
        """A packet of another payload type than the one before: the run of that one ends
        (``payload_types`` keeps the order in which types first came)."""
        self._count_run(self.packets - 1)  # this packet is the new run's first
        self.payload_types.setdefault(payload_type, 0)
        self._pt, self._run_start = payload_type, self.packets - 1
        self._describe(payload_type)

    def _count_run(self, until: int) -> None:
        """Count the packets of the current payload type's run up to the ``until``-th."""
        if self._pt >= 0:
            self.payload_types[self._pt] += until - self._run_start
            self._run_start = until

    def _describe(self, payload_type: int) -> None:
        """What the payload type is: audio of a clock, comfort noise or telephone events."""
        codec = self._codec(payload_type)
        if codec.key == TELEPHONE_EVENT.upper():
            self._pt_kind = TELEPHONE_EVENT
            self._event_clock = codec.clock_rate or 8000
        elif codec.key == COMFORT_NOISE or payload_type in CN_STATIC_TYPES:
            self._pt_kind = COMFORT_NOISE
        else:
            self._pt_kind = ""
            self._silence = None if self.encrypted else SILENT_SAMPLES.get(codec.key)
        # RFC 3551: a static payload type has its clock whatever an SDP says
        clock = static_codec(payload_type).clock_rate if payload_type < 96 else codec.clock_rate
        self._rate = clock // 1000

    def _telephone_event(self, frame: int, ts_ns: int, rtp_ts: int, payload: bytes,
                         header: int) -> None:
        """An RFC 4733 event packet; one event is every packet with its RTP timestamp."""
        self.event_packets += 1
        if self.encrypted or len(payload) < header + 4:
            return
        event, duration = payload[header], int.from_bytes(payload[header + 2 : header + 4], "big")
        current = self._event
        if current is None or current[0] != rtp_ts:  # RFC 4733 2.5.1.2: a new event
            self._close_event()
            self._event = (rtp_ts, event, frame, ts_ns, duration)
        elif duration > current[4]:
            self._event = (*current[:4], duration)

    def _close_event(self) -> None:
        if self._event is None:
            return
        _, event, frame, ts_ns, duration = self._event
        self._events.append(Dtmf(_event_name(event), frame, ts_ns,
                                 duration * 1000 / self._event_clock))
        self._event = None

    # -- the result ----------------------------------------------------------------------

    @property
    def expected(self) -> int:
        return self.expected_before + self._max - self._base + 1 if self.packets else 0

    def result(self) -> Stream:
        self._settle()
        self._count_run(self.packets)
        self._close_event()
        expected = self.expected
        unique = self.packets - self.duplicates - self.strays
        main = max(self.payload_types, key=self.payload_types.__getitem__, default=-1)
        codec = self._codec(main)
        jittered = self._rate > 0 and self.timed > 0
        timeline = self._timeline
        return Stream(
            src=self.src, dst=self.dst, ssrc=self.ssrc, payload_type=main, codec=codec,
            payload_types=tuple(self.payload_types.items()), packets=self.packets,
            expected=expected, lost=max(0, expected - unique), duplicates=self.duplicates,
            out_of_order=self.out_of_order, sequence_errors=self.sequence_errors,
            loss_bursts=self.loss_bursts,
            outages=tuple(sorted(self._outages, key=lambda o: o.start_ns - o.end_ns)),
            first_frame=self.first_frame,
            last_frame=self.last_frame, first_ns=self.first_ns, last_ns=self.last_ns,
            jitter_ms_mean=self.jitter_mean if jittered else None,
            jitter_ms_max=self.jitter_max if jittered else None,
            max_delta_ms=self.delta_max if self.delta_max >= 0 else None,
            max_delta_frame=self.delta_max_frame, max_delta_ns=self.delta_max_ns,
            markers=self.markers,
            comfort_noise=self.comfort_noise,
            silent=self.silent if codec.key in SILENT_SAMPLES and not self.encrypted else None,
            events=tuple(self._events), event_packets=self.event_packets,
            encrypted=self.encrypted,
            timeline=None if timeline is None else Timeline(
                tuple(timeline[0]), tuple(timeline[1]),
                tuple(round(j, 3) for j in timeline[2])),
        )


def _due(outage: Outage, index: int) -> int:
    """When the ``index``-th packet missing in a gap was due, the gap's packets evenly spaced."""
    return outage.start_ns + (outage.end_ns - outage.start_ns) * (index + 1) // (outage.lost + 1)


def _grow(values: array[int] | array[float], index: int) -> None:
    if index >= len(values):
        values.extend([0] * (index + 1 - len(values)))


def _event_name(event: int) -> str:
    if event < len(DTMF_EVENTS):
        return DTMF_EVENTS[event]
    return "flash" if event == FLASH_EVENT else str(event)
