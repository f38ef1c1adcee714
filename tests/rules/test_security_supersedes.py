"""A finding about the whole capture supersedes, on the calls and exchanges its event is made
of, the findings its rule file lists (``supersedes``): the 26 INVITE probes of a scan answered
404 are the scan (S101, S102), not 26 dial plan problems (C106), and the 20 guesses of a
password guesser refused 403 are the guessing (S103), not 20 errors of their own (A103).

Expected counts are tshark's reading of the samples; the engine without the security rules is
the control: it must find the per-call findings the security rules then leave out.
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from sipdiag.analysis import Analysis, analyze
from tests.conftest import SAMPLES
from tests.rules.analysed import ENGINE, WITHOUT_SECURITY

SECURITY = SAMPLES / "security"


def tshark_count(name: str, display_filter: str) -> int:
    out = subprocess.run(["tshark", "-n", "-r", str(SECURITY / name), "-Y", display_filter],
                         capture_output=True, text=True, check=False).stdout
    return len(out.splitlines())


def ids(analysis: Analysis) -> Counter[str]:
    return Counter(f.rule.id for f in analysis.findings)


@pytest.mark.parametrize(("name", "per_call", "probes", "attack"), [
    ("scanner-friendly-scanner.pcap", "C106", "sip.Status-Code == 404 && sip.CSeq.method == INVITE",
     {"S101", "S102"}),
    ("scanner-no-agent.pcap", "C106", "sip.Status-Code == 404 && sip.CSeq.method == INVITE",
     {"S102"}),
    ("brute-force-register.pcap", "A103", "sip.Status-Code == 403", {"S103"}),
])
@pytest.mark.parametrize("jobs", [1, 2])
def test_an_attack_supersedes_the_findings_of_its_probes(
        name: str, per_call: str, probes: str, attack: set[str], jobs: int) -> None:
    control = analyze(SECURITY / name, engine=WITHOUT_SECURITY, jobs=jobs)
    assert ids(control)[per_call] == tshark_count(name, probes) > 0
    analysis = analyze(SECURITY / name, engine=ENGINE, jobs=jobs)
    found = ids(analysis)
    assert found[per_call] == 0 and attack <= set(found)
    # the summary counts what the report lists
    listed = list(analysis.findings)
    assert len(analysis.findings) == len(listed)
    assert +analysis.tally.severities == Counter(f.severity for f in listed)
    assert all(per_call not in {f.rule.id for f in r.findings}
               for r in [*analysis.calls, *analysis.exchanges])


def test_findings_of_calls_outside_the_attack_stay() -> None:
    """The short-call burst (S107) supersedes nothing: its refused calls keep their C106 and
    C111, as without the security rules."""
    name = "short-call-burst.pcap"
    without = ids(analyze(SECURITY / name, engine=WITHOUT_SECURITY, jobs=1))
    found = ids(analyze(SECURITY / name, engine=ENGINE, jobs=1))
    assert (found["C106"], found["C111"]) == (without["C106"], without["C111"]) != (0, 0)
