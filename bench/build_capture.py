"""Build the benchmark capture: real SIPp calls on loopback, replicated with fresh identifiers.

1. Record ``--calls`` calls between a SIPp client and a SIPp server on 127.0.0.1 with tcpdump
   (INVITE, 180, 200, ACK, one second of call, BYE, 200: six SIP packets a call).
2. Replicate the recording until the capture holds ``--packets`` packets: each copy gets fresh
   Call-IDs and Via branches (so every call and transaction is distinct) and is shifted in time
   past the previous copy; IP and UDP lengths and the IPv4 checksum are rewritten to match.

Usage: python3 bench/build_capture.py OUT.pcap [--packets 500000] [--calls 2000]
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIENT_PORT, SERVER_PORT = 25060, 25070
_CALL_ID = re.compile(rb"(\r\nCall-ID: )([^\r\n]+)")
_BRANCH = re.compile(rb"branch=z9hG4bK-")


def record(calls: int, out: Path) -> None:
    for tool in ("sipp", "tcpdump"):
        if shutil.which(tool) is None:
            sys.exit(f"build_capture: {tool} is needed (Debian packages sip-tester and tcpdump)")
    dump = subprocess.Popen(
        [
            "tcpdump",
            "-i",
            "lo",
            "-s",
            "0",
            "-U",
            "-Z",
            "root",
            "-w",
            str(out),
            f"udp port {CLIENT_PORT} or udp port {SERVER_PORT}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = None
    try:
        time.sleep(1)
        server = subprocess.Popen(
            ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(SERVER_PORT), "-nostdin"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        subprocess.run(
            [
                "sipp",
                "-sn",
                "uac",
                f"127.0.0.1:{SERVER_PORT}",
                "-i",
                "127.0.0.1",
                "-p",
                str(CLIENT_PORT),
                "-r",
                "200",
                "-m",
                str(calls),
                "-d",
                "1000",
                "-nostdin",
                "-timeout",
                "120",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=180,
        )
        time.sleep(1)
    finally:
        if server is not None:
            server.terminate()
        dump.terminate()
        dump.wait(timeout=10)


def _ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _rewrite(frame: bytes, copy: int) -> bytes:
    """An Ethernet/IPv4/UDP frame with the SIP identifiers made unique for this copy."""
    ip = 14
    header_length = (frame[ip] & 15) * 4
    udp = ip + header_length
    payload = frame[udp + 8 :]
    tag = b"r%d-" % copy
    payload = _CALL_ID.sub(lambda m: m[1] + tag + m[2], payload)
    payload = _BRANCH.sub(b"branch=z9hG4bK-" + tag, payload)
    ip_header = bytearray(frame[ip:udp])
    struct.pack_into("!H", ip_header, 2, header_length + 8 + len(payload))
    struct.pack_into("!H", ip_header, 10, 0)
    struct.pack_into("!H", ip_header, 10, _ipv4_checksum(bytes(ip_header[:20])))
    udp_header = bytearray(frame[udp : udp + 8])
    struct.pack_into("!HH", udp_header, 4, 8 + len(payload), 0)  # checksum 0: not computed
    return frame[:ip] + bytes(ip_header) + bytes(udp_header) + payload


def replicate(base: Path, out: Path, packets: int) -> int:
    data = base.read_bytes()
    header, records, off = data[:24], [], 24
    while off + 16 <= len(data):
        seconds, micros, caplen, _ = struct.unpack_from("<IIII", data, off)
        records.append((seconds * 1_000_000 + micros, data[off + 16 : off + 16 + caplen]))
        off += 16 + caplen
    if not records:
        sys.exit("build_capture: the recording is empty")
    span = records[-1][0] - records[0][0] + 1_000_000
    written = 0
    with out.open("wb") as handle:
        handle.write(header)
        copy = 0
        while written < packets:
            for ts, frame in records:
                if written == packets:
                    break
                rewritten = _rewrite(frame, copy) if copy else frame
                seconds, micros = divmod(ts + copy * span, 1_000_000)
                handle.write(struct.pack("<IIII", seconds, micros, len(rewritten), len(rewritten)))
                handle.write(rewritten)
                written += 1
            copy += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--packets", type=int, default=500_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--recording", type=Path, help="reuse this recording instead of making one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        recording = args.recording or Path(tmp) / "recording.pcap"
        if args.recording is None:
            record(args.calls, recording)
        written = replicate(recording, args.out, args.packets)
    print(f"{args.out}: {written} packets")


if __name__ == "__main__":
    main()
