"""The security rules over every public capture (issue 18): no alarm where there is no attack.

The public captures are real traffic from many projects. tshark is the oracle: the only
attack it shows in them is SIPVicious's ``friendly-scanner`` (in CESNET's sip.pcap a scan of
three hosts, then svcrack guessing account 6001's password: REGISTERs with credentials
refused 401 again and again, until frame 48 answers one 200; one OPTIONS in nDPI's
gre_sip.pcapng). So the security rules may raise a warning or an error only on a source
tshark sees sending a request with a scanner's User-Agent (the names S101's rule file lists):
S101 on every such source, S105 (an account accepted after refusals) on CESNET's; anything
else they say about these captures is information (Digest credentials in clear).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from sipdiag.rules.model import Severity
from tests.conftest import PublicCapture, needs_public, public_captures
from tests.rules.analysed import ENGINE

pytestmark = needs_public
SCANNER_RULE = ENGINE.rules.by_id("S101")


def scanner_sources(capture: PublicCapture) -> frozenset[str]:
    return _scanner_sources(capture.path)


@cache
def _scanner_sources(path: Path) -> frozenset[str]:
    """The sources tshark sees sending a SIP request whose User-Agent names a scanner (the
    innermost IP source, for SIP carried in a tunnel)."""
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "sip.Method && sip.User-Agent",
         "-T", "fields", "-E", "occurrence=a", "-e", "ip.src", "-e", "ipv6.src",
         "-e", "sip.User-Agent"], capture_output=True, text=True, check=False).stdout
    agents = SCANNER_RULE.params["agents"]
    assert isinstance(agents, tuple)
    found = set()
    for line in out.splitlines():
        v4, v6, agent = line.split("\t")
        if any(name in agent.lower() for name in agents):
            found.add((v4 or v6).split(",")[-1])
    return frozenset(found)


@pytest.mark.parametrize("capture", public_captures(), ids=lambda c: c.name)
def test_security_alarms_only_on_scanners_tshark_sees(capture: PublicCapture) -> None:
    findings = analyze(capture.path, engine=ENGINE, jobs=1).findings
    alarms = [f for f in findings
              if f.rule.id.startswith("S") and f.severity is not Severity.INFO]
    assert {f.values["source"] for f in alarms} == scanner_sources(capture)
    assert {f.values["source"] for f in alarms if f.rule.id == "S101"} == scanner_sources(capture)
    cracked = {f.values["user"] for f in alarms if f.rule.id == "S105"}
    assert {f.rule.id for f in alarms} <= {"S101", "S105"}, [f.message() for f in alarms]
    assert cracked == ({"6001"} if capture.name.startswith("CESNET") else set())


def test_the_oracle_sees_the_two_scans() -> None:
    """The test above would pass on a rule that never fires if tshark saw no scanner: it sees
    the two."""
    scanned = {c.name for c in public_captures() if scanner_sources(c)}
    assert scanned == {"CESNET__ipfixprobe/tests/functional/inputs/sip.pcap",
                       "ntop__nDPI/tests/pcap/gre_sip.pcapng"}
