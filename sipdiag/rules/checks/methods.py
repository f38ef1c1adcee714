"""The methods beside INVITE refused or failing: subscriptions and their notifications
(RFC 6665), transfers by REFER (RFC 3515), INFO (RFC 6086), reliable provisional responses and
PRACK (RFC 3262), a SIP extension one side requires (RFC 3261 8.2.2.3), and a method the far
end does not implement or allow (RFC 3261 8.2.1).

Each check names what the headers say (the event package, the resource, the Allow list, the
extension, the status the transfer target gave), which a pattern of steps cannot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from sipdiag.dialogs.calls import CHALLENGES
from sipdiag.dialogs.transactions import TIMER_B_NS, Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, message_evidence, seconds, transaction_values
from sipdiag.rules.model import step_placeholders
from sipdiag.sip.headers import parse_params
from sipdiag.sip.message import SipMessage

REQUEST = step_placeholders("request")
NOTIFY = step_placeholders("notify")
NONE = "-"
"""What a placeholder shows when the message has no such header."""
SUBSCRIPTION_REFUSED = frozenset({403, 404, 410, 480, 603})
"""Final answers to a new SUBSCRIBE that refuse the resource or the subscriber."""
TRANSFER_REFUSED_ELSEWHERE = frozenset({*CHALLENGES, 405, 481, 489, 501})
"""Refusals of a REFER or of its NOTIFYs that other rules explain: challenges (A rules), a
method not allowed (E111), a dialog or subscription gone (D102, E104), a package unknown
(E101)."""
_STATUS_LINE = re.compile(rb"\A\s*SIP/2\.0[ \t]+([1-6][0-9][0-9])[ \t]*([^\r\n]*)")


def words(upper: bool) -> Callable[[object], frozenset[str]]:
    """Parses a rule's list of words (methods in capitals, reasons in lower case)."""

    def parse(value: object) -> frozenset[str]:
        items = value if isinstance(value, list) else [value]
        texts = [item.strip() for item in items if isinstance(item, str) and item.strip()]
        if not texts or len(texts) != len(items):
            raise ValueError(f"must be a word or a list of words (found {value!r})")
        return frozenset(text.upper() if upper else text.lower() for text in texts)

    return parse


def _chosen(params: Mapping[str, object], name: str) -> frozenset[str] | None:
    """A list parameter of the rule; None when the rule leaves it out (no restriction)."""
    value = params[name]
    assert value is None or isinstance(value, frozenset)
    return value


def event_package(message: SipMessage) -> str:
    """The event package of the Event header (``presence`` of ``presence;id=7``), lower case."""
    value = message.first_value("event")
    package = value.split(";", 1)[0].strip().lower() if value else ""
    return package or NONE


def _listed(message: SipMessage | None, header: str) -> str:
    values = message.values(header) if message is not None else []
    return ", ".join(values) if values else NONE


def uri_of(message: SipMessage, header: str) -> str:
    """The URI of a From, To or Refer-To header, without its headers part (``?Replaces=``)."""
    found = message.name_addr(header)
    return found.uri.split("?", 1)[0] if found and found.uri else NONE


def _refused(subject: Subject, name: str, transaction: Transaction,
             values: Mapping[str, str] | None = None) -> Hit:
    """A hit on a transaction's final answer, its code explained by the catalog."""
    messages = [m for m in (transaction.request, transaction.final) if m is not None]
    filled = {**transaction_values(name, transaction, subject.start_ns), **(values or {})}
    return hit(subject, filled, messages, hop_key(transaction),
               (("response", transaction.final_status),))


def _answered(subject: Subject, statuses: Callable[[int], bool], method: str | None = None
              ) -> Iterator[tuple[Transaction, SipMessage]]:
    """Each transaction (of ``method``, if given) whose request was captured and whose final
    status ``statuses`` accepts, with its request."""
    for transaction in subject.transactions:
        request = transaction.request
        if (method is None or transaction.method == method) and request is not None and (
            transaction.final is not None and statuses(transaction.final_status)
        ):
            yield transaction, request


# -- subscriptions (RFC 6665) --------------------------------------------------------------


@check("bad_event", (*REQUEST, "event", "allowed"), needs=Needs(finals=(489,)))
def bad_event(subject: Subject, params: Mapping[str, object], catalog: Catalog) -> Iterator[Hit]:
    """A request refused 489 Bad Event: the package of its Event header is not supported
    there (RFC 6665 4.2.1.1 for SUBSCRIBE, 4.1.3 for NOTIFY; RFC 3903 6 for PUBLISH)."""
    for transaction, request in _answered(subject, lambda status: status == 489):
        values = {"event": event_package(request),
                  "allowed": _listed(transaction.final, "allow-events")}
        yield _refused(subject, "request", transaction, values)


@check("subscription_refused", (*REQUEST, "event", "resource"),
       needs=Needs(methods=("SUBSCRIBE",), finals=SUBSCRIPTION_REFUSED))
def subscription_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A new SUBSCRIBE (no To tag) refused for its resource or its subscriber."""
    for transaction, request in _answered(subject, SUBSCRIPTION_REFUSED.__contains__, "SUBSCRIBE"):
        if request.to_tag:
            continue  # a refresh: its refusal ends a subscription that was there (E103)
        values = {"event": event_package(request), "resource": uri_of(request, "to")}
        yield _refused(subject, "request", transaction, values)


@check("subscription_terminated", (*NOTIFY, "event", "reason", "resource", "retry_after"),
       {"reasons": (words(upper=False), None)},
       Needs(methods=("NOTIFY",), request_headers=("subscription-state",)))
def subscription_terminated(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A NOTIFY ending its subscription (Subscription-State: terminated) for one of the
    rule's ``reasons`` (RFC 6665 4.1.3), unless the subscriber had asked for the end."""
    reasons = _chosen(params, "reasons")
    for transaction in subject.transactions:
        request = transaction.request
        if transaction.method != "NOTIFY" or request is None:
            continue
        state = _subscription_state(request)
        if state is None or event_package(request) == "refer":
            continue  # a transfer's subscription ends with its result (RFC 3515 2.4.7)
        reason, retry_after = state
        if (reasons is not None and reason not in reasons) or _unsubscribed(subject, request):
            continue
        values = {
            **transaction_values("notify", transaction, subject.start_ns),
            "event": event_package(request),
            "reason": reason,
            "resource": uri_of(request, "from"),
            "retry_after": retry_after,
        }
        yield hit(subject, values, [request], hop_key(transaction))


def _subscription_state(notify: SipMessage) -> tuple[str, str] | None:
    """(reason, retry-after) of a ``terminated`` Subscription-State; None for any other."""
    value = notify.first_value("subscription-state")
    if value is None:
        return None
    state, _, rest = value.partition(";")
    if state.strip().lower() != "terminated":
        return None
    found = parse_params(rest)
    return found.get("reason", "").lower() or NONE, found.get("retry-after") or NONE


def _unsubscribed(subject: Subject, notify: SipMessage) -> bool:
    """The subscriber ended the subscription itself, or only fetched the state: a SUBSCRIBE
    with Expires 0 came before the NOTIFY (RFC 6665 4.1.2.3, 4.4.3)."""
    return any(
        t.method == "SUBSCRIBE" and t.request is not None and t.request.ts_ns <= notify.ts_ns
        and (t.request.first_value("expires") or "").strip() == "0"
        for t in subject.transactions
    )


# -- transfers (RFC 3515) ------------------------------------------------------------------


@check("refer_refused", (*REQUEST, "target"), needs=Needs(methods=("REFER",), final_from=400))
def refer_refused(subject: Subject, params: Mapping[str, object], catalog: Catalog
                  ) -> Iterator[Hit]:
    """A REFER refused: the transfer was never attempted (RFC 3515 2.4.2)."""
    for transaction, request in _answered(subject, _transfer_refusal, "REFER"):
        yield _refused(subject, "request", transaction, {"target": uri_of(request, "refer-to")})


@check("transfer_failed", (*NOTIFY, "status", "reason", "target"), needs=Needs(methods=("NOTIFY",)))
def transfer_failed(subject: Subject, params: Mapping[str, object], catalog: Catalog
                    ) -> Iterator[Hit]:
    """A NOTIFY of a transfer whose message/sipfrag body is a final failure: the status the
    transfer target's side gave the transferee's new request (RFC 3515 2.4.4, 2.4.5)."""
    for transaction in subject.transactions:
        request = transaction.request
        if transaction.method != "NOTIFY" or request is None:
            continue
        result = sipfrag_status(request) if event_package(request) == "refer" else None
        if result is None or result[0] < 300:
            continue
        refer = _refer_of(subject, request)
        values = {
            **transaction_values("notify", transaction, subject.start_ns),
            "status": str(result[0]),
            "reason": result[1] or NONE,
            "target": uri_of(refer, "refer-to") if refer is not None else NONE,
        }
        messages = [request] if refer is None else [refer, request]
        yield hit(subject, values, messages, hop_key(transaction),
                  (("response", result[0]),))


@check("transfer_report_refused", (*REQUEST, "reported"),
       needs=Needs(methods=("NOTIFY",), final_from=400))
def transfer_report_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A NOTIFY of a transfer refused by the transferor: the result never reached it."""
    for transaction, request in _answered(subject, _transfer_refusal, "NOTIFY"):
        if event_package(request) != "refer":
            continue
        result = sipfrag_status(request)
        reported = f"{result[0]} {result[1]}".strip() if result else NONE
        yield _refused(subject, "request", transaction, {"reported": reported})


def _transfer_refusal(status: int) -> bool:
    return status >= 400 and status not in TRANSFER_REFUSED_ELSEWHERE


def sipfrag_status(message: SipMessage) -> tuple[int, str] | None:
    """(status, reason phrase) of the status line a message/sipfrag body starts with."""
    content_type = message.first_value("content-type") or ""
    if content_type.split(";", 1)[0].strip().lower() != "message/sipfrag":
        return None
    found = _STATUS_LINE.match(message.body)
    if found is None:
        return None
    return int(found[1]), found[2].decode("utf-8", "backslashreplace").strip()


def _refer_of(subject: Subject, notify: SipMessage) -> SipMessage | None:
    """The REFER a NOTIFY reports on: the last one sent before it."""
    refers = [t.request for t in subject.transactions
              if t.method == "REFER" and t.request is not None
              and t.request.ts_ns <= notify.ts_ns]
    return max(refers, key=lambda r: r.ts_ns, default=None)


# -- methods and extensions (RFC 3261 8.2.1, 8.2.2.3; RFC 6086) ----------------------------


@check("method_refused", (*REQUEST, "allow"), {"methods": (words(upper=True), None)},
       Needs(finals=(405, 501)))
def method_refused(subject: Subject, params: Mapping[str, object], catalog: Catalog
                   ) -> Iterator[Hit]:
    """A request of one of the rule's ``methods`` answered 405 Method Not Allowed or 501 Not
    Implemented, with the methods the response allows."""
    methods = _chosen(params, "methods")
    for transaction, _ in _answered(subject, lambda status: status in (405, 501)):
        if methods is None or transaction.method in methods:
            yield _refused(subject, "request", transaction,
                           {"allow": _listed(transaction.final, "allow")})


@check("info_refused", (*REQUEST, "content_type", "package", "accepted"),
       needs=Needs(methods=("INFO",), finals=(415, 469)))
def info_refused(subject: Subject, params: Mapping[str, object], catalog: Catalog
                 ) -> Iterator[Hit]:
    """An INFO refused 415 (its body's type) or 469 (its Info Package), RFC 6086 4.2.2."""
    for transaction, request in _answered(subject, lambda status: status in (415, 469), "INFO"):
        final = transaction.final
        accepted = _listed(final, "accept" if transaction.final_status == 415 else "recv-info")
        values = {
            "content_type": request.first_value("content-type") or NONE,
            "package": request.first_value("info-package") or NONE,
            "accepted": accepted,
        }
        yield _refused(subject, "request", transaction, values)


@check("extension_mismatch", (*REQUEST, "extension"), needs=Needs(finals=(420, 421)))
def extension_mismatch(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """420 Bad Extension (the extensions refused, in Unsupported) or 421 Extension Required
    (those the far end insists on, in Require): RFC 3261 8.2.2.3, 21.4.15, 21.4.16."""
    for transaction, _ in _answered(subject, lambda status: status in (420, 421)):
        header = "unsupported" if transaction.final_status == 420 else "require"
        yield _refused(subject, "request", transaction,
                       {"extension": _listed(transaction.final, header)})


# -- reliable provisional responses (RFC 3262) ---------------------------------------------


@check("prack_unmatched", (*REQUEST, "rack", "rseqs"),
       needs=Needs(methods=("PRACK",), finals=(481,)))
def prack_unmatched(subject: Subject, params: Mapping[str, object], catalog: Catalog
                    ) -> Iterator[Hit]:
    """A PRACK answered 481: it matches no reliable provisional response the UAS has left
    unacknowledged (RFC 3262 3), with the RSeq values the UAS did send on that dialog."""
    for transaction, request in _answered(subject, lambda status: status == 481, "PRACK"):
        sent = [rseq for response in _reliable(subject)
                if response.to_tag == request.to_tag and (rseq := _rseq(response)) is not None]
        values = {"rack": request.first_value("rack") or NONE,
                  "rseqs": ", ".join(map(str, dict.fromkeys(sent))) or NONE}
        yield _refused(subject, "request", transaction, values)


@check("reliable_provisional_unacknowledged", (
    "provisional.frame", "provisional.status", "provisional.sender", "rseq", "copies", "span",
    "final.status", "final.frame",
), needs=Needs(methods=("INVITE",), response_headers=("rseq",)))
def reliable_provisional_unacknowledged(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A reliable provisional response sent again and again and never PRACKed, until the UAS
    gave up (RFC 3262 3: after 64*T1 it SHOULD reject the INVITE with a 5xx)."""
    for transaction in subject.transactions:
        if transaction.method != "INVITE":
            continue
        for copies in transaction.copies():
            first = copies[0]
            rseq = _rseq(first) if 100 < first.status < 200 else None
            if rseq is None or len(copies) < 2 or _pracked(subject, first, rseq):
                continue
            final = transaction.final
            gave_up = (final.status >= 500 if final is not None
                       else subject.observed_until_ns - first.ts_ns >= TIMER_B_NS)
            if not gave_up:
                continue
            values = {
                "provisional.frame": str(first.frame),
                "provisional.status": str(first.status),
                "provisional.sender": str(first.src),
                "rseq": str(rseq),
                "copies": str(len(copies)),
                "span": seconds(copies[-1].ts_ns - first.ts_ns),
                "final.status": str(final.status) if final else NONE,
                "final.frame": str(final.frame) if final else NONE,
            }
            numbered = tuple(message_evidence(m, index) for index, m in enumerate(copies))
            yield hit(subject, values, [final] if final else [], ("rel", first.to_tag, rseq),
                      evidence=numbered)


def _reliable(subject: Subject) -> Iterator[SipMessage]:
    """Every reliable provisional response of the subject (with an RSeq, RFC 3262 7.1)."""
    for transaction in subject.transactions:
        for response in transaction.provisional:
            if response.status > 100 and _rseq(response) is not None:
                yield response


def _rseq(response: SipMessage) -> int | None:
    value = (response.first_value("rseq") or "").strip()
    return int(value) if value.isdigit() else None


def _pracked(subject: Subject, provisional: SipMessage, rseq: int) -> bool:
    """A PRACK of that dialog (its To tag) acknowledging this RSeq came after it (RFC 3262
    7.2: RAck is the RSeq, then the CSeq number and method of the response)."""
    for transaction in subject.transactions:
        request = transaction.request
        if transaction.method != "PRACK" or request is None:
            continue
        rack = (request.first_value("rack") or "").split()
        if (rack[:1] == [str(rseq)] and request.to_tag == provisional.to_tag
                and request.ts_ns >= provisional.ts_ns):
            return True
    return False
