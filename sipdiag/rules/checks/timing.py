"""How long the caller waited: for ringing (post-dial delay), and for its own client to answer
a challenge."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.challenges import CHALLENGES, challenge_answers
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, seconds
from sipdiag.rules.model import parse_duration


@check("long_post_dial_delay", ("invite.frame", "ring.frame", "ring.status", "pdd", "over"),
       {"over": (parse_duration, 6_000_000_000)})
def long_post_dial_delay(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """The caller waited longer than ``over`` for ringing (or for the answer, without ringing),
    as the call's ``post_dial`` measures it: the PDD column of the call list."""
    over = params["over"]
    assert isinstance(over, int)
    waited = subject.post_dial if isinstance(subject, Call) else None
    if waited is None or waited.delay_ns <= over:
        return
    values = {
        "invite.frame": str(waited.invite.frame),
        "ring.frame": str(waited.ring.frame),
        "ring.status": str(waited.ring.status),
        "pdd": seconds(waited.delay_ns),
        "over": seconds(over),
    }
    yield hit(subject, values, [waited.invite, waited.ring], ("pdd",))


@check("slow_challenge_answer", (
    "challenge.frame", "challenge.status", "challenge.final_frame", "answer.frame", "took",
    "over",
), {"over": (parse_duration, 2_000_000_000)},
    Needs(methods=("INVITE",), finals=CHALLENGES))
def slow_challenge_answer(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """The caller's client took longer than ``over`` to send its INVITE again with credentials
    after a 401 or 407 (RFC 3261 22.2, 22.3): silence the post-dial delay leaves out."""
    over = params["over"]
    assert isinstance(over, int)
    if not isinstance(subject, Call):
        return
    initial = (t for t in subject.transactions
               if t.method == "INVITE" and t.request is not None and not t.request.to_tag)
    for answered in challenge_answers(initial):
        if answered.delay_ns <= over:
            continue
        challenged, final = answered.challenge.request, answered.challenge.final
        assert challenged is not None and final is not None
        values = {
            "challenge.frame": str(challenged.frame),
            "challenge.status": str(final.status),
            "challenge.final_frame": str(final.frame),
            "answer.frame": str(answered.request.frame),
            "took": seconds(answered.delay_ns),
            "over": seconds(over),
        }
        yield hit(subject, values, [challenged, final, answered.request],
                  ("challenge-answer", hop_key(answered.answer)))
