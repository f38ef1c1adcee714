"""Ingest benchmark: capture to parsed SIP messages, sipdiag against sngrep and tshark.

Builds (once) a SIP-only capture of real SIPp calls replicated to 500,000 packets
(bench/build_capture.py), then measures in one run, on the same file:

- ``sipdiag messages FILE --count``: read every frame, parse every SIP message (start line,
  Call-ID, CSeq, Content-Length; the rest is parsed on demand) and count them; with the default
  number of processes (one per core), and with one; also under other Python interpreters
  given with ``--python`` (a PGO-built CPython such as Debian's runs it faster);
- ``sngrep -I FILE -N -q``, as the issue asks, and with ``-l`` raised past the number of
  dialogs (by default sngrep keeps 20,000 dialogs and slows down sharply past them);
- ``tshark -r FILE -q -z sip,stat``.

Each command runs ``--runs`` times; the fastest run counts, and peak memory is the largest
resident size of the command's whole process tree. Results go to stdout and to
bench/out/ingest.json.

Usage: python3 bench/ingest.py [--capture FILE] [--packets 500000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Measurement, best_of, packet_count

OUT = Path(__file__).resolve().parent / "out"


def commands(capture: Path, dialogs: int, pythons: list[str]) -> dict[str, list[str]]:
    found = {}
    for index, python in enumerate(pythons):
        label = "sipdiag" if index == 0 else f"sipdiag ({python})"
        found[label] = [python, "-m", "sipdiag", "messages", str(capture), "--count"]
        found[f"{label} -j1"] = found[label] + ["-j", "1"]
    if shutil.which("sngrep"):
        found["sngrep"] = ["sngrep", "-I", str(capture), "-N", "-q"]
        found["sngrep -l"] = ["sngrep", "-I", str(capture), "-N", "-q", "-l", str(dialogs)]
    if shutil.which("tshark"):
        found["tshark"] = ["tshark", "-r", str(capture), "-q", "-z", "sip,stat"]
    return found


def report(results: dict[str, Measurement], packets: int) -> list[dict[str, object]]:
    base = results["sipdiag"]
    rows = []
    print(
        f"{'tool':12} {'seconds':>9} {'packets/s':>11} {'peak MB':>9} {'sipdiag speed-up':>17} "
        f"{'memory vs sipdiag':>18}"
    )
    for name, m in results.items():
        rate = packets / m.seconds
        speedup = m.seconds / base.seconds
        memory = m.peak_rss_bytes / base.peak_rss_bytes
        print(
            f"{name:12} {m.seconds:9.2f} {rate:11,.0f} {m.peak_rss_bytes / 1e6:9.1f} "
            f"{speedup:16.2f}x {memory:17.2f}x"
        )
        rows.append(
            {
                "tool": name,
                "command": m.command,
                "seconds": round(m.seconds, 3),
                "packets_per_second": round(rate),
                "peak_rss_bytes": m.peak_rss_bytes,
                "returncode": m.returncode,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="capture-to-messages benchmark")
    parser.add_argument("--capture", type=Path, default=OUT / "sip-500k.pcap")
    parser.add_argument("--packets", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        help="also time sipdiag under this interpreter (it must have sipdiag installed)",
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if not args.capture.exists():
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).parent / "build_capture.py"),
                str(args.capture),
                "--packets",
                str(args.packets),
            ],
            check=True,
        )
    packets = packet_count(args.capture)
    print(f"{args.capture}: {packets} packets, best of {args.runs} runs")
    pythons = [sys.executable, *args.python]
    results = {
        name: best_of(args.runs, argv)
        for name, argv in commands(args.capture, packets, pythons).items()
    }
    rows = report(results, packets)
    (OUT / "ingest.json").write_text(
        json.dumps(
            {"capture": str(args.capture), "packets": packets, "runs": args.runs, "results": rows},
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
