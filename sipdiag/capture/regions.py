"""Cutting a plain pcap or pcapng file into regions of whole records, for parallel reading.

A record format has no marks between records, so a cut near byte N is placed at the first
offset from N where a chain of ``CHAIN`` records (or blocks) follows, each with a plausible
header, one right after the other (or the chain ends exactly at the end of the file). A false
chain would need hundreds of bytes of packet data that read as consistent record headers by
chance. The caller still checks every cut exactly: counting the records of region k must end
precisely where region k+1 starts (``Reader.aligned``), and the file is read whole otherwise.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO

from sipdiag.capture import HEAD_SIZE, Region, pcap, pcapng
from sipdiag.capture.source import open_source

CHAIN = 8
SEARCH = 1 << 16
"""How far past the wanted offset a record must start (longer than any record we expect)."""
WINDOW = 1 << 20
"""Bytes read at each cut: the search span and room for the chain after it."""
MAX_FRAME = 1 << 18
TEN_YEARS = 10 * 365 * 86400
_PCAPNG_BLOCKS = frozenset({2, 3, 4, 5, 6, 0xA, 0xBAD, 0x40000BAD})

Chain = Callable[[bytes, int], int | None]
"""Given a window and an offset in it, where the record at the offset ends if it is plausible."""


def plan(path: str | Path, parts: int) -> list[Region] | None:
    """``parts`` regions covering every record of the file, or None if it cannot be cut."""
    if parts < 2 or str(path) == "-":
        return None
    source = open_source(path)
    try:
        head = source.read(HEAD_SIZE)
        compressed = source.compression is not None
    finally:
        source.close()
    if compressed:
        return None
    found = _format(path, head)
    if found is None:
        return None
    start, record_end = found
    size = os.path.getsize(path)
    cuts = [start]
    with open(path, "rb") as handle:
        for k in range(1, parts):
            cut = _find_cut(handle, start + (size - start) * k // parts, size, record_end)
            if cut is None:
                return None
            if cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(size)
    return [Region(a, b) for a, b in pairwise(cuts) if b > a]


def _format(path: str | Path, head: bytes) -> tuple[int, Chain] | None:
    """Where the records start, and how to check one, for pcap and pcapng."""
    if pcap.recognise(head) and len(head) >= pcap.HEADER_SIZE + pcap.RECORD_HEADER_SIZE:
        return pcap.HEADER_SIZE, _pcap_record(head)
    if pcapng.recognise(head):
        reader = pcapng.PcapngReader(open_source(path), head)
        reader.close()
        try:
            start = reader.read_preamble(head)
        except pcapng.PcapngError:
            return None  # a damaged block before the packets: read whole, it is reported then
        return start, _pcapng_block(reader.byte_order)
    return None


def _find_cut(handle: BinaryIO, near: int, size: int, record_end: Chain) -> int | None:
    near -= near % 4  # pcapng blocks start on 4-byte boundaries (pcap records need not)
    handle.seek(near)
    window = handle.read(WINDOW)
    at_file_end = near + len(window) == size
    for position in range(min(SEARCH, len(window))):
        off = position
        for _ in range(CHAIN):
            if off == len(window) and at_file_end:
                return near + position
            end = record_end(window, off)
            if end is None:
                break
            off = end
        else:
            return near + position
    return None


def _pcap_record(head: bytes) -> Chain:
    magic = head[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    fraction_limit = 1_000_000 if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4") else 10**9
    first_second = struct.unpack_from(order + "I", head, pcap.HEADER_SIZE)[0]
    record = struct.Struct(order + "IIII").unpack_from

    def record_end(window: bytes, off: int) -> int | None:
        if off + pcap.RECORD_HEADER_SIZE > len(window):
            return None
        seconds, fraction, caplen, origlen = record(window, off)
        if (
            caplen > MAX_FRAME
            or caplen > origlen
            or fraction >= fraction_limit
            or abs(seconds - first_second) > TEN_YEARS
        ):
            return None
        end = off + pcap.RECORD_HEADER_SIZE + caplen
        return end if end <= len(window) else None

    return record_end


def _pcapng_block(order: str) -> Chain:
    header = struct.Struct(order + "II").unpack_from
    trailer = struct.Struct(order + "I").unpack_from

    def record_end(window: bytes, off: int) -> int | None:
        if off % 4 or off + 12 > len(window):  # the window starts 4-aligned
            return None
        btype, blen = header(window, off)
        if btype not in _PCAPNG_BLOCKS or blen < 12 or blen % 4 or blen > MAX_FRAME:
            return None
        end: int = off + blen
        if end > len(window) or trailer(window, end - 4)[0] != blen:
            return None
        return end

    return record_end
