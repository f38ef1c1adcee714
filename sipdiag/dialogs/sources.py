"""Who sent what: a ledger of the requests of every source address, across Call-IDs.

A scan, a password guesser or a toll fraudster shows as many short calls and exchanges, each
ordinary on its own; together, from one address, they are an attack. The ledger keeps, for each
finished call or exchange, what the security rules and the per-source summary need:

- the **attempts**: every request outside a dialog (no To tag; not ACK or CANCEL), with its
  retries with credentials after a challenge (RFC 3261 22.2), as ``Attempt``s;
- the **exposures**: what a request or answer carried in clear (not over TLS or WSS) that an
  eavesdropper could use: Digest or Basic credentials, SDES keys (``Exposure``);
- the **tally** of each source (``SourceTally``): its requests by method, the final statuses
  they got, the users they were for, when it was seen and with which User-Agents.

A request relayed by a proxy inside the capture (the same method, CSeq and From tag on another
hop) counts once, on the first hop seen: its source is the address that hop came from (by IP,
without the port: a NAT or a scanner's many ports are one source). Each process of a run keeps
a ledger of its own calls; the ledgers are merged at the end (``merge``).
"""

from __future__ import annotations

import base64
import binascii
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from sipdiag.dialogs.calls import Call, Exchange
from sipdiag.dialogs.challenges import (
    CHALLENGE_HEADERS,
    CHALLENGES,
    CREDENTIAL_HEADERS,
    digest_params,
    says_stale,
)
from sipdiag.dialogs.select import user_part
from sipdiag.dialogs.transactions import Transaction
from sipdiag.sip.message import SipMessage

Subject = Call | Exchange
NOT_ATTEMPTS = frozenset({"ACK", "CANCEL"})
"""Requests that follow an INVITE rather than try something of their own."""
ENCRYPTED = frozenset({"TLS", "WSS"})
"""Transports an eavesdropper on the path cannot read (RFC 3261 26.2.1)."""
AGENTS_KEPT = 5
"""User-Agents a source's summary names (the first ones sent)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A message a finding can point at: its frame, time and what it is (``401 REGISTER``)."""

    frame: int
    ts_ns: int
    what: str

    @classmethod
    def of(cls, message: SipMessage) -> Frame:
        return cls(message.frame, message.ts_ns,
                   message.method or f"{message.status} {message.cseq_method}")


@dataclass(frozen=True, slots=True)
class Attempt:
    """A request sent outside a dialog, and its retries with credentials after challenges."""

    source: str
    """The IP address it came from."""
    server: str
    """The IP address it went to."""
    method: str
    target: str
    """The user it was for: of To for a REGISTER, else of the Request-URI (else of To)."""
    account: str
    """The ``username`` of its last credentials, else the user of From."""
    realm: str
    """The realm of its last Digest credentials ('' without)."""
    agent: str
    """Its User-Agent ('' when none)."""
    status: int
    """The last final status (0: none)."""
    challenged: bool
    """A 401 or 407 came back to one of its tries."""
    credentials: bool
    """One of its tries carried credentials."""
    call_id: str
    call_frame: int
    """The first frame of the call or exchange it was part of."""
    frame: int
    """Of its first request."""
    sent_ns: int
    answer_frame: int
    """Of the final response of its last try (0: none)."""
    answer_ns: int
    ended_ns: int
    """When it was over: its last final response or, for an INVITE answered, the end of the
    call."""
    answered: bool
    """A 2xx came back."""
    silent: bool
    """No response at all came back to any of its tries, not even a provisional one."""

    @property
    def request(self) -> Frame:
        """Its first request."""
        return Frame(self.frame, self.sent_ns, self.method)

    @property
    def answer(self) -> Frame | None:
        """The final response of its last try."""
        if not self.answer_frame:
            return None
        return Frame(self.answer_frame, self.answer_ns, f"{self.status} {self.method}")

    @property
    def refused(self) -> bool:
        return self.status >= 400

    @property
    def credentials_refused(self) -> bool:
        """It carried credentials and was still challenged (RFC 3261 22.1), or for a REGISTER
        refused 403. A 403 to any other request says the user may not do it (no credit, a
        barred number: "authorization will not help", 21.4.4), not that the password is wrong."""
        return self.credentials and (self.status in CHALLENGES
                                     or (self.status == 403 and self.method == "REGISTER"))


class ExposureKind(Enum):
    DIGEST = "Digest credentials"
    BASIC = "Basic credentials"
    SDES = "SDES keys"


@dataclass(frozen=True, slots=True)
class Exposure:
    """Something sent in clear that an eavesdropper on the path could use."""

    kind: ExposureKind
    source: str
    server: str
    transport: str
    user: str
    """The user name of credentials ('' for keys)."""
    realm: str
    """The realm of Digest credentials ('' for others)."""
    header: str
    """The header that carried credentials ('' for keys)."""
    call_id: str
    call_frame: int
    message: Frame


@dataclass(slots=True)
class SourceTally:
    """What one source address sent, and what came back, for the per-source summary."""

    requests: Counter[str] = field(default_factory=Counter)
    """Requests by method (not ACK: it gets no answer)."""
    statuses: Counter[str] = field(default_factory=Counter)
    """Their final statuses by class (``2xx``) or ``none``."""
    users: set[str] = field(default_factory=set)
    """The users its requests outside a dialog were for."""
    agents: dict[str, int] = field(default_factory=dict)
    """Each User-Agent its requests gave, and the frame it was first seen in."""
    first_ns: int = 0
    last_ns: int = 0
    first_frame: int = 0
    last_frame: int = 0

    def add(self, request: SipMessage, status: int) -> None:
        self.requests[request.method] += 1
        self.statuses[f"{status // 100}xx" if status else "none"] += 1
        if not self.first_frame or request.frame < self.first_frame:
            self.first_ns, self.first_frame = request.ts_ns, request.frame
        if request.frame > self.last_frame:
            self.last_ns, self.last_frame = request.ts_ns, request.frame
        agent = request.first_value("user-agent")
        if agent and (agent not in self.agents or request.frame < self.agents[agent]):
            self.agents[agent] = request.frame

    def merge(self, other: SourceTally) -> None:
        self.requests += other.requests
        self.statuses += other.statuses
        self.users |= other.users
        for agent, frame in other.agents.items():
            self.agents[agent] = min(frame, self.agents.get(agent, frame))
        if other.first_frame and (not self.first_frame or other.first_frame < self.first_frame):
            self.first_ns, self.first_frame = other.first_ns, other.first_frame
        if other.last_frame > self.last_frame:
            self.last_ns, self.last_frame = other.last_ns, other.last_frame

    def first_agents(self) -> tuple[str, ...]:
        """The first ``AGENTS_KEPT`` User-Agents, in the order first sent."""
        return tuple(sorted(self.agents, key=self.agents.__getitem__)[:AGENTS_KEPT])


class AttemptColumns:
    """Attempts kept as columns of numbers, their words as indices into one table of strings:
    an attempt as an object holds seven integer objects and takes some 400 bytes, as columns
    about 100 (most of it its Call-ID), and a capture may hold millions. Attempts go in and come
    out as ``Attempt``s, made again when read."""

    _NUMBERS = ("frame", "sent_ns", "answer_frame", "answer_ns", "ended_ns", "call_frame")
    _WORDS = ("source", "server", "method", "target", "account", "realm", "agent")

    def __init__(self) -> None:
        self._numbers = {name: array("q") for name in self._NUMBERS}
        self._words = {name: array("I") for name in self._WORDS}
        self._status = array("H")
        self._flags = array("B")
        self._call_ids: list[str] = []
        self._strings: list[str] = []
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._status)

    def append(self, attempt: Attempt) -> None:
        for name, column in self._numbers.items():
            column.append(getattr(attempt, name))
        for name, words in self._words.items():
            words.append(self._word(getattr(attempt, name)))
        self._status.append(attempt.status)
        self._flags.append(attempt.challenged | attempt.credentials << 1
                           | attempt.answered << 2 | attempt.silent << 3)
        self._call_ids.append(attempt.call_id)

    def extend(self, other: AttemptColumns) -> None:
        for attempt in other.read(range(len(other))):
            self.append(attempt)

    def in_order(self, method: str | None = None) -> Iterator[Attempt]:
        """The attempts (of one method, if given) in the order sent."""
        chosen: Iterable[int] = range(len(self))
        if method is not None:
            code, methods = self._index.get(method), self._words["method"]
            chosen = [i for i in chosen if methods[i] == code]
        return self.read(sorted(chosen, key=self._numbers["frame"].__getitem__))

    def read(self, indices: Iterable[int]) -> Iterator[Attempt]:
        n, w, text = self._numbers, self._words, self._strings.__getitem__
        for i in indices:
            flags = self._flags[i]
            yield Attempt(
                source=text(w["source"][i]), server=text(w["server"][i]),
                method=text(w["method"][i]), target=text(w["target"][i]),
                account=text(w["account"][i]), realm=text(w["realm"][i]),
                agent=text(w["agent"][i]), status=self._status[i],
                challenged=bool(flags & 1), credentials=bool(flags & 2),
                call_id=self._call_ids[i], call_frame=n["call_frame"][i], frame=n["frame"][i],
                sent_ns=n["sent_ns"][i], answer_frame=n["answer_frame"][i],
                answer_ns=n["answer_ns"][i], ended_ns=n["ended_ns"][i],
                answered=bool(flags & 4), silent=bool(flags & 8))

    def _word(self, text: str) -> int:
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self._strings)
            self._strings.append(text)
        return found


class SourceLedger:
    """The attempts, exposures and tallies of every source, over the calls and exchanges seen."""

    def __init__(self) -> None:
        self.columns = AttemptColumns()
        self.exposures: list[Exposure] = []
        self.tallies: dict[str, SourceTally] = {}

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt, in the order kept."""
        return list(self.columns.read(range(len(self.columns))))

    def observe(self, subject: Subject) -> None:
        originals = _first_hops(subject.transactions)
        for transaction in originals:
            request = transaction.request
            assert request is not None
            tally = self.tallies.setdefault(request.src.ip, SourceTally())
            if transaction.method != "ACK":
                tally.add(request, transaction.final_status)
        call_frame = subject.messages[0].frame
        for attempt in _attempts(subject, originals, call_frame):
            self.columns.append(attempt)
            if attempt.target:
                self.tallies[attempt.source].users.add(attempt.target)
        self.exposures += _exposures(subject, call_frame)

    def merge(self, other: object) -> None:
        assert isinstance(other, SourceLedger)
        self.columns.extend(other.columns)
        self.exposures += other.exposures
        for source, tally in other.tallies.items():
            mine = self.tallies.get(source)
            if mine is None:
                self.tallies[source] = tally
            else:
                mine.merge(tally)

    def in_order(self, method: str | None = None) -> Iterator[Attempt]:
        """Every attempt (of one method, if given), in the order it was sent (the processes'
        ledgers interleave)."""
        return self.columns.in_order(method)


def _first_hops(transactions: Iterable[Transaction]) -> list[Transaction]:
    """The transactions with a request, less the copies a proxy relayed: of those with the
    same method, CSeq and From tag, the first sent (RFC 3261 16.6: a proxy keeps all three)."""
    seen: set[tuple[str, int, str | None]] = set()
    first: list[Transaction] = []
    for transaction in sorted((t for t in transactions if t.request is not None),
                              key=lambda t: t.first.frame):
        request = transaction.request
        assert request is not None
        key = (transaction.method, request.cseq, request.from_tag)
        if key not in seen:
            seen.add(key)
            first.append(transaction)
    return first


def _attempts(subject: Subject, transactions: list[Transaction], call_frame: int
              ) -> Iterator[Attempt]:
    """The attempts outside a dialog: each request, with the retries that answered its
    challenges (same method, Request-URI, From and To, from the same sender, with credentials).
    Each request is tried against the last run of the same request only: one pass."""
    tries: list[list[Transaction]] = []
    last_run: dict[tuple[str, str, object, str, str], list[Transaction]] = {}
    for transaction in transactions:
        request = transaction.request
        assert request is not None
        if request.to_tag or transaction.method in NOT_ATTEMPTS:
            continue
        same = (request.method, request.request_uri, request.src, _uri(request, "from"),
                _uri(request, "to"))
        run = last_run.get(same)
        if run is not None and _retries(run[-1], transaction):
            run.append(transaction)
        else:
            run = last_run[same] = [transaction]
            tries.append(run)
    for run in tries:
        yield _attempt(subject, run, call_frame)


def _retries(previous: Transaction, transaction: Transaction) -> bool:
    """``transaction`` (the same request again) answers the challenge ``previous`` got
    (RFC 3261 22.2). Credentials challenged again are refused, and a UAC must not try them
    again (22.1), unless the nonce was stale or the new challenge is another one (a proxy's 407
    then the UAS's 401, or another realm: 22.3): a retry after a refusal is a new attempt."""
    final, before = previous.final, previous.request
    assert before is not None and transaction.request is not None
    if final is None or final.status not in CHALLENGES:
        return False
    if _credentials(transaction.request) is None:
        return False
    sent = _credentials(before)
    return sent is None or says_stale(final) or not _answers(sent, final)


def _answers(sent: tuple[str, str], challenge: SipMessage) -> bool:
    """The credentials ``sent`` (header, value) answer this challenge: the header it asks for
    (Authorization for a 401, Proxy-Authorization for a 407) and one of its realms (any, when
    it names none)."""
    wanted = "authorization" if challenge.status == 401 else "proxy-authorization"
    realms = {digest_params(v).get("realm", "") for h in CHALLENGE_HEADERS
              for v in challenge.values(h)}
    return sent[0] == wanted and (not realms or digest_params(sent[1]).get("realm", "") in realms)


def _attempt(subject: Subject, run: list[Transaction], call_frame: int) -> Attempt:
    first, last = run[0].request, run[-1]
    assert first is not None
    final = last.final
    credentialed = [t.request for t in run if t.request and _credentials(t.request) is not None]
    last_credentials = _credentials(credentialed[-1]) if credentialed else None
    account = _account(credentialed[-1]) if credentialed else ""
    realm = digest_params(last_credentials[1]).get("realm", "") if last_credentials else ""
    answered = final is not None and 200 <= final.status < 300
    ended_ns = final.ts_ns if final is not None else first.ts_ns
    if isinstance(subject, Call) and answered and first.method == "INVITE":
        ended_ns = subject.end_ns
    return Attempt(
        source=first.src.ip, server=first.dst.ip, method=first.method, target=_target(first),
        account=account or user_part(_uri(first, "from")), realm=realm,
        agent=first.first_value("user-agent") or "", status=last.final_status,
        challenged=any(t.final_status in CHALLENGES for t in run),
        credentials=bool(credentialed), call_id=subject.call_id, call_frame=call_frame,
        frame=first.frame, sent_ns=first.ts_ns, answer_frame=final.frame if final else 0,
        answer_ns=final.ts_ns if final else 0, ended_ns=ended_ns, answered=answered,
        silent=not any(t.responses for t in run))


def _target(request: SipMessage) -> str:
    uri = request.request_uri
    if request.method != "REGISTER" and _names_user(uri):  # a REGISTER's names the domain
        return user_part(uri)
    to = _uri(request, "to")
    return user_part(to) if _names_user(to) else ""


def _names_user(uri: str) -> bool:
    """``sip:alice@example.com`` or ``tel:+4930123`` (``sip:example.com`` names a host)."""
    return "@" in uri or uri[:4].lower() == "tel:"


def _uri(message: SipMessage, header: str) -> str:
    found = message.name_addr(header)
    return found.uri.split("?", 1)[0] if found and found.uri else ""


def _credentials(request: SipMessage) -> tuple[str, str] | None:
    """(header, value) of the request's first credentials."""
    for header in CREDENTIAL_HEADERS:
        value = request.first_value(header)
        if value is not None:
            return header, value
    return None


def _account(request: SipMessage) -> str:
    """The user name the credentials give: Digest ``username``, or Basic's before the colon."""
    found = _credentials(request)
    if found is None:
        return ""
    scheme, _, rest = found[1].strip().partition(" ")
    if scheme.lower() == "basic":
        return _basic_user(rest)
    return digest_params(found[1]).get("username", "")


def _basic_user(token: str) -> str:
    """The user name of Basic credentials (``base64(user:password)``, RFC 7617 2); the password
    is never kept."""
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""
    user, colon, _ = decoded.partition(":")
    return user if colon else ""  # no colon: the token may be a secret of its own


def _exposures(subject: Subject, call_frame: int) -> Iterator[Exposure]:
    """What its messages carried that an eavesdropper could use: Digest credentials and SDES
    keys in clear, Basic credentials on any transport (RFC 3261 22 forbids them outright). A
    request's credentials count once per hop it was sent on, not per retransmission."""
    for transaction in subject.transactions:
        request = transaction.request
        found = _credentials(request) if request is not None else None
        if request is None or found is None:
            continue
        header, value = found
        scheme = value.strip().partition(" ")[0].lower()
        if scheme == "basic" or (scheme == "digest" and request.transport not in ENCRYPTED):
            digest = scheme == "digest"
            yield Exposure(
                ExposureKind.DIGEST if digest else ExposureKind.BASIC, request.src.ip,
                request.dst.ip, request.transport, _account(request),
                digest_params(value).get("realm", "") if digest else "",
                _HEADER_NAMES[header], subject.call_id, call_frame, Frame.of(request))
    for message in subject.messages:
        if message.transport not in ENCRYPTED and _SDES_KEY.search(message.body):
            yield Exposure(ExposureKind.SDES, message.src.ip, message.dst.ip, message.transport,
                           "", "", "", subject.call_id, call_frame, Frame.of(message))


_HEADER_NAMES = {"authorization": "Authorization", "proxy-authorization": "Proxy-Authorization"}
_SDES_KEY = re.compile(rb"^a=crypto:\S+[ \t]+\S+[ \t]+inline:", re.M | re.I)
"""An SDP ``a=crypto`` line that gives its key inline (RFC 4568 6.1, 9.1: white space is 1*WSP,
and the quoted ``inline`` any case, RFC 5234 2.3)."""
