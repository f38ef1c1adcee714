"""The analysis split by file: each file read once, by one task, and each message sent to the
task that analyses its Call-ID, with the same result as one process reading everything.

1. ``plan_groups``: the files are put in groups that can be read apart. The merge of several
   captures (``capture.merge``) orders frames by time, so files whose times do not overlap
   (rotated captures) follow one another whole, and each is a group of its own; files whose
   times overlap (captures of one moment on several hosts) are read together, as one merge.
   Each group's frames are numbered from where the merge of all would number them. A lone
   plain file large enough is cut instead into regions of whole records (``capture.regions``),
   read in the blocks the whole file is read in (``ByteSource.seek_region``).
2. ``read_group``: a task reads one group. It decodes every frame that stands alone (UDP, the
   bulk of SIP) and sets aside, whole, those that need other frames (TCP segments, IP fragments,
   SCTP), as a region of a file is read (``analysis.regions``). Its SIP messages are sorted into
   one ``Piece`` per share of the Call-IDs (``pipeline.Share``); the times that moved the clock
   go to every share (``Clock``); what the media layer is shown (every message, every other UDP
   payload, every ICMP error) is recorded in the order it happened (``Event``).
3. ``read_set_aside``: one task decodes every set-aside frame of every group, in the order of
   the whole capture and in its blocks (``ReplayReader`` with the capture's block ends), so a
   TCP stream that runs from one file into the next is one stream, and data timing out at the
   end of a block does so as in one process. It records which block hands each of its messages
   on, and for each block the frame from which messages were held back behind missing TCP data.
4. ``replay_share``: a share's task replays, block by block, what one process would have done:
   the media events of the block (only when the capture has media: without a single UDP
   payload other than SIP, no call has media to claim), then the block's messages not held
   back, in frame order: its own Call-IDs' messages to the call tracker, the other shares'
   times to its clock. Its ``Part`` is the part ``pipeline.analyze_share`` gives for the share.

A share's task gets its own messages and the clock, not every message of the capture, unless
the capture has media: then every share is shown every message and packet (the media layer binds
every call's SDP, ``media.tracker``), decoded once and not read again.
"""

from __future__ import annotations

import heapq
import pickle
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import chain
from operator import itemgetter
from typing import Any

from sipdiag.analysis.pipeline import Job, Part, Share, ShareAnalysis
from sipdiag.analysis.reading import CaptureSummary, MessageReader, joined_summary
from sipdiag.capture import HEAD_SIZE, Reader, Region, open_capture, open_merged
from sipdiag.capture.replay import BATCH, End, Frame, ReplayReader
from sipdiag.capture.source import BLOCK_SIZE
from sipdiag.network import Endpoint
from sipdiag.network.tls import Decryption
from sipdiag.problems import ProblemLog
from sipdiag.sip.message import SipMessage
from sipdiag.sip.reader import CLOCK_JUMP, CLOCK_JUMP_NS, report_clock_jump

MOMENTS = 4
"""Moments per frame (``ReplayReader.moment``): during frame N is ``4 N``."""


class Happening(IntEnum):
    OBSERVED = 0
    """A SIP message, shown to the media layer as soon as it is read."""
    DATAGRAM = 1
    """A UDP payload that is not SIP."""
    UNREACHABLE = 2
    """An ICMP error that quotes a UDP datagram."""


Event = tuple[int, Happening, Any]
"""(moment, what happened, its arguments) for the media layer. A message observed is named by
where it is, (share, index) in the task's pieces (or is the message itself, one of no Call-ID):
every message is kept once."""


@dataclass(frozen=True, slots=True)
class Survey:
    """What a file holds, found by reading it through without decoding (a task)."""

    name: str
    """As given (a path or an fsspec URL)."""
    source: str
    """As its reader names it."""
    format: str
    compression: str | None
    frames: int
    earliest_ns: int | None
    latest_ns: int | None
    size: int = 0
    """Bytes read (decompressed)."""


@dataclass(frozen=True, slots=True)
class Group:
    """Files read together, by one task, their frames numbered from ``first_frame``; or a
    ``region`` of a lone file (numbered by it)."""

    names: tuple[str, ...]
    first_frame: int
    region: Region | None = None


@dataclass(slots=True)
class Piece:
    """A task's messages of one share's Call-IDs, in the order they were handed on, and with
    each (set-aside frames only) the block that handed it on."""

    messages: list[SipMessage] = field(default_factory=list)
    blocks: array[int] = field(default_factory=lambda: array("q"))


@dataclass(slots=True)
class Clock:
    """The times of a task's messages, of every share, that moved its clock forward: every
    share's clock moves with them (``CallTracker.tick``) so its calls end when one process's
    would. A message that did not move the task's clock moves no share's."""

    frames: array[int] = field(default_factory=lambda: array("q"))
    times: array[int] = field(default_factory=lambda: array("q"))
    blocks: array[int] = field(default_factory=lambda: array("q"))


@dataclass(slots=True)
class Read:
    """What a task found, apart from the messages (small: it comes back to the client)."""

    summary: CaptureSummary
    ends: list[End]
    """Where each block read ended: (last frame, its time)."""
    positions: list[int]
    """And at which byte of the file (``MessageReader.position``)."""
    held: list[int | None]
    """For each block: from which frame messages were held back, if any (``held_from``)."""
    earliest_ns: int | None = None
    latest_ns: int | None = None
    """The times of the earliest and the latest SIP message read."""
    media: bool = False
    """Whether any UDP payload other than SIP, or any ICMP error, was read."""
    set_aside: int = 0


class Slot(IntEnum):
    """Where each thing is in what a reading task returns."""

    READ = 0
    CLOCK = 1
    EVENTS = 2
    """The media events, packed."""
    SET_ASIDE = 3
    PIECES = 4
    """The first share's piece, packed; the others follow."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What every share's task needs to replay the capture's reading."""

    summary: CaptureSummary
    ends: tuple[tuple[int, int | None], ...]
    """(last frame, from which frame messages were held back) of each block of the capture."""
    media: bool


class _Recorder:
    """The media layer's place while reading: what it would be shown, recorded with when.
    Not knowing the calls' SDP, it takes no UDP payload as media: a tunnel is looked for in
    each (a VXLAN, GTP-U or HEP port, or HEP's magic), as one process does for a payload its
    media layer passes over."""

    def __init__(self, moment: Callable[[int], int]) -> None:
        self.events: list[Event] = []
        self.media = False
        self._moment = moment

    def observe(self, message: SipMessage) -> None:
        self.events.append((self._moment(message.frame), Happening.OBSERVED, message))

    def datagram(self, frame: int, ts_ns: int, src: Endpoint, dst: Endpoint,
                 payload: bytes) -> bool:
        self.media = True
        self.events.append((self._moment(frame), Happening.DATAGRAM,
                            (frame, ts_ns, src, dst, payload)))
        return False

    def unreachable(self, frame: int, ts_ns: int, reporter: str, src: Endpoint, dst: Endpoint,
                    reason: str) -> None:
        self.media = True
        self.events.append((self._moment(frame), Happening.UNREACHABLE,
                            (frame, ts_ns, reporter, src, dst, reason)))


def survey(name: str) -> Survey:
    """Read the file through (a task); raises ``CaptureError`` if it is not a capture."""
    reader = open_capture(name)
    times = _Times()
    try:
        for _ in reader.frames(times, ProblemLog()):
            pass
        return Survey(name, reader.source.name, reader.format, reader.source.compression,
                      reader.frame_count, times.earliest, times.latest, reader.source.consumed)
    finally:
        reader.close()


class _Times:
    """A frame sink that keeps only the earliest and the latest time."""

    def __init__(self) -> None:
        self.earliest: int | None = None
        self.latest: int | None = None

    def link_handler(self, linktype: int) -> Callable[[int, int, bytes, int, int, int], None]:
        return self._frame

    def _frame(self, number: int, ts: int, buf: bytes, start: int, end: int,
               orig_len: int) -> None:
        if self.earliest is None or ts < self.earliest:
            self.earliest = ts
        if self.latest is None or ts > self.latest:
            self.latest = ts


def plan_groups(surveys: Sequence[Survey]) -> list[Group]:
    """The files in groups that follow one another in time, each numbered where the merge of
    all numbers it. Two files whose times overlap or touch are in one group (which of their
    frames comes first takes the merge of both); a file with no frames joins the first."""
    timed = sorted((s for s in surveys if s.frames), key=lambda s: s.earliest_ns or 0)
    spans: list[list[Survey]] = []
    latest = 0
    for item in timed:
        assert item.earliest_ns is not None and item.latest_ns is not None
        if spans and item.earliest_ns <= latest:
            spans[-1].append(item)
            latest = max(latest, item.latest_ns)
        else:
            spans.append([item])
            latest = item.latest_ns
    empty = [s for s in surveys if not s.frames]
    if not spans:
        return [Group(tuple(s.name for s in empty), 1)] if empty else []
    spans[0].extend(empty)
    order = {s.name: index for index, s in enumerate(surveys)}
    groups, first = [], 1
    for span in spans:  # within a group, files in the order given: the merge breaks ties so
        names = sorted((s.name for s in span), key=order.__getitem__)
        groups.append(Group(tuple(names), first))
        first += sum(s.frames for s in span)
    return groups


def read_group(group: Group, merged: bool, shares: int) -> tuple[Any, ...]:
    """Read one group of files (a task): ``merged`` when the capture is several files (each
    then read as the merge of all reads it, with its name on its own problems)."""
    recorder = _Recorder(lambda frame: frame * MOMENTS)
    reader = MessageReader(_open(group, merged), media=recorder, sets_aside=True)
    return _read(reader, recorder, shares)


def read_set_aside(set_aside: Sequence[Sequence[Frame]], ends: Sequence[End], shares: int,
                   decryption: Decryption | None) -> tuple[Any, ...]:
    """Decode every frame the groups set aside, in the blocks of the whole capture (a task)."""
    frames = sorted(chain.from_iterable(set_aside))
    replay = ReplayReader(frames, "set aside", ends)
    recorder = _Recorder(lambda _frame: replay.moment)
    reader = MessageReader(replay, media=recorder, decryption=decryption)
    return _read(reader, recorder, shares)


def _open(group: Group, merged: bool) -> Reader:
    if not merged:
        return open_capture(group.names[0], region=group.region)
    return open_merged(group.names, first_frame=group.first_frame)


def _read(reader: MessageReader, recorder: _Recorder, shares: int) -> tuple[Any, ...]:
    pieces = [Piece() for _ in range(shares)]
    clock = Clock()
    ends: list[End] = []
    positions: list[int] = []
    held: list[int | None] = []
    where: dict[int, tuple[int, int]] = {}
    """Where each message went: (share, index in its piece), by the message's ``id``."""
    earliest: int | None = None
    latest: int | None = None
    for block, batch in enumerate(reader.batches()):
        ends.append((reader.summary.frames, reader.summary.last_ts_ns))
        positions.append(reader.position)
        held.append(reader.held_from)
        for message in batch:
            if message.call_id:
                share = Share.index_of(message.call_id, shares)
                piece = pieces[share]
                where[id(message)] = (share, len(piece.messages))
                piece.messages.append(message)
                piece.blocks.append(block)
            if earliest is None or message.ts_ns < earliest:
                earliest = message.ts_ns
            if latest is None or message.ts_ns > latest:
                latest = message.ts_ns
                clock.frames.append(message.frame)
                clock.times.append(message.ts_ns)
                clock.blocks.append(block)
    for after_last_block in (ends, positions, held):  # the last batch: the end of the capture
        after_last_block.pop()
    events = [(moment, happening, where.get(id(args), args) if happening is Happening.OBSERVED
               else args) for moment, happening, args in recorder.events]
    read = Read(reader.summary, ends, positions, held, earliest, latest, recorder.media,
                len(reader.deferred))
    return (read, clock, _packed(events), reader.deferred, *map(_packed, pieces))


def _packed(value: object) -> bytes:
    """A task's messages as they wait for the shares: bytes take a third of the memory the
    objects take, and travel as they are."""
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def capture_ends(reads: Sequence[Read], merged: bool) -> list[End]:
    """The blocks of the capture read as one: those of a lone file read whole; of a merge, one
    every ``BATCH`` frames and one at the end (``MergedReader``); of a file read in regions,
    those that end where the whole file's would (its reads of ``BLOCK_SIZE`` bytes after the
    first ``HEAD_SIZE``: ``ByteSource.seek_region``) and the last."""
    timed = [(end, position) for read in reads
             for end, position in zip(read.ends, read.positions, strict=True)
             if end[1] is not None]
    if len(reads) == 1 and not merged:
        return [end for end, _ in timed]
    if merged:
        kept = [end for end, _ in timed if end[0] % BATCH == 0]
    else:
        kept = [end for end, position in timed
                if position >= HEAD_SIZE and (position - HEAD_SIZE) % BLOCK_SIZE == 0]
    return sorted({*kept, *[end for end, _ in timed[-1:]]})


def far_apart(reads: Sequence[Read]) -> bool:
    """Whether the capture's SIP messages span more than ``CLOCK_JUMP_NS``: only then can one
    be a jump from the one read before it, and the tasks' ``read_order`` is wanted."""
    earliest = [read.earliest_ns for read in reads if read.earliest_ns is not None]
    latest = [read.latest_ns for read in reads if read.latest_ns is not None]
    return bool(earliest) and max(latest) - min(earliest) > CLOCK_JUMP_NS


def capture_summary(surveys: Sequence[Survey], reads: Sequence[Read],
                    set_aside: Read | None, orders: Sequence[ReadOrder] = ()
                    ) -> CaptureSummary:
    """The summary one process would make of the capture, from the groups' and what decoding
    the set-aside frames found; the groups in the order of their frames. The clock jumps
    each task found among its own messages are found again among all (``orders``, of each
    task, when ``far_apart``)."""
    compressions = sorted({s.compression for s in surveys if s.compression})
    head = reads[0].summary if len(surveys) == 1 else CaptureSummary(
        " + ".join(s.source for s in surveys), "+".join(dict.fromkeys(s.format for s in surveys)),
        "+".join(compressions) or None)
    summary = joined_summary(head, [read.summary for read in reads],
                             set_aside.summary if set_aside is not None else None)
    if orders:
        summary.problems.counts.pop(CLOCK_JUMP, None)
        summary.problems.examples.pop(CLOCK_JUMP, None)
        _check_clock(summary.problems, orders)
    return summary


ReadOrder = list[tuple[int, int, int]]
"""(moment, frame, ts_ns) of each SIP message a task read, in the order it read them."""


def read_order(events: bytes, pieces: Sequence[bytes]) -> ReadOrder:
    """When each message of a reading task was read, from its media events (a task: only
    wanted when the capture's messages span more than ``CLOCK_JUMP_NS``)."""
    inputs = ShareInputs(Clock(), b"", events, tuple(pieces))
    return [(moment, args.frame, args.ts_ns) for moment, happening, args in _events(inputs)
            if happening is Happening.OBSERVED]


def _check_clock(problems: ProblemLog, orders: Sequence[ReadOrder]) -> None:
    """Each SIP message checked against the one read before it, in the whole capture (as
    ``SipReader`` checks them)."""
    before: tuple[int, int] | None = None
    for _, frame, ts_ns in heapq.merge(*orders, key=itemgetter(0)):
        if before is not None and abs(ts_ns - before[1]) > CLOCK_JUMP_NS:
            report_clock_jump(problems, before, (frame, ts_ns))
        before = (frame, ts_ns)


@dataclass(frozen=True, slots=True)
class ShareInputs:
    """What a share's task is given of a reading task: the ``Clock``, the share's own piece
    (packed) and, when the capture has media, the media events and every share's piece
    (packed), which the events name messages in."""

    clock: Clock
    piece: bytes
    events: bytes | None = None
    pieces: tuple[bytes, ...] = ()


def replay_share(share: Share, job: Job, plan: Plan, groups: Sequence[ShareInputs],
                 set_aside: ShareInputs | None) -> Part:
    """The share's part of the analysis (a task), from what the reading tasks sorted out for
    it: of each group, in frame order, and of the set-aside frames. A group's messages are
    unpacked when the replay reaches it: memory holds one group's and the calls in progress."""
    analysis = ShareAnalysis(job, share)
    analysis.summary = plan.summary
    group_events = chain.from_iterable(map(_events, groups))  # groups follow one another
    media = _Media(analysis, heapq.merge(group_events, _events(set_aside) if set_aside else (),
                                         key=itemgetter(0)))
    arriving = chain.from_iterable(map(_entries, groups))
    later = _by_block(set_aside) if set_aside is not None else {}
    waiting: deque[tuple[int, object]] = deque()
    coming = next(arriving, None)
    for block, (end, held) in enumerate(plan.ends):
        media.until(end * MOMENTS + 1)
        while coming is not None and coming[0] <= end:
            waiting.append(coming)
            coming = next(arriving, None)
        ready = []
        while waiting and (held is None or waiting[0][0] < held):
            ready.append(waiting.popleft())
        _hand_on(analysis, heapq.merge(ready, later.pop(block, []), key=itemgetter(0)))
    media.until(None)
    rest = chain(waiting, [coming] if coming is not None else [], arriving)
    _hand_on(analysis, heapq.merge(rest, later.pop(len(plan.ends), []), key=itemgetter(0)))
    return analysis.part()


class _Media:
    """The media events, merged in the order they happened, replayed up to a moment."""

    def __init__(self, analysis: ShareAnalysis, events: Iterator[Event]) -> None:
        sink = analysis.media_sink
        self._apply: dict[Happening, Callable[..., object]] = {
            Happening.OBSERVED: sink.observe,
            Happening.DATAGRAM: lambda args: sink.datagram(*args),
            Happening.UNREACHABLE: lambda args: sink.unreachable(*args),
        }
        self._events = events
        self._next = next(events, None)

    def until(self, moment: int | None) -> None:
        """Replay every event up to ``moment`` (None: all)."""
        event, events, apply = self._next, self._events, self._apply
        while event is not None and (moment is None or event[0] <= moment):
            apply[event[1]](event[2])
            event = next(events, None)
        self._next = event


def _events(inputs: ShareInputs) -> Iterator[Event]:
    """A reading task's media events (none without media), each message observed found in
    its piece."""
    if inputs.events is None:
        return
    pieces: list[Piece] = [pickle.loads(packed) for packed in inputs.pieces]
    for moment, happening, args in pickle.loads(inputs.events):
        if happening is Happening.OBSERVED and isinstance(args, tuple):
            share, index = args
            args = pieces[share].messages[index]
        yield moment, happening, args


def _entries(inputs: ShareInputs) -> Iterator[tuple[int, object]]:
    """(frame, time or message), in frame order: a time that moved the clock before the
    message of the same frame (whose time it is)."""
    clock, piece = inputs.clock, pickle.loads(inputs.piece)
    yield from heapq.merge(zip(clock.frames, clock.times, strict=True),
                           ((message.frame, message) for message in piece.messages),
                           key=itemgetter(0))


def _by_block(inputs: ShareInputs) -> dict[int, list[tuple[int, object]]]:
    """The set-aside frames' entries by the block that handed them on."""
    clock, piece = inputs.clock, pickle.loads(inputs.piece)
    found: dict[int, list[tuple[int, object]]] = {}
    times = zip(clock.blocks, clock.frames, clock.times, strict=True)
    messages = ((block, message.frame, message)
                for block, message in zip(piece.blocks, piece.messages, strict=True))
    for block, frame, item in heapq.merge(times, messages, key=itemgetter(0, 1)):
        found.setdefault(block, []).append((frame, item))
    return found


def _hand_on(analysis: ShareAnalysis, entries: Iterable[tuple[int, object]]) -> None:
    """Messages to the call tracker; the other shares' times to its clock."""
    batch: list[SipMessage] = []
    for _, item in entries:
        if isinstance(item, int):
            if batch:
                analysis.add(batch)
                batch = []
            analysis.tick(item)
        else:
            assert isinstance(item, SipMessage)
            batch.append(item)
    if batch:
        analysis.add(batch)
