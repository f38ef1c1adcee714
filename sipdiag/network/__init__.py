"""Network layer: link-layer frames in, transport payloads out.

Theory of operation: the ``Decoder`` is the capture layer's ``FrameSink``. For each frame it
peels the link layer (Ethernet with 802.1Q/QinQ tags, Linux cooked v1/v2, BSD loopback, raw IP),
IPv4/IPv6 (reassembling fragments), tunnels (IP-in-IP, GRE, ERSPAN, VXLAN, GTP-U, MPLS, HEP) and
the transport, and hands the upper layer, a ``PayloadSink``:

- ``datagram()``: a message-oriented payload (a UDP datagram, an SCTP DATA message, a
  WebSocket message) with its addresses, transport, frame and time;
- ``stream()``: in-order bytes of one direction of a TCP connection, after reassembly
  (out-of-order and retransmitted segments put right, holes reported), with the frame each
  piece came from;
- ``stream_gap()``/``stream_end()``: a hole in a stream that will never be filled, and the end
  of a stream.

A UDP payload the ``PayloadSink`` does not take is offered to a ``UdpSink`` if there is one
(the media layer: RTP and RTCP), with the ICMP errors that quote a UDP packet; what neither
takes is looked at for a tunnel inside (VXLAN, GTP-U, HEP).

Frames are addressed as windows ``buf[start:end]`` until a payload is cut out, so no frame is
copied on its way through. The network layer knows nothing of SIP: it tells a payload's sink
where it came from and lets the sink say whether it was wanted. What it cannot decode becomes a
problem in the ``ProblemLog`` (``ip_bad_header``, ``tcp_gap``, ...), never an exception.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable


class Endpoint(NamedTuple):
    """An IP address (as text, IPv6 compressed) and a port."""

    ip: str
    port: int

    def __str__(self) -> str:
        if ":" in self.ip:
            return f"[{self.ip}]:{self.port}"
        return f"{self.ip}:{self.port}"


class Flow(NamedTuple):
    """One direction of a connection."""

    src: Endpoint
    dst: Endpoint

    @property
    def connection(self) -> tuple[Endpoint, Endpoint]:
        """Both directions of the connection, one key: its two ends in order."""
        return (self.src, self.dst) if self.src <= self.dst else (self.dst, self.src)


Chunk = tuple[bytes, int]
"""A piece of stream data and the frame that carried it."""


class PayloadSink(Protocol):
    def datagram(
        self,
        transport: str,
        frame: int,
        ts_ns: int,
        src: Endpoint,
        dst: Endpoint,
        payload: bytes,
        frames: tuple[int, ...],
    ) -> bool:
        """A message-oriented payload; return True if it was taken (it was SIP).

        ``frames`` lists every frame the payload was reassembled from (IP fragments, SCTP
        fragments), or is empty when it all came in ``frame``.
        """
        ...

    def stream(self, flow: Flow, chunks: list[Chunk], frame: int, ts_ns: int) -> bool:
        """In-order stream bytes, delivered at ``frame``; False means: stop following the flow."""
        ...

    def stream_gap(self, flow: Flow, missing: int, frame: int) -> None:
        """``missing`` bytes of the flow were never captured; the data that follows is later."""
        ...

    def stream_end(self, flow: Flow) -> None:
        """The flow ended (FIN, RST, idle, or end of capture); flush what is buffered."""
        ...


class UdpSink(Protocol):
    def datagram(
        self, frame: int, ts_ns: int, src: Endpoint, dst: Endpoint, payload: bytes
    ) -> bool:
        """A UDP payload that is not SIP; return True if it was taken."""
        ...

    def unreachable(
        self, frame: int, ts_ns: int, reporter: str, src: Endpoint, dst: Endpoint, reason: str
    ) -> None:
        """An ICMP destination unreachable from ``reporter`` that quotes a UDP packet from
        ``src`` to ``dst``; ``reason``: port, host, network, prohibited or other."""
        ...


@runtime_checkable
class TcpSegmentSink(Protocol):
    """A ``UdpSink`` that also wants to be told of every TCP segment (exporting calls copies
    the segments that opened and closed each connection with its messages)."""

    def tcp_segment(self, frame: int, ts_ns: int, flow: Flow, flags: int, size: int) -> None:
        """A segment of ``flow`` with these TCP ``flags`` and ``size`` bytes of data."""
        ...


__all__ = ["Chunk", "Endpoint", "Flow", "PayloadSink", "TcpSegmentSink", "UdpSink"]
