"""What a HEP collector receives, turned back into the packets the agents saw.

A capture agent (heplify, Kamailio's or OpenSIPS's siptrace, FreeSWITCH, Asterisk's res_hep)
sends each SIP message it sees inside a HEP packet, with the original addresses, transport and
time (``hep``). ``HepCollector`` makes of each one the IP packet the message travelled in: a UDP
datagram, or a TCP segment that continues its connection's byte stream, from and to the
original addresses, at the time the agent wrote (the receiving time when it wrote none). Those
packets then take the same way as any captured packet (decoder, SIP, calls), and written to a
file they read in any tool as an ordinary capture. SIP over SCTP is rebuilt as UDP (one message
a packet, as SCTP delivers it).

Packets with another password than the collector's, broken packets and packets carrying
something other than SIP (RTCP reports, logs) are counted as problems, never fatal.
Sans-I/O: the sockets are the capture layer's (``capture.live``).
"""

from __future__ import annotations

from sipdiag.network import Endpoint, encode, hep
from sipdiag.problems import ProblemLog

MAX_STREAMS = 1 << 16
"""TCP connections whose next sequence number is remembered; the oldest is forgotten first."""


class HepCollector:
    def __init__(self, problems: ProblemLog, password: bytes | None = None) -> None:
        self._problems = problems
        self._password = password
        self._next_seq: dict[tuple[Endpoint, Endpoint], int] = {}
        """Where the next segment of each TCP connection starts."""
        self.received = 0
        """HEP packets received, SIP or not."""

    def packet(self, data: bytes, received_ns: int, sender: str) -> tuple[int, bytes] | None:
        """The time and raw IP packet of the SIP message HEP packet ``data`` carries (received
        from ``sender`` at ``received_ns``); None if it carries none (the reason recorded)."""
        self.received += 1
        if not hep.looks_like_hep(data):
            self._problems.add("hep_bad_packet", 0, f"from {sender}: not a HEP packet")
            return None
        try:
            message = hep.decode(data)
        except hep.HepError as exc:
            self._problems.add("hep_bad_packet", 0, f"from {sender}: {exc}")
            return None
        if message is None:
            self._problems.add("hep_other_payload", 0, f"from {sender}")
            return None
        if self._password is not None and message.password != self._password:
            self._problems.add("hep_wrong_password", 0, f"from {sender}")
            return None
        ts_ns = message.ts_ns or received_ns
        if message.transport == "TCP":
            return ts_ns, encode.tcp_segment(message.src, message.dst,
                                             self._seq(message.src, message.dst, message.payload),
                                             message.payload)
        return ts_ns, encode.udp_packet(message.src, message.dst, message.payload)

    def _seq(self, src: Endpoint, dst: Endpoint, payload: bytes) -> int:
        key = (src, dst)
        seq = self._next_seq.pop(key, 1)
        self._next_seq[key] = (seq + len(payload)) & 0xFFFFFFFF  # now the most recent
        if len(self._next_seq) > MAX_STREAMS:
            del self._next_seq[next(iter(self._next_seq))]
        return seq
