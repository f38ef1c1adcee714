"""Requests that never got a final response: the transaction timer gave up (Timer B for an
INVITE, Timer F for any other request, 64*T1; RFC 3261 17.1.1.2, 17.1.2.2), or an ICMP
destination unreachable refused the request, a transport error that ends the transaction at
once (17.1.4, 18.4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.transactions import Transaction
from sipdiag.media.model import Unreachable
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, message_evidence, story_of, transaction_values
from sipdiag.rules.model import Evidence

ICMP_REASONS = {
    "port": "ICMP port unreachable",
    "host": "ICMP host unreachable",
    "network": "ICMP network unreachable",
    "prohibited": "ICMP administratively prohibited",
    "other": "ICMP destination unreachable",
}
"""The reasons the network layer gives an ICMP destination unreachable (RFC 792, RFC 1812
5.2.7.1, RFC 4443 3.1), and what its evidence is called."""
_REQUEST = tuple(f"request.{field}"
                 for field in ("method", "frame", "time", "sender", "receiver", "copies"))


def _methods(value: object) -> frozenset[str]:
    """``methods``: request methods, one or a list."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item.isalpha() and item.isupper()
                            for item in items):
        raise ValueError(f"{value!r} is not a method or a list of methods (INVITE, REGISTER, ...)")
    return frozenset(items)


def _reasons(value: object) -> frozenset[str]:
    """``icmp``: reasons of ICMP destination unreachable, one or a list."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item in ICMP_REASONS for item in items):
        raise ValueError(f"{value!r} is not a reason or a list of reasons of ICMP destination "
                         f"unreachable ({', '.join(ICMP_REASONS)})")
    return frozenset(items)


ANY_METHOD = frozenset[str]()
"""``methods`` left out: any request but ACK, which is never answered."""


@check("request_unanswered", _REQUEST, {"methods": (_methods, ANY_METHOD)})
def request_unanswered(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A request of ``methods`` with no final response in 64*T1 (or sent six times without any
    response), which no ICMP error refused."""
    for transaction in _unanswered(subject, params["methods"]):
        if transaction.timed_out(subject.observed_until_ns) and not transaction.refusals:
            yield hit(subject, _values(subject, transaction), [], hop_key(transaction),
                      evidence=_copies(transaction))


@check("request_refused", (*_REQUEST, "icmp.frame", "icmp.reporter", "icmp.reason"),
       {"methods": (_methods, ANY_METHOD), "icmp": (_reasons, frozenset(ICMP_REASONS))})
def request_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A request of ``methods`` with no final response whose copies drew ICMP destination
    unreachable errors, the first of them for one of the ``icmp`` reasons."""
    reasons = params["icmp"]
    assert isinstance(reasons, frozenset)
    for transaction in _unanswered(subject, params["methods"]):
        refusals = transaction.refusals
        if not refusals or refusals[0].reason not in reasons:
            continue
        values = {
            **_values(subject, transaction),
            "icmp.frame": str(refusals[0].frame),
            "icmp.reporter": refusals[0].reporter,
            "icmp.reason": refusals[0].reason,
        }
        evidence = (*_copies(transaction), *map(_refusal_evidence, refusals))
        yield hit(subject, values, [], hop_key(transaction), evidence=evidence)


def _unanswered(subject: Subject, methods: object) -> Iterator[Transaction]:
    """The requests of ``methods`` (any but ACK when empty) that got no final response."""
    assert isinstance(methods, frozenset)
    waiting = story_of(subject).unanswered
    if not (waiting & methods if methods else waiting - {"ACK"}):
        return  # every request of these methods was answered
    for transaction in subject.transactions:
        wanted = transaction.method in methods if methods else transaction.method != "ACK"
        if wanted and transaction.request is not None and transaction.final is None:
            yield transaction


def _values(subject: Subject, transaction: Transaction) -> dict[str, str]:
    request = transaction.request
    assert request is not None
    return {**transaction_values("request", transaction, subject.start_ns),
            "request.receiver": str(request.dst)}


def _copies(transaction: Transaction) -> tuple[Evidence, ...]:
    """Every copy of the request, numbered."""
    return tuple(message_evidence(m, index) for index, m in enumerate(transaction.requests))


def _refusal_evidence(refusal: Unreachable) -> Evidence:
    return Evidence(refusal.frame, refusal.ts_ns, ICMP_REASONS[refusal.reason])
