"""A private address announced by a user agent seen at a public one: a NAT that neither the
device nor anything on the way handles (RFC 3261 18.2.1, RFC 3581).

Only what the sender wrote about itself counts, and only where the far end would use it:

- a proxy relaying someone else's message is not behind a NAT for it: a request that went
  through a proxy carries more than one Via (every proxy adds its own, RFC 3261 16.6 step 8), and
  a response comes from a proxy on the route when the sender is named in its Record-Route
  (RFC 3261 16.6 step 4, 12.1.1);
- an address of the receiver (where the packet went, or what the receiver announced earlier)
  written back to it is the receiver's, not the sender's: a registrar listing bindings, an
  answer echoing the offer;
- the Contact of a 100 (no dialog), of a redirect (targets) or of a 2xx to REGISTER (bindings,
  RFC 3261 10.3) is not where the sender is reached;
- the element the message went to, seen sending the device a request at the public address the
  message came from (for the private address, or after the message gave it), reaches it
  through its NAT (hosted NAT traversal, RFC 7362): the Contact does no harm, nor the SDP when
  that element is the media end (it latches onto the media where it comes from);
- a media section with ICE candidates (RFC 8445, RFC 8839) that include a public, server
  reflexive or relayed one uses them: its private c= is only the default; a stream with port 0
  carries nothing (RFC 3264 5.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from sipdiag.network import Endpoint
from sipdiag.network.addresses import address_kind, normal_ip
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, message_evidence
from sipdiag.sip.headers import SipUri, parse_name_addr, parse_uri
from sipdiag.sip.message import SipMessage
from sipdiag.sip.sdp import Media


class Where(Enum):
    """Where the message gives the address."""

    CONTACT = "Contact"
    SDP = "SDP c="


ICE_REACHABLE = frozenset({"srflx", "relay"})
"""Candidate types that work from outside the NAT whatever their address (RFC 8445 5.1.1)."""


@check("private_address", ("frame", "what", "sender", "private", "where"))
def private_address(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    messages = subject.messages
    if not any(address_kind(ip) == "public" for ip in {m.src.ip for m in messages}):
        return  # no sender seen at a public address: none behind a NAT
    seen: set[tuple[str, str]] = set()
    earlier: dict[Endpoint, set[str]] = {}
    """The addresses each endpoint gave as its own so far, by where its messages came from."""
    sent = _SentIndex(messages)
    for message in messages:
        receivers = {message.dst.ip, *earlier.get(message.dst, ())}
        own = list(_announced(message))
        earlier.setdefault(message.src, set()).update(host for _, host in own)
        if address_kind(message.src.ip) != "public" or _relayed(message):
            continue
        for where, host in own:
            if (message.src.ip, host) in seen or not _at_risk(where, host, receivers, sent,
                                                               message):
                continue
            seen.add((message.src.ip, host))
            values = {
                "frame": str(message.frame),
                "what": message_evidence(message).what,
                "sender": str(message.src),
                "private": host,
                "where": where.value,
            }
            yield hit(subject, values, [message], ("private", message.src.ip, host))


def _at_risk(where: Where, host: str, receivers: set[str], sent: _SentIndex,
             message: SipMessage) -> bool:
    """A private address of the sender's own that nothing seen makes harmless."""
    return (address_kind(host) == "private" and host not in receivers
            and not _handled(where, host, sent, message))


def _handled(where: Where, host: str, sent: _SentIndex, message: SipMessage) -> bool:
    """The element the message went to reaches the device through its NAT (hosted NAT
    traversal, RFC 7362): it sent the device a request at the public address the message came
    from, for the private address itself or after the message gave it. For the SDP, it is also
    the media end (an SDP of its own to the device puts every stream at its address), so it
    latches onto the media where it comes from rather than where the SDP says."""
    back = sent.get(message.dst.ip, message.src)
    if back is None:
        return False
    reached = back.last_request_frame > message.frame or host in back.request_hosts
    return reached and (where is Where.CONTACT or back.media_end)


@dataclass
class _Sent:
    """What one address sent to one endpoint, as ``_handled`` asks it."""

    last_request_frame: int = 0
    """The frame of the latest request (0: none; frames are numbered from 1)."""
    request_hosts: set[str | None] = field(default_factory=set)
    """The host of each request's Request-URI."""
    media_end: bool = False
    """An SDP put every stream at the sending address."""

    def add(self, message: SipMessage) -> None:
        if message.is_request:
            self.last_request_frame = max(self.last_request_frame, message.frame)
            self.request_hosts.add(_host(parse_uri(message.request_uri)))
        self.media_end = self.media_end or _media_end(message, message.src.ip)


class _SentIndex:
    """What each address sent to each endpoint: one pass over the messages, made when first
    asked (most calls never ask)."""

    def __init__(self, messages: Iterable[SipMessage]) -> None:
        self._messages = messages

    def get(self, sender: str, receiver: Endpoint) -> _Sent | None:
        return self._by_flow.get((sender, receiver))

    @cached_property
    def _by_flow(self) -> dict[tuple[str, Endpoint], _Sent]:
        by_flow: dict[tuple[str, Endpoint], _Sent] = {}
        for message in self._messages:
            by_flow.setdefault((message.src.ip, message.dst), _Sent()).add(message)
        return by_flow


def _media_end(message: SipMessage, address: str) -> bool:
    """The message's SDP puts every stream at this address."""
    sdp = message.sdp
    found = [normal_ip(a) for a in sdp.addresses] if sdp is not None else []
    return bool(found) and all(a == address for a in found)


def _relayed(message: SipMessage) -> bool:
    """The sender passes on a message another element wrote (RFC 3261 16.6)."""
    if message.is_request:
        return len(message.vias) > 1
    return any(_host(parse_uri(parse_name_addr(value).uri)) == message.src.ip
               for value in message.values("record-route"))


def _announced(message: SipMessage) -> Iterator[tuple[Where, str]]:
    """(where, address) for each address the sender gives as its own and the far end would
    send to: the Contact, the c= of each live media section."""
    host = _host(_own_contact(message))
    if host is not None:
        yield Where.CONTACT, host
    sdp = message.sdp
    if sdp is not None:
        for address in dict.fromkeys(_media_addresses(sdp.media)):
            yield Where.SDP, address


def _own_contact(message: SipMessage) -> SipUri | None:
    """The Contact of a request, or of a response that sets up a dialog (101-299); not of a
    2xx to REGISTER, whose Contacts are the registered bindings (RFC 3261 10.3)."""
    if message.status and (
        not 100 < message.status < 300 or message.cseq_method == "REGISTER"
    ):
        return None
    contact = message.name_addr("contact")
    return parse_uri(contact.uri) if contact else None


def _media_addresses(media: Iterable[Media]) -> Iterator[str]:
    for section in media:
        address = normal_ip(section.connection) if section.connection else None
        if address is not None and section.port and not _ice_reachable(section):
            yield address


def _ice_reachable(section: Media) -> bool:
    """A candidate the far end can reach from outside: the c= address is only a default."""
    return any(c.kind.lower() in ICE_REACHABLE or address_kind(c.address) == "public"
               for c in section.candidates)


def _host(uri: SipUri | None) -> str | None:
    return normal_ip(uri.host) if uri is not None else None
