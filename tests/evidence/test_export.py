"""``sipdiag export``: the frames of chosen calls, copied as captured (sipdiag/evidence/export.py).

Two oracles. sipdiag's own analysis of the exported capture must read each exported call as
the analysis of the whole capture read it (outcome, final status, messages, duration, findings,
media streams), whatever else the capture held. And tshark, which knows nothing of sipdiag,
must find in the export exactly the SIP messages of the chosen Call-IDs and the RTP packets
that Wireshark itself tied to those calls' SDP (``rtp.setup-frame``), no more, no fewer.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from sipdiag.analysis import MessageReader, analyze
from sipdiag.analysis.decryption import decrypt
from sipdiag.analysis.model import CallResult, Result
from sipdiag.capture import FrameHandler, open_captures
from sipdiag.capture.tls import embedded_keylog
from sipdiag.cli import Environment, main
from sipdiag.dialogs.select import Selection
from sipdiag.evidence.export import Group, choose, plan, write_one
from sipdiag.problems import ProblemLog
from sipdiag.rules import load_engine
from sipdiag.rules.model import Scope
from tests.conftest import SAMPLES, needs_public, public_captures, sample_captures
from tests.packets import pcap, sip_request, sip_response, udp4_frame

ENGINE = load_engine()
MAX_PER_CAPTURE = 4
"""Calls or exchanges of each capture exported one by one (the first ones)."""


def shape(result: Result) -> tuple[object, ...]:
    """What must not change when a call is read from its export instead of the whole capture.

    Frame numbers do (the export numbers its own frames), and so may the findings of the
    rules about the whole capture (a storm of retries across calls is not in one call) and
    those they may supersede (one guess of a password guesser, exported alone, is no longer
    part of the guessing)."""
    findings = sorted(f.rule.id for f in result.findings if f.rule.scope is not Scope.CAPTURE
                      and f.rule.id not in ENGINE.superseded_by_capture)
    media = None
    if isinstance(result, CallResult) and result.media is not None:
        media = sorted((s.stream.src, s.stream.dst, s.stream.ssrc, s.stream.packets,
                        s.stream.lost, s.tie) for s in result.media.streams)
    return (result.call_id, result.outcome, result.final_status, result.message_count,
            result.start_ns, result.end_ns, findings, media)


def exported(capture: Path, call_id: str, out: Path, keylog: Path | None = None) -> Path:
    decryption = decrypt(capture, keylog)
    _, groups = choose(capture, ENGINE, Selection(call_ids=(call_id,)), jobs=1,
                       decryption=decryption)
    write_one(capture, plan(capture, groups, decryption=decryption), out)
    return out


def check_each_call_reads_alike(capture: Path, tmp_path: Path,
                                keylog: Path | None = None) -> int:
    """How many calls and exchanges were compared. An export over TLS is read with the
    secrets it carries, without the key log."""
    whole = analyze(capture, engine=ENGINE, jobs=1, decryption=decrypt(capture, keylog))
    results = [*whole.calls, *whole.exchanges]
    for result in results[:MAX_PER_CAPTURE]:
        out = exported(capture, result.call_id, tmp_path / "call.pcapng", keylog)
        again = analyze(out, engine=ENGINE, jobs=1, decryption=decrypt(out, None))
        mine = [shape(r) for r in [*again.calls, *again.exchanges]
                if r.call_id == result.call_id]
        assert mine == [shape(r) for r in results if r.call_id == result.call_id], \
            result.call_id
    return len(results)


ENDS_LATER = "the capture went on after the call (a registration ran out, a transaction " \
    "timed out): the export ends at its last frame and cannot say so yet"
_LATER: set[str] = set()


def _sample(path: Path) -> object:
    name = str(path.relative_to(SAMPLES))
    marks = [pytest.mark.xfail(strict=True, reason=ENDS_LATER)] if name in _LATER else []
    return pytest.param(path, id=name, marks=marks)


@pytest.mark.parametrize("capture", [_sample(p) for p in sample_captures()
                                     if "tls" not in p.parts])
def test_each_exported_call_reads_as_in_the_whole_sample(capture: Path,
                                                         tmp_path: Path) -> None:
    check_each_call_reads_alike(capture, tmp_path)


TLS = SAMPLES / "tls"


@pytest.mark.parametrize(("capture", "keylog"), [
    (TLS / "tls12-calls.pcap", TLS / "tls12-calls.keylog"),
    (TLS / "tls13-call.pcap", TLS / "tls13-call.keylog"),
    (TLS / "wss-call.pcap", TLS / "wss-call.keylog"),
    (TLS / "tls13-call-secrets.pcapng", None)], ids=lambda p: p and p.name)
def test_each_call_over_tls_reads_alike_from_its_export_with_the_same_keys(
        capture: Path, keylog: Path | None, tmp_path: Path) -> None:
    """Decrypted by tshark from the export alone: it holds the connection's handshake, every
    record before the call's last message, and the session's secrets."""
    assert check_each_call_reads_alike(capture, tmp_path, keylog) >= 1


def test_an_export_carries_the_secrets_of_its_own_sessions_only(tmp_path: Path) -> None:
    """tls12-calls.pcap: two TLS 1.2 connections, each with its CLIENT_RANDOM line in the key
    log (NSS format: LABEL CLIENT_RANDOM SECRET); a call on the second carries its line."""
    capture, keylog = TLS / "tls12-calls.pcap", TLS / "tls12-calls.keylog"
    messages = list(MessageReader(capture, decryption=decrypt(capture, keylog)))
    last = messages[-1]
    out = exported(capture, last.call_id, tmp_path / "second.pcapng", keylog)
    session_ports = {m.src.port for m in messages if m.call_id == last.call_id} - {5061}
    lines = [line for line in keylog.read_text().splitlines()
             if line.startswith("CLIENT_RANDOM")]
    assert len(lines) == 2 and len(session_ports) == 1
    hellos = subprocess.run(
        ["tshark", "-r", str(capture), "-Y", "tls.handshake.type == 1", "-T", "fields",
         "-e", "tcp.srcport", "-e", "tls.handshake.random"],
        capture_output=True, text=True, check=True).stdout.split()
    random_of = dict(zip(hellos[::2], hellos[1::2], strict=True))
    (port,) = session_ports
    assert embedded_keylog(out).splitlines() == [
        line for line in lines if line.split()[1] == random_of[str(port)]]
    assert {m.call_id for m in MessageReader(out, decryption=decrypt(out, None))} == {
        last.call_id}


_PUBLIC_LATER: set[str] = set()


@needs_public
@pytest.mark.parametrize("capture", [
    pytest.param(c.path, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=ENDS_LATER)]
                 if c.name in _PUBLIC_LATER else []) for c in public_captures()
    if c.path.stat().st_size < 5_000_000])
def test_each_exported_call_reads_as_in_the_whole_public_capture(capture: Path,
                                                                 tmp_path: Path) -> None:
    check_each_call_reads_alike(capture, tmp_path)


# tshark, the independent oracle

def tshark_rows(path: Path) -> list[dict[str, str]]:
    fields = ["frame.number", "frame.time_epoch", "sip.Call-ID", "sip.CSeq",
              "rtp.setup-frame", "rtp.ssrc", "rtp.seq"]
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-E", "separator=\t",
         *(arg for field in fields for arg in ("-e", field))],
        capture_output=True, text=True, check=True).stdout
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in out.splitlines()]


def sip_and_rtp(rows: list[dict[str, str]], call_ids: set[str]) -> tuple[Counter[tuple[str, ...]],
                                                                          Counter[tuple[str, ...]]]:
    """The SIP messages of these calls (time, Call-ID, CSeq), and the RTP packets Wireshark
    set up from their SDP (time, SSRC, sequence number)."""
    sip_frames = {r["frame.number"] for r in rows if r["sip.Call-ID"] in call_ids}
    sip = Counter((r["frame.time_epoch"], r["sip.Call-ID"], r["sip.CSeq"]) for r in rows
                  if r["frame.number"] in sip_frames)
    rtp = Counter((r["frame.time_epoch"], r["rtp.ssrc"], r["rtp.seq"]) for r in rows
                  if r["rtp.setup-frame"] in sip_frames)
    return sip, rtp


TSHARK_CASES = [SAMPLES / "media" / name for name in (
    "port-reuse.pcap", "two-way-g711.pcap", "rtcp-mux.pcap", "reinvite-moves-media.pcap")]


@pytest.mark.parametrize("capture", TSHARK_CASES, ids=lambda p: p.name)
def test_tshark_finds_exactly_the_calls_sip_and_rtp_in_the_export(capture: Path,
                                                                  tmp_path: Path) -> None:
    whole = tshark_rows(capture)
    call_ids = {r["sip.Call-ID"] for r in whole if r["sip.Call-ID"]}
    assert call_ids
    for call_id in sorted(call_ids):
        rows = tshark_rows(exported(capture, call_id, tmp_path / "call.pcapng"))
        sip, rtp = sip_and_rtp(rows, {call_id})
        want_sip, want_rtp = sip_and_rtp(whole, {call_id})
        assert sip == want_sip
        assert rtp == want_rtp and rtp
        assert {r["sip.Call-ID"] for r in rows if r["sip.Call-ID"]} == {call_id}


def test_two_calls_on_the_same_ports_are_exported_apart(tmp_path: Path) -> None:
    """port-reuse.pcap: the second call reuses the first's media ports; each export holds its
    own call's RTP only (Wireshark's setup frames tell whose)."""
    capture = SAMPLES / "media" / "port-reuse.pcap"
    whole = tshark_rows(capture)
    first, second = sorted({r["sip.Call-ID"] for r in whole if r["sip.Call-ID"]},
                           key=lambda c: min(float(r["frame.time_epoch"]) for r in whole
                                             if r["sip.Call-ID"] == c))
    ssrcs = {call_id: {r["rtp.ssrc"] for r in tshark_rows(exported(capture, call_id,
                                                                     tmp_path / f"{n}.pcapng"))
                       if r["rtp.ssrc"]} for n, call_id in enumerate((first, second))}
    assert ssrcs[first] and ssrcs[second] and not ssrcs[first] & ssrcs[second]


# What is copied, and how

class _Frames:
    """A frame sink that keeps every frame as (link type, time, bytes, original length)."""

    def __init__(self) -> None:
        self.found: list[tuple[int, int, bytes, int]] = []

    def link_handler(self, linktype: int) -> FrameHandler:
        def handle(_: int, ts: int, buf: bytes, start: int, end: int, orig_len: int) -> None:
            self.found.append((linktype, ts, buf[start:end], orig_len))
        return handle


def frames_of(path: Path | list[Path]) -> list[tuple[int, int, bytes, int]]:
    sink = _Frames()
    with closing(open_captures([path] if isinstance(path, Path) else path)) as reader:
        for _ in reader.frames(sink, ProblemLog()):
            pass
    return sink.found


def test_frames_keep_their_link_type_time_and_bytes_when_captures_are_merged(
        tmp_path: Path) -> None:
    """Three link types in one pcapng, and a pcap of another: every frame of every call comes
    out as it went in, in the merged order, each interface with its own link type."""
    captures = [SAMPLES / "transport" / "two-interfaces.pcapng",
                SAMPLES / "transport" / "linux-cooked-v2.pcap"]
    out = tmp_path / "all.pcapng"
    code = main(["export", *map(str, captures), "-o", str(out), "-q"], quiet_env())
    assert code == 0
    wanted = set(frames_of(captures))
    copied = frames_of(out)
    assert set(copied) <= wanted
    assert {linktype for linktype, *_ in copied} == {1, 101, 113, 276}
    assert [ts for _, ts, _, _ in copied] == sorted(ts for _, ts, _, _ in copied)
    assert sorted(m.call_id for m in MessageReader(out)) == sorted(
        m.call_id for m in MessageReader(captures))


def test_a_tcp_connection_is_exported_with_its_handshake(tmp_path: Path) -> None:
    """tcp-out-of-order.pcap: the INVITE's second segment came before its first; a reader
    knows where the stream starts only from the SYN, which the export copies."""
    capture = SAMPLES / "transport" / "tcp-out-of-order.pcap"
    call_id = next(iter(MessageReader(capture))).call_id
    out = exported(capture, call_id, tmp_path / "tcp.pcapng")
    syns = [f for f in frames_of(out) if _tcp_flags(f[2]) & 0x02]
    assert len(syns) == 2  # SYN and SYN-ACK (RFC 9293 3.5)
    assert [(m.method or m.status, m.raw) for m in MessageReader(out)] == [
        (m.method or m.status, m.raw) for m in MessageReader(capture)]


def _tcp_flags(frame: bytes) -> int:
    """The TCP flags of an Ethernet/IPv4/TCP frame."""
    header = (frame[14] & 0x0F) * 4
    return frame[14 + header + 13] if frame[14 + 9] == 6 else 0


def test_split_writes_one_capture_per_call_named_by_time_and_call_id(tmp_path: Path) -> None:
    captures = [SAMPLES / "calls" / "busy.pcap", SAMPLES / "calls" / "bye-481.pcap",
                SAMPLES / "calls" / "basic-call.pcap"]
    folder = tmp_path / "calls"
    assert main(["export", *map(str, captures), "--split", str(folder), "-q"],
                quiet_env()) == 0
    files = sorted(folder.iterdir())
    starts = {}
    for capture in captures:
        first = next(iter(MessageReader(capture)))
        starts[first.call_id] = first.ts_ns
    assert len(files) == len(starts)
    for path in files:
        call_ids = {m.call_id for m in MessageReader(path)}
        assert len(call_ids) == 1
        call_id = call_ids.pop()
        assert path.name == Group.file_name_for(starts[call_id], call_id)
    assert [p.name for p in files] == sorted(p.name for p in files)


def test_split_file_names_are_safe_for_any_call_id() -> None:
    name = Group.file_name_for(1_700_000_000_123_456_000, "../../etc/passwd x\x00y@h")
    assert name == "20231114T221320.123456Z_etc_passwd_x_y@h.pcapng"
    assert "/" not in Group.file_name_for(0, "/" * 10)


def test_sip_only_leaves_the_media_out(tmp_path: Path) -> None:
    capture = SAMPLES / "media" / "two-way-g711.pcap"
    out = tmp_path / "sip.pcapng"
    assert main(["export", str(capture), "-o", str(out), "--sip-only", "-q"],
                quiet_env()) == 0
    rows = tshark_rows(out)
    assert rows and all(r["sip.Call-ID"] for r in rows)
    assert len(rows) == len({m.frame for m in MessageReader(capture)})


def test_a_rule_chooses_the_calls_it_found_something_in(tmp_path: Path) -> None:
    """bye-481.pcap's call has a 481 to its BYE (rule D101); busy.pcap's has not."""
    captures = [str(SAMPLES / "calls" / "busy.pcap"), str(SAMPLES / "calls" / "bye-481.pcap")]
    out = tmp_path / "d101.pcapng"
    assert main(["export", *captures, "-o", str(out), "--rule", "D101", "-q"],
                quiet_env()) == 0
    assert {m.call_id for m in MessageReader(out)} == {"bye-481-1@127.0.0.1"}


@pytest.mark.parametrize(("args", "says"), [
    (["--rule", "D1O1"], "no rule 'D1O1'; did you mean D1"),
    (["--call", "nobody"], "no call or exchange matches"),
    (["--drop-audio"], "--drop-audio without --redact"),
    (["--redact", "--key", ""], "the key is empty"),
])
def test_choosing_nothing_is_one_line_and_exit_2(tmp_path: Path, args: list[str],
                                                 says: str) -> None:
    env = quiet_env()
    code = main(["export", str(SAMPLES / "calls" / "busy.pcap"), "-o",
                 str(tmp_path / "x.pcapng"), *args], env)
    assert code == 2
    error = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert error.count("\n") == 1 and says in error


@pytest.mark.parametrize("command", [["export", "-", "-o", "x.pcapng"],
                                     ["-", "--export", "calls"]])
def test_standard_input_is_refused_in_one_line(tmp_path: Path, command: list[str]) -> None:
    env = quiet_env()
    env.stdin = io.BytesIO((SAMPLES / "calls" / "busy.pcap").read_bytes())
    args = [str(tmp_path / a) if a.endswith(("pcapng", "calls")) else a for a in command]
    assert main(args, env) == 2
    error = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert error.count("\n") == 1 and "standard input" in error
    assert env.stdout.getvalue() == ""  # type: ignore[attr-defined]  # refused before the report


def quiet_env() -> Environment:
    return Environment(stdout=io.StringIO(), stderr=io.StringIO(), environ={})


def test_the_report_exports_each_call_it_lists(tmp_path: Path) -> None:
    """``sipdiag CAPTURE --failed --export DIR``: one capture per call the report lists, each
    holding that call's messages (the report's own JSON says which calls)."""
    captures = sorted(map(str, (SAMPLES / "calls").glob("*.pcap")))
    folder = tmp_path / "failed"
    env = quiet_env()
    main([*captures, "--failed", "--format", "json", "--export", str(folder), "-q"], env)
    document = json.loads(env.stdout.getvalue())  # type: ignore[attr-defined]
    listed = {r["call_id"] for r in document["calls"] + document["exchanges"]}
    assert listed
    exported_ids = [{m.call_id for m in MessageReader(path)} for path in folder.iterdir()]
    assert sorted(i for ids in exported_ids for i in ids) == sorted(listed)


def test_a_call_with_its_own_media_brings_no_other_calls_packet(tmp_path: Path) -> None:
    """port-reuse.pcap: two calls between the same hosts. The export of the first holds its
    SIP and the RTP Wireshark set up from its SDP, and nothing else."""
    capture = SAMPLES / "media" / "port-reuse.pcap"
    whole = tshark_rows(capture)
    call_id = min((r["sip.Call-ID"] for r in whole if r["sip.Call-ID"]),
                  key=lambda c: min(float(r["frame.time_epoch"]) for r in whole
                                    if r["sip.Call-ID"] == c))
    rows = tshark_rows(exported(capture, call_id, tmp_path / "first.pcapng"))
    sip, rtp = sip_and_rtp(rows, {call_id})
    assert len(rows) == sum(sip.values()) + sum(rtp.values())


def _sdp(port: int) -> str:
    return ("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\n")


def _rtp(seq: int, ssrc: int) -> bytes:
    return struct.pack(">BBHII", 0x80, 0, seq, seq * 160, ssrc) + bytes(160)


def overlapping_calls(path: Path) -> None:
    """Call A (media on ports 4000/4002, RTP flowing) and, while it flows, call B between the
    same hosts whose INVITE and answer announce ports 5000/5002 and which gets no RTP at all
    (one-way silence); both hang up. Built frame by frame: A's RTP is A's by construction."""
    alice, bob, t = "192.0.2.10", "192.0.2.20", 1_700_000_000_000_000_000
    frames: list[tuple[int, bytes]] = []

    def sip(at_ms: int, src: str, dst: str, data: bytes) -> None:
        frames.append((t + at_ms * 1_000_000, udp4_frame(src, dst, data)))

    def call_setup(at_ms: int, call_id: str, caller_port: int, callee_port: int) -> None:
        sip(at_ms, alice, bob, sip_request("INVITE", call_id, body=_sdp(caller_port)))
        sip(at_ms + 10, bob, alice, sip_response(200, "OK", call_id, body=_sdp(callee_port)))
        sip(at_ms + 20, alice, bob, sip_request("ACK", call_id, 1))

    call_setup(0, "call-a@example.com", 4000, 4002)
    frames.extend((t + (40 + 20 * n) * 1_000_000,  # A's audio, 20 ms apart, for 2 s
                   udp4_frame(alice, bob, _rtp(n, 0xAAAA), 4000, 4002)) for n in range(100))
    call_setup(500, "call-b@example.com", 5000, 5002)
    sip(2100, alice, bob, sip_request("BYE", "call-a@example.com", 2))
    sip(2110, bob, alice, sip_response(200, "OK", "call-a@example.com", 2, "BYE"))
    sip(2200, alice, bob, sip_request("BYE", "call-b@example.com", 2))
    sip(2210, bob, alice, sip_response(200, "OK", "call-b@example.com", 2, "BYE"))
    frames.sort(key=lambda f: f[0])
    path.write_bytes(pcap(frames))


def test_a_call_without_media_of_its_own_takes_no_other_calls_audio(tmp_path: Path) -> None:
    """Call B had no RTP while the capture held UDP to its host (A's audio): its export keeps
    one such datagram, to show that, cut after its payload's first byte (A's RTP payload is
    160 bytes of audio after a 12-byte header); B reads the same from its export."""
    capture = tmp_path / "two.pcap"
    overlapping_calls(capture)
    out = exported(capture, "call-b@example.com", tmp_path / "b.pcapng")
    sip = [m.call_id for m in MessageReader(out)]
    assert sip == ["call-b@example.com"] * 5  # INVITE, 200, ACK, BYE, 200
    udp = [(data, orig_len) for _, _, data, orig_len in frames_of(out)
           if not any(f in data for f in (b"SIP/2.0",))]
    headers = 14 + 20 + 8  # Ethernet, IPv4, UDP
    assert [(len(data) - headers, orig_len - headers) for data, orig_len in udp] == [(1, 172)]
    check_each_call_reads_alike(capture, tmp_path)


# --- with --redact: the export, redacted as sipdiag redact would redact it -----------------------

def test_a_redacted_export_is_the_export_redacted(tmp_path: Path) -> None:
    """``export --redact --key K`` writes byte for byte what ``redact --key K`` writes from the
    plain export: one mechanism; and no user, host or address of the call is left in it."""
    captures = [str(SAMPLES / "calls" / "baresip-call.pcap"), str(SAMPLES / "calls" / "busy.pcap")]
    call_id = next(iter(MessageReader(captures[0]))).call_id
    plain, redacted, again = (tmp_path / n for n in ("plain.pcapng", "r.pcapng", "r2.pcapng"))
    env = quiet_env()
    assert main(["export", *captures, "--call", call_id, "-o", str(plain), "-q"], env) == 0
    assert main(["export", *captures, "--call", call_id, "-o", str(redacted), "--redact",
                 "--key", "k1"], env) == 0
    assert main(["redact", str(plain), "-o", str(again), "--key", "k1", "-q"], env) == 0
    assert redacted.read_bytes() == again.read_bytes()
    assert "sipdiag: redacted: " in env.stderr.getvalue()  # type: ignore[attr-defined]
    rows = tshark_rows(plain)
    identifiers = {r["sip.Call-ID"].partition("@")[2] for r in rows if "@" in r["sip.Call-ID"]}
    identifiers |= {m.src.ip for m in MessageReader(plain)} | {
        m.dst.ip for m in MessageReader(plain)}
    data = redacted.read_bytes()
    assert identifiers and not [i for i in identifiers if i.encode() in data]


def test_split_files_are_each_redacted_with_the_same_key(tmp_path: Path) -> None:
    captures = [str(SAMPLES / "calls" / n) for n in ("busy.pcap", "bye-481.pcap")]
    plain, redacted = tmp_path / "plain", tmp_path / "redacted"
    env = quiet_env()
    assert main(["export", *captures, "--split", str(plain), "-q"], env) == 0
    assert main(["export", *captures, "--split", str(redacted), "--redact", "--key", "k2",
                 "-q"], env) == 0
    plain_files, redacted_files = sorted(plain.iterdir()), sorted(redacted.iterdir())
    assert len(plain_files) == len(redacted_files) == 2
    call_ids = {m.call_id for c in captures for m in MessageReader(c)}
    assert not [p.name for p in redacted_files if any(c in p.name for c in call_ids)]
    for path, done in zip(plain_files, redacted_files, strict=True):  # in time order both
        assert path.name[:23] == done.name[:23]  # the same start
        again = tmp_path / f"again-{path.name}"
        assert main(["redact", str(path), "-o", str(again), "--key", "k2", "-q"], env) == 0
        assert done.read_bytes() == again.read_bytes()


def b2bua_legs(path: Path) -> None:
    """A B2BUA: leg A (alice to the SBC) and leg B (the SBC to bob, naming A in X-CID, as
    Kamailio's and sngrep's convention has it), and an unrelated call C, each answered and
    hung up."""
    t = 1_700_000_000_000_000_000
    frames: list[tuple[int, bytes]] = []
    legs = [("leg-a@example.com", "192.0.2.10", "192.0.2.1", 0, ()),
            ("leg-b@example.com", "192.0.2.1", "192.0.2.20", 5, ("X-CID: leg-a@example.com",)),
            ("other-c@example.com", "192.0.2.30", "192.0.2.1", 7, ())]
    for call_id, src, dst, at, extra in legs:
        frames += [
            (t + at * 10**6, udp4_frame(src, dst, sip_request("INVITE", call_id, extra=extra))),
            (t + (at + 20) * 10**6, udp4_frame(dst, src, sip_response(200, "OK", call_id))),
            (t + (at + 30) * 10**6, udp4_frame(src, dst, sip_request("ACK", call_id))),
            (t + (at + 900) * 10**6, udp4_frame(src, dst, sip_request("BYE", call_id, 2))),
            (t + (at + 910) * 10**6,
             udp4_frame(dst, src, sip_response(200, "OK", call_id, 2, "BYE")))]
    path.write_bytes(pcap(sorted(frames, key=lambda f: f[0])))


def test_the_linked_leg_comes_with_the_call_chosen(tmp_path: Path) -> None:
    capture = tmp_path / "b2bua.pcap"
    b2bua_legs(capture)
    for chosen in ("leg-a@example.com", "leg-b@example.com"):
        out = exported(capture, chosen, tmp_path / "legs.pcapng")
        assert {m.call_id for m in MessageReader(out)} == {"leg-a@example.com",
                                                         "leg-b@example.com"}
    folder = tmp_path / "split"
    assert main(["export", str(capture), "--split", str(folder), "-q"], quiet_env()) == 0
    files = {path.name.partition("_")[2]: {m.call_id for m in MessageReader(path)}
             for path in folder.iterdir()}
    assert files == {"leg-a@example.com.pcapng": {"leg-a@example.com", "leg-b@example.com"},
                     "other-c@example.com.pcapng": {"other-c@example.com"}}


@pytest.mark.parametrize("jobs", [1, 2])
def test_export_chooses_the_calls_the_report_lists(jobs: int) -> None:
    """One analysis of every call, the chosen ones marked (``analyze(marks=...)``), in one
    process or two: the calls chosen are those the report with the same options lists."""
    captures = sorted(map(str, (SAMPLES / "calls").glob("*.pcap")))
    for options, selection in ((["--failed"], Selection(failing_only=True)),
                               (["--rule", "D101"], Selection(rules=("D101",))),
                               (["--user", "bob"], Selection(users=("bob",)))):
        env = quiet_env()
        main([*captures, *options, "--format", "json", "-q", "--fail-on", "never"], env)
        document = json.loads(env.stdout.getvalue())  # type: ignore[attr-defined]
        listed = sorted(r["call_id"] for r in document["calls"] + document["exchanges"])
        _, groups = choose(captures, ENGINE, selection, jobs=jobs)
        assert listed and sorted(r.call_id for g in groups for r in g.results) == listed


def _rtcp_receiver_report(ssrc: int) -> bytes:
    """An RTCP RR with no report block (RFC 3550 6.4.2): version 2, PT 201, length 1."""
    return struct.pack(">BBHI", 0x80, 201, 1, ssrc)


def ports_reused(path: Path) -> None:
    """Call A on media ports 4000/4002 hangs up; half a second later call B announces the same
    ports, and its phone sends RTP with the same fixed SSRC as A's (some devices do) and RTCP
    from it and from B's callee. Both fall inside A's media grace after its BYE; they are B's,
    as the media layer ties them (a call's own streams: path, SSRC, first to last frame)."""
    alice, bob, t = "192.0.2.10", "192.0.2.20", 1_700_000_000_000_000_000
    frames: list[tuple[int, bytes]] = []

    def at(ms: int, data: bytes) -> None:
        frames.append((t + ms * 1_000_000, data))

    def call(start: int, call_id: str, end: int) -> None:
        at(start, udp4_frame(alice, bob, sip_request("INVITE", call_id, body=_sdp(4000))))
        at(start + 10, udp4_frame(bob, alice, sip_response(200, "OK", call_id,
                                                           body=_sdp(4002))))
        at(start + 20, udp4_frame(alice, bob, sip_request("ACK", call_id, 1)))
        for n in range((end - start - 60) // 20):  # the caller's audio, SSRC fixed
            at(start + 40 + 20 * n, udp4_frame(alice, bob, _rtp(n, 0xAAAA), 4000, 4002))
        at(end, udp4_frame(alice, bob, sip_request("BYE", call_id, 2)))
        at(end + 10, udp4_frame(bob, alice, sip_response(200, "OK", call_id, 2, "BYE")))

    call(0, "first@example.com", 1000)
    call(1500, "second@example.com", 3000)
    at(1700, udp4_frame(alice, bob, _rtcp_receiver_report(0xAAAA), 4001, 4003))
    at(1710, udp4_frame(bob, alice, _rtcp_receiver_report(0xBBBB), 4003, 4001))
    path.write_bytes(pcap(sorted(frames, key=lambda f: f[0])))


def test_a_reused_path_and_ssrc_stay_with_the_call_that_sent_them(tmp_path: Path) -> None:
    capture = tmp_path / "reused.pcap"
    ports_reused(capture)
    first = exported(capture, "first@example.com", tmp_path / "first.pcapng")
    media = [(ts, data) for _, ts, data, _ in frames_of(first) if b"SIP/2.0" not in data]
    assert media and max(ts for ts, _ in media) < 1_700_000_001_000_000_000  # before A's BYE
    check_each_call_reads_alike(capture, tmp_path)


def test_a_redacted_export_of_a_call_over_tls_carries_no_secrets(tmp_path: Path) -> None:
    """The redactor leaves TLS out (it cannot read it): the file carries no key for it, and
    says how many frames it holds, not how many were handed to the redactor."""
    out = tmp_path / "tls.pcapng"
    env = quiet_env()
    capture, keys = TLS / "tls12-calls.pcap", TLS / "tls12-calls.keylog"
    call_id = "tls12-calls-full@sip.example.test"
    assert main(["export", str(capture), "--tls-keylog", str(keys), "--call", call_id, "-o",
                 str(out), "--redact", "--key", "k"], env) == 0
    assert embedded_keylog(out) == ""
    written = len(frames_of(out))
    assert f"wrote {written} frames" in env.stderr.getvalue()  # type: ignore[attr-defined]


def test_an_export_never_overwrites_a_capture_it_reads(tmp_path: Path) -> None:
    capture = tmp_path / "busy.pcap"
    capture.write_bytes((SAMPLES / "calls" / "busy.pcap").read_bytes())
    before = capture.read_bytes()
    env = quiet_env()
    assert main(["export", str(capture), "-o", str(capture)], env) == 2
    assert "one of the captures read" in env.stderr.getvalue()  # type: ignore[attr-defined]
    assert capture.read_bytes() == before


def test_a_call_id_used_again_later_is_another_call(tmp_path: Path) -> None:
    """The same Call-ID at t=0 (refused, 486) and ten minutes later (answered): choosing the
    second by time exports it alone."""
    t, alice, bob = 1_700_000_000_000_000_000, "192.0.2.10", "192.0.2.20"
    frames = []
    for at_s, status, reason in ((0, 486, "Busy Here"), (600, 200, "OK")):
        at = t + at_s * 10**9
        frames += [(at, udp4_frame(alice, bob, sip_request("INVITE", "same@example.com"))),
                   (at + 10**7, udp4_frame(bob, alice, sip_response(
                       status, reason, "same@example.com"))),
                   (at + 2 * 10**7, udp4_frame(alice, bob, sip_request(
                       "ACK", "same@example.com")))]
    capture = tmp_path / "again.pcap"
    capture.write_bytes(pcap(frames))
    assert len(list(analyze(capture, jobs=1).calls)) == 2
    out = tmp_path / "second.pcapng"
    assert main(["export", str(capture), "--since", "+300", "-o", str(out), "-q"],
                quiet_env()) == 0
    statuses = [m.status for m in MessageReader(out) if m.status]
    assert statuses == [200]
