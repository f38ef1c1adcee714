"""One stream's counters at their edges: the largest gap and the markers, the outages kept
(the longest ``OUTAGES_KEPT``, longest first), restarts and stray packets (RFC 3550 A.1),
silent packets whichever way they came, telephone events one after another (RFC 4733 2.5.1),
payload type runs, timestamps that run too far ahead, and losses taken back in the seconds
they were due."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from sipdiag.media.codecs import Codec, codec_map
from sipdiag.media.stream import MAX_DROPOUT, OUTAGES_KEPT, TIMELINE_SECONDS, Stream, StreamStats
from tests.media.rtp import PCMU, SILENCE, A, B, Sent, regular, rtp

NS = 10**18
"""The arrival of the tests' time 0, in ns (as ``tests.media.rtp.run`` has it)."""


def add(stats: StreamStats, packets: list[Sent], first_frame: int = 1) -> None:
    for frame, p in enumerate(packets, first_frame):
        data = rtp(p.seq, p.ts, pt=p.pt, marker=p.marker, payload=p.payload)
        stats.add(frame, NS + round(p.at_ms * 1e6), p.pt, p.marker, p.seq & 0xFFFF,
                  p.ts & 0xFFFFFFFF, data, 12)


def feed(packets: list[Sent], timeline: bool = False,
         codecs: dict[int, Codec] = PCMU) -> StreamStats:
    stats = StreamStats(A, B, 0x11223344, codecs, False, timeline)
    add(stats, packets)
    return stats


def run(packets: list[Sent], timeline: bool = False, codecs: dict[int, Codec] = PCMU) -> Stream:
    return feed(packets, timeline, codecs).result()


def event(seq: int, ts: int, at_ms: float, code: int, duration: int, end: bool = False) -> Sent:
    """An RFC 4733 event packet: event, E bit and volume, duration (timestamp units)."""
    payload = bytes([code, 0x8A if end else 0x0A]) + duration.to_bytes(2, "big")
    return Sent(seq, ts, at_ms, pt=101, payload=payload)


def test_a_single_packet() -> None:
    """No delta, no jitter: nothing to measure between packets."""
    stream = run([Sent(1000, 160_000, 0.0)])
    assert (stream.packets, stream.expected, stream.lost) == (1, 1, 0)
    assert (stream.max_delta_ms, stream.max_delta_frame, stream.max_delta_ns) == (None, 0, 0)
    assert (stream.jitter_ms_mean, stream.jitter_ms_max, stream.markers) == (None, None, 0)


def test_the_largest_gap_and_the_markers() -> None:
    """The largest delta is 60 ms, ended by frame 4 at 100 ms; two packets had the marker
    bit (the first, and one whose delta is left out)."""
    at = [0.0, 20.0, 40.0, 100.0, 120.0, 200.0]
    sent = [Sent(1000 + i, 160_000 + 160 * i, ms, marker=i in (0, 5))
            for i, ms in enumerate(at)]
    stream = run(sent)
    assert stream.markers == 2
    assert (stream.max_delta_ms, stream.max_delta_frame, stream.max_delta_ns) == (
        60.0, 4, NS + 100_000_000)


@pytest.mark.parametrize("step_ms", [0.0, 0.5])
def test_a_largest_gap_below_a_millisecond(step_ms: float) -> None:
    """Packets that arrive together (or 0.5 ms apart) have a largest delta of 0 (0.5) ms,
    which is a figure, not a missing one."""
    stream = run(regular(4, step_ms=step_ms))
    assert stream.max_delta_ms == step_ms


def gaps(lengths: list[int]) -> list[Sent]:
    """A packet, then for each length that many packets missing and the next one arriving
    when it was due (20 ms a packet)."""
    sent, seq = [Sent(1000, 160_000, 0.0)], 1000
    for missing in lengths:
        seq += missing + 1
        sent.append(Sent(seq, 160 * seq, 20.0 * (seq - 1000)))
    return sent


def test_the_longest_outages_are_kept_longest_first() -> None:
    lengths = list(range(1, OUTAGES_KEPT + 7))
    random.Random(4).shuffle(lengths)
    stream = run(gaps(lengths))
    assert stream.loss_bursts == len(lengths) and stream.lost == sum(lengths)
    assert [o.lost for o in stream.outages] == list(range(OUTAGES_KEPT + 6, 6, -1))
    assert all(o.end_ns - o.start_ns == 20_000_000 * (o.lost + 1) for o in stream.outages)


def test_an_outage_no_longer_than_those_kept_does_not_replace_one() -> None:
    """65 gaps of one packet each: the first 64 stay, in the order they came."""
    stream = run(gaps([1] * (OUTAGES_KEPT + 1)))
    assert [o.frame for o in stream.outages] == list(range(2, OUTAGES_KEPT + 2))


def test_a_stray_packet_is_not_a_restart_even_at_number_1() -> None:
    """Sequence number 1 in the middle of 10000... is far out (RFC 3550 A.1): one sequence
    error, not received, not a restart; the stream goes on with 10002."""
    numbers = [10000, 10001, 1, 10002, 10003]
    stream = run([Sent(seq, 160 * i, 20.0 * i) for i, seq in enumerate(numbers)])
    assert (stream.packets, stream.expected, stream.lost) == (5, 4, 0)
    assert stream.sequence_errors == 1


def test_a_restarted_numbering_counts_its_packets_as_new() -> None:
    """After a restart at 30000 (the next packet follows it), a silent packet of the new
    numbering is counted as silent: it is new, not a duplicate."""
    sent = regular(5) + [Sent(30000 + i, 160_800 + 160 * i, 100.0 + 20 * i) for i in range(3)]
    sent[6] = replace(sent[6], payload=SILENCE)
    stream = run(sent)
    assert (stream.expected, stream.lost, stream.sequence_errors) == (8, 0, 1)
    assert stream.silent == 1


def test_a_silent_packet_that_came_late_or_first_is_counted() -> None:
    sent = regular(10)
    sent[0] = replace(sent[0], payload=SILENCE)
    late = replace(sent[5], payload=SILENCE, at_ms=125.0)
    stream = run([*sent[:5], sent[6], late, *sent[7:]])
    assert (stream.out_of_order, stream.lost, stream.silent) == (1, 0, 2)


@pytest.mark.parametrize(("code", "name"), [(0, "0"), (9, "9"), (10, "*"), (11, "#"),
                                            (12, "A"), (15, "D"), (16, "flash"), (17, "17")])
def test_telephone_events_one_after_another(code: int, name: str) -> None:
    """Events 0-9, *, #, A-D and flash (RFC 4733 3.2); two events back to back, each known by
    its own RTP timestamp, with the longest duration its packets gave (8000 Hz clock)."""
    sent = regular(3)
    sent += [event(1003, 160_480, 60.0, code, 160), event(1004, 160_480, 80.0, code, 800),
             event(1005, 160_480, 100.0, code, 400, end=True),
             event(1006, 161_280, 120.0, 1, 160), event(1007, 161_280, 140.0, 1, 320, end=True)]
    stream = run(sent)
    assert [(e.event, e.frame, e.ts_ns, e.duration_ms) for e in stream.events] == [
        (name, 4, NS + 60_000_000, 100.0), ("1", 7, NS + 120_000_000, 40.0)]
    assert stream.event_packets == 5


def test_the_result_can_be_taken_twice() -> None:
    stats = feed([*regular(2), event(1002, 160_320, 40.0, 4, 160)])
    first = stats.result()
    assert stats.result() == first and len(first.events) == 1


def test_payload_type_runs_are_counted_in_order_of_first_appearance() -> None:
    sent = regular(7)
    sent[3:5] = [event(1003, 160_480, 60.0, 2, 160), event(1004, 160_480, 80.0, 2, 320)]
    sent.append(Sent(1007, 161_120, 140.0, pt=13, payload=b"\x40"))
    stream = run(sent)
    assert stream.payload_types == ((0, 5), (101, 2), (13, 1)) and stream.payload_type == 0


def test_a_timestamp_half_the_clock_ahead_is_wrong_and_left_out() -> None:
    """A packet whose timestamp is 2^31 ahead of the first is read as behind it (RFC 3550
    timestamps are modulo 2^32): it is counted as wrong and left out of the jitter."""
    sent = regular(5)
    sent[3] = replace(sent[3], ts=sent[0].ts + 0x80000000)
    stats = feed(sent)
    stream = stats.result()
    assert stats.wrong_timestamps == 1
    assert stream.jitter_ms_max == 0.0 and stream.packets == 5


def test_a_late_packet_of_a_long_gap_is_taken_back_from_its_due_second() -> None:
    """Packets 10-69 (due at 0.2-1.38 s) are missing when packet 70 comes at 1.40 s: spread
    evenly over the gap from 0.18 s, 40 of them were due in second 0, 20 in second 1.
    Packet 10 then comes, at 1.41 s: its loss is taken back from second 0, where it was due."""
    sent = regular(80)
    arrived = [*sent[:10], sent[70], replace(sent[10], at_ms=1410.0), *sent[71:]]
    stream = run(arrived, timeline=True)
    assert stream.timeline is not None
    assert (stream.lost, stream.out_of_order) == (59, 1)
    assert list(stream.timeline.lost) == [39, 20]


def test_a_stream_with_no_packet_yet() -> None:
    """Nothing received: nothing expected, lost or timed, and no payload type."""
    stream = StreamStats(A, B, 0x11223344, PCMU, False, False).result()
    assert (stream.packets, stream.expected, stream.lost, stream.payload_type) == (0, 0, 0, -1)
    assert (stream.jitter_ms_mean, stream.jitter_ms_max, stream.max_delta_ms) == (None,) * 3
    assert (stream.first_frame, stream.last_frame, stream.first_ns, stream.last_ns) == (0,) * 4
    assert stream.duration_s == 0.0


def test_of_equal_largest_gaps_the_first_is_named() -> None:
    """Every packet 20 ms after the one before: the largest delta is first reached by frame 2
    (as Wireshark, which keeps the first frame of the largest delta)."""
    stream = run(regular(5))
    assert (stream.max_delta_ms, stream.max_delta_frame, stream.max_delta_ns) == (
        20.0, 2, NS + 20_000_000)


def test_a_jump_of_max_dropout_is_a_sequence_error_not_a_loss() -> None:
    """RFC 3550 A.1: a step below MAX_DROPOUT is a gap; a step of MAX_DROPOUT or more (and
    not just behind) is a very large jump: one stray packet here, the numbering goes on."""
    sent = regular(10)
    stray = Sent(sent[4].seq + MAX_DROPOUT, sent[5].ts, 90.0)
    stream = run([*sent[:5], stray, *sent[5:]])
    assert (stream.packets, stream.expected, stream.lost, stream.sequence_errors) == (
        11, 10, 0, 1)


@pytest.mark.parametrize("late", [(5, 6), (6, 5)])
def test_a_gap_whose_packets_all_come_late_is_no_loss(late: tuple[int, int]) -> None:
    """Packets 5 and 6 come after 7, in either order: the gap of two was a reordering, not a
    loss burst, and leaves no outage."""
    sent = regular(10)
    arrived = [*sent[:5], sent[7], *(replace(sent[n], at_ms=145.0 + n) for n in late),
               *sent[8:]]
    stream = run(arrived)
    assert (stream.lost, stream.out_of_order, stream.loss_bursts, stream.outages) == (0, 2, 0, ())


def test_a_late_packet_of_an_earlier_gap_is_taken_back_from_the_second_that_lost_it() -> None:
    """Packet 30 (due at 0.6 s, lost in second 0) comes at 2.23 s, after packet 110 (due at
    2.2 s) filled the latest gap: nothing was lost in the end, in any second."""
    sent = regular(150)
    arrived = [*sent[:30], *sent[31:110], sent[111], replace(sent[110], at_ms=2225.0),
               replace(sent[30], at_ms=2230.0), *sent[112:]]
    stream = run(arrived, timeline=True)
    assert stream.timeline is not None
    assert (stream.lost, stream.out_of_order) == (0, 2)
    assert list(stream.timeline.lost) == [0, 0, 0]


def test_the_timeline_keeps_each_seconds_largest_jitter() -> None:
    """Packets at 0, 20 and 50 ms, 160 units (20 ms at 8000 Hz) apart: D is 0, then 10 ms,
    so J is 0 and then 10/16 ms (RFC 3550 6.4.1), all in second 0."""
    sent = [Sent(1000, 160_000, 0.0), Sent(1001, 160_160, 20.0), Sent(1002, 160_320, 50.0)]
    timeline = run(sent, timeline=True).timeline
    assert timeline == ((3,), (), (0.625,))  # (no second lost a packet)


def test_events_of_an_rtpmap_without_a_clock_rate_are_timed_at_8000_hz() -> None:
    """RFC 4733 2.5.1.3: the duration is in timestamp units, 8000 per second unless the
    rtpmap says otherwise: 800 units are 100 ms."""
    sent = [*regular(2), event(1002, 160_320, 40.0, 7, 800, end=True)]
    stream = run(sent, codecs=codec_map({"0": "PCMU/8000", "101": "telephone-event"}))
    assert [(e.event, e.duration_ms) for e in stream.events] == [("7", 100.0)]


@pytest.mark.parametrize("rtpmap", [{}, {"98": "CN/8000"}], ids=["static-19", "dynamic-cn"])
def test_comfort_noise_by_its_reserved_type_or_its_rtpmap(rtpmap: dict[str, str]) -> None:
    """RFC 3389: CN has static type 13 (19 reserved for it by early drafts) or a dynamic type
    an rtpmap names CN."""
    pt = int(next(iter(rtpmap), "19"))
    sent = [*regular(3), Sent(1003, 160_480, 60.0, pt=pt, payload=b"\x40")]
    stream = run(sent, codecs=codec_map({"0": "PCMU/8000", **rtpmap}))
    assert stream.comfort_noise == 1 and stream.audio_packets == 3


def test_new_codecs_read_the_current_payload_type_anew() -> None:
    """An SDP that mapped type 0 to A-law, corrected by a re-INVITE to μ-law (RFC 3551's): the
    μ-law silence (0xFF) after the correction is silent, which it was not as A-law."""
    stats = feed([replace(p, payload=SILENCE) for p in regular(3)],
                 codecs=codec_map({"0": "PCMA/8000"}))
    stats.use_codecs(codec_map({"0": "PCMU/8000"}))
    add(stats, [replace(p, payload=SILENCE) for p in regular(3, seq0=1003, ts0=160_480,
                                                              start_ms=60.0)], 4)
    assert stats.result().silent == 3


def test_a_timeline_is_bounded_whatever_the_capture_times_say() -> None:
    """A frame timed before the stream's first (a capture whose clock went back) counts in the
    first second; one a year later (a damaged timestamp) in the last second kept, a week on:
    no packet is lost from the timeline, and its memory stays bounded."""
    year_ms = 365 * 86_400 * 1000.0
    sent = [Sent(1000, 160_000, 0.0), Sent(1001, 160_160, -2000.0), Sent(1002, 160_320, year_ms)]
    packets = run(sent, timeline=True).timeline[0]
    assert len(packets) == TIMELINE_SECONDS == 7 * 86_400
    assert (packets[0], packets[-1], sum(packets)) == (2, 1, 3)


def test_a_clock_of_no_whole_khz_is_taken_in_whole_units_per_ms() -> None:
    """As Wireshark's RTP analysis (and the docstring of ``_timing``): 44100 Hz (L16, static
    type 11, RFC 3551) is 44 units per ms, so 20 ms of it (882 units) reads as 882/44 ms;
    two packets 20 ms apart give J = |D| / 16 (RFC 3550 6.4.1)."""
    sent = [Sent(1000 + i, 882 * i, 20.0 * i, pt=11) for i in range(2)]
    stream = run(sent)
    assert stream.jitter_ms_max == pytest.approx(abs(20 - 882 / 44) / 16)


def test_the_stray_packet_that_begins_a_restart_is_counted_silent() -> None:
    """30000 is far out (a stray, RFC 3550 A.1); 30001 follows it, so the numbering restarted
    at 30000: a new packet, and silent like every packet of the stream."""
    sent = regular(5) + [Sent(30000 + i, 160_800 + 160 * i, 100.0 + 20 * i) for i in range(3)]
    stream = run([replace(p, payload=SILENCE) for p in sent])
    assert (stream.packets, stream.duplicates, stream.sequence_errors) == (8, 0, 1)
    assert stream.silent == 8


def test_a_duplicate_of_a_packet_before_the_first_is_counted_silent_once() -> None:
    """999 comes after 1000 (late, before the first), then again (a duplicate): three
    packets with no sound, one of them twice."""
    sent = [replace(p, payload=SILENCE) for p in regular(2, seq0=999, ts0=159_840)]
    late = replace(sent[0], at_ms=25.0)
    stream = run([sent[1], late, replace(late, at_ms=30.0),
                  Sent(1001, 160_160, 40.0, payload=SILENCE)])
    assert (stream.packets, stream.duplicates, stream.out_of_order) == (4, 1, 1)
    assert stream.silent == 3


def test_a_late_packet_of_an_earlier_gap_leaves_the_latest_gaps_outage() -> None:
    """Packets 3 and 6 of 0-9 are missing when they are due; 3 comes late, 6 never: the
    outage that ended with packet 7 (frame 6) is still one packet lost."""
    sent = regular(10)
    arrived = [*sent[:3], sent[4], sent[5], sent[7], sent[8],
               replace(sent[3], at_ms=165.0), sent[9]]
    stream = run(arrived)
    assert (stream.lost, stream.out_of_order) == (1, 1)
    assert [(o.frame, o.lost) for o in stream.outages if o.frame == 6] == [(6, 1)]


def test_a_late_packet_of_a_new_numbering_fills_no_gap_of_the_old_one() -> None:
    """1001 is missing from 1000-1200; the numbering restarts at 1050 (1051 follows it, RFC
    3550 A.1), then 1001 comes, late in the new numbering (50 behind 1051), not the one the
    old numbering lost (199 behind 1200, and that numbering is over): its gap stays a loss."""
    old = [p for p in regular(201) if p.seq != 1001]
    new = [Sent(seq, 192_160 + 160 * (seq - 1050), 4020.0 + 20 * n)
           for n, seq in enumerate((1050, 1051, 1001))]
    stream = run(old + new)
    assert (stream.sequence_errors, stream.out_of_order) == (1, 1)
    assert stream.loss_bursts == 1
    assert [o.lost for o in stream.outages] == [1]


def test_the_duration_of_an_event_with_padding_after_it() -> None:
    """RFC 4733 2.3: the duration is the 16 bits after the event and the E/R/volume byte;
    4 bytes of padding follow (P bit, the last byte the count, RFC 3550 5.1): 800 units at
    8000 Hz are 100 ms."""
    stats = feed(regular(2))
    payload = bytes([5, 0x8A]) + (800).to_bytes(2, "big") + b"\0\0\0\4"
    data = bytearray(rtp(1002, 160_320, pt=101, payload=payload))
    data[0] |= 0x20
    stats.add(3, NS + 40_000_000, 101, 0, 1002, 160_320, bytes(data), 12)
    assert [(e.event, e.duration_ms) for e in stats.result().events] == [("5", 100.0)]


def test_the_timeline_gives_the_jitter_to_the_microsecond() -> None:
    """Two packets 21.1 ms apart, 20 ms of clock apart: J = 1.1 / 16 = 0.06875 ms (RFC 3550
    6.4.1), 0.069 to the microsecond."""
    sent = [Sent(1000, 160_000, 0.0), Sent(1001, 160_160, 21.1)]
    timeline = run(sent, timeline=True).timeline
    assert timeline is not None and timeline.jitter_ms == (0.069,)
