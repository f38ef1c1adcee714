"""Builders of RTP and RTCP bytes for the media tests, field by field (RFC 3550 5.1, 6.4)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sipdiag.media.codecs import codec_map
from sipdiag.media.stream import Stream, StreamStats
from sipdiag.network import Endpoint

A = Endpoint("192.0.2.10", 49170)
B = Endpoint("198.51.100.20", 3456)
PCMU = codec_map({"0": "PCMU/8000", "8": "PCMA/8000", "13": "CN/8000",
                  "101": "telephone-event/8000", "96": "opus/48000/2"})
TONE = bytes((0x10 + i * 37) % 0x70 for i in range(160))
"""A μ-law payload with sound in it (no byte near the zero codes 0xFF/0x7F)."""
SILENCE = b"\xff" * 160


def rtp(seq: int, ts: int, ssrc: int = 0x11223344, pt: int = 0, marker: bool = False,
        payload: bytes = TONE, csrcs: int = 0, extension: bytes | None = None) -> bytes:
    first = 0x80 | csrcs | (0x10 if extension is not None else 0)
    head = struct.pack(">BBHII", first, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + b"\0\0\0\1" * csrcs
    if extension is not None:
        head += struct.pack(">HH", 0xBEDE, len(extension) // 4) + extension
    return head + payload


@dataclass(frozen=True)
class Sent:
    """A packet of a test stream: its sequence number, RTP timestamp and arrival (ms)."""

    seq: int
    ts: int
    at_ms: float
    pt: int = 0
    marker: bool = False
    payload: bytes = TONE


def regular(count: int, seq0: int = 1000, ts0: int = 160_000, start_ms: float = 0.0,
            step_ms: float = 20.0) -> list[Sent]:
    """``count`` packets of 20 ms of G.711, sent and arriving every ``step_ms``."""
    return [Sent(seq0 + i, ts0 + 160 * i, start_ms + step_ms * i) for i in range(count)]


def run(packets: list[Sent], codecs: dict | None = None, timeline: bool = False,
        encrypted: bool = False) -> Stream:
    stats = StreamStats(A, B, 0x11223344, PCMU if codecs is None else codecs, encrypted,
                        timeline)
    for frame, p in enumerate(packets, 1):
        data = rtp(p.seq, p.ts, pt=p.pt, marker=p.marker, payload=p.payload)
        stats.add(frame, 10**18 + round(p.at_ms * 1e6), p.pt, p.marker, p.seq & 0xFFFF,
                  p.ts & 0xFFFFFFFF, data, 12)
    return stats.result()


def report_block(source: int, fraction: int, lost: int, highest: int, jitter: int, lsr: int,
                 dlsr: int) -> bytes:
    return struct.pack(">IB3sIIII", source, fraction, (lost & 0xFFFFFF).to_bytes(3, "big"),
                       highest, jitter, lsr, dlsr)


def sender_report(ssrc: int, ntp: int, rtp_ts: int, packets: int, octets: int,
                  blocks: list[bytes]) -> bytes:
    body = struct.pack(">IQIII", ssrc, ntp, rtp_ts, packets, octets) + b"".join(blocks)
    return struct.pack(">BBH", 0x80 | len(blocks), 200, (len(body) + 4) // 4 - 1) + body


def receiver_report(ssrc: int, blocks: list[bytes]) -> bytes:
    body = struct.pack(">I", ssrc) + b"".join(blocks)
    return struct.pack(">BBH", 0x80 | len(blocks), 201, (len(body) + 4) // 4 - 1) + body


def sdes(ssrc: int, cname: bytes) -> bytes:
    item = struct.pack(">IBB", ssrc, 1, len(cname)) + cname + b"\0"
    item += b"\0" * (-len(item) % 4)
    return struct.pack(">BBH", 0x81, 202, (len(item) + 4) // 4 - 1) + item
