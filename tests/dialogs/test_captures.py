"""Calls and exchanges of real captures: the bundled samples, and public captures checked by hand.

Each expectation below was read off the capture's message list by hand (``sipdiag messages``)
before it was written down; the comment says what the capture shows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from tests.conftest import PUBLIC, SAMPLES, needs_public
from tests.flows import T0
from tests.packets import pcap, udp4_frame

CALLS = SAMPLES / "calls"


def outcomes(path: Path) -> tuple[dict[str, int], dict[str, int]]:
    analysis = analyze(path)
    calls = Counter(call.outcome for call in analysis.calls)
    exchanges = Counter(f"{e.method}:{e.outcome}" for e in analysis.exchanges)
    return dict(calls), dict(exchanges)


@pytest.mark.parametrize(
    ("name", "calls", "exchanges"),
    [
        ("basic-call.pcap", {"completed": 1}, {}),
        ("auth-challenge.pcap", {"completed": 1}, {}),  # 407, then the call: one call
        ("baresip-call.pcap", {"completed": 1}, {"REGISTER:ok": 1}),
        ("busy.pcap", {"busy": 1}, {}),
        ("cancelled-call.pcap", {"cancelled": 1}, {}),
        ("bye-481.pcap", {"dropped": 1}, {}),
        ("no-ack-32s.pcap", {"dropped": 1}, {}),
        ("redirect-302.pcap", {"completed": 1}, {}),  # 302 followed to the Contact: one call
        ("register.pcap", {}, {"REGISTER:ok": 1}),  # 401, then 200
        ("options-keepalive.pcap", {}, {"OPTIONS:ok": 3, "OPTIONS:timeout": 2}),
        ("tcp-call.pcap", {"completed": 1}, {}),
        ("ipv6-call.pcap", {"completed": 1}, {}),
    ],
)
def test_sample_calls(name: str, calls: dict[str, int], exchanges: dict[str, int]) -> None:
    assert outcomes(CALLS / name) == (calls, exchanges)


def test_proxied_call_in_detail() -> None:
    (call,) = analyze(CALLS / "basic-call.pcap").calls
    assert (call.final_status, call.ended_by, call.dialog_count) == (200, "caller", 1)
    assert [(str(leg.src), str(leg.dst)) for leg in call.legs] == [
        ("127.0.0.1:5080", "127.0.0.1:5060"),
        ("127.0.0.1:5060", "127.0.0.1:5070"),
    ]
    assert 0.1 < (call.timings.post_dial_delay or 0) < (call.timings.time_to_answer or 0)
    assert call.timings.talk_time == pytest.approx(3.0, abs=0.05)
    assert call.offer is not None
    assert call.offer.media[0].codecs == ("PCMU/8000", "PCMA/8000", "telephone-event/8000")
    assert call.answer is not None and call.answer.sender == "callee"
    assert call.answer.media[0].codecs == ("PCMU/8000", "telephone-event/8000")


def test_no_ack_call_shows_the_retransmission_schedule() -> None:
    (call,) = analyze(CALLS / "no-ack-32s.pcap").calls
    (schedule,) = call.retransmissions
    assert schedule.what == "200 INVITE" and len(schedule.frames) == 11
    gaps = [b - a for a, b in zip(schedule.times, schedule.times[1:], strict=False)]
    # T1 doubling (0.5, 1, 2 s), then capped at T2 (4 s)
    assert gaps == pytest.approx([0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4], abs=0.02)
    assert (call.outcome, call.ended_by) == ("dropped", "callee")


def test_unanswered_options_are_timeouts_with_retransmissions() -> None:
    analysis = analyze(CALLS / "options-keepalive.pcap")
    lost = [e for e in analysis.exchanges if e.outcome == "timeout"]
    assert [len(e.retransmissions[0].frames) for e in lost] == [10, 10]


@needs_public
@pytest.mark.parametrize(
    ("path", "calls", "exchanges"),
    [
        # Wireshark's aaa.pcap: an INVITE answered 408 after a CANCEL; 407 then 403 after
        # credentials, twice; 183 then 480. REGISTERs on two Call-IDs: 401 then 403, later 200;
        # four more 401s; 401 then 200; 401s then 200.
        (
            "irontec__sngrep/tests/aaa.pcap",
            {"auth_failed": 2, "no_answer": 2},
            {"REGISTER:auth_failed": 2, "REGISTER:ok": 2},
        ),
        # Aastra PBX behind GRE: two answered calls, three cancelled (CANCEL, 487, ACK).
        (
            "ntop__nDPI/tests/pcap/gre_sip.pcapng",
            {"cancelled": 3, "completed": 2},
            {"OPTIONS:timeout": 1},
        ),
        # OpenSIPS between SIP.js over WebSocket and FreeSWITCH: two calls, both ended by BYE
        # (one ACK goes to the callee's public address: still an ACK).
        (
            "sipcapture__heplify/example/pcap/sip_tcp_websocket.pcap",
            {"completed": 2},
            {"OPTIONS:ok": 1},
        ),
        # Linphone and Asterisk: two calls, each set up, talked and hung up.
        ("MichalCab__ISA/real_call.pcap", {"completed": 2}, {}),
        # SIP over TCP inside IP-in-IP: INVITE, 183, 200, and the caller's BYE 32 s later, the
        # last frame: no ACK in the file, but nothing of the UAS says it missed one.
        # the caller's BYE is the last frame: sent, not accepted yet
        ("irontec__sngrep/tests/ipip.pcap", {"answered": 1}, {}),
        # Nortel/Dialogic over fragmented UDP: 415 Unsupported Media Type, then a call.
        (
            "dotpcap__packetnet/Test/CaptureFiles/udp-ip-fragmented.pcap",
            {"completed": 1, "rejected": 1},
            {},
        ),
    ],
)
def test_public_captures(path: str, calls: dict[str, int], exchanges: dict[str, int]) -> None:
    assert outcomes(PUBLIC / path) == (calls, exchanges)


@needs_public
def test_json_is_the_same_every_time_and_lists_everything() -> None:
    import io
    import json

    from sipdiag.report.document import write_json

    path = PUBLIC / "irontec__sngrep/tests/aaa.pcap"
    texts = []
    for _ in range(2):
        out = io.StringIO()
        write_json(analyze(path), out)
        texts.append(out.getvalue())
    assert texts[0] == texts[1]
    document = json.loads(texts[0])
    assert document["schema_version"] == 1
    assert len(document["calls"]) == 4 and len(document["exchanges"]) == 4
    first = document["calls"][0]
    assert first["frames"][0] == 223 and first["outcome"] == "no_answer"
    assert first["retransmissions"][0]["what"] == "INVITE"


def test_messages_without_call_id_belong_to_no_conversation(tmp_path: Path) -> None:
    """Two OPTIONS without a Call-ID (mandatory, RFC 3261 8.1.1.4) between different hosts, and
    one with: only the last is an exchange; the two are reported by frame, not grouped into an
    exchange of Call-ID ''."""
    def options(call_id: str | None) -> bytes:
        header = f"Call-ID: {call_id}\r\n" if call_id else ""
        return ("OPTIONS sip:bob@example.com SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-" + (call_id or "x") + "\r\n"
                "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n"
                + header + "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()

    frames = [(T0 + n * 10**9, udp4_frame(f"192.0.2.{n + 1}", "198.51.100.1", options(cid)))
              for n, cid in enumerate([None, None, "with-id@example.com"])]
    path = tmp_path / "no-call-id.pcap"
    path.write_bytes(pcap(frames, nanoseconds=True))
    analysis = analyze(path, jobs=1)
    assert [e.call_id for e in analysis.exchanges] == ["with-id@example.com"]
    missing = [p for p in analysis.summary.problems.all_examples()
               if p.kind == "sip_missing_header"]
    assert [p.frame for p in missing] == [1, 2]
