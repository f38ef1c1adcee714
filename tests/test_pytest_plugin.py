"""The pytest plugin: a user's test suite, run by ``pytester``, loads the bundled samples through
the ``sipdiag`` fixture and asserts on their calls and findings."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SAMPLES

pytest_plugins = ["pytester"]

USER_TESTS = '''
from pathlib import Path

import pytest

from sipdiag.rules import DataError


def test_busy_call(sipdiag):
    result = sipdiag.analyze("captures/busy.pcap")
    call = result.call(1)
    assert (call.outcome, call.final_status) == ("busy", 486)
    assert result.call("busy-1@127.0.0.1") == call
    assert [f.rule.id for f in result.findings_for(call)] == ["C105"]
    assert result.findings_for(1) == result.findings_for("busy-1@127.0.0.1") == result.findings
    result.assert_no_findings(above="info")
    result.assert_expectations("busy.yaml")


def test_an_absolute_path(sipdiag):
    result = sipdiag.analyze(Path(__file__).parent / "captures" / "basic-call.pcap")
    assert [c.outcome for c in result.calls] == ["completed"]
    result.assert_no_findings()


def test_unmet_expectations(sipdiag):
    sipdiag.analyze("captures/no-ack-32s.pcap").assert_expectations("no-ack.yaml")


def test_unwanted_findings(sipdiag):
    sipdiag.analyze("captures/no-ack-32s.pcap").assert_no_findings(above="warning")


def test_any_finding(sipdiag):
    sipdiag.analyze("captures/busy.pcap").assert_no_findings()


def test_no_such_call(sipdiag):
    sipdiag.analyze("captures/busy.pcap").call(2)


def test_a_broken_expectations_file(sipdiag):
    result = sipdiag.analyze("captures/busy.pcap")
    with pytest.raises(DataError, match=r"broken\\.yaml:2: unknown key 'outcom'"):
        result.assert_expectations("broken.yaml")
'''

BUSY_YAML = """\
calls:
  count: 1
expect:
  - call: 1
    outcome: busy
    final_status: 486
    max_severity: info
"""

NO_ACK_YAML = """\
expect:
  - outcome: completed      # line 2
    retransmissions: 0
  - call_id: "someone-else@example.com"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: captures in a folder beside the tests, and expectations files."""
    captures = pytester.mkdir("captures")
    for name in ("busy.pcap", "basic-call.pcap", "no-ack-32s.pcap"):
        shutil.copy(SAMPLES / "calls" / name, captures / name)
    pytester.makefile(".yaml", busy=BUSY_YAML, broken="expect:\n  - outcom: busy\n")
    pytester.makefile(".yaml", **{"no-ack": NO_ACK_YAML})
    pytester.makepyfile(test_calls=USER_TESTS)
    return pytester


def test_a_users_suite_passes_and_fails_with_readable_messages(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3, failed=4)
    result.stdout.fnmatch_lines([
        "*::test_busy_call PASSED*",
        "*::test_an_absolute_path PASSED*",
        "*::test_unmet_expectations FAILED*",
        "*::test_unwanted_findings FAILED*",
        "*::test_any_finding FAILED*",
        "*::test_no_such_call FAILED*",
        "*::test_a_broken_expectations_file PASSED*",
    ])
    result.stdout.fnmatch_lines([
        "E * AssertionError: Findings in *busy.pcap (1):",
        "E * Call: busy-1@127.0.0.1 (frame 1)",
        "E *   INFO C105 callee-outcome: *",
    ])
    result.stdout.fnmatch_lines([
        "E * AssertionError: There is no call 2 (calls in the capture: 1).",
    ])
    # every unmet expectation, explained
    result.stdout.fnmatch_lines([
        "E * AssertionError: Expectations of *no-ack.yaml on *no-ack-32s.pcap: "
        "0 of 2 expectations met",
        "E * */no-ack.yaml:2 next call (call 1: no-ack-32s-1@127.0.0.1 (frame 1))",
        "E *   outcome: expected completed, found dropped",
        "E *     dropped: Answered, then ended abnormally: *",
        "E *   retransmissions: expected 0, found 10",
        "E *     200 INVITE: 11 copies, frames 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14",
        "E * */no-ack.yaml:4 call_id: someone-else@example.com",
        "E *   No call has this Call-ID (calls in the capture: 1).",
    ])
    # each unwanted finding with its call and evidence
    result.stdout.fnmatch_lines([
        "E * AssertionError: Findings above warning in *no-ack-32s.pcap (1):",
        "E * Call: no-ack-32s-1@127.0.0.1 (frame 1)",
        "E *   ERROR D104 ack-missing: Answer never ACKed *",
        "E *     What happened: The answer (2xx) in frame 4 *",
        "E *     Evidence: 4 200 INVITE +1.208 s; 5 200 INVITE (copy 2) +1.712 s; *",
    ])
    # the plugin's own frames are hidden: the user sees their test's line, not sipdiag's
    assert "sipdiag/testing.py" not in result.stdout.str()


def test_the_installed_entry_point_loads_the_plugin(suite: pytest.Pytester) -> None:
    """In a fresh process, as in a user's CI: pytest finds the plugin through the package's
    ``pytest11`` entry point, and ``-p no:sipdiag`` turns it off."""
    result = suite.runpytest_subprocess("--trace-config", "-p", "no:cacheprovider",
                                        "-k", "busy_call")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*PLUGIN registered: <module 'sipdiag.pytest_plugin'*"])
    off = suite.runpytest_subprocess("-p", "no:sipdiag", "-p", "no:cacheprovider",
                                     "-k", "busy_call")
    off.assert_outcomes(errors=1)
    off.stdout.fnmatch_lines(["*fixture 'sipdiag' not found*"])
