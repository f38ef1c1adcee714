"""Which dialog a request inside a dialog names, by its tags (RFC 3261 12.2.1.1): shared by the
checks that judge how such a request was answered (a 481 to a BYE that named another dialog,
a 2xx to a request that named none).

A request inside a dialog names it by the Call-ID and the two tags: its sender's own tag in
From, the far end's in To. A dialog is known once a 2xx confirmed it; a capture that missed the
2xx (or started in the middle of the call) gives nothing to compare with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sipdiag.dialogs.dialogs import Dialog
from sipdiag.dialogs.transactions import Transaction


@dataclass(frozen=True)
class WrongTag:
    """Which tag of a request is not its dialog's, what it was and what it should have been."""

    header: str
    sent: str
    dialog: str


def wrong_tag(transaction: Transaction, dialogs: Sequence[Dialog]) -> WrongTag | None:
    """The tag by which an in-dialog request misses every one of ``dialogs`` (None when it
    names one of them, or when none of them was confirmed: no dialog to compare with)."""
    request = transaction.request
    if request is None:
        return None
    sent = {"From": request.from_tag or "", "To": request.to_tag or ""}
    named = frozenset(sent.values())
    if any(dialog.tags == named for dialog in dialogs):
        return None
    confirmed = next((dialog for dialog in dialogs if dialog.confirmed is not None), None)
    if confirmed is None:
        return None
    for dialog in dialogs:
        for header, other in (("From", "To"), ("To", "From")):
            if sent[other] in dialog.tags:  # one tag fits: the other is the wrong one
                should = next(iter(dialog.tags - {sent[other]}), sent[other])
                return WrongTag(header, sent[header] or "-", should)
    assert confirmed.confirmed is not None
    ends = [confirmed.caller_tag, confirmed.callee_tag]
    if request.src != confirmed.confirmed.dst:  # not from where the 2xx went: the callee's
        ends.reverse()
    return WrongTag("From and To", f"{sent['From'] or '-'}, {sent['To'] or '-'}", ", ".join(ends))
