"""The values of the rule language (sipdiag/rules/model.py): durations and response codes as a
rule writes them (rules/README.md, "The pattern"), which statuses a step accepts (RFC 3261
section 7.2: the class is the first digit), which severities fail a run with ``--fail-on``
(README.md: "exit 1 when a finding is at least info, warning or error, or never"), and a
finding's message in the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipdiag.rules.model import (
    Evidence,
    Finding,
    Rule,
    Statuses,
    parse_duration,
    parse_statuses,
    reaches,
    severity_rank,
)
from sipdiag.rules.text import Text


@pytest.mark.parametrize(
    ("written", "nanoseconds"),
    [
        ("500ms", 500_000_000),
        ("32s", 32_000_000_000),
        ("5m", 300_000_000_000),
        ("1h", 3_600_000_000_000),
        ("1.5s", 1_500_000_000),
        ("0ms", 0),
        (" 2 s ", 2_000_000_000),
        ("2.25m", 135_000_000_000),
    ],
)
def test_durations(written: str, nanoseconds: int) -> None:
    assert parse_duration(written) == nanoseconds


@pytest.mark.parametrize("written", ["soon", "5", "5d", "s", "-1s", "1.s", "5 sec", "", "1s2"])
def test_what_is_not_a_duration(written: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(written)
    assert str(caught.value) == f"{written!r} is not a duration such as 500ms, 32s, 5m or 1h"


@pytest.mark.parametrize("value", [5, 1.5, None, True, ["5s"]])
def test_only_text_is_a_duration(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == f"{value!r} is not a duration such as 500ms, 32s, 5m or 1h"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (481, Statuses(codes=frozenset({481}))),
        (100, Statuses(codes=frozenset({100}))),
        (699, Statuses(codes=frozenset({699}))),
        ("4xx", Statuses(classes=frozenset({4}))),
        ("1xx", Statuses(classes=frozenset({1}))),
        ("6xx", Statuses(classes=frozenset({6}))),
        ("none", Statuses(none=True)),
        ([401, 407, "5xx", "none"], Statuses(frozenset({401, 407}), frozenset({5}), True)),
        ([], Statuses()),
    ],
)
def test_statuses_as_written(written: object, expected: Statuses) -> None:
    assert parse_statuses(written) == expected


@pytest.mark.parametrize("item", [99, 700, 0, "7xx", "0xx", "4XX", "4xxx", "481", True, False,
                                  "None", None, 4.5])
def test_what_is_not_a_status(item: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_statuses([200, item])
    assert str(caught.value) == (
        f"{item!r} is not a response code (100-699), a class (4xx) or none")


@pytest.mark.parametrize(
    ("statuses", "status", "expected"),
    [
        (Statuses(codes=frozenset({481})), 481, True),
        (Statuses(codes=frozenset({481})), 480, False),
        (Statuses(classes=frozenset({4})), 400, True),
        (Statuses(classes=frozenset({4})), 499, True),
        (Statuses(classes=frozenset({4})), 500, False),
        (Statuses(classes=frozenset({4})), 399, False),
        (Statuses(codes=frozenset({481})), 0, False),  # no response at all
        (Statuses(classes=frozenset({4})), 0, False),
        (Statuses(none=True), 0, True),
        (Statuses(none=True), 200, False),
        (Statuses(frozenset({302}), frozenset({6}), True), 302, True),
        (Statuses(frozenset({302}), frozenset({6}), True), 603, True),
        (Statuses(frozenset({302}), frozenset({6}), True), 301, False),
    ],
)
def test_which_statuses_a_step_accepts(statuses: Statuses, status: int, expected: bool) -> None:
    assert statuses.matches(status) is expected


@pytest.mark.parametrize(
    ("severity", "fail_on", "expected"),
    [
        ("info", "info", True), ("warning", "info", True), ("error", "info", True),
        ("info", "warning", False), ("warning", "warning", True), ("error", "warning", True),
        ("info", "error", False), ("warning", "error", False), ("error", "error", True),
        ("info", "never", False), ("warning", "never", False), ("error", "never", False),
    ],
)
def test_which_findings_fail_a_run(severity: str, fail_on: str, expected: bool) -> None:
    assert reaches(severity, fail_on) is expected


def test_severities_in_increasing_gravity() -> None:
    assert [severity_rank(s) for s in ("info", "warning", "error")] == [0, 1, 2]


def finding(evidence: tuple[Evidence, ...] = ()) -> Finding:
    rule = Rule(id="X901", name="probe", title=Text({"en": "t"}), severity="warning",
                scope="call",
                message=Text({"en": "BYE in frame {bye.frame}", "ko": "{bye.frame} 프레임의 BYE"}),
                explanation=Text({"en": "e"}), causes=Text({"en": "c"}), fix=Text({"en": "f"}),
                references=(), tests=(), path=Path("X901-probe.yaml"))
    return Finding(rule, "call-1", 3, {"bye.frame": "7"}, evidence)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "BYE in frame 7"), ("ko", "7 프레임의 BYE"), ("ja", "BYE in frame 7")],
)
def test_a_finding_message_in_a_language(language: str, expected: str) -> None:
    assert finding().message(language) == expected


def test_a_finding_message_defaults_to_english() -> None:
    assert finding().message() == "BYE in frame 7"


def test_a_finding_is_as_severe_as_its_rule_and_starts_at_its_first_evidence() -> None:
    evidence = (Evidence(5, 10, "BYE"), Evidence(6, 20, "481 BYE"))
    assert finding(evidence).severity == "warning"
    assert finding(evidence).first_frame == 5
    assert finding().first_frame == 0  # no evidence
