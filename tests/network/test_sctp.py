"""SCTP user messages (RFC 9260, RFC 8260 I-DATA) as the decoder hands them on: one message per
DATA chunk with B and E set, fragments joined in TSN order, retransmissions (a TSN seen before on
that association direction) dropped, other chunks skipped."""

from __future__ import annotations

import pytest

from sipdiag.capture import linktypes
from sipdiag.network import Endpoint, Flow
from sipdiag.network import sctp as sctp_module
from sipdiag.network.sctp import SctpReassembler
from tests import packets
from tests.network.recording import SIP, TS, decode

A, B = "192.0.2.1", "192.0.2.2"
DATA, SACK, COOKIE_ACK, I_DATA = 0, 3, 11, 64
BEGIN, END, WHOLE = 0x02, 0x01, 0x03
FLOW = Flow(Endpoint(A, 5060), Endpoint(B, 5062))
OTHER = Flow(Endpoint(A, 5061), Endpoint(B, 5062))


def _frame(*chunks: tuple[int, int, bytes], sport: int = 0x13C5, dport: int = 0xC4A7) -> bytes:
    return packets.ipv4(A, B, 132, packets.sctp(sport, dport, list(chunks)))


def _messages(*frames: bytes) -> list[tuple[object, ...]]:
    decoded = decode(*frames, linktype=linktypes.RAW)
    assert decoded.problem_list() == []
    return decoded.sink.datagrams


def test_a_whole_message_with_its_addresses_and_time() -> None:
    """Ports 5061 (0x13C5) and 50343 (0xC4A7): both bytes of each port matter."""
    assert _messages(_frame((DATA, WHOLE, packets.sctp_data(7, SIP, ppid=0)))) == [
        ("SCTP", 1, TS, Endpoint(A, 0x13C5), Endpoint(B, 0xC4A7), SIP, (1,))
    ]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1]])
def test_fragments_in_any_order_are_joined_in_tsn_order(order: list[int]) -> None:
    """RFC 9260 6.9: B on the first fragment, E on the last, consecutive TSNs between."""
    pieces = [SIP[:100], SIP[100:200], SIP[200:]]
    flags = [BEGIN, 0, END]
    frames = [_frame((DATA, flags[i], packets.sctp_data(40 + i, pieces[i]))) for i in order]
    messages = _messages(*frames)
    assert [(m[1], m[5], m[6]) for m in messages] == [
        (3, SIP, tuple(order.index(i) + 1 for i in range(3)))
    ]


def test_bundled_chunks_other_than_data_are_skipped() -> None:
    """A COOKIE ACK (4 bytes) and a SACK (16 bytes) may be bundled with DATA (RFC 9260 6.10).
    The SACK's cumulative TSN 1 counts the peer's DATA: it is not this direction's TSN 1."""
    sack = b"\0\0\0\x01" + b"\0\0\xff\xff" + b"\0\0\0\0"
    frame = _frame((COOKIE_ACK, 0, b""), (SACK, 0, sack), (DATA, WHOLE, packets.sctp_data(1, SIP)),
                   (DATA, WHOLE, packets.sctp_data(2, SIP[:-1])))
    assert [m[5] for m in _messages(frame)] == [SIP, SIP[:-1]]


def test_an_empty_fragment_still_takes_its_place_in_the_message() -> None:
    """A DATA chunk of length 16 is its header alone (RFC 9260 3.3.1): no user data, but its
    TSN is one of the message's consecutive TSNs, so the fragments around it are joined."""
    chunks = [(BEGIN, SIP[:100]), (0, b""), (END, SIP[100:])]
    frames = [_frame((DATA, flags, packets.sctp_data(60 + i, data)))
              for i, (flags, data) in enumerate(chunks)]
    assert [(m[5], m[6]) for m in _messages(*frames)] == [(SIP, (1, 2, 3))]


def test_padding_to_four_bytes_is_not_data() -> None:
    odd = SIP[:-3]  # a chunk length that is not a multiple of 4: padded (RFC 9260 3.2)
    frame = _frame((DATA, WHOLE, packets.sctp_data(1, odd)), (DATA, WHOLE,
                                                              packets.sctp_data(2, SIP)))
    assert [m[5] for m in _messages(frame)] == [odd, SIP]


def test_i_data_chunks_have_a_20_byte_header() -> None:
    """RFC 8260 2.1: TSN, stream id, reserved, message id and PPID/FSN before the data."""
    frame = _frame((I_DATA, WHOLE, packets.sctp_i_data(5, SIP, mid=3)))
    assert [m[5] for m in _messages(frame)] == [SIP]


def test_tsns_are_per_association_direction() -> None:
    """The same TSN on another association is another message, not a retransmission."""
    frames = [_frame((DATA, WHOLE, packets.sctp_data(9, SIP)), sport=sport)
              for sport in (5060, 5061, 5060)]
    assert [m[3] for m in _messages(*frames)] == [Endpoint(A, 5060), Endpoint(A, 5061)]


def test_a_chunk_length_below_four_ends_the_packet() -> None:
    bad = packets.sctp(5060, 5062, [(DATA, WHOLE, packets.sctp_data(1, SIP))])
    bad = bad[:12] + bytes([0, 3, 0, 3]) + bad[16:]
    assert _messages(packets.ipv4(A, B, 132, bad)) == []


@pytest.mark.parametrize("size", [11, 0])
def test_common_header_cut_short(size: int) -> None:
    """RFC 9260 3.1: the common header is 12 bytes."""
    packet = packets.ipv4(A, B, 132, packets.sctp(5060, 5062, [])[:size])
    decoded = decode(packet, linktype=linktypes.RAW)
    assert decoded.problem_list() == [("sctp_bad_header", 1, "SCTP common header cut short")]


def test_common_header_alone_is_not_a_problem() -> None:
    decoded = decode(packets.ipv4(A, B, 132, packets.sctp(5060, 5062, [])), linktype=linktypes.RAW)
    assert decoded.problem_list() == [] and decoded.sink.datagrams == []


@pytest.mark.parametrize("kept", [4, 8, 15])
def test_a_data_chunk_cut_inside_its_header(kept: int) -> None:
    """The snapshot length cut the DATA chunk's header: its TSN is unknown, nothing is read."""
    whole = _frame((DATA, WHOLE, packets.sctp_data(1, SIP)))
    cut = whole[: 20 + 12 + kept]
    decoded = decode(cut, linktype=linktypes.RAW, lengths=[len(whole)])
    assert decoded.sink.datagrams == [] and decoded.problem_list() == []


# The bounds on what is remembered.


def _chunk(reassembler: SctpReassembler, tsn: int, flags: int, data: bytes,
           flow: Flow = FLOW) -> list[tuple[bytes, tuple[int, ...]]]:
    packet = packets.sctp(5060, 5062, [(DATA, flags, packets.sctp_data(tsn, data))])
    return list(reassembler.packet(flow, packet, 0, len(packet), tsn))


def test_the_oldest_tsn_is_forgotten_past_the_limit() -> None:
    reassembler = SctpReassembler()
    for tsn in range(1, sctp_module.SEEN_TSNS + 2):
        assert _chunk(reassembler, tsn, WHOLE, b"m") == [(b"m", (tsn,))]
    assert _chunk(reassembler, 2, WHOLE, b"m") == []  # still remembered: a retransmission
    assert _chunk(reassembler, 1, WHOLE, b"m") == [(b"m", (1,))]  # forgotten: new again


def test_waiting_fragments_are_dropped_past_the_limit() -> None:
    reassembler = SctpReassembler()
    for i in range(sctp_module.MAX_FRAGMENTS - 1):
        assert _chunk(reassembler, 10 * i, BEGIN, b"x") == []  # first fragments, never ended
    assert _chunk(reassembler, 100_000, BEGIN, b"a") == []
    assert _chunk(reassembler, 100_001, END, b"b") == []  # the 1025th: all waiting ones go
    reassembler = SctpReassembler()
    for i in range(sctp_module.MAX_FRAGMENTS - 2):
        _chunk(reassembler, 10 * i, BEGIN, b"x")
    _chunk(reassembler, 100_000, BEGIN, b"a")
    assert _chunk(reassembler, 100_001, END, b"b") == [(b"ab", (100_000, 100_001))]


def test_fragments_across_the_tsn_wrap() -> None:
    """TSNs are serial numbers modulo 2^32 (RFC 9260 1.6): 2^32 - 1 is followed by 0."""
    reassembler = SctpReassembler()
    assert _chunk(reassembler, 0, END, b"c") == []
    assert _chunk(reassembler, 0xFFFFFFFE, BEGIN, b"a") == []
    assert _chunk(reassembler, 0xFFFFFFFF, 0, b"b") == [(b"abc", (0xFFFFFFFE, 0xFFFFFFFF, 0))]
