"""Cluster benchmark: sipdiag on a local Dask cluster against one and N processes, on a capture
rotated into files, and the figures an estimate of a day of captures on many workers needs.

The capture: ``bench/out/sip-5m.pcap`` (5,000,000 SIP packets; built as bench/whole.py builds
it) rotated into files of ``--per-file`` packets (``editcap -c``) in
``bench/out/sip-5m-rotated/``; both built if missing (``--capture sip-500k --per-file 10000``
for a trial on the smaller capture).

In one run, alternating the commands ``--runs`` times (bench/measure.py: wall time and peak
memory of the process tree; CPU time of the tree, user and system, from the kernel's account
of the children reaped; the load average before and after each run):

- ``sipdiag FILES --format json -q`` (every rotated file named, in order) with ``-j 1``, with
  ``-j N`` and with ``--dask local:N`` (a LocalCluster of N one-thread worker processes),
  N = ``--workers``; each process of the tree sampled on its own as well (psutil, every
  0.1 s): the peak of each Dask worker and of the client (which also runs the scheduler and
  the workers' nannies), of each process of ``-j N``;
- ``sngrep -N -q`` with every file given by ``-I``, default (20,000 dialogs kept) and with
  ``-l`` (every dialog kept), as bench/whole.py runs it: the peer of the house rule.

Every sipdiag document is compared byte for byte with the first one (``-j 1``'s).

Once, this script as the client of a local cluster of N workers (``--drive``: the cluster the
command line starts, ``analyze_on`` and ``write_json`` as the command line calls them; its
document must equal the command line's): Dask's round trip of an empty task; the per-file
check tasks (``cluster.unreadable``) timed as a phase of their own, with Dask's task stream
(each task's compute time); each share task's time; the bytes of each share's part as it
travels (pickled ``Part``: packed spools, watches, the rest) and of the job (pickled ``Job``:
the engine); the client's combine and report; the peak memory of each worker and of the
client (their own ``ru_maxrss``); and a share task that owns almost no Call-ID
(``Share(0, 1_000_000)``): its time is reading, parsing and the clock alone.

From these, an estimate of a day of captures on 10 and 100 workers (formula in the output).
Results go to stdout and bench/out/cluster.json.

Usage: python3 bench/cluster.py [--runs 2] [--capture sip-5m] [--per-file 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from itertools import count, zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil  # type: ignore[import-untyped]  # Dask's dependency

if TYPE_CHECKING:
    from distributed import Client

    from sipdiag.analysis.pipeline import Part

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import Measurement, measure, packet_count  # noqa: E402
from security import ENVIRONMENT, Runs, cpu_seconds_of_children, to_file  # noqa: E402
from whole import EVERY_DIALOG, build  # noqa: E402

OUT = HERE / "out"
READING_ONLY = 1_000_000
"""The share count of the reading-only task: its share (index 0) owns about one Call-ID in a
million, so it reads, parses and moves the clock over every packet and analyses almost
nothing."""
ROUND_TRIPS = 200
"""Empty tasks submitted one after the other, for Dask's round trip."""
SAMPLE_EVERY = 0.1
"""Seconds between two samples of each process's resident size (psutil)."""
DAY_FILES = 1_440
DAY_PACKETS_PER_FILE = 100_000
"""The assumed day of captures: one file a minute, each of 100,000 packets (144M packets)."""
DAY_WORKERS = (10, 100)
LINK_BYTES_PER_SECOND = 125e6
"""Assumed for the estimate: each machine's network link, 1 Gbit/s."""
MB = 1e6


class Role(StrEnum):
    """A process of a measured command's tree."""

    MAIN = "main"
    """The command itself (with --dask: the client, with the scheduler and the nannies)."""
    FORK = "fork"
    """A process sipdiag forked: a share of the analysis (-j N) or of the JSON encoding."""
    WORKER = "dask worker"
    TRACKER = "resource tracker"
    OTHER = "other"


# The process tree, each process on its own

@dataclass
class Seen:
    cmdline: str
    parent: int
    peak_rss_bytes: int = 0
    cpu_seconds: float = 0.0
    """User and system time at its last sample (a lower bound: its last moments are missed)."""


@dataclass
class TreeSampler:
    """Every descendant of this process, sampled every ``SAMPLE_EVERY`` seconds in a thread
    while a command runs: each one's peak resident size and CPU time."""

    seen: dict[int, Seen] = field(default_factory=dict)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        me = psutil.Process()
        while not self.stopped.wait(SAMPLE_EVERY):
            for process in me.children(recursive=True):
                try:
                    with process.oneshot():
                        rss = process.memory_info().rss
                        times = process.cpu_times()
                        cmdline = " ".join(process.cmdline())
                        parent = process.ppid()
                except psutil.Error:  # ended between the listing and the sample
                    continue
                seen = self.seen.setdefault(process.pid, Seen(cmdline, parent))
                seen.cmdline = cmdline  # the shell of ``to_file`` execs the command
                seen.peak_rss_bytes = max(seen.peak_rss_bytes, rss)
                seen.cpu_seconds = times.user + times.system

    def processes(self) -> list[dict[str, object]]:
        """Each process: its role, peak resident size, CPU time; the main one first."""
        mains = {pid: s for pid, s in self.seen.items() if s.parent == os.getpid()}
        rows = [{"role": _role(pid, seen, mains), "peak_mb": round(seen.peak_rss_bytes / MB, 1),
                 "cpu_seconds_sampled": round(seen.cpu_seconds, 1)}
                for pid, seen in self.seen.items()]
        order = list(Role)
        return sorted(rows, key=lambda row: order.index(Role(str(row["role"]))))


def _role(pid: int, seen: Seen, mains: dict[int, Seen]) -> Role:
    if pid in mains:
        return Role.MAIN
    if "spawn_main" in seen.cmdline or seen.cmdline.startswith("dask worker"):  # its title
        return Role.WORKER
    if "resource_tracker" in seen.cmdline:
        return Role.TRACKER
    parent = mains.get(seen.parent)
    if parent is not None and parent.cmdline == seen.cmdline:
        return Role.FORK
    return Role.OTHER


@contextmanager
def sampled() -> Iterator[TreeSampler]:
    sampler = TreeSampler()
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    try:
        yield sampler
    finally:
        sampler.stopped.set()
        thread.join()


# The capture

def rotated(name: str, per_file: int) -> list[Path]:
    """The capture ``name`` (bench/whole.py builds it if missing) in files of ``per_file``
    packets, made by ``editcap -c`` if the folder is missing or holds another cut."""
    capture = build(name)
    folder = OUT / f"{name}-rotated"
    files = sorted(folder.glob("*.pcap"))
    if files and packet_count(files[0]) == per_file:
        return files
    shutil.rmtree(folder, ignore_errors=True)
    making = OUT / f"{name}-rotated.making"
    shutil.rmtree(making, ignore_errors=True)
    making.mkdir()
    subprocess.run(["editcap", "-c", str(per_file), str(capture), str(making / "part.pcap")],
                   check=True)
    making.rename(folder)
    return sorted(folder.glob("*.pcap"))


# The commands

class Tool(StrEnum):
    SIPDIAG = "sipdiag"
    SNGREP = "sngrep"


def commands(files: list[Path], workers: int) -> dict[str, tuple[Tool, list[str]]]:
    cli = [sys.executable, "-m", "sipdiag", *map(str, files), "--format", "json", "-q"]
    inputs = [arg for file in files for arg in ("-I", str(file))]
    sngrep = ["sngrep", *inputs, "-N", "-q"]
    return {
        "sipdiag -j 1": (Tool.SIPDIAG, [*cli, "-j", "1"]),
        f"sipdiag -j {workers}": (Tool.SIPDIAG, [*cli, "-j", str(workers)]),
        f"sipdiag --dask local:{workers}": (Tool.SIPDIAG, [*cli, "--dask", f"local:{workers}"]),
        "sngrep (default: 20,000 dialogs)": (Tool.SNGREP, sngrep),
        "sngrep -l (every dialog)": (Tool.SNGREP, [*sngrep, "-l", str(EVERY_DIALOG)]),
    }


@dataclass
class Measured:
    """A command's runs (``Runs``: each measurement and its tree's CPU time) and, for each,
    the load average before and after, and each process of its tree."""

    runs: Runs = field(default_factory=lambda: Runs([], []))
    load: list[tuple[float, float]] = field(default_factory=list)
    processes: list[list[dict[str, object]]] = field(default_factory=list)


def run_once(name: str, tool: Tool, argv: list[str], out: Path, found: Measured) -> None:
    """One run of a command, recorded in ``found``; a sipdiag command's document in ``out``."""
    before_load = os.getloadavg()[0]
    before_cpu = cpu_seconds_of_children()
    with sampled() as sampler:
        m = measure(to_file(argv, out) if tool is Tool.SIPDIAG else argv, env=ENVIRONMENT)
    cpu = cpu_seconds_of_children() - before_cpu
    if m.returncode not in ((0, 1) if tool is Tool.SIPDIAG else (0,)):  # 1: findings
        sys.exit(f"cluster bench: {name} exited {m.returncode}")
    found.runs.measurements.append(m)
    found.runs.cpu_seconds.append(cpu)
    found.load.append((round(before_load, 2), round(os.getloadavg()[0], 2)))
    found.processes.append(sampler.processes())
    print(f"  {name:34} {m.seconds:8.2f} s (CPU {cpu:7.2f} s) {m.peak_rss_bytes / MB:8.1f} MB"
          f"  load {found.load[-1][0]} -> {found.load[-1][1]}", flush=True)


@dataclass(frozen=True)
class Document:
    """A sipdiag run's JSON document, kept on disk (5,000,000 packets make more than a
    gigabyte of it)."""

    path: Path
    digest: str
    size: int


def document_of(out: Path, keep_as: Path) -> Document:
    with out.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    out.replace(keep_as)
    return Document(keep_as, digest, keep_as.stat().st_size)


def first_difference(a: Path, b: Path) -> str:
    """The first line where two documents differ, around its first differing byte."""
    with a.open("rb") as a_lines, b.open("rb") as b_lines:
        for number, (x, y) in enumerate(zip_longest(a_lines, b_lines, fillvalue=b""), 1):
            if x != y:
                at = next((k for k, (p, q) in enumerate(zip(x, y, strict=False)) if p != q),
                          min(len(x), len(y)))
                start = max(0, at - 80)
                return (f"line {number}, byte {at + 1}: ...{x[start:at + 80]!r} != "
                        f"...{y[start:at + 80]!r}")
    return "the same bytes"


# The client driven from here (``--drive``, a process of its own)

@dataclass
class PartSize:
    pickled_bytes: int
    spool_bytes: int
    """The packed spools' bytes (calls and exchanges)."""
    watches_bytes: int
    pickle_seconds: float
    arrived: float
    """``time.time()`` when the client had it."""
    unpacked_at: float = 0.0


class _Counter:
    """A file that keeps only the count of the bytes written to it."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return len(data)


def pickled_size(value: object) -> int:
    """The bytes of ``value`` pickled (without holding a second copy of a large part)."""
    counter = _Counter()
    pickle.Pickler(counter, pickle.HIGHEST_PROTOCOL).dump(value)
    return counter.count


def _measuring(unpack: Callable[[Part], Part], sizes: list[PartSize]) -> Callable[[Part], Part]:
    """``cluster._unpacked``, noting the size of each part it gets before unpacking it."""

    def measured(part: Part) -> Part:
        arrived = time.time()
        start = time.perf_counter()
        pickled = pickled_size(part)
        seconds = time.perf_counter() - start
        spools = sum(len(state.data or b"") for state in (part.calls, part.exchanges))
        watches = pickled_size(part.watches)
        sizes.append(PartSize(pickled, spools, watches, seconds, arrived))
        unpacked = unpack(part)
        sizes[-1].unpacked_at = time.time()
        return unpacked

    return measured


def compute_seconds(task: dict[str, Any]) -> float:
    return float(sum(s["stop"] - s["start"] for s in task["startstops"]
                     if s["action"] == "compute"))


def tasks_named(stream: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [task for task in stream if str(task["key"]).startswith(name)]


def round_trips(client: Client, count: int) -> list[float]:
    """The seconds of each of ``count`` empty tasks, submitted and awaited one at a time."""
    seconds = []
    for k in range(count):
        start = time.perf_counter()
        client.submit(abs, k, pure=False).result()
        seconds.append(time.perf_counter() - start)
    return seconds


def timed_checks(client: Client, files: list[str]) -> dict[str, object]:
    """The per-file check tasks of ``analyze_on``, as a phase of their own: its seconds, and
    each task's compute time (Dask's task stream)."""
    from distributed import get_task_stream

    from sipdiag.analysis.cluster import unreadable

    with get_task_stream(client) as stream:
        start = time.perf_counter()
        client.gather(client.map(unreadable, files, pure=False))  # type: ignore[no-untyped-call]
        seconds = time.perf_counter() - start
    return {"files": len(files), "seconds": seconds,
            "compute_seconds": [compute_seconds(t) for t in tasks_named(stream.data,
                                                                         "unreadable")]}


def drive(files: list[str], workers: int, figures: Path) -> None:
    """The document of the captures on stdout, made as ``sipdiag FILES --dask local:N
    --format json`` makes it, and the figures of the cluster's work in ``figures``."""
    from distributed import get_task_stream

    from sipdiag.analysis import cluster
    from sipdiag.analysis.pipeline import Job, Share
    from sipdiag.cli import GC_THRESHOLDS
    from sipdiag.cli.cluster import dask_client
    from sipdiag.dialogs.select import Ladders
    from sipdiag.report.document import write_json
    from sipdiag.rules import load_engine

    gc.set_threshold(*GC_THRESHOLDS)
    engine = load_engine()
    job = Job(engine, None, Ladders.NONE)  # as analyze_on makes it for these arguments
    sizes: list[PartSize] = []
    cluster._unpacked = _measuring(cluster._unpacked, sizes)  # type: ignore[assignment]
    start = time.perf_counter()
    with dask_client(f"local:{workers}") as client:
        cluster_start_seconds = time.perf_counter() - start
        trips = round_trips(client, ROUND_TRIPS)
        first_checks = timed_checks(client, files)  # the workers import sipdiag
        checks = timed_checks(client, files)
        with get_task_stream(client) as shares:
            start = time.perf_counter()
            run = cluster.analyze_on(client, files, engine=engine)
            analysis_seconds = time.perf_counter() - start
            combined_at = time.time()
        with get_task_stream(client) as reading:
            part = client.submit(cluster.analyze_packed, Share(0, READING_ONLY), paths=files,
                                 job=job, pure=False).result()
        workers_peak = {address: usage.ru_maxrss * 1024 for address, usage in client.run(
            resource.getrusage, resource.RUSAGE_SELF).items()}
        closing = time.perf_counter()
    cluster_stop_seconds = time.perf_counter() - closing
    start = time.perf_counter()
    write_json(run.analysis, sys.stdout)
    sys.stdout.flush()
    report_seconds = time.perf_counter() - start
    share_tasks = tasks_named(shares.data, "analyze_packed")
    figures.write_text(json.dumps({
        "empty_task_round_trip_seconds": {"median": statistics.median(trips),
                                          "best": min(trips), "count": len(trips)},
        "cluster_start_seconds": cluster_start_seconds,
        "cluster_stop_seconds": cluster_stop_seconds,
        "first_checks": first_checks, "checks": checks,
        "analyze_on_seconds": analysis_seconds,
        "share_task_seconds": [compute_seconds(t) for t in share_tasks],
        "share_task_stops": [max(s["stop"] for s in t["startstops"]) for t in share_tasks],
        "parts": [asdict(size) for size in sizes],
        "combine_seconds": combined_at - max(size.unpacked_at for size in sizes),
        "report_seconds": report_seconds,
        "job_bytes": pickled_size(job),
        "reading_only": {"task_seconds": [compute_seconds(t) for t in tasks_named(
            reading.data, "analyze_packed")], "calls": sum(part.tally.call_outcomes.values()),
            "messages": sum(part.counts.values())},
        "workers_peak_bytes": sorted(workers_peak.values()),
        "client_peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


def drive_command(files: list[Path], workers: int, figures: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--drive", *map(str, files),
            "--workers", str(workers), "--figures", str(figures)]


# The runs

DRIVEN = "this script as the Dask client (--drive)"


def bench(files: list[Path], workers: int, runs: int, folder: Path,
          saved: Path) -> dict[str, object]:
    """The runs, and what they show; after each run, what is known so far in ``saved`` (a
    bench of hours may be stopped)."""
    packets = sum(map(packet_count, files))
    size = sum(file.stat().st_size for file in files)
    print(f"{len(files)} files: {packets:,} packets, {size / MB:,.0f} MB", flush=True)
    measured: dict[str, Measured] = {}
    kept: dict[str, Document] = {}
    numbers = count()
    out = folder / "out.json"
    driven: dict[str, Any] = {}
    mismatches: list[str] = []
    for round_ in range(runs):
        print(f"round {round_ + 1}", flush=True)
        runs_now = [(name, tool, argv) for name, (tool, argv) in commands(files,
                                                                          workers).items()]
        figures = folder / "figures.json"
        if round_ == 0:
            runs_now.append((DRIVEN, Tool.SIPDIAG, drive_command(files, workers, figures)))
        for name, tool, argv in runs_now:
            run_once(name, tool, argv, out, measured.setdefault(name, Measured()))
            if tool is Tool.SIPDIAG:
                document = document_of(out, folder / f"document-{next(numbers)}.json")
                mismatches += compared(kept, name, document)
            if name == DRIVEN:
                driven = json.loads(figures.read_text())
            saved.write_text(json.dumps({"complete": False, "rows": summary(
                packets, measured), "mismatches": mismatches, "driven": driven}, indent=2))
    first = kept["sipdiag -j 1"]
    # every run of a command, not only its first, alike with -j 1's first
    identical = {name: not any(m.startswith(f"{name} against") for m in mismatches)
                 for name in kept}
    print(f"documents byte-identical to -j 1's: {identical}", flush=True)
    rows = summary(packets, measured)
    derived = derive(driven, workers, rows)
    return {"files": len(files), "packets": packets, "bytes": size,
            "per_file_packets": packet_count(files[0]), "workers": workers, "rows": rows,
            "documents_identical_to_j1": identical, "mismatches": mismatches,
            "document_sha256": first.digest, "document_bytes": first.size, "driven": driven,
            "derived": derived,
            "estimate": estimate(derived, packets, size, workers)}


def compared(kept: dict[str, Document], name: str, document: Document) -> list[str]:
    """Where a document differs from -j 1's first one, or from its command's first one (said,
    and the run goes on: a mismatch is a bug to report, the other figures still count). The
    first document of each command is kept, the others removed."""
    kept.setdefault(name, document)
    found = [f"{name} against {other}: {first_difference(kept[other].path, document.path)}"
             for other in dict.fromkeys(("sipdiag -j 1", name))
             if kept[other].digest != document.digest]
    for mismatch in found:
        print(f"  MISMATCH: {mismatch}", flush=True)
    if kept[name] is not document:
        document.path.unlink()
    return found


def summary(packets: int, measured: dict[str, Measured]) -> list[dict[str, object]]:
    sngrep = measured.get("sngrep (default: 20,000 dialogs)")
    rows = []
    for name, found in measured.items():
        m: Measurement = found.runs.best
        seconds = [r.seconds for r in found.runs.measurements]
        fastest = seconds.index(min(seconds))
        rows.append({
            "command": name, "seconds": round(m.seconds, 2),
            "median_seconds": round(found.runs.median_seconds, 2),
            "runs_seconds": [round(r.seconds, 2) for r in found.runs.measurements],
            "cpu_seconds": round(min(found.runs.cpu_seconds), 2),
            "packets_per_second": round(packets / m.seconds),
            "peak_mb": round(m.peak_rss_bytes / MB, 1),
            "peak_pss_mb": round(m.peak_pss_bytes / MB, 1),
            "time_vs_sngrep": round(m.seconds / sngrep.runs.best.seconds, 2) if sngrep else None,
            "load_before_after": found.load,
            "processes_of_fastest_run": found.processes[fastest],
            "processes_of_every_run": found.processes,
        })
    return rows


def row_of(rows: list[dict[str, object]], name: str) -> dict[str, object]:
    return next(row for row in rows if row["command"] == name)


def derive(driven: dict[str, Any], workers: int,
           rows: list[dict[str, object]]) -> dict[str, object]:
    """The figures of the driven client, and of the command line's Dask runs, put together."""
    checks, shares = driven["checks"], driven["share_task_seconds"]
    reading = driven["reading_only"]["task_seconds"][0]
    one = float(row_of(rows, "sipdiag -j 1")["seconds"])  # type: ignore[arg-type]
    dask = row_of(rows, f"sipdiag --dask local:{workers}")
    sampled_workers = [[p["peak_mb"] for p in run if p["role"] == Role.WORKER]
                       for run in dask["processes_of_every_run"]]  # type: ignore[attr-defined]
    sampled_main = [max(p["peak_mb"] for p in run if p["role"] == Role.MAIN)
                    for run in dask["processes_of_every_run"]]  # type: ignore[attr-defined]
    parts = driven["parts"]
    return {
        "cluster_start_seconds": driven["cluster_start_seconds"],
        "cluster_stop_seconds": driven["cluster_stop_seconds"],
        "first_check_seconds_per_file": driven["first_checks"]["seconds"] / checks["files"],
        "check_seconds_per_file": checks["seconds"] / checks["files"],
        "check_task_compute_seconds_mean": statistics.mean(checks["compute_seconds"]),
        # what is not the tasks' own work, the files' checks shared by the workers
        "check_overhead_seconds_per_file": (checks["seconds"] - sum(checks["compute_seconds"])
                                            / workers) / checks["files"],
        "empty_task_round_trip_seconds": driven["empty_task_round_trip_seconds"]["median"],
        "share_task_seconds": shares,
        "reading_only_task_seconds": reading,
        "reading_only_task_calls": driven["reading_only"]["calls"],
        "reading_fraction_of_share_task": reading / statistics.mean(shares),
        "reading_fraction_of_one_process_run": reading / one,
        "part_pickled_bytes": [p["pickled_bytes"] for p in parts],
        "part_spool_bytes": [p["spool_bytes"] for p in parts],
        "part_watches_bytes": [p["watches_bytes"] for p in parts],
        "part_pickle_seconds": [p["pickle_seconds"] for p in parts],
        "job_bytes": driven["job_bytes"],
        "client_combine_seconds": driven["combine_seconds"],
        "client_report_seconds": driven["report_seconds"],
        "workers_peak_mb_own_maxrss": [round(b / MB, 1) for b in driven["workers_peak_bytes"]],
        "client_peak_mb_own_maxrss": round(driven["client_peak_bytes"] / MB, 1),
        "workers_peak_mb_sampled_cli_runs": sampled_workers,
        "client_peak_mb_sampled_cli_runs": sampled_main,
    }


def estimate(derived: dict[str, Any], packets: int, size: int,
             workers: int) -> dict[str, object]:
    """A day of captures on 10 and 100 workers, from the figures measured here (an estimate:
    the same traffic as the bench capture, every worker as fast as one of this machine)."""
    reading = derived["reading_only_task_seconds"] / packets  # r: every share pays it
    analysis = (sum(derived["share_task_seconds"]) - workers * derived[
        "reading_only_task_seconds"]) / packets  # a: shared among the workers
    client = (derived["client_combine_seconds"] + derived["client_report_seconds"]) / packets
    results = sum(derived["part_pickled_bytes"]) / packets  # b: bytes of parts a packet
    per_packet = size / packets  # q: capture bytes a packet
    check = derived["check_seconds_per_file"]
    day = DAY_FILES * DAY_PACKETS_PER_FILE
    on: dict[str, object] = {}
    for fleet in DAY_WORKERS:
        share = day * reading + day * analysis / fleet + day * results / fleet / (
            LINK_BYTES_PER_SECOND)
        on_client = day * results / LINK_BYTES_PER_SECOND + day * client
        total = DAY_FILES * check + share + on_client
        on[f"{fleet} workers"] = {
            "share_task_seconds": round(share), "of_which_reading": round(day * reading),
            "of_which_analysis": round(day * analysis / fleet),
            "client_seconds": round(on_client), "checks_seconds": round(DAY_FILES * check),
            "total_seconds": round(total), "total_hours": round(total / 3600, 2),
            "read_mb_per_second_per_worker": round(day * per_packet / share / MB, 1),
            "read_mb_per_second_all_workers": round(fleet * day * per_packet / share / MB),
        }
    return {
        "day": f"{DAY_FILES:,} files of {DAY_PACKETS_PER_FILE:,} packets ({day:,} packets, "
               f"{day * per_packet / 1e9:,.0f} GB at this capture's {per_packet:.0f} bytes a "
               "packet), the bench capture's traffic (SIP only, 6 packets a call)",
        "assumed_link_bytes_per_second": LINK_BYTES_PER_SECOND,
        "per_packet": {"reading_seconds_r": reading, "analysis_seconds_a": analysis,
                       "client_combine_and_report_seconds_c": client,
                       "part_bytes_b": results, "capture_bytes_q": per_packet,
                       "check_seconds_per_file_k": check},
        "formula": "share = N*r + N*a/W + N*b/(W*L); client = N*b/L + N*c; "
                   "total = F*k + share + client; read bandwidth per worker = N*q/share",
        "one_process_seconds": round(day * (reading + analysis + client)),
        "workers_where_analysis_equals_reading": round(analysis / reading, 1),
        "limit_seconds_any_workers": round(DAY_FILES * check + day * reading + day * results
                                           / LINK_BYTES_PER_SECOND + day * client),
        "read_mb_per_second_per_worker_limit": round(per_packet / reading / MB, 1),
        "on": on,
    }


def report(result: dict[str, Any]) -> None:
    print("\nbest of the runs (median; CPU: the least of the runs):")
    for row in result["rows"]:
        print(f"  {row['command']:42} {row['seconds']:8.2f} s ({row['median_seconds']:.2f}; "
              f"CPU {row['cpu_seconds']:.2f}) {row['packets_per_second']:>8,}/s "
              f"{row['peak_mb']:8.1f} MB  x{row['time_vs_sngrep']} sngrep's time")
    print("\nderived:")
    for key, value in result["derived"].items():
        print(f"  {key}: {value}")
    print("\nestimate:")
    print(json.dumps(result["estimate"], indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--capture", default="sip-5m",
                        help="a capture bench/whole.py builds (sip-500k, sip-5m)")
    parser.add_argument("--per-file", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--drive", nargs="+", metavar="FILE",
                        help="be the client: the document of FILEs on stdout")
    parser.add_argument("--figures", type=Path, help="with --drive: where its figures go")
    parser.add_argument("--out", type=Path, default=OUT / "cluster.json")
    args = parser.parse_args()
    if args.drive:
        drive(args.drive, args.workers, args.figures)
        return
    OUT.mkdir(exist_ok=True)
    files = rotated(args.capture, args.per_file)
    if args.build_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = {"capture": args.capture, "load_average_at_start": os.getloadavg(),
                  **bench(files, args.workers, args.runs, Path(tmp), args.out)}
    args.out.write_text(json.dumps({**result, "complete": True}, indent=2) + "\n")
    report(result)


if __name__ == "__main__":
    main()
