"""The figures a NOC reads first: outcomes, final responses, ASR, NER and post-dial delay.

- ASR, answer-seizure ratio (ITU-T E.411): answered calls over call attempts, in percent.
- NER, network effectiveness ratio (ITU-T E.425): attempts the network delivered to the called
  user, whatever the user did (answered, busy, no answer, or the caller gave up while it rang),
  over call attempts. A low ASR with a high NER is the users; a low NER is the network.

An attempt is a call whose INVITE is in the capture (not ``incomplete``) and that has ended
(not ``in_progress``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sipdiag.analysis import Analysis
from sipdiag.dialogs.outcome import Outcome

ANSWERED = frozenset({Outcome.COMPLETED, Outcome.ANSWERED, Outcome.DROPPED})
DELIVERED = ANSWERED | {Outcome.BUSY, Outcome.NO_ANSWER, Outcome.CANCELLED}
NOT_ATTEMPTS = frozenset({Outcome.INCOMPLETE, Outcome.IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Spread:
    """Seconds: how many values, and their mean, median, 95th percentile and maximum."""

    count: int
    mean: float
    median: float
    p95: float
    max: float


@dataclass(frozen=True, slots=True)
class Stats:
    calls: int
    exchanges: int
    call_outcomes: Counter[str]
    exchange_outcomes: Counter[str]
    final_statuses: Counter[int]
    """The final status of each call (0: none)."""
    attempts: int
    answered: int
    delivered: int
    post_dial_delay: Spread | None
    findings: Counter[str]
    """By severity."""
    media_states: Counter[str]
    streams: int
    rtp_packets: int
    unattributed: int
    """Streams that belong to no call."""

    @property
    def asr(self) -> float | None:
        return percent_of(self.answered, self.attempts)

    @property
    def ner(self) -> float | None:
        return percent_of(self.delivered, self.attempts)


@dataclass(frozen=True, slots=True)
class Attempts:
    """Calls as ASR and NER count them: the attempts, and of those the answered and the
    delivered."""

    attempts: int
    answered: int
    delivered: int


def attempts_of(call_outcomes: Mapping[str, int]) -> Attempts:
    """The attempts among calls counted by outcome."""
    attempts = {o: n for o, n in call_outcomes.items() if o not in NOT_ATTEMPTS}
    return Attempts(attempts=sum(attempts.values()),
                    answered=sum(n for o, n in attempts.items() if o in ANSWERED),
                    delivered=sum(n for o, n in attempts.items() if o in DELIVERED))


def percent_of(count: int, attempts: int) -> float | None:
    """ASR (``count``: answered) or NER (``count``: delivered); None without attempts."""
    return 100 * count / attempts if attempts else None


def stats_of(analysis: Analysis) -> Stats:
    """The figures, from the counts the analysis kept (the calls are not read again)."""
    tally = analysis.tally
    counted = attempts_of(tally.call_outcomes)
    return Stats(
        calls=tally.call_outcomes.total(),
        exchanges=tally.exchange_outcomes.total(),
        call_outcomes=tally.call_outcomes,
        exchange_outcomes=tally.exchange_outcomes,
        final_statuses=tally.final_statuses,
        attempts=counted.attempts,
        answered=counted.answered,
        delivered=counted.delivered,
        post_dial_delay=spread(tally.post_dial_delays),
        findings=tally.severities,
        media_states=tally.media_states,
        streams=tally.streams,
        rtp_packets=tally.rtp_packets,
        unattributed=len(analysis.unattributed),
    )


def spread(values: Sequence[float]) -> Spread | None:
    if not values:
        return None
    ordered = sorted(values)
    low, high = median_places(len(ordered))
    return Spread(
        count=len(ordered),
        mean=statistics.fmean(ordered),
        median=(ordered[low] + ordered[high]) / 2,
        p95=ordered[p95_place(len(ordered))],
        max=ordered[-1],
    )


def median_places(count: int) -> tuple[int, int]:
    """Where the median is among ``count`` sorted values (0-based): the mean of the values at
    these two places, the same place twice when the count is odd."""
    return (count - 1) // 2, count // 2


def p95_place(count: int) -> int:
    """Where the 95th percentile is among ``count`` sorted values (0-based)."""
    # nearest-rank percentile: the smallest value with at least 95% of values at or below it
    return max(1, -(-95 * count // 100)) - 1
