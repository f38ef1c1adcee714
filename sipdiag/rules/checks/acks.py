"""The 2xx that was never ACKed (RFC 3261 13.3.1.4: the UAS gives up after 64*T1)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.transactions import TIMER_B_NS, Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, message_evidence, seconds
from sipdiag.sip.message import SipMessage


@check("ack_missing", ("ok.frame", "ok.sender", "ok.receiver", "ok.copies", "ok.span"))
def ack_missing(subject: Subject, params: Mapping[str, object], catalog: Catalog) -> Iterator[Hit]:
    if not isinstance(subject, Call):
        return
    for dialog in subject.dialogs:
        for ok in dialog.unacknowledged():
            bye = dialog.bye.request if dialog.bye else None
            if bye is None and subject.observed_until_ns - ok.ts_ns < TIMER_B_NS:
                continue  # the capture ends before the ACK was due for good
            copies = _copies(dialog.invites, ok)
            values = {
                "ok.frame": str(ok.frame),
                "ok.sender": str(ok.src),
                "ok.receiver": str(ok.dst),
                "ok.copies": str(len(copies)),
                "ok.span": seconds(copies[-1].ts_ns - copies[0].ts_ns),
            }
            numbered = tuple(message_evidence(m, index) for index, m in enumerate(copies))
            yield hit(subject, values, [bye] if bye else [], ("ack", ok.frame),
                       evidence=numbered)


def _copies(invites: list[Transaction], ok: SipMessage) -> list[SipMessage]:
    """The 2xx and its retransmissions on its hop."""
    return [
        r
        for t in invites
        for r in t.responses
        if r.status == ok.status and r.to_tag == ok.to_tag and r.src == ok.src
        and r.dst == ok.dst
    ]
