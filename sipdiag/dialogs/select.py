"""Choosing calls: by Call-ID, by number or user, by IP address, by time, or only failing ones.

A NOC engineer looks for one customer's calls in a capture of thousands. Each criterion given
must hold (they combine with AND); within one criterion any value may match (OR):
``--user 1001 --user 1002`` is either number; ``--rule D104`` keeps calls with a finding of
that rule (by its ID or name). Users match the user part of the From, To and
Request-URI of the call's first request, as a substring (``+4930`` finds ``+49301234``); IP
addresses match any address the call's messages came from or went to; the time window keeps
calls that overlap it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.dialogs.outcome import FAILED_OUTCOMES


def needs_attention(outcome: str, has_problem: bool) -> bool:
    """A call or exchange that failed, or in which a rule found a warning or an error: what
    ``--failed`` keeps and the report's verdict lists."""
    return has_problem or outcome in FAILED_OUTCOMES


@dataclass(frozen=True, slots=True)
class TimePoint:
    """A point in capture time: absolute (ns since the epoch), or seconds from the first frame."""

    ns: int
    relative: bool = False

    def resolve(self, first_ts_ns: int) -> int:
        return first_ts_ns + self.ns if self.relative else self.ns


@dataclass(frozen=True, slots=True)
class Selection:
    call_ids: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    since: TimePoint | None = None
    until: TimePoint | None = None
    failing_only: bool = False
    rules: tuple[str, ...] = ()
    """Rule IDs or names: calls with a finding of one of them."""

    @property
    def everything(self) -> bool:
        return self == Selection()

    def wants(self, subject: Call | Exchange, first_ts_ns: int, has_problem: bool,
              rules_found: Collection[str] = ()) -> bool:
        """``has_problem``: a rule found something of warning or error severity in it;
        ``rules_found``: the IDs and names of the rules that found something in it."""
        if self.rules and not any(rule in rules_found for rule in self.rules):
            return False
        if self.call_ids and subject.call_id not in self.call_ids:
            return False
        if self.users and not any(user in _users(subject) for user in self.users):
            return False
        if self.ips and not _addresses(subject) & set(self.ips):
            return False
        if self.since and subject.end_ns < self.since.resolve(first_ts_ns):
            return False
        if self.until and subject.start_ns > self.until.resolve(first_ts_ns):
            return False
        return not self.failing_only or needs_attention(subject.outcome, has_problem)


def _users(subject: Call | Exchange) -> str:
    """The user parts of From, To and Request-URI, in one string to search."""
    uris = [subject.caller, subject.callee]
    first = next((m for m in subject.messages if m.method), None)
    if first is not None:
        uris.append(first.request_uri)
    return user_text(*uris)


def user_text(*uris: str) -> str:
    """The user parts of these URIs, in one string to search for a user as a substring."""
    return " ".join(user_part(uri) for uri in uris)


def user_part(uri: str) -> str:
    """``sip:+4930123@example.com;user=phone`` -> ``+4930123``; a tel: URI's number. A
    password in the userinfo (``sip:bob:secret@host``, RFC 3261 19.1.1, not recommended) is
    left out."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    user = rest.split("@", 1)[0].split(";", 1)[0]
    return user.split(":", 1)[0] if "@" in rest else user


def _addresses(subject: Call | Exchange) -> set[str]:
    return {endpoint.ip for m in subject.messages for endpoint in (m.src, m.dst)}


class Ladders(Enum):
    """Which calls keep their messages as a ladder, for a report to draw."""

    NONE = "none"
    FAILING = "failing"
    ALL = "all"

    def keeps(self, outcome: str, problem: bool) -> bool:
        """Whether a call or exchange with this outcome (and a warning or error if ``problem``)
        keeps its ladder."""
        return self is Ladders.ALL or (self is Ladders.FAILING
                                       and needs_attention(outcome, problem))
