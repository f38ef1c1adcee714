"""SIP header fields: names, folding, lists, parameters, name-addr, Via and URIs.

Names are canonicalised once, here: compared case-insensitively (RFC 3261 section 7.3.1) and
with compact forms expanded (section 7.3.3 and the extensions that define their own, listed in
``COMPACT_FORMS``). ``Headers`` keeps each field as (name as written, canonical name, value) in
wire order, so lookups use one spelling while a report can still show what was on the wire.

Values are split and parsed only when asked for. ``split_list`` splits a comma-separated header
(section 7.3.1: several values of a list header may share a line) without breaking quoted
strings or <URI>s; ``parse_name_addr``, ``parse_via`` and ``parse_uri`` read the section 25
forms leniently, since a passive observer must read what real equipment sends.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

COMPACT_FORMS = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

SINGLE_VALUE_HEADERS = frozenset(
    {
        "www-authenticate",
        "authorization",
        "proxy-authenticate",
        "proxy-authorization",
        "authentication-info",
        "date",
        "retry-after",
        "call-id",
        "cseq",
        "content-length",
        "from",
        "to",
        "subject",
        "user-agent",
        "server",
        "organization",
        "timestamp",
        "content-type",
        "max-forwards",
        "expires",
        "min-expires",
        "session-expires",
        "min-se",
        "refer-to",
        "referred-by",
        "reason-phrase",
    }
)
"""Headers whose values may contain commas that do not separate values (dates, credentials)."""

_FOLD = re.compile(rb"\r?\n[ \t]+")


@functools.lru_cache(maxsize=4096)
def canonical_name(name: str) -> str:
    lowered = name.strip().lower()
    return COMPACT_FORMS.get(lowered, lowered)


@dataclass(frozen=True, slots=True)
class Headers:
    """Header fields in wire order."""

    fields: tuple[tuple[str, str, str], ...]
    """(name as written, canonical name, value) for each field."""
    defects: tuple[str, ...] = ()
    """Lines that are not ``name: value`` fields."""
    _index: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for _, name, value in self.fields:
            self._index.setdefault(name, []).append(value)

    def get(self, name: str) -> str | None:
        """The first field of that name (canonical or compact), or None."""
        found = self._index.get(canonical_name(name))
        return found[0] if found else None

    def get_all(self, name: str) -> list[str]:
        """Every field of that name, as written (one entry per header line)."""
        return list(self._index.get(canonical_name(name), ()))

    def values(self, name: str) -> list[str]:
        """Every value of that name, comma-separated lists split (several Vias on one line)."""
        canonical = canonical_name(name)
        found = self._index.get(canonical, ())
        if canonical in SINGLE_VALUE_HEADERS:
            return list(found)
        return [item for line in found for item in split_list(line)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical_name(name) in self._index

    def __len__(self) -> int:
        return len(self.fields)


def parse_headers(block: bytes) -> Headers:
    """The header fields of a message's header block (everything after the start line)."""
    text = _FOLD.sub(b" ", block).decode("utf-8", "backslashreplace")
    fields: list[tuple[str, str, str]] = []
    defects: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            defects.append(line)
            continue
        fields.append((name.strip(), canonical_name(name), value.strip()))
    return Headers(tuple(fields), tuple(defects))


def split_list(value: str) -> list[str]:
    """Split at commas that are outside quoted strings and <...>."""
    if '"' not in value and "<" not in value:
        return [item for item in (part.strip() for part in value.split(",")) if item]
    items, start, depth, quoted, escaped = [], 0, 0, False, False
    for pos, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "<":
            depth += 1
        elif char == ">":
            depth = max(depth - 1, 0)
        elif char == "," and not depth:
            items.append(value[start:pos].strip())
            start = pos + 1
    items.append(value[start:].strip())
    return [item for item in items if item]


def parse_params(text: str) -> dict[str, str]:
    """``;name=value;flag`` parameters; names lower-cased, flags map to ''."""
    params: dict[str, str] = {}
    for part in _split_outside_quotes(text, ";"):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name:
            params.setdefault(name, value.strip().strip('"'))
    return params


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    if '"' not in text:
        return text.split(separator)
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True, slots=True)
class SipUri:
    scheme: str
    user: str
    host: str
    port: int | None
    params: dict[str, str]

    @property
    def hostport(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


_URI = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?:(?P<user>[^@;?]*)@)?"
    r"(?P<host>\[[^\]]*\]|[^:;?>]*)(?::(?P<port>\d+))?(?P<params>;[^?]*)?"
)


def parse_uri(text: str) -> SipUri | None:
    """A sip:, sips: or tel: URI; None if it is not one."""
    match = _URI.match(text.strip())
    if match is None:
        return None
    return SipUri(
        match["scheme"].lower(),
        match["user"] or "",
        match["host"],
        _port(match["port"]),
        parse_params(match["params"] or ""),
    )


def _port(digits: str | None) -> int | None:
    return int(digits) if digits and len(digits) <= 5 else None


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From, To, Contact, Route or Refer-To value: display name, URI and parameters."""

    display: str
    uri: str
    params: dict[str, str]

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")


def parse_name_addr(value: str) -> NameAddr:
    """``"Bob" <sip:bob@b.example>;tag=x`` or ``sip:bob@b.example;tag=x`` (section 20.10)."""
    value = value.strip()
    open_at = _find_outside_quotes(value, "<")
    if open_at >= 0:
        close_at = value.find(">", open_at)
        if close_at < 0:
            close_at = len(value)
        display = value[:open_at].strip().strip('"')
        return NameAddr(display, value[open_at + 1 : close_at], parse_params(value[close_at + 1 :]))
    # Without angle brackets, parameters after the URI belong to the header, not the URI.
    uri, _, params = value.partition(";")
    return NameAddr("", uri.strip(), parse_params(params))


def _find_outside_quotes(text: str, char: str) -> int:
    if '"' not in text:
        return text.find(char)
    quoted = False
    for pos, current in enumerate(text):
        if current == '"':
            quoted = not quoted
        elif current == char and not quoted:
            return pos
    return -1


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value (section 20.42): protocol, transport, sent-by and parameters."""

    protocol: str
    transport: str
    host: str
    port: int | None
    params: dict[str, str]

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


_VIA = re.compile(
    r"^\s*(?P<protocol>[^/\s]+\s*/\s*[^/\s]+)\s*/\s*(?P<transport>[^\s]+)\s+"
    r"(?P<host>\[[^\]]*\]|[^:;\s]+)(?:\s*:\s*(?P<port>\d+))?\s*(?P<params>;.*)?$"
)


def parse_via(value: str) -> Via | None:
    match = _VIA.match(value)
    if match is None:
        return None
    return Via(
        re.sub(r"\s+", "", match["protocol"]).upper(),
        match["transport"].upper(),
        match["host"],
        _port(match["port"]),
        parse_params(match["params"] or ""),
    )


@dataclass(frozen=True, slots=True)
class Reason:
    """One Reason value (RFC 3326): ``Q.850;cause=41;text="Temporary failure"``."""

    protocol: str
    """``Q.850``, ``SIP``, ... (upper case)."""
    cause: int
    text: str


_REASON = re.compile(r"^\s*(?P<protocol>[\w.-]+)\s*(?P<params>;.*)?$")


def parse_reason(value: str) -> Reason | None:
    """A Reason value with a numeric cause; None if it has none."""
    match = _REASON.match(value)
    if match is None:
        return None
    params = parse_params(match["params"] or "")
    cause = params.get("cause", "").strip()
    if not cause.isdigit() or len(cause) > 6:
        return None
    return Reason(match["protocol"].upper(), int(cause), params.get("text", ""))


@dataclass(frozen=True, slots=True)
class SipWarning:
    """One Warning value (RFC 3261 section 20.43): ``305 host "Incompatible media format"``."""

    code: int
    agent: str
    text: str


_WARNING = re.compile(r'^\s*(?P<code>\d{3})\s+(?P<agent>\S+)\s*(?:"(?P<text>(?:[^"\\]|\\.)*)")?')


def parse_warning(value: str) -> SipWarning | None:
    match = _WARNING.match(value)
    if match is None:
        return None
    return SipWarning(int(match["code"]), match["agent"], match["text"] or "")
