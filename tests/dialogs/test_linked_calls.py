"""Legs of a B2BUA linked by the headers that name them (sipdiag/dialogs/correlate.py):
X-CID and its kin name the other leg's Call-ID; Session-ID (RFC 7989) and the IMS charging
identifier (P-Charging-Vector icid-value, RFC 7315) are shared by every leg. And a late-joined
capture: the ACK of a refused INVITE whose request was not captured (RFC 3261 17.1.1.3)."""

from __future__ import annotations

import pytest

from sipdiag.dialogs.calls import Conversation
from sipdiag.dialogs.correlate import (
    Confidence,
    Correlator,
    correlation_keys,
    header_name,
    party_key,
    same_party,
)
from sipdiag.network import Endpoint
from tests.flows import Flow, call_of

UUID = "ab30317f1a784dc48ff824d0d3715d86"


def invite(call_id: str, *headers: str) -> Flow:
    flow = Flow(call_id=call_id)
    flow.request("INVITE", at=0, headers=headers)
    return flow


def linked(*legs: tuple[str, tuple[str, ...]]) -> list[tuple[str, str, str]]:
    correlator = Correlator()
    for call_id, headers in legs:
        correlator.add(call_of(invite(call_id, *headers)))
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
        correlator.add(call_of(invite(call_id, *headers)))
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


# -- B2BUA legs without a linking header (RFC 3261 section 6: a B2BUA ends one call and begins
# another) -----------------------------------------------------------------------------------

PHONE_A = Endpoint("10.0.0.1", 5060)
B2BUA = Endpoint("10.0.0.2", 5060)
PHONE_B = Endpoint("10.0.0.3", 5060)
ELSEWHERE = Endpoint("10.0.0.9", 5060)


def leg(call_id: str, src: Endpoint, dst: Endpoint, at: float, *, uri: str, calling: str,
        called: str, ring: float | None, final: int, final_at: float) -> Flow:
    """One leg's INVITE at ``at`` and its answers: 180 at ``ring``, ``final`` at ``final_at``."""
    flow = Flow(call_id=call_id, caller=src, callee=dst, caller_user=calling,
                callee_user=called)
    request = flow.request("INVITE", at=at, uri=uri)
    if ring is not None:
        flow.response(request, 180, at=ring)
    flow.response(request, final, at=final_at)
    return flow


def inferred(*flows: Flow) -> list[tuple[str, str, Confidence, str]]:
    correlator = Correlator()
    for flow in flows:
        correlator.add(call_of(flow))
    known = {flow.call_id for flow in flows}
    return [(link.call_id, link.other, link.confidence, link.reason)
            for link in correlator.links(known)]


INBOUND = {"uri": "sip:1002@10.0.0.2", "calling": "1001", "called": "1002", "ring": 0.3,
           "final": 200, "final_at": 5.0}
"""Phone A calls 1002 at the B2BUA, which rings and answers as the next leg does."""


def test_a_leg_passed_on_with_the_same_numbers_and_the_answer_relayed_is_sure() -> None:
    """The B2BUA sends the next leg's INVITE 20 ms later to phone B for the same number, from
    the same caller, and passes its ringing and answer back within a millisecond or two."""
    first = leg("leg-a", PHONE_A, B2BUA, 0.0, **INBOUND)
    second = leg("leg-b", B2BUA, PHONE_B, 0.02, uri="sip:1002@10.0.0.3", calling="1001",
                 called="1002", ring=0.299, final=200, final_at=4.998)
    assert inferred(first, second) == [("leg-a", "leg-b", Confidence.HIGH,
        "B2BUA through 10.0.0.2, INVITE 0.020 s later, same called party, "
        "same calling party, answer relayed")]


def test_a_pbx_dialling_a_device_is_linked_by_the_caller_and_the_relayed_progress() -> None:
    """Extension 1018 rings the device test18 (another user part in Request-URI and To): the
    same caller and the 180 passed back make it one call; the 486 is passed back too."""
    first = leg("leg-a", PHONE_A, B2BUA, 0.0, uri="sip:1018@10.0.0.2", calling="test19",
                called="1018", ring=0.055, final=486, final_at=3.01)
    second = leg("leg-b", B2BUA, PHONE_B, 0.028, uri="sip:test18@10.0.0.3",
                 calling="test19", called="test18", ring=0.05, final=486, final_at=3.0)
    [(_, _, confidence, reason)] = inferred(first, second)
    assert confidence is Confidence.HIGH
    assert reason.endswith("same calling party, final 486 relayed")


def test_the_same_number_alone_is_a_likely_link() -> None:
    first = leg("leg-a", PHONE_A, B2BUA, 0.0, **INBOUND)
    second = leg("leg-b", B2BUA, PHONE_B, 0.5, uri="sip:+1002@10.0.0.3", calling="anonymous",
                 called="1002", ring=None, final=503, final_at=0.6)
    [(_, _, confidence, reason)] = inferred(first, second)
    assert confidence is Confidence.MEDIUM and reason.endswith("same called party")


@pytest.mark.parametrize(("source", "at", "called", "calling"), [
    (ELSEWHERE, 0.02, "1002", "1001"),  # not sent by where the first INVITE went
    (B2BUA, 3.5, "1002", "1001"),  # too late to be the same call's next leg
    (B2BUA, 0.02, "2002", "1001"),  # another number, and nothing relayed: the same caller
    (B2BUA, 0.02, "2002", "3003"),  # only an address and a moment in common
], ids=["other-source", "too-late", "same-caller-only", "address-only"])
def test_calls_that_only_share_an_address_or_a_caller_are_not_linked(
    source: Endpoint, at: float, called: str, calling: str
) -> None:
    first = leg("leg-a", PHONE_A, B2BUA, 0.0, **INBOUND)
    second = leg("leg-b", source, PHONE_B, at, uri=f"sip:{called}@10.0.0.3", calling=calling,
                 called=called, ring=None, final=480, final_at=at + 10)
    assert inferred(first, second) == []


def test_each_leg_joins_the_nearest_earlier_leg_that_fits() -> None:
    """Two callers dial 1002 through the B2BUA 100 ms apart; each next leg belongs to the
    inbound leg with the same caller (sure), not to the nearer one with another caller."""
    first = leg("in-1", PHONE_A, B2BUA, 0.0, **INBOUND)
    second = leg("in-2", ELSEWHERE, B2BUA, 0.1, **{**INBOUND, "calling": "1003"})
    out_1 = leg("out-1", B2BUA, PHONE_B, 0.12, uri="sip:1002@10.0.0.3", calling="1001",
                called="1002", ring=0.299, final=200, final_at=4.998)
    found = {(a, b) for a, b, _, _ in inferred(first, second, out_1)}
    assert found == {("in-1", "out-1")}


@pytest.mark.parametrize(("a", "b", "same"), [
    ("+4930123456", "030123456", True),  # a country code added, a trunk prefix dropped
    ("1002", "1002", True),
    ("Alice", "alice", True),
    ("0123", "123", False),  # too few digits to tell a prefix from another number
    ("1002", "2002", False),
    ("", "", False),
])
def test_the_same_party_allows_for_a_prefix(a: str, b: str, same: bool) -> None:
    assert same_party(a, b) is same


def test_a_leg_sent_at_the_very_moment_of_the_first_is_not_its_continuation() -> None:
    """A B2BUA can only pass a call on once its INVITE has arrived: a second INVITE stamped
    at the same instant is another call (two captures merged, a coincidence)."""
    first = leg("leg-a", PHONE_A, B2BUA, 0.0, **INBOUND)
    second = leg("leg-b", B2BUA, PHONE_B, 0.0, uri="sip:1002@10.0.0.3", calling="1001",
                 called="1002", ring=0.299, final=200, final_at=4.998)
    assert inferred(first, second) == []


def test_calls_from_one_host_to_itself_are_not_legs_of_each_other() -> None:
    """A test tool calling itself on loopback: every INVITE comes from the address every
    other one went to, for the same number, moments apart. A caller is not its own B2BUA."""
    host_a, host_b = Endpoint("127.0.0.1", 5060), Endpoint("127.0.0.1", 5061)
    flows = [leg(f"call-{n}", host_a, host_b, n * 0.01, **INBOUND) for n in range(20)]
    assert inferred(*flows) == []


def test_a_party_key_is_shared_by_every_pair_the_same_party() -> None:
    """The index finds candidates by ``party_key``: it must never miss a pair ``same_party``
    accepts."""
    users = ["+4930123456", "030123456", "4930123456", "30123456", "1002", "Alice", "alice",
             "0123", "123", "+1 (555) 010-9999", "5550109999", "000123", "555123"]
    for a in users:
        for b in users:
            if same_party(a, b):
                assert party_key(a) == party_key(b), (a, b)
