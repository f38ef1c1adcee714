"""``sipdiag check CAPTURE --expect FILE``: recorded calls against what they should be."""

from __future__ import annotations

import argparse

from sipdiag.cli.common import Environment, ExitStatus, console, language
from sipdiag.pipeline import analyze
from sipdiag.report import check as check_report
from sipdiag.report.expect import check
from sipdiag.report.expect_file import load_expectations
from sipdiag.rules import load_engine


def run(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules)
    lang = language(args, env.environ)
    expectations = load_expectations(args.expect, engine.rules)
    analysis = analyze(args.capture, stdin=env.stdin, engine=engine, jobs=args.jobs)
    verdict = check(expectations, analysis)
    if args.format == "json":
        check_report.write_verdict_json(verdict, env.stdout, lang)
    elif args.format == "junit":
        check_report.write_verdict_junit(verdict, engine.catalog, env.stdout, lang)
    else:
        check_report.print_verdict(console(args, env), verdict, engine.catalog, lang)
    return ExitStatus.OK if verdict.passed else ExitStatus.FINDINGS
