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
from collections.abc import Sequence
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
        return 100 * self.answered / self.attempts if self.attempts else None

    @property
    def ner(self) -> float | None:
        return 100 * self.delivered / self.attempts if self.attempts else None


def stats_of(analysis: Analysis) -> Stats:
    """The figures, from the counts the analysis kept (the calls are not read again)."""
    tally = analysis.tally
    attempts = {o: n for o, n in tally.call_outcomes.items() if o not in NOT_ATTEMPTS}
    return Stats(
        calls=tally.call_outcomes.total(),
        exchanges=tally.exchange_outcomes.total(),
        call_outcomes=tally.call_outcomes,
        exchange_outcomes=tally.exchange_outcomes,
        final_statuses=tally.final_statuses,
        attempts=sum(attempts.values()),
        answered=sum(n for o, n in attempts.items() if o in ANSWERED),
        delivered=sum(n for o, n in attempts.items() if o in DELIVERED),
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
    # nearest-rank percentile: the smallest value with at least 95% of values at or below it
    rank = max(1, -(-95 * len(ordered) // 100))
    return Spread(
        count=len(ordered),
        mean=statistics.fmean(ordered),
        median=statistics.median(ordered),
        p95=ordered[rank - 1],
        max=ordered[-1],
    )
