"""Several captures read as one: frames merged by time as ``mergecap`` merges them (equal times:
the file named last goes first), numbered from 1, each file's problems named after it. The
order of the first test was checked once with ``mergecap -w m.pcapng a.pcap b.pcapng`` and
``tshark -r m.pcapng -T fields -e frame.time_epoch -e frame.len``."""

from __future__ import annotations

import gzip
import io
import subprocess
from pathlib import Path

import pytest

from sipdiag.capture import Reader, linktypes, open_captures
from sipdiag.capture.merge import MergedReader
from sipdiag.problems import ProblemLog
from tests import packets
from tests.capture.test_formats import Frame, read_capture

SEC = 1_000_000_000
T0 = 1_700_000_000 * SEC


def frame(tag: int, size: int = 0) -> bytes:
    return packets.udp4_frame("192.0.2.1", "192.0.2.2", bytes([tag]) * (size or 10 + tag))


def pcapng(frames: list[tuple[int, bytes]]) -> bytes:
    blocks = [packets.pcapng_section(), packets.pcapng_interface(linktypes.ETHERNET, tsresol=9)]
    blocks += [packets.pcapng_packet(0, ts, data) for ts, data in frames]
    return b"".join(blocks)


def merged(paths: list[Path]) -> tuple[Reader, list[Frame], ProblemLog, list[int]]:
    return read_capture(open_captures(paths))


A = [(T0 + 1 * SEC, frame(1)), (T0 + 3 * SEC, frame(2)), (T0 + 5 * SEC, frame(3))]
B = [(T0 + 2 * SEC, frame(4)), (T0 + 3 * SEC, frame(5)), (T0 + 4 * SEC + 1, frame(6))]


def test_frames_of_two_files_merged_in_time_order(write_capture) -> None:
    a = write_capture(packets.pcap(A), "a.pcap")
    b = write_capture(pcapng(B), "b.pcapng")
    reader, frames, problems, positions = merged([a, b])
    assert isinstance(reader, MergedReader) and not problems.counts
    # mergecap: 1700000001 (a), 2 (b), 3 (b), 3 (a), 4.000000001 (b), 5 (a)
    assert frames == [
        (1, A[0][0], linktypes.ETHERNET, A[0][1], len(A[0][1])),
        (2, B[0][0], linktypes.ETHERNET, B[0][1], len(B[0][1])),
        (3, B[1][0], linktypes.ETHERNET, B[1][1], len(B[1][1])),
        (4, A[1][0], linktypes.ETHERNET, A[1][1], len(A[1][1])),
        (5, B[2][0], linktypes.ETHERNET, B[2][1], len(B[2][1])),
        (6, A[2][0], linktypes.ETHERNET, A[2][1], len(A[2][1])),
    ]
    assert reader.format == "pcap+pcapng" and reader.source.name == f"{a} + {b}"
    assert reader.source.compression is None
    assert reader.frame_count == 6 and reader.linktypes == {linktypes.ETHERNET}
    assert reader.first_ts_ns == A[0][0] and reader.last_ts_ns == A[2][0]
    assert positions == [a.stat().st_size + b.stat().st_size]
    counter = open_captures([a, b])
    assert counter.count_frames() == 6
    counter.close()


def test_equal_times_are_ordered_as_mergecap_orders_them(write_capture) -> None:
    """Three files whose frames all tie: the order mergecap gives (read back by tshark)."""
    files = [write_capture(packets.pcap([(T0 + k * SEC, frame(10 * n + k)) for k in range(3)]),
                           f"{n}.pcap") for n in range(1, 4)]
    out = files[0].parent / "merged.pcapng"
    subprocess.run(["mergecap", "-w", str(out), *map(str, files)], check=True, timeout=60)
    theirs = subprocess.run(["tshark", "-r", str(out), "-T", "fields", "-e", "udp.payload"],
                            capture_output=True, text=True, check=True, timeout=60).stdout.split()
    _, frames, _, _ = merged(files)
    ours = [f[3][42:].hex() for f in frames]  # the UDP payload after Ethernet, IPv4, UDP
    assert ours == theirs and len(ours) == 9


def test_link_types_of_every_file(write_capture) -> None:
    raw = [(T0 + SEC, frame(7)[14:])]
    a = write_capture(packets.pcap(A[:1]), "a.pcap")
    b = write_capture(gzip.compress(packets.pcap(raw, linktype=linktypes.RAW)), "b.pcap.gz")
    c = write_capture(packets.pcap(B[:1], nanoseconds=True), "c.pcap")
    reader, frames, _, _ = merged([a, b, c])
    assert [(f[1], f[2]) for f in frames] == [  # a's and b's first frames tie: b's first
        (raw[0][0], linktypes.RAW),
        (A[0][0], linktypes.ETHERNET),
        (B[0][0], linktypes.ETHERNET),
    ]
    assert reader.linktypes == {linktypes.ETHERNET, linktypes.RAW}
    assert reader.source.compression == "gzip" and reader.format == "pcap"


def test_a_cut_file_is_reported_by_name(write_capture) -> None:
    a = write_capture(packets.pcap(A)[:-5], "a.pcap")
    b = write_capture(packets.pcap(B), "b.pcap")
    _, frames, problems, _ = merged([a, b])
    assert [f[3] for f in frames] == [A[0][1], B[0][1], B[1][1], A[1][1], B[2][1]]
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [
        (
            "capture_truncated",
            0,
            f"{a}, its frame 3: the file ends {16 + len(A[2][1]) - 5} bytes into a record "
            "(frame 3 is cut)",
        )
    ]
    assert problems.counts == {"capture_truncated": 1}


def test_a_file_with_no_frames(write_capture) -> None:
    a = write_capture(packets.pcap([]), "a.pcap")
    b = write_capture(packets.pcap(A), "b.pcap")
    _reader, frames, problems, _ = merged([a, b])
    assert [f[0] for f in frames] == [1, 2, 3] and not problems.counts


def test_progress_is_reported_every_2048_frames(write_capture) -> None:
    evens = [(T0 + 2 * i, frame(1, 4)) for i in range(1100)]
    odds = [(T0 + 2 * i + 1, frame(2, 4)) for i in range(1100)]
    a = write_capture(packets.pcap(evens, nanoseconds=True), "a.pcap")
    b = write_capture(packets.pcap(odds, nanoseconds=True), "b.pcap")
    _reader, frames, _, positions = merged([a, b])
    assert [(f[0], f[1]) for f in frames] == [(i + 1, T0 + i) for i in range(2200)]
    total = a.stat().st_size + b.stat().st_size
    assert positions == [2 << 16, total]  # after frame 2048 (the first 64 KiB of each), the end
    _, frames, _, positions = merged(
        [a, write_capture(packets.pcap(odds[:900], nanoseconds=True), "c.pcap")]
    )
    assert len(frames) == 2000 and len(positions) == 1


def test_one_path_is_the_file_itself(write_capture) -> None:
    a = write_capture(packets.pcap(A), "a.pcap")
    reader = open_captures([a])
    assert reader.format == "pcap" and not isinstance(reader, MergedReader)
    reader.close()


def test_one_path_standard_input() -> None:
    _, frames, _, _ = read_capture(open_captures(["-"], io.BytesIO(packets.pcap(A))))
    assert [f[1] for f in frames] == [t for t, _ in A]


def test_a_file_that_is_not_a_capture_closes_the_others(write_capture) -> None:

    from sipdiag.capture import CaptureError

    a = write_capture(packets.pcap(A), "a.pcap")
    b = write_capture(b"not a capture at all", "b.txt")
    with pytest.raises(CaptureError, match=r"b\.txt"):
        open_captures([a, b])


def test_compressions_of_every_file_are_named(write_capture) -> None:
    import bz2

    a = write_capture(gzip.compress(packets.pcap(A)), "a.pcap.gz")
    b = write_capture(bz2.compress(packets.pcap(B)), "b.pcap.bz2")
    c = write_capture(gzip.compress(packets.pcap(B)), "c.pcap.gz")
    reader = open_captures([a, b, c])
    assert reader.source.compression == "bzip2+gzip"
    reader.close()


def test_standard_input_among_the_files(write_capture) -> None:
    b = write_capture(packets.pcap(B), "b.pcap")
    _, frames, problems, _ = read_capture(open_captures(["-", b], io.BytesIO(packets.pcap(A))))
    assert [f[1] for f in frames] == sorted(t // 1000 * 1000 for t, _ in A + B)  # microseconds
    assert not problems.counts


def test_a_file_that_gives_no_block_counts_no_bytes(write_capture) -> None:
    cut = write_capture(packets.pcap([])[:20], "cut.pcap")  # inside its header: nothing read
    b = write_capture(packets.pcap(B), "b.pcap")
    _, frames, problems, positions = merged([cut, b])
    assert len(frames) == 3 and positions == [b.stat().st_size]
    assert problems.counts == {"capture_truncated": 1}


def test_merged_frames_are_whole_windows_and_each_link_type_is_asked_once(write_capture) -> None:
    from tests.capture.test_formats import WindowSink

    a = write_capture(packets.pcap(A), "a.pcap")
    b = write_capture(pcapng(B), "b.pcapng")
    reader, sink = open_captures([a, b]), WindowSink()
    list(reader.frames(sink, ProblemLog()))
    reader.close()
    assert sink.asked == [linktypes.ETHERNET]
    assert [c[3:] for c in sink.calls] == [(0, n, n) for n in (len(A[0][1]), len(B[0][1]),
                                            len(B[1][1]), len(A[1][1]), len(B[2][1]), len(A[2][1]))]
