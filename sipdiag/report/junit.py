"""The analysis as JUnit XML, for the test reports of Jenkins, GitLab and GitHub.

One ``<testsuites>`` holds one ``<testsuite>`` for the capture (named as the capture was given),
with the capture's facts as ``<properties>`` (named as the keys of the JSON document:
``capture.frames``, ``summary.asr``, ...). Each call is a ``<testcase>`` of class
``sipdiag.calls`` and each other exchange one of class ``sipdiag.exchanges``, named after its
first frame, its parties, its outcome and its Call-ID, timed by its duration.

A test case fails when it has a finding at or above ``fail_on`` (the threshold of the exit
status). The common JUnit schema allows one ``<failure>`` per test case: its ``type`` is the rule
id and its ``message`` the rule's title (the ids, space-separated, and the titles,
semicolon-separated, when several rules failed it), and its body holds the whole text of each
such finding: what happened, why it matters, the usual causes, the fix and the evidence. Findings
below the threshold are written in full to the test case's ``<system-out>``, and what could not
be read from the capture to the suite's.

Deterministic: no wall-clock time (the suite's timestamp is the capture's first frame), no host
name, elements in frame order. Every text goes through ``escape.for_xml`` (controls shown as
``\\xNN``, characters XML 1.0 forbids dropped) and ElementTree escapes ``<``, ``&`` and quotes.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

from sipdiag import __version__
from sipdiag.analysis import Analysis, CallResult, Result
from sipdiag.report import document
from sipdiag.report.call_list import user
from sipdiag.report.escape import for_xml
from sipdiag.report.findings import finding_rows, finding_title
from sipdiag.report.messages import iso_time
from sipdiag.report.stats import stats_of
from sipdiag.report.summary import PROBLEM_COLUMNS, problem_cells
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding, reaches

CALLS_CLASS = "sipdiag.calls"
EXCHANGES_CLASS = "sipdiag.exchanges"


def write_junit(
    analysis: Analysis, catalog: Catalog, out: TextIO, fail_on: str, language: str = "en"
) -> None:
    root = junit(analysis, catalog, fail_on, language)
    ET.indent(root, space="  ")
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def junit(analysis: Analysis, catalog: Catalog, fail_on: str, language: str = "en") -> ET.Element:
    summary = analysis.summary
    first_ts = summary.first_ts_ns or 0
    span = (summary.last_ts_ns or first_ts) - first_ts
    results: Iterable[Result] = itertools.chain(analysis.calls, analysis.exchanges)
    cases = [_testcase(result, catalog, first_ts, fail_on, language) for result in results]
    failures = sum(case.find("failure") is not None for case in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0",
              "skipped": "0", "time": _seconds(span)}
    root = ET.Element("testsuites", {"name": "sipdiag", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": for_xml(summary.name), **counts})
    if summary.first_ts_ns is not None:
        suite.set("timestamp", iso_time(summary.first_ts_ns)[:19])  # xs:dateTime, no zone
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(analysis, fail_on):
        ET.SubElement(properties, "property", {"name": name, "value": for_xml(value)})
    suite.extend(cases)
    problems = _problems_text(analysis, catalog, language)
    if problems:
        ET.SubElement(suite, "system-out").text = problems
    return root


def _testcase(
    record: Result, catalog: Catalog, first_ts_ns: int, fail_on: str, language: str
) -> ET.Element:
    values = {"frame": record.first_frame, "caller": user(record.caller),
              "callee": user(record.callee), "outcome": record.outcome,
              "call_id": record.call_id}
    if isinstance(record, CallResult):
        classname, name = CALLS_CLASS, catalog.label("test_call", language, **values)
    else:
        classname = EXCHANGES_CLASS
        name = catalog.label("test_exchange", language, method=record.method, **values)
    case = ET.Element("testcase", {"classname": classname, "name": for_xml(name),
                                   "time": _seconds(record.end_ns - record.start_ns)})
    failing = [f for f in record.findings if reaches(f.severity, fail_on)]
    passing = [f for f in record.findings if not reaches(f.severity, fail_on)]
    if failing:
        rules = list({f.rule.id: f.rule for f in failing}.values())
        failure = ET.SubElement(case, "failure", {
            "type": " ".join(rule.id for rule in rules),
            "message": for_xml("; ".join(rule.title.get(language) for rule in rules)),
        })
        failure.text = _findings_text(failing, catalog, first_ts_ns, language)
    if passing:
        out = ET.SubElement(case, "system-out")
        out.text = _findings_text(passing, catalog, first_ts_ns, language)
    return case


def _findings_text(
    findings: Sequence[Finding], catalog: Catalog, first_ts_ns: int, language: str
) -> str:
    """Each finding as its heading line then one ``label: text`` line per row, a blank line
    between two findings; each line is escaped on its own, so a line break in capture text
    shows as ``\\x0a`` instead of starting a line."""
    blocks = []
    for finding in findings:
        lines = [finding_title(finding, catalog, language)]
        lines += [f"{name}: {text}" for name, text in
                  finding_rows(finding, catalog, first_ts_ns, language)]
        blocks.append("\n".join(map(for_xml, lines)))
    return "\n\n".join(blocks)


def _problems_text(analysis: Analysis, catalog: Catalog, language: str) -> str:
    rows = problem_cells(analysis.summary)
    if not rows:
        return ""
    headings = [catalog.label(column, language) for column in PROBLEM_COLUMNS]
    lines = [catalog.label("problems", language)]
    lines += ["; ".join(f"{heading}: {cell}" for heading, cell in zip(headings, row, strict=True))
              for row in rows]
    return "\n".join(map(for_xml, lines))


def _properties(analysis: Analysis, fail_on: str) -> Iterator[tuple[str, str]]:
    """The facts of the capture and the figures of the summary, as the JSON document has them
    (scalars only; problems by kind)."""
    yield "sipdiag.version", __version__
    yield "sipdiag.fail_on", fail_on
    facts = document.capture(analysis.summary)
    problems = facts.pop("problems")
    yield from _flat("capture", facts)
    if isinstance(problems, list):
        for problem in problems:
            yield f"capture.problems.{problem['kind']}", str(problem["count"])
    yield from _flat("summary", document.summary(stats_of(analysis)))


def _flat(prefix: str, value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _flat(f"{prefix}.{key}", value[key])
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    elif isinstance(value, str | int | float):
        yield prefix, str(value)


def _seconds(ns: int) -> str:
    return f"{ns / 1e9:.3f}"
