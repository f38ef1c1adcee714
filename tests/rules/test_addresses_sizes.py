"""N102 and N106: a request too large for UDP (RFC 3261 18.1.1) is advice (info) while the
capture shows it arriving, and a warning when it was sent again and again without any answer
(RFC 3261 17.1.1.2: Timer A doubles from T1 = 0.5 s; 17.2.1: an INVITE server answers 100
within 200 ms). One rule cannot hold two severities (a Rule has one ``severity``), hence two."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import DataError, builtin_catalog, load_engine
from sipdiag.rules.checks import CHECKS
from sipdiag.rules.loader import load_rule
from sipdiag.rules.model import Finding
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import parse_message
from tests.conftest import PUBLIC, ROOT, SAMPLES, needs_public, read
from tests.flows import Flow
from tests.flows import read as read_flow

RULES = SAMPLES / "rules"
ENGINE = load_engine()
CATALOG = builtin_catalog()
TIMER_A_SCHEDULE = [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
"""When an unanswered INVITE goes out over UDP until Timer B (64*T1), RFC 3261 17.1.1.2."""


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def findings(path: Path, rule: str) -> list[Finding]:
    return [f for f in analysed(path).findings if f.rule.id == rule]


def test_one_rule_per_severity() -> None:
    rules = {rule.id: rule for rule in ENGINE.rules.rules}
    assert (rules["N102"].severity, rules["N106"].severity) == ("info", "warning")
    assert rules["N102"].params == rules["N106"].params == {"over": 1300}


def test_without_params_the_limit_is_the_rfcs_1300_bytes(tmp_path: Path) -> None:
    """A rule of one's own naming the check without ``params`` gets RFC 3261 18.1.1's figure."""
    text = (ROOT / "rules/network/N102-udp-request-too-large.yaml").read_text()
    text = text.replace("id: N102", "id: X102").replace("params:\n  over: 1300\n", "")
    path = tmp_path / "X102-udp-request-too-large.yaml"
    path.write_text(text)
    assert load_rule(path).params == {"over": 1300}


@pytest.mark.parametrize("value", ["0", "true", "1.5", "big"])
def test_the_limit_must_be_a_number_of_bytes(tmp_path: Path, value: str) -> None:
    text = (ROOT / "rules/network/N102-udp-request-too-large.yaml").read_text()
    text = text.replace("id: N102", "id: X102").replace("over: 1300", f"over: {value}")
    path = tmp_path / "X102-udp-request-too-large.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match="not a number of bytes"):
        load_rule(path)


def test_a_1400_byte_invite_answered_normally_is_advice() -> None:
    """About 1,400 bytes: over 1,300, so RFC 3261 18.1.1 asks for TCP; in one IP packet on an
    Ethernet link, and answered 100, 180, 200: nothing lost."""
    path = RULES / "udp-large-invite-answered.pcap"
    messages, _ = read(path)
    invite = messages[0]
    assert invite.method == "INVITE" and 1300 < len(invite.raw) < 1500 - 28
    assert invite.frames == (1,)
    [finding] = findings(path, "N102")
    assert finding.severity == "info"
    assert (finding.values["size"], finding.values["fragments"]) == (str(len(invite.raw)), "1")
    assert [e.frame for e in finding.evidence] == [1, 4]  # the INVITE and its 200
    assert findings(path, "N106") == []


def test_a_fragmented_invite_never_answered_is_a_warning() -> None:
    """Seven copies on the Timer A schedule, each in two IP fragments, and not one response:
    N106 with every copy as evidence, and no N102 beside it."""
    path = RULES / "udp-large-invite-lost.pcap"
    messages, _ = read(path)
    assert [round((m.ts_ns - messages[0].ts_ns) / 1e9, 3) for m in messages] == TIMER_A_SCHEDULE
    assert all(m.method == "INVITE" and len(m.frames) == 2 for m in messages)
    [finding] = findings(path, "N106")
    assert finding.severity == "warning"
    assert (finding.values["request.copies"], finding.values["fragments"]) == ("7", "2")
    assert [(e.frame, e.copy) for e in finding.evidence] == [
        (m.frame, n) for n, m in enumerate(messages, start=1)]
    assert findings(path, "N102") == []


def test_the_first_large_invite_sample_is_advice_too() -> None:
    """udp-large-invite.pcap: two fragments, answered: info only."""
    path = RULES / "udp-large-invite.pcap"
    assert [f.values["fragments"] for f in findings(path, "N102")] == ["2"]
    assert findings(path, "N106") == []


# Small flows: what counts as too large, and as harm


def oversized(flow: Flow, check: str, over: int = 1300) -> list[int]:
    """Frames of the requests the check reports."""
    found = CHECKS[check].run(read_flow(flow), {"over": over}, CATALOG)
    return [int(h.values["request.frame"]) for h in found]


def again(flow: Flow, message: SipMessage, *, transport: str = "UDP",
          frames: tuple[int, ...] = ()) -> SipMessage:
    """The flow's message as if it had come over another transport or in several frames."""
    changed = parse_message(message.raw, message.frame, message.ts_ns, message.src,
                            message.dst, transport, frames)
    flow.messages[flow.messages.index(message)] = changed
    return changed


BIG = "a=x-padding:" + "x" * 1400 + "\r\n"


def test_over_tcp_no_size_matters() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=BIG)
    again(flow, invite, transport="TCP")
    assert oversized(flow, "udp_request_large") == []


def test_a_request_cut_into_fragments_was_over_the_mtu_whatever_its_size() -> None:
    """Within 200 bytes of the path MTU, RFC 3261 18.1.1: fragmented on the way, it was over."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    assert len(invite.raw) < 1300
    assert oversized(flow, "udp_request_large") == []
    again(flow, invite, frames=(1, 2))
    assert oversized(flow, "udp_request_large") == [1]


def test_the_size_limit_is_the_rules_parameter() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=BIG)
    flow.response(invite, 200, at=0.1)
    assert oversized(flow, "udp_request_large", over=len(invite.raw)) == []
    assert oversized(flow, "udp_request_large", over=len(invite.raw) - 1) == [1]


@pytest.mark.parametrize(("answered", "copies", "harm"), [
    (False, 1, False),  # sent once: nothing shows it lost
    (False, 3, True),   # sent again and again, nothing back
    (True, 3, False),   # a 100 came back: it arrived
])
def test_harm_is_copies_with_no_answer_at_all(answered: bool, copies: int, harm: bool) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=BIG)
    for at in TIMER_A_SCHEDULE[1:copies]:
        flow.copy(invite, at=at)
    if answered:
        flow.response(invite, 100, at=2.0)
    assert oversized(flow, "udp_request_large_lost") == ([1] if harm else [])
    assert oversized(flow, "udp_request_large") == ([] if harm else [1])


def test_an_ack_is_never_answered_so_its_copies_show_nothing() -> None:
    flow = Flow()
    ack = flow.request("ACK", at=0.0, in_dialog=True, body=BIG)
    flow.copy(ack, at=0.5)
    assert oversized(flow, "udp_request_large_lost") == []
    assert oversized(flow, "udp_request_large") == [1]


# The public captures that fired before (checked by hand with tshark)


@needs_public
@pytest.mark.parametrize(("name", "frames"), [
    ("dotpcap__packetnet/Test/CaptureFiles/udp-ip-fragmented.pcap", [2, 5]),  # 415, then 180/200
    ("irontec__sngrep/tests/ipv6frag.pcap", [2]),  # fragments 1-2, 100 Trying in frame 3
    ("MaryLS__Laborator09/sip.pcap", [10, 14, 19, 175]),  # INVITEs, ACK, BYE: all went through
    ("sipcapture__heplify/src/decoder/testdata/ipip0.pcap", [1]),  # answered 403
    ("zeek__zeek/testing/btest/Traces/sip/sip-long-request-response-paths.pcap", [1]),  # 200
    ("NormB__sipnab/tests/pcap-samples/c07-sip-r2.cap", [13, 14, 15]),  # sent once each
])
def test_large_requests_of_the_public_captures_are_advice(name: str, frames: list[int]) -> None:
    path = PUBLIC / name
    assert [f.first_frame for f in findings(path, "N102")] == frames
    assert {f.severity for f in findings(path, "N102")} == {"info"}
    assert findings(path, "N106") == []


@needs_public
def test_only_the_udp_legs_of_the_websocket_capture_count() -> None:
    """The browser's INVITEs come over a WebSocket (frames 10-11 make one of about 2.2 kB): no
    UDP, no advice. The gateway sends them on over UDP (frames 20 and 28, whole in 2,602- and
    1,461-byte frames of a 9,001-byte-MTU network): those are the ones reported."""
    path = PUBLIC / "sipcapture__heplify/example/pcap/sip_tcp_websocket.pcap"
    messages, _ = read(path)
    websocket = next(m for m in messages if m.method == "INVITE" and m.transport == "WS")
    assert len(websocket.raw) > 1300
    assert [f.first_frame for f in findings(path, "N102")] == [20, 28]
