"""The Identity header decoded (RFC 8224 section 4, RFC 8225, RFC 8588): the PASSporT's
header and claims, the compact form, the parameters, every defect named; and telephone numbers
compared as RFC 8224 section 8.3 canonicalises them.

The PASSporTs here are built in the test from their JSON (RFC 7515 section 7.1: base64url of
the header, of the claims, of the signature, joined by dots), so what the decoder must give
back is what was put in."""

from __future__ import annotations

import base64
import json

import pytest

from sipdiag.sip.identity import (
    Attestation,
    Form,
    IdentityDefect,
    canonical_number,
    parse_identity,
    same_number,
    uri_number,
    uri_user,
)

HEADER = {"alg": "ES256", "ppt": "shaken", "typ": "passport",
          "x5u": "https://cert.example.org/stir/signer.pem"}
CLAIMS = {"attest": "A", "dest": {"tn": ["12025550123"]}, "iat": 1700000000,
          "orig": {"tn": "12025550101"}, "origid": "123e4567-e89b-12d3-a456-426655440000"}
SIGNATURE = bytes(range(64))
"""64 bytes, as ES256 gives (RFC 7518 section 3.4): never checked here, only decoded."""
PARAMS = ";info=<https://cert.example.org/stir/signer.pem>;alg=ES256;ppt=shaken"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jws(header: object = HEADER, claims: object = CLAIMS, signature: bytes = SIGNATURE) -> str:
    return ".".join((b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()),
                     b64(signature)))


def kinds(value: str) -> list[IdentityDefect]:
    return [kind for kind, _ in parse_identity(value).defects]


def details(value: str) -> str:
    return "; ".join(detail for _, detail in parse_identity(value).defects)


def test_a_shaken_passport_gives_back_its_header_claims_and_parameters() -> None:
    identity = parse_identity(jws() + PARAMS)
    assert identity.defects == ()
    assert identity.form is Form.FULL
    assert (identity.info, identity.alg, identity.ppt) == (
        "https://cert.example.org/stir/signer.pem", "ES256", "shaken")
    passport = identity.passport
    assert passport is not None
    assert (passport.alg, passport.typ, passport.ppt, passport.x5u) == (
        "ES256", "passport", "shaken", "https://cert.example.org/stir/signer.pem")
    assert (passport.orig_tn, passport.dest_tn, passport.iat) == (
        "12025550101", ("12025550123",), 1700000000)
    assert passport.attest is Attestation.FULL
    assert passport.origid == "123e4567-e89b-12d3-a456-426655440000"
    assert identity.signature == SIGNATURE


def test_the_signing_input_is_header_and_claims_as_sent() -> None:
    # RFC 7515 section 5.1: ASCII(BASE64URL(header) || '.' || BASE64URL(payload)), the
    # encoded parts as they were sent, not encoded again
    value = jws()
    header, claims, _ = value.split(".")
    assert parse_identity(value + PARAMS).signing_input == f"{header}.{claims}".encode()


def test_the_compact_form_has_only_a_signature() -> None:
    # RFC 8225 section 7: header and claims left out, "..signature"
    identity = parse_identity(f"..{b64(SIGNATURE)}{PARAMS}")
    assert identity.form is Form.COMPACT
    assert identity.passport is None and identity.defects == ()
    assert identity.signature == SIGNATURE


def test_base64url_padding_is_tolerated() -> None:
    padded = base64.urlsafe_b64encode(json.dumps(CLAIMS).encode()).decode()
    header, _, signature = jws().split(".")
    assert padded.endswith("=")
    identity = parse_identity(f"{header}.{padded}.{signature}{PARAMS}")
    assert identity.defects == () and identity.passport is not None


def test_a_semicolon_inside_the_info_uri_belongs_to_the_uri() -> None:
    identity = parse_identity(jws() + ";info=<https://cert.example.org/a;v=2>;ppt=shaken")
    assert identity.info == "https://cert.example.org/a;v=2"
    assert identity.ppt == "shaken"


def test_the_certificate_url_is_x5u_else_info() -> None:
    assert parse_identity(jws() + ";info=<https://other.example/x.pem>").certificate_url == (
        "https://cert.example.org/stir/signer.pem")
    compact = parse_identity(f"..{b64(SIGNATURE)};info=<https://other.example/x.pem>")
    assert compact.certificate_url == "https://other.example/x.pem"


@pytest.mark.parametrize(("value", "kind", "says"), [
    # RFC 8224 section 4: ident-info is not optional
    (jws(), IdentityDefect.MISSING, "no info parameter"),
    (jws() + ";info=https://cert.example.org/a.pem", IdentityDefect.BAD_VALUE, "not a <URI>"),
    # RFC 4474's quoted signature with Identity-Info beside it, which RFC 8224 replaced
    ('"ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3VgrB0SsSAa"' + PARAMS,
     IdentityDefect.OBSOLETE_FORM, "RFC 4474"),
    ("a.b" + PARAMS, IdentityDefect.NOT_JWS, "2 part(s)"),
    ("" + PARAMS, IdentityDefect.NOT_JWS, "1 part(s)"),
    (jws().replace(".", ".%25", 1) + PARAMS, IdentityDefect.BAD_BASE64, "claims part"),
    (".".join((b64(b"{not json"), *jws().split(".")[1:])) + PARAMS, IdentityDefect.BAD_JSON,
     "header part is not JSON"),
    (jws(claims=["a", "list"]) + PARAMS, IdentityDefect.BAD_JSON, "claims part is not a JSON"),
])
def test_what_does_not_decode_is_named(value: str, kind: IdentityDefect, says: str) -> None:
    assert kind in kinds(value)
    assert says in details(value)


@pytest.mark.parametrize(("claims", "says"), [
    ({k: v for k, v in CLAIMS.items() if k != "iat"}, "no iat"),  # RFC 8225 section 5.2
    ({k: v for k, v in CLAIMS.items() if k != "orig"}, "no orig"),
    ({k: v for k, v in CLAIMS.items() if k != "dest"}, "no dest"),
    ({k: v for k, v in CLAIMS.items() if k != "attest"}, "no attest"),  # RFC 8588 section 4
    ({k: v for k, v in CLAIMS.items() if k != "origid"}, "no origid"),
    ({**CLAIMS, "orig": {}}, "orig has neither tn nor uri"),
    ({**CLAIMS, "dest": {}}, "dest has neither tn nor uri"),
])
def test_a_required_claim_left_out_is_missing(claims: dict[str, object], says: str) -> None:
    value = jws(claims=claims) + PARAMS
    assert IdentityDefect.MISSING in kinds(value)
    assert says in details(value)


@pytest.mark.parametrize(("claims", "says"), [
    ({**CLAIMS, "attest": "D"}, 'attest is "D", not A, B or C'),
    ({**CLAIMS, "iat": "1700000000"}, 'iat is "1700000000"'),  # a NumericDate is a number
    ({**CLAIMS, "iat": True}, "iat is true"),
    ({**CLAIMS, "iat": -1}, "iat is -1"),
    ({**CLAIMS, "iat": 10**30}, "iat is a number of many digits"),
    ({**CLAIMS, "orig": "12025550101"}, 'orig is "12025550101", not an object'),
    ({**CLAIMS, "dest": {"tn": [1]}}, "dest.tn is a list, not a list of strings"),
])
def test_a_claim_of_the_wrong_kind_is_a_bad_value(claims: dict[str, object], says: str) -> None:
    value = jws(claims=claims) + PARAMS
    assert IdentityDefect.BAD_VALUE in kinds(value)
    assert says in details(value)


def test_a_single_called_number_not_in_a_list_is_read_and_said() -> None:
    # RFC 8225 section 5.2.1: dest's tn is an array
    identity = parse_identity(jws(claims={**CLAIMS, "dest": {"tn": "12025550123"}}) + PARAMS)
    assert identity.passport is not None and identity.passport.dest_tn == ("12025550123",)
    assert [kind for kind, _ in identity.defects] == [IdentityDefect.BAD_VALUE]


def test_a_fraction_of_a_second_in_iat_is_dropped() -> None:
    identity = parse_identity(jws(claims={**CLAIMS, "iat": 1700000000.75}) + PARAMS)
    assert identity.passport is not None and identity.passport.iat == 1700000000
    assert identity.defects == ()


def test_the_header_must_say_passport() -> None:
    value = jws(header={**HEADER, "typ": "JWT"}) + PARAMS  # RFC 8225 section 5.1.1
    assert 'typ is "JWT", not "passport"' in details(value)


def test_parameters_that_say_otherwise_than_the_passport_disagree() -> None:
    value = jws() + ";info=<https://cert.example.org/a.pem>;alg=RS256;ppt=div"
    assert kinds(value) == [IdentityDefect.DISAGREES, IdentityDefect.DISAGREES]
    assert "alg=RS256 but the PASSporT says ES256" in details(value)
    assert "ppt=div but the PASSporT says shaken" in details(value)


def test_an_es256_signature_must_be_64_bytes() -> None:
    value = jws(signature=SIGNATURE[:63]) + PARAMS
    assert "has 63 bytes, not 64" in details(value)


def test_a_passport_without_ppt_needs_no_shaken_claims() -> None:
    # attest and origid are SHAKEN's (RFC 8588); a plain PASSporT (RFC 8225) has neither
    header = {k: v for k, v in HEADER.items() if k != "ppt"}
    claims = {k: v for k, v in CLAIMS.items() if k not in ("attest", "origid")}
    identity = parse_identity(jws(header, claims) + ";info=<https://cert.example.org/a.pem>")
    assert identity.defects == ()
    assert identity.passport is not None and identity.passport.attest is None


@pytest.mark.parametrize(("text", "canonical"), [
    # RFC 8224 section 8.3: visual separators and the leading + go, digits remain
    ("+1 (202) 555-0101", "12025550101"),
    ("+1.202.555.0101", "12025550101"),
    ("12025550101", "12025550101"),
    ("alice", None),
    ("", None),
    ("+", None),
    ("*69", None),
])
def test_canonical_numbers(text: str, canonical: str | None) -> None:
    assert canonical_number(text) == canonical


@pytest.mark.parametrize(("uri", "user", "number"), [
    ("sip:+1-202-555-0101;npdi@example.com;user=phone", "+1-202-555-0101", "12025550101"),
    ("sips:+12025550101@example.com", "+12025550101", "12025550101"),
    ("tel:+1-202-555-0101;phone-context=example.com", "+1-202-555-0101", "12025550101"),
    ("sip:alice@example.com", "alice", None),
    ("sip:example.com", None, None),  # no user part
    ("mailto:a@example.com", None, None),
    ("garbage", None, None),
])
def test_the_number_a_uri_names(uri: str, user: str | None, number: str | None) -> None:
    assert uri_user(uri) == user
    assert uri_number(uri) == number


@pytest.mark.parametrize(("signed", "seen", "same"), [
    ("12025550101", "12025550101", True),
    ("12025550101", "2025550101", True),  # the national number, country code 1 left out
    ("442079460000", "2079460000", True),  # a two-digit country code
    ("12025550101", "5550101", False),  # four digits are more than a country code
    ("12025550101", "12025550102", False),
    ("12025550101", "202555010", False),  # not its end
])
def test_same_number(signed: str, seen: str, same: bool) -> None:
    assert same_number(signed, seen) is same
    assert same_number(seen, signed) is same
