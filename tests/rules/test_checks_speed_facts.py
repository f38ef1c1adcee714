"""The facts the checks read once per call before doing real work (``checks.facts``), the
subject kept for the latest call only (``matcher.latest``), and the story's quick test of
whether a rule's first step can match at all (``Story.could_start``).

A check that declares what it needs is skipped on a call that lacks it, so each fact must be
True whenever the check could find anything: a header is found as ``SipMessage.values`` finds
it (RFC 3261 7.3.1: names in any case, spaces before the colon, folded lines; 7.3.3 and RFC
8224 4, RFC 4028 4: compact forms), never in a body.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.rules import checks, load_engine
from sipdiag.rules.checks.facts import Facts, Needs, facts_of
from sipdiag.rules.matcher import Hit, latest, story_of
from sipdiag.rules.model import Statuses, Step
from tests.flows import SDP_BODY, Flow, answered, call_of, read

SECOND_NS = 1_000_000_000


def _completed_call(invite_headers: tuple[str, ...] = (), body: str = SDP_BODY,
                    ok_headers: tuple[str, ...] = ()) -> Call:
    """INVITE with these headers, 180, 200 (with these), ACK, then BYE answered 200, 10 s after
    the INVITE."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, headers=invite_headers, body=body)
    flow.response(invite, 180, at=0.2)
    ok = flow.response(invite, 200, at=1.0, body=SDP_BODY, headers=ok_headers)
    flow.ack(ok, at=1.01)
    bye = flow.request("BYE", at=10.0, in_dialog=True)
    flow.response(bye, 200, at=10.05)
    return call_of(flow)


def _found_by_values(subject: Call | Exchange, header: str, in_requests: bool) -> bool:
    return any(message.values(header) for message in subject.messages
               if message.is_request is in_requests)


@pytest.mark.parametrize(("line", "header", "carried"), [
    ("Identity: abc.def.ghi;info=<https://cert.example.org/a.cer>", "identity", True),
    ("y: abc.def.ghi", "identity", True),  # compact form (RFC 8224 4)
    ("IDENTITY : abc.def.ghi", "identity", True),  # any case, space before the colon
    ("Identity-Info: <https://cert.example.org/a.cer>", "identity", False),  # another header
    ("x: 1800;refresher=uac", "session-expires", True),  # compact form (RFC 4028 4)
    ("Session-Expires: 1800", "session-expires", True),
    ("Warning: 399 proxy.example.com\r\n \"folded text\"", "warning", True),  # folded line
    ("Subject: no warning here", "warning", False),
    ("X-Undeclared: 1", "x-undeclared", True),  # no check needs it: read on demand
    ("Subject: nothing", "x-undeclared", False),
])
def test_a_header_is_carried_as_the_message_finds_it(line: str, header: str,
                                                      carried: bool) -> None:
    call = _completed_call((line,))
    assert Facts(call).requests.may_carry(header) is carried
    assert _found_by_values(call, header, in_requests=True) is carried


def test_a_header_is_looked_for_in_requests_or_in_responses() -> None:
    """Warning is a response header (RFC 3261 20.43), Identity a request header (RFC 8224 4):
    each side is read on its own."""
    call = _completed_call(("Identity: abc.def.ghi",), ok_headers=('Warning: 399 b "text"',))
    facts = Facts(call)
    assert facts.requests.may_carry("identity")
    assert not facts.responses.may_carry("identity")
    assert facts.responses.may_carry("warning")
    assert not facts.requests.may_carry("warning")
    assert not facts.responses.may_carry("x-undeclared")


def test_a_header_declared_after_a_scan_is_looked_for_too() -> None:
    call = _completed_call(("X-Declared-Late: 1",))
    facts = Facts(call)
    assert not facts.requests.carries_any(("identity",))  # the declared ones, read
    assert Needs(request_headers=("X-Declared-Late",)).met_by(facts)


def test_a_header_name_in_a_body_is_not_a_header() -> None:
    """Everything after the blank line is the body (RFC 3261 7.4): a line in it that looks like
    a header is no header of the message."""
    call = _completed_call(body=SDP_BODY + "Identity: abc\r\nWarning: 399 x \"y\"\r\n")
    assert not Facts(call).requests.may_carry("identity")
    assert not Facts(call).requests.may_carry("warning")


def test_needs_ask_for_one_of_each_thing_given() -> None:
    """INVITE answered 200 and BYE answered 200, 10.05 s from first to last message."""
    facts = Facts(_completed_call())
    assert Needs().met_by(facts)
    assert Needs(methods=("REGISTER", "BYE")).met_by(facts)
    assert not Needs(methods=("REGISTER",)).met_by(facts)
    assert Needs(finals=(481, 200)).met_by(facts)
    assert not Needs(finals=(481,)).met_by(facts)
    assert Needs(final_from=200).met_by(facts)
    assert not Needs(final_from=300).met_by(facts)
    assert not Needs(methods=("BYE",), finals=(481,)).met_by(facts)  # every field must hold
    assert Needs(lasting_ns=10 * SECOND_NS).met_by(facts)
    assert not Needs(lasting_ns=11 * SECOND_NS).met_by(facts)
    assert not Needs(request_headers=("warning", "identity")).met_by(facts)
    assert Needs(response_headers=("via",)).met_by(facts)  # copied into responses (8.2.6.2)
    assert not Needs(response_headers=("warning", "rseq")).met_by(facts)


def test_the_time_span_is_from_the_earliest_message_to_the_latest() -> None:
    """A capture's clock may step back: the span is not the first message to the last."""
    flow = Flow()
    options = flow.request("OPTIONS", at=5.0)
    flow.response(options, 200, at=0.0)
    assert Facts(read(flow)).span_ns == 5 * SECOND_NS


def test_the_facts_are_read_once_per_subject() -> None:
    first, second = _completed_call(), _completed_call()
    assert facts_of(first) is facts_of(first)
    assert story_of(first) is facts_of(first).story
    assert facts_of(second).subject is second
    assert facts_of(first).subject is first  # read again: only the latest is kept


def test_latest_remembers_the_latest_subject_only() -> None:
    reads: list[object] = []

    @latest
    def read_once(subject: object) -> list[object]:
        reads.append(subject)
        return [subject]

    a, b = object(), object()
    assert read_once(a) is read_once(a)
    assert read_once(b) == [b]
    assert read_once(a) == [a]
    assert reads == [a, b, a]


def _step(**fields: object) -> Step:
    return Step("x", **fields)  # type: ignore[arg-type]


def test_a_step_cannot_start_without_its_final_class() -> None:
    """A call answered 200 has no 3xx (RFC 3261 21.3): a step asking for a redirect cannot
    match, one asking for 2xx can."""
    story = story_of(_completed_call())
    assert not story.could_start(_step(methods=frozenset({"INVITE"}),
                                       final=Statuses(classes=frozenset({3}))))
    assert story.could_start(_step(methods=frozenset({"INVITE"}),
                                   final=Statuses(classes=frozenset({2}))))
    assert story.could_start(_step(final=Statuses(none=True)))  # the ACK has no response


def test_a_step_cannot_start_without_a_cancel_or_an_unanswered_request() -> None:
    """A cancelled step needs a CANCEL (RFC 3261 9.1); a timed out one a request of its method
    without a final response (17.1.1.2)."""
    story = story_of(_completed_call())
    assert not story.could_start(_step(methods=frozenset({"INVITE"}), cancelled=True))
    assert not story.could_start(_step(methods=frozenset({"BYE"}), timed_out=True))
    assert story.could_start(_step(timed_out=True))  # the ACK: never answered

    flow = Flow()
    invite = flow.request("INVITE", at=0.0, body=SDP_BODY)
    flow.response(invite, 180, at=0.2)
    cancel = flow.request("CANCEL", at=3.0, cseq=invite.cseq, branch=invite.branch)
    flow.response(cancel, 200, at=3.01)
    flow.response(invite, 487, at=3.02)
    bye_flow = Flow(call_id="flow-2@example.com")
    answered(bye_flow)
    bye_flow.request("BYE", at=5.0, in_dialog=True)
    assert story_of(call_of(flow)).could_start(_step(methods=frozenset({"INVITE"}),
                                                     cancelled=True))
    assert story_of(call_of(bye_flow)).could_start(_step(methods=frozenset({"BYE"}),
                                                         timed_out=True))


def test_the_engine_runs_a_check_only_on_a_subject_that_shows_what_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A completed call has no 4xx to 6xx, no REGISTER, no Identity header: the checks that
    need one are never called on it; those that need nothing, or what it shows, are."""
    call = _completed_call()
    facts = Facts(call)
    registry = checks.registry.CHECKS
    called: list[str] = []
    for name, check in list(registry.items()):
        def run(subject: object, params: object, catalog: object, name: str = name,
                real: object = check.run) -> Iterator[Hit]:
            called.append(name)
            assert callable(real)
            return real(subject, params, catalog)
        monkeypatch.setitem(registry, name, replace(check, run=run))
    load_engine().evaluate(call)
    unmet = {name for name, check in registry.items()
             if check.needs is not None and not check.needs.met_by(facts)}
    met = {name for name, check in registry.items()
           if check.needs is None or check.needs.met_by(facts)}
    assert "credentials_refused" in unmet and "identity_malformed" in unmet
    assert unmet and not unmet & set(called)
    assert met & set(called)
