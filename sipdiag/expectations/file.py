"""Reading an expectations file (``sipdiag check CAPTURE --expect FILE``): every key checked.

The file is YAML, read with the safe loader of the rule files (``rules.yamlfile``); anything
wrong is a ``DataError`` saying ``file:line: what is wrong``. The format (README.md, "Checking
recorded calls in CI")::

    calls:                        # optional: checks on the whole capture
      count: 3                    # it holds exactly 3 calls
    defaults:                     # optional: checks every expectation makes unless it says
      max_severity: warning       #   otherwise (no selector here)
    expect:                       # the expectations, one per call
      - call: 1                   # choose the call: call (from 1), call_id or user; or
        outcome: completed        #   none: the call after the one the item before chose
        final_status: 200         # a code, a class (4xx), none, or a list of them
        max_post_dial_delay: 2s   # 500ms, 2s, 1m, 1h; a call that never rang fails it
        media: two_way            # the media state (two_way, one_way, none, on_hold, ...)
        max_loss_percent: 1       # no audio stream lost more than 1 % of its packets
        max_jitter_ms: 30         # no audio stream's jitter went above 30 ms
        min_mos: 4                # every audio stream's estimated MOS is 4 or more
        retransmissions: 0        # exactly (or max_retransmissions: at most)
        max_severity: info        # no finding above info (none: no finding at all)
        findings: [C101]          # these rules (ids or names) found something in the call
        no_findings: [D104]       # these did not

``outcome`` is one word of ``rules/catalog/outcomes.yaml`` or a list (any one of them). Rules
are named by id (``D104``) or name (``ack-never-received``) and must exist: a misspelt rule in
``no_findings`` would otherwise always pass. Call-IDs and users are text: quote them when they
look like numbers (``user: "1002"``), since YAML would read ``0123`` as a number.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sipdiag.dialogs.media import MediaState
from sipdiag.expectations.engine import (
    CHECKS,
    MAX_SEVERITIES,
    NEXT,
    SELECTORS,
    Checks,
    Expectation,
    Expectations,
    Selector,
)
from sipdiag.rules.catalog import OUTCOMES
from sipdiag.rules.loader import RuleSet
from sipdiag.rules.model import parse_duration, parse_statuses
from sipdiag.rules.yamlfile import DataError, Fields, item_line, load

TOP_KEYS = ("calls", "defaults", "expect")


def load_expectations(path: Path, rules: RuleSet) -> Expectations:
    """The expectations of a file; ``rules``: the rules that may be named (built-in and own)."""
    data = load(path)
    top = Fields(data, path, "an expectations file", 1)
    count, count_line = _call_count(top)
    defaults = _defaults(top, rules)
    items: list[Any] = top.take("expect", list, required=False) or []
    _done(top, TOP_KEYS)
    if not items and count is None:
        raise top.error("expect" if top.has("expect") else None,
                        "nothing to check: give 'expect', a list of expectations, or 'calls'")
    expectations = tuple(
        _expectation(item, path, item_line(items, index, top.line("expect")), defaults, rules)
        for index, item in enumerate(items)
    )
    return Expectations(str(path), expectations, count, count_line)


def _call_count(top: Fields) -> tuple[int | None, int]:
    data = top.take("calls", dict, required=False)
    if data is None:
        return None, 0
    fields = Fields(data, top.path, "'calls'", top.line("calls"))
    count = fields.need("count", int)
    if count < 0:
        raise fields.error("count", f"'count' must be 0 or more (found {count})")
    _done(fields, ("count",))
    return count, fields.line("count")


def _defaults(top: Fields, rules: RuleSet) -> Checks:
    data = top.take("defaults", dict, required=False)
    if data is None:
        return Checks()
    fields = Fields(data, top.path, "'defaults'", top.line("defaults"))
    for key in SELECTORS:
        if fields.has(key):
            raise fields.error(key, f"'{key}' chooses a call: it cannot be a default")
    checks = _checks(fields, rules)
    _done(fields, CHECKS)
    return checks


def _expectation(
    item: object, path: Path, line: int, defaults: Checks, rules: RuleSet
) -> Expectation:
    fields = Fields(item, path, "an expectation", line)
    selector = _selector(fields)
    own = _checks(fields, rules)
    _done(fields, (*SELECTORS, *CHECKS))
    checks = own.over(defaults)
    both = set(checks.findings) & set(checks.no_findings)
    if both:
        raise fields.error(None, f"{', '.join(sorted(both))} in both 'findings' and "
                                 f"'no_findings' (with the defaults)")
    return Expectation(fields.line(), selector, checks)


def _done(fields: Fields, known: tuple[str, ...]) -> None:
    """Refuse a key left over, saying which keys there are."""
    unknown = next((key for key in fields.data if key not in known), None)
    if unknown is not None:
        raise fields.error(unknown, f"unknown key '{unknown}' (known: {', '.join(known)})")
    fields.done()


def _selector(fields: Fields) -> Selector:
    given = [key for key in SELECTORS if fields.has(key)]
    if len(given) > 1:
        raise fields.error(given[1], f"choose the call with one of {', '.join(SELECTORS)}, "
                                     f"not both '{given[0]}' and '{given[1]}'")
    if not given:
        return Selector(NEXT)
    key = given[0]
    if key == "call":
        index = fields.need("call", int)
        if index < 1:
            raise fields.error(key, f"'call' counts from 1, the first call (found {index})")
        return Selector(key, index)
    return Selector(key, _text(fields, key))


def _text(fields: Fields, key: str) -> str:
    """A Call-ID or user: text, not a number YAML may have changed (``0123`` is 83)."""
    value = fields.data[key]
    if not isinstance(value, str):
        raise fields.error(key, f"'{key}' must be text; write it in quotes, "
                                f"{key}: \"{value}\" (found {value!r})")
    fields.take(key, str)
    if not value:
        raise fields.error(key, f"'{key}' is empty")
    return value


def _checks(fields: Fields, rules: RuleSet) -> Checks:
    if fields.has("retransmissions") and fields.has("max_retransmissions"):
        raise fields.error("max_retransmissions",
                           "give 'retransmissions' (exactly) or 'max_retransmissions' (at most), "
                           "not both")
    checks = Checks(
        outcome=fields.convert("outcome", _words(OUTCOMES, "an outcome")),
        final_status=fields.convert("final_status", _statuses),
        max_post_dial_delay_ns=fields.convert("max_post_dial_delay", parse_duration),
        media=fields.convert("media", _words(MEDIA_STATES, "a media state")),
        max_loss_percent=fields.convert("max_loss_percent", _number(0, 100)),
        max_jitter_ms=fields.convert("max_jitter_ms", _number(0, None)),
        min_mos=fields.convert("min_mos", _number(1, 4.5)),
        retransmissions=fields.convert("retransmissions", _count),
        max_retransmissions=fields.convert("max_retransmissions", _count),
        max_severity=fields.convert("max_severity", _word(MAX_SEVERITIES, "a severity")),
        findings=fields.convert("findings", _rules(rules)) or (),
        no_findings=fields.convert("no_findings", _rules(rules)) or (),
    )
    both = set(checks.findings) & set(checks.no_findings)
    if both:
        raise fields.error("no_findings", f"{', '.join(sorted(both))} in both 'findings' and "
                                          f"'no_findings'")
    return checks


def _list(value: object) -> list[object]:
    """One value or a list of them."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("the list is empty")
    return items


def _word(allowed: tuple[str, ...], what: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"{value!r} is not {what} ({', '.join(allowed)})")
        return value

    return parse


def _words(allowed: tuple[str, ...], what: str) -> Callable[[object], tuple[str, ...]]:
    def parse(value: object) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_word(allowed, what)(item) for item in _list(value)))

    return parse


def _statuses(value: object) -> tuple[int | str, ...]:
    items = _list(value)
    parse_statuses(items)  # ValueError for anything but 100-699, 4xx or none
    return tuple(item for item in items if isinstance(item, int | str))


def _number(low: float, high: float | None) -> Callable[[object], float]:
    def parse(value: object) -> float:
        if (not isinstance(value, int | float) or isinstance(value, bool) or value < low
                or (high is not None and value > high)):
            span = f"from {low:g} to {high:g}" if high is not None else f"{low:g} or more"
            raise ValueError(f"{value!r} is not a number {span}")
        return float(value)

    return parse


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a count (0 or more)")
    return value


def _rules(rules: RuleSet) -> Callable[[object], tuple[str, ...]]:
    """Rule ids or names -> ids; each must be a rule."""

    def parse(value: object) -> tuple[str, ...]:
        ids = []
        for item in _list(value):
            rule = rules.by_id(item) if isinstance(item, str) else None
            if rule is None:
                raise ValueError(f"{item!r} is not a rule (sipdiag rules lists them)")
            ids.append(rule.id)
        return tuple(dict.fromkeys(ids))

    return parse


MEDIA_STATES = tuple(state.value for state in MediaState)

__all__ = ["DataError", "load_expectations"]
