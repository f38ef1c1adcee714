"""A rule that says more about the same event leaves out a rule that says less (``supersedes``):
C117 (the proxy's DNS failed) over C105 (the called user unavailable) on the same 480, D113
(a second answer to a fork left up) over D104 (an answer never ACKed) on the same 2xx; a
finding about other messages stays. Misspelt or malformed ids in the list are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipdiag.analysis import analyze
from sipdiag.rules import load_engine
from sipdiag.rules.loader import load_rules
from sipdiag.rules.yamlfile import DataError
from tests.conftest import SAMPLES
from tests.rules.test_rule_errors import RULE, write

ENGINE = load_engine()


def rule_ids(sample: str) -> list[str]:
    return [f.rule.id for f in analyze(SAMPLES / "rules" / sample, engine=ENGINE).findings]


def test_the_proxys_routing_failure_leaves_out_the_callee_outcome_on_the_same_480() -> None:
    """routing-failure-no-dns: the proxy answers the INVITE 480 No DNS results (frame 3)."""
    found = rule_ids("routing-failure-no-dns.pcap")
    assert "C117" in found and "C105" not in found
    assert "C105" in rule_ids("callee-unavailable-480.pcap")  # a 480 from the callee itself


def test_a_fork_left_up_leaves_out_the_missing_ack_of_its_2xx() -> None:
    assert rule_ids("fork-second-answer-ignored.pcap") == ["D113"]


def test_findings_about_other_messages_stay() -> None:
    """A D104 on the answer of another call is no business of D113: ack-missing-retransmitted
    has no fork, and keeps its D104."""
    assert "D104" in rule_ids("ack-missing-retransmitted.pcap")


@pytest.mark.parametrize(("value", "error"), [
    ("[c105]", "each of 'supersedes' must be a rule id such as C105 (found 'c105')"),
    ("[X999]", "'supersedes' names X999, which is no rule"),
])
def test_a_wrong_id_in_supersedes_is_an_error_with_its_line(
    tmp_path: Path, value: str, error: str
) -> None:
    path = write(tmp_path, RULE.replace("scope: call\n", f"scope: call\nsupersedes: {value}\n"))
    with pytest.raises(DataError) as caught:
        load_rules([tmp_path])
    assert str(caught.value) == f"{path}:7: {error}"
