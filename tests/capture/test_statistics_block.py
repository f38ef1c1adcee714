"""When a capture stopped: a pcapng Interface Statistics Block's isb_endtime (pcapng 4.6,
option 3), read as how long the capture watched, and written by the pcapng writer when told.

A capture that went on after a request saw it go unanswered: an INVITE with no response,
watched for 40 s, timed out (Timer B, 64*T1 = 32 s, RFC 3261 17.1.1.2); watched for 1 s,
it is still in progress.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from sipdiag.analysis import MessageReader, analyze
from sipdiag.capture.writer import PcapngWriter
from sipdiag.dialogs.outcome import Outcome
from tests.packets import (
    _block,
    pcapng_interface,
    pcapng_packet,
    pcapng_section,
    sip_request,
    udp4_frame,
)

INVITE_AT_US = 1_700_000_000_000_000
"""The INVITE's time, in the interface's default units (microseconds)."""


def statistics(interface: int, end_units: int) -> bytes:
    """An Interface Statistics Block with only isb_endtime (option 3), built from the spec."""
    stamp = struct.pack("<II", end_units >> 32, end_units & 0xFFFFFFFF)
    return _block(5, struct.pack("<I", interface) + stamp
                  + struct.pack("<HH", 3, 8) + stamp + struct.pack("<HH", 0, 0))


def unanswered_invite(tmp_path: Path, watched_s: float | None) -> Path:
    blocks = [pcapng_section(), pcapng_interface(1),
              pcapng_packet(0, INVITE_AT_US, udp4_frame("192.0.2.1", "192.0.2.2",
                                                        sip_request()))]
    if watched_s is not None:
        blocks.append(statistics(0, INVITE_AT_US + round(watched_s * 1e6)))
    path = tmp_path / "invite.pcapng"
    path.write_bytes(b"".join(blocks))
    return path


@pytest.mark.parametrize(("watched_s", "outcome"), [
    (40.0, Outcome.TIMEOUT), (1.0, Outcome.IN_PROGRESS), (None, Outcome.IN_PROGRESS)])
def test_an_invite_watched_past_timer_b_timed_out(tmp_path: Path, watched_s: float | None,
                                                  outcome: Outcome) -> None:
    calls = list(analyze(unanswered_invite(tmp_path, watched_s), jobs=1).calls)
    assert [c.outcome for c in calls] == [outcome]


def test_the_end_time_is_read_in_the_interfaces_units(tmp_path: Path) -> None:
    reader = MessageReader(unanswered_invite(tmp_path, 40.0))
    list(reader)
    assert reader.summary.observed_until_ns == (INVITE_AT_US + 40_000_000) * 1000
    assert reader.summary.last_ts_ns == INVITE_AT_US * 1000


def test_a_statistics_block_for_an_undeclared_interface_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "odd.pcapng"
    path.write_bytes(pcapng_section() + pcapng_interface(1) + statistics(7, 5))
    reader = MessageReader(path)
    list(reader)
    assert reader.summary.observed_until_ns is None
    assert not reader.summary.problems.counts


def test_the_writer_says_when_the_capture_began_and_stopped(tmp_path: Path) -> None:
    """Each interface written gets a statistics block, timed at the end, with isb_starttime
    and isb_endtime in its units (nanoseconds here); read back byte by byte per the spec."""
    path = tmp_path / "out.pcapng"
    with PcapngWriter(path, flush_interval=None) as writer:
        writer.watched = (1_000, 9_000_000_000_123)
        writer.write(1, 5_000, udp4_frame("192.0.2.1", "192.0.2.2", sip_request()))
        writer.write(101, 6_000, b"\x45" + bytes(27))
    data = path.read_bytes()
    blocks = []
    off = 0
    while off < len(data):
        kind, length = struct.unpack_from("<II", data, off)
        blocks.append((kind, data[off + 8:off + length - 4]))
        off += length
    found = {}
    for kind, body in blocks:
        if kind == 5:
            interface, hi, lo = struct.unpack_from("<III", body)
            options = dict(_options(body[12:]))
            found[interface] = ((hi << 32) | lo, options[2], options[3])
    stamp = struct.pack("<II", 9_000_000_000_123 >> 32, 9_000_000_000_123 & 0xFFFFFFFF)
    start = struct.pack("<II", 0, 1_000)
    assert found == {0: (9_000_000_000_123, start, stamp), 1: (9_000_000_000_123, start, stamp)}
    assert [kind for kind, _ in blocks][-2:] == [5, 5]  # after every packet


def _options(data: bytes) -> list[tuple[int, bytes]]:
    found, off = [], 0
    while off + 4 <= len(data):
        code, length = struct.unpack_from("<HH", data, off)
        if code == 0:
            break
        found.append((code, data[off + 4:off + 4 + length]))
        off += 4 + length + (-length % 4)
    return found
