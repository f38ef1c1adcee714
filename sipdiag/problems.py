"""Problems: what a layer could not read, recorded instead of raised.

Theory of operation: a capture from the field is lossy and sometimes damaged. A layer that meets
bytes it cannot make sense of (a cut record, a bad IP header, a SIP message with no Call-ID)
records a Problem and carries on; nothing is dropped without a trace. Problem kinds are stable
snake_case identifiers with the layer as prefix (``capture_truncated``, ``tcp_gap``,
``sip_missing_header``), so reports and tests can rely on them.

The log keeps an exact count per kind and the first few examples of each with their frame
numbers, so a capture with a million bad packets does not use a million records of memory.

This module is a leaf: every layer may import it, it imports nothing from sipdiag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES_PER_KIND = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that could not be read as expected."""

    kind: str
    frame: int
    """Frame number (as Wireshark numbers it) where the problem was seen; 0 for the whole file."""
    detail: str


@dataclass(slots=True)
class ProblemLog:
    """Counts problems per kind and keeps the first examples of each."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[Problem]] = field(default_factory=dict)

    def add(self, kind: str, frame: int, detail: str) -> None:
        count = self.counts.get(kind, 0)
        self.counts[kind] = count + 1
        if count < EXAMPLES_PER_KIND:
            self.examples.setdefault(kind, []).append(Problem(kind, frame, detail))

    def merge(self, other: ProblemLog) -> None:
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count
            kept = self.examples.setdefault(kind, [])
            kept.extend(other.examples.get(kind, [])[: EXAMPLES_PER_KIND - len(kept)])
            kept.sort(key=lambda problem: problem.frame)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def all_examples(self) -> list[Problem]:
        """Every kept example, ordered by frame then kind."""
        found = [problem for kept in self.examples.values() for problem in kept]
        return sorted(found, key=lambda problem: (problem.frame, problem.kind))
