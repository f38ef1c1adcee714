"""Requests to a hop that never answers: N101 when the transaction timer gave up (64*T1, RFC 3261
17.1.1.2 and 17.1.2.2; a CANCEL is a transaction of its own, 9.1), N107 and N108 when an ICMP
destination unreachable quoting the request refused it (a transport error, 17.1.4 and 18.4):
port unreachable says nothing listens on the request's address and port; host, network and
administratively prohibited say where it stopped on the way.

The ICMP frames expected are read from the captures with scapy, not with sipdiag's decoder."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from scapy.layers.inet import ICMP, IP, IPerror, UDPerror
from scapy.utils import rdpcap

from sipdiag.analysis import Analysis, analyze
from sipdiag.dialogs.select import needs_attention
from sipdiag.rules import load_engine
from sipdiag.rules.model import Finding
from sipdiag.sip.message import SipMessage
from tests.conftest import PUBLIC, SAMPLES, needs_public, read

RULES = SAMPLES / "rules"
ENGINE = load_engine()


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def findings(path: Path, rule: str) -> list[Finding]:
    return [f for f in analysed(path).findings if f.rule.id == rule]


def requests(path: Path, method: str) -> list[SipMessage]:
    return [m for m in read(path)[0] if m.method == method]


def icmp_errors(path: Path) -> list[tuple[int, str, int, str, int, int]]:
    """(frame, reporter, code, quoted destination address, its port, quoted source port) of
    every ICMP destination unreachable (type 3) in the capture."""
    found = []
    for number, packet in enumerate(rdpcap(str(path)), start=1):
        if ICMP in packet and packet[ICMP].type == 3 and IPerror in packet:
            quoted = packet[IPerror]
            found.append((number, packet[IP].src, packet[ICMP].code, quoted.dst,
                          packet[UDPerror].dport, packet[UDPerror].sport))
    return found


def test_an_invite_refused_with_port_unreachable_says_nothing_listens_there() -> None:
    """Each of the 7 copies of the INVITE (Timer A) drew ICMP port unreachable (code 3) from the
    host it went to: one N107 finding, with every copy and every ICMP frame, and no N101 (the
    transaction ended on a transport error, not on its timer)."""
    path = RULES / "invite-port-unreachable.pcap"
    copies = requests(path, "INVITE")
    errors = icmp_errors(path)
    assert len(copies) == 7 and len(errors) == 7
    assert {(code, dst, port) for _, _, code, dst, port, _ in errors} == {(3, copies[0].dst.ip,
                                                                          copies[0].dst.port)}
    [finding] = findings(path, "N107")
    assert finding.values["request.receiver"] == str(copies[0].dst)
    assert finding.values["icmp.frame"] == str(errors[0][0])
    assert finding.values["icmp.reporter"] == errors[0][1]
    assert f"nothing listens on {copies[0].dst}" in finding.message("en")
    icmp = [e for e in finding.evidence if e.what == "ICMP port unreachable"]
    assert [e.frame for e in icmp] == [frame for frame, *_ in errors]
    assert [(e.frame, e.copy) for e in finding.evidence if e.what == "INVITE"] == [
        (m.frame, index + 1) for index, m in enumerate(copies)]
    assert findings(path, "N101") == [] and findings(path, "N108") == []


def test_a_register_refused_by_a_router_with_host_unreachable_is_n108() -> None:
    """One REGISTER, and 20 ms later ICMP host unreachable (code 1) from a router, not from the
    registrar's address: N108 at once, with no timer run out (the capture ends there)."""
    path = RULES / "register-host-unreachable.pcap"
    [register] = requests(path, "REGISTER")
    [(frame, reporter, code, dst, port, _)] = icmp_errors(path)
    assert code == 1 and (dst, port) == (register.dst.ip, register.dst.port)
    assert reporter != register.dst.ip
    [finding] = findings(path, "N108")
    assert (finding.values["icmp.reason"], finding.values["icmp.reporter"]) == ("host", reporter)
    assert finding.values["icmp.frame"] == str(frame)
    assert [e.frame for e in finding.evidence] == [register.frame, frame]
    assert findings(path, "N107") == []
    [exchange] = analysed(path).exchanges
    assert exchange.method == "REGISTER"


def test_a_refused_copy_then_an_answer_is_no_finding() -> None:
    """The first INVITE drew port unreachable; its copy 0.5 s later was answered 200: the
    transaction got its final response, so nothing was refused for good."""
    path = RULES / "invite-refused-then-answered.pcap"
    assert len(icmp_errors(path)) == 1
    for rule in ("N101", "N107", "N108"):
        assert findings(path, rule) == [], rule
    assert [f.rule.id for f in analysed(path).findings if f.severity != "info"] == []


def test_a_request_the_network_refused_is_unreachable_not_timed_out() -> None:
    """No SIP response to the INVITE, and ICMP errors quote it: the transaction ended on a
    transport error, which the client takes as a 503 (RFC 3261 8.1.3.1, 17.1.4), so the call
    is unreachable (a failure --failed keeps), not timed out; likewise the REGISTER, refused
    before any timer could run out. A copy refused then answered is not."""
    for path, subjects in ((RULES / "invite-port-unreachable.pcap", "calls"),
                           (RULES / "register-host-unreachable.pcap", "exchanges")):
        assert not [m for m in read(path)[0] if m.status] and icmp_errors(path)
        [subject] = getattr(analysed(path), subjects)
        assert subject.outcome == "unreachable"
        assert needs_attention(subject.outcome, has_problem=False)
    [answered] = analysed(RULES / "invite-refused-then-answered.pcap").calls
    assert answered.outcome == "completed"


def test_a_cancel_never_answered_is_n101() -> None:
    """The CANCEL (3 s) is sent 11 times on Timer E until 64*T1 and never answered: N101. The
    INVITE, whose 180 came, is in Proceeding, where Timer B does not run (RFC 3261 17.1.1.2):
    the caller gives it up 64*T1 after the CANCEL (9.1), which the CANCEL's finding says."""
    path = RULES / "cancel-unanswered.pcap"
    cancels = requests(path, "CANCEL")
    assert len(cancels) == 11 and (cancels[-1].ts_ns - cancels[0].ts_ns) / 1e9 == 31.5
    assert not [m for m in read(path)[0] if m.cseq_method == "CANCEL" and m.status]
    found = {f.values["request.method"]: f for f in findings(path, "N101")}
    assert set(found) == {"CANCEL"}
    cancel = found["CANCEL"]
    assert cancel.values["request.copies"] == "11"
    assert [e.frame for e in cancel.evidence] == [m.frame for m in cancels]


@needs_public
def test_the_scanner_invites_refused_by_a_firewall_are_n108() -> None:
    """CESNET sip.pcap: a scanner's INVITEs, five of which drew ICMP administratively prohibited
    (type 3, code 10) quoting them; each is one N108 finding naming its ICMP frame."""
    path = PUBLIC / "CESNET__ipfixprobe/tests/functional/inputs/sip.pcap"
    errors = icmp_errors(path)
    assert len(errors) == 5 and {code for _, _, code, *_ in errors} == {10}
    invites = requests(path, "INVITE")
    expected = {}
    for frame, reporter, _, dst, port, sport in errors:
        quoted = [m for m in invites if (m.dst.ip, m.dst.port, m.src.port) == (dst, port, sport)
                  and m.frame < frame]
        expected[str(quoted[-1].frame)] = (str(frame), reporter, "prohibited")
    found = {f.values["request.frame"]: (f.values["icmp.frame"], f.values["icmp.reporter"],
                                         f.values["icmp.reason"])
             for f in findings(path, "N108")}
    assert found == expected
