"""Checks: the patterns a rule file cannot declare as steps, written in Python.

A rule file names a check (``check: ack_missing``) and keeps its own text, severity and tests;
the check only finds the events and fills the placeholders it declares. Parameters come from the
rule file (``params: {over: 6s}``), so a user can tune a check without touching Python.

Each check takes the call or exchange, its parameters and the catalog, and yields ``Hit``s.
The checks live in modules by what they look at; importing them registers them in ``CHECKS``
(and a check across the calls of a capture in ``capture.CAPTURE_CHECKS``).
"""

from sipdiag.rules.checks import (
    acks,
    addresses,
    attacks,
    byes,
    causes,
    challenges,
    exposure,
    forks,
    fraud,
    headers,
    identity,
    methods,
    offers,
    registrations,
    session,
    sizes,
    storms,
    storms_across,
    timing,
    unanswered,
    violations,
)
from sipdiag.rules.checks.registry import CHECKS, Check, Subject

__all__ = ["CHECKS", "Check", "Subject", "acks", "addresses", "attacks", "byes", "causes",
           "challenges", "exposure", "forks", "fraud", "headers", "identity", "methods",
           "offers", "registrations", "session", "sizes", "storms", "storms_across", "timing",
           "unanswered", "violations"]
