"""SipMessage: one SIP request or response as seen on the wire, tied to its frames.

The fields every layer needs (start line, Call-ID, CSeq, where it came from) are read when the
message is built; everything else is parsed on first use and kept: ``headers``, ``body``,
``sdp``, ``top_via``, the tags. A message is never changed after it is built (treat it as
immutable; it is a plain slotted class rather than a frozen dataclass because half a million of
them are built per second of capture).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import TypeVar

from sipdiag.network import Endpoint
from sipdiag.sip.headers import (
    COMPACT_FORMS,
    SINGLE_VALUE_HEADERS,
    Headers,
    NameAddr,
    Via,
    canonical_name,
    parse_headers,
    parse_name_addr,
    parse_via,
    split_list,
)
from sipdiag.sip.remembered import remembered
from sipdiag.sip.sdp import Sdp, parse_sdp

_TAG = re.compile(rb";[ \t]*tag[ \t]*=([^;]*)", re.I)
_VIA_FORM = re.compile(rb"SIP/2\.0/[A-Za-z]+ +([^;,\s]+)[ \t]*((?:;[^,]*)?)(?:,|$)", re.I)
"""A Via value in its usual form: sent-by, then the first value's parameters."""
_BRANCH = re.compile(rb";[ \t]*branch[ \t]*=([^;]*)", re.I)
_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.I)


class Unread(Enum):
    """The value of a part not parsed yet (None is a value: no SDP, no tag)."""

    UNREAD = "unread"


UNREAD = Unread.UNREAD
ViaKey = tuple[str | None, str]
"""(branch, sent-by) of a top Via."""


class Defect(StrEnum):
    """What can be wrong with a message the parser still reads: the problem kinds it reports."""

    BAD_START_LINE = "sip_bad_start_line"
    NO_BLANK_LINE = "sip_no_blank_line"
    MISSING_HEADER = "sip_missing_header"
    BAD_HEADER = "sip_bad_header"
    REPEATED_HEADER = "sip_repeated_header"
    """A header that may appear only once (RFC 3261 7.3.1) on several lines."""
    BODY_SHORT = "sip_body_short"
    """Fewer bytes after the header than Content-Length says (RFC 3261 18.3)."""
    BODY_LONG = "sip_body_long"
    """More bytes after the header than Content-Length says: the rest is not the body."""


class SipMessage:
    """A SIP message with the frames, time, addresses and transport it was seen with."""

    __slots__ = (
        "_body_start",
        "_content_length",
        "_first_values",
        "_frames",
        "_from_tag",
        "_headers",
        "_lazy",
        "_sdp",
        "_to_tag",
        "_via_key",
        "call_id",
        "cseq",
        "cseq_method",
        "defects",
        "dst",
        "frame",
        "method",
        "raw",
        "src",
        "status",
        "transport",
        "ts_ns",
    )

    def __init__(
        self,
        raw: bytes,
        method: str,
        status: int,
        call_id: str,
        cseq: int,
        cseq_method: str,
        body_start: int,
        content_length: int | None,
        defects: tuple[tuple[Defect, str], ...],
        frame: int,
        ts_ns: int,
        src: Endpoint,
        dst: Endpoint,
        transport: str,
        frames: tuple[int, ...],
    ) -> None:
        self.raw = raw
        self.method = method
        """The request method; empty for a response."""
        self.status = status
        """The status code; 0 for a request."""
        self.call_id = call_id
        self.cseq = cseq
        """The CSeq number; -1 when missing or unreadable."""
        self.cseq_method = cseq_method
        self._body_start = body_start
        self._content_length = content_length
        self.defects = defects
        """(problem kind, detail) for each thing wrong with the message."""
        self.frame = frame
        """The frame Wireshark shows the message in (the one that completed it)."""
        self.ts_ns = ts_ns
        self.src = src
        self.dst = dst
        self.transport = transport
        self._frames = frames
        # Parts parsed on first use: the ones every layer asks for have a slot each, the
        # rest (Vias, name-addrs) share ``_lazy``.
        self._headers: Headers | None = None
        self._sdp: Sdp | Unread | None = UNREAD
        self._from_tag: str | Unread | None = UNREAD
        self._to_tag: str | Unread | None = UNREAD
        self._via_key: ViaKey | Unread | None = UNREAD
        self._first_values: dict[str, str | None] | None = None
        """``first_value`` of each header asked for, by the name as asked."""
        self._lazy: dict[str, object] | None = None

    @property
    def frames(self) -> tuple[int, ...]:
        """Every frame that carried part of the message (IP fragments, TCP segments)."""
        return self._frames or (self.frame,)

    @property
    def is_request(self) -> bool:
        return not self.status

    def _cached(self, key: str, compute: Callable[[], object]) -> object:
        """Compute a lazily parsed part once and keep it."""
        cache = self._lazy
        if cache is None:
            cache = self._lazy = {}
        elif key in cache:
            return cache[key]
        found = cache[key] = compute()
        return found

    @property
    def _line_end(self) -> int:
        end = self.raw.find(b"\n")
        return len(self.raw) if end < 0 or end >= self._body_start else end

    @property
    def first_line(self) -> str:
        end = self._line_end
        if end and self.raw[end - 1 : end] == b"\r":
            end -= 1
        return self.raw[:end].decode("utf-8", "backslashreplace")

    @property
    def request_uri(self) -> str:
        """The Request-URI of a request; empty for a response."""
        if self.status:
            return ""
        parts = self.first_line.split()
        return parts[1] if len(parts) > 2 else ""

    @property
    def reason(self) -> str:
        """The reason phrase of a response; empty for a request."""
        if not self.status:
            return ""
        parts = self.first_line.split(None, 2)
        return parts[2] if len(parts) > 2 else ""

    @property
    def headers(self) -> Headers:
        found = self._headers
        if found is None:
            found = self._headers = parse_headers(self.raw[self._line_end : self._body_start])
        return found

    @property
    def body(self) -> bytes:
        """The body; for a datagram, as many bytes as Content-Length says (RFC 3261 18.3)."""
        start, length = self._body_start, self._content_length
        if length is None:
            return self.raw[start:]
        return self.raw[start : start + length]

    @property
    def content_length(self) -> int | None:
        return self._content_length

    @property
    def body_start(self) -> int:
        """Where the body starts in ``raw`` (after the blank line ending the headers)."""
        return self._body_start

    @property
    def sdp(self) -> Sdp | None:
        """The session description in the body (also inside multipart bodies), or None."""
        found = self._sdp
        if found is UNREAD:
            found = self._sdp = self._parse_sdp()
        return found

    def _parse_sdp(self) -> Sdp | None:
        body = self.body
        if not body.strip():
            return None
        part = _sdp_part(body, self.first_value("content-type") or "")
        return None if part is None else _parse_sdp_body(part)

    @property
    def vias(self) -> list[Via]:
        found = self._cached(
            "vias",
            lambda: [via for via in map(parse_via, self.headers.values("via")) if via is not None],
        )
        assert isinstance(found, list)
        return found

    @property
    def top_via(self) -> Via | None:
        found = self._cached("top-via", lambda: _parse_optional(parse_via, self.first_value("via")))
        assert found is None or isinstance(found, Via)
        return found

    def first_value(self, header: str) -> str | None:
        """The first value of a header (the first item of a list header), or None.

        Found with one search in the raw bytes rather than by parsing every header; a folded
        header is left to the full parser. Either way the answer is the first item of
        ``headers.values(header)``. Kept: a header is often asked for again.
        """
        known = self._first_values
        if known is None:
            known = self._first_values = {}
        elif header in known:
            return known[header]
        found = known[header] = self._find_first_value(canonical_name(header))
        return found

    def _find_first_value(self, canonical: str) -> str | None:
        match = _line_pattern(canonical).search(self.raw, 0, self._body_start)
        if match is None:
            return None  # no line starts with the name: the header is not there
        if match[2]:
            values = self.headers.values(canonical)
            return values[0] if values else None
        items = _items(canonical, match[1])
        return items[0] if items else None

    def values(self, header: str) -> list[str]:
        """Every value of a header, as ``headers.values`` gives them, found the quick way."""
        canonical = canonical_name(header)
        matches = list(_line_pattern(canonical).finditer(self.raw, 0, self._body_start))
        if any(match[2] for match in matches):
            return self.headers.values(canonical)
        return [item for match in matches for item in _items(canonical, match[1])]

    @property
    def branch(self) -> str | None:
        via = self.top_via
        return via.branch if via else None

    def name_addr(self, header: str) -> NameAddr | None:
        """From, To, Contact, Refer-To, ... parsed (the first value); parsed once, whatever
        the spelling asked for (``From``, ``from``, ``f``)."""
        canonical = canonical_name(header)
        found = self._cached("name-addr:" + canonical, lambda: self._first_name_addr(canonical))
        assert found is None or isinstance(found, NameAddr)
        return found

    def _first_name_addr(self, canonical: str) -> NameAddr | None:
        return _parse_optional(parse_name_addr, self.first_value(canonical))

    @property
    def from_tag(self) -> str | None:
        found = self._from_tag
        if found is UNREAD:
            found = self._from_tag = self._tag("from")
        return found

    @property
    def to_tag(self) -> str | None:
        found = self._to_tag
        if found is UNREAD:
            found = self._to_tag = self._tag("to")
        return found

    def _tag(self, header: str) -> str | None:
        """The tag of From or To: read off the header line when it is plain (no quoted
        display name, not folded), else from the parsed name-addr."""
        match = _line_pattern(header).search(self.raw, 0, self._body_start)
        if match is None:
            return None
        line = match[1]
        if match[2] or b'"' in line:
            found = self.name_addr(header)
            return found.tag if found else None
        return _plain_tag(line)

    @property
    def via_key(self) -> ViaKey | None:
        """(branch, sent-by) of the top Via, for matching transactions; None without a Via.

        Read off the first Via line when it has the usual form, else from the parsed Via.
        """
        found = self._via_key
        if found is UNREAD:
            found = self._via_key = self._read_via_key()
        return found

    def _read_via_key(self) -> ViaKey | None:
        line = _line_pattern("via").search(self.raw, 0, self._body_start)
        if line is None:
            return None
        found = None if line[2] else _usual_via_key(line[1])
        if found is None:
            via = self.top_via
            return (via.branch, via.sent_by) if via else None
        return found

    @property
    def summary(self) -> str:
        """``INVITE sip:bob@b`` or ``180 Ringing``: the start line without the version."""
        if self.status:
            return f"{self.status} {self.reason}".rstrip()
        return f"{self.method} {self.request_uri}".rstrip()

    def __repr__(self) -> str:
        return f"<SipMessage frame {self.frame} {self.summary!r} Call-ID {self.call_id!r}>"


T = TypeVar("T")


def _parse_optional(parse: Callable[[str], T], value: str | None) -> T | None:
    return None if value is None else parse(value)


@functools.cache
def _line_pattern(canonical: str) -> re.Pattern[bytes]:
    """Finds a line of a header, in any case, full or compact name; group 2 is set when the
    next line continues it (folding)."""
    names = [canonical, *(short for short, full in COMPACT_FORMS.items() if full == canonical)]
    alternatives = b"|".join(re.escape(name.encode()) for name in names)
    return re.compile(rb"\n(?:" + alternatives + rb")[ \t]*:[ \t]*([^\r\n]*)(\r?\n[ \t])?", re.I)


@remembered(4096)
def _plain_tag(line: bytes) -> str | None:
    """The tag of a From or To line with no quote that is not folded; kept, since every
    message of a dialog repeats the line."""
    # Parameters follow the URI's ">", or, without brackets, the URI itself (they are the
    # header's, RFC 3261 20.10): searched from after the ">" or from the start of the line.
    tag = _TAG.search(line, line.find(b">") + 1)
    # (A line with a quote is parsed in full instead, so the tag is never a quoted string.)
    return tag[1].strip().decode("utf-8", "backslashreplace") if tag else None


@remembered(4096)
def _usual_via_key(line: bytes) -> ViaKey | None:
    """(branch, sent-by) of a top Via line in its usual form, None for any other; kept, since
    the responses to a request repeat its Via."""
    match = _VIA_FORM.match(line)
    if match is None:
        return None
    branch = _BRANCH.search(match[2])
    return (
        branch[1].strip().strip(b'"').decode("utf-8", "backslashreplace") if branch else None,
        match[1].decode("utf-8", "backslashreplace"),
    )


def _items(canonical: str, value: bytes) -> list[str]:
    text = value.decode("utf-8", "backslashreplace").strip()
    if canonical in SINGLE_VALUE_HEADERS:
        # One value, even an empty one (``Subject:`` is allowed, RFC 3261 20.36), as
        # ``headers.values`` gives it: a list header's empty items are dropped, not this one.
        return [text]
    return split_list(text)


@remembered(1024)
def _parse_sdp_body(body: bytes) -> Sdp:
    """An SDP body read once for all the messages that carry it (the copies of a request or
    response, the hops a proxy forwards it on, the calls of a load test)."""
    return parse_sdp(body)


def _sdp_part(body: bytes, content_type: str) -> bytes | None:
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/sdp":
        return body
    if not kind.startswith("multipart/"):
        return None
    match = _BOUNDARY.search(content_type)
    if match is None:
        return None
    delimiter = b"--" + match[1].encode()  # a str decoded with backslashreplace: encodable
    for part in body.split(delimiter)[1:]:
        head, _, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = parse_headers(head)
        if (headers.get("content-type") or "").split(";")[0].strip().lower() == "application/sdp":
            return content  # the CRLF before the next delimiter is a blank line to parse_sdp
    return None
