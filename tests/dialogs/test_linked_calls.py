"""Legs of a B2BUA linked by the headers that name them (sipdiag/dialogs/correlate.py):
X-CID and its kin name the other leg's Call-ID; Session-ID (RFC 7989) and the IMS charging
identifier (P-Charging-Vector icid-value, RFC 7315) are shared by every leg. And a late-joined
capture: the ACK of a refused INVITE whose request was not captured (RFC 3261 17.1.1.3)."""

from __future__ import annotations

import pytest

from sipdiag.dialogs.calls import Conversation
from sipdiag.dialogs.correlate import Correlator, correlation_keys, header_name
from tests.flows import Flow

UUID = "ab30317f1a784dc48ff824d0d3715d86"


def invite(call_id: str, *headers: str) -> Flow:
    flow = Flow(call_id=call_id)
    flow.request("INVITE", at=0, headers=headers)
    return flow


def linked(*legs: tuple[str, tuple[str, ...]]) -> list[tuple[str, str, str]]:
    correlator = Correlator()
    for call_id, headers in legs:
        correlator.add(call_id, invite(call_id, *headers).messages)
    known = {call_id for call_id, _ in legs}
    return [(link.call_id, link.other, link.reason) for link in correlator.links(known)]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (UUID, UUID.upper(), True),  # the same UUID in either case (RFC 7989 section 4)
        (UUID, f" {UUID} ;remote=" + "1" * 32, True),  # parameters after the local UUID
        (UUID, "bb30317f1a784dc48ff824d0d3715d86", False),
        # The null UUID is a UUID not yet known (RFC 7989 section 4): it links nothing.
        ("0" * 32, "0" * 32, False),
        (";remote=" + UUID, ";remote=" + UUID, False),  # no local UUID at all
    ],
    ids=["case", "parameters", "different", "null", "empty"],
)
def test_session_id_links_legs_with_the_same_local_uuid(
    first: str, second: str, expected: bool
) -> None:
    found = linked(("leg-a", (f"Session-ID: {first}",)), ("leg-b", (f"Session-ID: {second}",)))
    assert found == ([("leg-a", "leg-b", f"same Session-ID {UUID}")] if expected else [])


@pytest.mark.parametrize("header", ["X-CID", "X-Call-ID", "X-Original-Call-ID", "x-cid"])
def test_a_reference_header_names_the_other_leg(header: str) -> None:
    found = linked(("leg-b", (f"{header}: leg-a",)), ("leg-a", ()))
    assert found == [("leg-b", "leg-a", f"{header_name(header.lower())} in frame 1")]


def test_a_leg_naming_itself_or_an_absent_call_is_no_link() -> None:
    assert linked(("leg-a", ("X-CID: leg-a",)), ("leg-b", ())) == []
    assert linked(("leg-a", ("X-CID: elsewhere",)), ("leg-b", ())) == []


def test_header_names_as_they_are_written() -> None:
    assert [header_name(h) for h in ("x-cid", "x-call-id", "x-original-call-id")] == [
        "X-CID", "X-Call-ID", "X-Original-Call-ID"]


def test_only_invites_carry_the_keys() -> None:
    flow = Flow(call_id="leg-a")
    flow.request("OPTIONS", at=0, headers=(f"Session-ID: {UUID}", "X-CID: leg-z"))
    assert correlation_keys(flow.messages) == ([], [])
    flow.request("INVITE", at=1, headers=(f"Session-ID: {UUID}", f"Session-ID: {UUID}"))
    flow.request("INVITE", at=2, headers=(f"Session-ID: {UUID}",))
    assert correlation_keys(flow.messages) == ([], [f"Session-ID {UUID}"])  # once


def test_every_call_a_link_could_name_is_referenced() -> None:
    correlator = Correlator()
    for call_id, headers in (("leg-a", ("X-CID: leg-z",)), ("leg-b", (f"Session-ID: {UUID}",)),
                             ("leg-c", ())):
        correlator.add(call_id, invite(call_id, *headers).messages)
    assert correlator.referenced() == {"leg-a", "leg-z", "leg-b"}
    merged = Correlator.merged([correlator, Correlator()])
    assert merged.referenced() == correlator.referenced()


def test_the_ack_of_a_refused_invite_captured_without_it_joins_its_transaction() -> None:
    """The capture starts after the INVITE: its 486 and the ACK of that 486 are one
    transaction (the ACK of a non-2xx belongs to the INVITE's, RFC 3261 17.1.1.3)."""
    flow = Flow()
    request = flow.request("INVITE", at=0.0)
    busy = flow.response(request, 486, at=0.5)
    ack = flow.ack(busy, at=0.51)
    conversation = Conversation(flow.call_id)
    for message in (busy, ack):
        conversation.add(message)
    [transaction] = conversation.transactions
    assert transaction.request is None
    assert (transaction.final_status, transaction.acks) == (486, [ack])
