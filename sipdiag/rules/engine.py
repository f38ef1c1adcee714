"""The rules engine: a finished call or exchange in, its findings out.

Every rule that applies to the kind of subject is run: its pattern through ``matcher``, or its
check. Hits that are the same event seen on several hops of a proxied call (the same request,
by method, CSeq and final status) make one finding, with the evidence of every hop. Rules about
the whole capture (scope ``capture``) watch every call and exchange and are read at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.rules import checks, matcher, media
from sipdiag.rules.capture import CAPTURE_CHECKS, Watch
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs, facts_of
from sipdiag.rules.loader import RuleSet
from sipdiag.rules.matcher import Hit
from sipdiag.rules.model import Finding, Rule, severity_rank


@dataclass(frozen=True)
class Engine:
    rules: RuleSet
    catalog: Catalog

    def evaluate(self, subject: Call | Exchange) -> list[Finding]:
        """The findings of every rule, most severe first, then in frame order (a check is
        passed over where the subject lacks what it needs)."""
        rules = self._call_rules if isinstance(subject, Call) else self._exchange_rules
        story = matcher.story_of(subject)
        facts = facts_of(subject)
        findings = [
            finding
            for rule, needs in rules
            if needs is None or needs.met_by(facts)
            for finding in _findings(rule, subject, self._hits(rule, story))
        ]
        return sorted(_without_superseded(findings),
                      key=lambda f: (-severity_rank(f.severity), f.first_frame, f.rule.id))

    def watches(self) -> dict[str, Watch]:
        """A fresh watch for each rule about the whole capture, by rule id: shown every call
        and exchange (``Watch.observe``), then read by ``capture_findings``."""
        return {rule.id: CAPTURE_CHECKS[rule.check].watch()
                for rule in self._capture_rules if rule.check is not None}

    def capture_findings(self, watches: Mapping[str, Watch]) -> list[Finding]:
        """The findings of the rules about the whole capture, from their merged watches."""
        return [Finding(rule, found.call_id, found.call_frame, found.hit.values,
                        found.hit.evidence, found.hit.refs)
                for rule in self._capture_rules
                for found in watches[rule.id].hits(rule.params)]

    @cached_property
    def _capture_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules.rules if rule.scope == "capture")

    @cached_property
    def _call_rules(self) -> tuple[tuple[Rule, Needs | None], ...]:
        return tuple((rule, _needs(rule)) for rule in self.rules.rules if rule.applies_to("call"))

    @cached_property
    def _exchange_rules(self) -> tuple[tuple[Rule, Needs | None], ...]:
        return tuple((rule, _needs(rule)) for rule in self.rules.rules
                     if rule.applies_to("exchange"))

    @cached_property
    def _media_matchers(self) -> dict[str, media.MediaMatcher]:
        return {rule.id: media.matcher(rule.media, rule.params)
                for rule in self.rules.rules if rule.media is not None}

    def _hits(self, rule: Rule, story: matcher.Story) -> Iterator[Hit]:
        subject = story.subject
        if rule.check is not None:
            assert isinstance(subject, Call | Exchange)
            return checks.CHECKS[rule.check].run(subject, rule.params, self.catalog)
        if rule.media is not None:
            assert isinstance(subject, Call)
            return self._media_matchers[rule.id].find(subject)
        return matcher.find(rule.steps, story)


def _needs(rule: Rule) -> Needs | None:
    """What a subject must show for the rule to find anything (None: nothing is asked)."""
    return checks.CHECKS[rule.check].needs if rule.check is not None else None


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
