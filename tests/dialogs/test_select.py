"""Choosing calls (sipdiag/dialogs/select.py) and the rows and columns of a ladder
(dialogs/ladder.py).

Each criterion of a selection must hold; within one, any value may match. Users are found in
the user part of From, To and the Request-URI (RFC 3261 section 19.1.1: ``sip:user@host``;
RFC 3966: a ``tel:`` URI is the number, its parameters after ``;``).
"""

from __future__ import annotations

import pytest

from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.ladder import Arrow, endpoints, ladder_of
from sipdiag.dialogs.select import Selection, TimePoint, user_text
from sipdiag.network import Endpoint
from tests.flows import CALLEE, CALLER, T0, Flow, answered, call_of

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("uri", "user"),
    [
        ("sip:+4930123@example.com;user=phone", "+4930123"),
        ("sips:alice@example.com", "alice"),
        ("sip:alice@example.com:5061;transport=tls", "alice"),
        ("tel:+4930123;phone-context=example.com", "+4930123"),
        ("alice@example.com", "alice"),
        ("sip:alice;day=tuesday@example.com", "alice"),
    ],
)
def test_user_part_of_a_uri(uri: str, user: str) -> None:
    assert user_text(uri) == user


def test_user_parts_are_joined_by_a_space_so_a_user_cannot_span_two() -> None:
    assert user_text("sip:alice@example.com", "tel:+4930123") == "alice +4930123"


def call(*, at: float = 0.0, final: int = 200) -> Call:
    """A call from alice to bob (tests/flows.py) starting ``at`` seconds after T0: answered
    and acknowledged when ``final`` is 200, else refused with ``final``."""
    flow = Flow()
    if final == 200:
        answered(flow, at=at)
    else:
        invite = flow.request("INVITE", at=at)
        refused = flow.response(invite, final, at=at + 0.5)
        flow.ack(refused, at=at + 0.51)
    return call_of(flow)


def wanted(selection: Selection, subject: Call, has_problem: bool = False) -> bool:
    return selection.wants(subject, T0, has_problem)


def test_no_criterion_wants_every_call() -> None:
    assert Selection().everything
    assert wanted(Selection(), call())
    assert not Selection(users=("alice",)).everything
    assert not Selection(failing_only=True).everything


def test_call_id_must_be_one_of_those_given() -> None:
    subject = call()
    assert wanted(Selection(call_ids=("other", subject.call_id)), subject)
    assert not wanted(Selection(call_ids=("other",)), subject)


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        (("alice",), True),  # From
        (("bob",), True),  # To
        (("+4930",), True),  # a prefix of the Request-URI's number
        (("carol", "bob"), True),  # any of them
        (("carol",), False),
        (("example.com",), False),  # the host is not the user
    ],
)
def test_user_is_searched_in_from_to_and_request_uri(
    users: tuple[str, ...], expected: bool
) -> None:
    flow = Flow()
    invite = flow.request("INVITE", at=0.0, uri="sip:+4930123@example.com;user=phone")
    flow.response(invite, 404, at=0.5)
    assert wanted(Selection(users=users), call_of(flow)) is expected


def test_address_may_be_the_source_or_the_destination_of_any_message() -> None:
    subject = call()
    assert wanted(Selection(ips=(CALLER.ip,)), subject)
    assert wanted(Selection(ips=("203.0.113.9", CALLEE.ip)), subject)
    assert not wanted(Selection(ips=("203.0.113.9",)), subject)


def test_time_points_are_absolute_or_from_the_first_frame() -> None:
    assert TimePoint(5 * SECOND).resolve(T0) == 5 * SECOND
    assert TimePoint(5 * SECOND, relative=True).resolve(T0) == T0 + 5 * SECOND


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (None, None, True),
        (9.0, None, True),  # the call (10 s to 11.01 s) is still going at 9 s
        (11.01, None, True),  # its last message is at the start of the window
        (11.02, None, False),  # over before the window opens
        (None, 10.0, True),  # its first message is at the end of the window
        (None, 9.99, False),  # starts after the window closed
        (10.5, 10.6, True),  # a window inside the call: they overlap
    ],
)
def test_time_window_keeps_calls_that_overlap_it(
    since: float | None, until: float | None, expected: bool
) -> None:
    subject = call(at=10.0)  # INVITE at 10 s, ACK at 11.01 s

    def point(seconds: float | None, relative: bool) -> TimePoint | None:
        if seconds is None:
            return None
        ns = round(seconds * SECOND)
        return TimePoint(ns, relative=True) if relative else TimePoint(T0 + ns)

    for relative in (True, False):
        selection = Selection(since=point(since, relative), until=point(until, relative))
        assert wanted(selection, subject) is expected, relative


@pytest.mark.parametrize(
    ("final", "has_problem", "expected"),
    [
        (200, False, False),  # answered, nothing found
        (200, True, True),  # answered, but a rule found a problem
        (486, False, False),  # busy: the callee's choice, not a failure of the service
        # 487 without the caller's CANCEL: someone else ended the attempt (RFC 3261 9.2)
        (487, False, True),
        (503, False, True),  # rejected by the network
        (401, False, True),  # a challenge never answered: authentication failed
    ],
)
def test_failing_only_keeps_failed_outcomes_and_calls_with_problems(
    final: int, has_problem: bool, expected: bool
) -> None:
    subject = call(final=final)
    assert wanted(Selection(failing_only=True), subject, has_problem) is expected
    assert wanted(Selection(), subject, has_problem)


def test_every_criterion_must_hold() -> None:
    subject = call()
    assert wanted(Selection(call_ids=(subject.call_id,), users=("alice",)), subject)
    assert not wanted(Selection(call_ids=(subject.call_id,), users=("carol",)), subject)
    assert not wanted(Selection(users=("alice",), ips=("203.0.113.9",)), subject)


def test_ladder_columns_are_the_addresses_in_the_order_they_first_appear() -> None:
    a, b, c = (Endpoint(f"192.0.2.{n}", 5060) for n in (3, 1, 2))

    def arrow(src: Endpoint, dst: Endpoint) -> Arrow:
        return Arrow(1, T0, src, dst, "UDP", "INVITE", 0, 1, False)

    assert endpoints([arrow(a, b), arrow(b, c), arrow(c, a), arrow(b, a)]) == [a, b, c]
    assert endpoints([arrow(c, c)]) == [c]
    assert endpoints([]) == []


def test_ladder_rows_are_the_messages_as_sent() -> None:
    """One row per message: its frame, time, addresses and transport, its first line (the
    reason phrase as captured), and whether it carries an SDP body."""
    flow = Flow()
    answered(flow)  # the reason phrase of every response is "Reason" (tests/flows.py)
    subject = call_of(flow)
    rows = ladder_of(subject.messages, subject.transactions)
    assert [(r.frame, r.ts_ns, r.src, r.dst, r.transport) for r in rows] == [
        (m.frame, m.ts_ns, m.src, m.dst, "UDP") for m in flow.messages]
    assert [(r.label, r.status, r.copy, r.has_sdp) for r in rows] == [
        ("INVITE", 0, 1, True), ("100 Reason", 100, 1, False), ("180 Reason", 180, 1, False),
        ("200 Reason", 200, 1, True), ("ACK", 0, 1, False)]


def test_ladder_labels_a_response_without_reason_phrase_by_its_code() -> None:
    """The Reason-Phrase may be empty (RFC 3261 25.1: ``SIP/2.0 180 `` then CRLF): the row
    says the code alone, with no blank after it."""
    flow = Flow()
    invite = flow.request("INVITE", at=0.0)
    flow.response(invite, 180, at=0.2, reason="")
    subject = call_of(flow)
    assert [r.label for r in ladder_of(subject.messages, subject.transactions)] == [
        "INVITE", "180"]
