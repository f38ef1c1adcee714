"""What a rule is, and what it finds: plain values, no I/O.

A ``Rule`` is read from a data file (``loader``). It has ``steps``, a pattern over the
transactions of a call that ``matcher`` looks for, or a ``media`` pattern over the call's audio
(``media``), or names a ``check`` written in Python (``checks``). What it finds is a
``Finding``: the rule, the call, the values its message's placeholders are filled with, and
the ``Evidence``, the frames of the messages that matched.
Findings hold values, not sentences: the reporter renders the rule's text in the reader's
language when it prints them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path

from sipdiag.pickling import by_values
from sipdiag.rules.text import Text


class Severity(StrEnum):
    """How grave a finding is, in increasing order."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


SEVERITIES = tuple(Severity)
"""In increasing order of gravity."""


class Scope(StrEnum):
    """What a rule is about."""

    ANY = "any"
    """A call or an exchange."""
    CALL = "call"
    EXCHANGE = "exchange"
    CAPTURE = "capture"
    """The capture as a whole, across Call-IDs."""


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for error."""
    return SEVERITIES.index(Severity(severity))


def reaches(severity: str, fail_on: str) -> bool:
    """A finding of this severity fails a run with ``--fail-on fail_on`` (``never``: none)."""
    return fail_on != "never" and severity_rank(severity) >= severity_rank(fail_on)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_DURATION_NS = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


def parse_duration(value: object) -> int:
    """``500ms``, ``32s``, ``5m``, ``1h`` in nanoseconds; ValueError otherwise."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a duration such as 500ms, 32s, 5m or 1h")
    return int(float(match[1]) * _DURATION_NS[match[2]])


@dataclass(frozen=True, slots=True)
class Statuses:
    """Response codes a step accepts: single codes, whole classes (``4xx``), or none at all."""

    codes: frozenset[int] = frozenset()
    classes: frozenset[int] = frozenset()
    none: bool = False
    """Accepts a transaction without any such response (status 0)."""

    def matches(self, status: int) -> bool:
        if status == 0:
            return self.none
        return status in self.codes or status // 100 in self.classes


_STATUS_CLASS = re.compile(r"^([1-6])xx$")


def parse_statuses(value: object) -> Statuses:
    """``481``, ``4xx``, ``none`` or a list of them."""
    items = value if isinstance(value, list) else [value]
    codes, classes, none = set(), set(), False
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 699:
            codes.add(item)
        elif isinstance(item, str) and _STATUS_CLASS.match(item):
            classes.add(int(item[0]))
        elif item == "none":
            none = True
        else:
            raise ValueError(f"{item!r} is not a response code (100-699), a class (4xx) or none")
    return Statuses(frozenset(codes), frozenset(classes), none)


SAME = "same"
"""``request: same``: the method of the step before."""
STEP_FIELDS = (
    "method", "frame", "time", "status", "reason", "final_frame", "sender", "responder",
    "copies", "wait",
)
"""What a step (or a check, for a transaction it names) fills: ``{name.frame}``, ..."""


def step_placeholders(name: str) -> tuple[str, ...]:
    """The placeholders of a transaction named ``name``: ``name.method``, ``name.frame``, ..."""
    return tuple(f"{name}.{field}" for field in STEP_FIELDS)


@dataclass(frozen=True, slots=True)
class Step:
    """One transaction of the pattern, and what it must be (see rules/README.md)."""

    name: str
    methods: frozenset[str] | None = None
    same_method: bool = False
    initial: bool | None = None
    in_dialog: bool | None = None
    final: Statuses | None = None
    provisional: Statuses | None = None
    cancelled: bool | None = None
    timed_out: bool | None = None
    retransmitted: bool | None = None
    transport: frozenset[str] | None = None
    request_size_over: int | None = None
    request_has: frozenset[str] = frozenset()
    request_lacks: frozenset[str] = frozenset()
    final_has: frozenset[str] = frozenset()
    final_lacks: frozenset[str] = frozenset()
    after: str | None = None
    within_ns: int | None = None
    from_same_sender: bool | None = None
    to_contact_of: str | None = None
    """The request goes to a Contact of the final response of that step (a redirect)."""
    absent: bool = False


class MediaSubject(Enum):
    """What a media pattern is about (see rules/media.py)."""

    CALL = "call"
    DIRECTION = "direction"
    STREAM = "stream"


class Comparison(Enum):
    IS = "is"
    OVER = "over"
    UNDER = "under"


@dataclass(frozen=True, slots=True)
class MediaCondition:
    """``fact: value`` (IS: one of ``value`` if it is a tuple), ``fact_over`` or
    ``fact_under``; a duration's value is in seconds."""

    fact: str
    comparison: Comparison
    value: object
    param: str | None = None
    """The value is the rule's parameter of this name (``$name`` in the file)."""


@dataclass(frozen=True, slots=True)
class MediaPattern:
    subject: MediaSubject
    conditions: tuple[MediaCondition, ...]
    """On each direction or stream (on the call's media for ``CALL``)."""
    call: tuple[MediaCondition, ...] = ()
    """On the call's media as a whole, for a direction or stream pattern."""


@dataclass(frozen=True, slots=True)
class SampleTest:
    """A capture the rule is run on by the tests, and how many findings it must give."""

    sample: str
    """Path from the root of the project (``samples/calls/bye-481.pcap``)."""
    expect: int
    line: int


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: Text
    severity: Severity
    scope: Scope
    message: Text
    explanation: Text
    causes: Text
    fix: Text
    references: tuple[str, ...]
    tests: tuple[SampleTest, ...]
    path: Path
    steps: tuple[Step, ...] = ()
    check: str | None = None
    media: MediaPattern | None = None
    params: Mapping[str, object] = field(default_factory=dict)
    once: bool = False
    """One finding per call at most, with the evidence of every match."""
    supersedes: tuple[str, ...] = ()
    """Rules that say less about the same event: a finding of theirs that shares a frame of
    evidence with one of this rule is left out (C117, a routing failure at the proxy, over
    C105, the called user unavailable)."""

    def applies_to(self, kind: str) -> bool:
        """``kind``: ``call`` or ``exchange``."""
        return self.scope in (Scope.ANY, kind)


@by_values
@dataclass(frozen=True, slots=True, order=True)
class Evidence:
    """A message that made the finding: where to look for it in the capture."""

    frame: int
    time_ns: int
    what: str
    """``INVITE``, ``481 BYE``: the message in protocol words."""
    copy: int = 1
    """Which copy of a retransmitted message (1: the first one sent)."""


@dataclass(frozen=True)
class Finding:
    rule: Rule
    call_id: str
    call_frame: int
    """The first frame of the call or exchange: with the Call-ID, which one it is."""
    values: Mapping[str, str]
    """The placeholders of the rule's message, filled."""
    evidence: tuple[Evidence, ...]
    refs: tuple[tuple[str, int], ...] = ()
    """Catalog entries the finding names (``("response", 481)``, ``("q850", 41)``), whose
    explanations the reporter can show beside it."""

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def first_frame(self) -> int:
        return self.evidence[0].frame if self.evidence else 0

    def message(self, language: str = "en") -> str:
        return self.rule.message.render(self.values, language)
