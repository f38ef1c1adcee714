"""A call's messages as a ladder: who sent what to whom, when, and which were copies.

The ladder is what a sequence diagram draws: one arrow per message in frame order, between the
two addresses it went between, labelled with the request method or the status code and reason,
and numbered when it is a retransmission (the second, third, ... copy of the same request, or of
the same response with the same To tag, in its transaction). It is plain data, so reports can
keep it for the calls they will draw after the messages themselves are let go. Each arrow keeps
its message's text as well, for the HTML page to show: a kept ladder weighs about what the bytes
of its messages do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from sipdiag.dialogs.transactions import Transaction
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage


class ArrowKind(Enum):
    """What a row of a ladder shows: a SIP message, or (drawn by the reports beside the
    messages) where a media stream starts and ends, or a telephone event (RFC 4733)."""

    SIP = "sip"
    MEDIA = "media"
    MEDIA_END = "media_end"
    DTMF = "dtmf"


@dataclass(frozen=True, slots=True)
class Arrow:
    frame: int
    ts_ns: int
    src: Endpoint
    dst: Endpoint
    transport: str
    label: str
    """``INVITE`` or ``180 Ringing``; the reason phrase comes from the capture."""
    status: int
    """0 for a request."""
    copy: int
    """1 for the first time a message is sent, 2 for its first retransmission, ..."""
    has_sdp: bool
    kind: ArrowKind = ArrowKind.SIP
    text: str = ""
    """The message as captured, start line, headers and body (undecodable bytes replaced by
    U+FFFD); empty for a row that is not a SIP message."""


def ladder_of(messages: Sequence[SipMessage], transactions: Sequence[Transaction]) -> tuple[
    Arrow, ...
]:
    copies = _copy_numbers(transactions)
    return tuple(
        Arrow(
            frame=message.frame,
            ts_ns=message.ts_ns,
            src=message.src,
            dst=message.dst,
            transport=message.transport,
            label=message.method or f"{message.status} {message.reason}".rstrip(),
            status=message.status,
            copy=copies.get(id(message), 1),
            has_sdp=message.content_length not in (None, 0) and message.sdp is not None,
            text=message.raw.decode("utf-8", "replace"),
        )
        for message in messages
    )


def endpoints(arrows: Sequence[Arrow]) -> list[Endpoint]:
    """The columns of the diagram: every address, in the order it first appears."""
    seen: dict[Endpoint, None] = {}
    for arrow in arrows:
        seen.setdefault(arrow.src)
        seen.setdefault(arrow.dst)
    return list(seen)


def _copy_numbers(transactions: Sequence[Transaction]) -> dict[int, int]:
    """Message id -> which copy it is, for every retransmitted request and response (the
    copies ``Transaction.copies`` finds: the ones the report counts)."""
    return {id(message): index
            for transaction in transactions for group in transaction.copies()
            for index, message in enumerate(group, 1)}
