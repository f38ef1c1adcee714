"""Identifiers in SIP text: URIs, addresses and host names found anywhere in a header value
or a text body, and replaced by their pseudonyms in one pass.

Theory of operation. ``redact_text`` scans left to right with one pattern of alternatives, so
every character is looked at once and no pseudonym is ever taken for an identifier again:
- ``sip:``/``sips:``/``im:``/``pres:`` URIs (RFC 3261 19.1.1): the user part (a number or a
  name, with its ``;`` parameters and a password after ``:``) and the host;
- ``tel:`` numbers (RFC 3966);
- ``http(s)://`` URLs (Identity's ``info``, a PASSporT's ``x5u``, Call-Info, Alert-Info): the
  host, a user and password before it (a token), each segment of the path (a user's photo
  or ring tone names them);
- the sent-by host of a Via (RFC 3261 20.42);
- the parameters that name a host: ``received``, ``maddr`` (RFC 3261 20.42, 19.1.1), and the
  P-Charging-Vector's ``icid-generated-at``, ``orig-ioi``, ``term-ioi`` (RFC 7315 4.6);
- ``local@host`` outside a URI (a Call-ID, RFC 3261 20.8), also escaped as ``local%40host``
  in a URI's headers (a Replaces, RFC 3891): the host, and any address in the local part; a
  local part that is a number is mapped as one, any other is random and kept (so that a
  Replaces still names its call);
- any other word that has the shape of a domain name (labels and dots, the last label
  letters): a realm, a vendor's header, a product named like its domain (Ekiga.NET);
- a device's instance id (``+sip.instance``, RFC 5626 4.1): a UUID URN or a mobile's IMEI
  URN (RFC 7254), mapped letter for letter and digit for digit;
- IPv4 and IPv6 addresses, and MAC addresses (some user agents put theirs in User-Agent);
- with ``numbers`` (a header whose digits are not the protocol's own counters): any run of six
  digits or more, mapped as a number is in a URI (a vendor's ``X-Customer: 4155550123`` gets
  the pseudonym of ``sip:4155550123@...``).

What this does not know: a name in free text outside a URI (a Warning's text, a vendor's X-
header); the fields that are free text and nothing else (Subject, Organization) are replaced
whole by the caller.
"""

from __future__ import annotations

import ipaddress
import re

from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms

_HOST = r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_IDENTIFIERS = re.compile(
    r"(?P<scheme>(?i:sips?|im|pres):)(?:(?P<user>[^@\s<>\"',]+)@)?(?P<host>" + _HOST + r")"
    r"|(?P<telscheme>(?i:tel):)(?P<tel>[0-9A-Fa-f+*#().\-]+)"
    r"|(?P<web>(?i:https?)://)(?:(?P<webuser>[^@/\s<>\"]+)@)?(?P<webhost>" + _HOST + r")"
    r"(?P<webport>:\d+)?(?P<webpath>/[^\s<>\";,?#]*)?"
    r"|(?P<via>SIP\s*/\s*2\.0\s*/\s*[A-Za-z]+[ \t]+)(?P<sentby>" + _HOST + r")"
    r"|(?<=[;\s])(?P<param>received|maddr|icid-generated-at|orig-ioi|term-ioi)"
    r"(?P<eq>[ \t]*=[ \t]*\"?)(?P<value>\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"
    r"|" + _HOST + r")"
    r"|(?<![\w.!%*+`'~-])(?P<local>[\w.!%*+`'~-]+)(?P<at>@|%40)(?P<athost>" + _HOST + r")"
    r"|(?P<urn>urn:(?:uuid|gsma:imei(?:sv)?):)(?P<device>[0-9A-Fa-f-]+)"
    r"|(?<![\w.@/+-])(?P<name>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})(?![\w.-])"
    r"|(?<![\w:.])(?P<mac>(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2})(?![\w:])"
    r"|(?<![\w:.])(?P<ip6>[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)(?![\w:])"
    r"|(?<![\w.])(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})(?!\.?\d)",
)
_AND_NUMBERS = re.compile(_IDENTIFIERS.pattern + r"|(?<![\w.=])(?P<digits>\+?\d{6,})(?![\w.])")
_IP_ONLY = re.compile(
    r"(?<![\w:.])(?P<ip6>[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)(?![\w:])"
    r"|(?<![\w.])(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})(?!\.?\d)"
)

LINES = re.compile(r"[^\n]*\n|[^\n]+")
"""Each line of a text with its line ending (a last one may have none)."""
_NUMBER = re.compile(r"\+?[0-9().-]{3,}")
"""A local part that is a telephone number (a vendor's ``+15551234@host`` header)."""


def redact_text(text: str, names: Pseudonyms, *, numbers: bool = False) -> str:
    """``text`` with every identifier it holds replaced (see the module's list); ``numbers``:
    bare runs of digits too."""
    pattern = _AND_NUMBERS if numbers else _IDENTIFIERS
    return pattern.sub(lambda match: _replace(match, names), text)


def _replace(match: re.Match[str], names: Pseudonyms) -> str:
    found = match.lastgroup
    if match["scheme"] is not None:
        user = match["user"]
        head = match["scheme"] + (f"{user_part(user, names)}@" if user is not None else "")
        return head + host(match["host"], names)
    if match["tel"] is not None:
        return match["telscheme"] + names.identity(match["tel"], Kind.NUMBER)
    if match["web"] is not None:
        user = match["webuser"]
        userinfo = f"{names.token('password', user)}@" if user is not None else ""
        path = "/".join(names.identity(part) for part in (match["webpath"] or "").split("/"))
        return (match["web"] + userinfo + host(match["webhost"], names)
                + (match["webport"] or "") + path)
    if match["via"] is not None:
        return match["via"] + host(match["sentby"], names)
    if match["param"] is not None:
        return match["param"] + match["eq"] + host(match["value"], names)
    if match["local"] is not None:
        local = match["local"]
        local = names.identity(local, Kind.NUMBER) if _NUMBER.fullmatch(local) else \
            _IP_ONLY.sub(lambda inner: _address(inner[0], names), local)
        return f"{local}{match['at']}{host(match['athost'], names)}"
    if match["urn"] is not None:
        return match["urn"] + names.identity(match["device"], Kind.DEVICE)
    if found == "digits":
        return names.identity(match["digits"], Kind.NUMBER)
    if found == "name":
        return names.host(match["name"])
    if found == "mac":
        return ":".join(f"{b:02x}" for b in names.mac(bytes.fromhex(match[0].replace(":", ""))))
    return _address(match[0], names)


def _address(text: str, names: Pseudonyms) -> str:
    """An address literal: replaced if it is one, kept if it only looks like one (a time)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text
    return names.ip_text(text)


def user_part(user: str, names: Pseudonyms) -> str:
    """A URI's userinfo: the user (with its parameters, RFC 4694 ``;rn=``, ``;npdi``) and a
    password after ``:``, which becomes a token."""
    user, colon, password = user.partition(":")
    name, *params = user.split(";")
    out = [names.identity(name)]
    for param in params:
        key, equals, value = param.partition("=")
        out.append(key + equals + (names.identity(value, Kind.NUMBER) if value else ""))
    secret = names.token("password", password) if colon else ""
    return ";".join(out) + (colon + secret)


def host(text: str, names: Pseudonyms) -> str:
    """A host as a URI or a Via writes it: an address (IPv6 in brackets) or a name."""
    bracketed = text.startswith("[") and text.endswith("]")
    bare = text[1:-1] if bracketed else text
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return names.host(bare) if bare else text
    pseudo = str(ipaddress.ip_address(names.ip(address.packed)))
    return f"[{pseudo}]" if bracketed else pseudo
