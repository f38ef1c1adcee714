"""SCTP user messages (RFC 9260 DATA chunks, RFC 8260 I-DATA chunks).

SIP over SCTP (RFC 4168) sends one SIP message per SCTP user message. A packet may bundle
several DATA chunks, each a message of its own; a large message is split over several chunks
(B flag on the first, E on the last) that are put back together in TSN order. A chunk whose TSN
was already seen on that association direction is a retransmission and is not delivered again.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from sipdiag.network import Flow

DATA = 0
I_DATA = 64
FLAG_END, FLAG_BEGIN = 0x01, 0x02
SEEN_TSNS = 4096
MAX_FRAGMENTS = 1024

_CHUNK = struct.Struct(">BBH")
_DATA = struct.Struct(">IHHI")


@dataclass(slots=True)
class _Direction:
    seen: set[int] = field(default_factory=set)
    order: deque[int] = field(default_factory=deque)
    fragments: dict[int, tuple[int, bytes, int]] = field(default_factory=dict)
    """Fragments waiting for the rest of their message: TSN -> (flags, data, frame)."""


class SctpReassembler:
    def __init__(self) -> None:
        self._flows: dict[Flow, _Direction] = {}

    def packet(
        self, flow: Flow, buf: bytes, off: int, end: int, frame: int
    ) -> Iterator[tuple[bytes, tuple[int, ...]]]:
        """The complete user messages of one SCTP packet (after its 12-byte common header)."""
        state = self._flows.setdefault(flow, _Direction())
        off += 12
        while off + 4 <= end:
            kind, flags, length = _CHUNK.unpack_from(buf, off)
            if length < 4:
                return
            if kind in (DATA, I_DATA) and length >= 16:
                header = 16 if kind == DATA else 20
                if off + header > end:  # the chunk's header is cut by the snapshot length
                    return
                tsn = _DATA.unpack_from(buf, off + 4)[0]
                data = buf[off + header : min(off + length, end)]
                message = self._chunk(state, tsn, flags, data, frame)
                if message is not None:
                    yield message
            off += (length + 3) & ~3

    def _chunk(
        self, state: _Direction, tsn: int, flags: int, data: bytes, frame: int
    ) -> tuple[bytes, tuple[int, ...]] | None:
        if tsn in state.seen:
            return None
        state.seen.add(tsn)
        state.order.append(tsn)
        if len(state.order) > SEEN_TSNS:
            state.seen.discard(state.order.popleft())
        if flags & FLAG_BEGIN and flags & FLAG_END:
            return data, (frame,)
        if len(state.fragments) >= MAX_FRAGMENTS:
            state.fragments.clear()
        state.fragments[tsn] = (flags, data, frame)
        return _assemble(state, tsn)


def _assemble(state: _Direction, tsn: int) -> tuple[bytes, tuple[int, ...]] | None:
    """The message around ``tsn`` if its first (B) to last (E) fragments are all here."""
    first = tsn
    while not state.fragments[first][0] & FLAG_BEGIN:
        first = (first - 1) & 0xFFFFFFFF
        if first not in state.fragments:
            return None
    last = tsn
    while not state.fragments[last][0] & FLAG_END:
        last = (last + 1) & 0xFFFFFFFF
        if last not in state.fragments:
            return None
    count = (last - first) & 0xFFFFFFFF
    pieces = [state.fragments.pop((first + i) & 0xFFFFFFFF) for i in range(count + 1)]
    return b"".join(p[1] for p in pieces), tuple(p[2] for p in pieces)
