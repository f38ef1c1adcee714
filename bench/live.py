"""Can ``sipdiag live`` keep up? Packets sent on loopback at a fixed rate while it captures.

A sender process replays, at ``--rate`` packets a second for ``--seconds``, either the SIP
messages of a capture (``--kind sip``: each message from one of two sockets standing for its
two sides, in the capture's order) or RTP (``--kind rtp``: 20 ms G.711 packets of ``--streams``
streams, 160 bytes of payload each). ``sipdiag live -i lo`` captures them with a filter on the
bench's ports. Reported: packets sent, frames sipdiag read, the kernel's drop counter for
sipdiag's socket (PACKET_STATISTICS, in its report's problems), sipdiag's CPU time and the
largest resident size of one of its processes (the analysis, or the reader holding the queue
of packets the analysis has not taken yet).

Needs root (a packet socket). Usage:
    python3 bench/live.py --kind sip --rate 20000 --seconds 10 [CAPTURE]
    python3 bench/live.py --kind rtp --rate 100000 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SIDE_PORTS = (25060, 25070)
RTP_PORT = 26000
TICK = 0.001


def sip_payloads(capture: Path, count: int) -> list[tuple[int, bytes]]:
    """(side, message) of the first ``count`` SIP messages: side 0 sends what the capture's
    lower port sent."""
    from sipdiag.analysis import MessageReader

    payloads: list[tuple[int, bytes]] = []
    for message in MessageReader(capture):
        side = 0 if message.src.port <= message.dst.port else 1
        payloads.append((side, message.raw))
        if len(payloads) == count:
            break
    return payloads


def rtp_payloads(count: int, streams: int) -> list[tuple[int, bytes]]:
    payloads = []
    for index in range(count):
        stream = index % streams
        seq, ts = index // streams, (index // streams) * 160
        header = struct.pack(">BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x1000 + stream)
        payloads.append((stream, header + b"\xff" * 160))
    return payloads


def send(payloads: list[tuple[int, bytes]], kind: str, rate: int, done: multiprocessing.Value
         ) -> None:  # type: ignore[type-arg]
    """Send in bursts every millisecond, catching up when late, so the mean rate holds."""
    sides = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in SIDE_PORTS]
    for sock, port in zip(sides, SIDE_PORTS, strict=True):
        sock.bind(("127.0.0.1", port))
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start, sent = time.perf_counter(), 0
    while sent < len(payloads):
        due = min(len(payloads), int((time.perf_counter() - start) * rate) + 1)
        while sent < due:
            side, data = payloads[sent]
            if kind == "sip":
                sides[side].sendto(data, ("127.0.0.1", SIDE_PORTS[1 - side]))
            else:
                rtp.sendto(data, ("127.0.0.1", RTP_PORT + 2 * side))
            sent += 1
        time.sleep(TICK)
    done.value = sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", nargs="?", type=Path,
                        default=HERE / "out" / "sip-500k.pcap")
    parser.add_argument("--kind", choices=("sip", "rtp"), default="sip")
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--streams", type=int, default=500)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/live.py: needs root (sipdiag live opens a packet socket)")
    count = int(args.rate * args.seconds)
    payloads = (sip_payloads(args.capture, count) if args.kind == "sip"
                else rtp_payloads(count, args.streams))
    ports = (f"udp port {SIDE_PORTS[0]} or udp port {SIDE_PORTS[1]}" if args.kind == "sip"
             else f"udp portrange {RTP_PORT}-{RTP_PORT + 2 * args.streams}")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        live = subprocess.Popen(
            [sys.executable, "-m", "sipdiag", "live", "-i", "lo", "--duration",
             str(args.seconds + 6), "--format", "jsonl", "--drop", "--report", "json",
             "--report-file", str(report), "--fail-on", "never", "-q", *ports.split()],
            cwd=ROOT, stdout=subprocess.DEVNULL)
        time.sleep(3)  # sipdiag started and listening
        done = multiprocessing.Value("q", 0)
        sender = multiprocessing.Process(target=send, args=(payloads, args.kind, args.rate, done))
        started = time.perf_counter()
        sender.start()
        sender.join()
        sending = time.perf_counter() - started
        live.wait()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        document = json.loads(report.read_text())
    capture = document["capture"]
    dropped = [example["detail"] for problem in capture["problems"]
               if problem["kind"] == "capture_dropped" for example in problem["examples"]]
    summary = document["summary"]
    print(f"{args.kind}: sent {done.value:,} packets in {sending:.2f} s "
          f"({done.value / sending:,.0f}/s, asked {args.rate:,}/s); sipdiag read "
          f"{capture['frames']:,} frames, {capture['sip_messages']:,} SIP messages; kernel "
          f"drops: {dropped[0] if dropped else 'none'}; sipdiag CPU "
          f"{usage.ru_utime + usage.ru_stime:.1f} s; largest resident size of its processes "
          f"{usage.ru_maxrss / 1024:.0f} MB; calls {summary.get('calls')}")


if __name__ == "__main__":
    main()
