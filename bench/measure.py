"""Run a command and measure its wall time and peak memory (the whole process tree).

Peak memory is the largest sum of resident set sizes of the command and all its descendants,
sampled every few milliseconds from /proc, so a tool that forks workers is charged for all of
them. Linux only.
"""

from __future__ import annotations

import os
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


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _tree_rss(pid: int) -> int:
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
        pending.extend(_children(current))
    return total


def measure(argv: list[str], env: dict[str, str] | None = None) -> Measurement:
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(SAMPLE_EVERY)
    seconds = time.perf_counter() - start
    return Measurement(" ".join(argv), seconds, peak, process.returncode)


def best_of(runs: int, argv: list[str], env: dict[str, str] | None = None) -> Measurement:
    """The fastest of several runs (the machine is shared; the minimum is the least disturbed)."""
    results = [measure(argv, env) for _ in range(runs)]
    fastest = min(results, key=lambda m: m.seconds)
    return Measurement(
        fastest.command, fastest.seconds, max(m.peak_rss_bytes for m in results), fastest.returncode
    )
