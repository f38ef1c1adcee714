"""Each step key of the rule language's sequence matching (rules/README.md, "The pattern"):
after, within, from_same_sender, to_contact_of, absent, provisional, transport, final_has and
final_lacks, each on the smallest call where the step must match and on the nearest call where
it must not (one detail changed). The rules under test are small YAML files read by the real
loader; the calls are real SIP bytes (tests/flows.py). Then the shipped rules whose meaning
hinges on these keys, on their real files: each on a call where it must fire and on the nearest
one where it must not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sipdiag.network import Endpoint
from sipdiag.rules import Catalog, Engine, builtin_catalog, load_engine
from sipdiag.rules.loader import load_rules
from sipdiag.rules.model import Finding
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import parse_message
from tests.flows import CALLER, SDP_BODY, Flow, answered, read
from tests.rules.test_engine import PROXY, rule_ids

ELSEWHERE = Endpoint("192.0.2.11", CALLER.port)
"""Another host than the caller's, on the same port: another sender."""

RULE = """\
id: X901
name: under-test
title:
  en: A rule under test
severity: warning
match:
{match}
message:
  en: "Call {{call.call_id}}"
explanation:
  en: Why.
causes:
  en: Causes.
fix:
  en: Fix.
"""


@pytest.fixture(scope="module")
def shipped() -> Engine:
    return load_engine()


@dataclass(frozen=True)
class RuleUnderTest:
    """A folder for one rule file, read by the real loader, with the shipped catalog."""

    folder: Path
    catalog: Catalog

    def matches(self, match: str, flow: Flow, end: float | None = None) -> list[Finding]:
        """The findings of a rule whose ``match:`` is ``match`` (YAML, one step per ``-``) on
        the flow read as a call or exchange."""
        indented = "\n".join(f"  {line}" if line else line for line in match.strip().splitlines())
        text = RULE.format(match=indented)
        (self.folder / "X901-under-test.yaml").write_text(text, encoding="utf-8")
        engine = Engine(load_rules([self.folder]), self.catalog)
        return engine.evaluate(read(flow, end))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return builtin_catalog()


@pytest.fixture
def under_test(tmp_path: Path, catalog: Catalog) -> RuleUnderTest:
    return RuleUnderTest(tmp_path, catalog)


def frames_of(findings: list[Finding], step: str) -> list[int]:
    """The frame of the request each finding's step matched."""
    return [int(f.values[f"{step}.frame"]) for f in findings]


def reinvites(*attempts: tuple[float, int]) -> tuple[Flow, list[SipMessage]]:
    """An answered call, then a re-INVITE from the caller at each (time, final status)."""
    flow = Flow()
    answered(flow)
    sent = []
    for at, status in attempts:
        invite = flow.request("INVITE", at=at, in_dialog=True, body=SDP_BODY)
        flow.response(invite, status, at=at + 0.05, body=SDP_BODY if status == 200 else "")
        sent.append(invite)
    return flow, sent


def carried_over(flow: Flow, transport: str) -> Flow:
    """The same messages as if the capture had seen them over another transport (and their
    Via saying so)."""
    via = f"SIP/2.0/{transport}".encode()
    flow.messages[:] = [
        parse_message(m.raw.replace(b"SIP/2.0/UDP", via), m.frame, m.ts_ns, m.src, m.dst,
                      transport)
        for m in flow.messages
    ]
    return flow


# --- after --------------------------------------------------------------------------------

REFUSED_THEN_ACCEPTED = """
- as: refused
  request: INVITE
  in_dialog: true
  final: 491
- as: accepted
  request: INVITE
  in_dialog: true
  after: refused
  final: 2xx
"""


def test_after_matches_a_transaction_that_starts_later(under_test: RuleUnderTest) -> None:
    flow, (refused, accepted) = reinvites((10, 491), (12, 200))
    found = under_test.matches(REFUSED_THEN_ACCEPTED, flow)
    assert frames_of(found, "refused") == [refused.frame]
    assert frames_of(found, "accepted") == [accepted.frame]


def test_after_does_not_match_a_transaction_that_started_before(under_test: RuleUnderTest) -> None:
    flow, _ = reinvites((10, 200), (12, 491))  # the same two, in the other order
    assert under_test.matches(REFUSED_THEN_ACCEPTED, flow) == []


def test_after_is_measured_from_the_step_it_names_not_the_one_before(
    under_test: RuleUnderTest,
) -> None:
    rule = """
- as: refused
  request: INVITE
  in_dialog: true
  final: 491
- as: bye
  request: BYE
  after: refused
- as: accepted
  request: INVITE
  in_dialog: true
  after: refused
  final: 2xx
"""
    flow, (_, accepted) = reinvites((10, 491), (12, 200))
    flow.response(flow.request("BYE", at=20, in_dialog=True), 200, at=20.01)
    assert frames_of(under_test.matches(rule, flow), "accepted") == [accepted.frame]
    early, _ = reinvites((8, 200), (10, 491))
    early.response(early.request("BYE", at=20, in_dialog=True), 200, at=20.01)
    assert under_test.matches(rule, early) == []


# --- within -------------------------------------------------------------------------------

WITHIN_2S = REFUSED_THEN_ACCEPTED + "  within: 2s\n"


@pytest.mark.parametrize(
    ("retry_at", "expected"),
    [
        (31.0, True),    # 1 s after
        (32.0, True),    # exactly 2 s after: within 2 s
        (32.001, False),  # 1 ms over the limit
        (40.0, False),
    ],
)
def test_within_limits_the_time_from_the_step_in_after(
    under_test: RuleUnderTest, retry_at: float, expected: bool
) -> None:
    # Late in the call (the 491 at 30 s), so a time counted from the call's start could not
    # be within 2 s.
    flow, (_, accepted) = reinvites((30, 491), (retry_at, 200))
    found = under_test.matches(WITHIN_2S, flow)
    assert frames_of(found, "accepted") == ([accepted.frame] if expected else [])


def test_within_in_milliseconds(under_test: RuleUnderTest) -> None:
    rule = REFUSED_THEN_ACCEPTED + "  within: 500ms\n"
    flow, _ = reinvites((10, 491), (10.5, 200))
    assert len(under_test.matches(rule, flow)) == 1
    flow, _ = reinvites((10, 491), (10.6, 200))
    assert under_test.matches(rule, flow) == []


# --- from_same_sender ---------------------------------------------------------------------

CHALLENGE_THEN_RETRY = """
- as: challenge
  request: REGISTER
  final: 401
- as: retry
  request: REGISTER
  after: challenge
  from_same_sender: {same}
  final: 2xx
"""


def challenged(retry_from: Endpoint) -> tuple[Flow, SipMessage]:
    flow = Flow(call_id="register-1@example.com")
    flow.response(flow.request("REGISTER", at=0, uri="sip:example.com"), 401, at=0.1)
    retry = flow.request("REGISTER", at=0.2, uri="sip:example.com", src=retry_from)
    flow.response(retry, 200, at=0.3)
    return flow, retry


@pytest.mark.parametrize(
    ("same", "retry_from", "expected"),
    [
        ("true", CALLER, True),
        ("true", ELSEWHERE, False),  # another host, same port
        ("true", PROXY, False),
        ("false", ELSEWHERE, True),
        ("false", CALLER, False),
    ],
)
def test_from_same_sender_compares_with_the_request_of_the_step_in_after(
    under_test: RuleUnderTest, same: str, retry_from: Endpoint, expected: bool
) -> None:
    flow, retry = challenged(retry_from)
    found = under_test.matches(CHALLENGE_THEN_RETRY.format(same=same), flow)
    assert frames_of(found, "retry") == ([retry.frame] if expected else [])


# --- to_contact_of ------------------------------------------------------------------------

REDIRECT_THEN_RETRY = """
- as: redirect
  request: INVITE
  final: 3xx
- as: retry
  request: INVITE
  after: redirect
  to_contact_of: redirect
"""


def redirected(contacts: tuple[str, ...], target: str) -> tuple[Flow, SipMessage]:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    moved = flow.response(invite, 302, at=0.1, headers=contacts)
    flow.ack(moved, at=0.11)
    retry = flow.request("INVITE", at=0.2, uri=target)
    flow.response(retry, 486, at=0.3)
    return flow, retry


@pytest.mark.parametrize(
    ("contacts", "target", "expected"),
    [
        (("Contact: <sip:bob@192.0.2.99>",), "sip:bob@192.0.2.99", True),
        (('Contact: "Bob" <sip:bob@192.0.2.99>;q=0.7',), "sip:bob@192.0.2.99", True),
        # the host is compared without regard to case (RFC 3261 section 19.1.4)
        (("Contact: <sip:bob@GW.Example.COM>",), "sip:bob@gw.example.com", True),
        # any of the Contacts, in one header or several
        (("Contact: <sip:bob@192.0.2.98>, <sip:bob@192.0.2.99>",), "sip:bob@192.0.2.99", True),
        (("Contact: <sip:bob@192.0.2.98>", "Contact: <sip:bob@192.0.2.99>"),
         "sip:bob@192.0.2.99", True),
        # the nearest requests that go elsewhere
        (("Contact: <sip:bob@192.0.2.99>",), "sip:carol@192.0.2.99", False),
        (("Contact: <sip:bob@192.0.2.99>",), "sip:bob@192.0.2.98", False),
        (("Contact: <sip:bob@192.0.2.99:5080>",), "sip:bob@192.0.2.99:5070", False),
        (("Contact: <sip:bob@192.0.2.99>",), "sips:bob@192.0.2.99", False),
        ((), "sip:bob@192.0.2.99", False),  # the redirect gave no Contact
    ],
)
def test_to_contact_of_wants_the_request_sent_to_a_contact_of_that_final(
    under_test: RuleUnderTest, contacts: tuple[str, ...], target: str, expected: bool
) -> None:
    flow, retry = redirected(contacts, target)
    found = under_test.matches(REDIRECT_THEN_RETRY, flow)
    assert frames_of(found, "retry") == ([retry.frame] if expected else [])


# --- absent -------------------------------------------------------------------------------

REFUSED_AND_NEVER_ACCEPTED = """
- as: refused
  request: INVITE
  in_dialog: true
  final: 491
- absent: true
  request: INVITE
  in_dialog: true
  after: refused
  final: 2xx
"""


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        (((10, 491),), True),
        (((10, 491), (12, 200)), False),  # the transaction is there
        (((10, 491), (12, 488)), True),   # a later one, but not a 2xx
        (((8, 200), (10, 491)), True),    # a 2xx, but before
    ],
)
def test_absent_fires_only_when_no_transaction_matches_the_step(
    under_test: RuleUnderTest, attempts: tuple[tuple[float, int], ...], expected: bool
) -> None:
    flow, sent = reinvites(*attempts)
    refused = next(m for m, (_, status) in zip(sent, attempts, strict=True) if status == 491)
    found = under_test.matches(REFUSED_AND_NEVER_ACCEPTED, flow)
    assert frames_of(found, "refused") == ([refused.frame] if expected else [])


# --- provisional --------------------------------------------------------------------------


def ringing(*provisional: int, final: int = 200) -> tuple[Flow, SipMessage]:
    flow = Flow()
    invite = flow.request("INVITE", at=0, body=SDP_BODY)
    for n, status in enumerate(provisional):
        flow.response(invite, status, at=0.1 * (n + 1))
    flow.ack(flow.response(invite, final, at=2), at=2.01)
    return flow, invite


@pytest.mark.parametrize(
    ("wanted", "sent", "expected"),
    [
        ("183", (100, 183), True),
        ("183", (100, 180), False),
        ("[180, 183]", (100, 180), True),
        ("1xx", (100,), True),
        ("1xx", (), False),  # only the final response
        ("180", (100,), False),
    ],
)
def test_provisional_wants_one_provisional_response_of_that_code(
    under_test: RuleUnderTest, wanted: str, sent: tuple[int, ...], expected: bool
) -> None:
    rule = f"""
- as: invite
  request: INVITE
  provisional: {wanted}
"""
    flow, invite = ringing(*sent)
    assert frames_of(under_test.matches(rule, flow), "invite") == (
        [invite.frame] if expected else []
    )


# --- transport ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "carried", "expected"),
    [
        ("TCP", "TCP", True),
        ("TCP", "UDP", False),
        ("[TLS, tcp]", "TCP", True),  # a list, in any case
        ("[TLS, tcp]", "UDP", False),
        ("UDP", "TCP", False),
    ],
)
def test_transport_is_the_transport_the_request_was_carried_over(
    under_test: RuleUnderTest, wanted: str, carried: str, expected: bool
) -> None:
    rule = f"""
- as: invite
  request: INVITE
  transport: {wanted}
"""
    flow, invite = ringing(100)
    found = under_test.matches(rule, carried_over(flow, carried))
    assert frames_of(found, "invite") == ([invite.frame] if expected else [])


# --- final_has / final_lacks --------------------------------------------------------------


def unavailable(final_headers: tuple[str, ...], provisional_headers: tuple[str, ...] = (),
                request_headers: tuple[str, ...] = ()) -> tuple[Flow, SipMessage]:
    flow = Flow()
    invite = flow.request("INVITE", at=0, headers=request_headers)
    flow.response(invite, 100, at=0.01, headers=provisional_headers)
    flow.ack(flow.response(invite, 503, at=0.2, headers=final_headers), at=0.21)
    return flow, invite


HAS, LACKS = "final_has", "final_lacks"


@pytest.mark.parametrize(
    ("condition", "names", "final_headers", "elsewhere", "expected"),
    [
        (HAS, "Retry-After", ("Retry-After: 30",), (), True),
        (HAS, "Retry-After", (), (), False),
        # on the request and on the 100, but not on the final response
        (HAS, "Retry-After", (), ("Retry-After: 30",), False),
        (HAS, "retry-after", ("RETRY-AFTER: 30",), (), True),  # names in any case
        (HAS, "Contact", ("m: <sip:bob@192.0.2.99>",), (), True),  # compact form
        (HAS, "[Warning, Retry-After]", ("Retry-After: 30",), (), True),  # one of the list
        (HAS, "[Warning, Server]", ("Retry-After: 30",), (), False),
        (LACKS, "Retry-After", (), (), True),
        (LACKS, "Retry-After", ("Retry-After: 30",), (), False),
        # on the request and on the 100 only: the final response still lacks it
        (LACKS, "Retry-After", (), ("Retry-After: 30",), True),
        (LACKS, "[Warning, Retry-After]", ("Retry-After: 30",), (), False),  # none of the list
        (LACKS, "[Warning, Server]", ("Retry-After: 30",), (), True),
    ],
)
def test_final_has_and_final_lacks_read_the_final_response(
    under_test: RuleUnderTest, condition: str, names: str, final_headers: tuple[str, ...],
    elsewhere: tuple[str, ...], expected: bool,
) -> None:
    rule = f"""
- as: invite
  request: INVITE
  final: 503
  {condition}: {names}
"""
    flow, invite = unavailable(final_headers, elsewhere, elsewhere)
    found = under_test.matches(rule, flow)
    assert frames_of(found, "invite") == ([invite.frame] if expected else [])


# --- the shipped rules that hinge on these keys ----------------------------------------------


def bye_answered(status: int) -> Flow:
    flow = Flow()
    answered(flow)
    flow.response(flow.request("BYE", at=5, in_dialog=True), status, at=5.01)
    return flow


def test_d101_fires_on_a_bye_answered_481(shipped: Engine) -> None:
    assert "D101" in rule_ids(shipped, bye_answered(481))


@pytest.mark.parametrize("status", [400, 403, 404, 408, 480, 482, 486, 487, 489, 491, 200, 500])
def test_d101_does_not_fire_on_any_other_answer_to_a_bye(shipped: Engine, status: int) -> None:
    # RFC 3261 section 21.4.19: 481 Call/Transaction Does Not Exist, and only that, says the
    # far end knows no such dialog.
    assert "D101" not in rule_ids(shipped, bye_answered(status))


def test_d101_does_not_fire_on_a_481_to_another_request(shipped: Engine) -> None:
    flow = Flow()
    answered(flow)
    flow.response(flow.request("INVITE", at=5, in_dialog=True, body=SDP_BODY), 481, at=5.1)
    ids = rule_ids(shipped, flow, end=60)
    assert "D101" not in ids and "D102" in ids


def glare(retry_at: float | None, *, earlier_success: bool = False) -> Flow:
    """Both sides send a re-INVITE at 10 s and each answers the other 491 (RFC 3261 section
    14.1); the caller's retry at ``retry_at`` succeeds. ``earlier_success``: a re-INVITE (a
    hold) succeeded at 5 s, before the glare."""
    flow = Flow()
    answered(flow)
    cseq = 2
    if earlier_success:
        hold = flow.request("INVITE", at=5, in_dialog=True, body=SDP_BODY, cseq=cseq)
        flow.ack(flow.response(hold, 200, at=5.05, body=SDP_BODY), at=5.06)
        cseq += 1
    ours = flow.request("INVITE", at=10, in_dialog=True, body=SDP_BODY, cseq=cseq)
    theirs = flow.request("INVITE", at=10, in_dialog=True, body=SDP_BODY, reverse=True, cseq=1)
    flow.ack(flow.response(ours, 491, at=10.01), at=10.02)
    flow.ack(flow.response(theirs, 491, at=10.01), at=10.02)
    if retry_at is not None:
        retry = flow.request("INVITE", at=retry_at, in_dialog=True, body=SDP_BODY, cseq=cseq + 1)
        flow.ack(flow.response(retry, 200, at=retry_at + 0.05, body=SDP_BODY), at=retry_at + 0.06)
    return flow


def glare_rules(engine: Engine, flow: Flow) -> set[str]:
    return {rule for rule in rule_ids(engine, flow, end=60) if rule in ("D107", "D108")}


def test_glare_never_retried_is_unresolved(shipped: Engine) -> None:
    assert glare_rules(shipped, glare(None)) == {"D108"}


def test_a_success_before_the_glare_does_not_resolve_it(shipped: Engine) -> None:
    assert glare_rules(shipped, glare(None, earlier_success=True)) == {"D108"}


def test_glare_retried_with_success_is_resolved(shipped: Engine) -> None:
    assert glare_rules(shipped, glare(12.5)) == {"D107"}
    assert glare_rules(shipped, glare(12.5, earlier_success=True)) == {"D107"}


@pytest.mark.parametrize(("retry_at", "expected"), [(20.0, {"D107"}), (20.001, set())])
def test_glare_is_resolved_only_by_a_retry_within_10_s(
    shipped: Engine, retry_at: float, expected: set[str]
) -> None:
    # D107 says within 10s; a later success is no glare resolved, and no glare left
    # unresolved either (D108 wants no later success at all).
    assert glare_rules(shipped, glare(retry_at)) == expected


def registered(retry_from: Endpoint, retry_at: float) -> Flow:
    flow = Flow(call_id="register-2@example.com")
    flow.response(flow.request("REGISTER", at=0, uri="sip:example.com"), 401, at=0.1)
    credentials = ('Authorization: Digest username="alice", realm="example.com"',)
    retry = flow.request("REGISTER", at=retry_at, uri="sip:example.com", src=retry_from,
                         headers=credentials)
    flow.response(retry, 200, at=retry_at + 0.1)
    return flow


@pytest.mark.parametrize(
    ("retry_from", "retry_at", "expected"),
    [
        (CALLER, 0.2, True),
        (CALLER, 300.0, True),     # 5 minutes exactly
        (CALLER, 300.001, False),  # just over A101's 5 minutes
        (ELSEWHERE, 0.2, False),   # credentials from another host answer no challenge of ours
    ],
)
def test_a101_challenge_answered_by_the_same_sender_within_5_minutes(
    shipped: Engine, retry_from: Endpoint, retry_at: float, expected: bool
) -> None:
    assert ("A101" in rule_ids(shipped, registered(retry_from, retry_at))) is expected


def redirect(retry: tuple[str, Endpoint] | None) -> Flow:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.ack(flow.response(invite, 302, at=0.1, headers=("Contact: <sip:bob@192.0.2.99>",)),
             at=0.11)
    if retry is not None:
        target, sender = retry
        again = flow.request("INVITE", at=0.2, uri=target, src=sender)
        flow.ack(flow.response(again, 486, at=0.3), at=0.31)
    return flow


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        (("sip:bob@192.0.2.99", CALLER), {"C103"}),
        (None, {"C104"}),
        # the caller sent nothing more; another host's INVITE is no following of the redirect
        (("sip:bob@192.0.2.99", ELSEWHERE), {"C104"}),
    ],
)
def test_redirect_followed_or_not(
    shipped: Engine, retry: tuple[str, Endpoint] | None, expected: set[str]
) -> None:
    ids = rule_ids(shipped, redirect(retry))
    assert {rule for rule in ids if rule in ("C103", "C104")} == expected


def test_a_new_invite_elsewhere_is_no_redirect_followed(shipped: Engine) -> None:
    assert "C103" not in rule_ids(shipped, redirect(("sip:carol@192.0.2.50", CALLER)))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(("Retry-After: 120",), "C110"), ((), "C111"), (("Warning: 399 sbc \"busy\"",), "C111")],
)
def test_503_with_and_without_retry_after(
    shipped: Engine, headers: tuple[str, ...], expected: str
) -> None:
    flow, _ = unavailable(headers)
    assert {rule for rule in rule_ids(shipped, flow) if rule in ("C110", "C111")} == {expected}


def large_invite(transport: str) -> Flow:
    flow = Flow()
    padding = "".join(f"a=x-padding:{n:04d} {'x' * 60}\r\n" for n in range(20))
    invite = flow.request("INVITE", at=0, body=SDP_BODY + padding)
    assert len(invite.raw) > 1300
    flow.ack(flow.response(invite, 486, at=0.1), at=0.11)
    return carried_over(flow, transport)


def test_a_large_request_matters_only_over_udp(shipped: Engine) -> None:
    # RFC 3261 section 18.1.1: a request larger than 1300 bytes (path MTU unknown) must go over
    # a congestion-controlled transport such as TCP; over TCP it is what should happen.
    assert "N102" in rule_ids(shipped, large_invite("UDP"))
    assert "N102" not in rule_ids(shipped, large_invite("TCP"))
