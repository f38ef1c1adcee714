"""IP fragment reassembly (IPv4 RFC 791, IPv6 RFC 8200 section 4.5), bounded.

A large SIP INVITE over UDP is often split into IP fragments; the SIP message exists only once
all of them are put together. Fragments are kept per datagram key (addresses, protocol and
identification) until the pieces cover the whole datagram: then the datagram is handed on as if
it had arrived in the frame of the last fragment, which is how Wireshark shows it, with the
frames of every fragment. Overlapping fragments keep the bytes that arrived first. A datagram
whose fragments do not all arrive within ``TIMEOUT_NS`` of capture time, or that is pushed out
when more than ``MAX_PENDING`` datagrams are open, is reported with its frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipdiag.problems import ProblemLog

TIMEOUT_NS = 30 * 1_000_000_000
MAX_PENDING = 4096
MAX_DATAGRAM = 65535 + 8


@dataclass(slots=True)
class _Partial:
    first_ts: int
    pieces: dict[int, bytes] = field(default_factory=dict)
    frames: list[int] = field(default_factory=list)
    total: int | None = None
    """Length of the whole payload, known once the last fragment is seen."""


class FragmentReassembler:
    def __init__(self, problems: ProblemLog) -> None:
        self._problems = problems
        self._open: dict[tuple[object, ...], _Partial] = {}

    def add(
        self, key: tuple[object, ...], offset: int, more: bool, data: bytes, frame: int, ts: int
    ) -> tuple[bytes, tuple[int, ...]] | None:
        """Add one fragment; return the whole payload and its frames once it is complete."""
        if offset + len(data) > MAX_DATAGRAM:
            self._problems.add(
                "ip_bad_fragment", frame, f"fragment ends at byte {offset + len(data)}"
            )
            return None
        partial = self._open.get(key)
        if partial is None:
            self._expire(ts)
            partial = self._open[key] = _Partial(ts)
        partial.pieces.setdefault(offset, data)
        partial.frames.append(frame)
        if not more:
            partial.total = offset + len(data)
        whole = _assemble(partial)
        if whole is None:
            return None
        del self._open[key]
        return whole, tuple(partial.frames)

    def flush(self) -> None:
        """End of capture: report every datagram still missing fragments."""
        for partial in self._open.values():
            self._report(partial, "the capture ends before its other fragments")
        self._open.clear()

    def _expire(self, now: int) -> None:
        stale = [key for key, p in self._open.items() if now - p.first_ts > TIMEOUT_NS]
        if len(self._open) - len(stale) >= MAX_PENDING:
            stale.append(next(iter(self._open)))
        for key in stale:
            self._report(self._open.pop(key), "its other fragments never arrived")

    def _report(self, partial: _Partial, why: str) -> None:
        have = sum(len(piece) for piece in partial.pieces.values())
        frames = ", ".join(map(str, partial.frames[:10]))
        self._problems.add(
            "ip_fragments_incomplete",
            partial.frames[0],
            f"fragmented datagram in frames {frames} is incomplete ({have} bytes seen): {why}",
        )


def _assemble(partial: _Partial) -> bytes | None:
    """The whole payload if the pieces cover 0..total without a hole, else None."""
    if partial.total is None:
        return None
    parts, covered = [], 0
    for offset in sorted(partial.pieces):
        piece = partial.pieces[offset]
        if offset > covered:
            return None
        if offset + len(piece) > covered:
            parts.append(piece[covered - offset :])
            covered = offset + len(piece)
    if covered < partial.total:
        return None
    return b"".join(parts)[: partial.total]
