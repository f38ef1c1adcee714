"""The analysis in a worker thread, handing its results to the UI in batches.

``analyze_live`` judges each call of a ``Capture`` (files, or a live capture: ``ui.live``) as
soon as it is over and calls ``Feed.put`` from the worker's thread; the UI takes what has come
(``Feed.take``) on a timer, every ``BATCH_SECONDS``, and adds those rows at once: one redraw
per batch however many calls a large capture ends per second, and nothing waits for a batch to
fill on a capture whose calls come slowly. When the capture is
read, the links between calls and the findings of the rules about the whole capture (known only
then) come as ``Feed.updates``. ``stop`` ends the analysis at its next result (leaving the UI).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sipdiag.analysis import Analysis, CaptureSummary, Result, analyze_live
from sipdiag.capture import Reader, open_captures
from sipdiag.dialogs.select import Ladders
from sipdiag.network.tls import Decryption
from sipdiag.rules import Engine
from sipdiag.ui.rows import result_key, strip_text

BATCH_SECONDS = 0.1


class Stopped(Exception):
    """Raised from the result callback to end an analysis nobody waits for any more."""


@dataclass
class Progress:
    """What the status line says while the capture is read (written by the worker, read by
    the UI: plain numbers, each written at once)."""

    frames: int = 0
    calls: int = 0
    exchanges: int = 0
    first_ts_ns: int | None = None
    """The time of the capture's first frame (times in the ladders count from it)."""
    done: bool = False
    summary: CaptureSummary | None = None
    error: str | None = None


class Capture(Protocol):
    """What the UI shows: where the frames come from, and the files that hold them."""

    @property
    def name(self) -> str: ...

    def open(self) -> Reader: ...

    @property
    def decryption(self) -> Decryption | None:
        """What Wireshark decrypted of the capture's TLS (files only: ``--tls-keylog``)."""
        ...

    def files(self) -> list[str | Path]:
        """The files holding every frame read so far (to read a message again, to export)."""
        ...

    def stop(self) -> None:
        """No more frames: the UI is leaving."""
        ...


@dataclass
class CaptureFiles:
    """Capture files, read as one."""

    paths: Sequence[str | Path]
    decryption: Decryption | None = None

    @property
    def name(self) -> str:
        return " ".join(map(str, self.paths))

    def open(self) -> Reader:
        return open_captures(self.paths)

    def files(self) -> list[str | Path]:
        return list(self.paths)

    def stop(self) -> None:
        pass  # a file ends by itself


@dataclass
class Feed:
    capture: Capture
    engine: Engine
    progress: Progress = field(default_factory=Progress)
    _pending: list[Result] = field(default_factory=list)
    _updates: list[Result] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Read and judge the capture (in the worker's thread)."""
        seen: dict[tuple[bool, str, int], int] = {}

        def put(result: Result) -> None:
            if self._stopped.is_set():
                raise Stopped
            result = strip_text(result)
            seen[result_key(result)] = len(result.findings)
            with self._lock:
                self._pending.append(result)
            if result_key(result)[0]:
                self.progress.calls += 1
            else:
                self.progress.exchanges += 1
            self.progress.frames = reader.frame_count
            if self.progress.first_ts_ns is None:
                self.progress.first_ts_ns = reader.first_ts_ns

        try:
            with closing(self.capture.open()) as reader:
                analysis = analyze_live(reader, engine=self.engine, ladders=Ladders.ALL,
                                        on_result=put, decryption=self.capture.decryption)
            self._attach(analysis, seen)
            self.progress.frames = analysis.summary.frames
            self.progress.summary = analysis.summary
            self.progress.first_ts_ns = analysis.summary.first_ts_ns
        except Stopped:
            return
        except Exception as exc:  # shown in the status line; the rows stay
            self.progress.error = str(exc) or type(exc).__name__
        finally:
            self.progress.done = True

    def _attach(self, analysis: Analysis, seen: dict[tuple[bool, str, int], int]) -> None:
        """The results that gained links or findings once every call was over."""
        changed: list[Result] = []
        for result in itertools.chain[Result](analysis.calls, analysis.exchanges):
            if self._stopped.is_set():
                raise Stopped
            links = getattr(result, "links", ())
            if links or len(result.findings) != seen.get(result_key(result)):
                changed.append(strip_text(result))
        with self._lock:
            self._updates.extend(changed)

    def take(self) -> tuple[list[Result], list[Result]]:
        """The results that came since the last call, and the updates (in the UI's thread)."""
        with self._lock:
            pending, self._pending = self._pending, []
            updates, self._updates = self._updates, []
        return pending, updates

    def stop(self) -> None:
        self._stopped.set()
        self.capture.stop()
