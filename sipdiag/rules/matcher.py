"""Finding a rule's pattern in the transactions of one call or exchange.

The steps are tried in order over the transactions in the order they started. The first step
is tried on every transaction; for each one it accepts, each following step takes the first
transaction that satisfies it (given what the earlier steps took), and an ``absent`` step
requires that no transaction satisfies it. So a rule fires once per transaction its first step
accepts, with the earliest fitting transactions for the rest: "a 401, then a retry from the
same sender within 5 minutes that got a 2xx".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.model import Evidence, Step
from sipdiag.sip.headers import NameAddr, parse_name_addr, parse_uri
from sipdiag.sip.message import SipMessage

Bound = dict[str, Transaction]
Shape = tuple[frozenset[str], frozenset[int], frozenset[str], bool]
"""What ``Story.could_start`` reads of a story: its methods, final statuses, unanswered
methods and whether it has a CANCEL."""
S = TypeVar("S")
T = TypeVar("T")


class Subject(Protocol):
    """What the rules read: a ``Call`` or an ``Exchange``."""

    @property
    def call_id(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def caller(self) -> str: ...
    @property
    def callee(self) -> str: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def observed_until_ns(self) -> int: ...
    @property
    def transactions(self) -> tuple[Transaction, ...]: ...


@dataclass(frozen=True, slots=True)
class Hit:
    """One way a rule matched: its placeholders' values, the evidence, and what makes it the
    same event as another hit (the same request seen on another hop)."""

    values: Mapping[str, str]
    evidence: tuple[Evidence, ...]
    key: tuple[object, ...]
    refs: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Story:
    """A subject's transactions in the order they started, read once for all the rules."""

    subject: Subject
    transactions: tuple[Transaction, ...]
    methods: frozenset[str]
    statuses: frozenset[int]
    """Final status of every transaction (0: none)."""
    status_classes: frozenset[int]
    """The class of every final status (2 for 2xx)."""
    unanswered: frozenset[str]
    """Methods of the transactions without a final response."""
    cancelled: bool
    """Some transaction was cancelled (RFC 3261 9)."""

    @property
    def shape(self) -> Shape:
        return (self.methods, self.statuses, self.unanswered, self.cancelled)

    def could_start(self, step: Step) -> bool:
        """False when no transaction can match the step, by method, final status, a CANCEL
        or a missing answer: most rules are ruled out for most calls before any transaction
        is looked at."""
        if step.methods is not None and step.methods.isdisjoint(self.methods):
            return False
        if step.cancelled and not self.cancelled:
            return False
        if step.timed_out and not self._unanswered_among(step.methods):
            return False  # only a transaction without a final response times out
        final = step.final
        return final is None or (
            not final.codes.isdisjoint(self.statuses) or (final.none and 0 in self.statuses)
            or not final.classes.isdisjoint(self.status_classes))

    def _unanswered_among(self, methods: frozenset[str] | None) -> bool:
        return bool(self.unanswered) if methods is None else not methods.isdisjoint(
            self.unanswered)


def latest(read: Callable[[S], T]) -> Callable[[S], T]:
    """``read``, remembering its answer for the latest subject only. The engine runs every rule
    on one call or exchange before it takes the next, so what one rule reads of it the others
    reuse; nothing older is kept."""
    kept: list[tuple[S, T]] = []

    def remembered(subject: S) -> T:
        if kept and kept[0][0] is subject:
            return kept[0][1]
        found = read(subject)
        kept[:] = [(subject, found)]
        return found

    return remembered


@latest
def story_of(subject: Subject) -> Story:
    transactions = tuple(sorted(subject.transactions, key=lambda t: t.first.frame))
    statuses = frozenset(t.final_status for t in transactions)
    return Story(
        subject,
        transactions,
        frozenset(t.method for t in transactions),
        statuses,
        frozenset(status // 100 for status in statuses if status),
        frozenset(t.method for t in transactions if t.final is None),
        any(t.cancel is not None for t in transactions),
    )


def find(steps: tuple[Step, ...], story: Story) -> Iterator[Hit]:
    if not story.could_start(steps[0]):
        return
    subject, transactions = story.subject, story.transactions
    first, rest = steps[0], steps[1:]
    for transaction in transactions:
        bound: Bound = {}
        if not _accepts(first, transaction, bound, steps, subject):
            continue
        bound[first.name] = transaction
        if all(_bind(step, transactions, bound, steps, subject) for step in rest):
            yield _hit(steps, bound, subject)


def _bind(
    step: Step, transactions: tuple[Transaction, ...], bound: Bound, steps: tuple[Step, ...],
    subject: Subject,
) -> bool:
    found = next((t for t in transactions if _accepts(step, t, bound, steps, subject)), None)
    if step.absent:
        return found is None
    if found is None:
        return False
    bound[step.name] = found
    return True


def _accepts(
    step: Step, transaction: Transaction, bound: Bound, steps: tuple[Step, ...], subject: Subject
) -> bool:
    if not _method_ok(step, transaction, bound, steps):
        return False
    if step.final is not None and not step.final.matches(transaction.final_status):
        return False
    if transaction in bound.values():
        return False
    request = transaction.request
    return (
        _request_ok(step, request)
        and _responses_ok(step, transaction, subject.observed_until_ns)
        and _order_ok(step, transaction, bound)
        and _target_ok(step, request, bound)
    )


def _method_ok(step: Step, transaction: Transaction, bound: Bound, steps: tuple[Step, ...]) -> bool:
    if step.methods is not None:
        return transaction.method in step.methods
    if step.same_method:
        return transaction.method == bound[_previous(step, steps).name].method
    return True


def _previous(step: Step, steps: tuple[Step, ...]) -> Step:
    index = steps.index(step)
    return next(s for s in reversed(steps[:index]) if not s.absent)


def _request_ok(step: Step, request: SipMessage | None) -> bool:
    needs_request = (
        step.initial is not None
        or step.in_dialog is not None
        or step.request_size_over is not None
        or step.request_has
        or step.from_same_sender is not None
        or step.to_contact_of is not None
    )
    if request is None:
        return not needs_request
    to_tag = bool(request.to_tag)
    if step.initial is not None and step.initial != (request.method == "INVITE" and not to_tag):
        return False
    if step.in_dialog is not None and step.in_dialog != to_tag:
        return False
    if step.request_size_over is not None and len(request.raw) <= step.request_size_over:
        return False
    return _has_headers(request, step.request_has, step.request_lacks)


def _has_headers(message: SipMessage, has: frozenset[str], lacks: frozenset[str]) -> bool:
    """``has``: at least one of these headers; ``lacks``: none of them."""
    if has and not any(message.first_value(h) is not None for h in has):
        return False
    return not any(message.first_value(h) is not None for h in lacks)


def _responses_ok(step: Step, transaction: Transaction, now_ns: int) -> bool:
    if step.provisional is not None and _provisional(step, transaction) is None:
        return False
    if step.cancelled is not None and step.cancelled != (transaction.cancel is not None):
        return False
    if step.timed_out is not None and step.timed_out != transaction.timed_out(now_ns):
        return False
    if step.retransmitted is not None and step.retransmitted != (len(transaction.requests) > 1):
        return False
    if step.transport is not None and transaction.first.transport not in step.transport:
        return False  # the request's, or its first response's when it was not captured
    final = transaction.final
    if step.final_has or step.final_lacks:
        return final is not None and _has_headers(final, step.final_has, step.final_lacks)
    return True


def _provisional(step: Step, transaction: Transaction) -> SipMessage | None:
    assert step.provisional is not None
    return next((r for r in transaction.provisional if step.provisional.matches(r.status)), None)


def _order_ok(step: Step, transaction: Transaction, bound: Bound) -> bool:
    if step.after is None:
        return True
    earlier = bound[step.after]
    start, earlier_start = transaction.first, earlier.first
    if start.frame <= earlier_start.frame:
        return False
    if step.within_ns is not None and start.ts_ns - earlier_start.ts_ns > step.within_ns:
        return False
    if step.from_same_sender is not None:
        request, earlier_request = transaction.request, earlier.request
        same = request is not None and earlier_request is not None and (
            request.src == earlier_request.src
        )
        return same == step.from_same_sender
    return True


def _target_ok(step: Step, request: SipMessage | None, bound: Bound) -> bool:
    if step.to_contact_of is None:
        return True
    final = bound[step.to_contact_of].final
    if request is None or final is None:
        return False
    target = _uri_key(request.request_uri)
    return any(_uri_key(contact.uri) == target for contact in _contacts(final))


def _contacts(message: SipMessage) -> list[NameAddr]:
    return [parse_name_addr(value) for value in message.values("contact")]


def _uri_key(text: str) -> tuple[str, str, str] | None:
    """Scheme, user and host:port of a URI: what says where a request goes."""
    uri = parse_uri(text)
    return (uri.scheme, uri.user, uri.hostport.lower()) if uri else None


def _hit(steps: tuple[Step, ...], bound: Bound, subject: Subject) -> Hit:
    values = call_values(subject)
    evidence: list[Evidence] = []
    for step in steps:
        transaction = bound.get(step.name)
        if transaction is None:
            continue
        values.update(transaction_values(step.name, transaction, subject.start_ns))
        evidence.extend(_evidence(step, transaction))
    first = bound[steps[0].name]
    return Hit(values, tuple(sorted(set(evidence))), hop_key(first))


def hop_key(transaction: Transaction) -> tuple[object, ...]:
    """The same request on every hop of a proxied call: method, CSeq and final status."""
    message = transaction.first
    return (transaction.method, message.cseq, transaction.final_status)


def call_values(subject: Subject) -> dict[str, str]:
    return {
        "call.call_id": subject.call_id,
        "call.caller": subject.caller,
        "call.callee": subject.callee,
        "call.outcome": subject.outcome,
    }


def transaction_values(name: str, transaction: Transaction, start_ns: int) -> dict[str, str]:
    """The placeholders of one step: ``{name.frame}``, ``{name.status}``, ..."""
    message = transaction.first
    request = transaction.request
    final = transaction.final
    values = {
        "method": transaction.method,
        "frame": str(message.frame),
        "time": seconds(message.ts_ns - start_ns),
        "status": str(final.status) if final else "-",
        "reason": final.reason if final else "-",
        "final_frame": str(final.frame) if final else "-",
        "sender": str(request.src) if request else str(message.dst),
        "responder": str(final.src) if final else "-",
        "copies": str(len(transaction.requests)),
        "wait": seconds(final.ts_ns - request.ts_ns) if final and request else "-",
    }
    return {f"{name}.{key}": value for key, value in values.items()}


def seconds(ns: int) -> str:
    return f"{ns / 1e9:.3f}"


def _evidence(step: Step, transaction: Transaction) -> list[Evidence]:
    requests = transaction.requests
    copies = requests if step.retransmitted or step.timed_out else requests[:1]
    found = [message_evidence(m, index) for index, m in enumerate(copies)]
    if transaction.final is not None:
        found.append(message_evidence(transaction.final))
    elif not requests and transaction.responses:
        found.append(message_evidence(transaction.responses[0]))
    if step.provisional is not None:
        provisional = _provisional(step, transaction)
        if provisional is not None:
            found.append(message_evidence(provisional))
    if step.cancelled and transaction.cancel is not None and transaction.cancel.request:
        found.append(message_evidence(transaction.cancel.request))
    return found


def message_evidence(message: SipMessage, copy: int = 0) -> Evidence:
    """``INVITE``, or ``481 BYE`` for a response (with its CSeq method); ``copy`` from 0."""
    what = message.method or f"{message.status} {message.cseq_method}"
    return Evidence(message.frame, message.ts_ns, what, copy + 1)
