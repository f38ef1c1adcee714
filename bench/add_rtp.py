"""Add the RTP streams to a SIP-only benchmark capture: the same calls, with their media.

Every call of the input (an INVITE, its ACK, later a BYE) gets two G.711 streams, one each way,
a packet every 20 ms (160 bytes of audio, as a phone sends them) from the ACK to the BYE, between
the call's two signalling addresses on ports of its own, which the call's SDP announces (the
m= port of the INVITE's offer and of the 200's answer is rewritten to them, keeping the length
of the message; the UDP checksum is then left out, as RFC 768 allows). SIP and RTP frames are
written in time order, so most packets of the result are RTP, as in a capture taken on a media
path.

Usage: python3 bench/add_rtp.py SIP.pcap OUT.pcap [--sip-packets N]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import re
import struct
from pathlib import Path

from build_capture import _ipv4_checksum

PTIME_US = 20_000


def _tone() -> bytes:
    """20 ms of a 400 Hz tone in G.711 u-law (a whole number of periods, so every packet
    carries the same bytes): audio, not the digital silence sipdiag reports as such."""
    from sipdiag.media.codecs import ULAW_LINEAR

    def nearest(sample: float) -> int:
        return min(range(256), key=lambda code: abs(ULAW_LINEAR[code] - sample))

    return bytes(nearest(8000 * math.sin(2 * math.pi * 400 * n / 8000)) for n in range(160))


PAYLOAD = _tone()
_CALL_ID = re.compile(rb"\r\nCall-ID: ([^\r\n]+)")
_CSEQ = re.compile(rb"\r\nCSeq: \d+ ([A-Z]+)")
_MEDIA_PORT = re.compile(rb"\nm=audio (\d{4}) ")
PORTS = 2200
"""Calls get ports 1000 to 9802 in turn (four digits, as SIPp's 6000, so lengths stay)."""


def with_port(frame: bytes, port: int) -> bytes:
    """The frame with its SDP's audio port set to ``port`` and no UDP checksum."""
    found = _MEDIA_PORT.search(frame, 42)
    if found is None:
        return frame
    frame = frame[: found.start(1)] + b"%04d" % port + frame[found.end(1) :]
    return frame[:40] + b"\0\0" + frame[42:]


class Stream:
    """One direction of a call's audio."""

    def __init__(self, ether: bytes, src: bytes, dst: bytes, ports: tuple[int, int], ssrc: int):
        self.ether, self.src, self.dst, self.ports, self.ssrc = ether, src, dst, ports, ssrc
        self.sequence = 0

    def frame(self) -> bytes:
        self.sequence += 1
        rtp = struct.pack("!BBHII", 0x80, 0, self.sequence & 0xFFFF, self.sequence * 160,
                          self.ssrc) + PAYLOAD
        udp = struct.pack("!HHHH", *self.ports, 8 + len(rtp), 0)
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + len(udp) + len(rtp),
                                   self.sequence & 0xFFFF, 0, 64, 17, 0, self.src, self.dst))
        struct.pack_into("!H", ip, 10, _ipv4_checksum(bytes(ip)))
        return self.ether + bytes(ip) + udp + rtp


def records(path: Path, limit: int) -> list[tuple[int, bytes]]:
    data = path.read_bytes()
    found, off = [], 24
    while off + 16 <= len(data) and len(found) < limit:
        seconds, micros, caplen, _ = struct.unpack_from("<IIII", data, off)
        found.append((seconds * 1_000_000 + micros, data[off + 16 : off + 16 + caplen]))
        off += 16 + caplen
    return found


def add_rtp(source: Path, out: Path, limit: int) -> tuple[int, int]:
    sip = records(source, limit)
    header = source.read_bytes()[:24]
    due: list[tuple[int, int, Stream]] = []
    streams: dict[bytes, list[Stream]] = {}
    calls, rtp = 0, 0
    with out.open("wb") as handle:
        handle.write(header)

        def write(ts: int, frame: bytes) -> None:
            seconds, micros = divmod(ts, 1_000_000)
            handle.write(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)

        ports: dict[bytes, int] = {}
        allocated = itertools.count()
        for ts, frame in sip:
            call_id, cseq = _CALL_ID.search(frame), _CSEQ.search(frame)
            if call_id is not None and cseq is not None and cseq[1] == b"INVITE":
                if call_id[1] not in ports:
                    ports[call_id[1]] = 1000 + 4 * (next(allocated) % PORTS)
                base = ports[call_id[1]]
                frame = with_port(frame, base + 2 if frame[42:45] == b"SIP" else base)
            while due and due[0][0] < ts:
                at, order, stream = heapq.heappop(due)
                if stream.ports[0]:  # 0: the call has ended
                    write(at, stream.frame())
                    rtp += 1
                    heapq.heappush(due, (at + PTIME_US, order, stream))
            write(ts, frame)
            if call_id is None or cseq is None or frame[42:45] == b"SIP":
                continue  # a response
            method = cseq[1]
            if method == b"ACK" and call_id[1] not in streams:
                calls += 1
                src, dst = frame[26:30], frame[30:34]
                base = ports.pop(call_id[1], 1000)
                pair = [Stream(frame[:14], src, dst, (base, base + 2), 2 * calls),
                        Stream(frame[:14], dst, src, (base + 2, base), 2 * calls + 1)]
                streams[call_id[1]] = pair
                for index, stream in enumerate(pair):
                    heapq.heappush(due, (ts + PTIME_US, 2 * calls + index, stream))
            elif method == b"BYE" and call_id[1] in streams:
                for stream in streams.pop(call_id[1]):
                    stream.ports = (0, 0)
    return len(sip), rtp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sip-packets", type=int, default=100_000)
    args = parser.parse_args()
    sip, rtp = add_rtp(args.source, args.out, args.sip_packets)
    print(f"{args.out}: {sip} SIP and {rtp} RTP packets")


if __name__ == "__main__":
    main()
