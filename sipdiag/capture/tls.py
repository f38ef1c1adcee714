"""The TLS secrets a pcapng file carries in Decryption Secrets Blocks (pcapng 4.7).

``editcap --inject-secrets tls,KEYLOG`` and Wireshark's "save with secrets" put the key log
in such a block, ahead of the packets it decrypts. The frame readers skip these blocks like
any block that is not a packet; this module reads the ones before the first packet, to learn
whether a capture can be decrypted without ``--tls-keylog`` and which sessions it has keys for.
"""

from __future__ import annotations

import struct
from pathlib import Path

from sipdiag.capture.pcapng import BYTE_ORDER_MAGIC, PACKET_BLOCKS, SECTION_HEADER
from sipdiag.capture.source import ByteSource, SourceError, open_source

DECRYPTION_SECRETS = 0x0000000A
TLS_KEY_LOG = 0x544C534B
"""Secrets type "TLSK": the body is an NSS key log."""


def embedded_keylog(path: str | Path) -> str:
    """The key log text of the secrets blocks before the first packet (empty if none, if the
    file is not pcapng, or if it cannot be read: reading it as a capture says why); a
    compressed file is read through its decompression."""
    try:
        source = open_source(path)
    except SourceError:
        return ""
    try:
        return "".join(_secrets(_Blocks(source)))
    finally:
        source.close()


class _Blocks:
    """Exactly as many bytes as asked of a ``ByteSource`` (which gives about as many)."""

    def __init__(self, source: ByteSource) -> None:
        self._source, self._buffer = source, b""

    def take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            block = self._source.read(max(size - len(self._buffer), 4096))
            if not block:
                break
            self._buffer += block
        taken, self._buffer = self._buffer[:size], self._buffer[size:]
        return taken


def _secrets(blocks: _Blocks) -> list[str]:
    head = blocks.take(12)
    if len(head) < 12 or struct.unpack("<I", head[:4])[0] != SECTION_HEADER:
        return []
    order = "<" if struct.unpack("<I", head[8:12])[0] == BYTE_ORDER_MAGIC else ">"
    length = struct.unpack(order + "I", head[4:8])[0]
    blocks.take(length - 12)
    found = []
    while len(header := blocks.take(8)) == 8:
        kind, length = struct.unpack(order + "II", header)
        if kind in PACKET_BLOCKS or length < 12:
            break
        body = blocks.take(length - 8)
        if kind == DECRYPTION_SECRETS and len(body) >= 8:
            secrets_type, size = struct.unpack(order + "II", body[:8])
            if secrets_type == TLS_KEY_LOG:
                found.append(body[8:8 + size].decode("utf-8", "replace"))
    return found
