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

DECRYPTION_SECRETS = 0x0000000A
TLS_KEY_LOG = 0x544C534B
"""Secrets type "TLSK": the body is an NSS key log."""


def embedded_keylog(path: str | Path) -> str:
    """The key log text of the secrets blocks before the first packet (empty if none, or if
    the file is not pcapng)."""
    found = []
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or struct.unpack("<I", head[:4])[0] != SECTION_HEADER:
            return ""
        order = "<" if struct.unpack("<I", head[8:12])[0] == BYTE_ORDER_MAGIC else ">"
        f.seek(0)
        while True:
            header = f.read(8)
            if len(header) < 8:
                break
            kind, length = struct.unpack(order + "II", header)
            if kind in PACKET_BLOCKS or length < 12:
                break
            body = f.read(length - 8)
            if kind == DECRYPTION_SECRETS and len(body) >= 8:
                secrets_type, size = struct.unpack(order + "II", body[:8])
                if secrets_type == TLS_KEY_LOG:
                    found.append(body[8:8 + size].decode("utf-8", "replace"))
    return "".join(found)
