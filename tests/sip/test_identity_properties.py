"""Arbitrary text in an Identity header: the decoder gives an Identity, its defects naming what
is wrong, and never raises (property tests, as tests/test_properties_bytes.py does for the SIP
parser). A capture is hostile input: JSON nested deeper than the stack, numbers of thousands of
digits, NaN and Infinity, text that is not UTF-8 must all come back as defects."""

from __future__ import annotations

import base64

from hypothesis import example, given
from hypothesis import strategies as st

from sipdiag.dialogs.transactions import Transaction
from sipdiag.rules.checks.identity import Signed, faults
from sipdiag.sip.identity import Form, Identity, IdentityDefect, parse_identity
from sipdiag.sip.parser import parse_message
from tests import packets
from tests.sip.test_identity import PARAMS, jws
from tests.test_properties_bytes import SETTINGS, mutated

VALID = jws() + PARAMS


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
CLAIM_NAMES = st.sampled_from(["iat", "orig", "dest", "attest", "origid", "tn", "uri", "x"])


def check(value: str) -> Identity:
    identity = parse_identity(value)
    assert all(isinstance(kind, IdentityDefect) and detail for kind, detail in identity.defects)
    passport = identity.passport
    if passport is not None:
        assert identity.form is Form.FULL
        assert passport.iat is None or (isinstance(passport.iat, int) and passport.iat >= 0)
        texts = [passport.orig_tn, passport.orig_uri, passport.x5u, passport.origid,
                 *passport.dest_tn, *passport.dest_uri]
        for text in texts:  # what the reports write out must encode
            assert text is None or text.encode("utf-8")
    for _, detail in identity.defects:
        detail.encode("utf-8")
    return identity


@SETTINGS
@given(st.one_of(st.text(max_size=300), mutated(VALID.encode()).map(
    lambda b: b.decode("utf-8", "backslashreplace"))))
def test_any_text_decodes_or_names_its_defects(value: str) -> None:
    check(value)


@SETTINGS
@given(st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=6),
       st.dictionaries(st.sampled_from(["alg", "typ", "ppt", "x5u"]), JSON_VALUES, max_size=4))
# found by a run of the suite: an empty x5u came out as an empty text, not as missing
@example({}, {"alg": None, "typ": None, "ppt": None, "x5u": ""})
@example({"dest": {"tn": ""}, "orig": {"tn": ""}}, {})
def test_any_json_in_the_header_and_claims_decodes_or_names_its_defects(
    claims: dict[str, object], header: dict[str, object],
) -> None:
    check(jws(header, claims) + PARAMS)


@SETTINGS
@given(st.sampled_from([
    b"[" * 100_000,  # deeper than the stack
    b'{"iat":' + b"9" * 5000 + b"}",  # more digits than int() takes
    b'{"iat":NaN}', b'{"iat":Infinity}', b'{"iat":-Infinity}',
    b"\xff\xfe\x00", b'{"orig":{"tn":"\xed\xa0\x80"}}',  # not UTF-8
    b'{"dest":{"tn":' + b"[" * 5000 + b"]" * 5000 + b"}}",
]), st.booleans())
def test_hostile_json_is_a_defect(raw: bytes, in_header: bool) -> None:
    part = b64(raw)
    header, claims, signature = jws().split(".")
    value = f"{part}.{claims}.{signature}" if in_header else f"{header}.{part}.{signature}"
    assert check(value + PARAMS).defects


@SETTINGS
@given(mutated(VALID.encode()))
def test_what_a_verifier_fails_is_said_of_any_damaged_header(damaged: bytes) -> None:
    """From the SIP parser through the decoder to the faults the rules report."""
    text = damaged.decode("utf-8", "backslashreplace").replace("\r", "").replace("\n", "")
    message = parse_message(packets.sip_request(extra=["Identity: " + text]))
    transaction = Transaction("INVITE")
    transaction.requests.append(message)
    for value in message.values("identity"):
        for fault in faults(Signed(transaction, message, check(value))):
            fault.encode("utf-8")
