"""STIR/SHAKEN: the Identity header of a request (RFC 8224) against the request it signs.

A verifier reads the PASSporT in the Identity header (RFC 8225) and checks it against the
request: the signed caller (``orig.tn``) must be the number in From or P-Asserted-Identity,
one of the signed called numbers (``dest.tn``) the number in To or the Request-URI, compared
canonically (RFC 8224 section 8.3); ``iat`` must be fresh, within 60 s of the request by
default (RFC 8224 section 6.2, step 4); the signature must verify with the certificate the
header names (step 5). What fails is what it answers with 438, 436 or 437, or with 428 when
there was no Identity at all (section 6.2.2). The checks here say which of these a captured
request would fail, and explain such an answer with what the request's Identity showed.

Signatures are checked only with certificates the user gave (``--stir-certs``), handed to the
checks that take a ``certificates`` parameter (``rules.given``); the x5u a capture names
is never fetched.

The same request on several hops, or sent again, is one event: one finding with every copy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.checks.facts import Needs
from sipdiag.rules.checks.registry import Param, Subject, check, hit
from sipdiag.rules.matcher import Hit, hop_key, latest, story_of, transaction_values
from sipdiag.rules.model import parse_duration
from sipdiag.sip.headers import parse_name_addr
from sipdiag.sip.identity import (
    Attestation,
    Form,
    Identity,
    SigningCertificate,
    canonical_number,
    parse_identity,
    same_number,
    uri_user,
)
from sipdiag.sip.message import SipMessage

SECOND_NS = 1_000_000_000
FRESHNESS_NS = 60 * SECOND_NS
"""The verifier's freshness window RFC 8224 section 6.2 (step 4) recommends."""
SHOWN = 80
"""At most this many characters of a value taken from the capture."""
CERTIFICATES = "certificates"
"""The parameter the command line fills with the user's certificates (``rules.given``)."""

_REQUEST = tuple(f"request.{key}" for key in (
    "method", "frame", "time", "status", "reason", "final_frame", "sender", "responder",
    "copies", "wait"))
"""What ``transaction_values`` fills for the request."""

decoded = lru_cache(maxsize=4096)(parse_identity)
"""Every check reads the same headers: each value is decoded once."""
SIGNED = Needs(request_headers=("identity",))
"""What the checks of an Identity header need: one."""


@dataclass(frozen=True, slots=True)
class Signed:
    """One Identity header of a request, decoded."""

    transaction: Transaction
    request: SipMessage
    identity: Identity

    @property
    def key(self) -> tuple[object, ...]:
        """The same header on the same request, on any hop or copy."""
        return (self.request.method, self.request.cseq, self.identity.value)


@dataclass(frozen=True, slots=True)
class Party:
    """A header naming the caller or the callee: its name, its user part as written and the
    telephone number that is (None: no number)."""

    header: str
    user: str
    number: str | None

    def __str__(self) -> str:
        return f"{self.header} {_cut(self.user)}"


@latest
def signed_requests(subject: Subject) -> tuple[Signed, ...]:
    """Every Identity header of every request, in frame order (read once for all the
    checks)."""
    return tuple(Signed(transaction, request, decoded(value))
                 for transaction in story_of(subject).transactions
                 if (request := transaction.request) is not None
                 for value in request.values("identity"))


def _values(subject: Subject, signed: Signed) -> dict[str, str]:
    return transaction_values("request", signed.transaction, subject.start_ns)


def _found(subject: Subject, signed: Signed, values: dict[str, str]) -> Hit:
    return hit(subject, {**_values(subject, signed), **values}, [signed.request], signed.key)


@check("identity_malformed", (*_REQUEST, "problem"), needs=SIGNED)
def identity_malformed(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """An Identity header that does not decode, or breaks RFC 8224, 8225 or 8588."""
    for signed in signed_requests(subject):
        if signed.identity.defects:
            yield _found(subject, signed, {"problem": _problems(signed.identity)})


def _problems(identity: Identity) -> str:
    return "; ".join(f"{kind}: {detail}" for kind, detail in identity.defects)


def callers(request: SipMessage) -> list[Party]:
    """From, and each P-Asserted-Identity: where a verifier looks for the signed caller."""
    found = request.name_addr("from")
    uris = [("From", found.uri)] if found else []
    uris += [("P-Asserted-Identity", parse_name_addr(value).uri)
             for value in request.values("p-asserted-identity")]
    return _parties(uris)


def callees(request: SipMessage) -> list[Party]:
    """To and the Request-URI: where a verifier looks for the signed called number."""
    found = request.name_addr("to")
    uris = [("To", found.uri)] if found else []
    return _parties([*uris, ("Request-URI", request.request_uri)])


def _parties(uris: list[tuple[str, str]]) -> list[Party]:
    return [Party(header, user, canonical_number(user))
            for header, uri in uris if (user := uri_user(uri)) is not None]


def unmatched(signed: Sequence[str], parties: list[Party]) -> bool:
    """None of the signed numbers is the number of any of the parties: what a verifier fails
    (RFC 8224 section 6.2). Signed values that are no number, or no party to compare
    with, are no evidence either way."""
    numbers = [number for text in signed if (number := canonical_number(text))]
    if not numbers or not parties:
        return False
    return not any(party.number and same_number(number, party.number)
                   for number in numbers for party in parties)


def orig_mismatch(signed: Signed) -> list[Party] | None:
    """The callers the request names, when the signed orig.tn is none of them."""
    passport = signed.identity.passport
    if passport is None or passport.orig_tn is None:
        return None
    parties = callers(signed.request)
    return parties if unmatched([passport.orig_tn], parties) else None


def dest_mismatch(signed: Signed) -> list[Party] | None:
    """The callees the request names, when no signed dest.tn is one of them."""
    passport = signed.identity.passport
    if passport is None:
        return None
    parties = callees(signed.request)
    return parties if unmatched(passport.dest_tn, parties) else None


@check("identity_orig_mismatch", (*_REQUEST, "orig", "callers"), needs=SIGNED)
def identity_orig_mismatch(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    for signed in signed_requests(subject):
        parties = orig_mismatch(signed)
        if parties is not None:
            assert signed.identity.passport is not None
            yield _found(subject, signed, {"orig": _cut(signed.identity.passport.orig_tn or ""),
                                           "callers": _listed(parties)})


@check("identity_dest_mismatch", (*_REQUEST, "dest", "callees"), needs=SIGNED)
def identity_dest_mismatch(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    for signed in signed_requests(subject):
        parties = dest_mismatch(signed)
        if parties is not None:
            assert signed.identity.passport is not None
            dest = ", ".join(signed.identity.passport.dest_tn)
            yield _found(subject, signed, {"dest": _cut(dest), "callees": _listed(parties)})


def _listed(parties: list[Party]) -> str:
    return ", ".join(map(str, parties))


def iat_offset_ns(signed: Signed) -> int | None:
    """iat minus the time the request was captured (negative: signed before it was sent)."""
    passport = signed.identity.passport
    if passport is None or passport.iat is None:
        return None
    return passport.iat * SECOND_NS - signed.request.ts_ns


_WINDOW: Mapping[str, Param] = {"window": (parse_duration, FRESHNESS_NS)}
_IAT = (*_REQUEST, "iat", "age", "window")


@check("identity_iat_stale", _IAT, _WINDOW, SIGNED)
def identity_iat_stale(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """iat more than the window before the request: a replayed or held-up PASSporT."""
    yield from _outside_window(subject, params, ahead=False)


@check("identity_iat_ahead", _IAT, _WINDOW, SIGNED)
def identity_iat_ahead(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """iat more than the window after the request: the signer's clock is ahead (or the
    capturing host's behind)."""
    yield from _outside_window(subject, params, ahead=True)


def _outside_window(subject: Subject, params: Mapping[str, object], *, ahead: bool
                    ) -> Iterator[Hit]:
    window = params["window"]
    assert isinstance(window, int)
    for signed in signed_requests(subject):
        offset = iat_offset_ns(signed)
        if offset is None or abs(offset) <= window or (offset > 0) != ahead:
            continue
        assert signed.identity.passport is not None and signed.identity.passport.iat is not None
        yield _found(subject, signed, {
            "iat": _utc(signed.identity.passport.iat),
            "age": f"{abs(offset) / SECOND_NS:.0f}",
            "window": f"{window / SECOND_NS:g}",
        })


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _attestation(value: object) -> Attestation:
    if value not in tuple(Attestation):
        raise ValueError("give an attestation level: A, B or C")
    return Attestation(str(value))


@check("identity_attestation", (*_REQUEST, "attest", "orig", "signer"),
       {"level": (_attestation, Attestation.GATEWAY)}, SIGNED)
def identity_attestation(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """An INVITE starting a call, signed with the attestation level of the rule
    (RFC 8588 section 4)."""
    for signed in signed_requests(subject):
        passport = signed.identity.passport
        initial = signed.request.method == "INVITE" and not signed.request.to_tag
        if not initial or passport is None or passport.attest is None or (
            passport.attest != params["level"]
        ):
            continue
        yield _found(subject, signed, {"attest": passport.attest.value,
                                       "orig": _cut(passport.orig_tn or "-"),
                                       "signer": _cut(signed.identity.certificate_url or "-")})


def _given_by_user(value: object) -> tuple[SigningCertificate, ...]:
    raise ValueError("certificates are given with --stir-certs DIR, not in a rule file")


def _status(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 499:
        raise ValueError("give the response code (428, 436, 437, 438)")
    return value


@check("identity_refused", (*_REQUEST, "identities", "identity", "faults"),
       {"status": (_status, 438), CERTIFICATES: (_given_by_user, ())})
def identity_refused(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A request answered with the rule's status (428, 436, 437, 438: RFC 8224 section
    6.2.2), with what its Identity headers showed and what in them a verifier fails."""
    status, certificates = params["status"], _certificates(params)
    story = story_of(subject)
    if status not in story.statuses:
        return
    for transaction in story.transactions:
        request, final = transaction.request, transaction.final
        if final is None or final.status != status:
            continue
        shown = [] if request is None else [
            Signed(transaction, request, decoded(v)) for v in request.values("identity")]
        values = {
            **transaction_values("request", transaction, subject.start_ns),
            "identities": str(len(shown)) if request is not None else "-",
            "identity": " | ".join(_summary(signed) for signed in shown) or "-",
            "faults": "; ".join(f for s in shown for f in faults(s, certificates)) or "-",
        }
        messages = [m for m in (request, final) if m is not None]
        yield hit(subject, values, messages, hop_key(transaction), (("response", final.status),))


def _summary(signed: Signed) -> str:
    """What the header says, in the PASSporT's own words."""
    identity = signed.identity
    passport = identity.passport
    if identity.form is Form.COMPACT:
        return f"..<signature>, info {_cut(identity.info or '-')}"
    if passport is None:
        return ", ".join(dict.fromkeys(kind.value for kind, _ in identity.defects))
    parts = [("ppt", passport.ppt), ("attest", passport.attest and passport.attest.value),
             ("orig.tn", passport.orig_tn), ("dest.tn", ", ".join(passport.dest_tn) or None),
             ("iat", _iat_text(signed)), ("x5u", passport.x5u)]
    return ", ".join(f"{name} {_cut(value)}" for name, value in parts if value)


def _iat_text(signed: Signed) -> str | None:
    """``INVITE - 75 s``: iat against the time the request was captured."""
    offset = iat_offset_ns(signed)
    if offset is None:
        return None
    seconds = round(offset / SECOND_NS)
    method = signed.request.method
    return method if seconds == 0 else f"{method} {'+' if seconds > 0 else '-'} {abs(seconds)} s"


def faults(signed: Signed, certificates: Sequence[SigningCertificate] = (),
           window_ns: int = FRESHNESS_NS) -> list[str]:
    """What in the header a verifier fails, in the PASSporT's words (``orig.tn 1202... ≠
    From 1202...``): its defects, the numbers, the freshness, the certificate's URL and,
    with the user's certificates, the signature."""
    identity = signed.identity
    found = [f"{kind}: {detail}" for kind, detail in identity.defects]
    passport = identity.passport
    if passport is None:
        return found
    callers_seen, callees_seen = orig_mismatch(signed), dest_mismatch(signed)
    if callers_seen is not None:
        found.append(f"orig.tn {_cut(passport.orig_tn or '')} ≠ {_listed(callers_seen)}")
    if callees_seen is not None:
        found.append(f"dest.tn {_cut(', '.join(passport.dest_tn))} ≠ {_listed(callees_seen)}")
    offset = iat_offset_ns(signed)
    if offset is not None and abs(offset) > window_ns:
        found.append(f"iat {_iat_text(signed)} (> {window_ns / SECOND_NS:g} s)")
    for name, url in (("info", identity.info), ("x5u", passport.x5u)):
        if url and not url.lower().startswith("https:"):
            found.append(f"{name} {_cut(url)} (≠ https)")
    if checkable(identity, certificates) and verifier(identity, certificates) is None:
        found.append(f"signature ≠ {_names(identity, certificates)}")
    return found


def _certificates(params: Mapping[str, object]) -> tuple[SigningCertificate, ...]:
    found = params.get(CERTIFICATES, ())
    assert isinstance(found, tuple)
    return found


def tried(identity: Identity, certificates: Sequence[SigningCertificate]
          ) -> list[SigningCertificate]:
    """The certificates to try: those read from the file the x5u (else info) URL names, or
    every one when none was."""
    url = identity.certificate_url or ""
    file_name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    named = [c for c in certificates if file_name and c.name == file_name]
    return named or list(certificates)


def checkable(identity: Identity, certificates: Sequence[SigningCertificate]) -> bool:
    """There is a signature to check and something to check it with (not the compact form,
    whose header and claims a verifier rebuilds: RFC 8225 section 7)."""
    return bool(certificates) and identity.passport is not None and bool(identity.signature)


def verifier(identity: Identity, certificates: Sequence[SigningCertificate]
             ) -> SigningCertificate | None:
    """The first certificate to try that verifies the signature, if one does."""
    return next((c for c in tried(identity, certificates)
                 if c.verifies(identity.signing_input, identity.signature)), None)


def _names(identity: Identity, certificates: Sequence[SigningCertificate]) -> str:
    return ", ".join(dict.fromkeys(c.name for c in tried(identity, certificates)))


_SIGNATURE = (*_REQUEST, "certificate", "subject", "signer")


@check("identity_signature_invalid", _SIGNATURE,
       {CERTIFICATES: (_given_by_user, ())}, SIGNED)
def identity_signature_invalid(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A signature none of the user's certificates verifies (RFC 8224 section 6.2, step 5)."""
    certificates = _certificates(params)
    for signed in signed_requests(subject):
        identity = signed.identity
        if checkable(identity, certificates) and verifier(identity, certificates) is None:
            names = _names(identity, certificates)
            yield _found(subject, signed, _signature_values(signed, names, "-"))


@check("identity_signature_verified", _SIGNATURE,
       {CERTIFICATES: (_given_by_user, ())}, SIGNED)
def identity_signature_verified(
    subject: Subject, params: Mapping[str, object], catalog: Catalog
) -> Iterator[Hit]:
    """A signature one of the user's certificates verifies."""
    certificates = _certificates(params)
    for signed in signed_requests(subject):
        found = verifier(signed.identity, certificates) if checkable(
            signed.identity, certificates) else None
        if found is not None:
            yield _found(subject, signed, _signature_values(signed, found.name, found.subject))


def _signature_values(signed: Signed, certificate: str, subject: str) -> dict[str, str]:
    return {"certificate": certificate, "subject": _cut(subject),
            "signer": _cut(signed.identity.certificate_url or "-")}


def _cut(text: str) -> str:
    """A value from the capture, cut to what a line of the report can show."""
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


__all__ = ["CERTIFICATES", "callees", "callers", "faults", "signed_requests"]
