"""A challenge answered with credentials and challenged again: refused credentials, a nonce
that went stale, or an answer so late the nonce may have expired.

A server that refuses the credentials themselves challenges again without ``stale`` (or
answers 403). A server that found only the nonce expired says ``stale=true`` (RFC 7616 3.3,
RFC 2617 3.2.1): the credentials were right and the client should answer the new nonce at once.
Some servers never say ``stale``. So a new challenge is read as:

- ``stale``: it says ``stale=true``;
- ``refused``: it offers again the nonce the client answered (the nonce is still good, so the
  answer to it was wrong), or the client answered within ``late`` of the challenge;
- ``late``: the client answered after ``late``, and the server offered a new nonce without
  ``stale``: an expired nonce and wrong credentials look the same, and neither can be told.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum

from sipdiag.dialogs.challenges import (
    CHALLENGES,
    ChallengeAnswer,
    accepted_later,
    answered_nonces,
    carries_credentials,
    challenge_answers,
    offered_nonces,
    says_stale,
)
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, seconds, transaction_values
from sipdiag.rules.model import parse_duration

LATE_NS = 10_000_000_000
"""A nonce is seldom given less time to live than this (sipdiag's assumption; Asterisk gives
32 s, the registrar of the public capture irontec__sngrep/tests/aaa.pcap about 15 s)."""
STEP_KEYS = ("method", "frame", "time", "status", "reason", "final_frame", "sender", "responder")
"""What ``transaction_values`` fills for a step, besides the copies and the wait."""


def step_placeholders(name: str) -> tuple[str, ...]:
    return tuple(f"{name}.{key}" for key in STEP_KEYS)


AGAIN_VALUES = step_placeholders("again")


class Rechallenge(Enum):
    """What a new challenge to a request with credentials says about them."""

    STALE = "stale"
    REFUSED = "refused"
    LATE = "late"


def rechallenge(answered: ChallengeAnswer, late_ns: int) -> Rechallenge:
    """How to read the new challenge to ``answered`` (see the module's docstring)."""
    again = answered.answer.final
    assert again is not None and again.status in CHALLENGES
    if says_stale(again):
        return Rechallenge.STALE
    if answered_nonces(answered.request) & offered_nonces(again):
        return Rechallenge.REFUSED
    return Rechallenge.LATE if answered.delay_ns > late_ns else Rechallenge.REFUSED


def _rechallenged(subject: Subject, late_ns: int, kind: Rechallenge) -> Iterator[ChallengeAnswer]:
    """Answers challenged again, read as ``kind``, after which the sender never succeeded."""
    for answered in challenge_answers(subject.transactions):
        if (answered.challenged_again and rechallenge(answered, late_ns) is kind
                and not accepted_later(answered.answer, subject.transactions)):
            yield answered


def _again_hit(subject: Subject, answered: ChallengeAnswer, extra: dict[str, str]) -> Hit:
    challenge = answered.challenge
    messages = [m for m in (challenge.request, challenge.final, answered.request,
                            answered.answer.final) if m is not None]
    values = {**transaction_values("again", answered.answer, subject.start_ns), **extra}
    return hit(subject, values, messages, hop_key(answered.answer))


LATE_PARAM = {"late": (parse_duration, LATE_NS)}
CHALLENGED = Needs(finals=CHALLENGES)


@check("credentials_refused", AGAIN_VALUES, LATE_PARAM, CHALLENGED)
def credentials_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """Credentials challenged again for what they are, and never accepted afterwards."""
    late = params["late"]
    assert isinstance(late, int)
    for answered in _rechallenged(subject, late, Rechallenge.REFUSED):
        yield _again_hit(subject, answered, {})


@check("late_challenge_answer", (*AGAIN_VALUES, "challenge.final_frame", "took", "late"),
       LATE_PARAM, CHALLENGED)
def late_challenge_answer(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A challenge answered after ``late`` and challenged again with a new nonce, without
    stale: the nonce may have expired; never accepted afterwards."""
    late = params["late"]
    assert isinstance(late, int)
    for answered in _rechallenged(subject, late, Rechallenge.LATE):
        final = answered.challenge.final
        assert final is not None
        extra = {"challenge.final_frame": str(final.frame), "took": seconds(answered.delay_ns),
                 "late": seconds(late)}
        yield _again_hit(subject, answered, extra)


@check("stale_nonce", AGAIN_VALUES, needs=CHALLENGED)
def stale_nonce(subject: Subject, params: Mapping[str, object], catalog: Catalog) -> Iterator[Hit]:
    """A request with credentials challenged again with ``stale=true``: its nonce had
    expired, its credentials were right (a refresh that reused an old nonce, most often)."""
    for transaction in subject.transactions:
        request, final = transaction.request, transaction.final
        if (request is None or final is None or final.status not in CHALLENGES
                or not carries_credentials(request) or not says_stale(final)):
            continue
        values = transaction_values("again", transaction, subject.start_ns)
        yield hit(subject, values, [request, final], hop_key(transaction))
