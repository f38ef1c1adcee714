"""``ForkedSource``: a source read by a process of its own, nothing lost on the way. Every
packet the child read reaches this process, in order, also those still queued when the capture
stops; the child's drop counter and problems come back with its last word."""

from __future__ import annotations

import time
from collections.abc import Iterator

from sipdiag.capture.live import ForkedSource, LiveReader, Packet
from sipdiag.problems import ProblemLog


class Counting:
    """A source that has ``total`` one-byte packets to give, ``batch`` at a time, quickly."""

    name = "counting"

    def __init__(self, total: int, batch: int) -> None:
        self.problems = ProblemLog()
        self._next, self._total, self._batch = 0, total, batch

    def receive(self, timeout: float) -> list[Packet]:
        if self._next >= self._total:
            time.sleep(timeout)
            return []
        first, self._next = self._next, min(self._total, self._next + self._batch)
        if self._next == self._total:
            self.problems.add("source_note", 0, "all given")
        return [(101, index, index.to_bytes(4, "big")) for index in range(first, self._next)]

    def drops(self) -> int:
        return 7

    def drain(self) -> Iterator[list[Packet]]:
        return iter(())

    def close(self) -> None:
        pass


def test_every_packet_read_by_the_child_arrives_in_order() -> None:
    forked = ForkedSource(Counting(total=50_000, batch=1000))
    received: list[Packet] = []
    while len(received) < 5_000:
        received += forked.receive(1.0)
    time.sleep(0.5)  # the child reads on: what it queued meanwhile must come with the drain
    for batch in forked.drain():
        received += batch
    forked.close()
    assert [ts for _, ts, _ in received] == list(range(50_000))
    assert forked.drops() == 7
    assert forked.problems.counts == {"source_note": 1}


def test_a_live_reader_stopped_early_still_pushes_what_was_queued() -> None:
    class Frames:
        def __init__(self) -> None:
            self.numbers: list[int] = []

        def link_handler(self, linktype: int):  # type: ignore[no-untyped-def]
            return lambda *frame: self.numbers.append(frame[1])  # (number, ts, ...)

    reader = LiveReader(ForkedSource(Counting(total=20_000, batch=500)))
    sink, problems = Frames(), ProblemLog()
    frames = reader.frames(sink, problems)  # type: ignore[arg-type]
    next(frames)
    time.sleep(0.5)  # the child has read all 20,000 meanwhile; most are still queued
    reader.stop()
    for _ in frames:
        pass
    reader.close()
    assert sink.numbers == list(range(20_000))
    assert problems.counts == {"source_note": 1, "capture_dropped": 1}


def test_past_the_backlog_packets_are_left_out_and_counted() -> None:
    """An analysis that does not keep up, for long: memory stays bounded; what is left out is
    said, and what is kept comes in order."""
    forked = ForkedSource(Counting(total=50_000, batch=1000), backlog=60_000)
    time.sleep(1.0)  # nothing taken meanwhile: the child reads all, keeps what fits
    received = [ts for batch in forked.drain() for _, ts, _ in batch]
    forked.close()
    assert 0 < len(received) < 50_000
    assert received == sorted(set(received))
    [problem] = forked.problems.examples["capture_behind"]
    assert problem.detail.startswith(f"{50_000 - len(received)} packets left out")
