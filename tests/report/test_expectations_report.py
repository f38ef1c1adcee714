"""``sipdiag check CAPTURE --expect FILE``: expectations met and unmet on the bundled samples,
every selector, broken expectations files, and the JSON and JUnit outputs."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sipdiag.cli import Environment, ExitStatus, main
from tests.conftest import ROOT

BUSY = "samples/calls/busy.pcap"
BASIC = "samples/calls/basic-call.pcap"
CANCELLED = "samples/calls/cancelled-call.pcap"
NO_ACK = "samples/calls/no-ack-32s.pcap"
LONG_PDD = "samples/rules/long-post-dial-delay.pcap"
SERVER_ERRORS = "samples/rules/server-errors.pcap"  # three calls: 500, 502, 504
SERVER_ERROR_IDS = ("bc6b757f2ce4d6358fcb@192.0.2.10", "9c52cf7033ea50933a00@192.0.2.10",
                    "846dd6e83b03b7d2575c@192.0.2.10")


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Captures named from the project root, as a user's CI names them."""
    monkeypatch.chdir(ROOT)


def run(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdin=io.BytesIO(stdin), environ={})
    code = main(["check", *argv, "--no-color"], env)
    return code, out.getvalue(), err.getvalue()


def expect(tmp_path: Path, text: str, name: str = "expected.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def checked(capture: str, expectations: str) -> tuple[int, dict[str, object]]:
    """The exit status and the JSON document of a check."""
    code, out, err = run([capture, "--expect", expectations, "--format", "json"])
    assert err == ""
    document = json.loads(out)
    assert isinstance(document, dict)
    return code, document


def results(document: dict[str, object]) -> list[dict[str, object]]:
    found = document["expectations"]
    assert isinstance(found, list)
    return found


def checks_of(result: dict[str, object]) -> dict[str, tuple[bool, object, object]]:
    """Each check of an expectation: key -> (passed, expected, actual)."""
    checks = result["checks"]
    assert isinstance(checks, list)
    return {c["key"]: (c["passed"], c["expected"], c["actual"]) for c in checks}


def flat(text: str) -> str:
    """The words of the output, without the table's lines."""
    return " ".join(re.sub("[\u2500-\u257f]", " ", text).split())


# --- met and unmet -------------------------------------------------------------------------


def test_expectations_that_hold_exit_0(tmp_path: Path) -> None:
    path = expect(tmp_path, """\
calls:
  count: 1
expect:
  - call: 1
    outcome: busy
    final_status: 486
    retransmissions: 0
    max_severity: info
    findings: [C105]
    no_findings: [D104]
""")
    code, out, err = run([BUSY, "--expect", path])
    assert (code, err) == (ExitStatus.OK, "")
    text = flat(out)
    assert "outcome busy busy pass" in text
    assert "final_status 486 486 pass" in text
    assert "max_severity at most info info (C105)" not in text  # met: no rule listed
    assert "max_severity at most info info pass" in text
    assert "count 1 1 pass" in text
    assert "Unmet expectations" not in text
    assert text.endswith("2 of 2 expectations met")


def test_outcomes_as_a_list_rules_by_name_and_a_short_post_dial_delay(tmp_path: Path) -> None:
    path = expect(tmp_path, """\
expect:
  - outcome: [cancelled, no_answer]
    final_status: 4xx
    max_post_dial_delay: 500ms
    findings: [cancelled-by-caller]
""")
    code, document = checked(CANCELLED, path)
    assert code == ExitStatus.OK and document["passed"] is True
    assert checks_of(results(document)[0]) == {
        "outcome": (True, ["cancelled", "no_answer"], "cancelled"),
        "final_status": (True, ["4xx"], 487),
        "max_post_dial_delay": (True, 0.5, 0.209056),
        "findings": (True, ["C101"], ["C101"]),  # the name, read as its id
    }


def test_a_wrong_outcome_fails_with_what_was_found_and_what_it_means(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - outcome: busy\n    final_status: [486, 600]\n")
    code, out, _ = run([BASIC, "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert "outcome busy completed FAIL" in text
    assert "final_status one of 486, 600 200 FAIL" in text
    assert "outcome: expected busy, found completed" in text
    assert "completed: Answered, then ended normally by a BYE that was accepted." in text
    assert "final_status: expected one of 486, 600, found 200 SIP response 200 (OK):" in text
    assert text.endswith("0 of 1 expectations met")


def test_a_post_dial_delay_too_long(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - max_post_dial_delay: 2s\n  - call: 1\n"
                            "    max_post_dial_delay: 10s\n")
    code, out, _ = run([LONG_PDD, "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert "max_post_dial_delay at most 2.000 s 9.500 s FAIL" in text
    assert "max_post_dial_delay at most 10.000 s 9.500 s pass" in text
    assert "max_post_dial_delay: expected at most 2.000 s, found 9.500 s" in text
    assert text.endswith("1 of 2 expectations met")


def test_a_call_that_never_rang_has_no_post_dial_delay_to_meet(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - max_post_dial_delay: 30s\n")
    code, document = checked(BUSY, path)  # 486 without a 180 before it
    assert code == ExitStatus.FINDINGS
    assert checks_of(results(document)[0]) == {"max_post_dial_delay": (False, 30.0, None)}
    _, out, _ = run([BUSY, "--expect", path])
    assert "found never rang (no 180 or 183)" in flat(out)


def test_retransmissions_counted_and_each_copy_listed(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - retransmissions: 0\n  - call: 1\n"
                            "    max_retransmissions: 10\n")
    code, out, _ = run([NO_ACK, "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert "retransmissions 0 10 FAIL" in text
    assert "max_retransmissions at most 10 10 pass" in text
    assert ("retransmissions: expected 0, found 10 "
            "200 INVITE: 11 copies, frames 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14") in text


def test_findings_above_a_severity_and_unwanted_rules_are_explained(tmp_path: Path) -> None:
    path = expect(tmp_path, """\
expect:
  - max_severity: warning
    no_findings: [D104, D101]
  - call: 1
    max_severity: error
    findings: D104
""")
    code, out, _ = run([NO_ACK, "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert "max_severity at most warning error (D104) FAIL" in text
    assert "no_findings none of D104, D101 D104 FAIL" in text
    assert "max_severity at most error error pass" in text
    assert "findings D104 D104 pass" in text
    assert ("max_severity: expected at most warning, found error (D104) ERROR D104 ack-missing: "
            "Answer never ACKed") in text
    assert "What happened: The answer (2xx) in frame 4 from 127.0.0.1:5070" in text
    assert "Evidence: 4 200 INVITE +1.208 s; 5 200 INVITE (copy 2) +1.712 s;" in text
    assert text.endswith("1 of 2 expectations met")


def test_no_finding_at_all(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - max_severity: none\n")
    assert run([BASIC, "--expect", path])[0] == ExitStatus.OK
    code, document = checked(BUSY, path)  # C105, an info finding
    assert code == ExitStatus.FINDINGS
    assert checks_of(results(document)[0]) == {"max_severity": (False, "none", "info")}


def test_a_call_without_a_final_response(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - final_status: none\n    outcome: timeout\n"
                            "  - call: 1\n    final_status: 2xx\n")
    code, out, _ = run(["samples/rules/invite-no-response.pcap", "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert "final_status none no final response pass" in text
    assert "final_status: expected 2xx, found no final response" in text


def test_the_example_of_the_readme_is_a_valid_expectations_file(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(# calls/test1\.yaml\n.*?)```", readme, re.S)
    assert example is not None
    path = expect(tmp_path, example[1])
    code, document = checked(SERVER_ERRORS, path)
    assert code == ExitStatus.FINDINGS  # a capture of other calls
    assert [r["selector"]["key"] for r in results(document)] == ["call", "call_id", "user", "next"]
    assert [c["key"] for c in results(document)[0]["checks"]] == [
        "outcome", "final_status", "max_post_dial_delay", "retransmissions", "max_severity"]


def test_a_users_own_rules_can_be_named(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    rule = (ROOT / "rules" / "calls" / "C105-callee-outcome.yaml").read_text(encoding="utf-8")
    (mine / "X1-busy-again.yaml").write_text(
        rule.replace("id: C105", "id: X1").replace("name: callee-outcome", "name: busy-again"),
        encoding="utf-8")
    path = expect(tmp_path, "expect:\n  - findings: [X1, busy-again, C105]\n")
    code, out, err = run([BUSY, "--expect", path])  # without --rules, X1 is no rule
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err == f"sipdiag: error: {path}:2: 'findings': 'X1' is not a rule (sipdiag rules " \
                  "lists them)\n"
    code, out, _ = run([BUSY, "--expect", path, "--rules", str(mine)])
    assert code == ExitStatus.OK
    assert "findings all of X1, C105 C105 X1 pass" in flat(out)  # the name read as X1


def test_a_required_rule_that_found_nothing(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - findings: [C105, D104]\n")
    code, out, _ = run([BUSY, "--expect", path])
    assert code == ExitStatus.FINDINGS
    assert "findings: expected all of C105, D104, found C105" in flat(out)


def test_defaults_apply_to_every_expectation_unless_it_says_otherwise(tmp_path: Path) -> None:
    path = expect(tmp_path, """\
defaults:
  max_severity: info
  retransmissions: 0
  outcome: rejected
expect:
  - call: 1
  - max_severity: error
    max_retransmissions: 3
  - outcome: [busy]
""")
    code, document = checked(SERVER_ERRORS, path)
    first, second, third = (checks_of(r) for r in results(document))
    assert first == {"outcome": (True, ["rejected"], "rejected"),
                     "retransmissions": (True, 0, 0),
                     "max_severity": (False, "info", "error")}
    assert second == {"outcome": (True, ["rejected"], "rejected"),
                      "max_retransmissions": (True, 3, 0),  # replaces retransmissions: 0
                      "max_severity": (True, "error", "error")}
    assert third["outcome"] == (False, ["busy"], "rejected")
    assert code == ExitStatus.FINDINGS


# --- choosing calls ------------------------------------------------------------------------


def test_every_selector(tmp_path: Path) -> None:
    path = expect(tmp_path, f"""\
calls:
  count: 3
expect:
  - call: 2                   # line 4
    final_status: 502
  - final_status: 504         # the next call: 3
  - call_id: "{SERVER_ERROR_IDS[0]}"
    final_status: 500
  - final_status: 502         # the call after that one: 2
  - user: "bob"               # all three calls: bob is the callee
  - final_status: 504         # no next call after one that chose several
  - user: "carol"
  - call: 4
  - call_id: "nobody@example.com"
  - call: 3
  - {{}}                       # after the last call
""")
    code, document = checked(SERVER_ERRORS, path)
    assert code == ExitStatus.FINDINGS
    assert document["call_count"] == {"line": 2, "passed": True, "expected": 3, "actual": 3}
    found = [(r["line"], r["selector"], r["problem"], [c["index"] for c in r["calls"]],
              r["passed"]) for r in results(document)]
    assert found == [
        (4, {"key": "call", "value": 2}, None, [2], True),
        (6, {"key": "next", "value": None}, None, [3], True),
        (7, {"key": "call_id", "value": SERVER_ERROR_IDS[0]}, None, [1], True),
        (9, {"key": "next", "value": None}, None, [2], True),
        (10, {"key": "user", "value": "bob"}, "several_calls", [1, 2, 3], False),
        (11, {"key": "next", "value": None}, "no_previous", [], False),
        (12, {"key": "user", "value": "carol"}, "no_call", [], False),
        (13, {"key": "call", "value": 4}, "no_call", [], False),
        (14, {"key": "call_id", "value": "nobody@example.com"}, "no_call", [], False),
        (15, {"key": "call", "value": 3}, None, [3], True),
        (16, {"key": "next", "value": None}, "no_call", [], False),
    ]
    assert results(document)[5]["previous_line"] == 10
    assert document["summary"] == {"expectations": 12, "met": 6, "unmet": 6}


def test_selectors_that_choose_no_call_or_several_are_explained(tmp_path: Path) -> None:
    path = expect(tmp_path, """\
expect:
  - user: "bob"
  - outcome: rejected
  - user: "carol"
  - call: 4
  - call_id: "nobody@example.com"
  - call: 3
  - outcome: rejected
""")
    code, out, _ = run([SERVER_ERRORS, "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    ids = SERVER_ERROR_IDS
    assert (f"expected.yaml:2 user: bob 3 calls match: call 1: {ids[0]} (frame 1); call 2: "
            f"{ids[1]} (frame 5); call 3: {ids[2]} (frame 9). Choose one with call or call_id."
            ) in text
    assert ("expected.yaml:3 next call There is no next call: the expectation at line 2 did "
            "not choose exactly one call.") in text
    assert ("expected.yaml:4 user: carol No call has this user in the user part of its From, "
            "To or Request-URI.") in text
    assert "expected.yaml:5 call: 4 There is no call 4 (calls in the capture: 3)." in text
    assert ("expected.yaml:6 call_id: nobody@example.com No call has this Call-ID (calls in "
            "the capture: 3).") in text
    assert "expected.yaml:8 next call There is no next call (calls in the capture: 3)." in text
    assert "user 1 call 3 calls FAIL" in text
    assert text.endswith("1 of 7 expectations met")


def test_a_user_in_from_to_or_request_uri(tmp_path: Path) -> None:
    path = expect(tmp_path, 'expect:\n  - user: "alice"\n    outcome: busy\n'
                            '  - user: "bob@"\n')
    code, document = checked(BUSY, path)
    first, second = results(document)
    assert first["passed"] is True
    assert [c["call_id"] for c in first["calls"]] == ["busy-1@127.0.0.1"]
    assert second["problem"] == "no_call"  # the user part only: never the host
    assert code == ExitStatus.FINDINGS


def test_the_number_of_calls(tmp_path: Path) -> None:
    path = expect(tmp_path, "calls:\n  count: 2\n")
    code, out, _ = run([SERVER_ERRORS, "--expect", path])
    assert code == ExitStatus.FINDINGS
    text = flat(out)
    assert "expected.yaml:2 calls - count 2 3 FAIL" in text
    assert "expected.yaml:2 calls count: expected 2, found 3" in text
    assert run([SERVER_ERRORS, "--expect", expect(tmp_path, "calls: {count: 3}\n")])[0] == 0


# --- broken expectations files -------------------------------------------------------------


CHECK_KEYS = ("outcome, final_status, max_post_dial_delay, media, max_loss_percent,"
              " max_jitter_ms, min_mos, retransmissions, max_retransmissions, max_severity,"
              " findings, no_findings")
BROKEN = [
    ("expect:\n  - call: 1\n    outcom: busy\n",
     f"3: unknown key 'outcom' (known: call, call_id, user, {CHECK_KEYS})"),
    ("expect:\n  - outcome: bussy\n",
     "2: 'outcome': 'bussy' is not an outcome (completed, answered, dropped, cancelled, busy, "
     "no_answer, rejected, redirected, auth_failed, timeout, unreachable, in_progress, incomplete, "
     "ok)"),
    ("expect:\n  - max_post_dial_delay: 2\n",
     "2: 'max_post_dial_delay': 2 is not a duration such as 500ms, 32s, 5m or 1h"),
    ("expect:\n  - final_status: 999\n",
     "2: 'final_status': 999 is not a response code (100-699), a class (4xx) or none"),
    ("expect:\n  - retransmissions: -1\n", "2: 'retransmissions': -1 is not a count (0 or more)"),
    ("expect:\n  - retransmissions: 0\n    max_retransmissions: 2\n",
     "3: give 'retransmissions' (exactly) or 'max_retransmissions' (at most), not both"),
    ("expect:\n  - max_severity: fatal\n",
     "2: 'max_severity': 'fatal' is not a severity (info, warning, error, none)"),
    ("expect:\n  - findings: [C105, X999]\n",
     "2: 'findings': 'X999' is not a rule (sipdiag rules lists them)"),
    ("expect:\n  - findings: [D104]\n    no_findings: [ack-missing]\n",
     "3: D104 in both 'findings' and 'no_findings'"),
    ("defaults:\n  no_findings: [D104]\nexpect:\n  - findings: [D104]\n",
     "4: D104 in both 'findings' and 'no_findings' (with the defaults)"),
    ("expect:\n  - findings: []\n", "2: 'findings': the list is empty"),
    ("expect:\n  - call: 1\n    user: \"1002\"\n",
     "3: choose the call with one of call, call_id, user, not both 'call' and 'user'"),
    ("expect:\n  - call: 0\n", "2: 'call' counts from 1, the first call (found 0)"),
    ("expect:\n  - call: first\n", "2: 'call' must be a whole number (found 'first')"),
    ("expect:\n  - user: 1002\n",
     "2: 'user' must be text; write it in quotes, user: \"1002\" (found 1002)"),
    ("expect:\n  - call_id: \"\"\n", "2: 'call_id' is empty"),
    ("defaults:\n  call_id: abc\n", "2: 'call_id' chooses a call: it cannot be a default"),
    ("calls:\n  count: -1\n", "2: 'count' must be 0 or more (found -1)"),
    ("calls:\n  count: 1\n  each: x\n", "3: unknown key 'each' (known: count)"),
    ("expect:\n  - outcome: busy\nexpected: 1\n",
     "3: unknown key 'expected' (known: calls, defaults, expect)"),
    ("defaults:\n  max_pdd: 2s\n", f"2: unknown key 'max_pdd' (known: {CHECK_KEYS})"),
    ("expect:\n  - busy\n", "2: an expectation must be a map of keys"),
    ("expect: []\n", "1: nothing to check: give 'expect', a list of expectations, or 'calls'"),
    ("# nothing\n", "1: an expectations file must be a map of keys"),
    ("expect:\n  - outcome: busy\n  - outcome: [busy\n",
     "4: not valid YAML: did not find expected ',' or ']'"),
    ("expect:\n  - outcome: busy\n    outcome: busy\n", "3: 'outcome' is given twice"),
]


@pytest.mark.parametrize(("text", "error"), BROKEN,
                         ids=[error.split(":", 1)[1][:40] for _, error in BROKEN])
def test_a_broken_expectations_file_is_reported_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, error: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("expected.yaml").write_text(text, encoding="utf-8")
    code, out, err = run([str(ROOT / BUSY), "--expect", "expected.yaml"])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err == f"sipdiag: error: expected.yaml:{error}\n"


def test_missing_files_and_options_are_usage_errors(tmp_path: Path) -> None:
    code, out, err = run([BUSY, "--expect", str(tmp_path / "none.yaml")])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err.startswith(f"sipdiag: error: {tmp_path / 'none.yaml'}: cannot be read")
    code, _, err = run([BUSY])
    assert code == ExitStatus.ERROR and "the following arguments are required: --expect" in err
    path = expect(tmp_path, "expect:\n  - outcome: busy\n")
    code, out, err = run(["samples/calls/missing.pcap", "--expect", path])
    assert (code, out) == (ExitStatus.ERROR, "")
    assert err.startswith("sipdiag: error: ")


def test_a_capture_on_standard_input(tmp_path: Path) -> None:
    path = expect(tmp_path, "expect:\n  - outcome: busy\n")
    code, _, _ = run(["-", "--expect", path], stdin=(ROOT / BUSY).read_bytes())
    assert code == ExitStatus.OK


# --- outputs -------------------------------------------------------------------------------


MIXED = """\
calls:
  count: 1
expect:
  - call: 1
    outcome: [dropped]
    retransmissions: 0
    max_severity: warning
  - call_id: "x\\e[31m<&>\\""
"""


def test_json_output_is_the_documented_shape_and_deterministic(tmp_path: Path) -> None:
    path = expect(tmp_path, MIXED)
    code, out, _ = run([NO_ACK, "--expect", path, "--format", "json"])
    assert code == ExitStatus.FINDINGS
    assert run([NO_ACK, "--expect", path, "--format", "json"])[1] == out
    document = json.loads(out)
    assert sorted(document) == ["call_count", "capture", "expectations", "expectations_file",
                                "passed", "schema_version", "summary", "tool"]
    assert document["schema_version"] == 1 and document["tool"]["name"] == "sipdiag"
    assert (document["capture"], document["expectations_file"]) == (NO_ACK, path)
    assert document["passed"] is False
    assert document["summary"] == {"expectations": 3, "met": 1, "unmet": 2}
    first, second = document["expectations"]
    assert first["calls"] == [{"index": 1, "call_id": "no-ack-32s-1@127.0.0.1",
                               "first_frame": 1}]
    checks = {c["key"]: c for c in first["checks"]}
    assert [c["key"] for c in first["checks"]] == ["outcome", "retransmissions", "max_severity"]
    assert checks["outcome"] == {"key": "outcome", "passed": True, "expected": ["dropped"],
                                 "actual": "dropped", "findings": []}
    assert (checks["retransmissions"]["expected"], checks["retransmissions"]["actual"]) == (0, 10)
    severity = checks["max_severity"]
    assert (severity["passed"], severity["expected"], severity["actual"]) == (
        False, "warning", "error")
    assert [(f["rule"], f["severity"], f["call_frame"]) for f in severity["findings"]] == [
        ("D104", "error", 1)]
    assert severity["findings"][0]["evidence"][0] == {"frame": 4, "time": 1.208056,
                                                      "message": "200 INVITE", "copy": 1}
    assert second["selector"] == {"key": "call_id", "value": "x\x1b[31m<&>\""}
    assert (second["problem"], second["calls"], second["checks"]) == ("no_call", [], [])


def test_junit_output_has_a_testcase_per_expectation(tmp_path: Path) -> None:
    path = expect(tmp_path, MIXED)
    code, out, _ = run([NO_ACK, "--expect", path, "--format", "junit"])
    assert code == ExitStatus.FINDINGS
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out)
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "3", "2")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == path
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [
        f"{path}:2 calls", f"{path}:4 call: 1",
        f"{path}:8 call_id: x\\x1b[31m<&>\"",  # the escape shown, never sent
    ]
    assert {case.get("classname") for case in cases} == {NO_ACK}
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("type") == "unmet_expectation"
    assert failure.get("message") == "retransmissions: expected 0, found 10"
    assert failure.text is not None
    lines = failure.text.splitlines()
    assert lines[0] == f"{path}:4 call: 1 (call 1: no-ack-32s-1@127.0.0.1 (frame 1))"
    assert lines[1:3] == [
        "  retransmissions: expected 0, found 10",
        "    200 INVITE: 11 copies, frames 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14",
    ]
    assert "  max_severity: expected at most warning, found error (D104)" in lines
    missing = cases[2].find("failure")
    assert missing is not None
    assert missing.get("message") == "No call has this Call-ID (calls in the capture: 1)."
    assert "\x1b" not in out


def test_terminal_output_shows_capture_text_as_text(tmp_path: Path) -> None:
    path = expect(tmp_path, MIXED)
    _, out, _ = run([NO_ACK, "--expect", path])
    assert "\x1b" not in out
    assert 'call_id: x\\x1b[31m<&>"' in out
