"""Dialogs (RFC 3261 section 12), followed from the outside.

A dialog is named by the Call-ID and the tags of its two ends. The caller's tag is the From tag
of the INVITE; the callee's tag is the To tag it puts in its responses. A provisional response
with a To tag makes an early dialog (section 12.1); a 2xx confirms it; a BYE ends it (section
15). A forked INVITE can make several early dialogs, one per To tag, and even several confirmed
ones (section 13.2.2.4). A request inside a dialog (re-INVITE, UPDATE, INFO, REFER, NOTIFY,
PRACK, BYE) carries both tags, in either order depending on which end sends it.

Through a proxy the same dialog is seen on every hop (a proxy keeps the tags): each hop's
INVITE transaction is one of the dialog's ``invites``, and each hop's ACK of the 2xx is kept:
``dialogs.acks`` tells from them, and from the 2xx's copies, a 2xx never acknowledged.
"""

from __future__ import annotations

from enum import Enum

from sipdiag.dialogs.transactions import Transaction
from sipdiag.sip.message import SipMessage


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class Dialog:
    __slots__ = (
        "acks",
        "byes",
        "callee_tag",
        "caller_tag",
        "confirmed",
        "invites",
        "state",
        "transactions",
    )

    def __init__(
        self,
        caller_tag: str,
        callee_tag: str,
        invite: Transaction,
    ) -> None:
        self.caller_tag = caller_tag
        self.callee_tag = callee_tag
        self.invites = [invite]
        """The INVITE transactions of the dialog, one per hop it was seen on."""
        self.state = DialogState.EARLY
        self.confirmed: SipMessage | None = None
        """The first 2xx to the INVITE in this dialog."""
        self.acks: list[SipMessage] = []
        """The ACKs of the 2xx, on every hop."""
        self.byes: list[Transaction] = []
        """The BYE transactions, in order: a BYE challenged (401, 407) is sent again with
        credentials as a new transaction (section 22.2)."""
        self.transactions: list[Transaction] = []
        """The requests sent inside the dialog, in order (ACK and BYE included)."""

    @property
    def tags(self) -> frozenset[str]:
        return frozenset((self.caller_tag, self.callee_tag))

    @property
    def bye(self) -> Transaction | None:
        """The first BYE."""
        return self.byes[0] if self.byes else None

    @property
    def ending_bye(self) -> Transaction | None:
        """The BYE that ended the dialog: the first answered 2xx, else the first."""
        return next((t for t in self.byes if 200 <= t.final_status < 300), self.bye)

    @property
    def ack(self) -> SipMessage | None:
        return self.acks[0] if self.acks else None


class DialogTracker:
    """Dialogs of one Call-ID, updated message by message."""

    def __init__(self) -> None:
        self.dialogs: list[Dialog] = []
        self._by_tags: dict[frozenset[str], Dialog] = {}

    def add(self, message: SipMessage, transaction: Transaction) -> None:
        if message.status:
            if message.cseq_method == "INVITE" and _is_initial(transaction):
                self._invite_response(message, transaction)
            return
        dialog = self.find(message)
        if dialog is None:
            return
        if transaction not in dialog.transactions:
            dialog.transactions.append(transaction)
        if message.method == "ACK" and dialog.confirmed is not None:
            dialog.acks.append(message)
        elif message.method == "BYE" and transaction not in dialog.byes:
            dialog.byes.append(transaction)
            dialog.state = DialogState.TERMINATED

    def confirmed_up(self) -> bool:
        """A dialog is confirmed and not ended yet."""
        return DialogState.CONFIRMED in [dialog.state for dialog in self.dialogs]

    def find(self, message: SipMessage) -> Dialog | None:
        """The dialog a request inside a dialog belongs to, by its two tags."""
        from_tag, to_tag = message.from_tag, message.to_tag
        if not from_tag or not to_tag:
            return None
        return self._by_tags.get(frozenset((from_tag, to_tag)))

    def _invite_response(self, message: SipMessage, transaction: Transaction) -> None:
        caller_tag, callee_tag = message.from_tag, message.to_tag
        if not caller_tag or not callee_tag or message.status == 100:
            return  # 100 Trying never makes a dialog (section 12.1)
        tags = frozenset((caller_tag, callee_tag))
        dialog = self._by_tags.get(tags)
        if dialog is None:
            if message.status >= 300:
                return
            dialog = Dialog(caller_tag, callee_tag, transaction)
            self._by_tags[tags] = dialog
            self.dialogs.append(dialog)
        elif transaction not in dialog.invites:
            dialog.invites.append(transaction)
        if 200 <= message.status < 300 and dialog.confirmed is None:
            dialog.confirmed = message
            if dialog.state is DialogState.EARLY:
                dialog.state = DialogState.CONFIRMED
        elif message.status >= 300 and dialog.state is DialogState.EARLY:
            dialog.state = DialogState.TERMINATED  # a failure ends the early dialog


def _is_initial(transaction: Transaction) -> bool:
    """An INVITE outside any dialog (no To tag); None if only its responses were captured."""
    request = transaction.request
    return request is None or not request.to_tag
