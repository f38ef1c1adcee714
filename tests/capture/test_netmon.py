"""Microsoft Network Monitor 1.x and 2.x files: header, frame table, per-version records and
trailers, as the NetMon capture file format lays them out; the times of the files below were
checked once with ``TZ=UTC tshark -T fields -e frame.time_epoch -e frame.len -e frame.cap_len``."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from sipdiag.capture import CaptureError, Reader, Region, linktypes, open_capture
from sipdiag.problems import ProblemLog
from tests import packets
from tests.capture.test_formats import Frame, read_capture

DATA = [
    packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(cseq=i)) for i in (1, 2, 3)
]
HEADER_SIZE = 128
START = 1_714_557_600_250_000_000  # 2024-05-01T10:00:00.250Z, the SYSTEMTIME below
FILETIME_1970 = 116_444_736_000_000_000  # 100 ns units from 1601-01-01 to 1970-01-01


def netmon(
    major: int, minor: int, records: list[bytes], media: int = 1, table_extra: int = 0
) -> bytes:
    """A NetMon file: header, the records one after the other, and the frame table."""
    offsets, position = [], HEADER_SIZE
    for record in records:
        offsets.append(position)
        position += len(record)
    table = struct.pack(f"<{len(offsets)}I", *offsets)
    header = struct.pack(
        "<4sBBH8HII",
        b"RTSS" if major == 1 else b"GMBU",
        minor,
        major,
        media,
        2024,
        5,
        3,
        1,
        10,
        0,
        0,
        250,
        position,
        len(table) + table_extra,
    ).ljust(HEADER_SIZE, b"\0")
    return header + b"".join(records) + table


def v1(delta_ms: int, data: bytes, origlen: int | None = None) -> bytes:
    return struct.pack("<IHH", delta_ms, origlen or len(data), len(data)) + data


def v2(delta_us: int, data: bytes, trailer: bytes = b"", origlen: int | None = None) -> bytes:
    return struct.pack("<QII", delta_us, origlen or len(data), len(data)) + data + trailer


def read(path: Path) -> tuple[Reader, list[Frame], ProblemLog, list[int]]:
    return read_capture(open_capture(path))


def test_netmon_1_millisecond_deltas(write_capture) -> None:
    data = netmon(1, 1, [v1(0, DATA[0]), v1(1500, DATA[1], 1514), v1(70_000, DATA[2])])
    reader, frames, problems, positions = read(write_capture(data, "v1.cap"))
    # tshark: 1714557600.250000000, 1714557601.750000000 (len 1514), 1714557670.250000000
    assert reader.format == "netmon" and not problems.counts
    assert frames == [
        (1, START, linktypes.ETHERNET, DATA[0], len(DATA[0])),
        (2, START + 1_500_000_000, linktypes.ETHERNET, DATA[1], 1514),
        (3, START + 70_000_000_000, linktypes.ETHERNET, DATA[2], len(DATA[2])),
    ]
    assert reader.frame_count == 3 and reader.linktypes == {linktypes.ETHERNET}
    assert reader.first_ts_ns == START and reader.last_ts_ns == START + 70_000_000_000
    assert positions == [len(data)]


def test_netmon_2_0_microsecond_deltas_and_no_trailer(write_capture) -> None:
    data = netmon(2, 0, [v2(7, DATA[0]), v2(2_000_001, DATA[1])], media=7)
    _reader, frames, problems, _ = read(write_capture(data, "v20.cap"))
    assert not problems.counts
    assert [(n, ts, lt, d) for n, ts, lt, d, _ in frames] == [
        (1, START + 7_000, linktypes.RAW, DATA[0]),
        (2, START + 2_000_001_000, linktypes.RAW, DATA[1]),
    ]


def test_netmon_2_1_trailer_gives_each_frame_its_media_type(write_capture) -> None:
    raw = DATA[1][14:]
    records = [
        v2(1, DATA[0], struct.pack("<H", 1)),  # Ethernet
        v2(2, raw, struct.pack("<H", 0xE000 + linktypes.RAW)),  # a pcap link type
        v2(3, DATA[2], struct.pack("<H", 0)),  # media 0: Ethernet as well
        v2(4, raw, struct.pack("<H", 9)),  # raw IP (WAN)
    ]
    reader, frames, problems, _ = read(write_capture(netmon(2, 1, records, media=99), "v21.cap"))
    assert not problems.counts
    assert [(n, ts, lt, d) for n, ts, lt, d, _ in frames] == [
        (1, START + 1000, linktypes.ETHERNET, DATA[0]),
        (2, START + 2000, linktypes.RAW, raw),
        (3, START + 3000, linktypes.ETHERNET, DATA[2]),
        (4, START + 4000, linktypes.RAW, raw),
    ]
    assert reader.linktypes == {linktypes.ETHERNET, linktypes.RAW}


def test_netmon_2_2_trailer_is_six_bytes(write_capture) -> None:
    records = [v2(1, DATA[0], struct.pack("<HI", 8, 0)), v2(2, DATA[1], struct.pack("<HI", 1, 0))]
    _, frames, problems, _ = read(write_capture(netmon(2, 2, records), "v22.cap"))
    assert not problems.counts
    assert [(f[2], f[3]) for f in frames] == [
        (linktypes.RAW, DATA[0]),
        (linktypes.ETHERNET, DATA[1]),
    ]


@pytest.mark.parametrize("minor", [3, 4])
def test_netmon_2_3_trailer_holds_the_absolute_time(write_capture, minor: int) -> None:
    # 2.3 and later: media type, process index, then a FILETIME (100 ns since 1601) in UTC.
    when = 1_700_000_000_123_456_700  # ns since 1970, a whole number of 100 ns
    filetime = FILETIME_1970 + when // 100
    records = [
        v2(5, DATA[0], struct.pack("<HIQB", 1, 0, filetime, 0)),
        v2(6, DATA[1], struct.pack("<HIQB", 0xE000 + linktypes.LINUX_SLL, 0, filetime + 1, 0)),
    ]
    _, frames, problems, _ = read(write_capture(netmon(2, minor, records), "v23.cap"))
    assert not problems.counts
    assert [(n, ts, lt) for n, ts, lt, _, _ in frames] == [
        (1, when, linktypes.ETHERNET),
        (2, when + 100, linktypes.LINUX_SLL),
    ]


def test_an_unknown_media_type(write_capture) -> None:
    _, frames, _, _ = read(write_capture(netmon(1, 1, [v1(0, DATA[0])], media=0x55), "u.cap"))
    assert frames[0][2] == linktypes.UNKNOWN


def test_a_frame_beyond_the_end_of_the_file_stops_reading(write_capture) -> None:
    data = bytearray(netmon(2, 0, [v2(1, DATA[0]), v2(2, DATA[1]), v2(3, DATA[2])]))
    table = len(data) - 12
    struct.pack_into("<I", data, table + 4, len(data) - 10)  # frame 2 starts 10 bytes from the end
    reader, frames, problems, _ = read(write_capture(bytes(data), "beyond.cap"))
    assert [f[0] for f in frames] == [1]
    assert problems.counts == {"capture_truncated": 1}
    problem = problems.examples["capture_truncated"][0]
    assert (problem.frame, problem.detail) == (
        2,
        f"frame at byte {len(data) - 10} lies beyond the end of the file",
    )
    assert reader.frame_count == 1


def test_a_frame_whose_data_runs_past_the_end_stops_reading(write_capture) -> None:
    data = netmon(1, 1, [v1(0, DATA[0]), v1(1, DATA[1])])
    offset = HEADER_SIZE + 8 + len(DATA[0])
    # Table says frame 2 is at the record's own offset, but the file is cut inside its data:
    cut = data[: offset + 8 + 10] + b"\0" * 0
    table = struct.pack("<2I", HEADER_SIZE, offset)
    header = bytearray(cut[:HEADER_SIZE])
    struct.pack_into("<II", header, 24, len(cut), len(table))
    _, frames, problems, _ = read(write_capture(bytes(header) + cut[HEADER_SIZE:] + table, "d.cap"))
    assert [f[0] for f in frames] == [1]
    assert problems.examples["capture_truncated"][0].detail == (
        f"frame at byte {offset} lies beyond the end of the file"
    )


def test_a_trailer_past_the_end_stops_reading(write_capture) -> None:
    # A 2.1 frame needs two trailer bytes after its data; the last frame of this file has one.
    # The frame table sits right after the header here, so the last frame ends the file.
    table_at = HEADER_SIZE
    first = v2(1, DATA[0], struct.pack("<H", 1))
    second = v2(2, DATA[1], b"\x01")
    table = struct.pack("<2I", table_at + 8, table_at + 8 + len(first))
    header = struct.pack(
        "<4sBBH8HII", b"GMBU", 1, 2, 1, 2024, 5, 3, 1, 10, 0, 0, 250, table_at, len(table)
    ).ljust(HEADER_SIZE, b"\0")
    _, frames, problems, _ = read(write_capture(header + table + first + second, "t.cap"))
    assert [f[0] for f in frames] == [1]
    assert [p.detail for p in problems.examples["capture_truncated"]] == [
        f"frame at byte {table_at + 8 + len(first)} lies beyond the end of the file"
    ]
    whole = header + table + first + second + b"\x00"  # with its second trailer byte: read
    _, frames, problems, _ = read(write_capture(whole, "t2.cap"))
    assert [f[0] for f in frames] == [1, 2] and not problems.counts


def test_a_cut_frame_table(write_capture) -> None:
    data = netmon(1, 1, [v1(0, DATA[0]), v1(1, DATA[1])], table_extra=8)
    _reader, frames, problems, _ = read(write_capture(data, "table.cap"))
    assert [f[0] for f in frames] == [1, 2]  # the frames the table still lists are read
    assert [(p.frame, p.detail) for p in problems.examples["capture_truncated"]] == [
        (1, "the frame table at the end of the NetMon file is cut")
    ]


def test_a_file_cut_inside_the_header(write_capture) -> None:
    data = netmon(1, 1, [v1(0, DATA[0])])[:31]  # the fields read end at byte 32
    _reader, frames, problems, positions = read(write_capture(data, "h.cap"))
    assert frames == [] and positions == []
    assert [(p.frame, p.detail) for p in problems.examples["capture_truncated"]] == [
        (1, "the file ends inside the NetMon header")
    ]


def test_a_header_of_exactly_128_bytes_and_no_frames(write_capture) -> None:
    data = netmon(2, 0, [])
    _reader, frames, problems, positions = read(write_capture(data, "e.cap"))
    assert frames == [] and not problems.counts and positions == [HEADER_SIZE]


def test_lower_case_magic_is_not_netmon(write_capture) -> None:
    data = b"rtss" + netmon(1, 1, [v1(0, DATA[0])])[4:]
    with pytest.raises(CaptureError):
        open_capture(write_capture(data, "x.cap"))


def test_netmon_cannot_be_read_in_parts(write_capture) -> None:
    path = write_capture(netmon(1, 1, [v1(0, DATA[0])]), "p.cap")
    with pytest.raises(
        CaptureError, match=r"p\.cap: only pcap and pcapng files can be read in parts"
    ):
        open_capture(path, region=Region(HEADER_SIZE, 200))


def test_a_file_of_the_header_fields_only(write_capture) -> None:
    data = netmon(2, 0, [])[:32]  # the fields read are 32 bytes; the frame table is empty
    _reader, frames, problems, positions = read(write_capture(data, "32.cap"))
    assert frames == [] and not problems.counts and positions == [32]


def test_a_frame_of_no_bytes_that_ends_the_file(write_capture) -> None:
    # Header, the frame table, then the one frame: an 8-byte 1.x record with no data.
    table = struct.pack("<I", HEADER_SIZE + 4)
    header = bytearray(netmon(1, 1, [])[:HEADER_SIZE])
    struct.pack_into("<II", header, 24, HEADER_SIZE, len(table))
    data = bytes(header) + table + v1(250, b"", origlen=60)
    _, frames, problems, _ = read(write_capture(data, "last.cap"))
    assert not problems.counts
    assert frames == [(1, START + 250_000_000, linktypes.ETHERNET, b"", 60)]


def test_a_pcap_link_type_zero_wrapped_in_a_media_type(write_capture) -> None:
    data = netmon(1, 1, [v1(0, DATA[0])], media=0xE000)  # 0xE000 + LINKTYPE_NULL
    reader, frames, _, _ = read(write_capture(data, "null.cap"))
    assert frames[0][2] == linktypes.NULL and reader.linktypes == {linktypes.NULL}


def test_a_filetime_with_the_top_bit_set_is_read_unsigned_and_out_of_range(write_capture) -> None:
    """2^63 hundreds of ns after 1601 (an unsigned 64-bit FILETIME) is in the year 29000-odd:
    beyond what a date can say, so reported, and the frame given the time before it (none)."""
    filetime = 0x8000_0000_0000_0000
    records = [v2(5, DATA[0], struct.pack("<HIQB", 1, 0, filetime, 0))]
    _, frames, problems, _ = read(write_capture(netmon(2, 3, records), "far.cap"))
    seconds = (filetime * 100 - FILETIME_1970 * 100) // 1_000_000_000
    assert frames[0][1] == 0
    assert problems.all_examples()[0].detail == (
        f"frame 1 is timed {seconds} s from 1970, outside the years 1970 to 9999: taken as the "
        f"time of the frame before it")


def test_a_file_larger_than_the_first_reads(write_capture) -> None:
    big = DATA[0] + bytes(1200 - len(DATA[0]))
    records = [v2(i, big) for i in range(1000)]  # 1.2 MB: the first 64 KiB and two blocks more
    data = netmon(2, 0, records)
    _, frames, problems, positions = read(write_capture(data, "big.cap"))
    assert not problems.counts and positions == [len(data)]
    assert len(frames) == 1000 and all(f[3] == big for f in frames)
    assert frames[-1][1] == START + 999_000


@pytest.mark.parametrize("field", [8, 10])  # the year (0), the month (0)
def test_a_header_start_time_that_is_no_date_is_reported_and_frames_timed_from_1970(
    write_capture, field: int,
) -> None:
    """The SYSTEMTIME of the header (year, month, weekday, day, ...) at byte 8: a year or month
    of 0 is no date. The frames are read, timed from 1970 by their offsets, and it is said."""
    data = bytearray(netmon(2, 0, [v2(5, DATA[0])]))
    struct.pack_into("<H", data, field, 0)
    _, frames, problems, _ = read(write_capture(bytes(data), "nodate.cap"))
    assert [(f[1], f[3]) for f in frames] == [(5_000, DATA[0])]
    [problem] = problems.all_examples()
    assert (problem.kind, problem.frame) == ("capture_bad_time", 1)
    assert problem.detail.endswith("is no date: frames timed from 1970")
