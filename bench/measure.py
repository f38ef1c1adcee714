"""Run a command and measure its wall time and peak memory (the whole process tree).

Peak memory is the largest sum of resident set sizes of the command and all its descendants,
sampled from /proc (every 5 ms at first, every 100 ms in a long run), so a tool that forks
workers is charged for all of them. A forked worker shares its parent's pages until it writes
to them, and the sum of resident sizes counts those pages once per process; the proportional
set size (PSS: each shared page split among the processes sharing it) counts them once in all,
so the peak of that sum is recorded too. Linux only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_EVERY = 0.005
"""The first samples' interval; it grows with the run to ``SAMPLE_AT_MOST`` (a long run's peak
lasts longer than that)."""
SAMPLE_AT_MOST = 0.1
PSS_EVERY = 10
"""Proportional sizes are read every this many samples: the kernel walks every page table of a
process to sum them (smaps_rollup), which, every 5 ms, slowed a two-process run of 200 s by a
third on two cores; resident sizes come from statm, which costs nothing."""
PAGE = os.sysconf("SC_PAGE_SIZE")


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
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    """A process and its descendants."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(_children(current))
    return found


def _rss(pids: list[int]) -> int:
    """The sum of the resident sizes of the processes (statm: pages)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _pss(pids: list[int]) -> int:
    """The sum of the proportional sizes of the processes."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


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
    peak = peak_pss = samples = 0
    timed_out = False
    while process.poll() is None:
        pids = _tree(process.pid)
        peak = max(peak, _rss(pids))
        if samples % PSS_EVERY == 0:
            peak_pss = max(peak_pss, _pss(pids))
        samples += 1
        elapsed = time.perf_counter() - start
        if limit is not None and elapsed > limit:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            timed_out = True
            break
        time.sleep(min(SAMPLE_AT_MOST, SAMPLE_EVERY + elapsed / 100))
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
