"""``sipdiag check CAPTURE --expect FILE``: recorded calls against what they should be."""

from __future__ import annotations

import argparse

from sipdiag.analysis import analyze
from sipdiag.analysis.decryption import decrypt
from sipdiag.cli.common import Environment, ExitStatus, judging_engine, language
from sipdiag.expectations.engine import check
from sipdiag.expectations.file import load_expectations
from sipdiag.report.reporters import Settings, reporter


def run(args: argparse.Namespace, env: Environment) -> int:
    engine = judging_engine(args, env)
    lang = language(args, env.environ)
    expectations = load_expectations(args.expect, engine.rules)
    analysis = analyze(args.capture, stdin=env.stdin, engine=engine, jobs=args.jobs,
                       decryption=decrypt(args.capture, args.tls_keylog))
    verdict = check(expectations, analysis)
    settings = Settings(engine.catalog, lang, no_color=args.no_color, environ=env.environ)
    reporter(args.format, settings).verdict(verdict, env.stdout)
    return ExitStatus.OK if verdict.passed else ExitStatus.FINDINGS
