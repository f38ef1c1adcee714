"""Registrations: refused without a challenge, an interval too brief (423) given up on or sent
again still too brief, a binding that expired with no refresh, and de-registration
(RFC 3261 section 10)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.challenges import (
    CHALLENGES,
    accepted_later,
    attempts_around,
    carries_credentials,
)
from sipdiag.dialogs.registrations import (
    contacts_text,
    granted_seconds,
    how_removed,
    is_deregistration,
    requested_expiry,
)
from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.challenges import step_placeholders
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, seconds, transaction_values
from sipdiag.rules.model import Statuses, parse_duration, parse_statuses

EXPLAINED_ELSEWHERE = Statuses(frozenset({
    401, 405, 407, 408, 420, 421, 423, 482, 483, 489, 500, 501, 502, 503, 504, 513,
}))
"""Refusals another rule explains for any method (A107's file names which), so that each
REGISTER refusal is told once."""
REGISTERED = Needs(methods=("REGISTER",))
TOO_BRIEF = Needs(finals=(423,))


def _sent(transaction: Transaction) -> bool:
    return transaction.request is not None


def _forbidden_after_challenge(
    transaction: Transaction, transactions: tuple[Transaction, ...]
) -> bool:
    """A 403 to credentials sent after a challenge: A103's finding."""
    request = transaction.request
    return (transaction.final_status == 403 and request is not None
            and carries_credentials(request)
            and any(t.final_status in CHALLENGES
                    for t in attempts_around(transaction, transactions)[0]))


@check("registration_refused", step_placeholders("refused"),
       {"explained_elsewhere": (parse_statuses, EXPLAINED_ELSEWHERE)},
       Needs(methods=("REGISTER",), final_from=400))
def registration_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A REGISTER refused (4xx, 5xx, 6xx) for another reason than a challenge, and no later
    REGISTER of its sender accepted: the registrar's verdict, explained by the catalog."""
    skip = params["explained_elsewhere"]
    assert isinstance(skip, Statuses)
    transactions = subject.transactions
    for transaction in transactions:
        status = transaction.final_status
        if (transaction.method != "REGISTER" or not _sent(transaction) or status < 400
                or skip.matches(status) or _forbidden_after_challenge(transaction, transactions)
                or accepted_later(transaction, transactions)):
            continue
        values = transaction_values("refused", transaction, subject.start_ns)
        messages = [m for m in (transaction.request, transaction.final) if m is not None]
        yield hit(subject, values, messages, hop_key(transaction), (("response", status),))


def _min_expires(transaction: Transaction) -> int | None:
    final = transaction.final
    value = final.first_value("min-expires") if final is not None else None
    return int(value) if value is not None and value.strip().isdigit() else None


def _too_brief(transaction: Transaction) -> bool:
    return transaction.final_status == 423 and _sent(transaction)


@check("interval_too_brief", step_placeholders("brief"), needs=TOO_BRIEF)
def interval_too_brief(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A 423 Interval Too Brief after which the sender never sent the request again (one it
    sent again while already in a loop of 423s is the loop's: ``interval_too_brief_loop``)."""
    transactions = subject.transactions
    for transaction in filter(_too_brief, transactions):
        before, after = attempts_around(transaction, transactions)
        if after or (before and before[-1].final_status == 423):
            continue
        values = transaction_values("brief", transaction, subject.start_ns)
        messages = [m for m in (transaction.request, transaction.final) if m is not None]
        yield hit(subject, values, messages, hop_key(transaction))


@check("interval_too_brief_loop", (*step_placeholders("brief"), "retry.frame", "asked", "minimum"),
       needs=TOO_BRIEF)
def interval_too_brief_loop(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A 423 Interval Too Brief whose sender sent the request again still asking for less than
    the Min-Expires (RFC 3261 10.2.8: at least Min-Expires, 10.3 step 7)."""
    transactions = subject.transactions
    for transaction in filter(_too_brief, transactions):
        minimum = _min_expires(transaction)
        _, after = attempts_around(transaction, transactions)
        if minimum is None or not after:
            continue
        retry = after[0]
        assert retry.request is not None
        asked = requested_expiry(retry.request)
        if asked is None or asked >= minimum:
            continue
        values = {
            **transaction_values("brief", transaction, subject.start_ns),
            "retry.frame": str(retry.request.frame),
            "asked": str(asked),
            "minimum": str(minimum),
        }
        messages = [m for m in (transaction.request, transaction.final, retry.request)
                    if m is not None]
        yield hit(subject, values, messages, hop_key(transaction))


@check("registration_expired", (
    *step_placeholders("register"), "ok.frame", "contact", "granted", "silence", "refresh.frame"),
    {"grace": (parse_duration, 2_000_000_000)}, REGISTERED)
def registration_expired(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A binding the registrar granted (a 2xx to REGISTER) that ran out, ``grace`` and more,
    before its sender sent another REGISTER, while the capture was watched past it (RFC 3261
    10.2.4, 10.3 step 8)."""
    grace = params["grace"]
    assert isinstance(grace, int)
    transactions = subject.transactions
    for transaction in transactions:
        request, ok = transaction.request, transaction.final
        if (transaction.method != "REGISTER" or request is None or ok is None
                or not 200 <= ok.status < 300):
            continue
        granted = granted_seconds(request, ok)
        if granted is None:
            continue
        expiry_ns = ok.ts_ns + granted * 1_000_000_000 + grace
        _, after = attempts_around(transaction, transactions)
        refresh = after[0].first if after else None
        until = refresh.ts_ns if refresh is not None else subject.observed_until_ns
        if until <= expiry_ns:
            continue
        values = {
            **transaction_values("register", transaction, subject.start_ns),
            "ok.frame": str(ok.frame),
            "contact": contacts_text(request),
            "granted": str(granted),
            "silence": seconds(until - ok.ts_ns),
            "refresh.frame": str(refresh.frame) if refresh is not None else "-",
        }
        messages = [request, ok] + ([refresh] if refresh is not None else [])
        yield hit(subject, values, messages, hop_key(transaction))


@check("deregistration", (*step_placeholders("register"), "ok.frame", "contact", "how"),
       needs=REGISTERED)
def deregistration(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A REGISTER that removed its bindings (expiry 0, or ``Contact: *``, RFC 3261 10.2.2),
    accepted by the registrar."""
    for transaction in subject.transactions:
        request, ok = transaction.request, transaction.final
        if (transaction.method != "REGISTER" or request is None or ok is None
                or not 200 <= ok.status < 300 or not is_deregistration(request)):
            continue
        values = {
            **transaction_values("register", transaction, subject.start_ns),
            "ok.frame": str(ok.frame),
            "contact": contacts_text(request),
            "how": how_removed(request),
        }
        yield hit(subject, values, [request, ok], hop_key(transaction))
