"""Whole-run benchmark: ``sipdiag FILE`` against sngrep, tshark and pyshark on the same files.

Measures, in one run and on the same captures (bench/out/, built if missing):

- ``sip-500k.pcap``: SIPp calls replicated to 500,000 SIP packets (bench/build_capture.py);
- ``sip-5m.pcap``: the same ten times over (5,000,000 packets), to see how time and memory grow;
- ``sip-rtp.pcap``: the calls of the first 100,000 SIP packets with their RTP streams
  (bench/add_rtp.py), most packets RTP;

these commands: ``sipdiag FILE`` (the terminal report, to a file) and ``sipdiag FILE --format
json``; ``sngrep -I FILE -N -q`` (its default: at most 20,000 dialogs kept), the same with
``-l`` above the call count (every dialog kept, as sipdiag does) and ``tshark -r FILE -q -z
sip,stat`` (each stopped after ``--limit`` seconds: then its time is a lower bound); and
pyshark reading the SIP packets for ``--pyshark-seconds`` (its rate is what it reached in that
time). Wall time and the peak resident memory of each command's whole process tree
(bench/measure.py); ratios against sngrep in the same run. Results go to stdout and
bench/out/whole.json.

Usage: python3 bench/whole.py [--runs 1] [--only sip-500k,...] [--limit 900]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import Measurement, best_of, measure, packet_count  # noqa: E402

OUT = HERE / "out"
EVERY_DIALOG = 1_000_000
"""sngrep's -l (the most dialogs kept in memory): above the call count of the captures here
(a far larger limit slows sngrep down: -l 100000000 took twice as long on sip-500k)."""
CAPTURES = {
    "sip-500k": ["build_capture.py", "{out}", "--packets", "500000"],
    "sip-5m": ["build_capture.py", "{out}", "--packets", "5000000",
               "--recording", str(OUT / "sip-500k.pcap")],
    "sip-rtp": ["add_rtp.py", str(OUT / "sip-500k.pcap"), "{out}", "--sip-packets", "100000"],
}


def build(name: str) -> Path:
    path = OUT / f"{name}.pcap"
    if not path.exists():
        script, *args = CAPTURES[name]
        subprocess.run([sys.executable, str(HERE / script),
                        *(a.format(out=path) for a in args)], check=True)
    return path


def commands(capture: Path, one_process: bool) -> dict[str, list[str]]:
    sipdiag = [sys.executable, "-m", "sipdiag", str(capture), "-q"]
    found = {
        "sipdiag": sipdiag,
        "sipdiag --format json": [*sipdiag, "--format", "json"],
    }
    if one_process:
        found["sipdiag -j1 --format json"] = [*sipdiag, "--format", "json", "-j", "1"]
    return found


def run_pyshark(capture: Path, seconds: float) -> tuple[Measurement, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "pyshark.json"
        m = measure([sys.executable, str(HERE / "pyshark_read.py"), str(capture),
                     "--seconds", str(seconds), "--result", str(result)])
        read = json.loads(result.read_text())
    return m, read["packets"], read["seconds"]


def bench(capture: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    packets = packet_count(capture)
    print(f"\n{capture.name}: {packets:,} packets, {capture.stat().st_size / 1e6:,.0f} MB",
          flush=True)
    name = capture.stem
    one_process = name in args.one_process_on.split(",")
    sngrep = measure(["sngrep", "-I", str(capture), "-N", "-q"], limit=args.limit)
    results = {"sngrep": sngrep}
    print(_line(_row("sngrep", sngrep, packets, sngrep)), flush=True)
    # sngrep keeps at most 20,000 dialogs by default and drops the oldest: with -l above the
    # call count it keeps every one, as sipdiag does
    every = ["sngrep", "-I", str(capture), "-N", "-q", "-l", str(EVERY_DIALOG)]
    results["sngrep -l (every dialog)"] = measure(every, limit=args.limit)
    print(_line(_row("sngrep -l (every dialog)", results["sngrep -l (every dialog)"], packets,
                     sngrep)), flush=True)
    for tool, argv in commands(capture, one_process).items():
        results[tool] = best_of(args.runs, argv)
        print(_line(_row(tool, results[tool], packets, sngrep)), flush=True)
    if name in args.tshark_on.split(",") and shutil.which("tshark"):
        results["tshark"] = measure(["tshark", "-r", str(capture), "-q", "-z", "sip,stat"],
                                    limit=args.limit)
        print(_line(_row("tshark", results["tshark"], packets, sngrep)), flush=True)
    rows = [_row(tool, m, packets, sngrep) for tool, m in results.items()]
    if args.pyshark_seconds > 0:
        m, read, seconds = run_pyshark(capture, args.pyshark_seconds)
        sip = packets if "rtp" not in capture.name else None
        rows.append({"tool": "pyshark (SIP packets, time-capped)", "command": m.command,
                     "seconds": round(seconds, 2), "packets_read": read,
                     "packets_per_second": round(read / seconds) if seconds else 0,
                     "peak_mb": round(m.peak_rss_bytes / 1e6, 1),
                     "peak_pss_mb": round(m.peak_pss_bytes / 1e6, 1),
                     "timed_out": read < (sip or 0),
                     "throughput_vs_sngrep": None, "memory_vs_sngrep": None})
        print(_line(rows[-1]), flush=True)
    return [{"capture": capture.name, "packets": packets, **row} for row in rows]


def _row(name: str, m: Measurement, packets: int, sngrep: Measurement) -> dict[str, object]:
    return {
        "tool": name, "command": m.command, "seconds": round(m.seconds, 2),
        "packets_per_second": round(packets / m.seconds),
        "peak_mb": round(m.peak_rss_bytes / 1e6, 1),
        "peak_pss_mb": round(m.peak_pss_bytes / 1e6, 1),
        "timed_out": m.timed_out, "returncode": m.returncode,
        "throughput_vs_sngrep": round(sngrep.seconds / m.seconds, 3),
        "memory_vs_sngrep": round(m.peak_rss_bytes / sngrep.peak_rss_bytes, 3),
        "pss_vs_sngrep": round(m.peak_pss_bytes / sngrep.peak_pss_bytes, 3),
    }


def _line(row: dict[str, object]) -> str:
    mark = ">" if row["timed_out"] else " "
    ratio = row["throughput_vs_sngrep"]
    memory = row["memory_vs_sngrep"]
    return (f"  {row['tool']:36} {mark}{row['seconds']:>9}s {row['packets_per_second']:>10,}/s "
            f"{row['peak_mb']:>8} MB (PSS {row.get('peak_pss_mb', '-'):>6})   "
            f"speed x{ratio if ratio is not None else '-':<6} "
            f"memory x{memory if memory is not None else '-'}")


def growth(rows: list[dict[str, object]]) -> None:
    print("\n1x -> 10x (sip-500k -> sip-5m):")
    by = {(r["capture"], r["tool"]): r for r in rows}
    for tool in ("sipdiag", "sipdiag --format json", "sipdiag -j1 --format json", "sngrep"):
        small, large = by.get(("sip-500k.pcap", tool)), by.get(("sip-5m.pcap", tool))
        if small and large:
            print(f"  {tool:36} time x{large['seconds'] / small['seconds']:.2f}  "  # type: ignore[operator]
                  f"memory x{large['peak_mb'] / small['peak_mb']:.2f}")  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", default=",".join(CAPTURES))
    parser.add_argument("--limit", type=float, default=900,
                        help="stop sngrep and tshark after this many seconds (then their time "
                        "is a lower bound)")
    parser.add_argument("--tshark-on", default="sip-500k,sip-rtp",
                        help="captures to run tshark on (it takes ten minutes on sip-500k)")
    parser.add_argument("--one-process-on", default="sip-500k",
                        help="captures to also run sipdiag -j1 on")
    parser.add_argument("--pyshark-seconds", type=float, default=60)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    rows: list[dict[str, object]] = []
    for name in args.only.split(","):
        rows += bench(build(name), args)
    growth(rows)
    (OUT / "whole.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
