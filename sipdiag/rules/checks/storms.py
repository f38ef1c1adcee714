"""Retry storms: the same request refused again and again, told once with a count and a period.

A request is the same when it has the same method, Request-URI, From and To URIs and sender. An
attempt is one request and, when it was challenged (401, 407), its retry with credentials
(RFC 3261 22.2): the attempt is refused when its last answer is a failure (4xx to 6xx). A run of
``count`` attempts or more, each refused, with no attempt between them that went through or was
left unanswered, is a storm: a client that retries blindly instead of backing off or fixing what
the answer said (a 403 is not to be repeated, RFC 3261 21.4.4).

A check sees one Call-ID at a time: the storms found are those of one Call-ID (a REGISTER sent
again and again with the same Call-ID, RFC 3261 10.2, close enough together to be one exchange).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sipdiag.dialogs.calls import CHALLENGES
from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.methods import uri_of
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, seconds
from sipdiag.sip.message import SipMessage

NOT_RETRIED = frozenset({"ACK", "CANCEL"})
"""Requests that are never a retry of their own: they follow an INVITE."""
CREDENTIALS = ("authorization", "proxy-authorization")


@dataclass(frozen=True, slots=True)
class Attempt:
    """A request sent, and its retries with credentials after challenges."""

    first: SipMessage
    """The request that began the attempt."""
    last: Transaction
    """Its last try: what the attempt came to."""

    @property
    def refused(self) -> bool:
        return self.last.final_status >= 400


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(f"must be a whole number, 2 or more (found {value!r})")
    return value


@check("retry_storm", ("method", "target", "sender", "responder", "statuses", "count",
                       "period", "span", "first_frame", "last_frame"),
       {"count": (_count, 4)}, Needs(final_from=400))
def retry_storm(subject: Subject, params: Mapping[str, object], catalog: Catalog
                ) -> Iterator[Hit]:
    """Each run of at least ``count`` refused attempts of one request."""
    least = params["count"]
    assert isinstance(least, int)
    transactions = subject.transactions
    if sum(t.final_status >= 400 for t in transactions) < least:
        return  # each refused attempt ends in a transaction of its own refused
    for attempts in _by_request(transactions).values():
        for run in _refused_runs(attempts):
            if len(run) >= least:
                yield _storm(subject, run)


def _by_request(transactions: tuple[Transaction, ...]) -> dict[tuple[str, ...], list[Attempt]]:
    """The attempts of each request, in the order they were sent."""
    sent: dict[tuple[str, ...], list[Transaction]] = {}
    for transaction in sorted(transactions, key=lambda t: t.first.frame):
        request = transaction.request
        if request is None or transaction.method in NOT_RETRIED:
            continue
        key = (transaction.method, request.request_uri, uri_of(request, "from"),
               uri_of(request, "to"), str(request.src))
        sent.setdefault(key, []).append(transaction)
    return {key: _attempts(tries) for key, tries in sent.items()}


def _attempts(tries: list[Transaction]) -> list[Attempt]:
    attempts: list[Attempt] = []
    for transaction in tries:
        request = transaction.request
        assert request is not None
        previous = attempts[-1] if attempts else None
        if previous is not None and previous.last.final_status in CHALLENGES and any(
            request.first_value(header) is not None for header in CREDENTIALS
        ):
            attempts[-1] = Attempt(previous.first, transaction)  # the challenge answered
        else:
            attempts.append(Attempt(request, transaction))
    return attempts


def _refused_runs(attempts: list[Attempt]) -> Iterator[list[Attempt]]:
    """The runs of refused attempts, each ended by an attempt that was not refused."""
    run: list[Attempt] = []
    for attempt in attempts:
        if attempt.refused:
            run.append(attempt)
            continue
        if run:
            yield run
        run = []
    if run:
        yield run


def _storm(subject: Subject, run: list[Attempt]) -> Hit:
    first, last = run[0], run[-1]
    starts = [attempt.first.ts_ns for attempt in run]
    period = statistics.median(b - a for a, b in itertools.pairwise(starts))
    final, last_final = first.last.final, last.last.final
    assert final is not None and last_final is not None
    values = {
        "method": first.first.method,
        "target": first.first.request_uri,
        "sender": str(first.first.src),
        "responder": str(last_final.src),
        "statuses": ", ".join(dict.fromkeys(str(a.last.final_status) for a in run)),
        "count": str(len(run)),
        "period": seconds(round(period)),
        "span": seconds(starts[-1] - starts[0]),
        "first_frame": str(first.first.frame),
        "last_frame": str(last.first.frame),
    }
    # what makes it one event on every hop: the proxy keeps method, From, To and CSeq
    key = ("storm", first.first.method, uri_of(first.first, "from"), uri_of(first.first, "to"),
           first.first.cseq)
    return hit(subject, values, [first.first, final, last.first, last_final], key)
