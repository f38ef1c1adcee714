"""Run a command and measure its wall time and peak memory (the whole process tree).

Peak memory is the largest sum of resident set sizes of the command and all its descendants,
sampled every few milliseconds from /proc, so a tool that forks workers is charged for all of
them. A forked worker shares its parent's pages until it writes to them, and the sum of resident
sizes counts those pages once per process; the proportional set size (PSS: each shared page
split among the processes sharing it) counts them once in all, so the peak of that sum is
recorded too. Linux only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_EVERY = 0.005


@dataclass(frozen=True)
class Measurement:
    command: str
    seconds: float
    peak_rss_bytes: int
    returncode: int
    timed_out: bool = False
    peak_pss_bytes: int = 0
    """Stopped at the time limit: ``seconds`` is a lower bound."""


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _tree_memory(pid: int) -> tuple[int, int]:
    """(sum of resident sizes, sum of proportional sizes) of a process and its descendants."""
    rss = pss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
        pending.extend(_children(current))
    return rss, pss


def measure(
    argv: list[str], env: dict[str, str] | None = None, limit: float | None = None
) -> Measurement:
    """Run ``argv`` to its end, or stop it (and its children) after ``limit`` seconds."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    peak = peak_pss = 0
    timed_out = False
    while process.poll() is None:
        rss, pss = _tree_memory(process.pid)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        if limit is not None and time.perf_counter() - start > limit:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            timed_out = True
            break
        time.sleep(SAMPLE_EVERY)
    seconds = time.perf_counter() - start
    return Measurement(" ".join(argv), seconds, peak, process.returncode, timed_out, peak_pss)


def best_of(runs: int, argv: list[str], env: dict[str, str] | None = None) -> Measurement:
    """The fastest of several runs (the machine is shared; the minimum is the least disturbed)."""
    results = [measure(argv, env) for _ in range(runs)]
    fastest = min(results, key=lambda m: m.seconds)
    return Measurement(
        fastest.command, fastest.seconds, max(m.peak_rss_bytes for m in results),
        fastest.returncode, fastest.timed_out, max(m.peak_pss_bytes for m in results),
    )


def packet_count(capture: Path) -> int:
    """Frames in a capture, counted by sipdiag's capture layer (no decoding)."""
    from sipdiag.capture import open_capture

    reader = open_capture(capture)
    try:
        return reader.count_frames()
    finally:
        reader.close()
