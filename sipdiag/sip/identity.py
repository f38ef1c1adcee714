"""The Identity header (STIR, RFC 8224) and the PASSporT it carries (RFC 8225, RFC 8588).

An Identity value is a JSON Web Signature in its compact serialization (RFC 7515 section 7.1),
``<base64url header>.<base64url claims>.<base64url signature>``, followed by parameters:
``;info=<https://...>`` (where the signer's certificate is), ``;alg=ES256``, ``;ppt=shaken``
(RFC 8224 section 4). In the compact form of a PASSporT the header and the claims are left
out, ``..<signature>``, and the verifier rebuilds them from the request (RFC 8225 section 7).

The header of the JWS names the algorithm (``alg``, ES256), the type (``typ``: passport), the
extension (``ppt``) and the certificate's URL (``x5u``); its claims name the caller
(``orig.tn``), the called numbers (``dest.tn``, a list), when it was signed (``iat``, seconds
since 1970) and, for SHAKEN, how well the signer knows the caller (``attest``: A, B or C) and
an opaque origination id (``origid``).

``parse_identity`` never raises: whatever does not decode, or breaks the RFCs, is listed as an
``IdentityDefect`` with a detail, the way ``parser`` lists a message's defects. The input is
whatever a capture holds, so nothing here trusts it: sizes are bounded by the message's, JSON
nesting that would exhaust the stack and numbers that would not convert are defects too.

Pure parsing: no I/O, no cryptography (``identity_signature`` verifies signatures).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

PASSPORT_TYPE = "passport"
"""The ``typ`` of a PASSporT's header (RFC 8225 section 5.1.1)."""
SHAKEN = "shaken"
"""The ``ppt`` of a SHAKEN PASSporT (RFC 8588)."""
ES256 = "ES256"
ES256_SIGNATURE_BYTES = 64
"""ECDSA P-256 with SHA-256: R and S, 32 bytes each (RFC 7518 section 3.4)."""
LATEST_IAT = 253_402_300_799
"""9999-12-31T23:59:59Z: a later iat is no time at all."""

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_VISUAL_SEPARATORS = re.compile(r"[-.() ]")
"""RFC 3966 visual separators (and the space people type), which RFC 8224 section 8.3 drops."""
_DIGITS = re.compile(r"^[0-9]{1,20}$")
COUNTRY_CODE_DIGITS = 3
"""An E.164 country code has 1 to 3 digits (ITU-T E.164 section 6.2.1)."""


class IdentityDefect(StrEnum):
    """What can be wrong with an Identity header: problem kinds, like ``Defect``'s."""

    OBSOLETE_FORM = "identity_rfc4474_form"
    """A quoted signature: the form of RFC 4474, which RFC 8224 obsoletes."""
    NOT_JWS = "identity_not_jws"
    """Not three parts separated by dots."""
    BAD_BASE64 = "identity_bad_base64"
    BAD_JSON = "identity_bad_json"
    MISSING = "identity_missing_field"
    """A parameter, header field or claim the RFCs require is not there."""
    BAD_VALUE = "identity_bad_value"
    """A field of the wrong type or outside its values."""
    DISAGREES = "identity_parameters_disagree"
    """A parameter of the Identity header says otherwise than the PASSporT's header."""


class Form(StrEnum):
    FULL = "full"
    COMPACT = "compact"
    """``..<signature>``: header and claims left out (RFC 8225 section 7)."""


class Attestation(StrEnum):
    """How well the signer knows the caller (RFC 8588 section 4)."""

    FULL = "A"
    """It knows the customer and that the customer may use the calling number."""
    PARTIAL = "B"
    """It knows the customer, not that the customer may use the number."""
    GATEWAY = "C"
    """It only saw the call enter its network (a gateway)."""


Defects = tuple[tuple[IdentityDefect, str], ...]


@dataclass(frozen=True, slots=True)
class Passport:
    """What a full-form PASSporT says (its header and its claims)."""

    alg: str | None
    typ: str | None
    ppt: str | None
    x5u: str | None
    orig_tn: str | None
    orig_uri: str | None
    dest_tn: tuple[str, ...]
    dest_uri: tuple[str, ...]
    iat: int | None
    """Seconds since 1970 (a fraction is dropped)."""
    attest: Attestation | None
    origid: str | None


@dataclass(frozen=True, slots=True)
class Identity:
    """One Identity header value, decoded as far as it goes."""

    value: str
    form: Form | None
    """None when the value is no JWS at all."""
    info: str | None
    """The URI of the ``info`` parameter, without its angle brackets."""
    alg: str | None
    ppt: str | None
    passport: Passport | None
    """For the full form, when its header and claims decode."""
    signing_input: bytes
    """``header.claims`` as sent: what the signature covers (RFC 7515 section 5.1)."""
    signature: bytes
    defects: Defects

    @property
    def certificate_url(self) -> str | None:
        """Where the signer's certificate is: the PASSporT's x5u, else the info parameter."""
        x5u = self.passport.x5u if self.passport else None
        return x5u or self.info


class SigningCertificate(Protocol):
    """A certificate the user trusts, able to check a JWS signature (``identity_signature``
    makes them; the rules only ask)."""

    @property
    def name(self) -> str:
        """The file it was read from."""
        ...

    @property
    def subject(self) -> str: ...

    def verifies(self, signing_input: bytes, signature: bytes) -> bool: ...


def parse_identity(value: str) -> Identity:
    """One Identity value; never raises (see the module's text)."""
    text = value.strip()
    digest, _, rest = text.partition(";")
    params, defects = _parameters(rest)
    info, alg, ppt = params.get("info"), params.get("alg"), params.get("ppt")
    if info is None:
        defects.append((IdentityDefect.MISSING, "no info parameter (RFC 8224 section 4)"))
    if digest.startswith('"'):
        defects.append((IdentityDefect.OBSOLETE_FORM, "a quoted signature, as RFC 4474 wrote "
                                                      "it; RFC 8224 sends a PASSporT"))
        return Identity(value, None, info, alg, ppt, None, b"", b"", tuple(defects))
    parts = digest.split(".")
    if len(parts) != 3:
        defects.append((IdentityDefect.NOT_JWS, f"{len(parts)} part(s) separated by dots, "
                                                "a JWS has 3 (header.claims.signature)"))
        return Identity(value, None, info, alg, ppt, None, b"", b"", tuple(defects))
    header, claims, signature_text = parts
    if not header and not claims:
        signature = _base64url(signature_text, "signature", defects)
        return Identity(value, Form.COMPACT, info, alg, ppt, None, b"", signature or b"",
                        tuple(defects))
    passport = _passport(header, claims, defects)
    signature = _base64url(signature_text, "signature", defects)
    if passport is not None:
        _agree(passport, alg, ppt, defects)
        _signature_size(passport, signature, defects)
    signing_input = f"{header}.{claims}".encode("ascii", "replace")
    return Identity(value, Form.FULL, info, alg, ppt, passport, signing_input, signature or b"",
                    tuple(defects))


def _parameters(text: str) -> tuple[dict[str, str], list[tuple[IdentityDefect, str]]]:
    """``info=<URI>;alg=ES256;ppt=shaken``: names lower-cased, the URI without its brackets.
    A ``;`` inside the brackets belongs to the URI."""
    params: dict[str, str] = {}
    defects: list[tuple[IdentityDefect, str]] = []
    for name, value in _split_parameters(text):
        if name == "info":
            if not (value.startswith("<") and value.endswith(">")):
                defects.append((IdentityDefect.BAD_VALUE, f"info={value} is not a <URI> "
                                                          "(RFC 8224 section 4)"))
            value = value.strip("<>").strip()
        params.setdefault(name, value)
    return params, defects


def _split_parameters(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    depth, start = 0, 0
    for pos, char in enumerate(text + ";"):
        if char == "<":
            depth += 1
        elif char == ">":
            depth = max(depth - 1, 0)
        elif char == ";" and not depth:
            name, _, value = text[start:pos].partition("=")
            if name.strip():
                found.append((name.strip().lower(), value.strip().strip('"')))
            start = pos + 1
    return found


def _base64url(text: str, what: str, defects: list[tuple[IdentityDefect, str]]) -> bytes | None:
    """Decoded; None (and a defect) unless it is base64url (RFC 7515 section 2; padding is
    tolerated)."""
    if not _BASE64URL.match(text) or len(text.rstrip("=")) % 4 == 1:
        defects.append((IdentityDefect.BAD_BASE64, f"the {what} part is not base64url"))
        return None
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        defects.append((IdentityDefect.BAD_BASE64, f"the {what} part is not base64url"))
        return None


def _json_object(text: str, what: str,
                 defects: list[tuple[IdentityDefect, str]]) -> dict[str, object] | None:
    raw = _base64url(text, what, defects)
    if raw is None:
        return None
    try:
        found = json.loads(raw)
    except (ValueError, RecursionError):  # bad JSON or UTF-8, huge numbers, deep nesting
        defects.append((IdentityDefect.BAD_JSON, f"the {what} part is not JSON"))
        return None
    if not isinstance(found, dict):
        defects.append((IdentityDefect.BAD_JSON, f"the {what} part is not a JSON object"))
        return None
    return found


def _passport(header_text: str, claims_text: str,
              defects: list[tuple[IdentityDefect, str]]) -> Passport | None:
    header = _json_object(header_text, "header", defects)
    claims = _json_object(claims_text, "claims", defects)
    if header is None or claims is None:
        return None
    fields = _Fields(defects)
    orig = fields.nested(claims, "orig", "RFC 8225 section 5.2.1")
    dest = fields.nested(claims, "dest", "RFC 8225 section 5.2.1")
    ppt = fields.text(header, "ppt")
    shaken = ppt == SHAKEN
    passport = Passport(
        alg=fields.text(header, "alg", "RFC 8225 section 5.1.2"),
        typ=fields.text(header, "typ", "RFC 8225 section 5.1.1"),
        ppt=ppt,
        x5u=fields.text(header, "x5u", "RFC 8225 section 5.1.3"),
        orig_tn=fields.text(orig, "tn") if orig is not None else None,
        orig_uri=fields.text(orig, "uri") if orig is not None else None,
        dest_tn=fields.texts(dest, "tn") if dest is not None else (),
        dest_uri=fields.texts(dest, "uri") if dest is not None else (),
        iat=fields.time(claims, "iat"),
        attest=fields.attestation(claims) if shaken else None,
        origid=fields.text(claims, "origid", "RFC 8588") if shaken else None,
    )
    if passport.typ is not None and passport.typ.lower() != PASSPORT_TYPE:
        defects.append((IdentityDefect.BAD_VALUE, f'typ is "{passport.typ}", not "passport" '
                                                  "(RFC 8225 section 5.1.1)"))
    if orig is not None and passport.orig_tn is None and passport.orig_uri is None:
        defects.append((IdentityDefect.MISSING, "orig has neither tn nor uri "
                                                "(RFC 8225 section 5.2.1)"))
    if dest is not None and not passport.dest_tn and not passport.dest_uri:
        defects.append((IdentityDefect.MISSING, "dest has neither tn nor uri "
                                                "(RFC 8225 section 5.2.1)"))
    return passport


class _Fields:
    """Reads typed fields of a JSON object, listing what is missing or of the wrong type."""

    def __init__(self, defects: list[tuple[IdentityDefect, str]]) -> None:
        self.defects = defects

    def _missing(self, name: str, rfc: str) -> None:
        self.defects.append((IdentityDefect.MISSING, f"no {name} ({rfc})"))

    def _bad(self, name: str, wanted: str, value: object) -> None:
        self.defects.append((IdentityDefect.BAD_VALUE, f"{name} is {_shown(value)}, not {wanted}"))

    def nested(self, data: dict[str, object], name: str, rfc: str) -> dict[str, object] | None:
        value = data.get(name)
        if value is None:
            self._missing(name, rfc)
            return None
        if not isinstance(value, dict):
            self._bad(name, "an object", value)
            return None
        return value

    def text(self, data: dict[str, object], name: str, rfc: str | None = None) -> str | None:
        """A string field; missing (or empty: it names nothing) is a defect only when ``rfc``
        requires it."""
        value = data.get(name)
        if value is None or value == "":
            if rfc is not None:
                self._missing(name, rfc)
            return None
        if not isinstance(value, str):
            self._bad(name, "a string", value)
            return None
        return _printable(value)

    def texts(self, data: dict[str, object], name: str) -> tuple[str, ...]:
        """A list of strings (a single string is read as a list of one, and said)."""
        value = data.get(name)
        if value is None:
            return ()
        if isinstance(value, str):
            self._bad(f"dest.{name}", "a list (RFC 8225 section 5.2.1)", value)
            return (_printable(value),) if value else ()
        if not isinstance(value, list) or not all(isinstance(item, str) and item
                                                  for item in value):
            self._bad(f"dest.{name}", "a list of strings, none empty", value)
            return ()
        return tuple(map(_printable, value))

    def time(self, data: dict[str, object], name: str) -> int | None:
        """A NumericDate (RFC 7519 section 2): seconds since 1970, maybe with a fraction."""
        value = data.get(name)
        if value is None:
            self._missing(name, "RFC 8225 section 5.2")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)
        ) or not 0 <= value <= LATEST_IAT:  # (a huge int is compared, never made a float)
            self._bad(name, "a time in seconds since 1970", value)
            return None
        return int(value)

    def attestation(self, data: dict[str, object]) -> Attestation | None:
        value = self.text(data, "attest", "RFC 8588 section 4")
        if value is None:
            return None
        try:
            return Attestation(value)
        except ValueError:
            self._bad("attest", "A, B or C (RFC 8588 section 4)", value)
            return None


def _printable(text: str) -> str:
    """A JSON string as text that can be written out: JSON lets a string hold half of a
    UTF-16 pair (``"\\ud800"``), which no UTF-8 output takes; it is kept as that escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _shown(value: object) -> str:
    """A JSON value in a few characters: a string or number as written (cut), else its kind."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value[:40])
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)[:40]
    if isinstance(value, int):
        return str(value) if abs(value) < 10**20 else "a number of many digits"
    return "null"


def _agree(passport: Passport, alg: str | None, ppt: str | None,
           defects: list[tuple[IdentityDefect, str]]) -> None:
    """The Identity header's alg and ppt, when given, are the PASSporT header's (RFC 8224
    section 4)."""
    for name, param, inside in (("alg", alg, passport.alg), ("ppt", ppt, passport.ppt)):
        if param is not None and inside is not None and param != inside:
            defects.append((IdentityDefect.DISAGREES,
                            f"the parameter {name}={param} but the PASSporT says {inside}"))


def _signature_size(passport: Passport, signature: bytes | None,
                    defects: list[tuple[IdentityDefect, str]]) -> None:
    if passport.alg == ES256 and signature is not None and (
        len(signature) != ES256_SIGNATURE_BYTES
    ):
        defects.append((IdentityDefect.BAD_VALUE, f"the ES256 signature has {len(signature)} "
                                                  "bytes, not 64 (RFC 7518 section 3.4)"))


def canonical_number(text: str) -> str | None:
    """A telephone number as RFC 8224 section 8.3 compares them: visual separators and the
    leading + dropped, digits only; None when it is no telephone number (``alice``)."""
    digits = _VISUAL_SEPARATORS.sub("", text.strip()).removeprefix("+")
    return digits if _DIGITS.match(digits) else None


def uri_user(uri: str) -> str | None:
    """The user part of a SIP URI, or a tel URI's number, as written and without parameters
    (``sip:+1-202-555-0101;npdi@example.com`` gives +1-202-555-0101); None for other URIs."""
    scheme, colon, rest = uri.strip().partition(":")
    if not colon:
        return None
    if scheme.lower() == "tel":
        user = rest
    elif scheme.lower() in ("sip", "sips") and "@" in rest:
        user = rest.split("@", 1)[0]
    else:
        return None
    return user.split(";", 1)[0]


def uri_number(uri: str) -> str | None:
    """The telephone number a SIP or tel URI names, canonical; None if it names none."""
    user = uri_user(uri)
    return None if user is None else canonical_number(user)


def same_number(signed: str, seen: str) -> bool:
    """Two canonical numbers name the same line: equal, or one is the other with a country
    code before it (a national number in the request, an E.164 one signed, or the reverse:
    RFC 8224 section 8.3 leaves adding the country code to local policy)."""
    if signed == seen:
        return True
    shorter, longer = sorted((signed, seen), key=len)
    return len(longer) - len(shorter) <= COUNTRY_CODE_DIGITS and longer.endswith(shorter)
