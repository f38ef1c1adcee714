"""Requests too large for UDP (RFC 3261 18.1.1), and whether the capture shows harm from it.

RFC 3261 18.1.1 asks for a congestion-controlled transport (TCP) when a request is within 200
bytes of the path MTU, or larger than 1300 bytes when the MTU is unknown; a request that had to
be cut into IP fragments on the way was over the MTU where it was captured. That alone is
advice (``udp_request_large``): most such requests arrive. The capture shows harm
(``udp_request_large_lost``) when the request was sent again and again and no copy drew any
answer, not even a 100: its fragments are not getting through (a firewall or NAT dropping
fragments is the usual cause). An ACK is never answered, so it shows nothing either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.registry import Param, Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, message_evidence, transaction_values
from sipdiag.sip.message import SipMessage

_VALUES = ("request.method", "request.frame", "request.sender", "request.status",
           "request.reason", "request.responder", "request.copies", "size", "fragments", "over")


def _bytes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{value!r} is not a number of bytes (a whole number above 0)")
    return value


_OVER: Mapping[str, Param] = {"over": (_bytes, 1300)}


@check("udp_request_large", _VALUES, _OVER)
def udp_request_large(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """An oversized request over UDP that the capture shows no harm from."""
    for transaction, request in _oversized(subject, params):
        if not _unanswered_copies(transaction):
            yield _hit(subject, transaction, request, params)


@check("udp_request_large_lost", _VALUES, _OVER)
def udp_request_large_lost(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """An oversized request over UDP sent again and again without any answer."""
    for transaction, request in _oversized(subject, params):
        if _unanswered_copies(transaction):
            yield _hit(subject, transaction, request, params, every_copy=True)


def _oversized(
    subject: Subject, params: Mapping[str, object]
) -> Iterator[tuple[Transaction, SipMessage]]:
    over = params["over"]
    assert isinstance(over, int)
    for transaction in subject.transactions:
        request = transaction.request
        if request is not None and request.transport == "UDP" and (
            len(request.raw) > over or len(request.frames) > 1
        ):
            yield transaction, request


def _unanswered_copies(transaction: Transaction) -> bool:
    """Sent more than once, and nothing at all came back (RFC 3261 17.1.1.2, 17.1.2.2)."""
    return (transaction.method != "ACK" and len(transaction.requests) > 1
            and not transaction.responses)


def _hit(subject: Subject, transaction: Transaction, request: SipMessage,
         params: Mapping[str, object], every_copy: bool = False) -> Hit:
    values = {
        **transaction_values("request", transaction, subject.start_ns),
        "size": str(len(request.raw)),
        "fragments": str(len(request.frames)),
        "over": str(params["over"]),
    }
    final = transaction.final
    copies = transaction.requests if every_copy else transaction.requests[:1]
    evidence = tuple(message_evidence(m, index) for index, m in enumerate(copies))
    return hit(subject, values, [final] if final else [], hop_key(transaction),
               evidence=evidence)
