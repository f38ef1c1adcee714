"""Attacks on a SIP edge, read across Call-IDs from the source ledger: scanners (by the tools'
User-Agents, and by behaviour: many users probed and refused, many addresses probed for a SIP
server), password guessing against one
account, credential stuffing over many, and an account accepted after a run of refusals.

What rules out the look-alikes (FIELD.md: "the loudest finding is rarely the fault"):

- a registrar's ordinary traffic is many users, each challenged (401, 407) and then accepted:
  an attempt is judged by how it ended, after its challenges were answered (RFC 3261 22.2), so
  a challenge answered correctly is no failure;
- a proxy that relays many users' requests is not their source: a request counts once, on the
  first hop the capture saw (``dialogs.sources``);
- a phone with a wrong password retries on a timer, once a minute or slower (RFC 5626 4.5 asks
  for back-off): password guessing is many refused credentials within a short window (by default
  ten within 60 s), a pace no phone keeps.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sipdiag.dialogs.sources import Attempt, SourceLedger
from sipdiag.rules.capture import CaptureHit, capture_check
from sipdiag.rules.checks.bursts import Burst, Threshold, runs
from sipdiag.rules.checks.security import (
    WINDOW,
    at_least_one,
    examples,
    methods,
    percent,
    run_hit,
    share,
    statuses,
    whole,
)
from sipdiag.rules.model import parse_duration

PROBE_REFUSALS = frozenset({401, 403, 404, 407, 484, 604})
"""What a probe of a user that does not exist, or is not the prober's, typically gets."""


def _agents(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(
            isinstance(item, str) and item.strip() for item in value):
        raise ValueError("give a list of User-Agent names, such as [friendly-scanner]")
    return tuple(item.strip().lower() for item in value)


@capture_check("scanner_agent", SourceLedger,
               (*WINDOW, "agent", "methods", "users", "statuses"),
               {"agents": (_agents, ("friendly-scanner", "sipvicious"))})
def scanner_agent(ledger: SourceLedger, params: Mapping[str, object]) -> Iterator[CaptureHit]:
    """Each source that sent a request whose User-Agent names a scanning tool (any case)."""
    agents = params["agents"]
    assert isinstance(agents, tuple)
    by_source: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in ledger.in_order():
        if attempt.agent and any(name in attempt.agent.lower() for name in agents):
            by_source[attempt.source].append(attempt)
    for source, run in by_source.items():
        yield run_hit(run, {"agent": run[0].agent, "methods": methods(run),
                            "users": str(len({a.target for a in run if a.target})),
                            "statuses": statuses(run)}, ("scanner", source))


def _probe_failed(attempt: Attempt) -> bool:
    """A probe of a user (one named) refused as a probe of an unknown user is, or left without
    any response (a call still ringing got one)."""
    return bool(attempt.target) and (attempt.status in PROBE_REFUSALS or attempt.silent)


def _callers(ledger: SourceLedger) -> frozenset[str]:
    """The sources that placed a call that was answered: a PBX or trunk whose calls go
    through, not a scanner, even when many of its calls fail the dial plan."""
    return frozenset(a.source for a in ledger.in_order("INVITE") if a.answered)


@capture_check("user_enumeration", SourceLedger,
               (*WINDOW, "users", "examples", "methods", "statuses"),
               {"users": (at_least_one, 10), "window": (parse_duration, 60_000_000_000),
                "refused_percent": (percent, 80.0)})
def user_enumeration(ledger: SourceLedger, params: Mapping[str, object]
                     ) -> Iterator[CaptureHit]:
    """Each run in which one source probed at least ``users`` distinct users within
    ``window``, ``refused_percent`` of its attempts or more refused or unanswered, at least
    half of them refused; not by a source whose calls are answered."""
    threshold = Threshold(whole(params, "window"), distinct=whole(params, "users"),
                          count=whole(params, "users"), percent=share(params, "refused_percent"))
    burst = Burst(_probe_failed, lambda a: a.target)
    callers = _callers(ledger)
    for source, attempts in _by_source(ledger).items():
        if source in callers:
            continue
        for run in runs(attempts, burst, threshold):
            if 2 * sum(a.refused for a in run) < len(run):
                continue  # mostly silence: a server down, not one telling users apart
            targets = [a.target for a in run]
            yield run_hit(run, {"users": str(len(set(targets))), "examples": examples(targets),
                                "methods": methods(run), "statuses": statuses(run)},
                          ("enumeration", source, run[0].frame))


def _probe_unanswered(attempt: Attempt) -> bool:
    """A probe of a host that drew no response at all (most addresses of a sweep have no SIP
    server, and a scanner does not wait) or the refusal a probe draws: not a call that rang and
    was cancelled or refused busy (a ring group's legs)."""
    return attempt.silent or attempt.status in PROBE_REFUSALS


@capture_check("host_sweep", SourceLedger,
               (*WINDOW, "servers", "examples", "methods", "statuses"),
               {"servers": (at_least_one, 10), "window": (parse_duration, 60_000_000_000),
                "failed_percent": (percent, 50.0)})
def host_sweep(ledger: SourceLedger, params: Mapping[str, object]) -> Iterator[CaptureHit]:
    """Each run in which one source's requests outside a dialog went to at least ``servers``
    distinct addresses within ``window`` that left them unanswered or refused them,
    ``failed_percent`` of its attempts or more: looking for SIP servers (SIPVicious svmap)."""
    servers = whole(params, "servers")
    threshold = Threshold(whole(params, "window"), distinct=servers, count=servers,
                          percent=share(params, "failed_percent"))
    burst = Burst(_probe_unanswered, lambda a: a.server)
    for source, attempts in _by_source(ledger).items():
        for run in runs(attempts, burst, threshold):
            addresses = [a.server for a in run]
            yield run_hit(run, {"servers": str(len(set(addresses))),
                                "examples": examples(addresses), "methods": methods(run),
                                "statuses": statuses(run)},
                          ("sweep", source, run[0].frame))


@capture_check("password_guessing", SourceLedger,
               (*WINDOW, "user", "realm", "server", "statuses"),
               {"count": (at_least_one, 10), "window": (parse_duration, 60_000_000_000)})
def password_guessing(ledger: SourceLedger, params: Mapping[str, object]
                      ) -> Iterator[CaptureHit]:
    """Each run of at least ``count`` attempts from one source for one account whose
    credentials were refused, within ``window``."""
    threshold = Threshold(whole(params, "window"), count=whole(params, "count"))
    burst = Burst(lambda a: a.credentials_refused, lambda a: a.account)
    by_account: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for attempt in ledger.in_order():
        if attempt.credentials:
            by_account[attempt.source, attempt.account].append(attempt)
    for (source, account), attempts in by_account.items():
        for run in runs(attempts, burst, threshold):
            yield run_hit(run, {"user": account, "realm": run[-1].realm or "-",
                                "server": run[-1].server, "statuses": statuses(run)},
                          ("guessing", source, account, run[0].frame))


@capture_check("credential_stuffing", SourceLedger,
               (*WINDOW, "users", "examples", "server"),
               {"users": (at_least_one, 5), "window": (parse_duration, 600_000_000_000),
                "refused_percent": (percent, 80.0)})
def credential_stuffing(ledger: SourceLedger, params: Mapping[str, object]
                        ) -> Iterator[CaptureHit]:
    """Each run in which one source's credentials were refused for at least ``users``
    distinct accounts within ``window``, ``refused_percent`` of its attempts with credentials
    or more refused."""
    users = whole(params, "users")
    threshold = Threshold(whole(params, "window"), distinct=users, count=users,
                          percent=share(params, "refused_percent"))
    burst = Burst(lambda a: a.credentials_refused, lambda a: a.account)
    for source, attempts in _by_source(ledger, credentials=True).items():
        for run in runs(attempts, burst, threshold):
            accounts = [a.account for a in run]
            yield run_hit(run, {"users": str(len(set(accounts))), "examples": examples(accounts),
                                "server": run[-1].server},
                          ("stuffing", source, run[0].frame))


@dataclass(frozen=True, slots=True)
class Takeover:
    """An account accepted after a run of refused credentials: possibly guessed."""

    success: Attempt
    failures: tuple[Attempt, ...]


def takeovers(ledger: SourceLedger, params: Mapping[str, object]) -> Iterator[Takeover]:
    """Each attempt with credentials for an account (and realm) accepted from a source whose
    own credentials for it had been refused, after at least ``failures`` refusals for it within
    ``window`` before (from any source: a guesser may change address). The owner's phone,
    accepted from an address that failed nothing, is not a takeover, nor is another tenant's
    account of the same name in another realm."""
    least, window = whole(params, "failures"), whole(params, "window")
    refused: dict[tuple[str, str], deque[Attempt]] = defaultdict(deque)
    for attempt in ledger.in_order():
        if not attempt.credentials:
            continue
        recent = refused[attempt.account, attempt.realm]
        while recent and attempt.sent_ns - recent[0].sent_ns > window:
            recent.popleft()
        if attempt.credentials_refused:
            recent.append(attempt)
        elif attempt.answered:
            if len(recent) >= least and any(a.source == attempt.source for a in recent):
                yield Takeover(attempt, tuple(recent))
            recent.clear()


TAKEOVER_PARAMS = {"failures": (at_least_one, 5), "window": (parse_duration, 3_600_000_000_000)}


@capture_check("success_after_failures", SourceLedger,
               (*WINDOW, "user", "failures", "failed_sources", "method", "success_frame"),
               TAKEOVER_PARAMS)
def success_after_failures(ledger: SourceLedger, params: Mapping[str, object]
                           ) -> Iterator[CaptureHit]:
    for taken in takeovers(ledger, params):
        success, failures = taken.success, taken.failures
        yield run_hit([*failures, success], {
            "user": success.account, "failures": str(len(failures)),
            "failed_sources": examples(a.source for a in failures), "method": success.method,
            "success_frame": str(success.frame)},
            ("takeover", success.account, success.frame), told_on=success)


def _by_source(ledger: SourceLedger, credentials: bool = False) -> dict[str, list[Attempt]]:
    """Each source's attempts (those with credentials only, if asked), in the order sent."""
    found: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in ledger.in_order():
        if attempt.credentials or not credentials:
            found[attempt.source].append(attempt)
    return found

