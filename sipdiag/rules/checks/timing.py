"""Post-dial delay: how long the caller waited for ringing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import Call
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, seconds
from sipdiag.rules.model import parse_duration


@check("long_post_dial_delay", ("invite.frame", "ring.frame", "ring.status", "pdd", "over"),
       {"over": (parse_duration, 6_000_000_000)})
def long_post_dial_delay(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """The caller waited longer than ``over`` for ringing (or for the answer, without ringing)."""
    over = params["over"]
    assert isinstance(over, int)
    if not isinstance(subject, Call):
        return
    invites = [t for t in subject.transactions if t.method == "INVITE" and t.request is not None
               and not t.request.to_tag]
    if not invites:
        return
    first = invites[0].request
    assert first is not None
    responses = sorted(
        (r for t in invites if t.request and t.request.src == first.src for r in t.responses),
        key=lambda r: r.ts_ns,
    )
    ring = next((r for r in responses if r.status in (180, 183) or 200 <= r.status < 300), None)
    if ring is None or ring.ts_ns - first.ts_ns <= over:
        return
    values = {
        "invite.frame": str(first.frame),
        "ring.frame": str(ring.frame),
        "ring.status": str(ring.status),
        "pdd": seconds(ring.ts_ns - first.ts_ns),
        "over": seconds(over),
    }
    yield hit(subject, values, [first, ring], ("pdd",))
