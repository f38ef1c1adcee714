"""SipReader: transport payloads in, SIP messages out, in frame order.

Theory of operation: the reader is the network layer's ``PayloadSink``. A datagram (UDP, SCTP,
HEP, or a WebSocket message) is one SIP message if its first line is a SIP start line. A TCP
direction is classified by its first bytes: a SIP start line makes it a SIP stream, framed by
Content-Length (``StreamFramer``); an HTTP upgrade to WebSocket makes it a WebSocket stream
whose messages are SIP (RFC 7118); TLS is followed as a ``TlsSession`` (its hellos tell the
reports who spoke to whom), and its plaintext, when Wireshark decrypted it (a ``Decryption``,
by frame), is classified and framed like a clear TCP direction's, as transport TLS or WSS; a
stream that shows no SIP start line in its first ``CLASSIFY_LIMIT`` bytes is left alone. SIP
is recognised by content, on any port.

Messages are kept in the order of the frame Wireshark shows them in. Only data that a TCP hole
held back can come late; the caller passes the network layer's ``pending_min_frame`` to
``drain`` and gets only messages that nothing can overtake any more.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from sipdiag.network import Chunk, Endpoint, Flow, hep
from sipdiag.network.tls import (
    Decryption,
    HandshakeReader,
    HandshakeType,
    Hello,
    TlsSession,
    looks_like_tls,
)
from sipdiag.network.websocket import WebSocketDecoder, WebSocketError
from sipdiag.problems import ProblemLog
from sipdiag.sip.framing import Framed, Skipped, StreamFramer
from sipdiag.sip.message import SipMessage
from sipdiag.sip.parser import FIRST_BYTES, NotSip, parse_message, shown

SIP_PORTS = frozenset({5060, 5061, 5062, 5070, 5080, 5160})
"""Ports where a payload that is not SIP deserves a mention."""
CLASSIFY_LIMIT = 64 * 1024
CLOCK_JUMP_NS = 30 * 86_400 * 1_000_000_000
"""Two SIP messages one after the other further apart than this (30 days), either way: the
capture was stitched together from several, or the capturing clock was set meanwhile."""
CLOCK_JUMP = "sip_clock_jump"
KEEPALIVE_MAX = 8
_WS_UPGRADE = re.compile(rb"^upgrade[ \t]*:[ \t]*websocket", re.I | re.M)
_SIP_START = re.compile(
    rb"(?:^|\n)(?:[!%'*+\-.0-9A-Za-z_`~]+ [^ \r\n]+ SIP/2\.0|SIP/2\.0 \d{3}[ \r])"
)


class _Mode(Enum):
    """What a TCP direction carries, as its first bytes tell."""

    NEW = "new"  # not classified yet
    SIP = "sip"
    WEBSOCKET = "websocket"
    TLS = "tls"
    IGNORED = "ignored"


@dataclass(slots=True)
class _Stream:
    mode: _Mode = _Mode.NEW
    head: list[Chunk] = field(default_factory=list)
    """The first chunks, kept until they tell what the stream carries."""
    framer: StreamFramer = field(default_factory=StreamFramer)
    websocket: WebSocketDecoder | None = None
    carried: list[int] = field(default_factory=list)
    """The frames of the bytes the WebSocket decoder holds: those of its next message."""
    handshake: HandshakeReader = field(default_factory=HandshakeReader)
    session: TlsSession | None = None
    inner: _Stream | None = None
    """A TLS direction's plaintext, read as a stream of its own."""


class SipReader:
    """A ``PayloadSink`` that turns payloads into SipMessages."""

    def __init__(
        self, problems: ProblemLog, observer: Callable[[SipMessage], None] | None = None,
        decryption: Decryption | None = None,
    ) -> None:
        self._problems = problems
        self._decryption = decryption
        self._sessions: dict[tuple[Endpoint, Endpoint], TlsSession] = {}
        """The session of each connection open now (its two directions share it)."""
        self._ended: list[TlsSession] = []
        """Sessions of connections over: a new connection on the same addresses and ports
        (a phone reconnecting from its fixed port) is a session of its own."""
        self._decrypted: set[int] = set()
        """The frames whose plaintext was taken: a frame's data can come in two chunks (a
        retransmission that carries more than the segment it repeats)."""
        self._observer = observer
        """Shown every message as soon as it is read, in frame order (the media layer binds
        the addresses of an SDP before any later packet arrives)."""
        self._streams: dict[Flow, _Stream] = {}
        self._out: list[SipMessage] = []
        self._last_frame = 0
        self._last_ts_ns: int | None = None
        self._disordered = False
        self.message_count = 0
        self.defective_count = 0

    # Datagrams.

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
        if payload and payload[0] in FIRST_BYTES:
            try:
                message = parse_message(payload, frame, ts_ns, src, dst, transport, frames)
            except NotSip:
                pass
            else:
                self._accept(message)
                return True
        if _on_sip_port(src, dst) and _is_unexplained(payload):
            self._problems.add(
                "sip_unrecognised",
                frame,
                f"{transport} payload to {dst} is not SIP: starts {shown(payload[:16])}",
            )
        return False

    def _accept(self, message: SipMessage) -> None:
        self.message_count += 1
        frame = message.frame
        if message.defects:
            self.defective_count += 1
            for kind, detail in message.defects:
                self._problems.add(kind, frame, detail)
        if frame < self._last_frame:
            self._disordered = True
        last_ts_ns, ts_ns = self._last_ts_ns, message.ts_ns
        if last_ts_ns is not None and abs(ts_ns - last_ts_ns) > CLOCK_JUMP_NS:
            report_clock_jump(self._problems, (self._last_frame, last_ts_ns), (frame, ts_ns))
        self._last_ts_ns = ts_ns
        self._last_frame = frame
        self._out.append(message)
        if self._observer is not None:
            self._observer(message)

    # Streams.

    def stream(self, flow: Flow, chunks: list[Chunk], frame: int, ts_ns: int) -> bool:
        state = self._streams.get(flow)
        if state is None:
            state = self._streams[flow] = _Stream()
        if state.mode == _Mode.NEW:
            chunks = self._classify(state, flow, chunks, frame)
        if state.mode == _Mode.TLS:
            return self._tls_stream(state, flow, chunks, frame, ts_ns)
        self._carried(state, flow, chunks, frame, ts_ns, secure=False)
        return state.mode != _Mode.IGNORED

    def _carried(self, state: _Stream, flow: Flow, chunks: list[Chunk], frame: int, ts_ns: int,
                 secure: bool) -> None:
        if state.mode == _Mode.SIP:
            self._sip_stream(state, flow, chunks, frame, ts_ns, "TLS" if secure else "TCP")
        elif state.mode == _Mode.WEBSOCKET:
            self._websocket_stream(state, flow, chunks, frame, ts_ns, "WSS" if secure else "WS")

    def stream_gap(self, flow: Flow, missing: int, frame: int) -> None:
        state = self._streams.get(flow)
        if state is not None:
            self._gap(state.inner if state.inner is not None else state, flow, missing, frame)

    def _gap(self, state: _Stream, flow: Flow, missing: int, frame: int) -> None:
        if state.mode == _Mode.SIP:
            self._problems.add(
                "tcp_gap", frame, f"{missing} bytes of {_flow(flow)} were not captured"
            )
            self._skipped(state.framer.gap(frame), flow)
        elif state.mode == _Mode.WEBSOCKET:
            state.mode = _Mode.IGNORED
            self._problems.add(
                "tcp_gap",
                frame,
                f"{missing} bytes of {_flow(flow)} were not captured; "
                "the WebSocket messages after it cannot be read",
            )
        else:
            state.head = []  # not classified yet: start again after the hole

    def stream_end(self, flow: Flow) -> None:
        state = self._streams.pop(flow, None)
        if state is not None and state.session is not None:
            self._session_ends(flow, state.session)
        if state is not None and state.inner is not None:
            state = state.inner
        if state is not None and state.mode == _Mode.SIP:
            self._skipped(state.framer.end(), flow)

    def _classify(self, state: _Stream, flow: Flow, chunks: list[Chunk], frame: int,
                  secure: bool = False) -> list[Chunk]:
        """Decide from the first bytes what this stream carries; return the chunks to read.
        ``secure``: they are the plaintext of TLS (which is not TLS again)."""
        state.head.extend(chunks)
        head = b"".join(data for data, _ in state.head)
        if _SIP_START.search(head):
            state.mode = _Mode.SIP
        elif looks_like_tls(head) and not secure:
            self._tls_begins(state, flow, frame)
        elif head[:4] in (b"GET ", b"HTTP") and b"\r\n\r\n" in head:
            self._websocket_upgrade(state, head)
            if state.mode == _Mode.WEBSOCKET:
                state.head = _after(state.head, head.find(b"\r\n\r\n") + 4)
        elif len(head) > CLASSIFY_LIMIT:
            state.mode = _Mode.IGNORED
            if _on_sip_port(flow.src, flow.dst):
                self._problems.add("sip_unrecognised", frame, f"{_flow(flow)} carries no SIP")
        if state.mode == _Mode.NEW:
            return []
        found, state.head = state.head, []
        return found

    # TLS.

    def _tls_begins(self, state: _Stream, flow: Flow, frame: int) -> None:
        if self._decryption is None and not _on_sip_port(flow.src, flow.dst):
            state.mode = _Mode.IGNORED  # not to be read, nor reported
            return
        state.mode, state.inner = _Mode.TLS, _Stream()
        connection = flow.connection
        state.session = self._sessions.get(connection)
        if state.session is None:  # the first direction seen is taken for the client's
            state.session = self._sessions[connection] = TlsSession(flow.src, flow.dst, frame)
        if self._decryption is None and _on_sip_port(flow.src, flow.dst):
            self._problems.add(
                "tls_encrypted", frame, f"{_flow(flow)} is TLS: the SIP inside cannot be read"
            )

    def _tls_stream(
        self, state: _Stream, flow: Flow, chunks: list[Chunk], frame: int, ts_ns: int
    ) -> bool:
        """Read the hellos; frame the plaintext Wireshark decrypted from these frames."""
        session, inner = state.session, state.inner
        assert session is not None and inner is not None
        for data, _ in chunks:
            for hello in state.handshake.feed(data):
                _learn(session, flow, hello)
        if self._decryption is None:
            return not state.handshake.done  # only the hellos can be read
        plaintext = self._decryption.plaintext
        plain: list[Chunk] = []
        for _, chunk_frame in chunks:
            records = plaintext.get(chunk_frame)
            if records and chunk_frame not in self._decrypted:
                self._decrypted.add(chunk_frame)
                plain += [(record, chunk_frame) for record in records]
        if plain:
            session.plaintext_bytes += sum(len(data) for data, _ in plain)
            if inner.mode == _Mode.NEW:
                plain = self._classify(inner, flow, plain, frame, secure=True)
            before = self.message_count
            self._carried(inner, flow, plain, frame, ts_ns, secure=True)
            session.sip_messages += self.message_count - before
            if inner.mode == _Mode.WEBSOCKET:
                session.transport = "WSS"
        return True

    def _session_ends(self, flow: Flow, session: TlsSession) -> None:
        """One direction of a TLS connection is over; the session with both."""
        other = self._streams.get(Flow(flow.dst, flow.src))
        if other is None or other.session is not session:
            self._ended.append(session)
            if self._sessions.get(flow.connection) is session:
                del self._sessions[flow.connection]

    def tls_sessions(self) -> list[TlsSession]:
        """The TLS sessions worth a word: those on SIP ports, and those that carried SIP."""
        return sorted((s for s in [*self._ended, *self._sessions.values()]
                       if s.sip_messages or _on_sip_port(s.client, s.server)),
                      key=lambda s: s.first_frame)

    def _websocket_upgrade(self, state: _Stream, head: bytes) -> None:
        """An HTTP request or response; WebSocket follows if it is an upgrade (RFC 6455 4)."""
        if _WS_UPGRADE.search(head, 0, head.find(b"\r\n\r\n")):
            state.mode = _Mode.WEBSOCKET
            state.websocket = WebSocketDecoder()
        else:
            state.mode = _Mode.IGNORED

    def _sip_stream(self, state: _Stream, flow: Flow, chunks: list[Chunk], frame: int, ts_ns: int,
                    transport: str) -> None:
        for item in state.framer.feed(chunks):
            if isinstance(item, Skipped):
                self._skipped(item, flow)
                continue
            self._stream_message(item, flow, frame, ts_ns, transport)

    def _stream_message(self, item: Framed, flow: Flow, frame: int, ts_ns: int,
                        transport: str) -> None:
        try:
            message = parse_message(item.data, frame, ts_ns, flow.src, flow.dst, transport,
                                    item.frames)
        except NotSip:
            self._skipped(
                Skipped(len(item.data), frame, "its first line is not a SIP start line"), flow
            )
            return
        if message.content_length is None and message.headers.get("content-length") is None:
            # RFC 3261 18.3: on a stream "the Content-Length header field MUST be used".
            self._problems.add(
                "sip_missing_header",
                message.frame,
                f"no Content-Length header on {_flow(flow)}, where it is required "
                "(RFC 3261 18.3): the message is taken to end at its empty line",
            )
        self._accept(message)

    def _websocket_stream(self, state: _Stream, flow: Flow, chunks: list[Chunk], frame: int,
                          ts_ns: int, transport: str) -> None:
        assert state.websocket is not None
        try:
            for data, chunk_frame in chunks:
                state.carried.append(chunk_frame)
                for message in state.websocket.feed(data):
                    frames = tuple(state.carried)
                    state.carried = [chunk_frame] if state.websocket.buffered else []
                    self.datagram(transport, frame, ts_ns, flow.src, flow.dst, message, frames)
                if not state.websocket.buffered:  # what it held was control frames
                    state.carried = []
        except WebSocketError as exc:
            state.mode = _Mode.IGNORED
            self._problems.add("websocket_bad_frame", frame, f"{_flow(flow)}: {exc}")

    def _skipped(self, skipped: Skipped | None, flow: Flow) -> None:
        if skipped is not None:
            self._problems.add(
                "sip_stream_skipped",
                skipped.frame,
                f"{skipped.size} bytes of {_flow(flow)} skipped: {skipped.reason}",
            )

    # Output.

    def drain(self, pending_min_frame: int | None) -> list[SipMessage]:
        """The messages that no data still held back by TCP reassembly can come before."""
        out = self._out
        if self._disordered:
            out.sort(key=_frame_of)
            self._disordered = False
        if pending_min_frame is None:
            self._out = []
            return out
        cut = bisect.bisect_left(out, pending_min_frame, key=_frame_of)
        self._out = out[cut:]
        return out[:cut]


def report_clock_jump(problems: ProblemLog, before: tuple[int, int],
                      message: tuple[int, int]) -> None:
    """The problem of a SIP message at (frame, ts_ns) timed more than ``CLOCK_JUMP_NS`` away
    from the one read ``before`` it (the caller compares: this is off every message's path)."""
    (last_frame, last_ts_ns), (frame, ts_ns) = before, message
    days = (ts_ns - last_ts_ns) / 86_400e9
    problems.add(
        CLOCK_JUMP, frame,
        f"frame {frame} is timed {abs(days):.0f} days "
        f"{'after' if days > 0 else 'before'} the SIP message before it (frame "
        f"{last_frame}): the capture is stitched together from several, or its clock "
        f"was set; calls across the jump are read apart")


def _frame_of(message: SipMessage) -> int:
    return message.frame


def _on_sip_port(src: Endpoint, dst: Endpoint) -> bool:
    return src.port in SIP_PORTS or dst.port in SIP_PORTS


def _is_unexplained(payload: bytes) -> bool:
    """Not a keep-alive, not STUN, not HEP: a payload that should have been SIP.

    Keep-alives are CRLFs (RFC 5626), zeros, or a few bytes of a stack's own ("jaK\\0" from
    eXosip); no SIP message is that short.
    """
    if len(payload) <= KEEPALIVE_MAX or not payload.strip(b"\r\n\x00 "):
        return False
    if _is_stun(payload):
        return False
    return not hep.looks_like_hep(payload)


def _is_stun(payload: bytes) -> bool:
    """A STUN message (RFC 3489/5389), used for keep-alives and NAT discovery beside SIP."""
    return (
        len(payload) >= 20
        and payload[0] < 2
        and int.from_bytes(payload[2:4], "big") + 20 == len(payload)
    )


def _after(chunks: list[Chunk], size: int) -> list[Chunk]:
    """The chunks without their first ``size`` bytes, each kept with its own frame."""
    kept = []
    for data, frame in chunks:
        if size < len(data):
            kept.append((data[size:], frame))
        size = max(0, size - len(data))
    return kept



def _learn(session: TlsSession, flow: Flow, hello: Hello) -> None:
    """What a hello says of its session; a ClientHello also says who the client is."""
    if hello.kind == HandshakeType.CLIENT_HELLO:
        session.client, session.server = flow.src, flow.dst
        session.client_random, session.sni = hello.random, hello.sni
    else:
        session.version, session.cipher = hello.version, hello.cipher


def _flow(flow: Flow) -> str:
    return f"TCP {flow.src} -> {flow.dst}"
