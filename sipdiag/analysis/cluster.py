"""The analysis on a Dask cluster: the capture read a file at a time, by tasks spread over the
cluster's workers, each message analysed by the task of its share of the Call-IDs, with the
result one process gives (``analysis.shuffle`` says how).

1. Wildcards in the captures' URLs are expanded on the scheduler (it lists what the cluster
   sees, which this machine may not), and each file is surveyed by a task of its own (read
   through, not decoded: how many frames, from when to when): one that is not a capture is
   named, with why, and left out; the others are the capture, merged in time order.
2. One task per group of files (a file, or files whose times overlap; a region of a lone large
   file) decodes it where it lies (a file or an fsspec URL) and sorts its messages by share;
   one task decodes what the groups set aside (TCP, IP fragments), in the order of the whole
   capture.
3. One task per share replays the reading for its calls and judges them; the parts come back,
   each with its spooled results as bytes, and are combined here as the processes' parts are
   (``pipeline.combine``): the same analysis, byte for byte in every report, whatever the
   number of workers or files.

A task whose worker dies is run again by Dask on another: its result depends only on the
captures and the job.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest
from operator import getitem
from typing import TYPE_CHECKING, Any

from sipdiag.analysis.model import Analysis
from sipdiag.analysis.pipeline import Job, Part, Share, combine
from sipdiag.analysis.reading import PARALLEL_MIN_BYTES
from sipdiag.analysis.regions import count_region, numbered
from sipdiag.analysis.shuffle import (
    Group,
    Plan,
    Read,
    ShareInputs,
    Slot,
    Survey,
    capture_ends,
    capture_summary,
    far_apart,
    plan_groups,
    read_group,
    read_order,
    read_set_aside,
    replay_share,
    survey,
)
from sipdiag.capture import CaptureError
from sipdiag.capture.regions import plan as plan_regions
from sipdiag.capture.source import expand_urls, is_url
from sipdiag.dialogs.select import Ladders, Selection
from sipdiag.network.tls import Decryption
from sipdiag.rules import Engine
from sipdiag.spool import packed, unpacked

if TYPE_CHECKING:
    from distributed import Client, Future


@dataclass(frozen=True, slots=True)
class ClusterRun:
    analysis: Analysis
    captures: tuple[str, ...]
    """The captures analysed, wildcards expanded."""
    unreadable: tuple[str, ...]
    """Each capture left out, with why (``name: not a packet capture ...``)."""


def analyze_on(
    client: Client,
    names: Sequence[str],
    *,
    engine: Engine | None = None,
    selection: Selection | None = None,
    ladders: Ladders = Ladders.NONE,
    decryption: Decryption | None = None,
    marks: Selection | None = None,
    headers: Sequence[str] = (),
    shares: int = 0,
) -> ClusterRun:
    """``pipeline.analyze`` of the captures ``names`` (files or fsspec URLs, wildcards allowed)
    on the cluster of ``client``, in ``shares`` shares of the Call-IDs (0: one per worker
    thread). Raises ``CaptureError`` when no capture can be read."""
    expanded: list[str] = client.run_on_scheduler(expand_urls, list(names))
    surveyed = client.gather(client.map(surveyed_or_why, expanded, pure=False))
    readable = [found for found in surveyed if isinstance(found, Survey)]
    left_out = tuple(found for found in surveyed if isinstance(found, str))
    if not readable:
        raise CaptureError("no capture could be read: " + "; ".join(left_out))
    job = Job(engine, selection, ladders, decryption=decryption, marks=marks,
              headers=tuple(headers))
    count = shares or max(1, sum(client.nthreads().values()))
    reading = _Reading.of(client, readable, count, decryption)
    [sent_job, sent_plan] = client.scatter([job, reading.plan], broadcast=True)
    futures = [client.submit(replay_packed, Share(index, count), sent_job, sent_plan,
                             *reading.for_share(index), collector=gc.get_threshold(),
                             pure=False)
               for index in range(count)]
    del reading  # what the reading tasks found goes once every share has its part of it
    parts = []
    for future in futures:  # one part's bytes at a time, each written to a file here
        parts.append(_unpacked(future.result()))
        future.release()
    analysis = replace(combine(parts, engine), selection=selection or Selection())
    return ClusterRun(analysis, tuple(s.name for s in readable), left_out)


@dataclass(slots=True)
class _Reading:
    """The reading tasks of a capture (the groups', then the set-aside frames'), left on the
    workers, and the ``Plan`` made of what they found."""

    client: Client
    tasks: list[Future[Any]]
    groups: int
    plan: Plan
    clocks: list[Future[Any]]
    pieces: list[list[Future[Any]]]
    """Each task's pieces, one per share."""
    events: list[Future[Any]]
    """Each task's media events, if the capture has media (every share is shown them, and
    every piece: they name the messages in them)."""

    @classmethod
    def of(cls, client: Client, readable: list[Survey], shares: int,
           decryption: Decryption | None) -> _Reading:
        merged = len(readable) > 1
        tasks = client.map(read_group, _groups(client, readable, shares), merged=merged,
                           shares=shares, pure=False)
        groups = len(tasks)
        reads: list[Read] = client.gather([_slot(client, task, Slot.READ) for task in tasks])
        ends = capture_ends(reads, merged)
        set_aside: Read | None = None
        if any(read.set_aside for read in reads):
            frames = [_slot(client, task, Slot.SET_ASIDE) for task in tasks]
            tasks.append(client.submit(read_set_aside, frames, ends, shares, decryption,
                                       pure=False))
            set_aside = client.gather(_slot(client, tasks[-1], Slot.READ))
        everything = [*reads, *filter(None, [set_aside])]
        pieces = [[_slot(client, task, Slot.PIECES + index) for index in range(shares)]
                  for task in tasks]
        events = [_slot(client, task, Slot.EVENTS) for task in tasks]
        orders = client.gather(client.map(read_order, events, pieces, pure=False)) \
            if far_apart(everything) else []
        held = set_aside.held if set_aside is not None else [None] * len(ends)
        plan = Plan(capture_summary(readable, reads, set_aside, orders),
                    tuple((end, first_held) for (end, _), first_held
                          in zip(ends, held, strict=True)),
                    any(read.media for read in everything))
        clocks = [_slot(client, task, Slot.CLOCK) for task in tasks]
        return cls(client, tasks, groups, plan, clocks, pieces, events if plan.media else [])

    def for_share(self, index: int) -> tuple[list[tuple[Any, ...]], tuple[Any, ...] | None]:
        """The arguments of ``replay_packed`` after the plan: the fields of each group's
        ``ShareInputs``, and the set-aside frames' if any."""
        inputs = [(clock, pieces[index], *((events, tuple(pieces)) if self.events else ()))
                  for clock, pieces, events in zip_longest(self.clocks, self.pieces,
                                                           self.events)]
        return inputs[:self.groups], inputs[self.groups] if len(inputs) > self.groups else None


def _groups(client: Client, readable: list[Survey], parts: int) -> list[Group]:
    """The groups of files (``plan_groups``); a lone plain file on disk, large enough to be
    worth it, cut into ``parts`` regions of whole records, numbered by tasks that count
    them (``analysis.regions``)."""
    alone = readable[0] if len(readable) == 1 else None
    if alone is None or parts < 2 or alone.size < PARALLEL_MIN_BYTES or is_url(alone.name):
        return plan_groups(readable)
    planned = client.submit(plan_regions, alone.name, parts, pure=False).result()
    if planned is None or len(planned) < 2:
        return plan_groups(readable)
    counted = client.gather(client.map(count_region, [alone.name] * len(planned), planned,
                                       pure=False))
    regions = numbered(planned, counted)
    if regions is None:
        return plan_groups(readable)
    return [Group((alone.name,), region.first_frame, region) for region in regions]


def surveyed_or_why(name: str) -> Survey | str:
    """What the capture holds, or why it cannot be read (its name first) (a task)."""
    try:
        return survey(name)
    except CaptureError as exc:
        return str(exc)


def replay_packed(share: Share, job: Job, plan: Plan, groups: Sequence[tuple[Any, ...]],
                  set_aside: tuple[Any, ...] | None,
                  collector: tuple[int, int, int] | None = None) -> Part:
    """One share's part of the analysis, its spools packed to travel (a task). ``collector``:
    the garbage collector's thresholds for the task, those of the client (the command line
    runs the collector less often than Python's default: ``sipdiag.cli.program``; a worker
    would otherwise spend a quarter more CPU on the same share)."""
    before = gc.get_threshold()
    if collector is not None:
        gc.set_threshold(*collector)
    try:
        part = replay_share(share, job, plan, [ShareInputs(*fields) for fields in groups],
                            ShareInputs(*set_aside) if set_aside is not None else None)
    finally:
        gc.set_threshold(*before)
    return replace(part, calls=packed(part.calls), exchanges=packed(part.exchanges))


def _slot(client: Client, task: Future[Any], slot: int) -> Future[Any]:
    """One thing of what a reading task returned, as a result of its own (it stays where it is
    until a task elsewhere needs it)."""
    return client.submit(getitem, task, slot, pure=False)


def _unpacked(part: Part) -> Part:
    return replace(part, calls=unpacked(part.calls), exchanges=unpacked(part.exchanges))
