"""TCP reassembly pinned down against RFC 9293 sequence space: overlaps, FIN/RST, holes, wrap.

Every expected value below is worked out from the segments the test builds: a stream ``S`` of
known bytes is cut into (offset, length) pieces, so the bytes that must come out are always a
slice of ``S`` and the size of a hole is the difference of two offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipdiag.analysis import MessageReader
from sipdiag.network import Chunk, Flow
from sipdiag.network.tcp import (
    EXPIRE_EVERY_NS,
    FIN,
    GAP_TIMEOUT_NS,
    IDLE_TIMEOUT_NS,
    MAX_PENDING_BYTES,
    RST,
    SYN,
    TcpReassembler,
)
from tests.network.test_tcp import FLOW, T0, StreamSink
from tests.packets import ethernet, ipv4, pcap, sip_request, tcp, udp4_frame

S = bytes(range(65, 91)) + bytes(range(97, 123))  # A..Z a..z: every byte tells its offset
PSH_ACK = 0x18
MOD = 1 << 32
HALF = 1 << 31  # where the signed difference of two sequence numbers changes sign


class RecordingSink(StreamSink):
    """StreamSink that also keeps every chunk, the time of each delivery and the flows named,
    counts the ends, and refuses (stops following the flow) once ``accepts`` is False."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[Chunk] = []
        self.times: list[int] = []
        self.flows: set[Flow] = set()
        self.ends = 0
        self.accepts = True

    def stream(self, flow: Flow, chunks: list[Chunk], frame: int, ts_ns: int) -> bool:
        self.chunks.extend(chunks)
        self.times.append(ts_ns)
        self.flows.add(flow)
        return super().stream(flow, chunks, frame, ts_ns) and self.accepts

    def stream_gap(self, flow: Flow, missing: int, frame: int) -> None:
        self.flows.add(flow)
        super().stream_gap(flow, missing, frame)

    def stream_end(self, flow: Flow) -> None:
        self.ends += 1
        self.flows.add(flow)
        super().stream_end(flow)


class Conn:
    """One direction of a connection opened by a SYN with sequence number ``isn``.

    Stream offset 0 is sequence number isn + 1 (the SYN takes one number, RFC 9293 3.4).
    Frames are numbered from 1 (the SYN) in the order segments are given.
    """

    def __init__(self, isn: int = 1000) -> None:
        self.isn = isn
        self.sink = RecordingSink()
        self.tcp = TcpReassembler(self.sink)
        self.frame = 0
        self.send(-1, b"", SYN)

    def seq(self, offset: int) -> int:
        return (self.isn + 1 + offset) % MOD

    def send(self, offset: int, data: bytes, flags: int = PSH_ACK, ts: int | None = None) -> int:
        """Feed a segment carrying ``data`` at stream ``offset``; return its frame number."""
        self.frame += 1
        when = T0 + self.frame if ts is None else ts
        self.tcp.segment(self.frame, when, FLOW, self.seq(offset), flags, data)
        return self.frame

    def waiting(self) -> int | None:
        """The lowest frame whose data still waits behind a hole."""
        return self.tcp.pending_min_frame

    def piece(self, start: int, end: int, flags: int = PSH_ACK, ts: int | None = None) -> int:
        """Feed the bytes S[start:end] at their own offset."""
        return self.send(start, S[start:end], flags, ts)


# Overlaps: every byte once, in order, whatever way the pieces overlap.

OVERLAPS = {
    # name: pieces (start, end) in arrival order; the stream must be S[:max end] with no hole
    "later piece overlaps the start of held data": [(0, 3), (6, 10), (4, 8), (3, 4)],
    "later piece overlaps the end of held data": [(0, 3), (6, 10), (8, 14), (3, 6)],
    "later piece wholly inside held data": [(0, 3), (4, 12), (6, 8), (3, 4)],
    "later piece wholly covers held data": [(0, 3), (6, 8), (4, 12), (3, 4)],
    "held pieces overlap each other": [(0, 2), (4, 9), (6, 14), (2, 4)],
    "retransmission with more data while held": [(0, 3), (6, 8), (6, 12), (3, 6)],
    "retransmission with less data while held": [(0, 3), (6, 12), (6, 8), (3, 6)],
    "filling piece runs into held data": [(0, 3), (6, 10), (3, 8)],
    "filling piece runs past held data": [(0, 3), (6, 10), (3, 12)],
    "filling piece covers several held pieces": [(0, 3), (5, 7), (9, 11), (2, 13)],
    "delivered data overlapped at its end": [(0, 6), (3, 10)],
    "delivered data retransmitted with more data": [(0, 6), (0, 10)],
    "piece wholly inside delivered data": [(0, 10), (2, 5), (10, 12)],
    "piece overlapping both delivered and held data": [(0, 4), (8, 12), (2, 10)],
}


@pytest.mark.parametrize("pieces", OVERLAPS.values(), ids=OVERLAPS.keys())
def test_overlapping_segments_give_each_byte_once(pieces: list[tuple[int, int]]) -> None:
    conn = Conn()
    for start, end in pieces:
        conn.piece(start, end)
    assert conn.sink.data == S[: max(end for _, end in pieces)]
    assert conn.sink.gaps == []
    assert conn.waiting() is None  # nothing left waiting


def test_held_data_is_delivered_in_the_frame_that_fills_the_hole() -> None:
    conn = Conn()
    first = conn.piece(0, 3)
    held = conn.piece(6, 10)
    overlapping = conn.piece(4, 8)  # also held: it starts after the hole at 3
    assert conn.sink.data == S[:3]
    assert conn.waiting() == held  # the lowest frame still waiting
    filling = conn.piece(3, 4)
    assert conn.sink.data == S[:10]
    # S[3:4] from the filling frame, S[4:8] from the overlapping one, S[8:10] from the first
    # held one: each byte in a frame that carried it, all delivered in the filling frame.
    assert conn.sink.deliveries == [([first], first), ([filling, overlapping, held], filling)]
    assert conn.sink.chunks[1:] == [(S[3:4], filling), (S[4:8], overlapping), (S[8:10], held)]


def test_held_data_the_filling_piece_carries_again_is_not_handed_on_twice() -> None:
    conn = Conn()
    conn.piece(0, 3)
    conn.piece(6, 9)
    filling = conn.piece(3, 9)  # ends where the held piece ends: all of it is in already
    assert conn.sink.deliveries[-1] == ([filling], filling)
    assert conn.sink.data == S[:9] and conn.waiting() is None


def test_retransmission_that_differs_does_not_replace_delivered_bytes() -> None:
    """Of a segment that straddles old and new data only the new part counts (RFC 9293 3.10.7.4)."""
    conn = Conn()
    conn.send(0, b"abcd")
    conn.send(0, b"XXXXef")
    conn.send(2, b"YYYYgh")
    assert conn.sink.data == b"abcdefgh"


def test_retransmission_ending_where_the_stream_stands_hands_nothing_on() -> None:
    conn = Conn()
    first = conn.piece(0, 6)
    conn.piece(0, 6)
    conn.piece(3, 6)
    assert conn.sink.deliveries == [([first], first)]


def test_held_pieces_that_overlap_are_given_up_once_each_byte() -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    a = conn.piece(6, 10, ts=T0)
    conn.piece(7, 10, ts=T0)  # wholly inside a: nothing of it is new once a is delivered
    c = conn.piece(8, 13, ts=T0)  # only 10..13 is new after a
    conn.tcp.expire(T0 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.gaps == [(3, a)]
    assert conn.sink.chunks[1:] == [(S[6:10], a), (S[10:13], c)]
    assert conn.sink.deliveries[1:] == [([a], a), ([c], c)]


# FIN and RST.


def test_fin_in_order_ends_the_stream_at_once() -> None:
    conn = Conn()
    conn.piece(0, 5)
    conn.piece(5, 9, FIN | PSH_ACK)
    assert conn.sink.data == S[:9] and conn.sink.ended and conn.sink.gaps == []
    assert conn.sink.flows == {FLOW}


def test_fin_with_data_before_a_missing_segment_waits_for_it() -> None:
    conn = Conn()
    conn.piece(0, 3)
    conn.piece(6, 9, FIN | PSH_ACK)  # the FIN comes before the segment at 3..6
    assert conn.sink.data == S[:3] and conn.sink.ends == 0 and conn.sink.gaps == []
    conn.piece(3, 6)
    assert conn.sink.data == S[:9]
    assert conn.sink.gaps == []
    assert conn.sink.ended  # the FIN is in sequence now: the stream ends without a flush
    assert conn.sink.ends == 1


def test_bare_fin_before_a_missing_segment_waits_for_it() -> None:
    conn = Conn()
    conn.piece(0, 3)
    conn.send(6, b"", FIN | 0x10)  # FIN at sequence offset 6: bytes 3..6 are still to come
    assert conn.sink.ends == 0 and conn.sink.gaps == []
    conn.piece(3, 6)
    assert conn.sink.data == S[:6]
    assert conn.sink.gaps == []
    assert conn.sink.ended and conn.sink.ends == 1


def test_retransmitted_fin_ends_the_stream_once() -> None:
    conn = Conn()
    conn.piece(0, 3)
    conn.send(5, b"", FIN | 0x10)
    conn.send(5, b"", FIN | 0x10)
    conn.piece(3, 5)
    conn.send(5, b"", FIN | 0x10)
    conn.tcp.flush()
    assert conn.sink.data == S[:5] and conn.sink.ends == 1 and conn.sink.gaps == []


def test_fin_ahead_of_a_hole_that_times_out() -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    fin = conn.piece(6, 9, FIN | PSH_ACK, ts=T0 + 1)
    conn.tcp.expire(T0 + 1 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.data == S[:3] + S[6:9]
    assert conn.sink.gaps == [(3, fin)]  # bytes 3..6 never came
    assert conn.sink.ended


def test_bare_fin_ahead_of_a_hole_that_times_out() -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    fin = conn.send(7, b"", FIN | 0x10, ts=T0 + 1)
    conn.tcp.expire(T0 + GAP_TIMEOUT_NS)  # not yet
    assert conn.sink.ends == 0 and conn.sink.gaps == []
    conn.tcp.expire(T0 + 1 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.data == S[:3]
    assert conn.sink.gaps == [(4, fin)]  # offsets 3..7 are missing before the FIN
    assert conn.sink.ended and conn.sink.ends == 1
    assert conn.sink.flows == {FLOW}


def test_rst_gives_up_the_hole_and_delivers_what_waits() -> None:
    conn = Conn()
    conn.piece(0, 3)
    held = conn.piece(6, 9)
    conn.send(9, b"", RST)
    assert conn.sink.data == S[:3] + S[6:9]
    assert conn.sink.gaps == [(3, held)]
    assert conn.sink.ended
    conn.piece(3, 6)  # after a reset the connection is gone (RFC 9293 3.10.7.4)
    conn.piece(9, 12)
    assert conn.sink.data == S[:3] + S[6:9] and conn.sink.ends == 1
    assert conn.sink.flows == {FLOW}


def test_bare_fin_first_in_a_capture_started_mid_connection() -> None:
    sink = RecordingSink()
    tcp = TcpReassembler(sink)
    tcp.segment(1, T0, FLOW, 7000, FIN | 0x10, b"")
    assert sink.ended and sink.data == b"" and sink.gaps == []


@pytest.mark.parametrize("before", [0, 4], ids=["before data", "after data"])
def test_retransmitted_syn_does_not_restart_the_stream(before: int) -> None:
    """A SYN with the ISN that opened the direction is a copy of that SYN (sent again, or
    captured late), not a new connection: the stream goes on where it was."""
    conn = Conn()
    conn.piece(0, before)
    conn.send(-1, b"", SYN)  # the same ISN
    conn.piece(before, 8)
    assert conn.sink.data == S[:8] and conn.sink.ends == 0 and conn.sink.gaps == []


def test_syn_with_another_isn_ends_the_stream_and_starts_a_new_one() -> None:
    conn = Conn(isn=1000)
    conn.piece(0, 3)
    held = conn.piece(6, 9)
    conn.frame += 1
    conn.tcp.segment(conn.frame, T0 + conn.frame, FLOW, 50000, SYN, b"")
    assert conn.sink.data == S[:3] + S[6:9] and conn.sink.gaps == [(3, held)]
    assert conn.sink.ends == 1 and conn.sink.flows == {FLOW}
    conn.frame += 1
    conn.tcp.segment(conn.frame, T0 + conn.frame, FLOW, 50001, PSH_ACK, b"next")
    assert conn.sink.data == S[:3] + S[6:9] + b"next" and conn.sink.ends == 1


def test_data_on_a_syn_starts_after_the_syn() -> None:
    """The SYN takes one sequence number, its data the ones after it (RFC 9293 3.4)."""
    sink = RecordingSink()
    tcp = TcpReassembler(sink)
    tcp.segment(1, T0, FLOW, 1000, SYN, b"early")
    tcp.segment(2, T0 + 1, FLOW, 1006, PSH_ACK, b"-late")
    assert sink.data == b"early-late" and sink.gaps == []


def test_new_syn_after_fin_starts_a_new_stream() -> None:
    conn = Conn(isn=1000)
    conn.piece(0, 4, FIN | PSH_ACK)
    conn.frame += 1
    conn.tcp.segment(conn.frame, T0 + conn.frame, FLOW, 50000, SYN, b"")
    conn.frame += 1
    conn.tcp.segment(conn.frame, T0 + conn.frame, FLOW, 50001, PSH_ACK, b"next")
    assert conn.sink.data == S[:4] + b"next" and conn.sink.ends == 1


# Holes: given up after GAP_TIMEOUT_NS of capture time, or when too much waits behind them.


def test_hole_is_given_up_after_the_timeout() -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    held = conn.piece(6, 9, ts=T0 + 5)
    later = conn.piece(12, 14, ts=T0 + 7)
    conn.tcp.expire(T0 + 5 + GAP_TIMEOUT_NS)  # exactly the timeout after the oldest: not yet
    assert conn.sink.data == S[:3] and conn.sink.gaps == []
    assert conn.waiting() == held
    conn.tcp.expire(T0 + 5 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.gaps == [(3, held), (3, later)]  # 3..6 and 9..12
    assert conn.sink.data == S[:3] + S[6:9] + S[12:14]
    assert conn.sink.deliveries[1:] == [([held], held), ([later], later)]
    assert conn.waiting() is None
    assert conn.sink.ends == 0  # a hole is not the end of the connection
    conn.piece(3, 6)  # the missing bytes, too late: already counted as lost
    conn.piece(14, 16)
    assert conn.sink.data == S[:3] + S[6:9] + S[12:16]
    conn.tcp.expire(T0 + 5 + 2 * GAP_TIMEOUT_NS)  # nothing waits: nothing more to give up
    assert conn.sink.gaps == [(3, held), (3, later)]


def test_later_segments_alone_run_the_timeout() -> None:
    """The timeout is in capture time: a segment of any flow 10 s later gives the hole up."""
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    held = conn.piece(6, 9, ts=T0 + 1)
    other = Flow(FLOW.dst, FLOW.src)
    conn.tcp.segment(90, T0 + GAP_TIMEOUT_NS // 2, other, 1, PSH_ACK, b"x")
    assert conn.sink.gaps == []
    conn.tcp.segment(91, T0 + 1 + GAP_TIMEOUT_NS + 1, other, 2, PSH_ACK, b"y")
    assert conn.sink.gaps == [(3, held)]
    assert conn.sink.data == S[:3] + b"x" + S[6:9] + b"y"  # the sink sees both directions


def test_the_timeout_runs_from_the_oldest_waiting_segment() -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    conn.piece(10, 12, ts=T0 + 1)
    conn.piece(6, 8, ts=T0 + 9 * 10**9)
    conn.tcp.expire(T0 + 1 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.gaps == [(3, 4), (2, 3)]
    assert conn.sink.data == S[:3] + S[6:8] + S[10:12]


def test_pending_data_beyond_the_limit_gives_the_hole_up() -> None:
    big = bytes(MAX_PENDING_BYTES)
    conn = Conn()
    conn.send(0, b"abc")
    held = conn.send(10, big)  # exactly the limit waits
    assert conn.sink.data == b"abc" and conn.sink.gaps == []
    extra = conn.send(10 + len(big), b"z")  # one byte more does not
    assert conn.sink.gaps == [(7, held)]
    assert conn.sink.data == b"abc" + big + b"z"
    assert conn.sink.deliveries[1:] == [([held], held), ([extra], extra)]
    assert conn.waiting() is None
    assert conn.sink.flows == {FLOW}


@pytest.mark.parametrize(
    ("end", "flags"), [(8, PSH_ACK), (4, FIN | 0x10)], ids=["data", "bare FIN"]
)
def test_a_one_byte_hole_is_given_up(end: int, flags: int) -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    after = conn.piece(4, end, flags, ts=T0)  # offset 3 never comes
    conn.tcp.expire(T0 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.gaps == [(1, after)]
    assert conn.sink.data == S[:3] + S[4:end]


@pytest.mark.parametrize("isn", [MOD - 10, HALF - 10])
def test_holes_are_given_up_in_sequence_order(isn: int) -> None:
    """The pieces at offsets 5 and 12 lie either side of 0 (MOD - 10) or of 2**31 (HALF - 10):
    which comes first is decided in sequence space from the stream's next byte."""
    conn = Conn(isn=isn)
    conn.piece(0, 2, ts=T0)
    first = conn.piece(5, 7, ts=T0)
    second = conn.piece(12, 14, ts=T0)
    conn.tcp.expire(T0 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.gaps == [(3, first), (5, second)]
    assert conn.sink.data == S[:2] + S[5:7] + S[12:14]


def test_filling_the_only_hole_leaves_nothing_waiting() -> None:
    conn = Conn()
    conn.piece(0, 3)
    conn.piece(6, 9)
    conn.piece(3, 6)
    conn.tcp.expire(T0 + 2 * GAP_TIMEOUT_NS)
    assert conn.sink.data == S[:9] and conn.sink.gaps == [] and conn.waiting() is None


def test_filling_the_first_of_two_holes_leaves_the_second_waiting() -> None:
    conn = Conn()
    conn.piece(0, 3)
    conn.piece(5, 7)
    second = conn.piece(9, 11)
    conn.piece(3, 5)
    assert conn.sink.data == S[:7]
    assert conn.waiting() == second
    conn.tcp.expire(T0 + 100 + GAP_TIMEOUT_NS)
    assert conn.sink.gaps == [(2, second)]
    assert conn.sink.data == S[:7] + S[9:11]


RELEASES = {
    "hole filled": lambda conn: conn.send(3, bytes(7)),
    "hole given up": lambda conn: conn.tcp.expire(T0 + GAP_TIMEOUT_NS + 1),
}


@pytest.mark.parametrize("release", RELEASES.values(), ids=RELEASES.keys())
def test_the_pending_limit_counts_only_what_still_waits(release: Callable[[Conn], object]) -> None:
    conn = Conn()
    conn.send(0, b"abc", ts=T0)
    conn.send(10, bytes(100), ts=T0)
    release(conn)  # the 100 bytes are delivered: none waits any more
    gaps = list(conn.sink.gaps)
    big = conn.send(120, bytes(MAX_PENDING_BYTES))  # exactly the limit waits
    assert conn.waiting() == big and conn.sink.gaps == gaps


def test_data_given_up_is_delivered_at_the_time_of_its_frame() -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    conn.piece(6, 8, ts=T0 + 5)
    conn.send(6, S[6:11], ts=T0 + 7)  # resent with more: only 8..11 is new, and waits
    conn.tcp.expire(T0 + 5 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.data == S[:3] + S[6:11]
    assert conn.sink.times == [T0, T0 + 5, T0 + 7]


def test_holes_are_checked_once_every_expire_interval() -> None:
    conn = Conn()  # the SYN at T0 + 1 starts the clock
    start = T0 + 1
    conn.piece(0, 3)
    held = conn.piece(6, 9, ts=start)
    conn.tcp.advance(start + GAP_TIMEOUT_NS)  # checked: the hole is not older than the timeout
    conn.tcp.advance(start + GAP_TIMEOUT_NS + EXPIRE_EVERY_NS // 2)  # too soon to check again
    assert conn.sink.gaps == []
    conn.tcp.advance(start + GAP_TIMEOUT_NS + EXPIRE_EVERY_NS)
    assert conn.sink.gaps == [(3, held)]


def test_a_flow_idle_for_longer_than_the_idle_timeout_is_ended() -> None:
    conn = Conn()
    last = T0 + 5
    conn.piece(0, 3, ts=last)
    conn.tcp.expire(last + IDLE_TIMEOUT_NS)
    assert conn.sink.ends == 0
    conn.tcp.expire(last + IDLE_TIMEOUT_NS + 1)
    assert conn.sink.ends == 1 and conn.sink.flows == {FLOW}


# A sink that refuses a flow (it is not SIP): nothing more of it is handed on.


def test_a_refused_flow_is_no_longer_followed() -> None:
    conn = Conn()
    conn.sink.accepts = False
    first = conn.piece(0, 3)
    conn.piece(3, 6)
    conn.piece(6, 9, FIN | PSH_ACK)
    conn.tcp.flush()
    assert conn.sink.deliveries == [([first], first)] and conn.sink.ends == 0


def test_a_refusal_drops_what_waits_behind_a_hole() -> None:
    conn = Conn()
    conn.piece(6, 9)
    conn.sink.accepts = False
    first = conn.piece(0, 3)
    assert conn.waiting() is None
    conn.tcp.expire(T0 + 100 + GAP_TIMEOUT_NS)
    assert conn.sink.deliveries == [([first], first)] and conn.sink.gaps == []


def test_a_refusal_while_a_hole_is_given_up_stops_the_delivery() -> None:
    conn = Conn()
    conn.piece(0, 3, ts=T0)
    held = conn.piece(6, 9, ts=T0)
    conn.piece(12, 15, ts=T0)
    conn.sink.accepts = False
    conn.tcp.expire(T0 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.gaps == [(3, held)] and conn.sink.data == S[:3] + S[6:9]
    assert conn.waiting() is None


# Sequence numbers wrap at 2**32 (RFC 9293 3.4: arithmetic modulo 2**32).


@pytest.mark.parametrize("isn", [MOD - 1, MOD - 2, MOD - 5, MOD - 8, MOD - 12, HALF - 8])
def test_out_of_order_and_overlaps_across_the_wrap(isn: int) -> None:
    """HALF - 8: the two waiting pieces (offsets 6 and 9) lie either side of 2**31, where
    sequence numbers compared to 0 instead of to the stream's next one would swap order."""
    conn = Conn(isn=isn)  # stream offset k is sequence number (isn + 1 + k) mod 2**32
    conn.piece(0, 3)
    conn.piece(9, 14)
    conn.piece(6, 11)
    conn.piece(2, 7)
    conn.piece(14, 16)
    assert conn.sink.data == S[:16] and conn.sink.gaps == []


@pytest.mark.parametrize("isn", [MOD - 1, MOD - 4, MOD - 7])
def test_hole_across_the_wrap_is_measured_in_sequence_space(isn: int) -> None:
    conn = Conn(isn=isn)
    conn.piece(0, 2, ts=T0)
    held = conn.piece(8, 10, ts=T0)
    conn.tcp.expire(T0 + GAP_TIMEOUT_NS + 1)
    assert conn.sink.gaps == [(6, held)]
    assert conn.sink.data == S[:2] + S[8:10]


@pytest.mark.parametrize("isn", [MOD - 1, MOD - 3])
def test_fin_across_the_wrap_waits_for_the_missing_segment(isn: int) -> None:
    conn = Conn(isn=isn)
    conn.piece(0, 1)
    conn.piece(4, 6, FIN | PSH_ACK)
    assert conn.sink.ends == 0
    conn.piece(1, 4)
    assert conn.sink.data == S[:6] and conn.sink.ended and conn.sink.gaps == []


# Property: any segmentation, any order, duplicates and overlapping retransmissions.


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[int, bytes, list[tuple[int, int, int]]]:
    """(isn, stream, segments (start, end, flags) in arrival order) covering the whole stream."""
    stream = draw(st.binary(min_size=1, max_size=400))
    isn = draw(st.one_of(st.integers(0, MOD - 1), st.integers(MOD - 2 * len(stream) - 2, MOD - 1)))
    cuts = draw(st.sets(st.integers(1, len(stream) - 1), max_size=12)) if len(stream) > 1 else []
    bounds = [0, *sorted(cuts), len(stream)]
    segments = [(a, b, PSH_ACK) for a, b in pairwise(bounds)]
    bare_fin = draw(st.booleans())
    if bare_fin:
        segments.append((len(stream), len(stream), FIN | 0x10))
    else:
        start, end, _ = segments[-1]
        segments[-1] = (start, end, FIN | PSH_ACK)
    offsets = st.integers(0, len(stream) - 1)
    extra = draw(st.lists(st.tuples(offsets, st.integers(1, 60)), max_size=6))
    segments += [(a, min(a + n, len(stream)), PSH_ACK) for a, n in extra]  # overlapping
    segments += draw(st.lists(st.sampled_from(segments), max_size=4))  # exact duplicates
    order = draw(st.permutations(range(len(segments))))
    return isn, stream, [segments[i] for i in order]


@settings(max_examples=200, deadline=None)
@given(arrivals())
def test_any_segmentation_order_and_overlap_gives_the_stream_then_fin(
    case: tuple[int, bytes, list[tuple[int, int, int]]],
) -> None:
    isn, stream, segments = case
    conn = Conn(isn=isn)
    carried: dict[int, tuple[int, int]] = {}
    for start, end, flags in segments:
        frame = conn.send(start, stream[start:end], flags)
        carried[frame] = (start, end)
    # Everything arrived: the stream is complete and ended, without the end-of-capture flush.
    assert conn.sink.data == stream
    assert conn.sink.gaps == []
    assert conn.sink.ended and conn.sink.ends == 1
    assert conn.waiting() is None
    # Each delivered byte is attributed to a frame that carried that byte.
    position = 0
    for data, frame in conn.sink.chunks:
        start, end = carried[frame]
        assert start <= position and position + len(data) <= end
        position += len(data)


def test_a_hole_times_out_while_only_other_traffic_goes_by(tmp_path) -> None:
    """A TCP stream whose second message never arrives, then 14 s of UDP SIP only (over 2 MB,
    so the reader goes through several blocks): the hole is given up GAP_TIMEOUT_NS after the
    segment waiting behind it, so that message and the UDP traffic held back behind it come
    out while the capture is still being read, not only when it ends."""
    first = sip_request("OPTIONS", call_id="tcp-1", extra=("X-Pad: " + "a" * 40,))
    lost = sip_request("OPTIONS", call_id="tcp-2")
    third = sip_request("OPTIONS", call_id="tcp-3")
    frames = [
        (T0, ethernet(ipv4("192.0.2.1", "192.0.2.2", 6, tcp(40000, 5060, 1000, first)))),
        (T0 + 1_000, ethernet(ipv4("192.0.2.1", "192.0.2.2", 6,
                                   tcp(40000, 5060, 1000 + len(first) + len(lost), third)))),
    ]
    udp_every_ns = 10_000_000
    for n in range(1, 1400):  # 14 s of UDP OPTIONS, 1.5 kB each
        payload = sip_request("OPTIONS", call_id=f"udp-{n}", extra=("X-Pad: " + "b" * 1000,))
        frames.append((T0 + n * udp_every_ns, udp4_frame("192.0.2.3", "192.0.2.4", payload)))
    path = tmp_path / "hole.pcap"
    path.write_bytes(pcap(frames, nanoseconds=True))
    batches = [[m.call_id for m in batch] for batch in MessageReader(path).batches()]
    held_until = next(i for i, ids in enumerate(batches) if "tcp-3" in ids)
    assert held_until < len(batches) - 1  # given up before the end of the capture
    released = batches[held_until]
    # everything after the TCP frame waited with it: the UDP messages up to the block read
    # when the hole's age passed GAP_TIMEOUT_NS
    assert released.index("tcp-3") < released.index("udp-1")
    last_udp = max(int(c[4:]) for ids in batches[: held_until + 1] for c in ids if c[:4] == "udp-")
    assert last_udp * udp_every_ns > GAP_TIMEOUT_NS
