"""STIR/SHAKEN rules (rules/identity/, I103 to I115) on the captures of craft_identity.py and on
flows written here.

What each rule must say is derived from how the sample was built (samples/craft_identity.py:
the INVITE leaves at 2023-11-14 22:13:20 UTC, iat 1700000000 unless shifted; alice
+1 202 555 0101 calls bob +1 202 555 0123) and from the RFCs: RFC 8224 section 8.3 (numbers
compared as digits), section 6.2 step 4 (iat within 60 s), section 6.2.2 (428, 436, 437, 438),
RFC 8588 section 4 (attestation), RFC 7515 (what the signature covers)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import DataError, Engine, load_engine
from sipdiag.rules.given import trusting
from sipdiag.rules.loader import RuleSet, load_rule
from sipdiag.rules.model import Finding
from sipdiag.sip.identity_signature import certificates_in
from tests.conftest import ROOT, SAMPLES
from tests.flows import Flow, call_of
from tests.sip.test_identity import CLAIMS, HEADER, PARAMS, jws
from tests.sip.test_identity_signature import self_signed

RULES = SAMPLES / "rules"
CERTIFICATE = SAMPLES / "identity" / "sipdiag-test-signer.pem"
PLAIN = load_engine()
TRUSTING = trusting(PLAIN, certificates_in(CERTIFICATE.read_bytes(), CERTIFICATE.name))
IDENTITY_RULES = [f"I{n}" for n in range(103, 116)]
X5U = "https://cert.example.org/stir/sipdiag-test-signer.pem"


@cache
def analysed(name: str, certificates: bool = False) -> Analysis:
    return analyze(RULES / name, engine=TRUSTING if certificates else PLAIN)


def found(name: str, certificates: bool = False) -> list[str]:
    return sorted(f.rule.id for f in analysed(name, certificates).findings
                  if f.rule.id in IDENTITY_RULES)


def only(name: str, rule: str, certificates: bool = False) -> Finding:
    [finding] = [f for f in analysed(name, certificates).findings if f.rule.id == rule]
    return finding


def test_the_identity_samples_are_what_craft_identity_makes() -> None:
    done = subprocess.run([sys.executable, str(SAMPLES / "craft_identity.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


SIGNED_WELL = ["identity-wrong-orig.pcap", "identity-wrong-dest.pcap",
               "identity-stale-iat.pcap", "identity-iat-ahead.pcap", "identity-attest-b.pcap",
               "identity-attest-c.pcap", "identity-436.pcap", "identity-437.pcap",
               "identity-438-stale.pcap"]
"""Signed by the test key over the claims they carry: their signatures verify."""


@pytest.mark.parametrize(("sample", "rules"), [
    ("identity-valid-a.pcap", []),
    ("identity-wrong-orig.pcap", ["I104"]),
    ("identity-wrong-dest.pcap", ["I105"]),
    ("identity-stale-iat.pcap", ["I106"]),
    ("identity-iat-ahead.pcap", ["I107"]),
    ("identity-attest-b.pcap", ["I108"]),
    ("identity-attest-c.pcap", ["I109"]),
    ("identity-garbled.pcap", ["I103"]),
    ("identity-compact.pcap", []),
    ("identity-428.pcap", ["I110"]),
    ("identity-436.pcap", ["I111"]),
    ("identity-437.pcap", ["I112"]),
    ("identity-438-stale.pcap", ["I106", "I113"]),
    ("identity-signature-altered.pcap", ["I113"]),
])
def test_each_sample_gives_the_identity_rules_it_was_made_for(sample: str,
                                                              rules: list[str]) -> None:
    assert found(sample) == rules
    # with the test certificate, the well signed ones verify besides (I115), the altered one
    # does not (I114); the compact form and the garbled header have nothing to check
    verified = ["I115"] if sample in SIGNED_WELL or sample == "identity-valid-a.pcap" else []
    altered = ["I114"] if sample == "identity-signature-altered.pcap" else []
    assert found(sample, certificates=True) == sorted([*rules, *verified, *altered])


def test_the_signed_call_is_otherwise_healthy() -> None:
    for certificates in (False, True):
        serious = [f.rule.id for f in analysed("identity-valid-a.pcap", certificates).findings
                   if f.severity != "info"]
        assert serious == []


def test_a_header_seen_on_two_hops_is_one_finding_with_both() -> None:
    # the proxy passes the INVITE on (frame 3) with the Identity header as it came (frame 1)
    finding = only("identity-valid-a.pcap", "I115", certificates=True)
    assert [e.frame for e in finding.evidence] == [1, 3]
    assert finding.values["certificate"] == "sipdiag-test-signer.pem"
    assert finding.values["signer"] == X5U
    assert "TEST KEY" in finding.values["subject"]


def test_the_wrong_caller_is_named_with_the_header_that_names_it() -> None:
    finding = only("identity-wrong-orig.pcap", "I104")
    assert (finding.values["orig"], finding.values["callers"]) == (
        "12025550199", "From +12025550101")
    assert [e.frame for e in finding.evidence] == [1]


def test_the_wrong_callee_is_named_with_to_and_the_request_uri() -> None:
    finding = only("identity-wrong-dest.pcap", "I105")
    assert (finding.values["dest"], finding.values["callees"]) == (
        "12025550188", "To +12025550123, Request-URI +12025550123")


def test_a_caller_withheld_in_from_is_found_in_p_asserted_identity() -> None:
    # From is anonymous; P-Asserted-Identity (RFC 3325) has the signed number
    assert "I104" not in found("identity-attest-b.pcap")


def test_a_stale_iat_says_how_old() -> None:
    # iat 1699999925: 75 s before the INVITE of 1700000000.000
    finding = only("identity-stale-iat.pcap", "I106")
    assert (finding.values["iat"], finding.values["age"], finding.values["window"]) == (
        "2023-11-14T22:12:05Z", "75", "60")
    assert "75 s before the request was captured; verifiers accept 60 s" in finding.message()


def test_an_iat_ahead_says_by_how_much() -> None:
    finding = only("identity-iat-ahead.pcap", "I107")
    assert (finding.values["iat"], finding.values["age"]) == ("2023-11-14T22:14:50Z", "90")


def test_attestation_is_told_with_the_signer() -> None:
    for sample, rule, level in (("identity-attest-b.pcap", "I108", "B"),
                                ("identity-attest-c.pcap", "I109", "C")):
        finding = only(sample, rule)
        assert (finding.values["attest"], finding.values["orig"], finding.values["signer"]) == (
            level, "12025550101", X5U)


def test_the_garbled_header_says_which_part() -> None:
    # four characters of the claims part turned into %25: not base64url (RFC 7515 section 2)
    assert only("identity-garbled.pcap", "I103").values["problem"] == (
        "identity_bad_base64: the claims part is not base64url")


def test_428_says_the_request_had_no_identity() -> None:
    finding = only("identity-428.pcap", "I110")
    assert (finding.values["identities"], finding.values["identity"],
            finding.values["faults"]) == ("0", "-", "-")
    assert [e.frame for e in finding.evidence] == [1, 3]
    assert finding.refs == (("response", 428),)


def test_436_shows_the_certificate_url_that_is_not_https() -> None:
    finding = only("identity-436.pcap", "I111")
    url = "http://cert.example.org/stir/sipdiag-test-signer.pem"
    assert finding.values["faults"] == f"info {url} (≠ https); x5u {url} (≠ https)"
    assert finding.values["identity"].endswith(f"x5u {url}")


def test_437_shows_the_header_and_no_fault_the_capture_can_show() -> None:
    finding = only("identity-437.pcap", "I112")
    assert finding.values["identity"] == (
        f"ppt shaken, attest A, orig.tn 12025550101, dest.tn 12025550123, iat INVITE, x5u {X5U}")
    assert finding.values["faults"] == "-"


def test_438_for_a_stale_iat_says_how_old_it_was() -> None:
    finding = only("identity-438-stale.pcap", "I113")
    assert finding.values["faults"] == "iat INVITE - 75 s (> 60 s)"
    assert "iat INVITE - 75 s" in finding.values["identity"]
    assert finding.refs == (("response", 438),)


def test_438_for_altered_claims_names_the_signature_only_when_it_was_checked() -> None:
    assert only("identity-signature-altered.pcap", "I113").values["faults"] == "-"
    checked = only("identity-signature-altered.pcap", "I113", certificates=True)
    assert checked.values["faults"] == "signature ≠ sipdiag-test-signer.pem"
    invalid = only("identity-signature-altered.pcap", "I114", certificates=True)
    assert (invalid.values["certificate"], invalid.values["subject"]) == (
        "sipdiag-test-signer.pem", "-")


def test_the_signature_rules_pass_their_own_samples_when_certificates_are_given() -> None:
    """tests/rules/test_rule_samples.py runs every rule's samples without certificates; the
    two signature rules say nothing then, so their samples are checked here."""
    for rule in TRUSTING.rules.rules:
        if rule.id not in ("I114", "I115"):
            continue
        for test in rule.tests:
            got = [f for f in analyze(ROOT / test.sample, engine=TRUSTING).findings
                   if f.rule.id == rule.id]
            assert len(got) == test.expect, (rule.id, test.sample)


def test_without_certificates_no_signature_is_judged() -> None:
    for sample in ("identity-valid-a.pcap", "identity-signature-altered.pcap"):
        assert not {"I114", "I115"} & set(found(sample))


def test_a_certificate_named_otherwise_than_the_x5u_is_tried_with_the_others() -> None:
    other = certificates_in(CERTIFICATE.read_bytes(), "renamed.pem")
    engine = trusting(PLAIN, other)
    got = [f for f in analyze(RULES / "identity-valid-a.pcap", engine=engine).findings
           if f.rule.id == "I115"]
    assert [f.values["certificate"] for f in got] == ["renamed.pem"]


def test_the_certificate_the_x5u_names_is_the_only_one_tried() -> None:
    # the right key under another name, and a file with the x5u's name holding another key:
    # the x5u names the certificate (RFC 8225 section 5.1.3), so only that file is tried
    wrong = certificates_in(self_signed(ec.generate_private_key(ec.SECP256R1()), "other"),
                            "sipdiag-test-signer.pem")
    right = certificates_in(CERTIFICATE.read_bytes(), "renamed.pem")
    engine = trusting(PLAIN, [*right, *wrong])
    rules = [f.rule.id for f in analyze(RULES / "identity-valid-a.pcap", engine=engine).findings]
    assert rules == ["I114"]


# --------------------------------------------------------------------------
# Flows written here: the comparisons themselves


def signed_flow(claims: dict[str, object], *, caller: str = "+12025550101",
                callee: str = "+12025550123", headers: tuple[str, ...] = (),
                uri: str | None = None, at: float = 0.0, final: int = 200) -> Flow:
    flow = Flow(caller_user=caller, callee_user=callee)
    invite = flow.request("INVITE", at=at, uri=uri or f"sip:{callee}@example.com",
                          headers=(f"Identity: {jws(HEADER, claims)}{PARAMS}", *headers))
    response = flow.response(invite, final, at=at + 0.5)
    flow.ack(response, at=at + 0.51)
    return flow


def rule_ids(flow: Flow, engine: Engine = PLAIN) -> list[str]:
    return sorted(f.rule.id for f in engine.evaluate(call_of(flow)) if f.rule.id in IDENTITY_RULES)


T0 = 1_700_000_000
"""tests/flows.py's first second: an INVITE at 0 s is signed now with iat T0."""


def test_a_passport_that_fits_the_request_gives_nothing() -> None:
    assert rule_ids(signed_flow({**CLAIMS, "iat": T0})) == []


@pytest.mark.parametrize(("caller", "same"), [
    ("2025550101", True),  # national, the country code left out (RFC 8224 section 8.3)
    ("+1-202-555-0101", True),  # visual separators
    ("12025550102", False),
    ("alice", False),  # no number at all: not the signed one
])
def test_the_caller_is_compared_as_digits(caller: str, same: bool) -> None:
    rules = rule_ids(signed_flow({**CLAIMS, "iat": T0}, caller=caller))
    assert ("I104" not in rules) is same


def test_a_passport_naming_uris_not_numbers_is_not_compared_as_numbers() -> None:
    # RFC 8225 section 5.2.1: orig and dest may name URIs instead (uri, not tn); no number
    # was signed, so no number of the request can differ from it
    claims = {**CLAIMS, "orig": {"uri": "sip:alice@example.com"},
              "dest": {"uri": ["sip:bob@example.com"]}, "iat": T0}
    assert rule_ids(signed_flow(claims)) == []


def test_the_called_number_may_be_in_the_request_uri_alone() -> None:
    # To shows another form of the number; the Request-URI carries the signed one
    flow = signed_flow({**CLAIMS, "iat": T0}, callee="bob",
                       uri="sip:+12025550123@example.com;user=phone")
    assert rule_ids(flow) == []


def test_a_tel_uri_in_p_asserted_identity_is_a_caller() -> None:
    flow = signed_flow({**CLAIMS, "iat": T0}, caller="anonymous",
                       headers=("P-Asserted-Identity: <tel:+1-202-555-0101>",))
    assert rule_ids(flow) == []


def test_the_compact_header_name_y_is_read() -> None:
    # RFC 8224 section 4: "y" is Identity's compact form
    flow = Flow(caller_user="+12025550101", callee_user="+12025550123")
    claims = {**CLAIMS, "orig": {"tn": "12025550199"}, "iat": T0}
    invite = flow.request("INVITE", at=0.0, uri="sip:+12025550123@example.com",
                          headers=(f"y: {jws(HEADER, claims)}{PARAMS}",))
    flow.ack(flow.response(invite, 200, at=0.5), at=0.51)
    assert rule_ids(flow) == ["I104"]


@pytest.mark.parametrize(("offset", "rules"), [
    (-60, []),  # exactly the window: still fresh
    (-61, ["I106"]),
    (60, []),
    (61, ["I107"]),
])
def test_the_freshness_window_is_60_seconds_either_way(offset: int, rules: list[str]) -> None:
    assert rule_ids(signed_flow({**CLAIMS, "iat": T0 + offset})) == rules


def test_the_window_is_the_rule_files() -> None:
    # a user's copy of the rule with a longer window (params: window: 120s)
    stale = next(r for r in PLAIN.rules.rules if r.id == "I106")
    looser = replace(stale, params={"window": 120_000_000_000})
    engine = Engine(RuleSet((looser,)), PLAIN.catalog)
    assert rule_ids(signed_flow({**CLAIMS, "iat": T0 - 90}), engine) == []
    assert rule_ids(signed_flow({**CLAIMS, "iat": T0 - 121}), engine) == ["I106"]


def test_attestation_is_told_only_on_an_invite_that_starts_a_call() -> None:
    flow = Flow(caller_user="+12025550101", callee_user="+12025550123")
    invite = flow.request("INVITE", at=0.0, uri="sip:+12025550123@example.com")
    flow.ack(flow.response(invite, 200, at=0.5), at=0.51)
    identity = f"Identity: {jws(HEADER, {**CLAIMS, 'attest': 'C', 'iat': T0 + 5})}{PARAMS}"
    reinvite = flow.request("INVITE", at=5.0, in_dialog=True, uri="sip:+12025550123@example.com",
                            headers=(identity,))
    flow.ack(flow.response(reinvite, 200, at=5.5), at=5.51)
    assert "I109" not in rule_ids(flow)


def test_a_428_to_a_request_with_an_identity_counts_it() -> None:
    flow = signed_flow({**CLAIMS, "iat": T0}, final=428)
    [finding] = [f for f in PLAIN.evaluate(call_of(flow)) if f.rule.id == "I110"]
    assert finding.values["identities"] == "1"
    assert finding.values["identity"].startswith("ppt shaken, attest A, orig.tn 12025550101")


def test_438_lists_every_fault_of_the_header() -> None:
    claims = {**CLAIMS, "orig": {"tn": "12025550199"}, "dest": {"tn": ["12025550188"]},
              "iat": T0 - 120}
    flow = signed_flow(claims, final=438)
    [finding] = [f for f in PLAIN.evaluate(call_of(flow)) if f.rule.id == "I113"]
    assert finding.values["faults"] == (
        "orig.tn 12025550199 ≠ From +12025550101; "
        "dest.tn 12025550188 ≠ To +12025550123, Request-URI +12025550123; "
        "iat INVITE - 120 s (> 60 s)")


def test_a_rule_file_cannot_give_certificates(tmp_path: Path) -> None:
    text = (ROOT / "rules/identity/I115-identity-signature-verified.yaml").read_text()
    text = text.replace("check: identity_signature_verified\n",
                        "check: identity_signature_verified\nparams:\n  certificates: x\n")
    path = tmp_path / "I115-identity-signature-verified.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match="--stir-certs"):
        load_rule(path)
