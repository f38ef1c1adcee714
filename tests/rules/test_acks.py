"""D104 (a 2xx never ACKed) and D110 (a non-2xx final response to INVITE never ACKed) fire only
on what the sender of the response shows, and say which evidence: its copies going on until
64*T1 (RFC 3261 13.3.1.4 for a 2xx, 17.2.1 Timer G and H for a non-2xx), an ACK captured that
did not stop them, or the UAS's BYE as 64*T1 ran out. An ACK the capture does not hold is no
evidence: it travels end to end (13.2.2.4), off the proxies' path, from any port.

Samples are made by samples/craft_acks.py; the public captures that raised D104 before are
read here for why they must not."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.network import Endpoint
from sipdiag.rules import load_engine
from sipdiag.rules.model import Finding
from sipdiag.sip.message import SipMessage
from tests.conftest import PUBLIC, SAMPLES, needs_public, read
from tests.flows import SDP_BODY, Flow, call_of

RULES = SAMPLES / "rules"
ENGINE = load_engine()
T1, T2 = 0.5, 4.0
"""RFC 3261 17.1.1.1 and table 4 defaults."""
SCHEDULE = (0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)
"""When an unacknowledged 2xx (13.3.1.4) or non-2xx over UDP (17.2.1) goes out: T1 doubling
up to T2, until 64*T1."""


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def findings(name: str | Path, rule: str) -> list[Finding]:
    path = name if isinstance(name, Path) else RULES / name
    return [f for f in analysed(path).findings if f.rule.id == rule]


def messages(name: str) -> list[SipMessage]:
    found, _ = read(RULES / name)
    return found


def responses(name: str, status: int, src: str | None = None) -> list[SipMessage]:
    """The responses of that status to INVITE in the capture (from ``src``'s host if given)."""
    return [m for m in messages(name) if m.status == status and m.cseq_method == "INVITE"
            and (src is None or m.src.ip == src)]


def test_the_ack_samples_are_what_craft_acks_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_acks.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_2xx_retransmitted_until_64t1_names_that_evidence() -> None:
    """Bob's 200 goes out 11 times, the last 31.5 s after the first; no ACK, no BYE."""
    name = "ack-missing-retransmitted.pcap"
    oks = responses(name, 200)
    assert [round((m.ts_ns - oks[0].ts_ns) / 1e9, 3) for m in oks] == list(SCHEDULE)
    [finding] = findings(name, "D104")
    assert finding.values["evidence"] == "retransmitted-until-64T1"
    assert finding.values["ok.copies"] == "11" and finding.values["ok.span"] == "31.500"
    assert [(e.frame, e.copy) for e in finding.evidence] == [
        (m.frame, index + 1) for index, m in enumerate(oks)]


def test_a_2xx_sent_once_then_the_uas_bye_at_64t1_names_the_bye() -> None:
    name = "ack-missing-bye-32s.pcap"
    [ok] = responses(name, 200)
    [bye] = [m for m in messages(name) if m.method == "BYE"]
    assert bye.from_tag == ok.to_tag and (bye.ts_ns - ok.ts_ns) / 1e9 == 64 * T1
    [finding] = findings(name, "D104")
    assert finding.values["evidence"] == "bye-at-64T1"
    assert [e.frame for e in finding.evidence] == [ok.frame, bye.frame]


def test_an_ack_lost_at_a_proxy_is_found_on_the_hop_that_never_got_it() -> None:
    """alice ACKs every copy the proxy relays; the proxy never passes the ACK on to bob, who
    retransmits until 64*T1 and sends BYE. One finding, about bob's 200 to the proxy, naming
    both evidences and the ACKs that reached the proxy while bob kept sending."""
    name = "ack-lost-at-proxy.pcap"
    bob, proxy = "198.51.100.20", "198.51.100.1"
    from_bob = responses(name, 200, bob)
    acks = [m for m in messages(name) if m.method == "ACK"]
    assert {(a.src.ip, a.dst.ip) for a in acks} == {("192.0.2.10", proxy)}
    [finding] = findings(name, "D104")
    assert finding.values["ok.frame"] == str(from_bob[0].frame)
    assert finding.values["ok.receiver"] == f"{proxy}:5060"
    assert finding.values["evidence"] == "retransmitted-past-ack, bye-at-64T1"
    frames = {e.frame for e in finding.evidence}
    assert {m.frame for m in from_bob} <= frames
    assert {a.frame for a in acks if a.ts_ns < from_bob[-1].ts_ns} <= frames
    assert "Evidence: retransmitted-past-ack, bye-at-64T1." in finding.message("en")


def test_the_recorded_no_ack_call_names_both_evidences() -> None:
    [finding] = findings(SAMPLES / "calls" / "no-ack-32s.pcap", "D104")
    assert finding.values["evidence"] == "retransmitted-until-64T1, bye-at-64T1"


def test_a_2xx_unacked_on_both_hops_of_a_proxy_is_one_finding() -> None:
    """The callee's 200 to the proxy and the proxy's copy of it to the caller both go out until
    64*T1 and nothing ACKs either: one event (the same answer), with both hops' copies."""
    flow = Flow()
    proxy = Endpoint("198.51.100.1", 5060)
    first = flow.request("INVITE", at=0.0, body=SDP_BODY, dst=proxy)
    second = flow.request("INVITE", at=0.01, body=SDP_BODY, cseq=first.cseq, src=proxy)
    ok = flow.response(second, 200, at=1.0, body=SDP_BODY)
    relayed = flow.response(first, 200, at=1.002, body=SDP_BODY)
    for offset in SCHEDULE[1:]:
        flow.copy(ok, at=1.0 + offset)
        flow.copy(relayed, at=1.002 + offset)
    [finding] = [f for f in ENGINE.evaluate(call_of(flow)) if f.rule.id == "D104"]
    frames = {e.frame for e in finding.evidence}
    assert {ok.frame, relayed.frame} <= frames and len(frames) == 2 * len(SCHEDULE)


@pytest.mark.parametrize("name", ["ack-on-another-hop.pcap", "ack-off-path-caller-bye.pcap"])
def test_a_2xx_its_sender_stopped_sending_is_no_finding(name: str) -> None:
    """ack-on-another-hop: the ACK went straight to bob from alice's port 5062, past a proxy
    that does not record-route; ack-off-path-caller-bye: no ACK captured at all, the 200 sent
    once and alice's BYE 64*T1 later. Neither 200 came again: each was acknowledged."""
    assert len(responses(name, 200)) == len({m.src for m in responses(name, 200)})
    assert findings(name, "D104") == []
    assert [f.rule.id for f in analysed(RULES / name).findings if f.severity != "info"] == []


def test_a_486_retransmitted_until_timer_h_without_ack_fires_d110() -> None:
    name = "busy-486-unacked.pcap"
    copies = responses(name, 486)
    assert [round((m.ts_ns - copies[0].ts_ns) / 1e9, 3) for m in copies] == list(SCHEDULE)
    [invite] = [m for m in messages(name) if m.method == "INVITE"]
    [finding] = findings(name, "D110")
    values = finding.values
    assert (values["final.status"], values["final.copies"], values["final.span"]) == (
        "486", "11", "31.500")
    assert values["invite.frame"] == str(invite.frame)
    assert values["evidence"] == "retransmitted-until-64T1"
    assert [e.frame for e in finding.evidence] == [invite.frame, *(m.frame for m in copies)]


def test_a_486_acked_after_some_copies_is_no_d110() -> None:
    name = "busy-486-acked-late.pcap"
    [ack] = [m for m in messages(name) if m.method == "ACK"]
    assert ack.branch == next(m for m in messages(name) if m.method == "INVITE").branch
    assert len(responses(name, 486)) == 3
    assert findings(name, "D110") == []


@needs_public
@pytest.mark.parametrize("path", [
    # two calls whose 180 has another To tag than the 200: the 200 is another early dialog's,
    # and it was ACKed (frames 236 and 327)
    "sipcapture__heplify/example/pcap/sip_ipv4_tcp_fragmented.pcap",
    # the 200 of the UAS (tag ...0271847) sent twice 0.5 s apart then no more, the capture going
    # on for 160 s: it was acknowledged; the proxy's 200 (tag ...0171847) was ACKed in frame 29
    "irontec__sngrep/tests/ipv6frag.pcap",
    # only responses: a 200 seen once, nothing of the UAS after it
    "seladb__PcapPlusPlus/Tests/Packet++Test/PacketExamples/sip_resp.pcap",
    # the 200 over TCP once; the caller's BYE (not the UAS's) 32 s later
    "irontec__sngrep/tests/ipip.pcap",
])
def test_public_captures_where_no_uas_shows_a_missing_ack(path: str) -> None:
    capture = PUBLIC / path
    oks = [m for m in read(capture)[0] if 200 <= m.status < 300 and m.cseq_method == "INVITE"]
    by_hop: dict[tuple[object, ...], list[SipMessage]] = {}
    for ok in oks:
        by_hop.setdefault((ok.src, ok.dst, ok.to_tag, ok.cseq), []).append(ok)
    assert all((c[-1].ts_ns - c[0].ts_ns) / 1e9 < 64 * T1 - T2 for c in by_hop.values())
    assert findings(capture, "D104") == []


@needs_public
def test_ipip_bye_is_the_callers() -> None:
    """In ipip.pcap the only BYE (frame 4) comes from the INVITE's sender: no evidence of the
    UAS, however close to 64*T1 after the 200 it comes."""
    found, _ = read(PUBLIC / "irontec__sngrep/tests/ipip.pcap")
    [invite] = [m for m in found if m.method == "INVITE"]
    [ok] = [m for m in found if m.status == 200]
    [bye] = [m for m in found if m.method == "BYE"]
    assert bye.src == invite.src and bye.from_tag == invite.from_tag != ok.to_tag
    assert abs((bye.ts_ns - ok.ts_ns) / 1e9 - 64 * T1) < T2
