"""The pcapng writer: what it writes is read back the same by sipdiag's own reader and, as the
independent oracle, by tshark and capinfos (frame times to the nanosecond, lengths, packet
counts, interfaces); the blocks are laid out as draft-ietf-opsawg-pcapng says, built here by the
helpers of test_pcapng_blocks; rotation by size and by the frames' time cuts the frames into
files each complete alone, none lost or repeated; the buffer reaches the disk within a second
of a frame, so a capture killed outright keeps it."""

from __future__ import annotations

import gc
import re
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sipdiag.capture import linktypes, open_capture
from sipdiag.capture.pcapng import PcapngReader
from sipdiag.capture.writer import (
    INTERFACE_SIZE,
    PcapngWriter,
    Rotation,
    options,
    parse_rotation,
)
from sipdiag.problems import ProblemLog
from tests import packets
from tests.capture.test_formats import Frame, RecordingSink
from tests.capture.test_pcapng_blocks import block, epb, interface, option
from tests.conftest import ROOT

SEC = 1_000_000_000
T0 = 1_709_294_400 * SEC + 500_000_000
"""2024-03-01 12:00:00.5 UTC."""

Written = tuple[int, int, bytes, int]
"""(link type, ts_ns, bytes, original length) of a frame given to the writer."""


def sip_frame(cseq: int, trailer: int = 0) -> bytes:
    """An Ethernet frame of a SIP request, with ``trailer`` bytes after the IP packet (to give
    every length modulo 4, so every padding)."""
    frame = packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(cseq=cseq))
    return frame + bytes(trailer)


def raw_frame(cseq: int) -> bytes:
    return packets.ipv4("192.0.2.1", "192.0.2.2", 17,
                        packets.udp(5060, 5060, packets.sip_request(cseq=cseq)))


FRAMES: list[Written] = [
    (linktypes.ETHERNET, T0 + 123_456_789, sip_frame(1, 0), len(sip_frame(1, 0))),
    (linktypes.ETHERNET, T0 + 1 * SEC + 1, sip_frame(2, 1), len(sip_frame(2, 1))),
    (linktypes.ETHERNET, T0 + 2 * SEC + 999_999_999, sip_frame(3, 2), len(sip_frame(3, 2))),
    (linktypes.ETHERNET, T0 + 3 * SEC, sip_frame(4, 3), len(sip_frame(4, 3)) + 100),
    (linktypes.ETHERNET, T0 + 4 * SEC + 7, b"", 60),
    (linktypes.ETHERNET, 4_102_444_800 * SEC + 42, sip_frame(5), len(sip_frame(5))),
]
"""Every padding, a frame cut short (original longer than captured), an empty one, one in 2100
(its timestamp's high word far above the others')."""


def write_all(path: Path, frames: list[Written], rotate: Rotation | None = None,
              application: str = "sipdiag") -> list[Path]:
    with PcapngWriter(path, rotate=rotate, application=application) as writer:
        for linktype, ts, data, orig_len in frames:
            writer.write(linktype, ts, data, orig_len)
    return writer.written_files


def read_back(path: Path) -> list[Frame]:
    """(number, ts_ns, link type, bytes, original length) of each frame, by sipdiag's reader;
    the file must read without a problem."""
    reader, sink, problems = open_capture(path), RecordingSink(), ProblemLog()
    for _ in reader.frames(sink, problems):
        pass
    reader.close()
    assert not problems.counts, problems.all_examples()
    return sink.frames


def tshark(path: Path, *fields: str) -> list[list[str]]:
    """The fields of every frame as tshark reads them; tshark must find nothing wrong."""
    args = ["tshark", "-r", str(path), "-T", "fields"]
    for name in fields:
        args += ["-e", name]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    complaints = [line for line in done.stderr.splitlines() if "Running as user" not in line]
    assert done.returncode == 0 and not complaints, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


def capinfos(*paths: Path) -> str:
    done = subprocess.run(["capinfos", "-M", *map(str, paths)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def capinfos_counts(*paths: Path) -> list[int]:
    """The packet count of each file, in one run of capinfos."""
    counts = re.findall(r"^Number of packets:\s+(\d+)$", capinfos(*paths), re.MULTILINE)
    return [int(count) for count in counts]


def epoch(ts_ns: int) -> str:
    """A time as tshark's frame.time_epoch shows it with nanosecond timestamps."""
    return f"{ts_ns // SEC}.{ts_ns % SEC:09d}"


def test_frames_read_back_by_sipdiag_are_the_frames_written(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    write_all(path, FRAMES)
    expected = [(number, ts, linktype, data, orig_len)
                for number, (linktype, ts, data, orig_len) in enumerate(FRAMES, start=1)]
    assert read_back(path) == expected


def test_tshark_reads_the_same_times_and_lengths(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    write_all(path, FRAMES)
    seen = tshark(path, "frame.time_epoch", "frame.len", "frame.cap_len")
    assert seen == [[epoch(ts), str(orig_len), str(len(data))]
                    for _, ts, data, orig_len in FRAMES]


def test_capinfos_counts_every_frame_and_names_the_application(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    write_all(path, FRAMES, application="sipdiag live 1.0")
    assert capinfos_counts(path) == [len(FRAMES)]
    info = capinfos(path)
    assert re.search(r"^Capture application: sipdiag live 1\.0$", info, re.MULTILINE), info
    assert re.search(r"^File timestamp precision:\s+nanoseconds \(9\)$", info, re.MULTILINE)


def test_the_blocks_are_laid_out_as_the_specification_says(tmp_path: Path) -> None:
    """SHB with shb_userappl (7 bytes padded to 8) and opt_endofopt, an IDB with if_tsresol 9
    (1 byte padded to 4), an EPB whose 357 bytes are padded to 360: little-endian, byte for
    byte as the test helpers (written from the specification) build them."""
    path = tmp_path / "out.pcapng"
    data = sip_frame(1, 1)
    assert len(data) == 357
    write_all(path, [(linktypes.ETHERNET, T0, data, len(data))])
    end_of_options = struct.pack("<HH", 0, 0)
    section = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                    + option(4, b"sipdiag") + end_of_options)
    idb = interface(linktypes.ETHERNET, 0, option(9, b"\x09"))
    assert len(idb) == INTERFACE_SIZE  # what rotation by size counts a new interface as
    assert path.read_bytes() == section + idb + epb(0, T0, data)


def test_each_option_is_padded_to_32_bits_before_the_next() -> None:
    """pcapng 3.5 (the writer's blocks have one option each, where a missing padding would not
    show: it and opt_endofopt are both zeros)."""
    assert options((2, b"abc"), (3, b"de"), (4, b"wxyz")) == (
        option(2, b"abc") + option(3, b"de") + option(4, b"wxyz") + bytes(4))


def test_two_link_types_get_two_interfaces_and_tshark_shows_both(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    frames = [
        (linktypes.ETHERNET, T0, sip_frame(1), len(sip_frame(1))),
        (linktypes.RAW, T0 + 1, raw_frame(2), len(raw_frame(2))),
        (linktypes.ETHERNET, T0 + 2, sip_frame(3), len(sip_frame(3))),
        (linktypes.RAW, T0 + 3, raw_frame(4), len(raw_frame(4))),
    ]
    write_all(path, frames)
    assert interfaces_of(path) == [linktypes.ETHERNET, linktypes.RAW]
    assert [frame[2] for frame in read_back(path)] == [frame[0] for frame in frames]
    seen = tshark(path, "frame.interface_id", "frame.protocols")
    assert [(row[0], row[1].split(":")[:2]) for row in seen] == [
        ("0", ["eth", "ethertype"]), ("1", ["raw", "ip"]),
        ("0", ["eth", "ethertype"]), ("1", ["raw", "ip"]),
    ]
    assert re.search(r"^Number of interfaces in file: 2$", capinfos(path), re.MULTILINE)


def test_without_rotation_the_file_is_the_path_itself_even_empty(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    assert write_all(path, []) == [path]
    assert list(tmp_path.iterdir()) == [path]
    assert read_back(path) == []
    assert tshark(path, "frame.len") == []
    assert capinfos_counts(path) == [0]
    assert write_all(path, FRAMES[:2]) == [path]
    assert list(tmp_path.iterdir()) == [path]


def interfaces_of(path: Path) -> list[int]:
    """The link types of the file's interfaces, in order (learnt as the file is read)."""
    reader = open_capture(path)
    for _ in reader.frames(RecordingSink(), ProblemLog()):
        pass
    reader.close()
    assert isinstance(reader, PcapngReader)
    return [i.linktype for i in reader.interfaces]


def check_rotated(files: list[Path], frames: list[Written], per_file: list[int]) -> None:
    """Each file read alone by sipdiag and by tshark holds its share of the frames, in order;
    together they hold every frame once; capinfos counts the same."""
    shares = [read_back(path) for path in files]
    assert [len(share) for share in shares] == per_file
    got = [(linktype, ts, data, orig) for share in shares for _, ts, linktype, data, orig in share]
    assert got == frames
    seen = [tshark(path, "frame.time_epoch", "frame.len") for path in files]
    assert [len(rows) for rows in seen] == per_file
    assert [row for rows in seen for row in rows] == [[epoch(ts), str(orig)]
                                                      for _, ts, _, orig in frames]
    assert capinfos_counts(*files) == per_file


def test_rotation_by_size_fills_each_file_up_to_the_size(tmp_path: Path) -> None:
    """44-byte section header, 32-byte interface, 232-byte packet blocks (200-byte frames):
    1004 bytes hold exactly four frames, so ten frames make files of 4, 4 and 2."""
    frames = [(linktypes.ETHERNET, T0 + i * SEC, bytes([i]) * 200, 200) for i in range(10)]
    files = write_all(tmp_path / "out.pcapng", frames, Rotation(max_bytes=1004))
    assert [path.stat().st_size for path in files] == [1004, 1004, 44 + 32 + 2 * 232]
    assert [path.name for path in files] == ["out_00001_20240301120000.pcapng",
                                             "out_00002_20240301120004.pcapng",
                                             "out_00003_20240301120008.pcapng"]
    check_rotated(files, frames, [4, 4, 2])
    assert sorted(tmp_path.iterdir()) == files


def test_rotation_by_size_counts_a_new_interface_and_gives_each_file_its_own(
        tmp_path: Path) -> None:
    """Two link types: the second one's interface block (32 bytes) does not fit beside the
    fourth frame, so the file is cut before it; each file declares the interfaces it uses."""
    frames = [(linktypes.ETHERNET, T0 + i, bytes(200), 200) for i in range(3)]
    frames += [(linktypes.RAW, T0 + 3, bytes(200), 200),
               (linktypes.ETHERNET, T0 + 4, bytes(200), 200)]
    files = write_all(tmp_path / "out.pcapng", frames, Rotation(max_bytes=1004))
    check_rotated(files, frames, [3, 2])
    assert [interfaces_of(path) for path in files] == [[linktypes.ETHERNET],
                                                       [linktypes.RAW, linktypes.ETHERNET]]


def test_a_frame_larger_than_the_rotation_size_has_a_file_to_itself(tmp_path: Path) -> None:
    frames = [(linktypes.ETHERNET, T0 + i * SEC, sip_frame(i), len(sip_frame(i)))
              for i in range(3)]
    files = write_all(tmp_path / "out.pcapng", frames, Rotation(max_bytes=100))
    check_rotated(files, frames, [1, 1, 1])


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local time zone five hours behind UTC (file names must not follow it)."""
    monkeypatch.setenv("TZ", "XYZ+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
def test_rotation_by_time_follows_the_frames_own_clock(tmp_path: Path) -> None:
    """A file spans less than 3 s of frame time: the frame exactly 3 s after a file's first
    starts the next file, and a 21 s gap makes no empty files. Names are in UTC whatever the
    local time zone."""
    times = [T0 + i * SEC for i in range(10)] + [T0 + 30 * SEC]
    frames = [(linktypes.ETHERNET, ts, sip_frame(i), len(sip_frame(i)))
              for i, ts in enumerate(times)]
    files = write_all(tmp_path / "out.pcapng", frames, parse_rotation("3s"))
    assert [path.name for path in files] == [
        "out_00001_20240301120000.pcapng", "out_00002_20240301120003.pcapng",
        "out_00003_20240301120006.pcapng", "out_00004_20240301120009.pcapng",
        "out_00005_20240301120030.pcapng"]
    check_rotated(files, frames, [3, 3, 3, 1, 1])


def test_rotation_by_size_or_time_cuts_at_whichever_comes_first(tmp_path: Path) -> None:
    """Four frames fill 1004 bytes before 2 s pass; then 2 s pass before the size is reached.
    A path without a suffix gives names without one, as dumpcap's do."""
    offsets = [0, 100, 200, 300, 400, 500, 5000, 6000]
    frames = [(linktypes.ETHERNET, T0 + ms * 1_000_000, bytes(200), 200) for ms in offsets]
    files = write_all(tmp_path / "out", frames, Rotation(max_bytes=1004, max_seconds=2))
    assert [path.name for path in files] == ["out_00001_20240301120000",
                                             "out_00002_20240301120000",
                                             "out_00003_20240301120005"]
    check_rotated(files, frames, [4, 2, 2])


def test_with_rotation_no_file_is_made_before_a_frame(tmp_path: Path) -> None:
    """Nor for a frame refused, whatever makes it unwritable."""
    assert write_all(tmp_path / "out.pcapng", [], Rotation(max_seconds=1)) == []
    assert list(tmp_path.iterdir()) == []
    with PcapngWriter(tmp_path / "out.pcapng", rotate=Rotation(max_seconds=1)) as writer:
        for linktype, ts, orig_len in [(linktypes.UNKNOWN, T0, 100), (1, -1, 100), (1, T0, 99)]:
            with pytest.raises(ValueError, match=r"cannot be written|cannot have"):
                writer.write(linktype, ts, bytes(100), orig_len)
    assert writer.written_files == [] and list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="no such directory"):
        PcapngWriter(tmp_path / "missing" / "out.pcapng", rotate=Rotation(max_seconds=1))


@pytest.mark.parametrize(("text", "rotation"), [
    ("500kB", Rotation(max_bytes=500_000)),
    ("100MB", Rotation(max_bytes=100_000_000)),
    ("100mb", Rotation(max_bytes=100_000_000)),
    ("1GB", Rotation(max_bytes=1_000_000_000)),
    ("1.5GB", Rotation(max_bytes=1_500_000_000)),
    ("30s", Rotation(max_seconds=30)),
    ("15m", Rotation(max_seconds=900)),
    ("1h", Rotation(max_seconds=3600)),
    (" 2h ", Rotation(max_seconds=7200)),
])
def test_parse_rotation_reads_sizes_and_durations(text: str, rotation: Rotation) -> None:
    assert parse_rotation(text) == rotation


@pytest.mark.parametrize("text", ["", "100", "MB", "0MB", "0s", "-1h", "1d", "15M", "100MiB",
                                  "1h30m", "1e3MB", "ten seconds", "100 MB extra"])
def test_parse_rotation_refuses_anything_else_in_one_line(text: str) -> None:
    with pytest.raises(ValueError, match=r"^rotation .* is neither a size \(500kB, 100MB, 1GB\) "
                       r"nor a duration \(30s, 15m, 1h\)$") as caught:
        parse_rotation(text)
    assert repr(text) in str(caught.value)


def test_unwritable_frames_are_refused_and_leave_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.pcapng"
    data = sip_frame(1)
    with PcapngWriter(path) as writer:
        writer.write(linktypes.ETHERNET, T0, data)
        for linktype, ts, orig_len in [(linktypes.ETHERNET, -1, None),
                                       (linktypes.ETHERNET, 1 << 64, None),
                                       (linktypes.ETHERNET, T0, len(data) - 1),
                                       (linktypes.ETHERNET, T0, 1 << 32),
                                       (linktypes.UNKNOWN, T0, None),
                                       (1 << 16, T0, None)]:
            with pytest.raises(ValueError, match=r"cannot be written|cannot have"):
                writer.write(linktype, ts, data, orig_len)
        writer.write(linktypes.ETHERNET, (1 << 64) - 1, data)
    assert read_back(path) == [(1, T0, linktypes.ETHERNET, data, len(data)),
                               (2, (1 << 64) - 1, linktypes.ETHERNET, data, len(data))]
    assert writer.frames_written == 2
    with pytest.raises(ValueError, match="closed"):
        writer.write(linktypes.ETHERNET, T0, data)
    writer.close()  # a second close does nothing


KILLED_WRITER = """
import sys, time
from sipdiag.capture.writer import PcapngWriter
writer = PcapngWriter(sys.argv[1])
for i in range(5):
    writer.write(1, {t0} + i, bytes([i]) * 100)
print("written", flush=True)
time.sleep(60)
"""


def test_a_capture_killed_outright_keeps_the_frames_older_than_a_second(tmp_path: Path) -> None:
    """The buffer is flushed every second without a frame to prompt it: killed with SIGKILL
    (no close, no exit handlers) 1.5 s after its last frame, the writer left all of them."""
    path = tmp_path / "live.pcapng"
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER.format(t0=T0), str(path)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "written\n"
        time.sleep(1.5)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert [frame[3] for frame in read_back(path)] == [bytes([i]) * 100 for i in range(5)]
    assert capinfos_counts(path) == [5]


def test_a_writer_dropped_unclosed_is_collected_its_file_flushed_and_its_thread_ended(
        tmp_path: Path) -> None:
    """The flusher thread holds the writer weakly: it does not keep it alive, and ends."""
    path = tmp_path / "out.pcapng"
    writer = PcapngWriter(path, flush_interval=0.01)
    writer.write(linktypes.ETHERNET, T0, bytes(100))
    flusher = writer._flusher
    assert flusher is not None and flusher.is_alive()
    with pytest.warns(ResourceWarning, match="unclosed file"):
        del writer
        gc.collect()
    flusher.join(timeout=5)
    assert not flusher.is_alive()
    assert [frame[3] for frame in read_back(path)] == [bytes(100)]


def test_a_flush_that_fails_is_raised_by_the_next_write() -> None:
    """/dev/full takes writes and fails every flush (ENOSPC): the flusher thread's failure is
    not lost in the thread."""
    writer = PcapngWriter("/dev/full", flush_interval=0.05)
    writer.write(linktypes.ETHERNET, T0, bytes(100))
    deadline = time.monotonic() + 5
    while writer._error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(OSError, match="No space left"):
        writer.write(linktypes.ETHERNET, T0, bytes(100))
    with pytest.raises(OSError, match="No space left"):
        writer.close()
