"""Final responses to INVITE never acknowledged, on the evidence of their sender: a 2xx (RFC
3261 13.3.1.4) and a non-2xx (17.2.1). ``dialogs.acks`` says what counts as evidence."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.acks import (
    GAVE_UP_NS,
    Unacknowledged,
    unacknowledged_answers,
    unacknowledged_failure,
)
from sipdiag.dialogs.calls import Call
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, message_evidence, seconds
from sipdiag.rules.model import Evidence

_RESPONSE = ("frame", "sender", "receiver", "copies", "span")
# The evidence (copies going on until 64*T1, or the UAS's BYE then) takes 64*T1 - T2 to show:
# a shorter call shows nothing either way.


@check("ack_missing", (*(f"ok.{field}" for field in _RESPONSE), "evidence"),
       needs=Needs(lasting_ns=GAVE_UP_NS))
def ack_missing(subject: Subject, params: Mapping[str, object], catalog: Catalog) -> Iterator[Hit]:
    """A 2xx its sender kept retransmitting until 64*T1, or ended with a BYE then, unACKed."""
    if not isinstance(subject, Call):
        return
    for dialog in subject.dialogs:
        for found in unacknowledged_answers(dialog):
            values = {**_response_values("ok", found),
                      "evidence": ", ".join(e.value for e in found.evidence)}
            bye = [found.bye] if found.bye else []
            # The same answer on every hop of a proxied call is one event.
            key = ("ack", found.first.cseq, found.first.to_tag)
            yield hit(subject, values, bye, key, evidence=_evidence(found))


@check("failure_ack_missing", (*(f"final.{field}" for field in _RESPONSE), "final.status",
                               "final.reason", "invite.frame", "evidence"),
       needs=Needs(methods=("INVITE",), final_from=300, lasting_ns=GAVE_UP_NS))
def failure_ack_missing(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A non-2xx final response to INVITE retransmitted until Timer H with no ACK stopping it."""
    for transaction in subject.transactions:
        found = unacknowledged_failure(transaction)
        if found is None:
            continue
        request = transaction.request
        values = {
            **_response_values("final", found),
            "final.status": str(found.first.status),
            "final.reason": found.first.reason,
            "invite.frame": str(request.frame) if request else "-",
            "evidence": ", ".join(e.value for e in found.evidence),
        }
        yield hit(subject, values, [request] if request else [],
                  ("failure-ack", *hop_key(transaction)), evidence=_evidence(found))


def _response_values(name: str, found: Unacknowledged) -> dict[str, str]:
    first = found.first
    values = {
        "frame": str(first.frame),
        "sender": str(first.src),
        "receiver": str(first.dst),
        "copies": str(len(found.copies)),
        "span": seconds(found.span_ns),
    }
    return {f"{name}.{field}": value for field, value in values.items()}


def _evidence(found: Unacknowledged) -> tuple[Evidence, ...]:
    """Every copy of the response, numbered, and the ACKs that did not stop them."""
    copies = (message_evidence(m, index) for index, m in enumerate(found.copies))
    return (*copies, *map(message_evidence, found.acks))
