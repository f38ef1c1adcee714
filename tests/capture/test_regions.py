"""Reading a plain pcap or pcapng file in regions: the cuts fall between records, each region
read alone gives exactly its records with their numbers in the whole file, and a region cut
inside a record, or holding blocks it cannot be read without, says so (``aligned``)."""

from __future__ import annotations

import gzip
import itertools
import struct
from pathlib import Path

from sipdiag.capture import Reader, Region, linktypes, open_capture, regions
from sipdiag.problems import ProblemLog
from tests import packets
from tests.capture.test_formats import Frame, RecordingSink

T0 = 1_700_000_000_000_000_000


def frame(i: int) -> bytes:
    return packets.udp4_frame("192.0.2.1", "192.0.2.2", packets.sip_request(cseq=i)[: 60 + i % 37])


FRAMES = [(T0 + i * 1000, frame(i)) for i in range(3000)]


def pcap_offsets(frames: list[tuple[int, bytes]]) -> list[int]:
    """Where each record starts in a pcap file of ``frames``, and where the file ends."""
    offsets = [24]
    for _, data in frames:
        offsets.append(offsets[-1] + 16 + len(data))
    return offsets


def read_region(path: Path, region: Region) -> tuple[Reader, list[Frame], ProblemLog]:
    reader = open_capture(path, region=region)
    sink, problems = RecordingSink(), ProblemLog()
    for _ in reader.frames(sink, problems):
        pass
    reader.close()
    return reader, sink.frames, problems


def count_region(path: Path, region: Region) -> tuple[int, bool]:
    reader = open_capture(path, region=region)
    try:
        return reader.count_frames(), reader.aligned
    finally:
        reader.close()


def check_plan(path: Path, parts: int, starts: list[int], total: int) -> None:
    planned = regions.plan(path, parts)
    assert planned is not None and len(planned) == parts
    assert planned[0].start == starts[0] and planned[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(planned))
    assert all(r.start in starts for r in planned)  # every cut on a record boundary
    first, seen = 1, []
    for region in planned:
        count, aligned = count_region(path, region)
        assert aligned
        numbered = Region(region.start, region.end, first)
        reader, frames, problems = read_region(path, numbered)
        assert not problems.counts and reader.aligned
        assert [f[0] for f in frames] == list(range(first, first + count))
        assert reader.frame_count == first + count - 1
        seen.extend(frames)
        first += count
    assert [f[0] for f in seen] == list(range(1, total + 1))


def test_a_pcap_file_planned_in_parts(write_capture) -> None:
    path = write_capture(packets.pcap(FRAMES), "big.pcap")
    starts = pcap_offsets(FRAMES)
    for parts in (2, 3, 4):
        check_plan(path, parts, starts, len(FRAMES))
    planned = regions.plan(path, 2)
    assert planned is not None
    _, frames, _ = read_region(path, Region(planned[1].start, planned[1].end, 1))
    first = starts.index(planned[1].start)
    assert [(f[1], f[3]) for f in frames] == [(t, d) for t, d in FRAMES[first:]]


def test_a_big_endian_nanosecond_pcap_file_planned_in_parts(write_capture) -> None:
    path = write_capture(packets.pcap(FRAMES, nanoseconds=True, big_endian=True), "be.pcap")
    check_plan(path, 3, pcap_offsets(FRAMES), len(FRAMES))


def test_a_pcapng_file_planned_in_parts(write_capture) -> None:
    blocks = [packets.pcapng_section(), packets.pcapng_interface(linktypes.ETHERNET, tsresol=9)]
    starts = [sum(map(len, blocks))]
    for ts, data in FRAMES:
        blocks.append(packets.pcapng_packet(0, ts, data))
        starts.append(starts[-1] + len(blocks[-1]))
    path = write_capture(b"".join(blocks), "big.pcapng")
    check_plan(path, 3, starts, len(FRAMES))
    planned = regions.plan(path, 3)
    assert planned is not None
    _, frames, _ = read_region(path, Region(planned[2].start, planned[2].end, 7))
    first = starts.index(planned[2].start)
    assert frames[0] == (
        7,
        FRAMES[first][0],
        linktypes.ETHERNET,
        FRAMES[first][1],
        len(FRAMES[first][1]),
    )


def test_files_that_are_not_cut(write_capture) -> None:
    plain = packets.pcap(FRAMES[:100])
    path = write_capture(plain, "small.pcap")
    assert regions.plan(path, 1) is None
    assert regions.plan("-", 4) is None
    assert regions.plan(write_capture(gzip.compress(plain), "c.pcap.gz"), 4) is None
    assert regions.plan(write_capture(plain[:30], "head.pcap"), 4) is None  # no record
    netmon = b"RTSS" + b"\0" * 200
    assert regions.plan(write_capture(netmon, "n.cap"), 4) is None


def test_a_region_cut_inside_a_record_is_not_aligned(write_capture) -> None:
    path = write_capture(packets.pcap(FRAMES[:10]), "ten.pcap")
    starts = pcap_offsets(FRAMES[:10])
    inside = Region(starts[0], starts[5] + 7)
    count, aligned = count_region(path, inside)
    assert (count, aligned) == (5, False)
    reader, frames, problems = read_region(path, inside)
    assert [f[0] for f in frames] == [1, 2, 3, 4, 5]
    assert not reader.aligned and not problems.counts  # not a truncated file: a wrong cut
    last = Region(starts[5], starts[10], 6)
    assert count_region(path, last) == (10, True)
    reader, frames, problems = read_region(path, last)
    assert [f[0] for f in frames] == [6, 7, 8, 9, 10] and reader.aligned
    assert reader.first_ts_ns == FRAMES[5][0] and reader.last_ts_ns == FRAMES[9][0]


def test_the_last_region_of_a_cut_file_is_truncated(write_capture) -> None:
    data = packets.pcap(FRAMES[:10])
    path = write_capture(data[:-3], "cut.pcap")
    starts = pcap_offsets(FRAMES[:10])
    _reader, frames, problems = read_region(path, Region(starts[5], len(data) - 3, 6))
    assert [f[0] for f in frames] == [6, 7, 8, 9]
    assert problems.counts == {"capture_truncated": 1}
    assert problems.examples["capture_truncated"][0].frame == 10


def test_a_pcapng_region_holding_an_interface_block_is_not_aligned(write_capture) -> None:
    head = packets.pcapng_section() + packets.pcapng_interface(linktypes.ETHERNET)
    one = packets.pcapng_packet(0, 1, FRAMES[0][1])
    later = packets.pcapng_interface(linktypes.RAW)
    data = head + one * 3 + later + one * 3
    path = write_capture(data, "idb.pcapng")
    region = Region(len(head) + len(one), len(data), 2)
    assert count_region(path, region) == (3, False)
    reader, frames, _ = read_region(path, region)
    assert not reader.aligned and [f[0] for f in frames] == [2, 3]
    whole = Region(len(head), len(head) + 3 * len(one), 1)
    assert count_region(path, whole) == (3, True)


def test_cuts_are_found_at_record_chains() -> None:
    first = FRAMES[0][0] // 10**9
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + struct.pack(
        "<IIII", first, 0, 0, 0
    )
    record_end = regions._pcap_record(head)
    good = struct.pack("<IIII", first, 999_999, 4, 4) + b"abcd"
    assert record_end(good, 0) == 20
    assert record_end(good[:19], 0) is None  # runs past the window
    assert record_end(good[:15], 0) is None  # no room for the header
    assert record_end(struct.pack("<IIII", first, 1_000_000, 4, 4) + b"abcd", 0) is None
    assert record_end(struct.pack("<IIII", first, 0, 5, 4) + b"abcde", 0) is None  # caplen > len
    assert record_end(struct.pack("<IIII", first + 11 * 365 * 86400, 0, 4, 4) + b"abcd", 0) is None
    big = regions.MAX_FRAME + 1
    assert record_end(struct.pack("<IIII", first, 0, big, big) + b"\0" * big, 0) is None
    edge = struct.pack("<IIII", first - 10 * 365 * 86400, 0, regions.MAX_FRAME, regions.MAX_FRAME)
    assert record_end(edge + b"\0" * regions.MAX_FRAME, 0) == 16 + regions.MAX_FRAME
    block_end = regions._pcapng_block("<")
    epb = packets.pcapng_packet(0, 1, b"abcd")
    assert block_end(epb, 0) == len(epb)
    assert block_end(b"\0\0" + epb, 2) is None  # blocks start on 4-byte boundaries
    assert block_end(epb[:-1], 0) is None
    assert block_end(epb[:-4] + b"\0\0\0\0", 0) is None  # trailer length differs
    assert block_end(struct.pack("<II", 1, 12) + struct.pack("<I", 12), 0) is None  # an IDB
    assert block_end(struct.pack("<II", 6, 14) + b"\0\0" + struct.pack("<I", 14), 0) is None
    assert block_end(struct.pack("<II", 5, 12) + struct.pack("<I", 12), 0) == 12
    assert block_end(struct.pack("<II", 3, 8) + struct.pack("<I", 8), 0) is None


SMALL = [(T0 + i * 1000, bytes([i]) * 4) for i in range(11)]
"""Eleven records of 20 bytes: fewer than a chain (CHAIN) after the middle of the file."""


def expected_cut(starts: list[int], near: int) -> int:
    """The first record start from ``near`` rounded down to 4 bytes (the plan's own rule)."""
    near -= near % 4
    return min(s for s in starts if s >= near)


def test_a_small_file_is_cut_where_its_last_records_reach_the_file_end(write_capture) -> None:
    path = write_capture(packets.pcap(SMALL), "small.pcap")
    starts, size = pcap_offsets(SMALL), path.stat().st_size
    cut = expected_cut(starts, 24 + (size - 24) // 2)
    assert regions.plan(path, 2) == [Region(24, cut), Region(cut, size)]
    assert cut > 24 + (size - 24) // 2  # the middle falls inside a record


def test_a_cut_is_searched_from_the_four_byte_boundary_below(write_capture) -> None:
    path = write_capture(packets.pcap(FRAMES[:50]), "fifty.pcap")
    starts = pcap_offsets(FRAMES[:50])
    near = next(s for s in starts if s % 4 == 0) + 2  # two bytes into a record that starts at 4n
    with path.open("rb") as handle:
        cut = regions._find_cut(handle, near, path.stat().st_size, regions._pcap_record(
            path.read_bytes()[:40]))
    assert cut == near - 2


def test_a_cut_reads_one_window_whatever_the_file_size() -> None:
    import io

    sizes: list[int | None] = []

    class Counting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            sizes.append(size)
            return super().read(size)

    data = packets.pcap(FRAMES)
    handle = Counting(data)
    assert regions._find_cut(handle, 1000, len(data), regions._pcap_record(data[:40])) is not None
    assert sizes == [regions.WINDOW]


def test_the_first_records_need_not_be_a_chain(write_capture) -> None:
    data = bytearray(packets.pcap(FRAMES[:1000]))
    struct.pack_into("<I", data, 24 + 12, 0)  # the first record: fewer bytes on the wire (0)
    path = write_capture(bytes(data), "first.pcap")
    planned = regions.plan(path, 2)
    assert planned is not None and [r.start for r in planned][:1] == [24] and len(planned) == 2


def test_more_pcap_magics_planned_in_parts(write_capture) -> None:
    late = [(0x8000_0000 * 10**9 + t - T0, d) for t, d in FRAMES[:500]]  # after 2038
    for frames, nanoseconds in ((FRAMES[:500], True), (late, False)):
        path = write_capture(packets.pcap(frames, nanoseconds=nanoseconds), "magic.pcap")
        check_plan(path, 2, pcap_offsets(frames), len(frames))


def test_a_pcap_file_with_no_record_is_not_cut(write_capture) -> None:
    assert regions.plan(write_capture(packets.pcap([]), "none.pcap"), 2) is None


def test_a_pcapng_file_with_a_damaged_preamble_is_not_cut(write_capture) -> None:
    damaged = packets.pcapng_section() + struct.pack("<II", 5, 7) + b"\0" * 40
    data = damaged + b"".join(packets.pcapng_packet(0, t, d) for t, d in FRAMES[:300])
    assert regions.plan(write_capture(data, "damaged.pcapng"), 2) is None


def test_a_stored_gzip_file_is_not_cut(write_capture) -> None:
    # Level 0 keeps the pcap bytes as they are inside the gzip file: records can be found in
    # it, but the offsets are of the compressed file, which cannot be read in parts.
    stored = gzip.compress(packets.pcap(FRAMES[:1000]), compresslevel=0)
    assert regions.plan(write_capture(stored, "stored.pcap.gz"), 2) is None


def test_record_limits_of_each_resolution() -> None:
    def head(magic: int, order: str) -> bytes:
        return struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1) + struct.pack(
            order + "IIII", 1000, 0, 0, 0
        )

    micro_be = regions._pcap_record(head(0xA1B2C3D4, ">"))
    assert micro_be(struct.pack(">IIII", 1000, 999_999, 0, 0), 0) == 16  # no data: ends here
    assert micro_be(struct.pack(">IIII", 1000, 1_000_000, 0, 0), 0) is None
    nano = regions._pcap_record(head(0xA1B23C4D, "<"))
    assert nano(struct.pack("<IIII", 1000, 999_999_999, 0, 0), 0) == 16
    assert nano(struct.pack("<IIII", 1000, 10**9, 0, 0), 0) is None
    block_end = regions._pcapng_block("<")
    largest = struct.pack("<II", 5, regions.MAX_FRAME) + bytes(regions.MAX_FRAME - 12)
    assert block_end(largest + struct.pack("<I", regions.MAX_FRAME), 0) == regions.MAX_FRAME
    assert block_end(struct.pack("<I", 5), 0) is None  # not even a block header
