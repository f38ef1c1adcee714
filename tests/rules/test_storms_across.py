"""Retry storms across Call-IDs (E117, a rule about the whole capture): the same request refused
again and again, each attempt with a Call-ID of its own and sent after the one before was
refused the same way, told once on the first attempt's call or exchange with its count, the
number of Call-IDs, its period and first and last frames."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.network import Endpoint
from sipdiag.rules.checks.storms_across import StormWatch, retry_storms
from sipdiag.rules.loader import load_rule
from sipdiag.rules.yamlfile import DataError
from tests.conftest import SAMPLES
from tests.flows import Flow, read
from tests.rules.analysed import ENGINE, findings, tshark_fields

STORM = SAMPLES / "rules/retry-storm-new-call-ids.pcap"
HEALTHY = SAMPLES / "rules/retry-new-call-ids-healthy.pcap"
RULE = ENGINE.rules.by_id("E117")
REGISTRAR = Endpoint("198.51.100.1", 5060)


def attempt(n: int, status: int, apart: float = 30.0, answer: float = 0.01
            ) -> Call | Exchange:
    """A REGISTER with a Call-ID of its own, sent ``n * apart`` s in and answered ``status``
    ``answer`` s later."""
    flow = Flow(call_id=f"attempt-{n}@example.com", callee=REGISTRAR)
    request = flow.request("REGISTER", at=apart * n, uri="sip:example.com")
    flow.response(request, status, at=apart * n + answer)
    return read(flow)


def storms(*subjects: Call | Exchange, count: int = 4) -> list[dict[str, str]]:
    watch = StormWatch()
    for subject in subjects:
        watch.observe(subject)
    return [dict(found.hit.values) for found in retry_storms(watch, {"count": count})]


def test_the_samples_registrations_and_calls_are_two_storms() -> None:
    """Expected from tshark: the REGISTERs sent without credentials (each attempt's first,
    challenged then refused 403 with credentials, RFC 3261 22.2) and the INVITEs answered 503,
    every one with a Call-ID of its own."""
    registers = tshark_fields(STORM, "sip.Method == REGISTER && !sip.Authorization",
                              ("frame.number", "frame.time_epoch", "sip.Call-ID"))
    invites = tshark_fields(STORM, "sip.Method == INVITE",
                            ("frame.number", "frame.time_epoch", "sip.Call-ID"))
    found = {f.values["method"]: f for f in findings(STORM, "E117")}
    assert sorted(found) == ["INVITE", "REGISTER"]
    for method, sent, status in (("REGISTER", registers, "403"), ("INVITE", invites, "503")):
        times = [float(p["frame.time_epoch"]) for p in sent]
        period = statistics.median(b - a for a, b in itertools.pairwise(times))
        storm = found[method]
        assert {k: storm.values[k] for k in ("count", "calls", "statuses", "period", "span",
                                             "first_frame", "last_frame")} == {
            "count": str(len(sent)), "calls": str(len({p["sip.Call-ID"] for p in sent})),
            "statuses": status, "period": f"{period:.3f}", "span": f"{times[-1] - times[0]:.3f}",
            "first_frame": sent[0]["frame.number"], "last_frame": sent[-1]["frame.number"]}
        # told on the first attempt's Call-ID, with its first and last request in evidence
        assert storm.call_id == sent[0]["sip.Call-ID"]
        assert storm.call_frame == int(sent[0]["frame.number"])
        frames = {e.frame for e in storm.evidence}
        assert {int(sent[0]["frame.number"]), int(sent[-1]["frame.number"])} <= frames


def test_the_healthy_sample_and_storms_within_one_call_id_give_none() -> None:
    assert findings(HEALTHY, "E117") == []
    assert findings(SAMPLES / "rules/retry-storm.pcap", "E117") == []  # E116's, one Call-ID


@pytest.mark.parametrize("jobs", [2, 3])
def test_processes_sharing_the_call_ids_find_the_same_storms(jobs: int) -> None:
    """The attempts fall to different processes by Call-ID; their watches are merged."""
    alone = [(f.call_id, dict(f.values)) for f in findings(STORM, "E117")]
    shared = [(f.call_id, dict(f.values))
              for f in analyze(STORM, engine=ENGINE, jobs=jobs).findings if f.rule.id == "E117"]
    assert shared == alone


def test_an_attempt_that_went_through_ends_the_run() -> None:
    refused = [attempt(n, 403) for n in range(3)]
    later = [attempt(n, 403) for n in range(4, 7)]
    assert storms(*refused, attempt(3, 200), *later) == []
    assert [s["count"] for s in storms(*refused, attempt(3, 200), *later, count=3)] == ["3", "3"]
    assert storms(*refused, attempt(3, 403)) != []


def test_the_order_seen_does_not_matter_only_the_order_sent() -> None:
    """Calls finish (and reach the watch) in any order: runs are cut by when attempts were
    sent. Here the accepted attempt, sent between the refusals, is seen last."""
    refused = [attempt(n, 403) for n in (0, 1, 3, 4)]
    assert storms(*refused, attempt(2, 200)) == []
    [storm] = storms(*reversed(refused))
    assert (storm["count"], storm["calls"], storm["period"], storm["span"]) == (
        "4", "4", "30.000", "120.000")


def test_a_retry_comes_after_the_refusal_and_is_refused_the_same_way() -> None:
    """Requests sent before the one before was refused are calls made at once, not retries;
    a different refusal means something changed on the way (a retry storm is blind)."""
    assert storms(*(attempt(n, 403, apart=0.5, answer=0.4) for n in range(5)))  # retries
    assert storms(*(attempt(n, 403, apart=0.5, answer=0.6) for n in range(5))) == []  # at once
    mixed = [attempt(n, status) for n, status in enumerate((403, 404, 403, 404, 403, 404))]
    assert storms(*mixed) == []
    [storm] = storms(*mixed[:2], *(attempt(n, 404) for n in range(2, 6)))
    assert (storm["statuses"], storm["count"], storm["first_frame"]) == ("404", "5", "1")


def test_requests_inside_dialogs_are_no_retries() -> None:
    """A subscription refreshed inside its dialog and refused 481, in one new dialog after
    another (each with its own Call-ID, RFC 3261 12.2.1.1): no request was sent again with a
    new Call-ID, each dialog failed once."""
    refreshes = []
    for n in range(5):
        flow = Flow(call_id=f"subscription-{n}@example.com", callee=REGISTRAR)
        refresh = flow.request("SUBSCRIBE", at=10.0 * n, in_dialog=True, uri="sip:example.com")
        flow.response(refresh, 481, at=10.0 * n + 0.01)
        refreshes.append(read(flow))
    assert storms(*refreshes) == []


def test_an_unanswered_attempt_ends_the_run_too() -> None:
    """An attempt left without a final answer is not refused: the client may be right to try
    again (RFC 3261 17.1.2.2, Timer F), so it is no blind retry."""
    flow = Flow(call_id="lost@example.com", callee=REGISTRAR)
    flow.request("REGISTER", at=60.0, uri="sip:example.com")
    unanswered = read(flow, end=100.0)
    assert storms(attempt(0, 403), attempt(1, 403), unanswered, attempt(3, 403),
                  attempt(4, 403)) == []


def test_a_capture_rule_needs_a_capture_check_and_no_call_placeholders(tmp_path: Path) -> None:
    assert RULE is not None
    text = RULE.path.read_text("utf-8")
    cases = {
        "check: retry_storm_across_calls": ("check: retry_storm",
                                            "no check named 'retry_storm' for scope capture"),
        "{sender}": ("{call.caller}", "uses {call.caller}, which nothing fills"),
    }
    for old, (new, error) in cases.items():
        path = tmp_path / RULE.path.name
        path.write_text(text.replace(old, new), "utf-8")
        with pytest.raises(DataError, match=error):
            load_rule(path)


def test_a_rule_about_one_call_cannot_name_the_capture_check(tmp_path: Path) -> None:
    assert RULE is not None
    path = tmp_path / RULE.path.name
    path.write_text(RULE.path.read_text("utf-8").replace("scope: capture", "scope: any"), "utf-8")
    with pytest.raises(DataError, match="no check named 'retry_storm_across_calls' for scope any"):
        load_rule(path)


def test_the_count_is_a_parameter_of_the_rule() -> None:
    assert RULE is not None
    engine = replace(ENGINE, rules=replace(ENGINE.rules, rules=tuple(
        replace(r, params={"count": 6}) if r.id == "E117" else r for r in ENGINE.rules.rules)))
    assert [f for f in analyze(STORM, engine=engine).findings if f.rule.id == "E117"] == []
