"""``sipdiag CAPTURE``: every call, what the rules found, in the format asked for."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from sipdiag.cli.common import Environment, ExitStatus, console, language
from sipdiag.dialogs.select import Selection
from sipdiag.pipeline import Analysis, Ladders, analyze, with_ladders
from sipdiag.report import html, terminal, text
from sipdiag.report.document import write_json
from sipdiag.report.junit import write_junit
from sipdiag.report.markdown import write_markdown
from sipdiag.report.stats import stats_of
from sipdiag.rules import load_engine
from sipdiag.rules.catalog import Catalog
from sipdiag.rules.model import Finding, reaches


def run(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules)
    lang = language(args, env.environ)
    selection = Selection(
        call_ids=tuple(args.call), users=tuple(args.user), ips=tuple(args.ip),
        since=args.since, until=args.until, failing_only=args.failed,
    )
    shown = ladders(args)
    with terminal.progress_bar(env.stderr, environ=env.environ,
                               enabled=not args.quiet) as progress:
        analysis = analyze(args.capture, stdin=env.stdin, progress=progress, engine=engine,
                           selection=selection, ladders=Ladders.ALL if args.html else shown,
                           jobs=args.jobs)
    page, analysis = analysis, with_ladders(analysis, shown)  # the page draws every call
    catalog = engine.catalog
    if args.format == "json":
        write_json(analysis, env.stdout, lang)
    elif args.format == "junit":
        write_junit(analysis, catalog, env.stdout, args.fail_on, lang)
    elif args.format == "markdown":
        write_markdown(analysis, stats_of(analysis), catalog, env.stdout, lang)
    else:
        text.print_report(console(args, env), analysis, stats_of(analysis), catalog, lang)
    if args.html and not _write_html(args.html, page, catalog, env.stderr, lang):
        return ExitStatus.ERROR
    return exit_status(analysis.findings, args.fail_on)


def ladders(args: argparse.Namespace) -> Ladders:
    """--ladder draws failing calls, or the chosen ones; --call alone draws the chosen ones."""
    if args.ladder:
        return Ladders.ALL if args.call else Ladders.FAILING
    return Ladders.ALL if args.call else Ladders.NONE


def _write_html(path: Path, analysis: Analysis, catalog: Catalog, stderr: TextIO,
                lang: str) -> bool:
    try:
        with path.open("w", encoding="utf-8", newline="\n") as out:
            html.write_html(analysis, stats_of(analysis), catalog, out, lang)
    except OSError as exc:
        stderr.write(f"sipdiag: error: cannot write {path}: {exc.strerror or exc}\n")
        return False
    return True


def exit_status(findings: Iterable[Finding], fail_on: str) -> int:
    serious = any(reaches(f.severity, fail_on) for f in findings)
    return ExitStatus.FINDINGS if serious else ExitStatus.OK
