"""TCP stream reassembly for a passive observer (RFC 9293 sequence arithmetic).

Each direction of a connection is followed on its own. Bytes are handed on in sequence order:
a retransmitted segment is recognised by its sequence number and not delivered twice (bytes
seen first win, RFC 9293 section 3.10.7.4), a segment that arrives early waits for the ones
before it, and when the missing segment arrives everything is delivered in the frame that
completed it, as Wireshark shows it. A capture that starts in the middle of a connection (no
SYN) starts its stream at the first segment seen.

A FIN is taken in sequence (RFC 9293 section 3.10.7.4, eighth step): one that arrives before a
segment it follows waits for it, so the stream ends only once every byte before the FIN is in.

Holes that are never filled (the capture missed a segment) are given up after
``GAP_TIMEOUT_NS`` of capture time (checked as segments arrive, and by ``expire``), when more
than ``MAX_PENDING_BYTES`` wait behind them, at FIN (once the FIN's turn has come), RST or at
the end of the capture: the sink is told how many bytes are missing (and reports it if the
stream mattered to it), and the waiting data is delivered in the frames that carried it.
``pending_min_frame`` is the lowest frame of any waiting segment, so the layer above knows
which of its output could still be overtaken by such late data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipdiag.network import Chunk, Flow, PayloadSink

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10
MAX_PENDING_BYTES = 1 << 20
GAP_TIMEOUT_NS = 10 * 1_000_000_000
EXPIRE_EVERY_NS = 1_000_000_000
IDLE_TIMEOUT_NS = 300 * 1_000_000_000
_MASK = 0xFFFFFFFF


def seq_diff(a: int, b: int) -> int:
    """a - b in 32-bit sequence space, as a signed number."""
    diff = (a - b) & _MASK
    return diff - (1 << 32) if diff & 0x80000000 else diff


@dataclass(slots=True)
class _Direction:
    next_seq: int | None
    last_ts: int
    pending: dict[int, tuple[bytes, int, int]] = field(default_factory=dict)
    """Early segments by sequence number: (data, frame, ts)."""
    pending_bytes: int = 0
    fin: tuple[int, int, int] | None = None
    """A FIN seen ahead of data still missing: (its sequence number, frame, ts)."""
    ignored: bool = False
    closed: bool = False
    isn: int | None = None
    """The sequence number of the SYN that opened this direction (or of the one before the
    first byte seen, when the capture started mid-connection)."""


class TcpReassembler:
    def __init__(self, sink: PayloadSink) -> None:
        self._sink = sink
        self._flows: dict[Flow, _Direction] = {}
        self._waiting: set[Flow] = set()
        self.pending_min_frame: int | None = None
        self._expired_at: int | None = None

    def advance(self, now: int) -> None:
        """Capture time has reached ``now``: every EXPIRE_EVERY_NS, ``expire``. Segments move
        the clock; the reader also moves it when other traffic goes by."""
        if self._expired_at is None or now - self._expired_at >= EXPIRE_EVERY_NS:
            if self._expired_at is not None:
                self.expire(now)
            self._expired_at = now

    def segment(
        self, frame: int, ts: int, flow: Flow, seq: int, flags: int, payload: bytes
    ) -> None:
        self.advance(ts)
        state = self._flows.get(flow)
        if state is not None and flags & SYN and _is_new_connection(state, seq):
            self._close(state, flow)
            state = None
        if state is None:
            state = self._flows[flow] = _Direction(None, ts)
        state.last_ts = ts
        if flags & SYN:
            if state.next_seq is None:  # a copy of the opening SYN changes nothing
                state.isn, state.next_seq = seq, (seq + 1) & _MASK
            seq = (seq + 1) & _MASK  # data on a SYN follows it (RFC 9293 section 3.4)
        if payload and not state.ignored and not state.closed:
            if state.next_seq is None:
                state.isn, state.next_seq = (seq - 1) & _MASK, seq
            self._data(state, flow, seq, payload, frame, ts)
        if flags & RST:
            self._close(state, flow)
            return
        if flags & FIN and not state.closed and state.fin is None:
            # The FIN's sequence number is the one after its data (RFC 9293 section 3.4).
            state.fin = ((seq + len(payload)) & _MASK, frame, ts)
        if state.fin is not None and not state.closed:
            next_seq = state.next_seq
            if state.ignored or next_seq is None or seq_diff(state.fin[0], next_seq) <= 0:
                self._close(state, flow)
            else:
                self._waiting.add(flow)  # bytes before the FIN are missing: wait for them

    def expire(self, now: int) -> None:
        """Give up holes older than GAP_TIMEOUT_NS and forget flows idle for IDLE_TIMEOUT_NS."""
        for flow in list(self._waiting):
            state = self._flows[flow]
            times = [ts for _, _, ts in state.pending.values()]
            if state.fin is not None:
                times.append(state.fin[2])
            if now - min(times) > GAP_TIMEOUT_NS:
                self._give_up_gap(state, flow)
        idle = [flow for flow, s in self._flows.items() if now - s.last_ts > IDLE_TIMEOUT_NS]
        for flow in idle:
            self._close(self._flows[flow], flow)
            del self._flows[flow]

    def flush(self) -> None:
        """End of capture: deliver what waits behind holes and end every stream."""
        for flow, state in list(self._flows.items()):
            self._close(state, flow)
        self._flows.clear()

    def _data(
        self, state: _Direction, flow: Flow, seq: int, payload: bytes, frame: int, ts: int
    ) -> None:
        assert state.next_seq is not None
        rel = seq_diff(seq, state.next_seq)
        if rel > 0:
            self._wait(state, flow, seq, payload, frame, ts)
            return
        if rel + len(payload) <= 0:
            return  # a retransmission of bytes already delivered
        if rel:
            payload = payload[-rel:]
        chunks: list[Chunk] = [(payload, frame)]
        state.next_seq = (state.next_seq + len(payload)) & _MASK
        if state.pending:
            self._take_pending(state, flow, chunks)
        self._deliver(state, flow, chunks, frame, ts)

    def _wait(
        self, state: _Direction, flow: Flow, seq: int, payload: bytes, frame: int, ts: int
    ) -> None:
        held = state.pending.get(seq)
        if held is not None:
            # A retransmission of a waiting segment: only what it carries beyond it is new.
            if len(payload) > len(held[0]):
                start = (seq + len(held[0])) & _MASK
                self._wait(state, flow, start, payload[len(held[0]) :], frame, ts)
            return
        state.pending[seq] = (payload, frame, ts)
        state.pending_bytes += len(payload)
        self._waiting.add(flow)
        self._update_watermark()
        if state.pending_bytes > MAX_PENDING_BYTES:
            self._give_up_gap(state, flow)

    def _take_pending(self, state: _Direction, flow: Flow, chunks: list[Chunk]) -> None:
        """Move the waiting segments that now follow on into ``chunks``."""
        assert state.next_seq is not None
        for seq in sorted(state.pending, key=lambda s: seq_diff(s, state.next_seq or 0)):
            rel = seq_diff(seq, state.next_seq)
            if rel > 0:
                break
            data, frame, _ = state.pending.pop(seq)
            state.pending_bytes -= len(data)
            if rel + len(data) > 0:
                chunks.append((data[-rel:] if rel else data, frame))
                state.next_seq = (state.next_seq + len(data) + rel) & _MASK
        if not state.pending and state.fin is None:
            self._waiting.discard(flow)
        self._update_watermark()

    def _give_up_gap(self, state: _Direction, flow: Flow) -> None:
        """Skip the holes between waiting segments; deliver each in the frame that carried it."""
        while state.pending and not state.ignored:
            assert state.next_seq is not None
            first = min(state.pending, key=lambda s: seq_diff(s, state.next_seq or 0))
            data, frame, ts = state.pending.pop(first)
            state.pending_bytes -= len(data)
            rel = seq_diff(first, state.next_seq)
            if rel > 0:
                self._sink.stream_gap(flow, rel, frame)
                state.next_seq, rel = first, 0
            if rel + len(data) > 0:
                data = data[-rel:] if rel else data
                state.next_seq = (state.next_seq + len(data)) & _MASK
                self._deliver(state, flow, [(data, frame)], frame, ts)
        if state.fin is not None and state.next_seq is not None and not state.ignored:
            missing = seq_diff(state.fin[0], state.next_seq)
            if missing > 0:  # bytes between the last data seen and the FIN
                self._sink.stream_gap(flow, missing, state.fin[1])
                state.next_seq = state.fin[0]
        self._waiting.discard(flow)
        self._update_watermark()
        if state.fin is not None:
            self._close(state, flow)  # everything before the FIN is now in or given up

    def _deliver(
        self, state: _Direction, flow: Flow, chunks: list[Chunk], frame: int, ts: int
    ) -> None:
        if not self._sink.stream(flow, chunks, frame, ts):
            state.ignored = True
            state.pending.clear()
            state.pending_bytes = 0
            self._waiting.discard(flow)
            self._update_watermark()

    def _close(self, state: _Direction, flow: Flow) -> None:
        if state.closed:
            return
        state.closed = True
        if state.pending or state.fin is not None:
            self._give_up_gap(state, flow)
        if not state.ignored:
            self._sink.stream_end(flow)

    def _update_watermark(self) -> None:
        frames = [f for flow in self._waiting for _, f, _ in self._flows[flow].pending.values()]
        self.pending_min_frame = min(frames) if frames else None


def _is_new_connection(state: _Direction, syn_seq: int) -> bool:
    """A SYN that is not a retransmission of the one that opened this direction."""
    return state.closed or (state.isn is not None and state.isn != syn_seq)
