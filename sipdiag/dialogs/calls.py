"""Calls and exchanges: what happened to each Call-ID, in an engineer's words.

A ``Conversation`` gathers everything of one Call-ID while it is in progress: its messages,
transactions (``TransactionMatcher``) and dialogs (``DialogTracker``). When it is over it is
read into a ``Call`` (there was an INVITE) or an ``Exchange`` (REGISTER, OPTIONS, SUBSCRIBE,
MESSAGE, ...).

A call seen on several hops of one capture (through a proxy) keeps its Call-ID: each hop's
INVITE is a ``Leg``. The outcome is read on the caller's side: the INVITEs sent from the
address the first one came from, so that a challenge followed by a new INVITE (section 22.2),
or a redirect followed to the new Contact (section 8.1.3.4), is one call with the outcome of
the last attempt.

Outcomes: ``completed`` (answered, then ended by BYE), ``answered`` (still up when the capture
ends), ``dropped`` (answered, then ended abnormally: the 2xx never ACKed, no BYE answered 2xx
(refused, 481 included, or never answered), a session timer that ran out, an error cause in
the BYE's Reason),
``cancelled`` (the caller's CANCEL, answered 487), ``busy``, ``no_answer``, ``rejected``,
``redirected``, ``auth_failed``, ``timeout`` (no final response within 64*T1),
``unreachable`` (no final response, and an ICMP destination unreachable quoting the request),
``in_progress`` (still being set up when the capture ends), ``incomplete`` (the capture misses
the call's start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipdiag.dialogs.acks import unacknowledged_answers
from sipdiag.dialogs.challenges import CHALLENGES as CHALLENGES  # still named from here too
from sipdiag.dialogs.challenges import challenge_answers
from sipdiag.dialogs.dialogs import Dialog, DialogTracker
from sipdiag.dialogs.media import CallFacts, read_media
from sipdiag.dialogs.outcome import Outcome
from sipdiag.dialogs.records import (
    CallRecord,
    ExchangeRecord,
    Leg,
    Retransmissions,
    SdpRecord,
    Timings,
    agents_of,
    sdp_record,
)
from sipdiag.dialogs.transactions import TIMER_B_NS, Transaction, TransactionMatcher
from sipdiag.media.model import CapturedMedia
from sipdiag.network import Endpoint
from sipdiag.sip.headers import parse_reason
from sipdiag.sip.message import SipMessage
from sipdiag.sip.sdp import Sdp

CALL_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE"})
"""Methods that belong to an INVITE call (RFC 3261, RFC 3262, RFC 3311)."""
NORMAL_CLEARING = frozenset({16, 31})
"""Q.850 causes of an ordinary hang-up (normal call clearing, normal unspecified)."""
BUSY = frozenset({486, 600})
NO_ANSWER = frozenset({408, 480})
RINGING = frozenset({180, 183})
_SESSION_EXPIRES = re.compile(r"^\s*(\d+)")


class Conversation:
    """Everything of one Call-ID seen so far."""

    __slots__ = ("call_id", "dialogs", "matcher", "messages")

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.messages: list[SipMessage] = []
        self.matcher = TransactionMatcher()
        self.dialogs = DialogTracker()

    def add(self, message: SipMessage) -> None:
        self.messages.append(message)
        transaction = self.matcher.add(message)
        self.dialogs.add(message, transaction)

    @property
    def transactions(self) -> list[Transaction]:
        return self.matcher.transactions

    @property
    def is_call(self) -> bool:
        """An INVITE, or a request only an INVITE dialog has (a BYE whose INVITE was missed)."""
        return any(t.method in CALL_METHODS for t in self.transactions)

    def finish_at(self) -> int | None:
        """When, in capture time, nothing more is expected: None while a dialog is up.

        After the last message (or the deadline of a request still waiting for its answer)
        comes ``LINGER_NS``, the time retransmissions and late ACKs may still arrive in; after a
        challenge or a redirect, ``RETRY_LINGER_NS``, the time a person may take to type a
        password before the request is sent again with the same Call-ID.
        """
        if self.dialogs.confirmed_up() or self._mid_call():
            return None
        transactions = self.transactions
        end = self.messages[-1].ts_ns
        for transaction in transactions:  # a request still waiting for its final response
            if transaction.final is None and transaction.requests and transaction.method != "ACK":
                end = max(end, transaction.requests[0].ts_ns + TIMER_B_NS)
        final = transactions[-1].final_status
        linger = RETRY_LINGER_NS if final in CHALLENGES or 300 <= final < 400 else LINGER_NS
        return end + linger


    def begins_anew(self, message: SipMessage) -> bool:
        """``message`` starts another call that reuses this Call-ID: an INVITE outside any
        dialog (no To tag) after every dialog of this one was hung up (a BYE answered 2xx) and
        nothing more is expected of it. Generators replaying one call template do this; a UA
        retrying after a challenge or redirect sends its new INVITE after a final non-2xx,
        never after a BYE, so that stays one call (RFC 3261 8.1.3.4, 22.2)."""
        if message.method != "INVITE" or not message.is_request or message.to_tag:
            return False
        answered = [d for d in self.dialogs.dialogs if d.confirmed is not None]
        return (bool(answered) and self.finish_at() is not None
                and all(d.ending_bye is not None and 200 <= d.ending_bye.final_status < 300
                        for d in answered))

    def _mid_call(self) -> bool:
        """The capture began during a call: a request inside its dialog (a re-INVITE, an
        UPDATE, ...) was accepted, so the dialog is up, and no BYE has come yet."""
        accepted = False
        for transaction in self.transactions:
            if transaction.method == "BYE":
                return False
            request = transaction.request
            accepted = accepted or (
                transaction.method in MID_CALL_METHODS and 200 <= transaction.final_status < 300
                and request is not None and bool(request.to_tag))
        return accepted


LINGER_NS = TIMER_B_NS
RETRY_LINGER_NS = 300 * 1_000_000_000
MID_CALL_METHODS = frozenset({"INVITE", "UPDATE", "INFO", "PRACK"})
"""Requests inside a call's dialog whose 2xx shows the call up (RFC 3261 14, RFC 3311, 6086,
3262)."""


@dataclass(frozen=True, slots=True)
class PostDial:
    """What the caller waited through: from the INVITE the wait is measured from to the first
    ringing (180, 183) or answer (2xx), whichever came first (ITU-T E.721: to the ring-back or
    the answer). After a challenge that INVITE is the one that answered it, with credentials
    (RFC 3261 22.2): the time the client took to answer is its own, not the network's."""

    invite: SipMessage
    ring: SipMessage

    @property
    def delay_ns(self) -> int:
        return self.ring.ts_ns - self.invite.ts_ns


@dataclass(frozen=True, slots=True)
class _SdpSide:
    """An SDP offer or answer: who sent it (caller or callee), in which frame, what it holds."""

    sender: str
    frame: int
    sdp: Sdp

    def record(self) -> SdpRecord:
        return sdp_record(self.sender, self.frame, self.sdp)


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(CallRecord):
    """A call's record with everything it was read from, as the rules read it."""

    dialogs: tuple[Dialog, ...]
    transactions: tuple[Transaction, ...]
    messages: tuple[SipMessage, ...]
    observed_until_ns: int
    """The capture time the call was read at: what a missing answer is measured against."""
    post_dial: PostDial | None = None
    """The post-dial delay (None: no ringing nor answer, or the first INVITE not captured)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange(ExchangeRecord):
    """A Call-ID without INVITE (a registration, a keep-alive, a subscription, a message):
    its record with everything it was read from."""

    transactions: tuple[Transaction, ...]
    messages: tuple[SipMessage, ...]
    observed_until_ns: int


def read_conversation(
    conversation: Conversation, capture_end_ns: int, media: CapturedMedia | None = None
) -> Call | Exchange:
    """What happened in a finished conversation (``capture_end_ns``: the last frame's time;
    ``media``: what the capture holds of its media, for a call)."""
    if conversation.is_call:
        return _read_call(conversation, capture_end_ns, media)
    return _read_exchange(conversation, capture_end_ns)


def _initial_invites(conversation: Conversation) -> list[Transaction]:
    return [
        t
        for t in conversation.transactions
        if t.method == "INVITE" and (t.request is None or not t.request.to_tag)
    ]


def _read_call(
    conversation: Conversation, capture_end_ns: int, media: CapturedMedia | None
) -> Call:
    messages = conversation.messages
    invites = _initial_invites(conversation)
    requests = [t.request for t in invites if t.request is not None]
    first = requests[0] if requests else None
    caller_side = [t for t in invites if first and t.request and t.request.src == first.src]
    answered = _answered_dialog(conversation, caller_side)
    outcome, ended_by = _outcome(answered, caller_side, capture_end_ns)
    last = caller_side[-1] if caller_side else (invites[-1] if invites else None)
    final = last.final if last else None
    anchor = first or messages[0]
    legs = _legs(invites)
    responses = _responses(caller_side)
    answer = _first_2xx(responses)
    waited = post_dial(caller_side, responses)
    offer = _offer(caller_side)
    facts = CallFacts(
        messages=messages,
        first_invite=first,
        hops=[(leg.src, leg.dst) for leg in legs],
        answer=answer,
        bye=answered.bye if answered else _any_bye(conversation),
        observed_until_ns=capture_end_ns,
    )
    return Call(
        call_id=conversation.call_id,
        outcome=outcome,
        final_status=final.status if final else 0,
        reason=final.reason if final else "",
        ended_by=ended_by,
        caller=_uri(anchor, "from"),
        callee=_uri(anchor, "to"),
        request_uri=first.request_uri if first else "",
        start_ns=messages[0].ts_ns,
        end_ns=messages[-1].ts_ns,
        timings=_timings(caller_side, messages, waited, answer, answered),
        legs=legs,
        dialogs=tuple(conversation.dialogs.dialogs),
        transactions=tuple(conversation.transactions),
        messages=tuple(messages),
        first_frame=messages[0].frame,
        last_frame=messages[-1].frame,
        message_count=len(messages),
        dialog_count=len(conversation.dialogs.dialogs),
        offer=_record(offer),
        answer=_record(_answer(offer, caller_side, conversation)),
        retransmissions=_retransmissions(conversation.transactions),
        duplicates=sum(t.duplicates for t in conversation.transactions),
        observed_until_ns=capture_end_ns,
        media=read_media(facts, media),
        agents=agents_of(messages),
        post_dial=waited,
    )


def _responses(attempts: list[Transaction]) -> list[SipMessage]:
    """The responses to the caller's INVITEs, in the order they were sent."""
    return sorted((r for t in attempts for r in t.responses), key=lambda r: r.ts_ns)


def _first_2xx(responses: list[SipMessage]) -> SipMessage | None:
    """The first 2xx of the caller's INVITEs' responses (``_responses``): when the call was
    answered."""
    return next((r for r in responses if 200 <= r.status < 300), None)


def _any_bye(conversation: Conversation) -> Transaction | None:
    """The first BYE, for a call whose answer the capture missed (it started mid-call)."""
    return next((t for t in conversation.transactions if t.method == "BYE"), None)


def _outcome(
    answered: Dialog | None, attempts: list[Transaction], capture_end_ns: int
) -> tuple[Outcome, str]:
    """(outcome, ended_by) read from the caller's INVITE attempts and the dialog they
    confirmed (``_answered_dialog``)."""
    if not attempts:
        return Outcome.INCOMPLETE, ""
    if answered is not None:
        return _answered_outcome(answered, capture_end_ns)
    last = attempts[-1]
    status = last.final_status
    if status == 0:
        unanswered = _unanswered_outcome(last, capture_end_ns)
        if unanswered is not None:
            return unanswered, "timeout" if unanswered is Outcome.TIMEOUT else ""
        if last.cancel is not None:
            return Outcome.CANCELLED, "caller"
        return Outcome.IN_PROGRESS, ""
    if 200 <= status < 300:  # answered without a To tag: a call no request can name (P101)
        return Outcome.ANSWERED, ""
    return _failure(status, last, attempts), _failed_by(status, last)


def _failure(status: int, last: Transaction, attempts: list[Transaction]) -> Outcome:
    challenged_before = any(t.final_status in CHALLENGES for t in attempts[:-1])
    if status == 487 and last.cancel is not None:
        # 487 is the answer to a CANCEL honoured (section 9.2); without the caller's CANCEL it
        # was someone else's doing. Any other final response crossed the CANCEL, which then
        # had no effect (section 9.1): the call ended as that response says.
        return Outcome.CANCELLED
    if 300 <= status < 400:
        return Outcome.REDIRECTED
    if status in CHALLENGES or (status == 403 and challenged_before):
        return Outcome.AUTH_FAILED
    if status in BUSY:
        return Outcome.BUSY
    if status in NO_ANSWER:
        return Outcome.NO_ANSWER
    return Outcome.REJECTED


def _failed_by(status: int, last: Transaction) -> str:
    return "caller" if status == 487 and last.cancel is not None else "callee"


def _answered_dialog(conversation: Conversation, attempts: list[Transaction]) -> Dialog | None:
    for dialog in conversation.dialogs.dialogs:
        if dialog.confirmed is not None and any(t in attempts for t in dialog.invites):
            return dialog
    return None


def _answered_outcome(dialog: Dialog, capture_end_ns: int) -> tuple[Outcome, str]:
    """The outcome of an answered call; the rules engine says why a dropped one dropped."""
    assert dialog.confirmed is not None
    bye = dialog.ending_bye
    if bye is None:
        return (Outcome.DROPPED if unacknowledged_answers(dialog) else Outcome.ANSWERED), ""
    if _ended_abnormally(dialog, bye, capture_end_ns):
        return Outcome.DROPPED, _ender(dialog, bye)
    if bye.final is None:  # hung up, but the far end's 2xx is not in the capture (yet)
        return Outcome.ANSWERED, ""
    return Outcome.COMPLETED, _ender(dialog, bye)


def _ender(dialog: Dialog, bye: Transaction) -> str:
    request = bye.request
    return "caller" if request and request.from_tag == dialog.caller_tag else "callee"


def _ended_abnormally(dialog: Dialog, bye: Transaction, capture_end_ns: int) -> bool:
    """A BYE refused (481 included: the far end had lost the dialog) or never answered, the
    2xx never ACKed, an error cause in the BYE, or a session timer that ran out."""
    request = bye.request
    return bool(
        unacknowledged_answers(dialog)
        or bye.final_status >= 300
        or (bye.final is None and bye.timed_out(capture_end_ns))
        or (request is not None and error_cause(request) is not None)
        or session_expiry(dialog, bye) is not None
    )


def error_cause(message: SipMessage) -> tuple[str, int] | None:
    """(protocol, cause) of the message's first Reason that says a call did not end normally."""
    for value in message.values("reason"):
        reason = parse_reason(value)
        if reason is None:
            continue
        if (reason.protocol == "Q.850" and reason.cause not in NORMAL_CLEARING) or (
            reason.protocol == "SIP" and reason.cause >= 300
        ):
            return reason.protocol, reason.cause
    return None


def session_expiry(dialog: Dialog, bye: Transaction) -> tuple[SipMessage, int] | None:
    """(last refresh, session interval in seconds) when the BYE came as the session interval
    (RFC 4028) ran out with no refresh before it; None otherwise."""
    assert dialog.confirmed is not None
    refreshes = [dialog.confirmed] + [
        t.final
        for t in dialog.transactions
        if t.method in ("INVITE", "UPDATE") and t.final is not None and t.final.status < 300
    ]
    last_refresh = max(refreshes, key=lambda m: m.ts_ns)
    interval = _session_interval(last_refresh)
    request = bye.request
    if interval is None or request is None:
        return None
    # RFC 4028 10: the side that did not refresh sends BYE shortly before the interval ends.
    margin = min(32, interval / 3)
    if (request.ts_ns - last_refresh.ts_ns) / 1e9 >= interval - margin:
        return last_refresh, interval
    return None


def _session_interval(message: SipMessage) -> int | None:
    value = message.first_value("session-expires")
    match = _SESSION_EXPIRES.match(value) if value else None
    return int(match[1]) if match else None


def post_dial(attempts: list[Transaction], responses: list[SipMessage]) -> PostDial | None:
    """The caller's wait for ringing or the answer, read from its INVITE attempts and their
    responses (``_responses``)."""
    if not attempts or attempts[0].request is None:
        return None
    ring = next((r for r in responses if r.status in RINGING or 200 <= r.status < 300), None)
    if ring is None:
        return None
    retries = [a.request for a in challenge_answers(attempts) if a.request.ts_ns <= ring.ts_ns]
    invite = max(retries, key=lambda r: r.ts_ns) if retries else attempts[0].request
    return PostDial(invite, ring)


def _timings(
    attempts: list[Transaction], messages: list[SipMessage], waited: PostDial | None,
    answer: SipMessage | None, answered: Dialog | None,
) -> Timings:
    total = (messages[-1].ts_ns - messages[0].ts_ns) / 1e9
    if not attempts or attempts[0].request is None:
        return Timings(None, None, None, total)
    start = attempts[0].request.ts_ns
    talk = None
    if answer is not None:
        bye = answered.bye.request if answered and answered.bye else None
        end = bye.ts_ns if bye else messages[-1].ts_ns
        talk = (end - answer.ts_ns) / 1e9
    pdd = waited.delay_ns / 1e9 if waited else None
    return Timings(pdd, _seconds(answer, start), talk, total)


def _seconds(message: SipMessage | None, start: int) -> float | None:
    return None if message is None else (message.ts_ns - start) / 1e9


def _legs(invites: list[Transaction]) -> tuple[Leg, ...]:
    legs: dict[tuple[Endpoint, Endpoint, str], Leg] = {}
    for transaction in invites:
        message = transaction.first
        request = transaction.request
        src, dst = (request.src, request.dst) if request else (message.dst, message.src)
        key = (src, dst, message.transport)
        leg = legs.get(key)
        if leg is None or transaction.final_status:
            first_frame = leg.first_frame if leg else message.frame
            legs[key] = Leg(src, dst, message.transport, first_frame, transaction.final_status)
    return tuple(legs.values())


def _offer(attempts: list[Transaction]) -> _SdpSide | None:
    for transaction in attempts:
        request = transaction.request
        if request is not None and request.sdp is not None:
            return _SdpSide("caller", request.frame, request.sdp)
    for transaction in attempts:  # a late offer: in the 2xx, answered in the ACK
        final = transaction.final
        if final is not None and final.status < 300 and final.sdp is not None:
            return _SdpSide("callee", final.frame, final.sdp)
    return None


def _answer(
    offer: _SdpSide | None, attempts: list[Transaction], conversation: Conversation
) -> _SdpSide | None:
    """The answer to the call's offer (``_offer``)."""
    if offer is None:
        return None
    if offer.sender == "caller":
        for transaction in attempts:
            for response in transaction.responses:
                if response.status < 300 and response.status != 100 and response.sdp is not None:
                    return _SdpSide("callee", response.frame, response.sdp)
        return None
    for dialog in conversation.dialogs.dialogs:
        for ack in dialog.acks:
            if ack.sdp is not None:
                return _SdpSide("caller", ack.frame, ack.sdp)
    return None


def _record(side: _SdpSide | None) -> SdpRecord | None:
    return side.record() if side is not None else None


def _retransmissions(transactions: list[Transaction]) -> tuple[Retransmissions, ...]:
    """Every message sent more than once, as ``Transaction.copies`` groups them."""
    found = []
    for transaction in transactions:
        for copies in transaction.copies():
            if len(copies) > 1:
                status = copies[0].status
                what = f"{status} {transaction.method}" if status else transaction.method
                found.append(_copies(what, copies))
    return tuple(found)


def _copies(what: str, copies: list[SipMessage]) -> Retransmissions:
    start = copies[0].ts_ns
    return Retransmissions(
        what, tuple(m.frame for m in copies), tuple((m.ts_ns - start) / 1e9 for m in copies)
    )


def _uri(message: SipMessage, header: str) -> str:
    found = message.name_addr(header)
    return found.uri if found else ""


def _read_exchange(conversation: Conversation, capture_end_ns: int) -> Exchange:
    messages = conversation.messages
    transactions = conversation.transactions
    sent = [t for t in transactions if t.request is not None]
    first = sent[0] if sent else transactions[0]
    attempts = [t for t in sent if t.method == first.method]  # SUBSCRIBE, not the NOTIFYs
    last = attempts[-1] if attempts else transactions[-1]
    final = last.final
    return Exchange(
        call_id=conversation.call_id,
        method=first.method,
        outcome=_exchange_outcome(attempts, capture_end_ns),
        final_status=final.status if final else 0,
        reason=final.reason if final else "",
        caller=_uri(first.first, "from"),
        callee=_uri(first.first, "to"),
        start_ns=messages[0].ts_ns,
        end_ns=messages[-1].ts_ns,
        first_frame=messages[0].frame,
        last_frame=messages[-1].frame,
        message_count=len(messages),
        transaction_count=len(transactions),
        transactions=tuple(transactions),
        messages=tuple(messages),
        retransmissions=_retransmissions(transactions),
        observed_until_ns=capture_end_ns,
    )


def _unanswered_outcome(last: Transaction, capture_end_ns: int) -> Outcome | None:
    """What became of a request that got no final response: refused by the network (an ICMP
    destination unreachable quoting it is a transport error, which the client takes as a 503,
    RFC 3261 8.1.3.1 and 17.1.4), timed out, or None while it may still be answered."""
    if last.refusals:
        return Outcome.UNREACHABLE
    return Outcome.TIMEOUT if last.timed_out(capture_end_ns) else None


def _exchange_outcome(sent: list[Transaction], capture_end_ns: int) -> Outcome:
    if not sent:
        return Outcome.INCOMPLETE
    last = sent[-1]
    status = last.final_status
    if status == 0:
        return _unanswered_outcome(last, capture_end_ns) or Outcome.IN_PROGRESS
    if status < 300:
        return Outcome.OK
    challenged_before = any(t.final_status in CHALLENGES for t in sent[:-1])
    if status in CHALLENGES or (status == 403 and challenged_before):
        return Outcome.AUTH_FAILED
    return Outcome.REJECTED
