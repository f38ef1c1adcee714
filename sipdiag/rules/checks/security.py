"""What the security checks share: how a run of attempts or exposures is told.

The security rules (S1xx) are capture checks over one ``dialogs.sources.SourceLedger``:
``attacks`` (scanners, password guessing, credential stuffing, a success after failures),
``fraud`` (calls to international or premium numbers, bursts of short calls, calls placed
with an account just taken, unchallenged calls accepted) and ``exposure`` (credentials and keys
sent in clear). Every finding names its source address, its time window, its counts and the
frames of its first and last events, and is told on the call or exchange of the first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from sipdiag.dialogs.sources import Attempt, Frame
from sipdiag.rules.capture import CaptureHit
from sipdiag.rules.matcher import Hit, seconds
from sipdiag.rules.model import Evidence

EXAMPLES = 5
"""Users or numbers a finding names (the first ones, in the order first seen)."""
WINDOW = ("source", "start", "end", "span", "count", "first_frame", "last_frame")
"""What every finding about a run fills."""


def evidence(frame: Frame) -> Evidence:
    return Evidence(frame.frame, frame.ts_ns, frame.what)


def utc(ns: int) -> str:
    """``2023-11-14 22:13:20.000`` (UTC, to the millisecond)."""
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def window_values(source: str, frames: Sequence[Frame]) -> dict[str, str]:
    """``WINDOW``'s values for events seen in these frames (in the order sent)."""
    first, last = frames[0], frames[-1]
    return {"source": source, "start": utc(first.ts_ns), "end": utc(last.ts_ns),
            "span": seconds(last.ts_ns - first.ts_ns), "count": str(len(frames)),
            "first_frame": str(first.frame), "last_frame": str(last.frame)}


def run_hit(run: Sequence[Attempt], values: dict[str, str], key: tuple[object, ...],
            told_on: Attempt | None = None) -> CaptureHit:
    """A finding about a run of attempts, with the first and last attempts (requests and
    answers) as evidence: told on the call or exchange of ``told_on`` (the first attempt unless
    given), named after its source, and covering the calls and exchanges of every attempt."""
    first, last = run[0], run[-1]
    told = told_on or first
    frames = {first.request, last.request, told.request}
    frames.update(a.answer for a in (first, last, told) if a.answer is not None)
    found = {**window_values(told.source, [a.request for a in run]), **values}
    covers = tuple(dict.fromkeys((a.call_id, a.call_frame) for a in run))
    return CaptureHit(told.call_id, told.call_frame,
                      Hit(found, tuple(sorted(map(evidence, frames))), key), covers)


def examples(items: Iterable[str]) -> str:
    """The first ``EXAMPLES`` distinct items, and how many more there are."""
    distinct = list(dict.fromkeys(item for item in items if item))
    shown = ", ".join(distinct[:EXAMPLES])
    return shown + (f" (+{len(distinct) - EXAMPLES})" if len(distinct) > EXAMPLES else "")


def statuses(run: Iterable[Attempt]) -> str:
    """``404 x12, 401 x3, none x2``: the final statuses, the most frequent first."""
    counts = Counter(str(a.status) if a.status else "none" for a in run)
    return ", ".join(f"{status} x{count}" for status, count in counts.most_common())


def methods(run: Iterable[Attempt]) -> str:
    return ", ".join(dict.fromkeys(a.method for a in run))


def percent(value: object) -> float:
    """A share in percent (0 to 100)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ValueError(f"{value!r} is not a percentage (0 to 100)")
    return float(value)


def at_least_one(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{value!r} is not a whole number, 1 or more")
    return value


def whole(params: Mapping[str, object], name: str) -> int:
    """A whole-number param (a count, or a duration in nanoseconds), as the loader parsed it."""
    value = params[name]
    assert isinstance(value, int)
    return value


def share(params: Mapping[str, object], name: str) -> float:
    """A percentage param, as the loader parsed it."""
    value = params[name]
    assert isinstance(value, float)
    return value
