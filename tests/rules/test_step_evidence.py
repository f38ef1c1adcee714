"""The evidence a matched step gives its finding (the frames a report points to): the request
once, or each copy of it when the step is about copies (retransmitted, timed_out); the final
response, or, when the request was not captured, the first response that was."""

from __future__ import annotations

import pytest

from sipdiag.rules.matcher import find, story_of
from sipdiag.rules.model import Step
from tests.flows import Flow, read

INVITE = frozenset({"INVITE"})


def evidence_of(step: Step, flow: Flow) -> list[tuple[int, str, int]]:
    """(frame, what, copy) of each message the one hit of ``step`` on the flow names."""
    [hit] = find((step,), story_of(read(flow)))
    return [(e.frame, e.what, e.copy) for e in hit.evidence]


@pytest.mark.parametrize(
    ("step", "copies"),
    [(Step("s", methods=INVITE), 1),
     (Step("s", methods=INVITE, retransmitted=True), 2)],
    ids=["once", "retransmitted"],
)
def test_a_request_sent_twice_is_evidence_once_unless_the_step_is_about_copies(
    step: Step, copies: int
) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    again = flow.copy(invite, at=0.5)
    busy = flow.response(invite, 486, at=1)
    sent = [(invite.frame, "INVITE", 1), (again.frame, "INVITE", 2)]
    assert evidence_of(step, flow) == [*sent[:copies], (busy.frame, "486 INVITE", 1)]


def test_without_a_final_response_the_request_alone_is_evidence() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    flow.response(invite, 180, at=0.2)
    assert evidence_of(Step("s", methods=INVITE), flow) == [(invite.frame, "INVITE", 1)]


def test_without_the_request_its_first_response_is_evidence() -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0)
    trying = flow.response(invite, 100, at=0.1)
    flow.response(invite, 180, at=0.2)
    flow.messages.remove(invite)  # not captured
    assert evidence_of(Step("s", methods=INVITE), flow) == [(trying.frame, "100 INVITE", 1)]
