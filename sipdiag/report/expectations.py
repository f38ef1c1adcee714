"""The result of ``sipdiag check``: a table for people, a JSON document, JUnit XML.

Terminal (``terminal.expectations``, from the rows and failures made here): one table with a
row per check (expectation, call, check, expected, actual, pass or fail), then every unmet
expectation explained: what was expected and found, the meaning of the outcome or status found,
the retransmitted messages, the findings that broke a check with what happened and their
evidence; last, how many expectations were met.

JSON (``verdict_document``, keys sorted, each expectation on a line of its own)::

    {"schema_version": 1, "tool": {"name": "sipdiag", "version": "..."},
     "capture": "calls/test1.pcap", "expectations_file": "expected.yaml", "passed": false,
     "summary": {"expectations": 3, "met": 2, "unmet": 1},
     "call_count": {"line": 2, "passed": true, "expected": 3, "actual": 3},   (or null)
     "expectations": [
       {"line": 4, "selector": {"key": "call", "value": 1}, "passed": false,
        "problem": null,        (or "no_call", "several_calls", "no_previous")
        "previous_line": null,  (for "no_previous": the line of the expectation before)
        "calls": [{"index": 1, "call_id": "...", "first_frame": 1}],   (the calls chosen)
        "checks": [{"key": "outcome", "passed": true, "expected": ["completed"],
                    "actual": "completed", "findings": []}, ...]}]}

A selector's ``key`` is ``call``, ``call_id``, ``user`` or ``next`` (value null). Expected and
actual values are plain data: ``outcome`` a list of outcomes / the outcome; ``final_status`` the
list as written (486, "4xx", "none") / the status or null; ``max_post_dial_delay`` seconds /
seconds or null (the call never rang); ``retransmissions`` and ``max_retransmissions`` counts;
``max_severity`` a severity or "none" / the most severe finding's severity or null;
``findings`` and ``no_findings`` rule ids / the ids of every rule that found something in the
call. A check's ``findings`` are the findings that broke it, as in ``sipdiag --format json``.

JUnit: one ``<testcase>`` per expectation (and one for ``calls: count``), of class the capture
and named ``FILE:LINE selector``; an unmet one has a ``<failure>`` whose message is the first
unmet check and whose text is the whole explanation.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TextIO

from sipdiag import __version__
from sipdiag.expectations.engine import (
    NEXT,
    NO_CALL,
    NO_FINDING,
    NO_PREVIOUS,
    CheckResult,
    ExpectationResult,
    PickedCall,
    Value,
    Verdict,
)
from sipdiag.report.document import Json, finding, write_document
from sipdiag.report.escape import for_xml
from sipdiag.report.findings import catalog_reference, evidence_text
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding

SCHEMA_VERSION = 1
COLUMNS = ("col_expectation", "call", "check", "col_expected", "col_actual", "col_result")
MAX_LISTED_CALLS = 10
"""Calls named when a selector matches several."""

Label = Callable[..., str]


@dataclass(frozen=True, slots=True)
class Failure:
    """An unmet expectation, explained: its name, the call it chose, and plain lines of text
    (details of a line are indented by two spaces)."""

    name: str
    call: str | None
    lines: tuple[str, ...]


def expectation_name(result: ExpectationResult, source: str, catalog: Catalog,
                     language: str = "en") -> str:
    """``expected.yaml:5 call_id: abc@host``, ``expected.yaml:9 next call``."""
    expectation = result.expectation
    selector = expectation.selector
    where = f"{source}:{expectation.line}"
    if selector.key == NEXT:
        return f"{where} {catalog.label('check_next', language)}"
    return f"{where} {selector.key}: {selector.value}"


MEDIA_FIGURES = {"max_loss_percent": "check_percent", "max_jitter_ms": "check_ms",
                 "min_mos": "check_mos"}
"""The label each media figure is written with."""


def count_name(verdict: Verdict) -> str:
    return f"{verdict.source}:{verdict.count_line} calls"


def call_text(picked: PickedCall, catalog: Catalog, language: str = "en") -> str:
    record = picked.record
    return catalog.label("check_call", language, index=picked.index, call_id=record.call_id,
                         frame=record.first_frame)


def expected_text(check: CheckResult, catalog: Catalog, language: str = "en") -> str:
    label = partial(catalog.label, language=language)
    key, value = check.key, check.expected
    items = _items(value)
    if key in ("outcome", "final_status", "media"):
        return items[0] if len(items) == 1 else label("check_one_of", items=", ".join(items))
    if key == "max_post_dial_delay":
        return label("check_at_most", value=_seconds(value, label))
    if key in MEDIA_FIGURES:
        at = "check_at_least" if key == "min_mos" else "check_at_most"
        return label(at, value=label(MEDIA_FIGURES[key], value=f"{value:g}"))
    if key == "max_retransmissions":
        return label("check_at_most", value=value)
    if key == "max_severity":
        if value == NO_FINDING:
            return label("check_no_finding")
        return label("check_at_most", value=label(str(value)))
    if key == "findings":
        return items[0] if len(items) == 1 else label("check_all_of", items=", ".join(items))
    if key == "no_findings":
        return label("check_none_of", items=", ".join(items))
    return str(value)


def actual_text(check: CheckResult, catalog: Catalog, language: str = "en") -> str:
    label = partial(catalog.label, language=language)
    key, value = check.key, check.actual
    if key == "final_status" and value is None:
        return label("check_no_final")
    if key == "max_post_dial_delay":
        return label("check_never_rang") if value is None else _seconds(value, label)
    if key == "media":
        return label("check_no_media") if value is None else str(value)
    if key in MEDIA_FIGURES:
        if value is None:
            return label("check_not_measured")
        return label(MEDIA_FIGURES[key], value=f"{value:g}")
    if key == "max_severity":
        if value is None:
            return label("check_no_finding")
        broken = " ".join(dict.fromkeys(f.rule.id for f in check.findings))
        return label(str(value)) + (f" ({broken})" if broken else "")
    if key in ("findings", "no_findings"):
        return " ".join(_items(value)) or label("check_no_finding")
    return str(value)


def problem_text(result: ExpectationResult, call_total: int, catalog: Catalog,
                 language: str = "en") -> str:
    """Why the selector did not choose one call (of the ``call_total`` of the capture)."""
    label = partial(catalog.label, language=language)
    selector = result.expectation.selector
    if result.problem == NO_PREVIOUS:
        return label("check_no_previous", line=result.previous_line)
    if result.problem == NO_CALL:
        if selector.key == "call":
            return label("check_no_call_index", index=selector.value, total=call_total)
        if selector.key == "call_id":
            return label("check_no_call_id", total=call_total)
        if selector.key == "user":
            return label("check_no_call_user")
        return label("check_no_next_call", total=call_total)
    named = [call_text(p, catalog, language) for p in result.picked[:MAX_LISTED_CALLS]]
    if len(result.picked) > MAX_LISTED_CALLS:
        named.append("...")
    return label("check_several_calls", count=len(result.picked), calls="; ".join(named))


def rows(verdict: Verdict, catalog: Catalog, language: str = "en") -> list[list[str]]:
    """The table: a row per check (the expectation and call named on its first row only); an
    expectation that chose no call, or several, is one row about its selector."""
    label = partial(catalog.label, language=language)
    found: list[list[str]] = []
    if verdict.count is not None:
        count = verdict.count
        found.append([count_name(verdict), "-", count.key, str(count.expected),
                      str(count.actual), _result(count.passed, label)])
    for result in verdict.results:
        name = expectation_name(result, verdict.source, catalog, language)
        call = call_text(result.call, catalog, language) if result.call else "-"
        if result.problem is not None:
            picked = label("check_calls_found", count=len(result.picked))
            key = result.expectation.selector.key
            found.append([name, call, "-" if key == NEXT else key, label("check_one_call"),
                          "-" if result.problem == NO_PREVIOUS else picked, _result(False, label)])
        elif not result.checks:
            found.append([name, call, "-", "-", "-", _result(True, label)])
        for index, check in enumerate(result.checks):
            first = index == 0
            found.append([name if first else "", call if first else "", check.key,
                          expected_text(check, catalog, language),
                          actual_text(check, catalog, language), _result(check.passed, label)])
    return found


def failures(verdict: Verdict, catalog: Catalog, language: str = "en") -> list[Failure]:
    """Every unmet expectation, explained: the number of calls first, then in file order."""
    found = [count_failure(verdict, catalog, language)]
    found += [failure_of(result, verdict, catalog, language) for result in verdict.results]
    return [failure for failure in found if failure is not None]


def failure_of(result: ExpectationResult, verdict: Verdict, catalog: Catalog,
               language: str = "en") -> Failure | None:
    """Why an expectation is unmet; None when it is met."""
    if result.passed:
        return None
    name = expectation_name(result, verdict.source, catalog, language)
    if result.call is None:
        return Failure(name, None, (problem_text(result, verdict.call_total, catalog, language),))
    lines: list[str] = []
    for check in result.checks:
        if not check.passed:
            lines.append(unmet_text(check, catalog, language))
            lines += ["  " + line for line in
                      _details(check, result.call, verdict.first_ts_ns, catalog, language)]
    return Failure(name, call_text(result.call, catalog, language), tuple(lines))


def count_failure(verdict: Verdict, catalog: Catalog, language: str = "en") -> Failure | None:
    if verdict.count is None or verdict.count.passed:
        return None
    return Failure(count_name(verdict), None, (unmet_text(verdict.count, catalog, language),))


def unmet_text(check: CheckResult, catalog: Catalog, language: str = "en") -> str:
    """``outcome: expected completed, found busy``."""
    return catalog.label("check_unmet", language, check=check.key,
                         expected=expected_text(check, catalog, language),
                         actual=actual_text(check, catalog, language))


def failure_text(failure: Failure) -> str:
    """A failure as plain text: its name (and call) on the first line, then its lines."""
    heading = failure.name + (f" ({failure.call})" if failure.call else "")
    return "\n".join([heading, *("  " + line for line in failure.lines)])


def summary_text(verdict: Verdict, catalog: Catalog, language: str = "en") -> str:
    return catalog.label("check_summary", language, met=verdict.met, total=verdict.total)


def _details(check: CheckResult, picked: PickedCall, first_ts_ns: int, catalog: Catalog,
             language: str) -> list[str]:
    """What explains an unmet check: the meaning of what was found, and its evidence."""
    label = partial(catalog.label, language=language)
    actual = check.actual
    if check.key == "outcome" and isinstance(actual, str) and actual in catalog.outcomes:
        return [f"{actual}: {catalog.outcomes[actual].get(language)}"]
    if check.key == "final_status" and isinstance(actual, int):
        reference = catalog_reference(catalog, "response", actual, language)
        return [reference] if reference else []
    if check.key in ("retransmissions", "max_retransmissions"):
        return [label("check_copies", what=r.what, count=len(r.frames),
                      frames=", ".join(map(str, r.frames)))
                for r in picked.record.retransmissions]
    return [line for item in check.findings
            for line in finding_lines(item, catalog, first_ts_ns, language)]


def finding_lines(item: Finding, catalog: Catalog, first_ts_ns: int,
                  language: str = "en") -> list[str]:
    """A finding in brief: severity, rule and title; what happened; the evidence."""
    label = partial(catalog.label, language=language)
    rule = item.rule
    return [f"{label(rule.severity).upper()} {rule.id} {rule.name}: {rule.title.get(language)}",
            f"  {label('what_happened')}: {item.message(language)}",
            f"  {label('evidence')}: "
            f"{evidence_text(item.evidence, catalog, first_ts_ns, language)}"]


def _items(value: Value) -> list[str]:
    return [str(item) for item in value] if isinstance(value, tuple) else [str(value)]


def _seconds(value: Value, label: Label) -> str:
    assert isinstance(value, int | float)
    return label("seconds", n=f"{value:.3f}")


def _result(passed: bool, label: Label) -> str:
    return label("check_pass" if passed else "check_fail")


def verdict_document(verdict: Verdict, language: str = "en") -> Json:
    count = verdict.count
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sipdiag", "version": __version__},
        "capture": verdict.capture,
        "expectations_file": verdict.source,
        "passed": verdict.passed,
        "summary": {"expectations": verdict.total, "met": verdict.met,
                    "unmet": verdict.total - verdict.met},
        "call_count": None if count is None else {
            "line": verdict.count_line, "passed": count.passed, "expected": count.expected,
            "actual": count.actual,
        },
        "expectations": [_result_document(r, verdict.first_ts_ns, language)
                         for r in verdict.results],
    }


def _result_document(result: ExpectationResult, first_ts_ns: int, language: str) -> Json:
    expectation = result.expectation
    return {
        "line": expectation.line,
        "selector": {"key": expectation.selector.key, "value": expectation.selector.value},
        "passed": result.passed,
        "problem": result.problem,
        "previous_line": result.previous_line or None,
        "calls": [{"index": p.index, "call_id": p.record.call_id,
                   "first_frame": p.record.first_frame} for p in result.picked],
        "checks": [_check_document(c, first_ts_ns, language) for c in result.checks],
    }


def _check_document(check: CheckResult, first_ts_ns: int, language: str) -> Json:
    return {
        "key": check.key,
        "passed": check.passed,
        "expected": _plain(check.expected),
        "actual": _plain(check.actual),
        "findings": [finding(item, first_ts_ns, language) for item in check.findings],
    }


def _plain(value: Value) -> object:
    return list(value) if isinstance(value, tuple) else value


def write_verdict_json(verdict: Verdict, out: TextIO, language: str = "en") -> None:
    write_document(verdict_document(verdict, language), out)


def write_verdict_junit(verdict: Verdict, catalog: Catalog, out: TextIO,
                        language: str = "en") -> None:
    root = verdict_junit(verdict, catalog, language)
    ET.indent(root, space="  ")
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def verdict_junit(verdict: Verdict, catalog: Catalog, language: str = "en") -> ET.Element:
    """Deterministic: no time, no host; ElementTree escapes, ``for_xml`` drops what XML 1.0
    forbids."""
    cases = [] if verdict.count is None else [
        (count_name(verdict), count_failure(verdict, catalog, language))]
    cases += [(expectation_name(r, verdict.source, catalog, language),
               failure_of(r, verdict, catalog, language)) for r in verdict.results]
    counts = {"tests": str(verdict.total), "failures": str(verdict.total - verdict.met),
              "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": "sipdiag check", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": for_xml(verdict.source), **counts})
    for name, failure in cases:
        case = ET.SubElement(suite, "testcase", {"classname": for_xml(verdict.capture),
                                                 "name": for_xml(name)})
        if failure is not None:
            element = ET.SubElement(case, "failure", {"type": "unmet_expectation",
                                                      "message": for_xml(failure.lines[0])})
            # line by line: the line breaks are the report's own, not capture text
            element.text = "\n".join(map(for_xml, failure_text(failure).split("\n")))
    return root
