"""Capture formats: every reader gives the same frames, numbers and nanosecond times."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
from pathlib import Path

import pytest

from sipdiag.capture import CaptureError, FrameHandler, Reader, linktypes, open_capture
from sipdiag.problems import ProblemLog
from tests import packets

Frame = tuple[int, int, int, bytes, int]


class RecordingSink:
    """A FrameSink that keeps (number, ts_ns, linktype, bytes, orig_len) of every frame."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def link_handler(self, linktype: int) -> FrameHandler:
        def handle(number: int, ts: int, buf: bytes, start: int, end: int, orig: int) -> None:
            self.frames.append((number, ts, linktype, buf[start:end], orig))

        return handle


class WindowSink:
    """A FrameSink that keeps the link types it is asked for and each frame's raw arguments."""

    def __init__(self) -> None:
        self.asked: list[int] = []
        self.calls: list[tuple[int, int, int, int, int, int]] = []
        """(number, ts_ns, link type, start, end, len(buf)) of every frame."""

    def link_handler(self, linktype: int) -> FrameHandler:
        self.asked.append(linktype)

        def handle(number: int, ts: int, buf: bytes, start: int, end: int, _orig: int) -> None:
            self.calls.append((number, ts, linktype, start, end, len(buf)))

        return handle


def read_capture(reader: Reader) -> tuple[Reader, list[Frame], ProblemLog, list[int]]:
    """Every frame of an opened capture, its problems and the read positions it reported."""
    sink, problems = RecordingSink(), ProblemLog()
    positions = list(reader.frames(sink, problems))
    reader.close()
    return reader, sink.frames, problems, positions


def read_frames(
    source: Path | str, stdin: io.BytesIO | None = None
) -> tuple[list[Frame], ProblemLog, str]:
    reader, frames, problems, _ = read_capture(open_capture(source, stdin))
    return frames, problems, reader.format


TIMES = [1_700_000_000_123_456_000, 1_700_000_001_000_001_000, 1_700_000_002_999_999_000]
DATA = [
    packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(cseq=i)) for i in (1, 2, 3)
]


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nanoseconds", [False, True])
def test_pcap_every_magic_gives_the_same_frames(
    write_capture, big_endian: bool, nanoseconds: bool
) -> None:
    times = [t + 789 for t in TIMES] if nanoseconds else TIMES
    path = write_capture(
        packets.pcap(zip(times, DATA, strict=True), nanoseconds=nanoseconds, big_endian=big_endian)
    )
    frames, problems, kind = read_frames(path)
    assert kind == "pcap"
    assert [(n, ts, lt, data) for n, ts, lt, data, _ in frames] == [
        (1, times[0], 1, DATA[0]),
        (2, times[1], 1, DATA[1]),
        (3, times[2], 1, DATA[2]),
    ]
    assert not problems.counts


def test_pcap_link_type_field_ignores_the_fcs_bits(write_capture) -> None:
    data = bytearray(packets.pcap([(TIMES[0], DATA[0])]))
    struct.pack_into("<I", data, 20, 0x10000000 | 0x04000000 | linktypes.ETHERNET)
    frames, _, _ = read_frames(write_capture(bytes(data)))
    assert frames[0][2] == linktypes.ETHERNET


def test_snapshot_length_keeps_the_original_length(write_capture) -> None:
    path = write_capture(packets.pcap([(TIMES[0], DATA[0])], snaplen=100))
    frames, _, _ = read_frames(path)
    assert len(frames[0][3]) == 100 and frames[0][4] == len(DATA[0])


def test_pcapng_sections_interfaces_and_resolutions(write_capture) -> None:
    sll = b"\x00\x00\x00\x01\x00\x06" + b"\x00" * 8 + b"\x08\x00" + DATA[1][14:]
    blocks = [
        packets.pcapng_section(),
        packets.pcapng_interface(linktypes.ETHERNET),  # microseconds by default
        packets.pcapng_interface(linktypes.LINUX_SLL, tsresol=9),
        packets.pcapng_packet(0, TIMES[0] // 1000, DATA[0]),
        packets.pcapng_packet(1, TIMES[1] + 7, sll),
        packets.pcapng_section(),  # a new section forgets the interfaces before it
        packets.pcapng_interface(linktypes.ETHERNET, tsresol=0x80 | 20),  # 2^-20 s units
        packets.pcapng_packet(0, (TIMES[2] // 1_000_000_000) << 20 | 1 << 19, DATA[2]),
    ]
    frames, problems, kind = read_frames(write_capture(b"".join(blocks), "two.pcapng"))
    assert kind == "pcapng" and not problems.counts
    assert [(n, ts, lt) for n, ts, lt, _, _ in frames] == [
        (1, TIMES[0], linktypes.ETHERNET),
        (2, TIMES[1] + 7, linktypes.LINUX_SLL),
        (3, TIMES[2] // 1_000_000_000 * 1_000_000_000 + 500_000_000, linktypes.ETHERNET),
    ]
    assert frames[1][3] == sll


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_files_are_read_like_plain_ones(write_capture, compress) -> None:  # type: ignore[no-untyped-def]
    plain = packets.pcap(zip(TIMES, DATA, strict=True))
    frames, problems, _ = read_frames(write_capture(compress(plain), "capture.pcap.z"))
    assert [f[3] for f in frames] == DATA and not problems.counts


def test_standard_input_compressed_or_not() -> None:
    plain = packets.pcap(zip(TIMES, DATA, strict=True))
    for data in (plain, gzip.compress(plain)):
        frames, _, _ = read_frames("-", io.BytesIO(data))
        assert [f[0] for f in frames] == [1, 2, 3]


def test_a_cut_file_is_read_up_to_the_cut(write_capture) -> None:
    plain = packets.pcap(zip(TIMES, DATA, strict=True))
    frames, problems, _ = read_frames(write_capture(plain[:-40]))
    assert [f[0] for f in frames] == [1, 2]
    assert problems.counts == {"capture_truncated": 1}
    assert problems.examples["capture_truncated"][0].frame == 3


def test_a_cut_gzip_file_is_read_up_to_the_cut(write_capture) -> None:
    plain = (
        packets.pcap(zip(TIMES, DATA * 40, strict=False))
        + packets.pcap([(TIMES[0] + i, DATA[i % 3]) for i in range(200)])[24:]
    )
    compressed = gzip.compress(plain)
    frames, problems, _ = read_frames(
        write_capture(compressed[: len(compressed) // 2], "c.pcap.gz")
    )
    assert 0 < len(frames) < 203
    assert [f[0] for f in frames] == list(range(1, len(frames) + 1))
    assert problems.counts == {"capture_truncated": 1}
    assert "gzip stream ends early" in problems.examples["capture_truncated"][0].detail


def test_a_damaged_record_length_stops_with_a_problem(write_capture) -> None:
    data = bytearray(packets.pcap(zip(TIMES, DATA, strict=True)))
    second = 24 + 16 + len(DATA[0])
    struct.pack_into("<I", data, second + 8, 0x7FFFFFFF)
    frames, problems, _ = read_frames(write_capture(bytes(data)))
    assert [f[0] for f in frames] == [1]
    assert problems.counts == {"capture_corrupt": 1}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"INVITE sip:bob@example.com SIP/2.0\r\n", "this is text, not a packet capture"),
        (bytes(range(200, 256)) * 3, "unknown format starting c8 c9 ca"),
    ],
)
def test_not_a_capture_is_one_clear_line(write_capture, content: bytes, expected: str) -> None:
    with pytest.raises(CaptureError) as error:
        open_capture(write_capture(content, "notes.txt"))
    message = str(error.value)
    assert expected in message and "\n" not in message and "notes.txt" in message


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="No such file"):
        open_capture(tmp_path / "absent.pcap")


def _erf_record(ts_ns: int, frame: bytes) -> bytes:
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    fixed = seconds << 32 | (nanos << 32) // 1_000_000_000
    body = b"\x00\x00" + frame
    body += b"\0" * (-len(body) % 8)
    return (
        struct.pack("<QBB", fixed, 2, 0x04)
        + struct.pack(">HHH", 16 + len(body), 0, len(frame))
        + body
    )


def test_erf_ethernet_records(write_capture) -> None:
    data = b"".join(_erf_record(t, d) for t, d in zip(TIMES, DATA, strict=True))
    frames, problems, kind = read_frames(write_capture(data, "capture.erf"))
    assert kind == "erf" and not problems.counts
    assert [f[3] for f in frames] == DATA
    assert [abs(f[1] - t) <= 1 for f, t in zip(frames, TIMES, strict=True)] == [True] * 3


def test_netmon_2_frames_and_times(write_capture) -> None:
    header_size = 128
    records, offsets, position = [], [], header_size
    for i, frame in enumerate(DATA):
        record = struct.pack("<QII", i * 1500, len(frame), len(frame)) + frame
        offsets.append(position)
        records.append(record)
        position += len(record)
    table = struct.pack(f"<{len(offsets)}I", *offsets)
    header = struct.pack(
        "<4sBBH8HII", b"GMBU", 0, 2, 1, 2024, 5, 3, 1, 10, 0, 0, 250, position, len(table)
    ).ljust(header_size, b"\0")
    frames, problems, kind = read_frames(write_capture(header + b"".join(records) + table, "c.cap"))
    start = 1_714_557_600_250_000_000  # 2024-05-01T10:00:00.250Z
    assert kind == "netmon" and not problems.counts
    assert [(f[0], f[1], f[3]) for f in frames] == [
        (1, start, DATA[0]),
        (2, start + 1_500_000, DATA[1]),
        (3, start + 3_000_000, DATA[2]),
    ]


@pytest.mark.parametrize("nanoseconds", [False, True])
def test_pcap_header_fields(write_capture, nanoseconds: bool) -> None:
    path = write_capture(packets.pcap([(TIMES[0], DATA[0])], linktypes.RAW, snaplen=1500,
                                      nanoseconds=nanoseconds, big_endian=True))
    reader = open_capture(path)
    assert (reader.version, reader.snaplen, reader.linktype) == ((2, 4), 1500, linktypes.RAW)
    assert reader.nanosecond is nanoseconds and reader.linktypes == {linktypes.RAW}
    reader.close()


def test_pcap_count_frames(write_capture) -> None:
    many = [(TIMES[0] + i, DATA[i % 3]) for i in range(400)]  # more than the first 64 KiB read
    reader = open_capture(write_capture(packets.pcap(many)[:-10]))
    assert reader.count_frames() == 399 and reader.frame_count == 399
    reader.close()


def test_pcap_file_cut_inside_its_header(write_capture) -> None:
    frames, problems, _ = read_frames(write_capture(packets.pcap([])[:4] + b"\0" * 19))
    assert frames == []
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [
        ("capture_truncated", 1, "the file ends inside the 24-byte pcap file header")
    ]
    frames, problems, _ = read_frames(write_capture(packets.pcap([]), "empty.pcap"))
    assert frames == [] and not problems.counts


def test_pcap_first_and_last_times(write_capture) -> None:
    reader = open_capture(write_capture(packets.pcap(zip(TIMES, DATA, strict=True))))
    assert reader.first_ts_ns is None
    sink = RecordingSink()
    for _ in reader.frames(sink, ProblemLog()):
        pass
    assert (reader.first_ts_ns, reader.last_ts_ns, reader.frame_count) == (TIMES[0], TIMES[2], 3)
    reader.close()


def test_pcap_record_of_the_largest_length_is_read(write_capture) -> None:
    from sipdiag.capture import pcap

    data = bytearray(packets.pcap([(TIMES[0], DATA[0])]))
    struct.pack_into("<I", data, 24 + 8, pcap.MAX_RECORD)
    frames, problems, _ = read_frames(write_capture(bytes(data)))
    assert frames == [] and problems.counts == {"capture_truncated": 1}  # cut, not damaged


def test_replayed_frames_keep_their_numbers() -> None:
    from sipdiag.capture.replay import BATCH, ReplayReader

    frames = [(10 + i, TIMES[0] + i, linktypes.ETHERNET if i % 2 else linktypes.RAW, DATA[i % 3],
               1000 + i) for i in range(BATCH + 1)]
    reader = ReplayReader(frames, "replayed")
    sink = RecordingSink()
    positions = list(reader.frames(sink, ProblemLog()))
    assert sink.frames == [(n, ts, lt, d, o) for n, ts, lt, d, o in frames]
    assert positions == [BATCH, BATCH + 1] and reader.count_frames() == BATCH + 1
    assert (reader.frame_count, reader.first_ts_ns, reader.last_ts_ns) == (
        10 + BATCH, TIMES[0], TIMES[0] + BATCH
    )
    assert reader.format == "replay" and reader.source.name == "replayed"


def test_concatenated_gzip_members_and_stdin_names(write_capture) -> None:
    plain = packets.pcap(zip(TIMES, DATA, strict=True))
    more = packets.pcap([(TIMES[2] + 1000, DATA[0])])[24:]
    frames, problems, _ = read_frames(write_capture(gzip.compress(plain) + gzip.compress(more)))
    assert [f[0] for f in frames] == [1, 2, 3, 4] and not problems.counts
    reader = open_capture("-", io.BytesIO(plain))
    assert reader.source.name == "<stdin>" and reader.source.compression is None
    reader.close()


def test_broken_compressed_data_is_one_clear_line(write_capture) -> None:
    broken = gzip.compress(packets.pcap(zip(TIMES, DATA, strict=True)))[:20] + b"\xff" * 200
    with pytest.raises(CaptureError, match="broken gzip data"):
        open_capture(write_capture(broken, "b.pcap.gz"))


def test_replayed_frames_are_whole_windows_and_each_link_type_is_asked_once() -> None:
    from sipdiag.capture.replay import BATCH, ReplayReader

    frames = [(5 + i, TIMES[0] + i, linktypes.RAW if i % 2 else linktypes.ETHERNET, DATA[i % 3],
               999) for i in range(BATCH + 1)]
    reader, sink = ReplayReader(frames, "replayed"), WindowSink()
    handled = [len(sink.calls) for _ in reader.frames(sink, ProblemLog())]
    assert handled == [BATCH, BATCH + 1]  # a position after every BATCH frames handled
    assert sink.asked == [linktypes.ETHERNET, linktypes.RAW]
    assert [c[2:] for c in sink.calls] == [(f[2], 0, len(f[3]), len(f[3])) for f in frames]
