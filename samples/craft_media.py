#!/usr/bin/env python3
"""Craft the media captures of samples/media/ (RTP, RTCP, DTMF, SRTP, ICE), and their truth.

One capture per media situation a call can be in: clean two-way audio, loss (random, in
bursts, after the capture point), jitter, reordering, duplicates, sequence wrap, one-way audio
(silent callee, NAT, wrong port, ICMP port unreachable), silence and comfort noise, dead air,
RTP time-out, late media, unexpected payload type, SSRC changes, hold, SRTP, RFC 4733 DTMF,
media moved by a re-INVITE, early media, WebRTC (ICE, DTLS, SRTP, rtcp-mux), RTCP (SR, RR,
SDES, BYE, XR VoIP metrics), an RTP relay, port reuse, IPv6, G.729, RTP without SDP and UDP
that is not RTP. samples/media/truth.json holds what is in each file by construction: the
calls and their expected media state, every RTP stream (packets, expected, lost, duplicates,
out of order, frames, RFC 3550 jitter, DTMF digits) and every RTCP report block.

The SIP of each call comes from sipflow.py (the call-flow model of craft_scenarios.py); this
script adds the media: RTP from the port announced in the sender's own SDP to the port
announced in the receiver's (symmetric RTP), PCMU (PT 0) in 20 ms packets of 160 bytes
holding a real G.711 µ-law tone (440 Hz from the caller, 660 Hz from the callee, -20 dBov),
starting about 40 ms after the 200 OK; RTCP on the RTP port + 1 (or muxed) where a scenario
has it. Frames are Ethernet / IPv4 (or IPv6) / UDP, link type 1, microsecond timestamps.

Output is deterministic: addresses from the documentation ranges (caller 192.0.2.10, callee
198.51.100.20, RFC 1918 addresses where a scenario is about NAT), times from 2023-11-14
22:13:20 UTC, SSRCs, sequence numbers, RTP timestamps, keys and "random" bytes derived by sha1
or sha256 from the names, so running the script again gives byte-identical files. No two
frames of a file share a timestamp, so the frame order is the time order.

Usage:  python3 samples/craft_media.py [--out DIR] [--check] [--list]
  --check  regenerate into a temporary directory and compare with DIR
  --list   print each file name with what happens in it

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import math
import re
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pcapkit import (
    ALICE_V4,
    ALICE_V6,
    BOB_V4,
    BOB_V6,
    CRLF,
    LINKTYPE_ETHERNET,
    MTU,
    T0_US,
    Catalogue,
    hexid,
    ip_packet,
    ipv4_fragments,
    write_pcap,
)
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, UDP
from scapy.packet import Raw
from sipflow import ALICE, BOB, PROXY, Call, Capture, Node, Response, Tx

# --------------------------------------------------------------------------
# G.711 µ-law and the test tones


def ulaw_encode(sample: int) -> int:
    """One 16-bit linear PCM sample as a G.711 µ-law code (bias 0x84, clip 32635, inverted)."""
    sign = 0x80 if sample < 0 else 0x00
    magnitude = min(-sample if sample < 0 else sample, 32635) + 0x84
    exponent = (magnitude >> 7).bit_length() - 1  # segment 0..7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | exponent << 4 | mantissa) & 0xFF


def ulaw_decode(code: int) -> int:
    code = ~code & 0xFF
    exponent, mantissa = (code >> 4) & 0x07, code & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -magnitude if code & 0x80 else magnitude


TONE_DBOV = -20.0
# the peak of a sine whose RMS is TONE_DBOV below a full-scale square wave (0 dBov, RFC 3389)
TONE_PEAK = 32768 * 10 ** (TONE_DBOV / 20) * math.sqrt(2)
TONE_PERIOD = 800  # 440 Hz and 660 Hz both fit a whole number of cycles in 800 samples (0.1 s)


def tone_table(freq: int) -> bytes:
    """µ-law samples of a freq Hz sine at 8 kHz, one period of 800 samples + 160 to wrap round."""
    assert freq * TONE_PERIOD % 8000 == 0
    pcm = [round(TONE_PEAK * math.sin(2 * math.pi * freq * n / 8000)) for n in range(TONE_PERIOD)]
    table = bytes(ulaw_encode(s) for s in pcm)
    # the encoded tone decodes to the level it was made for (to 0.1 dB)
    rms = math.sqrt(sum(ulaw_decode(c) ** 2 for c in table) / len(table))
    assert abs(20 * math.log10(rms / 32768) - TONE_DBOV) < 0.1, rms
    return table + table[:160]


TONES = {440: tone_table(440), 660: tone_table(660)}

Payload = Callable[[int], bytes]
"""The payload of the packet whose first sample is the given one (RTP timestamp - initial)."""


def tone(freq: int) -> Payload:
    table = TONES[freq]
    return lambda n: table[n % TONE_PERIOD : n % TONE_PERIOD + 160]


def silence(_n: int) -> bytes:
    return b"\xff" * 160  # µ-law digital silence (+0)


class Prng:
    """Deterministic "random" bytes and numbers: sha256 of the seed and a counter."""

    def __init__(self, *seed: str) -> None:
        self.seed, self.n, self.buf = "/".join(seed), 0, b""

    def bytes(self, k: int) -> bytes:
        while len(self.buf) < k:
            self.buf += hashlib.sha256(f"{self.seed}/{self.n}".encode()).digest()
            self.n += 1
        out, self.buf = self.buf[:k], self.buf[k:]
        return out

    def u32(self) -> int:
        return int.from_bytes(self.bytes(4), "big")

    def randint(self, lo: int, hi: int) -> int:
        return lo + self.u32() % (hi - lo + 1)


def random_payload(prng: Prng, size: int) -> Payload:
    return lambda _n: prng.bytes(size)


# --------------------------------------------------------------------------
# Addresses

CAROL = Node("carol", "192.0.2.30", user="carol", agent="sipdiag-craft-carol/1.0", rtp_port=16384)
ALICE_NAT_PUBLIC = "203.0.113.5"
BOB_NAT_PUBLIC = "203.0.113.7"

Addr = tuple[str, int]


def rtp_addr(node: Node) -> Addr:
    """The RTP address node announces in its SDP (its own address, without IPv6 brackets)."""
    return node.ip.strip("[]"), node.rtp_port


def fmt_addr(addr: Addr) -> str:
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def mac_of(ip: str) -> str:
    """00:00:5e:00:53:xx (RFC 7042 documentation MACs), xx from the last byte of the address."""
    last = int(ip.split(":")[-1] or "0", 16) & 0xFF if ":" in ip else int(ip.split(".")[-1])
    return f"00:00:5e:00:53:{last:02x}"


def us(seconds: float) -> int:
    return round(seconds * 1_000_000)


# --------------------------------------------------------------------------
# The capture: SIP from sipflow, plus RTP, RTCP and other datagrams


def inet_checksum(data: bytes) -> int:
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_bytes(addr: str) -> bytes:
    return ipaddress.ip_address(addr).packed


def udp_datagram(src: str, sport: int, dst: str, dport: int, payload: bytes, ip_id: int) -> bytes:
    """IPv4 (TTL 64, DF, ip_id) or IPv6 (hop limit 64) / UDP around payload, with checksums:
    the bytes pcapkit.udp_packet gives through scapy, built here with struct for speed."""
    length = 8 + len(payload)
    pseudo = ip_bytes(src) + ip_bytes(dst)
    pseudo += (
        struct.pack("!HH", 17, length) if ":" not in src else struct.pack("!IxxxB", length, 17)
    )
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    udp = udp[:6] + struct.pack("!H", inet_checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    if ":" in src:
        return struct.pack("!IHBB", 6 << 28, length, 17, 64) + ip_bytes(src) + ip_bytes(dst) + udp
    head = struct.pack("!BBHHHBBH", 0x45, 0, 20 + length, ip_id, 0x4000, 64, 17, 0)
    head += ip_bytes(src) + ip_bytes(dst)
    head = head[:10] + struct.pack("!H", inet_checksum(head)) + head[12:]
    return head + udp


def ether_header(src_ip: str, dst_ip: str) -> bytes:
    """Ethernet II header between the documentation MACs of the two addresses."""
    macs = bytes.fromhex(mac_of(dst_ip).replace(":", "") + mac_of(src_ip).replace(":", ""))
    return macs + (b"\x86\xdd" if ":" in src_ip else b"\x08\x00")


@dataclass(eq=False)
class Entry:
    """One IP packet of the capture (a SIP message may take several frames, as IP fragments)."""

    t_us: int
    src: Addr
    dst: Addr
    payload: bytes
    kind: str  # sip, rtp, rtcp, icmp, stun, dtls, dns, ntp, syslog, junk
    meta: Any = None
    copy_of: Entry | None = None  # a duplicate: the same IP packet again
    quote: Pkt | None = None  # ICMP: the RTP packet it answers
    frames: list[int] = field(default_factory=list)
    ip: bytes = b""  # the IP packet (its first fragment), once built


ICMP_QUOTE = 20 + 8 + 12  # the IP header, the UDP header and the RTP header of the packet


class MediaCapture(Capture):
    """A Capture whose frames are the SIP messages of its calls plus media and other datagrams."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.entries: list[Entry] = []
        self.streams: list[Stream] = []
        self.start_us = -(10**12)  # nothing sent before this time is in the file
        self.built: list[Entry] = []
        self.verdicts: list[dict[str, Any]] = []
        self.facts: dict[str, Any] = {}

    def datagram(self, at_us: int, src: Addr, dst: Addr, payload: bytes, kind: str, meta=None):
        e = Entry(at_us, src, dst, payload, kind, meta)
        self.entries.append(e)
        return e

    def icmp_unreachable(self, at_us: int, pkt: Pkt) -> None:
        """ICMP destination unreachable, port unreachable, from the host pkt was sent to."""
        e = Entry(at_us, (pkt.dst[0], 0), (pkt.src[0], 0), b"", "icmp", quote=pkt)
        self.entries.append(e)

    def emit(self) -> None:
        """The RTP packets that reach the capture point, duplicates included."""
        for s in self.streams:
            for p in s.pkts:
                if p.lost:
                    continue
                p.entry = Entry(p.arrive_us, p.src, p.dst, p.data, "rtp", p)
                self.entries.append(p.entry)
                for t in p.dup_us:
                    self.entries.append(Entry(t, p.src, p.dst, p.data, "rtp", p, copy_of=p.entry))

    def frames(self) -> list[tuple[int, bytes]]:
        entries = [Entry(s.t_us, s.src.addr, s.dst.addr, s.data, "sip", s) for s in self.sent]
        entries += self.entries
        entries = sorted((e for e in entries if e.t_us >= self.start_us), key=lambda e: e.t_us)
        ip_ids: dict[str, int] = {}
        frames: list[tuple[int, bytes]] = []
        busy_until = None
        for e in entries:
            assert busy_until is None or e.t_us > busy_until, (self.name, e.t_us, e.kind)
            (sip, sport), (dip, dport) = e.src, e.dst
            if e.copy_of is None and ":" not in sip:
                seed = int(hexid(self.name, sip, "ip-id", n=4), 16)
                ip_ids[sip] = ip_ids.get(sip, seed) + 1
            ip_id = ip_ids.get(sip, 0) & 0xFFFF
            if e.copy_of is not None:
                pieces = [e.copy_of.ip]
            elif e.kind == "icmp":
                assert e.quote is not None and e.quote.entry is not None
                quoted = e.quote.entry.ip[:ICMP_QUOTE]
                pieces = [bytes(ip_packet(sip, dip, ip_id) / ICMP(type=3, code=3) / Raw(quoted))]
            elif len(e.payload) + 48 <= MTU:
                pieces = [udp_datagram(sip, sport, dip, dport, e.payload, ip_id)]
            else:  # as sipflow does it (scapy), fragmented if too big
                pkt = ip_packet(sip, dip, ip_id) / UDP(sport=sport, dport=dport) / Raw(e.payload)
                pieces = [bytes(p) for p in (ipv4_fragments(pkt) if ":" not in sip else [pkt])]
            e.ip = pieces[0]
            for i, piece in enumerate(pieces):
                frames.append((T0_US + e.t_us + 12 * i, ether_header(sip, dip) + piece))
                e.frames.append(len(frames))
            busy_until = e.t_us + 12 * (len(pieces) - 1)
        self.built = entries
        return frames

    def write(self, path: str) -> None:
        self.emit()
        write_pcap(path, LINKTYPE_ETHERNET, self.frames())

    def verdict(
        self,
        call: Call,
        state: str,
        *,
        not_heard: str | None = None,
        heard: dict[str, bool | None] | None = None,
        phases: list[tuple] | None = None,
        expect: tuple[str, ...] = (),
        expect_not: tuple[str, ...] = (),
        notes: str = "",
    ) -> None:
        """What is true of call by construction (see truth.json's "definitions")."""
        assert state in ("two_way", "one_way", "none", "on_hold", "not_captured"), state
        assert (state == "one_way") == (not_heard is not None)
        if heard is None:
            both = {"two_way": True, "on_hold": True, "none": False, "not_captured": None}
            heard = {side: both.get(state, side != not_heard) for side in ("caller", "callee")}
        self.verdicts.append(
            {
                "call": call,
                "media_state": state,
                "not_heard": not_heard,
                "audio_heard": heard,
                "phases": [
                    {
                        "state": p[0],
                        "from_s": round(p[1], 6),
                        "to_s": round(p[2], 6),
                        **({"not_heard": p[3]} if len(p) > 3 else {}),
                    }
                    for p in phases or []
                ],
                "expect": list(expect),
                "expect_not": list(expect_not),
                "notes": notes,
            }
        )


# --------------------------------------------------------------------------
# RTP


PT_NAMES = {
    0: ("PCMU", 8000),
    8: ("PCMA", 8000),
    13: ("CN", 8000),
    18: ("G729", 8000),
    101: ("telephone-event", 8000),
    111: ("opus", 48000),
}
DTMF_EVENTS = "0123456789*#ABCD"


@dataclass(eq=False)
class Pkt:
    """One RTP packet as its sender sent it, and what became of it on the way."""

    stream: Stream
    t_us: int  # when it passes the capture point if nothing delays it
    seq: int  # not wrapped: the 16-bit field is seq & 0xFFFF
    ts: int  # not wrapped
    pt: int
    marker: bool
    payload: bytes
    src: Addr
    dst: Addr
    ext: bytes = b""  # header extension (with its 4-byte header), sets the X bit
    lost: bool = False  # lost before the capture point
    remote_lost: bool = False  # lost after the capture point (only the receiver's RTCP shows it)
    arrive_us: int = 0  # when it passes the capture point
    dup_us: list[int] = field(default_factory=list)  # a copy passes again at these times
    entry: Entry | None = None

    @property
    def data(self) -> bytes:
        b0 = 0x80 | (0x10 if self.ext else 0)
        b1 = (0x80 if self.marker else 0) | self.pt
        head = struct.pack(
            "!BBHII", b0, b1, self.seq & 0xFFFF, self.ts & 0xFFFFFFFF, self.stream.ssrc
        )
        return head + self.ext + self.payload


class Stream:
    """The packets one sender sends with one SSRC (the destination may change on the way)."""

    def __init__(
        self,
        cap: MediaCapture,
        label: str,
        src: Addr,
        dst: Addr,
        *,
        call: Call | None = None,
        sender: str = "",
        content: str = "",
        pt: int = 0,
        clock: int = 8000,
        ssrc: int | None = None,
        seq0: int | None = None,
        ts0: int | None = None,
        srtp: bool = False,
    ) -> None:
        self.cap, self.label, self.src, self.dst = cap, label, src, dst
        self.call, self.sender, self.content = call, sender, content
        self.pt, self.clock, self.srtp = pt, clock, srtp
        h = (cap.name, label)
        self.ssrc = ssrc if ssrc is not None else int(hexid(*h, "ssrc", n=8), 16) or 1
        # random-looking, but far enough from 65535 that only the wrap scenario wraps
        self.seq = seq0 if seq0 is not None else int(hexid(*h, "seq", n=4), 16) % 50000 + 1000
        self.ts0 = ts0 if ts0 is not None else int(hexid(*h, "ts", n=8), 16)
        self.t0_us: int | None = None  # the time of the sample ts0
        self.pkts: list[Pkt] = []
        cap.streams.append(self)

    def ts_at(self, t_us: int) -> int:
        """The RTP timestamp of the sample taken at t_us (the sampling clock runs with time)."""
        if self.t0_us is None:
            self.t0_us = t_us
        return self.ts0 + ((t_us - self.t0_us) * self.clock + 500_000) // 1_000_000

    def send(
        self,
        t_us: int,
        payload: bytes,
        *,
        pt: int | None = None,
        marker: bool = False,
        ts: int | None = None,
        ext: bytes = b"",
    ) -> Pkt:
        ts = self.ts_at(t_us) if ts is None else ts
        p = Pkt(
            self,
            t_us,
            self.seq,
            ts,
            self.pt if pt is None else pt,
            marker,
            payload,
            self.src,
            self.dst,
            ext,
            arrive_us=t_us,
        )
        self.seq += 1
        self.pkts.append(p)
        return p

    def talk(
        self,
        start_us: int,
        count: int,
        payload: Payload,
        *,
        every_us: int = 20_000,
        marker: bool = True,
    ) -> list[Pkt]:
        """count packets every every_us from start_us; the first has the marker bit (talkspurt)."""
        out = []
        for k in range(count):
            t = start_us + k * every_us
            ts = self.ts_at(t)
            out.append(self.send(t, payload(ts - self.ts0), ts=ts, marker=marker and k == 0))
        return out

    def copy_of(self, other: Stream, delay_us: int) -> None:
        """The packets of other again, delay_us later, from this stream's addresses (a relay)."""
        for p in other.pkts:
            self.pkts.append(
                replace(
                    p,
                    stream=self,
                    src=self.src,
                    dst=self.dst,
                    t_us=p.t_us + delay_us,
                    arrive_us=p.t_us + delay_us,
                    dup_us=[],
                    entry=None,
                )
            )


def dtmf_payload(event: int, end: bool, volume: int, duration: int) -> bytes:
    """RFC 4733 telephone-event payload: event, E bit, volume (-dBm0), duration (samples)."""
    return struct.pack("!BBH", event, (0x80 if end else 0) | volume, duration)


# --------------------------------------------------------------------------
# Receiving a stream: RFC 3550 appendix A.1 (sequence numbers), A.3 (loss) and A.8 (jitter)


def signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


@dataclass
class Reception:
    received: int = 0  # packets, duplicates included
    unique: int = 0
    base_ext: int = 0
    max_ext: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    jitter: float = 0.0  # timestamp units
    max_jitter: float = 0.0
    max_delta_us: int = 0
    lost_seqs: list[int] = field(default_factory=list)
    duplicate_seqs: list[int] = field(default_factory=list)
    out_of_order_seqs: list[int] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return self.max_ext - self.base_ext + 1

    @property
    def lost(self) -> int:
        return self.expected - self.unique


def receive(arrivals: list[tuple[int, int, int]], clock: int) -> Reception:
    """What a receiver sees of (arrival time in µs, 16-bit seq, 32-bit timestamp) in that order.

    Sequence numbers are extended with a cycle count (A.1): each is taken as the one nearest
    the highest so far. A packet whose extended number was already seen is a duplicate; one
    lower than the highest seen before it (and not a duplicate) is out of order. The jitter is
    A.8, in floating point, over every packet in arrival order (duplicates included):
    D = (Rj - Ri) - (Sj - Si) in timestamp units, J += (|D| - J) / 16.
    """
    r = Reception()
    seen: set[int] = set()
    first_ts = prev_transit = prev_arrival = None
    for arrival, seq, ts in arrivals:
        if not seen:
            ext = seq
            first_ts = ts
        else:
            ext = r.max_ext + signed(seq - r.max_ext, 16)
        r.received += 1
        if ext in seen:
            r.duplicates += 1
            r.duplicate_seqs.append(seq)
        else:
            if seen and ext < r.max_ext:
                r.out_of_order += 1
                r.out_of_order_seqs.append(seq)
            seen.add(ext)
        r.max_ext = ext if r.received == 1 else max(r.max_ext, ext)
        transit = arrival * clock / 1_000_000 - signed(ts - first_ts, 32)
        if prev_transit is not None:
            r.jitter += (abs(transit - prev_transit) - r.jitter) / 16
            r.max_jitter = max(r.max_jitter, r.jitter)
            r.max_delta_us = max(r.max_delta_us, arrival - prev_arrival)
        prev_transit, prev_arrival = transit, arrival
    r.unique = len(seen)
    r.base_ext = min(seen) if seen else 0
    r.lost_seqs = [e & 0xFFFF for e in range(r.base_ext, r.max_ext + 1) if e not in seen]
    return r


# --------------------------------------------------------------------------
# RTCP (RFC 3550 section 6, RFC 3611 for XR)

NTP_UNIX = 2_208_988_800  # seconds from 1900 to 1970


def ntp64(t_us: int) -> int:
    """The NTP timestamp of t_us (µs from the start of the capture)."""
    sec, frac = divmod(T0_US + t_us, 1_000_000)
    return (sec + NTP_UNIX) << 32 | (frac << 32) // 1_000_000


def mid32(ntp: int) -> int:
    return (ntp >> 16) & 0xFFFFFFFF


def rtcp_header(count: int, pt: int, body: bytes) -> bytes:
    assert len(body) % 4 == 0
    return struct.pack("!BBH", 0x80 | count, pt, (len(body) + 4) // 4 - 1) + body


def sdes_cname(ssrc: int, cname: str) -> bytes:
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname.encode() + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    return rtcp_header(1, 202, chunk)


@dataclass(eq=False)
class Party:
    """One side of an RTCP session. It sends its reports at the capture times in times_us.

    The capture point sits skew_us away from it: it sent what the capture shows at t at
    t - skew_us, and received at t + skew_us what the capture shows at t. The last report
    carries an RTCP BYE.
    """

    stream: Stream
    src: Addr
    dst: Addr
    cname: str
    times_us: list[int]
    skew_us: int = 0
    xr_final: dict[str, int] | None = None  # VoIP metrics (RFC 3611) sent with the last report
    srtcp: bool = False
    srs: list[tuple[int, int]] = field(default_factory=list)  # (capture time, NTP) of its SRs
    prior: tuple[int, int] = (0, 0)  # expected and received at the previous report (A.3)
    rtt_from_us: int | None = None  # when (its own clock) it first had a round-trip time


def rtcp_exchange(cap: MediaCapture, a: Party, b: Party) -> None:
    """Every report of a and b, in time order, each about what its sender had received."""
    order = sorted([(t, 0) for t in a.times_us] + [(t, 1) for t in b.times_us])
    for t, who in order:
        me, other = (a, b) if who == 0 else (b, a)
        rtcp_report(cap, me, other, t, last=t == me.times_us[-1])


def rtcp_report(cap: MediaCapture, me: Party, other: Party, t: int, last: bool) -> None:
    send_us = t - me.skew_us
    ssrc = me.stream.ssrc
    mine = [p for p in me.stream.pkts if p.t_us <= t]
    ntp = ntp64(send_us)
    rtp_ts = me.stream.ts_at(t) & 0xFFFFFFFF
    octets = sum(len(p.payload) for p in mine)
    facts: dict[str, Any] = {
        "reporter_ssrc": f"0x{ssrc:08X}",
        "compound": ["SR", "SDES"],
        "ntp_timestamp": f"0x{ntp:016X}",
        "ntp_time_s": round((send_us) / 1e6, 6),
        "rtp_timestamp": rtp_ts,
        "sender_packets": len(mine),
        "sender_octets": octets,
        "cname": me.cname,
        "report_blocks": [],
    }
    got = sorted(
        (p.arrive_us + me.skew_us, p.seq & 0xFFFF, p.ts & 0xFFFFFFFF)
        for p in other.stream.pkts
        if not p.lost and not p.remote_lost and p.arrive_us + me.skew_us <= send_us
    )
    blocks = b""
    view = None
    if got:
        view = receive(got, other.stream.clock)
        exp_prior, rec_prior = me.prior
        exp_int, rec_int = view.expected - exp_prior, view.received - rec_prior
        lost_int = exp_int - rec_int
        fraction = 0 if exp_int == 0 or lost_int <= 0 else (lost_int << 8) // exp_int
        me.prior = (view.expected, view.received)
        cumulative = view.expected - view.received
        srs = [(tp, n) for tp, n in other.srs if tp + me.skew_us <= send_us]
        lsr = mid32(srs[-1][1]) if srs else 0
        dlsr = (send_us - (srs[-1][0] + me.skew_us)) * 65536 // 1_000_000 if srs else 0
        jitter = int(view.jitter)
        blocks = struct.pack(
            "!IIIIII",
            other.stream.ssrc,
            fraction << 24 | cumulative & 0xFFFFFF,
            view.max_ext & 0xFFFFFFFF,
            jitter,
            lsr,
            dlsr,
        )
        block: dict[str, Any] = {
            "reporter_ssrc": f"0x{ssrc:08X}",
            "source_ssrc": f"0x{other.stream.ssrc:08X}",
            "fraction_lost": fraction,
            "fraction_lost_pct": round(fraction * 100 / 256, 2),
            "cumulative_lost": cumulative,
            "extended_highest_seq": view.max_ext & 0xFFFFFFFF,
            "jitter": jitter,
            "lsr": f"0x{lsr:08X}",
            "dlsr": dlsr,
            "dlsr_ms": round(dlsr * 1000 / 65536, 3),
        }
        if lsr:
            # the source of the stream gets this report at t + its skew
            rtt = (mid32(ntp64(t + other.skew_us)) - lsr - dlsr) & 0xFFFFFFFF
            rtt_capture = (mid32(ntp64(t)) - lsr - dlsr) & 0xFFFFFFFF
            block["rtt_ms"] = round(rtt * 1000 / 65536, 2)
            block["rtt_ms_at_capture"] = round(rtt_capture * 1000 / 65536, 2)
            if other.rtt_from_us is None:
                other.rtt_from_us = t + other.skew_us
        facts["report_blocks"].append(block)
    sr = struct.pack("!IQIII", ssrc, ntp, rtp_ts, len(mine), octets) + blocks
    data = rtcp_header(len(blocks) // 24, 200, sr) + sdes_cname(ssrc, me.cname)
    if last and me.xr_final is not None:
        known = me.rtt_from_us is not None and me.rtt_from_us <= send_us
        assert view is not None and known, "XR: nothing received or no round-trip time yet"
        data += voip_metrics(me, other, view, facts)
    if last:
        data += rtcp_header(1, 203, struct.pack("!I", ssrc))
        facts["compound"].append("BYE")
    me.srs.append((t, ntp))
    if me.srtcp:
        # SRTCP (RFC 3711): all but the first 8 bytes encrypted, E flag + index, 80-bit tag
        prng = Prng(cap.name, "srtcp", str(ssrc), str(len(me.srs)))
        index = len(me.srs) - 1
        data = data[:8] + prng.bytes(len(data) - 8) + struct.pack("!I", 1 << 31 | index)
        data += prng.bytes(10)
        facts = {
            "reporter_ssrc": facts["reporter_ssrc"],
            "compound": facts["compound"],
            "srtcp": True,
            "srtcp_index": index,
        }
    cap.datagram(t, me.src, me.dst, data, "rtcp", facts)


def voip_metrics(me: Party, other: Party, view: Reception, facts: dict[str, Any]) -> bytes:
    """An XR packet with one VoIP Metrics block (RFC 3611 4.7) about other's stream.

    The loss rate is the receiver's own (lost / expected since the start, x 256); with
    Gmin 16 and single losses more than 16 packets apart every loss is in a gap, none in a
    burst. The quality figures come from xr_final.
    """
    q = me.xr_final
    assert q is not None
    loss_rate = min(255, view.lost * 256 // view.expected)
    duration_ms = view.expected * 20
    rows = [
        ("!BBHI", 7, 0, 8, other.stream.ssrc),  # block type, reserved, length (words - 1)
        ("!BBBB", loss_rate, 0, 0, loss_rate),  # loss, discard, burst and gap density (/256)
        ("!HH", 0, duration_ms),  # burst and gap duration (ms)
        ("!HH", q["round_trip_delay"], q["end_system_delay"]),  # ms
        ("!bbbB", 127, 127, 127, 16),  # signal, noise level, RERL: unavailable; Gmin
        ("!BBBB", q["r_factor"], 127, q["mos_lq"], q["mos_cq"]),  # external R: unavailable
        ("!BBH", 0xB0, 0, 40),  # RX config (enhanced PLC, adaptive JB), JB nominal (ms)
        ("!HH", 80, 200),  # JB maximum, absolute maximum (ms)
    ]
    block = b"".join(struct.pack(fmt, *values) for fmt, *values in rows)
    facts["compound"].append("XR")
    facts["xr_voip_metrics"] = {
        "source_ssrc": f"0x{other.stream.ssrc:08X}",
        "loss_rate": loss_rate,
        "discard_rate": 0,
        "burst_density": 0,
        "gap_density": loss_rate,
        "burst_duration_ms": 0,
        "gap_duration_ms": duration_ms,
        "round_trip_delay_ms": q["round_trip_delay"],
        "end_system_delay_ms": q["end_system_delay"],
        "gmin": 16,
        "r_factor": q["r_factor"],
        "mos_lq": q["mos_lq"],
        "mos_cq": q["mos_cq"],
        "mos_lq_value": q["mos_lq"] / 10,
        "mos_cq_value": q["mos_cq"] / 10,
    }
    return rtcp_header(0, 207, struct.pack("!I", me.stream.ssrc) + block)


def rtcp_times(start_us: int, end_us: int, first_us: int, prng: Prng) -> list[int]:
    """Report times: start + first, then about every 2.5 s (x 0.9 to 1.1), then one just after
    end (the last, with BYE)."""
    times, t = [], start_us + first_us
    while t < end_us:
        times.append(t)
        t += 2_500_000 * prng.randint(900, 1100) // 1000 + prng.randint(0, 999)
    return [*times, end_us + 23_000 + prng.randint(0, 999)]


# --------------------------------------------------------------------------
# SIP and SDP helpers


def sdp_of(
    c: Call,
    node: Node,
    *,
    profile: str | None = None,
    attrs: tuple[str, ...] = (),
    conn: str | None = None,
    bump: bool = False,
    **kw: Any,
) -> str:
    """node's SDP in call c (sipflow's, o= version kept by the call), with a few changes:

    profile replaces RTP/AVP on the m= line, attrs are added before the direction attribute,
    conn replaces the c= address; a bracketed IPv6 node address loses its brackets.
    """
    body = c.sdp(node, bump=bump, **kw)
    if node.ip.startswith("["):
        body = body.replace(node.ip, node.ip[1:-1])
    lines = body.split(CRLF)[:-1]
    if conn:
        lines = [f"c=IN IP4 {conn}" if x.startswith("c=") else x for x in lines]
    if profile:
        lines = [x.replace(" RTP/AVP ", f" {profile} ") if x.startswith("m=") else x for x in lines]
    lines[-1:-1] = attrs
    return CRLF.join(lines) + CRLF


def relayed_sdp(body: str, addr: str, port: int) -> str:
    """body as an RTP relay rewrites it: its own address in c= and its own port in m=."""
    body = re.sub(r"(?m)^c=IN IP4 \S+", f"c=IN IP4 {addr}", body)
    return re.sub(r"(?m)^(m=audio )\d+", rf"\g<1>{port}", body)


def answered(
    c: Call,
    at: float = 0.0,
    *,
    offer: str | None = None,
    answer: str | None = None,
    provisional: int | None = 180,
    after: float = 2.5,
) -> Tx:
    """INVITE with SDP, 100 (4 ms), 180 (0.2 s), 200 with SDP (2.5 s), ACK; times from at."""
    inv = c.invite(at, sdp=offer if offer is not None else sdp_of(c, c.caller))
    inv.reply(at + 0.004, 100)
    if provisional:
        inv.reply(at + 0.2, provisional)
    inv.reply(at + after, 200, sdp=answer if answer is not None else sdp_of(c, c.callee))
    inv.ack()
    return inv


def hang_up(c: Call, at: float, by: Node | None = None) -> None:
    c.bye(at, by=by).reply(at + 0.004, 200)


def proxy_forward(
    tx: Tx,
    at: float,
    to: Node,
    *,
    body: str | None = None,
    ruri: str | None = None,
    record_route: bool = True,
) -> Tx:
    """sipflow's Tx.forward, with the body the proxy sends (an RTP relay rewrites the SDP)
    and loose routing: the proxy drops the Route entry that names it."""
    proxy = tx.dst
    hdrs = [("Record-Route", f"<sip:{proxy.ip};lr>")] if record_route else []
    hdrs.append(("Via", proxy.via(tx.call.branch())))
    hdrs += [("Via", v) for v in tx.received_vias()]
    for k, v in tx.headers:
        if k.lower() == "max-forwards":
            hdrs.append((k, str(int(v) - 1)))
        elif k.lower() == "route" and f"sip:{proxy.ip};" in v:
            continue
        elif k.lower() != "via":
            hdrs.append((k, v))
    return Tx(
        tx.call,
        at,
        proxy,
        to,
        tx.method,
        ruri or tx.ruri,
        hdrs,
        tx.body if body is None else body,
        tx.ctype,
    )


def proxy_relay(tx: Tx, at: float, down: Response, body: str | None = None) -> Response:
    """sipflow's Tx.relay, with the body the proxy sends back (its relay's address in the SDP)."""
    hdrs = [("Via", v) for v in tx.received_vias()]
    hdrs += [(k, v) for k, v in down.headers if k.lower() != "via"]
    first = f"SIP/2.0 {down.code} {down.first.split(' ', 2)[2]}"
    resp = Response(
        tx, at, tx.dst, down.code, first, hdrs, down.body if body is None else body, down.ctype
    )
    tx._answered(resp)
    return resp


def routed_request(c: Call, at: float, method: str, proxy: Node, *, by: Node, cseq: int) -> Tx:
    """An in-dialog request (ACK of a 2xx, BYE) through the record-routing proxy."""
    peer = c.callee if by == c.caller else c.caller
    hdrs = [
        ("Via", by.via(c.branch())),
        ("Max-Forwards", "70"),
        ("Route", f"<sip:{proxy.ip};lr>"),
        ("From", f"{c.identity(by)};tag={c.tag(by, 0)}"),
        ("To", f"{c.identity(peer)};tag={c.tag(peer, 0)}"),
        ("Call-ID", c.call_id),
        ("CSeq", f"{cseq} {method}"),
        ("User-Agent", by.agent),
    ]
    return Tx(c, at, by, proxy, method, c.contacts[peer.name][0], hdrs)


# --------------------------------------------------------------------------
# The truth of a capture, from what was built


def sip_fields(data: bytes) -> tuple[str, str, str, str]:
    """(token, Call-ID, CSeq method, body): token is the method or the status code."""
    text = data.decode(errors="replace")
    head, _, body = text.partition(CRLF + CRLF)
    first = head.split(CRLF, 1)[0]
    token = first.split()[1] if first.startswith("SIP/2.0") else first.split()[0]
    call_id = re.search(r"(?im)^(?:Call-ID|i):\s*(\S+)", head)
    cseq = re.search(r"(?im)^CSeq:\s*\d+\s+(\S+)", head)
    return token, call_id.group(1) if call_id else "", cseq.group(1) if cseq else "", body


def sdp_addresses(body: str) -> set[str]:
    """The media addresses an SDP body announces: c= with each m= port, and ICE candidates."""
    found = set()
    conn = re.search(r"(?m)^c=IN IP[46] (\S+)", body)
    for port in re.findall(r"(?m)^m=\w+ (\d+)", body):
        if conn:
            found.add(fmt_addr((conn.group(1), int(port))))
    for host, port in re.findall(r"(?m)^a=candidate:\S+ 1 \S+ \d+ (\S+) (\d+) typ", body):
        found.add(fmt_addr((host, int(port))))
    return found


def stream_truth(entries: list[Entry], announced: dict[str, set[str]]) -> dict[str, Any]:
    pkts: list[Pkt] = [e.meta for e in entries]
    s = pkts[0].stream
    arrivals = [
        (e.t_us, p.seq & 0xFFFF, p.ts & 0xFFFFFFFF) for e, p in zip(entries, pkts, strict=True)
    ]
    r = receive(arrivals, s.clock)
    pts: dict[str, int] = {}
    for p in pkts:
        pts[str(p.pt)] = pts.get(str(p.pt), 0) + 1
    main = max(pts, key=lambda k: (pts[k], -int(k)))
    call_id = s.call.call_id if s.call else None
    src, dst = fmt_addr(pkts[0].src), fmt_addr(pkts[0].dst)
    sdp = announced.get(call_id or "", set())
    out: dict[str, Any] = {
        "src": src,
        "dst": dst,
        "ssrc": f"0x{s.ssrc:08X}",
        "call_id": call_id,
        "sender": s.sender,
        "payload_type": int(main),
        "codec": PT_NAMES[int(main)][0],
        "payload_types": pts,
        "clock_rate": s.clock,
        "content": s.content,
        "srtp": s.srtp,
        "src_in_sdp": src in sdp,
        "dst_in_sdp": dst in sdp,
        "packets": len(pkts),
        "expected": r.expected,
        "lost": r.lost,
        "lost_rfc3550": r.expected - r.received,
        "duplicates": r.duplicates,
        "out_of_order": r.out_of_order,
        "first_seq": r.base_ext & 0xFFFF,
        "last_seq": r.max_ext & 0xFFFF,
        "seq_cycles": r.max_ext >> 16,
        "first_frame": entries[0].frames[0],
        "last_frame": entries[-1].frames[0],
        "start_s": entries[0].t_us / 1e6,
        "end_s": entries[-1].t_us / 1e6,
        "jitter_ms": round(r.jitter * 1000 / s.clock, 4),
        "jitter_ts_units": round(r.jitter, 3),
        "max_jitter_ms": round(r.max_jitter * 1000 / s.clock, 4),
        "max_delta_ms": r.max_delta_us / 1000,
        "lost_seqs": r.lost_seqs,
        "duplicate_seqs": r.duplicate_seqs,
        "out_of_order_seqs": r.out_of_order_seqs,
    }
    events = [(e, p) for e, p in zip(entries, pkts, strict=True) if p.pt == 101]
    if events:
        voice = [a for a, p in zip(arrivals, pkts, strict=True) if p.pt != 101]
        out["jitter_ms_without_events"] = round(receive(voice, s.clock).jitter * 1000 / s.clock, 4)
        digits: list[dict[str, Any]] = []
        for e, p in events:
            event, flags, duration = struct.unpack("!BBH", p.payload)
            if not digits or digits[-1]["rtp_timestamp"] != p.ts & 0xFFFFFFFF:
                digits.append(
                    {
                        "digit": DTMF_EVENTS[event],
                        "event": event,
                        "rtp_timestamp": p.ts & 0xFFFFFFFF,
                        "start_frame": e.frames[0],
                        "volume": flags & 0x3F,
                        "packets": 0,
                        "end_packets": 0,
                    }
                )
            d = digits[-1]
            d["packets"] += 1
            d["end_packets"] += bool(flags & 0x80)
            d["end_frame"] = e.frames[0]
            d["duration"] = duration
            d["duration_ms"] = duration * 1000 / s.clock
        out["dtmf"] = digits
    return out


def capture_truth(cap: MediaCapture, desc: str) -> dict[str, Any]:
    sip = [(e, *sip_fields(e.payload)) for e in cap.built if e.kind == "sip"]
    announced: dict[str, set[str]] = {}
    for _e, _tok, call_id, _m, body in sip:
        announced.setdefault(call_id, set()).update(sdp_addresses(body))
    calls = []
    for v in cap.verdicts:
        c: Call = v["call"]
        mine = [(e, tok, m) for e, tok, cid, m, _b in sip if cid == c.call_id]
        answer = [e for e, tok, m in mine if tok == "200" and m == "INVITE"]
        bye = [e for e, tok, m in mine if tok == "BYE"]
        calls.append(
            {
                "call_id": c.call_id,
                "caller": c.caller.name,
                "callee": c.callee.name,
                **{k: val for k, val in v.items() if k != "call"},
                "sip_sequence": " ".join(tok for _e, tok, _m in mine),
                "answer_frame": answer[0].frames[-1] if answer else None,
                "bye_frame": bye[0].frames[-1] if bye else None,
                "sdp_media_addresses": sorted(announced.get(c.call_id, set())),
            }
        )
    groups: dict[tuple, list[Entry]] = {}
    for e in cap.built:
        if e.kind == "rtp":
            groups.setdefault((e.src, e.dst, e.meta.stream.ssrc), []).append(e)
    rtcp = [
        {
            "frame": e.frames[0],
            "time_s": e.t_us / 1e6,
            "src": fmt_addr(e.src),
            "dst": fmt_addr(e.dst),
            **e.meta,
        }
        for e in cap.built
        if e.kind == "rtcp"
    ]
    other: dict[str, Any] = {}
    for e in cap.built:
        if e.kind not in ("sip", "rtp", "rtcp"):
            o = other.setdefault(e.kind, {"packets": 0, "frames": []})
            o["packets"] += 1
            o["frames"].append(e.frames[0])
    last = cap.built[-1]
    return {
        "description": desc,
        "frames": last.frames[-1],
        "duration_s": round((last.t_us - cap.built[0].t_us) / 1e6, 6),
        **cap.facts,
        "calls": calls,
        "rtp_streams": [stream_truth(g, announced) for g in groups.values()],
        "rtcp": rtcp,
        "other_packets": other,
    }


# --------------------------------------------------------------------------
# Declaring the scenarios

CATALOGUE = Catalogue("media")
TRUTH: dict[str, dict[str, Any]] = {}

Build = Callable[[MediaCapture], None]


def scenario(name: str, desc: str) -> Callable[[Build], Build]:
    """Register build(capture) as the maker of samples/media/NAME (and of its truth)."""

    def keep_truth(cap: MediaCapture) -> None:
        TRUTH[name] = capture_truth(cap, desc)

    return CATALOGUE.scenario(name, desc, MediaCapture, keep_truth)


# the usual timeline (seconds): INVITE 0, 100 0.004, 180 0.2, 200 2.5, ACK 2.502; the caller's
# RTP from 2.540, the callee's from 2.5465, a packet every 20 ms; BYE 160 ms after the media
ANSWER = 2.5
A_START = us(ANSWER + 0.040)
B_START = us(ANSWER + 0.0465)
PTIME = 20_000
N3 = 150  # 3 s of 20 ms packets
CONTENT_A = "440 Hz tone, G.711 u-law, -20 dBov"
CONTENT_B = "660 Hz tone, G.711 u-law, -20 dBov"


def end_of(count: int, start_us: int = A_START) -> float:
    """The time (s) one packet interval after the last of count packets from start_us."""
    return (start_us + count * PTIME) / 1e6


def caller_stream(cap: MediaCapture, c: Call, label: str = "caller", **kw: Any) -> Stream:
    kw.setdefault("content", CONTENT_A)
    src = kw.pop("src", rtp_addr(c.caller))
    dst = kw.pop("dst", rtp_addr(c.callee))
    return Stream(cap, label, src, dst, call=c, sender="caller", **kw)


def callee_stream(cap: MediaCapture, c: Call, label: str = "callee", **kw: Any) -> Stream:
    kw.setdefault("content", CONTENT_B)
    src = kw.pop("src", rtp_addr(c.callee))
    dst = kw.pop("dst", rtp_addr(c.caller))
    return Stream(cap, label, src, dst, call=c, sender="callee", **kw)


def two_way(
    cap: MediaCapture,
    c: Call,
    count: int = N3,
    *,
    a_start: int = A_START,
    b_start: int = B_START,
) -> tuple[Stream, Stream]:
    """Both tones, count packets each way."""
    sa, sb = caller_stream(cap, c), callee_stream(cap, c)
    sa.talk(a_start, count, tone(440))
    sb.talk(b_start, count, tone(660))
    return sa, sb


def normal_call(cap: MediaCapture, count: int = N3, **kw: Any) -> tuple[Call, Stream, Stream]:
    """alice calls bob, both talk count packets, alice hangs up 160 ms after her last one."""
    c = cap.call(ALICE, BOB)
    answered(c, **kw)
    sa, sb = two_way(cap, c, count)
    hang_up(c, end_of(count) + 0.14)
    return c, sa, sb


def media_phase(count: int = N3) -> tuple[str, float, float]:
    return ("two_way", A_START / 1e6, end_of(count, B_START))


REMOTE_DELAY = 15_000  # RTCP files: the capture is at alice's host, bob is 15 ms away (one way)


def with_rtcp(
    cap: MediaCapture,
    sa: Stream,
    sb: Stream,
    *,
    mux: bool = False,
    srtcp: bool = False,
    cnames: tuple[str, str] | None = None,
    xr: dict[str, int] | None = None,
) -> None:
    """SR + SDES from both sides about every 2.5 s, the last with BYE; on RTP port + 1 unless
    mux. The capture is at alice's host: bob's reports are computed from what reaches him
    15 ms after the capture shows it (minus sa's remote_lost packets)."""
    prng = Prng(cap.name, "rtcp")
    off = 0 if mux else 1
    ca, cb = cnames or (f"alice@{sa.src[0]}", f"bob@{rtp_addr(BOB)[0]}")

    # the last reports (with BYE) follow the last packets of both sides by about 40 ms
    end = max(sa.pkts[-1].t_us, sb.pkts[-1].t_us) + 17_000

    def party(s: Stream, cname: str, first: int, **kw: Any) -> Party:
        times = rtcp_times(s.pkts[0].t_us, end, first, prng)
        src, dst = (s.src[0], s.src[1] + off), (s.dst[0], s.dst[1] + off)
        return Party(s, src, dst, cname, times, srtcp=srtcp, **kw)

    pa = party(sa, ca, 503_100)
    pb = party(sb, cb, 777_300, skew_us=REMOTE_DELAY, xr_final=xr)
    rtcp_exchange(cap, pa, pb)
    cap.facts["capture_point"] = (
        "at alice's host; bob is 15 ms away each way, so RTT is 30 ms. rtt_ms is what the "
        "source of the stream computes when the report reaches it; rtt_ms_at_capture is "
        "the capture time of the report - LSR - DLSR"
    )


# --------------------------------------------------------------------------
# Clean call, loss, jitter, reordering


@scenario(
    "two-way-g711.pcap",
    "clean call, 3 s of PCMU each way (440 Hz from alice, 660 Hz from bob); RTCP SR + SDES "
    "from both sides about every 2.5 s on RTP port + 1, each with a report block about the "
    "other side, the last one with BYE",
)
def two_way_g711(cap: MediaCapture) -> None:
    c, sa, sb = normal_call(cap)
    with_rtcp(cap, sa, sb)
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("rtcp",))


@scenario(
    "loss-random.pcap",
    "alice -> bob loses every 20th packet (7 of 150, 4.7 %, never the last); bob -> alice clean",
)
def loss_random(cap: MediaCapture) -> None:
    c, sa, _sb = normal_call(cap)
    for k, p in enumerate(sa.pkts):
        p.lost = k % 20 == 19
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("loss",))


@scenario(
    "loss-burst.pcap",
    "bob -> alice loses 3 bursts of 6 consecutive packets (packets 31-36, 71-76, 111-116 "
    "of 150); alice -> bob clean",
)
def loss_burst(cap: MediaCapture) -> None:
    c, _sa, sb = normal_call(cap)
    for start in (30, 70, 110):
        for p in sb.pkts[start : start + 6]:
            p.lost = True
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("loss", "burst_loss"))


@scenario(
    "jitter.pcap",
    "bob -> alice crosses a link that delivers in bursts: the packets of each 200 ms pass the "
    "capture point together at the end of it, 1 ms apart (plus a pseudo-random 0-0.9 ms), so the "
    "arrival spacing goes 1, 1, ... 1, 181 ms instead of 20 ms; none overtakes another; "
    "alice -> bob clean",
)
def jitter(cap: MediaCapture) -> None:
    c, sa, sb = normal_call(cap)
    prng = Prng(cap.name, "jitter")
    taken = {p.t_us for p in sa.pkts}
    for index, p in enumerate(sb.pkts):
        t = sb.pkts[index - index % 10].t_us + 180_000 + (index % 10) * 1_000
        t += prng.randint(0, 900)
        while t in taken:
            t += 1
        p.arrive_us = t
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("jitter",))


@scenario(
    "reorder-duplicates-wrap.pcap",
    "alice -> bob starts at sequence number 65500 and wraps through 0 after 36 packets; three "
    "adjacent pairs arrive swapped (65535/0, 34/35, 74/75: the first of each pair 25 ms late), "
    "two packets (14 and 84) arrive twice, 0.5 ms apart (the same IP packet); nothing lost",
)
def reorder_duplicates_wrap(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    sa = caller_stream(cap, c, seq0=65500)
    sa.talk(A_START, N3, tone(440))
    callee_stream(cap, c).talk(B_START, N3, tone(660))
    for k in (35, 70, 110):
        sa.pkts[k].arrive_us = sa.pkts[k + 1].t_us + 5_000
    for k in (50, 120):
        sa.pkts[k].dup_us = [sa.pkts[k].t_us + 500]
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase()],
        expect=("out_of_order", "duplicates", "seq_wrap"),
        expect_not=("loss",),
    )


# --------------------------------------------------------------------------
# One-way audio


@scenario(
    "one-way-callee-silent.pcap",
    "bob sends no RTP at all; alice -> bob flows 4 s; BYE from alice",
)
def one_way_callee_silent(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    caller_stream(cap, c).talk(A_START, 200, tone(440))
    hang_up(c, end_of(200) + 0.14)
    cap.verdict(
        c,
        "one_way",
        not_heard="callee",
        phases=[("one_way", A_START / 1e6, end_of(200), "callee")],
        expect=("one_way",),
    )


@scenario(
    "one-way-nat-private-sdp.pcap",
    "bob is behind NAT: his SIP comes from 203.0.113.7:5060 but his Via, Contact and SDP say "
    "192.168.1.30 (c=IN IP4 192.168.1.30, port 4000). Captured at alice's side: alice sends "
    "her RTP to 192.168.1.30:4000 (and goes on doing so: she does not latch); bob's RTP comes "
    "from the NAT, 203.0.113.7:61002, to alice's SDP port. Bob cannot hear alice",
)
def one_way_nat_private_sdp(cap: MediaCapture) -> None:
    bob = Node(
        "bob", "192.168.1.30", user="bob", agent=BOB.agent, rtp_port=4000, wire_ip=BOB_NAT_PUBLIC
    )
    c = cap.call(ALICE, bob, to_uri=f"sip:bob@{BOB_NAT_PUBLIC}")
    answered(c)
    sa = caller_stream(cap, c)
    sb = callee_stream(cap, c, src=(BOB_NAT_PUBLIC, 61002))
    sa.talk(A_START, N3, tone(440))
    sb.talk(B_START, N3, tone(660))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "one_way",
        not_heard="caller",
        phases=[("one_way", A_START / 1e6, end_of(N3, B_START), "caller")],
        expect=("one_way", "nat_private_sdp"),
    )


@scenario(
    "nat-latching-ok.pcap",
    "alice is behind NAT (SIP from 203.0.113.5, Via/Contact/SDP 192.168.1.20, SDP port "
    "49170); her RTP arrives from 203.0.113.5:62000. Bob is an SBC that latches: it sends its "
    "RTP to 203.0.113.5:62000, where alice's comes from. Two-way audio, nothing to warn about",
)
def nat_latching_ok(cap: MediaCapture) -> None:
    alice = replace(ALICE, ip="192.168.1.20", wire_ip=ALICE_NAT_PUBLIC)
    c = cap.call(alice, BOB)
    answered(c)
    nat = (ALICE_NAT_PUBLIC, 62000)
    sa = caller_stream(cap, c, src=nat)
    sb = callee_stream(cap, c, dst=nat)
    sa.talk(A_START, N3, tone(440))
    sb.talk(B_START, N3, tone(660))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase()],
        expect_not=("one_way", "nat_private_sdp", "wrong_port", "loss"),
        notes="the private address in alice's SDP does no harm: bob latches onto the address "
        "her RTP comes from (symmetric RTP), so no warning should be raised",
    )


@scenario(
    "rtp-wrong-port.pcap",
    "alice sends her RTP to bob's address at his SDP port + 2 (3458 instead of 3456); "
    "bob -> alice is normal",
)
def rtp_wrong_port(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    sa = caller_stream(cap, c, dst=(BOB_V4, BOB.rtp_port + 2))
    sa.talk(A_START, N3, tone(440))
    callee_stream(cap, c).talk(B_START, N3, tone(660))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "one_way",
        not_heard="caller",
        phases=[("one_way", A_START / 1e6, end_of(N3, B_START), "caller")],
        expect=("one_way", "wrong_port"),
    )


@scenario(
    "icmp-unreachable.pcap",
    "alice sends RTP to bob's SDP port; bob's host answers each of her packets of the first "
    "second (then every 10th) with ICMP destination unreachable, port unreachable (type 3 "
    "code 3) quoting the IP, UDP and RTP headers, 30.2 ms later; bob's RTP to alice flows",
)
def icmp_unreachable(cap: MediaCapture) -> None:
    c, sa, _sb = normal_call(cap)
    for k, p in enumerate(sa.pkts):
        if k < 50 or k % 10 == 0:
            cap.icmp_unreachable(p.t_us + 30_200, p)
    cap.verdict(
        c,
        "one_way",
        not_heard="caller",
        phases=[("one_way", A_START / 1e6, end_of(N3, B_START), "caller")],
        expect=("one_way", "icmp_unreachable"),
        notes="bob's host rejects datagrams to its RTP port (as a host firewall REJECT rule "
        "would) while bob's RTP still leaves from that port",
    )


# --------------------------------------------------------------------------
# What the audio holds


@scenario(
    "silence-only.pcap",
    "bob sends only digitally silent PCMU payloads (160 x 0xFF) the whole call; alice's tone "
    "is normal",
)
def silence_only(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    caller_stream(cap, c).talk(A_START, N3, tone(440))
    callee_stream(cap, c, content="digital silence (160 x 0xFF)").talk(B_START, N3, silence)
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        heard={"caller": True, "callee": False},
        phases=[media_phase()],
        expect=("silence",),
    )


CN_OFFER = (
    (0, "PCMU/8000", None),
    (8, "PCMA/8000", None),
    (13, "CN/8000", None),
    (101, "telephone-event/8000", "0-16"),
)
CN_ANSWER = ((0, "PCMU/8000", None), (13, "CN/8000", None), (101, "telephone-event/8000", "0-16"))


@scenario(
    "comfort-noise-only.pcap",
    "alice offers PCMU, PCMA, CN and telephone-event; bob answers with CN (a=rtpmap:13 CN/8000) "
    "and sends only RFC 3389 comfort noise: PT 13, 1-byte payload (noise level 70, -70 dBov), "
    "every 200 ms (timestamp +1600)",
)
def comfort_noise_only(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c, offer=sdp_of(c, ALICE, codecs=CN_OFFER), answer=sdp_of(c, BOB, codecs=CN_ANSWER))
    caller_stream(cap, c).talk(A_START, N3, tone(440))
    sb = callee_stream(cap, c, pt=13, content="RFC 3389 comfort noise only, level 70 (-70 dBov)")
    sb.talk(B_START, 15, lambda _n: bytes([70]), every_us=200_000, marker=False)
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        heard={"caller": True, "callee": False},
        phases=[media_phase()],
        expect=("comfort_noise", "silence"),
    )


PCMU_TE = ((0, "PCMU/8000", None), (101, "telephone-event/8000", "0-16"))


@scenario(
    "unexpected-payload-type.pcap",
    "the answer negotiates PCMU and telephone-event/8000 (PT 101) only; bob sends PT 18 "
    "(G.729, 20-byte payloads) all the same",
)
def unexpected_payload_type(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c, answer=sdp_of(c, BOB, codecs=PCMU_TE))
    caller_stream(cap, c).talk(A_START, N3, tone(440))
    sb = callee_stream(cap, c, pt=18, content="PT 18 (G.729) payloads, 20 random-looking bytes")
    sb.talk(B_START, N3, random_payload(Prng(cap.name, "g729"), 20))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        heard={"caller": True, "callee": False},
        phases=[media_phase()],
        expect=("unexpected_payload_type",),
        notes="RTP flows both ways, but alice cannot decode bob's payload type: it was not "
        "negotiated",
    )


# --------------------------------------------------------------------------
# When media flows


@scenario(
    "dead-air.pcap",
    "both directions flow 4 s, then alice -> bob stops while bob -> alice goes on 15 s more; "
    "then BYE from bob",
)
def dead_air(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    caller_stream(cap, c).talk(A_START, 200, tone(440))
    callee_stream(cap, c).talk(B_START, 950, tone(660))
    hang_up(c, end_of(950, B_START) + 0.1, by=BOB)
    cap.verdict(
        c,
        "two_way",
        phases=[
            ("two_way", A_START / 1e6, end_of(200)),
            ("one_way", end_of(200), end_of(950, B_START), "caller"),
        ],
        expect=("dead_air",),
        notes="two-way for 4 s, then only bob's audio for 15 s (alice's stops mid-call)",
    )


@scenario(
    "audio-gap.pcap",
    "both directions flow 6 s, but 1.5 s after the answer bob's audio is cut for 1.5 s: his "
    "next 75 packets never arrive (a network outage between him and the capture point), then "
    "it goes on; BYE from alice",
)
def audio_gap(cap: MediaCapture) -> None:
    c, _sa, sb = normal_call(cap, 300)
    for p in sb.pkts[75:150]:
        p.lost = True
    cap.verdict(
        c,
        "two_way",
        phases=[
            ("two_way", A_START / 1e6, end_of(75, B_START)),
            ("one_way", end_of(75, B_START), end_of(150, B_START), "callee"),
            ("two_way", end_of(150, B_START), end_of(300)),
        ],
        expect=("audio_outage", "loss"),
        notes="bob's audio is cut for 1.5 s mid-call: 75 packets lost in a row",
    )


@scenario(
    "capture-dropped.pcap",
    "a 6 s call whose capture drops everything for two stretches of 0.5 s (at 2 s and 4 s "
    "after the answer): both directions miss their 25 packets at the same moments, as a "
    "mirror port that cannot keep up does; nothing was lost on the network",
)
def capture_dropped(cap: MediaCapture) -> None:
    c, sa, sb = normal_call(cap, 300)
    for stream in (sa, sb):
        for start in (100, 200):
            for p in stream.pkts[start : start + 25]:
                p.lost = True
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase(300)],
        expect=("capture_dropped",),
        expect_not=("loss", "audio_outage"),
        notes="the capture point dropped both directions at once; the network lost nothing",
    )


@scenario(
    "rtp-timeout-bye.pcap",
    "both directions flow 4 s, then both stop; 30 s after the last packet bob sends BYE (as a "
    "PBX does on RTP time-out), 200",
)
def rtp_timeout_bye(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    two_way(cap, c, 200)
    hang_up(c, end_of(200, B_START) + 30.0, by=BOB)
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase(200), ("none", end_of(200, B_START), end_of(200, B_START) + 30.0)],
        expect=("rtp_timeout",),
    )


@scenario(
    "late-media.pcap",
    "RTP in both directions starts only 4 s after the 200 OK (4.04 s after it for alice), "
    "then 3 s of audio",
)
def late_media(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    late = 4_000_000
    two_way(cap, c, a_start=A_START + late, b_start=B_START + late)
    hang_up(c, end_of(N3, A_START + late) + 0.14)
    cap.verdict(
        c,
        "two_way",
        phases=[
            ("none", ANSWER, (A_START + late) / 1e6),
            ("two_way", (A_START + late) / 1e6, end_of(N3, B_START + late)),
        ],
        expect=("late_media",),
    )


@scenario(
    "early-media-183.pcap",
    "INVITE, 100, 183 Session Progress with SDP at 0.46 s; bob sends RTP (an announcement) from "
    "0.5065 s, 2 s before the 200 OK (2.5 s, same SDP), and goes on with the same stream; "
    "alice's RTP starts after the 200: a normal two-way call",
)
def early_media_183(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    inv = c.invite(0.0, sdp=sdp_of(c, ALICE))
    inv.reply(0.004, 100)
    inv.reply(0.46, 183, sdp=sdp_of(c, BOB))
    sb = callee_stream(cap, c, content=CONTENT_B + "; from 0.5065 s (early media)")
    sb.talk(us(0.5065), 250, tone(660))
    inv.reply(ANSWER, 200, sdp=sdp_of(c, BOB))
    inv.ack()
    caller_stream(cap, c).talk(A_START, N3, tone(440))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        phases=[("early_media", 0.5065, ANSWER, "caller"), media_phase()],
        expect=("early_media",),
    )


@scenario(
    "unannounced-rtp.pcap",
    "the capture starts mid-call: 3 s of RTP both ways between alice:49170 and bob:3456 (no "
    "INVITE, no SDP in the file; the first packets are mid-stream, without marker), then BYE "
    "from alice to bob and 200",
)
def unannounced_rtp(cap: MediaCapture) -> None:
    cap.start_us = 0
    c = cap.call(ALICE, BOB)
    answered(c, at=-30.0)  # before the capture started
    caller_stream(cap, c).talk(10_000, N3, tone(440), marker=False)
    callee_stream(cap, c).talk(16_500, N3, tone(660), marker=False)
    hang_up(c, end_of(N3, 10_000) + 0.14)
    cap.verdict(
        c,
        "two_way",
        phases=[("two_way", 0.0, end_of(N3, 16_500))],
        expect=("unannounced_rtp",),
        notes="the dialog was set up 30 s before the capture started; only the BYE "
        "transaction is in the file",
    )


# --------------------------------------------------------------------------
# SSRC changes, re-INVITEs, hold


@scenario(
    "ssrc-change.pcap",
    "1.5 s into the call bob's SSRC changes, and his sequence numbers and timestamps start "
    "afresh, with no re-INVITE or anything else in the signalling",
)
def ssrc_change(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    caller_stream(cap, c).talk(A_START, N3, tone(440))
    callee_stream(cap, c, "callee-1").talk(B_START, 75, tone(660))
    callee_stream(cap, c, "callee-2").talk(B_START + 75 * PTIME, 75, tone(660))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("ssrc_change",))


@scenario(
    "ssrc-change-reinvite.pcap",
    "at 4.05 s bob sends a re-INVITE with a new SDP (o= version + 1, same address and port), "
    "200 (alice's SDP unchanged), ACK; his next packet (4.0665 s) has a new SSRC, sequence "
    "and timestamp",
)
def ssrc_change_reinvite(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    caller_stream(cap, c).talk(A_START, N3, tone(440))
    callee_stream(cap, c, "callee-1").talk(B_START, 76, tone(660))
    reinv = c.invite(4.05, by=BOB, sdp=sdp_of(c, BOB, bump=True))
    reinv.reply(4.054, 200, sdp=sdp_of(c, ALICE))
    reinv.ack()
    callee_stream(cap, c, "callee-2").talk(B_START + 76 * PTIME, 74, tone(660))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase()],
        expect_not=("ssrc_change",),
        notes="the SSRC change follows a re-INVITE (new SDP version): expected, not a problem",
    )


@scenario(
    "reinvite-moves-media.pcap",
    "at 4.05 s bob re-INVITEs with c=198.51.100.21, port 4002 (direct media / transfer); 200 "
    "from alice, ACK. From then on bob's RTP comes from 198.51.100.21:4002 (a new SSRC: "
    "another device) and alice sends hers there (same SSRC, sequence going on)",
)
def reinvite_moves_media(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    moved = ("198.51.100.21", 4002)
    sa = caller_stream(cap, c)
    sa.talk(A_START, 76, tone(440))
    callee_stream(cap, c).talk(B_START, 76, tone(660))
    reinv = c.invite(4.05, by=BOB, sdp=sdp_of(c, BOB, port=moved[1], conn=moved[0]))
    reinv.reply(4.054, 200, sdp=sdp_of(c, ALICE))
    reinv.ack()
    sa.dst = moved
    sa.talk(A_START + 76 * PTIME, 74, tone(440), marker=False)
    callee_stream(cap, c, "callee-moved", src=moved).talk(B_START + 76 * PTIME, 74, tone(660))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase()],
        expect=("media_moved",),
        expect_not=("one_way", "ssrc_change", "wrong_port"),
    )


def hold_call(cap: MediaCapture, hold: str, held: str, caller_pauses: bool) -> Call:
    """Hold at 4.05 s (alice's re-INVITE with a=hold, bob's answer a=held), resume at 6.55 s;
    bob pauses during the hold, alice too if caller_pauses; both 1.5 s after the resume."""
    c = cap.call(ALICE, BOB)
    answered(c)
    sa, sb = caller_stream(cap, c), callee_stream(cap, c)
    for s, start, freq in ((sa, A_START, 440), (sb, B_START, 660)):
        if s is sa and not caller_pauses:
            s.talk(start, 276, tone(freq))
        else:
            s.talk(start, 76, tone(freq))
            s.talk(start + 201 * PTIME, 75, tone(freq))  # marker: a new talkspurt
    for at, mine, theirs in ((4.05, hold, held), (6.55, "sendrecv", "sendrecv")):
        reinv = c.invite(at, sdp=sdp_of(c, ALICE, direction=mine))
        reinv.reply(at + 0.004, 200, sdp=sdp_of(c, BOB, direction=theirs))
        reinv.ack()
    hang_up(c, end_of(276) + 0.14)
    return c


@scenario(
    "hold-sendonly.pcap",
    "at 4.05 s alice re-INVITEs with a=sendonly, bob answers a=recvonly: during the hold bob "
    "sends no RTP, alice goes on; at 6.55 s alice re-INVITEs with sendrecv, bob answers "
    "sendrecv, and both send 1.5 s more (bob's stream resumes: same SSRC, next sequence "
    "number, timestamp moved on by the pause, marker)",
)
def hold_sendonly(cap: MediaCapture) -> None:
    c = hold_call(cap, "sendonly", "recvonly", caller_pauses=False)
    cap.verdict(
        c,
        "two_way",
        phases=[
            ("two_way", A_START / 1e6, 4.054),
            ("on_hold", 4.054, 6.554, "callee"),
            ("two_way", 6.554, end_of(276, B_START)),
        ],
        expect=("hold",),
        expect_not=("one_way", "loss", "rtp_timeout"),
        notes="on hold (sendonly/recvonly) from 4.054 to 6.554 s, then back to two-way",
    )


@scenario(
    "hold-inactive.pcap",
    "as hold-sendonly, but with a=inactive both ways: no RTP either way from 4.05 to 6.55 s",
)
def hold_inactive(cap: MediaCapture) -> None:
    c = hold_call(cap, "inactive", "inactive", caller_pauses=True)
    cap.verdict(
        c,
        "two_way",
        phases=[
            ("two_way", A_START / 1e6, 4.054),
            ("on_hold", 4.054, 6.554),
            ("two_way", 6.554, end_of(276, B_START)),
        ],
        expect=("hold",),
        expect_not=("one_way", "loss", "rtp_timeout", "no_media"),
        notes="on hold (inactive) from 4.054 to 6.554 s, then back to two-way",
    )


# --------------------------------------------------------------------------
# Calls without (captured) media


@scenario(
    "no-media.pcap",
    "alice calls bob, answered, 6 s, no RTP for this call at all; meanwhile alice "
    "(192.0.2.10) has a second, overlapping call to carol (192.0.2.30, from 1 s) with normal "
    "two-way RTP (alice's port 49180), so RTP from alice's host is visibly captured",
)
def no_media(cap: MediaCapture) -> None:
    c1 = cap.call(ALICE, BOB)
    answered(c1)
    c2 = cap.call(replace(ALICE, rtp_port=49180), CAROL)
    answered(c2, at=1.0)
    two_way(cap, c2, a_start=A_START + 1_000_000, b_start=B_START + 1_000_000)
    hang_up(c2, end_of(N3, A_START + 1_000_000) + 0.14)
    hang_up(c1, ANSWER + 6.0)
    cap.verdict(c1, "none", phases=[("none", ANSWER, ANSWER + 6.0)], expect=("no_media",))
    cap.verdict(
        c2,
        "two_way",
        phases=[("two_way", 3.54, end_of(N3, B_START + 1_000_000))],
    )


@scenario(
    "sip-only-not-captured.pcap",
    "a normal call with SDP on both sides, but the capture holds only SIP (as with a "
    "'port 5060' capture filter)",
)
def sip_only_not_captured(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(
        c,
        "not_captured",
        expect=("not_captured",),
        expect_not=("no_media", "one_way"),
        notes="nothing but SIP in the file: the media was not captured, which says nothing "
        "about whether it flowed",
    )


def dns_pair(prng: Prng, n: int) -> tuple[bytes, bytes]:
    name, qtype, answer = (
        ("sip.example.com", "A", DNSRR(rrname="sip.example.com", type="A", ttl=300, rdata=BOB_V4)),
        (
            "sip.example.com",
            "AAAA",
            DNSRR(rrname="sip.example.com", type="AAAA", ttl=300, rdata=BOB_V6),
        ),
        ("example.net", "A", DNSRR(rrname="example.net", type="A", ttl=60, rdata="203.0.113.80")),
    )[n % 3]
    qid = prng.randint(0, 0xFFFF)
    query = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))
    reply = DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=answer)
    return bytes(query), bytes(reply)


def ntp_pair(t_us: int) -> tuple[bytes, bytes]:
    """An NTPv4 client request (mode 3) and the server's answer (mode 4), 1.2 ms later."""
    sent, got, back = ntp64(t_us), ntp64(t_us + 600), ntp64(t_us + 601)
    query = struct.pack("!BBbbII4sQQQQ", 0x23, 0, 6, -20, 0, 0, b"\0" * 4, 0, 0, 0, sent)
    reply = struct.pack(
        "!BBbbII4sQQQQ",
        0x24,
        2,
        6,
        -23,
        0x0000_0A00,
        0x0000_1F00,
        bytes([192, 0, 2, 123]),
        ntp64(t_us - 60_000_000),
        sent,
        got,
        back,
    )
    return query, reply


def syslog_line(t_us: int, n: int) -> bytes:
    stamp = f"2023-11-14T22:{13 + t_us // 60_000_000:02d}:{20 + t_us // 1_000_000 % 60:02d}"
    text = f"<134>1 {stamp}.{t_us // 1000 % 1000:03d}Z alice.example.com sipdiag-craft-alice"
    return f"{text} - - - call 1: keep-alive {n}".encode()


@scenario(
    "not-rtp-udp.pcap",
    "a normal SIP call with SDP, no RTP captured; between the same two hosts, every 20-100 "
    "ms, unrelated UDP: DNS queries and answers (to bob:53), NTP (123), syslog (514), and "
    "datagrams on 16400/16402 whose first byte is 0x80 but whose other fields do not behave "
    "like RTP (random payload type, sequence, timestamp, SSRC and length each time)",
)
def not_rtp_udp(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    hang_up(c, end_of(N3) + 0.14)
    prng = Prng(cap.name, "udp")
    a, b = ALICE_V4, BOB_V4
    t, n = 50_000 + prng.randint(0, 999), 0
    while t < us(end_of(N3)):
        kind = ("dns", "ntp", "syslog", "junk", "junk")[prng.randint(0, 4)]
        if kind == "dns":
            q, r = dns_pair(prng, n)
            port = prng.randint(32768, 60999)
            cap.datagram(t, (a, port), (b, 53), q, "dns")
            cap.datagram(t + 800, (b, 53), (a, port), r, "dns")
        elif kind == "ntp":
            q, r = ntp_pair(t)
            cap.datagram(t, (a, 123), (b, 123), q, "ntp")
            cap.datagram(t + 1_200, (b, 123), (a, 123), r, "ntp")
        elif kind == "syslog":
            cap.datagram(t, (a, 514), (b, 514), syslog_line(t, n), "syslog")
        else:
            ends = [(a, 16400), (b, 16402)]
            if prng.randint(0, 1):
                ends.reverse()
            junk = bytes([0x80]) + prng.bytes(11 + prng.randint(8, 200))
            cap.datagram(t, ends[0], ends[1], junk, "junk")
        n += 1
        t += prng.randint(20_000, 100_000)
    cap.verdict(
        c,
        "none",
        phases=[("none", ANSWER, end_of(N3) + 0.14)],
        expect=("no_media",),
        expect_not=("rtp",),
        notes="UDP between the two hosts is captured both ways (the capture is not filtered "
        "to SIP), but none of it is RTP: the junk datagrams start with 0x80 only",
    )


# --------------------------------------------------------------------------
# RTCP


@scenario(
    "rtcp-remote-loss.pcap",
    "alice -> bob is complete in the capture (taken at alice's host), 5 s; bob receives only 9 "
    "of every 10 packets (lost after the capture point): his SRs' report blocks about alice's "
    "SSRC give fraction lost about 10 % and a growing cumulative lost. SR + SDES both ways "
    "about every 2.5 s, the last with BYE",
)
def rtcp_remote_loss(cap: MediaCapture) -> None:
    c, sa, sb = normal_call(cap, 250)
    for k, p in enumerate(sa.pkts):
        p.remote_lost = k % 10 == 4
    with_rtcp(cap, sa, sb)
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase(250)],
        expect=("rtcp", "rtcp_remote_loss"),
        expect_not=("loss",),
    )


@scenario(
    "rtcp-mux.pcap",
    "as two-way-g711, with a=rtcp-mux on both sides: RTCP (SR + SDES, BYE at the end) on the "
    "RTP ports",
)
def rtcp_mux(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    mux = ("a=rtcp-mux",)
    answered(c, offer=sdp_of(c, ALICE, attrs=mux), answer=sdp_of(c, BOB, attrs=mux))
    sa, sb = two_way(cap, c)
    hang_up(c, end_of(N3) + 0.14)
    with_rtcp(cap, sa, sb, mux=True)
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("rtcp", "rtcp_mux"))


XR_METRICS = {
    "round_trip_delay": 30,
    "end_system_delay": 60,
    "r_factor": 80,
    "mos_lq": 40,
    "mos_cq": 39,
}


@scenario(
    "rtcp-xr-voip-metrics.pcap",
    "as two-way-g711 (3.2 s each way); bob loses every 20th of alice's packets after the "
    "capture point (8 of 160), and his last RTCP compound (SR, SDES, XR, BYE) has an XR "
    "(PT 207) VoIP Metrics block (RFC 3611 block type 7) about alice's SSRC: loss rate 12/256, "
    "R factor 80, MOS-LQ 4.0, MOS-CQ 3.9, round trip delay 30 ms",
)
def rtcp_xr_voip_metrics(cap: MediaCapture) -> None:
    c, sa, sb = normal_call(cap, 160)
    for k, p in enumerate(sa.pkts):
        p.remote_lost = k % 20 == 10
    with_rtcp(cap, sa, sb, xr=XR_METRICS)
    xr = [e.meta for e in cap.entries if e.kind == "rtcp" and "xr_voip_metrics" in e.meta]
    assert len(xr) == 1 and xr[0]["xr_voip_metrics"]["loss_rate"] == 12
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase(160)],
        expect=("rtcp", "rtcp_xr", "rtcp_remote_loss"),
        expect_not=("loss",),
    )


# --------------------------------------------------------------------------
# SRTP, DTMF, other codecs, IPv6, relays, port reuse


def crypto(cap: MediaCapture, who: str) -> str:
    key = base64.b64encode(Prng(cap.name, who, "srtp-key").bytes(30)).decode()
    return f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}"


@scenario(
    "srtp-savp.pcap",
    "m=audio ... RTP/SAVP with a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<fixed key> on both "
    "sides; RTP headers in the clear, payloads 160 random-looking bytes + a 10-byte auth tag; "
    "bob -> alice loses 2 packets (41st and 98th); no SRTCP",
)
def srtp_savp(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    offer = sdp_of(c, ALICE, profile="RTP/SAVP", attrs=(crypto(cap, "alice"),))
    answered(c, offer=offer, answer=sdp_of(c, BOB, profile="RTP/SAVP", attrs=(crypto(cap, "bob"),)))
    srtp = "SRTP: 160 bytes of encrypted payload + 10-byte auth tag"
    for s, start in (
        (caller_stream(cap, c, content=srtp, srtp=True), A_START),
        (callee_stream(cap, c, content=srtp, srtp=True), B_START),
    ):
        s.talk(start, N3, random_payload(Prng(cap.name, s.label, "srtp"), 170))
    for k in (40, 97):
        cap.streams[1].pkts[k].lost = True
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("srtp", "loss"))


@scenario(
    "dtmf-rfc4733.pcap",
    "alice sends the digits 1, 2 and # as RFC 4733 telephone-events (PT 101) 0.5, 1.0 and "
    "1.5 s into her stream: 5 updates 20 ms apart (the first with the marker bit, the same "
    "RTP timestamp, duration 160 to 800), then 3 end packets (E bit, duration 960); volume 10; "
    "her voice packets pause during each event. 3 s call",
)
def dtmf_rfc4733(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c)
    sa = caller_stream(cap, c, content=CONTENT_A + "; RFC 4733 events 1, 2, #")
    voice, digits, k = tone(440), {25: 1, 50: 2, 75: 11}, 0
    while k < N3:
        t = A_START + k * PTIME
        ts = sa.ts_at(t)
        if k in digits:
            for j in range(8):
                payload = dtmf_payload(digits[k], j >= 5, 10, 160 * min(j + 1, 6))
                sa.send(t + j * PTIME, payload, pt=101, marker=j == 0, ts=ts)
            k += 8
        else:
            sa.send(t, voice(ts - sa.ts0), ts=ts, marker=k == 0)
            k += 1
    callee_stream(cap, c).talk(B_START, N3, tone(660))
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("dtmf",))


G729_TE = ((18, "G729/8000", "annexb=no"), (101, "telephone-event/8000", "0-16"))


@scenario(
    "g729-loss.pcap",
    "a G.729 call (PT 18, a=fmtp:18 annexb=no, 20-byte payloads of random-looking bytes every "
    "20 ms); alice -> bob loses every 12th packet (12 of 150, 8 %)",
)
def g729_loss(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB)
    answered(c, offer=sdp_of(c, ALICE, codecs=G729_TE), answer=sdp_of(c, BOB, codecs=G729_TE))
    g729 = "G.729 (PT 18): 20 random-looking bytes per 20 ms (not real G.729 frames)"
    sa = caller_stream(cap, c, pt=18, content=g729)
    sb = callee_stream(cap, c, pt=18, content=g729)
    sa.talk(A_START, N3, random_payload(Prng(cap.name, "caller-g729"), 20))
    sb.talk(B_START, N3, random_payload(Prng(cap.name, "callee-g729"), 20))
    for k, p in enumerate(sa.pkts):
        p.lost = k % 12 == 6
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("loss",))


@scenario(
    "ipv6-rtp.pcap",
    "a call over IPv6, 2001:db8::10 -> 2001:db8:1::20 (bracketed in Via, Contact and URIs, "
    "IN IP6 in the SDP), 3 s of RTP both ways",
)
def ipv6_rtp(cap: MediaCapture) -> None:
    alice = replace(ALICE, ip=f"[{ALICE_V6}]", wire_ip=ALICE_V6)
    bob = replace(BOB, ip=f"[{BOB_V6}]", wire_ip=BOB_V6)
    c = cap.call(alice, bob)
    answered(c)
    two_way(cap, c)
    hang_up(c, end_of(N3) + 0.14)
    cap.verdict(c, "two_way", phases=[media_phase()], expect=("ipv6",))


RELAY_TO_ALICE, RELAY_TO_BOB = 30000, 30002


@scenario(
    "two-hops-relay.pcap",
    "alice -> proxy 198.51.100.1 -> bob, captured at the proxy. The proxy record-routes and "
    "has an RTP relay: it rewrites c= to 198.51.100.1 and the port to 30002 in the INVITE to "
    "bob and to 30000 in the 200 to alice. RTP on both hops both ways (the relay keeps SSRC, "
    "sequence and timestamp): alice -> relay, bob -> relay and relay -> alice clean; "
    "relay -> bob misses every 25th packet (6 of 150, 4 %)",
)
def two_hops_relay(cap: MediaCapture) -> None:
    c = cap.call(ALICE, BOB, proxy=PROXY)
    offer, answer = sdp_of(c, ALICE), sdp_of(c, BOB)
    inv = c.invite(0.0, sdp=offer)
    inv.reply(0.002, 100)
    out = proxy_forward(
        inv, 0.004, BOB, ruri=f"sip:bob@{BOB.ip}", body=relayed_sdp(offer, PROXY.ip, RELAY_TO_BOB)
    )
    out.reply(0.008, 100)
    proxy_relay(inv, 0.2006, out.reply(0.2, 180))
    ok = out.reply(ANSWER, 200, sdp=answer)
    proxy_relay(inv, ANSWER + 0.0006, ok, body=relayed_sdp(answer, PROXY.ip, RELAY_TO_ALICE))
    ack = routed_request(c, ANSWER + 0.0026, "ACK", PROXY, by=ALICE, cseq=1)
    proxy_forward(ack, ANSWER + 0.003, BOB, record_route=False)
    relay_a, relay_b = (PROXY.ip, RELAY_TO_ALICE), (PROXY.ip, RELAY_TO_BOB)
    a_in = caller_stream(cap, c, dst=relay_a)
    b_in = callee_stream(cap, c, dst=relay_b)
    a_in.talk(A_START, N3, tone(440))
    b_in.talk(B_START, N3, tone(660))
    a_out = Stream(
        cap,
        "relay-to-callee",
        relay_b,
        rtp_addr(BOB),
        call=c,
        sender="relay",
        content=CONTENT_A + " (alice's, relayed)",
        ssrc=a_in.ssrc,
    )
    b_out = Stream(
        cap,
        "relay-to-caller",
        relay_a,
        rtp_addr(ALICE),
        call=c,
        sender="relay",
        content=CONTENT_B + " (bob's, relayed)",
        ssrc=b_in.ssrc,
    )
    a_out.copy_of(a_in, 400)
    b_out.copy_of(b_in, 400)
    for k, p in enumerate(a_out.pkts):
        p.lost = k % 25 == 12
    at = end_of(N3) + 0.14
    bye = routed_request(c, at, "BYE", PROXY, by=ALICE, cseq=c.cseq[ALICE.name])
    c.cseq[ALICE.name] += 1
    bye_out = proxy_forward(bye, at + 0.001, BOB, record_route=False)
    proxy_relay(bye, at + 0.0056, bye_out.reply(at + 0.005, 200))
    cap.verdict(
        c,
        "two_way",
        phases=[media_phase()],
        expect=("relay", "loss"),
        notes="the loss is on the relay -> bob leg only; alice -> relay is complete",
    )


@scenario(
    "port-reuse.pcap",
    "two consecutive calls alice -> bob (different Call-IDs), the second starting 1 s after the "
    "first ends, on the same RTP ports on both sides (49170, 3456) but with new SSRCs, sequence "
    "numbers and timestamps",
)
def port_reuse(cap: MediaCapture) -> None:
    c1 = cap.call(ALICE, BOB)
    answered(c1)
    sa, sb = caller_stream(cap, c1, "call1-caller"), callee_stream(cap, c1, "call1-callee")
    sa.talk(A_START, N3, tone(440))
    sb.talk(B_START, N3, tone(660))
    end1 = end_of(N3) + 0.14
    hang_up(c1, end1)
    c2 = cap.call(ALICE, BOB)
    start = end1 + 1.0
    answered(c2, at=start)
    sa, sb = caller_stream(cap, c2, "call2-caller"), callee_stream(cap, c2, "call2-callee")
    a2, b2 = us(start) + A_START, us(start) + B_START
    sa.talk(a2, N3, tone(440))
    sb.talk(b2, N3, tone(660))
    hang_up(c2, end_of(N3, a2) + 0.14)
    cap.verdict(c1, "two_way", phases=[media_phase()], expect=("port_reuse",))
    cap.verdict(
        c2,
        "two_way",
        phases=[("two_way", a2 / 1e6, end_of(N3, b2))],
        expect=("port_reuse",),
    )


# --------------------------------------------------------------------------
# WebRTC: ICE (STUN), DTLS-SRTP, opus, rtcp-mux

# Self-signed ECDSA P-256 certificates (CN=WebRTC, valid 2023-11-14 to 2023-12-14), made once
# with openssl for these samples; their private keys were not kept. The SDP fingerprints are
# the SHA-256 of these DER bytes.
CERTS = {
    "alice": (
        "MIIBCjCBsAIBATAKBggqhkjOPQQDAjARMQ8wDQYDVQQDDAZXZWJSVEMwHhcNMjMxMTE0MDAwMDAwWhcNMjMxMjE0"
        "MDAwMDAwWjARMQ8wDQYDVQQDDAZXZWJSVEMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQMGLUn7+fR+BhJevR+"
        "v+pCPhU2DBQneNFeubTTeSxWCspIsO4C5vy7SXfO/9U8UudAMnvWSRFkga5SKhuBkKcvMAoGCCqGSM49BAMCA0kA"
        "MEYCIQCO2mvgWJGsaPs0/ocmvHhqZNL25jztm+hML5vGeD6TvAIhAJZdf8yK56pdLLJvkJBemZ66fjDIkrUI6h2w"
        "22MEV7Ir"
    ),
    "bob": (
        "MIIBCjCBsAIBATAKBggqhkjOPQQDAjARMQ8wDQYDVQQDDAZXZWJSVEMwHhcNMjMxMTE0MDAwMDAwWhcNMjMxMjE0"
        "MDAwMDAwWjARMQ8wDQYDVQQDDAZXZWJSVEMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASkw3I5f+tjZznB4Dbr"
        "3tb0REc89XDJlFjjmXiR0KIWZPfaSvwwTXg8yTt/d6mWLSSHPK9MLvilCweikRAset9lMAoGCCqGSM49BAMCA0kA"
        "MEYCIQDQn/sT/URkoGv8as/0wmTGUdf/XcxL36Ic8aaTvnKMWgIhAKMuF6MjzJtBs2uBxo+QWl6rPCPGb9ipZ6tb"
        "4N5PNBWN"
    ),
}


def fingerprint(who: str) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(base64.b64decode(CERTS[who])).digest())


STUN_MAGIC = 0x2112A442


def stun_attr(atype: int, value: bytes) -> bytes:
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * (-len(value) % 4)


def stun_message(mtype: int, txid: bytes, attrs: list[tuple[int, bytes]], key: bytes) -> bytes:
    """An RFC 5389 message with MESSAGE-INTEGRITY (HMAC-SHA1, short-term key) and FINGERPRINT."""
    body = b"".join(stun_attr(t, v) for t, v in attrs)

    def header(length: int) -> bytes:
        return struct.pack("!HHI", mtype, length, STUN_MAGIC) + txid

    body += stun_attr(0x0008, hmac.new(key, header(len(body) + 24) + body, "sha1").digest())
    crc = zlib.crc32(header(len(body) + 8) + body) ^ 0x5354554E
    body += stun_attr(0x8028, struct.pack("!I", crc))
    return header(len(body)) + body


def xor_mapped(addr: Addr) -> bytes:
    ip = bytes(int(x) for x in addr[0].split("."))
    xip = (int.from_bytes(ip, "big") ^ STUN_MAGIC).to_bytes(4, "big")
    return struct.pack("!BBH", 0, 1, addr[1] ^ STUN_MAGIC >> 16) + xip


def ice_priority(type_pref: int, local_pref: int = 65535, component: int = 1) -> int:
    return type_pref << 24 | local_pref << 8 | (256 - component)


def ice_creds(cap: MediaCapture, who: str) -> tuple[str, str]:
    chars = base64.b64encode(hashlib.sha256(f"{cap.name}/{who}/ice".encode()).digest()).decode()
    return chars[:8], chars[8:32]  # ufrag (4+ ice-chars), pwd (22+)


def dtls_record(ctype: int, epoch: int, seq: int, body: bytes) -> bytes:
    return (
        struct.pack("!BHH", ctype, 0xFEFD, epoch)
        + seq.to_bytes(6, "big")
        + struct.pack("!H", len(body))
        + body
    )


def handshake(msg_type: int, msg_seq: int, body: bytes) -> bytes:
    n = len(body).to_bytes(3, "big")
    return bytes([msg_type]) + n + struct.pack("!H", msg_seq) + b"\0\0\0" + n + body


def u16(v: int) -> bytes:
    return struct.pack("!H", v)


def vec16(b: bytes) -> bytes:
    return u16(len(b)) + b


def tls_ext(etype: int, data: bytes) -> bytes:
    return u16(etype) + vec16(data)


def ecdsa_sig(prng: Prng) -> bytes:
    """An ECDSA-P256 signature in DER (random-looking r and s: nobody can check it here)."""
    r, s = bytes([prng.randint(1, 0x7F)]) + prng.bytes(31), bytes([prng.randint(1, 0x7F)])
    s += prng.bytes(31)
    return bytes([0x30, 68, 2, 32]) + r + bytes([2, 32]) + s


def dtls_flights(cap: MediaCapture) -> list[tuple[str, bytes]]:
    """A DTLS 1.2 handshake (ECDHE-ECDSA-AES128-GCM, use_srtp), bob as client (a=setup:active):
    bob's ClientHello; alice's ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
    ServerHelloDone; bob's Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec,
    Finished; alice's ChangeCipherSpec, Finished. Each handshake message in a record of its
    own, a flight per datagram; the Finished messages are encrypted (epoch 1)."""
    prng = Prng(cap.name, "dtls")
    sigalgs = vec16(bytes.fromhex("0403 0804 0401 0503 0805 0501 0806 0601 0201"))
    client_exts = b"".join(
        [
            tls_ext(0x0017, b""),
            tls_ext(0xFF01, b"\0"),
            tls_ext(0x000A, vec16(bytes.fromhex("001d 0017 0018"))),
            tls_ext(0x000B, b"\x01\x00"),
            tls_ext(0x000D, sigalgs),
            tls_ext(0x000E, vec16(bytes.fromhex("0007 0001")) + b"\0"),
        ]
    )
    suites = bytes.fromhex("c02b c02f cca9 cca8 c009 c013 c00a c014")
    hello = b"\xfe\xfd" + prng.bytes(32) + b"\0\0" + vec16(suites) + b"\x01\x00"
    client_hello = hello + vec16(client_exts)
    server_exts = b"".join(
        [
            tls_ext(0xFF01, b"\0"),
            tls_ext(0x0017, b""),
            tls_ext(0x000B, b"\x01\x00"),
            tls_ext(0x000E, vec16(bytes.fromhex("0001")) + b"\0"),
        ]
    )
    server_hello = b"\xfe\xfd" + prng.bytes(32) + b"\0" + bytes.fromhex("c02b00")
    server_hello += vec16(server_exts)

    def certificate(who: str) -> bytes:
        der = base64.b64decode(CERTS[who])
        one = len(der).to_bytes(3, "big") + der
        return len(one).to_bytes(3, "big") + one

    def signed_params() -> bytes:
        sig = ecdsa_sig(prng)
        return u16(0x0403) + vec16(sig)

    ske = b"\x03" + u16(0x001D) + b"\x20" + prng.bytes(32) + signed_params()
    cert_request = b"\x01\x40" + vec16(bytes.fromhex("0403 0804 0401")) + u16(0)

    def records(seq0: int, epoch0: list[bytes], finished: bool = True) -> bytes:
        """Records from epoch-0 sequence number seq0 on (the numbers go on across flights)."""
        out = b"".join(dtls_record(22, 0, seq0 + i, m) for i, m in enumerate(epoch0))
        if finished:
            out += dtls_record(20, 0, seq0 + len(epoch0), b"\x01")
            out += dtls_record(22, 1, 0, b"\0\x01" + b"\0" * 6 + prng.bytes(40))
        return out

    return [
        ("bob", records(0, [handshake(1, 0, client_hello)], finished=False)),
        (
            "alice",
            records(
                0,
                [
                    handshake(2, 0, server_hello),
                    handshake(11, 1, certificate("alice")),
                    handshake(12, 2, ske),
                    handshake(13, 3, cert_request),
                    handshake(14, 4, b""),
                ],
                finished=False,
            ),
        ),
        (
            "bob",
            records(
                1,
                [
                    handshake(11, 1, certificate("bob")),
                    handshake(16, 2, b"\x20" + prng.bytes(32)),
                    handshake(15, 3, signed_params()),
                ],
            ),
        ),
        ("alice", records(5, [])),
    ]


def webrtc_sdp(
    c: Call,
    who: str,
    ufrag: str,
    pwd: str,
    ssrc: int,
    cname: str,
    origin: str,
    media: tuple[str, int],
    candidates: list[str],
    setup: str,
) -> str:
    sess = int(c.id("webrtc-sdp", who, n=15), 16) % 10**18
    host, port = media
    lines = [
        "v=0",
        f"o=- {sess} 2 IN IP4 {origin}",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=msid-semantic: WMS",
        f"m=audio {port} UDP/TLS/RTP/SAVPF 111",
        f"c=IN IP4 {host}",
        f"a=rtcp:{port} IN IP4 {host}",
        *candidates,
        f"a=ice-ufrag:{ufrag}",
        f"a=ice-pwd:{pwd}",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {fingerprint(who)}",
        f"a=setup:{setup}",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        f"a=ssrc:{ssrc} cname:{cname}",
    ]
    return CRLF.join(lines) + CRLF


@scenario(
    "webrtc-ice.pcap",
    "a WebRTC-style call captured at alice's host. SDP: m=audio ... UDP/TLS/RTP/SAVPF 111 "
    "(opus/48000/2), a=ice-ufrag/ice-pwd, a=fingerprint (sha-256), a=setup (alice actpass, bob "
    "active), a=rtcp-mux, a=extmap ssrc-audio-level; alice announces her host candidate "
    "192.0.2.10:50010 in c=/m=, bob answers m=audio 9 / c=IN IP4 0.0.0.0 with candidates host "
    "192.168.1.30:50000 and srflx 203.0.113.7:61000. Then STUN binding requests and responses "
    "(RFC 5389, with MESSAGE-INTEGRITY and FINGERPRINT) between alice and bob's srflx, a DTLS "
    "1.2 handshake (bob is the client), SRTP (PT 111, 48 kHz clock, timestamp +960 per 20 ms, "
    "audio-level header extension) both ways between 192.0.2.10:50010 and 203.0.113.7:61000, "
    "SRTCP muxed on the same ports, a consent-freshness STUN check each way mid-call",
)
def webrtc_ice(cap: MediaCapture) -> None:
    bob = Node("bob", "192.168.1.30", user="bob", agent=BOB.agent, wire_ip=BOB_NAT_PUBLIC)
    c = cap.call(ALICE, bob, to_uri=f"sip:bob@{BOB_NAT_PUBLIC}")
    a_media, b_host, b_srflx = (ALICE_V4, 50010), ("192.168.1.30", 50000), (BOB_NAT_PUBLIC, 61000)
    srtp = "SRTP (opus): encrypted payload of 70-90 bytes + 10-byte auth tag"
    sa = Stream(
        cap,
        "caller",
        a_media,
        b_srflx,
        call=c,
        sender="caller",
        content=srtp,
        pt=111,
        clock=48000,
        srtp=True,
    )
    sb = Stream(
        cap,
        "callee",
        b_srflx,
        a_media,
        call=c,
        sender="callee",
        content=srtp,
        pt=111,
        clock=48000,
        srtp=True,
    )
    (a_ufrag, a_pwd), (b_ufrag, b_pwd) = ice_creds(cap, "alice"), ice_creds(cap, "bob")
    cnames = (hexid(cap.name, "cname-a", n=16), hexid(cap.name, "cname-b", n=16))
    host, srflx = ice_priority(126), ice_priority(100)
    offer = webrtc_sdp(
        c,
        "alice",
        a_ufrag,
        a_pwd,
        sa.ssrc,
        cnames[0],
        ALICE_V4,
        a_media,
        [f"a=candidate:1 1 udp {host} {ALICE_V4} 50010 typ host generation 0"],
        "actpass",
    )
    answer = webrtc_sdp(
        c,
        "bob",
        b_ufrag,
        b_pwd,
        sb.ssrc,
        cnames[1],
        "127.0.0.1",
        ("0.0.0.0", 9),
        [
            f"a=candidate:1 1 udp {host} {b_host[0]} {b_host[1]} typ host generation 0",
            f"a=candidate:2 1 udp {srflx} {b_srflx[0]} {b_srflx[1]} typ srflx raddr {b_host[0]} "
            f"rport {b_host[1]} generation 0",
            "a=end-of-candidates",
        ],
        "active",
    )
    answered(c, offer=offer, answer=answer)

    prng = Prng(cap.name, "stun")
    prflx = struct.pack("!I", ice_priority(110))

    def check(at: float, by: str, nominate: bool, rtt: float) -> None:
        """A binding request from by to the other side and its success response, rtt later."""
        txid = prng.bytes(12)
        if by == "alice":
            src, dst, user, key = a_media, b_srflx, f"{b_ufrag}:{a_ufrag}", b_pwd.encode()
            role = (0x802A, prng.bytes(8))  # ICE-CONTROLLING, tie-breaker
        else:
            src, dst, user, key = b_srflx, a_media, f"{a_ufrag}:{b_ufrag}", a_pwd.encode()
            role = (0x8029, prng.bytes(8))  # ICE-CONTROLLED
        attrs = [
            (0x0006, user.encode()),
            role,
            *([(0x0025, b"")] if nominate else []),
            (0x0024, prflx),
        ]
        cap.datagram(us(at), src, dst, stun_message(0x0001, txid, attrs, key), "stun")
        reply = stun_message(0x0101, txid, [(0x0020, xor_mapped(src))], key)
        cap.datagram(us(at + rtt), dst, src, reply, "stun")

    check(2.5103, "bob", False, 0.0002)  # bob's check reaches alice's host candidate
    check(2.5131, "alice", True, 0.0302)  # alice's reaches bob's srflx, nominated
    for (who, flight), at in zip(dtls_flights(cap), (2.5612, 2.5625, 2.5947, 2.5961), strict=True):
        src, dst = (a_media, b_srflx) if who == "alice" else (b_srflx, a_media)
        cap.datagram(us(at), src, dst, flight, "dtls")
    for s, start, level in ((sa, us(2.6), 20), (sb, us(2.6265), 25)):
        payload = Prng(cap.name, s.label, "srtp")
        ext = struct.pack("!HHBBH", 0xBEDE, 1, 0x10, 0x80 | level, 0)  # id 1, 1 byte: V + level
        for k in range(N3):
            t = start + k * PTIME
            s.send(t, payload.bytes(payload.randint(70, 90) + 10), marker=k == 0, ext=ext)
    check(4.6013, "alice", False, 0.0302)  # consent freshness (RFC 7675)
    check(4.7107, "bob", False, 0.0002)
    with_rtcp(cap, sa, sb, mux=True, srtcp=True, cnames=cnames)
    hang_up(c, end_of(N3, us(2.6)) + 0.14)
    cap.facts["webrtc"] = {
        "alice_ice_ufrag": a_ufrag,
        "bob_ice_ufrag": b_ufrag,
        "alice_fingerprint": fingerprint("alice"),
        "bob_fingerprint": fingerprint("bob"),
        "selected_pair": [fmt_addr(a_media), fmt_addr(b_srflx)],
        "dtls_client": "bob",
    }
    cap.verdict(
        c,
        "two_way",
        phases=[("two_way", 2.6, end_of(N3, us(2.6265)))],
        expect=("ice", "srtp", "rtcp_mux"),
        expect_not=("nat_private_sdp", "one_way"),
        notes="bob is behind NAT, but ICE finds the path (his srflx candidate): the media "
        "flows between 192.0.2.10:50010 and 203.0.113.7:61000, announced as candidates",
    )


# --------------------------------------------------------------------------
# truth.json


DEFINITIONS = {
    "media_state": "two_way: RTP flows both ways between the call's parties (at the packet "
    "level; audio_heard says whether each side's audio can be heard). one_way: only one side's "
    "RTP reaches the other; not_heard names the side whose audio does not reach the other "
    "(caller or callee). none: the media was captured (other traffic of these hosts is in the "
    "file) but there is no RTP for this call. on_hold: the call ends on hold. not_captured: the "
    "file holds no media at all, so nothing can be said",
    "phases": "the media state over time (s from the first frame's time, 2023-11-14 22:13:20 "
    "UTC); states as media_state plus early_media (callee to caller before the answer)",
    "expect / expect_not": "short tags of what a diagnosis should / should not report",
    "rtp_streams": "one per (src, dst, SSRC) as the capture shows it, in order of first frame",
    "packets": "RTP packets of the stream in the file, duplicates included",
    "expected": "highest extended sequence number - lowest + 1 (RFC 3550 A.1 / A.3)",
    "lost": "expected - distinct sequence numbers (lost_rfc3550: expected - packets, which "
    "counts duplicates as received, as RTCP does)",
    "duplicates": "packets whose extended sequence number was seen before",
    "out_of_order": "packets (not duplicates) whose extended sequence number is below the "
    "highest seen before them",
    "jitter_ms": "RFC 3550 6.4.1 / A.8 interarrival jitter after the last packet, from the "
    "capture times and RTP timestamps, in floating point, over every packet of the stream in "
    "frame order (RFC 4733 events included; jitter_ms_without_events leaves them out)",
    "first_frame / last_frame / start_frame": "1-based frame numbers in the file",
    "src_in_sdp / dst_in_sdp": "whether the address is one announced (c=/m= or ICE candidate) "
    "in an SDP of the call that is in the file",
    "rtcp": "every RTCP compound packet: frame, reporter, sender info and report blocks as "
    "written; fraction_lost is the 8-bit field (/256); rtt_ms is the round trip the source of "
    "the stream computes from LSR and DLSR when the report reaches it",
}


def write_truth(path: str) -> None:
    missing = [n for n in CATALOGUE.writers if n.endswith(".pcap") and n not in TRUTH]
    assert not missing, f"truth.json is written after the captures: {missing}"
    doc = {
        "about": "samples/media: what each capture holds by construction (craft_media.py). "
        "Generated for sipdiag, CC0 1.0.",
        "definitions": DEFINITIONS,
        "files": {name: TRUTH[name] for name in CATALOGUE.writers if name in TRUTH},
    }
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


CATALOGUE.file(
    "truth.json",
    "the truth by construction of every capture above: calls and expected media state, every "
    "RTP stream (packets, expected, lost, duplicates, out of order, frames, jitter, DTMF), "
    "every RTCP packet and report block",
)(write_truth)


def main(argv: list[str] | None = None) -> int:
    return CATALOGUE.main(argv, __doc__, __file__)


if __name__ == "__main__":
    sys.exit(main())
