"""Every rule on the captures its file names: the ones that must trigger it, and the ones that
must not. And the healthy captures: no warning or error from any rule."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import Analysis, analyze
from sipdiag.rules import builtin_folder, load_engine
from sipdiag.rules.given import trusting
from sipdiag.rules.model import Rule
from sipdiag.sip.identity_signature import certificates_in
from tests.conftest import ROOT, SAMPLES

CERTIFICATE = SAMPLES / "identity" / "sipdiag-test-signer.pem"
ENGINE = trusting(load_engine(), certificates_in(CERTIFICATE.read_bytes(), CERTIFICATE.name))
"""The built-in rules, trusting the test certificate the STIR/SHAKEN samples are signed with
(as ``--stir-certs samples/identity`` does)."""
HEALTHY = [
    "calls/basic-call.pcap",
    "calls/tcp-call.pcap",
    "calls/ipv6-call.pcap",
    "calls/baresip-call.pcap",
    "calls/auth-challenge.pcap",
    "calls/redirect-302.pcap",
    "calls/cancelled-call.pcap",
    "calls/register.pcap",
    "rules/session-timer-refreshed.pcap",
    "rules/glare-491.pcap",
    "rules/session-interval-422-retried.pcap",
    "rules/register-423-retried.pcap",
    "rules/private-address-same-lan.pcap",
    # the other methods as they should go (samples/craft_methods.py)
    *(f"rules/{name}-healthy.pcap" for name in ("subscribe", "transfer", "publish", "prack",
                                                  "retry")),
    # BYEs and forks handled by the book (craft_byes.py, craft_forking.py)
    "rules/bye-challenged-then-accepted.pcap",
    "rules/fork-one-answers.pcap",
    "rules/fork-two-answer.pcap",
    "rules/fork-second-answer-kept.pcap",
    # ACKs the capture point sees elsewhere or not at all, a refusal then an answer
    # (craft_acks.py); headers that may be repeated (craft_violations.py)
    "rules/ack-on-another-hop.pcap",
    "rules/ack-off-path-caller-bye.pcap",
    "rules/invite-refused-then-answered.pcap",
    "rules/legal-repeated-headers.pcap",
    # signed calls as they should be (craft_identity.py); challenges, refreshes and
    # de-registrations by the book (craft_registrations.py)
    "rules/identity-valid-a.pcap",
    "rules/identity-compact.pcap",
    "rules/invite-challenge-quick.pcap",
    "rules/register-refreshed.pcap",
    "rules/register-stale-nonce.pcap",
    "rules/register-deregistration.pcap",
    # large requests answered, ICE, proxies and NATs handled (craft_addresses.py)
    "rules/udp-large-invite-answered.pcap",
    "rules/ice-private-default.pcap",
    "rules/proxy-relays-private-addresses.pcap",
    "rules/private-contact-reached-through-nat.pcap",
    # media that is as the SDP asked for: two-way, on hold, moved, early, encrypted, latched
    *(f"media/{name}.pcap" for name in (
        "two-way-g711", "hold-sendonly", "hold-inactive", "ipv6-rtp",
        "reinvite-moves-media", "early-media-183", "rtcp-mux", "port-reuse",
        "dtmf-rfc4733", "ssrc-change-reinvite", "sip-only-not-captured", "unannounced-rtp",
    )),
    *(f"media/recorded/{name}.pcap" for name in (
        "sipp-rtp-call", "baresip-to-sipp-rtp", "baresip-to-baresip", "baresip-hold",
        "baresip-dtmf",
    )),
    *(f"transport/{p.name}" for p in sorted((SAMPLES / "transport").iterdir())
      if "fragments" not in p.name),  # the fragmented INVITEs are over 1300 bytes on UDP
]


@cache
def analysed(sample: str) -> Analysis:
    return analyze(ROOT / sample, engine=ENGINE)


def rule_tests() -> list[tuple[Rule, str, int]]:
    return [(rule, test.sample, test.expect) for rule in ENGINE.rules.rules for test in rule.tests]


@pytest.mark.parametrize(
    ("rule", "sample", "expect"),
    rule_tests(),
    ids=[f"{rule.id}-{Path(sample).stem}" for rule, sample, _ in rule_tests()],
)
def test_rule_on_its_samples(rule: Rule, sample: str, expect: int) -> None:
    found = [f for f in analysed(sample).findings if f.rule.id == rule.id]
    assert len(found) == expect, [f.message() for f in found]
    for finding in found:
        assert finding.evidence, "every finding names the frames it rests on"
        message = finding.message()
        assert "{" not in message, message  # every placeholder filled


def test_every_rule_has_a_sample_that_triggers_it_and_one_that_must_not() -> None:
    for rule in ENGINE.rules.rules:
        expects = [test.expect for test in rule.tests]
        assert any(expects) and 0 in expects, rule.id
        for test in rule.tests:
            assert (ROOT / test.sample).is_file(), (rule.id, test.sample)


def documented_folders() -> set[str]:
    """The rule folders rules/README.md lists in its tree (``  calls/  ...``), the catalog
    aside."""
    text = (builtin_folder() / "README.md").read_text(encoding="utf-8")
    tree = text[text.index("```\nrules/\n"):]
    tree = tree[:tree.index("\n```", 4)]
    return {m[1] for m in re.finditer(r"^  ([a-z]+)/", tree, re.M)} - {"catalog"}


def test_every_rule_folder_is_under_rules_and_documented() -> None:
    assert {rule.path.parent.name for rule in ENGINE.rules.rules} == documented_folders()
    assert all(rule.path.is_relative_to(builtin_folder()) for rule in ENGINE.rules.rules)


@pytest.mark.parametrize("sample", HEALTHY)
def test_healthy_captures_have_no_warning_or_error(sample: str) -> None:
    serious = [f.message() for f in analysed(f"samples/{sample}").findings if f.severity != "info"]
    assert serious == []


def test_benign_patterns_are_informational() -> None:
    for sample, rule_id in [
        ("calls/cancelled-call.pcap", "C101"),
        ("calls/auth-challenge.pcap", "A101"),
        ("calls/redirect-302.pcap", "C103"),
    ]:
        [finding] = analysed(f"samples/{sample}").findings
        assert (finding.rule.id, finding.severity) == (rule_id, "info")
