"""Live sources of frames that need more than the capture layer: a HEP collector.

``HepFrames`` listens with the capture layer's ``SocketSource`` (UDP datagrams, or HEP3 packets
framed from TCP streams) and makes of each HEP packet the IP packet its SIP message travelled
in (``network.collector``): a ``PacketSource`` for ``capture.live.LiveReader``, so that what a
collector receives is analysed exactly as a capture is, and written (``-w``) as one.
"""

from __future__ import annotations

from collections.abc import Iterator

from sipdiag.capture import linktypes
from sipdiag.capture.live import Listen, Packet, SocketSource
from sipdiag.network import hep
from sipdiag.network.collector import HepCollector


class HepFrames:
    def __init__(self, listen: Listen, password: bytes | None = None) -> None:
        self._socket = SocketSource(listen, hep.split_stream)
        self.name = f"HEP collector on {listen}"
        self.problems = self._socket.problems
        self.address = self._socket.address
        self._collector = HepCollector(self.problems, password)

    @property
    def received(self) -> int:
        return self._collector.received

    def receive(self, timeout: float) -> list[Packet]:
        packets: list[Packet] = []
        for data, received_ns, sender in self._socket.receive_datagrams(timeout):
            made = self._collector.packet(data, received_ns, sender)
            if made is not None:
                packets.append((linktypes.RAW, *made))
        return packets

    def drops(self) -> int:
        return self._socket.drops()

    def drain(self) -> Iterator[list[Packet]]:
        return iter(())  # what the socket still holds arrived after the end

    def close(self) -> None:
        self._socket.close()
