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
document must equal the command line's). ``analyze_on`` reads each file once (commit b63efc4,
``analysis/shuffle.py``): a survey task a file (``surveyed_or_why``), a ``read_group`` task a
group of files (a rotated file is a group of its own), a ``read_set_aside`` task if any frame
needs others (TCP, fragments), ``getitem`` tasks picking slots out of the reading tasks'
tuples, then a ``replay_packed`` task a share. Measured:

- Dask's round trip of an empty task, and what a task costs when many are queued (2,000 empty
  tasks at once); the survey tasks once before, as the first tasks the workers run;
- each phase as Dask's task stream shows it: its tasks' compute time (each, in all), the time
  they waited for inputs from another worker, when it ran; from these the read cost of a file
  (survey and ``read_group``) and the share tasks' times;
- what a share's task is given, pickled where it lies by a task of its own once the analysis
  is done (``_Reading.for_share`` wrapped to keep the futures): each share's pieces, the
  clocks (every share gets all), the media events (every share, only with media); and what
  each worker fetched from the other: the keys of ``distributed``'s transfer log at those
  pickled sizes (the log's own byte count is Dask's ``sizeof`` guess, kept beside it);
- a share's replay with every clock and empty pieces (``replay_packed`` with ``Piece()``):
  what a share's task pays whatever it owns, the rest of its time being its own calls;
- each share's part as it travels (pickled ``Part``: packed spools, watches, the rest) and the
  job (pickled ``Job``: the engine); the client's combine and report; the peak memory of each
  worker and of the client (their own ``ru_maxrss``).

From these, an estimate of a day of captures on 10 and 100 workers (formula in the output).
Results go to stdout and bench/out/cluster.json (``--again``: derived and estimated once more
from the runs saved there, nothing run).

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
ROUND_TRIPS = 200
"""Empty tasks submitted one after the other, for Dask's round trip."""
THROUGHPUT_TASKS = 2_000
"""Empty tasks submitted at once, for what a task costs the scheduler when many are queued."""
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


def transfer_seconds(task: dict[str, Any]) -> float:
    """The time a task waited for its inputs to come from another worker."""
    return float(sum(s["stop"] - s["start"] for s in task["startstops"]
                     if s["action"] == "transfer"))


def tasks_named(stream: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [task for task in stream if str(task["key"]).startswith(f"{name}-")]


class Phase(StrEnum):
    """The tasks of ``analyze_on``, by the name Dask gives their keys (their function's)."""

    SURVEY = "surveyed_or_why"
    READ_GROUP = "read_group"
    READ_SET_ASIDE = "read_set_aside"
    GETITEM = "getitem"
    """A slot picked out of a reading task's tuple (``cluster._slot``)."""
    REPLAY = "replay_packed"


def phases(stream: list[dict[str, Any]], origin: float) -> dict[str, dict[str, Any]]:
    """Each phase's tasks as Dask's task stream shows them: their count, compute time (each,
    and in all), time waiting for inputs from another worker, and when the phase ran (seconds
    after ``origin``: its first start, its last stop)."""
    found: dict[str, dict[str, Any]] = {}
    for phase in Phase:
        tasks = tasks_named(stream, phase)
        spans = [s for task in tasks for s in task["startstops"]]
        found[phase] = {
            "tasks": len(tasks),
            "compute_seconds": [compute_seconds(t) for t in tasks],
            "compute_seconds_total": sum(map(compute_seconds, tasks)),
            "transfer_seconds_total": sum(map(transfer_seconds, tasks)),
            "workers": [t["worker"] for t in tasks],
            "from_seconds": min((s["start"] for s in spans), default=origin) - origin,
            "until_seconds": max((s["stop"] for s in spans), default=origin) - origin,
        }
    return found


def round_trips(client: Client, count: int) -> list[float]:
    """The seconds of each of ``count`` empty tasks, submitted and awaited one at a time."""
    seconds = []
    for k in range(count):
        start = time.perf_counter()
        client.submit(abs, k, pure=False).result()
        seconds.append(time.perf_counter() - start)
    return seconds


def task_throughput(client: Client, count: int) -> float:
    """Seconds a task of ``count`` empty tasks submitted at once: what the scheduler (and the
    workers' bookkeeping) costs a task when many are queued."""
    start = time.perf_counter()
    client.gather(client.map(abs, range(count), pure=False))  # type: ignore[no-untyped-call]
    return (time.perf_counter() - start) / count


def timed_surveys(client: Client, files: list[str]) -> dict[str, object]:
    """The per-file survey tasks of ``analyze_on`` on their own, the first tasks the workers
    run (they import sipdiag): the phase's seconds and each task's compute time."""
    from distributed import get_task_stream

    from sipdiag.analysis.cluster import surveyed_or_why

    with get_task_stream(client) as stream:
        start = time.perf_counter()
        client.gather(client.map(surveyed_or_why, files, pure=False))  # type: ignore[no-untyped-call]
        seconds = time.perf_counter() - start
    return {"files": len(files), "seconds": seconds,
            "compute_seconds": [compute_seconds(t) for t in tasks_named(stream.data,
                                                                         Phase.SURVEY)]}


@dataclass
class Kept:
    """What ``analyze_on`` gave each share's replay task, kept (``_Reading.for_share``
    wrapped) to be measured once the analysis is done: the plan and, for each share, the
    arguments after it (of each group, then of the set-aside frames if any: the fields of
    ``shuffle.ShareInputs``, futures of the reading tasks' slots)."""

    plan: Any = None
    shares: dict[int, tuple[list[tuple[Any, ...]], tuple[Any, ...] | None]] = field(
        default_factory=dict)

    def keeping(self, for_share: Callable[[Any, int], Any]) -> Callable[[Any, int], Any]:
        def kept(reading: Any, index: int) -> Any:
            found = for_share(reading, index)
            self.plan = reading.plan
            self.shares[index] = found
            return found

        return kept

    def inputs(self, index: int) -> list[tuple[Any, ...]]:
        """The share's ``ShareInputs`` fields, of each group and of the set-aside frames."""
        groups, set_aside = self.shares[index]
        return [*groups, *filter(None, [set_aside])]


def share_inputs(client: Client, kept: Kept) -> dict[str, Any]:
    """The pickled bytes of what each share's task was given (pickled where each lies, by a
    task: none of it comes to this process), and the bytes the workers fetched from each
    other (each key of ``distributed``'s transfer log at its pickled size, and at Dask's own
    estimate, ``sizeof``)."""
    logs = client.run(lambda dask_worker: list(dask_worker.transfer_incoming_log))
    first = kept.inputs(0)
    clocks = [fields[0] for fields in first]
    events = [fields[2] for fields in first if len(fields) > 2]  # only with media
    pieces = {index: [fields[1] for fields in kept.inputs(index)] for index in kept.shares}
    futures = [*clocks, *events, *(f for share in pieces.values() for f in share)]
    measured = client.gather(client.map(pickled_size, futures, pure=False))  # type: ignore[no-untyped-call]
    sizes = dict(zip((f.key for f in futures), measured, strict=True))
    received = {address: {
        "transfers": len(log),
        "seconds": sum(entry["duration"] for entry in log),
        "pickled_bytes": sum(sizes.get(key, 0) for entry in log for key in entry["keys"]),
        "keys_not_measured": sum(key not in sizes for entry in log for key in entry["keys"]),
        "dask_sizeof_bytes": sum(entry["total"] for entry in log),
    } for address, log in logs.items()}
    return {
        "clock_bytes": sum(sizes[f.key] for f in clocks),
        "events_bytes": sum(sizes[f.key] for f in events),
        "pieces_bytes": {index: sum(sizes[f.key] for f in share)
                         for index, share in pieces.items()},
        "plan_bytes": pickled_size(kept.plan),
        "received_by_worker": received,
    }


def clock_only_replay(client: Client, kept: Kept, job: Any, shares: int) -> dict[str, Any]:
    """A share's replay with every group's clock and an empty piece of its own (with media,
    every event and the other shares' pieces as well): what each share's task pays whatever
    it owns, timed by Dask's task stream."""
    from distributed import get_task_stream

    from sipdiag.analysis import cluster
    from sipdiag.analysis.pipeline import Share
    from sipdiag.analysis.shuffle import Piece

    empty = pickle.dumps(Piece(), pickle.HIGHEST_PROTOCOL)  # as a reading task packs one
    groups, set_aside = kept.shares[0]
    with get_task_stream(client) as stream:
        part = client.submit(cluster.replay_packed, Share(0, shares), job, kept.plan,
                             [(clock, empty, *rest) for clock, _, *rest in groups],
                             (set_aside[0], empty, *set_aside[2:]) if set_aside else None,
                             collector=gc.get_threshold(), pure=False).result()
    return {"task_seconds": [compute_seconds(t) for t in tasks_named(stream.data,
                                                                       Phase.REPLAY)],
            "calls": sum(part.tally.call_outcomes.values())}


def peaks(client: Client) -> dict[str, int]:
    """Each worker's peak resident size so far (its own ``ru_maxrss``), in bytes."""
    return {address: usage.ru_maxrss * 1024 for address, usage in client.run(
        resource.getrusage, resource.RUSAGE_SELF).items()}


def drive(files: list[str], workers: int, figures: Path) -> None:
    """The document of the captures on stdout, made as ``sipdiag FILES --dask local:N
    --format json`` makes it, and the figures of the cluster's work in ``figures``."""
    from distributed import get_task_stream

    from sipdiag.analysis import cluster
    from sipdiag.analysis.pipeline import Job
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
    kept = Kept()
    cluster._Reading.for_share = kept.keeping(  # type: ignore[method-assign,assignment]
        cluster._Reading.for_share)
    start = time.perf_counter()
    with dask_client(f"local:{workers}") as client:
        cluster_start_seconds = time.perf_counter() - start
        trips = round_trips(client, ROUND_TRIPS)
        per_task = task_throughput(client, THROUGHPUT_TASKS)
        first_surveys = timed_surveys(client, files)  # the workers import sipdiag
        workers_before = peaks(client)
        client_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        with get_task_stream(client) as stream:
            origin = time.time()
            start = time.perf_counter()
            run = cluster.analyze_on(client, files, engine=engine)
            analysis_seconds = time.perf_counter() - start
            combined_at = time.time()
        workers_peak = peaks(client)
        shares = len(kept.shares)
        inputs = share_inputs(client, kept)  # the transfer log before any task of its own
        clock_only = clock_only_replay(client, kept, job, shares)
        kept.shares.clear()
        closing = time.perf_counter()
    cluster_stop_seconds = time.perf_counter() - closing
    start = time.perf_counter()
    write_json(run.analysis, sys.stdout)
    sys.stdout.flush()
    report_seconds = time.perf_counter() - start
    figures.write_text(json.dumps({
        "empty_task_round_trip_seconds": {"median": statistics.median(trips),
                                          "best": min(trips), "count": len(trips)},
        "seconds_a_task_of_many": per_task,
        "cluster_start_seconds": cluster_start_seconds,
        "cluster_stop_seconds": cluster_stop_seconds,
        "first_surveys": first_surveys,
        "analyze_on_seconds": analysis_seconds,
        "shares": shares,
        "phases": phases(stream.data, origin),
        "share_inputs": inputs,
        "clock_only_replay": clock_only,
        "parts": [asdict(size) for size in sizes],
        "combine_seconds": combined_at - max(size.unpacked_at for size in sizes),
        "last_part_after_seconds": max(size.arrived for size in sizes) - origin,
        "report_seconds": report_seconds,
        "job_bytes": pickled_size(job),
        "workers_peak_bytes": [workers_peak[a] for a in sorted(workers_peak)],
        "workers_peak_bytes_before": [workers_before[a] for a in sorted(workers_peak)],
        "client_peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "client_peak_bytes_before": client_before,
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
    return {"files": len(files), "packets": packets, "bytes": size,
            "per_file_packets": packet_count(files[0]), "workers": workers,
            "rows": summary(packets, measured), "documents_identical_to_j1": identical,
            "mismatches": mismatches, "document_sha256": first.digest,
            "document_bytes": first.size, "driven": driven}


def concluded(result: dict[str, Any]) -> dict[str, Any]:
    """The runs' results with what is derived from them and the estimate of a day."""
    derived = derive(result["driven"], result["workers"], result["rows"])
    one = float(row_of(result["rows"], "sipdiag -j 1")["seconds"])  # type: ignore[arg-type]
    return {**result, "derived": derived, "estimate": estimate(
        derived, result["packets"], result["bytes"], result["workers"], one)}


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
    phase, inputs = driven["phases"], driven["share_inputs"]
    files, shares = driven["first_surveys"]["files"], driven["shares"]
    groups = phase[Phase.READ_GROUP]["tasks"]
    surveys = phase[Phase.SURVEY]["compute_seconds_total"]
    reads = phase[Phase.READ_GROUP]["compute_seconds_total"]
    replays = phase[Phase.REPLAY]["compute_seconds"]
    clock_only = driven["clock_only_replay"]["task_seconds"][0]
    one = float(row_of(rows, "sipdiag -j 1")["seconds"])  # type: ignore[arg-type]
    dask = row_of(rows, f"sipdiag --dask local:{workers}")
    sampled_workers = [[p["peak_mb"] for p in run if p["role"] == Role.WORKER]
                       for run in dask["processes_of_every_run"]]  # type: ignore[attr-defined]
    sampled_main = [max(p["peak_mb"] for p in run if p["role"] == Role.MAIN)
                    for run in dask["processes_of_every_run"]]  # type: ignore[attr-defined]
    parts = driven["parts"]
    pieces = list(inputs["pieces_bytes"].values())
    everyone = inputs["clock_bytes"] + inputs["events_bytes"]
    return {
        "cluster_start_seconds": driven["cluster_start_seconds"],
        "cluster_stop_seconds": driven["cluster_stop_seconds"],
        "empty_task_round_trip_seconds": driven["empty_task_round_trip_seconds"]["median"],
        "seconds_a_task_of_many": driven["seconds_a_task_of_many"],
        "first_survey_seconds_per_file": driven["first_surveys"]["seconds"] / files,
        "analyze_on_seconds": driven["analyze_on_seconds"],
        "shares": shares,
        "phase_from_until_seconds": {name: [round(p["from_seconds"], 2),
                                            round(p["until_seconds"], 2)]
                                     for name, p in phase.items() if p["tasks"]},
        "last_part_at_client_seconds": driven["last_part_after_seconds"],
        "survey_seconds_per_file": surveys / files,
        "read_group_seconds_per_group": reads / groups,
        "groups": groups,
        "read_seconds_per_file": (surveys + reads) / files,
        "set_aside_task_seconds": phase[Phase.READ_SET_ASIDE]["compute_seconds"],
        "read_compute_seconds_total": surveys + reads + phase[Phase.READ_SET_ASIDE][
            "compute_seconds_total"],
        "getitem_tasks": phase[Phase.GETITEM]["tasks"],
        "getitem_compute_seconds_total": phase[Phase.GETITEM]["compute_seconds_total"],
        "replay_task_seconds": replays,
        "replay_transfer_seconds": phase[Phase.REPLAY]["transfer_seconds_total"],
        "clock_only_replay_seconds": clock_only,
        "clock_only_fraction_of_replay": clock_only / statistics.mean(replays),
        "tasks_compute_seconds_over_one_process_run": (
            surveys + reads + sum(replays)) / one,
        "share_pieces_bytes": pieces,
        "clock_bytes": inputs["clock_bytes"],
        "events_bytes": inputs["events_bytes"],
        "share_input_bytes": [piece + everyone for piece in pieces],
        "received_by_worker": inputs["received_by_worker"],
        "plan_bytes": inputs["plan_bytes"],
        "job_bytes": driven["job_bytes"],
        "part_pickled_bytes": [p["pickled_bytes"] for p in parts],
        "part_spool_bytes": [p["spool_bytes"] for p in parts],
        "part_watches_bytes": [p["watches_bytes"] for p in parts],
        "part_pickle_seconds": [p["pickle_seconds"] for p in parts],
        "client_combine_seconds": driven["combine_seconds"],
        "client_report_seconds": driven["report_seconds"],
        "workers_peak_mb_own_maxrss": [round(b / MB, 1) for b in driven["workers_peak_bytes"]],
        "client_peak_mb_own_maxrss": round(driven["client_peak_bytes"] / MB, 1),
        "workers_peak_mb_before_analysis": [round(b / MB, 1)
                                            for b in driven["workers_peak_bytes_before"]],
        "client_peak_mb_before_analysis": round(driven["client_peak_bytes_before"] / MB, 1),
        "workers_peak_mb_sampled_cli_runs": sampled_workers,
        "client_peak_mb_sampled_cli_runs": sampled_main,
    }


def estimate(derived: dict[str, Any], packets: int, size: int, workers: int,
             one_process_seconds: float) -> dict[str, object]:
    """A day of captures on 10 and 100 workers, from the figures measured here (an estimate:
    the same traffic as the bench capture, every worker as fast as one of this machine, the
    scheduler as fast as this one; every share's replay as long as the longest here)."""
    shares = derived["shares"]
    clock_only = derived["clock_only_replay_seconds"]
    reading = derived["read_compute_seconds_total"] / packets  # r: divided among the workers
    clock = clock_only / packets  # t: every share replays every clock time
    analysis = (sum(derived["replay_task_seconds"]) - shares * clock_only) / packets  # a
    pieces = sum(derived["share_pieces_bytes"]) / packets  # p: all shares' pieces
    clock_bytes = (derived["clock_bytes"] + derived["events_bytes"]) / packets  # k: each share
    results = sum(derived["part_pickled_bytes"]) / packets  # b: all shares' parts
    client = (derived["client_combine_seconds"] + derived["client_report_seconds"]) / packets
    per_task = derived["seconds_a_task_of_many"]  # s
    received = derived["received_by_worker"].values()
    measured_rate = sum(r["pickled_bytes"] for r in received) / sum(r["seconds"]
                                                                    for r in received)
    slots = derived["getitem_tasks"] / derived["groups"] - shares  # g: slots a group, not pieces
    per_packet = size / packets  # q
    worker_memory = max(peak - before for peak, before in zip(
        derived["workers_peak_mb_own_maxrss"], derived["workers_peak_mb_before_analysis"],
        strict=True)) * MB / (packets / workers)  # each worker reads 1/W of the packets
    client_memory = (derived["client_peak_mb_own_maxrss"]
                     - derived["client_peak_mb_before_analysis"]) * MB / packets
    day, files = DAY_FILES * DAY_PACKETS_PER_FILE, DAY_FILES
    link = LINK_BYTES_PER_SECOND
    rate = min(measured_rate, link)  # R: pieces are pickled objects, each made and read
    on: dict[str, object] = {}
    for fleet in DAY_WORKERS:
        read = day * reading / fleet
        # a share's inputs come from the other workers but the share of its own worker's
        inputs = (fleet - 1) / fleet * (day * pieces / fleet / rate + day * clock_bytes / link)
        replay = day * analysis / fleet + day * clock + inputs
        on_client = day * results / link + day * client
        tasks = files * (2 + slots + fleet) + fleet
        scheduler = tasks * per_task
        total = read + replay + on_client + scheduler
        on[f"{fleet} workers"] = {
            "reading_seconds": round(read), "replay_seconds": round(replay),
            "of_which_analysis": round(day * analysis / fleet),
            "of_which_clock": round(day * clock),
            "of_which_inputs_fetched": round(inputs),
            "client_seconds": round(on_client), "tasks": round(tasks),
            "scheduler_seconds": round(scheduler),
            "total_seconds": round(total), "total_hours": round(total / 3600, 2),
            "read_mb_per_second_per_worker": round(day * per_packet / fleet / read / MB, 1),
            "worker_growth_gb_linear": round(worker_memory * day / fleet / 1e9, 1),
        }
    return {
        "day": f"{DAY_FILES:,} files of {DAY_PACKETS_PER_FILE:,} packets ({day:,} packets, "
               f"{day * per_packet / 1e9:,.0f} GB at this capture's {per_packet:.0f} bytes a "
               "packet), the bench capture's traffic (SIP only, 6 packets a call)",
        "assumed_link_bytes_per_second": link,
        "measured_transfer_bytes_per_second": measured_rate,
        "per_packet": {"reading_seconds_r": reading, "analysis_seconds_a": analysis,
                       "clock_seconds_t": clock, "pieces_bytes_p": pieces,
                       "clock_bytes_k": clock_bytes, "part_bytes_b": results,
                       "client_combine_and_report_seconds_c": client,
                       "capture_bytes_q": per_packet},
        "seconds_a_task_s": per_task, "other_slots_a_group_g": slots,
        "formula": "reading = N*r/W; replay = N*a/W + N*t + (W-1)/W*(N*p/(W*R) + N*k/L); "
                   "client = N*b/L + N*c; scheduler = (F*(2 + g + W) + W)*s; "
                   "total = reading + replay + client + scheduler",
        "one_process_seconds": round(one_process_seconds / packets * day),
        "floor_seconds_without_scheduler": round(day * clock + day * clock_bytes / link
                                                 + day * results / link + day * client),
        "transfer_rate_R": rate,
        "worker_growth_bytes_per_packet_read": round(worker_memory),
        "client_growth_bytes_per_packet": round(client_memory),
        "client_growth_gb_linear": round(client_memory * day / 1e9, 1),
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
    print(formula_with_figures(result["estimate"]))


def formula_with_figures(found: dict[str, Any]) -> str:
    """The estimate's formula with the figures put in, for each number of workers."""
    p = found["per_packet"]
    r, a, t, c = (p[key] * 1e6 for key in ("reading_seconds_r", "analysis_seconds_a",
                                            "clock_seconds_t",
                                            "client_combine_and_report_seconds_c"))
    pieces, k, b = p["pieces_bytes_p"], p["clock_bytes_k"], p["part_bytes_b"]
    link = found["assumed_link_bytes_per_second"]
    lines = [f"N = {DAY_FILES * DAY_PACKETS_PER_FILE:,} packets, F = {DAY_FILES:,} files, "
             f"L = {link:.3g} B/s, R = {found['transfer_rate_R'] / MB:.1f} MB/s, "
             f"s = {found['seconds_a_task_s'] * 1e3:.2f} ms, "
             f"g = {found['other_slots_a_group_g']:g}"]
    for fleet, on in found["on"].items():
        lines.append(
            f"W = {fleet.split()[0]}: reading = N*{r:.1f}us/W = {on['reading_seconds']:,} s;"
            f" replay = N*{a:.1f}us/W + N*{t:.2f}us + (W-1)/W*(N*{pieces:.0f}B/(W*R)"
            f" + N*{k:.1f}B/L)"
            f" = {on['replay_seconds']:,} s; client = N*{b:.0f}B/L + N*{c:.1f}us"
            f" = {on['client_seconds']:,} s; scheduler = {on['tasks']:,} tasks * s"
            f" = {on['scheduler_seconds']:,} s; total = {on['total_seconds']:,} s"
            f" ({on['total_hours']} h)")
    return "\n".join(lines)


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
    parser.add_argument("--again", action="store_true",
                        help="derive and estimate again from the runs saved in --out, "
                             "without running anything")
    args = parser.parse_args()
    if args.drive:
        drive(args.drive, args.workers, args.figures)
        return
    if args.again:
        result = concluded(json.loads(args.out.read_text()))
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        report(result)
        return
    OUT.mkdir(exist_ok=True)
    files = rotated(args.capture, args.per_file)
    if args.build_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = concluded({"capture": args.capture, "load_average_at_start": os.getloadavg(),
                            **bench(files, args.workers, args.runs, Path(tmp), args.out)})
    args.out.write_text(json.dumps({**result, "complete": True}, indent=2) + "\n")
    report(result)


if __name__ == "__main__":
    main()
