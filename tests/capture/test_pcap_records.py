"""libpcap records at their limits: unsigned header fields (times after 2038, huge lengths),
records with no data, a file cut right after a record header, and a file cut inside its own
header (the pcap file format, draft-ietf-opsawg-pcap: every header field is an unsigned 32-bit
or 16-bit integer, except thiszone)."""

from __future__ import annotations

import struct

import pytest

from sipdiag.capture import linktypes, open_capture
from sipdiag.problems import ProblemLog
from tests import packets
from tests.capture.test_formats import RecordingSink, read_capture, read_frames

SEC = 1_000_000_000
AFTER_2038 = 0x8000_0000 * SEC + 250_000_000
"""A time whose seconds field has the top bit set (2038-01-19T03:14:08.25Z)."""
FRAME = packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(cseq=1))


def empty_record(ts_ns: int) -> bytes:
    """A record header with no captured bytes (a frame of 0 bytes, 60 on the wire)."""
    seconds, rest = divmod(ts_ns, SEC)
    return struct.pack("<IIII", seconds, rest // 1000, 0, 60)


@pytest.mark.parametrize("nanoseconds", [False, True])
def test_times_after_2038(write_capture, nanoseconds: bool) -> None:
    data = packets.pcap([(AFTER_2038, FRAME), (AFTER_2038 + SEC, FRAME)], nanoseconds=nanoseconds)
    frames, problems, _ = read_frames(write_capture(data))
    assert not problems.counts and [f[1] for f in frames] == [AFTER_2038, AFTER_2038 + SEC]


def test_a_record_with_no_data_at_the_end_of_the_file(write_capture) -> None:
    data = packets.pcap([(1 * SEC, FRAME)]) + empty_record(2 * SEC)
    frames, problems, _ = read_frames(write_capture(data))
    assert not problems.counts
    assert [(f[0], f[1], f[3], f[4]) for f in frames] == [
        (1, 1 * SEC, FRAME, len(FRAME)),
        (2, 2 * SEC, b"", 60),
    ]
    reader = open_capture(write_capture(data))
    assert reader.count_frames() == 2
    reader.close()


def test_the_first_time_of_a_file_of_one_empty_record(write_capture) -> None:
    reader = open_capture(write_capture(packets.pcap([]) + empty_record(3 * SEC)))
    for _ in reader.frames(RecordingSink(), ProblemLog()):
        pass
    reader.close()
    assert (reader.first_ts_ns, reader.last_ts_ns, reader.frame_count) == (3 * SEC, 3 * SEC, 1)


@pytest.mark.parametrize("caplen", [0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF])
def test_a_captured_length_beyond_any_frame_is_corrupt(write_capture, caplen: int) -> None:
    data = bytearray(packets.pcap([(1 * SEC, FRAME), (2 * SEC, FRAME)]))
    struct.pack_into("<I", data, 24 + 16 + len(FRAME) + 8, caplen)
    _, frames, problems, _ = read_capture(open_capture(write_capture(bytes(data))))
    assert [f[0] for f in frames] == [1]
    assert [(p.kind, p.frame, p.detail) for p in problems.all_examples()] == [(
        "capture_corrupt",
        2,
        f"record header claims {caplen} captured bytes; the rest of the file is unreadable",
    )]
    reader = open_capture(write_capture(bytes(data)))
    assert reader.count_frames() == 1
    reader.close()


def test_a_damaged_record_header_at_the_very_end_is_corrupt(write_capture) -> None:
    data = packets.pcap([(1 * SEC, FRAME)]) + struct.pack("<IIII", 2, 0, 0x7FFF_FFFF, 60)
    _, problems, _ = read_frames(write_capture(data))
    assert problems.counts == {"capture_corrupt": 1}  # 16 bytes: a whole header, a bad one


def test_header_fields_are_unsigned(write_capture) -> None:
    data = bytearray(packets.pcap([(1 * SEC, FRAME)], snaplen=0xFFFF_FFFF))
    struct.pack_into("<HH", data, 4, 0x8002, 0x8004)  # no such version, but read as it is
    reader = open_capture(write_capture(bytes(data)))
    assert reader.snaplen == 0xFFFF_FFFF and reader.version == (0x8002, 0x8004)
    reader.close()


def test_a_file_cut_inside_the_link_type_field(write_capture) -> None:
    # Little-endian: the two bytes before the cut are the low bytes of LINKTYPE_ETHERNET (1).
    reader = open_capture(write_capture(packets.pcap([])[:22]))
    assert (reader.snaplen, reader.linktype) == (65535, linktypes.ETHERNET)
    _, frames, problems, _ = read_capture(reader)
    assert frames == [] and problems.counts == {"capture_truncated": 1}
