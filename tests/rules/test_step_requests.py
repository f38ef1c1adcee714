"""What a step asks of a transaction's request (rules/README.md: initial, in_dialog,
request_size_over, request_has/request_lacks, from_same_sender, to_contact_of), including a
transaction whose request was not captured; and the placeholders a step fills in a finding's
text (``{name.status}``, ``{name.wait}``, ...)."""

from __future__ import annotations

import pytest

from sipdiag.dialogs.calls import Conversation
from sipdiag.rules.matcher import _request_ok, seconds, transaction_values
from sipdiag.rules.model import Step
from sipdiag.sip.message import SipMessage
from tests.flows import CALLEE, CALLER, T0, Flow, call_of

NEEDS_REQUEST = {
    "initial": Step("s", initial=True),
    "not-initial": Step("s", initial=False),
    "in-dialog": Step("s", in_dialog=True),
    "out-of-dialog": Step("s", in_dialog=False),
    "size": Step("s", request_size_over=10),
    "has": Step("s", request_has=frozenset({"subject"})),
    "same-sender": Step("s", from_same_sender=True),
    "other-sender": Step("s", from_same_sender=False),
    "contact": Step("s", to_contact_of="redirect"),
}


@pytest.mark.parametrize("name", sorted(NEEDS_REQUEST))
def test_a_step_about_the_request_does_not_match_without_one(name: str) -> None:
    assert _request_ok(NEEDS_REQUEST[name], None) is False


@pytest.mark.parametrize("step", [Step("s"), Step("s", request_lacks=frozenset({"subject"}))],
                         ids=["nothing", "lacks"])
def test_a_step_that_needs_nothing_of_the_request_matches_without_one(step: Step) -> None:
    assert _request_ok(step, None) is True


def requests() -> dict[str, SipMessage]:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, headers=("Subject: hello",))
    ok = flow.response(invite, 200, at=1.0)
    flow.ack(ok, at=1.1)
    bye = flow.request("BYE", at=5.0, in_dialog=True)
    options = flow.request("OPTIONS", at=6.0)
    return {"invite": invite, "bye": bye, "options": options}


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        # An initial request is an INVITE outside a dialog (no To tag, RFC 3261 12.1).
        (Step("s", initial=True), {"invite"}),
        (Step("s", initial=False), {"bye", "options"}),
        (Step("s", in_dialog=True), {"bye"}),
        (Step("s", in_dialog=False), {"invite", "options"}),
        (Step("s", request_has=frozenset({"subject"})), {"invite"}),
        (Step("s", request_lacks=frozenset({"subject"})), {"bye", "options"}),
        (Step("s", request_has=frozenset({"subject", "priority"})), {"invite"}),  # any of them
    ],
)
def test_each_request_condition(step: Step, expected: set[str]) -> None:
    assert {name for name, request in requests().items() if _request_ok(step, request)} == expected


def test_request_size_over_is_strictly_more_bytes() -> None:
    invite = requests()["invite"]
    size = len(invite.raw)
    assert _request_ok(Step("s", request_size_over=size - 1), invite)
    assert not _request_ok(Step("s", request_size_over=size), invite)


def test_placeholders_of_an_answered_transaction() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=2.0)
    flow.copy(invite, at=2.5)
    ok = flow.response(invite, 200, at=3.25, reason="Fine")
    flow.ack(ok, at=3.3)
    [transaction, _ack] = call_of(flow).transactions
    assert transaction_values("invite", transaction, T0) == {
        "invite.method": "INVITE", "invite.frame": str(invite.frame), "invite.time": "2.000",
        "invite.status": "200", "invite.reason": "Fine", "invite.final_frame": str(ok.frame),
        "invite.sender": str(CALLER), "invite.responder": str(CALLEE), "invite.copies": "2",
        "invite.wait": "1.250",
    }


def test_placeholders_without_a_final_response_or_a_request() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.5)
    ringing = flow.response(invite, 180, at=0.75)
    [unanswered] = call_of(flow).transactions
    values = transaction_values("x", unanswered, T0)
    for key in ("status", "reason", "final_frame", "responder", "wait"):
        assert values[f"x.{key}"] == "-"
    # Only a response captured: the sender is the one it went to.
    conversation = Conversation(flow.call_id)
    conversation.add(ringing)
    [late] = conversation.transactions
    values = transaction_values("x", late, T0)
    assert (values["x.frame"], values["x.sender"], values["x.copies"]) == (
        str(ringing.frame), str(CALLER), "0")


@pytest.mark.parametrize(
    ("ns", "expected"),
    [(0, "0.000"), (1_000_499_999, "1.000"), (1_000_500_001, "1.001"),
     (86_400_000_000_000, "86400.000")],
)
def test_times_are_in_seconds_to_the_nearest_millisecond(ns: int, expected: str) -> None:
    assert seconds(ns) == expected
