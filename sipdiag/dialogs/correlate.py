"""Linking the legs of a back-to-back user agent, which have different Call-IDs.

A B2BUA (an SBC, a PBX) ends one call and starts another, so the two legs share no Call-ID.
Many say which legs belong together in a header, and those are the only links made here (no
guessing from timing):

- ``X-CID``, ``X-Call-ID``, ``X-Original-Call-ID``: the other leg's Call-ID (sngrep, Kamailio,
  FreeSWITCH and many SBCs);
- ``Session-ID`` (RFC 7989): the same session identifier on every leg;
- ``P-Charging-Vector`` (RFC 7315): the same ``icid-value`` on every leg of an IMS call.

Links are transitive: legs A-B and B-C make one call of three legs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sipdiag.sip.message import SipMessage

REFERENCE_HEADERS = ("x-cid", "x-call-id", "x-original-call-id")
NULL_SESSION_ID = "0" * 32
_ANY_KEY = re.compile(
    rb"\n(?:x-cid|x-call-id|x-original-call-id|session-id|p-charging-vector)[ \t]*:", re.I
)
"""Any of the headers that link legs (one quick look before reading them one by one)."""
_ICID = re.compile(r"icid-value\s*=\s*\"?([^;\"\s]+)", re.I)


@dataclass(frozen=True, slots=True)
class Link:
    call_id: str
    other: str
    reason: str
    """Which header links them, and where: ``X-CID in frame 12``."""


def correlation_keys(messages: Iterable[SipMessage]) -> tuple[list[tuple[str, str]], list[str]]:
    """(Call-IDs named by reference headers, with the reason) and (shared keys) of a call."""
    references: list[tuple[str, str]] = []
    shared: list[str] = []
    for message in messages:
        if message.method != "INVITE" or not _ANY_KEY.search(message.raw, 0, message.body_start):
            continue
        for header in REFERENCE_HEADERS:
            value = message.first_value(header)
            if value and value != message.call_id:
                references.append((value, f"{header_name(header)} in frame {message.frame}"))
        session = message.first_value("session-id")
        if session:
            uuid = session.split(";")[0].strip().lower()
            if uuid and uuid != NULL_SESSION_ID:
                shared.append(f"Session-ID {uuid}")
        vector = message.first_value("p-charging-vector")
        match = _ICID.search(vector) if vector else None
        if match:
            shared.append(f"P-Charging-Vector icid-value {match[1]}")
    return references, list(dict.fromkeys(shared))


def header_name(canonical: str) -> str:
    """``x-cid`` -> ``X-CID``, ``x-call-id`` -> ``X-Call-ID`` (as the header is usually written)."""
    parts = canonical.split("-")
    return "-".join(part.upper() if len(part) <= 3 else part.title() for part in parts)


class Correlator:
    """Collects the keys of every call, then links those that share one."""

    def __init__(self) -> None:
        self._references: dict[str, list[tuple[str, str]]] = {}
        self._by_key: dict[str, list[str]] = {}

    def add(self, call_id: str, messages: Iterable[SipMessage]) -> None:
        references, shared = correlation_keys(messages)
        if references:
            self._references.setdefault(call_id, []).extend(references)
        for key in shared:
            self._by_key.setdefault(key, []).append(call_id)

    @classmethod
    def merged(cls, correlators: Iterable[Correlator]) -> Correlator:
        """One correlator with the keys of all (of calls analysed by several processes)."""
        merged = cls()
        for correlator in correlators:
            for call_id, references in correlator._references.items():
                merged._references.setdefault(call_id, []).extend(references)
            for key, call_ids in correlator._by_key.items():
                merged._by_key.setdefault(key, []).extend(call_ids)
        return merged

    def referenced(self) -> set[str]:
        """Every Call-ID a link could name: the calls with correlation headers and the Call-IDs
        those headers name (which may or may not be calls of the capture)."""
        found = set(self._references)
        found.update(other for references in self._references.values() for other, _ in references)
        found.update(call_id for call_ids in self._by_key.values() for call_id in call_ids)
        return found

    def links(self, known: set[str]) -> list[Link]:
        """Every link between two of the ``known`` Call-IDs, each once."""
        found: dict[tuple[str, str], Link] = {}
        for call_id in sorted(self._references):  # sorted: the same whatever order calls came
            for other, reason in self._references[call_id]:
                if other in known:
                    found.setdefault(_pair(call_id, other), Link(call_id, other, reason))
        for key, call_ids in self._by_key.items():
            members = sorted(set(call_ids) & known)
            for other in members[1:]:
                found.setdefault(_pair(members[0], other), Link(members[0], other, f"same {key}"))
        return sorted(found.values(), key=lambda link: (link.call_id, link.other))


def groups(call_ids: Iterable[str], links: Iterable[Link]) -> list[list[str]]:
    """Call-IDs joined by links into groups (transitively), each group in the given order."""
    order = list(dict.fromkeys(call_ids))
    parent = {call_id: call_id for call_id in order}

    def root(call_id: str) -> str:
        while parent[call_id] != call_id:
            parent[call_id] = parent[parent[call_id]]
            call_id = parent[call_id]
        return call_id

    for link in links:
        if link.call_id in parent and link.other in parent:
            parent[root(link.other)] = root(link.call_id)
    joined: dict[str, list[str]] = {}
    for call_id in order:
        joined.setdefault(root(call_id), []).append(call_id)
    return list(joined.values())


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)
