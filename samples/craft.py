#!/usr/bin/env python3
"""Craft the transport edge-case captures of samples/transport/.

Every capture carries a small, realistic SIP call (INVITE with SDP, 180,
200 with SDP, ACK, BYE, 200) unless its description says otherwise, and
exercises one way in which SIP can be hard to get out of a capture file:
IP fragments, TCP reassembly, unusual link types, pcap variants, pcapng
with several interfaces and sections, compressed and truncated files, odd
ports, compact and folded headers, malformed messages.

Output is deterministic: fixed addresses from the documentation ranges
(192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32, MAC 00:00:5e:00:53:xx),
fixed timestamps, fixed Call-IDs, tags and branches, so running the
script again gives byte-identical files.

Packets are built with scapy (headers, checksums, fragmentation); plain
pcap files are written with scapy's PcapWriter with an explicit link
type, and the files whose layout must be controlled exactly (nanosecond
magic, big-endian, gzip, truncated, pcapng with two link types and two
sections) are written with struct.

Usage:  python3 samples/craft.py [--out DIR] [--check] [--list]
  --check  regenerate into a temporary directory and compare with DIR
  --list   print each file name with what it exercises

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import struct
import sys
import tempfile
from dataclasses import dataclass, field

from scapy.config import conf
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw
from scapy.utils import PcapWriter

conf.verb = 0

# --------------------------------------------------------------------------
# Fixed parameters

T0_US = 1_700_000_000 * 1_000_000  # 2023-11-14 22:13:20 UTC, in microseconds

ALICE_V4 = "192.0.2.10"
BOB_V4 = "198.51.100.20"
PROXY_V4 = "198.51.100.1"
ALICE_V6 = "2001:db8::10"
BOB_V6 = "2001:db8:1::20"
ALICE_MAC = "00:00:5e:00:53:0a"
BOB_MAC = "00:00:5e:00:53:14"

# link types
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

CRLF = "\r\n"


def hexid(*parts: str, n: int = 10) -> str:
    """Deterministic pseudo-random hex string derived from parts."""
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:n]


# --------------------------------------------------------------------------
# SIP message text


def sdp(user: str, addr: str, port: int, sess: int, extra_lines: int = 0) -> str:
    """An SDP offer/answer for G.711 + telephone-event."""
    ipver = "IP6" if ":" in addr else "IP4"
    lines = [
        "v=0",
        f"o={user} {sess} {sess} IN {ipver} {addr}",
        "s=-",
        f"c=IN {ipver} {addr}",
        "t=0 0",
        f"m=audio {port} RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
    ]
    # padding used to make a large INVITE: plausible (if verbose) SDP
    # attributes, as some endpoints send crypto / ICE candidate lists
    lines.extend(
        f"a=candidate:{i + 1} 1 UDP {2130706431 - i} {addr} {port + 2 * i} typ host"
        f" generation 0 network-id {i + 1} network-cost 10"
        for i in range(extra_lines)
    )
    lines.append("a=sendrecv")
    return CRLF.join(lines) + CRLF


def sip_message(
    first_line: str, headers: list[tuple[str, str]], body: str = "", content_type: str | None = None
) -> bytes:
    """Build a SIP message with a correct Content-Length."""
    hdrs = list(headers)
    if body:
        hdrs.append(("Content-Type", content_type or "application/sdp"))
    hdrs.append(("Content-Length", str(len(body.encode()))))
    text = first_line + CRLF + "".join(f"{k}: {v}{CRLF}" for k, v in hdrs) + CRLF + body
    return text.encode()


def hostport(host: str, port: int) -> str:
    h = f"[{host}]" if ":" in host else host
    return h if port == 5060 else f"{h}:{port}"


@dataclass
class Msg:
    """One SIP message of a dialogue: who sends it, when, and its bytes."""

    src: str  # "A" (caller) or "B" (callee)
    t_us: int  # offset from the start of the call, microseconds
    data: bytes
    label: str  # "INVITE", "180", ...


@dataclass
class Call:
    name: str
    a_host: str = ALICE_V4
    b_host: str = BOB_V4
    a_port: int = 5060
    b_port: int = 5060
    transport: str = "UDP"
    sdp_padding: int = 0  # extra SDP lines in the INVITE
    call_id: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.call_id:
            self.call_id = f"{hexid(self.name, 'cid', n=16)}@{hostport(self.a_host, 5060)}"
        self.from_tag = hexid(self.name, "from", n=8)
        self.to_tag = hexid(self.name, "to", n=8)

    def branch(self, what: str) -> str:
        return "z9hG4bK" + hexid(self.name, "branch", what, n=12)

    def messages(self) -> list[Msg]:
        """INVITE, 180, 200, ACK, BYE, 200 of a basic call."""
        a = hostport(self.a_host, self.a_port)
        b = hostport(self.b_host, self.b_port)
        tp = self.transport
        tparam = "" if tp == "UDP" else f";transport={tp.lower()}"
        via_a_inv = f"SIP/2.0/{tp} {a};branch={self.branch('invite')};rport"
        via_a_ack = f"SIP/2.0/{tp} {a};branch={self.branch('ack')};rport"
        via_a_bye = f"SIP/2.0/{tp} {a};branch={self.branch('bye')};rport"
        frm = f'"Alice" <sip:alice@{hostport(self.a_host, 5060)}>;tag={self.from_tag}'
        to = f"<sip:bob@{hostport(self.b_host, 5060)}>"
        to_t = f"{to};tag={self.to_tag}"
        c_a = f"<sip:alice@{a}{tparam}>"
        c_b = f"<sip:bob@{b}{tparam}>"
        ruri = f"sip:bob@{hostport(self.b_host, 5060)}"
        target = f"sip:bob@{b}{tparam}"
        allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE"
        ua_a = "sipdiag-craft-alice/1.0"
        ua_b = "sipdiag-craft-bob/1.0"
        cid = self.call_id
        offer = sdp("alice", self.a_host, 49170, 2890844526, self.sdp_padding)
        answer = sdp("bob", self.b_host, 3456, 2890844527)

        invite = sip_message(
            f"INVITE {ruri} SIP/2.0",
            [
                ("Via", via_a_inv),
                ("Max-Forwards", "70"),
                ("From", frm),
                ("To", to),
                ("Call-ID", cid),
                ("CSeq", "1 INVITE"),
                ("Contact", c_a),
                ("Allow", allow),
                ("Supported", "replaces, timer"),
                ("User-Agent", ua_a),
            ],
            offer,
        )
        ringing = sip_message(
            "SIP/2.0 180 Ringing",
            [
                ("Via", via_a_inv),
                ("From", frm),
                ("To", to_t),
                ("Call-ID", cid),
                ("CSeq", "1 INVITE"),
                ("Contact", c_b),
                ("Server", ua_b),
            ],
        )
        ok = sip_message(
            "SIP/2.0 200 OK",
            [
                ("Via", via_a_inv),
                ("From", frm),
                ("To", to_t),
                ("Call-ID", cid),
                ("CSeq", "1 INVITE"),
                ("Contact", c_b),
                ("Allow", allow),
                ("Supported", "replaces, timer"),
                ("Server", ua_b),
            ],
            answer,
        )
        ack = sip_message(
            f"ACK {target} SIP/2.0",
            [
                ("Via", via_a_ack),
                ("Max-Forwards", "70"),
                ("From", frm),
                ("To", to_t),
                ("Call-ID", cid),
                ("CSeq", "1 ACK"),
                ("User-Agent", ua_a),
            ],
        )
        bye = sip_message(
            f"BYE {target} SIP/2.0",
            [
                ("Via", via_a_bye),
                ("Max-Forwards", "70"),
                ("From", frm),
                ("To", to_t),
                ("Call-ID", cid),
                ("CSeq", "2 BYE"),
                ("User-Agent", ua_a),
            ],
        )
        bye_ok = sip_message(
            "SIP/2.0 200 OK",
            [
                ("Via", via_a_bye),
                ("From", frm),
                ("To", to_t),
                ("Call-ID", cid),
                ("CSeq", "2 BYE"),
                ("Server", ua_b),
            ],
        )
        return [
            Msg("A", 0, invite, "INVITE"),
            Msg("B", 120_000, ringing, "180"),
            Msg("B", 2_480_000, ok, "200"),
            Msg("A", 2_495_000, ack, "ACK"),
            Msg("A", 6_500_000, bye, "BYE"),
            Msg("B", 6_512_000, bye_ok, "200"),
        ]


# --------------------------------------------------------------------------
# Packet building


class Net:
    """Builds IP/UDP/TCP packets for one caller/callee pair."""

    def __init__(self, call: Call, sport: int | None = None, dport: int | None = None):
        self.call = call
        self.sport = sport or call.a_port  # caller side port
        self.dport = dport or call.b_port  # callee side port
        self.ip_id = {"A": 0x3A10, "B": 0x7C20}

    def ip(self, src: str):
        a, b = self.call.a_host, self.call.b_host
        s, d = (a, b) if src == "A" else (b, a)
        if ":" in s:
            return IPv6(src=s, dst=d, hlim=64)
        self.ip_id[src] += 1
        return IP(src=s, dst=d, ttl=64, id=self.ip_id[src], flags="DF")

    def ports(self, src: str) -> tuple[int, int]:
        return (self.sport, self.dport) if src == "A" else (self.dport, self.sport)

    def udp(self, src: str, payload: bytes):
        sp, dp = self.ports(src)
        return self.ip(src) / UDP(sport=sp, dport=dp) / Raw(payload)


def ether(src: str, pkt, vlan: list[int] | None = None):
    """Ethernet II frame (optionally 802.1Q / QinQ tagged) around pkt."""
    s, d = (ALICE_MAC, BOB_MAC) if src == "A" else (BOB_MAC, ALICE_MAC)
    eth = Ether(src=s, dst=d)
    if vlan:
        if len(vlan) == 2:
            eth = Ether(src=s, dst=d, type=0x88A8) / Dot1AD(vlan=vlan[0]) / Dot1Q(vlan=vlan[1])
        else:
            eth = eth / Dot1Q(vlan=vlan[0])
    return eth / pkt


class Tcp:
    """A TCP connection between caller (A, client) and callee (B, server)."""

    def __init__(self, net: Net, isn_a: int, isn_b: int):
        self.net = net
        self.seq = {"A": isn_a, "B": isn_b}
        # window field after the handshake, scaled by 2**7 (WScale 7)
        self.win = {"A": 502, "B": 509}
        self.syn_win = {"A": 64240, "B": 65160}

    @staticmethod
    def other(src: str) -> str:
        return "B" if src == "A" else "A"

    def seg(
        self,
        src: str,
        flags: str,
        payload: bytes = b"",
        seq: int | None = None,
        ack: bool = True,
        options=None,
    ):
        sp, dp = self.net.ports(src)
        s = self.seq[src] if seq is None else seq
        a = self.seq[self.other(src)] if ack else 0
        win = self.syn_win[src] if "S" in flags else self.win[src]
        tcp = TCP(sport=sp, dport=dp, seq=s, ack=a, flags=flags, window=win, options=options or [])
        pkt = self.net.ip(src) / tcp
        if payload:
            pkt = pkt / Raw(payload)
        return pkt

    def handshake(self) -> list:
        mss = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
        syn = self.seg("A", "S", ack=False, options=mss)
        self.seq["A"] += 1
        synack = self.seg("B", "SA", options=mss)
        self.seq["B"] += 1
        ack = self.seg("A", "A")
        return [syn, synack, ack]

    def data(self, src: str, payload: bytes, advance: bool = True):
        pkt = self.seg(src, "PA", payload)
        if advance:
            self.seq[src] += len(payload)
        return pkt

    def ack(self, src: str):
        return self.seg(src, "A")

    def fin(self, src: str):
        pkt = self.seg(src, "FA")
        self.seq[src] += 1
        return pkt


# --------------------------------------------------------------------------
# Writers


def us_split(t_us: int) -> tuple[int, int]:
    return t_us // 1_000_000, t_us % 1_000_000


def write_pcap(path: str, linktype: int, frames: list[tuple[int, bytes]]) -> None:
    """Classic little-endian microsecond pcap, through scapy's PcapWriter."""
    w = PcapWriter(path, linktype=linktype, snaplen=65535, sync=True)
    w.linktype = linktype  # PcapWriter ignores a falsy linktype (LINKTYPE_NULL = 0)
    try:
        w.write_header(None)
        for t_us, data in frames:
            sec, usec = us_split(t_us)
            w.write_packet(bytes(data), sec=sec, usec=usec)
    finally:
        w.close()


def pcap_bytes(
    linktype: int,
    frames: list[tuple[int, bytes]],
    endian: str = "<",
    nano_frac: list[int] | None = None,
) -> bytes:
    """Classic pcap written with struct.

    endian '<' or '>'; if nano_frac is given, the file uses the nanosecond
    magic and nano_frac[i] is the sub-second part (ns) of frame i.
    """
    magic = 0xA1B23C4D if nano_frac is not None else 0xA1B2C3D4
    out = io.BytesIO()
    out.write(struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype))
    for i, (t_us, data) in enumerate(frames):
        data = bytes(data)
        sec, frac = us_split(t_us)
        if nano_frac is not None:
            frac = nano_frac[i]
        out.write(struct.pack(endian + "IIII", sec, frac, len(data), len(data)))
        out.write(data)
    return out.getvalue()


def pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def ng_option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + pad4(value)


def ng_block(btype: int, body: bytes) -> bytes:
    body = pad4(body)
    total = len(body) + 12
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def ng_shb(appl: str, comment: str) -> bytes:
    opts = ng_option(1, comment.encode()) + ng_option(4, appl.encode()) + ng_option(0, b"")
    body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opts
    return ng_block(0x0A0D0D0A, body)


def ng_idb(linktype: int, name: str, tsresol: int | None) -> bytes:
    opts = ng_option(2, name.encode())
    if tsresol is not None:
        opts += ng_option(9, bytes([tsresol]))
    opts += ng_option(0, b"")
    return ng_block(1, struct.pack("<HHI", linktype, 0, 0) + opts)


def ng_epb(if_id: int, ts_units: int, data: bytes, comment: str | None = None) -> bytes:
    data = bytes(data)
    body = struct.pack(
        "<IIIII", if_id, ts_units >> 32, ts_units & 0xFFFFFFFF, len(data), len(data)
    ) + pad4(data)
    if comment:
        body += ng_option(1, comment.encode()) + ng_option(0, b"")
    return ng_block(6, body)


# --------------------------------------------------------------------------
# The captures

OUT = "transport"
CRAFTED: dict[str, str] = {}  # file name -> description (for --list)


def crafted(fname: str, desc: str):
    def deco(fn):
        CRAFTED[fname] = desc
        fn.fname = fname
        return fn

    return deco


def udp_call_frames(call: Call, link, net: Net | None = None, t0: int = T0_US):
    """(time, frame) for each message of call over UDP, framed by link()."""
    net = net or Net(call)
    return [(t0 + m.t_us, link(m.src, net.udp(m.src, m.data))) for m in call.messages()]


def eth_link(src, pkt):
    return ether(src, pkt)


@crafted("ip-fragments.pcap", "UDP/IPv4 call whose ~3000-byte INVITE is split into 3 IP fragments")
def ip_fragments(path: str) -> None:
    call = Call("ip-fragments", sdp_padding=24)
    net = Net(call)
    frames = []
    for m in call.messages():
        t = T0_US + m.t_us
        pkt = net.udp(m.src, m.data)
        if m.label == "INVITE":
            assert 2800 <= len(m.data) <= 3400, len(m.data)
            pkt[IP].flags = 0  # fragmentable
            frags = fragment(pkt, fragsize=1200)
            assert len(frags) == 3
            for i, f in enumerate(frags):
                frames.append((t + i * 15, ether(m.src, f)))
        else:
            frames.append((t, ether(m.src, pkt)))
    write_pcap(path, LINKTYPE_ETHERNET, frames)


@crafted(
    "ipv6-fragments.pcap",
    "UDP/IPv6 call whose ~3000-byte INVITE is split with a Fragment extension header",
)
def ipv6_fragments(path: str) -> None:
    call = Call("ipv6-fragments", a_host=ALICE_V6, b_host=BOB_V6, sdp_padding=24)
    net = Net(call)
    frames = []
    for m in call.messages():
        t = T0_US + m.t_us
        pkt = net.udp(m.src, m.data)
        if m.label == "INVITE":
            pkt = (
                IPv6(src=pkt[IPv6].src, dst=pkt[IPv6].dst, hlim=64)
                / IPv6ExtHdrFragment(id=0x5D1A0001)
                / pkt[UDP]
            )
            frags = fragment6(pkt, 1280)
            assert len(frags) == 3, len(frags)
            for i, f in enumerate(frags):
                frames.append((t + i * 15, ether(m.src, f)))
        else:
            frames.append((t, ether(m.src, pkt)))
    write_pcap(path, LINKTYPE_ETHERNET, frames)


def split3(data: bytes) -> list[bytes]:
    n = len(data) // 3
    return [data[:n], data[n : 2 * n], data[2 * n :]]


@crafted(
    "tcp-out-of-order.pcap",
    "SIP over TCP: INVITE in 3 segments sent out of order (2nd first), one segment retransmitted",
)
def tcp_out_of_order(path: str) -> None:
    call = Call("tcp-out-of-order", transport="TCP", a_port=50412)
    net = Net(call, sport=50412, dport=5060)
    tcp = Tcp(net, isn_a=1_000_000_000, isn_b=3_000_000_000)
    frames = []
    t = T0_US - 30_000

    def add(pkt, dt=0):
        nonlocal t
        t += dt
        frames.append((t, ether("A" if pkt.sport == 50412 else "B", pkt)))

    for p in tcp.handshake():
        add(p, 150)
    for m in call.messages():
        t = max(t, T0_US + m.t_us)
        if m.label == "INVITE":
            parts = split3(m.data)
            base = tcp.seq["A"]
            offs = [0, len(parts[0]), len(parts[0]) + len(parts[1])]
            s1 = tcp.seg("A", "A", parts[0], seq=base + offs[0])
            s2 = tcp.seg("A", "A", parts[1], seq=base + offs[1])
            s3 = tcp.seg("A", "PA", parts[2], seq=base + offs[2])
            add(s2, 0)  # 2nd segment overtakes the 1st
            add(s1, 40)
            add(s3, 40)
            tcp.seq["A"] += len(m.data)
            add(tcp.ack("B"), 60)
        elif m.label == "ACK":
            # the ACK request is sent, then retransmitted at the TCP level
            # (same sequence number, same bytes), as after a lost TCP ACK
            seq = tcp.seq["A"]
            add(tcp.data("A", m.data), 0)
            add(tcp.seg("A", "PA", m.data, seq=seq), 210_000)
            add(tcp.ack("B"), 40)
        else:
            add(tcp.data(m.src, m.data), 0)
            add(tcp.ack(Tcp.other(m.src)), 60)
    add(tcp.fin("A"), 500_000)
    add(tcp.fin("B"), 80)
    add(tcp.ack("A"), 40)
    write_pcap(path, LINKTYPE_ETHERNET, frames)


@crafted(
    "tcp-split-and-coalesced.pcap",
    "SIP over TCP: the INVITE spread over 40-byte segments; the 180 and 200 "
    "carried back to back in one segment",
)
def tcp_split_and_coalesced(path: str) -> None:
    call = Call("tcp-split-and-coalesced", transport="TCP", a_port=50414)
    net = Net(call, sport=50414, dport=5060)
    tcp = Tcp(net, isn_a=2_000_000_000, isn_b=4_000_000_000)
    msgs = call.messages()
    frames = []
    t = T0_US - 30_000

    def add(src, pkt, dt=0):
        nonlocal t
        t += dt
        frames.append((t, ether(src, pkt)))

    for i, p in enumerate(tcp.handshake()):
        add("A" if i != 1 else "B", p, 150)
    invite = msgs[0].data
    t = T0_US
    for i in range(0, len(invite), 40):
        chunk = invite[i : i + 40]
        add("A", tcp.data("A", chunk), 20 if i else 0)
    add("B", tcp.ack("B"), 40)
    # 180 and 200 coalesced into one segment (e.g. Nagle / a busy sender)
    t = T0_US + msgs[2].t_us
    add("B", tcp.data("B", msgs[1].data + msgs[2].data))
    add("A", tcp.ack("A"), 40)
    for m in msgs[3:]:
        t = max(t, T0_US + m.t_us)
        add(m.src, tcp.data(m.src, m.data))
        add(Tcp.other(m.src), tcp.ack(Tcp.other(m.src)), 50)
    write_pcap(path, LINKTYPE_ETHERNET, frames)


@crafted(
    "tcp-midstream.pcap",
    "SIP over TCP captured mid-connection: no SYN, first segment is the tail "
    "of an earlier message, then a complete call",
)
def tcp_midstream(path: str) -> None:
    call = Call("tcp-midstream", transport="TCP", a_port=50416)
    net = Net(call, sport=50416, dport=5060)
    tcp = Tcp(net, isn_a=123_456_789, isn_b=987_654_321)
    # an earlier keep-alive OPTIONS answered by bob: we only see its tail
    a, b = hostport(ALICE_V4, 50416), hostport(BOB_V4, 5060)
    earlier = sip_message(
        "SIP/2.0 200 OK",
        [
            ("Via", f"SIP/2.0/TCP {a};branch={call.branch('options')};rport=50416"),
            ("From", f"<sip:alice@{ALICE_V4}>;tag={hexid('mid', 'opt-from', n=8)}"),
            ("To", f"<sip:bob@{BOB_V4}>;tag={hexid('mid', 'opt-to', n=8)}"),
            ("Call-ID", f"{hexid('tcp-midstream', 'options', n=16)}@{ALICE_V4}"),
            ("CSeq", "1 OPTIONS"),
            ("Contact", f"<sip:bob@{b};transport=tcp>"),
            ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE"),
            ("Accept", "application/sdp"),
            ("Server", "sipdiag-craft-bob/1.0"),
        ],
    )
    tail = earlier[len(earlier) - 140 :]
    frames = []
    t = T0_US - 1_500_000
    frames.append((t, ether("B", tcp.data("B", tail))))
    frames.append((t + 45, ether("A", tcp.ack("A"))))
    for m in call.messages():
        t = T0_US + m.t_us
        frames.append((t, ether(m.src, tcp.data(m.src, m.data))))
        o = Tcp.other(m.src)
        frames.append((t + 50, ether(o, tcp.ack(o))))
    write_pcap(path, LINKTYPE_ETHERNET, frames)


@crafted(
    "vlan-qinq.pcap",
    "UDP call on Ethernet: requests with an 802.1Q tag (VLAN 100), responses "
    "with QinQ (0x88a8 S-tag 300 + 0x8100 C-tag 100)",
)
def vlan_qinq(path: str) -> None:
    call = Call("vlan-qinq")

    def link(src, pkt):
        return ether(src, pkt, vlan=[100] if src == "A" else [300, 100])

    write_pcap(path, LINKTYPE_ETHERNET, udp_call_frames(call, link))


@crafted(
    "linux-cooked.pcap",
    "UDP call in Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113), as from tcpdump -i any",
)
def linux_cooked(path: str) -> None:
    call = Call("linux-cooked")

    def link(src, pkt):
        # captured on alice's host: her packets are outgoing (4), bob's are
        # unicast to us (0)
        mac = ALICE_MAC if src == "A" else BOB_MAC
        sll = CookedLinux(
            pkttype=4 if src == "A" else 0,
            lladdrtype=1,
            lladdrlen=6,
            src=bytes.fromhex(mac.replace(":", "")) + b"\0\0",
            proto=0x0800,
        )
        return sll / pkt

    write_pcap(path, LINKTYPE_LINUX_SLL, udp_call_frames(call, link))


@crafted("linux-cooked-v2.pcap", "UDP call in Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276)")
def linux_cooked_v2(path: str) -> None:
    call = Call("linux-cooked-v2")

    def link(src, pkt):
        mac = ALICE_MAC if src == "A" else BOB_MAC
        sll2 = CookedLinuxV2(
            proto=0x0800,
            ifindex=2,
            lladdrtype=1,
            pkttype=4 if src == "A" else 0,
            lladdrlen=6,
            src=bytes.fromhex(mac.replace(":", "")) + b"\0\0",
        )
        return sll2 / pkt

    write_pcap(path, LINKTYPE_LINUX_SLL2, udp_call_frames(call, link))


@crafted(
    "bsd-loopback.pcap",
    "UDP call on a BSD loopback interface (LINKTYPE_NULL, 0): 4-byte address "
    "family (AF_INET = 2) in host (little-endian) byte order",
)
def bsd_loopback(path: str) -> None:
    call = Call("bsd-loopback")

    def link(_src, pkt):
        return struct.pack("<I", 2) + bytes(pkt)

    write_pcap(path, LINKTYPE_NULL, udp_call_frames(call, link))


@crafted("raw-ip.pcap", "Raw IP (LINKTYPE_RAW, 101) mixing IPv4 and IPv6: one call over each")
def raw_ip(path: str) -> None:
    c4 = Call("raw-ip-v4")
    c6 = Call("raw-ip-v6", a_host=ALICE_V6, b_host=BOB_V6)

    def link(_src, pkt):
        return pkt

    frames = udp_call_frames(c4, link) + udp_call_frames(c6, link, t0=T0_US + 1_000_000)
    frames.sort(key=lambda f: f[0])
    write_pcap(path, LINKTYPE_RAW, frames)


@crafted(
    "two-interfaces.pcapng",
    "pcapng: section 1 has interface 0 (Ethernet, microseconds) and interface 1 "
    "(Linux SLL, nanoseconds, if_tsresol=9), the call's messages alternate "
    "between them; a second section (new SHB + IDB, raw IP) carries the BYE "
    "and its 200",
)
def two_interfaces(path: str) -> None:
    call = Call("two-interfaces")
    net = Net(call)
    msgs = call.messages()
    out = io.BytesIO()
    out.write(ng_shb("sipdiag samples/craft.py", "section 1: two interfaces"))
    out.write(ng_idb(LINKTYPE_ETHERNET, "eth0", None))
    out.write(ng_idb(LINKTYPE_LINUX_SLL, "any", 9))
    for i, m in enumerate(msgs[:4]):
        pkt = net.udp(m.src, m.data)
        t_us = T0_US + m.t_us
        if i % 2 == 0:
            out.write(ng_epb(0, t_us, ether(m.src, pkt)))
        else:
            mac = ALICE_MAC if m.src == "A" else BOB_MAC
            sll = (
                CookedLinux(
                    pkttype=4 if m.src == "A" else 0,
                    lladdrtype=1,
                    lladdrlen=6,
                    src=bytes.fromhex(mac.replace(":", "")) + b"\0\0",
                    proto=0x0800,
                )
                / pkt
            )
            # nanosecond interface: add a sub-microsecond part
            out.write(ng_epb(1, t_us * 1000 + 321, sll))
    out.write(ng_shb("sipdiag samples/craft.py", "section 2: capture restarted"))
    out.write(ng_idb(LINKTYPE_RAW, "tun0", 6))
    for m in msgs[4:]:
        out.write(
            ng_epb(0, T0_US + m.t_us, net.udp(m.src, m.data), comment=f"{m.label} in section 2")
        )
    with open(path, "wb") as f:
        f.write(out.getvalue())


@crafted("nanosecond.pcap", "pcap with the nanosecond magic (0xa1b23c4d) and non-zero nanoseconds")
def nanosecond(path: str) -> None:
    call = Call("nanosecond")
    frames = udp_call_frames(call, eth_link)
    nanos = [(t % 1_000_000) * 1000 + 123 + 111 * i for i, (t, _) in enumerate(frames)]
    with open(path, "wb") as f:
        f.write(pcap_bytes(LINKTYPE_ETHERNET, frames, nano_frac=nanos))


@crafted(
    "big-endian.pcap",
    "pcap written big-endian (magic a1b2c3d4 stored as a1 b2 c3 d4), as by a big-endian host",
)
def big_endian(path: str) -> None:
    call = Call("big-endian")
    with open(path, "wb") as f:
        f.write(pcap_bytes(LINKTYPE_ETHERNET, udp_call_frames(call, eth_link), endian=">"))


@crafted("gzip-call.pcap.gz", "gzip-compressed plain pcap of a UDP call")
def gzip_call(path: str) -> None:
    call = Call("gzip-call")
    raw = pcap_bytes(LINKTYPE_ETHERNET, udp_call_frames(call, eth_link))
    buf = io.BytesIO()
    # fixed mtime and no file name in the header: byte-identical output
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(raw)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


@crafted(
    "truncated.pcap",
    "UDP call pcap cut in the middle of the 5th record (4 complete frames "
    "remain), as when a capture is copied while still being written",
)
def truncated(path: str) -> None:
    call = Call("truncated")
    raw = pcap_bytes(LINKTYPE_ETHERNET, udp_call_frames(call, eth_link))
    off = 24
    for _ in range(4):
        incl = struct.unpack_from("<I", raw, off + 8)[0]
        off += 16 + incl
    incl5 = struct.unpack_from("<I", raw, off + 8)[0]
    cut = off + 16 + incl5 // 2
    with open(path, "wb") as f:
        f.write(raw[:cut])


@crafted(
    "non-standard-port.pcap",
    "UDP call between ports 5099 and 7070 (SIP recognised by content only)",
)
def non_standard_port(path: str) -> None:
    call = Call("non-standard-port", a_port=5099, b_port=7070)
    write_pcap(path, LINKTYPE_ETHERNET, udp_call_frames(call, eth_link))


def multipart(boundary: str, parts: list[tuple[str, str]]) -> str:
    out = ""
    for ctype, body in parts:
        # the CRLF before each delimiter belongs to the delimiter (RFC 2046)
        out += f"--{boundary}{CRLF}Content-Type: {ctype}{CRLF}{CRLF}{body}{CRLF}"
    return out + f"--{boundary}--{CRLF}"


@crafted(
    "compact-and-folded.pcap",
    "call through a proxy using compact header names (i f t v m l c k s), "
    "mixed-case names, a folded header, several Via values on one line, "
    "and a multipart/mixed INVITE body containing the SDP",
)
def compact_and_folded(path: str) -> None:
    # seen on the proxy -> bob leg: requests carry two Via values
    name = "compact-and-folded"
    cid = f"{hexid(name, 'cid', n=16)}@{ALICE_V4}"
    ftag, ttag = hexid(name, "from", n=8), hexid(name, "to", n=8)
    px = PROXY_V4

    def pvia(w: str) -> str:
        return f"SIP/2.0/UDP {px};branch=z9hG4bK{hexid(name, 'pbr', w, n=12)}"

    def avia(w: str) -> str:
        return (
            f"SIP/2.0/UDP {ALICE_V4};branch=z9hG4bK{hexid(name, 'abr', w, n=12)}"
            f";received={ALICE_V4}"
        )

    frm = f'"Alice" <sip:alice@{ALICE_V4}>;tag={ftag}'
    to = f"<sip:bob@{BOB_V4}>"
    rr = f"<sip:{px};lr>"
    boundary = "sipdiag-boundary-42"
    body = multipart(
        boundary,
        [
            ("application/sdp", sdp("alice", ALICE_V4, 49170, 2890844526)),
            ("text/plain", "sipdiag sample: the SDP above is the offer." + CRLF),
        ],
    )
    answer = sdp("bob", BOB_V4, 3456, 2890844527)

    def msg(first: str, lines: list[str], body: str = "") -> bytes:
        lines = [ln.replace("@LEN@", str(len(body.encode()))) for ln in lines]
        return (first + CRLF + CRLF.join(lines) + CRLF + CRLF + body).encode()

    invite = msg(
        f"INVITE sip:bob@{BOB_V4} SIP/2.0",
        [
            f"v: {pvia('inv')}",
            f"v: {avia('inv')}",
            "max-forwards: 69",
            f"Record-Route: {rr}",
            f"f: {frm}",
            f"t: {to}",
            f"i: {cid}",
            "CSEQ: 1 INVITE",
            f"m: <sip:alice@{ALICE_V4}>",
            "k: replaces, timer",
            "s: a folded",
            "  subject line (RFC 3261 7.3.1 line folding)",
            "User-Agent: sipdiag-craft-alice/1.0",
            f"c: multipart/mixed;boundary={boundary}",
            "l: @LEN@",
        ],
        body,
    )
    vias_one_line = f"v: {pvia('inv')}, {avia('inv')}"
    ringing = msg(
        "SIP/2.0 180 Ringing",
        [
            vias_one_line,
            f"record-route: {rr}",
            f"f: {frm}",
            f"t: {to};tag={ttag}",
            f"i: {cid}",
            "cseq: 1 INVITE",
            f"m: <sip:bob@{BOB_V4}>",
            "l: @LEN@",
        ],
    )
    ok = msg(
        "SIP/2.0 200 OK",
        [
            vias_one_line,
            f"RECORD-ROUTE: {rr}",
            f"f: {frm}",
            f"t: {to};tag={ttag}",
            f"i: {cid}",
            "CSeq: 1 INVITE",
            f"m: <sip:bob@{BOB_V4}>",
            "Allow: INVITE, ACK,",
            " CANCEL, BYE, OPTIONS",
            "c: application/sdp",
            "l: @LEN@",
        ],
        answer,
    )
    ack = msg(
        f"ACK sip:bob@{BOB_V4} SIP/2.0",
        [
            f"v: {pvia('ack')},{avia('ack')}",
            "Max-Forwards: 69",
            f"f: {frm}",
            f"t: {to};tag={ttag}",
            f"i: {cid}",
            "cSeQ: 1 ACK",
            "l: @LEN@",
        ],
    )
    bye = msg(
        f"BYE sip:bob@{BOB_V4} SIP/2.0",
        [
            f"v: {pvia('bye')}",
            f"v: {avia('bye')}",
            "Max-Forwards: 69",
            f"f: {frm}",
            f"t: {to};tag={ttag}",
            f"i: {cid}",
            "CSeq: 2 BYE",
            "l: @LEN@",
        ],
    )
    bye_ok = msg(
        "SIP/2.0 200 OK",
        [
            f"Via: {pvia('bye')},",
            f"    {avia('bye')}",
            f"From: {frm}",
            f"To: {to};tag={ttag}",
            f"Call-ID: {cid}",
            "CSeq: 2 BYE",
            "Content-Length: @LEN@",
        ],
    )
    call = Call(name, a_host=PROXY_V4)
    seq = [
        ("A", 0, invite),
        ("B", 120_000, ringing),
        ("B", 2_480_000, ok),
        ("A", 2_495_000, ack),
        ("A", 6_500_000, bye),
        ("B", 6_512_000, bye_ok),
    ]
    net = Net(call)
    frames = [(T0_US + t, ether(src, net.udp(src, data))) for src, t, data in seq]
    write_pcap(path, LINKTYPE_ETHERNET, frames)


@crafted(
    "malformed.pcap",
    "a good call interleaved with broken traffic on port 5060: OPTIONS without "
    "Call-ID, INVITE with CSeq 'abc INVITE', MESSAGE whose Content-Length "
    "exceeds its body, a non-SIP UDP payload, and a CRLFCRLF keep-alive",
)
def malformed(path: str) -> None:
    call = Call("malformed")
    net = Net(call)
    frames = [(T0_US + m.t_us, ether(m.src, net.udp(m.src, m.data))) for m in call.messages()]
    a = ALICE_V4
    b = BOB_V4

    def hdrs(name: str, method: str, cseq: str | None = None, cid: bool = True):
        h = [
            ("Via", f"SIP/2.0/UDP {a};branch=z9hG4bK{hexid('malformed', name, n=12)};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:alice@{a}>;tag={hexid('malformed', name, 'tag', n=8)}"),
            ("To", f"<sip:bob@{b}>"),
        ]
        if cid:
            h.append(("Call-ID", f"{hexid('malformed', name, 'cid', n=16)}@{a}"))
        h.append(("CSeq", cseq or f"1 {method}"))
        h.append(("User-Agent", "sipdiag-craft-alice/1.0"))
        return h

    no_callid = sip_message(
        f"OPTIONS sip:bob@{b} SIP/2.0", hdrs("no-call-id", "OPTIONS", cid=False)
    )
    bad_cseq = sip_message(
        f"INVITE sip:bob@{b} SIP/2.0",
        [*hdrs("bad-cseq", "INVITE", cseq="abc INVITE"), ("Contact", f"<sip:alice@{a}>")],
        sdp("alice", a, 49180, 2890844600),
    )
    text = "Hello Bob, this message claims to be longer than it is."
    long_cl = sip_message(
        f"MESSAGE sip:bob@{b} SIP/2.0", hdrs("long-cl", "MESSAGE"), text, content_type="text/plain"
    )
    long_cl = long_cl.replace(
        f"Content-Length: {len(text)}".encode(), f"Content-Length: {len(text) + 200}".encode()
    )
    extra = [
        (700_000, "A", no_callid),
        (1_200_000, "A", bad_cseq),
        (1_900_000, "A", long_cl),
        (3_000_000, "A", b"hello world, not sip"),
        (4_000_000, "A", b"\r\n\r\n"),
    ]
    for t, src, data in extra:
        frames.append((T0_US + t, ether(src, net.udp(src, data))))
    frames.sort(key=lambda f: f[0])
    write_pcap(path, LINKTYPE_ETHERNET, frames)


ALL = [
    ip_fragments,
    ipv6_fragments,
    tcp_out_of_order,
    tcp_split_and_coalesced,
    tcp_midstream,
    vlan_qinq,
    linux_cooked,
    linux_cooked_v2,
    bsd_loopback,
    raw_ip,
    two_interfaces,
    nanosecond,
    big_endian,
    gzip_call,
    truncated,
    non_standard_port,
    compact_and_folded,
    malformed,
]


def generate(outdir: str) -> list[str]:
    os.makedirs(outdir, exist_ok=True)
    written = []
    for fn in ALL:
        path = os.path.join(outdir, fn.fname)
        fn(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        default=os.path.join(here, OUT),
        help="output directory (default: samples/transport)",
    )
    ap.add_argument(
        "--check", action="store_true", help="regenerate into a temporary directory and compare"
    )
    ap.add_argument("--list", action="store_true", help="list the files and exit")
    args = ap.parse_args(argv)
    if args.list:
        for name, desc in CRAFTED.items():
            print(f"{name}: {desc}")
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            bad = 0
            for path in generate(tmp):
                name = os.path.basename(path)
                ref = os.path.join(args.out, name)
                with open(path, "rb") as a:
                    new = a.read()
                try:
                    with open(ref, "rb") as b:
                        old = b.read()
                except FileNotFoundError:
                    old = None
                status = "ok" if new == old else ("missing" if old is None else "DIFFERS")
                if status != "ok":
                    bad += 1
                print(f"{status:8} {name}")
            return 1 if bad else 0
    for path in generate(args.out):
        print(f"{os.path.getsize(path):7d}  {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
