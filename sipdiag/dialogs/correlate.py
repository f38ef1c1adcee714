"""Linking the legs of a back-to-back user agent, which have different Call-IDs.

A B2BUA (an SBC, a PBX) ends one call and starts another, so the two legs share no Call-ID.
Many say which legs belong together in a header; those links are certain:

- ``X-CID``, ``X-Call-ID``, ``X-Original-Call-ID``: the other leg's Call-ID (sngrep, Kamailio,
  FreeSWITCH and many SBCs);
- ``Session-ID`` (RFC 7989): the same session identifier on every leg;
- ``P-Charging-Vector`` (RFC 7315): the same ``icid-value`` on every leg of an IMS call.

Without such a header, two calls are linked when the second looks like the first passed on by
a B2BUA: its INVITE comes from an address the first one's INVITE went to, after it and within
``LEG_WINDOW_NS``, and besides that it calls the same number, or it comes from the same
caller and the B2BUA relayed its ringing or its answer back to the first within
``RELAY_WINDOW_NS``. A link says which of these held and how sure it is (``Confidence``).
Calls that only share an address and a moment are never linked.

Links are transitive: legs A-B and B-C make one call of three legs.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from sipdiag.dialogs.calls import Call
from sipdiag.dialogs.select import user_text
from sipdiag.sip.message import SipMessage

REFERENCE_HEADERS = ("x-cid", "x-call-id", "x-original-call-id")
NULL_SESSION_ID = "0" * 32
_ANY_KEY = re.compile(
    rb"\n(?:x-cid|x-call-id|x-original-call-id|session-id|p-charging-vector)[ \t]*:", re.I
)
"""Any of the headers that link legs (one quick look before reading them one by one)."""
_ICID = re.compile(r"icid-value\s*=\s*\"?([^;\"\s]+)", re.I)


LEG_WINDOW_NS = 3_000_000_000
"""How long after a call's INVITE a B2BUA's INVITE for the next leg may come."""
RELAY_WINDOW_NS = 1_000_000_000
"""How soon after the next leg's ringing or final answer the B2BUA passes it back."""
MIN_SUFFIX = 6
"""Digits two numbers must share at their end when a B2BUA added or stripped a prefix."""


class Confidence(Enum):
    """How sure a link is: named by a header, or inferred with more or less evidence."""

    HEADER = "header"
    HIGH = "high"
    MEDIUM = "medium"


@dataclass(frozen=True, slots=True)
class Link:
    call_id: str
    other: str
    reason: str
    """Which header links them, and where: ``X-CID in frame 12``; or what made two legs look
    like one call through a B2BUA."""
    confidence: Confidence = Confidence.HEADER


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the B2BUA heuristic needs of a call: who called whom, from where to where, and
    when it rang and got its final answer."""

    call_id: str
    start_ns: int
    source: str
    """The address of its first INVITE's sender."""
    destinations: frozenset[str]
    """The addresses its INVITEs went to (every hop the capture saw)."""
    calling: str
    called: frozenset[str]
    """The user parts of its Request-URI and To: a PBX may dial a device, not the number."""
    ring_ns: int | None
    final_status: int
    final_ns: int | None


def sketch(call: Call) -> Sketch | None:
    """The sketch of a call whose INVITE the capture holds."""
    if not call.legs:
        return None
    start = call.start_ns
    timings = call.timings
    ring = None if timings.post_dial_delay is None else start + round(
        timings.post_dial_delay * 1e9)
    finals = [m.ts_ns for m in call.messages
              if m.cseq_method == "INVITE" and m.status == call.final_status >= 200]
    called = frozenset(u for uri in (call.request_uri, call.callee) if (u := user_text(uri)))
    return Sketch(call.call_id, start, call.legs[0].src.ip,
                  frozenset(leg.dst.ip for leg in call.legs), user_text(call.caller), called,
                  ring, call.final_status, min(finals, default=None))


def same_party(a: str, b: str) -> bool:
    """The same user, or the same number with a prefix added or stripped by a B2BUA
    (``+4930123456`` and ``030123456`` share ``30123456``)."""
    if not a or not b:
        return False
    if a.lower() == b.lower():
        return True
    digits_a, digits_b = _digits(a), _digits(b)
    if not digits_a or not digits_b:
        return False
    shorter, longer = sorted((digits_a.lstrip("0"), digits_b.lstrip("0")), key=len)
    return len(shorter) >= MIN_SUFFIX and longer.endswith(shorter)


def party_key(user: str) -> str:
    """What two users ``same_party`` holds the same always share: the last ``MIN_SUFFIX``
    digits of a number, else the user in lower case (to find the candidates quickly)."""
    digits = _digits(user).lstrip("0")
    return digits[-MIN_SUFFIX:] if len(digits) >= MIN_SUFFIX else user.lower()


def _digits(user: str) -> str:
    """The digits of a telephone number (``+49 30-123`` -> ``4930123``); '' for a name."""
    stripped = re.sub(r"[\s().+-]", "", user)
    return stripped if stripped.isdigit() else ""


def _relayed(first: Sketch, second: Sketch) -> str | None:
    """What of the second leg's progress the B2BUA passed back to the first, if anything."""
    def soon(theirs: int | None, ours: int | None) -> bool:
        return theirs is not None and ours is not None and 0 <= ours - theirs <= RELAY_WINDOW_NS

    if second.final_status >= 200 and (
        second.final_status == first.final_status
        or (second.final_status < 300 and first.final_status < 300)
    ) and soon(second.final_ns, first.final_ns):
        return "answer relayed" if second.final_status < 300 else (
            f"final {second.final_status} relayed")
    if soon(second.ring_ns, first.ring_ns):
        return "ringing relayed"
    return None


def b2bua_evidence(first: Sketch, second: Sketch) -> tuple[int, str] | None:
    """Whether ``second`` is ``first`` passed on by a B2BUA: how many of the same called
    party, the same calling party and a relayed answer hold (two or more: ``HIGH``), and
    why."""
    gap = second.start_ns - first.start_ns
    if second.source not in first.destinations or not 0 < gap <= LEG_WINDOW_NS:
        return None  # a B2BUA sends the next leg's INVITE after the first one reached it
    called = any(same_party(a, b) for a in first.called for b in second.called)
    calling = same_party(first.calling, second.calling)
    relayed = _relayed(first, second)
    if not called and not (calling and relayed):
        return None  # an address and a moment are not enough
    facts = [f"through {second.source}", f"INVITE {gap / 1e9:.3f} s later"]
    facts += [fact for fact, held in (("same called party", called),
                                      ("same calling party", calling)) if held]
    facts += [relayed] if relayed else []
    return called + calling + bool(relayed), "B2BUA " + ", ".join(facts)


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
    """Collects the keys and the sketch of every call, then links those that share a key or
    look like two legs of one B2BUA."""

    def __init__(self) -> None:
        self._references: dict[str, list[tuple[str, str]]] = {}
        self._by_key: dict[str, list[str]] = {}
        self._sketches: list[Sketch] = []

    def add(self, call: Call) -> None:
        references, shared = correlation_keys(call.messages)
        if references:
            self._references.setdefault(call.call_id, []).extend(references)
        for key in shared:
            self._by_key.setdefault(key, []).append(call.call_id)
        found = sketch(call)
        if found is not None:
            self._sketches.append(found)

    @classmethod
    def merged(cls, correlators: Iterable[Correlator]) -> Correlator:
        """One correlator with the keys of all (of calls analysed by several processes)."""
        merged = cls()
        for correlator in correlators:
            for call_id, references in correlator._references.items():
                merged._references.setdefault(call_id, []).extend(references)
            for key, call_ids in correlator._by_key.items():
                merged._by_key.setdefault(key, []).extend(call_ids)
            merged._sketches.extend(correlator._sketches)
        return merged

    def referenced(self) -> set[str]:
        """Every Call-ID a link could name: the calls with correlation headers and the Call-IDs
        those headers name (which may or may not be calls of the capture)."""
        found = set(self._references)
        found.update(other for references in self._references.values() for other, _ in references)
        found.update(call_id for call_ids in self._by_key.values() for call_id in call_ids)
        return found

    def links(self, known: set[str]) -> list[Link]:
        """Every link between two of the ``known`` Call-IDs (and between two calls a B2BUA
        seems to join), each once: a header's link before an inferred one."""
        found: dict[tuple[str, str], Link] = {}
        for call_id in sorted(self._references):  # sorted: the same whatever order calls came
            for other, reason in self._references[call_id]:
                if other in known:
                    found.setdefault(_pair(call_id, other), Link(call_id, other, reason))
        for key, call_ids in self._by_key.items():
            members = sorted(set(call_ids) & known)
            for other in members[1:]:
                found.setdefault(_pair(members[0], other), Link(members[0], other, f"same {key}"))
        for link in self._inferred():
            found.setdefault(_pair(link.call_id, link.other), link)
        return sorted(found.values(), key=lambda link: (link.call_id, link.other))

    def _inferred(self) -> Iterator[Link]:
        """For each call, the earlier call a B2BUA most likely passed on to it (the one with
        the most evidence, then the nearest in time). Candidates are found by the B2BUA's
        address and a party they share (``party_key``), so a busy address costs no more than
        the calls for the same numbers."""
        sketches = sorted(self._sketches, key=lambda s: (s.start_ns, s.call_id))
        index: dict[tuple[str, str], list[Sketch]] = {}
        for item in sketches:
            for key in _keys(item):
                index.setdefault((item.source, key), []).append(item)
        starts = {place: [s.start_ns for s in items] for place, items in index.items()}
        best: dict[str, tuple[tuple[int, int], Link]] = {}
        for first in sketches:  # in order: of equally good earlier calls, the first wins
            for second in _candidates(first, index, starts):
                evidence = b2bua_evidence(first, second)
                if evidence is None:
                    continue
                score, reason = evidence
                rank = (-score, second.start_ns - first.start_ns)
                sure = Confidence.HIGH if score >= 2 else Confidence.MEDIUM
                if second.call_id not in best or rank < best[second.call_id][0]:
                    best[second.call_id] = (rank, Link(first.call_id, second.call_id, reason,
                                                       sure))
        for _, link in best.values():
            yield link


def _keys(item: Sketch) -> set[str]:
    return {party_key(user) for user in (*item.called, item.calling) if user}


def _candidates(first: Sketch, index: dict[tuple[str, str], list[Sketch]],
                starts: dict[tuple[str, str], list[int]]) -> Iterator[Sketch]:
    """The calls sent, within ``LEG_WINDOW_NS`` after ``first``, by an address ``first`` went
    to (not its own: a caller is not its own B2BUA) for a party ``first`` names, each once."""
    seen: set[str] = {first.call_id}
    for source in sorted(first.destinations - {first.source}):
        for key in sorted(_keys(first)):
            place = (source, key)
            if place not in index:
                continue
            times = starts[place]
            low = bisect.bisect_left(times, first.start_ns)
            high = bisect.bisect_right(times, first.start_ns + LEG_WINDOW_NS)
            for second in index[place][low:high]:
                if second.call_id not in seen:
                    seen.add(second.call_id)
                    yield second


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
