"""Toll fraud, read across Call-IDs from the source ledger: calls to international or premium
numbers from a source with no history of ordinary calls, bursts of short calls to many
numbers, calls placed with an account just accepted after a run of refusals, and calls to such
numbers accepted from outside without a challenge.

Each call finding is told on that call (one finding per call); a burst is told once, on its
first call. Numbers are classed by ``numbers.number_kind`` with the rule's ``home_cc``
(``--home-cc``) and ``premium`` prefixes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from sipdiag.dialogs.sources import Attempt, SourceLedger
from sipdiag.network.addresses import address_kind
from sipdiag.rules.capture import CaptureHit, capture_check
from sipdiag.rules.checks.attacks import TAKEOVER_PARAMS, takeovers
from sipdiag.rules.checks.bursts import Burst, Threshold, runs
from sipdiag.rules.checks.numbers import (
    HOME_CC,
    NumberKind,
    home_country_code,
    number_kind,
    premium_prefixes,
)
from sipdiag.rules.checks.security import (
    WINDOW,
    at_least_one,
    examples,
    percent,
    run_hit,
    share,
    whole,
)
from sipdiag.rules.matcher import seconds
from sipdiag.rules.model import parse_duration

PREMIUM = ("+1900", "+979", "+8816", "+8817", "+882", "+883", "+870")
"""The default premium prefixes: the North American 900 services, the international
premium rate service (+979), satellite and international networks (+881 6/7, +882, +883,
+870), billed far above any call and the usual targets of revenue-share fraud."""
NUMBER_PARAMS = {HOME_CC: (home_country_code, ""), "premium": (premium_prefixes, PREMIUM)}
CALL = ("source", "number", "kind", "account", "status", "frame")
"""What a finding about one call fills."""


def _kind(attempt: Attempt, params: Mapping[str, object]) -> NumberKind | None:
    home, premium = params[HOME_CC], params["premium"]
    assert isinstance(home, str) and isinstance(premium, tuple)
    return number_kind(attempt.target, home, premium)


def _calls(ledger: SourceLedger) -> Iterator[Attempt]:
    """The attempts to place a call, in the order sent."""
    return ledger.in_order("INVITE")


def _call_hit(attempt: Attempt, kind: NumberKind | None, values: dict[str, str],
              key: str) -> CaptureHit:
    call = {"number": attempt.target, "kind": kind.value if kind else "-",
            "account": attempt.account or "-", "status": str(attempt.status or "-"),
            "frame": str(attempt.frame)}
    return run_hit([attempt], {**call, **values}, (key, attempt.frame))


@capture_check("toll_destination_new_source", SourceLedger, (*CALL, "known"),
               {**NUMBER_PARAMS, "known": (at_least_one, 3)})
def toll_destination_new_source(ledger: SourceLedger, params: Mapping[str, object]
                                ) -> Iterator[CaptureHit]:
    """Each call to an international or premium number from a source that had placed no
    ordinary call before it, once ``known`` other sources had: in a capture with a history of
    callers, a newcomer whose calls all go abroad."""
    known = whole(params, "known")
    ordinary: set[str] = set()
    for attempt in _calls(ledger):
        kind = _kind(attempt, params)
        if kind is None:
            ordinary.add(attempt.source)
        elif attempt.source not in ordinary and len(ordinary) >= known:
            yield _call_hit(attempt, kind, {"known": str(len(ordinary))}, "new-source")


def _short(attempt: Attempt, within_ns: int) -> bool:
    """Over within this time of its INVITE: refused, cancelled, or answered and hung up."""
    return bool(attempt.status) and attempt.ended_ns - attempt.sent_ns <= within_ns


@capture_check("short_call_burst", SourceLedger,
               (*WINDOW, "destinations", "examples", "answered"),
               {"calls": (at_least_one, 10), "destinations": (at_least_one, 10),
                "window": (parse_duration, 60_000_000_000),
                "short": (parse_duration, 10_000_000_000), "short_percent": (percent, 80.0),
                "answered": (at_least_one, 1), **NUMBER_PARAMS})
def short_call_burst(ledger: SourceLedger, params: Mapping[str, object]
                     ) -> Iterator[CaptureHit]:
    """Each run of at least ``calls`` short calls from one source to at least
    ``destinations`` international or premium numbers within ``window``, ``short_percent`` of
    its calls abroad or more, of which at least ``answered`` were answered (calls that all fail
    are a scan: S102; a load test or a dialler calls numbers at home)."""
    within = whole(params, "short")
    threshold = Threshold(whole(params, "window"), distinct=whole(params, "destinations"),
                          count=whole(params, "calls"), percent=share(params, "short_percent"))
    burst = Burst(lambda a: _short(a, within), lambda a: a.target)
    by_source: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in _calls(ledger):
        if _kind(attempt, params) is not None:
            by_source[attempt.source].append(attempt)
    for source, calls in by_source.items():
        for run in runs(calls, burst, threshold):
            if sum(a.answered for a in run) < whole(params, "answered"):
                continue
            numbers = [a.target for a in run]
            yield run_hit(run, {"destinations": str(len(set(numbers))),
                                "examples": examples(numbers),
                                "answered": str(sum(a.answered for a in run))},
                          ("burst", source, run[0].frame))


@capture_check("call_after_compromise", SourceLedger,
               (*CALL, "user", "success_frame", "after"), TAKEOVER_PARAMS)
def call_after_compromise(ledger: SourceLedger, params: Mapping[str, object]
                          ) -> Iterator[CaptureHit]:
    """Each call placed with an account within ``window`` after it was accepted following a
    run of refusals (``attacks.takeovers``)."""
    window = whole(params, "window")
    taken: dict[str, list[Attempt]] = defaultdict(list)
    for takeover in takeovers(ledger, params):
        taken[takeover.success.account].append(takeover.success)
    if not taken:
        return
    for attempt in _calls(ledger):
        success = max((s for s in taken.get(attempt.account, ())
                       if s.frame < attempt.frame),
                      key=lambda s: s.frame, default=None)
        if success is None:
            continue
        after = attempt.sent_ns - success.sent_ns
        if after <= window:
            yield _call_hit(attempt, None, {
                "user": attempt.account, "success_frame": str(success.frame),
                "after": seconds(after)}, "after-takeover")


@capture_check("unchallenged_call_accepted", SourceLedger,
               (*WINDOW, "server", "numbers", "challenged"), NUMBER_PARAMS)
def unchallenged_call_accepted(ledger: SourceLedger, params: Mapping[str, object]
                               ) -> Iterator[CaptureHit]:
    """For each public source and server: calls to international or premium numbers the
    server answered 2xx with no challenge and no credentials, while it authenticates others
    (it accepted the credentials of other sources: its users log in, these got through
    without). An IP-authenticated trunk looks the same from the signalling, hence info."""
    challenged: dict[str, set[str]] = defaultdict(set)
    for attempt in ledger.in_order():
        if attempt.challenged and attempt.credentials and attempt.answered:
            challenged[attempt.server].add(attempt.source)
    accepted: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for attempt in _calls(ledger):
        if (not attempt.challenged and attempt.answered and not attempt.credentials
              and address_kind(attempt.source) == "public"
              and _kind(attempt, params) is not None):
            accepted[attempt.source, attempt.server].append(attempt)
    for (source, server), calls in accepted.items():
        others = challenged[server] - {source}
        if others:
            yield run_hit(calls, {"server": server,
                                  "numbers": examples(a.target for a in calls),
                                  "challenged": str(len(others))},
                          ("unchallenged", source, server))

