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
sections) are written with struct. The helpers shared with
craft_scenarios.py (SIP text, packets, writers, the command line) are in
pcapkit.py.

Usage:  python3 samples/craft.py [--out DIR] [--check] [--list]
  --check  regenerate into a temporary directory and compare with DIR
  --list   print each file name with what it exercises

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
from dataclasses import dataclass, field

from pcapkit import (
    ALICE_MAC,
    ALICE_V4,
    ALICE_V6,
    BOB_MAC,
    BOB_V4,
    BOB_V6,
    CRLF,
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    PROXY_V4,
    T0_US,
    Catalogue,
    Net,
    Tcp,
    ether_frame,
    hexid,
    hostport,
    multipart,
    ng_epb,
    ng_idb,
    ng_shb,
    pcap_bytes,
    sdp,
    sip_message,
    write_pcap,
)
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
from scapy.layers.l2 import CookedLinux, CookedLinuxV2

# --------------------------------------------------------------------------
# The basic call of every capture


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


def call_net(call: Call, sport: int | None = None, dport: int | None = None) -> Net:
    """Packet builder between the call's caller (A) and callee (B)."""
    return Net(call.a_host, call.b_host, sport or call.a_port, dport or call.b_port)


def ether(src: str, pkt, vlan: list[int] | None = None):
    """Ethernet frame from alice ("A") or bob ("B"), optionally VLAN / QinQ tagged."""
    s, d = (ALICE_MAC, BOB_MAC) if src == "A" else (BOB_MAC, ALICE_MAC)
    return ether_frame(s, d, pkt, vlan)


# --------------------------------------------------------------------------
# The captures

CATALOGUE = Catalogue("transport")
crafted = CATALOGUE.file


def udp_call_frames(call: Call, link, net: Net | None = None, t0: int = T0_US):
    """(time, frame) for each message of call over UDP, framed by link()."""
    net = net or call_net(call)
    return [(t0 + m.t_us, link(m.src, net.udp(m.src, m.data))) for m in call.messages()]


def eth_link(src, pkt):
    return ether(src, pkt)


@crafted("ip-fragments.pcap", "UDP/IPv4 call whose ~3000-byte INVITE is split into 3 IP fragments")
def ip_fragments(path: str) -> None:
    call = Call("ip-fragments", sdp_padding=24)
    net = call_net(call)
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
    net = call_net(call)
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
    net = call_net(call, sport=50412, dport=5060)
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
    net = call_net(call, sport=50414, dport=5060)
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
    net = call_net(call, sport=50416, dport=5060)
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
    net = call_net(call)
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
    net = call_net(call)
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
    net = call_net(call)
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


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
