"""The media in the terminal report: the Media column of the calls, the media table and the
DTMF of a chosen call (``--call``), the RTP and DTMF rows of its ladder, in English, Korean and
Japanese, with the capture's text shown as text.

Expected values come from samples/media/truth.json (what samples/craft_media.py put in each
crafted capture), from the captures built here (``media_call``: what they hold is what they
were made with), from the labels of rules/catalog/report.yaml, and, for the MOS, from the ITU-T
G.107 E-model computed here (``expected_mos``) with the delay sipdiag documents for a capture
without RTCP (sipdiag/media/quality.py: a jitter buffer of one packet, one packet time).
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
from functools import cache
from typing import Any

import pytest

from sipdiag.cli import Environment, ExitStatus, main
from tests import packets
from tests.conftest import SAMPLES
from tests.report import hostile

MEDIA = SAMPLES / "media"
TRUTH = json.loads((MEDIA / "truth.json").read_text(encoding="utf-8"))["files"]
T0 = 1_700_000_000_000_000_000
ALICE, BOB = "192.0.2.10", "198.51.100.20"
WORDS = {  # rules/catalog/report.yaml: media_two_way, media_one_way, ...
    "en": {"two_way": "both", "one_way": "one-way: {side} silent", "none": "none",
           "on_hold": "hold", "not_captured": "not captured", "early_only": "early only",
           "caller": "caller", "callee": "callee", "column": "Media"},
    "ko": {"two_way": "양방향", "one_way": "편통화: {side} 무음", "none": "없음",
           "on_hold": "보류", "not_captured": "캡처 안 됨", "early_only": "얼리 미디어만",
           "caller": "발신자", "callee": "착신자", "column": "미디어"},
    "ja": {"two_way": "双方向", "one_way": "片通話：{side}無音", "none": "なし",
           "on_hold": "保留", "not_captured": "未キャプチャ", "early_only": "アーリーメディアのみ",
           "caller": "発信者", "callee": "着信者", "column": "メディア"},
}
STREAM_HEADINGS = ["Direction", "Hop", "Source", "Destination", "SSRC", "Codec", "Packets",
                   "Lost", "Jitter ms", "Max gap ms", "MOS"]


# --- the ITU-T G.107 E-model, for the MOS column ---------------------------------------------


def g107_mos(loss_percent: float, burst_ratio: float, ta_ms: float, ie: float = 0.0,
             bpl: float = 25.1) -> float:
    """MOS (G.107 (06/2015) Annex B) for every default of Table 3, a mouth-to-ear delay Ta
    taken as the talker echo delay T and half the listener echo round trip Tr, and Ie,eff
    from the loss (eq. 7-29). Ie 0 and Bpl 25.1: G.711 with concealment (G.113 App. I)."""
    no = -61.18  # eq. 7-3 with the defaults
    ro = 15 - 1.5 * (8 + no)  # SLR 8
    is_ = 1.414
    t, tr = ta_ms, 2 * ta_ms
    terv = 65 - 40 * math.log10((1 + t / 10) / (1 + t / 150)) + 6 * math.exp(-0.3 * t * t)
    roe, re_ = -1.5 * (no - 2), 80 + 2.5 * (terv - 14)
    idte = ((roe - re_) / 2 + math.sqrt((roe - re_) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t))
    rle = 10.5 * (110 + 7) * (tr + 1) ** -0.25
    idle = (ro - rle) / 2 + math.sqrt((ro - rle) ** 2 / 4 + 169)
    assert ta_ms <= 100  # so Idd, the pure delay's impairment (eq. 7-27), is 0
    burst = min(8.0, max(1.0, burst_ratio))
    ie_eff = ie + (95 - ie) * loss_percent / (loss_percent / burst + bpl)
    r = ro - is_ - idte - idle - ie_eff
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def expected_mos(stream: dict[str, Any], ie: float = 0.0, bpl: float = 25.1,
                 lookahead_ms: float = 0.0) -> float:
    """The E-model's MOS of a crafted stream of 20 ms packets without jitter or RTCP: the loss
    and its runs from truth (BurstR = 1 / (p + q), p = runs / received, q = runs / lost), a
    delay of 40 ms (one packet of jitter buffer, one packet time) plus the look-ahead."""
    lost, expected = int(stream["lost"]), int(stream["expected"])
    seqs = sorted(stream["lost_seqs"])
    runs = sum(1 for i, seq in enumerate(seqs) if i == 0 or seq != seqs[i - 1] + 1)
    burst = 1 / (runs / (expected - lost) + runs / lost) if lost else 1.0
    return g107_mos(100 * lost / expected, burst, 40 + lookahead_ms, ie, bpl)


# --- captures made here -----------------------------------------------------------------------


def _in_dialog(message: bytes, branch: str) -> bytes:
    """A request or response of the dialog: the callee's To tag, a transaction of its own."""
    return (message.replace(b"To: Bob <sip:bob@example.com>\r\n",
                            b"To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n")
            .replace(b"z9hG4bK776asdhds", branch.encode()))


def _sdp(ip: str, port: int, codec: str, payload_type: int, direction: str = "sendrecv") -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {payload_type}\r\n"
            f"a=rtpmap:{payload_type} {codec}/8000\r\na={direction}\r\n")


def _rtp(seq: int, ssrc: int, payload_type: int) -> bytes:
    sound = bytes((0x10 + i * 37) % 0x70 for i in range(160))  # no µ-law byte near zero
    return struct.pack("!BBHII", 0x80, payload_type, seq, 160 * seq, ssrc) + sound


HELD_SSRCS = (0x00001111, 0x00002222)
EARLY_SSRC = 0x00003333


def media_call(kind: str, call_id: str, codec: str = "PCMU", payload_type: int = 0,
               count: int = 150) -> bytes:
    """alice (192.0.2.10, RTP 4000) calls bob (198.51.100.20, RTP 5000), and:

    - ``held``: answered at 0.5 s; ``count`` packets of 20 ms each way from 0.6 s (alice's SSRC
      0x1111, bob's 0x2222, nothing lost); at 3.7 s alice puts bob on hold (re-INVITE
      a=sendonly, answered a=recvonly) and both stop sending; BYE at 6 s: the call ends on hold;
    - ``early``: 183 with SDP at 0.2 s, then ``count`` packets from bob (SSRC 0x3333), then 486:
      media before an answer that never came.
    """
    def at(seconds: float) -> int:
        return T0 + round(seconds * 1e9)

    def sent(seconds: float, src: str, dst: str, data: bytes, ports: tuple[int, int] = (5060,
             5060)) -> tuple[int, bytes]:
        return at(seconds), packets.udp4_frame(src, dst, data, *ports)

    offer = _sdp(ALICE, 4000, codec, payload_type)
    answer = _sdp(BOB, 5000, codec, payload_type)
    frames = [sent(0, ALICE, BOB, packets.sip_request(call_id=call_id, body=offer))]
    if kind == "early":
        frames.append(sent(0.2, BOB, ALICE, packets.sip_response(
            183, "Session Progress", call_id=call_id, body=answer)))
        frames += [sent(0.3 + n * 0.02, BOB, ALICE, _rtp(n, EARLY_SSRC, payload_type),
                        (5000, 4000)) for n in range(count)]
        end = 0.4 + count * 0.02
        frames.append(sent(end, BOB, ALICE, packets.sip_response(486, "Busy Here",
                                                                 call_id=call_id)))
        frames.append(sent(end + 0.01, ALICE, BOB, _in_dialog(
            packets.sip_request("ACK", call_id=call_id), "z9hG4bK776asdhds")))
        return packets.pcap(frames)
    assert kind == "held"
    frames.append(sent(0.5, BOB, ALICE, packets.sip_response(call_id=call_id, body=answer)))
    frames.append(sent(0.51, ALICE, BOB, _in_dialog(packets.sip_request("ACK", call_id=call_id),
                                                    "z9hG4bKack1")))
    for n in range(count):
        frames.append(sent(0.6 + n * 0.02, ALICE, BOB, _rtp(n, HELD_SSRCS[0], payload_type),
                           (4000, 5000)))
        frames.append(sent(0.605 + n * 0.02, BOB, ALICE, _rtp(n, HELD_SSRCS[1], payload_type),
                           (5000, 4000)))
    hold = 0.7 + count * 0.02
    frames += [
        sent(hold, ALICE, BOB, _in_dialog(packets.sip_request(
            call_id=call_id, cseq=2, body=_sdp(ALICE, 4000, codec, payload_type, "sendonly")),
            "z9hG4bKhold2")),
        sent(hold + 0.01, BOB, ALICE, _in_dialog(packets.sip_response(
            call_id=call_id, cseq=2, body=_sdp(BOB, 5000, codec, payload_type, "recvonly")),
            "z9hG4bKhold2")),
        sent(hold + 0.02, ALICE, BOB, _in_dialog(packets.sip_request(
            "ACK", call_id=call_id, cseq=2), "z9hG4bKhold2")),
        sent(hold + 2.3, ALICE, BOB, _in_dialog(packets.sip_request(
            "BYE", call_id=call_id, cseq=3), "z9hG4bKbye3")),
        sent(hold + 2.31, BOB, ALICE, _in_dialog(packets.sip_response(
            call_id=call_id, cseq=3, method="BYE"), "z9hG4bKbye3")),
    ]
    return packets.pcap(frames)


def held_truth(count: int = 150) -> list[dict[str, Any]]:
    """The streams of ``media_call("held", ...)``, as truth.json would give them."""
    return [{"src": f"{src}:{sport}", "dst": f"{dst}:{dport}", "ssrc": f"0x{ssrc:08X}",
             "sender": sender, "codec": "PCMU", "clock_rate": 8000, "packets": count,
             "expected": count, "lost": 0, "lost_seqs": [], "max_jitter_ms": 0.0,
             "max_delta_ms": 20.0}
            for src, sport, dst, dport, ssrc, sender in (
                (ALICE, 4000, BOB, 5000, HELD_SSRCS[0], "caller"),
                (BOB, 5000, ALICE, 4000, HELD_SSRCS[1], "callee"))]


# --- reading the report -----------------------------------------------------------------------


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(), environ={})
    return main([*argv, "--no-color"], env), out.getvalue()


@cache
def report(*argv: str) -> tuple[int, str]:
    """``run`` once per argument list for the whole module (the samples do not change)."""
    return run(list(argv))


def listing(name: str, language: str = "en") -> str:
    """The report of a crafted capture, every call listed."""
    code, out = report(str(MEDIA / name), "--lang", language, "--fail-on", "never")
    assert code == ExitStatus.OK
    return out


def chosen(name: str, language: str = "en") -> str:
    """The report of the first call of a crafted capture, chosen with --call."""
    call_id = TRUTH[name]["calls"][0]["call_id"]
    code, out = report(str(MEDIA / name), "--call", call_id, "--lang", language,
                       "--fail-on", "never")
    assert code == ExitStatus.OK
    return out


def cells(line: str, bar: str) -> list[str]:
    return [cell.strip() for cell in line.split(bar)[1:-1]]


def table_after(out: str, title: str) -> tuple[list[str], list[list[str]]]:
    """The headings and rows of the table printed under the line that starts with title."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    headings: list[str] = []
    rows: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("┃"):
            headings = cells(line, "┃")
        elif line.startswith("│"):
            rows.append(cells(line, "│"))
        elif line.startswith("└"):
            break
    return headings, rows


def media_column(out: str, language: str = "en") -> dict[str, str]:
    """Call-ID -> the Media cell of the calls table (the table with both headings)."""
    lines = out.splitlines()
    column = WORDS[language]["column"]
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("┃") and {column, "Call-ID"} <= set(cells(line, "┃")))
    headings, rows = table_after(out, lines[start - 2])
    media, call_id = headings.index(column), headings.index("Call-ID")
    return {row[call_id]: row[media] for row in rows}


def state_words(call: dict[str, Any], language: str = "en") -> str:
    """The Media cell a call of truth.json must get: a side whose audio is not heard (its RTP
    does not arrive, or is silence, comfort noise or a codec never agreed on) is silent."""
    words = WORDS[language]
    silent = [side for side, heard in call["audio_heard"].items() if heard is False]
    if call["media_state"] in ("two_way", "one_way") and len(silent) == 1:
        return words["one_way"].format(side=words[silent[0]])
    return words[call["media_state"]]


def side_of(stream: dict[str, Any]) -> str:
    """Whose audio: the sender, or for a relay's copy the side whose tone it relays."""
    if stream["sender"] in ("caller", "callee"):
        return str(stream["sender"])
    relayed = re.search(r"\((alice|bob)'s, relayed\)", str(stream["content"]))
    assert relayed, stream["content"]
    return {"alice": "caller", "bob": "callee"}[relayed.group(1)]


def stream_row(stream: dict[str, Any], hop: int = 1) -> list[str]:
    """The media table's row of a stream of 20 ms packets without jitter, from its truth."""
    sender = side_of(stream)
    receiver = "callee" if sender == "caller" else "caller"
    percent = 100 * stream["lost"] / stream["expected"]
    jitter = stream["max_jitter_ms"]
    if "dtmf" in stream:
        # RFC 4733 events keep the timestamp of the event's start: the jitter is the voice's
        # (truth: jitter_ms_without_events; the crafted voice packets are never late, so its
        # largest value is its last one, 0)
        jitter = stream["jitter_ms_without_events"]
        assert jitter == 0
    return [f"{sender} → {receiver}", str(hop), stream["src"], stream["dst"],
            f"0x{int(stream['ssrc'], 16):08X}", f"{stream['codec']}/{stream['clock_rate']}",
            str(stream["packets"]), f"{stream['lost']} ({percent:.1f}%)",
            f"0.0 / {jitter:.1f}", f"{stream['max_delta_ms']:.1f}",
            f"{expected_mos(stream):.2f}"]


def crafted(name: str, index: int = 0) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    call = TRUTH[name]["calls"][index]
    streams = [s for s in TRUTH[name]["rtp_streams"] if s["call_id"] == call["call_id"]]
    return str(MEDIA / name), call, streams


# --- the Media column ---------------------------------------------------------------------------


EVERY_STATE = [  # (file, call): both, one-way each side, none, not captured, held and resumed
    ("two-way-g711.pcap", 0),
    ("one-way-callee-silent.pcap", 0),
    ("one-way-nat-private-sdp.pcap", 0),
    ("no-media.pcap", 0),
    ("no-media.pcap", 1),
    ("sip-only-not-captured.pcap", 0),
]


@pytest.mark.parametrize(("name", "index"), [
    *EVERY_STATE,
    ("loss-burst.pcap", 0),
    ("rtp-wrong-port.pcap", 0),
    ("silence-only.pcap", 0),
    ("comfort-noise-only.pcap", 0),
    ("not-rtp-udp.pcap", 0),
    ("hold-inactive.pcap", 0),  # held, then resumed: both ways at the end
])
def test_the_media_column_says_how_the_audio_went(name: str, index: int) -> None:
    call = TRUTH[name]["calls"][index]
    assert media_column(listing(name))[call["call_id"]] == state_words(call)


@pytest.mark.parametrize("language", ["ko", "ja"])
@pytest.mark.parametrize(("name", "index"), EVERY_STATE)
def test_the_media_column_in_korean_and_japanese(name: str, index: int, language: str) -> None:
    call = TRUTH[name]["calls"][index]
    assert media_column(listing(name, language), language)[call["call_id"]] == state_words(
        call, language)


@pytest.mark.parametrize("language", ["en", "ko", "ja"])
def test_a_call_ending_on_hold_and_one_with_early_media_only(
    write_capture: Any, language: str
) -> None:
    for kind, state in (("held", "on_hold"), ("early", "early_only")):
        call_id = f"{kind}@example.com"
        capture = write_capture(media_call(kind, call_id), f"{kind}.pcap")
        _, out = run([str(capture), "--lang", language])
        assert media_column(out, language) == {call_id: WORDS[language][state]}


def test_a_call_without_a_media_session_has_a_dash() -> None:
    """busy.pcap: the INVITE's offer was never answered and no RTP was captured."""
    _, out = report(str(SAMPLES / "calls" / "busy.pcap"))
    assert media_column(out) == {"busy-1@127.0.0.1": "-"}


# --- the media table of a chosen call ---------------------------------------------------------


def media_table(out: str, call_id: str, state: str) -> list[list[str]]:
    headings, rows = table_after(out, f"Media of {call_id} (frame 1): {state}")
    assert headings == STREAM_HEADINGS
    return rows


@pytest.mark.parametrize("name", ["loss-burst.pcap", "loss-random.pcap", "ipv6-rtp.pcap",
                                  "dtmf-rfc4733.pcap", "one-way-callee-silent.pcap"])
def test_the_media_table_has_a_row_per_stream_with_its_figures(name: str) -> None:
    _, call, streams = crafted(name)
    assert media_table(chosen(name), call["call_id"], state_words(call)) == [
        stream_row(s) for s in streams]


def test_each_hop_of_a_relayed_call_has_its_rows() -> None:
    """two-hops-relay: captured at the proxy; alice's side of it is hop 1, bob's hop 2, and the
    relay towards bob lost every 25th packet."""
    _, call, streams = crafted("two-hops-relay.pcap")
    hops = [1 if ALICE in (s["src"].split(":")[0], s["dst"].split(":")[0]) else 2
            for s in streams]
    assert hops == [1, 2, 2, 1]
    assert media_table(chosen("two-hops-relay.pcap"), call["call_id"], "both") == [
        stream_row(s, hop) for s, hop in zip(streams, hops, strict=True)]


def test_the_jitter_column_gives_the_mean_and_the_largest() -> None:
    _, call, streams = crafted("jitter.pcap")
    rows = media_table(chosen("jitter.pcap"), call["call_id"], "both")
    assert [row[:8] for row in rows] == [stream_row(s)[:8] for s in streams]
    for row, stream in zip(rows, streams, strict=True):
        mean, largest = (float(x) for x in row[8].split(" / "))
        assert largest == round(stream["max_jitter_ms"], 1)
        assert 0 < mean < largest if stream["max_jitter_ms"] else mean == 0
        assert row[9] == f"{stream['max_delta_ms']:.1f}"


def test_a_constructed_call_on_hold_has_its_table(write_capture: Any) -> None:
    capture = write_capture(media_call("held", "held@example.com"))
    _, out = run([str(capture), "--call", "held@example.com"])
    assert media_table(out, "held@example.com", "hold") == [stream_row(s) for s in held_truth()]


def test_dtmf_digits_are_listed_by_side() -> None:
    _, _, streams = crafted("dtmf-rfc4733.pcap")
    by_side: dict[str, list[str]] = {}
    for stream in streams:
        by_side.setdefault(stream["sender"], []).extend(
            d["digit"] for d in stream.get("dtmf", []))
    assert by_side == {"caller": ["1", "2", "#"], "callee": []}
    assert dtmf_lines(chosen("dtmf-rfc4733.pcap")) == ["DTMF caller: 1 2 #"]
    assert dtmf_lines(chosen("loss-burst.pcap")) == []


def dtmf_lines(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines() if line.startswith(" DTMF ")]


def test_without_call_there_is_no_media_table_and_no_ladder() -> None:
    out = listing("loss-burst.pcap")
    assert "Media of" not in out and "RTP PCMU" not in out and "Ladder of" not in out
    sip_only = chosen("sip-only-not-captured.pcap")
    assert "Ladder of" in sip_only and "Media of" not in sip_only  # no stream: no table


# --- the ladder -----------------------------------------------------------------------------------


LADDER_ROW = re.compile(r"\s*(\d+)\s+(?:\d\d:\d\d:\d\d\.\d{3}\s+)?\+\d+\.\d+\s+(.*)$")
"""A row of a ladder: frame, time of day (when the lanes leave room for it), seconds from the
first frame, the arrow."""


def ladder_rows(out: str) -> dict[int, tuple[str, str]]:
    """Frame -> (label, direction: ``>`` left to right, ``<`` right to left) of the rows of the
    ladder."""
    lines = out.splitlines()
    rows = {}
    for line in lines[_ladder_start(lines):]:
        found = LADDER_ROW.match(line)
        if not found:
            break
        arrow = found.group(2).strip()
        label = re.sub(r"[│─═┄▶◀\s]+", " ", arrow).strip()
        direction = ">" if "▶" in arrow else "<" if "◀" in arrow else "?"
        rows[int(found.group(1))] = (label, direction)
    return rows


def _ladder_start(lines: list[str]) -> int:
    """The first row of the (only) ladder: a frame, a time and a lifeline."""
    return next(i for i, line in enumerate(lines)
                if LADDER_ROW.match(line) and "│" in line)


def lifelines(out: str) -> list[str]:
    """The addresses at the top of the ladder's lifelines, left to right."""
    lines = out.splitlines()
    return lines[_ladder_start(lines) - 1].split()


@pytest.mark.parametrize("name", ["loss-burst.pcap", "dtmf-rfc4733.pcap",
                                  "one-way-callee-silent.pcap", "two-hops-relay.pcap"])
def test_the_ladder_has_a_band_where_each_stream_starts_and_ends(name: str) -> None:
    _, call, streams = crafted(name)
    out = chosen(name)
    rows = ladder_rows(out)
    order = lifelines(out)
    for stream in streams:
        direction = ">" if order.index(stream["src"]) < order.index(stream["dst"]) else "<"
        ssrc = f"0x{int(stream['ssrc'], 16):08X}"
        assert rows[stream["first_frame"]] == (
            f"RTP {stream['codec']}, {stream['packets']} packets", direction)
        assert rows[stream["last_frame"]] == (f"RTP ends ({ssrc})", direction)
        for digit in stream.get("dtmf", []):
            assert rows[digit["start_frame"]] == (f"DTMF {digit['digit']}", direction)
    media_rows = [frame for frame, (label, _) in rows.items()
                  if label.startswith(("RTP", "DTMF"))]
    digits = sum(len(s.get("dtmf", [])) for s in streams)
    assert len(media_rows) == 2 * len(streams) + digits
    # the SIP messages are still there, in frame order
    assert rows[call["answer_frame"]][0] == "200 OK"
    assert rows[call["bye_frame"]][0] == "BYE"
    assert list(rows) == sorted(rows)


@pytest.mark.parametrize(("language", "band", "end"), [
    ("ko", "RTP PCMU, 패킷 {packets}개", "RTP 끝 ({ssrc})"),
    ("ja", "RTP PCMU、{packets}パケット", "RTP終了（{ssrc}）"),
])
def test_the_media_in_korean_and_japanese(language: str, band: str, end: str) -> None:
    _, call, streams = crafted("dtmf-rfc4733.pcap")
    out = chosen("dtmf-rfc4733.pcap", language)
    words = WORDS[language]
    title = {"ko": f"{call['call_id']}의 미디어 (프레임 1): {words['two_way']}",
             "ja": f"{call['call_id']}のメディア（フレーム1）：{words['two_way']}"}[language]
    headings, rows = table_after(out, title)
    assert headings == {"ko": ["방향", "구간", "출발지", "목적지", "SSRC", "코덱", "패킷", "손실",
                               "지터 ms", "최대 간격 ms", "MOS"],
                        "ja": ["方向", "区間", "送信元", "宛先", "SSRC", "コーデック", "パケット",
                               "損失", "ジッタms", "最大間隔ms", "MOS"]}[language]
    assert [row[0] for row in rows] == [
        f"{words[s['sender']]} → {words['callee' if s['sender'] == 'caller' else 'caller']}"
        for s in streams]
    lost = {"ko": "0 (0.0%)", "ja": "0（0.0%）"}[language]
    assert [row[2:8] for row in rows] == [
        [s["src"], s["dst"], f"0x{int(s['ssrc'], 16):08X}", "PCMU/8000", str(s["packets"]), lost]
        for s in streams]
    separator = {"ko": ": ", "ja": "："}[language]
    assert dtmf_lines(out) == [f"DTMF {words['caller']}{separator}1 2 #"]
    ladder = {frame: label for frame, (label, _) in ladder_rows(out).items()}
    for stream in streams:
        ssrc = f"0x{int(stream['ssrc'], 16):08X}"
        assert ladder[stream["first_frame"]] == band.format(packets=stream["packets"])
        assert ladder[stream["last_frame"]] == end.format(ssrc=ssrc)


# --- text from the capture stays text -------------------------------------------------------------


HOSTILE_CODEC = "[b]x[reverse]\x1b[2J"
"""Rich markup (bold, reverse) and a terminal escape (clear screen) as a codec's name."""


def test_capture_text_in_the_media_is_shown_as_text(write_capture: Any) -> None:
    capture = write_capture(media_call("held", hostile.CALL_ID, codec=HOSTILE_CODEC,
                                       payload_type=96, count=50))
    code, out = run([str(capture), "--call", hostile.CALL_ID])
    assert code == ExitStatus.OK
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out)  # no control character acted on
    shown_codec = "[b]x[reverse]\\x1b[2J"
    shown_call_id = hostile.CALL_ID.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    headings, rows = table_after(out, f"Media of {shown_call_id} (frame 1): hold")
    assert headings == STREAM_HEADINGS
    assert [row[5] for row in rows] == [f"{shown_codec}/8000"] * 2
    assert [row[6] for row in rows] == ["50", "50"]
    bands = [label for label, _ in ladder_rows(out).values() if label.startswith("RTP [")]
    assert bands == [f"RTP {shown_codec}, 50 packets"] * 2
