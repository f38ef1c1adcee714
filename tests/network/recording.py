"""A Decoder fed frame by frame, with a sink that records everything it is handed.

Shared by the tests of link layers, UDP, SCTP and tunnels: each test states the frames it feeds
and compares what comes out (datagrams, streams, UDP sink calls, problems, deferred frames)
with what the protocol says must come out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sipdiag.capture import linktypes
from sipdiag.network import Chunk, Endpoint, Flow
from sipdiag.network.decoder import Decoder, Deferred
from sipdiag.problems import ProblemLog
from tests import packets

TS = 1_700_000_000_123_456_789
SIP = packets.sip_request()
"""A SIP request: the payload sink takes (returns True for) datagrams that start like it."""


@dataclass
class Recorder:
    """A PayloadSink that takes SIP and a UdpSink that takes what starts with ``udp_takes``."""

    udp_takes: bytes | None = None
    datagrams: list[tuple[object, ...]] = field(default_factory=list)
    udp: list[tuple[object, ...]] = field(default_factory=list)
    streams: list[tuple[object, ...]] = field(default_factory=list)
    unreachables: list[tuple[object, ...]] = field(default_factory=list)

    def datagram(self, *args: object) -> bool:
        self.datagrams.append(args)
        payload = args[5]
        assert isinstance(payload, bytes)
        return payload.startswith(b"INVITE ")

    def stream(self, flow: Flow, chunks: list[Chunk], frame: int, ts: int) -> bool:
        self.streams.append((flow, b"".join(c for c, _ in chunks), frame, ts))
        return True

    def stream_gap(self, flow: Flow, missing: int, frame: int) -> None:
        self.streams.append(("gap", flow, missing, frame))

    def stream_end(self, flow: Flow) -> None:
        self.streams.append(("end", flow))

    def udp_datagram(self, *args: object) -> bool:
        self.udp.append(args)
        payload = args[4]
        assert isinstance(payload, bytes)
        return self.udp_takes is not None and payload.startswith(self.udp_takes)

    def unreachable(self, *args: object) -> None:
        self.unreachables.append(args)


class _UdpSide:
    """The Recorder seen as a UdpSink (its ``datagram`` has the UdpSink signature)."""

    def __init__(self, recorder: Recorder) -> None:
        self.datagram = recorder.udp_datagram
        self.unreachable = recorder.unreachable


@dataclass
class Decoded:
    sink: Recorder
    problems: ProblemLog
    deferred: list[Deferred]

    def problem_list(self) -> list[tuple[str, int, str]]:
        return [(p.kind, p.frame, p.detail) for p in self.problems.all_examples()]

    def sip(self) -> list[tuple[object, ...]]:
        """The datagrams the sink took: (transport, frame, ts, src, dst, payload, frames)."""
        return [d for d in self.sink.datagrams if isinstance(d[5], bytes)
                and d[5].startswith(b"INVITE ")]


def decode(
    *frames: bytes,
    linktype: int = linktypes.ETHERNET,
    udp: Recorder | None = None,
    defer: bool = False,
    before: bytes = b"\xee" * 3,
    after: bytes = b"",
    lengths: Sequence[int] | None = None,
) -> Decoded:
    """Decode ``frames`` as frames 1, 2, ... at TS, TS + 1, ...; each frame is a window of a
    larger buffer (``before`` + frame + ``after``), as capture readers hand frames on.
    ``udp``: the recorder also serves as the UdpSink. ``lengths``: original frame lengths."""
    sink = udp if udp is not None else Recorder()
    problems = ProblemLog()
    deferred: list[Deferred] = []
    decoder = Decoder(
        sink,  # type: ignore[arg-type]
        problems,
        defer=deferred.append if defer else None,
        udp=_UdpSide(sink) if udp is not None else None,  # type: ignore[arg-type]
    )
    handler = decoder.link_handler(linktype)
    for i, frame in enumerate(frames):
        buf = before + frame + after
        orig_len = lengths[i] if lengths else len(frame)
        handler(i + 1, TS + i, buf, len(before), len(before) + len(frame), orig_len)
    decoder.flush()
    return Decoded(sink, problems, deferred)


def endpoints(src: str, sport: int, dst: str, dport: int) -> tuple[Endpoint, Endpoint]:
    return Endpoint(src, sport), Endpoint(dst, dport)
