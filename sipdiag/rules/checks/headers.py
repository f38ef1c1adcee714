"""Reason and Warning headers, decoded with the catalog."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import error_cause
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, message_evidence
from sipdiag.sip.headers import SipWarning, parse_reason, parse_warning
from sipdiag.sip.message import SipMessage


@check("reason_abnormal", ("what", "frame", "sender", "protocol", "cause", "cause_name", "text"),
       needs=Needs(methods=("BYE", "CANCEL"), request_headers=("reason",)))
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
        yield hit(subject, values, [message], key, (ref,))


def _cause_name(catalog: Catalog, protocol: str, cause: int) -> str:
    if protocol == "Q.850":
        entry = catalog.q850.get(cause)
        return entry.name if entry else "-"
    response = catalog.response(cause)
    return response.reason if response else "-"


@check("warning_header", ("what", "frame", "sender", "code", "code_name", "agent", "text"),
       needs=Needs(response_headers=("warning",)))
def warning_header(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    seen: set[tuple[object, ...]] = set()
    for message in subject.messages:
        if not message.status:
            continue  # Warning is a response header (RFC 3261 20.43)
        for warning in warnings_of(message):
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
            yield hit(subject, values, [message], key, (("warning", warning.code),))


def warnings_of(message: SipMessage) -> list[SipWarning]:
    return [w for value in message.values("warning") if (w := parse_warning(value))]
