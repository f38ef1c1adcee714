"""Bursts: the runs of a source's attempts in which, within a sliding window of time, enough of
them went wrong (were refused, were short, ...), for enough distinct users, as a large enough
share of all its attempts.

One mechanism for the security rules that count (a scan, password guessing, credential
stuffing, a burst of short calls): each says which attempts it counts, which of those went
wrong and what makes two of them distinct, and its thresholds. Windows that meet the thresholds
and overlap make one run, told once: a scan of a thousand users over an hour is one finding.
The window slides over the attempts in the order they were sent, so a run is found in one pass
(counts kept as attempts enter and leave the window).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sipdiag.dialogs.sources import Attempt


@dataclass(frozen=True, slots=True)
class Threshold:
    window_ns: int
    distinct: int = 1
    """Distinct keys (users, accounts, numbers) among the attempts that went wrong."""
    count: int = 1
    """Attempts that went wrong."""
    percent: float = 0.0
    """Their share of every attempt counted in the window."""


@dataclass(frozen=True, slots=True)
class Burst:
    """What a rule counts: which attempts went wrong (``wrong``), and what tells them apart."""

    wrong: Callable[[Attempt], bool]
    key: Callable[[Attempt], str]


def runs(attempts: Iterable[Attempt], burst: Burst, threshold: Threshold
         ) -> Iterator[list[Attempt]]:
    """The attempts that went wrong in each run where the threshold was met (in the order sent):
    windows that met it and share an attempt make one run."""
    items = list(attempts)
    keys: Counter[str] = Counter()
    wrong = left = 0
    start = end = -1  # the run so far: the first of its first window to the last of its last
    for right, attempt in enumerate(items):
        if burst.wrong(attempt):
            wrong += 1
            keys[burst.key(attempt)] += 1
        while attempt.sent_ns - items[left].sent_ns > threshold.window_ns:
            gone = items[left]
            left += 1
            if burst.wrong(gone):
                wrong -= 1
                keys[burst.key(gone)] -= 1
                if not keys[burst.key(gone)]:
                    del keys[burst.key(gone)]
        if not _meets(threshold, wrong, len(keys), right - left + 1):
            continue
        if end >= 0 and left > end:
            yield [a for a in items[start:end + 1] if burst.wrong(a)]
            end = -1
        if end < 0:
            start = left
        end = right
    if end >= 0:
        yield [a for a in items[start:end + 1] if burst.wrong(a)]


def _meets(threshold: Threshold, wrong: int, distinct: int, counted: int) -> bool:
    return (wrong >= threshold.count and distinct >= threshold.distinct
            and wrong * 100 >= threshold.percent * counted)
