"""SDP (RFC 8866) redacted line by line.

The addresses of ``o=`` and ``c=`` (RFC 8866 5.2, 5.7), of ``a=rtcp`` (RFC 3605) and of ICE
candidates, with their ``raddr`` (RFC 8839 5.1), are mapped as hosts (an address, or a name
such as an mDNS ``.local`` one); the ``o=`` user name as a user part; ``e=`` and ``p=`` (an
e-mail address and a phone number, 5.6) letter for letter and digit for digit. The secrets
that would let a reader decrypt the media, SDES keys (``a=crypto``'s ``inline:``, RFC 4568
6.1), ``k=`` keys (RFC 4566 5.12) and ``a=ice-pwd``, become tokens of their length. Every
other line goes through ``redact_text``.
"""

from __future__ import annotations

import re

from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.evidence.redact.text import LINES, host, redact_text

_INLINE_KEY = re.compile(r"(?<=inline:)[A-Za-z0-9+/=]+")
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def redact_sdp(body: str, names: Pseudonyms) -> str:
    return "".join(_redact_line(line, names) for line in LINES.findall(body))


def _redact_line(line: str, names: Pseudonyms) -> str:
    content = line.rstrip("\r\n")
    ending = line[len(content):]
    kind, equals, value = content.partition("=")
    if not equals:
        return redact_text(line, names)
    fields = value.split(" ")
    if kind == "o" and len(fields) >= 6:
        fields[0] = fields[0] if fields[0] == "-" else names.identity(fields[0])
        fields[5] = host(fields[5], names)
    elif kind == "c" and len(fields) >= 3:
        address, slash, scope = fields[2].partition("/")
        fields[2] = host(address, names) + slash + scope
    elif kind in ("e", "p"):
        fields = [names.identity(value, Kind.USER if kind == "e" else Kind.NUMBER)]
    elif kind == "k":  # an encryption key (RFC 4566 5.12, obsolete but still written)
        method, colon, secret = value.partition(":")
        fields = [method + colon + _secret(secret, names) if colon
                  else value if value == "prompt" else _secret(value, names)]
    elif kind == "a":
        fields = _redact_attribute(value, fields, names)
    else:
        return redact_text(line, names)
    return kind + equals + " ".join(fields) + ending


def _redact_attribute(value: str, fields: list[str], names: Pseudonyms) -> list[str]:
    name = value.split(":")[0]
    if name == "candidate" and len(fields) >= 6:
        fields[4] = host(fields[4], names)
        for at in range(6, len(fields) - 1):
            if fields[at] == "raddr":
                fields[at + 1] = host(fields[at + 1], names)
        return fields
    if name == "rtcp" and len(fields) >= 4:
        fields[3] = host(fields[3], names)
        return fields
    if name == "crypto":
        return [_INLINE_KEY.sub(lambda key: _secret(key[0], names), field) for field in fields]
    if name == "ice-pwd":
        return [value[:8] + _secret(value[8:], names)]
    return [redact_text(value, names)]


def _secret(text: str, names: Pseudonyms) -> str:
    """A key written in base64: other base64 characters, the padding kept."""
    names.count(Kind.CREDENTIAL, text)
    digest = names.digest("secret", text.encode())
    core = text.rstrip("=")
    return "".join(_BASE64[digest[i % 32] % 64] for i in range(len(core))) + text[len(core):]
