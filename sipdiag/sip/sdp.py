"""SDP session descriptions (RFC 8866), as far as call diagnosis needs them.

Read: the origin (``o=``, whose version tells a new offer from a repeat), the session and media
connection addresses (``c=``), every media line (``m=``) with its port, protocol and formats,
the codec names from ``a=rtpmap`` (and the static payload types of RFC 3551 when no rtpmap is
given), and the direction attributes (``sendrecv``, ``sendonly``, ``recvonly``, ``inactive``),
which a media section inherits from the session when it has none of its own (RFC 3264 section 5.1).
For following the media itself: where RTCP goes (``a=rtcp``, RFC 3605; ``a=rtcp-mux``, RFC 5761),
the ICE candidates RTP may come from instead of the c= address (``a=candidate``, RFC 8839), and
whether the media is encrypted (SRTP: an ``SAVP`` profile, ``a=crypto`` of RFC 4568, or a DTLS
``a=fingerprint`` of RFC 5763). Unknown lines are kept out of the way, not rejected.
"""

from __future__ import annotations

import re
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
class Candidate:
    """An ICE candidate (RFC 8839 section 5.1): an address the media may flow from and to."""

    component: int
    """1: RTP, 2: RTCP."""
    transport: str
    """``UDP`` or ``TCP``, upper case."""
    address: str
    port: int
    kind: str
    """host, srflx, prflx or relay."""


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
    rtcp: tuple[str | None, int] | None = None
    """``a=rtcp``: the RTCP port, and its address when it is not the c= address (RFC 3605)."""
    rtcp_mux: bool = False
    """``a=rtcp-mux``: RTCP shares the RTP port (RFC 5761)."""
    candidates: tuple[Candidate, ...] = ()
    encrypted: bool = False
    """SRTP: a secure profile (``RTP/SAVP``, ``RTP/SAVPF``, ``UDP/TLS/RTP/SAVP(F)``), ``a=crypto``
    or a DTLS ``a=fingerprint``: RTP headers can be read, payloads cannot."""

    @property
    def is_rtp(self) -> bool:
        """Carried over RTP (``RTP/AVP``, ``RTP/SAVPF``, ...), not T.38's UDPTL or data."""
        return "RTP/" in self.protocol.upper()


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
    rtcp: tuple[str | None, int] | None = None
    rtcp_mux: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    crypto: bool = False
    fingerprint: bool = False


def parse_sdp(body: bytes) -> Sdp:
    text = body.decode("utf-8", "backslashreplace")
    origin, connection, direction = None, None, "sendrecv"
    session = _MediaDraft("", 0, "", ())
    """Session-level attributes that media sections inherit (a=fingerprint, a=rtcp-mux)."""
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
            direction = _attribute(value, current or session, direction, current is None)
    return Sdp(
        origin,
        connection,
        direction,
        tuple(_finish(m, connection, direction, session) for m in media),
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


def _attribute(value: str, draft: _MediaDraft, session_direction: str, session: bool) -> str:
    """Apply one a= line to a media section (or to the session's defaults); return the session
    direction (changed only by session-level lines)."""
    name, _, rest = value.partition(":")
    name = name.strip().lower()
    if name in DIRECTIONS:
        if session:
            return name
        draft.direction = name
    elif name == "rtpmap":
        payload_type, _, encoding = rest.strip().partition(" ")
        draft.codecs[payload_type] = encoding.strip()
    elif name == "rtcp":
        draft.rtcp = _rtcp(rest)
    elif name == "rtcp-mux":
        draft.rtcp_mux = True
    elif name == "candidate":
        candidate = _candidate(rest)
        if candidate is not None:
            draft.candidates.append(candidate)
    elif name == "crypto":
        draft.crypto = True
    elif name == "fingerprint":
        draft.fingerprint = True
    return session_direction


def _rtcp(value: str) -> tuple[str | None, int] | None:
    """``a=rtcp:53020`` or ``a=rtcp:53020 IN IP4 192.0.2.1`` (RFC 3605 section 2.1)."""
    parts = value.split()
    if not parts or not parts[0].isdigit():
        return None
    return (parts[3] if len(parts) >= 4 else None), int(parts[0])


def _candidate(value: str) -> Candidate | None:
    """``foundation component transport priority address port typ kind ...`` (RFC 8839 5.1)."""
    parts = value.split()
    if len(parts) < 8 or parts[6] != "typ" or not parts[1].isdigit() or not parts[5].isdigit():
        return None
    return Candidate(int(parts[1]), parts[2].upper(), parts[4], int(parts[5]), parts[7])


_SECURE_PROFILE = re.compile(r"\bSAVPF?\b", re.I)
_DTLS_PROFILE = re.compile(r"\b(?:UDP|TCP)/TLS/", re.I)


def _encrypted(draft: _MediaDraft, session: _MediaDraft) -> bool:
    """SDES keys (a=crypto, RFC 4568), a DTLS profile with a fingerprint (RFC 5763, at session
    or media level), or a secure profile whatever its keying."""
    if draft.crypto or _SECURE_PROFILE.search(draft.protocol):
        return True
    return bool(_DTLS_PROFILE.search(draft.protocol)) and (draft.fingerprint or session.fingerprint)


def _finish(draft: _MediaDraft, connection: str | None, direction: str,
            session: _MediaDraft) -> Media:
    codecs = {fmt: _codec(fmt, draft.codecs) for fmt in draft.formats}
    return Media(
        draft.kind,
        draft.port,
        draft.protocol,
        draft.formats,
        codecs,
        draft.connection or connection,
        draft.direction or direction,
        draft.rtcp,
        draft.rtcp_mux or session.rtcp_mux,
        tuple(draft.candidates),
        _encrypted(draft, session),
    )


def _codec(fmt: str, rtpmap: dict[str, str]) -> str:
    if fmt in rtpmap:
        return rtpmap[fmt]
    return STATIC_PAYLOAD_TYPES.get(int(fmt), "") if fmt.isdigit() else ""
