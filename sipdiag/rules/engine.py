"""The rules engine: a finished call or exchange in, its findings out.

Every rule that applies to the kind of subject and can fire on it is run: its pattern through
``matcher``, its media pattern, or its check. Which rules can fire is worked out once for each
profile of subject (its methods, final statuses, unanswered methods, a CANCEL, the headers
some check needs, its media's shape), from the first step of each pattern, what each media
pattern asks first of the media (``media.SHAPE_FACTS``), and what each check needs.

Hits that are the same event seen on several hops of a proxied call (the same request, by
method, CSeq and final status) make one finding, with the evidence of every hop. Rules about the
whole capture (scope ``capture``) watch every call and exchange and are read at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.rules import checks, matcher, media
from sipdiag.rules.capture import CAPTURE_CHECKS, Watch, WatchKind
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Facts, Needs, Profile, facts_of
from sipdiag.rules.loader import RuleSet
from sipdiag.rules.matcher import Hit
from sipdiag.rules.media import MediaMatcher, MediaShape
from sipdiag.rules.model import Finding, Rule, severity_rank


@dataclass(frozen=True, slots=True)
class CaptureFindings:
    findings: list[Finding]
    superseded: Mapping[tuple[str, int], frozenset[str]]
    """By the Call-ID and first frame of a call or exchange: the rules whose findings on it a
    finding about the whole capture supersedes."""


@dataclass(frozen=True)
class Engine:
    rules: RuleSet
    catalog: Catalog

    def evaluate(self, subject: Call | Exchange) -> list[Finding]:
        """The findings of every rule, most severe first, then in frame order (a rule is passed
        over where the subject cannot show what it looks for)."""
        facts = facts_of(subject)
        findings: list[Finding] = []
        for plan in self._candidates(subject, facts):
            if plan.lasting_ns and not facts.lasts(plan.lasting_ns):
                continue
            hits = plan.find(subject)
            first = next(hits, None)
            if first is not None:  # most rules find nothing: nothing to merge for them
                findings += _findings(plan.rule, subject, (first, *hits))
        return sorted(_without_superseded(findings),
                      key=lambda f: (-severity_rank(f.severity), f.first_frame, f.rule.id))

    def watches(self) -> dict[WatchKind, Watch]:
        """A fresh watch of each kind the rules about the whole capture read, by kind: shown
        every call and exchange (``Watch.observe``), then read by ``capture_findings``."""
        kinds = {CAPTURE_CHECKS[rule.check].watch for rule in self._capture_rules
                 if rule.check is not None}
        return {kind: kind() for kind in kinds}

    def capture_findings(self, watches: Mapping[WatchKind, Watch]) -> CaptureFindings:
        """The findings of the rules about the whole capture, from their merged watches, and
        what they supersede on the calls and exchanges their events are made of."""
        found: list[Finding] = []
        superseded: dict[tuple[str, int], set[str]] = {}
        for rule in self._capture_rules:
            assert rule.check is not None  # the loader sees to it
            check = CAPTURE_CHECKS[rule.check]
            for hit in check.find(watches[check.watch], rule.params):
                found.append(Finding(rule, hit.call_id, hit.call_frame, hit.hit.values,
                                     hit.hit.evidence, hit.hit.refs))
                for key in hit.covers if rule.supersedes else ():
                    superseded.setdefault(key, set()).update(rule.supersedes)
        kept = [f for f in found
                if f.rule.id not in superseded.get((f.call_id, f.call_frame), ())]
        return CaptureFindings(kept, {k: frozenset(v) for k, v in superseded.items()})

    @cached_property
    def superseded_by_capture(self) -> frozenset[str]:
        """The rules a rule about the whole capture may supersede: their findings on each call
        and exchange are noted as they are made (``CaptureFindings.superseded``)."""
        return frozenset(other for rule in self._capture_rules for other in rule.supersedes)

    @cached_property
    def _capture_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules.rules if rule.scope == "capture")

    @cached_property
    def _call_plans(self) -> tuple[_Plan, ...]:
        return tuple(self._plan(rule) for rule in self.rules.rules if rule.applies_to("call"))

    @cached_property
    def _exchange_plans(self) -> tuple[_Plan, ...]:
        return tuple(self._plan(rule) for rule in self.rules.rules
                     if rule.applies_to("exchange"))

    def _plan(self, rule: Rule) -> _Plan:
        needs = checks.CHECKS[rule.check].needs if rule.check is not None else None
        found = media.matcher(rule.media, rule.params) if rule.media is not None else None
        return _Plan(rule, needs, found, _finder(rule, found, self.catalog),
                     needs.lasting_ns if needs is not None else 0)

    @cached_property
    def _by_profile(self) -> dict[_Profile, tuple[_Plan, ...]]:
        return {}

    def _candidates(self, subject: Call | Exchange, facts: Facts) -> tuple[_Plan, ...]:
        """The rules that can fire on a subject of this profile. Its methods, final statuses
        and headers rule most rules out, and the calls of a capture have few profiles: each is
        worked out once (the latest ``_PROFILES_KEPT`` of them)."""
        is_call = isinstance(subject, Call)
        profile = (is_call, facts.profile, media.shape_of(subject))
        found = self._by_profile.get(profile)
        if found is None:
            plans = self._call_plans if is_call else self._exchange_plans
            found = tuple(plan for plan in plans if plan.could_fire(facts, profile[2]))
            if len(self._by_profile) >= _PROFILES_KEPT:
                self._by_profile.clear()
            self._by_profile[profile] = found
        return found


_Profile = tuple[bool, Profile, MediaShape]
"""A call or not, what its checks need (``Facts.profile``), its media (``media.shape_of``)."""

_PROFILES_KEPT = 1024
"""Profiles whose rules are kept: far more than a capture usually has."""

Find = Callable[[Call | Exchange], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A rule ready to run: what rules it out before its finder is run, and the finder."""

    rule: Rule
    needs: Needs | None
    """What its check needs (None: a pattern, or a check that needs nothing)."""
    on_media: MediaMatcher | None
    """Its media pattern."""
    find: Find
    lasting_ns: int
    """How far apart the subject's messages must be (0: any): not part of its profile."""

    def could_fire(self, facts: Facts, shape: MediaShape) -> bool:
        """By the profile of the subject alone: all but the time span."""
        if self.rule.steps:
            return facts.story.could_start(self.rule.steps[0])
        if self.on_media is not None:
            return self.on_media.could_fire(shape)
        return self.needs is None or self.needs.shown_by(facts)


def _finder(rule: Rule, matched: MediaMatcher | None, catalog: Catalog) -> Find:
    """How the rule finds its hits in a subject: its check, its media pattern, or its steps."""
    if rule.check is not None:
        run, params = checks.CHECKS[rule.check].run, rule.params
        return lambda subject: run(subject, params, catalog)
    if matched is not None:
        find = matched.find

        def find_media(subject: Call | Exchange) -> Iterator[Hit]:
            assert isinstance(subject, Call)  # media rules are about calls
            return find(subject)

        return find_media
    steps = rule.steps
    return lambda subject: matcher.find(steps, matcher.story_of(subject))


def _without_superseded(findings: list[Finding]) -> list[Finding]:
    """The findings, less those a more telling finding about the same messages supersedes."""
    frames: dict[str, set[int]] = {}
    for finding in findings:
        for other in finding.rule.supersedes:
            frames.setdefault(other, set()).update(e.frame for e in finding.evidence)
    return [f for f in findings
            if not frames.get(f.rule.id, set()).intersection(e.frame for e in f.evidence)]


def _findings(rule: Rule, subject: Call | Exchange, hits: Iterable[Hit]) -> list[Finding]:
    merged: dict[tuple[object, ...], Finding] = {}
    for hit in hits:
        call_frame = subject.messages[0].frame
        key = () if rule.once else hit.key
        earlier = merged.get(key)
        if earlier is None:
            merged[key] = Finding(rule, subject.call_id, call_frame, hit.values, hit.evidence,
                                  hit.refs)
        else:
            evidence = tuple(sorted({*earlier.evidence, *hit.evidence}))
            refs = tuple(dict.fromkeys((*earlier.refs, *hit.refs)))
            merged[key] = Finding(rule, subject.call_id, call_frame, earlier.values, evidence,
                                  refs)
    return list(merged.values())
