"""What became of a call or an exchange: a closed set, explained in words by
``rules/catalog/outcomes.yaml`` and written as these values in JSON and JUnit."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    COMPLETED = "completed"
    """Answered, then ended by a BYE answered 2xx."""
    ANSWERED = "answered"
    """Answered and still up when the capture ends."""
    DROPPED = "dropped"
    """Answered, then ended abnormally (2xx never ACKed, BYE refused or unanswered, ...)."""
    CANCELLED = "cancelled"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    REDIRECTED = "redirected"
    AUTH_FAILED = "auth_failed"
    TIMEOUT = "timeout"
    """No final response within 64*T1."""
    UNREACHABLE = "unreachable"
    """No final response, and an ICMP destination unreachable quoting the request."""
    IN_PROGRESS = "in_progress"
    INCOMPLETE = "incomplete"
    """The capture misses the start."""
    OK = "ok"
    """An exchange (REGISTER, OPTIONS, ...) accepted."""


FAILED_OUTCOMES = frozenset({Outcome.DROPPED, Outcome.REJECTED, Outcome.AUTH_FAILED,
                             Outcome.TIMEOUT, Outcome.UNREACHABLE})
"""Outcomes that are failures of the service (busy, no answer and cancelled are the users')."""
