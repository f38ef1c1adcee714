"""Retry storms (E116): the same request refused again and again in one Call-ID, told once
with its count, its period (the median interval) and its first and last frames. An attempt is
a request with its retries with credentials after a challenge (RFC 3261 22.2); a storm is a
run of refused attempts that nothing accepted or left unanswered in between."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from sipdiag.network import Endpoint
from sipdiag.rules import Engine, load_engine
from sipdiag.rules.loader import load_rule
from sipdiag.rules.model import Finding
from sipdiag.rules.yamlfile import DataError
from sipdiag.sip.message import SipMessage
from tests.conftest import SAMPLES
from tests.flows import Flow, read

ENGINE = load_engine()
STORM = ENGINE.rules.by_id("E116")
PROXY = Endpoint("198.51.100.1", 5060)
REGISTRAR = "sip:example.com"


def storms(flow: Flow, engine: Engine = ENGINE) -> list[Finding]:
    return [f for f in engine.evaluate(read(flow)) if f.rule.id == "E116"]


def refused(flow: Flow, at: float, status: int = 403, method: str = "REGISTER",
            headers: tuple[str, ...] = ()) -> tuple[SipMessage, SipMessage]:
    request = flow.request(method, at=at, uri=REGISTRAR, headers=headers)
    return request, flow.response(request, status, at=at + 0.01)


def with_count(count: int) -> Engine:
    assert STORM is not None
    rule = replace(STORM, params={"count": count})
    rules = tuple(rule if r.id == "E116" else r for r in ENGINE.rules.rules)
    return replace(ENGINE, rules=replace(ENGINE.rules, rules=rules))


def test_five_refusals_ten_seconds_apart_are_one_storm() -> None:
    flow = Flow()
    sent = [refused(flow, 10.0 * n) for n in range(5)]
    [storm] = storms(flow)
    assert {k: storm.values[k] for k in ("method", "target", "statuses", "count", "period",
                                         "span", "first_frame", "last_frame")} == {
        "method": "REGISTER", "target": REGISTRAR, "statuses": "403", "count": "5",
        "period": "10.000", "span": "40.000", "first_frame": str(sent[0][0].frame),
        "last_frame": str(sent[-1][0].frame)}
    # a few frames, not every one: the first and the last attempt, each with its refusal
    assert [e.frame for e in storm.evidence] == [m.frame for m in (*sent[0], *sent[-1])]


def test_a_challenge_answered_with_credentials_is_part_of_one_attempt() -> None:
    """401, then the same REGISTER with Authorization refused 403, four times: four
    attempts, not eight (the 401 is the protocol asking for credentials, RFC 3261 22.2)."""
    flow = Flow()
    for n in range(4):
        refused(flow, 20.0 * n, 401)
        refused(flow, 20.0 * n + 0.02, 403, headers=('Authorization: Digest username="a"',))
    [storm] = storms(flow)
    assert (storm.values["count"], storm.values["statuses"], storm.values["period"]) == (
        "4", "403", "20.000")


def test_challenges_never_answered_are_refusals() -> None:
    flow = Flow()
    for n in range(4):
        refused(flow, 5.0 * n, 401)
    [storm] = storms(flow)
    assert (storm.values["count"], storm.values["statuses"]) == ("4", "401")


def test_the_period_is_the_median_interval() -> None:
    flow = Flow()
    for at in (0.0, 5.0, 10.0, 15.0, 75.0):
        refused(flow, at, 404, "OPTIONS")
    [storm] = storms(flow)
    assert (storm.values["period"], storm.values["span"]) == ("5.000", "75.000")


def test_statuses_are_each_named_once_in_order() -> None:
    flow = Flow()
    for n, status in enumerate((404, 404, 480, 404)):
        refused(flow, 5.0 * n, status, "OPTIONS")
    [storm] = storms(flow)
    assert storm.values["statuses"] == "404, 480"


def test_an_accepted_attempt_ends_the_run() -> None:
    """403, 403, 403, 200, 403, 403, 403: two runs of three, neither a storm of four."""
    flow = Flow()
    for n, status in enumerate((403, 403, 403, 200, 403, 403, 403)):
        refused(flow, 5.0 * n, status)
    assert storms(flow) == []
    assert [f.values["count"] for f in storms(flow, with_count(3))] == ["3", "3"]


def test_an_unanswered_attempt_ends_the_run() -> None:
    flow = Flow()
    for n in range(6):
        if n == 3:
            flow.request("REGISTER", at=5.0 * n, uri=REGISTRAR)
        else:
            refused(flow, 5.0 * n)
    assert storms(flow) == []


def test_fewer_refusals_than_the_count_are_no_storm() -> None:
    flow = Flow()
    for n in range(3):
        refused(flow, 5.0 * n)
    assert storms(flow) == []
    [storm] = storms(flow, with_count(3))
    assert storm.values["count"] == "3"


def test_retransmissions_are_one_attempt() -> None:
    """A REGISTER sent three times (timer E) before its 403 is one attempt."""
    flow = Flow()
    for n in range(3):
        request = flow.request("REGISTER", at=10.0 * n, uri=REGISTRAR)
        flow.copy(request, at=10.0 * n + 0.5)
        flow.copy(request, at=10.0 * n + 1.5)
        flow.response(request, 403, at=10.0 * n + 1.6)
    assert storms(flow) == []


def test_other_requests_are_other_storms() -> None:
    """Two targets refused in turn: each request has its own count."""
    flow = Flow()
    for n in range(4):
        for uri in ("sip:a@example.com", "sip:b@example.com"):
            request = flow.request("OPTIONS", at=10.0 * n, uri=uri)
            flow.response(request, 404, at=10.0 * n + 0.01)
    assert sorted(f.values["target"] for f in storms(flow)) == [
        "sip:a@example.com", "sip:b@example.com"]


def test_the_storm_seen_on_two_hops_is_one_finding() -> None:
    """The caller's REGISTERs reach the registrar through a proxy that keeps From, To and
    CSeq: the storm on each hop is the same storm."""
    flow = Flow()
    for n in range(4):
        at = 10.0 * n
        first = flow.request("REGISTER", at=at, uri=REGISTRAR, dst=PROXY)
        second = flow.request("REGISTER", at=at + 0.001, uri=REGISTRAR, src=PROXY,
                              cseq=first.cseq)
        flow.response(second, 403, at=at + 0.01)
        flow.response(first, 403, at=at + 0.011)
    [storm] = storms(flow)
    assert storm.values["count"] == "4"


def test_the_storm_samples() -> None:
    """retry-storm: alice's REGISTER every 20 s (0 to 80 s), each 401 then 403 with
    credentials; OPTIONS every 5 s (100 to 125 s) each 404. retry-healthy: the same
    registrations accepted, and three 404s before a 200."""
    found = [f for f in analyze(SAMPLES / "rules/retry-storm.pcap", engine=ENGINE).findings
             if f.rule.id == "E116"]
    assert sorted((f.values["method"], f.values["count"], f.values["period"],
                   f.values["statuses"]) for f in found) == [
        ("OPTIONS", "6", "5.000", "404"), ("REGISTER", "5", "20.000", "403")]
    healthy = analyze(SAMPLES / "rules/retry-healthy.pcap", engine=ENGINE).findings
    assert [f for f in healthy if f.rule.id == "E116"] == []


@pytest.mark.parametrize("count", ["1", "two", "true"])
def test_a_count_under_two_is_refused(tmp_path: Path, count: str) -> None:
    assert STORM is not None
    text = STORM.path.read_text("utf-8").replace("count: 4", f"count: {count}")
    path = tmp_path / STORM.path.name
    path.write_text(text, "utf-8")
    line = text[: text.index("  count:")].count("\n") + 1
    with pytest.raises(DataError, match=rf":{line}: 'count': must be a whole number, 2 or more"):
        load_rule(path)
