"""C117: a failure whose own words (reason phrase, Warning text, Reason header) say the server
that answered could not route the request (RFC 3263 section 4: no DNS answer for the next hop;
RFC 3261 16.5: no target) names that server, not the callee; the words are the rule's data."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.network import Endpoint
from sipdiag.rules import DataError, builtin_catalog, load_engine
from sipdiag.rules.checks import CHECKS
from sipdiag.rules.loader import load_rule
from sipdiag.rules.model import Finding, parse_statuses
from tests.conftest import PUBLIC, ROOT, SAMPLES, needs_public, read
from tests.flows import Flow, call_of

RULES = SAMPLES / "rules"
ENGINE = load_engine()
CATALOG = builtin_catalog()
C117_FILE = ROOT / "rules/calls/C117-routing-failure-at-proxy.yaml"


@cache
def analysed(path: Path) -> Analysis:
    return analyze(path, engine=ENGINE)


def c117(path: Path) -> list[Finding]:
    return [f for f in analysed(path).findings if f.rule.id == "C117"]


def test_each_way_a_server_says_it_could_not_route_names_that_server() -> None:
    """Call 1: the proxy's own 480 No DNS results (frame 3). Call 2: the second proxy's 503
    (frame 8) whose Warning 399 says its DNS lookup failed, relayed by the first proxy (frame
    10): the second proxy is the one to blame. Call 3: the gateway's 404 (frame 15) with Reason
    Q.850 cause 3, No route to destination (RFC 6432), relayed in frame 17."""
    found = c117(RULES / "routing-failure-no-dns.pcap")
    assert [(f.values["request.final_frame"], f.values["request.responder"]) for f in found] == [
        ("3", "198.51.100.1:5060"), ("8", "198.51.100.2:5060"), ("15", "198.51.100.30:5060")]
    said = [f.values["said"] for f in found]
    assert said[0] == "480 No DNS results"
    assert said[1].startswith("503 Service Unavailable; Warning: 399 198.51.100.2 ")
    assert said[2].startswith("404 Not Found; Reason: Q.850;cause=3")
    assert [f.refs for f in found] == [
        (("response", 480),), (("response", 503), ("warning", 399)),
        (("response", 404), ("q850", 3))]
    assert all(f.values["call.callee"] == "sip:bob@example.net" for f in found)


def test_a_480_from_the_callee_is_no_routing_failure() -> None:
    path = RULES / "callee-unavailable-480.pcap"
    messages, _ = read(path)
    assert [m.summary for m in messages if m.status == 480] == ["480 Temporarily Unavailable"] * 2
    assert c117(path) == []


# The words are data: a rule of one's own with other words


def own_rule(tmp_path: Path, params: str) -> Path:
    text = C117_FILE.read_text()
    start, end = text.index("params:"), text.index("message:")
    text = text[:start] + params + text[end:]
    text = text.replace("id: C117", "id: X117").replace("name: routing-failure-at-proxy",
                                                        "name: my-routing-failure")
    folder = tmp_path / "mine"
    folder.mkdir()
    path = folder / "X117-my-routing-failure.yaml"
    path.write_text(text)
    return path


def test_the_words_are_the_rule_files(tmp_path: Path) -> None:
    """With only "no dns" as words and no Q.850 cause, call 1 (its reason phrase) is the only
    one: call 2 says "DNS lookup ... failed", call 3 gives cause 3."""
    own = own_rule(tmp_path, "params:\n  statuses: [480, 503, 404]\n  phrases: ['  no dns ']\n")
    rule = load_rule(own)
    assert rule.params["phrases"] == ("no dns",) and rule.params["q850"] == frozenset()
    found = analyze(RULES / "routing-failure-no-dns.pcap", engine=load_engine([own.parent]))
    assert [f.values["request.final_frame"] for f in found.findings if f.rule.id == "X117"] == [
        "3"]


@pytest.mark.parametrize(("params", "error"), [
    ("params:\n  phrases: []\n", "a list of words"),
    ("params:\n  phrases: dns\n", "a list of words"),
    ("params:\n  q850: [0]\n", "Q.850 cause values"),
    ("params:\n  statuses: [48]\n", "response code"),
])
def test_wrong_params_are_refused(tmp_path: Path, params: str, error: str) -> None:
    with pytest.raises(DataError, match=error):
        load_rule(own_rule(tmp_path, params))


# Small flows: whose answer it is


PARAMS = {"statuses": parse_statuses([404, 480, 500, 503]), "phrases": ("no dns", "no route"),
          "q850": frozenset({3})}


def routing_failures(flow: Flow) -> list[int]:
    found = CHECKS["routing_failure"].run(call_of(flow), PARAMS, CATALOG)
    return [int(h.values["request.final_frame"]) for h in found]


def test_words_match_whole_words_in_any_case() -> None:
    """"No Route" matches; "noroute" and "no routed" do not (whole words)."""
    for reason, found in (("No Route", [2]), ("noroute", []), ("no routed", [])):
        flow = Flow()
        invite = flow.request("INVITE", at=0.0)
        flow.response(invite, 480, at=0.1, reason=reason)
        assert routing_failures(flow) == found, reason


def test_a_server_on_the_same_host_as_its_client_still_answers_for_itself() -> None:
    """On loopback (SIPp and a proxy on 127.0.0.1, other ports) the answer comes from the
    client's own address: that is not a request passed on."""
    flow = Flow(caller=Endpoint("127.0.0.1", 5080), callee=Endpoint("127.0.0.1", 5070))
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 480, at=0.1, reason="No DNS results")
    assert routing_failures(flow) == [2]


def test_a_status_outside_the_list_is_left_alone() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 486, at=0.1, reason="No DNS results")
    assert routing_failures(flow) == []


@pytest.mark.parametrize(("uri", "in_dialog", "from_callee"), [
    ("sip:bob@198.51.100.20:5060", False, True),   # the proxy put the callee's Contact there
    ("sip:bob@example.com", False, False),          # the To address: the domain's server
    ("sip:bob@198.51.100.20:5060", True, True),     # inside the dialog: the remote target
    ("sip:bob@198.51.100.99", True, False),         # another device than the one answering
])
def test_an_answer_from_the_callee_itself_is_not_a_proxys(
    uri: str, in_dialog: bool, from_callee: bool
) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, uri=uri, in_dialog=in_dialog)
    flow.response(invite, 480, at=0.1, reason="No DNS results")
    assert routing_failures(flow) == ([] if from_callee else [2])


def test_to_equal_to_the_request_uri_names_the_domains_server() -> None:
    """sip:bob@198.51.100.20 sent to 198.51.100.20 with To the same: a user at that server's
    domain, not a Contact the request was retargeted to."""
    flow = Flow(callee_user="bob")
    invite = flow.request("INVITE", at=0.0, uri="sip:bob@example.com")
    flow.response(invite, 503, at=0.1, reason="Service Unavailable",
                  headers=('Warning: 399 198.51.100.20 "No route to host"',))
    assert routing_failures(flow) == [2]


@needs_public
def test_a_480_that_gives_no_cause_is_no_routing_failure() -> None:
    """aaa.pcap frame 621: 480 Error from 212.242.33.35, no Warning or Reason."""
    path = PUBLIC / "irontec__sngrep/tests/aaa.pcap"
    messages, _ = read(path)
    assert [m.summary for m in messages if m.frame == 621] == ["480 Error"]
    assert c117(path) == []
