"""Reading a SIP message from its bytes: the start line and the fields every later layer needs.

Theory of operation: a capture can hold millions of messages, and most of what they say is
never looked at. ``scan_message`` reads only what every message needs: the start line (RFC 3261
section 7.1/7.2), where the headers end, Call-ID, CSeq and Content-Length. It looks first for
the spellings nearly all equipment uses (``\\nCall-ID:``) with ``bytes.find``, and falls back to
a case-insensitive regular expression that also knows the compact forms (``i:``, ``l:``) and
spaces before the colon; folded header lines send it to the full header parser. Everything
else (the other headers, the body, the SDP) is parsed when first asked for, by ``SipMessage``.

A payload whose first line is neither a request line nor a status line is not SIP
(``NotSip``). A SIP message with missing or broken mandatory parts is still a message: its
defects are listed, as (problem kind, detail), and the caller reports them.
"""

from __future__ import annotations

import re

from sipdiag.sip.headers import parse_headers

SIP_VERSION = b"SIP/2.0"
FIRST_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
"""A SIP message starts with a method token or "SIP/"; methods are letters in practice."""

_REQUEST_LINE = re.compile(rb"^([!%'*+\-.0-9A-Za-z_`~]+) +(\S+) +SIP/(\d+\.\d+) *$", re.I)
_STATUS_LINE = re.compile(rb"^SIP/(\d+\.\d+) +(\d{3})(?: +(.*))?$", re.I)
_TOKEN = re.compile(rb"^[!%'*+\-.0-9A-Za-z_`~]+$")
_CALL_ID = re.compile(rb"\n[ \t]*(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)", re.I)
_CSEQ = re.compile(rb"\n[ \t]*cseq[ \t]*:[ \t]*([^\r\n]*)", re.I)
_CONTENT_LENGTH = re.compile(rb"\n[ \t]*(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.I)

_KNOWN_METHODS = {
    m.encode(): m
    for m in ("INVITE ACK BYE CANCEL REGISTER OPTIONS PRACK UPDATE INFO REFER NOTIFY "
              "SUBSCRIBE MESSAGE PUBLISH").split()
}


class NotSip(Exception):
    """The payload does not start with a SIP request line or status line."""


class Scan:
    """What ``scan_message`` found; plain attributes, built once per message."""

    __slots__ = (
        "method", "status", "call_id", "cseq", "cseq_method", "line_end", "head_end",
        "body_start", "content_length", "defects",
    )

    def __init__(self) -> None:
        self.method = ""
        self.status = 0
        self.call_id = ""
        self.cseq = -1
        self.cseq_method = ""
        self.line_end = 0
        self.head_end = 0
        self.body_start = 0
        self.content_length: int | None = None
        self.defects: list[tuple[str, str]] = []


def start_line(raw: bytes) -> tuple[str, int, int]:
    """(method, status, end of the first line) for a request or status line; NotSip otherwise."""
    newline = raw.find(b"\n")
    line_end = len(raw) if newline < 0 else newline
    line = raw[: line_end - 1] if line_end and raw[line_end - 1] == 13 else raw[:line_end]
    if line[:8] == b"SIP/2.0 ":
        code = line[8:11]
        if len(code) == 3 and code.isdigit() and (len(line) == 11 or line[11] == 32):
            return "", int(code), line_end
    else:
        space = line.find(b" ")
        if space > 0 and line[-8:] == b" SIP/2.0" and line.rfind(b" ", 0, -8) >= space:
            method = line[:space]
            if method in _KNOWN_METHODS:
                return _KNOWN_METHODS[method], 0, line_end
            if _TOKEN.match(method):
                return method.decode("ascii"), 0, line_end
    return _slow_start_line(line, line_end)


def _slow_start_line(line: bytes, line_end: int) -> tuple[str, int, int]:
    """Start lines with unusual spacing or version case (accepted, as Wireshark does)."""
    match = _STATUS_LINE.match(line)
    if match:
        return "", int(match[2]), line_end
    match = _REQUEST_LINE.match(line)
    if match:
        return match[1].decode("ascii"), 0, line_end
    raise NotSip


def scan_message(raw: bytes) -> Scan:
    """Read the start line, the end of the headers, Call-ID, CSeq and Content-Length."""
    scan = Scan()
    scan.method, scan.status, scan.line_end = start_line(raw)
    _find_head_end(raw, scan)
    start, end = scan.line_end, scan.head_end
    if raw.find(b"\n ", start, end) >= 0 or raw.find(b"\n\t", start, end) >= 0:
        _scan_folded(raw, scan)
        return scan
    _read_call_id(_header_value(raw, b"\nCall-ID:", _CALL_ID, start, end), scan)
    _read_cseq(_header_value(raw, b"\nCSeq:", _CSEQ, start, end), scan)
    _read_content_length(_header_value(raw, b"\nContent-Length:", _CONTENT_LENGTH, start, end), scan)
    return scan


def _find_head_end(raw: bytes, scan: Scan) -> None:
    """The blank line that ends the headers: CRLF CRLF, or bare LF LF from lenient senders."""
    start = max(scan.line_end - 1, 0)
    end = raw.find(b"\r\n\r\n", start)
    if end >= 0:
        scan.head_end, scan.body_start = end, end + 4
        return
    end = raw.find(b"\n\n", start)
    if end >= 0:
        scan.head_end, scan.body_start = end, end + 2
        return
    scan.head_end = scan.body_start = len(raw)
    scan.defects.append(("sip_no_blank_line", "no empty line after the headers"))


def _header_value(raw: bytes, common: bytes, pattern: re.Pattern[bytes], start: int, end: int) -> bytes | None:
    at = raw.find(common, start, end)
    if at >= 0:
        stop = raw.find(b"\n", at + len(common))
        return raw[at + len(common) : stop if 0 <= stop <= end + 2 else end].strip()
    match = pattern.search(raw, start, end)
    return match[1].strip() if match else None


def _scan_folded(raw: bytes, scan: Scan) -> None:
    """Headers with continuation lines: parse them all and take the same three fields."""
    headers = parse_headers(raw[scan.line_end : scan.head_end])
    for name, reader in (("call-id", _read_call_id), ("cseq", _read_cseq),
                         ("content-length", _read_content_length)):
        value = headers.get(name)
        reader(None if value is None else value.encode("utf-8", "surrogateescape"), scan)


def _read_call_id(value: bytes | None, scan: Scan) -> None:
    if not value:
        scan.defects.append(("sip_missing_header", "no Call-ID header"))
        return
    scan.call_id = value.decode("utf-8", "backslashreplace")


def _read_cseq(value: bytes | None, scan: Scan) -> None:
    if value is None:
        scan.defects.append(("sip_missing_header", "no CSeq header"))
        return
    number, _, method = value.partition(b" ")
    method = method.strip()
    if not number.isdigit() or len(number) > 10 or not method:
        scan.defects.append(("sip_bad_header", f"CSeq {value[:60]!r} is not 'number METHOD'"))
        return
    scan.cseq = int(number)
    scan.cseq_method = _KNOWN_METHODS.get(method) or method.decode("ascii", "backslashreplace")
    if scan.method and scan.method != scan.cseq_method:  # section 8.1.1.5
        scan.defects.append(
            ("sip_bad_header", f"CSeq method {scan.cseq_method} differs from {scan.method}")
        )


def _read_content_length(value: bytes | None, scan: Scan) -> None:
    if value is None:
        return
    if not value.isdigit() or len(value) > 9:
        scan.defects.append(("sip_bad_header", f"Content-Length {value[:30]!r} is not a number"))
        return
    scan.content_length = int(value)
