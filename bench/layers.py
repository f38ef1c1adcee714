"""Where the time goes: CPU microseconds per packet (and per call) of each layer of one run.

On the first ``--packets`` packets of a capture (cut with editcap into a temporary file), in
this one process, each stage timed cumulatively with the CPU clock and the one before taken
away (best of ``--runs``):

- read: records, link/IP/UDP/TCP decoding and the SIP parse (``MessageReader``);
- track: transactions, dialogs, calls and the media of each call (``CallTracker`` with a
  ``MediaTracker``, as the pipeline drives them);
- results: what the pipeline adds without rules (results, spool, links, tallies);
- rules: the rules engine (``analyze`` with the rules, less ``analyze`` without);
- json: the JSON report written from the analysis (reading the spool back included);

then, apart, the start-up of a whole ``sipdiag`` command on a one-call sample (wall time, best
of ``--runs``): what CI pays for every recorded test call.

Usage: python3 bench/layers.py CAPTURE [--packets 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sipdiag.analysis import MessageReader, analyze  # noqa: E402
from sipdiag.dialogs.tracker import CallTracker  # noqa: E402
from sipdiag.media.tracker import MediaTracker  # noqa: E402
from sipdiag.report.document import write_json  # noqa: E402
from sipdiag.rules import load_engine  # noqa: E402

ONE_CALL = ROOT / "samples" / "rules" / "server-errors.pcap"


def cpu(work: Callable[[], object], runs: int) -> float:
    """The least CPU time of ``runs`` runs of ``work``, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def read(path: Path) -> int:
    return sum(len(batch) for batch in MessageReader(path).batches())


def track(path: Path) -> int:
    media = MediaTracker(None, reports_orphans=True, timelines=False)
    tracker = CallTracker(media)
    reader = MessageReader(path, media=media)
    finished = 0
    for batch in reader.batches():
        finished += sum(1 for _ in tracker.add(batch, None))
    media.finish()
    return finished + sum(1 for _ in tracker.finish(reader.summary.last_ts_ns or 0))


def start_up(runs: int) -> float:
    """Wall seconds of ``sipdiag ONE_CALL --format json``, best of ``runs``."""
    argv = [sys.executable, "-m", "sipdiag", str(ONE_CALL), "--format", "json",
            "--fail-on", "never"]
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)  # the rule cache filled
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--packets", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engine = load_engine()
    with tempfile.TemporaryDirectory() as tmp:
        cut = Path(tmp) / "cut.pcap"
        subprocess.run(["editcap", "-r", str(args.capture), str(cut), f"1-{args.packets}"],
                       check=True)
        calls = len(analyze(cut, engine=None, jobs=1).calls)
        analysis = analyze(cut, engine=engine, jobs=1)
        cumulative = {
            "read": cpu(lambda: read(cut), args.runs),
            "track": cpu(lambda: track(cut), args.runs),
            "results": cpu(lambda: analyze(cut, engine=None, jobs=1), args.runs),
            "rules": cpu(lambda: analyze(cut, engine=engine, jobs=1), args.runs),
        }
    json_seconds = cpu(lambda: write_json(analysis, io.StringIO()), args.runs)
    print(f"{args.capture.name}, first {args.packets:,} packets ({calls:,} calls), "
          f"CPU, best of {args.runs}:")
    rows, before = [], 0.0
    for layer, seconds in cumulative.items():
        rows.append((layer, seconds - before))
        before = seconds
    rows.append(("json", json_seconds))
    for layer, own in rows:
        print(f"  {layer:8} {own:7.2f} s  {own / args.packets * 1e6:7.1f} us/packet  "
              f"{own / max(calls, 1) * 1e6:8.0f} us/call")
    total = cumulative["rules"] + json_seconds
    print(f"  {'total':8} {total:7.2f} s  {total / args.packets * 1e6:7.1f} us/packet")
    print(f"start-up, one call, --format json: {start_up(args.runs) * 1000:.0f} ms wall")


if __name__ == "__main__":
    main()
