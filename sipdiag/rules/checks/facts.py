"""What the checks ask of every call or exchange before anything else, read once per subject.

Most calls have nothing a given check looks for: no 481, no REGISTER, no Identity header. A
check declares what a subject must show for it to find anything (``Needs``); the registry
passes over the subjects that lack it, so that the check never reads their messages. The facts
are read when first asked, and kept for the latest subject only (``matcher.latest``): the
engine runs every rule on one subject before it takes the next.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.rules.matcher import Shape, Story, latest, story_of
from sipdiag.sip.headers import COMPACT_FORMS, canonical_name
from sipdiag.sip.message import SipMessage

Profile = tuple[Shape, frozenset[str], frozenset[str]]


class Facts:
    """The methods, final statuses, headers and time span of one subject.

    What is read when first asked is kept in plain attributes: ``functools.cached_property``
    takes a lock on first use (Python 3.11), too slow for facts every subject is asked.
    """

    def __init__(self, subject: Call | Exchange) -> None:
        self.subject = subject
        self.story: Story = story_of(subject)
        requests: list[SipMessage] = []
        responses: list[SipMessage] = []
        for message in subject.messages:
            (responses if message.status else requests).append(message)
        self.requests = Messages(requests, _DECLARED_IN_REQUESTS)
        self.responses = Messages(responses, _DECLARED_IN_RESPONSES)
        self._span_ns: int | None = None

    @property
    def profile(self) -> Profile:
        """All that ``Needs.shown_by`` reads: the story's shape, and the declared headers that
        the requests and the responses carry."""
        return (self.story.shape, self.requests.carried, self.responses.carried)

    def lasts(self, span_ns: int) -> bool:
        """Its messages are at least ``span_ns`` apart in time."""
        return not span_ns or self.span_ns >= span_ns

    @property
    def span_ns(self) -> int:
        """From the earliest message to the latest (a capture's clock may step back)."""
        if self._span_ns is None:
            times = [message.ts_ns for message in self.subject.messages]
            self._span_ns = max(times) - min(times)
        return self._span_ns


class Messages:
    """The requests, or the responses, of one subject: which headers they carry.

    A message finds a header by a line of its header section that starts with the name, full
    or compact, in any case (``SipMessage.values``): a message without such a line has none.
    The headers some ``Needs`` declared are all looked for in one pass, when first asked.
    """

    def __init__(self, messages: Sequence[SipMessage], declared: dict[str, None]) -> None:
        self._messages = messages
        self._declared = declared
        self._scanned = 0
        """How many of the declared headers the last pass looked for."""
        self._carried: frozenset[str] = frozenset()
        self._sections: bytes | None = None

    @property
    def carried(self) -> frozenset[str]:
        """The headers some ``Needs`` declared that are there, by canonical name."""
        if self._scanned != len(self._declared):  # first asked, or more declared since
            self._scan()
        return self._carried

    def carries_any(self, declared: Collection[str]) -> bool:
        """One of these headers, which a ``Needs`` declared (by canonical name), is there."""
        return not self.carried.isdisjoint(declared)

    def may_carry(self, header: str) -> bool:
        """Some message may carry the header; False: none does."""
        name = canonical_name(header)
        if name in self._declared:
            return self.carries_any((name,))
        return any(start in self._header_sections() for start in _line_starts(name))

    def _scan(self) -> None:
        names = tuple(self._declared)
        lines = _lines_of(names).findall(self._header_sections())
        self._carried = frozenset(canonical_name(line.decode()) for line in lines)
        self._scanned = len(names)

    def _header_sections(self) -> bytes:
        """The start line and headers of every message, in lower case."""
        if self._sections is None:
            self._sections = b"".join([m.raw[:m.body_start] for m in self._messages]).lower()
        return self._sections


# The headers some ``Needs`` asks for in requests, and in responses, by canonical name.
_DECLARED_IN_REQUESTS: dict[str, None] = {}
_DECLARED_IN_RESPONSES: dict[str, None] = {}


def _names(canonical: str) -> list[str]:
    """The full name of a header and its compact forms (RFC 3261 7.3.3)."""
    return [canonical, *(short for short, full in COMPACT_FORMS.items() if full == canonical)]


def _line_starts(canonical: str) -> list[bytes]:
    return [b"\n" + name.encode() for name in _names(canonical)]


@cache
def _lines_of(headers: tuple[str, ...]) -> re.Pattern[bytes]:
    """A line of one of these headers (in lower case); the group is the name it starts with."""
    names = b"|".join(re.escape(name.encode()) for header in headers for name in _names(header))
    return re.compile(rb"\n(" + names + rb")[ \t]*:")


facts_of = latest(Facts)
"""The facts of a subject, read once for all the checks."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What a subject must show for a check to find anything in it. Each field left empty asks
    nothing; each one given asks for at least one of its items. The headers it names are
    looked for in every subject, with those of every other ``Needs``, in one pass."""

    methods: Collection[str] = ()
    """A transaction of one of these methods."""
    finals: Collection[int] = ()
    """A transaction whose final response has one of these statuses."""
    final_from: int = 0
    """A transaction whose final response has this status or a higher one."""
    request_headers: Collection[str] = ()
    """A request with one of these headers."""
    response_headers: Collection[str] = ()
    """A response with one of these headers."""
    lasting_ns: int = 0
    """Messages at least this far apart in time."""

    def __post_init__(self) -> None:
        for name, declared in (("request_headers", _DECLARED_IN_REQUESTS),
                               ("response_headers", _DECLARED_IN_RESPONSES)):
            canonical = tuple(map(canonical_name, getattr(self, name)))
            object.__setattr__(self, name, canonical)
            declared.update(dict.fromkeys(canonical))

    def met_by(self, facts: Facts) -> bool:
        return self.shown_by(facts) and facts.lasts(self.lasting_ns)

    def shown_by(self, facts: Facts) -> bool:
        """All but the time span: what ``Facts.profile`` says."""
        story = facts.story
        return ((not self.methods or not story.methods.isdisjoint(self.methods))
                and (not self.finals or not story.statuses.isdisjoint(self.finals))
                and (not self.final_from or max(story.statuses, default=0) >= self.final_from)
                and (not self.request_headers
                     or facts.requests.carries_any(self.request_headers))
                and (not self.response_headers
                     or facts.responses.carries_any(self.response_headers)))
