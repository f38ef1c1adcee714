"""The Redactor: frames in, the same frames with every identifier replaced out.

Theory of operation. Each frame is taken apart (``packets.parse_frame``: MAC and IP addresses
replaced, tunnels taken apart), its transport payload redacted (SIP by
``sip.redact_message``; RTP, RTCP and STUN by ``media``; HEP by ``hep``; SIP over SCTP by
``sctp``; ICMP errors keep the quoted IP header, redacted, and the 8 bytes after it that
RFC 792 requires; ICMP echoes keep their header and lose their data), and the frame put
together again with every length and checksum recomputed.

Frames go out in the order they came in, with their own time and link type. Two kinds cannot
be written at once: a TCP segment, until the SIP message its bytes belong to is complete
(``tcp.Direction``), and an IP fragment, until its datagram is reassembled and redacted: it
is then cut again at the fragments' original offsets, each fragment in its own frame (a
datagram that shrank needs fewer fragments: the rest are left out, counted; one that grew has
a longer last fragment). Such a frame waits at the head of a queue, and every frame after it
waits behind it; ``MAX_HELD`` bounds the queue (past it, the frame at the head is given up:
its TCP stream ends there, or its fragments are left out).

Nothing is passed through unredacted: a frame that cannot be redacted is left out and counted
with the reason (``RedactionSummary.left_out``).
"""

from __future__ import annotations

import struct
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sipdiag.capture import FrameWriter, Reader
from sipdiag.capture.copy import route_frames
from sipdiag.evidence.redact import packets
from sipdiag.evidence.redact.hep import redact_hep
from sipdiag.evidence.redact.media import MediaFlows, is_stun, redact_media
from sipdiag.evidence.redact.packets import Packet, parse_frame
from sipdiag.evidence.redact.pseudonyms import Kind, Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.sctp import SctpMessages
from sipdiag.evidence.redact.sip import redact_message
from sipdiag.evidence.redact.tcp import Direction
from sipdiag.network import hep
from sipdiag.network.encode import checksum
from sipdiag.network.fragments import FragmentReassembler
from sipdiag.network.tcp import ACK, FIN, RST, SYN
from sipdiag.problems import ProblemLog
from sipdiag.sip.parser import NotSip, start_line

MAX_HELD = 100_000
"""Frames that may wait behind one that is not yet decided."""
TCP_SACK, TCP_NOP, TCP_END = 5, 1, 0
ICMP_ERRORS = frozenset({3, 11, 12})
"""Destination unreachable, time exceeded, parameter problem (RFC 792)."""
ICMPV6_ERRORS = frozenset({1, 2, 3, 4})
"""Destination unreachable, packet too big, time exceeded, parameter problem (RFC 4443)."""
ICMP_ECHOES = frozenset({0, 8})
ICMPV6_ECHOES = frozenset({128, 129})
Frame = tuple[bytes, int]
"""A frame's bytes and its original length."""


T = TypeVar("T")


@dataclass(frozen=True)
class RedactionSummary:
    frames_read: int
    frames_written: int
    replaced: Mapping[Kind, int]
    """Identifiers replaced, every occurrence counted."""
    distinct: Mapping[Kind, int]
    """Different identifiers replaced."""
    left_out: Mapping[str, int]
    """Frames left out, by why."""
    stream_data_left_out: Mapping[str, int] = field(default_factory=dict)
    """Pieces of TCP streams left out (a message that could not be redacted, bytes that are not
    SIP), by why: the frames that carried only those are counted in ``left_out``."""

    @classmethod
    def of_files(cls, summaries: Sequence[RedactionSummary]) -> RedactionSummary:
        """Several files' summaries as one: counts added (how many distinct identifiers the
        files had together is not known, so that is left out)."""
        return cls(sum(s.frames_read for s in summaries),
                   sum(s.frames_written for s in summaries),
                   _added(s.replaced for s in summaries), {},
                   _added(s.left_out for s in summaries),
                   _added(s.stream_data_left_out for s in summaries))

    def lines(self) -> list[str]:
        """The summary in words, one line per kind and per reason."""
        kinds = ", ".join(f"{self.replaced[kind]} {kind.value} ({self.distinct[kind]} distinct)"
                          if kind in self.distinct else f"{self.replaced[kind]} {kind.value}"
                          for kind in Kind if self.replaced.get(kind))
        out = [f"{self.frames_written} of {self.frames_read} frames written; replaced: "
               f"{kinds or 'nothing'}"]
        out += [f"left out: {count} frame{'s' * (count != 1)}: {why}"
                for why, count in sorted(self.left_out.items(), key=lambda i: (-i[1], i[0]))]
        out += [f"TCP data left out {count} time{'s' * (count != 1)}: {why}"
                for why, count in sorted(self.stream_data_left_out.items())]
        return out


def _added(counts: Iterable[Mapping[T, int]]) -> dict[T, int]:
    total: Counter[T] = Counter()
    for each in counts:
        total.update(each)
    return dict(total)


@dataclass(slots=True)
class _Held:
    linktype: int
    ts_ns: int
    ready: Callable[[], bool]
    render: Callable[[], Frame | None]
    """The frame, None if it is no longer needed, or Unredactable."""
    give_up: Callable[[], None]


@dataclass(slots=True)
class _Datagram:
    """The fragments of one IP datagram, and once it is whole, each one's share of it."""

    parts: list[Packet] = field(default_factory=list)
    frames: list[Frame | None] | None = None
    failed: str | None = None

    @property
    def done(self) -> bool:
        return self.frames is not None or self.failed is not None

    def frame(self, index: int) -> Frame | None:
        if self.failed is not None:
            raise Unredactable(self.failed)
        assert self.frames is not None
        if self.frames[index] is None:
            raise Unredactable("an IP fragment no longer needed (the redacted datagram is "
                               "shorter) or repeated")
        return self.frames[index]

    def cut(self, datagram: bytes) -> None:
        """RFC 791 3.2, RFC 8200 4.5: each fragment keeps its offset; the last one present
        takes the rest of the datagram."""
        frames: list[Frame | None] = [None] * len(self.parts)
        order: dict[int, int] = {}
        for index, part in enumerate(self.parts):
            assert part.fragment is not None
            order.setdefault(part.fragment.offset, index)
        offsets = sorted(o for o in order if o < len(datagram) or o == 0)
        for at, offset in enumerate(offsets):
            last = at == len(offsets) - 1
            end = len(datagram) if last else offsets[at + 1]
            part = self.parts[order[offset]]
            frames[order[offset]] = part.fragment_frame(offset, not last, datagram[offset:end])
        self.frames = frames


class Redactor:
    """A frame sink: takes frames as PcapngWriter.write does and writes them, redacted, to
    ``out``."""

    def __init__(self, out: FrameWriter, key: bytes, *, drop_audio: bool = False) -> None:
        self._out = out
        self._names = Pseudonyms(key)
        self._drop_audio = drop_audio
        self._held: deque[_Held] = deque()
        self._read = self._written = 0
        self._left_out: Counter[str] = Counter()
        self._directions: dict[tuple[bytes, int, bytes, int], Direction] = {}
        self._streams: list[Direction] = []
        self._datagrams: dict[tuple[object, ...], _Datagram] = {}
        self._fragments = FragmentReassembler(ProblemLog())  # what never completes is held
        self._media = MediaFlows()
        self._sctp_messages = SctpMessages(self._names)

    def write(self, linktype: int, ts_ns: int, data: bytes, orig_len: int) -> None:
        self._read += 1
        try:
            packet = parse_frame(linktype, data, orig_len, self._names)
            if packet.fragment is not None:
                self._fragment(linktype, ts_ns, packet)
            elif packet.protocol == packets.TCP:
                self._tcp(linktype, ts_ns, packet)
            elif packet.protocol == packets.SCTP:
                self._sctp(linktype, ts_ns, packet)
            else:
                self._emit(linktype, ts_ns, packet.frame(self._segment(packet, packet.segment)))
        except Unredactable as exc:
            self._left_out[str(exc)] += 1
        self._drain()

    def close(self) -> None:
        """Write whatever is still held: TCP streams end, fragments never completed are left
        out."""
        for direction in self._streams:
            direction.finish()
        for datagram in self._datagrams.values():
            datagram.failed = "IP fragments of a datagram whose other fragments never came"
        self._datagrams.clear()
        self._drain(force=True)

    @property
    def summary(self) -> RedactionSummary:
        names = self._names
        refused: Counter[str] = Counter()
        for direction in self._streams:
            refused.update(direction.refused)
        return RedactionSummary(
            self._read, self._written, dict(names.replaced),
            {kind: names.distinct(kind) for kind in Kind
             if kind not in (Kind.AUDIO, Kind.BODY, Kind.IDENTITY) and names.distinct(kind)},
            dict(self._left_out), dict(refused))

    # Output, in order.

    def _emit(self, linktype: int, ts_ns: int, frame: Frame | None) -> None:
        if self._held:
            self._held.append(_Held(linktype, ts_ns, lambda: True, lambda: frame, _nothing))
        elif frame is not None:
            self._out.write(linktype, ts_ns, *frame)
            self._written += 1

    def _hold(self, held: _Held) -> None:
        self._held.append(held)

    def _drain(self, force: bool = False) -> None:
        held = self._held
        while held:
            head = held[0]
            if not head.ready():
                if not force and len(held) <= MAX_HELD:
                    return
                head.give_up()
            held.popleft()
            try:
                frame = head.render()
            except Unredactable as exc:
                self._left_out[str(exc)] += 1
                continue
            if frame is not None:
                self._out.write(head.linktype, head.ts_ns, *frame)
                self._written += 1

    # Transports.

    def _segment(self, packet: Packet, segment: bytes) -> bytes:
        """A whole transport segment (not TCP) redacted."""
        if packet.protocol == packets.UDP:
            return self._udp(packet, segment)
        if packet.protocol in (packets.ICMP, packets.ICMPV6):
            return self._icmp(packet, segment)
        if packet.protocol == packets.SCTP:
            raise Unredactable("SCTP in IP fragments is not redacted")
        raise Unredactable(f"IP protocol {packet.protocol} is not redacted")

    def _udp(self, packet: Packet, segment: bytes) -> bytes:
        if len(segment) < 8:
            raise Unredactable("a UDP header cut short")
        length = segment[4] << 8 | segment[5]
        payload = segment[8:length] if 8 <= length <= len(segment) else segment[8:]
        if _looks_like_sip(payload):
            if packet.cut:
                raise Unredactable("a SIP message cut by the snapshot length")
            new = redact_message(payload, self._names)
            self._media.announce(new)
        elif hep.looks_like_hep(payload) and not is_stun(payload):
            if packet.cut:
                raise Unredactable("a HEP packet cut by the snapshot length")
            new = redact_hep(payload, self._names)
        else:
            src = (packet.src, segment[0] << 8 | segment[1])
            dst = (packet.dst, segment[2] << 8 | segment[3])
            new = redact_media(payload, src, dst, self._media, self._names, self._drop_audio)
        if packet.cut:  # lengths and checksum cannot be made right for bytes not captured
            return segment[:8] + new
        return packets.udp_segment(packet, segment[:8], new)

    def _icmp(self, packet: Packet, segment: bytes) -> bytes:
        if len(segment) < 8:
            raise Unredactable("an ICMP header cut short")
        v6 = packet.protocol == packets.ICMPV6
        if segment[0] in (ICMPV6_ERRORS if v6 else ICMP_ERRORS):
            message = segment[:8] + _quoted(segment[8:], self._names)
        elif segment[0] in (ICMPV6_ECHOES if v6 else ICMP_ECHOES):
            message = segment[:8] + bytes(len(segment) - 8)
        else:
            raise Unredactable(f"ICMP{'v6' if v6 else ''} messages of type {segment[0]} are "
                               "not redacted")
        return packets.icmp_checksum(packet, message)

    def _fragment(self, linktype: int, ts_ns: int, packet: Packet) -> None:
        fragment = packet.fragment
        assert fragment is not None
        if packet.cut:
            raise Unredactable("an IP fragment cut by the snapshot length")
        datagram = self._datagrams.setdefault(fragment.key, _Datagram())
        index = len(datagram.parts)
        datagram.parts.append(packet)
        self._hold(_Held(linktype, ts_ns, lambda: datagram.done,
                         lambda: datagram.frame(index), lambda: _fail(datagram)))
        whole = self._fragments.add(fragment.key, fragment.offset, fragment.more,
                                    packet.segment, self._read, ts_ns)
        if whole is None:
            return
        del self._datagrams[fragment.key]
        first = next(p for p in datagram.parts if p.fragment and p.fragment.offset == 0)
        try:
            if first.protocol == packets.TCP:
                raise Unredactable("TCP segments in IP fragments are not redacted")
            datagram.cut(self._segment(first, whole[0]))
        except Unredactable as exc:
            datagram.failed = str(exc)

    def _sctp(self, linktype: int, ts_ns: int, packet: Packet) -> None:
        if packet.cut:
            raise Unredactable("an SCTP packet cut by the snapshot length")
        sctp = self._sctp_messages.read(packet.src, packet.dst, packet.segment)
        if not self._held and sctp.ready():
            self._emit(linktype, ts_ns, packet.frame(sctp.render()))
        else:
            self._hold(_Held(linktype, ts_ns, sctp.ready, lambda: packet.frame(sctp.render()),
                             sctp.give_up))

    def _tcp(self, linktype: int, ts_ns: int, packet: Packet) -> None:
        segment = packet.segment
        header_size = (segment[12] >> 4) * 4 if len(segment) >= 20 else 0
        if header_size < 20 or header_size > len(segment):
            raise Unredactable("a TCP header cut short or with a bad data offset")
        payload = segment[header_size:]
        if packet.cut and payload:
            raise Unredactable("a TCP segment cut by the snapshot length")
        sport, dport, seq, ack, _, flags = struct.unpack_from(">HHIIBB", segment)
        key = (packet.src, sport, packet.dst, dport)
        direction = self._directions.get(key)
        syn = bool(flags & SYN)
        if direction is None or (syn and direction.isn != (seq + 1) % (1 << 32)):
            direction = self._directions[key] = Direction(self._names, seq + syn,
                                                          self._media.announce)
            self._streams.append(direction)
        offset = direction.offset(seq) + syn
        if offset < 0 and payload:
            raise Unredactable("TCP data from before the stream's first captured byte")
        direction.data(offset, payload)
        reverse_key = (packet.dst, dport, packet.src, sport)
        header = _without_sack(segment[:header_size])
        end = offset + len(payload)
        sent = direction

        def acked() -> int | None:
            reverse = self._directions.get(reverse_key)
            if not flags & ACK or reverse is None:
                return None
            return reverse.offset(ack)

        def ready() -> bool:
            reverse = self._directions.get(reverse_key)
            at = acked()
            return sent.maps(end) and (at is None or reverse is None or reverse.maps(at))

        def render() -> Frame:
            data = sent.new_bytes(offset, end)
            if payload and not data and not flags & (SYN | FIN | RST):
                raise Unredactable("a TCP segment whose data was all left out (not SIP)")
            reverse, at = self._directions.get(reverse_key), acked()
            new_ack = None if at is None or reverse is None else reverse.seq(
                reverse.new_offset(at))
            new_seq = sent.seq(sent.new_offset(offset) - syn)
            return packet.frame(packets.tcp_segment(packet, header, new_seq, new_ack, data))

        def give_up() -> None:
            sent.finish()
            reverse = self._directions.get(reverse_key)
            if reverse is not None:
                reverse.finish()

        if not self._held and ready():
            self._emit(linktype, ts_ns, render())
        else:
            self._hold(_Held(linktype, ts_ns, ready, render, give_up))


def _looks_like_sip(payload: bytes) -> bool:
    try:
        start_line(payload)
    except NotSip:
        return False
    return True


def _quoted(quote: bytes, names: Pseudonyms) -> bytes:
    """The IP header an ICMP error quotes, its addresses replaced and its checksum made right,
    and the first 8 bytes of what it carried (ports; RFC 792, RFC 4443 3.1): the rest, which
    may be a SIP message, is cut."""
    version = quote[0] >> 4 if quote else 0
    if version == 4 and len(quote) >= 20:
        size = (quote[0] & 15) * 4
        header = bytearray(quote[:12] + names.ip(quote[12:16]) + names.ip(quote[16:20])
                           + quote[20:size])
        struct.pack_into(">H", header, 10, 0)
        struct.pack_into(">H", header, 10, checksum(bytes(header)))
        return bytes(header) + _quoted_transport(header, 9, 12, 4, quote[size:size + 8])
    if version == 6 and len(quote) >= 40:
        header = bytearray(quote[:8] + names.ip(quote[8:24]) + names.ip(quote[24:40]))
        return bytes(header) + _quoted_transport(header, 6, 8, 16, quote[40:48])
    raise Unredactable("an ICMP error quoting no IP header")


def _quoted_transport(header: bytearray, protocol_at: int, src_at: int, size: int,
                      transport: bytes) -> bytes:
    """The 8 bytes quoted after the IP header; a UDP header that is the whole datagram (its
    length 8) gets its checksum computed again, since a reader can check it."""
    if header[protocol_at] != packets.UDP or transport[4:6] != b"\0\x08":
        return transport
    src, dst = bytes(header[src_at:src_at + size]), bytes(header[src_at + size:src_at + 2 * size])
    return packets.with_checksum(src, dst, bytearray(transport), 6, packets.UDP)


def _without_sack(header: bytes) -> bytes:
    """SACK blocks (RFC 2018) name sequence numbers of the other direction: they become NOPs."""
    out, at = bytearray(header), 20
    while at < len(out):
        kind = out[at]
        if kind == TCP_END:
            break
        if kind == TCP_NOP:
            at += 1
            continue
        size = out[at + 1] if at + 1 < len(out) else 0
        if size < 2:
            break
        if kind == TCP_SACK:
            out[at:at + size] = bytes([TCP_NOP]) * size
        at += size
    return bytes(out)


def _fail(datagram: _Datagram) -> None:
    if not datagram.done:
        datagram.failed = "IP fragments of a datagram not completed in time"


def _nothing() -> None:
    return None


def redact_frames(reader: Reader, redactor: Redactor) -> ProblemLog:
    """Every frame of ``reader`` through ``redactor`` (closed at the end); what the reader
    found wrong with the capture itself (a file cut short)."""
    problems = ProblemLog()
    every: tuple[FrameWriter, ...] = (redactor,)
    route_frames(reader, lambda _: every, problems=problems)
    redactor.close()
    return problems
