"""``sipdiag rules``, ``sipdiag explain ITEM [ITEM]`` and ``sipdiag translations``: what the
rules and the catalog say, in the reader's language, and which texts lack a translation."""

from __future__ import annotations

import argparse
from pathlib import Path

from sipdiag.cli.common import Environment, ExitStatus, console, language
from sipdiag.report import terminal
from sipdiag.report.terminal import explain
from sipdiag.rules import DataError, builtin_folder, load_engine, texts_of
from sipdiag.rules.cache import cache_folder
from sipdiag.rules.text import BASE_LANGUAGE


def run_rules(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules, cache_folder(env.environ))
    explain.print_rules(console(args, env), engine.catalog, engine.rules.rules,
                        language(args, env.environ))
    return ExitStatus.OK


def run_explain(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules, cache_folder(env.environ))
    try:
        explain.print_items(console(args, env), engine.catalog, engine.rules, args.items,
                            language(args, env.environ))
    except explain.NotExplained as exc:
        raise DataError(str(exc)) from None
    return ExitStatus.OK


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
