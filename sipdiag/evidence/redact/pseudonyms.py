"""Pseudonyms: each identifier replaced by a keyed hash of it, the same one every time.

Theory of operation. A pseudonym is derived from HMAC-SHA256(key, kind + NUL + identifier):
the same identifier gets the same pseudonym in every capture redacted with the same key, and
nothing about it can be learnt without the key. One ``Pseudonyms`` serves a whole file, so the
address in an IP header and the same address in a Via or an SDP get the same pseudonym.

Each pseudonym keeps what the analysis reads from the identifier's shape:
- numbers keep their length and their non-digits (``+``, ``*``, ``#``, separators): digits
  become other digits, so dial plans still read; letters become letters;
- IPv4 stays IPv4 and IPv6 stays IPv6, and an address stays of its kind (the leading bits of
  RFC 1918, carrier-grade NAT, link-local, unique local, loopback and multicast ranges are
  kept, the rest hashed; a public address becomes another public one), so NAT findings hold;
  the unspecified and broadcast addresses are left as they are;
- a host name keeps its number of labels: each label but the last becomes ``h`` and 6 hex
  digits, the last becomes ``invalid`` (RFC 6761), e.g. ``pbx.example.com`` ->
  ``h3fa9c2.h81d0e4.invalid``; subdomains of one domain keep sharing its pseudonym;
- a MAC address keeps its multicast and locally administered bits.

Two identifiers of one file that would get the same pseudonym (a hash collision, likely only
for short numbers) are told apart by hashing again with a counter: within a file a pseudonym
always stands for one identifier. (Across files the counter can then differ: only collisions
break the correlation of two files.)
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import Counter
from enum import Enum

from sipdiag.network.addresses import address_kind

_KEPT_PREFIXES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
    "127.0.0.0/8", "224.0.0.0/4", "fe80::/10", "fc00::/7", "ff00::/8",
))
"""Ranges whose leading bits a pseudonym keeps: the address stays private, link-local,
loopback or multicast, as sipdiag's address kinds read it."""
_LEFT_AS_IS = frozenset({
    ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("255.255.255.255"),
    ipaddress.ip_address("::"), ipaddress.ip_address("::1"),
})
"""Addresses that name no one (RFC 1122 3.2.1.3 and 3.3.6; RFC 4291 2.5.2 and 2.5.3)."""
_GLOBAL_V6 = ipaddress.ip_network("2000::/3")
"""Where public IPv6 pseudonyms are made (RFC 4291 2.4: global unicast)."""
MAX_TRIES = 64
"""Hashes tried for one identifier before giving up on avoiding a collision."""


class Kind(Enum):
    """What was replaced; the summary counts each."""

    USER = "user parts"
    NUMBER = "tel: numbers"
    DISPLAY_NAME = "display names"
    IP_ADDRESS = "IP addresses"
    HOST_NAME = "host names"
    MAC_ADDRESS = "MAC addresses"
    CREDENTIAL = "credentials"
    DEVICE = "device identifiers"
    TEXT = "free texts"
    IDENTITY = "Identity headers"
    BODY = "message bodies removed"
    CNAME = "RTCP SDES items"
    AUDIO = "RTP payloads zeroed"


class Pseudonyms:
    """Identifier -> pseudonym for one file (or several redacted alike), counting each kind."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._made: dict[tuple[str, object], object] = {}
        self._taken: dict[str, set[object]] = {}
        self.replaced: Counter[Kind] = Counter()
        """How many identifiers of each kind were replaced (every occurrence)."""
        self._distinct: dict[Kind, set[object]] = {}

    def distinct(self, kind: Kind) -> int:
        return len(self._distinct.get(kind, ()))

    def count(self, kind: Kind, original: object) -> None:
        """Count one replacement of ``original`` of ``kind`` (for what has no mapping here)."""
        self.replaced[kind] += 1
        self._distinct.setdefault(kind, set()).add(original)

    def digest(self, space: str, text: bytes, attempt: int = 0) -> bytes:
        message = space.encode() + b"\0" + text + (b"\0%d" % attempt if attempt else b"")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    # Each mapping: the pseudonym made once per identifier, unique within the file.

    def _unique(self, space: str, original: object, make: object) -> object:
        made = self._made.get((space, original))
        if made is not None:
            return made
        taken = self._taken.setdefault(space, set())
        assert callable(make)
        for attempt in range(MAX_TRIES):
            candidate = make(attempt)
            if candidate not in taken and candidate != original:  # never itself
                break
        taken.add(candidate)
        self._made[(space, original)] = candidate
        return candidate

    def identity(self, text: str, kind: Kind = Kind.USER) -> str:
        """A user part, a number or a user name: same length, digits for digits, letters for
        letters, everything else kept. Numbers written with or without ``+`` or separators
        map alike (the hash is of the letters and digits alone)."""
        core = "".join(c for c in text if c.isascii() and c.isalnum())
        if not core:
            return text
        self.count(kind, core)

        def make(attempt: int) -> str:
            digest = self.digest("identity", core.encode(), attempt)
            out = []
            for index, char in enumerate(core):
                byte = digest[index % 32] ^ (index // 32)
                out.append(str(byte % 10) if char.isdigit() else chr(97 + byte % 26))
            return "".join(out)

        pseudo = iter(str(self._unique("identity", core, make)))
        return "".join(next(pseudo) if c.isascii() and c.isalnum() else c for c in text)

    def display_name(self, text: str) -> str:
        """A display name (without its quotes): a number is mapped as a number (callers often
        put their number there), anything else becomes ``Name`` and 6 hex digits."""
        if all(c.isdigit() or c in "+-.() *#" for c in text):
            return self.identity(text, Kind.DISPLAY_NAME)
        self.count(Kind.DISPLAY_NAME, text)
        made = self._unique("display", text.casefold(), lambda attempt: "Name " + self.digest(
            "display", text.casefold().encode(), attempt)[:3].hex())
        return str(made)

    def free_text(self, text: str) -> str:
        """Text for people (a Subject): ``Text`` and 6 hex digits."""
        self.count(Kind.TEXT, text)
        made = self._unique("text", text, lambda attempt: "Text " + self.digest(
            "text", text.encode(), attempt)[:3].hex())
        return str(made)

    def host(self, name: str) -> str:
        """A host name: ``h`` and 6 hex digits per label, the last label ``invalid``."""
        labels = name.rstrip(".").lower().split(".")
        self.count(Kind.HOST_NAME, ".".join(labels))
        if len(labels) == 1:
            return self._label(labels[0])
        return ".".join([self._label(".".join(labels[i:])) for i in range(len(labels) - 1)]
                        + ["invalid"])

    def _label(self, suffix: str) -> str:
        return str(self._unique("host", suffix, lambda attempt: "h" + self.digest(
            "host", suffix.encode(), attempt)[:3].hex()))

    def ip(self, packed: bytes) -> bytes:
        """An address as 4 or 16 bytes; the pseudonym in the same form and of the same kind."""
        address = ipaddress.ip_address(packed)
        if address in _LEFT_AS_IS:
            return packed
        self.count(Kind.IP_ADDRESS, packed)
        if address.version == 6 and address.ipv4_mapped is not None:
            return packed[:12] + self.ip(address.ipv4_mapped.packed)
        made = self._unique("ip", packed, lambda attempt: self._ip_candidate(address, attempt))
        assert isinstance(made, bytes)
        return made

    def _ip_candidate(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address,
                      attempt: int) -> bytes:
        size = len(address.packed)
        network = next((n for n in _KEPT_PREFIXES if address in n), None)
        if network is None and address.version == 6:
            network = _GLOBAL_V6
        kind = address_kind(str(address))
        for extra in range(MAX_TRIES):
            digest = self.digest("ip", address.packed, attempt * MAX_TRIES + extra)
            number = int.from_bytes(digest[:size], "big")
            if network is not None:
                host_bits = network.max_prefixlen - network.prefixlen
                number = int(network.network_address) | number & ((1 << host_bits) - 1)
            candidate = ipaddress.ip_address(number)
            # a public IPv4 address stays public, and out of the reserved blocks
            if network is not None or (address_kind(str(candidate)) == kind
                                       and candidate.is_global):
                break
        return candidate.packed

    def ip_text(self, text: str) -> str:
        """An address as written (no brackets); text that is no address is returned as is."""
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return text
        return str(ipaddress.ip_address(self.ip(address.packed)))

    def mac(self, mac: bytes) -> bytes:
        if mac == b"\xff" * 6 or mac == bytes(6):
            return mac
        self.count(Kind.MAC_ADDRESS, mac)

        def make(attempt: int) -> bytes:
            digest = self.digest("mac", mac, attempt)
            # keep the I/G (multicast) and U/L (locally administered) bits (IEEE 802 8.2)
            return bytes([(digest[0] & 0xFC) | (mac[0] & 3)]) + digest[1:6]

        made = self._unique("mac", mac, make)
        assert isinstance(made, bytes)
        return made

    def token(self, space: str, text: str) -> str:
        """A secret-like value (a nonce, a response): hex of the same length, at least 8."""
        self.count(Kind.CREDENTIAL, (space, text))
        return self.digest(space, text.encode()).hex()[: max(len(text), 8)].ljust(8, "0")
