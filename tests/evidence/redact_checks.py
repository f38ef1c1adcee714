"""What the redaction tests check on a capture, found without the redactor's code: the
identifiers it holds (read by tshark), tshark's complaints, and the shape of sipdiag's analysis."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections import Counter
from pathlib import Path

from sipdiag.analysis import analyze
from sipdiag.capture import open_captures
from sipdiag.capture.writer import PcapngWriter
from sipdiag.evidence.redact import RedactionSummary, Redactor, redact_frames
from sipdiag.evidence.redact.pseudonyms import Pseudonyms

KEY = b"redaction tests"
USER_FIELDS = ("sip.from.user", "sip.to.user", "sip.r-uri.user", "sip.contact.user",
               "sip.pai.user", "sip.ppi.user", "sip.auth.username")
HOST_FIELDS = ("sip.from.host", "sip.to.host", "sip.r-uri.host", "sip.contact.host",
               "sip.pai.host", "sip.Via.sent-by.address", "sip.Via.received", "sip.Via.maddr",
               "sip.auth.realm", "sdp.owner.address", "sdp.connection_info.address",
               "sdp.ice_candidate.address", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst")
DISPLAY_FIELDS = ("sip.from.display.info", "sip.to.display.info", "sip.contact.display.info",
                  "sip.pai.display.info")
SECRET_FIELDS = ("sip.auth.nonce", "sip.auth.digest.response", "sip.auth.cnonce")
MAC_FIELDS = ("eth.src", "eth.dst", "sll.src.eth")
NAMING_NO_ONE = frozenset({"0.0.0.0", "255.255.255.255", "::", "::1"})
"""Addresses that identify no one (the redactor may keep them)."""
NO_ONE_MACS = frozenset({"ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"})
PRODUCT_NAMES = re.compile(rb"(?im)^(?:user-agent|server)[ \t]*:[^\r\n]*")
"""Left out of the search: a product's name may be a domain's (User-Agent: Ekiga.NET)."""
TSHARK_CHECKS = ("-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                 "-o", "tcp.check_checksum:TRUE")


def redact(source: Path | str, target: Path, key: bytes = KEY,
           drop_audio: bool = False) -> RedactionSummary:
    reader = open_captures([source])
    with PcapngWriter(target, flush_interval=None) as writer:
        redactor = Redactor(writer, key, drop_audio=drop_audio)
        redact_frames(reader, redactor)
    reader.close()
    return redactor.summary


def tshark_fields(path: Path | str, fields: tuple[str, ...]) -> list[str]:
    """Every value tshark reads in ``fields`` (several occurrences split)."""
    command = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=a",
               "-E", "separator=\t", "-E", "aggregator=\t"]
    for name in fields:
        command += ["-e", name]
    out = _tshark(command)
    return [value.strip('"') for line in out.splitlines() for value in line.split("\t")
            if value.strip('"')]


def _tshark(command: list[str]) -> str:
    """tshark's output; its exit status is 2 for a file cut short, read as far as it goes."""
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout


def identifiers(path: Path | str) -> dict[str, set[bytes]]:
    """The identifiers tshark reads in a capture, each as the bytes that would betray it if
    found in a redacted file, by kind."""
    found: dict[str, set[bytes]] = {"user": set(), "host": set(), "address": set(),
                                    "display": set(), "secret": set(), "mac": set()}
    for user in tshark_fields(path, USER_FIELDS):
        if len(user) >= 3:
            found["user"].add(f"{user}@".encode())
    for value in tshark_fields(path, HOST_FIELDS):
        value = value.strip("[]")
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            if "." in value and re.search(r"[A-Za-z]", value):
                found["host"].add(value.lower().encode())
            continue
        if str(address) not in NAMING_NO_ONE:
            found["address"].add(value.encode())
    for name in tshark_fields(path, DISPLAY_FIELDS):
        name = name.strip()
        if len(name) >= 4:
            found["display"].add(f'"{name}"'.encode())
    for secret in tshark_fields(path, SECRET_FIELDS):
        if len(secret) >= 8:
            found["secret"].add(secret.encode())
    found["mac"] = {mac.encode() for mac in tshark_fields(path, MAC_FIELDS)} - {
        mac.encode() for mac in NO_ONE_MACS}
    return found


def _header_values(path: Path | str) -> set[bytes]:
    """The addresses in the headers of every layer, as tshark reads them: where an address
    is binary, searching the bytes would find it by chance in other data."""
    return {value.encode() for value in tshark_fields(path, HOST_FIELDS + MAC_FIELDS)}


def leaks(original: Path | str, redacted: Path, key: bytes = KEY) -> dict[str, list[bytes]]:
    """The original's identifiers found in the redacted file, by kind: in its bytes, and in the
    address fields tshark reads in it (IP and MAC addresses in binary headers). A text address
    counts only where no digit or dot touches it (10.0.0.1 is not in 110.0.0.12). A user that
    is also the pseudonym ``key`` gives another user is no leak: short numbers keep their
    length, and among twenty three-digit extensions one may well become another's number."""
    data = PRODUCT_NAMES.sub(b"", redacted.read_bytes())
    lowered = data.lower()
    in_headers = _header_values(redacted)
    out: dict[str, list[bytes]] = {}
    found = identifiers(original)
    others = _pseudonyms_of(found["user"], key)
    for kind, values in found.items():
        if kind == "user":
            values = {value for value in values if others.get(value, value) == value}
        hits = {value for value in values if value in in_headers}
        for value in values:
            if kind == "address":
                alone = rb"(?<![0-9.:a-fA-F])" + re.escape(value) + rb"(?![0-9:a-fA-F]|\.\d)"
                if re.search(alone, data):
                    hits.add(value)
            elif kind != "mac" and (lowered if kind == "host" else data).find(value) >= 0:
                hits.add(value)
        if hits:
            out[kind] = sorted(hits)
    return out


def _pseudonyms_of(users: set[bytes], key: bytes) -> dict[bytes, bytes]:
    """Each ``user@`` that is the pseudonym of another of ``users`` -> itself when it is its
    own (a leak), else the other user it stands for."""
    pseudonyms = Pseudonyms(key)
    made = {pseudonyms.identity(u[:-1].decode()).encode() + b"@": u for u in sorted(users)}
    return {user: made[user] for user in users if user in made}


def tshark_errors(path: Path | str) -> Counter[str]:
    """tshark's malformed packets and errors (checksums checked), by expert message."""
    command = ["tshark", "-n", "-r", str(path), *TSHARK_CHECKS, "-Y",
               "_ws.malformed || _ws.expert.severity>=error", "-T", "fields",
               "-e", "_ws.expert.message"]
    out = _tshark(command)
    return Counter(_general(message) for line in out.splitlines()
                   for message in line.split(",") if message)


def _general(message: str) -> str:
    """An expert message without its numbers (a checksum's value, a length)."""
    return re.sub(r"0x[0-9a-f]+|\d+", "N", message)


def analysis_shape(path: Path | str) -> Counter[tuple[str, ...]]:
    """What the analysis says of each call and exchange: its outcome, final status and the
    codes of its findings (not its Call-ID or parties, which redaction changes)."""
    analysis = analyze(path, jobs=1)
    shape: Counter[tuple[str, ...]] = Counter()
    for call in analysis.calls:
        codes = ",".join(sorted(f.rule.id for f in call.findings))
        shape[("call", str(call.outcome), str(call.final_status), codes)] += 1
    for exchange in analysis.exchanges:
        codes = ",".join(sorted(f.rule.id for f in exchange.findings))
        shape[("exchange", exchange.method, str(exchange.outcome), codes)] += 1
    return shape
