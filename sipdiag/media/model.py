"""What the media layer hands up for one call: its streams, RTCP reports and ICMP errors.

Plain frozen values, made when a call is over (``MediaTracker.claim``): the call layer reads
them against the call's offers and answers (``dialogs.media``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from sipdiag.media.rtcp import RtcpItem
from sipdiag.media.stream import Stream
from sipdiag.network import Endpoint


class Tie(Enum):
    """How a stream was tied to its call."""

    TO_ANNOUNCED = "to_announced"
    """It goes to an address and port an SDP of the call announced (the usual case)."""
    FROM_ANNOUNCED = "from_announced"
    """It comes from an announced address and port but goes elsewhere (symmetric RTP to a
    NAT's address, or a wrong destination)."""
    HEURISTIC = "heuristic"
    """No SDP of the capture announced it: found by its shape, tied by its hosts and time."""


class Announcement(NamedTuple):
    """The SDP that announced the address a stream was tied by."""

    frame: int
    ts_ns: int
    sender: Endpoint
    """Where the SIP message carrying the SDP came from."""
    address: Endpoint
    """The announced address (c= and m=, a=rtcp, or an ICE candidate)."""
    media_index: int
    """Which m= line of that SDP."""
    kind: str
    """audio, video, ..."""
    candidate: bool
    """Announced as an ICE candidate rather than on the c= line."""


@dataclass(frozen=True, slots=True)
class TiedStream:
    stream: Stream
    tie: Tie
    announcement: Announcement | None


@dataclass(frozen=True, slots=True)
class RtcpReport:
    """One item of an RTCP packet, with the packet's frame, time and addresses."""

    frame: int
    ts_ns: int
    src: Endpoint
    dst: Endpoint
    item: RtcpItem
    round_trip_ms: float | None = None
    """For a report block that echoes an SR seen in the capture: the round trip from the
    capture point to the reporter and back (RFC 3550 6.4.1: arrival - LSR - DLSR, with the
    capture times of the SR and of the report)."""


@dataclass(frozen=True, slots=True)
class Unreachable:
    """An ICMP destination unreachable that answered a media packet."""

    frame: int
    ts_ns: int
    reporter: str
    """The address the ICMP message came from."""
    src: Endpoint
    dst: Endpoint
    """The media packet that was refused."""
    reason: str
    """port, host, network, prohibited (a firewall's administrative filter), other."""


@dataclass(frozen=True, slots=True)
class CapturedMedia:
    """Everything the capture holds of one call's media."""

    streams: tuple[TiedStream, ...]
    rtcp: tuple[RtcpReport, ...]
    unreachable: tuple[Unreachable, ...]
    other_packets: int
    """Packets on the call's media ports that are neither RTP nor RTCP (STUN, DTLS, ...)."""
    malformed: int
    """Packets on the call's media ports that should have been RTP or RTCP and were not."""
    captured: bool
    """Whether the capture could hold this call's media at all: it holds UDP other than SIP
    to or from an address the call's SDP announced (a capture filtered to the SIP ports, or
    to other hosts, cannot say anything about this call's audio)."""
    self_talking: frozenset[str] = frozenset()
    """The call's media hosts that the capture shows sending to themselves (a capture on the
    loopback): only for those can it hold audio between two addresses of one host, which
    never crosses a wire."""


NO_MEDIA = CapturedMedia((), (), (), 0, 0, False)
