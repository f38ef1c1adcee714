"""``sipdiag redact``: what it writes, what it says, and its errors."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from sipdiag.capture import linktypes
from sipdiag.capture.writer import PcapngWriter
from sipdiag.cli import main
from sipdiag.cli.common import Environment
from sipdiag.network import Endpoint
from sipdiag.network.encode import udp_packet
from tests.conftest import SAMPLES

CALLER, CALLEE = Endpoint("192.168.1.10", 5060), Endpoint("10.1.2.3", 5060)
INVITE = (
    b"INVITE sip:bob@10.1.2.3 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\n"
    b'From: "Alice" <sip:+15551234567@example.com>;tag=1\r\n'
    b"To: <sip:bob@10.1.2.3>\r\n"
    b"Call-ID: c1@192.168.1.10\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:+15551234567@192.168.1.10>\r\n"
    b"Content-Length: 0\r\n\r\n"
)
DNS_QUERY = bytes.fromhex("1234010000010000000000000765786d706c6503636f6d0000010001")
ARP = bytes(6) + bytes.fromhex("020000000001") + b"\x08\x06" + bytes(28)


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    """One INVITE (4 user parts, 2 of them different; 7 addresses in it and 2 in its IP
    header, 2 different; one host name; one display name), a DNS query between the same
    hosts (not redactable: left out) and an ARP frame (not IP: left out)."""
    path = tmp_path / "in.pcapng"
    with PcapngWriter(path, flush_interval=None) as writer:
        writer.write(linktypes.RAW, 1_000_000_000, udp_packet(CALLER, CALLEE, INVITE))
        writer.write(linktypes.RAW, 2_000_000_000,
                     udp_packet(Endpoint(CALLER.ip, 40000), Endpoint(CALLEE.ip, 53), DNS_QUERY))
        writer.write(linktypes.ETHERNET, 3_000_000_000, ARP)
    return path


def run(*argv: str | Path) -> tuple[int, str]:
    err = io.StringIO()
    code = main([str(a) for a in argv], Environment(stdout=io.StringIO(), stderr=err,
                                                    stdin=io.BytesIO(), environ={}))
    return code, err.getvalue()


def test_the_summary_counts_each_kind_and_each_frame_left_out(capture: Path,
                                                              tmp_path: Path) -> None:
    code, err = run("redact", capture, "-o", tmp_path / "out.pcapng")
    assert code == 0
    assert err.splitlines() == [
        "sipdiag: 1 of 3 frames written; replaced: 4 user parts (2 distinct), "
        "1 display names (1 distinct), 9 IP addresses (2 distinct), 1 host names (1 distinct)",
        "sipdiag: left out: 1 frame: a UDP payload of no protocol the redactor knows (not SIP, "
        "RTP, RTCP or STUN)",
        "sipdiag: left out: 1 frame: not IP (ethertype 0x0806)",
    ]


def test_the_key_is_shown_only_when_asked_and_gives_the_same_file_again(
        capture: Path, tmp_path: Path) -> None:
    first, again, other = (tmp_path / f"{n}.pcapng" for n in ("first", "again", "other"))
    code, err = run("redact", capture, "-o", first, "-q")
    assert (code, err) == (0, "")
    code, err = run("redact", capture, "-o", other, "-q", "--show-key")
    key = re.fullmatch(r"sipdiag: key: ([0-9a-f]{64})\n", err)
    assert code == 0 and key is not None
    assert first.read_bytes() != other.read_bytes()  # a new random key each time
    code, _ = run("redact", capture, "-o", again, "-q", "--key", key[1])
    assert code == 0 and again.read_bytes() == other.read_bytes()


def test_a_key_file_gives_its_first_line(capture: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text("correct horse\nsecond line\n")
    by_file, by_text = tmp_path / "file.pcapng", tmp_path / "text.pcapng"
    assert run("redact", capture, "-o", by_file, "-q", "--key-file", key_file)[0] == 0
    assert run("redact", capture, "-o", by_text, "-q", "--key", "correct horse")[0] == 0
    assert by_file.read_bytes() == by_text.read_bytes()


@pytest.mark.parametrize("problem", ["not a capture", "output is the input", "empty key file",
                                     "empty key", "no such folder"])
def test_errors_are_one_line_and_exit_2(problem: str, capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pcapng"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    argv: list[str | Path] = {  # type: ignore[assignment]
        "not a capture": [text, "-o", out],
        "output is the input": [capture, "-o", capture],
        "empty key file": [capture, "-o", out, "--key-file", empty],
        "empty key": [capture, "-o", out, "--key", ""],
        "no such folder": [capture, "-o", tmp_path / "none" / "out.pcapng"],
    }[problem]
    code, err = run("redact", *argv)
    assert code == 2
    assert len(err.splitlines()) == 1 or "usage:" in err  # argparse prints its usage first
    assert "Traceback" not in err and "error" in err


def test_several_captures_are_redacted_into_one(tmp_path: Path) -> None:
    code, err = run("redact", SAMPLES / "calls" / "basic-call.pcap",
                    SAMPLES / "calls" / "busy.pcap", "-o", tmp_path / "out.pcapng")
    assert code == 0 and err.startswith("sipdiag: ") and "frames written" in err
