"""The Decoder: link layer, IP, tunnels and transports, frame by frame.

Hot path: a SIP-only capture is mostly Ethernet, IPv4, UDP; that path is one unpack of the
headers and one call per layer, and nothing is copied until the UDP payload is cut out.

When a process reads only a part of a file (``defer`` is given), every frame that needs state
from other frames (a TCP segment, an IP fragment, an SCTP packet) is handed to ``defer`` whole
instead of decoded, so that one process can decode all of them, in order, with the state they
need; each frame is decoded exactly once either way.
Everything less common (VLAN tags, IPv6 extension headers, fragments, tunnels) takes the same
functions through ``_ethertype`` and ``_transport``, with a depth limit so that a crafted frame
cannot recurse forever.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from functools import partial

from sipdiag.capture import FrameHandler, linktypes
from sipdiag.network import Endpoint, Flow, PayloadSink, TcpSegmentSink, UdpSink, hep, tunnels
from sipdiag.network.fragments import FragmentReassembler
from sipdiag.network.sctp import SctpReassembler
from sipdiag.network.tcp import TcpReassembler
from sipdiag.problems import ProblemLog

ETH_IPV4, ETH_IPV6 = tunnels.IPV4, tunnels.IPV6
VLAN_TAGS = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6 = 1, 4, 6, 17, 41
IPPROTO_GRE, IPPROTO_ICMPV6, IPPROTO_SCTP = 47, 58, 132
IPV6_FRAGMENT = 44
IPV6_EXTENSIONS = frozenset({0, 43, 44, 51, 60, 135, 139, 140})
MAX_DEPTH = 8
MAX_ENDPOINTS = 1 << 16
NO_FRAMES: tuple[int, ...] = ()
Deferred = tuple[int, int, int, bytes, int]
"""A frame left for the process that reads the whole capture's stateful traffic:
(number, ts_ns, link type, bytes, original length)."""
_AF_IPV4 = frozenset({2})
_AF_IPV6 = frozenset({10, 24, 28, 30})
_TCP = struct.Struct(">HHI4xBB")
_FRAMED_LINKS = {
    linktypes.ETHERNET: (14, 12, "Ethernet"),
    linktypes.LINUX_SLL: (16, 14, "Linux cooked"),
    linktypes.LINUX_SLL2: (20, 0, "Linux cooked v2"),
}
"""Link type: (header size, where the ethertype is in it, name)."""
_ICMP_UNREACHABLE = {0: "network", 1: "host", 3: "port", 9: "prohibited", 10: "prohibited",
                     13: "prohibited"}
"""ICMP destination unreachable codes (RFC 792, RFC 1812 5.2.7.1)."""
_ICMPV6_UNREACHABLE = {0: "network", 1: "prohibited", 3: "host", 4: "port"}
"""ICMPv6 destination unreachable codes (RFC 4443 3.1)."""
_ETHERNET_IPV4_UDP = struct.Struct(">HBxHxxHxBxxIIHHH")
"""From byte 12 of an Ethernet frame: ethertype; IPv4 version/IHL, total length, flags and
fragment offset, protocol, addresses; UDP ports and length (if the IPv4 header has no options)."""


class Decoder:
    """A ``FrameSink`` that decodes frames down to transport payloads for a ``PayloadSink``."""

    def __init__(
        self,
        sink: PayloadSink,
        problems: ProblemLog,
        defer: Callable[[Deferred], None] | None = None,
        udp: UdpSink | None = None,
    ) -> None:
        self._sink = sink
        self._udp_sink = udp
        """Where UDP payloads that are not SIP go next (the media layer), if anywhere."""
        self._tcp_segment: Callable[[int, int, Flow, int, int], None] | None = (
            udp.tcp_segment if isinstance(udp, TcpSegmentSink) else None)
        """Told of each TCP segment, if it asks to be."""
        self._defer = defer
        """When reading part of a file: where frames that need state across parts go."""
        self._current: tuple[int, bytes, int, int, int] = (0, b"", 0, 0, 0)
        """The frame being decoded (link type, buffer, start, end, original length), kept for
        ``defer`` by the link handlers of every frame that leaves the common fast path."""
        self._datagram = sink.datagram
        self._problems = problems
        self.fragments = FragmentReassembler(problems)
        self.tcp = TcpReassembler(sink)
        self._sctp = SctpReassembler()
        self._endpoints: dict[int | tuple[bytes, int], Endpoint] = {}
        """Endpoints made so far, keyed by address << 16 | port (IPv4) or (address, port)."""

    def link_handler(self, linktype: int) -> FrameHandler:
        handlers: dict[int, FrameHandler] = {
            linktypes.ETHERNET: self._ethernet,
            linktypes.LINUX_SLL: partial(self._framed, linktypes.LINUX_SLL),
            linktypes.LINUX_SLL2: partial(self._framed, linktypes.LINUX_SLL2),
            linktypes.NULL: self._bsd_loopback,
            linktypes.LOOP: self._bsd_loopback,
            linktypes.RAW: self._raw_ip,
            linktypes.RAW_BSDOS: self._raw_ip,
            linktypes.RAW_OPENBSD: self._raw_ip,
            linktypes.IPV4: self._raw_ip,
            linktypes.IPV6: self._raw_ip,
        }
        return handlers.get(linktype) or partial(self._unsupported_link, linktype)

    def flush(self) -> None:
        """End of capture: report incomplete fragments, end every TCP stream."""
        self.fragments.flush()
        self.tcp.flush()

    # Link layer: each handler is called as (frame, ts, buf, start, end, orig_len).

    def _ethernet(
        self, frame: int, ts: int, buf: bytes, start: int, end: int, orig_len: int
    ) -> None:
        if end - start >= 42:
            # The common case first, read with one unpack: IPv4 without options, not a
            # fragment, carrying UDP. Anything else goes the general way below.
            fields = _ETHERNET_IPV4_UDP.unpack_from(buf, start + 12)
            ethertype, version, total, fragment, protocol, src, dst, sport, dport, length = fields
            if (
                ethertype == ETH_IPV4
                and version == 0x45
                and protocol == IPPROTO_UDP
                and not fragment & 0x3FFF
                and total >= 28
                and length >= 8  # 0 (left to offload) reads to the end of IP: the general way
            ):
                endpoints = self._endpoints
                source = endpoints.get(src << 16 | sport) or self._endpoint(src, sport)
                destination = endpoints.get(dst << 16 | dport) or self._endpoint(dst, dport)
                udp_end = start + 34 + length
                stop = min(udp_end, start + 14 + total, end)
                payload = buf[start + 42 : stop]
                if self._datagram("UDP", frame, ts, source, destination, payload, NO_FRAMES):
                    if udp_end > stop:
                        self._cut_short(frame, udp_end - start - 42, len(payload))
                elif payload and (
                    self._udp_sink is None
                    or not self._udp_sink.datagram(frame, ts, source, destination, payload)
                ):
                    self._current = (linktypes.ETHERNET, buf, start, end, orig_len)  # for defer
                    self._udp_tunnel(frame, ts, sport, dport, payload, 0)
                return
        self._framed(linktypes.ETHERNET, frame, ts, buf, start, end, orig_len)

    def _framed(
        self, linktype: int, frame: int, ts: int, buf: bytes, start: int, end: int, orig_len: int
    ) -> None:
        """A link layer with a fixed-size header that names the ethertype of what follows."""
        self._current = (linktype, buf, start, end, orig_len)
        size, type_at, name = _FRAMED_LINKS[linktype]
        if end - start < size:
            self._problems.add("link_bad_header", frame, f"{name} frame shorter than its header")
            return
        ethertype = buf[start + type_at] << 8 | buf[start + type_at + 1]
        self._ethertype(ethertype, frame, ts, buf, start + size, end, 0)

    def _bsd_loopback(
        self, frame: int, ts: int, buf: bytes, start: int, end: int, orig_len: int
    ) -> None:
        """NULL/LOOP: a 4-byte address family, in whichever byte order the writer used."""
        self._current = (linktypes.NULL, buf, start, end, orig_len)
        if end - start < 4:
            self._problems.add("link_bad_header", frame, "loopback frame shorter than its header")
            return
        family = int.from_bytes(buf[start : start + 4], "little")
        if family > 0xFFFF:
            family = int.from_bytes(buf[start : start + 4], "big")
        if family in _AF_IPV4:
            self._ipv4(frame, ts, buf, start + 4, end, 0)
        elif family in _AF_IPV6:
            self._ipv6(frame, ts, buf, start + 4, end, 0)

    def _raw_ip(self, frame: int, ts: int, buf: bytes, start: int, end: int, orig_len: int) -> None:
        self._current = (linktypes.RAW, buf, start, end, orig_len)
        inner = tunnels.ip_by_version(buf, start) if end > start else None
        if inner is None:
            self._problems.add("ip_bad_header", frame, "raw IP frame with no IP version 4 or 6")
            return
        self._ethertype(inner[0], frame, ts, buf, start, end, 0)

    def _unsupported_link(
        self, linktype: int, frame: int, ts: int, buf: bytes, start: int, end: int, _: int
    ) -> None:
        self._problems.add(
            "link_unsupported", frame, f"frames of {linktypes.name(linktype)} cannot be decoded"
        )

    # Ethertypes, IP and tunnels.

    def _ethertype(
        self, ethertype: int, frame: int, ts: int, buf: bytes, off: int, end: int, depth: int
    ) -> None:
        while ethertype in VLAN_TAGS and off + 4 <= end:
            ethertype, off = buf[off + 2] << 8 | buf[off + 3], off + 4
        if ethertype == ETH_IPV4:
            self._ipv4(frame, ts, buf, off, end, depth)
        elif ethertype == ETH_IPV6:
            self._ipv6(frame, ts, buf, off, end, depth)
        elif depth >= MAX_DEPTH:
            self._problems.add("tunnel_too_deep", frame, f"more than {MAX_DEPTH} encapsulations")
        elif ethertype == tunnels.TRANSPARENT_ETHERNET:
            if end - off >= 14:
                inner_type = buf[off + 12] << 8 | buf[off + 13]
                self._ethertype(inner_type, frame, ts, buf, off + 14, end, depth + 1)
        elif ethertype in (tunnels.MPLS_UNICAST, tunnels.MPLS_MULTICAST):
            self._tunnel(tunnels.mpls, frame, ts, buf, off, end, depth)
        elif ethertype == tunnels.PPPOE_SESSION:
            self._tunnel(tunnels.pppoe, frame, ts, buf, off, end, depth)

    def _tunnel(
        self,
        decapsulate: Callable[[bytes, int, int], tuple[int, int] | None],
        frame: int,
        ts: int,
        buf: bytes,
        off: int,
        end: int,
        depth: int,
    ) -> None:
        inner = decapsulate(buf, off, end)
        if inner is not None:
            self._ethertype(inner[0], frame, ts, buf, inner[1], end, depth + 1)

    def _ipv4(self, frame: int, ts: int, buf: bytes, off: int, end: int, depth: int) -> None:
        if end - off < 20 or buf[off] >> 4 != 4 or buf[off] & 15 < 5:
            self._problems.add("ip_bad_header", frame, "IPv4 header too short or not version 4")
            return
        header = (buf[off] & 15) << 2
        total = buf[off + 2] << 8 | buf[off + 3]
        ip_end = off + total
        if ip_end > end or total == 0:  # cut by the snapshot length, or left to TSO to fill in
            ip_end = end
        elif total < header:
            self._problems.add("ip_bad_header", frame, f"IPv4 total length {total} < header")
            return
        protocol = buf[off + 9]
        src, dst = buf[off + 12 : off + 16], buf[off + 16 : off + 20]
        if buf[off + 6] & 0x3F or buf[off + 7]:  # MF flag or a fragment offset
            offset = ((buf[off + 6] & 0x1F) << 8 | buf[off + 7]) * 8
            key = (src, dst, protocol, buf[off + 4 : off + 6])
            data = buf[off + header : ip_end]
            self._fragment(key, offset, bool(buf[off + 6] & 0x20), data, protocol, frame, ts, depth)
        elif protocol == IPPROTO_UDP:
            self._udp(frame, ts, src, dst, buf, off + header, ip_end, depth, NO_FRAMES)
        else:
            self._transport(
                protocol, frame, ts, src, dst, buf, off + header, ip_end, depth, NO_FRAMES
            )

    def _ipv6(self, frame: int, ts: int, buf: bytes, off: int, end: int, depth: int) -> None:
        if end - off < 40 or buf[off] >> 4 != 6:
            self._problems.add("ip_bad_header", frame, "IPv6 header too short or not version 6")
            return
        length = buf[off + 4] << 8 | buf[off + 5]
        ip_end = min(off + 40 + length, end) if length else end
        header, src, dst = buf[off + 6], buf[off + 8 : off + 24], buf[off + 24 : off + 40]
        pos = off + 40
        while header in IPV6_EXTENSIONS and pos + 8 <= ip_end:
            if header == IPV6_FRAGMENT:
                offset = (buf[pos + 2] << 8 | buf[pos + 3]) & 0xFFF8
                more = bool(buf[pos + 3] & 1)
                if offset or more:
                    key = (src, dst, buf[pos], buf[pos + 4 : pos + 8])
                    data = buf[pos + 8 : ip_end]
                    self._fragment(key, offset, more, data, buf[pos], frame, ts, depth)
                    return
                header, pos = buf[pos], pos + 8  # an atomic fragment: nothing to reassemble
            elif header == 51:  # AH counts its length in 4-byte units, minus 2
                header, pos = buf[pos], pos + (buf[pos + 1] + 2) * 4
            else:
                header, pos = buf[pos], pos + (buf[pos + 1] + 1) * 8
        self._transport(header, frame, ts, src, dst, buf, pos, ip_end, depth, NO_FRAMES)

    def _fragment(
        self,
        key: tuple[object, ...],
        offset: int,
        more: bool,
        data: bytes,
        protocol: int,
        frame: int,
        ts: int,
        depth: int,
    ) -> None:
        if self._defer is not None:
            self._defer_frame(frame, ts)
            return
        whole = self.fragments.add(key, offset, more, data, frame, ts)
        if whole is not None:
            payload, frames = whole
            src, dst = key[0], key[1]
            assert isinstance(src, bytes) and isinstance(dst, bytes)
            self._transport(protocol, frame, ts, src, dst, payload, 0, len(payload), depth, frames)

    def _transport(
        self,
        protocol: int,
        frame: int,
        ts: int,
        src: bytes,
        dst: bytes,
        buf: bytes,
        off: int,
        end: int,
        depth: int,
        frames: tuple[int, ...],
    ) -> None:
        if protocol == IPPROTO_UDP:
            self._udp(frame, ts, src, dst, buf, off, end, depth, frames)
        elif protocol == IPPROTO_TCP:
            self._tcp(frame, ts, src, dst, buf, off, end)
        elif protocol == IPPROTO_SCTP:
            self._sctp_packet(frame, ts, src, dst, buf, off, end)
        elif protocol in (IPPROTO_ICMP, IPPROTO_ICMPV6):
            if self._udp_sink is not None:
                self._icmp(protocol == IPPROTO_ICMPV6, frame, ts, src, buf, off, end)
        elif depth >= MAX_DEPTH:
            self._problems.add("tunnel_too_deep", frame, f"more than {MAX_DEPTH} encapsulations")
        elif protocol == IPPROTO_IPIP:
            self._ipv4(frame, ts, buf, off, end, depth + 1)
        elif protocol == IPPROTO_IPV6:
            self._ipv6(frame, ts, buf, off, end, depth + 1)
        elif protocol == IPPROTO_GRE:
            self._tunnel(tunnels.gre, frame, ts, buf, off, end, depth)

    # Transports.

    def _udp(
        self,
        frame: int,
        ts: int,
        src: bytes,
        dst: bytes,
        buf: bytes,
        off: int,
        end: int,
        depth: int,
        frames: tuple[int, ...],
    ) -> None:
        if end - off < 8:
            self._problems.add("udp_bad_header", frame, "UDP header cut short")
            return
        sport, dport = buf[off] << 8 | buf[off + 1], buf[off + 2] << 8 | buf[off + 3]
        length = buf[off + 4] << 8 | buf[off + 5]
        source, destination = self._endpoint(src, sport), self._endpoint(dst, dport)
        udp_end = off + length if length >= 8 else end  # 0: a jumbogram, or left to offload
        self._udp_payload(
            frame, ts, source, destination, buf, off + 8, min(udp_end, end), udp_end, depth, frames
        )

    def _udp_payload(
        self,
        frame: int,
        ts: int,
        source: Endpoint,
        destination: Endpoint,
        buf: bytes,
        start: int,
        end: int,
        udp_end: int,
        depth: int,
        frames: tuple[int, ...],
    ) -> None:
        """Hand a UDP payload to the sink; if it is not SIP, look for a tunnel inside."""
        payload = buf[start:end]
        if self._datagram("UDP", frame, ts, source, destination, payload, frames):
            if udp_end > end:
                self._cut_short(frame, udp_end - start, len(payload))
        elif not payload or (
            self._udp_sink is not None
            and self._udp_sink.datagram(frame, ts, source, destination, payload)
        ):
            return
        elif depth < MAX_DEPTH:
            self._udp_tunnel(frame, ts, source.port, destination.port, payload, depth)

    def _cut_short(self, frame: int, length: int, captured: int) -> None:
        self._problems.add(
            "sip_cut_short",
            frame,
            f"UDP datagram of {length} bytes captured only up to {captured} bytes "
            "(snapshot length)",
        )

    def _udp_tunnel(
        self, frame: int, ts: int, sport: int, dport: int, payload: bytes, depth: int
    ) -> None:
        if tunnels.VXLAN_PORT in (sport, dport):
            self._tunnel(tunnels.vxlan, frame, ts, payload, 0, len(payload), depth)
        elif tunnels.GTP_U_PORT in (sport, dport):
            self._tunnel(tunnels.gtp_user, frame, ts, payload, 0, len(payload), depth)
        elif hep.looks_like_hep(payload):
            self._hep(frame, ts, payload)

    def _hep(self, frame: int, ts: int, payload: bytes) -> None:
        try:
            packet = hep.decode(payload)
        except hep.HepError as exc:
            self._problems.add("hep_bad_packet", frame, str(exc))
            return
        if packet is not None:
            self._datagram(
                packet.transport, frame, ts, packet.src, packet.dst, packet.payload, NO_FRAMES
            )

    def _tcp(
        self, frame: int, ts: int, src: bytes, dst: bytes, buf: bytes, off: int, end: int
    ) -> None:
        if self._defer is not None:
            self._defer_frame(frame, ts)
            return
        if end - off < 20:
            self._problems.add("tcp_bad_header", frame, "TCP header cut short")
            return
        sport, dport, seq, offset, flags = _TCP.unpack_from(buf, off)
        header = (offset >> 4) * 4
        if header < 20:
            self._problems.add("tcp_bad_header", frame, f"TCP data offset {header} < 20")
            return
        flow = Flow(self._endpoint(src, sport), self._endpoint(dst, dport))
        if self._tcp_segment is not None:
            self._tcp_segment(frame, ts, flow, flags, end - off - header)
        self.tcp.segment(frame, ts, flow, seq, flags, buf[off + header : end])

    def _sctp_packet(
        self, frame: int, ts: int, src: bytes, dst: bytes, buf: bytes, off: int, end: int
    ) -> None:
        if self._defer is not None:
            self._defer_frame(frame, ts)
            return
        if end - off < 12:
            self._problems.add("sctp_bad_header", frame, "SCTP common header cut short")
            return
        flow = Flow(
            self._endpoint(src, buf[off] << 8 | buf[off + 1]),
            self._endpoint(dst, buf[off + 2] << 8 | buf[off + 3]),
        )
        for message, frames in self._sctp.packet(flow, buf, off, end, frame):
            self._datagram("SCTP", frame, ts, flow.src, flow.dst, message, frames)

    def _icmp(
        self, v6: bool, frame: int, ts: int, reporter: bytes, buf: bytes, off: int, end: int
    ) -> None:
        """A destination unreachable that quotes a UDP packet: the IP header and the first 8
        bytes of what it carried (RFC 792; RFC 4443 3.1). Anything else of ICMP is ignored."""
        assert self._udp_sink is not None
        if end - off < 8 or buf[off] != (1 if v6 else 3):
            return
        reason = (_ICMPV6_UNREACHABLE if v6 else _ICMP_UNREACHABLE).get(buf[off + 1], "other")
        inner = off + 8
        if v6 and end - inner >= 48 and buf[inner + 6] == IPPROTO_UDP:
            src, dst, udp = buf[inner + 8 : inner + 24], buf[inner + 24 : inner + 40], inner + 40
        elif not v6 and end - inner >= 28 and buf[inner + 9] == IPPROTO_UDP:
            udp = inner + (buf[inner] & 15) * 4
            src, dst = buf[inner + 12 : inner + 16], buf[inner + 16 : inner + 20]
            if end - udp < 4:
                return
        else:
            return
        sport, dport = buf[udp] << 8 | buf[udp + 1], buf[udp + 2] << 8 | buf[udp + 3]
        self._udp_sink.unreachable(
            frame, ts, str(ipaddress.ip_address(reporter)), self._endpoint(src, sport),
            self._endpoint(dst, dport), reason)

    def _defer_frame(self, frame: int, ts: int) -> None:
        """Leave the frame to the process that reads all stateful traffic (TCP, fragments)."""
        assert self._defer is not None
        linktype, buf, start, end, orig_len = self._current
        self._defer((frame, ts, linktype, buf[start:end], orig_len))

    def _endpoint(self, address: bytes | int, port: int) -> Endpoint:
        """The Endpoint for an address and port, made once and shared."""
        if isinstance(address, bytes) and len(address) == 4:
            address = int.from_bytes(address, "big")
        key: int | tuple[bytes, int] = (
            address << 16 | port if isinstance(address, int) else (address, port)
        )
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            if len(self._endpoints) >= MAX_ENDPOINTS:
                self._endpoints.clear()
            endpoint = self._endpoints[key] = Endpoint(str(ipaddress.ip_address(address)), port)
        return endpoint
