"""Read a capture's SIP packets with pyshark for at most ``--seconds``; write how many it read
and in how long to ``--result`` (pyshark at full length would take hours on the large files).

Usage: python3 bench/pyshark_read.py CAPTURE --seconds 60 --result OUT.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pyshark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    start = time.perf_counter()
    read = 0
    capture = pyshark.FileCapture(str(args.capture), display_filter="sip", keep_packets=False)
    try:
        for packet in capture:
            read += 1
            _ = packet.sip.get_field("Call-ID")
            if time.perf_counter() - start > args.seconds:
                break
    finally:
        capture.close()
    elapsed = time.perf_counter() - start
    args.result.write_text(json.dumps({"packets": read, "seconds": elapsed}) + "\n")


if __name__ == "__main__":
    main()
