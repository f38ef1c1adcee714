"""Redaction below SIP: TCP sequence numbers, RTP with --drop-audio, pseudonyms across files."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from sipdiag.analysis import analyze
from sipdiag.evidence.redact import Kind
from tests.conftest import SAMPLES
from tests.evidence.redact_checks import redact, tshark_fields

TCP_SAMPLES = ("transport/tcp-split-and-coalesced.pcap", "transport/tcp-out-of-order.pcap",
               "transport/tcp-midstream.pcap", "calls/tcp-call.pcap")


def _rows(path: Path, *fields: str, display: str = "") -> list[list[str]]:
    command = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=f"]
    if display:
        command += ["-Y", display]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def _expert(path: Path) -> Counter[str]:
    return Counter(message for row in _rows(path, "_ws.expert.message", display="tcp")
                   for message in row[0].split(",") if message)


def test_tcp_acknowledgments_name_the_ends_of_the_redacted_segments(tmp_path: Path) -> None:
    """RFC 9293 3.4: an acknowledgment is the next sequence number expected. After redaction
    every acknowledgment of one side must still be where a segment of the other side ends."""
    for name in TCP_SAMPLES:
        redacted = tmp_path / "out.pcapng"
        redact(SAMPLES / name, redacted)
        ends: dict[tuple[str, str], set[int]] = {}
        acks: list[tuple[tuple[str, str], int]] = []
        for src, sport, dst, dport, seq, length, ack, syn, fin, has_ack in _rows(
                redacted, "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.seq_raw",
                "tcp.len", "tcp.ack_raw", "tcp.flags.syn", "tcp.flags.fin", "tcp.flags.ack"):
            flags = int(syn == "True" or syn == "1") + int(fin == "True" or fin == "1")
            ends.setdefault((src + sport, dst + dport), set()).add(
                (int(seq) + int(length) + flags) % 2**32)
            if has_ack in ("True", "1"):
                acks.append(((dst + dport, src + sport), int(ack)))
        stray = [ack for side, ack in acks if side in ends and ack not in ends[side]]
        assert stray == [], name


def test_tcp_reads_the_same_to_tshark_after_redaction(tmp_path: Path) -> None:
    """The same messages, retransmissions, out-of-order segments and missing data, seen by
    tshark's own TCP analysis; every message reassembled whole."""
    for name in TCP_SAMPLES:
        original, redacted = SAMPLES / name, tmp_path / "out.pcapng"
        redact(original, redacted)
        assert _expert(redacted) == _expert(original), name
        sip = ("sip.Method", "sip.Status-Code")
        assert len(tshark_fields(redacted, sip)) == len(tshark_fields(original, sip)), name


RTP_FIELDS = ("rtp.ssrc", "rtp.seq", "rtp.timestamp", "rtp.p_type", "rtp.marker")


def _rtp(path: Path) -> tuple[list[list[str]], list[str]]:
    rows = _rows(path, *RTP_FIELDS, "rtp.payload", display="rtp")
    return [row[:-1] for row in rows], [row[-1] for row in rows]


def test_drop_audio_zeroes_every_payload_and_keeps_every_header(tmp_path: Path) -> None:
    """RFC 3550 5.1: headers intact; payloads, RFC 4733 events included, all zeros."""
    for name in ("media/two-way-g711.pcap", "media/dtmf-rfc4733.pcap", "media/loss-burst.pcap"):
        original, redacted = SAMPLES / name, tmp_path / "out.pcapng"
        summary = redact(original, redacted, drop_audio=True)
        headers, payloads = _rtp(original)
        new_headers, new_payloads = _rtp(redacted)
        assert new_headers == headers and headers, name
        assert [len(p) for p in new_payloads] == [len(p) for p in payloads]
        assert set("".join(new_payloads).replace(":", "")) == {"0"}
        assert set("".join(payloads).replace(":", "")) != {"0"}
        assert summary.replaced[Kind.AUDIO] == len(payloads)
        assert _streams(redacted) == _streams(original), name


def _streams(path: Path) -> Counter[tuple[int, int, int]]:
    """Each stream's SSRC, packets and losses, as sipdiag reads them."""
    analysis = analyze(path, jobs=1)
    return Counter((s.stream.ssrc, s.stream.packets, s.stream.lost)
                   for call in analysis.calls if call.media for s in call.media.streams)


def _users(original: Path, redacted: Path) -> dict[str, str]:
    """Each From and To user of the original, and what stands in its place after redaction
    (messages matched in order)."""
    fields = ("sip.from.user", "sip.to.user")
    return dict(zip(tshark_fields(original, fields), tshark_fields(redacted, fields),
                    strict=True))


def test_the_same_key_maps_two_captures_alike_and_another_key_does_not(
        tmp_path: Path) -> None:
    first, second = SAMPLES / "calls/basic-call.pcap", SAMPLES / "calls/busy.pcap"
    mapped = {}
    for key in (b"one", b"two"):
        for capture in (first, second):
            out = tmp_path / f"{key.decode()}-{capture.stem}.pcapng"
            redact(capture, out, key=key)
            mapped[(key, capture)] = _users(capture, out)
    assert mapped[(b"one", first)]["alice"] == mapped[(b"one", second)]["alice"]
    assert mapped[(b"one", first)]["bob"] == mapped[(b"one", second)]["bob"]
    assert mapped[(b"one", first)]["alice"] != mapped[(b"two", first)]["alice"]
    assert mapped[(b"one", first)]["alice"] != mapped[(b"one", first)]["bob"]
