"""The crafted media samples against their truth by construction (samples/media/truth.json,
written by samples/craft_media.py from the packets it made): every stream found with its
counts and frames, the media state of every call, DTMF digits, and round trips from RTCP."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.dialogs.media import CallMedia
from tests.conftest import SAMPLES

MEDIA = SAMPLES / "media"
TRUTH = json.loads((MEDIA / "truth.json").read_text(encoding="utf-8"))["files"]
COUNTS = ("packets", "expected", "lost", "duplicates", "out_of_order", "first_frame",
          "last_frame")


@cache
def analysed(name: str) -> Analysis:
    return analyze(MEDIA / name, jobs=1)


def streams_of(analysis: Analysis) -> dict[tuple[str, str, str], object]:
    found: dict[tuple[str, str, str], object] = {}
    tied = [s.stream for c in analysis.calls if c.media for s in c.media.streams]
    for stream in [*tied, *(s.stream for s in analysis.unattributed)]:
        found[(str(stream.src), str(stream.dst), f"0x{stream.ssrc:08X}")] = stream
    return found


def key(truth: dict[str, object]) -> tuple[str, str, str]:
    return str(truth["src"]), str(truth["dst"]), str(truth["ssrc"]).upper().replace("0X", "0x")


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_every_stream_is_found_with_its_counts(name: str) -> None:
    found = streams_of(analysed(name))
    expected = {key(s): s for s in TRUTH[name]["rtp_streams"]}
    assert set(found) == set(expected)
    for stream_key, truth in expected.items():
        stream = found[stream_key]
        assert {c: getattr(stream, c) for c in COUNTS} == {c: truth[c] for c in COUNTS}


def expected_state(call: dict[str, object]) -> tuple[str, str | None]:
    """The state by construction: a side whose audio is not heard is silent (its RTP does
    not arrive, is silence or comfort noise, or is in a codec never agreed on)."""
    state = str(call["media_state"])
    heard = call["audio_heard"]
    assert isinstance(heard, dict)
    silent = [side for side, ok in heard.items() if ok is False]
    if state in ("two_way", "one_way") and len(silent) == 1:
        return "one_way", silent[0]
    return state, None


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_every_call_has_the_media_state_it_was_made_with(name: str) -> None:
    calls = {c.call_id: c for c in analysed(name).calls}
    for truth in TRUTH[name]["calls"]:
        media = calls[truth["call_id"]].media
        assert isinstance(media, CallMedia)
        state = (media.state.value, media.silent_side.value if media.silent_side else None)
        assert state == expected_state(truth)


def test_dtmf_digits_and_where_they_start() -> None:
    [call] = analysed("dtmf-rfc4733.pcap").calls
    assert call.media is not None
    sent = [d for s in TRUTH["dtmf-rfc4733.pcap"]["rtp_streams"] for d in s.get("dtmf", [])]
    assert [(e.event, e.frame, e.duration_ms) for _, e in call.media.dtmf] == [
        (d["digit"], d["start_frame"], d["duration_ms"]) for d in sent]
    assert {side.value for side, _ in call.media.dtmf if side} == {"caller"}


@pytest.mark.parametrize("name", ["two-way-g711.pcap", "rtcp-remote-loss.pcap"])
def test_round_trips_from_rtcp(name: str) -> None:
    """RFC 3550 6.4.1 timed at the capture point: the time of a report block's packet, minus
    the time of the SR it echoes (its NTP middle 32 bits are the block's LSR), minus the
    block's DLSR; the last one of each stream."""
    [call] = analysed(name).calls
    assert call.media is not None
    reports = TRUTH[name]["rtcp"]
    sent_at = {int(r["ntp_timestamp"], 16) >> 16 & 0xFFFFFFFF: r["time_s"] for r in reports}
    last: dict[str, float] = {}
    for report in reports:
        for block in report["report_blocks"]:
            lsr = int(block["lsr"], 16)
            if lsr:
                last[block["source_ssrc"]] = (report["time_s"] - sent_at[lsr]) * 1000 - block[
                    "dlsr_ms"]
    assert len(last) == 2
    for item in call.media.streams:
        remote = item.remote
        assert remote is not None and remote.round_trip_ms is not None
        assert remote.round_trip_ms == pytest.approx(
            max(0.0, last[f"0x{item.stream.ssrc:08X}"]), abs=0.01)


def test_the_receivers_own_loss_is_read_from_rtcp() -> None:
    [call] = analysed("rtcp-remote-loss.pcap").calls
    assert call.media is not None
    truth_blocks = [b for r in TRUTH["rtcp-remote-loss.pcap"]["rtcp"] for b in r["report_blocks"]]
    for item in call.media.streams:
        mine = [b for b in truth_blocks if b["source_ssrc"] == f"0x{item.stream.ssrc:08X}"]
        assert item.remote is not None and item.remote.reports == len(mine)
        assert item.remote.cumulative_lost == mine[-1]["cumulative_lost"]


def frame_times(path: Path) -> dict[int, float]:
    """Every frame's capture time, as tshark reads it."""
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number",
                          "-e", "frame.time_epoch"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return {int(n): float(t) for n, t in (line.split("\t") for line in out.splitlines())}


def ack_frame(path: Path) -> int:
    out = subprocess.run(["tshark", "-r", str(path), "-Y", "sip.Method == \"ACK\"", "-T",
                          "fields", "-e", "frame.number"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return int(out.split()[0])


@pytest.mark.parametrize("name", ["late-media.pcap", "two-way-g711.pcap"])
def test_media_starts_counted_from_the_answer_and_from_its_ack(name: str) -> None:
    """Each side's first packet, from the 200 OK and from the ACK (frames of truth.json and
    tshark's times of them); the caller sends first in these files."""
    [call] = analysed(name).calls
    [truth] = TRUTH[name]["calls"]
    assert call.media is not None
    times = frame_times(MEDIA / name)
    answer, ack = times[truth["answer_frame"]], times[ack_frame(MEDIA / name)]
    assert call.media.acked_ns is not None and call.media.acked_ns / 1e9 == pytest.approx(ack)
    for direction in call.media.directions:
        first = min(times[s["first_frame"]] for s in TRUTH[name]["rtp_streams"]
                    if s["sender"] == direction.sender.value)
        assert direction.start_after_answer_s == pytest.approx(first - answer, abs=1e-6)
        assert direction.start_after_ack_s == pytest.approx(first - ack, abs=1e-6)


def test_a_retransmitted_answer_is_announced_by_its_first_copy() -> None:
    """no-ack-32s: the 200 OK and its SDP answer are sent 11 times (never ACKed); the answer is
    the first copy (RFC 3264 8: a repeated SDP with the same o= version is no new offer), so the
    address the caller's audio must go to was announced in that frame, and the callee's in the
    INVITE's offer (frames as tshark reads them)."""
    path = SAMPLES / "calls" / "no-ack-32s.pcap"
    out = subprocess.run(["tshark", "-r", str(path), "-Y", "sdp", "-T", "fields", "-e",
                          "frame.number", "-e", "sip.Status-Code"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    offer = min(int(frame) for frame, status in rows if not status)
    answers = sorted(int(frame) for frame, status in rows if status == "200")
    assert len(answers) == 11
    [call] = analyze(path, jobs=1).calls
    assert call.media is not None
    announced = {d.sender.value: d.announced_frame for d in call.media.directions}
    assert announced == {"caller": answers[0], "callee": offer}
