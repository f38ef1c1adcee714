"""One direction of a TCP connection, redacted message by message, with its sequence numbers.

Theory of operation. The direction's data is put in order (by sequence number; segments that
come early wait in ``_early``) and fed to sipdiag's ``StreamFramer``, which cuts it into SIP
messages at their Content-Length (RFC 3261 18.3) whatever the segments were. Each message is
redacted whole, so an identifier split between two segments is still found. The stream then
reads as a list of ``Piece``s, each a range of the original stream and what replaces it: a
redacted message, CRLF keep-alives as they were, nothing for bytes that are not SIP (they are
left out), or, for data that was never captured (a hole), a range of the same size.

``new_offset`` maps an original stream offset to the redacted stream's: exact at the pieces'
ends, in proportion inside a piece. A segment that carried original bytes [s, e) carries the
redacted bytes [new_offset(s), new_offset(e)), so the messages are cut at about the places
they were, and its sequence number, and every acknowledgment of the other direction, are
mapped by the same function; a retransmission maps to the same bytes again. A segment is
written only once every byte it carried is decided (``decided``): the redactor holds it (and
every frame after it) until then.

A hole that ``MAX_EARLY`` segments have waited behind, or that is still open when the capture
ends, is given up: what was buffered before it is dropped as cut.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from sipdiag.evidence.redact.pseudonyms import Pseudonyms
from sipdiag.evidence.redact.refusal import Unredactable
from sipdiag.evidence.redact.sip import redact_message
from sipdiag.sip.framing import Framed, Skipped, StreamFramer

MAX_EARLY = 64
"""Segments held after a hole in the sequence before the hole is taken as data not captured."""
HALF = 1 << 31
MODULO = 1 << 32


@dataclass(slots=True)
class Piece:
    start: int
    """Original stream offset where it begins."""
    size: int
    new_start: int
    new: bytes | None
    """What replaces it; None for a hole (as long as the original range, never written)."""

    @property
    def new_size(self) -> int:
        return self.size if self.new is None else len(self.new)


class Direction:
    def __init__(self, names: Pseudonyms, isn: int,
                 redacted: Callable[[bytes], None]) -> None:
        self._names = names
        self._redacted = redacted
        """Told each redacted message (for the media addresses its SDP announces)."""
        self.isn = isn
        """The sequence number of stream offset 0 (the SYN's plus one, or the first seen)."""
        self._framer = StreamFramer()
        self._raw = b""
        """The bytes fed to the framer and not yet decided (from ``decided`` on)."""
        self._fed = 0
        """Stream offset up to which data arrived in order and was fed."""
        self._early: dict[int, bytes] = {}
        self.highest = 0
        """The end of the furthest data seen."""
        self.decided = 0
        self._pieces: list[Piece] = []
        self._starts: list[int] = []
        self.refused: list[str] = []
        """Why messages were left out (one reason each), for the summary."""

    def offset(self, seq: int) -> int:
        """The stream offset of a sequence number (negative before the stream: the SYN)."""
        delta = (seq - self.isn) % MODULO
        return delta - MODULO if delta >= HALF else delta

    def seq(self, offset: int) -> int:
        return (self.isn + offset) % MODULO

    def data(self, offset: int, payload: bytes) -> None:
        """A segment's data at ``offset``."""
        if not payload:
            return
        self.highest = max(self.highest, offset + len(payload))
        end = offset + len(payload)
        if end <= self._fed:
            return  # a retransmission: mapped, not fed again
        if offset > self._fed:
            self._early.setdefault(offset, payload)
            if len(self._early) > MAX_EARLY:
                self._skip_hole()
            return
        self._feed(payload[self._fed - offset:])
        self._feed_early()

    def _feed_early(self) -> None:
        while self._early:
            offset = min(self._early)
            if offset > self._fed:
                return
            payload = self._early.pop(offset)
            if offset + len(payload) > self._fed:
                self._feed(payload[self._fed - offset:])

    def _feed(self, payload: bytes) -> None:
        self._fed += len(payload)
        self._raw += payload
        self._take(self._framer.feed([(payload, 0)]))

    def _take(self, items: list[Framed | Skipped]) -> None:
        """Turn what the framer decided into pieces, in stream order."""
        for item in items:
            self._keep_line_breaks()
            size = len(item.data) if isinstance(item, Framed) else item.size
            original = self._raw[:size]
            new = b""
            if isinstance(item, Framed):
                try:
                    new = redact_message(original, self._names)
                    self._redacted(new)
                except Unredactable as exc:
                    self.refused.append(str(exc))
            else:
                self.refused.append(f"TCP data that is not a whole SIP message ({item.reason})")
            self._add(size, new)
        after = len(self._raw) - self._framer.buffered
        if after > 0:  # keep-alives after the last message
            self._add(after, self._raw[:after])

    def _keep_line_breaks(self) -> None:
        """CRLFs before a message, which the framer skips (RFC 5626 4.4.1): kept as they are."""
        count = len(self._raw) - len(self._raw.lstrip(b"\r\n"))
        if count:
            self._add(count, self._raw[:count])

    def _add(self, size: int, new: bytes | None) -> None:
        new_start = self._pieces[-1].new_start + self._pieces[-1].new_size if self._pieces else 0
        self._pieces.append(Piece(self.decided, size, new_start, new))
        self._starts.append(self.decided)
        self.decided += size
        if new is not None:
            self._raw = self._raw[size:]

    def _skip_hole(self) -> None:
        """Give the first hole up: what waits before it is cut, the hole kept as a gap."""
        cut = self._framer.gap(0)
        self._take([cut] if cut else [])
        start = min(self._early)
        self._add(start - self._fed, None)
        self._fed = start
        self._feed_early()

    def finish(self) -> None:
        """The capture ended: holes given up, an unfinished message dropped."""
        while self._early:
            self._skip_hole()
        unfinished = self._framer.end()
        self._take([unfinished] if unfinished else [])

    def maps(self, offset: int) -> bool:
        """Whether ``new_offset(offset)`` is known: the data up to it is decided, or no data
        after the decided part was ever seen (an acknowledgment of data not captured)."""
        return offset <= self.decided or self.highest <= self.decided

    def new_offset(self, offset: int) -> int:
        if offset <= 0 or not self._pieces:
            return offset
        if offset >= self.decided:
            last = self._pieces[-1]
            return offset - self.decided + last.new_start + last.new_size
        piece = self._pieces[bisect.bisect_right(self._starts, offset) - 1]
        if piece.size == 0:
            return piece.new_start
        return piece.new_start + round(piece.new_size * (offset - piece.start) / piece.size)

    def new_bytes(self, start: int, end: int) -> bytes:
        """The redacted bytes that replace the original range [start, end)."""
        new_start, new_end = self.new_offset(start), self.new_offset(end)
        if new_end <= new_start:
            return b""
        first = bisect.bisect_right(self._starts, start) - 1
        out = []
        for piece in self._pieces[max(first, 0):]:
            if piece.new_start >= new_end:
                break
            if piece.new is None:
                raise Unredactable("TCP data in a range taken for a hole")
            lo = max(new_start - piece.new_start, 0)
            hi = min(new_end - piece.new_start, piece.new_size)
            out.append(piece.new[lo:hi])
        return b"".join(out)
