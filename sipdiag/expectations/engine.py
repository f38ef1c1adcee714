"""Expectations about the calls of a capture, and checking them: values only, no I/O.

A QA engineer records a test call on every build and states what must have happened: which
call (by its place in the capture, its Call-ID or a user), its outcome, its final status, the
longest acceptable post-dial delay, how many retransmissions, which findings must or must not
be there. ``check`` compares an ``Expectations`` (read by ``file.load_expectations``)
with an ``Analysis`` and says, check by check, what was expected and what was found. The
reporters (``report.expectations``) turn the result into words, JSON or JUnit.

Choosing a call:

- ``call: N``: the Nth call of the capture, in the order of their first frames (from 1);
- ``call_id: TEXT``: the call with this Call-ID (exactly);
- ``user: TEXT``: a call with TEXT in the user part of its From, To or Request-URI, as
  ``sipdiag --user`` matches (``dialogs.select.user_text``);
- none of them: the call after the one the expectation before picked (the first call for the
  first expectation). If that expectation did not pick exactly one call, there is no "next".

A selector that picks no call, or several, makes the expectation unmet; its checks are not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from sipdiag.analysis import Analysis, CallResult
from sipdiag.dialogs.select import user_text
from sipdiag.rules.model import SEVERITIES, Finding, parse_statuses, severity_rank

SELECTORS = ("call", "call_id", "user")
NEXT = "next"
"""The selector of an expectation that names no call."""
CHECKS = ("outcome", "final_status", "max_post_dial_delay", "media", "max_loss_percent",
          "max_jitter_ms", "min_mos", "retransmissions", "max_retransmissions", "max_severity",
          "findings", "no_findings")
"""Every check an expectation can make, in the order they are reported."""
NO_FINDING = "none"
"""``max_severity: none``: no finding at all."""
MAX_SEVERITIES = (*SEVERITIES, NO_FINDING)

# Why a selector did not pick one call.
NO_CALL = "no_call"
SEVERAL_CALLS = "several_calls"
NO_PREVIOUS = "no_previous"

Value = str | int | float | tuple[str | int, ...] | None
"""An expected or actual value, as plain data (a JSON document holds it as it is)."""


@dataclass(frozen=True, slots=True)
class Selector:
    key: str
    """``call``, ``call_id``, ``user``, or ``next``."""
    value: int | str | None = None


@dataclass(frozen=True, slots=True)
class Checks:
    """What an expectation checks; None (or empty) where it checks nothing."""

    outcome: tuple[str, ...] | None = None
    """The call's outcome must be one of these."""
    final_status: tuple[int | str, ...] | None = None
    """As written: codes (486), classes (``4xx``) or ``none`` (no final response)."""
    max_post_dial_delay_ns: int | None = None
    media: tuple[str, ...] | None = None
    """The call's media state must be one of these (``two_way``, ``one_way``, ...)."""
    max_loss_percent: float | None = None
    """No audio stream of the call lost more than this share of its packets."""
    max_jitter_ms: float | None = None
    """No audio stream's interarrival jitter went above this."""
    min_mos: float | None = None
    """Every audio stream's estimated MOS is at least this."""
    retransmissions: int | None = None
    """Exactly this many retransmitted copies (requests and responses)."""
    max_retransmissions: int | None = None
    max_severity: str | None = None
    """No finding more severe than this (``none``: no finding at all)."""
    findings: tuple[str, ...] = ()
    """Rule ids that must have found something in the call."""
    no_findings: tuple[str, ...] = ()
    """Rule ids that must not."""

    def over(self, defaults: Checks) -> Checks:
        """These checks, and the defaults' for every check these leave out.

        ``retransmissions`` and ``max_retransmissions`` are one check written two ways: either
        one given here replaces both of the defaults'."""
        given = {f.name: getattr(self, f.name) for f in fields(self)
                 if getattr(self, f.name) not in (None, ())}
        if self.retransmissions is not None or self.max_retransmissions is not None:
            given.update(retransmissions=self.retransmissions,
                         max_retransmissions=self.max_retransmissions)
        return replace(defaults, **given)


@dataclass(frozen=True, slots=True)
class Expectation:
    line: int
    """Where it starts in the expectations file."""
    selector: Selector
    checks: Checks


@dataclass(frozen=True, slots=True)
class Expectations:
    """An expectations file: the expectations with the defaults already applied."""

    source: str
    """The file, as the user named it."""
    expectations: tuple[Expectation, ...]
    call_count: int | None = None
    """How many calls the capture must hold (``calls: count:``)."""
    count_line: int = 0


@dataclass(frozen=True, slots=True)
class CheckResult:
    key: str
    """The check, by its key in the file (``outcome``, ``max_post_dial_delay``, ...)."""
    passed: bool
    expected: Value
    actual: Value
    findings: tuple[Finding, ...] = ()
    """The findings that break the check (``max_severity``, ``no_findings``)."""


@dataclass(frozen=True, slots=True)
class PickedCall:
    index: int
    """Its place in the capture, from 1, in the order of first frames."""
    record: CallResult


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    expectation: Expectation
    picked: tuple[PickedCall, ...]
    """The calls the selector chose: one, or none or several (then ``problem`` says why)."""
    problem: str | None
    """``no_call``, ``several_calls``, ``no_previous`` (a next call after an expectation that
    did not pick one), or None."""
    checks: tuple[CheckResult, ...] = ()
    previous_line: int = 0
    """For ``no_previous``: the line of the expectation before."""

    @property
    def passed(self) -> bool:
        return self.problem is None and all(check.passed for check in self.checks)

    @property
    def call(self) -> PickedCall | None:
        return self.picked[0] if self.problem is None else None


@dataclass(frozen=True, slots=True)
class Verdict:
    source: str
    capture: str
    first_ts_ns: int
    """The capture's first frame: evidence is timed from it."""
    call_total: int
    count: CheckResult | None
    """``calls: count:``, when the file asks for it."""
    count_line: int
    results: tuple[ExpectationResult, ...]

    @property
    def total(self) -> int:
        """Expectations checked, the number of calls counting as one."""
        return len(self.results) + (self.count is not None)

    @property
    def met(self) -> int:
        return sum(r.passed for r in self.results) + bool(self.count and self.count.passed)

    @property
    def passed(self) -> bool:
        return self.met == self.total


def check(expectations: Expectations, analysis: Analysis) -> Verdict:
    """Every expectation of the file, checked against the calls and findings of the capture."""
    calls = list(analysis.calls)  # in the order of their first frames
    results: list[ExpectationResult] = []
    previous: ExpectationResult | None = None
    for expectation in expectations.expectations:
        result = choose(expectation, calls, previous)
        if result.problem is None:
            record = result.picked[0].record
            result = replace(result, checks=check_call(expectation.checks, record))
        results.append(result)
        previous = result
    count = None
    if expectations.call_count is not None:
        count = CheckResult("count", len(calls) == expectations.call_count,
                            expectations.call_count, len(calls))
    return Verdict(expectations.source, analysis.summary.name,
                   analysis.summary.first_ts_ns or 0, len(calls), count,
                   expectations.count_line, tuple(results))


def choose(
    expectation: Expectation, calls: Sequence[CallResult],
    previous: ExpectationResult | None = None,
) -> ExpectationResult:
    """The calls an expectation's selector picks (``previous``: the expectation before, for a
    next call), and its problem if not exactly one; the checks are not run."""
    selector = expectation.selector
    if selector.key == NEXT and previous is not None and previous.problem is not None:
        return ExpectationResult(expectation, (), NO_PREVIOUS,
                                 previous_line=previous.expectation.line)
    indexes = _matching(selector, calls, previous)
    picked = tuple(PickedCall(i + 1, calls[i]) for i in indexes)
    problem = None if len(picked) == 1 else NO_CALL if not picked else SEVERAL_CALLS
    return ExpectationResult(expectation, picked, problem)


def _matching(
    selector: Selector, calls: Sequence[CallResult], previous: ExpectationResult | None
) -> list[int]:
    """The places (from 0) of the calls a selector picks."""
    if selector.key == NEXT:
        after = previous.picked[0].index if previous is not None else 0
        return [after] if after < len(calls) else []
    if selector.key == "call":
        assert isinstance(selector.value, int)
        return [selector.value - 1] if selector.value <= len(calls) else []
    if selector.key == "call_id":
        return [i for i, call in enumerate(calls) if call.call_id == selector.value]
    assert isinstance(selector.value, str)
    return [i for i, call in enumerate(calls)
            if selector.value in user_text(call.caller, call.callee, call.request_uri)]


def check_call(checks: Checks, call: CallResult) -> tuple[CheckResult, ...]:
    """Each check the expectation makes, on one call and its findings, in ``CHECKS`` order."""
    found = call.findings
    results: list[CheckResult] = []
    if checks.outcome is not None:
        results.append(CheckResult("outcome", call.outcome in checks.outcome, checks.outcome,
                                   call.outcome))
    if checks.final_status is not None:
        # status 0: no final response, which ``none`` accepts
        ok = parse_statuses(list(checks.final_status)).matches(call.final_status)
        results.append(CheckResult("final_status", ok, checks.final_status,
                                   call.final_status or None))
    if checks.max_post_dial_delay_ns is not None:
        results.append(_post_dial_delay(checks.max_post_dial_delay_ns, call))
    results += _media(checks, call)
    count = call.retransmission_count
    if checks.retransmissions is not None:
        results.append(CheckResult("retransmissions", count == checks.retransmissions,
                                   checks.retransmissions, count))
    if checks.max_retransmissions is not None:
        results.append(CheckResult("max_retransmissions", count <= checks.max_retransmissions,
                                   checks.max_retransmissions, count))
    if checks.max_severity is not None:
        results.append(_severity(checks.max_severity, found))
    present = rule_ids(found)
    if checks.findings:
        missing = set(checks.findings) - set(present)
        results.append(CheckResult("findings", not missing, checks.findings, present))
    if checks.no_findings:
        unwanted = tuple(f for f in found if f.rule.id in checks.no_findings)
        results.append(CheckResult("no_findings", not unwanted, checks.no_findings, present,
                                   unwanted))
    return tuple(results)


def _post_dial_delay(limit_ns: int, call: CallResult) -> CheckResult:
    """A call that never rang has no post-dial delay, and does not meet a limit on it."""
    delay = call.timings.post_dial_delay
    ok = delay is not None and round(delay * 1e9) <= limit_ns
    return CheckResult("max_post_dial_delay", ok, limit_ns / 1e9,
                       None if delay is None else round(delay, 6))


def _media(checks: Checks, call: CallResult) -> list[CheckResult]:
    """The media checks: the state, and the worst loss, jitter and MOS of the call's audio
    streams. A call without media (or without a MOS) meets none of the figures."""
    media = call.media
    audio = [s for s in media.streams if s.kind == "audio"] if media else []
    results = []
    if checks.media is not None:
        state = media.state.value if media else None
        results.append(CheckResult("media", state in checks.media, checks.media, state))
    limits = (("max_loss_percent", checks.max_loss_percent, max,
               [s.stream.loss_percent for s in audio]),
              ("max_jitter_ms", checks.max_jitter_ms, max,
               [s.stream.jitter_ms_max for s in audio if s.stream.jitter_ms_max is not None]),
              ("min_mos", checks.min_mos, min, [s.mos for s in audio if s.mos is not None]))
    for key, limit, worst_of, values in limits:
        if limit is None:
            continue
        worst = worst_of(values) if values else None
        ok = worst is not None and (worst >= limit if key == "min_mos" else worst <= limit)
        results.append(CheckResult(key, ok, limit, None if worst is None else round(worst, 3)))
    return results


def _severity(limit: str, found: Sequence[Finding]) -> CheckResult:
    allowed = -1 if limit == NO_FINDING else severity_rank(limit)
    above = tuple(f for f in found if severity_rank(f.severity) > allowed)
    worst = max((f.severity for f in found), key=severity_rank, default=None)
    return CheckResult("max_severity", not above, limit, worst, above)


def rule_ids(found: Sequence[Finding]) -> tuple[str, ...]:
    """The rules that found something, each once, in the order of the findings."""
    return tuple(dict.fromkeys(f.rule.id for f in found))
