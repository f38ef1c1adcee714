"""Media benchmark: the whole run with RTP analysis against the run before it, tshark, sngrep.

On ``bench/out/sip-rtp.pcap`` (bench/add_rtp.py: the calls of 100,000 SIP packets with their
G.711 streams, most packets RTP), in one run and alternating the commands ``--runs`` times:

- ``sipdiag FILE --format json`` from this checkout (media analysis on);
- the same command from ``--baseline`` (a commit before the media layer, checked out in a
  temporary git worktree): today's throughput, which the media analysis must keep two thirds of;
- ``tshark -r FILE -q -z rtp,streams`` (Wireshark's RTP stream statistics);
- ``sngrep -I FILE -N -q``.

Each command's best wall time (the machine's vCPUs are shared: the least disturbed run) and
its peak memory over all runs (the whole process tree, bench/measure.py), and the ratios the
media issue sets. Then sipdiag's peak memory on the first half of the file against the whole:
memory must follow the streams in progress, not the packets. Results go to stdout and
bench/out/media.json.

Usage: python3 bench/media.py [--runs 3] [--baseline 09d9aed]
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from measure import Measurement, measure, packet_count  # noqa: E402

OUT = HERE / "out"
BASELINE = "09d9aed"
"""The last commit before the media layer."""


def build(sip_packets: int = 100_000, name: str = "sip-rtp.pcap") -> Path:
    """The SIP capture with RTP added to its first ``sip_packets`` (bench/build_capture.py,
    bench/add_rtp.py), made if missing."""
    path = OUT / name
    if not path.exists():
        source = OUT / "sip-500k.pcap"
        if not source.exists():
            subprocess.run([sys.executable, str(HERE / "build_capture.py"), str(source),
                            "--packets", "500000"], check=True)
        subprocess.run([sys.executable, str(HERE / "add_rtp.py"), str(source), str(path),
                        "--sip-packets", str(sip_packets)], check=True)
    return path


def first_half(capture: Path, out: Path) -> Path:
    """The capture's first half (by packets): a classic pcap file cut between records."""
    data = capture.read_bytes()
    offsets, offset = [], 24
    while offset + 16 <= len(data):
        offsets.append(offset)
        offset += 16 + struct.unpack_from("<I", data, offset + 8)[0]
    out.write_bytes(data[: offsets[len(offsets) // 2]])
    return out


def sipdiag(root: Path, capture: Path) -> list[str]:
    return [sys.executable, "-c",
            f"import sys; sys.path.insert(0, {str(root)!r}); from sipdiag.cli import main; "
            "sys.exit(main())", str(capture), "-q", "--format", "json"]


def best(runs: list[Measurement]) -> Measurement:
    fastest = min(runs, key=lambda m: m.seconds)
    return Measurement(fastest.command, fastest.seconds, max(m.peak_rss_bytes for m in runs),
                       fastest.returncode, fastest.timed_out,
                       max(m.peak_pss_bytes for m in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    capture = build()
    packets = packet_count(capture)
    print(f"{capture.name}: {packets:,} packets, {capture.stat().st_size / 1e6:,.0f} MB",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old),
                        args.baseline], check=True, capture_output=True)
        try:
            commands = {
                "sipdiag --format json": sipdiag(ROOT, capture),
                f"sipdiag {args.baseline} --format json": sipdiag(old, capture),
                "tshark -q -z rtp,streams": ["tshark", "-r", str(capture), "-q", "-z",
                                             "rtp,streams"],
                "sngrep -I FILE -N -q": ["sngrep", "-I", str(capture), "-N", "-q"],
            }
            runs: dict[str, list[Measurement]] = {name: [] for name in commands}
            for round_ in range(args.runs):
                for name, argv in commands.items():
                    runs[name].append(measure(argv))
                    m = runs[name][-1]
                    print(f"  run {round_ + 1}: {name:36} {m.seconds:8.2f} s "
                          f"{m.peak_rss_bytes / 1e6:8.1f} MB", flush=True)
            half = first_half(capture, Path(tmp) / "half.pcap")
            half_run = measure(sipdiag(ROOT, half))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=False, capture_output=True)
    results = {name: best(found) for name, found in runs.items()}
    report(results, args.baseline, packets, half_run)


def report(results: dict[str, Measurement], baseline: str, packets: int,
           half: Measurement) -> None:
    ours = results["sipdiag --format json"]
    rows = [{"tool": name, "seconds": round(m.seconds, 2),
             "packets_per_second": round(packets / m.seconds),
             "peak_mb": round(m.peak_rss_bytes / 1e6, 1),
             "peak_pss_mb": round(m.peak_pss_bytes / 1e6, 1),
             "sipdiag_time_ratio": round(ours.seconds / m.seconds, 3)}
            for name, m in results.items()]
    print("\nbest of the runs:")
    for row in rows:
        print(f"  {row['tool']:36} {row['seconds']:8.2f} s {row['packets_per_second']:>10,}/s "
              f"{row['peak_mb']:8.1f} MB   sipdiag takes x{row['sipdiag_time_ratio']}")
    before = results[f"sipdiag {baseline} --format json"]
    tshark, sngrep = results["tshark -q -z rtp,streams"], results["sngrep -I FILE -N -q"]
    targets = {
        "throughput kept (target >= 0.667)": round(before.seconds / ours.seconds, 3),
        "faster than tshark -z rtp,streams (target >= 2)": round(tshark.seconds / ours.seconds, 3),
        "faster than sngrep (target > 1)": round(sngrep.seconds / ours.seconds, 3),
        "peak memory, whole file / first half": round(
            ours.peak_rss_bytes / half.peak_rss_bytes, 3),
    }
    print()
    for name, value in targets.items():
        print(f"  {name}: {value}")
    (OUT / "media.json").write_text(json.dumps(
        {"packets": packets, "rows": rows, "targets": targets,
         "half_file_peak_mb": round(half.peak_rss_bytes / 1e6, 1)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
