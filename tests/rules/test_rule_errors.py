"""Rule files (rules/README.md, "Rules" and "The pattern"): what each key of a rule and of a
step is read into, and the exact ``file:line: what is wrong`` of every mistake a rule file can
hold: the line is that of the key (or list item) that is wrong, or of the map a missing key
belongs in. Also the rule folders: which files are rules, their order, identifiers unique
across folders, and looking a rule up by ID or name."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipdiag.rules import checks
from sipdiag.rules.loader import RuleSet, load_rule, load_rules, rule_files
from sipdiag.rules.model import SampleTest, Statuses, Step
from sipdiag.rules.yamlfile import DataError
from tests.rules.lines import line_of

RULE = """\
id: X901
name: bye-rejected
title:
  en: BYE rejected
severity: warning
scope: call
match:
  - as: invite
    request: INVITE
    final: 2xx
  - as: bye
    request: BYE
    after: invite
    final: [481, 5xx, none]
message:
  en: "BYE in frame {bye.frame} got {bye.status}"
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
"""A valid rule; each test below changes one part of it."""

STEP_PLACEHOLDERS = ("method", "frame", "time", "status", "reason", "final_frame", "sender",
                     "responder", "copies", "wait")
"""What a message may say of each step (rules/README.md, "Placeholders")."""
CALL_PLACEHOLDERS = ("call.call_id", "call.caller", "call.callee", "call.outcome")
CHECKS = tuple(sorted(checks.CHECKS))
"""The checks the modules of sipdiag/rules/checks/ register (``@check(name, ...)``): the error
names them all, in order."""


def write(folder: Path, text: str, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if name is None:
        head = dict(line.split(": ", 1) for line in text.splitlines()[:2])
        name = f"{head['id']}-{head['name']}.yaml"
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str) -> str:
    assert RULE.count(old) == 1, old
    return RULE.replace(old, new)


def error_of(path: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_rule(path)
    return str(caught.value)


def test_the_rule_loads_with_every_key(tmp_path: Path) -> None:
    path = write(tmp_path, RULE)
    rule = load_rule(path)
    assert (rule.id, rule.name, rule.severity, rule.scope, rule.path) == (
        "X901", "bye-rejected", "warning", "call", path)
    assert rule.title.get() == "BYE rejected"
    assert (rule.explanation.get(), rule.causes.get(), rule.fix.get()) == ("Why.", "Causes.",
                                                                           "Fix.")
    assert rule.references == ("RFC 3261 section 15",)
    assert rule.tests == (SampleTest("samples/calls/bye-481.pcap", 1, line_of(RULE, "  - sample")),)
    assert rule.check is None and rule.media is None and rule.params == {} and not rule.once
    assert rule.steps == (
        Step("invite", methods=frozenset({"INVITE"}), final=Statuses(classes=frozenset({2}))),
        Step("bye", methods=frozenset({"BYE"}), after="invite",
             final=Statuses(frozenset({481}), frozenset({5}), none=True)),
    )


def test_optional_keys_of_a_rule_and_their_defaults(tmp_path: Path) -> None:
    text = RULE.replace("scope: call\n", "").replace(
        "references:\n  - RFC 3261 section 15\ntests:\n  - sample: samples/calls/bye-481.pcap\n"
        "    expect: 1\n", "once: true\n")
    rule = load_rule(write(tmp_path, text))
    assert rule.scope == "any" and rule.once is True
    assert rule.references == () and rule.tests == ()
    assert rule.applies_to("call") and rule.applies_to("exchange")


def test_once_false_is_false(tmp_path: Path) -> None:
    rule = load_rule(write(tmp_path, changed("scope: call\n", "scope: exchange\nonce: false\n")))
    assert rule.once is False and rule.scope == "exchange"
    assert rule.applies_to("exchange") and not rule.applies_to("call")


def steps_of(tmp_path: Path, match: str) -> tuple[Step, ...]:
    text = RULE[: RULE.index("match:\n")] + "match:\n" + match + RULE[RULE.index("message:"):]
    text = text.replace("{bye.frame} got {bye.status}", "{call.call_id}")
    return load_rule(write(tmp_path, text)).steps


def test_every_key_of_a_step_is_read(tmp_path: Path) -> None:
    first, second, third = steps_of(tmp_path, """\
  - request: [INVITE, UPDATE]
    initial: true
    in_dialog: false
    final: 407
    provisional: [180, 1xx]
    cancelled: false
    timed_out: false
    retransmitted: true
    transport: [udp, Tcp]
    request_size_over: 1300
    request_has: Retry-After
    request_lacks: [Authorization, Proxy-Authorization]
    final_has: [Contact]
    final_lacks: WWW-Authenticate
  - as: retry_1
    request: same
    after: step1
    within: 1.5s
    from_same_sender: true
    to_contact_of: step1
    initial: false
    in_dialog: true
    cancelled: true
    timed_out: true
    retransmitted: false
    transport: TLS
  - request: ACK
    absent: true
""")
    assert first == Step(
        "step1", methods=frozenset({"INVITE", "UPDATE"}), initial=True, in_dialog=False,
        final=Statuses(codes=frozenset({407})),
        provisional=Statuses(codes=frozenset({180}), classes=frozenset({1})),
        cancelled=False, timed_out=False, retransmitted=True,
        transport=frozenset({"UDP", "TCP"}), request_size_over=1300,
        request_has=frozenset({"retry-after"}),
        request_lacks=frozenset({"authorization", "proxy-authorization"}),
        final_has=frozenset({"contact"}), final_lacks=frozenset({"www-authenticate"}),
    )
    assert second == Step(
        "retry_1", same_method=True, after="step1", within_ns=1_500_000_000,
        from_same_sender=True, to_contact_of="step1", initial=False, in_dialog=True,
        cancelled=True, timed_out=True, retransmitted=False, transport=frozenset({"TLS"}),
    )
    assert third == Step("step3", methods=frozenset({"ACK"}), absent=True)


def test_a_step_with_no_keys_matches_any_transaction(tmp_path: Path) -> None:
    assert steps_of(tmp_path, "  - {}\n") == (Step("step1"),)


@pytest.mark.parametrize(
    ("written", "nanoseconds"),
    [("500ms", 500_000_000), ("32s", 32_000_000_000), ("5m", 300_000_000_000),
     ("1h", 3_600_000_000_000), ("0.5s", 500_000_000), (" 2 s ", 2_000_000_000)],
)
def test_within_is_a_duration(tmp_path: Path, written: str, nanoseconds: int) -> None:
    _, later = steps_of(tmp_path, f"  - as: a\n  - after: a\n    within: '{written}'\n")
    assert later.within_ns == nanoseconds


def mistake(old: str, new: str, at: str, expected: str) -> tuple[str, str, str]:
    return changed(old, new), at, expected


KNOWN_STEPS = ", ".join(sorted(
    [*CALL_PLACEHOLDERS, *(f"{step}.{field}" for step in ("bye", "invite")
                           for field in STEP_PLACEHOLDERS)]))


@pytest.mark.parametrize(
    ("text", "at", "expected"),
    [
        # the rule's own keys
        mistake("id: X901", "id: x901", "id: x901",
                "id must be a capital letter then 1 to 9 capitals or digits (found 'x901')"),
        mistake("id: X901", "id: X", "id: X",
                "id must be a capital letter then 1 to 9 capitals or digits (found 'X')"),
        mistake("id: X901", "id: X1234567890", "id: X1",
                "id must be a capital letter then 1 to 9 capitals or digits "
                "(found 'X1234567890')"),
        mistake("id: X901", "id: 9X01", "id: 9",
                "id must be a capital letter then 1 to 9 capitals or digits (found '9X01')"),
        mistake("id: X901", "id: 901", "id: 901", "'id' must be text (found 901)"),
        mistake("id: X901\nname: bye-rejected", "name: bye-rejected\nid: x901", "id: x901",
                "id must be a capital letter then 1 to 9 capitals or digits (found 'x901')"),
        mistake("name: bye-rejected", "name: bye_rejected", "name:",
                "name must be kebab-case, like bye-answered-481 (found 'bye_rejected')"),
        mistake("name: bye-rejected", "name: Bye_Rejected", "name:",
                "name must be kebab-case, like bye-answered-481 (found 'Bye_Rejected')"),
        mistake("name: bye-rejected", "name: bye--rejected", "name:",
                "name must be kebab-case, like bye-answered-481 (found 'bye--rejected')"),
        mistake("name: bye-rejected", "name: bye-rejected-", "name:",
                "name must be kebab-case, like bye-answered-481 (found 'bye-rejected-')"),
        mistake(RULE, "- id: X901\n", "- id", "a rule file must be a map of keys"),
        mistake("id: X901\n", "", "name:", "'id' is missing"),
        mistake("name: bye-rejected\n", "", "id:", "'name' is missing"),
        mistake("title:\n  en: BYE rejected\n", "", "id:", "'title' is missing"),
        mistake("severity: warning\n", "", "id:", "'severity' is missing"),
        mistake("severity: warning", "severity: fatal", "severity",
                "'severity' must be one of info, warning, error (found 'fatal')"),
        mistake("scope: call", "scope: dialog", "scope",
                "'scope' must be one of any, call, exchange, capture (found 'dialog')"),
        mistake("scope: call", "scope: capture", "scope",
                "a rule about the whole capture needs a 'check' that looks across calls"),
        mistake("message:\n  en: \"BYE in frame {bye.frame} got {bye.status}\"\n", "", "id:",
                "'message' is missing"),
        mistake("explanation:\n  en: Why.\n", "", "id:", "'explanation' is missing"),
        mistake("causes:\n  en: Causes.\n", "", "id:", "'causes' is missing"),
        mistake("fix:\n  en: Fix.\n", "", "id:", "'fix' is missing"),
        mistake("fix:\n", "colour: red\nfix:\n", "colour", "unknown key 'colour'"),
        mistake("scope: call\n", "scope: call\nonce: 3\n", "once",
                "'once' must be true or false (found 3)"),
        mistake("scope: call\n", "scope: call\nparams:\n  over: 3\n", "params",
                "'params' are for a rule with a 'check' or 'media'"),
        mistake("scope: call\n", "scope: call\ncheck: ack_missing\n", "id:",
                "a rule needs one of 'match' (a pattern of transactions), 'media' (a pattern of "
                "the call's audio) or 'check'"),
        mistake("scope: call\n", "scope: call\ncheck: astrology\n", "check",
                f"there is no check named 'astrology' for scope call (known: {', '.join(CHECKS)})"),
        mistake("  - RFC 3261 section 15\n", "  - RFC 3261 section 15\n  - ' '\n", "  - ' '",
                "each of 'references' must be text"),
        mistake("  - RFC 3261 section 15\n", "  - RFC 3261 section 15\n  - 15\n", "  - 15",
                "each of 'references' must be text"),
        mistake("  - RFC 3261 section 15\n", "  RFC: 3261\n", "references",
                "'references' must be a list (found {'RFC': 3261})"),
        # the message
        mistake("{bye.status}\"", "{bye.colour}\"", "message:",
                f"the message uses {{bye.colour}}, which nothing fills (known: {KNOWN_STEPS})"),
        mistake("{bye.status}\"", "{step2.status} {call.id}\"", "message:",
                f"the message uses {{call.id}}, which nothing fills (known: {KNOWN_STEPS})"),
        # tests
        mistake("    expect: 1", "    expect: -1", "    expect",
                "'expect' must be 0 or more"),
        mistake("    expect: 1", "    expect: one", "    expect",
                "'expect' must be a whole number (found 'one')"),
        mistake("    expect: 1\n", "", "  - sample", "'expect' is missing"),
        mistake("  - sample: samples/calls/bye-481.pcap\n    expect: 1",
                "  - expect: 1", "  - expect", "'sample' is missing"),
        mistake("    expect: 1\n", "    expect: 1\n    output: 3\n", "    output",
                "unknown key 'output'"),
        mistake("    expect: 1\n", "    expect: 1\n  - basic-call.pcap\n", "  - basic",
                "test 2 must be a map of keys"),
        # YAML's !!pairs makes a list of (key, value) tuples, whose items have no line of
        # their own (YAML 1.1 types, "pairs"): the mistake is on the line of 'tests'
        mistake("tests:\n  - sample: samples/calls/bye-481.pcap\n    expect: 1\n",
                "tests: !!pairs\n  - sample: samples/calls/bye-481.pcap\n", "tests:",
                "test 1 must be a map of keys"),
    ],
)
def test_rule_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, text: str, at: str, expected: str
) -> None:
    path = write(tmp_path, text, "X901-bye-rejected.yaml")
    assert error_of(path) == f"{path}:{line_of(text, at)}: {expected}"


@pytest.mark.parametrize(
    ("old", "new", "at", "expected"),
    [
        ("  - as: invite\n", "  - as: Invite\n", "as: Invite",
         "'Invite' cannot name a step (lower case, digits, _; not call)"),
        ("  - as: invite\n", "  - as: call\n", "as: call",
         "'call' cannot name a step (lower case, digits, _; not call)"),
        ("  - as: invite\n", "  - as: 1st\n", "as: 1st",
         "'1st' cannot name a step (lower case, digits, _; not call)"),
        ("  - as: invite\n", "  - as: a-b\n", "as: a-b",
         "'a-b' cannot name a step (lower case, digits, _; not call)"),
        ("  - as: bye\n", "  - as: invite\n", "  - as: invite\n    request: BYE",
         "two steps are named 'invite'"),
        ("    request: INVITE\n", "    request: same\n", "request: same",
         "'request: same' needs a step before it"),
        ("    request: INVITE\n", "    request: invite\n", "request: invite",
         "'request' must be a method (INVITE), a list of methods, or same (found 'invite')"),
        ("    request: INVITE\n", "    request: []\n", "request: []",
         "'request' must be a method (INVITE), a list of methods, or same (found [])"),
        ("    request: INVITE\n", "    request: [INVITE, 3]\n", "request: [INVITE",
         "'request' must be a method (INVITE), a list of methods, or same (found ['INVITE', 3])"),
        ("    after: invite\n", "    after: bye\n", "after: bye",
         "'after: bye' names no earlier step"),
        ("    after: invite\n", "    within: 5s\n", "within",
         "'within' and 'from_same_sender' need 'after'"),
        ("    after: invite\n", "    from_same_sender: true\n", "from_same",
         "'within' and 'from_same_sender' need 'after'"),
        ("    after: invite\n", "    after: invite\n    within: soon\n", "within",
         "'within': 'soon' is not a duration such as 500ms, 32s, 5m or 1h"),
        ("    after: invite\n", "    after: invite\n    within: 5\n", "within",
         "'within': 5 is not a duration such as 500ms, 32s, 5m or 1h"),
        ("    after: invite\n", "    after: invite\n    within: 5d\n", "within",
         "'within': '5d' is not a duration such as 500ms, 32s, 5m or 1h"),
        ("    after: invite\n", "    after: invite\n    from_same_sender: yes please\n",
         "from_same", "'from_same_sender' must be true or false (found 'yes please')"),
        ("    after: invite\n", "    to_contact_of: bye\n", "to_contact",
         "'to_contact_of: bye' names no earlier step"),
        ("    after: invite\n", "    to_contact_of: elsewhere\n", "to_contact",
         "'to_contact_of: elsewhere' names no earlier step"),
        ("    final: 2xx\n", "    final: 4xy\n", "final: 4xy",
         "'final': '4xy' is not a response code (100-699), a class (4xx) or none"),
        ("    final: 2xx\n", "    final: 700\n", "final: 700",
         "'final': 700 is not a response code (100-699), a class (4xx) or none"),
        ("    final: 2xx\n", "    final: 99\n", "final: 99",
         "'final': 99 is not a response code (100-699), a class (4xx) or none"),
        ("    final: 2xx\n", "    final: 7xx\n", "final: 7xx",
         "'final': '7xx' is not a response code (100-699), a class (4xx) or none"),
        ("    final: 2xx\n", "    final: true\n", "final: true",
         "'final': True is not a response code (100-699), a class (4xx) or none"),
        ("    final: 2xx\n", "    provisional: [180, ringing]\n", "provisional",
         "'provisional': 'ringing' is not a response code (100-699), a class (4xx) or none"),
        ("    final: 2xx\n", "    transport: U-D-P\n", "transport",
         "'transport': must be a transport (UDP, TCP, TLS, ...) or a list of them "
         "(found 'U-D-P')"),
        ("    final: 2xx\n", "    transport: []\n", "transport",
         "'transport': must be a transport (UDP, TCP, TLS, ...) or a list of them (found [])"),
        ("    final: 2xx\n", "    transport: [UDP, 5]\n", "transport",
         "'transport': must be a transport (UDP, TCP, TLS, ...) or a list of them "
         "(found ['UDP', 5])"),
        ("    final: 2xx\n", "    request_has: Retry After\n", "request_has",
         "'request_has': must be a header name or a list of them (found 'Retry After')"),
        ("    final: 2xx\n", "    request_lacks: [Contact, 'a:b']\n", "request_lacks",
         "'request_lacks': must be a header name or a list of them (found ['Contact', 'a:b'])"),
        ("    final: 2xx\n", "    final_has: []\n", "final_has",
         "'final_has': must be a header name or a list of them (found [])"),
        ("    final: 2xx\n", "    final_lacks: 3\n", "final_lacks",
         "'final_lacks': must be a header name or a list of them (found 3)"),
        ("    final: 2xx\n", "    request_size_over: big\n", "request_size",
         "'request_size_over' must be a whole number (found 'big')"),
        ("    final: 2xx\n", "    initial: maybe\n", "initial",
         "'initial' must be true or false (found 'maybe')"),
        ("    final: 2xx\n", "    in_dialog: 1\n", "in_dialog",
         "'in_dialog' must be true or false (found 1)"),
        ("    final: 2xx\n", "    cancelled: 0\n", "cancelled",
         "'cancelled' must be true or false (found 0)"),
        ("    final: 2xx\n", "    timed_out: no way\n", "timed_out",
         "'timed_out' must be true or false (found 'no way')"),
        ("    final: 2xx\n", "    retransmitted: twice\n", "retransmitted",
         "'retransmitted' must be true or false (found 'twice')"),
        ("    final: 2xx\n", "    absent: sometimes\n", "absent",
         "'absent' must be true or false (found 'sometimes')"),
        ("    final: 2xx\n", "    colour: red\n", "colour", "unknown key 'colour'"),
        ("    final: 2xx\n", "    as: other\n", "    as: other",
         "'as' is given twice"),
        ("  - as: bye\n", "  - BYE\n  - as: bye\n", "  - BYE", "step 2 must be a map of keys"),
        ("    final: 2xx\n", "    absent: true\n", "match:", "the first step cannot be 'absent'"),
    ],
)
def test_step_mistakes_are_reported_with_file_and_line(
    tmp_path: Path, old: str, new: str, at: str, expected: str
) -> None:
    text = changed(old, new)
    path = write(tmp_path, text, "X901-bye-rejected.yaml")
    assert error_of(path) == f"{path}:{line_of(text, at)}: {expected}"


def test_a_step_after_an_absent_one_cannot_refer_to_it(tmp_path: Path) -> None:
    """An absent step matches no transaction: nothing can come after it or go to its Contact."""
    for key in ("after", "to_contact_of"):
        text = changed("    after: invite\n", f"    {key}: invite\n").replace(
            "    final: 2xx\n", "    absent: true\n").replace(
            "  - as: invite\n", "  - as: first\n  - as: invite\n")
        path = write(tmp_path, text, "X901-bye-rejected.yaml")
        assert error_of(path) == (
            f"{path}:{line_of(text, f'{key}: invite')}: '{key}: invite' names no earlier step")


def test_an_absent_step_fills_no_placeholder(tmp_path: Path) -> None:
    text = changed("  - as: invite\n    request: INVITE\n    final: 2xx\n",
                   "  - as: first\n  - as: invite\n    absent: true\n").replace(
        "    after: invite\n", "    after: first\n").replace("{bye.status}", "{invite.status}")
    path = write(tmp_path, text, "X901-bye-rejected.yaml")
    known = ", ".join(sorted([*CALL_PLACEHOLDERS, *(f"{step}.{field}" for step in ("bye", "first")
                                                    for field in STEP_PLACEHOLDERS)]))
    assert error_of(path) == (f"{path}:{line_of(text, 'message:')}: the message uses "
                              f"{{invite.status}}, which nothing fills (known: {known})")


@pytest.mark.parametrize("text", [RULE, changed("id: X901\nname: bye-rejected\n",
                                                 "name: bye-rejected\nid: X901\n")])
def test_the_file_must_be_named_after_the_id_and_the_name(tmp_path: Path, text: str) -> None:
    """Reported on the line of the id, wherever it is written."""
    path = write(tmp_path, text, "X901-bye.yaml")
    assert error_of(path) == (f"{path}:{line_of(text, 'id:')}: the file of rule X901 must be "
                              "named X901-bye-rejected.yaml")


def rule_with_check(check: str, params: str, message: str) -> str:
    head = RULE[: RULE.index("match:\n")]
    rest = RULE[RULE.index("explanation:"):]
    return f"{head}check: {check}\n{params}message:\n  en: \"{message}\"\n{rest}"


def test_a_check_with_its_default_parameter(tmp_path: Path) -> None:
    """long_post_dial_delay's ``over`` is 6 s unless the rule says otherwise (README: "such as
    over: 6s for the post-dial delay")."""
    rule = load_rule(write(tmp_path, rule_with_check("long_post_dial_delay", "",
                                                    "{pdd} over {over}")))
    assert rule.check == "long_post_dial_delay" and rule.steps == () and rule.media is None
    assert rule.params == {"over": 6_000_000_000}


def test_a_check_with_a_parameter_given(tmp_path: Path) -> None:
    rule = load_rule(write(tmp_path, rule_with_check("long_post_dial_delay",
                                                    "params:\n  over: 2m\n", "{pdd}")))
    assert rule.params == {"over": 120_000_000_000}


def test_a_check_without_parameters_has_none(tmp_path: Path) -> None:
    rule = load_rule(write(tmp_path, rule_with_check("ack_missing", "", "{ok.frame}")))
    assert rule.check == "ack_missing" and rule.params == {}


@pytest.mark.parametrize(
    ("check", "params", "message", "at", "expected"),
    [
        ("long_post_dial_delay", "params:\n  over: soon\n", "{pdd}", "  over",
         "'over': 'soon' is not a duration such as 500ms, 32s, 5m or 1h"),
        ("long_post_dial_delay", "params:\n  under: 5s\n", "{pdd}", "  under",
         "unknown key 'under'"),
        ("long_post_dial_delay", "params: 5s\n", "{pdd}", "params",
         "'params' must be a map (found '5s')"),
        ("ack_missing", "params:\n  over: 5s\n", "{ok.frame}", "  over", "unknown key 'over'"),
        ("ack_missing", "", "{ok.colour}", "message:",
         "the message uses {ok.colour}, which nothing fills (known: call.call_id, call.callee, "
         "call.caller, call.outcome, evidence, ok.copies, ok.frame, ok.receiver, ok.sender, "
         "ok.span)"),
        ("long_post_dial_delay", "", "{bye.frame}", "message:",
         "the message uses {bye.frame}, which nothing fills (known: call.call_id, call.callee, "
         "call.caller, call.outcome, invite.frame, over, pdd, ring.frame, ring.status)"),
    ],
)
def test_check_mistakes(tmp_path: Path, check: str, params: str, message: str, at: str,
                        expected: str) -> None:
    text = rule_with_check(check, params, message)
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:{line_of(text, at)}: {expected}"


def test_a_check_and_a_pattern_together_are_refused(tmp_path: Path) -> None:
    text = changed("match:\n", "check: ack_missing\nmatch:\n")
    path = write(tmp_path, text)
    assert error_of(path) == (
        f"{path}:1: a rule needs one of 'match' (a pattern of transactions), 'media' (a pattern "
        "of the call's audio) or 'check'")


@pytest.mark.parametrize(
    ("match", "expected"),
    [("[]", "'match' needs at least one step"),
     ("{}", "'match' must be a list (found {})"),
     ("BYE", "'match' must be a list (found 'BYE')")],
)
def test_match_is_a_list_of_steps(tmp_path: Path, match: str, expected: str) -> None:
    text = RULE[: RULE.index("match:\n")] + f"match: {match}\n" + RULE[RULE.index("message:"):]
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:{line_of(text, 'match')}: {expected}"


# -- rule folders -------------------------------------------------------------------------

def rule_text(rule_id: str, name: str) -> str:
    return RULE.replace("id: X901", f"id: {rule_id}").replace("name: bye-rejected",
                                                              f"name: {name}")


def test_the_rule_files_of_a_folder(tmp_path: Path) -> None:
    """Every ``*.yaml`` of the folder and its subfolders, by path, except those in a
    ``catalog/`` folder; a file named catalog.yaml is still a rule file."""
    for relative in ("b/X2-b.yaml", "a/X3-c.yaml", "X1-a.yaml", "catalog/responses.yaml",
                     "a/catalog/x.yaml", "catalog.yaml", "notes.txt", "a/X4-d.yml"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x: 1\n", encoding="utf-8")
    assert rule_files(tmp_path) == [tmp_path / "X1-a.yaml", tmp_path / "a/X3-c.yaml",
                                    tmp_path / "b/X2-b.yaml", tmp_path / "catalog.yaml"]


def test_rules_of_several_folders_sorted_by_id(tmp_path: Path) -> None:
    write(tmp_path / "one", rule_text("X9", "zeta"))
    write(tmp_path / "one" / "sub", rule_text("A1", "alpha"))
    write(tmp_path / "two", rule_text("M5", "middle"))
    rules = load_rules([tmp_path / "one", tmp_path / "two"])
    assert [(r.id, r.name) for r in rules.rules] == [("A1", "alpha"), ("M5", "middle"),
                                                      ("X9", "zeta")]
    assert rules.shared() == {"rule:A1": rules.rules[0], "rule:M5": rules.rules[1],
                              "rule:X9": rules.rules[2]}
    assert load_rules([]).rules == ()


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("M5", "M5"), ("m5", "M5"), ("middle", "M5"), ("MIDDLE", None), ("alpha", "A1"),
     ("X1", None), ("", None)],
)
def test_a_rule_by_id_or_name(tmp_path: Path, wanted: str, expected: str | None) -> None:
    """An ID in any case; a name as written (names are lower case)."""
    write(tmp_path, rule_text("A1", "alpha"))
    write(tmp_path, rule_text("M5", "middle"))
    found = load_rules([tmp_path]).by_id(wanted)
    assert (found.id if found else None) == expected


def test_a_name_that_reads_as_an_id_is_still_found_by_name() -> None:
    """``by_id`` compares the name as given, not upper-cased."""
    rules = RuleSet(())
    assert rules.by_id("x901") is None


@pytest.mark.parametrize(
    ("first", "second", "key"),
    [
        (("X1", "same-name"), ("X2", "same-name"), "same-name"),
        (("X1", "one"), ("X1", "two"), "X1"),
    ],
)
def test_an_id_or_name_used_twice_is_refused(
    tmp_path: Path, first: tuple[str, str], second: tuple[str, str], key: str
) -> None:
    earlier = write(tmp_path / "a", rule_text(*first))
    later = write(tmp_path / "b", rule_text(*second))
    with pytest.raises(DataError) as caught:
        load_rules([tmp_path / "a", tmp_path / "b"])
    assert str(caught.value) == f"{later}:1: '{key}' is already used by {earlier}"


def test_a_folder_that_is_not_there(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(DataError) as caught:
        load_rules([missing])
    assert str(caught.value) == f"{missing}: not a folder of rules"
    file = write(tmp_path, RULE)
    with pytest.raises(DataError) as caught:
        load_rules([file])
    assert str(caught.value) == f"{file}: not a folder of rules"
