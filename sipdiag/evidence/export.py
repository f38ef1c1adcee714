"""Exporting calls: every frame of the calls chosen, copied as captured, to hand on.

Two readings of the capture, then a copy:

1. an analysis of every call, those the user's selection wants marked (the calls the report
   would show: ``--call``, ``--user``, ``--ip``, ``--since``/``--until``, ``--failed``,
   ``--rule``), which also gives the calls linked to them (B2BUA legs) and their media;
   ``groups_of`` does the same from a report's analysis, made with the selection, at the
   cost of a second analysis;
2. a reading of the messages and the media (``_Frames``) that notes, for each call exported,
   the frames of its SIP messages (every IP fragment and TCP segment, ``SipMessage.frames``),
   of its RTP and RTCP, of the ICMP errors that answered either, and the TCP segments that
   opened and closed the connections its SIP travelled on;
3. the copy (``capture.copy``), in frame order, one file or one per group of linked calls.

A call's RTP is the packets of its streams as the analysis counted them (path, SSRC, first
and last frame). Its other media (RTCP, STUN, DTLS, what is not RTP) is every datagram to or
from one of its media endpoints (those of its streams, those its offer and answer announced,
and the RTCP port beside each, RFC 3550 11) from the call's first frame until
``MEDIA_GRACE_NS`` after its end or its last RTP packet, whichever is later (RTCP BYEs and the
last packets cross the SIP BYE), or until another call's SDP announces one of those endpoints
after the call ended (two calls on the same ports one after the other stay apart).

Every file written says until when the capture watched (``Plan.watched``) and, unless it is
redacted (TLS is then left out), carries the TLS secrets of its sessions (``Plan.secrets``).
"""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sipdiag.analysis import MessageReader, analyze
from sipdiag.analysis.model import Analysis, CallResult, Result
from sipdiag.analysis.reading import Inputs, paths_of
from sipdiag.capture import FrameWriter, open_captures
from sipdiag.capture.copy import route_frames
from sipdiag.capture.writer import PcapngWriter
from sipdiag.dialogs.correlate import Link
from sipdiag.dialogs.select import Selection
from sipdiag.media.shape import Shape, rtp_or_rtcp
from sipdiag.network import Endpoint, Flow
from sipdiag.network.tcp import ACK, FIN, RST, SYN
from sipdiag.network.tls import Decryption
from sipdiag.rules import Engine
from sipdiag.sip.message import SipMessage
from sipdiag.sip.sdp import Sdp

Key = tuple[str, int]
"""What names a call or exchange: its Call-ID and first frame."""


class ClosingWriter(FrameWriter, Protocol):
    """A writer in front of another (a redactor) that may hold frames until it is closed."""

    def close(self) -> None: ...


Wrap = Callable[[PcapngWriter], ClosingWriter]
"""What a pcapng writer is put behind (``Redactor``), if anything."""

MEDIA_GRACE_NS = 2_000_000_000
OVER_TCP = frozenset({"TCP", "TLS", "WS", "WSS"})
"""The transports of SIP messages that went over a TCP connection."""
OVER_WEBSOCKET = frozenset({"WS", "WSS"})
OVER_TLS = frozenset({"TLS", "WSS"})
NAME_MAX = 80
"""Characters of a Call-ID kept in a file's name."""
_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


@dataclass(frozen=True, slots=True)
class Group:
    """Calls exported together: a call chosen and the calls linked to it, in frame order."""

    results: tuple[Result, ...]

    @property
    def first(self) -> Result:
        return self.results[0]

    def file_name(self) -> str:
        return self.file_name_for(self.first.start_ns, self.first.call_id)

    @staticmethod
    def file_name_for(start_ns: int, call_id: str) -> str:
        """``20240501T100000.123456Z_<Call-ID>.pcapng`` (UTC): sorted by name, sorted by time.
        The Call-ID is from the capture: only letters, digits and ``@._-`` are kept."""
        when = datetime.fromtimestamp(start_ns // 1000 / 1e6, UTC)
        safe = _UNSAFE.sub("_", call_id)[:NAME_MAX].strip("._") or "call"
        return f"{when:%Y%m%dT%H%M%S.%f}Z_{safe}.pcapng"


@dataclass(frozen=True, slots=True)
class Plan:
    """What to copy: the groups, and the frames of each."""

    groups: tuple[Group, ...]
    frames: tuple[frozenset[int], ...]
    """Of each group, in the same order."""
    watched: tuple[int, int] | None = None
    """When the capture began and stopped: each file written says so (``PcapngWriter.watched``),
    so that what did not happen after a call's last frame is known in its export too (a
    registration that ran out, a request never answered)."""
    secrets: str = ""
    """The TLS secrets of the sessions the chosen calls' SIP went over (key log lines), written
    into each file: the export decrypts by itself, as its original did with its key log."""
    cut: Mapping[int, int] = field(default_factory=dict)
    """Frames copied cut short, by frame: the bytes left off their end (``_Witnesses``)."""

    @property
    def every_frame(self) -> frozenset[int]:
        return frozenset().union(*self.frames)


def choose(inputs: Inputs, engine: Engine, selection: Selection, *, jobs: int = 0,
           decryption: Decryption | None = None) -> tuple[Analysis, list[Group]]:
    """The analysis of every call and exchange, and those ``selection`` chooses grouped with
    the calls linked to them: one reading for both."""
    every = analyze(inputs, engine=engine, marks=selection, jobs=jobs, decryption=decryption)
    return every, _groups(_results(every), every.links, set(every.marked))


def groups_of(chosen: Analysis, inputs: Inputs, *, jobs: int = 0,
              decryption: Decryption | None = None) -> list[Group]:
    """The results of ``chosen`` (an analysis of ``inputs``), each call with the calls linked
    to it, linked calls in one group."""
    keys = set(_keys(chosen))
    if chosen.selection.everything:
        return _groups(_results(chosen), chosen.links, keys)
    every = analyze(inputs, jobs=jobs, decryption=decryption)  # links and media of every call
    return _groups(_results(every), every.links, keys)


def plan(inputs: Inputs, groups: Sequence[Group], *, media: bool = True,
         decryption: Decryption | None = None) -> Plan:
    """The frames of each group's calls (``media``: with their RTP, RTCP and ICMP)."""
    frames = _Frames([r for group in groups for r in group.results], media=media,
                     decrypting=decryption is not None)
    reader = MessageReader(inputs, media=frames, decryption=decryption)
    for _ in reader.batches():
        pass
    frames.finish()
    summary = reader.summary
    watched = None if summary.first_ts_ns is None or summary.end_ns is None else (
        summary.first_ts_ns, max(summary.end_ns, frames.latest_ns))
    secrets = "" if decryption is None else decryption.secrets_of(
        [s.client_random for s in summary.tls_sessions
         if s.client_random and Flow(s.client, s.server).connection in frames.encrypted_ends])
    return Plan(tuple(groups), tuple(frozenset().union(*(frames.of(r) for r in group.results))
                                     for group in groups), watched, secrets, frames.cut)


def write_one(inputs: Inputs, chosen: Plan, path: Path, wrap: Wrap | None = None) -> int:
    """Copy every frame of the plan into the capture ``path``; how many were handed to the
    file (a redactor in front of it, ``wrap``, may leave some out: its summary says)."""
    frames = chosen.every_frame
    with ExitStack() as stack, closing(open_captures(paths_of(inputs))) as reader:
        out, opened = _opened(path, wrap, chosen)
        stack.enter_context(opened)
        written: tuple[FrameWriter, ...] = (out,)
        return route_frames(reader, lambda number: written if number in frames else (),
                            chosen.cut)


def write_split(inputs: Inputs, chosen: Plan, folder: Path,
                wrap: Wrap | None = None) -> list[Path]:
    """One capture per group in ``folder``, named by ``Group.file_name`` (redacted, ``wrap``
    given: by its start and its place, the Call-ID names hosts); the files written.

    One reading: each file is open from its group's first frame to its last, so that a
    capture of thousands of calls holds open only the files of the calls in progress."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = _unique_paths(folder, chosen.groups, named=wrap is None)
    files = _SplitFiles(chosen, paths, wrap)
    with closing(files), closing(open_captures(paths_of(inputs))) as reader:
        route_frames(reader, files.route, chosen.cut)
    return paths


def export_each(chosen: Analysis, inputs: Inputs, folder: Path,
                decryption: Decryption | None = None) -> list[Path]:
    """The calls and exchanges of an analysis made with a selection (a report's), each with
    the calls linked to it as one capture in ``folder`` (``sipdiag CAPTURE --export DIR``)."""
    groups = groups_of(chosen, inputs, decryption=decryption)
    return write_split(inputs, plan(inputs, groups, decryption=decryption), folder)


class _Frames:
    """A media sink that notes the frames of the chosen calls as the capture is read."""

    def __init__(self, results: Sequence[Result], *, media: bool, decrypting: bool) -> None:
        self._by_call_id: dict[str, list[Result]] = defaultdict(list)
        self._frames: dict[Key, set[int]] = {}
        self._media: dict[Endpoint, list[_Window]] = defaultdict(list)
        """The call's media endpoints: what goes to or from them while it lasts is its."""
        self._sip: dict[tuple[Endpoint, Endpoint], list[_Window]] = defaultdict(list)
        """Where the call's SIP went, for the ICMP errors that answered it."""
        self._streams: dict[tuple[Endpoint, Endpoint, int], list[tuple[Key, int, int]]] = \
            defaultdict(list)
        """The chosen calls' RTP streams: their packets are those of the stream's path and
        SSRC from its first frame to its last, as the analysis counted them."""
        self._ended: dict[Endpoint, list[tuple[Key, int]]] = defaultdict(list)
        """By media endpoint: the calls that used it and when they ended."""
        self._handed_over: dict[Key, int] = {}
        """A call over whose endpoint another call announced: the frame from which what goes
        there is the other's."""
        self._witness = _Witnesses()
        self._connections = _Connections(decrypting=decrypting)
        self.latest_ns = 0
        """The latest time of any SIP message: calls are judged as of then at the end of a
        capture whose clock went back (``CallTracker.finish``)."""
        for result in results:
            self._by_call_id[result.call_id].append(result)
            self._frames[_key(result)] = set()
            if media and isinstance(result, CallResult):
                self._add_media(result)

    def finish(self) -> None:
        self._connections.finish()

    @property
    def cut(self) -> dict[int, int]:
        """The witnesses that no chosen call has as its own frame, cut (``_Witnesses``)."""
        taken = set().union(*self._frames.values())
        return {frame: size - 1 for frame, size in self._witness.chosen().items()
                if frame not in taken}

    @property
    def encrypted_ends(self) -> set[Ends]:
        return self._connections.encrypted_ends

    def of(self, result: Result) -> set[int]:
        key = _key(result)
        return self._frames[key] | self._witness.of(key) | self._connections.of(key)

    # MediaSink

    def observe(self, message: SipMessage) -> None:
        """Each SIP message as it is read: its frames, if its call is chosen, and the path
        where ICMP errors answering it may come."""
        self.latest_ns = max(self.latest_ns, message.ts_ns)
        result = self._result_of(message)
        sdp = message.sdp
        if sdp is not None:
            self._hand_over(message, sdp, result)
        if result is not None:
            self._frames[_key(result)].update(message.frames)
            window = _Window(_key(result), result.first_frame, result.end_ns + MEDIA_GRACE_NS)
            if message.transport in OVER_TCP:
                self._connections.carried(window, message)
            for path in ((message.src, message.dst), (message.dst, message.src)):
                if window not in self._sip[path]:
                    self._sip[path].append(window)

    def datagram(self, frame: int, ts_ns: int, src: Endpoint, dst: Endpoint,
                 payload: bytes) -> bool:
        self._witness.datagram(frame, src.ip, dst.ip, len(payload))
        if rtp_or_rtcp(payload) is Shape.RTP:
            stream = (src, dst, int.from_bytes(payload[8:12]))
            for key, first, last in self._streams.get(stream, ()):
                if first <= frame <= last:
                    self._frames[key].add(frame)
            return False
        for endpoint in (src, dst):
            windows = self._media.get(endpoint)
            if windows:
                self._note(windows, frame, ts_ns)
        return False

    def unreachable(self, frame: int, ts_ns: int, reporter: str, src: Endpoint, dst: Endpoint,
                    reason: str) -> None:
        for windows in (self._media.get(src), self._media.get(dst), self._sip.get((src, dst))):
            if windows:
                self._note(windows, frame, ts_ns)

    def tcp_segment(self, frame: int, ts_ns: int, flow: Flow, flags: int, size: int) -> None:
        self._connections.segment(frame, ts_ns, flow, flags, size)

    def _note(self, windows: list[_Window], frame: int, ts_ns: int) -> None:
        """The frame is the call's if it came while the call's window was open, and before
        another call took its endpoints over (``_hand_over``)."""
        for window in windows:
            if window.first_frame <= frame < self._handed_over.get(window.key, frame + 1) \
                    and ts_ns <= window.end_ns:
                self._frames[window.key].add(frame)

    def _hand_over(self, message: SipMessage, sdp: Sdp, result: Result | None) -> None:
        """An SDP that announces the media endpoint of a chosen call already over: from here
        on, what goes to or from it is the announcing call's (as the media layer binds it),
        not the earlier one's, however soon after its end."""
        mine = _key(result) if result is not None else None
        for media in sdp.media:
            if not media.connection:
                continue
            for key, ended_ns in self._ended.get(Endpoint(media.connection, media.port), ()):
                if key != mine and ended_ns <= message.ts_ns and key not in self._handed_over:
                    self._handed_over[key] = message.frame

    def _result_of(self, message: SipMessage) -> Result | None:
        """The chosen call or exchange this message belongs to (a Call-ID may name two, far
        apart in time: each is read apart)."""
        found = self._by_call_id.get(message.call_id)
        if not found:
            return None
        frame = message.frame
        return next((r for r in found if r.first_frame <= frame <= r.last_frame), None)

    def _add_media(self, call: CallResult) -> None:
        media = call.media.streams if call.media is not None else ()
        announced = [Endpoint(m.address, m.port) for sdp in (call.offer, call.answer)
                     if sdp is not None for m in sdp.media if m.address and m.port]
        last_ns = max([call.end_ns, *(item.stream.last_ns for item in media)])
        window = _Window(_key(call), min([call.first_frame,
                                          *(item.stream.first_frame for item in media)]),
                         last_ns + MEDIA_GRACE_NS)
        for item in media:
            stream = item.stream
            self._streams[(stream.src, stream.dst, stream.ssrc)].append(
                (_key(call), stream.first_frame, stream.last_frame))
        endpoints = {*announced, *(e for item in media
                                   for e in (item.stream.src, item.stream.dst))}
        for endpoint in endpoints | set(map(_rtcp_beside, endpoints)):
            self._media[endpoint].append(window)
        for endpoint in endpoints:
            self._ended[endpoint].append((_key(call), call.end_ns))
        if not media:  # its own streams show the capture held its audio
            self._witness.want(_key(call), call.first_frame, {e.ip for e in announced})


@dataclass(frozen=True, slots=True)
class _Window:
    """Where a call's frames may be: from its first frame until ``end_ns``."""

    key: Key
    first_frame: int
    end_ns: int


def _rtcp_beside(rtp: Endpoint) -> Endpoint:
    """Where RTCP goes beside RTP (RFC 3550 11: the next port; with rtcp-mux, RFC 5761, the
    same port, already among the endpoints)."""
    return Endpoint(rtp.ip, rtp.port + 1) if rtp.port < 65535 else rtp


class _Connections:
    """The TCP segments that opened and closed the connections a call's SIP went over (SYN,
    SYN-ACK; FIN, RST): without its SYN, a reader cannot tell a connection from the one
    before it on the same addresses and ports, nor where its stream starts. Over WebSocket,
    also the first data each way: the HTTP upgrade (RFC 6455 4), without which the stream
    cannot be read as WebSocket. Over TLS, every segment of the connection from its SYN to
    the call's last message on it: a TLS record is decrypted with the handshake's keys and
    its place in the sequence of records (RFC 8446 5.3, RFC 5246 6.2.3), so none before it
    may be missing; the other calls' messages on the connection come along, encrypted."""

    def __init__(self, *, decrypting: bool) -> None:
        self._decrypting = decrypting
        self._opening: dict[Ends, list[int]] = {}
        """By connection (its two ends in order): the frames of its SYN and SYN-ACK."""
        self._upgrade: dict[Ends, dict[Flow, int]] = defaultdict(dict)
        """By connection: the frame of the first data each way since its SYN."""
        self._segments: dict[Ends, array[int]] = defaultdict(lambda: array("q"))
        """By connection, when decrypting: every segment's frame since its SYN."""
        self._users: dict[Ends, list[_Window]] = defaultdict(list)
        """The calls whose SIP went over the connection (since its SYN)."""
        self._encrypted: dict[Ends, dict[Key, int]] = defaultdict(dict)
        """The calls whose SIP went over the connection in TLS: their last message on it."""
        self.encrypted_ends: set[Ends] = set()
        """Every connection a chosen call's SIP went over in TLS."""
        self._frames: dict[Key, set[int]] = defaultdict(set)

    def segment(self, frame: int, ts_ns: int, flow: Flow, flags: int, size: int) -> None:
        ends = flow.connection
        if flags & SYN and not flags & ACK:  # RFC 9293 3.5: a SYN alone opens a connection
            self._closed(ends)
        if self._decrypting:
            self._segments[ends].append(frame)
        if flags & SYN:
            self._opening.setdefault(ends, []).append(frame)
        elif flags & (FIN | RST):
            for window in self._users.get(ends, ()):
                if ts_ns <= window.end_ns:
                    self._frames[window.key].add(frame)
        if size:
            self._upgrade[ends].setdefault(flow, frame)

    def carried(self, window: _Window, message: SipMessage) -> None:
        """A message of a chosen call went over the connection between its ends."""
        ends = Flow(message.src, message.dst).connection
        if message.transport in OVER_TLS:
            self.encrypted_ends.add(ends)
            last = self._encrypted[ends]
            last[window.key] = max(last.get(window.key, 0), message.frame)
        users = self._users[ends]
        if window in users:
            return
        users.append(window)
        self._frames[window.key].update(self._opening.get(ends, ()))
        if message.transport in OVER_WEBSOCKET:
            self._frames[window.key].update(self._upgrade[ends].values())

    def finish(self) -> None:
        """The end of the capture: what the connections still open carried."""
        for ends in list(self._segments.keys() | self._encrypted.keys()):
            self._closed(ends)

    def of(self, key: Key) -> set[int]:
        return self._frames.get(key, set())

    def _closed(self, ends: Ends) -> None:
        """A connection is over (a new one opens on its ends, or the capture ends): the TLS
        calls on it take its segments up to their last message."""
        segments = self._segments.pop(ends, array("q"))
        for key, last in self._encrypted.pop(ends, {}).items():
            self._frames[key].update(f for f in segments if f <= last)
        self._opening.pop(ends, None)
        self._upgrade.pop(ends, None)
        self._users.pop(ends, None)


Ends = tuple[Endpoint, Endpoint]



class _Witnesses:
    """For each call without RTP, one datagram (not SIP) to or from a host its SDP announced,
    when the capture has one: what tells the media layer that the capture could hold the
    call's audio (``MediaTracker._captured``), so that a call whose audio never came is read
    so in the export too. The first such datagram from the call's first frame on, else the
    last before. It is another flow's packet (the call had none): it is copied cut after the
    first byte of its payload (``cut``), which shows that UDP reached the host and not what
    it carried."""

    def __init__(self) -> None:
        self._wanted: dict[str, list[tuple[Key, int]]] = defaultdict(list)
        self._found: dict[Key, int] = {}
        self._before: dict[Key, int] = {}
        self._sizes: dict[int, int] = {}
        """The payload size of each frame found or kept in reserve."""

    def want(self, key: Key, first_frame: int, hosts: set[str]) -> None:
        for host in hosts:
            self._wanted[host].append((key, first_frame))

    def datagram(self, frame: int, src: str, dst: str, size: int) -> None:
        for host in (src, dst):
            waiting = self._wanted.get(host)
            if not waiting:
                continue
            self._sizes[frame] = size
            for key, first_frame in list(waiting):
                if frame < first_frame:
                    self._before[key] = frame
                elif key not in self._found:
                    self._found[key] = frame
                    waiting.remove((key, first_frame))

    def of(self, key: Key) -> set[int]:
        frame = self._found.get(key, self._before.get(key))
        return {frame} if frame is not None else set()

    def chosen(self) -> dict[int, int]:
        """The witness of each call that has one, by frame: its payload's size."""
        keys = self._found.keys() | self._before.keys()
        return {frame: self._sizes[frame] for key in keys for frame in self.of(key)}


class _SplitFiles:
    """The files of ``write_split``: opened at a group's first frame, closed after its last."""

    def __init__(self, chosen: Plan, paths: Sequence[Path], wrap: Wrap | None) -> None:
        self._groups_of: dict[int, list[int]] = defaultdict(list)
        for index, frames in enumerate(chosen.frames):
            for frame in frames:
                self._groups_of[frame].append(index)
        self._last = [max(frames, default=0) for frames in chosen.frames]
        self._paths, self._wrap, self._plan = paths, wrap, chosen
        self._open: dict[int, tuple[FrameWriter, ExitStack]] = {}
        self._done: list[int] = []
        """Groups whose last frame was routed: closed once it is written (at the next call)."""

    def route(self, number: int) -> Sequence[FrameWriter]:
        for index in self._done:
            self._open.pop(index)[1].close()
        self._done.clear()
        indexes = self._groups_of.get(number)
        if not indexes:
            return ()
        self._done.extend(i for i in indexes if number == self._last[i])
        return [self._writer(index) for index in indexes]

    def _writer(self, index: int) -> FrameWriter:
        opened = self._open.get(index)
        if opened is None:
            opened = self._open[index] = _opened(self._paths[index], self._wrap, self._plan)
        return opened[0]

    def close(self) -> None:
        for _, stack in self._open.values():
            stack.close()
        self._open.clear()


def _opened(path: Path, wrap: Wrap | None, chosen: Plan) -> tuple[FrameWriter, ExitStack]:
    """A pcapng writer for ``path`` (behind ``wrap``, if any) and what closes both; the file
    says how long the capture watched, and holds the TLS secrets of its sessions."""
    stack = ExitStack()
    writer = stack.enter_context(PcapngWriter(path, flush_interval=None))
    writer.watched = chosen.watched
    if chosen.secrets and wrap is None:  # a redactor leaves TLS out: no secrets for it
        writer.write_secrets(chosen.secrets)
    if wrap is None:
        return writer, stack
    wrapped = wrap(writer)
    stack.callback(wrapped.close)  # closed first: it writes what it still holds
    return wrapped, stack


def _results(analysis: Analysis) -> list[Result]:
    results: list[Result] = [*analysis.calls, *analysis.exchanges]
    results.sort(key=_first_frame)
    return results


def _keys(analysis: Analysis) -> Iterator[Key]:
    yield from map(_key, analysis.calls)
    yield from map(_key, analysis.exchanges)


def _key(result: Result) -> Key:
    return result.call_id, result.first_frame


def _first_frame(result: Result) -> int:
    return result.first_frame


def _groups(results: Sequence[Result], links: Iterable[Link],
            chosen: set[Key]) -> list[Group]:
    """The chosen results with the calls linked to them (links name Call-IDs; a call linked
    to a chosen one through others comes too), each set of linked calls one group, the groups
    and their calls in the order of their first frames."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for link in links:
        neighbours[link.call_id].add(link.other)
        neighbours[link.other].add(link.call_id)
    group_of: dict[str, str] = {}
    """A call's Call-ID -> that of the first chosen call it is linked to."""
    for result in results:
        if isinstance(result, CallResult) and _key(result) in chosen \
                and result.call_id not in group_of:
            for call_id in _reachable(result.call_id, neighbours):
                group_of.setdefault(call_id, result.call_id)
    chosen_ids = {call_id for call_id, _ in chosen}
    members: dict[str | Key, list[Result]] = defaultdict(list)
    for result in results:
        key = _key(result)
        if isinstance(result, CallResult) and result.call_id in group_of and (
                key in chosen or result.call_id not in chosen_ids):
            members[group_of[result.call_id]].append(result)  # chosen, or a linked leg
        elif key in chosen:  # an exchange: linked to nothing
            members[key].append(result)
    return [Group(tuple(found)) for found in members.values()]


def _reachable(start: str, neighbours: dict[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for other in neighbours.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _unique_paths(folder: Path, groups: Sequence[Group], *, named: bool = True) -> list[Path]:
    """Each group's file in ``folder`` (``named``: by its Call-ID, else by its number); a name
    taken twice (the same Call-ID at the same microsecond) gets ``-2``, ``-3``, ... before its
    extension."""
    paths: list[Path] = []
    taken: set[str] = set()
    for number, group in enumerate(groups, 1):
        name = group.file_name() if named else group.file_name_for(
            group.first.start_ns, f"call-{number:05d}")
        stem, number = name.removesuffix(".pcapng"), 1
        while name in taken:
            number += 1
            name = f"{stem}-{number}.pcapng"
        taken.add(name)
        paths.append(folder / name)
    return paths
