"""SIP message framing on a byte stream (TCP, TLS once decrypted): RFC 3261 section 18.3.

On a stream, a message ends where its Content-Length says: "In the case of stream-oriented
transports such as TCP, the Content-Length header field indicates the size of the body. All
implementations MUST be able to handle the body of a message sent over a stream-oriented
transport, and the Content-Length header MUST be used" (RFC 3261 section 18.3). A message
without one is taken to have no body and is reported.

The framer is sans-I/O: ``feed`` takes chunks of stream data with the frame each came from and
returns the complete messages, each with the frames its bytes came from, whatever way the
stream was split. Between messages it skips CRLF keep-alives (RFC 5626 section 4.4.1). Bytes
that are not a SIP message (the tail of a message already under way when the capture started,
or data after a hole) are skipped up to the next start line and reported, never dropped
silently. Buffers are bounded by ``MAX_HEADER`` and ``MAX_BODY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipdiag.network import Chunk

MAX_HEADER = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
_START = rb"(?:[!%'*+\-.0-9A-Za-z_`~]+ [^ \r\n]+ SIP/2\.0|SIP/2\.0 \d{3}[ \r])"
_START_HERE = re.compile(_START)
_START_NEXT = re.compile(rb"\n(" + _START + rb")")
_START_GLUED = re.compile(
    rb"(?:(?:ACK|BYE|CANCEL|INFO|INVITE|MESSAGE|NOTIFY|OPTIONS|PRACK|PUBLISH|REFER|REGISTER"
    rb"|SUBSCRIBE|UPDATE) [^ \r\n]+ SIP/2\.0|SIP/2\.0 \d{3}(?: [^\r\n]*)?)\r?\n"
)
"""A whole start line anywhere, not only at the start of a line: the next message may follow
a body that has no Content-Length and no final CRLF straight after its last byte."""
# A header line starts right after the line break: a line that starts with whitespace
# continues the header field before it (RFC 3261 7.3.1), whatever it looks like.
_CONTENT_LENGTH = re.compile(rb"\n(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.I)


@dataclass(frozen=True, slots=True)
class Framed:
    data: bytes
    frames: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Skipped:
    """Bytes that were not part of any message, and why."""

    size: int
    frame: int
    reason: str


class StreamFramer:
    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0
        """Where the unread data starts in ``_buf``."""
        self._base = 0
        """Stream offset of ``_buf[_pos]``."""
        self._chunk_ends: list[tuple[int, int]] = []
        """(stream offset where a chunk ends, its frame) for the chunks still buffered."""
        self._at_start = True
        self._no_length = False
        """The last message taken had no Content-Length."""
        self._over_limit: str | None = None
        """Why the message being skipped is not read: over ``MAX_HEADER`` or ``MAX_BODY``."""

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def feed(self, chunks: list[Chunk]) -> list[Framed | Skipped]:
        if self._pos:
            self._buf, self._pos = self._buf[self._pos :], 0
        for data, frame in chunks:
            self._buf += data
            self._chunk_ends.append((self._base + len(self._buf), frame))
        found: list[Framed | Skipped] = []
        while self._pos < len(self._buf):
            item = self._next()
            if item is None:
                break
            found.append(item)
        return found

    def gap(self, frame: int) -> Skipped | None:
        """Bytes are missing before what comes next: the message under way cannot be finished."""
        skipped = self._discard(
            self.buffered, frame, "the message was cut by a hole in the capture"
        )
        self._at_start, self._over_limit = True, None
        return skipped

    def end(self) -> Skipped | None:
        """The stream ended: whatever is buffered is an unfinished message."""
        return self._discard(
            self.buffered, self._first_frame(), "the stream ended inside a message"
        )

    def _next(self) -> Framed | Skipped | None:
        buf, pos = self._buf, self._pos
        while pos < len(buf) and buf[pos] in (10, 13):  # CRLF keep-alives
            pos += 1
        self._consume(pos - self._pos)
        if pos == len(buf):
            return None
        if not _START_HERE.match(buf, pos):
            return self._resync(pos)
        head_end = buf.find(b"\r\n\r\n", pos)
        body_start = head_end + 4
        # The header ends at the first empty line, of CRLFs or of bare LFs, and no later:
        # what follows is the body or the next message.
        bare = buf.find(b"\n\n", pos, head_end if head_end >= 0 else len(buf))
        if bare >= 0:
            head_end, body_start = bare, bare + 2
        if head_end < 0:
            if len(buf) - pos <= MAX_HEADER:
                return None
            self._over_limit = (f"a message whose header runs past {MAX_HEADER // 1024} kB "
                                f"(the most sipdiag reads of a header): skipped")
            return self._resync(pos + 1)
        match = _CONTENT_LENGTH.search(buf, pos, head_end)
        length = int(match[1]) if match else 0
        if length > MAX_BODY:
            self._over_limit = (f"a message whose Content-Length {length} is over "
                                f"{MAX_BODY // 2**20} MB (the most sipdiag reads of a body): "
                                f"skipped")
            return self._resync(pos + 1)
        if len(buf) < body_start + length:
            return None
        taken = self._take(body_start + length - pos)
        self._no_length = match is None
        return taken

    def _resync(self, start: int) -> Skipped | None:
        """Skip to the next line that starts a SIP message."""
        match = _START_NEXT.search(self._buf, start)
        end = match.start(1) if match is not None else len(self._buf)
        glued = _START_GLUED.search(self._buf, start, end)
        if glued is not None:
            end = glued.start()
        # With no start line in sight, keep a tail: a start line may be arriving in pieces.
        skip = end - self._pos if match or glued else self.buffered - 512
        return self._discard(skip, self._first_frame(), self._junk_reason())

    def _junk_reason(self) -> str:
        if self._over_limit:
            return self._over_limit
        if self._at_start:
            return "the stream was captured in the middle of a message"
        if self._no_length:
            return "the body of a message without Content-Length (RFC 3261 18.3)"
        return "bytes between messages that are not SIP"

    def _take(self, size: int) -> Framed:
        frames = self._frames_up_to(self._base + size)
        data = self._buf[self._pos : self._pos + size]
        self._consume(size)
        self._at_start = False
        self._over_limit = None
        return Framed(data, frames)

    def _discard(self, size: int, frame: int, reason: str) -> Skipped | None:
        if size <= 0:
            return None
        self._consume(size)
        return Skipped(size, frame, reason)

    def _consume(self, size: int) -> None:
        self._pos += size
        self._base += size
        ends = self._chunk_ends
        while ends and ends[0][0] <= self._base:
            ends.pop(0)

    def _frames_up_to(self, end: int) -> tuple[int, ...]:
        frames = []
        for chunk_end, frame in self._chunk_ends:
            frames.append(frame)
            if chunk_end >= end:
                break
        return tuple(sorted(set(frames)))

    def _first_frame(self) -> int:
        return self._chunk_ends[0][1] if self._chunk_ends else 0
