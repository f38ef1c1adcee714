"""Differential tests: sipdiag and tshark (through pyshark) must see the same SIP messages.

For every bundled sample and every capture in ../shared/captures/public/, each SIP message's
frame number, timestamp, Call-ID, CSeq number and method or status code must agree with
Wireshark's dissectors, or the difference must be listed below with the reason. tshark runs
with TCP out-of-order reassembly on (its default is off, which loses segments that arrive early)
and ICMP errors that quote a SIP packet are left out (they carry no new SIP message), as are the
bytes tshark shows as "SIP Continuation" (the tail of a message whose start was not captured,
which we report as skipped).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyshark
import pytest

from tests.conftest import ROOT, PublicCapture, needs_public, public_captures, read, sample_captures

os.environ["TZ"] = "UTC"  # NetMon files store local time; read both sides in UTC

Seen = tuple[int, str, str, str, str]
"""(frame, epoch time, Call-ID, CSeq number, method or status code) of one message."""


@dataclass(frozen=True)
class Known:
    """Why tshark's view of a capture differs from ours."""

    reason: str
    frames: dict[int, str] = field(default_factory=dict)
    """Frames where the two differ, each with its own reason; other frames must agree."""
    tshark_sees_nothing: bool = False
    """tshark cannot decode the SIP at all; our count is checked against the MANIFEST."""


FUZZ_SIP_HEADER = "fuzzed CSeq '%s\\0 ...': tshark reads number 0, we report a bad CSeq"
BAD_CSEQ = "CSeq 'abc INVITE': tshark reads number 0, we report a bad CSeq and no number"
FUZZ_NUL_LINE = "start line holds a NUL byte: tshark rejects it, we keep it and report it"
KNOWN: dict[str, Known] = {
    "sipcapture__hep-wireshark/pcap/hep.pcap": Known(
        "HEPv3-encapsulated SIP: tshark 4.0 has no HEP dissector", tshark_sees_nothing=True
    ),
    "sipcapture__hep-wireshark/pcap/hep3_compressed.pcap.pcapng": Known(
        "zlib-compressed HEPv3: tshark 4.0 has no HEP dissector", tshark_sees_nothing=True
    ),
    "ntop__nDPI/tests/cfgs/default/pcap/fuzz-2006-06-26-2594.pcap": Known(
        "randomly corrupted bytes (a Wireshark fuzz file): neither view is ground truth",
        frames={
            108: FUZZ_NUL_LINE,
            155: FUZZ_SIP_HEADER,
            346: FUZZ_NUL_LINE,
            348: FUZZ_NUL_LINE,
            441: FUZZ_NUL_LINE,
            550: FUZZ_SIP_HEADER,
            247: "start line ends in a bare CR: tshark accepts it, we do not take it as SIP",
        },
    ),
    "samples/transport/malformed.pcap": Known("crafted malformed messages", frames={4: BAD_CSEQ}),
}


def tshark_view(path: Path, decode_as: dict[str, str]) -> tuple[list[Seen], bool]:
    """What tshark sees, and whether it said the file was cut short."""
    capture = pyshark.FileCapture(
        str(path),
        display_filter="sip && !icmp && !icmpv6",
        keep_packets=False,
        decode_as=decode_as or None,
        override_prefs={"tcp.reassemble_out_of_order": "TRUE"},
    )
    seen: list[Seen] = []
    cut = False
    try:
        try:
            seen.extend(_messages(capture))
        finally:
            capture.close()
    except pyshark.capture.capture.TSharkCrashException as exc:
        # tshark exits with status 2 on a file cut short, after printing what it could read.
        cut = "cut short" in str(exc)
        if not cut:
            raise
        capture._running_processes.clear()
    return seen, cut


def _messages(capture: pyshark.FileCapture) -> Iterator[Seen]:
    for packet in capture:
        for layer in packet.get_multiple_layers("sip"):
            kind = layer.get_field_value("Method") or layer.get_field_value("Status-Code")
            if kind is None:
                continue  # "SIP Continuation": bytes tshark cannot place in any message
            yield (
                int(packet.number),
                _epoch(packet),
                str(layer.get_field_value("Call-ID") or ""),
                str(layer.get_field_value("CSeq.seq") or ""),
                str(kind),
            )


def _epoch(packet: pyshark.packet.packet.Packet) -> str:
    """frame.time_epoch; pyshark loses frame_info on frames with a comment (then: its own)."""
    epoch = packet.frame_info.get_field_value("time_epoch")
    return str(epoch if epoch is not None else packet.sniff_timestamp)


def our_view(path: Path) -> tuple[list[Seen], bool]:
    """What we see, and whether we reported the file cut short."""
    messages, summary = read(path)
    return [
        (
            m.frame,
            f"{m.ts_ns // 1_000_000_000}.{m.ts_ns % 1_000_000_000:09d}",
            _as_tshark_shows(m.call_id),
            str(m.cseq) if m.cseq >= 0 else "",
            m.method or str(m.status),
        )
        for m in messages
    ], "capture_truncated" in summary.problems.counts


def _as_tshark_shows(call_id: str) -> str:
    """Our Call-ID as pyshark prints tshark's: cut at a NUL, an undecodable byte as U+FFFD
    (we show it as \\xNN), and control characters escaped as \\xNN text."""
    text = re.sub(r"\\x[0-9a-f]{2}", "\ufffd", call_id.split("\x00")[0])
    return re.sub(r"[\x01-\x1f]", lambda m: f"\\x{ord(m[0]):02x}", text)


def compare(path: Path, known: Known | None, decode_as: dict[str, str]) -> None:
    ours, we_cut = our_view(path)
    theirs, they_cut = tshark_view(path, decode_as)
    assert we_cut == they_cut
    if known and known.tshark_sees_nothing:
        assert theirs == []
        return
    skip = set(known.frames) if known else set()
    ours_kept = sorted(s for s in ours if s[0] not in skip)
    theirs_kept = sorted(s for s in theirs if s[0] not in skip)
    assert ours_kept == theirs_kept
    differing = {s[0] for s in set(ours) ^ set(theirs)}
    assert differing == skip, "a frame listed as different now agrees: update KNOWN"


@needs_public
@pytest.mark.parametrize("capture", public_captures(), ids=lambda c: c.name)
def test_public_capture_agrees_with_tshark(capture: PublicCapture) -> None:
    decode_as = {"tcp.port==6060": "sip"} if "tcp.port==6060" in capture.row["notes"] else {}
    known = KNOWN.get(capture.name)
    compare(capture.path, known, decode_as)
    if known and known.tshark_sees_nothing:
        messages, _ = read(capture.path)
        assert len(messages) == int(capture.row["sip_msgs"])


@pytest.mark.parametrize("path", sample_captures(), ids=lambda p: str(p.name))
def test_sample_agrees_with_tshark(path: Path) -> None:
    compare(path, KNOWN.get(path.relative_to(ROOT).as_posix()), {})
