"""Records: what is kept of a finished call or exchange once its messages are let go.

A ``Call`` holds every message it was read from; a ``CallRecord`` holds the verdict, the
timings, the legs, the SDP offer and answer in brief and the retransmission schedule, with
frame numbers as evidence, and nothing else. Reports are made from records, so memory does not
grow with the messages of calls that are over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sipdiag.dialogs.calls import Call, Exchange, Leg, Retransmissions, SdpSide, Timings
from sipdiag.dialogs.ladder import Arrow, ladder_of
from sipdiag.dialogs.media import CallMedia
from sipdiag.dialogs.outcome import Outcome
from sipdiag.sip.message import SipMessage


@dataclass(frozen=True, slots=True)
class MediaRecord:
    kind: str
    address: str | None
    port: int
    protocol: str
    codecs: tuple[str, ...]
    direction: str


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
class SdpRecord:
    sender: str
    frame: int
    media: tuple[MediaRecord, ...]


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    outcome: Outcome
    final_status: int
    reason: str
    ended_by: str
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
    ladder: tuple[Arrow, ...] | None
    """Every message as an arrow, when the report will draw this call; else None."""
    media: CallMedia | None = None
    """Its streams and media state; streams keep their timelines only with a ladder."""
    agents: Agents = Agents("", "")

    @property
    def retransmission_count(self) -> int:
        return sum(len(r.frames) - 1 for r in self.retransmissions)


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    call_id: str
    method: str
    outcome: Outcome
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
    ladder: tuple[Arrow, ...] | None

    @property
    def retransmission_count(self) -> int:
        return sum(len(r.frames) - 1 for r in self.retransmissions)


def call_record(call: Call, *, ladder: bool = False) -> CallRecord:
    return CallRecord(
        call_id=call.call_id,
        outcome=call.outcome,
        final_status=call.final_status,
        reason=call.reason,
        ended_by=call.ended_by,
        caller=call.caller,
        callee=call.callee,
        request_uri=call.request_uri,
        start_ns=call.start_ns,
        end_ns=call.end_ns,
        first_frame=call.messages[0].frame,
        last_frame=call.messages[-1].frame,
        message_count=len(call.messages),
        timings=call.timings,
        legs=call.legs,
        dialog_count=len(call.dialogs),
        offer=_sdp_record(call.offer),
        answer=_sdp_record(call.answer),
        retransmissions=call.retransmissions,
        duplicates=call.duplicates,
        ladder=ladder_of(call.messages, call.transactions) if ladder else None,
        media=call.media if ladder or call.media is None else _without_timelines(call.media),
        agents=agents_of(call.messages),
    )


def agents_of(messages: Sequence[SipMessage]) -> Agents:
    invite = next((m for m in messages if m.method == "INVITE"), None)
    answers = (m for m in reversed(messages) if m.status and m.cseq_method == "INVITE"
               and (invite is None or m.src != invite.src))
    callee = next(filter(None, (m.headers.get("server") or m.headers.get("user-agent")
                                for m in answers)), "")
    caller = invite.headers.get("user-agent") or "" if invite is not None else ""
    return Agents(caller, callee)


def _without_timelines(media: CallMedia) -> CallMedia:
    """What a report that draws no timeline needs (the per-second figures go)."""
    if all(s.stream.timeline is None for s in media.streams):
        return media
    streams = tuple(s._replace(stream=s.stream._replace(timeline=None)) for s in media.streams)
    return media._replace(streams=streams)


def exchange_record(exchange: Exchange, *, ladder: bool = False) -> ExchangeRecord:
    return ExchangeRecord(
        call_id=exchange.call_id,
        method=exchange.method,
        outcome=exchange.outcome,
        final_status=exchange.final_status,
        reason=exchange.reason,
        caller=exchange.caller,
        callee=exchange.callee,
        start_ns=exchange.start_ns,
        end_ns=exchange.end_ns,
        first_frame=exchange.messages[0].frame,
        last_frame=exchange.messages[-1].frame,
        message_count=len(exchange.messages),
        transaction_count=len(exchange.transactions),
        retransmissions=exchange.retransmissions,
        ladder=ladder_of(exchange.messages, exchange.transactions) if ladder else None,
    )


def _sdp_record(side: SdpSide | None) -> SdpRecord | None:
    if side is None:
        return None
    media = tuple(
        MediaRecord(
            m.kind,
            m.connection,
            m.port,
            m.protocol,
            tuple(m.codecs.get(fmt) or fmt for fmt in m.formats),
            m.direction,
        )
        for m in side.sdp.media
    )
    return SdpRecord(side.sender, side.frame, media)
