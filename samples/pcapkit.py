"""Shared helpers of the sample-crafting scripts (craft.py, craft_scenarios.py).

SIP message text (sip_message, sdp, hostport, multipart), deterministic ids
(hexid), packet building with scapy (Ethernet, IPv4/IPv6, UDP, TCP,
fragmentation), pcap and pcapng writing, and the command line the scripts
share (--out, --check, --list).

Nothing here is random: the same inputs give the same bytes.

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import struct
import tempfile
from collections.abc import Callable
from typing import Protocol, TypeVar

from scapy.config import conf
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
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
MTU = 1500


def hexid(*parts: str, n: int = 10) -> str:
    """Deterministic pseudo-random hex string derived from parts."""
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:n]


# --------------------------------------------------------------------------
# SIP message text

G711 = ((0, "PCMU/8000", None), (8, "PCMA/8000", None), (101, "telephone-event/8000", "0-16"))
"""(payload type, rtpmap, fmtp) of the usual audio offer: PCMU, PCMA, DTMF events."""


def sdp(
    user: str,
    addr: str,
    port: int,
    sess: int,
    extra_lines: int = 0,
    *,
    version: int | None = None,
    media: str = "audio",
    codecs: tuple[tuple[int, str, str | None], ...] = G711,
    ptime: int | None = 20,
    direction: str = "sendrecv",
) -> str:
    """An SDP offer/answer, G.711 + telephone-event unless told otherwise.

    version is the o= line's session version (default: sess); extra_lines
    adds ICE candidate lines, to make a large message.
    """
    ipver = "IP6" if ":" in addr else "IP4"
    lines = [
        "v=0",
        f"o={user} {sess} {sess if version is None else version} IN {ipver} {addr}",
        "s=-",
        f"c=IN {ipver} {addr}",
        "t=0 0",
        f"m={media} {port} RTP/AVP {' '.join(str(pt) for pt, _, _ in codecs)}",
    ]
    lines.extend(f"a=rtpmap:{pt} {rtpmap}" for pt, rtpmap, _ in codecs)
    lines.extend(f"a=fmtp:{pt} {fmtp}" for pt, _, fmtp in codecs if fmtp)
    if ptime:
        lines.append(f"a=ptime:{ptime}")
    # padding used to make a large INVITE: plausible (if verbose) SDP
    # attributes, as some endpoints send crypto / ICE candidate lists
    lines.extend(
        f"a=candidate:{i + 1} 1 UDP {2130706431 - i} {addr} {port + 2 * i} typ host"
        f" generation 0 network-id {i + 1} network-cost 10"
        for i in range(extra_lines)
    )
    lines.append(f"a={direction}")
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
    """host[:port] for a SIP URI or Via; the port is left out when it is 5060."""
    h = f"[{host}]" if ":" in host else host
    return h if port == 5060 else f"{h}:{port}"


def multipart(boundary: str, parts: list[tuple[str, str]]) -> str:
    """A multipart body (RFC 2046) of (content type, body) parts."""
    out = ""
    for ctype, body in parts:
        # the CRLF before each delimiter belongs to the delimiter (RFC 2046)
        out += f"--{boundary}{CRLF}Content-Type: {ctype}{CRLF}{CRLF}{body}{CRLF}"
    return out + f"--{boundary}--{CRLF}"


# --------------------------------------------------------------------------
# Packet building


def ip_packet(src: str, dst: str, ip_id: int):
    """IPv4 (TTL 64, DF, the given id) or IPv6 (hop limit 64) header from src to dst."""
    if ":" in src:
        return IPv6(src=src, dst=dst, hlim=64)
    return IP(src=src, dst=dst, ttl=64, id=ip_id, flags="DF")


def udp_packet(src: str, sport: int, dst: str, dport: int, payload: bytes, ip_id: int):
    return ip_packet(src, dst, ip_id) / UDP(sport=sport, dport=dport) / Raw(payload)


def ipv4_fragments(pkt, mtu: int = MTU) -> list:
    """pkt as sent by a host whose link MTU is mtu: itself, or IP fragments (DF cleared)."""
    if len(pkt) <= mtu:
        return [pkt]
    pkt[IP].flags = 0
    return fragment(pkt, fragsize=(mtu - 20) // 8 * 8)


def ether_frame(src_mac: str, dst_mac: str, pkt, vlan: list[int] | None = None):
    """Ethernet II frame (optionally 802.1Q / QinQ tagged) around pkt."""
    eth = Ether(src=src_mac, dst=dst_mac)
    if vlan:
        if len(vlan) == 2:
            eth = (
                Ether(src=src_mac, dst=dst_mac, type=0x88A8)
                / Dot1AD(vlan=vlan[0])
                / Dot1Q(vlan=vlan[1])
            )
        else:
            eth = eth / Dot1Q(vlan=vlan[0])
    return eth / pkt


class Net:
    """Builds IP/UDP/TCP packets between two hosts, A (caller side) and B (callee side).

    Each side numbers its IPv4 ids from its own fixed start.
    """

    def __init__(self, a_host: str, b_host: str, sport: int, dport: int):
        self.hosts = {"A": a_host, "B": b_host}
        self.sport = sport  # caller side port
        self.dport = dport  # callee side port
        self.ip_id = {"A": 0x3A10, "B": 0x7C20}

    def ip(self, src: str):
        dst = "B" if src == "A" else "A"
        if ":" not in self.hosts[src]:
            self.ip_id[src] += 1
        return ip_packet(self.hosts[src], self.hosts[dst], self.ip_id[src])

    def ports(self, src: str) -> tuple[int, int]:
        return (self.sport, self.dport) if src == "A" else (self.dport, self.sport)

    def udp(self, src: str, payload: bytes):
        sp, dp = self.ports(src)
        return self.ip(src) / UDP(sport=sp, dport=dp) / Raw(payload)


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
# The command line of the crafting scripts


Writer = Callable[[str], None]
"""Writes one sample file to the path it is given."""


class Writable(Protocol):
    def write(self, path: str) -> None: ...


CaptureT = TypeVar("CaptureT", bound=Writable)


class Catalogue:
    """The files a script writes, in order, each with a description and a writer.

    Register writers with @catalogue.file(name, description); main() is the
    scripts' shared command line.
    """

    def __init__(self, default_dir: str) -> None:
        self.default_dir = default_dir  # a folder beside the script
        self.writers: dict[str, Writer] = {}
        self.descriptions: dict[str, str] = {}

    def file(self, name: str, desc: str) -> Callable[[Writer], Writer]:
        def deco(fn: Writer) -> Writer:
            assert name not in self.writers, name
            self.writers[name] = fn
            self.descriptions[name] = desc
            fn.fname = name  # type: ignore[attr-defined]
            return fn

        return deco

    def scenario(
        self,
        name: str,
        desc: str,
        new_capture: Callable[[str], CaptureT],
        written: Callable[[CaptureT], None] | None = None,
    ) -> Callable[[Callable[[CaptureT], None]], Callable[[CaptureT], None]]:
        """Register build(capture) as the maker of NAME: a capture named after the file
        (new_capture(stem)), filled by build, written, then handed to ``written``."""

        def deco(build: Callable[[CaptureT], None]) -> Callable[[CaptureT], None]:
            def write(path: str) -> None:
                cap = new_capture(name.rsplit(".", 1)[0])
                build(cap)
                cap.write(path)
                if written is not None:
                    written(cap)

            self.file(name, desc)(write)
            return build

        return deco

    def generate(self, outdir: str) -> list[str]:
        os.makedirs(outdir, exist_ok=True)
        written = []
        for name, fn in self.writers.items():
            path = os.path.join(outdir, name)
            fn(path)
            written.append(path)
        return written

    def check(self, refdir: str) -> int:
        """Regenerate into a temporary folder and compare with refdir byte for byte."""
        with tempfile.TemporaryDirectory() as tmp:
            bad = 0
            for path in self.generate(tmp):
                name = os.path.basename(path)
                with open(path, "rb") as a:
                    new = a.read()
                try:
                    with open(os.path.join(refdir, name), "rb") as b:
                        old = b.read()
                except FileNotFoundError:
                    old = None
                status = "ok" if new == old else ("missing" if old is None else "DIFFERS")
                if status != "ok":
                    bad += 1
                print(f"{status:8} {name}")
            return 1 if bad else 0

    def main(self, argv: list[str] | None, doc: str, script: str) -> int:
        here = os.path.dirname(os.path.abspath(script))
        ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
        ap.add_argument(
            "--out",
            default=os.path.join(here, self.default_dir),
            help=f"output directory (default: samples/{self.default_dir})",
        )
        ap.add_argument(
            "--check",
            action="store_true",
            help="regenerate into a temporary directory and compare",
        )
        ap.add_argument("--list", action="store_true", help="list the files and exit")
        args = ap.parse_args(argv)
        if args.list:
            for name, desc in self.descriptions.items():
                print(f"{name}: {desc}")
            return 0
        if args.check:
            return self.check(args.out)
        for path in self.generate(args.out):
            print(f"{os.path.getsize(path):7d}  {os.path.relpath(path)}")
        return 0
