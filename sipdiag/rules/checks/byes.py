"""How a call's BYEs were answered: refused by a far end that lost the dialog (481), refused
because they named another dialog than the one the 2xx set up, or refused outright.

A BYE names its dialog by the Call-ID and the two tags (RFC 3261 12.2.1.1): the sender's own
tag in From, the far end's in To. A 481 to a BYE whose tags are those of the dialog the 2xx
confirmed means the far end had lost it (section 15.1.2); a 481 to a BYE whose tags are not
those of any dialog of the call means the sender built the BYE wrong, and the far end was
right to refuse it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.dialogs import Dialog
from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Subject, check, hit
from sipdiag.rules.checks.tags import wrong_tag
from sipdiag.rules.matcher import Hit, hop_key, transaction_values

BYE_VALUES = tuple(f"bye.{key}" for key in (
    "method", "frame", "time", "status", "reason", "final_frame", "sender", "responder",
    "copies", "wait"))
"""What ``transaction_values`` fills for the BYE."""
REFUSED_481 = Needs(methods=("BYE",), finals=(481,))


def _confirmed(call: Call) -> list[Dialog]:
    return [d for d in call.dialogs if d.confirmed is not None]


def _byes_answered(call: Call, status: int | None) -> Iterator[Transaction]:
    for transaction in call.transactions:
        if transaction.method == "BYE" and transaction.final_status >= 300 and (
            status is None or transaction.final_status == status
        ):
            yield transaction


@check("bye_481", BYE_VALUES, needs=REFUSED_481)
def bye_481(subject: Subject, params: Mapping[str, object], catalog: Catalog) -> Iterator[Hit]:
    """A BYE of the call's dialog answered 481: the far end had lost the dialog."""
    if not isinstance(subject, Call):
        return
    dialogs = _confirmed(subject)
    for bye in _byes_answered(subject, 481):
        if wrong_tag(bye, dialogs) is None:
            yield _bye_hit(subject, bye, {})


@check("bye_wrong_tags", (*BYE_VALUES, "tag.header", "tag.sent", "tag.dialog"),
       needs=REFUSED_481)
def bye_wrong_tags(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A BYE answered 481 that names no dialog of its call: the sender's mistake."""
    if not isinstance(subject, Call):
        return
    dialogs = _confirmed(subject)
    for bye in _byes_answered(subject, 481):
        wrong = wrong_tag(bye, dialogs)
        if wrong is not None:
            yield _bye_hit(subject, bye, {"tag.header": wrong.header, "tag.sent": wrong.sent,
                                          "tag.dialog": wrong.dialog})


@check("bye_refused", BYE_VALUES, needs=Needs(methods=("BYE",), final_from=300))
def bye_refused(subject: Subject, params: Mapping[str, object], catalog: Catalog) -> Iterator[Hit]:
    """A dialog none of whose BYEs got a 2xx, refused with another status than 481 (a
    challenge counts when no BYE with credentials followed and succeeded, section 22.2)."""
    if not isinstance(subject, Call):
        return
    for dialog in subject.dialogs:
        if any(200 <= bye.final_status < 300 for bye in dialog.byes):
            continue
        for bye in dialog.byes:
            if bye.final_status >= 300 and bye.final_status != 481:
                yield _bye_hit(subject, bye, {}, (("response", bye.final_status),))


def _bye_hit(subject: Call, bye: Transaction, values: dict[str, str],
             refs: tuple[tuple[str, int], ...] = ()) -> Hit:
    messages = [m for m in (bye.request, bye.final) if m is not None]
    return hit(subject, {**transaction_values("bye", bye, subject.start_ns), **values},
               messages, hop_key(bye), refs)
