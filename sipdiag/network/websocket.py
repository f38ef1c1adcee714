"""WebSocket framing (RFC 6455 section 5), the transport of SIP over WebSocket (RFC 7118).

After the HTTP upgrade, each direction of the TCP connection is a sequence of frames: two to
fourteen header bytes (FIN and opcode, mask flag and a 7-, 16- or 64-bit length, the masking
key), then the payload, masked by the client. A message is one frame, or a first frame and
continuation frames up to one with FIN set. RFC 7118 section 5 puts exactly one SIP message in
each WebSocket message. Control frames (close, ping, pong) are skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

CONTINUATION, TEXT, BINARY = 0x0, 0x1, 0x2
MAX_MESSAGE = 1 << 20


class WebSocketError(Exception):
    """The stream does not follow RFC 6455 framing."""


class WebSocketDecoder:
    """Stream bytes in, complete WebSocket messages out (sans-I/O)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._parts: list[bytes] = []

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buffer += data
        while (frame := self._next_frame()) is not None:
            fin, opcode, payload = frame
            if opcode >= 0x8:
                continue
            if opcode != CONTINUATION:
                self._parts = []
            self._parts.append(payload)
            if fin:
                yield b"".join(self._parts)
                self._parts = []

    @property
    def buffered(self) -> int:
        return len(self._buffer) + sum(map(len, self._parts))

    def _next_frame(self) -> tuple[bool, int, bytes] | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        fin, opcode = bool(buf[0] & 0x80), buf[0] & 0x0F
        masked, length = bool(buf[1] & 0x80), buf[1] & 0x7F
        off = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, off = struct.unpack_from(">H", buf, 2)[0], 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, off = struct.unpack_from(">Q", buf, 2)[0], 10
        if length > MAX_MESSAGE or buf[0] & 0x70:
            raise WebSocketError(f"frame with opcode {opcode} and length {length} is not valid")
        key = b""
        if masked:
            key, off = buf[off : off + 4], off + 4
        if len(buf) < off + length:
            return None
        payload, self._buffer = buf[off : off + length], buf[off + length :]
        return fin, opcode, unmask(payload, key) if masked else payload


def unmask(payload: bytes, key: bytes) -> bytes:
    """XOR the payload with the repeating four-byte key, as one big-integer operation."""
    if len(key) < 4 or not payload:
        return payload
    stream = (key * (len(payload) // 4 + 1))[: len(payload)]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")
    return value.to_bytes(len(payload), "big")
