"""A private address announced by a peer seen at a public one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.network.addresses import address_kind
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, message_evidence
from sipdiag.sip.headers import parse_uri
from sipdiag.sip.message import SipMessage


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
            yield hit(subject, values, [message], ("private", message.src.ip, host))


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
