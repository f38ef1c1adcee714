"""``sipdiag rules``, ``sipdiag explain ITEM [ITEM]`` and ``sipdiag translations``: what the
rules and the catalog say, in the reader's language, and which texts lack a translation."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from rich.console import Console

from sipdiag.cli.common import Environment, ExitStatus, console, language
from sipdiag.report import terminal
from sipdiag.report.terminal import explain
from sipdiag.rules import DataError, Engine, builtin_folder, load_engine, texts_of
from sipdiag.rules.cache import cache_folder
from sipdiag.rules.catalog import Catalog, ResponseCode
from sipdiag.rules.text import BASE_LANGUAGE

_CATALOG_ITEM = re.compile(r"^(q850|warning):(\d+)$", re.I)


def run_rules(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules, cache_folder(env.environ))
    explain.print_rules(console(args, env), engine.catalog, engine.rules.rules,
                        language(args, env.environ))
    return ExitStatus.OK


def run_explain(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules, cache_folder(env.environ))
    catalog, lang, out = engine.catalog, language(args, env.environ), console(args, env)
    items: list[str] = args.items
    if len(items) > 2:
        raise DataError("explain takes one item, or two response codes to compare")
    if len(items) == 2:
        a, b = (_response_code(catalog, item) for item in items)
        explain.print_comparison(out, catalog, a, b, lang)
    else:
        _explain_one(out, engine, items[0], lang)
    return ExitStatus.OK


def _explain_one(out: Console, engine: Engine, item: str, lang: str) -> None:
    catalog = engine.catalog
    if item.isdigit():
        code = int(item)
        if not 100 <= code <= 699:
            raise DataError(f"{item} is not a SIP response code (100 to 699)")
        explain.print_response(out, catalog, code, lang)
        return
    match = _CATALOG_ITEM.match(item)
    if match:
        kind, number = match[1].lower(), int(match[2])
        table = catalog.q850 if kind == "q850" else catalog.warnings
        if number not in table:
            raise DataError(f"the catalog has no {kind} entry {number}")
        show = explain.print_q850 if kind == "q850" else explain.print_warning
        show(out, catalog, number, lang)
        return
    rule = engine.rules.by_id(item)
    if rule is None:
        raise DataError(f"'{item}' is not a response code, a rule, q850:N or warning:N "
                        f"(sipdiag rules lists the rules)")
    explain.print_rule(out, catalog, rule, lang)


def _response_code(catalog: Catalog, item: str) -> ResponseCode:
    entry = catalog.response(int(item)) if item.isdigit() else None
    if entry is None:
        raise DataError(f"'{item}' is not a registered SIP response code; "
                        f"two codes are needed to compare")
    return entry


def run_translations(args: argparse.Namespace, env: Environment) -> int:
    """Every text without a translation in the language (shown in English meanwhile)."""
    engine = load_engine(args.rules, cache_folder(env.environ))
    lang, catalog, out = language(args, env.environ), engine.catalog, console(args, env)
    if lang == BASE_LANGUAGE:
        raise DataError("English is the language every text is written in: name another "
                        "with --lang")
    missing = [text for text in texts_of(engine) if not text.has(lang)]
    if not missing:
        out.print(catalog.labels["translations_complete"].render({"language": lang}, lang))
        return ExitStatus.OK
    rows = [[_relative(text.where), text.get()] for text in missing]
    terminal.print_table(out, catalog.labels["translations"].render({"language": lang}, lang),
                         [catalog.label("col_where", lang), catalog.label("col_text", lang)],
                         rows, whole_first=True)
    return ExitStatus.FINDINGS


def _relative(where: str) -> str:
    """A built-in file is named from the project root (``rules/calls/D101-...yaml:3 title``)."""
    root = str(builtin_folder().parent) + "/"
    return where.removeprefix(root) if Path(where.split(":")[0]).is_absolute() else where
