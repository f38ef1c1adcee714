"""``sipdiag explain`` and ``sipdiag rules``: the catalog and the rules, laid out for reading.

The words are the catalog's and the rules' (in the reader's language); this module only
arranges them: one entry as labelled paragraphs, two response codes side by side with the
sentences that say how they differ, the list of rules as a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sipdiag.report import wording
from sipdiag.report.terminal import cell, print_fields
from sipdiag.rules.catalog import Catalog, Explained, ResponseCode
from sipdiag.rules.loader import RuleSet
from sipdiag.rules.model import Rule

_CATALOG_ITEM = re.compile(r"^(q850|warning):(\d+)$", re.I)


class NotExplained(ValueError):
    """What was asked is not something the catalog or the rules explain (one line)."""


def print_items(console: Console, catalog: Catalog, rules: RuleSet, items: Sequence[str],
                language: str = "en") -> None:
    """``sipdiag explain ITEM [ITEM]``: a response code, a rule (id or name), ``q850:N`` or
    ``warning:N``; two response codes side by side. NotExplained for anything else."""
    if not items or len(items) > 2:
        raise NotExplained("explain takes one item, or two response codes to compare")
    if len(items) == 2:
        a, b = (_response_code(catalog, item) for item in items)
        print_comparison(console, catalog, a, b, language)
        return
    item = items[0]
    if item.isdigit():
        code = int(item)
        if not 100 <= code <= 699:
            raise NotExplained(f"{item} is not a SIP response code (100 to 699)")
        print_response(console, catalog, code, language)
        return
    match = _CATALOG_ITEM.match(item)
    if match:
        kind, number = match[1].lower(), int(match[2])
        if number not in (catalog.q850 if kind == "q850" else catalog.warnings):
            raise NotExplained(f"the catalog has no {kind} entry {number}")
        show = print_q850 if kind == "q850" else print_warning
        show(console, catalog, number, language)
        return
    rule = rules.by_id(item)
    if rule is None:
        raise NotExplained(f"'{item}' is not a response code, a rule, q850:N or warning:N "
                           f"(sipdiag rules lists the rules)")
    print_rule(console, catalog, rule, language)


def _response_code(catalog: Catalog, item: str) -> ResponseCode:
    entry = catalog.response(int(item)) if item.isdigit() else None
    if entry is None:
        raise NotExplained(f"'{item}' is not a registered SIP response code; two codes are "
                           f"needed to compare")
    return entry


def print_response(console: Console, catalog: Catalog, code: int, language: str = "en") -> None:
    label = partial(catalog.label, language=language)
    entry = catalog.response(code)
    if entry is None:
        # RFC 3261 8.1.3.2: an unknown code is treated as the x00 code of its class.
        entry = catalog.response(code // 100 * 100)
        assert entry is not None
        _print_heading(console, f"{code}")
        print_fields(console, [(label("code"), label("unregistered"))])
    _print_heading(console, f"{entry.code} {entry.reason}")
    rows = [
        (label("class"), catalog.classes[entry.klass].get(language)),
        (label("rfc"), wording.references(catalog, [entry.rfc], language)),
        (label("cause"), catalog.causes[entry.cause].get(language)),
        (label("next"), catalog.next_steps[entry.next].get(language)),
    ]
    print_fields(console, [*rows, *_explained(catalog, entry.text, language)])


def print_comparison(
    console: Console, catalog: Catalog, a: ResponseCode, b: ResponseCode, language: str = "en"
) -> None:
    label = partial(catalog.label, language=language)
    table = Table(show_lines=True, title_justify="left")
    table.add_column("")
    table.add_column(f"{a.code} {a.reason}", ratio=1)
    table.add_column(f"{b.code} {b.reason}", ratio=1)
    rows: list[tuple[str, Callable[[ResponseCode], str]]] = [
        ("class", lambda e: catalog.classes[e.klass].get(language)),
        ("rfc", lambda e: wording.references(catalog, [e.rfc], language)),
        ("meaning", lambda e: e.text.meaning.get(language)),
        ("seen_when", lambda e: e.text.seen_when.get(language)),
        ("fix", lambda e: e.text.fix.get(language)),
        ("cause", lambda e: catalog.causes[e.cause].get(language)),
        ("next", lambda e: catalog.next_steps[e.next].get(language)),
    ]
    for key, value in rows:
        table.add_row(cell(label(key), "bold"), cell(value(a)), cell(value(b)))
    console.print(table)
    console.print(Text(label("differences"), style="bold underline"))
    for sentence, values in catalog.compare(a, b, language).differences:
        console.print(Text("- " + sentence.render(values, language)))


def print_q850(console: Console, catalog: Catalog, cause: int, language: str = "en") -> None:
    entry = catalog.q850[cause]
    _print_heading(console, f"{catalog.label('q850_cause', language)} {cause}: {entry.name}")
    print_fields(console, _explained(catalog, entry.text, language))


def print_warning(console: Console, catalog: Catalog, code: int, language: str = "en") -> None:
    entry = catalog.warnings[code]
    _print_heading(console, f"{catalog.label('warning_code', language)} {code}: {entry.name}")
    print_fields(console, [(catalog.label("rfc", language),
                            wording.references(catalog, [entry.rfc], language)),
                           *_explained(catalog, entry.text, language)])


def print_rule(console: Console, catalog: Catalog, rule: Rule, language: str = "en") -> None:
    label = partial(catalog.label, language=language)
    _print_heading(console, f"{rule.id} {rule.name}: {rule.title.get(language)}")
    how = f"{label('check')} {rule.check}" if rule.check else (
        f"{label('pattern')}: {label('steps', n=len(rule.steps))}"
    )
    print_fields(console, [
        (label("severity"), label(rule.severity)),
        (label("scope"), rule.scope),
        (label("rule"), how),
        (label("why"), rule.explanation.get(language)),
        (label("causes"), rule.causes.get(language)),
        (label("how_to_fix"), rule.fix.get(language)),
        (label("references"), wording.references(catalog, rule.references, language)),
        (label("tests"), "; ".join(f"{t.sample} ({t.expect})" for t in rule.tests)),
    ])


def print_rules(
    console: Console, catalog: Catalog, rules: Sequence[Rule], language: str = "en"
) -> None:
    label = partial(catalog.label, language=language)
    table = Table(title=label("rules"), title_justify="left")
    for key in ("rule", "severity", "scope", "name", "title", "pattern"):
        table.add_column(label(key))
    for rule in rules:
        how = rule.check or label("steps", n=len(rule.steps))
        table.add_row(*(cell(text) for text in (
            rule.id, label(rule.severity), rule.scope, rule.name, rule.title.get(language), how,
        )))
    console.print(table)


def _explained(catalog: Catalog, text: Explained, language: str) -> list[tuple[str, str]]:
    return [(catalog.label(key, language), value.get(language)) for key, value in (
        ("meaning", text.meaning), ("seen_when", text.seen_when), ("fix", text.fix))]


def _print_heading(console: Console, text: str) -> None:
    console.print(Text(text, style="bold underline"))


