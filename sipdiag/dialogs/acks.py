"""Final responses to INVITE that were never acknowledged, told by their sender's behaviour.

That a capture holds no ACK says little. The ACK of a 2xx is a request of its own, sent end to
end where the Contact and the route set say (RFC 3261 section 13.2.2.4): without Record-Route
it leaves the proxies' path, and an element may send it from another port than its Via names.
What does tell is the sender of the final response, on its hop:

- an unacknowledged 2xx is retransmitted, T1 doubling up to T2, whatever the transport, until
  its ACK comes (section 13.3.1.4, RFC 6026 section 8.1); the UAS gives up after 64*T1 and
  ends the session with a BYE;
- an unacknowledged non-2xx final response is retransmitted over UDP on Timer G until Timer H,
  64*T1 (section 17.2.1); its ACK is hop by hop, with the INVITE's branch (section 17.1.1.3),
  and joins the INVITE's transaction.

So a response counts as unacknowledged only on that evidence: its copies on its hop still going
out 64*T1 after the first (within T2: the last interval), or, for a 2xx, a BYE from the UAS
about 64*T1 after it with no ACK on that hop. A 2xx seen once and never again, with no ACK
captured, was acknowledged out of the capture's sight: its sender stopped retransmitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sipdiag.dialogs.dialogs import Dialog
from sipdiag.dialogs.transactions import TIMER_B_NS, Transaction
from sipdiag.sip.message import SipMessage

T2_NS = 4_000_000_000
"""The longest interval between retransmissions of a 2xx or a non-INVITE request (section
17.1.2.2, table 4)."""
GAVE_UP_NS = TIMER_B_NS - T2_NS
"""Copies still going out this long after the first went on until 64*T1: the last interval
before it is at most T2."""


class AckEvidence(Enum):
    """What shows that a final response was never acknowledged (the words the report uses)."""

    RETRANSMITTED = "retransmitted-until-64T1"
    """Its copies went on until 64*T1, and no ACK of it was captured."""
    RETRANSMITTED_PAST_ACK = "retransmitted-past-ack"
    """Its copies went on until 64*T1 although an ACK of it was captured: that ACK never
    reached the response's sender (lost beyond the capture point, or between two hops)."""
    BYE_AT_64T1 = "bye-at-64T1"
    """The UAS sent BYE about 64*T1 after its 2xx, and no ACK of that hop was captured."""


@dataclass(frozen=True, slots=True)
class Unacknowledged:
    """A final response to an INVITE, on one hop, that its sender never saw acknowledged."""

    invite: Transaction
    copies: tuple[SipMessage, ...]
    """The response and its retransmissions on its hop, in order."""
    evidence: tuple[AckEvidence, ...]
    acks: tuple[SipMessage, ...]
    """ACKs of it that were captured and did not stop the retransmissions."""
    bye: SipMessage | None = None
    """The UAS's BYE as 64*T1 ran out, when that is part of the evidence."""

    @property
    def first(self) -> SipMessage:
        return self.copies[0]

    @property
    def span_ns(self) -> int:
        return self.copies[-1].ts_ns - self.copies[0].ts_ns


def unacknowledged_answers(dialog: Dialog) -> list[Unacknowledged]:
    """The 2xx of the dialog (to its INVITE or a re-INVITE, on each hop) its sender never saw
    acknowledged."""
    invites = [*dialog.invites, *(t for t in dialog.transactions if t.method == "INVITE")]
    found = []
    for invite in invites:
        for copies in _answers(invite, dialog):
            unacknowledged = _unacknowledged_answer(dialog, invite, copies)
            if unacknowledged is not None:
                found.append(unacknowledged)
    return found


def unacknowledged_failure(invite: Transaction) -> Unacknowledged | None:
    """The non-2xx final response of an INVITE transaction, if its sender retransmitted it until
    Timer H with no ACK stopping it."""
    final = invite.final
    if invite.method != "INVITE" or final is None or final.status < 300:
        return None
    copies = next(group for group in invite.copies() if final in group)
    acks = [ack for ack in invite.acks if ack.ts_ns >= final.ts_ns]
    evidence = _retransmitted(copies, acks, acks)
    if evidence is None:
        return None
    return Unacknowledged(invite, tuple(copies), (evidence,), _before_last(acks, copies))


def _answers(invite: Transaction, dialog: Dialog) -> list[list[SipMessage]]:
    """Each 2xx of the dialog in the transaction, with its copies (one list per hop)."""
    return [
        group for group in invite.copies()
        if 200 <= group[0].status < 300
        and frozenset((group[0].from_tag, group[0].to_tag)) == dialog.tags
    ]


def _unacknowledged_answer(
    dialog: Dialog, invite: Transaction, copies: list[SipMessage]
) -> Unacknowledged | None:
    first = copies[0]
    sender, receiver = first.src.ip, first.dst.ip
    acks = [ack for ack in dialog.acks if ack.cseq == first.cseq and ack.ts_ns >= first.ts_ns]
    # Any port, and either end: a proxy may send the ACK from another port than its Via's, and
    # a proxy that does not record-route never sees it (the ACK goes straight to the UAS).
    on_hop = [ack for ack in acks if ack.src.ip == receiver or ack.dst.ip == sender]
    evidence = []
    retransmitted = _retransmitted(copies, acks, on_hop)
    if retransmitted is not None:
        evidence.append(retransmitted)
    bye = None if on_hop else _bye_at_64t1(dialog, first)
    if bye is not None:
        evidence.append(AckEvidence.BYE_AT_64T1)
    if not evidence:
        return None
    return Unacknowledged(invite, tuple(copies), tuple(evidence), _before_last(acks, copies),
                          bye)


def _retransmitted(
    copies: list[SipMessage], acks: list[SipMessage], on_hop: list[SipMessage]
) -> AckEvidence | None:
    """The copies went on until 64*T1 with no ACK on their hop after the last one (an ACK that
    came in time after the last copy stopped them)."""
    last = copies[-1]
    if last.ts_ns - copies[0].ts_ns < GAVE_UP_NS or any(a.ts_ns >= last.ts_ns for a in on_hop):
        return None
    return AckEvidence.RETRANSMITTED_PAST_ACK if acks else AckEvidence.RETRANSMITTED


def _bye_at_64t1(dialog: Dialog, answer: SipMessage) -> SipMessage | None:
    """The first BYE from the side that sent the 2xx, if it came as 64*T1 ran out (within T2),
    as a UAS that never got its ACK sends it (section 13.3.1.4)."""
    byes = [t.request for t in dialog.byes if t.request is not None]
    bye = next((r for r in byes if r.from_tag == answer.to_tag), None)
    if bye is None or abs(bye.ts_ns - answer.ts_ns - TIMER_B_NS) > T2_NS:
        return None
    return bye


def _before_last(acks: list[SipMessage], copies: list[SipMessage]) -> tuple[SipMessage, ...]:
    return tuple(ack for ack in acks if ack.ts_ns < copies[-1].ts_ns)
