"""TLS as a capture shows it: the sessions, what their handshakes say, and their plaintext.

Theory of operation: sipdiag does not decrypt TLS itself. Wireshark does (``analysis.decryption``
runs tshark), and hands down a ``Decryption``: the plaintext of every TLS record of application
data it decrypted, by the frame that carried the record's last byte, and the client randoms the
key log had secrets for. The SIP reader frames that plaintext as it frames clear TCP.

What this module reads itself are the records in the clear: a ``HandshakeReader`` per direction
of a connection follows the record layer (RFC 8446 5.1, RFC 5246 6.2.1) until encryption begins
and parses the ClientHello (client random, SNI: RFC 6066 3) and the ServerHello (version,
cipher suite; TLS 1.3 says its version in ``supported_versions``, RFC 8446 4.2.1), into the
``TlsSession`` the reports show, with or without keys. It also tells why a session was not
decrypted (``TlsStatus``). No I/O here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from sipdiag.network import Endpoint

HANDSHAKE_LIMIT = 64 * 1024
"""Handshake bytes kept while looking for the hellos; a flight larger than this is not read."""


class ContentType(IntEnum):
    """The record types of RFC 8446 5.1 (and RFC 5246 6.2.1)."""

    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23


class HandshakeType(IntEnum):
    CLIENT_HELLO = 1
    SERVER_HELLO = 2


class TlsStatus(Enum):
    """What became of a TLS session's encrypted data."""

    DECRYPTED = "decrypted"
    NO_KEYS = "no key log given"
    NO_KEY = "the key log has no key for it"
    NO_HANDSHAKE = "its handshake was not captured"
    NOT_DECRYPTED = ("Wireshark decrypted none of its data although the key log names it (a "
                     "wrong secret, a cipher it cannot decrypt, or no data captured)")


VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2",
            0x0304: "TLS 1.3"}
CIPHER_SUITES = {
    0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA", 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
}
_SERVER_NAME, _SUPPORTED_VERSIONS = 0, 43  # extension types (RFC 6066 3, RFC 8446 4.2)


@dataclass(frozen=True, slots=True)
class Decryption:
    """What Wireshark decrypted in a capture, handed down as data."""

    plaintext: Mapping[int, tuple[bytes, ...]]
    """By frame number: the plaintext of each record of application data whose last byte that
    frame carried, in order."""
    keyed: frozenset[bytes]
    """The client randoms the key log (and the capture's embedded secrets) had secrets for."""
    secrets: str = ""
    """The key log and the embedded secrets themselves (NSS key log lines): an export of some
    of the sessions carries theirs."""

    def secrets_of(self, randoms: Collection[bytes]) -> str:
        """The key log lines of the sessions with these client randoms."""
        wanted = {random.hex() for random in randoms}
        return "".join(line for line in self.secrets.splitlines(keepends=True)
                       if len(fields := line.split()) == 3 and fields[1].lower() in wanted)


@dataclass(slots=True)
class TlsSession:
    """One TLS connection, as the reports tell it."""

    client: Endpoint
    server: Endpoint
    first_frame: int
    sni: str | None = None
    version: str | None = None
    cipher: str | None = None
    client_random: bytes | None = None
    plaintext_bytes: int = 0
    sip_messages: int = 0
    transport: str = "TLS"
    """``TLS``, or ``WSS`` once its plaintext turns out to be WebSocket."""
    outcome: TlsStatus = TlsStatus.NO_KEYS
    """Set when the capture has been read (``judged``)."""

    def judged(self, decryption: Decryption | None) -> TlsStatus:
        """Decrypted, or why not."""
        if self.plaintext_bytes:
            return TlsStatus.DECRYPTED
        if decryption is None:
            return TlsStatus.NO_KEYS
        if self.client_random is None:
            return TlsStatus.NO_HANDSHAKE
        if self.client_random not in decryption.keyed:
            return TlsStatus.NO_KEY
        return TlsStatus.NOT_DECRYPTED

    def describe(self) -> str:
        """``TLS 1.3 127.0.0.1:50612 -> 127.0.0.1:5061 (SNI sip.example.test)``."""
        text = f"{self.version or 'TLS'} {self.client} -> {self.server}"
        return text + (f" (SNI {self.sni})" if self.sni else "")


def looks_like_tls(head: bytes) -> bool:
    """A record header: a known content type and a 3.x version (RFC 8446 5.1)."""
    return head[:1] in (b"\x14", b"\x15", b"\x16", b"\x17") and head[1:2] == b"\x03"


@dataclass(slots=True)
class Hello:
    """What a ClientHello or ServerHello says."""

    kind: HandshakeType
    random: bytes
    sni: str | None = None
    version: str | None = None
    cipher: str | None = None


@dataclass(slots=True)
class HandshakeReader:
    """One direction's records in the clear, up to the first encrypted one: its hellos."""

    _buffer: bytearray = field(default_factory=bytearray)
    _handshake: bytearray = field(default_factory=bytearray)
    done: bool = False
    """Encryption began (or the records stopped making sense): nothing more to read."""

    def feed(self, data: bytes) -> list[Hello]:
        if self.done:
            return []
        self._buffer += data
        hellos: list[Hello] = []
        while len(self._buffer) >= 5 and not self.done:
            kind, length = self._buffer[0], int.from_bytes(self._buffer[3:5], "big")
            if kind != ContentType.HANDSHAKE or len(self._handshake) > HANDSHAKE_LIMIT:
                self._stop()  # ChangeCipherSpec or application data: what follows is encrypted
                break
            if len(self._buffer) < 5 + length:
                break
            body = bytes(self._buffer[5:5 + length])
            del self._buffer[:5 + length]
            self._handshake += body
            hellos += self._messages()
        return hellos

    def _stop(self) -> None:
        self.done = True
        self._buffer, self._handshake = bytearray(), bytearray()

    def _messages(self) -> list[Hello]:
        """The hellos among the complete handshake messages (RFC 8446 4: type, 24-bit length)."""
        found = []
        while len(self._handshake) >= 4:
            size = int.from_bytes(self._handshake[1:4], "big")
            if len(self._handshake) < 4 + size:
                break
            kind, body = self._handshake[0], bytes(self._handshake[4:4 + size])
            del self._handshake[:4 + size]
            hello = _hello(kind, body)
            if hello is not None:
                found.append(hello)
        return found


def _hello(kind: int, body: bytes) -> Hello | None:
    try:
        if kind == HandshakeType.CLIENT_HELLO:
            return _client_hello(body)
        if kind == HandshakeType.SERVER_HELLO:
            return _server_hello(body)
    except (IndexError, ValueError):
        return None
    return None


def _client_hello(body: bytes) -> Hello:
    """RFC 8446 4.1.2: version, random, session id, cipher suites, compression, extensions."""
    at = 34 + 1 + body[34]
    at += 2 + int.from_bytes(body[at:at + 2], "big")
    at += 1 + body[at]
    hello = Hello(HandshakeType.CLIENT_HELLO, body[2:34])
    for ext_type, data in _extensions(body, at):
        if ext_type == _SERVER_NAME:
            hello.sni = _server_name(data)
    return hello


def _server_hello(body: bytes) -> Hello:
    """RFC 8446 4.1.3: version, random, session id, cipher suite, compression, extensions."""
    at = 34 + 1 + body[34]
    suite = int.from_bytes(body[at:at + 2], "big")
    version = int.from_bytes(body[0:2], "big")
    for ext_type, data in _extensions(body, at + 3):
        if ext_type == _SUPPORTED_VERSIONS and len(data) == 2:
            version = int.from_bytes(data, "big")
    return Hello(HandshakeType.SERVER_HELLO, body[2:34],
                 version=VERSIONS.get(version, f"version 0x{version:04x}"),
                 cipher=CIPHER_SUITES.get(suite, f"0x{suite:04X}"))


def _extensions(body: bytes, at: int) -> list[tuple[int, bytes]]:
    if at + 2 > len(body):
        return []  # no extensions (TLS 1.2 allows that)
    end = at + 2 + int.from_bytes(body[at:at + 2], "big")
    at += 2
    found = []
    while at + 4 <= end:
        ext_type, size = int.from_bytes(body[at:at + 2], "big"), int.from_bytes(
            body[at + 2:at + 4], "big")
        found.append((ext_type, body[at + 4:at + 4 + size]))
        at += 4 + size
    return found


def _server_name(data: bytes) -> str | None:
    """RFC 6066 3: a list of (type, name); type 0 is a host name."""
    at = 2
    while at + 3 <= len(data):
        kind, size = data[at], int.from_bytes(data[at + 1:at + 3], "big")
        if kind == 0:
            return data[at + 3:at + 3 + size].decode("ascii", "replace")
        at += 3 + size
    return None


def keyed_randoms(keylog: str) -> frozenset[bytes]:
    """The client randoms an NSS key log has secrets for: every line is ``LABEL
    CLIENT_RANDOM_HEX SECRET_HEX`` (``RSA`` lines name an encrypted premaster instead)."""
    found = set()
    for line in keylog.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] != "RSA" and len(parts[1]) == 64:
            try:
                found.add(bytes.fromhex(parts[1]))
            except ValueError:
                continue
    return frozenset(found)


def is_keylog(text: str) -> bool:
    """Whether the text has at least one key log line (comments and blank lines aside)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return bool(lines) and all(len(line.split()) == 3 for line in lines)
