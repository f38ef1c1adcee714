"""Digest challenges and the requests that answer them (RFC 3261 22.2, 22.3; RFC 7616).

A server that wants credentials answers 401 (with WWW-Authenticate) or 407 (with
Proxy-Authenticate). The client answers the challenge with a new request of the same method,
same Call-ID, CSeq one higher (section 22.2: it must increment CSeq as for any new request),
carrying Authorization or Proxy-Authorization. ``challenge_answers`` pairs each challenge with
that new request, as seen from one sender, so that the time the client took to answer, and what
the server said to the answer, can be read.

A challenge's parameters say more than its status: ``nonce``, the value the credentials must be
computed over, and ``stale=true`` (RFC 7616 3.3, RFC 2617 3.2.1): the previous request was
refused only because its nonce had expired, its credentials were right.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from sipdiag.dialogs.transactions import Transaction
from sipdiag.network import Endpoint
from sipdiag.sip.headers import split_list
from sipdiag.sip.message import SipMessage

CHALLENGES = frozenset({401, 407})
CHALLENGE_HEADERS = ("www-authenticate", "proxy-authenticate")
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")


def digest_params(value: str) -> Mapping[str, str]:
    """The parameters of a challenge or of credentials (``Digest realm="a", nonce="b",
    stale=TRUE``): names lower-cased, quotes taken off (RFC 3261 25.1 ``challenge`` and
    ``credentials``: an auth scheme, then parameters separated by commas)."""
    _, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    for item in split_list(rest):
        name, _, found = item.partition("=")
        params.setdefault(name.strip().lower(), found.strip().strip('"'))
    return params


def _params(message: SipMessage, headers: tuple[str, ...]) -> list[Mapping[str, str]]:
    return [digest_params(value) for header in headers for value in message.values(header)]


def offered_nonces(response: SipMessage) -> frozenset[str]:
    """The nonces a 401 or 407 offers (one per challenge: a server may offer several
    algorithms, RFC 8760)."""
    return frozenset(p["nonce"] for p in _params(response, CHALLENGE_HEADERS) if "nonce" in p)


def answered_nonces(request: SipMessage) -> frozenset[str]:
    """The nonces a request's credentials were computed over."""
    return frozenset(p["nonce"] for p in _params(request, CREDENTIAL_HEADERS) if "nonce" in p)


def says_stale(response: SipMessage) -> bool:
    """A challenge with ``stale=true`` (case-insensitive, RFC 7616 3.3): the nonce the request
    used had expired; the client may answer the new nonce without asking for a password."""
    return any(p.get("stale", "").lower() == "true" for p in _params(response, CHALLENGE_HEADERS))


def carries_credentials(request: SipMessage) -> bool:
    return any(request.first_value(header) is not None for header in CREDENTIAL_HEADERS)


@dataclass(frozen=True, slots=True)
class ChallengeAnswer:
    """A request challenged (401 or 407), and the request its sender answered it with."""

    challenge: Transaction
    answer: Transaction

    @property
    def request(self) -> SipMessage:
        """The request with credentials."""
        request = self.answer.request
        assert request is not None
        return request

    @property
    def delay_ns(self) -> int:
        """From the challenge (the 401 or 407 as captured) to the request with credentials."""
        final = self.challenge.final
        assert final is not None
        return self.request.ts_ns - final.ts_ns

    @property
    def challenged_again(self) -> bool:
        return self.answer.final_status in CHALLENGES


def attempts_around(
    transaction: Transaction, transactions: Iterable[Transaction]
) -> tuple[list[Transaction], list[Transaction]]:
    """(before, after): the other requests of the same method from the same sender, each list
    in the order they started (a retry, a refresh, an answer to a challenge)."""
    request = transaction.request
    if request is None:
        return [], []
    frame = transaction.first.frame
    same = sorted(
        (t for t in transactions
         if t.method == transaction.method and t.request is not None
         and t.request.src == request.src and t.first.frame != frame),
        key=lambda t: t.first.frame,
    )
    return [t for t in same if t.first.frame < frame], [t for t in same if t.first.frame > frame]


def accepted_later(transaction: Transaction, transactions: Iterable[Transaction]) -> bool:
    """A later request of the same method from the same sender got a 2xx."""
    _, after = attempts_around(transaction, transactions)
    return any(200 <= t.final_status < 300 for t in after)


def challenge_answers(transactions: Iterable[Transaction]) -> list[ChallengeAnswer]:
    """Each challenge followed by its answer, in the order the challenges were sent: the
    sender's next request of the same method, when it carries credentials (a next request
    without them did not answer the challenge)."""
    by_sender: dict[tuple[str, Endpoint], list[Transaction]] = {}
    for transaction in sorted(transactions, key=lambda t: t.first.frame):
        request = transaction.request
        if request is not None:
            by_sender.setdefault((transaction.method, request.src), []).append(transaction)
    found = [
        ChallengeAnswer(challenge, answer)
        for sent in by_sender.values()
        for challenge, answer in pairwise(sent)
        if challenge.final_status in CHALLENGES and answer.request is not None
        and carries_credentials(answer.request)
    ]
    return sorted(found, key=lambda a: a.challenge.first.frame)
