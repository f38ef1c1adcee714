"""Transactions as a passive observer sees them (RFC 3261 section 17).

A request and its responses share a transaction. Matching follows section 17.1.3 (responses)
and 17.2.3 (requests): the branch of the top Via, the sent-by of that Via, and the method of
the request (the CSeq method of a response); the ACK of a non-2xx final response has the
INVITE's branch and belongs to the INVITE transaction, while the ACK of a 2xx has a branch of
its own (section 13.2.2.4). A branch without the magic cookie ``z9hG4bK`` was made by an RFC 2543
element and is not unique: such messages are matched by Call-ID, CSeq number and method, From
tag and Via sent-by instead (the 2543 rules of section 17.2.3).

The same request or response seen again on the same hop is a retransmission; the time of every
copy is kept, so the retransmission schedule (T1, 2*T1, 4*T1, ... capped at T2) can be read.
``Transaction.copies`` is the one place that says which messages are copies of one another.
A copy of the very same bytes within ``DUPLICATE_NS`` is the capture seeing one packet twice
(a mirror port, ``-i any``), not a retransmission, and is counted apart. Responses with other
To tags are other UASes' answers to a forked request (sections 12.1, 16.7), and reliable
provisional responses with another RSeq are new responses (RFC 3262 section 3): neither is a
retransmission.

Each hop of a proxied call has its own transaction: the proxy puts its own Via on top, so the
branch differs. A request seen again between other addresses with the same branch (a NAT, an
element that does not add its Via) is also the request on another hop, a transaction of its
own: a client retransmits to the same destination (section 17.1.1.2), from the same place.
Matching is done within one Call-ID, so branches reused by other calls (a replayed test
capture) do not collide.
"""

from __future__ import annotations

from sipdiag.media.model import Unreachable
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage

MAGIC_COOKIE = "z9hG4bK"
T1_NS = 500_000_000
TIMER_B_NS = 64 * T1_NS
"""How long a client transaction waits for a final response (Timer B and Timer F)."""
UNANSWERED_COPIES = 6
DUPLICATE_NS = 1_000_000

Key = tuple[str, ...]
Hop = tuple[Endpoint, Endpoint]
"""(client, server): where a request went from and to."""


class Transaction:
    """One request, its copies, and the responses to it."""

    __slots__ = (
        "acks", "cancel", "duplicates", "final", "method", "refusals", "requests", "responses"
    )

    def __init__(self, method: str) -> None:
        self.method = method
        self.requests: list[SipMessage] = []
        """Every copy of the request, the first and its retransmissions."""
        self.responses: list[SipMessage] = []
        """Every response, in order, retransmissions included."""
        self.acks: list[SipMessage] = []
        """ACKs of a non-2xx final response (they belong to the INVITE transaction)."""
        self.cancel: Transaction | None = None
        self.duplicates = 0
        self.final: SipMessage | None = None
        """The first final (2xx-6xx) response."""
        self.refusals: list[Unreachable] = []
        """ICMP destination unreachable errors that quote a copy of the request (over UDP): a
        transport error, which ends the transaction at once (section 17.1.4)."""

    @property
    def request(self) -> SipMessage | None:
        """The first copy of the request (None if the capture has only responses)."""
        return self.requests[0] if self.requests else None

    @property
    def first(self) -> SipMessage:
        """The first message of the transaction, request or response."""
        requests, responses = self.requests, self.responses
        if not requests or (responses and responses[0].frame < requests[0].frame):
            return responses[0]
        return requests[0]

    @property
    def final_status(self) -> int:
        final = self.final
        return final.status if final else 0

    @property
    def provisional(self) -> list[SipMessage]:
        return [r for r in self.responses if r.status < 200]

    @property
    def hop(self) -> Hop:
        """(client, server) of the request, or as its first response shows them."""
        request = self.request
        if request is not None:
            return request.src, request.dst
        response = self.responses[0]
        return response.dst, response.src

    def copies(self) -> list[list[SipMessage]]:
        """The request and each distinct response, every one with its copies in order: a list
        longer than one is a message and its retransmissions.

        A response repeats an earlier one when it has the same status, To tag and RSeq and
        goes between the same addresses; another To tag is another fork's answer.
        """
        groups = [self.requests] if self.requests else []
        by_response: dict[tuple[object, ...], list[SipMessage]] = {}
        for response in self.responses:
            mark = (
                response.status, response.to_tag, response.first_value("rseq"),
                response.src, response.dst,
            )
            by_response.setdefault(mark, []).append(response)
        return groups + list(by_response.values())

    @property
    def retransmissions(self) -> int:
        """How many copies repeat a message sent before (3 sendings: 2 retransmissions)."""
        return sum(len(group) - 1 for group in self.copies())

    def timed_out(self, now_ns: int) -> bool:
        """A request that got no final response for 64*T1 (Timer B/F, section 17.1.1.2); an
        INVITE only while no provisional response came (Timer B runs in the Calling state
        alone: a call that rings stays up until someone ends it, or a proxy's Timer C does).

        When the capture ends sooner, a request sent ``UNANSWERED_COPIES`` times (15.5 s of
        retransmissions at T1 doubling) without any response at all counts as timed out too:
        its peer is not answering, whatever the last seconds would have shown.
        """
        request = self.request
        if self.method == "ACK" or self.final is not None or request is None:
            return False
        if self.method == "INVITE" and self.responses:
            return False  # a provisional response: Proceeding, where Timer B no longer runs
        if now_ns - request.ts_ns >= TIMER_B_NS:
            return True
        return not self.responses and len(self.requests) >= UNANSWERED_COPIES

    @property
    def last_ts_ns(self) -> int:
        messages = [*self.requests, *self.responses, *self.acks]
        return max(m.ts_ns for m in messages)


def request_key(message: SipMessage, method: str) -> Key:
    branch, sent_by = message.via_key or (None, "")
    sent_by = sent_by.lower()
    if branch and branch.startswith(MAGIC_COOKIE):
        return (branch, sent_by, method)
    # RFC 2543 (section 17.2.3): branch is not unique; the transaction is told by these.
    return ("rfc2543", str(message.cseq), method, message.from_tag or "", sent_by)


def response_key(message: SipMessage) -> Key:
    return request_key(message, message.cseq_method)


class TransactionMatcher:
    """Puts each message of one Call-ID into its transaction."""

    def __init__(self) -> None:
        self.transactions: list[Transaction] = []
        self._by_key: dict[Key, list[Transaction]] = {}
        """Every transaction of a key, one per hop it was seen on, oldest first."""

    def add(self, message: SipMessage) -> Transaction:
        if message.status:
            return self._response(message)
        if message.method == "ACK":
            return self._ack(message)
        return self._request(message, message.method)

    def _request(self, message: SipMessage, method: str) -> Transaction:
        key = request_key(message, method)
        found = self._on_hop(key, (message.src, message.dst))
        if found is not None and (found.request is None or found.request.cseq == message.cseq):
            self._add_copy(found.requests, found, message)
            return found
        transaction = self._new(key, method)
        transaction.requests.append(message)
        if method == "CANCEL":  # sent where its INVITE went (section 9.1)
            invite = self._sent_with(request_key(message, "INVITE"), message)
            if invite is not None:
                invite.cancel = transaction
        return transaction

    def _ack(self, message: SipMessage) -> Transaction:
        """The ACK of a non-2xx joins its INVITE; any other ACK is a transaction of its own."""
        invite = self._sent_with(request_key(message, "INVITE"), message)
        if invite is not None and invite.final_status >= 300 and _same_cseq(invite, message):
            self._add_copy(invite.acks, invite, message)
            return invite
        return self._request(message, "ACK")

    def _response(self, message: SipMessage) -> Transaction:
        key = response_key(message)
        found = self._on_hop(key, (message.dst, message.src))
        if found is None:
            # A response need not go back to the port its request came from (section 18.2.2:
            # the Via's sent-by port) nor come from the address the request went to (a
            # multihomed server): the hop whose hosts fit best, else the latest.
            def fit(transaction: Transaction) -> int:
                client, server = transaction.hop
                return (client.ip == message.dst.ip) + (server.ip == message.src.ip)

            sent = [t for t in self._by_key.get(key, ()) if t.request is not None]
            found = max(reversed(sent), key=fit, default=None)
        if found is None:  # the request was not captured
            found = self._new(key, message.cseq_method)
            if found.method == "INVITE":
                found.cancel = self._cancel_of(message)
        self._add_copy(found.responses, found, message)
        if found.final is None and message.status >= 200:
            found.final = message
        return found

    def _cancel_of(self, response: SipMessage) -> Transaction | None:
        """The CANCEL, already seen, of an INVITE whose request the capture missed: it has
        the INVITE's top Via and CSeq number and went where the INVITE did (section 9.1)."""
        key = request_key(response, "CANCEL")
        return self._on_hop(key, (response.dst, response.src)) or next(
            reversed(self._by_key.get(key, ())), None)

    def _on_hop(self, key: Key, hop: Hop) -> Transaction | None:
        """The latest transaction of ``key`` between these two addresses."""
        for transaction in reversed(self._by_key.get(key, ())):
            if transaction.hop == hop:
                return transaction
        return None

    def _sent_with(self, key: Key, request: SipMessage) -> Transaction | None:
        """The INVITE a CANCEL or ACK goes with: on its hop, else the latest of its key."""
        found = self._on_hop(key, (request.src, request.dst))
        candidates = self._by_key.get(key)
        return found or (candidates[-1] if candidates else None)

    def _new(self, key: Key, method: str) -> Transaction:
        transaction = Transaction(method)
        self._by_key.setdefault(key, []).append(transaction)
        self.transactions.append(transaction)
        return transaction

    @staticmethod
    def _add_copy(copies: list[SipMessage], transaction: Transaction, message: SipMessage) -> None:
        """Add a message, unless it is the capture seeing the previous one twice."""
        if copies:
            last = copies[-1]
            if message.raw == last.raw and 0 <= message.ts_ns - last.ts_ns < DUPLICATE_NS:
                transaction.duplicates += 1
                return
        copies.append(message)


def _same_cseq(transaction: Transaction, message: SipMessage) -> bool:
    request = transaction.request
    return request is None or request.cseq == message.cseq
