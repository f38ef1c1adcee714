"""SDP session descriptions (RFC 8866), as far as call diagnosis needs them.

Read: the origin (``o=``, whose version tells a new offer from a repeat), the session and media
connection addresses (``c=``), every media line (``m=``) with its port, protocol and formats,
the codec names from ``a=rtpmap`` (and the static payload types of RFC 3551 when no rtpmap is
given), and the direction attributes (``sendrecv``, ``sendonly``, ``recvonly``, ``inactive``),
which a media section inherits from the session when it has none of its own (RFC 3264 section 5.1).
Unknown lines are kept out of the way, not rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})

STATIC_PAYLOAD_TYPES = {
    0: "PCMU/8000",
    3: "GSM/8000",
    4: "G723/8000",
    5: "DVI4/8000",
    6: "DVI4/16000",
    7: "LPC/8000",
    8: "PCMA/8000",
    9: "G722/8000",
    10: "L16/44100/2",
    11: "L16/44100",
    12: "QCELP/8000",
    13: "CN/8000",
    14: "MPA/90000",
    15: "G728/8000",
    16: "DVI4/11025",
    17: "DVI4/22050",
    18: "G729/8000",
    25: "CelB/90000",
    26: "JPEG/90000",
    28: "nv/90000",
    31: "H261/90000",
    32: "MPV/90000",
    33: "MP2T/90000",
    34: "H263/90000",
}
"""RFC 3551 tables 4 and 5."""


@dataclass(frozen=True, slots=True)
class Origin:
    username: str
    session_id: str
    version: str
    address: str


@dataclass(frozen=True, slots=True)
class Media:
    kind: str
    """audio, video, image (T.38), application, ..."""
    port: int
    protocol: str
    formats: tuple[str, ...]
    codecs: dict[str, str]
    """Payload type -> encoding name/clock rate, for every format."""
    connection: str | None
    """This section's own c= address, or the session's."""
    direction: str


@dataclass(frozen=True, slots=True)
class Sdp:
    origin: Origin | None
    connection: str | None
    direction: str
    media: tuple[Media, ...]
    defects: tuple[str, ...] = field(default=())

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every connection address used by the session or a media section."""
        found = [m.connection for m in self.media if m.connection]
        if self.connection:
            found.append(self.connection)
        return tuple(dict.fromkeys(found))


@dataclass(slots=True)
class _MediaDraft:
    kind: str
    port: int
    protocol: str
    formats: tuple[str, ...]
    codecs: dict[str, str] = field(default_factory=dict)
    connection: str | None = None
    direction: str | None = None


def parse_sdp(body: bytes) -> Sdp:
    text = body.decode("utf-8", "backslashreplace")
    origin, connection, direction = None, None, "sendrecv"
    media: list[_MediaDraft] = []
    defects: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        kind, equals, value = line.strip().partition("=")
        if not equals or len(kind) != 1:
            if line.strip():
                defects.append(line)
            continue
        current = media[-1] if media else None
        if kind == "o":
            origin = _origin(value)
        elif kind == "c":
            address = _connection(value)
            if current is None:
                connection = address
            else:
                current.connection = address
        elif kind == "m":
            draft = _media(value)
            if draft is None:
                defects.append(line)
            else:
                media.append(draft)
        elif kind == "a":
            direction = _attribute(value, current, direction)
    return Sdp(
        origin,
        connection,
        direction,
        tuple(_finish(m, connection, direction) for m in media),
        tuple(defects),
    )


def _origin(value: str) -> Origin | None:
    parts = value.split()
    if len(parts) < 6:
        return None
    return Origin(parts[0], parts[1], parts[2], parts[5])


def _connection(value: str) -> str | None:
    parts = value.split()
    if len(parts) < 3:
        return None
    return parts[2].split("/")[0]


def _media(value: str) -> _MediaDraft | None:
    parts = value.split()
    if len(parts) < 3:
        return None
    port = parts[1].split("/")[0]
    if not port.isdigit():
        return None
    return _MediaDraft(parts[0], int(port), parts[2], tuple(parts[3:]))


def _attribute(value: str, current: _MediaDraft | None, session_direction: str) -> str:
    """Apply one a= line; return the session direction (changed only by session-level lines)."""
    name, _, rest = value.partition(":")
    name = name.strip()
    if name in DIRECTIONS:
        if current is None:
            return name
        current.direction = name
    elif name == "rtpmap" and current is not None:
        payload_type, _, encoding = rest.strip().partition(" ")
        current.codecs[payload_type] = encoding.strip()
    return session_direction


def _finish(draft: _MediaDraft, connection: str | None, direction: str) -> Media:
    codecs = {fmt: _codec(fmt, draft.codecs) for fmt in draft.formats}
    return Media(
        draft.kind,
        draft.port,
        draft.protocol,
        draft.formats,
        codecs,
        draft.connection or connection,
        draft.direction or direction,
    )


def _codec(fmt: str, rtpmap: dict[str, str]) -> str:
    if fmt in rtpmap:
        return rtpmap[fmt]
    return STATIC_PAYLOAD_TYPES.get(int(fmt), "") if fmt.isdigit() else ""
