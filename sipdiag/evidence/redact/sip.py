"""A SIP message redacted as a whole: start line, header fields, body, Content-Length.

Theory of operation. The message is read as sipdiag reads it (``parse_message``: a payload it
would not take for SIP is refused, ``Unredactable``), then rewritten field by field, as text
(bytes decoded one to one, so nothing unrecognised is changed). Every field value goes through
``redact_text``; on top of that:
- display names before a ``<`` in any field (RFC 3261 20.10, 20.20, 20.34, and every extension
  that copies their form, P-Associated-URI or a vendor's) become ``Name`` and a hash, or a
  number if they were one;
- the Digest fields (RFC 3261 22.4, RFC 7616): ``username`` is mapped as a user part,
  ``realm`` as a host name, ``nonce``, ``cnonce``, ``response``, ``opaque``, ``nextnonce``
  and ``rspauth`` become hex tokens; any other scheme's credentials become one token;
- Identity (RFC 8224) is rebuilt by ``identity.redact_identity``;
- Subject and Organization, text for people, are replaced whole; in every field but those
  whose digits are counters (CSeq, Expires, ...), runs of six digits or more are numbers.

Bodies (RFC 3261 7.4): SDP is redacted line by line (``sdp.redact_sdp``), ``message/sipfrag``
as SIP text, ``multipart/*`` part by part; a body of any other type (text/plain of a MESSAGE,
DTMF in an INFO, ISUP, XML) is removed, since there is no telling what it holds (a part of a
multipart body, with its headers: an empty part typed ISUP would not be ISUP). Content-Length
is rewritten to the new body's size, plus whatever the original was out by (a message cut by
the snapshot length stays as cut).
"""

from __future__ import annotations

import re

from sipdiag.evidence.redact.identity import redact_identity
from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.sdp import redact_sdp
from sipdiag.evidence.redact.text import LINES, redact_text
from sipdiag.sip.headers import canonical_name
from sipdiag.sip.parser import NotSip, parse_message

AUTH_FIELDS = frozenset({
    "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate",
    "authentication-info",
})
FREE_TEXT_FIELDS = frozenset({"subject", "organization"})
"""Fields that are text for people and nothing else (RFC 3261 20.36, 20.25): replaced whole."""
COUNTER_FIELDS = frozenset({
    "cseq", "rseq", "rack", "max-forwards", "content-length", "expires", "min-expires",
    "session-expires", "min-se", "timestamp", "retry-after", "event", "subscription-state",
    "via", "date", "content-type", "allow-events",
})
"""Fields whose digits are the protocol's own (sequence numbers, durations, times): the other
fields' runs of digits are taken for numbers (``redact_text(numbers=True)``)."""
OPAQUE_SCHEMES = frozenset({"basic", "bearer"})
"""Schemes whose credentials are one token (RFC 7617, RFC 6750), not Digest's parameters."""
_TOKEN_PARAMS = frozenset({"nonce", "cnonce", "response", "opaque", "nextnonce", "rspauth"})
_DISPLAY = re.compile(r'(?:^|(?<=,))(?P<space>\s*)(?P<name>"(?:[^"\\]|\\.)*"|[^",<]*?)(?=\s*<)')
_AUTH_PARAM = re.compile(r'(?P<name>[\w-]+)(?P<eq>\s*=\s*)(?P<value>"(?:[^"\\]|\\.)*"|[^\s,"]+)')
_SCHEME = re.compile(r"\s*(?P<scheme>[\w-]+)\s+(?=\S)")
_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))', re.I)


def redact_message(data: bytes, names: Pseudonyms) -> bytes:
    try:
        message = parse_message(data)
    except NotSip as exc:
        raise Unredactable("a payload sent to a SIP port that is not a SIP message") from exc
    text = data.decode("latin-1")
    # A header with no empty line after it (legal over UDP without a body, RFC 3261 7.5)
    head_end = _head_end(text) or (len(text), len(text))
    head, body = text[:head_end[0]], text[head_end[1]:]
    fields = _fields(head)
    content_type = _field_value(fields, "content-type")
    length = message.content_length
    # RFC 3261 18.3: over UDP, bytes after Content-Length are not the body: redacted apart, so
    # that the new Content-Length still ends the body where the old one did
    covered, after = (body[:length], body[length:]) if length is not None else (body, "")
    new_covered = redact_body(covered, content_type, names) if covered else covered
    new_body = new_covered + (redact_body(after, content_type, names) if after else after)
    out = [_redact_field(line, names) if index else redact_text(line, names)
           for index, line in enumerate(fields)]
    new_head = "".join(out)
    if length is not None and len(new_body) != len(body):
        # a body cut short (by the snapshot length) stays as short of its length as it was
        new_head = _set_content_length(new_head, length + len(new_covered) - len(covered))
    return (new_head + text[head_end[0]:head_end[1]] + new_body).encode("latin-1")


def _head_end(text: str) -> tuple[int, int] | None:
    """Where the header ends and the body begins (after the first empty line)."""
    crlf, lf = text.find("\r\n\r\n"), text.find("\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf + 1, lf + 2
    return (crlf + 2, crlf + 4) if crlf >= 0 else None


def _fields(head: str) -> list[str]:
    """The start line, then each header field with its continuation lines (RFC 3261 7.3.1)."""
    fields: list[str] = []
    for line in LINES.findall(head):
        if fields and len(fields) > 1 and line[:1] in (" ", "\t"):
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _field_value(fields: list[str], name: str) -> str:
    for line in fields[1:]:
        raw, colon, value = line.partition(":")
        if colon and canonical_name(raw.strip()) == name:
            return value.strip()
    return ""


def _redact_field(line: str, names: Pseudonyms) -> str:
    raw, colon, value = line.partition(":")
    if not colon:
        return redact_text(line, names)
    name = canonical_name(raw.strip())
    if name in AUTH_FIELDS:
        value = _redact_credentials(value, names)
    elif name == "identity":
        value = redact_identity(value, names)
    elif name in FREE_TEXT_FIELDS:
        value = _free_text(value, names)
    else:  # a display name before a <URI> in any field (the extensions copy From's form)
        value = _redact_name_addrs(value, names, numbers=name not in COUNTER_FIELDS)
    return raw + colon + value


def _free_text(value: str, names: Pseudonyms) -> str:
    """A field of text for people: ``Text`` and a hash, its spaces and line ending kept."""
    text = value.strip()
    if not text:
        return value
    start = value.index(text)
    return value[:start] + names.free_text(text) + value[start + len(text):]


def _redact_name_addrs(value: str, names: Pseudonyms, *, numbers: bool) -> str:
    """Display names replaced, everything else of the field as ``redact_text`` does."""
    return _around(_DISPLAY, value, lambda m: m["space"] + _display(m["name"], names), names,
                   numbers=numbers)


def _display(written: str, names: Pseudonyms) -> str:
    name = written.strip()
    if name.startswith('"'):
        name = name[1:-1]
    if not name:
        return written
    return f'"{names.display_name(name)}"' + (" " if written.endswith(" ") else "")


def _redact_credentials(value: str, names: Pseudonyms) -> str:
    scheme = _SCHEME.match(value)
    if scheme is not None and scheme["scheme"].lower() in OPAQUE_SCHEMES:
        return value[:scheme.end()] + names.token("credentials", value[scheme.end():].strip())
    return _around(_AUTH_PARAM, value, lambda m: _credential(m, names), names)


def _credential(param: re.Match[str], names: Pseudonyms) -> str:
    key, written = param["name"].lower(), param["value"]
    quoted = written.startswith('"')
    inner = written[1:-1] if quoted else written
    if key == "username":
        new = names.identity(inner)
    elif key == "realm":
        new = names.host(inner) if inner else inner
    elif key in _TOKEN_PARAMS:
        new = names.token(key, inner)
    else:
        new = redact_text(inner, names)
    return param["name"] + param["eq"] + (f'"{new}"' if quoted else new)


def _around(pattern: re.Pattern[str], text: str, replace: object, names: Pseudonyms, *,
            numbers: bool = False) -> str:
    """``text`` with each match of ``pattern`` replaced by ``replace(match)`` and the text
    between matches by ``redact_text``."""
    assert callable(replace)
    out, last = [], 0
    for match in pattern.finditer(text):
        if match.end() == match.start() and not match.group(0):
            continue
        out += [redact_text(text[last:match.start()], names, numbers=numbers), replace(match)]
        last = match.end()
    out.append(redact_text(text[last:], names, numbers=numbers))
    return "".join(out)


def _set_content_length(head: str, length: int) -> str:
    return re.sub(r"(?im)^((?:content-length|l)[ \t]*:[ \t]*)\d+", lambda m: m[1] + str(length),
                  head, count=1)


def redact_body(body: str, content_type: str, names: Pseudonyms) -> str:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/sdp":
        return redact_sdp(body, names)
    if media_type == "message/sipfrag":  # a start line and header fields (RFC 3420)
        return "".join(_redact_field(line, names) if index else redact_text(line, names)
                       for index, line in enumerate(_fields(body)))
    if media_type.startswith("multipart/"):
        boundary = _BOUNDARY.search(content_type)
        if boundary:
            return _redact_multipart(body, boundary[1] or boundary[2], names)
    names.count(Kind.BODY, media_type or "(no Content-Type)")
    return ""


def _redact_multipart(body: str, boundary: str, names: Pseudonyms) -> str:
    """RFC 2046 5.1.1: parts between ``--boundary`` lines; the preamble and epilogue (text
    for no one) are emptied, each part's body redacted by its own type."""
    delimiter = "--" + boundary
    pieces = body.split(delimiter)
    out = [""]
    for piece in pieces[1:]:
        if piece.startswith("--"):
            out.append("--\r\n")
            break
        ends = _head_end(piece)
        if ends is None:
            out.append(redact_text(piece, names))
            continue
        head, content = piece[:ends[0]], piece[ends[1]:]
        part_type = _field_value(["", *LINES.findall(head)], "content-type")
        tail = re.search(r"\r?\n$", content)
        ending = tail[0] if tail else ""
        content = content[:len(content) - len(ending)]
        new = redact_body(content, part_type, names)
        if content and not new:  # removed: the part goes, its headers and delimiter with it
            continue
        out.append(redact_text(head, names) + piece[ends[0]:ends[1]] + new + ending)
    return delimiter.join(out)
