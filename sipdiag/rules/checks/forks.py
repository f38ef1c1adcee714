"""A forked INVITE answered more than once (RFC 3261 13.2.2.4, 16.7).

A forking proxy may pass on a 2xx from every branch that answers, each with its own To tag and
so its own dialog. The caller must ACK each one and, keeping one conversation, end every other
dialog with a BYE at once; a dialog it leaves up is a phone that answered into silence and
holds the call until that end gives up (without the ACK, after 64*T1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.dialogs import Dialog
from sipdiag.dialogs.transactions import TIMER_B_NS
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.matcher import Hit, seconds

NEVER = 2**63
"""The end of a dialog no BYE ended."""


def _end_ns(dialog: Dialog) -> int:
    """When the dialog's first BYE was sent, by either end."""
    request = dialog.bye.request if dialog.bye else None
    return request.ts_ns if request is not None else NEVER


def _ended_by_caller(dialog: Dialog) -> bool:
    return any(bye.request is not None and bye.request.from_tag == dialog.caller_tag
               for bye in dialog.byes)


def _kept_and_ended(dialog: Dialog) -> bool:
    """ACKed, then ended by a BYE either end sent and the other accepted: a second call the
    caller took (a B2BUA that keeps the Call-ID gives each leg new tags), not one left up."""
    return bool(dialog.acks) and any(200 <= bye.final_status < 300 for bye in dialog.byes)


def kept_and_extra(call: Call) -> tuple[Dialog | None, list[Dialog]]:
    """The answered dialog the call went on in (the one that lasted longest; the first
    answered of those no BYE ended) and the other answered ones."""
    answered = [d for d in call.dialogs if d.confirmed is not None]
    if not answered:
        return None, []
    kept = max(answered, key=_end_ns)  # max keeps the first of equals
    return kept, [d for d in answered if d is not kept]


@check("fork_answer_not_ended", ("ok.frame", "ok.sender", "kept.frame", "copies", "span"))
def fork_answer_not_ended(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """An extra answered dialog of a forked INVITE that the caller did not end by BYE."""
    if not isinstance(subject, Call) or len(subject.dialogs) < 2:
        return  # one dialog: no other answer to end
    kept, extra = kept_and_extra(subject)
    for dialog in extra:
        ok = dialog.confirmed
        assert ok is not None and kept is not None and kept.confirmed is not None
        if _ended_by_caller(dialog) or _kept_and_ended(dialog):
            continue
        bye = dialog.bye.request if dialog.bye else None
        if bye is None and subject.observed_until_ns - ok.ts_ns < TIMER_B_NS:
            continue  # the capture ends before the caller was plainly too late
        copies = [r for t in dialog.invites for r in t.responses
                  if r.status == ok.status and r.to_tag == ok.to_tag and r.src == ok.src]
        values = {
            "ok.frame": str(ok.frame),
            "ok.sender": str(ok.src),
            "kept.frame": str(kept.confirmed.frame),
            "copies": str(len(copies)),
            "span": seconds(copies[-1].ts_ns - ok.ts_ns),
        }
        yield hit(subject, values, [*copies[:1], *copies[-1:], *([bye] if bye else [])],
                  ("fork", dialog.callee_tag))
