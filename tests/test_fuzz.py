"""A mutation fuzzer over the bundled captures: damaged bytes give a report, the project's own
one-line error (exit 2) or a reported problem, never a traceback, and the JSON stays a document.

Each seed capture (every sample, and basic-call.pcap written in the other formats sipdiag reads:
pcapng, ERF, NetMon, gzip, bzip2, xz) is damaged in seeded random ways (bytes flipped, cut,
inserted, a slice repeated or zeroed, a length field set to 0 or to its largest value) and
analysed. ``SIPDIAG_FUZZ_RUNS`` sets the damaged copies per seed (default 1, so that CI stays
bounded; ``SIPDIAG_FUZZ_RUNS=500 pytest tests/test_fuzz.py`` for a long run). Every input that
ever crashed is kept in ``tests/fuzz-crashes/`` and read on every run.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import random
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from sipdiag.capture import CaptureError
from sipdiag.dialogs.select import Ladders
from sipdiag.report import html
from sipdiag.report.document import write_json
from sipdiag.report.stats import stats_of
from sipdiag.report.terminal import make_console, report
from sipdiag.rules import load_engine
from tests.conftest import ROOT, SAMPLES, sample_captures

ENGINE = load_engine()
RUNS = int(os.environ.get("SIPDIAG_FUZZ_RUNS", "1"))
CRASHES = ROOT / "tests" / "fuzz-crashes"
BASIC = SAMPLES / "calls" / "basic-call.pcap"
EDITCAP_FORMATS = {"pcapng": "pcapng", "netmon": "netmon2"}
"""Formats editcap writes that sipdiag reads: the seed's extension and editcap's -F name (ERF
is written here: editcap writes only ERF's own records to it)."""


def damaged(data: bytes, rng: random.Random) -> bytes:
    """``data`` with one to three random kinds of damage."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        rng.choice(DAMAGE)(out, rng)
    return bytes(out)


def _flip(out: bytearray, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)


def _cut(out: bytearray, rng: random.Random) -> None:
    del out[rng.randrange(len(out) + 1):]


def _insert(out: bytearray, rng: random.Random) -> None:
    at = rng.randrange(len(out) + 1)
    out[at:at] = rng.randbytes(rng.randint(1, 64))


def _repeat(out: bytearray, rng: random.Random) -> None:
    start = rng.randrange(len(out) + 1)
    piece = out[start:start + rng.randint(1, 256)]
    at = rng.randrange(len(out) + 1)
    out[at:at] = piece


def _zero(out: bytearray, rng: random.Random) -> None:
    start = rng.randrange(len(out) + 1)
    end = min(len(out), start + rng.randint(1, 64))
    out[start:end] = bytes(end - start)


def _extreme_length(out: bytearray, rng: random.Random) -> None:
    """A 2- or 4-byte field (a length, a count, a timestamp) at its smallest or largest."""
    width = rng.choice((2, 4))
    if len(out) > width:
        at = rng.randrange(len(out) - width)
        out[at:at + width] = rng.choice((b"\x00", b"\xff")) * width


DAMAGE: tuple[Callable[[bytearray, random.Random], None], ...] = (
    _flip, _cut, _insert, _repeat, _zero, _extreme_length)


COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
DERIVED = [*(f"basic-call.pcap{suffix}" for suffix in COMPRESSORS), "basic-call.erf",
           *(f"basic-call.{suffix}" for suffix in EDITCAP_FORMATS)]
"""The basic call in each other format and compression sipdiag reads."""
SEEDS = [*(str(p.relative_to(SAMPLES)) for p in sample_captures()), *DERIVED]


def seed(name: str, folder: Path) -> Path:
    """A sample, or the basic call written in another format into ``folder``."""
    if name not in DERIVED:
        return SAMPLES / name
    path, pcap = folder / name, BASIC.read_bytes()
    suffix = path.suffix
    if suffix in COMPRESSORS:
        path.write_bytes(COMPRESSORS[suffix](pcap))
    elif suffix == ".erf":
        path.write_bytes(b"".join(erf_record(ts, frame) for ts, frame in pcap_records(pcap)))
    else:
        editcap = shutil.which("editcap")
        assert editcap, "editcap (tshark's package) writes the NetMon and pcapng seeds"
        subprocess.run([editcap, "-F", EDITCAP_FORMATS[suffix[1:]], str(BASIC), str(path)],
                       check=True, timeout=60)
    return path


def pcap_records(data: bytes) -> list[tuple[int, bytes]]:
    """(time in ns, frame) of a little-endian microsecond pcap file."""
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "a little-endian microsecond pcap"
    records, at = [], 24
    while at < len(data):
        seconds, micros, captured, _ = struct.unpack_from("<IIII", data, at)
        records.append((seconds * 10**9 + micros * 1000, data[at + 16:at + 16 + captured]))
        at += 16 + captured
    return records


def erf_record(ts_ns: int, frame: bytes) -> bytes:
    """An ERF Ethernet record (type 2): 64-bit fixed-point time, 16-byte header, 2 bytes of
    padding before the frame, the record padded to 8 bytes."""
    seconds, nanos = divmod(ts_ns, 10**9)
    body = b"\x00\x00" + frame
    body += bytes(-len(body) % 8)
    return (struct.pack("<QBB", seconds << 32 | (nanos << 32) // 10**9, 2, 0x04)
            + struct.pack(">HHH", 16 + len(body), 0, len(frame)) + body)


def assert_handled(path: Path) -> None:
    """The capture analysed and reported in every format, or refused with one line; any other
    exception propagates: a crash."""
    try:
        analysis = analyze(path, engine=ENGINE, jobs=1, ladders=Ladders.ALL)
    except CaptureError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    out = io.StringIO()
    write_json(analysis, out)
    document = json.loads(out.getvalue())  # a whole document, whatever the capture's times
    assert document["capture"]["frames"] >= 0
    stats = stats_of(analysis)
    report.print_report(make_console(io.StringIO(), environ={}), analysis, stats, ENGINE.catalog,
                      "en")
    html.write_html(analysis, stats, ENGINE.catalog, io.StringIO(), "en")


@pytest.mark.parametrize("name", DERIVED)
def test_each_derived_seed_is_read_as_the_basic_call(name: str, tmp_path: Path) -> None:
    expected = analyze(BASIC, engine=ENGINE, jobs=1)
    analysis = analyze(seed(name, tmp_path), engine=ENGINE, jobs=1)
    assert analysis.summary.sip_messages == expected.summary.sip_messages > 0


@pytest.mark.parametrize("name", SEEDS)
def test_damaged_captures_never_crash(name: str, tmp_path: Path) -> None:
    original = seed(name, tmp_path)
    rng = random.Random(f"{name}:{RUNS}")
    data = original.read_bytes()
    for run in range(RUNS):
        path = tmp_path / f"damaged-{run}-{original.name}"
        path.write_bytes(damaged(data, rng))
        try:
            assert_handled(path)
        except BaseException:
            keep = CRASHES / f"{original.stem}-{rng.getrandbits(32):08x}{original.suffix}"
            CRASHES.mkdir(exist_ok=True)
            shutil.copy(path, keep)  # a regression sample for every later run
            raise


@pytest.mark.parametrize("crash", sorted(CRASHES.glob("*")) if CRASHES.is_dir() else [],
                         ids=lambda p: p.name)
def test_inputs_that_once_crashed_are_handled(crash: Path) -> None:
    assert_handled(crash)
