"""One stream's figures, from packets whose truth is known by construction: sequence numbers
(RFC 3550 A.1: wrap, loss, duplicates, late packets, restarts), interarrival jitter (6.4.1),
gaps, payload types, comfort noise, telephone events (RFC 4733) and silent G.711."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.media.rtp import SILENCE, Sent, regular, run


def rfc3550_jitter_ms(packets: list[Sent], clock: int = 8000) -> list[float]:
    """The jitter after each packet, straight from RFC 3550 A.8, in ms (the reference)."""
    jitter, out = 0.0, []
    for before, now in itertools.pairwise(packets):
        d = (now.at_ms - before.at_ms) - (now.ts - before.ts) * 1000 / clock
        jitter += (abs(d) - jitter) / 16
        out.append(jitter)
    return out


def test_a_clean_stream() -> None:
    stream = run(regular(50))
    assert (stream.packets, stream.expected, stream.lost, stream.duplicates) == (50, 50, 0, 0)
    assert stream.out_of_order == stream.sequence_errors == stream.loss_bursts == 0
    assert stream.jitter_ms_max == 0.0 and stream.max_delta_ms == 20.0
    assert (stream.first_frame, stream.last_frame) == (1, 50)
    assert stream.outages == () and stream.silent == 0 and stream.codec.name == "PCMU"


@pytest.mark.parametrize("seq0", [65_500, 65_535, 0, 1])
def test_sequence_numbers_wrap_without_loss(seq0: int) -> None:
    stream = run(regular(80, seq0=seq0))
    assert (stream.expected, stream.lost, stream.sequence_errors) == (80, 0, 0)


def test_losses_are_counted_in_bursts_and_outages() -> None:
    sent = regular(100)
    kept = [p for i, p in enumerate(sent) if not 10 <= i < 16 and i not in (40, 70)]
    stream = run(kept)
    assert (stream.packets, stream.expected, stream.lost) == (92, 100, 8)
    assert stream.loss_bursts == 3
    assert stream.loss_percent == pytest.approx(8.0)
    longest = stream.outages[0]
    assert (longest.lost, longest.frame) == (6, 11)  # the packet after the gap is frame 11
    assert longest.seconds == pytest.approx(0.14)  # packets 9 and 16 are 7 x 20 ms apart


def test_duplicates_and_late_packets_are_told_apart() -> None:
    sent = regular(30)
    arrived = [*sent[:10], sent[9], *sent[11:15], sent[10], *sent[15:], sent[3]]
    stream = run(arrived)
    assert stream.packets == 32
    assert (stream.duplicates, stream.out_of_order, stream.lost) == (2, 1, 0)
    assert stream.loss_bursts == 0, "a gap that a late packet fills is no loss"
    assert stream.outages == ()


def test_a_restart_of_the_numbering_is_not_a_loss() -> None:
    first, second = regular(20, seq0=100), regular(20, seq0=40_000, start_ms=400)
    stream = run(first + second)
    assert (stream.expected, stream.lost, stream.sequence_errors) == (40, 0, 1)


def test_one_stray_packet_far_ahead_is_an_error_not_a_loss() -> None:
    sent = regular(20)
    stray = replace(sent[10], seq=sent[10].seq + 20_000)
    stream = run([*sent[:10], stray, *sent[11:]])
    assert stream.sequence_errors == 1
    assert stream.expected == 20 and stream.lost == 1  # the packet it replaced never came


def test_jitter_follows_rfc_3550() -> None:
    rng = random.Random(7)
    sent = [replace(p, at_ms=p.at_ms + rng.uniform(0, 8)) for p in regular(200)]
    sent = sorted(sent, key=lambda p: p.at_ms)
    stream = run(sent)
    reference = rfc3550_jitter_ms(sent)
    assert stream.jitter_ms_max == pytest.approx(max(reference), abs=1e-6)
    # Wireshark's mean: a running mean over the packets after the first
    assert stream.jitter_ms_mean == pytest.approx(sum(reference) / len(reference), abs=1e-6)


def test_the_jitter_uses_the_clock_of_the_payload_type() -> None:
    sent = [Sent(1 + i, 960 * i, 20.0 * i + (3 if i == 5 else 0), pt=96) for i in range(20)]
    assert run(sent).jitter_ms_max == pytest.approx(max(rfc3550_jitter_ms(sent, 48_000)))
    unknown = [replace(p, pt=97) for p in sent]
    assert run(unknown).jitter_ms_max is None  # no clock, no jitter (as Wireshark)


def test_marker_and_comfort_noise_packets_are_left_out_of_delta_and_jitter_figures() -> None:
    sent = [*regular(10), Sent(1010, 160000 + 160 * 60, 1000.0, marker=True)]
    sent += [Sent(1011 + i, 160_000 + 160 * (61 + i), 1020.0 + 20 * i) for i in range(5)]
    stream = run(sent)
    assert stream.max_delta_ms == 20.0, "the talkspurt after silence starts with a marker"
    cn = [*regular(5), Sent(1005, 160800, 100.0, pt=13, payload=b"F")]
    cn += [Sent(1006, 160_960, 400.0), Sent(1007, 161_120, 420.0)]
    stream = run(cn)
    assert stream.comfort_noise == 1 and stream.audio_packets == 7
    assert stream.max_delta_ms == 20.0, "the packet after comfort noise is left out"


def test_telephone_events_are_digits_and_leave_the_jitter_alone() -> None:
    sent = regular(10)
    event_ts = sent[-1].ts + 160
    for i in range(7):  # one key press: same timestamp, growing duration, 3 end packets
        end = i >= 4
        duration = min(i + 1, 5) * 160
        payload = bytes([5, 0x80 if end else 0]) + duration.to_bytes(2, "big")
        sent.append(Sent(1010 + i, event_ts, 200.0 + 20 * i, pt=101, marker=i == 0,
                         payload=payload))
    sent += [Sent(1017 + i, event_ts + 160 * (7 + i), 340.0 + 20 * i) for i in range(5)]
    stream = run(sent)
    [event] = stream.events
    assert (event.event, event.frame, event.duration_ms) == ("5", 11, 100.0)
    assert stream.event_packets == 7 and stream.audio_packets == 15
    assert stream.jitter_ms_max == pytest.approx(0.0), "the event's fixed timestamp is no jitter"
    assert stream.max_delta_ms == 20.0


def test_silent_g711_packets_are_counted_but_not_in_other_codecs_or_srtp() -> None:
    sent = [replace(p, payload=SILENCE) if i % 2 else p for i, p in enumerate(regular(20))]
    assert run(sent).silent == 10
    assert run(sent, encrypted=True).silent is None
    opus = [replace(p, pt=96) for p in sent]
    assert run(opus).silent is None


def test_the_timeline_puts_packets_and_losses_in_their_seconds() -> None:
    sent = [p for i, p in enumerate(regular(150)) if i not in (60, 61, 130)]
    timeline = run(sent, timeline=True).timeline
    assert timeline is not None
    assert sum(timeline.packets) == 147 and list(timeline.lost) == [0, 2, 1]
    assert list(timeline.packets) == [50, 48, 49]


def test_a_gap_loses_its_packets_in_the_seconds_they_were_due() -> None:
    """Packets 45-54 (due at 0.90-1.08 s) are missing; the gap is found when packet 55 comes
    at 1.10 s, yet five of them belong to second 0 and five to second 1."""
    sent = [p for i, p in enumerate(regular(100)) if not 45 <= i <= 54]
    stream = run(sent, timeline=True)
    assert stream.timeline is not None and stream.lost == 10
    assert list(stream.timeline.lost) == [5, 5]


def test_a_late_packet_takes_its_loss_back_from_the_second_it_was_due() -> None:
    """Packet 49 (due at 0.98 s) comes after packet 51, at 1.03 s: the gap counted it lost in
    second 0, and its arrival in second 1 takes that back, never leaving a second below zero."""
    sent = regular(100)
    arrived = [*sent[:49], *sent[50:52], replace(sent[49], at_ms=1030.0), *sent[52:]]
    stream = run(arrived, timeline=True)
    assert stream.timeline is not None
    assert (stream.lost, stream.out_of_order) == (0, 1)
    assert list(stream.timeline.lost) == [0]


@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-5, 5), st.sampled_from([0, 0, 0, 8, 13]),
                          st.booleans()), min_size=2, max_size=80))
def test_the_short_path_computes_what_the_full_path_does(changes: list) -> None:
    """Timelines turn the short path off: every figure but the timeline must come out the
    same with it as without it, whatever the order, timing, payload types and markers."""
    sent, seq, at = [], 1000, 0.0
    for step, wobble, pt, marker in changes:
        seq += step
        at += 20 + wobble
        sent.append(Sent(seq, seq * 160, at, pt=pt, marker=marker))
    fast, full = run(sent), run(sent, timeline=True)
    assert fast == full._replace(timeline=None)
    assert full.timeline is not None and min(full.timeline.lost, default=0) >= 0
    if min(p.seq for p in sent) == sent[0].seq:  # (one before the first is not "expected")
        assert sum(full.timeline.lost) == full.lost


@given(st.lists(st.integers(0, 59), min_size=1, max_size=120), st.integers(0, 65_535))
def test_counts_add_up_whatever_the_order(arrival: list[int], seq0: int) -> None:
    """Invariant: any arrival order of copies of 60 packets gives lost + distinct = expected,
    each extra copy a duplicate, and the highest and lowest that came bound expected."""
    sent = regular(60, seq0=seq0)
    packets = [replace(sent[i], at_ms=20.0 * n) for n, i in enumerate(arrival)]
    stream = run(packets)
    distinct = set(arrival)
    assert stream.packets == len(arrival)
    assert stream.duplicates == len(arrival) - len(distinct)
    assert stream.expected - stream.lost == len(distinct) or (
        min(distinct) < arrival[0] and stream.lost == 0)
    assert stream.expected <= max(distinct) - min(arrival[0], min(distinct)) + 1
