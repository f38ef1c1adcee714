"""The rules engine on call flows written in tests: which rule fires, on what evidence, with
what values; and what the pattern steps mean (after, within, same, absent, from_same_sender,
to_contact_of, hops, once)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sipdiag.network import Endpoint
from sipdiag.rules import Engine, load_engine
from sipdiag.rules.model import Finding
from tests.flows import SDP_BODY, Flow, answered, call_of, read

PROXY = Endpoint("198.51.100.1", 5060)
G729_OFFER = SDP_BODY.replace("RTP/AVP 0 8", "RTP/AVP 18").replace(
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000", "a=rtpmap:18 G729/8000")
"""An offer of G.729 only: a callee that accepts PCMU and PCMA has no codec in common."""


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine()


def findings(engine: Engine, flow: Flow, end: float | None = None) -> list[Finding]:
    return engine.evaluate(read(flow, end))


def rule_ids(engine: Engine, flow: Flow, end: float | None = None) -> list[str]:
    return [f.rule.id for f in findings(engine, flow, end)]


def frames(finding: Finding) -> list[int]:
    return [e.frame for e in finding.evidence]


def test_a_healthy_call_has_no_findings(engine: Engine) -> None:
    flow = Flow()
    answered(flow)
    bye = flow.request("BYE", at=5, in_dialog=True)
    flow.response(bye, 200, at=5.01)
    assert findings(engine, flow) == []


def test_bye_answered_481_names_the_bye_and_its_answer(engine: Engine) -> None:
    flow = Flow()
    answered(flow)
    bye = flow.request("BYE", at=5, in_dialog=True)
    refused = flow.response(bye, 481, at=5.01, reason="Call/Transaction Does Not Exist")
    [finding] = findings(engine, flow)
    assert (finding.rule.id, finding.severity) == ("D101", "warning")
    assert frames(finding) == [bye.frame, refused.frame]
    assert finding.values["bye.responder"] == str(flow.callee)
    assert finding.message().startswith(f"The BYE in frame {bye.frame} from {flow.caller} was")


def test_the_same_failure_on_two_hops_is_one_finding(engine: Engine) -> None:
    flow = Flow()
    answered(flow)
    bye = flow.request("BYE", at=5, in_dialog=True, dst=PROXY)
    onward = flow.request("BYE", at=5.01, in_dialog=True, src=PROXY, cseq=bye.cseq)
    far = flow.response(onward, 481, at=5.02)
    near = flow.response(bye, 481, at=5.03)
    [finding] = findings(engine, flow)
    assert finding.rule.id == "D101"
    assert frames(finding) == [bye.frame, onward.frame, far.frame, near.frame]


def test_reinvite_answered_481(engine: Engine) -> None:
    flow = Flow()
    answered(flow)
    flow.response(flow.request("INVITE", at=10, in_dialog=True, body=SDP_BODY), 481, at=10.1)
    assert rule_ids(engine, flow, end=60) == ["D102"]


def test_glare_resolved_is_one_informational_finding(engine: Engine) -> None:
    flow = Flow()
    answered(flow)
    ours = flow.request("INVITE", at=10, in_dialog=True)
    theirs = flow.request("INVITE", at=10.001, in_dialog=True, reverse=True, cseq=101)
    flow.response(ours, 491, at=10.01)
    flow.response(theirs, 491, at=10.011)
    assert rule_ids(engine, flow, end=60) == ["D108"]  # nobody retried: unresolved
    retry = flow.request("INVITE", at=11.2, in_dialog=True, reverse=True, cseq=102)
    flow.response(retry, 200, at=11.3)
    [finding] = findings(engine, flow, end=60)
    assert (finding.rule.id, finding.severity) == ("D107", "info")
    assert finding.values["retry.frame"] == str(retry.frame)


def test_retry_must_come_within_the_window(engine: Engine) -> None:
    flow = Flow()
    answered(flow)
    flow.response(flow.request("INVITE", at=10, in_dialog=True), 491, at=10.01)
    flow.response(flow.request("INVITE", at=25, in_dialog=True), 200, at=25.1)  # 15 s later
    assert rule_ids(engine, flow, end=60) == []  # D107 needs within 10 s; D108 sees the success


def test_cancelled_call_is_informational_and_487_alone_is_a_warning(engine: Engine) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    cancel = flow.request("CANCEL", at=3, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 200, at=3.01)
    flow.ack(flow.response(invite, 487, at=3.02), at=3.03)
    [finding] = findings(engine, flow)
    assert (finding.rule.id, finding.severity) == ("C101", "info")
    assert cancel.frame in frames(finding)

    alone = Flow()
    invite = alone.request("INVITE", at=0)
    alone.ack(alone.response(invite, 487, at=5), at=5.01)
    assert rule_ids(engine, alone) == ["C102"]


def test_an_answer_that_crossed_the_cancel(engine: Engine) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, body=SDP_BODY)
    ok = flow.response(invite, 200, at=3, body=SDP_BODY)
    cancel = flow.request("CANCEL", at=3.001, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 481, at=3.01)
    flow.ack(ok, at=3.02)
    flow.response(flow.request("BYE", at=3.05, in_dialog=True), 200, at=3.06)
    assert sorted(rule_ids(engine, flow)) == ["D103", "D109"]


def test_redirect_followed_only_to_its_contact(engine: Engine) -> None:
    def redirected(target: str) -> Flow:
        flow = Flow()
        invite = flow.request("INVITE", at=0)
        moved = flow.response(invite, 302, at=0.1, headers=("Contact: <sip:bob@192.0.2.99>",))
        flow.ack(moved, at=0.11)
        flow.response(flow.request("INVITE", at=0.2, uri=target), 486, at=0.3)
        return flow

    assert "C103" in rule_ids(engine, redirected("sip:bob@192.0.2.99"))
    assert "C103" not in rule_ids(engine, redirected("sip:carol@192.0.2.50"))
    alone = Flow()
    alone.ack(alone.response(alone.request("INVITE", at=0), 302, at=0.1), at=0.11)
    assert rule_ids(engine, alone) == ["C104"]


def test_challenge_answered_then_credentials_refused(engine: Engine) -> None:
    flow = Flow()
    flow.response(flow.request("REGISTER", at=0), 401, at=0.1)
    credentials = ('Authorization: Digest username="alice"',)
    flow.response(flow.request("REGISTER", at=0.2, headers=credentials), 200, at=0.3)
    assert [(f.rule.id, f.severity) for f in findings(engine, flow)] == [("A101", "info")]

    wrong = Flow()
    wrong.response(wrong.request("REGISTER", at=0), 401, at=0.1)
    wrong.response(wrong.request("REGISTER", at=0.2, headers=credentials), 403, at=0.3)
    assert rule_ids(engine, wrong) == ["A103"]


def test_unanswered_requests_wait_for_the_transaction_timer(engine: Engine) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    for at in (0.5, 1.5):
        flow.copy(invite, at=at)
    assert rule_ids(engine, flow, end=10) == []  # still within Timer B
    [finding] = findings(engine, flow, end=40)
    assert finding.rule.id == "N101" and finding.values["request.copies"] == "3"
    assert [e.copy for e in finding.evidence] == [1, 2, 3]


def test_session_timer_expiry_gives_the_interval(engine: Engine) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, headers=("Session-Expires: 90",))
    ok = flow.response(invite, 200, at=1, headers=("Session-Expires: 90;refresher=uac",))
    flow.ack(ok, at=1.01)
    bye = flow.request("BYE", at=76, in_dialog=True, reverse=True)
    flow.response(bye, 200, at=76.01)
    [finding] = findings(engine, flow)
    assert finding.rule.id == "D106"
    assert (finding.values["interval"], finding.values["elapsed"]) == ("90", "75.000")
    assert frames(finding) == [ok.frame, bye.frame]


def test_reason_causes_are_decoded_with_the_catalog(engine: Engine) -> None:
    def hung_up_with(reason: str) -> Flow:
        flow = Flow()
        answered(flow)
        flow.response(flow.request("BYE", at=5, in_dialog=True, headers=(reason,)), 200, at=5.1)
        return flow

    [finding] = findings(engine, hung_up_with('Reason: Q.850;cause=41;text="Temporary failure"'))
    assert finding.rule.id == "I101" and finding.refs == (("q850", 41),)
    assert finding.values["cause_name"] == engine.catalog.q850[41].name
    assert findings(engine, hung_up_with("Reason: Q.850;cause=16")) == []
    # a cause the catalog does not list has no name
    unlisted = Engine(engine.rules, replace(engine.catalog, q850={}))
    [finding] = unlisted.evaluate(read(hung_up_with("Reason: Q.850;cause=41")))
    assert finding.values["cause_name"] == "-"


def test_ack_missing_counts_the_copies_of_that_2xx_only(engine: Engine) -> None:
    """The callee re-sends its unacknowledged 2xx (RFC 3261 section 13.3.1.4): the same
    response, same To tag, on the same hop. A 2xx with another To tag is another fork's answer
    (section 13.2.2.4), no copy of it."""
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    ok = flow.response(invite, 200, at=1.0)
    flow.response(invite, 200, at=1.2, to_tag="other-fork")
    for offset in (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5):
        flow.copy(ok, at=1.0 + offset)
    [finding] = [f for f in findings(engine, flow, end=40) if f.rule.id == "D104"]
    assert (finding.values["ok.frame"], finding.values["ok.copies"], finding.values["ok.span"]) == (
        str(ok.frame), "11", "31.500")


def test_codecs_offered_and_accepted_are_compared(engine: Engine) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0, body=G729_OFFER)
    warning = ('Warning: 305 198.51.100.20 "Incompatible media format"',)
    refused = flow.response(invite, 488, at=0.1, body=SDP_BODY, headers=warning)
    flow.ack(refused, at=0.11)
    by_rule = {f.rule.id: f for f in findings(engine, flow)}
    assert set(by_rule) == {"C116", "I102"}
    values = by_rule["C116"].values
    assert values["offered"] == "audio G729/8000"
    assert values["accepted"] == "audio PCMU/8000, audio PCMA/8000"
    assert values["common"] == "-"
    assert by_rule["C116"].refs == (("warning", 305),)
    assert by_rule["I102"].values["code_name"] == engine.catalog.warnings[305].name


def test_the_same_refusal_on_two_hops_refers_to_the_warnings_of_both(engine: Engine) -> None:
    """One finding for the 488 of both hops (the same INVITE, by CSeq), and the catalog entries
    of each hop's Warning once, in the order of the hops."""
    flow = Flow()
    invite = flow.request("INVITE", at=0, body=G729_OFFER, dst=PROXY)
    onward = flow.request("INVITE", at=0.01, body=G729_OFFER, src=PROXY, cseq=invite.cseq)
    flow.response(onward, 488, at=0.1, headers=('Warning: 305 198.51.100.20 "Incompatible"',))
    flow.response(invite, 488, at=0.11, headers=('Warning: 399 198.51.100.1 "Not here"',))
    [refused] = [f for f in findings(engine, flow) if f.rule.id == "C116"]
    assert refused.refs == (("warning", 399), ("warning", 305))
    assert frames(refused) == [1, 2, 3, 4]


def test_private_addresses_matter_only_from_a_public_peer(engine: Engine) -> None:
    def call_from(caller: Endpoint) -> Flow:
        flow = Flow(caller=caller)
        body = SDP_BODY.replace("192.0.2.10", "192.168.1.20")
        invite = flow.request("INVITE", at=0, body=body,
                              headers=("Contact: <sip:alice@192.168.1.20:5060>",))
        flow.ack(flow.response(invite, 200, at=1, body=SDP_BODY), at=1.01)
        return flow

    [finding] = findings(engine, call_from(Endpoint("203.0.113.5", 5060)), end=10)
    assert (finding.rule.id, finding.values["private"], finding.values["where"]) == (
        "N104", "192.168.1.20", "Contact")
    assert findings(engine, call_from(Endpoint("192.168.1.20", 5060)), end=10) == []


def test_post_dial_delay_threshold_comes_from_the_rule_file(engine: Engine, tmp_path: Path) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=7.5)
    flow.ack(flow.response(invite, 200, at=9), at=9.01)
    assert rule_ids(engine, flow, end=20) == ["C107"]
    source = (engine.rules.by_id("C107").path).read_text()  # type: ignore[union-attr]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "X107-slow-ringing.yaml").write_text(
        source.replace("id: C107", "id: X107").replace("name: long-post-dial-delay",
                                                      "name: slow-ringing")
        .replace("over: 6s", "over: 10s"))
    patient = load_engine([mine])
    assert [f.rule.id for f in patient.evaluate(call_of(flow, end=20))] == ["C107"]


def test_large_request_over_udp(engine: Engine) -> None:
    flow = Flow()
    padding = "".join(f"a=x-padding:{n:04d} {'x' * 60}\r\n" for n in range(20))
    invite = flow.request("INVITE", at=0, body=SDP_BODY + padding)
    assert len(invite.raw) > 1300
    flow.ack(flow.response(invite, 486, at=0.1), at=0.11)
    assert sorted(rule_ids(engine, flow)) == ["C105", "N102"]
