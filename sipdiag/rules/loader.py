"""Reading rule files: one rule per YAML file, every key checked, errors with file and line.

Rules come from the built-in ``rules/`` folder and from the folders a user adds (``--rules``).
A folder is read recursively for ``*.yaml`` files, except its ``catalog/`` (the catalog has its
own reader). Identifiers are unique across all folders: a user's rule cannot silently replace a
built-in one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sipdiag.rules import checks, media
from sipdiag.rules.capture import CAPTURE_CHECKS, CaptureCheck
from sipdiag.rules.media import FactKind
from sipdiag.rules.model import (
    SAME,
    SEVERITIES,
    Comparison,
    MediaCondition,
    MediaPattern,
    MediaSubject,
    Rule,
    SampleTest,
    Scope,
    Severity,
    Step,
    parse_duration,
    parse_statuses,
    step_placeholders,
)
from sipdiag.rules.text import need_text, placeholders_of
from sipdiag.rules.yamlfile import DataError, Fields, item_line, load

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
RULE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
STEP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
METHOD = re.compile(r"^[A-Z]+$")
HEADER = re.compile(r"^[A-Za-z0-9!%*_+`'~.-]+$")
CATALOG_FOLDER = "catalog"
CALL_FIELDS = ("call_id", "caller", "callee", "outcome")


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def shared(self) -> dict[str, object]:
        """The rules by ID: what spooled findings refer to instead of copying."""
        return {f"rule:{rule.id}": rule for rule in self.rules}

    def by_id(self, rule_id: str) -> Rule | None:
        wanted = rule_id.upper()
        return next((r for r in self.rules if r.id == wanted or r.name == rule_id), None)


def rule_files(folder: Path) -> list[Path]:
    """The rule files of a folder and its subfolders (not its catalog), in name order."""
    return sorted(
        path
        for path in folder.rglob("*.yaml")
        if CATALOG_FOLDER not in path.relative_to(folder).parts[:-1]
    )


def load_rules(folders: Iterable[Path]) -> RuleSet:
    """Every rule of these folders; DataError for the first file that is wrong."""
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            raise DataError(f"{folder}: not a folder of rules")
        for path in rule_files(folder):
            rule = load_rule(path)
            for key in (rule.id, rule.name):
                if key in seen:
                    raise DataError(f"{path}:1: '{key}' is already used by {seen[key]}")
                seen[key] = path
            rules.append(rule)
    _check_superseded(rules)
    return RuleSet(tuple(sorted(rules, key=lambda r: r.id)))


def _check_superseded(rules: list[Rule]) -> None:
    """Every rule a rule supersedes exists (a misspelt id would never be left out)."""
    known = {rule.id for rule in rules}
    for rule in rules:
        for other in rule.supersedes:
            if other not in known:
                line = _line_of(rule.path, other)
                raise DataError(f"{rule.path}:{line}: 'supersedes' names {other}, which is no "
                                f"rule")


def _line_of(path: Path, text: str) -> int:
    """The first line of a file that holds ``text`` (1 if none does)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((n for n, line in enumerate(lines, 1) if text in line), 1)


def load_rule(path: Path) -> Rule:
    fields = Fields(load(path), path, "a rule file")
    rule_id = fields.need("id", str)
    if not RULE_ID.match(rule_id):
        raise fields.error("id", f"id must be a capital letter then 1 to 9 capitals or digits "
                                 f"(found {rule_id!r})")
    name = fields.need("name", str)
    if not RULE_NAME.match(name):
        raise fields.error("name", f"name must be kebab-case, like bye-answered-481 "
                                   f"(found {name!r})")
    if path.stem != f"{rule_id}-{name}":
        raise fields.error("id", f"the file of rule {rule_id} must be named {rule_id}-{name}.yaml")
    title = need_text(fields, "title")
    severity = Severity(fields.choice("severity", SEVERITIES))
    scope = Scope(fields.choice("scope", tuple(Scope), default=Scope.ANY))
    steps = _steps(fields) if fields.has("match") else ()
    pattern = _media(fields) if fields.has("media") else None
    check, params = (_check(fields, scope) if pattern is None
                     else (None, _media_params(fields, pattern)))
    if [bool(steps), bool(check), pattern is not None].count(True) != 1:
        raise fields.error(None, "a rule needs one of 'match' (a pattern of transactions), "
                                 "'media' (a pattern of the call's audio) or 'check'")
    if pattern is not None and scope != "call":
        raise fields.error("scope", "a rule with 'media' is about calls: scope must be call")
    if scope == "capture" and check is None:
        raise fields.error("scope", "a rule about the whole capture needs a 'check' that looks "
                                    "across calls")
    message = need_text(fields, "message")
    _check_placeholders(fields, message.placeholders(), steps, check, pattern, params, scope)
    rule = Rule(
        id=rule_id,
        name=name,
        title=title,
        severity=severity,
        scope=scope,
        message=message,
        explanation=need_text(fields, "explanation"),
        causes=need_text(fields, "causes"),
        fix=need_text(fields, "fix"),
        references=tuple(_strings(fields, "references")),
        tests=_tests(fields),
        path=path,
        steps=steps,
        check=check,
        media=pattern,
        params=params,
        once=fields.take("once", bool, required=False) or False,
        supersedes=tuple(_rule_ids(fields, "supersedes")),
    )
    fields.done()
    return rule


def _rule_ids(fields: Fields, key: str) -> list[str]:
    values = _strings(fields, key)
    for index, value in enumerate(values):
        if not RULE_ID.match(value):
            line = item_line(values, index, fields.line(key))
            raise DataError(f"{fields.path}:{line}: each of '{key}' must be a rule id such as "
                            f"C105 (found {value!r})")
    return values


def _strings(fields: Fields, key: str) -> list[str]:
    values = fields.take(key, list, required=False) or []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            line = item_line(values, index, fields.line(key))
            raise DataError(f"{fields.path}:{line}: each of '{key}' must be text")
    return values


def _tests(fields: Fields) -> tuple[SampleTest, ...]:
    entries = fields.take("tests", list, required=False) or []
    tests = []
    for index, entry in enumerate(entries):
        line = item_line(entries, index, fields.line("tests"))
        test = Fields(entry, fields.path, f"test {index + 1}", line)
        sample = test.need("sample", str)
        expect = test.need("expect", int)
        if expect < 0:
            raise test.error("expect", "'expect' must be 0 or more")
        test.done()
        tests.append(SampleTest(sample, expect, test.line()))
    return tuple(tests)


def checks_of(scope: str) -> Mapping[str, checks.Check | CaptureCheck]:
    """The checks a rule of this scope may name: of one call or exchange, or of the capture."""
    return CAPTURE_CHECKS if scope == "capture" else checks.CHECKS


def _check(fields: Fields, scope: str) -> tuple[str | None, Mapping[str, object]]:
    name = fields.take("check", str, required=False)
    raw_params = fields.take("params", dict, required=False)
    if name is None:
        if raw_params is not None:
            raise fields.error("params", "'params' are for a rule with a 'check' or 'media'")
        return None, {}
    known = checks_of(scope)
    found = known.get(name)
    if found is None:
        raise fields.error("check", f"there is no check named '{name}' for scope {scope} "
                                    f"(known: {', '.join(sorted(known))})")
    params = Fields(raw_params or {}, fields.path, "'params'", fields.line("params"))
    values: dict[str, object] = {}
    for param, (parse, default) in found.params.items():
        value = params.convert(param, parse)
        values[param] = default if value is None else value
    params.done()
    return name, values


MEDIA_PARTS = {"call": MediaSubject.CALL, "direction": MediaSubject.DIRECTION,
               "stream": MediaSubject.STREAM}
_SUFFIXES = {"_over": Comparison.OVER, "_under": Comparison.UNDER}
_NUMERIC = (FactKind.COUNT, FactKind.NUMBER, FactKind.DURATION)


def _media(fields: Fields) -> MediaPattern:
    """``media:`` with a ``call`` part and at most one ``direction`` or ``stream`` part."""
    parts = Fields(fields.need("media", dict), fields.path, "'media'", fields.line("media"))
    declared = fields.data.get("params")
    params = set(declared) if isinstance(declared, dict) else set()
    found = {name: _conditions(parts, name, subject, params)
             for name, subject in MEDIA_PARTS.items() if parts.has(name)}
    parts.done()
    subjects = [MEDIA_PARTS[name] for name in found if name != "call"]
    if len(subjects) > 1:
        raise fields.error("media", "'media' has either a 'direction' or a 'stream' part, "
                                    "not both")
    if not found:
        raise fields.error("media", "'media' needs a 'call', 'direction' or 'stream' part")
    subject = subjects[0] if subjects else MediaSubject.CALL
    if subject is MediaSubject.CALL:
        return MediaPattern(subject, found["call"])
    return MediaPattern(subject, found[subject.value], found.get("call", ()))


def _conditions(parts: Fields, name: str, subject: MediaSubject,
                params: set[str]) -> tuple[MediaCondition, ...]:
    items = Fields(parts.need(name, dict), parts.path, f"'media: {name}'", parts.line(name))
    conditions = [_condition(items, key, value, subject, params)
                  for key, value in items.items()]
    if not conditions:
        raise parts.error(name, f"'media: {name}' needs at least one condition")
    return tuple(conditions)


def _condition(items: Fields, key: str, value: object, subject: MediaSubject,
               params: set[str]) -> MediaCondition:
    fact, comparison = key, Comparison.IS
    for suffix, compared in _SUFFIXES.items():
        base = key[: -len(suffix)]
        if key.endswith(suffix) and media.fact_kind(subject, base) is not None:
            fact, comparison = base, compared
    kind = media.fact_kind(subject, fact)
    items.take(key, object)
    if kind is None:
        known = ", ".join(sorted(media.FACTS[subject]))
        raise items.error(key, f"'{key}' is not a fact of a {subject.value} (known: {known})")
    if comparison is not Comparison.IS and kind not in _NUMERIC:
        raise items.error(key, f"'{key}': {fact} is {kind.value}, which is not compared; "
                               f"write '{fact}: value'")
    if isinstance(value, str) and value.startswith("$"):
        if kind not in _NUMERIC:
            raise items.error(key, f"'{key}' is {kind.value}: a parameter stands only for a "
                                   "number or a duration")
        if value[1:] not in params:
            raise items.error(key, f"'{key}': '{value}' names no entry of 'params'")
        return MediaCondition(fact, comparison, None, value[1:])
    if comparison is not Comparison.IS or kind in (FactKind.NUMBER, FactKind.DURATION):
        return MediaCondition(fact, comparison, _number(items, key, value, kind))
    return MediaCondition(fact, comparison, _exact(items, key, value, kind, subject))


def _number(items: Fields, key: str, value: object, kind: FactKind) -> float:
    if kind is FactKind.DURATION:
        try:
            return parse_duration(value) / 1e9
        except ValueError as exc:
            raise items.error(key, f"'{key}': {exc}") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise items.error(key, f"'{key}' must be {kind.value} (found {value!r})")
    return float(value)


def _exact(items: Fields, key: str, value: object, kind: FactKind,
           subject: MediaSubject) -> object:
    if kind is FactKind.BOOL:
        if not isinstance(value, bool):
            raise items.error(key, f"'{key}' must be true or false (found {value!r})")
        return value
    if kind is FactKind.COUNT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise items.error(key, f"'{key}' must be a whole number (found {value!r})")
        return value
    words = value if isinstance(value, list) else [value]
    allowed = media.choices(subject, key)
    wrong = [w for w in words if w not in allowed]
    if wrong or not words:
        raise items.error(key, f"'{key}' must be one of {', '.join(allowed)} or a list of "
                               f"them (found {value!r})")
    return tuple(words)


def _media_params(fields: Fields, pattern: MediaPattern) -> Mapping[str, object]:
    """The values the pattern's ``$name`` conditions stand for, each checked as the kind of
    the fact it is compared with."""
    raw = Fields(fields.take("params", dict, required=False) or {}, fields.path, "'params'",
                 fields.line("params"))
    values: dict[str, object] = {}
    parts = [(pattern.subject, c) for c in pattern.conditions]
    parts += [(MediaSubject.CALL, c) for c in pattern.call]
    for subject, condition in parts:
        name = condition.param
        if name is None:
            continue
        kind = media.fact_kind(subject, condition.fact)
        assert kind is not None and raw.has(name)
        values[name] = _number(raw, name, raw.data[name], kind)
    unused = [name for name in raw.data if name not in values]
    if unused:
        raise raw.error(unused[0], f"'{unused[0]}' is used by no condition of 'media'")
    return values


def _steps(fields: Fields) -> tuple[Step, ...]:
    entries = fields.need("match", list)
    if not entries:
        raise fields.error("match", "'match' needs at least one step")
    steps: list[Step] = []
    for index, entry in enumerate(entries):
        line = item_line(entries, index, fields.line("match"))
        steps.append(_step(Fields(entry, fields.path, f"step {index + 1}", line), steps))
        if steps[0].absent:
            raise fields.error("match", "the first step cannot be 'absent'")
    return tuple(steps)


def _step(fields: Fields, before: list[Step]) -> Step:
    name = fields.take("as", str, required=False) or f"step{len(before) + 1}"
    if not STEP_NAME.match(name) or name == "call":
        raise fields.error("as", f"'{name}' cannot name a step (lower case, digits, _; not call)")
    if any(step.name == name for step in before):
        raise fields.error("as", f"two steps are named '{name}'")
    methods, same = _methods(fields, bool(before))
    after = fields.take("after", str, required=False)
    if after is not None and not any(s.name == after and not s.absent for s in before):
        raise fields.error("after", f"'after: {after}' names no earlier step")
    within = fields.convert("within", parse_duration)
    same_sender = fields.take("from_same_sender", bool, required=False)
    if (within is not None or same_sender is not None) and after is None:
        raise fields.error("within" if within is not None else "from_same_sender",
                           "'within' and 'from_same_sender' need 'after'")
    size = fields.take("request_size_over", int, required=False)
    contact_of = fields.take("to_contact_of", str, required=False)
    if contact_of is not None and not any(s.name == contact_of and not s.absent for s in before):
        raise fields.error("to_contact_of", f"'to_contact_of: {contact_of}' names no earlier step")
    step = Step(
        name=name,
        methods=methods,
        same_method=same,
        initial=fields.take("initial", bool, required=False),
        in_dialog=fields.take("in_dialog", bool, required=False),
        final=fields.convert("final", parse_statuses),
        provisional=fields.convert("provisional", parse_statuses),
        cancelled=fields.take("cancelled", bool, required=False),
        timed_out=fields.take("timed_out", bool, required=False),
        retransmitted=fields.take("retransmitted", bool, required=False),
        transport=fields.convert("transport", _transports),
        request_size_over=size,
        request_has=fields.convert("request_has", _headers) or frozenset(),
        request_lacks=fields.convert("request_lacks", _headers) or frozenset(),
        final_has=fields.convert("final_has", _headers) or frozenset(),
        final_lacks=fields.convert("final_lacks", _headers) or frozenset(),
        after=after,
        within_ns=within,
        from_same_sender=same_sender,
        to_contact_of=contact_of,
        absent=fields.take("absent", bool, required=False) or False,
    )
    fields.done()
    return step


def _methods(fields: Fields, has_before: bool) -> tuple[frozenset[str] | None, bool]:
    value = fields.take("request", object, required=False)
    if value is None:
        return None, False
    if value == SAME:
        if not has_before:
            raise fields.error("request", "'request: same' needs a step before it")
        return None, True
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(m, str) and METHOD.match(m) for m in items):
        raise fields.error("request", f"'request' must be a method (INVITE), a list of "
                                      f"methods, or same (found {value!r})")
    return frozenset(items), False


def _list_of(value: object, pattern: re.Pattern[str], what: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    texts = [v for v in items if isinstance(v, str) and pattern.match(v)]
    if not texts or len(texts) != len(items):
        raise ValueError(f"must be {what} or a list of them (found {value!r})")
    return texts


def _transports(value: object) -> frozenset[str]:
    return frozenset(v.upper() for v in _list_of(value, re.compile(r"^[A-Za-z]+$"),
                                                 "a transport (UDP, TCP, TLS, ...)"))


def _headers(value: object) -> frozenset[str]:
    return frozenset(v.lower() for v in _list_of(value, HEADER, "a header name"))


def _check_placeholders(
    fields: Fields, used: set[str], steps: tuple[Step, ...], check: str | None,
    pattern: MediaPattern | None, params: Mapping[str, object], scope: str,
) -> None:
    """Every placeholder of the message must be one the pattern or the check fills (and, in a
    rule about one call or exchange, ``{call.*}``)."""
    if check is not None:
        known = set(checks_of(scope)[check].placeholders)
    elif pattern is not None:
        known = media.placeholders(pattern, params)
    else:
        known = {p for s in steps if not s.absent for p in step_placeholders(s.name)}
    if scope != "capture":
        known |= {f"call.{f}" for f in CALL_FIELDS}
    unknown = sorted(used - known)
    if unknown:
        raise fields.error("message", f"the message uses {{{unknown[0]}}}, which nothing fills "
                                      f"(known: {', '.join(sorted(known))})")


__all__ = ["CALL_FIELDS", "RuleSet", "checks_of", "load_rule", "load_rules", "placeholders_of"]
