"""Reading a SIP message from its bytes: the start line and the fields every later layer needs.

Theory of operation: a capture can hold millions of messages, and most of what they say is
never looked at. ``parse_message`` reads only what every message needs: the start line (RFC 3261
sections 7.1 and 7.2), where the headers end, Call-ID, CSeq and Content-Length. Everything else
(the other headers, the body, the SDP) is parsed when first asked for, by ``SipMessage``.

Two paths give the same result. The common path is one regular expression, matched once, that
reads a well-formed message as nearly all equipment writes it (CRLF line ends, no folding,
canonical header names, an upper-case method): the start line, every header line, and the three
headers it needs, in one pass in C. Anything else, or anything it finds amiss, goes to the
general path, which reads start lines leniently, finds headers in any case and in compact form
(``i:``, ``l:``), unfolds continuation lines, and lists the defects. A header that may appear only
once (``ONCE_ONLY``) on two lines is one of them: it goes to the general path, which keeps the
last one.

A payload whose first line is neither a request line nor a status line is not SIP
(``NotSip``). A SIP message with missing or broken mandatory parts is still a message: its
defects are listed, as (problem kind, detail), and the caller reports them.
"""

from __future__ import annotations

import re

from sipdiag.network import Endpoint
from sipdiag.sip.headers import canonical_name, parse_headers
from sipdiag.sip.message import Defect, SipMessage
from sipdiag.sip.remembered import remembered

NOWHERE = Endpoint("", 0)

SIP_VERSION = b"SIP/2.0"
FIRST_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
"""A SIP message starts with a method token or "SIP/"; methods are letters in practice."""

_REQUEST_LINE = re.compile(rb"^([!%'*+\-.0-9A-Za-z_`~]+) +(\S+) +SIP/(\d+\.\d+) *$", re.I)
_STATUS_LINE = re.compile(rb"^SIP/(\d+\.\d+) +(\d{3})(?: +(.*))?$", re.I)
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_KEY_HEADERS = re.compile(
    rb"\n(?:(C(?:all-I[Dd]|[Ss]eq|ontent-[Ll]ength)|[il])[ \t]*:[ \t]*([^\r\n]*)|[ \t])"
)
"""Call-ID, CSeq, Content-Length as nearly everyone writes them, or a folded line (no name)."""
_KEY_SLOTS = {
    b"Call-ID": 0,
    b"Call-Id": 0,
    b"i": 0,
    b"CSeq": 1,
    b"Cseq": 1,
    b"Content-Length": 2,
    b"Content-length": 2,
    b"l": 2,
}
"""Which of (Call-ID, CSeq, Content-Length) each spelling that _KEY_HEADERS finds is."""
_CANONICAL = frozenset({b"Call-ID", b"CSeq", b"Content-Length"})
_ANY_CASE = (
    re.compile(rb"\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)", re.I),
    re.compile(rb"\ncseq[ \t]*:[ \t]*([^\r\n]*)", re.I),
    re.compile(rb"\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.I),
)

_COMMON_START = re.compile(
    rb"([A-Z]+) [^\x00-\x20\x7f]+ SIP/2\.0|SIP/2\.0 ([1-9][0-9][0-9])"
    rb"(?: [^\x00-\x08\x0a-\x1f\x7f]*)?"
)
"""The common path's start line (without its CRLF): an upper-case method, or a status code."""
ONCE_ONLY = ("Call-ID", "CSeq", "Content-Length", "From", "To", "Max-Forwards", "Content-Type",
             "Expires")
"""Headers that may appear only once: not comma-separated lists (RFC 3261 7.3.1, 25.1), and
each decides what the message is (its dialog, its order, its framing, its body, its hops, how
long it holds); a second value leaves the receiver to guess, and a strict one answers 400."""
_ONCE_ALTERNATIVES = b"|".join(
    re.escape(name.lower().encode()) for name in (*ONCE_ONLY, "i", "l", "f", "t", "c")
)
"""Their names, and their compact forms (RFC 3261 7.3.3), for a case-insensitive pattern."""
_COMMON_HEADERS = re.compile(
    rb"\r\n(?:(Call-ID|CSeq|Content-Length)[ \t]*: *([^\r\n]*)"
    rb"|(From|To|Max-Forwards|Content-Type|Expires)[ \t]*:"
    rb"|(?=[CcFfTtMmEeIiLl])(?i:" + _ONCE_ALTERNATIVES + rb")[ \t]*:|[ \t])"
)
"""The common path's headers, one findall: each Call-ID, CSeq and Content-Length in canonical
spelling, as (name, value, ''); each other header of ``ONCE_ONLY`` in canonical spelling, as
('', '', name); one of them spelt another way (``i:``, ``content-length``, ``FROM``), or a
folded line, which only the general path reads, as ('', '', ''). A message with one of those,
or with a header given twice, goes to the general path. (The look-ahead only spares the lines
no name of ``ONCE_ONLY`` can start, most of them, the case-insensitive alternatives.)"""
_ONCE_NAMES = {name.lower(): name for name in ONCE_ONLY}
"""Canonical name (as ``canonical_name`` gives it) -> name as the RFC writes it."""
_ONCE_LINE = re.compile(rb"\n(" + _ONCE_ALTERNATIVES + rb")[ \t]*:[ \t]*([^\r\n]*)", re.I)

_KNOWN_METHODS = {
    name.encode(): name
    for name in [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "REGISTER",
        "OPTIONS",
        "PRACK",
        "UPDATE",
        "INFO",
        "REFER",
        "NOTIFY",
        "SUBSCRIBE",
        "MESSAGE",
        "PUBLISH",
    ]
}


class NotSip(Exception):
    """The payload does not start with a SIP request line or status line."""


def start_line(raw: bytes) -> tuple[str, int, int]:
    """(method, status, end of the first line) for a request or status line; NotSip otherwise.

    Only messages the common path did not take come here, so one pattern per kind of line is
    quick enough. Unusual spacing and a version in lower case are read leniently (Wireshark
    does not); a request line without its Request-URI is not SIP (RFC 3261 7.1).
    """
    line_end = raw.find(b"\n")
    if line_end < 0:
        line_end = len(raw)
    line = raw[:line_end]
    if line.endswith(b"\r"):
        line = line[:-1]
    match = _STATUS_LINE.match(line)
    if match:
        return "", int(match[2]), line_end
    match = _REQUEST_LINE.match(line)
    if match:
        return match[1].decode("ascii"), 0, line_end
    raise NotSip


def parse_message(
    raw: bytes,
    frame: int = 0,
    ts_ns: int = 0,
    src: Endpoint = NOWHERE,
    dst: Endpoint = NOWHERE,
    transport: str = "",
    frames: tuple[int, ...] = (),
) -> SipMessage:
    """The message in ``raw``, seen in ``frame`` at ``ts_ns``; NotSip if it is not SIP.

    Reads the start line, Call-ID, CSeq and Content-Length; ``frames`` lists every frame the
    bytes came from when there was more than one.
    """
    found = _parse_common(raw)
    if found is None:
        found = _parse_general(raw, *start_line(raw))
    return SipMessage(raw, *found, frame, ts_ns, src, dst, transport, frames)


Parsed = tuple[str, int, str, int, str, int, "int | None", tuple[tuple[Defect, str], ...]]
"""method, status, Call-ID, CSeq number and method, body start, Content-Length, defects."""


def _parse_common(raw: bytes) -> Parsed | None:
    """The fields, if the message is written the common way and nothing is amiss; else None.

    The values are read by the same functions as on the general path; only finding the lines
    is quicker, so the two paths cannot read a value differently (a tested invariant).
    """
    line_end = raw.find(b"\r\n")
    head_end = raw.find(b"\r\n\r\n", line_end)
    if head_end < 0:
        return None
    start = _common_start(raw[:line_end])
    if start is None:
        return None
    found: list[bytes | None] = [None, None, None]
    others: set[bytes] = set()
    for name, value, other in _COMMON_HEADERS.findall(raw, line_end, head_end):
        if name:
            slot = _KEY_SLOTS[name]
            if found[slot] is not None:
                return None  # given twice
            found[slot] = value
        elif other and other not in others:
            others.add(other)
        else:
            return None  # a folded line, another spelling, or given twice
    call_id, cseq, length = found
    method, status = start
    numbers = _common_numbers((method, cseq, length))
    if not call_id or numbers is None:
        return None
    cseq_number, cseq_method, content_length = numbers
    body_start = head_end + 4
    defects: list[tuple[Defect, str]] = []
    if content_length is not None and content_length != len(raw) - body_start:
        _body_length(content_length, len(raw) - body_start, defects)
    return (method, status, call_id.rstrip().decode("utf-8", "backslashreplace"), cseq_number,
            cseq_method, body_start, content_length, tuple(defects))


@remembered(4096)
def _common_start(line: bytes) -> tuple[str, int] | None:
    """(method, status) of a start line as the common path takes it; None for any other."""
    start = _COMMON_START.fullmatch(line)
    if start is None:
        return None
    method_name, code = start.groups()
    if method_name:
        return _KNOWN_METHODS.get(method_name) or method_name.decode("ascii"), 0
    return "", int(code)


@remembered(4096)
def _common_numbers(
    read: tuple[str, bytes | None, bytes | None],
) -> tuple[int, str, int | None] | None:
    """(CSeq number, CSeq method, Content-Length) of the method and the CSeq and Content-Length
    values the common path found; None if either value has a defect."""
    method, cseq, length = read
    defects: list[tuple[Defect, str]] = []
    cseq_number, cseq_method = _cseq(cseq, method, defects)
    content_length = _content_length(length, defects)
    return None if defects else (cseq_number, cseq_method, content_length)


def _parse_general(raw: bytes, method: str, status: int, line_end: int) -> Parsed:
    """Every other message: lenient start line, any spelling, folding; defects listed."""
    defects: list[tuple[Defect, str]] = []
    # The start line without its line end: a CR before the LF ends the line (RFC 3261 7.1),
    # but the byte before a bare LF is still part of it.
    stop = line_end - 1 if raw[line_end - 1 : line_end] == b"\r" else line_end
    if _CONTROL.search(raw, 0, stop):
        defects.append((Defect.BAD_START_LINE, "control characters in the start line"))
    head_end = raw.find(b"\r\n\r\n", line_end - 1)  # a start line is never empty: line_end > 0
    if head_end >= 0:
        body_start = head_end + 4
    else:
        head_end, body_start = _lenient_head_end(raw, line_end, defects)
    found: list[bytes | None] = [None, None, None]
    canonical = [False, False, False]
    for name, value in _KEY_HEADERS.findall(raw, line_end, head_end):
        if not name:  # a continuation line: this header block needs the full parser
            found = _folded_key_headers(raw[line_end:head_end])
            break
        slot = _KEY_SLOTS[name]
        # A header given twice: the last one counts, but a canonical spelling beats another
        # one (so that both paths agree; a correct message has each header once).
        if name in _CANONICAL or not canonical[slot]:
            found[slot] = value
            canonical[slot] = name in _CANONICAL
    if None in found:
        _find_any_case(raw, line_end, head_end, found)
    call_id = _call_id(found[0], defects)
    cseq, cseq_method = _cseq(found[1], method, defects)
    length = _content_length(found[2], defects)
    _repeated(raw, line_end, head_end, defects)
    _body_length(length, len(raw) - body_start, defects)
    return method, status, call_id, cseq, cseq_method, body_start, length, tuple(defects)


def _repeated(raw: bytes, start: int, end: int, defects: list[tuple[Defect, str]]) -> None:
    """Each header of ``ONCE_ONLY`` found on more than one line, in any spelling, with the
    values it was given (RFC 3261 7.3.1: only a comma-separated list may take several lines)."""
    lines: dict[str, list[bytes]] = {}
    for name, value in _ONCE_LINE.findall(raw, start, end):
        lines.setdefault(canonical_name(name.decode("ascii")), []).append(value.rstrip())
    for name, values in lines.items():
        if len(values) > 1:
            shown_values = ", ".join(shown(value[:60]) for value in values)
            defects.append((Defect.REPEATED_HEADER,
                            f"{_ONCE_NAMES[name]} given {len(values)} times: {shown_values}"))


def _body_length(length: int | None, have: int, defects: list[tuple[Defect, str]]) -> None:
    """A body that is not as long as Content-Length says (RFC 3261 18.3). In a datagram, bytes
    after it are discarded; one that ends before it is an error (a request SHOULD get a 400, a
    response MUST be discarded). A stream message is cut where Content-Length says, so only a
    datagram (or a WebSocket message) can be either."""
    if length is None or have == length:
        return
    if have < length:
        defects.append((Defect.BODY_SHORT, f"Content-Length says {length} bytes, there are {have}"))
    else:
        defects.append((Defect.BODY_LONG, f"Content-Length says {length} bytes, there are {have}: "
                                          f"the last {have - length} are not part of the body"))


def _find_any_case(raw: bytes, start: int, end: int, found: list[bytes | None]) -> None:
    """Look again, case-insensitively, for the key headers the quick pattern missed."""
    for slot, value in enumerate(found):
        if value is None:
            match = _ANY_CASE[slot].search(raw, start, end)
            found[slot] = match[1] if match else None


def _lenient_head_end(
    raw: bytes, line_end: int, defects: list[tuple[Defect, str]]
) -> tuple[int, int]:
    """The blank line of senders that end lines with a bare LF; else the end of the payload."""
    end = raw.find(b"\n\n", line_end)  # raw[line_end] is the first LF
    if end >= 0:
        return end, end + 2
    defects.append((Defect.NO_BLANK_LINE, "no empty line after the headers"))
    return len(raw), len(raw)


def _folded_key_headers(block: bytes) -> list[bytes | None]:
    """Headers with continuation lines (RFC 3261 7.3.1): parse them all, take the three."""
    headers = parse_headers(block)
    values = (headers.get(name) for name in ("call-id", "cseq", "content-length"))
    return [None if v is None else v.encode() for v in values]  # decoded with backslashreplace


def _call_id(value: bytes | None, defects: list[tuple[Defect, str]]) -> str:
    if not value:
        defects.append((Defect.MISSING_HEADER, "no Call-ID header"))
        return ""
    return value.rstrip().decode("utf-8", "backslashreplace")


def shown(data: bytes) -> str:
    """Bytes of a capture quoted for a person: ``'-5'``, with what is not printable ASCII
    escaped (``'\\r\\n'``, ``'\\xc9'``), so that it stays on one line."""
    return repr(data)[1:]  # bytes' own escaping, without its b prefix


def _cseq(value: bytes | None, method: str, defects: list[tuple[Defect, str]]) -> tuple[int, str]:
    if value is None:
        defects.append((Defect.MISSING_HEADER, "no CSeq header"))
        return -1, ""
    parts = value.split(None, 1)
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[0]) > 10:
        defects.append((Defect.BAD_HEADER, f"CSeq {shown(value[:60])} is not 'number METHOD'"))
        return -1, ""
    name = parts[1].rstrip()
    cseq_method = _KNOWN_METHODS.get(name) or name.decode("ascii", "backslashreplace")
    if method and method != cseq_method:  # RFC 3261 8.1.1.5: the method must match
        defects.append((Defect.BAD_HEADER, f"CSeq method {cseq_method} differs from {method}"))
    return int(parts[0]), cseq_method


def _content_length(value: bytes | None, defects: list[tuple[Defect, str]]) -> int | None:
    if value is None:
        return None
    value = value.rstrip()
    if not value.isdigit() or len(value) > 9:
        defects.append((Defect.BAD_HEADER, f"Content-Length {shown(value[:30])} is not a number"))
        return None
    return int(value)
