"""Registrations: the bindings a REGISTER asks for, how long the registrar grants them, and
de-registration (RFC 3261 section 10).

A REGISTER binds each of its Contacts to the address of record for the time its ``expires``
parameter asks, else its Expires header (10.2.1.1). An expiry of 0 removes the binding, and
``Contact: *`` with ``Expires: 0`` removes them all (10.2.2). The 2xx lists every binding the
registrar now holds, each with its ``expires`` (10.3 step 8); the client reads its own there,
else the 2xx's Expires header, and must refresh before that time runs out (10.2.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipdiag.sip.headers import NameAddr, parse_name_addr, parse_uri
from sipdiag.sip.message import SipMessage

ALL_BINDINGS = "*"
_SECONDS = re.compile(r"^\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Binding:
    """One Contact of a REGISTER and the expiry it asks for (None: neither its ``expires``
    parameter nor the Expires header says)."""

    contact: str
    """The Contact's URI, or ``*``."""
    expires: int | None


def _seconds(value: str | None) -> int | None:
    match = _SECONDS.match(value) if value is not None else None
    return int(match[1]) if match else None


def _contacts(message: SipMessage) -> list[NameAddr]:
    return [parse_name_addr(value) for value in message.values("contact")]


def requested_bindings(request: SipMessage) -> list[Binding]:
    """The bindings a REGISTER asks for (none: it only asks which bindings there are, 10.2.3)."""
    header = _seconds(request.first_value("expires"))
    found = []
    for contact in _contacts(request):
        own = _seconds(contact.params.get("expires"))
        found.append(Binding(contact.uri.strip(), header if own is None else own))
    return found


def is_deregistration(request: SipMessage) -> bool:
    """A REGISTER that removes its bindings: each asks for an expiry of 0 (10.2.2)."""
    bindings = requested_bindings(request)
    return bool(bindings) and all(b.expires == 0 for b in bindings)


def how_removed(request: SipMessage) -> str:
    """How a de-registration says so, in protocol words: ``Contact: *``, ``expires=0`` (on
    each Contact) or ``Expires: 0``."""
    if any(b.contact == ALL_BINDINGS for b in requested_bindings(request)):
        return "Contact: *"
    if all(c.params.get("expires") is not None for c in _contacts(request)):
        return "expires=0"
    return "Expires: 0"


def _contact_key(uri: str) -> tuple[str, str, str] | None:
    """Scheme, user and host:port: what tells one contact address from another (the URI
    parameters left out; RFC 3261 19.1.4 would compare some of them too)."""
    parsed = parse_uri(uri)
    return (parsed.scheme, parsed.user, parsed.hostport.lower()) if parsed else None


def granted_seconds(request: SipMessage, ok: SipMessage) -> int | None:
    """The shortest time the 2xx ``ok`` keeps one of the request's bindings (10.2.4: its
    Contact's ``expires``, else the 2xx's Expires; a binding the 2xx does not list keeps what
    the request asked). None: nothing says, or the request removed or asked for nothing."""
    header = _seconds(ok.first_value("expires"))
    listed = {_contact_key(c.uri): _seconds(c.params.get("expires")) for c in _contacts(ok)}
    granted = []
    for binding in requested_bindings(request):
        if binding.expires == 0 or binding.contact == ALL_BINDINGS:
            continue
        kept = (listed.get(_contact_key(binding.contact)), header, binding.expires)
        seconds = next((s for s in kept if s is not None), None)
        if seconds:
            granted.append(seconds)
    return min(granted, default=None)


def requested_expiry(request: SipMessage) -> int | None:
    """The shortest expiry other than 0 a request asks for: of its bindings for a REGISTER,
    its Expires header for a SUBSCRIBE or PUBLISH (RFC 6665 3.1.1, RFC 3903 4.1)."""
    if request.method != "REGISTER":
        return _seconds(request.first_value("expires"))
    asked = [b.expires for b in requested_bindings(request) if b.expires]
    return min(asked, default=None)


def contacts_text(request: SipMessage) -> str:
    """The Contacts of a REGISTER, as one text (``-`` when it has none)."""
    return ", ".join(b.contact for b in requested_bindings(request)) or "-"
