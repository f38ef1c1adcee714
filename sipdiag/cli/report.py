"""``sipdiag report RESULTS``: the reports of ``sipdiag CAPTURE`` from results kept with ``--out``,
without reading a capture."""

from __future__ import annotations

import argparse

from sipdiag.analysis.model import with_ladders
from sipdiag.capture import CaptureError
from sipdiag.cli.analyze import exit_status, ladders, nothing_matched, write_html
from sipdiag.cli.common import Environment, ExitStatus, language, selection_of
from sipdiag.report.reporters import Format, Settings, reporter
from sipdiag.store import NEEDS


def run(args: argparse.Namespace, env: Environment) -> int:
    try:
        from sipdiag.store.load import load_analysis
    except ImportError:
        raise CaptureError(f"sipdiag report needs {NEEDS}") from None
    from sipdiag.rules import load_engine
    from sipdiag.rules.cache import cache_folder

    engine = load_engine(args.rules, cache_folder(env.environ))
    selection = selection_of(args, engine.rules)
    page = load_analysis(args.results, engine.rules.shared(), selection)
    found = any(True for _ in page.calls) or any(True for _ in page.exchanges)
    # no capture to read the names nearest to those asked from: the line standard input gets
    unmatched = nothing_matched(argparse.Namespace(**{**vars(args), "capture": ["-"]}),
                                selection, found=found)
    if unmatched:
        env.stderr.write(f"sipdiag: error: {unmatched}\n")
        return ExitStatus.ERROR
    analysis = with_ladders(page, ladders(args))
    settings = Settings(engine.catalog, language(args, env.environ), fail_on=args.fail_on,
                        wide=args.wide, no_color=args.no_color, sources=args.sources,
                        environ=env.environ)
    reporter(args.format, settings).analysis(page if args.format == Format.HTML else analysis,
                                             env.stdout)
    if args.html and not write_html(args.html, page, settings, env.stderr):
        return ExitStatus.ERROR
    return exit_status(analysis.findings, args.fail_on)
