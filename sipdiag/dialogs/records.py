"""Records: what is known of a call or exchange once it is read, with frame numbers as
evidence, and nothing that needs its messages.

A ``CallRecord`` holds the verdict, the timings, the legs, the SDP offer and answer in brief,
the retransmission schedule and, when a report will draw it, the ladder. Its fields are
declared here once: a ``Call`` (``calls``) is a record that still holds its messages,
transactions and dialogs, which is what the rules read; what the analysis keeps and every
report reads (``analysis.CallResult``) is a record with the rules' findings. Memory does not
grow with the messages of calls that are over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sipdiag.dialogs.ladder import Arrow
from sipdiag.dialogs.media import CallMedia
from sipdiag.dialogs.outcome import Outcome
from sipdiag.network import Endpoint
from sipdiag.pickling import by_values
from sipdiag.sip.message import SipMessage
from sipdiag.sip.sdp import Sdp


@by_values
@dataclass(frozen=True, slots=True)
class Leg:
    """One hop of a call: where its INVITEs went, and how that hop ended."""

    src: Endpoint
    dst: Endpoint
    transport: str
    first_frame: int
    final_status: int


@by_values
@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds from the caller's first INVITE (None where it did not happen)."""

    post_dial_delay: float | None
    """``calls.PostDial``: from the INVITE that answered the last challenge (else the first)
    to the first ringing or answer."""
    time_to_answer: float | None
    talk_time: float | None
    """From the answer to the end of the call (or of the capture, if still up)."""
    total: float


@by_values
@dataclass(frozen=True, slots=True)
class Retransmissions:
    """Copies of one request or response, and when each was seen."""

    what: str
    """``INVITE`` (a request) or ``200 INVITE`` (a response, with its CSeq method)."""
    frames: tuple[int, ...]
    times: tuple[float, ...]
    """Seconds from the first copy, one per copy."""


@by_values
@dataclass(frozen=True, slots=True)
class MediaRecord:
    kind: str
    address: str | None
    port: int
    protocol: str
    codecs: tuple[str, ...]
    direction: str


@by_values
@dataclass(frozen=True, slots=True)
class SdpRecord:
    """An SDP offer or answer in brief: who sent it (caller or callee), in which frame, and
    the media it described."""

    sender: str
    frame: int
    media: tuple[MediaRecord, ...]


@by_values
@dataclass(frozen=True, slots=True)
class Agents:
    """The software of each side, as it names itself (RFC 3261 20.41, 20.35): "" if unnamed."""

    caller: str
    """User-Agent of the first INVITE."""
    callee: str
    """Server (else User-Agent) of the last response to an INVITE that names one, sent by
    another than the caller (through a proxy, the far end's as relayed, unless the proxy
    answered itself); of any response to an INVITE when none was captured."""


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    outcome: Outcome
    final_status: int
    reason: str
    """The reason phrase of the final response (or why there is none)."""
    ended_by: str
    """caller, callee, timeout, or '' while the call is up."""
    caller: str
    callee: str
    request_uri: str
    start_ns: int
    end_ns: int
    first_frame: int
    last_frame: int
    message_count: int
    timings: Timings
    legs: tuple[Leg, ...]
    dialog_count: int
    offer: SdpRecord | None
    answer: SdpRecord | None
    retransmissions: tuple[Retransmissions, ...]
    duplicates: int
    media: CallMedia | None = None
    """Its RTP and RTCP read against its offers and answers (None: no media session and no
    stream, or media was not analysed)."""
    agents: Agents = Agents("", "")
    ladder: tuple[Arrow, ...] | None = None
    """Every message as an arrow, when a report will draw this call; else None."""

    @property
    def retransmission_count(self) -> int:
        return sum(len(r.frames) - 1 for r in self.retransmissions)


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    call_id: str
    method: str
    outcome: Outcome
    """ok, auth_failed, rejected, timeout, unreachable, in_progress, incomplete"""
    final_status: int
    reason: str
    caller: str
    callee: str
    start_ns: int
    end_ns: int
    first_frame: int
    last_frame: int
    message_count: int
    transaction_count: int
    retransmissions: tuple[Retransmissions, ...]
    ladder: tuple[Arrow, ...] | None = None
    """Every message as an arrow, when a report will draw this exchange; else None."""

    @property
    def retransmission_count(self) -> int:
        return sum(len(r.frames) - 1 for r in self.retransmissions)


def agents_of(messages: Sequence[SipMessage]) -> Agents:
    invite = next((m for m in messages if m.method == "INVITE"), None)
    answers = (m for m in reversed(messages) if m.status and m.cseq_method == "INVITE"
               and (invite is None or m.src != invite.src))
    callee = next(filter(None, (m.first_value("server") or m.first_value("user-agent")
                                for m in answers)), "")
    caller = invite.first_value("user-agent") or "" if invite is not None else ""
    return Agents(caller, callee)


def sdp_record(sender: str, frame: int, sdp: Sdp) -> SdpRecord:
    media = tuple(
        MediaRecord(
            m.kind,
            m.connection,
            m.port,
            m.protocol,
            tuple(m.codecs.get(fmt) or fmt for fmt in m.formats),
            m.direction,
        )
        for m in sdp.media
    )
    return SdpRecord(sender, frame, media)


def without_timelines(media: CallMedia) -> CallMedia:
    """What a report that draws no timeline needs (the per-second figures go)."""
    if all(s.stream.timeline is None for s in media.streams):
        return media
    streams = tuple(s._replace(stream=s.stream._replace(timeline=None)) for s in media.streams)
    return media._replace(streams=streams)
