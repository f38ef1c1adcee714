"""Shared fixtures: where the samples and the public captures are, and how to read a capture."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from sipdiag.analysis import CaptureSummary, MessageReader
from sipdiag.analysis.decryption import decrypt
from sipdiag.sip.message import SipMessage

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
PUBLIC = ROOT.parent / "shared" / "captures" / "public"
HAVE_PUBLIC = (PUBLIC / "MANIFEST.tsv").is_file()
"""A clone alone has no ../shared: the tests of the public captures are then skipped, saying why."""
needs_public = pytest.mark.skipif(
    not HAVE_PUBLIC, reason="no public captures beside this checkout "
    "(../shared/captures/public/MANIFEST.tsv); CI has them")
PUBLIC_REQUIRED = "SIPDIAG_PUBLIC_REQUIRED"
"""Set (as .ci/run does) where the public captures must be there: their absence is an error."""


def pytest_configure() -> None:
    if os.environ.get(PUBLIC_REQUIRED) and not HAVE_PUBLIC:
        raise pytest.UsageError(f"{PUBLIC_REQUIRED} is set but {PUBLIC / 'MANIFEST.tsv'} is "
                                f"missing: the tests of the public captures would be skipped")


@dataclass(frozen=True)
class PublicCapture:
    path: Path
    row: dict[str, str]

    @property
    def name(self) -> str:
        return self.row["local_path"]


def public_captures() -> list[PublicCapture]:
    """Every capture listed in ../shared/captures/public/MANIFEST.tsv (none on a clone alone:
    a test over them is marked ``needs_public``)."""
    if not HAVE_PUBLIC:
        return []
    manifest = PUBLIC / "MANIFEST.tsv"
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [PublicCapture(PUBLIC / row["local_path"], row) for row in rows]


def sample_captures() -> list[Path]:
    """Every capture bundled in samples/."""
    suffixes = {".pcap", ".pcapng", ".gz", ".cap"}
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix in suffixes)


def read(path: Path | str) -> tuple[list[SipMessage], CaptureSummary]:
    """As sipdiag reads a capture: with the TLS secrets embedded in it, if it has any."""
    reader = MessageReader(path, decryption=decrypt(path, None))
    messages = list(reader)
    return messages, reader.summary


@pytest.fixture
def write_capture(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write bytes to a capture file in a temporary folder and return its path."""

    def write(data: bytes, name: str = "capture.pcap") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
