"""Live captures: frames from a network interface or a listening socket, as they arrive.

``LiveReader`` is a ``Reader`` like the file readers: it pushes each frame to the decoder's
handler for its link type, numbered from 1, and yields after every wait for packets (at most
``POLL_SECONDS``), with or without packets, so that the caller can end calls whose time is up
(``now_ns``). It stops when ``stop`` is called (a signal handler may call it), after
``duration_ns`` of wall time, or when the source ends. Every frame can also go to a writer
(``-w FILE.pcapng``), so the file holds exactly what was analysed.

The packets come from a ``PacketSource``:
- ``InterfaceSource``: a Linux packet socket on one interface or all (``any``), read through
  a ring the kernel writes into (PACKET_MMAP), with the kernel's receive time of each packet
  and an optional BPF filter compiled by tcpdump. The
  network layer is delivered without its link header (raw IP), as libpcap's ``any`` does, so
  every interface gives the same kind of frame.
- ``SocketSource``: a UDP or TCP server for a collector (HEP); it hands on each datagram, or
  each packet a ``framer`` finds in a TCP stream, with its sender; what makes frames of them
  belongs to the network layer (``network.collector``) and is wired above.

The analysis of a packet costs far more than reading it, and traffic comes in bursts: read in
the same process, a burst the analysis cannot follow fills the socket's buffer and the kernel
drops the rest. ``ForkedSource`` reads a source in a process of its own, as Wireshark leaves
capturing to dumpcap, and queues what it reads for the analysis, in memory: a burst only
delays the lines. Only when the analysis falls ``MAX_BACKLOG`` bytes behind (traffic faster
than it can ever follow, for long) are packets left out, counted and reported, so that memory
stays bounded in a capture that runs for days.
"""

from __future__ import annotations

import errno
import os
import pickle
import queue
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sipdiag.capture import CaptureError, FrameHandler, FrameSink, FrameWriter, Reader, linktypes
from sipdiag.capture.source import ByteSource
from sipdiag.problems import ProblemLog

POLL_SECONDS = 0.1
MAX_BACKLOG = 1 << 30
"""Bytes of packets read and not yet analysed, at most (``ForkedSource``)."""
READER_ADVANTAGE = 5
"""The niceness the analysis takes (at least), its reading process keeping the one it had."""
BATCH = 4096
"""Packets read from a socket before the reader yields (bounds a batch's memory)."""
RECEIVE_BUFFER = 64 << 20
"""Bytes the kernel may queue for a collector's UDP socket: a second of 100,000 packets."""
SNAPLEN = 262_144
ETH_P_ALL, ETH_P_IP, ETH_P_IPV6 = 0x0003, 0x0800, 0x86DD
PACKET_OUTGOING = 4
SOL_PACKET, PACKET_RX_RING, PACKET_STATISTICS, PACKET_VERSION, TPACKET_V3 = 263, 5, 6, 10, 2
TP_STATUS_KERNEL, TP_STATUS_USER = 0, 1
SO_ATTACH_FILTER, SO_RXQ_OVFL = 26, 40
BLOCK_SIZE, BLOCKS, FRAME_SIZE = 1 << 20, 64, 1 << 11
"""The receive ring: 64 blocks of 1 MiB (a second of 100,000 packets of 600 bytes)."""
BLOCK_TIMEOUT_MS = 10
"""A block not full is handed over this long after its first packet (the lines' latency)."""
_TPACKET_REQ3 = struct.Struct("7I")
_BLOCK_STATUS = struct.Struct("I")
_BLOCK_PACKETS = struct.Struct("II")
"""A block's packet count and where its first packet starts (tpacket_hdr_v1)."""
_TPACKET3_HDR = struct.Struct("IIIIIIHH")
"""tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len, tp_status, tp_mac, tp_net."""
_TPACKET_STATS = struct.Struct("II")
_DROPS = struct.Struct("I")

Packet = tuple[int, int, bytes]
"""(link type, time in ns, bytes): one frame."""


class PacketSource(Protocol):
    name: str
    problems: ProblemLog
    """What the source could not read (added to the capture's problems when it stops)."""

    def receive(self, timeout: float) -> list[Packet]:
        """The packets that arrive within ``timeout`` seconds (returns as soon as some have)."""
        ...

    def drops(self) -> int:
        """Packets the kernel dropped because the reader was too slow, so far."""
        ...

    def drain(self) -> Iterator[list[Packet]]:
        """Stop reading; the packets read already but not yet handed on (``ForkedSource``),
        a batch at a time."""
        ...

    def close(self) -> None: ...


class LiveReader(Reader):
    format = "live"

    def __init__(self, source: PacketSource, *, duration_ns: int | None = None,
                 writer: FrameWriter | None = None) -> None:
        super().__init__(ByteSource.empty(source.name))
        self._packets = source
        self._writer = writer
        self._duration_ns = duration_ns
        self._stopped = False
        self._clock: tuple[int, int] | None = None
        """(capture time, wall time) of the last frame: how ``now_ns`` follows the capture's
        clock between frames, whatever the offset of the agents' clocks."""

    def stop(self) -> None:
        self._stopped = True

    def now_ns(self) -> int | None:
        """The capture's time now: that of the last frame, moved on by the wall time since."""
        if self._clock is None:
            return None
        captured, seen = self._clock
        return captured + max(0, time.time_ns() - seen)

    def drops(self) -> int:
        return self._packets.drops()

    def frames(self, sink: FrameSink, problems: ProblemLog) -> Iterator[int]:
        try:
            yield from self._receive(sink)
        finally:
            problems.merge(self._packets.problems)
            dropped = self._packets.drops()
            if dropped:
                problems.add("capture_dropped", 0, f"the kernel dropped {dropped} packets "
                             f"that came faster than they were read")

    def _receive(self, sink: FrameSink) -> Iterator[int]:
        handlers: dict[int, FrameHandler] = {}
        started = time.monotonic_ns()
        while not self._stopped and not self._past(started):
            self._push(self._packets.receive(POLL_SECONDS), handlers, sink)
            yield self.frame_count
        for packets in self._packets.drain():
            self._push(packets, handlers, sink)
            yield self.frame_count

    def _push(self, packets: list[Packet], handlers: dict[int, FrameHandler],
              sink: FrameSink) -> None:
        for linktype, ts_ns, data in packets:
            handler = handlers.get(linktype)
            if handler is None:
                handler = handlers[linktype] = sink.link_handler(linktype)
                self.linktypes.add(linktype)
            ts_ns = max(ts_ns, self.last_ts_ns or 0)  # times go forward, as in a file
            self.frame_count += 1
            handler(self.frame_count, ts_ns, data, 0, len(data), len(data))
            if self._writer is not None:
                self._writer.write(linktype, ts_ns, data, len(data))
            if self.first_ts_ns is None:
                self.first_ts_ns = ts_ns
            self.last_ts_ns = ts_ns
        if packets:
            self._clock = (self.last_ts_ns or 0, time.time_ns())  # once a batch, not a packet

    def _past(self, started: int) -> bool:
        return (self._duration_ns is not None
                and time.monotonic_ns() - started >= self._duration_ns)

    def count_frames(self) -> int:
        return self.frame_count

    def close(self) -> None:
        self._packets.close()


# -- reading in a process of its own ---------------------------------------------------------


class ForkedSource:
    """A source read by a forked process, its packets queued for this one (``receive``).

    The source is opened here (so that a missing right or a busy port is reported at once)
    and read there; the child ignores Ctrl-C, which is this process's to handle, and ends
    when ``close`` asks it to, after it has queued everything it read. What it reads while
    ``backlog`` bytes are queued past ``MAX_BACKLOG`` is left out and counted
    (``capture_behind``)."""

    def __init__(self, source: PacketSource, backlog: int = MAX_BACKLOG) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.name, self._source = source.name, source
        self.problems = source.problems
        self._queue = context.Queue()  # put() never blocks: a thread feeds the pipe
        self._stop = context.Event()
        self._queued = context.Value("q", 0)
        """Bytes put in the queue and not yet taken."""
        self._backlog = backlog
        self._child = context.Process(target=self._read, name="sipdiag-capture", daemon=True)
        self._child.start()
        # The analysis may lag behind, the reading may not: the scheduler favours the child.
        if os.getpriority(os.PRIO_PROCESS, 0) < READER_ADVANTAGE:
            os.setpriority(os.PRIO_PROCESS, 0, READER_ADVANTAGE)
        self._ended = False
        self._dropped = 0

    def _read(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        left_out = 0
        while not self._stop.is_set():
            packets = self._source.receive(POLL_SECONDS)
            if packets:
                batch = pickle.dumps(packets, pickle.HIGHEST_PROTOCOL)
                if self._queued.value + len(batch) > self._backlog:
                    left_out += len(packets)
                else:
                    self._put(batch)
        if left_out:
            self._source.problems.add(
                "capture_behind", 0, f"{left_out} packets left out: the analysis was more "
                f"than {self._backlog:,} bytes of packets behind the capture")
        self._put(pickle.dumps((self._source.drops(), self._source.problems)))

    def _put(self, batch: bytes) -> None:
        with self._queued.get_lock():
            self._queued.value += len(batch)
        self._queue.put(batch)

    def receive(self, timeout: float) -> list[Packet]:
        if self._ended:
            return []
        try:
            batch = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        with self._queued.get_lock():
            self._queued.value -= len(batch)
        item = pickle.loads(batch)
        if isinstance(item, tuple):  # the child's last word: its drops and problems
            self._dropped, problems = item
            self.problems.merge(problems)
            self._ended = True
            return []
        packets: list[Packet] = item
        return packets

    def drain(self) -> Iterator[list[Packet]]:
        """Ask the child to stop; every packet it read that this process has not taken."""
        self._stop.set()
        while not self._ended:
            packets = self.receive(POLL_SECONDS * 10)
            if packets:
                yield packets
            elif not self._child.is_alive() and self._queue.empty():
                break  # killed: nothing more will come
        self._child.join(timeout=5)

    def drops(self) -> int:
        return self._dropped

    def close(self) -> None:
        if self._child.is_alive():
            self._stop.set()
            self._child.join(timeout=5)
        self._source.close()


# -- a network interface ------------------------------------------------------------------------


class InterfaceSource:
    """Every IPv4 and IPv6 packet on an interface (``any``: on all), as raw IP frames.

    The kernel writes the packets into a ring of blocks shared with this process (PACKET_MMAP,
    TPACKET_V3, as libpcap reads them): no system call a packet, a block handed over when it is
    full or ``BLOCK_TIMEOUT_MS`` after its first packet, each packet with its receive time in
    nanoseconds. What the ring cannot hold while the reader is busy, the kernel drops and
    counts (``drops``)."""

    def __init__(self, interface: str, bpf: str | None = None) -> None:
        self.name = f"live capture on {interface}"
        self.problems = ProblemLog()  # none: the kernel hands on whole packets
        try:
            self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                         socket.htons(ETH_P_ALL))
        except PermissionError:
            raise CaptureError(
                f"capturing on {interface} needs the right to open packet sockets: run as "
                f"root, or give Python CAP_NET_RAW (sudo setcap cap_net_raw,cap_net_admin=eip "
                f"{Path(sys.executable).resolve()})") from None
        except (AttributeError, OSError) as exc:
            raise CaptureError(f"cannot capture on {interface}: {exc}") from None
        self._dropped = 0
        try:
            _attach_filter(self._socket, _kept_once() + (_compiled(bpf) if bpf else _EVERY))
            self._ring = _Ring(self._socket)
            if interface != "any":
                self._socket.bind((interface, ETH_P_ALL))
        except OSError as exc:
            self._socket.close()
            raise CaptureError(f"cannot capture on {interface}: {exc.strerror or exc}") from None
        self._ring.discard()  # taken before the filter was on and the socket bound
        self.drops()  # counters start now (reading them resets them)
        self._dropped = 0

    def receive(self, timeout: float) -> list[Packet]:
        packets = self._ring.take(BATCH)
        if not packets and self._ring.wait(timeout):
            packets = self._ring.take(BATCH)
        return packets

    def drain(self) -> Iterator[list[Packet]]:
        return iter(())  # what the kernel still holds arrived after the end

    def drops(self) -> int:
        stats = self._socket.getsockopt(SOL_PACKET, PACKET_STATISTICS, _TPACKET_STATS.size)
        self._dropped += _TPACKET_STATS.unpack(stats)[1]
        return self._dropped

    def close(self) -> None:
        self._ring.close()
        self._socket.close()


class _Ring:
    """The receive ring of a packet socket (linux/if_packet.h, TPACKET_V3): ``BLOCKS`` blocks
    of ``BLOCK_SIZE`` bytes, each owned by the kernel until it sets its status to
    TP_STATUS_USER, then by this reader until it sets it back to TP_STATUS_KERNEL."""

    def __init__(self, sock: socket.socket) -> None:
        import mmap

        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, _TPACKET_REQ3.pack(
            BLOCK_SIZE, BLOCKS, FRAME_SIZE, BLOCK_SIZE * BLOCKS // FRAME_SIZE, BLOCK_TIMEOUT_MS,
            0, 0))
        self._map = mmap.mmap(sock.fileno(), BLOCK_SIZE * BLOCKS, mmap.MAP_SHARED,
                              mmap.PROT_READ | mmap.PROT_WRITE)
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN | select.POLLERR)
        self._block = 0
        """The next block to read."""

    def wait(self, timeout: float) -> bool:
        """Whether a block was handed over within ``timeout`` seconds."""
        return bool(self._poll.poll(round(timeout * 1000))) and self._ready(self._block)

    def take(self, limit: int) -> list[Packet]:
        """The packets of the blocks handed over, whole blocks, until ``limit`` is passed."""
        packets: list[Packet] = []
        ring, header = self._map, _TPACKET3_HDR.unpack_from
        while len(packets) < limit and self._ready(self._block):
            start = self._block * BLOCK_SIZE
            count, offset = _BLOCK_PACKETS.unpack_from(ring, start + 12)
            at = start + offset
            for _ in range(count):
                following, seconds, nanoseconds, length, _, _, _, network = header(ring, at)
                data = ring[at + network : at + network + length]
                packets.append((linktypes.RAW, seconds * 1_000_000_000 + nanoseconds, data))
                at += following
            _BLOCK_STATUS.pack_into(ring, start + 8, TP_STATUS_KERNEL)  # the kernel's again
            self._block = (self._block + 1) % BLOCKS
        return packets

    def discard(self) -> None:
        while self.take(BATCH):
            pass

    def _ready(self, block: int) -> bool:
        status: int = _BLOCK_STATUS.unpack_from(self._map, block * BLOCK_SIZE + 8)[0]
        return bool(status & TP_STATUS_USER)

    def close(self) -> None:
        self._map.close()


Instruction = tuple[int, int, int, int]
"""A classic BPF instruction: code, jump if true, jump if false, constant (linux/filter.h)."""
_LOAD_WORD, _JUMP_IF_EQUAL, _JUMP, _RETURN = 0x20, 0x15, 0x05, 0x06
_PROTOCOL, _PACKET_TYPE, _INTERFACE = 0xFFFFF000, 0xFFFFF004, 0xFFFFF008
"""Loads of the kernel's facts about a packet (SKF_AD_OFF + SKF_AD_PROTOCOL, _PKTTYPE,
_IFINDEX): its ethertype, whether it was sent or received, the interface."""
_EVERY: list[Instruction] = [(_RETURN, 0, 0, SNAPLEN)]


def _kept_once() -> list[Instruction]:
    """The instructions, run by the kernel before the user's filter, that pass only IPv4 and
    IPv6 and only one copy of a loopback packet: it is seen leaving (PACKET_OUTGOING) and
    arriving, and libpcap too keeps only the arrival. Packets sent out of other interfaces
    are the host's own traffic, and kept."""
    loopbacks = [index for index, name in socket.if_nameindex()
                 if Path(f"/sys/class/net/{name}/type").read_text().strip() == "772"]
    count = len(loopbacks)  # 772: ARPHRD_LOOPBACK
    return [
        (_LOAD_WORD, 0, 0, _PROTOCOL),
        (_JUMP_IF_EQUAL, 1, 0, ETH_P_IP),
        (_JUMP_IF_EQUAL, 0, count + 4, ETH_P_IPV6),  # neither: to "drop"
        (_LOAD_WORD, 0, 0, _PACKET_TYPE),
        (_JUMP_IF_EQUAL, 0, count + 3, PACKET_OUTGOING),  # arriving: to the user's filter
        (_LOAD_WORD, 0, 0, _INTERFACE),
        *((_JUMP_IF_EQUAL, count - position, 0, index)  # leaving a loopback: to "drop"
          for position, index in enumerate(loopbacks)),
        (_JUMP, 0, 0, 1),  # leaving another interface: to the user's filter
        (_RETURN, 0, 0, 0),  # drop
    ]


def _attach_filter(sock: socket.socket, instructions: list[Instruction]) -> None:
    """Attach a classic BPF program to ``sock``. The kernel copies the program (``struct
    sock_fprog``: its length and a pointer to it) when it is attached, so the buffer need only
    live through the call."""
    import ctypes

    program = ctypes.create_string_buffer(b"".join(
        struct.pack("HBBI", *instruction) for instruction in instructions))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                    struct.pack("HP", len(instructions), ctypes.addressof(program)))


def _compiled(bpf: str) -> list[Instruction]:
    """The instructions of a tcpdump filter expression, for raw IP packets. tcpdump compiles
    it, against an empty capture of raw IP, so no interface and no privilege are needed."""
    with tempfile.NamedTemporaryFile(suffix=".pcap") as empty:
        empty.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, linktypes.RAW))
        empty.flush()
        try:
            result = subprocess.run(["tcpdump", "-ddd", "-r", empty.name, bpf],
                                    capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise CaptureError("a capture filter needs tcpdump to compile it: install tcpdump "
                               "or leave the filter out") from None
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["tcpdump refused it"]
        raise CaptureError(f"capture filter {bpf!r} does not compile: {lines[-1]}")
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows]


# -- a listening socket -------------------------------------------------------------------------


Framer = Callable[[bytes], tuple[list[bytes], bytes]]
"""Splits the bytes of a stream into whole packets and the bytes left over (ValueError if the
stream holds no such packets)."""
Datagram = tuple[bytes, int, str]
"""(bytes, receiving time in ns, the sender's address and port)."""


@dataclass(frozen=True, slots=True)
class Listen:
    """Where a collector listens: ``udp:HOST:PORT`` or ``tcp:HOST:PORT`` (an IPv6 host in
    brackets; port 0: any free port, then ``SocketSource.address`` says which)."""

    transport: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Listen:
        transport, _, rest = text.partition(":")
        host, _, port = rest.rpartition(":")
        if transport not in ("udp", "tcp") or not host or not port.isdigit():
            raise ValueError(f"{text!r}: expected udp:HOST:PORT or tcp:HOST:PORT, as in "
                             f"udp:0.0.0.0:9060")
        if int(port) > 65535:
            raise ValueError(f"{text!r}: port {port} is not between 0 (any free port) and "
                             f"65535")
        return cls(transport, host.strip("[]"), int(port))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}:{host}:{self.port}"


class SocketSource:
    """Datagrams received on a UDP socket, or packets framed from the TCP connections accepted
    on a listening socket. A connection whose stream cannot be framed is closed and recorded
    (``stream_unframed``)."""

    def __init__(self, listen: Listen, framer: Framer) -> None:
        self.name = f"listening on {listen}"
        self._framer, self.problems = framer, ProblemLog()
        family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
        kind = socket.SOCK_DGRAM if listen.transport == "udp" else socket.SOCK_STREAM
        self._server = socket.socket(family, kind)
        try:
            self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if kind == socket.SOCK_DGRAM:
                self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
                # Each datagram then tells how many the socket dropped so far (socket(7)).
                self._server.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            self._server.bind((listen.host, listen.port))
            if kind == socket.SOCK_STREAM:
                self._server.listen(64)
        except OSError as exc:
            self._server.close()
            what = "is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise CaptureError(f"cannot listen on {listen}: {what}") from None
        self._server.setblocking(False)
        self.address: tuple[str, int] = self._server.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._server, selectors.EVENT_READ)
        self._pending: dict[socket.socket, tuple[bytes, str]] = {}
        """Each TCP connection's bytes not framed yet, and its peer."""
        self._dropped = 0

    def receive_datagrams(self, timeout: float) -> list[Datagram]:
        received: list[Datagram] = []
        for key, _ in self._selector.select(timeout):
            connection = key.fileobj
            assert isinstance(connection, socket.socket)
            if connection is self._server and connection.type == socket.SOCK_DGRAM:
                self._read_datagrams(received)
            elif connection is self._server:
                self._accept()
            else:
                self._read_stream(connection, received)
        return received

    def _read_datagrams(self, received: list[Datagram]) -> None:
        space = socket.CMSG_SPACE(_DROPS.size)
        while len(received) < BATCH:
            try:
                data, ancillary, _, peer = self._server.recvmsg(65535, space)
            except BlockingIOError:
                return
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL:
                    self._dropped = _DROPS.unpack(value[:_DROPS.size])[0]
            received.append((data, time.time_ns(), _peer(peer)))

    def _accept(self) -> None:
        try:
            connection, peer = self._server.accept()
        except BlockingIOError:
            return
        connection.setblocking(False)
        self._pending[connection] = (b"", _peer(peer))
        self._selector.register(connection, selectors.EVENT_READ)

    def _read_stream(self, connection: socket.socket, received: list[Datagram]) -> None:
        buffered, peer = self._pending[connection]
        try:
            data = connection.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if buffered:
                self.problems.add("stream_cut", 0, f"{peer} closed the connection "
                                                   f"{len(buffered)} bytes into a packet")
            self._close(connection)
            return
        try:
            packets, rest = self._framer(buffered + data)
        except ValueError as exc:
            self.problems.add("stream_unframed", 0, f"from {peer}: {exc}; connection closed")
            self._close(connection)
            return
        now = time.time_ns()
        received.extend((packet, now, peer) for packet in packets)
        self._pending[connection] = (rest, peer)

    def _close(self, connection: socket.socket) -> None:
        self._selector.unregister(connection)
        del self._pending[connection]
        connection.close()

    def drops(self) -> int:
        """Datagrams the kernel dropped for a full receive buffer, as of the last one read."""
        return self._dropped

    def close(self) -> None:
        for connection in list(self._pending):
            self._close(connection)
        self._selector.close()
        self._server.close()


def _peer(address: tuple[str, int] | tuple[str, int, int, int]) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
