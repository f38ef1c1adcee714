"""pcapng blocks: every packet block type, interfaces with their own clocks, byte orders,
sections, skipped blocks and damaged files, against the pcapng specification
(draft-ietf-opsawg-pcapng): expected values worked out from the bytes written here, and the
file of the first test checked once with ``tshark -T fields -e frame.time_epoch -e frame.len
-e frame.cap_len``."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from sipdiag.capture import Reader, Region, linktypes, open_capture
from sipdiag.capture.pcapng import PcapngReader
from sipdiag.capture.source import ByteSource
from sipdiag.problems import ProblemLog
from tests import packets
from tests.capture.test_formats import Frame, RecordingSink

SEC = 1_000_000_000
DATA = [
    packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(cseq=i)) for i in range(1, 7)
]


def block(block_type: int, body: bytes, order: str = "<") -> bytes:
    """A block: type, total length, the body padded to 32 bits, the total length again."""
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


def option(code: int, value: bytes, order: str = "<") -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def section(order: str = "<") -> bytes:
    return block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)


def interface(linktype: int, snaplen: int = 0, options: bytes = b"", order: str = "<") -> bytes:
    if options:
        options += struct.pack(order + "HH", 0, 0)  # opt_endofopt
    return block(1, struct.pack(order + "HHI", linktype, 0, snaplen) + options, order)


def epb(if_id: int, units: int, data: bytes, origlen: int | None = None, order: str = "<") -> bytes:
    header = struct.pack(
        order + "IIIII",
        if_id,
        units >> 32,
        units & 0xFFFFFFFF,
        len(data),
        len(data) if origlen is None else origlen,
    )
    return block(6, header + data, order)


def spb(data: bytes, origlen: int | None = None, order: str = "<") -> bytes:
    return block(
        3, struct.pack(order + "I", len(data) if origlen is None else origlen) + data, order
    )


def obsolete(if_id: int, units: int, data: bytes, order: str = "<") -> bytes:
    header = struct.pack(
        order + "HHIIII", if_id, 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data) + 4
    )
    return block(2, header + data, order)


def read_all(
    path: Path, region: Region | None = None
) -> tuple[Reader, list[Frame], ProblemLog, list[int]]:
    reader = open_capture(path, region=region)
    sink, problems = RecordingSink(), ProblemLog()
    positions = list(reader.frames(sink, problems))
    reader.close()
    return reader, sink.frames, problems, positions


def only(problems: ProblemLog) -> tuple[str, int, str]:
    assert problems.total == 1, problems.counts
    problem = problems.all_examples()[0]
    return problem.kind, problem.frame, problem.detail


# Interface 0: Ethernet, microseconds (the default), if_tsoffset of 1_700_000_000 s, snaplen 95.
# Interface 1: Linux cooked, if_tsresol 9 (nanoseconds), no offset, no snaplen.
OFFSET = 1_700_000_000
MIXED = b"".join(
    [
        section(),
        interface(linktypes.ETHERNET, 95, option(14, struct.pack("<q", OFFSET))),
        block(
            4, option(1, b"\xc0\x00\x02\x01sip.example\0") + b"\0" * 4
        ),  # name resolution: skipped
        interface(linktypes.LINUX_SLL, 0, option(9, b"\x09")),
        epb(0, 123_456, DATA[0], origlen=1514),  # 123.456 ms after the offset
        spb(DATA[1][:95], len(DATA[1])),  # snaplen 95: 95 bytes and a byte of padding
        obsolete(1, 2 * SEC + 7, DATA[2]),
        block(5, struct.pack("<III", 1, 0, 0)),  # interface statistics: skipped
        epb(1, 3 * SEC + 999_999_999, DATA[3]),
        block(0x12345678, b"\x01\x02\x03\x04"),  # unknown block type: skipped
        section(">"),  # a big-endian section: its own interfaces, from 0 again
        interface(linktypes.RAW, 0, option(9, b"\x83", ">"), ">"),  # 2^-3 s units
        epb(0, (OFFSET + 5) * 8 + 3, DATA[4][14:], order=">"),  # 5.375 s after OFFSET
        spb(DATA[5][14:], order=">"),
    ]
)


def test_every_packet_block_type_with_each_interface_clock(write_capture) -> None:
    path = write_capture(MIXED, "mixed.pcapng")
    reader, frames, problems, positions = read_all(path)
    assert not problems.counts
    assert isinstance(reader, PcapngReader) and reader.format == "pcapng"
    # tshark (number, time_epoch, len, cap_len): 1 1700000000.123456000 1514 356, 2 (no time:
    # a Simple Packet Block has none) 356 95, 3 2.000000007 360 356, 4 3.999999999 356 356,
    # 5 1700000005.375000000 342 342, 6 (no time) 342 342
    assert [(n, ts, lt, len(data), orig) for n, ts, lt, data, orig in frames] == [
        (1, OFFSET * SEC + 123_456_000, linktypes.ETHERNET, len(DATA[0]), 1514),
        (2, 0, linktypes.ETHERNET, 95, len(DATA[1])),
        (3, 2 * SEC + 7, linktypes.LINUX_SLL, len(DATA[2]), len(DATA[2]) + 4),
        (4, 3 * SEC + 999_999_999, linktypes.LINUX_SLL, len(DATA[3]), len(DATA[3])),
        (5, (OFFSET + 5) * SEC + 375_000_000, linktypes.RAW, len(DATA[4]) - 14, len(DATA[4]) - 14),
        (6, 0, linktypes.RAW, len(DATA[5]) - 14, len(DATA[5]) - 14),
    ]
    assert [f[3] for f in frames] == [
        DATA[0],
        DATA[1][:95],
        DATA[2],
        DATA[3],
        DATA[4][14:],
        DATA[5][14:],
    ]
    assert reader.frame_count == 6 and reader.sections == 2
    assert reader.linktypes == {linktypes.ETHERNET, linktypes.LINUX_SLL, linktypes.RAW}
    assert reader.first_ts_ns == OFFSET * SEC + 123_456_000
    assert reader.last_ts_ns == (OFFSET + 5) * SEC + 375_000_000  # the last block with a time
    assert reader.byte_order == ">"
    assert [
        (i.linktype, i.ts_mul, i.ts_div, i.ts_offset_ns, i.snaplen) for i in reader.interfaces
    ] == [(linktypes.RAW, SEC, 8, 0, 0)]
    assert positions == [len(MIXED)]


def test_interfaces_of_the_first_section(write_capture) -> None:
    first_section = MIXED[: MIXED.index(section(">"))]
    reader, frames, _, _ = read_all(write_capture(first_section, "one.pcapng"))
    assert reader.sections == 1 and reader.byte_order == "<"
    assert [
        (i.linktype, i.ts_mul, i.ts_div, i.ts_offset_ns, i.snaplen) for i in reader.interfaces
    ] == [
        (linktypes.ETHERNET, 1000, 1, OFFSET * SEC, 95),
        (linktypes.LINUX_SLL, 1, 1, 0, 0),
    ]
    assert reader.last_ts_ns == 3 * SEC + 999_999_999
    assert len(frames) == 4


def test_times_of_a_block_without_one_do_not_hide_the_last_time(write_capture) -> None:
    data = section() + interface(1) + obsolete(0, 5_000_000, DATA[0]) + spb(DATA[1])
    reader, frames, problems, _ = read_all(write_capture(data, "obsolete.pcapng"))
    assert not problems.counts and [f[1] for f in frames] == [5 * SEC, 0]
    assert reader.first_ts_ns == 5 * SEC and reader.last_ts_ns == 5 * SEC


@pytest.mark.parametrize(
    ("tsresol", "units", "expected_ns"),
    [
        (0, 17, 17 * SEC),  # seconds
        (3, 17, 17_000_000),  # milliseconds
        (6, 17, 17_000),  # microseconds
        (9, 17, 17),
        (12, 17_000, 17),  # picoseconds
        (10, 17_000_000_001_234_567_891, 1_700_000_000_123_456_789),  # 0.1 ns, near 2^64
        (0x80, 17, 17 * SEC),  # 2^0 s
        (0x80 | 10, 3 * 1024 + 512, 3 * SEC + 500_000_000),  # 2^-10 s
    ],
)
def test_timestamp_resolutions(write_capture, tsresol: int, units: int, expected_ns: int) -> None:
    data = section() + interface(1, 0, option(9, bytes([tsresol]))) + epb(0, units, DATA[0])
    _, frames, problems, _ = read_all(write_capture(data, "r.pcapng"))
    assert not problems.counts and frames[0][1] == expected_ns


def test_negative_timestamp_offset_and_large_timestamps(write_capture) -> None:
    options = option(14, struct.pack("<q", -100)) + option(9, b"\x06")
    units = (1 << 33) + 250  # the high word matters
    data = section() + interface(1, 0, options) + epb(0, units, DATA[0])
    reader, frames, _, _ = read_all(write_capture(data, "o.pcapng"))
    assert frames[0][1] == units * 1000 - 100 * SEC
    assert reader.interfaces[0].ts_offset_ns == -100 * SEC


def test_big_endian_interface_options(write_capture) -> None:
    options = option(9, b"\x09", ">") + option(14, struct.pack(">q", 7), ">")
    data = (
        section(">")
        + interface(linktypes.LINUX_SLL2, 200, options, ">")
        + epb(0, 11, DATA[0], order=">")
    )
    reader, frames, problems, _ = read_all(write_capture(data, "be.pcapng"))
    assert not problems.counts
    assert [(n, ts, lt) for n, ts, lt, _, _ in frames] == [(1, 7 * SEC + 11, linktypes.LINUX_SLL2)]
    assert reader.interfaces[0].snaplen == 200


def test_options_after_an_unknown_one_and_ignored_malformed_ones(write_capture) -> None:
    options = (
        option(2, b"eth0")  # if_name, 4 bytes
        + option(2, b"eth0\0")  # 5 bytes: padded to 8
        + option(3, b"x")  # if_description: padded to 4 bytes
        + option(9, b"")  # an empty if_tsresol is ignored: microseconds stay
        + option(14, b"\x01\x00\x00\x00")  # an if_tsoffset that is not 8 bytes is ignored
        + option(9, b"\x03")  # milliseconds
    )
    data = section() + interface(1, 0, options) + epb(0, 42, DATA[0])
    _, frames, _, _ = read_all(write_capture(data, "opt.pcapng"))
    assert frames[0][1] == 42_000_000


def test_options_stop_at_end_of_options(write_capture) -> None:
    body = struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 0, 0) + option(9, b"\x09")
    data = section() + block(1, body) + epb(0, 42, DATA[0])
    _, frames, _, _ = read_all(write_capture(data, "end.pcapng"))
    assert frames[0][1] == 42_000  # the if_tsresol after opt_endofopt is not an option


def test_an_option_cut_by_the_block_end_is_not_read(write_capture) -> None:
    # The option header claims 8 bytes of value, but only 4 remain before the block trailer.
    body = struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 14, 8) + struct.pack("<I", 5)
    data = section() + block(1, body) + epb(0, 42, DATA[0])
    _, frames, problems, _ = read_all(write_capture(data, "cut.pcapng"))
    assert not problems.counts and frames[0][1] == 42_000


def claims_more(block_bytes: bytes) -> str:
    """What a packet block whose captured length field says 5000 is reported for."""
    return (f"packet block of {len(block_bytes)} bytes says it captured 5000: read as far as "
            f"the block goes")


def test_an_enhanced_packet_block_captured_length_is_bounded_by_the_block(write_capture) -> None:
    """The captured length must fit the block (pcapng 4.3): one that claims more is read as
    far as the block goes and named at its frame; the next frame is read as usual."""
    good = epb(0, 1, DATA[0])
    lying = good[:20] + struct.pack("<I", 5000) + good[24:]  # caplen beyond the block
    data = section() + interface(1) + lying + epb(0, 2, DATA[1])
    _, frames, problems, _ = read_all(write_capture(data, "big.pcapng"))
    assert only(problems) == ("capture_corrupt", 1, claims_more(lying))
    assert [f[3] for f in frames] == [DATA[0] + b"\0" * (-len(DATA[0]) % 4), DATA[1]]


def test_a_simple_packet_block_is_bounded_by_its_block(write_capture) -> None:
    short = block(3, struct.pack("<I", 1000) + DATA[0])  # claims 1000 bytes on the wire
    data = section() + interface(1) + short
    _, frames, _, _ = read_all(write_capture(data, "s.pcapng"))
    padded = DATA[0] + b"\0" * (-len(DATA[0]) % 4)
    assert [(f[3], f[4]) for f in frames] == [(padded, 1000)]


def test_an_enhanced_packet_block_of_minimal_length(write_capture) -> None:
    data = section() + interface(1) + epb(0, 9, b"") + epb(0, 10, DATA[0])
    _reader, frames, problems, _ = read_all(write_capture(data, "min.pcapng"))
    assert len(epb(0, 9, b"")) == 32 and not problems.counts
    assert [(f[0], f[1], f[3]) for f in frames] == [(1, 9000, b""), (2, 10_000, DATA[0])]


@pytest.mark.parametrize(
    ("bad", "detail"),
    [
        (spb(DATA[0]), "packet block at byte 28 comes before any interface"),
        (obsolete(0, 1, DATA[0]), "packet block at byte 28 comes before any interface"),
    ],
)
def test_a_packet_before_any_interface_is_corrupt(write_capture, bad: bytes, detail: str) -> None:
    _reader, frames, problems, _ = read_all(write_capture(section() + bad, "x.pcapng"))
    assert frames == [] and only(problems) == ("capture_corrupt", 1, detail)


@pytest.mark.parametrize("make", [epb, obsolete])
def test_a_packet_on_an_undeclared_interface_is_corrupt(write_capture, make) -> None:  # type: ignore[no-untyped-def]
    data = section() + interface(1) + interface(1) + epb(1, 1, DATA[0]) + make(2, 2, DATA[1])
    reader, frames, problems, _ = read_all(write_capture(data, "u.pcapng"))
    assert [f[0] for f in frames] == [1]
    assert only(problems) == ("capture_corrupt", 2, "packet block refers to undeclared interface 2")
    assert reader.frame_count == 1


@pytest.mark.parametrize("length", [8, 13, 34, (1 << 26) + 4, 0xFFFF_FFFC])
def test_an_impossible_block_length_is_corrupt(write_capture, length: int) -> None:
    packets_ok = epb(0, 1, DATA[0]) + epb(0, 2, DATA[1])
    start = len(section() + interface(1)) + len(packets_ok)
    bad = struct.pack("<II", 5, length) + b"\0" * 40
    data = section() + interface(1) + packets_ok + bad + epb(0, 3, DATA[2])
    reader, frames, problems, _ = read_all(write_capture(data, "bad.pcapng"))
    assert [f[0] for f in frames] == [1, 2]
    assert only(problems) == (
        "capture_corrupt",
        3,
        f"block at byte {start} has an impossible length {length}",
    )
    assert reader.frame_count == 2 and reader.last_ts_ns == 2000


def test_an_enhanced_packet_block_with_an_impossible_length_is_corrupt(write_capture) -> None:
    good = epb(0, 1, DATA[0])
    bad = good[:4] + struct.pack("<I", 28) + good[8:]  # shorter than any EPB: 12 + 20 bytes
    data = section() + interface(1) + bad
    _, frames, problems, _ = read_all(write_capture(data, "e.pcapng"))
    assert frames == []
    start = len(section() + interface(1))
    assert only(problems) == (
        "capture_corrupt",
        1,
        f"packet block at byte {start} is too short: 28 bytes",
    )


def test_a_section_without_byte_order_magic_is_corrupt(write_capture) -> None:
    broken = section()[:8] + b"\x00\x00\x00\x00" + section()[12:]
    data = section() + interface(1) + epb(0, 1, DATA[0]) + broken + interface(1)
    _, frames, problems, _ = read_all(write_capture(data, "m.pcapng"))
    start = len(section() + interface(1) + epb(0, 1, DATA[0]))
    assert [f[0] for f in frames] == [1]
    assert only(problems) == (
        "capture_corrupt",
        2,
        f"section header at byte {start} has no byte-order magic",
    )


@pytest.mark.parametrize("cut", [4, 11, 12, 40])
def test_a_file_cut_inside_a_block(write_capture, cut: int) -> None:
    data = section() + interface(1) + epb(0, 1, DATA[0]) + epb(0, 2, DATA[1])[:cut]
    reader, frames, problems, _ = read_all(write_capture(data, "cut.pcapng"))
    assert [f[0] for f in frames] == [1]
    assert only(problems) == (
        "capture_truncated",
        2,
        f"the file ends {cut} bytes into a record (frame 2 is cut)",
    )
    assert reader.frame_count == 1


def test_a_block_across_two_reads_is_carried_over(write_capture) -> None:
    # The first read is 64 KiB (HEAD_SIZE); 300 blocks of 388 bytes run past it.
    count = 300
    data = section() + interface(1) + b"".join(epb(0, i + 1, DATA[i % 6]) for i in range(count))
    reader, frames, problems, positions = read_all(write_capture(data, "many.pcapng"))
    assert not problems.counts
    assert [f[0] for f in frames] == list(range(1, count + 1))
    assert [f[1] for f in frames] == [(i + 1) * 1000 for i in range(count)]
    assert all(f[3] == DATA[i % 6] for i, f in enumerate(frames))
    assert reader.first_ts_ns == 1000 and reader.last_ts_ns == count * 1000
    assert positions == [1 << 16, len(data)]


def test_count_frames_counts_every_packet_block(write_capture) -> None:
    reader = open_capture(write_capture(MIXED, "count.pcapng"))
    assert reader.count_frames() == 6
    reader.close()


def test_count_frames_of_a_cut_file(write_capture) -> None:
    data = section() + interface(1) + epb(0, 1, DATA[0]) + spb(DATA[1]) + epb(0, 2, DATA[2])[:30]
    reader = open_capture(write_capture(data, "c.pcapng"))
    assert reader.count_frames() == 2
    reader.close()


def test_read_preamble_stops_at_the_first_packet_block() -> None:
    import io

    from sipdiag.capture.source import ByteSource

    preamble = section(">") + interface(linktypes.RAW, 0, b"", ">") + block(4, b"\0" * 4, ">")
    data = preamble + epb(0, 1, DATA[0], order=">") + interface(1, 0, b"", ">")
    reader = PcapngReader(ByteSource(io.BytesIO(b""), "x", b"", None), b"")
    assert reader.read_preamble(data) == len(preamble)
    assert reader.byte_order == ">" and reader.sections == 1
    assert [i.linktype for i in reader.interfaces] == [linktypes.RAW]
    fresh = PcapngReader(ByteSource(io.BytesIO(b""), "x", b"", None), b"")
    assert fresh.read_preamble(preamble[:-4]) == len(preamble) - 16  # a block cut short: stop
    assert fresh.read_preamble(preamble[:11]) == 0


def test_simple_and_obsolete_packet_blocks_with_no_data(write_capture) -> None:
    # The smallest blocks the spec allows: 16 bytes (SPB) and 32 bytes (obsolete Packet Block).
    data = section() + interface(1) + spb(b"") + obsolete(0, 5, b"")
    assert len(spb(b"")) == 16 and len(obsolete(0, 5, b"")) == 32
    _, frames, problems, _ = read_all(write_capture(data, "empty.pcapng"))
    assert not problems.counts
    assert [(n, ts, d, orig) for n, ts, _, d, orig in frames] == [(1, 0, b"", 0), (2, 5000, b"", 4)]


def test_an_obsolete_packet_block_holds_its_captured_length(write_capture) -> None:
    odd = DATA[0][:61]  # padded to 64 bytes in the block
    lying = bytearray(obsolete(0, 2, odd))
    struct.pack_into("<I", lying, 20, 5000)  # caplen beyond the block
    data = section() + interface(1) + obsolete(0, 1, odd) + bytes(lying)
    _, frames, problems, _ = read_all(write_capture(data, "odd.pcapng"))
    assert only(problems) == ("capture_corrupt", 2, claims_more(lying))
    assert [f[3] for f in frames] == [odd, odd + b"\0" * 3]  # the second: up to the block end


BINARY_CLOCK = option(9, bytes([0x80 | 10])) + option(14, struct.pack("<q", OFFSET))
"""2^-10 s units (if_tsresol with the top bit set), if_tsoffset of OFFSET seconds."""


@pytest.mark.parametrize("make", [epb, obsolete])
@pytest.mark.parametrize("units", [(1 << 32) | 3, 0x8000_0000, 0x1234_0001 << 16])
def test_timestamps_use_both_32_bit_words_unsigned(write_capture, make, units: int) -> None:  # type: ignore[no-untyped-def]
    head = section() + interface(1, 0, BINARY_CLOCK)
    path = write_capture(head + make(0, units, DATA[0]), "clock.pcapng")
    # Whole, and as a region: the packet block is then the first block read.
    for region in (None, Region(len(head), path.stat().st_size)):
        _, frames, problems, _ = read_all(path, region)
        assert not problems.counts
        assert frames[0][1] == units * SEC // 1024 + OFFSET * SEC
        assert type(frames[0][1]) is int


def test_lengths_with_the_top_bit_set_are_unsigned(write_capture) -> None:
    payload = DATA[0][:60]
    data = section() + interface(1, 0xFFFF_FFFF) + spb(payload, origlen=0x8000_0000)
    reader, frames, problems, _ = read_all(write_capture(data, "big.pcapng"))
    assert not problems.counts and [(f[3], f[4]) for f in frames] == [(payload, 0x8000_0000)]
    assert reader.interfaces[0].snaplen == 0xFFFF_FFFF


def test_a_big_endian_enhanced_packet_block_of_minimal_length_at_the_end(write_capture) -> None:
    data = (
        section(">")
        + interface(linktypes.RAW, order=">")
        + interface(linktypes.ETHERNET, order=">")
        + epb(1, 7, b"", order=">")  # 32 bytes, the last of the file
    )
    _, frames, problems, _ = read_all(write_capture(data, "be-min.pcapng"))
    assert not problems.counts and frames == [(1, 7000, linktypes.ETHERNET, b"", 0)]


EMPTY_BLOCK = block(0x12345678, b"")
"""A block of an unknown type with no body: 12 bytes, the shortest a block can be."""


def test_a_twelve_byte_block_is_skipped_even_at_the_end(write_capture) -> None:
    data = section() + interface(1) + EMPTY_BLOCK + epb(0, 1, DATA[0]) + EMPTY_BLOCK
    _, frames, problems, _ = read_all(write_capture(data, "twelve.pcapng"))
    assert not problems.counts and [f[3] for f in frames] == [DATA[0]]
    fresh = PcapngReader(ByteSource(io.BytesIO(b""), "x", b"", None), b"")
    preamble = section() + interface(1) + EMPTY_BLOCK
    assert fresh.read_preamble(preamble) == len(preamble)


def test_an_interface_block_too_short_for_its_fields_is_corrupt(write_capture) -> None:
    packets_ok = section() + interface(1) + epb(0, 1, DATA[0])
    data = packets_ok + block(1, b"")  # an IDB needs link type, reserved and snaplen
    _, frames, problems, _ = read_all(write_capture(data, "idb.pcapng"))
    assert [f[0] for f in frames] == [1]
    assert only(problems) == (
        "capture_corrupt",
        2,
        f"interface block at byte {len(packets_ok)} is too short: 12 bytes",
    )
    reader = open_capture(write_capture(data, "idb.pcapng"))
    assert reader.count_frames() == 1 and not reader.aligned
    reader.close()


def test_a_region_ending_in_an_interface_block_is_not_aligned(write_capture) -> None:
    head = section() + interface(1)
    data = head + epb(0, 1, DATA[0]) + block(1, b"")
    reader = open_capture(write_capture(data, "r.pcapng"), region=Region(len(head), len(data)))
    assert reader.count_frames() == 1 and not reader.aligned
    reader.close()


def test_a_block_of_the_largest_length_is_cut_not_corrupt(write_capture) -> None:
    from sipdiag.capture.pcapng import MAX_BLOCK

    head = section() + interface(1)
    data = head + struct.pack("<II", 6, MAX_BLOCK) + b"\0" * 40
    _, frames, problems, _ = read_all(write_capture(data, "max.pcapng"))
    assert frames == [] and only(problems)[:2] == ("capture_truncated", 1)


def test_counting_the_frames_of_a_damaged_file_is_not_aligned(write_capture) -> None:
    data = section() + interface(1) + epb(0, 1, DATA[0]) + struct.pack("<II", 5, 7) + b"\0" * 8
    reader = open_capture(write_capture(data, "damaged.pcapng"))
    assert reader.count_frames() == 1 and not reader.aligned
    reader.close()


def test_options_that_fill_the_block_without_end_of_options(write_capture) -> None:
    body = struct.pack("<HHI", 1, 0, 0) + option(14, struct.pack("<q", 7))  # no opt_endofopt
    data = section() + block(1, body) + epb(0, 42, DATA[0])
    _, frames, _, _ = read_all(write_capture(data, "full.pcapng"))
    assert frames[0][1] == 7 * SEC + 42_000


def test_an_option_length_with_the_top_bit_set_overruns_the_block(write_capture) -> None:
    overrun = struct.pack("<HH", 2, 0x8000) + b"eth0"  # claims 32768 bytes of if_name
    body = struct.pack("<HHI", 1, 0, 0) + option(9, b"\x03") + overrun + option(9, b"\x09")
    data = section() + block(1, body) + epb(0, 42, DATA[0])
    _, frames, problems, _ = read_all(write_capture(data, "over.pcapng"))
    assert not problems.counts and frames[0][1] == 42_000_000  # milliseconds; then no more


def test_an_enhanced_packet_block_of_the_largest_length() -> None:
    from sipdiag.capture.pcapng import MAX_BLOCK
    from tests.capture.test_formats import WindowSink

    head = section(">") + interface(linktypes.RAW, order=">") + interface(1, order=">")
    data = bytearray(len(head) + MAX_BLOCK)  # a 64 MiB block: the largest read
    data[: len(head)] = head
    struct.pack_into(">IIIIIII", data, len(head), 6, MAX_BLOCK, 1, 0, 3, MAX_BLOCK - 32, 0)
    struct.pack_into(">I", data, len(data) - 4, MAX_BLOCK)
    # The whole file as the first block read, so the test does not read 64 MiB in steps.
    reader, sink = PcapngReader(ByteSource.empty("largest.pcapng"), data), WindowSink()
    problems = ProblemLog()
    list(reader.frames(sink, problems))
    assert not problems.counts and sink.asked == [linktypes.RAW, linktypes.ETHERNET]
    data_start = len(head) + 28
    assert sink.calls == [
        (1, 3000, linktypes.ETHERNET, data_start, data_start + MAX_BLOCK - 32, len(data))
    ]



@pytest.mark.parametrize("make", [epb, obsolete])
def test_a_time_past_the_year_9999_is_reported_and_the_frame_read(write_capture, make) -> None:  # type: ignore[no-untyped-def]
    """A high word with its top bit set (read unsigned) in 2^-10 s units is 2^53 s and more
    after 1970: no date can say it. The frame is read, timed as the one before it."""
    units = 0x8000_0001 << 32
    head = section() + interface(1, 0, BINARY_CLOCK)
    data = head + make(0, 5 * 1024, DATA[0]) + make(0, units, DATA[1])
    _, frames, problems, _ = read_all(write_capture(data, "far.pcapng"))
    before = 5 * SEC + OFFSET * SEC
    assert [(f[0], f[1]) for f in frames] == [(1, before), (2, before)]
    seconds = (units * SEC // 1024 + OFFSET * SEC) // SEC
    assert only(problems) == ("capture_bad_time", 2, f"frame 2 is timed {seconds} s from 1970, "
                              "outside the years 1970 to 9999: taken as the time of the frame "
                              "before it")
