"""Checks: the patterns a rule file cannot declare as steps, written in Python.

A rule file names a check (``check: ack_missing``) and keeps its own text, severity and tests;
the check only finds the events and fills the placeholders it declares. Parameters come from the
rule file (``params: {over: 6s}``), so a user can tune a check without touching Python.

Each check takes the call or exchange, its parameters and the catalog, and yields ``Hit``s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sipdiag.dialogs.calls import Call, Exchange, error_cause, session_expiry
from sipdiag.dialogs.transactions import TIMER_B_NS, Transaction
from sipdiag.network.addresses import address_kind
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.matcher import (
    Hit,
    call_values,
    hop_key,
    message_evidence,
    seconds,
    transaction_values,
)
from sipdiag.rules.model import Evidence, parse_duration
from sipdiag.sip.headers import SipWarning, parse_reason, parse_uri, parse_warning
from sipdiag.sip.message import SipMessage
from sipdiag.sip.sdp import Sdp

Subject = Call | Exchange
Run = Callable[[Subject, Mapping[str, object], Catalog], Iterator[Hit]]
Param = tuple[Callable[[object], object], object]


@dataclass(frozen=True)
class Check:
    run: Run
    placeholders: tuple[str, ...]
    """What the check fills, besides ``{call.*}``."""
    params: Mapping[str, Param]
    """Name -> (parse the rule file's value, default)."""


CHECKS: dict[str, Check] = {}


def check(
    name: str, placeholders: tuple[str, ...], params: Mapping[str, Param] | None = None
) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        CHECKS[name] = Check(run, placeholders, params or {})
        return run

    return register


def _hit(subject: Subject, values: dict[str, str], messages: list[SipMessage],
         key: tuple[object, ...], refs: tuple[tuple[str, int], ...] = (),
         evidence: tuple[Evidence, ...] = ()) -> Hit:
    found = {*evidence, *(message_evidence(m) for m in messages)}
    return Hit({**call_values(subject), **values}, tuple(sorted(found)), key, refs)


# -- the 2xx that was never ACKed (RFC 3261 13.3.1.4: the UAS gives up after 64*T1) ----------

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
            yield _hit(subject, values, [bye] if bye else [], ("ack", ok.frame),
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


# -- the session timer ran out (RFC 4028) ---------------------------------------------------

@check("session_timer_expired",
       ("refresh.frame", "interval", "bye.frame", "bye.sender", "elapsed"))
def session_timer_expired(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    if not isinstance(subject, Call):
        return
    for dialog in subject.dialogs:
        bye = dialog.bye
        request = bye.request if bye else None
        if bye is None or request is None or dialog.confirmed is None:
            continue
        expiry = session_expiry(dialog, bye)
        if expiry is None:
            continue
        refresh, interval = expiry
        values = {
            "refresh.frame": str(refresh.frame),
            "interval": str(interval),
            "bye.frame": str(request.frame),
            "bye.sender": str(request.src),
            "elapsed": seconds(request.ts_ns - refresh.ts_ns),
        }
        yield _hit(subject, values, [refresh, request], ("session", hop_key(bye)))


# -- 488 / 606: the offer and what the far end accepts (RFC 3261 21.4.26, 21.6.4) -----------

@check("codec_mismatch", (
    "offer.method", "offer.frame", "offer.status", "offer.reason", "offer.final_frame",
    "offer.responder", "offered", "accepted", "common",
))
def codec_mismatch(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    for transaction in subject.transactions:
        request, final = transaction.request, transaction.final
        if request is None or final is None or final.status not in (488, 606):
            continue
        if request.sdp is None:
            continue  # no offer in the request: not a question of codecs
        offered = _codecs(request.sdp)
        accepted = _codecs(final.sdp)
        common = [codec for codec in offered if codec in accepted]
        values = {
            **transaction_values("offer", transaction, subject.start_ns),
            "offered": _listed(offered),
            "accepted": _listed(accepted),
            "common": _listed(common),
        }
        refs = tuple(("warning", w.code) for w in _warnings(final))
        yield _hit(subject, values, [request, final], hop_key(transaction), refs)


def _codecs(sdp: Sdp | None) -> list[str]:
    """``audio PCMU/8000``, ... : each media kind with its codecs, in offer order."""
    if sdp is None:
        return []
    return list(dict.fromkeys(
        f"{media.kind} {media.codecs.get(fmt) or fmt}"
        for media in sdp.media
        for fmt in media.formats
    ))


def _listed(items: list[str]) -> str:
    return ", ".join(items) if items else "-"


# -- a private address announced by a peer seen at a public one -----------------------------

@check("private_address", ("frame", "what", "sender", "private", "where"))
def private_address(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    seen: set[tuple[str, str]] = set()
    for message in subject.messages:
        if address_kind(message.src.ip) != "public":
            continue
        for where, host in _announced(message):
            if address_kind(host) != "private" or (message.src.ip, host) in seen:
                continue
            seen.add((message.src.ip, host))
            values = {
                "frame": str(message.frame),
                "what": message_evidence(message).what,
                "sender": str(message.src),
                "private": host,
                "where": where,
            }
            yield _hit(subject, values, [message], ("private", message.src.ip, host))


def _announced(message: SipMessage) -> Iterator[tuple[str, str]]:
    """(where, address) for the Contact host and the SDP addresses of a message.

    The Contacts of a response to REGISTER are the client's bindings, not the registrar's own
    address (RFC 3261 10.3), so they are not the sender's to answer for."""
    contact = None if message.cseq_method == "REGISTER" and message.status else (
        message.name_addr("contact")
    )
    uri = parse_uri(contact.uri) if contact else None
    if uri is not None:
        yield "Contact", uri.host
    sdp = message.sdp
    if sdp is not None:
        for address in sdp.addresses:
            yield "SDP c=", address


# -- post-dial delay ------------------------------------------------------------------------

@check("long_post_dial_delay", ("invite.frame", "ring.frame", "ring.status", "pdd", "over"),
       {"over": (parse_duration, 6_000_000_000)})
def long_post_dial_delay(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """The caller waited longer than ``over`` for ringing (or for the answer, without ringing)."""
    over = params["over"]
    assert isinstance(over, int)
    if not isinstance(subject, Call):
        return
    invites = [t for t in subject.transactions if t.method == "INVITE" and t.request is not None
               and not t.request.to_tag]
    if not invites:
        return
    first = invites[0].request
    assert first is not None
    responses = sorted(
        (r for t in invites if t.request and t.request.src == first.src for r in t.responses),
        key=lambda r: r.ts_ns,
    )
    ring = next((r for r in responses if r.status in (180, 183) or 200 <= r.status < 300), None)
    if ring is None or ring.ts_ns - first.ts_ns <= over:
        return
    values = {
        "invite.frame": str(first.frame),
        "ring.frame": str(ring.frame),
        "ring.status": str(ring.status),
        "pdd": seconds(ring.ts_ns - first.ts_ns),
        "over": seconds(over),
    }
    yield _hit(subject, values, [first, ring], ("pdd",))


# -- Reason and Warning headers, decoded with the catalog -----------------------------------

@check("reason_abnormal", ("what", "frame", "sender", "protocol", "cause", "cause_name", "text"))
def reason_abnormal(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A BYE or CANCEL whose Reason gives an error cause (not normal clearing)."""
    seen: set[tuple[object, ...]] = set()
    for message in subject.messages:
        if message.method not in ("BYE", "CANCEL"):
            continue
        found = error_cause(message)
        key = (message.method, message.cseq, found)
        if found is None or key in seen:
            continue
        seen.add(key)
        protocol, cause = found
        reason = next(r for v in message.values("reason") if (r := parse_reason(v))
                      and (r.protocol, r.cause) == found)
        values = {
            "what": message.method,
            "frame": str(message.frame),
            "sender": str(message.src),
            "protocol": protocol,
            "cause": str(cause),
            "cause_name": _cause_name(catalog, protocol, cause),
            "text": reason.text or "-",
        }
        ref = ("q850" if protocol == "Q.850" else "response", cause)
        yield _hit(subject, values, [message], key, (ref,))


def _cause_name(catalog: Catalog, protocol: str, cause: int) -> str:
    if protocol == "Q.850":
        entry = catalog.q850.get(cause)
        return entry.name if entry else "-"
    response = catalog.response(cause)
    return response.reason if response else "-"


@check("warning_header", ("what", "frame", "sender", "code", "code_name", "agent", "text"))
def warning_header(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    seen: set[tuple[object, ...]] = set()
    for message in subject.messages:
        if not message.status:
            continue  # Warning is a response header (RFC 3261 20.43)
        for warning in _warnings(message):
            key = (message.cseq, message.status or message.method, warning.code, warning.agent)
            if key in seen:
                continue  # the same response relayed by a proxy
            seen.add(key)
            entry = catalog.warnings.get(warning.code)
            values = {
                "what": message_evidence(message).what,
                "frame": str(message.frame),
                "sender": str(message.src),
                "code": str(warning.code),
                "code_name": entry.name if entry else "-",
                "agent": warning.agent,
                "text": warning.text or "-",
            }
            yield _hit(subject, values, [message], key, (("warning", warning.code),))


def _warnings(message: SipMessage) -> list[SipWarning]:
    return [w for value in message.values("warning") if (w := parse_warning(value))]
