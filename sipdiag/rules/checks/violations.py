"""Protocol violations that changed, or can change, what happened in a call or exchange.

Dialogs: a UAS MUST put a tag of its own in the To of every response to a request without one,
100 Trying aside (RFC 3261 8.2.6.2); the responses 101 to 299 to an INVITE form a dialog named
by that tag (section 12.1.1), so a 2xx without it confirms a dialog nobody can name, and a
provisional response without it an early dialog nobody can name (``answer_to_tag_missing``,
``provisional_to_tag_missing``). A request inside a dialog that names no dialog of the call
SHOULD be answered 481 (section 12.2.2); one accepted with a 2xx shows a far end that matches
requests to calls by less than the dialog's identity (``request_outside_dialog_accepted``).

Malformed requests: the parser counts every message whose body is not as long as its
Content-Length says (section 18.3) or that gives a header allowed once on several lines
(section 7.3.1) among the capture's defects; a check here fires when such a request was
refused with 400 Bad Request, the answer the RFC gives to a malformed request (section
21.4.1), so the defect is the explanation of the failure (``body_length_refused``,
``repeated_header_refused``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.checks.tags import wrong_tag
from sipdiag.rules.matcher import Hit, hop_key, latest, transaction_values
from sipdiag.sip.message import Defect, SipMessage
from sipdiag.sip.parser import ONCE_ONLY

INVITE_DIALOG_METHODS = frozenset({"BYE", "INVITE", "UPDATE", "PRACK", "INFO"})
"""Requests that only an INVITE dialog carries (RFC 3261 15 and 14, RFC 3311, RFC 3262,
RFC 6086): the only dialogs the call's dialogs list. NOTIFY, REFER, SUBSCRIBE and MESSAGE may
belong to a subscription's dialog, which it does not."""
BAD_REQUEST = 400
REFUSED_AS_MALFORMED = Needs(finals=(BAD_REQUEST,))


_REQUEST = tuple(f"request.{key}" for key in (
    "method", "frame", "time", "status", "reason", "final_frame", "sender", "responder",
    "copies", "wait"))
"""What ``transaction_values`` fills for the request."""
_TAGLESS = (*(f"invite.{key}" for key in ("frame", "sender")),
            *(f"response.{key}" for key in ("frame", "status", "reason", "sender", "receiver")))


@check("answer_to_tag_missing", _TAGLESS)
def answer_to_tag_missing(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A 2xx to an INVITE outside any dialog whose To has no tag."""
    yield from _tagless(subject, 200, 300)


@check("provisional_to_tag_missing", _TAGLESS)
def provisional_to_tag_missing(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A 101 to 199 response to an INVITE outside any dialog whose To has no tag."""
    yield from _tagless(subject, 101, 200)


def _tagless(subject: Subject, low: int, high: int) -> Iterator[Hit]:
    """One hit per INVITE transaction: its first response from ``low`` up to ``high`` without
    a To tag (the others, retransmissions and later ones, are its evidence)."""
    for transaction, answers in _tagless_answers(subject):
        tagless = [r for r in answers if low <= r.status < high]
        if not tagless:
            continue
        request = transaction.request
        response = tagless[0]
        values = {
            "invite.frame": str(request.frame) if request else "-",
            "invite.sender": str(request.src if request else response.dst),
            "response.frame": str(response.frame),
            "response.status": str(response.status),
            "response.reason": response.reason or "-",
            "response.sender": str(response.src),
            "response.receiver": str(response.dst),
        }
        messages = [*([request] if request else []), *tagless]
        key = ("tagless", response.cseq, response.status)
        yield hit(subject, values, messages, key)


@latest
def _tagless_answers(subject: Subject) -> tuple[tuple[Transaction, tuple[SipMessage, ...]], ...]:
    """Each INVITE outside any dialog with its responses 101 to 299 that have no To tag, in
    order: read once for both checks."""
    found = []
    for transaction in subject.transactions:
        request = transaction.request
        if transaction.method != "INVITE" or (request is not None and request.to_tag):
            continue  # a re-INVITE's responses copy the request's To, tag included
        tagless = tuple(r for r in transaction.responses if 101 <= r.status < 300 and not r.to_tag)
        if tagless:
            found.append((transaction, tagless))
    return tuple(found)


@check("request_outside_dialog_accepted", (*_REQUEST, "tag.header", "tag.sent", "tag.dialog"),
       needs=Needs(methods=INVITE_DIALOG_METHODS))
def request_outside_dialog_accepted(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A request of an INVITE dialog whose tags name no dialog of the call, answered 2xx."""
    if not isinstance(subject, Call):
        return
    for transaction in subject.transactions:
        request = transaction.request
        if (transaction.method not in INVITE_DIALOG_METHODS or request is None
                or not request.to_tag or not 200 <= transaction.final_status < 300):
            continue
        wrong = wrong_tag(transaction, subject.dialogs)
        if wrong is not None:
            values = {**_request(transaction, subject), "tag.header": wrong.header,
                      "tag.sent": wrong.sent, "tag.dialog": wrong.dialog}
            yield _request_hit(subject, transaction, values)


@check("body_length_refused", (*_REQUEST, "length", "body"), needs=REFUSED_AS_MALFORMED)
def body_length_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A request whose body is shorter or longer than its Content-Length, refused with 400."""
    for transaction, request in _refused(subject, (Defect.BODY_SHORT, Defect.BODY_LONG)):
        values = {**_request(transaction, subject),
                  "length": str(request.content_length),
                  "body": str(len(request.raw) - request.body_start)}
        yield _request_hit(subject, transaction, values)


@check("repeated_header_refused", (*_REQUEST, "header", "values"), needs=REFUSED_AS_MALFORMED)
def repeated_header_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A request with a header allowed once given on several lines, refused with 400."""
    for transaction, request in _refused(subject, (Defect.REPEATED_HEADER,)):
        for header in _repeated_headers(request):
            values = {**_request(transaction, subject), "header": header,
                      "values": " | ".join(request.headers.get_all(header))}
            yield _request_hit(subject, transaction, values, header)


def _request(transaction: Transaction, subject: Subject) -> dict[str, str]:
    return transaction_values("request", transaction, subject.start_ns)


def _refused(
    subject: Subject, defects: tuple[Defect, ...]
) -> Iterator[tuple[Transaction, SipMessage]]:
    """Requests with one of these defects that were answered 400 (Bad Request)."""
    for transaction in subject.transactions:
        request = transaction.request
        if (request is not None and transaction.final_status == BAD_REQUEST
                and any(kind in defects for kind, _ in request.defects)):
            yield transaction, request


def _repeated_headers(request: SipMessage) -> list[str]:
    """The headers of ``ONCE_ONLY`` the request gives on more than one line."""
    headers = request.headers
    return [name for name in ONCE_ONLY if len(headers.get_all(name)) > 1]


def _request_hit(subject: Subject, transaction: Transaction, values: dict[str, str],
                 *key: object) -> Hit:
    messages = [m for m in (transaction.request, transaction.final) if m is not None]
    return hit(subject, values, messages, (*hop_key(transaction), *key))

