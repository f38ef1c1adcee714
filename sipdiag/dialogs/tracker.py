"""The call tracker: messages in, finished calls and exchanges out, with bounded memory.

Messages are grouped by Call-ID into ``Conversation``s. A conversation is over when nothing
more is expected of it (no dialog up, no request waiting for its answer) and ``LINGER_NS`` of
capture time has passed since its last message: it is then read (``read_conversation``) and
handed on, and its memory freed. So memory follows the calls in progress, not the length of the
capture. A message for a Call-ID that was already handed on starts a new conversation (a
registration refreshed an hour later with the same Call-ID is a new exchange), and so does a new
INVITE after a call was hung up (``Conversation.begins_anew``: a replayed call template).

The ICMP destination unreachable errors of the capture that quote a UDP datagram
(``unreachable``) are kept until the conversation that sent that datagram is read: each is
given to the transaction whose request, of the conversation's messages on that flow, was the
last sent before it, within ``REFUSAL_NS``.

The tracker is sans-I/O: ``add`` takes messages in frame order, ``finish`` ends the capture.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from sipdiag.dialogs.calls import Call, Conversation, Exchange, read_conversation
from sipdiag.dialogs.transactions import Hop, Transaction
from sipdiag.media.model import CapturedMedia, Unreachable
from sipdiag.network import Endpoint
from sipdiag.sip.message import SipMessage

Finished = Call | Exchange
REFUSAL_NS = 1_000_000_000
"""An ICMP error comes back within a round trip of the datagram it quotes: a second at most."""


class MediaSource(Protocol):
    def claim(self, call_id: str) -> CapturedMedia:
        """What the capture holds of the media of a call that is over."""
        ...


class CallTracker:
    def __init__(self, media: MediaSource | None = None) -> None:
        self._media = media
        """Where a finished call's media is claimed from (None: media is not analysed)."""
        self._open: dict[str, Conversation] = {}
        self._due: list[tuple[int, int, str]] = []
        """(finish time, tie-breaker, Call-ID): when to look at a conversation again."""
        self._scheduled: dict[str, int] = {}
        self._order = 0
        self._now = 0
        self._refusals: dict[Hop, deque[Unreachable]] = {}
        """ICMP errors by the (source, destination) of the datagram they quote."""
        self._refusal_order: deque[Unreachable] = deque()
        """The same, in the order they came: the oldest are forgotten first."""

    @property
    def open_count(self) -> int:
        return len(self._open)

    def add(
        self, messages: Iterable[SipMessage], owns: Callable[[str], bool] | None = None
    ) -> Iterator[Finished]:
        """Add messages (in frame order); yield the conversations they show to be over.

        With ``owns``, only the messages of the Call-IDs it owns are kept; the others still
        move the clock, so conversations are over at the very moment they would be if every
        message were kept (how several processes share a capture, ``pipeline``)."""
        for message in messages:
            if message.ts_ns > self._now:
                self._now = message.ts_ns
                if self._due and self._due[0][0] <= self._now:
                    yield from self._finish_due()
            if not message.call_id:
                continue  # in no conversation: reported with its frame (sip_missing_header)
            if owns is not None and not owns(message.call_id):
                continue
            conversation = self._open.get(message.call_id)
            if conversation is not None and conversation.begins_anew(message):
                del self._open[message.call_id]
                self._scheduled.pop(message.call_id, None)
                yield self._read(conversation, self._now)
                conversation = None
            if conversation is None:
                conversation = self._open[message.call_id] = Conversation(message.call_id)
            conversation.add(message)
            self._schedule(conversation)

    def tick(self, now_ns: int) -> Iterator[Finished]:
        """The capture's clock has reached ``now_ns`` with no message (a live capture between
        packets): yield the conversations over by then, as a message at that time would."""
        if now_ns > self._now:
            self._now = now_ns
            yield from self._finish_due()

    def unreachable(self, frame: int, ts_ns: int, reporter: str, src: Endpoint, dst: Endpoint,
                    reason: str) -> None:
        """An ICMP destination unreachable that quotes a UDP datagram from ``src`` to ``dst``."""
        self._forget_refusals()
        refusal = Unreachable(frame, ts_ns, reporter, src, dst, reason)
        self._refusals.setdefault((src, dst), deque()).append(refusal)
        self._refusal_order.append(refusal)

    def _forget_refusals(self) -> None:
        """Drop the errors that can quote no message of a conversation still open: those older
        than its first message (conversations are kept in the order they began)."""
        oldest = next(iter(self._open.values()), None)
        start = min(self._now, oldest.messages[0].ts_ns) if oldest else self._now
        order = self._refusal_order
        while order and order[0].ts_ns < start - REFUSAL_NS:
            refusal = order.popleft()
            flow = (refusal.src, refusal.dst)
            kept = self._refusals[flow]
            kept.popleft()
            if not kept:
                del self._refusals[flow]

    def finish(self, capture_end_ns: int) -> Iterator[Finished]:
        """The end of the capture (at the time of its last frame): read every conversation
        still open, oldest first."""
        end = max(capture_end_ns, self._now)
        for conversation in sorted(self._open.values(), key=lambda c: c.messages[0].frame):
            yield self._read(conversation, end)
        self._open.clear()
        self._due.clear()
        self._scheduled.clear()

    def _schedule(self, conversation: Conversation) -> None:
        finish_at = conversation.finish_at()
        if finish_at is None:  # a dialog is up: no end in sight (entries in _due go stale)
            self._scheduled.pop(conversation.call_id, None)
            return
        if self._scheduled.get(conversation.call_id) == finish_at:
            return
        self._scheduled[conversation.call_id] = finish_at
        self._order += 1
        heapq.heappush(self._due, (finish_at, self._order, conversation.call_id))

    def _finish_due(self) -> Iterator[Finished]:
        while self._due and self._due[0][0] <= self._now:
            finish_at, _, call_id = heapq.heappop(self._due)
            if self._scheduled.get(call_id) != finish_at:
                continue  # rescheduled or up since: a later entry, or none, stands for it
            del self._scheduled[call_id]
            yield self._read(self._open.pop(call_id), self._now)

    def _read(self, conversation: Conversation, now: int) -> Finished:
        if self._refusals:
            self._give_refusals(conversation)
        media = None
        if self._media is not None and conversation.is_call:
            media = self._media.claim(conversation.call_id)
        return read_conversation(conversation, now, media)

    def _give_refusals(self, conversation: Conversation) -> None:
        """Each ICMP error quoting a datagram of the conversation to the transaction of that
        datagram, if it was a request: the last datagram sent on that flow before the error,
        within ``REFUSAL_NS``."""
        sent: dict[Hop, list[tuple[int, Transaction | None]]] = {}
        for transaction in conversation.transactions:
            for message in (*transaction.requests, *transaction.responses, *transaction.acks):
                flow = (message.src, message.dst)
                if message.transport == "UDP" and flow in self._refusals:
                    request = message.method == transaction.method  # not a response, nor an ACK
                    sent.setdefault(flow, []).append((message.ts_ns,
                                                      transaction if request else None))
        for flow, datagrams in sent.items():
            datagrams.sort(key=lambda datagram: datagram[0])
            times = [ts for ts, _ in datagrams]
            for refusal in self._refusals[flow]:
                at = bisect_right(times, refusal.ts_ns) - 1
                refused = datagrams[at][1] if at >= 0 else None
                if refused is not None and refusal.ts_ns - times[at] <= REFUSAL_NS:
                    refused.refusals.append(refusal)
