"""Opening captures: the one-line messages for what is not a capture, standard input, regions
of compressed files, gzip streams that end cleanly, and reads that stay one block at a time."""

from __future__ import annotations

import bz2
import gzip
import io
import random
import sys
from pathlib import Path

import pytest

from sipdiag.capture import CaptureError, Region, linktypes, open_capture
from sipdiag.capture.source import BLOCK_SIZE
from tests import packets
from tests.capture.test_formats import DATA, TIMES, read_capture, read_frames
from tests.capture.test_regions import count_region, read_region

EXPECTED = "expected pcap, pcapng, ERF or NetMon, optionally gzip/bzip2/xz compressed"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", f"the file is empty ({EXPECTED})"),
        (
            b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n\ts=-\n",
            f"this is text, not a packet capture ({EXPECTED})",
        ),
        (
            b"text with DEL\x7f",
            f"not a packet capture: unknown format starting 74 65 78 74 20 77 69 74 ({EXPECTED})",
        ),
        (
            bytes(range(200, 256)),
            f"not a packet capture: unknown format starting c8 c9 ca cb cc cd ce cf ({EXPECTED})",
        ),
    ],
)
def test_the_whole_message_for_what_is_not_a_capture(
    write_capture, content: bytes, message: str
) -> None:
    path = write_capture(content, "notes.txt")
    with pytest.raises(CaptureError) as error:
        open_capture(path)
    assert str(error.value) == f"{path}: {message}"


def test_a_missing_file_names_the_system_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.pcap"
    with pytest.raises(CaptureError) as error:
        open_capture(path)
    assert str(error.value) == f"{path}: No such file or directory"


def test_standard_input_of_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(packets.pcap(zip(TIMES, DATA, strict=True))))
    monkeypatch.setattr(sys, "stdin", stdin)
    frames, problems, _ = read_frames("-")
    assert [f[3] for f in frames] == DATA and not problems.counts


def test_standard_input_is_read_a_block_at_a_time() -> None:
    many = [(TIMES[0] + i, DATA[i % 3]) for i in range(400)]  # more than the first 64 KiB
    data = packets.pcap(many)
    _, frames, _, positions = read_capture(open_capture("-", io.BytesIO(data)))
    assert len(frames) == 400 and positions == [1 << 16, len(data)]


def test_a_complete_gzip_stream_of_a_cut_capture_is_cut_by_the_capture_only(write_capture) -> None:
    plain = packets.pcap(zip(TIMES, DATA, strict=True))[:-40]
    _, problems, _ = read_frames(write_capture(gzip.compress(plain), "c.pcap.gz"))
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [
        (
            "capture_truncated",
            3,
            f"the file ends {16 + len(DATA[2]) - 40} bytes into a record (frame 3 is cut)",
        )
    ]


def test_a_compressed_file_cannot_be_read_in_parts(write_capture) -> None:
    path = write_capture(gzip.compress(packets.pcap(zip(TIMES, DATA, strict=True))), "c.pcap.gz")
    with pytest.raises(CaptureError) as error:
        open_capture(path, region=Region(24, 100))
    assert str(error.value) == f"{path}: only a plain file can be read in parts"


def test_a_region_one_byte_longer_than_a_block_is_read_to_its_last_byte(write_capture) -> None:
    # 1023 records of 1024 bytes and one of 1025: BLOCK_SIZE + 1 bytes of records after the header.
    frames = [(TIMES[0] + i, bytes(1008)) for i in range(1023)] + [(TIMES[1], bytes(1009))]
    data = packets.pcap(frames) + packets.pcap([(TIMES[2], DATA[0])])[24:]
    region = Region(24, 24 + BLOCK_SIZE + 1)
    path = write_capture(data, "block.pcap")
    assert count_region(path, region) == (1024, True)
    reader, read, problems = read_region(path, region)
    assert len(read) == 1024 and reader.aligned and not problems.counts


def test_link_type_names() -> None:
    assert linktypes.name(linktypes.ETHERNET) == "Ethernet"
    assert linktypes.name(linktypes.LINUX_SLL2) == "Linux cooked capture v2"
    assert linktypes.name(147) == "link type 147"  # LINKTYPE_USER0: no name here


# -- compressed data that goes wrong after its start: read up to there, and say what happened --

PCAP = packets.pcap(list(zip(TIMES, DATA, strict=True)))


def test_bytes_after_a_gzip_stream_are_trailing_garbage_reported_after_the_last_frame(
    write_capture,
) -> None:
    """gzip(1) decompresses such a file and warns "trailing garbage ignored": so does sipdiag,
    as a problem after the last frame, every frame read."""
    path = write_capture(gzip.compress(PCAP) + b"garbage!", "trailing.pcap.gz")
    frames, problems, _ = read_frames(path)
    assert [f[3] for f in frames] == DATA
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [
        ("capture_truncated", 4, "after frame 3: the gzip data is followed by bytes that are not "
         "gzip (ignored)")]


def test_gzip_data_broken_in_the_middle_gives_the_frames_before_it(write_capture) -> None:
    """Frames of incompressible bytes, so that the damage at 3/4 of the compressed data lies
    well past the first block read: what came before is read, the rest reported as cut."""
    randoms = [bytes(random.Random(n).randbytes(1400)) for n in range(200)]
    pcap = packets.pcap([(TIMES[0] + n, frame) for n, frame in enumerate(randoms)])
    compressed = bytearray(gzip.compress(pcap))
    at = len(compressed) * 3 // 4
    compressed[at:at + 64] = bytes(64)
    frames, problems, _ = read_frames(write_capture(bytes(compressed), "broken.pcap.gz"))
    assert 0 < len(frames) < 200 and [f[3] for f in frames] == randoms[:len(frames)]
    (problem,) = problems.all_examples()
    assert problem.kind == "capture_truncated" and "broken gzip data (" in problem.detail


def test_a_bzip2_file_cut_inside_its_first_block_says_so(write_capture) -> None:
    """bzip2 is undone a block (up to 900 kB) at a time: cut inside the first, nothing at all
    comes out, and that is the message, not "the file is empty"."""
    whole = bz2.compress(PCAP)
    path = write_capture(whole[: len(whole) // 2], "cut.pcap.bz2")
    with pytest.raises(CaptureError) as error:
        open_capture(path)
    assert str(error.value) == (f"{path}: the bzip2 stream ends early: not one byte of it "
                                f"could be decompressed")
