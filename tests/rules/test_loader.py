"""Rule files: what loads, and how every kind of mistake is reported (file, line, what)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipdiag.rules import builtin_folder
from sipdiag.rules.loader import load_rule, load_rules
from sipdiag.rules.model import Statuses
from sipdiag.rules.yamlfile import DataError

VALID = """\
id: X901
name: bye-rejected
title:
  en: BYE rejected
  ko: BYE 거부됨
severity: warning
scope: call
match:
  - as: bye
    request: BYE
    final: 4xx
  - as: later
    request: same
    after: bye
    within: 500ms
    final: [481, none]
message:
  en: "BYE in frame {bye.frame} got {bye.status}"
  ko: "{bye.frame} 프레임의 BYE가 {bye.status}를 받음"
explanation:
  en: Why.
causes:
  en: Causes.
fix:
  en: Fix.
references:
  - RFC 3261 section 15
tests:
  - sample: samples/calls/bye-481.pcap
    expect: 1
"""


def write(folder: Path, text: str, name: str = "X901-bye-rejected.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_rule(path)
    return str(caught.value)


def test_a_valid_rule_loads_with_its_steps(tmp_path: Path) -> None:
    rule = load_rule(write(tmp_path, VALID))
    assert (rule.id, rule.name, rule.severity, rule.scope) == ("X901", "bye-rejected", "warning",
                                                               "call")
    bye, later = rule.steps
    assert bye.methods == frozenset({"BYE"}) and bye.final == Statuses(classes=frozenset({4}))
    assert later.same_method and later.after == "bye" and later.within_ns == 500_000_000
    assert later.final == Statuses(codes=frozenset({481}), none=True)
    assert rule.title.get("ko") == "BYE 거부됨" and rule.title.get("ja") == "BYE rejected"
    assert rule.message.render({"bye.frame": "7", "bye.status": "481"}) == "BYE in frame 7 got 481"


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        ("severity: warning", "severity: fatal", 6, "must be one of info, warning, error"),
        ("scope: call", "scope: call\ncolour: red", 8, "unknown key 'colour'"),
        ("    final: 4xx", "    final: 4xy", 11, "'4xy' is not a response code"),
        ("    within: 500ms", "    within: soon", 15, "'soon' is not a duration"),
        ("    after: bye", "    after: nothing", 14, "'after: nothing' names no earlier step"),
        ("  en: Why.", "  fr: Pourquoi.", 20, "'explanation' has no English (en) text"),
        ("  ko: BYE 거부됨", "  korean: BYE 거부됨", 5, "'korean' in 'title' is not a language"),
        ('  ko: "{bye.frame} 프레임의 BYE가 {bye.status}를 받음"', '  ko: "{bye.frame} 프레임"', 19,
         "the ko text of 'message' has placeholders ['bye.frame'], English has"),
        (VALID[VALID.index("message:") : VALID.index("explanation:")],
         "message:\n  en: BYE {bye.colour}\n", 17,
         "the message uses {bye.colour}, which nothing fills"),
        ("    expect: 1", "    expect: lots", 30, "'expect' must be a whole number"),
        ("id: X901", "id: x901", 1, "id must be a capital letter"),
        ("    final: 4xx\n", "    absent: true\n", 8,
         "the first step cannot be 'absent'"),
        ("scope: call\n", "scope: call\ncheck: ack_missing\n", 1, "a rule needs one of 'match'"),
        ("scope: call\n", "scope: call\nonce: 3\n", 8, "'once' must be true or false"),
        ("    request: BYE\n", "    request: [BYE, bye]\n", 10, "'request' must be a method"),
        ("title:", "title: [oops", 4, "not valid YAML"),
    ],
)
def test_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, expected: str
) -> None:
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    message = error_of(path)
    assert message.startswith(f"{path}:{line}: "), message
    assert expected in message, message


def test_unknown_check_names_the_known_ones(tmp_path: Path) -> None:
    text = VALID.split("match:")[0] + "check: astrology\n" + "message:" + VALID.split("message:")[1]
    message = error_of(write(tmp_path, text))
    assert "there is no check named 'astrology'" in message and "ack_missing" in message


def test_check_parameters_are_parsed_and_checked(tmp_path: Path) -> None:
    head = VALID.split("match:")[0].replace("scope: call\n", "")
    rest = "message:\n  en: waited {pdd} s\n" + VALID.split("explanation:")[1].join(
        ["explanation:", ""]
    )
    good = load_rule(write(tmp_path, head + "check: long_post_dial_delay\nparams:\n  over: 9s\n"
                           + rest))
    assert good.params == {"over": 9_000_000_000}
    bad = write(tmp_path, head + "check: long_post_dial_delay\nparams:\n  under: 9s\n" + rest)
    assert "unknown key 'under'" in error_of(bad)


def test_the_file_name_must_match_the_id_and_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, VALID, "X901-something-else.yaml"))
    assert "must be named X901-bye-rejected.yaml" in message


def test_yaml_tags_that_would_build_python_objects_are_refused(tmp_path: Path) -> None:
    text = VALID.replace("name: bye-rejected", "name: !!python/object/apply:os.system [echo hi]")
    message = error_of(write(tmp_path, text))
    assert message.startswith(f"{tmp_path / 'X901-bye-rejected.yaml'}:2: not valid YAML")


def test_an_id_used_twice_across_folders_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "mine", VALID.replace("X901", "D101").replace(
        "bye-rejected", "bye-answered-481"), "D101-bye-answered-481.yaml")
    with pytest.raises(DataError, match=r"'D101' is already used by .*D101-bye-answered-481"):
        load_rules([builtin_folder(), tmp_path / "mine"])


def test_a_folder_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder of rules"):
        load_rules([tmp_path / "missing"])


def test_the_built_in_rules_all_load_with_unique_ids() -> None:
    rules = load_rules([builtin_folder()]).rules
    assert len(rules) >= 30
    assert len({r.id for r in rules}) == len(rules) == len({r.name for r in rules})
