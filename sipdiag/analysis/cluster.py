"""The analysis on a Dask cluster: the shares of Call-IDs ``pipeline`` gives to processes, given
to the cluster's workers as tasks, with the same result.

1. Wildcards in the captures' URLs are expanded on the scheduler (it lists what the cluster
   sees, which this machine may not), and each file is opened by a task of its own: one that
   is not a capture is named, with why, and left out; the others are the capture.
2. One task per share of the Call-IDs (``pipeline.Share``). Each reads every capture where it
   lies (a file or an fsspec URL), merged in time order and numbered as one process numbers
   them, and tracks and judges only the calls of its Call-IDs: every piece of a call (its
   messages in several files, its TCP segments, its RTP) meets the others there, and the call
   is analysed once, whole. The analysis is what is shared: reading, and what every share
   does for every call (the clock, the SDP bindings), is 20 to 30% of one process's work and
   is done by each (bench/cluster.py).
3. The parts come back, each with its spooled results as bytes, and are combined here as the
   processes' parts are (``pipeline.combine``): the same analysis, byte for byte in every
   report, whatever the number of workers.

A task whose worker dies is run again by Dask on another: its result depends only on the
captures and the job.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sipdiag.analysis.model import Analysis
from sipdiag.analysis.pipeline import Job, Part, Share, analyze_share, combine
from sipdiag.capture import CaptureError, open_capture
from sipdiag.capture.source import expand_urls
from sipdiag.dialogs.select import Ladders, Selection
from sipdiag.network.tls import Decryption
from sipdiag.rules import Engine
from sipdiag.spool import packed, unpacked

if TYPE_CHECKING:
    from distributed import Client


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
    on the cluster of ``client``, in ``shares`` tasks (0: one per worker thread). Raises
    ``CaptureError`` when no capture can be read."""
    expanded: list[str] = client.run_on_scheduler(expand_urls, list(names))
    reasons = client.gather(client.map(unreadable, expanded, pure=False))
    readable = [name for name, why in zip(expanded, reasons, strict=True) if why is None]
    left_out = tuple(why for why in reasons if why is not None)
    if not readable:
        raise CaptureError("no capture could be read: " + "; ".join(left_out))
    job = Job(engine, selection, ladders, decryption=decryption, marks=marks,
              headers=tuple(headers))
    count = shares or max(1, sum(client.nthreads().values()))
    [sent] = client.scatter([job], broadcast=True)
    futures = client.map(analyze_packed, [Share(index, count) for index in range(count)],
                         paths=readable, job=sent, collector=gc.get_threshold(), pure=False)
    parts = []
    for future in futures:  # one part's bytes at a time, each written to a file here
        parts.append(_unpacked(future.result()))
        future.release()
    analysis = replace(combine(parts, engine), selection=selection or Selection())
    return ClusterRun(analysis, tuple(readable), left_out)


def unreadable(name: str) -> str | None:
    """Why the capture cannot be read (its name first), or None if it can (a task)."""
    try:
        open_capture(name).close()
    except CaptureError as exc:
        return str(exc)
    return None


def analyze_packed(share: Share, paths: list[str], job: Job,
                   collector: tuple[int, int, int] | None = None) -> Part:
    """One share's part of the analysis, its spools packed to travel (a task). ``collector``:
    the garbage collector's thresholds for the task, those of the client (the command line
    runs the collector less often than Python's default: ``sipdiag.cli.program``; a worker
    would otherwise spend a quarter more CPU on the same share)."""
    before = gc.get_threshold()
    if collector is not None:
        gc.set_threshold(*collector)
    try:
        part = analyze_share(paths, None, None, job, share)
    finally:
        gc.set_threshold(*before)
    return replace(part, calls=packed(part.calls), exchanges=packed(part.exchanges))


def _unpacked(part: Part) -> Part:
    return replace(part, calls=unpacked(part.calls), exchanges=unpacked(part.exchanges))
