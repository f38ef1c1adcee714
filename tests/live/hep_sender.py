"""A capture agent for tests: the SIP messages of a capture sent to a collector as HEP3, with
their original addresses, transport and times (the chunks of github.com/sipcapture/HEP)."""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterable
from pathlib import Path

from sipdiag.analysis import MessageReader
from sipdiag.sip.message import SipMessage

_PROTOCOLS = {"UDP": 17, "TCP": 6, "SCTP": 132}


def chunk(kind: int, value: bytes) -> bytes:
    return struct.pack("!HHH", 0, kind, 6 + len(value)) + value


def hep3(message: SipMessage, agent: int = 2001, password: bytes | None = None,
         ts_ns: int | None = None, raw: bytes | None = None) -> bytes:
    """The message as an agent sends it (at ``ts_ns`` and as ``raw`` if given)."""
    src, dst = ipaddress.ip_address(message.src.ip), ipaddress.ip_address(message.dst.ip)
    seconds, nanoseconds = divmod(message.ts_ns if ts_ns is None else ts_ns, 1_000_000_000)
    six = src.version == 6
    chunks = [
        chunk(1, bytes([10 if six else 2])),
        chunk(2, bytes([_PROTOCOLS[message.transport]])),
        chunk(5 if six else 3, src.packed),
        chunk(6 if six else 4, dst.packed),
        chunk(7, struct.pack("!H", message.src.port)),
        chunk(8, struct.pack("!H", message.dst.port)),
        chunk(9, struct.pack("!I", seconds)),
        chunk(10, struct.pack("!I", nanoseconds // 1000)),
        chunk(11, b"\x01"),
        chunk(12, struct.pack("!I", agent)),
        *([chunk(14, password)] if password is not None else []),
        chunk(15, message.raw if raw is None else raw),
    ]
    body = b"".join(chunks)
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def messages_of(capture: Path) -> list[SipMessage]:
    return list(MessageReader(capture))


def send_udp(packets: Iterable[bytes], address: tuple[str, int]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sender:
        for packet in packets:
            sender.sendto(packet, address)


def send_tcp(packets: Iterable[bytes], address: tuple[str, int]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.create_connection(address, timeout=5) as sender:
        assert sender.family == family
        sender.sendall(b"".join(packets))
