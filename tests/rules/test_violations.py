"""Protocol violations: responses to an INVITE without a To tag (P101, P103; RFC 3261 8.2.6.2,
12.1), a request naming no dialog of its call accepted (P102; 12.2.2), and malformed requests
refused with 400: a body not as long as Content-Length (P104; 18.3), a header allowed once
given twice (P105; 7.3.1). Expected values come from the captures' bytes and the RFC."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import load_engine
from sipdiag.rules.model import Finding
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import parse_message
from tests.conftest import PUBLIC, SAMPLES, needs_public, public_captures, read
from tests.flows import SDP_BODY, Flow, answered, call_of

RULES = SAMPLES / "rules"
ENGINE = load_engine()
PROTOCOL = ("P101", "P102", "P103", "P104", "P105")


@cache
def analysed(name: str) -> Analysis:
    return analyze(RULES / name if "/" not in name else SAMPLES / name, engine=ENGINE)


def findings(name: str, rule: str) -> list[Finding]:
    return [f for f in analysed(name).findings if f.rule.id == rule]


def flow_findings(flow: Flow, rule: str) -> list[Finding]:
    return [f for f in ENGINE.evaluate(call_of(flow)) if f.rule.id == rule]


def messages(name: str) -> list[SipMessage]:
    return read(RULES / name)[0]


def frames(finding: Finding) -> list[int]:
    return [e.frame for e in finding.evidence]


def body_bytes(message: SipMessage) -> int:
    """The bytes after the empty line that ends the header, counted here."""
    return len(message.raw) - (message.raw.index(b"\r\n\r\n") + 4)


def header_lines(message: SipMessage, name: str) -> list[str]:
    """The values of every header line called ``name``, read off the raw text."""
    head = message.raw.split(b"\r\n\r\n")[0].decode()
    return [line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
            if line.split(":", 1)[0] == name]


def test_the_samples_are_what_craft_violations_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_violations.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# P101, P103: responses to an INVITE without a To tag


def test_a_2xx_without_a_to_tag_names_the_answer_and_the_invite() -> None:
    """Frame 3 is the 200 OK, its To without a tag; frame 2, a 100 Trying without one, is
    allowed (RFC 3261 8.2.6.2) and is no evidence."""
    name = "answer-without-to-tag.pcap"
    invite, trying, ok, _ack = messages(name)
    assert (ok.status, ok.to_tag, trying.status, trying.to_tag) == (200, None, 100, None)
    [finding] = findings(name, "P101")
    assert frames(finding) == [invite.frame, ok.frame]
    assert finding.severity == "error"
    message = finding.message("en")
    assert f"The 200 OK in frame {ok.frame} from {ok.src}" in message
    assert f"the INVITE of frame {invite.frame}" in message and f"{ok.dst} can use" in message
    assert findings(name, "P103") == []


def test_a_provisional_response_without_a_to_tag_is_a_warning() -> None:
    name = "provisional-without-to-tag.pcap"
    ringing = next(m for m in messages(name) if m.status == 180)
    assert ringing.to_tag is None
    [finding] = findings(name, "P103")
    assert finding.severity == "warning" and frames(finding) == [1, ringing.frame]
    assert f"The 180 Ringing in frame {ringing.frame}" in finding.message("en")
    assert findings(name, "P101") == []


def test_100_trying_without_a_tag_and_tagged_answers_are_silent() -> None:
    """flows.answered: a 100 without tag (allowed), a 180 and a 200 with the callee's tag."""
    flow = Flow()
    answered(flow)
    assert flow_findings(flow, "P101") == flow_findings(flow, "P103") == []


def test_a_tagless_answer_seen_on_two_hops_is_one_finding() -> None:
    """The same 200 relayed by a proxy: one event (same CSeq and status), both hops' frames."""
    flow = Flow()
    proxy = flow.callee._replace(ip="198.51.100.1")
    first = flow.request("INVITE", at=0.0, body=SDP_BODY, dst=proxy)
    second = flow.request("INVITE", at=0.01, cseq=first.cseq, body=SDP_BODY, src=proxy)
    flow.response(second, 200, at=1.0, to_tag="", body=SDP_BODY)
    flow.response(first, 200, at=1.01, to_tag="", body=SDP_BODY)
    [finding] = flow_findings(flow, "P101")
    assert frames(finding) == [1, 2, 3, 4]


def test_a_re_invite_answer_is_not_judged() -> None:
    """A re-INVITE carries the To tag, and its answer copies the request's To (8.2.6.2): what a
    tagless answer to it means is not this rule's question."""
    flow = Flow()
    answered(flow)
    again = flow.request("INVITE", at=5.0, in_dialog=True, body=SDP_BODY)
    ok = flow.response(again, 200, at=5.1, body=SDP_BODY)
    assert _retagged(flow, ok, b"callee-tag", b"").to_tag is None
    assert flow_findings(flow, "P101") == []


# P102: a request naming no dialog of the call, accepted


def test_a_bye_with_a_wrong_to_tag_accepted_names_both_tags() -> None:
    name = "bye-wrong-tag-accepted.pcap"
    found = messages(name)
    ok = next(m for m in found if m.status == 200 and m.cseq_method == "INVITE")
    bye = next(m for m in found if m.method == "BYE")
    assert bye.to_tag == "0badf00d" != ok.to_tag
    [finding] = findings(name, "P102")
    assert frames(finding) == [bye.frame, bye.frame + 1]
    message = finding.message("en")
    assert "the To tag 0badf00d, which names no dialog" in message
    assert f"(the 2xx set up {ok.to_tag})" in message and "accepted it with 200" in message
    assert findings(name, "D112") == []  # D112 is the same BYE answered 481


def test_a_re_invite_with_a_wrong_from_tag_accepted() -> None:
    """The callee's re-INVITE (frame 6) carries From tag 5ca1ab1e instead of its own."""
    name = "reinvite-wrong-tag-accepted.pcap"
    ok = next(m for m in messages(name) if m.status == 200 and m.cseq_method == "INVITE")
    [finding] = findings(name, "P102")
    assert frames(finding) == [6, 7]
    assert f"the From tag 5ca1ab1e, which names no dialog of this call (the 2xx set up " \
           f"{ok.to_tag})" in finding.message("en")


def test_a_bye_of_a_call_the_capture_never_saw_set_up_is_not_judged() -> None:
    """The capture starts with the BYE: no 2xx to compare its tags with."""
    name = "bye-mid-call-capture.pcap"
    assert [m.method or m.status for m in messages(name)] == ["BYE", 200]
    assert findings(name, "P102") == []


def test_a_prack_in_the_early_dialog_of_another_fork_is_in_a_dialog() -> None:
    """A 183 from one branch (tag fork-a) is PRACKed and the PRACK accepted; another branch
    answers (tag fork-b). The PRACK named an early dialog of the call (RFC 3262 section 4)."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    flow.response(invite, 183, at=0.2, to_tag="fork-a")
    prack = flow.request("PRACK", at=0.3, headers=("RAck: 1 1 INVITE",), in_dialog=True)
    prack = _retagged(flow, prack, b"callee-tag", b"fork-a")
    flow.response(prack, 200, at=0.35)
    flow.ack(flow.response(invite, 200, at=1.0, to_tag="fork-b", body=SDP_BODY), at=1.01)
    assert flow_findings(flow, "P102") == []


def test_without_a_2xx_in_the_capture_there_is_nothing_to_compare_with() -> None:
    """A 183 from one branch, then a BYE (accepted) naming another: the 2xx that set up the
    dialog the BYE ends may be one the capture missed."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    flow.response(invite, 183, at=0.2, to_tag="fork-a")
    bye = flow.request("BYE", at=5.0, in_dialog=True)
    flow.response(_retagged(flow, bye, b"callee-tag", b"fork-b"), 200, at=5.1)
    assert flow_findings(flow, "P102") == []


def test_a_notify_with_other_tags_is_not_judged() -> None:
    """A NOTIFY can belong to a subscription's dialog, which the call does not list."""
    flow = Flow()
    answered(flow)
    notify = flow.request("NOTIFY", at=3.0, in_dialog=True, headers=("Event: refer",))
    flow.response(_retagged(flow, notify, b"callee-tag", b"subscription-tag"), 200, at=3.1)
    assert flow_findings(flow, "P102") == []


def test_an_update_with_a_wrong_tag_accepted_fires() -> None:
    flow = Flow()
    answered(flow)
    update = flow.request("UPDATE", at=3.0, in_dialog=True)
    flow.response(_retagged(flow, update, b"callee-tag", b"stale-tag"), 200, at=3.1)
    [finding] = flow_findings(flow, "P102")
    assert "the To tag stale-tag" in finding.message("en")


def _retagged(flow: Flow, message: SipMessage, old: bytes, new: bytes) -> SipMessage:
    """The last message of the flow, its tag ``old`` replaced by ``new``."""
    raw = message.raw.replace(b";tag=" + old, b";tag=" + new if new else b"")
    changed = parse_message(raw, message.frame, message.ts_ns, message.src, message.dst, "UDP")
    flow.messages[-1] = changed
    return changed


# P104: the body not as long as Content-Length, refused with 400


@pytest.mark.parametrize("name", ["invite-body-short-400.pcap", "invite-body-long-400.pcap"])
def test_a_request_refused_400_for_its_body_length_names_both_lengths(name: str) -> None:
    invite, refused, _ack = messages(name)
    length = int(header_lines(invite, "Content-Length")[0])
    have = body_bytes(invite)
    assert refused.status == 400 and have != length
    [finding] = findings(name, "P104")
    assert frames(finding) == [invite.frame, refused.frame]
    assert (f"says Content-Length: {length} but carries {have} bytes of body; {refused.src} "
            f"refused it with 400 Bad Request in frame {refused.frame}") in finding.message("en")
    [call] = analysed(name).calls
    assert call.outcome == "rejected"


def test_a_longer_body_accepted_is_a_defect_and_no_finding() -> None:
    """The extra CRLF after the body is discarded (RFC 3261 18.3) and the call goes on."""
    name = "invite-body-long-accepted.pcap"
    invite = messages(name)[0]
    assert body_bytes(invite) == int(header_lines(invite, "Content-Length")[0]) + 2
    assert findings(name, "P104") == []
    summary = analysed(name).summary
    assert summary.defective_messages == 1
    [problem] = summary.problems.examples["sip_body_long"]
    assert problem.frame == invite.frame
    [call] = analysed(name).calls
    assert call.outcome == "completed"


@pytest.mark.parametrize(("status", "expect"), [(488, 0), (400, 1)])
def test_a_body_length_mismatch_is_judged_only_when_refused_400(status: int,
                                                                expect: int) -> None:
    """Only 400 says the request was malformed (RFC 3261 21.4.1); a 488 is about the media."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    raw = invite.raw.replace(b"Content-Length: %d" % len(SDP_BODY), b"Content-Length: 10")
    flow.messages[-1] = parse_message(raw, invite.frame, invite.ts_ns, invite.src, invite.dst,
                                      "UDP")
    flow.response(flow.messages[-1], status, at=0.1)
    assert len(flow_findings(flow, "P104")) == expect


# P105: a header allowed once given twice, refused with 400


def test_a_second_from_refused_400_gives_both_values() -> None:
    name = "invite-repeated-from-400.pcap"
    invite, refused, _ack = messages(name)
    values = header_lines(invite, "From")
    assert len(values) == 2
    [finding] = findings(name, "P105")
    assert frames(finding) == [invite.frame, refused.frame]
    assert (f"gives From on more than one line ({values[0]} | {values[1]}); {refused.src} "
            f"refused it with 400 Bad Request") in finding.message("en")


def test_a_register_with_two_expires_refused_400_is_an_exchange_finding() -> None:
    name = "register-repeated-expires-400.pcap"
    register = messages(name)[0]
    assert header_lines(register, "Expires") == ["3600", "60"]
    [finding] = findings(name, "P105")
    assert "REGISTER in frame 1" in finding.message("en") and "(3600 | 60)" in finding.message()
    assert list(analysed(name).calls) == [] and len(list(analysed(name).exchanges)) == 1


def test_legal_repeats_are_no_defect_and_no_finding() -> None:
    """Via and Record-Route on several lines, Supported and Allow split over two (7.3.1)."""
    name = "legal-repeated-headers.pcap"
    invite = messages(name)[0]
    assert len(header_lines(invite, "Supported")) == len(header_lines(invite, "Allow")) == 2
    assert analysed(name).summary.defective_messages == 0
    assert findings(name, "P105") == []


def test_a_repeated_header_accepted_is_a_defect_and_no_finding() -> None:
    flow = Flow()
    answered(flow)
    invite = flow.messages[0]
    raw = invite.raw.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nMax-Forwards: 69\r\n")
    flow.messages[0] = parse_message(raw, invite.frame, invite.ts_ns, invite.src, invite.dst,
                                     "UDP")
    assert flow_findings(flow, "P105") == []


# The public captures


EXPECTED_PUBLIC = {
    # The 200 Ok of this crafted trace copies the INVITE's To without adding a tag (frame 2,
    # as tshark shows it): a real violation.
    "OISF__suricata-verify/tests/sip-sdp/sdp.pcap": ["P101"],
}


@needs_public
@pytest.mark.parametrize("capture", public_captures(), ids=lambda c: c.name)
def test_the_public_captures_give_only_the_violations_they_hold(capture) -> None:  # type: ignore[no-untyped-def]
    found = [f.rule.id for f in analyze(capture.path, engine=ENGINE).findings
             if f.rule.id in PROTOCOL]
    assert found == EXPECTED_PUBLIC.get(capture.name, [])


@needs_public
def test_the_tagless_answer_of_a_public_trace() -> None:
    """tshark shows frame 2 of Suricata's sip-sdp trace as 'SIP/2.0 200 Ok' with the INVITE's
    To, no tag: P101 names it, from 2.2.2.2 to 1.1.1.1."""
    analysis = analyze(PUBLIC / "OISF__suricata-verify/tests/sip-sdp/sdp.pcap", engine=ENGINE)
    [finding] = [f for f in analysis.findings if f.rule.id == "P101"]
    assert frames(finding) == [1, 2]
    assert "The 200 Ok in frame 2 from 2.2.2.2:5060" in finding.message("en")
