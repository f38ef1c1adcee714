"""``sipdiag listen``: HEP from capture agents, analysed as the same calls read from a file.

A sender in the test plays the agent: the SIP messages of recorded samples, sent to the
collector on loopback as HEP3 with their original addresses, transports and times. What the
collector makes of them must be what the file gives (RFC 3261 outcomes, the rules' findings,
the times), whether HEP came over UDP or TCP; and its ``-w`` file must read as that capture.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze, analyze_live
from sipdiag.analysis.sources import HepFrames
from sipdiag.capture.live import Listen, LiveReader
from sipdiag.rules import load_engine
from tests.live.hep_sender import hep3, messages_of, send_tcp, send_udp

ROOT = Path(__file__).resolve().parents[2]
CALLS = ROOT / "samples" / "calls"
SAMPLES = [CALLS / f"{name}.pcap" for name in (
    "auth-challenge", "basic-call", "busy", "bye-481", "cancelled-call", "ipv6-call",
    "no-ack-32s", "options-keepalive", "redirect-302", "register", "tcp-call")]
"""The recorded calls with no RTP in them (HEP carries the signalling only)."""


def facts(analysis: Analysis) -> list[tuple[object, ...]]:
    """What a call is, without its frame numbers (a file numbers its other packets too)."""
    return sorted(
        [(r.call_id, r.outcome, r.final_status, r.start_ns, r.end_ns, r.message_count,
          tuple(f.rule.id for f in r.findings)) for r in analysis.calls]
        + [(r.call_id, r.outcome, r.final_status, r.start_ns, r.end_ns, r.message_count,
            tuple(f.rule.id for f in r.findings)) for r in analysis.exchanges])


def collected(send: Callable[[Iterable[bytes], tuple[str, int]], None], transport: str,
              packets: list[bytes], password: bytes | None = None) -> Analysis:
    source = HepFrames(Listen.parse(f"{transport}:127.0.0.1:0"), password)
    capture = LiveReader(source, duration_ns=1_500_000_000)
    sender = threading.Timer(0.2, send, (packets, source.address))
    sender.start()
    try:
        return analyze_live(capture, engine=load_engine())
    finally:
        sender.join()


@pytest.mark.parametrize(("transport", "send"), [("udp", send_udp), ("tcp", send_tcp)])
def test_the_collector_sees_the_calls_the_files_hold(transport: str, send: Callable[..., None]
                                                    ) -> None:
    messages = sorted((m for path in SAMPLES for m in messages_of(path)), key=lambda m: m.ts_ns)
    live = collected(send, transport, [hep3(m) for m in messages])
    assert live.summary.sip_messages == len(messages)
    assert live.summary.problems.counts == {}
    expected = facts(analyze(SAMPLES, engine=load_engine(), jobs=1))
    assert len(expected) >= len(SAMPLES)
    # HEP3 times are microseconds (chunks 9 and 10); the samples are microsecond pcaps.
    assert facts(live) == expected


def test_packets_without_the_password_are_refused_and_counted() -> None:
    messages = messages_of(CALLS / "busy.pcap")
    good = [hep3(m, password=b"s3cret") for m in messages]
    bad = [hep3(m, password=b"guess") for m in messages]
    live = collected(send_udp, "udp", good + bad + [b"not HEP"], password=b"s3cret")
    assert live.summary.sip_messages == len(messages)
    assert live.summary.problems.counts == {"hep_wrong_password": len(messages),
                                            "hep_bad_packet": 1}
    assert facts(live) == facts(analyze(CALLS / "busy.pcap", engine=load_engine(), jobs=1))


def test_listen_prints_a_line_per_call_and_writes_what_it_analysed(tmp_path: Path) -> None:
    written = tmp_path / "collected.pcapng"
    command = subprocess.Popen(
        [sys.executable, "-m", "sipdiag", "listen", "--hep", "udp:127.0.0.1:0", "--duration",
         "3", "--format", "jsonl", "-w", str(written), "--fail-on", "never"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert command.stderr is not None
    banner = command.stderr.readline()  # sipdiag: HEP collector on udp:127.0.0.1:0 (port N)
    port = int(banner.rsplit("port ", 1)[1].rstrip(")\n"))
    paths = [CALLS / "busy.pcap", CALLS / "bye-481.pcap"]
    send_udp([hep3(m) for path in paths for m in messages_of(path)], ("127.0.0.1", port))
    out, err = command.communicate(timeout=30)
    assert command.returncode == 0, err
    lines = [json.loads(text) for text in out.splitlines()]
    assert sorted((v["kind"], v["call_id"], v["outcome"], v["findings"]) for v in lines) == [
        ("call", "busy-1@127.0.0.1", "busy", ["C105"]),  # 486 (RFC 3261 21.4.24)
        ("call", "bye-481-1@127.0.0.1", "dropped", ["D101"]),  # BYE answered 481
    ]
    again = subprocess.run([sys.executable, "-m", "sipdiag", str(written), "--format", "json",
                            "--fail-on", "never"], cwd=ROOT, capture_output=True, text=True,
                           check=True)
    document = json.loads(again.stdout)
    assert sorted((c["call_id"], c["outcome"], c["start"]) for c in document["calls"]) == \
        sorted((v["call_id"], v["outcome"], v["start"]) for v in lines)
    assert f"wrote {written}" in err


def test_a_tcp_stream_that_is_not_hep3_is_closed_and_counted() -> None:
    """HEP3 over TCP is framed by each packet's own length: bytes where a packet should start
    that are not "HEP3" end that connection (the others go on), and a connection closed in
    the middle of a packet is said too."""
    messages = messages_of(CALLS / "busy.pcap")
    good = [hep3(m) for m in messages]

    def send(packets: Iterable[bytes], address: tuple[str, int]) -> None:
        send_tcp([b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], address)
        send_tcp([good[0][:20]], address)  # then closed, 20 bytes into a packet
        send_tcp(packets, address)

    live = collected(send, "tcp", good)
    assert live.summary.sip_messages == len(messages)
    assert live.summary.problems.counts == {"stream_unframed": 1, "stream_cut": 1}
    assert facts(live) == facts(analyze(CALLS / "busy.pcap", engine=load_engine(), jobs=1))
