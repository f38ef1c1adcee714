"""JUnit XML: valid against the common JUnit shape on every sample, right counts, the findings
at or above --fail-on as failures and the others as output, capture text made XML-safe."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lxml import etree

from sipdiag.cli import Environment, ExitStatus, main
from sipdiag.report.escape import for_terminal
from tests.conftest import SAMPLES, sample_captures
from tests.report.hostile import CALL_ID, REASON, hostile_capture

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("junit.xsd"))))
SERVER_ERRORS = SAMPLES / "rules" / "server-errors.pcap"
REINVITE_481 = SAMPLES / "rules" / "reinvite-481.pcap"


def junit(path: Path | str, *options: str) -> tuple[int, str]:
    out = io.StringIO()
    env = Environment(stdout=out, stderr=io.StringIO(), stdin=io.BytesIO(), environ={})
    code = main([str(path), "--format", "junit", *options], env)
    return code, out.getvalue()


def check(text: str) -> ET.Element:
    """Valid against the XSD, and counts that agree with the test cases."""
    document = etree.fromstring(text.encode("utf-8"))
    XSD.assertValid(document)
    root = ET.fromstring(text)
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    failed = [case for case in cases if case.find("failure") is not None]
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(len(failed))
        assert (element.get("errors"), element.get("skipped")) == ("0", "0")
    return suite


@pytest.mark.parametrize("path", sample_captures(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_sample_gives_valid_junit(path: Path) -> None:
    code, text = junit(path, "--fail-on", "warning")
    suite = check(text)
    assert suite.get("name") == str(path)
    classes = {case.get("classname") for case in suite.findall("testcase")}
    assert classes <= {"sipdiag.calls", "sipdiag.exchanges"}
    failed = any(case.find("failure") is not None for case in suite.findall("testcase"))
    assert failed == (code == ExitStatus.FINDINGS)


def test_fail_on_decides_what_is_a_failure() -> None:
    code, text = junit(SERVER_ERRORS, "--fail-on", "error")
    assert code == ExitStatus.FINDINGS
    suite = check(text)
    cases = suite.findall("testcase")
    assert len(cases) == 3 and suite.get("failures") == "3"
    failures = [case.find("failure") for case in cases]
    assert [(f.get("type"), f.get("message")) for f in failures if f is not None] == [
        ("C109", "Server failure (500, 502, 504)")] * 3
    body = failures[1].text if failures[1] is not None else ""
    assert body is not None and body.startswith("ERROR C109 server-failure: Server failure")
    for words in ("What happened: The INVITE in frame 5 was answered 502 Bad Gateway",
                  "Why it matters: ", "Usual causes: ", "How to fix: ",
                  "Evidence: 5 INVITE +5.000 s; 7 502 INVITE +5.150 s"):
        assert words in body
    assert [case.find("system-out") for case in cases] == [None] * 3

    code, text = junit(SERVER_ERRORS, "--fail-on", "never")
    assert code == ExitStatus.OK
    suite = check(text)
    assert suite.get("failures") == "0" and suite.get("tests") == "3"
    outputs = [case.findtext("system-out") or "" for case in suite.findall("testcase")]
    assert all(out.startswith("ERROR C109 server-failure") for out in outputs)


def test_several_rules_fail_one_test_case() -> None:
    suite = check(junit(REINVITE_481)[1])
    [case] = suite.findall("testcase")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "D102"
    assert (case.findtext("system-out") or "").startswith("WARNING D101 bye-answered-481")
    [case] = check(junit(REINVITE_481, "--fail-on", "warning")[1]).findall("testcase")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "D102 D101"
    assert failure.get("message") == ("Request inside a call answered 481 (the dialog is gone at "
                                      "the far end); BYE answered 481 (the far end had lost the "
                                      "dialog)")
    assert case.find("system-out") is None


def test_names_times_and_properties() -> None:
    suite = check(junit(SAMPLES / "calls" / "options-keepalive.pcap")[1])
    assert suite.get("timestamp") == "2026-11-21T19:43:50"
    assert suite.get("time") == "36.546"
    first = suite.findall("testcase")[0]
    assert first.get("classname") == "sipdiag.exchanges"
    assert first.get("name") == ("frame 1: OPTIONS keepalive@127.0.0.1:5080 -> 127.0.0.1:5060, ok "
                                 "(Call-ID options-keepalive-ok-1@127.0.0.1)")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["capture.file"] == str(SAMPLES / "calls" / "options-keepalive.pcap")
    assert properties["capture.frames"] == "26"
    assert properties["summary.exchange_outcomes.timeout"] == "2"
    assert properties["summary.findings.warning"] == "2"
    assert "summary.asr" not in properties  # no call attempts: no ratio
    [call] = check(junit(SAMPLES / "calls" / "no-ack-32s.pcap")[1]).findall("testcase")
    assert call.get("time") == "33.256"
    assert call.get("name") == ("frame 1: alice@127.0.0.1:5080 -> bob@127.0.0.1:5070, dropped "
                                "(Call-ID no-ack-32s-1@127.0.0.1)")


def test_capture_text_is_made_xml_safe(write_capture) -> None:
    _, text = junit(write_capture(hostile_capture()))
    assert "\x1b" not in text and "\x07" not in text and "\uffff" not in text
    suite = check(text)
    shown = for_terminal(CALL_ID).replace("\ufffe", "").replace("\uffff", "")
    [case] = suite.findall("testcase")
    assert case.get("name", "").endswith(f"(Call-ID {shown})")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "C109"
    assert f"answered 500 {for_terminal(REASON)} by 192.0.2.2:5060" in (failure.text or "")
    assert "&lt;b&gt;Error&lt;/b&gt;" in text and "<b>" not in text
    problems = suite.findtext("system-out") or ""
    assert problems.startswith("What could not be read\nProblem: sip_bad_start_line; Count: 1")


def test_the_same_capture_gives_the_same_bytes() -> None:
    assert len({junit(SERVER_ERRORS)[1] for _ in range(3)}) == 1


def test_the_xsd_refuses_what_reporters_cannot_read() -> None:
    good = junit(REINVITE_481)[1].encode("utf-8")
    XSD.assertValid(etree.fromstring(good))
    for bad in (good.replace(b'classname="sipdiag.calls" ', b""),
                good.replace(b"</failure>", b'</failure><failure type="X" message="x" />'),
                good.replace(b'tests="1" failures="1"', b'tests="one" failures="1"', 1)):
        assert not XSD.validate(etree.fromstring(bad))
