"""Endace ERF files: record types, extension headers, the 32.32 timestamp, and when a file with
no magic number is taken as ERF (the ERF types document; times checked once with tshark)."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from sipdiag.capture import CaptureError, Reader, Region, linktypes, open_capture
from sipdiag.capture.erf import recognise
from sipdiag.problems import ProblemLog
from tests import packets
from tests.capture.test_formats import Frame, read_capture

DATA = [
    packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(cseq=i)) for i in (1, 2, 3)
]
IP4 = DATA[0][14:]
IP6 = packets.ipv6("2001:db8::1", "2001:db8::2", 17, packets.udp(5060, 5060, b"OPTIONS"))


def record(
    fixed: int, rtype: int, payload: bytes, wlen: int | None = None, extensions: int = 0
) -> bytes:
    """An ERF record: ``fixed`` is the 32.32 timestamp; Ethernet types get their 2 pad bytes."""
    body = b""
    for index in range(extensions):  # the top bit of each says another one follows
        more = 0x80 if index < extensions - 1 else 0
        body += bytes([more | 0x01]) + b"\x00" * 7
    kind = rtype & 0x7F
    frame = (b"\x00\x00" if kind in (2, 11, 16, 20) else b"") + payload
    body += frame + b"\0" * (-len(frame) % 8)
    return (
        struct.pack("<QBB", fixed, rtype | (0x80 if extensions else 0), 0x04)
        + struct.pack(">HHH", 16 + len(body), 0, len(payload) if wlen is None else wlen)
        + body
    )


def fixed(seconds: int, fraction: int) -> int:
    return seconds << 32 | fraction


def read(path: Path) -> tuple[Reader, list[Frame], ProblemLog, list[int]]:
    return read_capture(open_capture(path))


def test_record_types_extension_headers_and_rounded_times(write_capture) -> None:
    records = [
        record(fixed(1_700_000_000, 0x80000000), 2, DATA[0]),  # Ethernet, .5 s exactly
        record(fixed(1_700_000_000, 0x80000000), 22, IP4),  # IPv4, the same time
        record(fixed(1_700_000_001, 3), 23, IP6),  # IPv6; 3/2^32 s rounds to 1 ns
        record(fixed(1_700_000_001, 0xFFFFFFFF), 2, DATA[1], extensions=2),
        record(fixed(1_700_000_002, 1), 2, DATA[2], extensions=1),  # 1/2^32 s rounds to 0
    ]
    data = b"".join(records)
    reader, frames, problems, positions = read(write_capture(data, "c.erf"))
    # tshark: 1700000000.500000000 (twice), 1700000001.000000001, 1700000002.000000000,
    # 1700000002.000000000
    assert reader.format == "erf" and not problems.counts
    assert frames == [
        (1, 1_700_000_000_500_000_000, linktypes.ETHERNET, DATA[0], len(DATA[0])),
        (2, 1_700_000_000_500_000_000, linktypes.IPV4, IP4, len(IP4)),
        (3, 1_700_000_001_000_000_001, linktypes.IPV6, IP6, len(IP6)),
        (4, 1_700_000_002_000_000_000, linktypes.ETHERNET, DATA[1], len(DATA[1])),
        (5, 1_700_000_002_000_000_000, linktypes.ETHERNET, DATA[2], len(DATA[2])),
    ]
    assert reader.frame_count == 5
    assert reader.linktypes == {linktypes.ETHERNET, linktypes.IPV4, linktypes.IPV6}
    assert reader.first_ts_ns == 1_700_000_000_500_000_000
    assert reader.last_ts_ns == 1_700_000_002_000_000_000
    assert positions == [len(data)]


def test_wire_length_shorter_than_the_record_drops_the_padding(write_capture) -> None:
    short = DATA[0][:61]  # padded to 64 bytes in the record
    data = record(fixed(5, 0), 2, short, extensions=0) * 3
    _, frames, _, _ = read(write_capture(data, "p.erf"))
    assert [(f[3], f[4]) for f in frames] == [(short, 61)] * 3


def test_captured_bytes_shorter_than_the_wire_length(write_capture) -> None:
    data = record(fixed(5, 0), 22, IP4[:40], wlen=len(IP4)) * 2
    _, frames, _, _ = read(write_capture(data, "snap.erf"))
    assert [(f[3], f[4]) for f in frames] == [(IP4[:40], len(IP4))] * 2


def test_a_file_starting_at_time_zero(write_capture) -> None:
    data = record(0, 22, IP4) + record(0, 22, IP4) + record(fixed(0, 0x40000000), 22, IP4)
    _, frames, _, _ = read(write_capture(data, "zero.erf"))
    assert [f[1] for f in frames] == [0, 0, 250_000_000]


def test_an_unsupported_record_type_is_counted_and_reported(write_capture) -> None:
    data = record(fixed(1, 0), 22, IP4) + record(fixed(2, 0), 1, b"\xff\x03" + IP4)  # HDLC
    data += record(fixed(3, 0), 22, IP4)
    _reader, frames, problems, _ = read(write_capture(data, "hdlc.erf"))
    assert [f[0] for f in frames] == [1, 3]
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [
        ("capture_unsupported_record", 2, "ERF record type 1")
    ]


def test_a_record_length_shorter_than_its_header_is_corrupt(write_capture) -> None:
    good = record(fixed(1, 0), 22, IP4) * 3
    bad = struct.pack("<QBB", fixed(2, 0), 22, 0) + struct.pack(">HHH", 8, 0, 0) + b"\0" * 40
    _reader, frames, problems, _ = read(write_capture(good + bad, "bad.erf"))
    assert [f[0] for f in frames] == [1, 2, 3]
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [
        ("capture_corrupt", 4, f"ERF record length 8 at byte {len(good)}")
    ]


def test_a_file_cut_inside_a_record(write_capture) -> None:
    whole = record(fixed(1, 0), 22, IP4) * 2
    third = record(fixed(2, 0), 22, IP4)
    _reader, frames, problems, _ = read(write_capture(whole + third[:16], "cut.erf"))
    assert [f[0] for f in frames] == [1, 2]
    assert [(p.kind, p.frame) for p in problems.all_examples()] == [("capture_truncated", 3)]


def plausible(*records: bytes) -> bool:
    return recognise(b"".join(records))


def test_recognised_only_when_the_first_records_are_plausible() -> None:
    ip = record(fixed(1, 0), 22, IP4)
    assert plausible(ip) and plausible(ip, ip) and plausible(ip, ip, ip)
    assert plausible(ip, ip, ip, b"\xff" * 16)  # only three records are checked
    assert plausible(ip, ip, ip[:20])  # the third record may be cut
    assert plausible(ip, ip[:20]) and plausible(ip, ip[:10])  # a file cut in its second record
    assert not plausible(ip[:-1])  # not one whole record: nothing says it is ERF
    assert not plausible(b"")
    assert not plausible(record(fixed(2, 0), 22, IP4), ip)  # time runs backwards
    assert not plausible(record(fixed(1, 0), 26, IP4))  # type 26 is not defined
    assert not plausible(record(fixed(1, 0), 30, IP4))
    assert plausible(record(fixed(1, 0), 29, IP4))
    assert plausible(record(fixed(1, 0), 22, IP4, extensions=1))


def test_recognised_record_lengths() -> None:
    def header(rtype: int, rlen: int, wlen: int) -> bytes:
        return struct.pack("<QBB", fixed(1, 0), rtype, 0) + struct.pack(">HHH", rlen, 0, wlen)

    def sized(rtype: int, rlen: int, wlen: int = 0) -> bytes:
        return header(rtype, rlen, wlen) + b"\0" * (rlen - 16)

    assert not plausible(header(22, 16, 0))  # a record must hold more than its header
    assert plausible(sized(22, 17))
    assert plausible(sized(22, 0xFFF8))  # the largest a 16-bit length allows
    assert not plausible(header(22, 8, 0) + b"\0" * 8)
    assert plausible(sized(2, 32)) and not plausible(sized(2, 28))  # Ethernet: room for a header
    assert plausible(sized(2 | 0x80, 32)) and not plausible(sized(2 | 0x80, 28))
    assert plausible(sized(22, 28))  # IPv4 records have no such minimum
    assert plausible(sized(22, 32, 0xFFFF))


def test_erf_cannot_be_read_in_parts(write_capture) -> None:
    path = write_capture(record(fixed(1, 0), 22, IP4), "p.erf")
    with pytest.raises(
        CaptureError, match=r"p\.erf: only pcap and pcapng files can be read in parts"
    ):
        open_capture(path, region=Region(0, 10))


def test_a_record_of_only_its_header_ends_the_file(write_capture) -> None:
    data = record(fixed(1, 0), 22, IP4) * 3 + record(fixed(4, 0), 22, b"")
    assert len(record(fixed(4, 0), 22, b"")) == 16
    _reader, frames, problems, _ = read(write_capture(data, "header.erf"))
    assert not problems.counts
    assert frames[3] == (4, 4 * 10**9, linktypes.IPV4, b"", 0)


def test_a_record_length_shorter_than_its_header_at_the_end_is_corrupt(write_capture) -> None:
    good = record(fixed(1, 0), 22, IP4) * 3
    bad = struct.pack("<QBB", fixed(2, 0), 22, 0) + struct.pack(">HHH", 8, 0, 0)  # 16 bytes
    _reader, frames, problems, _ = read(write_capture(good + bad, "bad.erf"))
    assert [f[0] for f in frames] == [1, 2, 3]
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [
        ("capture_corrupt", 4, f"ERF record length 8 at byte {len(good)}")
    ]


def test_extension_headers_that_claim_more_at_the_end_of_the_file(write_capture) -> None:
    # The last record: one extension header, whose top bit says another follows; none does.
    last = struct.pack("<QBB", fixed(4, 0), 22 | 0x80, 0) + struct.pack(">HHH", 24, 0, 0)
    data = record(fixed(1, 0), 22, IP4) * 3 + last + bytes([0x81]) + b"\0" * 7
    _reader, frames, problems, _ = read(write_capture(data, "ext.erf"))
    assert not problems.counts and [f[3] for f in frames] == [IP4, IP4, IP4, b""]


def test_each_link_type_is_asked_once(write_capture) -> None:
    from tests.capture.test_formats import WindowSink

    data = b"".join(
        record(fixed(i, 0), 22, IP4) + record(fixed(i, 1), 2, DATA[0]) for i in range(3)
    )
    reader, sink = open_capture(write_capture(data, "two.erf")), WindowSink()
    list(reader.frames(sink, ProblemLog()))
    reader.close()
    assert sink.asked == [linktypes.IPV4, linktypes.ETHERNET] and len(sink.calls) == 6


def test_short_random_files_are_not_taken_for_erf() -> None:
    # ERF has no magic: a random file passes the first record's checks about one time in five
    # (a known type, a length); it must also hold that record whole
    rng = random.Random(19)
    samples = [rng.randbytes(rng.randrange(64, 4096)) for _ in range(2000)]
    assert sum(map(recognise, samples)) < 20
