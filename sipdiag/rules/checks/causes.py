"""Causes a failure response states itself: a routing or DNS failure at the server that
answered, read from its reason phrase, its Warning text or its Reason header.

A proxy that cannot find where to send a request (no DNS answer for the next hop's domain,
RFC 3263; no route in its dial plan) answers it itself, often 480, 404, 500 or 503, and the
only sign that the callee was never reached is the text it gives: ``480 No DNS results``,
``Warning: 399 proxy "No other DNS entries to try"``, ``Reason: Q.850;cause=3`` (RFC 6432
carries Q.850 causes in responses). The words and causes that say so are the rule file's
``params``, so they can be extended without Python.

The server that answered is the culprit unless the answer came from the callee itself: from
the address the Request-URI names when that URI is the callee's Contact (inside a dialog, RFC
3261 12.2.1.1, or put in place of the To address by a proxy, 16.5). A server that only passed
the answer on from further along the path (it sent the request on, and got the same status
back) is not the one to blame: the hop where the answer started is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from sipdiag.dialogs.transactions import Transaction
from sipdiag.network.addresses import normal_ip
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.headers import warnings_of
from sipdiag.rules.checks.registry import Param, Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, story_of, transaction_values
from sipdiag.rules.model import Statuses, parse_statuses
from sipdiag.sip.headers import SipUri, parse_reason, parse_uri
from sipdiag.sip.message import SipMessage


def _phrases(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise ValueError("give a list of words or phrases, such as [dns, no route]")
    return tuple(item.strip() for item in value)


def _q850_causes(value: object) -> frozenset[int]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= 127 for i in items):
        raise ValueError("give a list of Q.850 cause values (1 to 127)")
    return frozenset(items)


_PARAMS: Mapping[str, Param] = {
    "statuses": (parse_statuses, Statuses()),
    "phrases": (_phrases, ()),
    "q850": (_q850_causes, frozenset()),
}


@dataclass(frozen=True, slots=True)
class Stated:
    """Where the response says it: the words as they appear, and the catalog entry they name."""

    said: str
    ref: tuple[str, int] | None = None


@check("routing_failure", (
    "request.method", "request.frame", "request.final_frame", "request.responder", "said",
), _PARAMS)
def routing_failure(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    statuses, phrases, q850 = params["statuses"], params["phrases"], params["q850"]
    assert isinstance(statuses, Statuses) and isinstance(phrases, tuple)
    assert isinstance(q850, frozenset)
    if not any(map(statuses.matches, story_of(subject).statuses)):
        return  # no final response with one of the statuses
    for transaction in subject.transactions:
        request, final = transaction.request, transaction.final
        if request is None or final is None or not statuses.matches(final.status):
            continue
        stated = _stated(final, phrases, q850)
        if stated is None or _from_callee(request, final) or _passed_on(transaction, subject):
            continue
        values = {**transaction_values("request", transaction, subject.start_ns),
                  "said": stated.said}
        refs = (("response", final.status), *((stated.ref,) if stated.ref else ()))
        yield hit(subject, values, [request, final], hop_key(transaction), refs)


def _stated(final: SipMessage, phrases: tuple[str, ...], q850: frozenset[int]) -> Stated | None:
    """The status line, and the header that says the request could not be routed when the
    reason phrase does not, if anything does."""
    pattern = _pattern(phrases)
    status = f"{final.status} {final.reason}"
    if pattern is not None and pattern.search(final.reason):
        return Stated(status)
    for warning in warnings_of(final):
        if pattern is not None and pattern.search(warning.text):
            return Stated(f'{status}; Warning: {warning.code} {warning.agent} "{warning.text}"',
                          ("warning", warning.code))
    for value in final.values("reason"):
        reason = parse_reason(value)
        if reason is None:
            continue
        if reason.protocol == "Q.850" and reason.cause in q850:
            return Stated(f"{status}; Reason: {value}", ("q850", reason.cause))
        if pattern is not None and pattern.search(reason.text):
            return Stated(f"{status}; Reason: {value}")
    return None


@cache
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of the phrases as whole words, in any case."""
    if not phrases:
        return None
    return re.compile(r"\b(?:" + "|".join(map(re.escape, phrases)) + r")\b", re.I)


def _from_callee(request: SipMessage, final: SipMessage) -> bool:
    """The answer came from the callee itself: from the address its Request-URI names, when
    that URI is the callee's Contact: inside a dialog (the remote target, RFC 3261 12.2.1.1),
    or put in place of the To address by a proxy that found where the callee is (16.5, 16.6
    step 2). A Request-URI still equal to To names the domain's server, not a device."""
    uri = parse_uri(request.request_uri)
    if uri is None or normal_ip(uri.host) != final.src.ip:
        return False
    return bool(request.to_tag) or _retargeted(uri, request)


def _retargeted(uri: SipUri, request: SipMessage) -> bool:
    """The Request-URI is no longer the To URI (user, host and port)."""
    to = request.name_addr("to")
    other = parse_uri(to.uri) if to else None
    return other is not None and (uri.user, uri.host.lower(), uri.port) != (
        other.user, other.host.lower(), other.port)


def _passed_on(transaction: Transaction, subject: Subject) -> bool:
    """The server that answered had sent the request on and got the same status back."""
    request, final = transaction.request, transaction.final
    assert request is not None and final is not None
    return any(
        other is not transaction and other.method == transaction.method
        and other.request is not None and other.request.cseq == request.cseq
        and other.request.src.ip == final.src.ip and other.final_status == final.status
        for other in subject.transactions
    )
