"""``sipdiag stats RESULTS``: ASR, NER, post-dial delay and the most frequent findings per group
of the calls kept with ``--out`` (``report.group_stats``), as a table, JSON or CSV."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sipdiag.capture import CaptureError
from sipdiag.cli.common import Environment, ExitStatus, console, language
from sipdiag.store import NEEDS

if TYPE_CHECKING:
    from sipdiag.store.dataset import Run


def run(args: argparse.Namespace, env: Environment) -> int:
    try:
        from sipdiag.report import group_stats as figures
        from sipdiag.store.dataset import Results, committed_runs
    except ImportError:
        raise CaptureError(f"sipdiag stats needs {NEEDS}") from None
    from sipdiag.rules import load_engine
    from sipdiag.rules.cache import cache_folder

    try:
        trunk = figures.Trunk.parse(args.trunk)
    except ValueError as exc:
        env.stderr.write(f"sipdiag: error: {exc}\n")
        return ExitStatus.ERROR
    if args.top < 0:
        env.stderr.write(f"sipdiag: error: --top {args.top}: give 0 or more findings\n")
        return ExitStatus.ERROR
    runs = committed_runs(Results(args.results))  # StoreError, one line, for no dataset
    by = [figures.GroupBy(group) for group in args.by]
    if figures.GroupBy.TRUNK in by and trunk.header and not _kept(runs, trunk.header):
        env.stderr.write(
            f"sipdiag: no run of {args.results} kept the header {trunk.header} (sipdiag "
            f"CAPTURE --out RESULTS --keep-header {trunk.header}): every call is under "
            f"{trunk.missing}\n")
    # +SECONDS counts from the first frame of the earliest run, as sipdiag report does
    first_ns = min((run.first_ns for run in runs if run.first_ns is not None), default=0)
    engine = load_engine(args.rules, cache_folder(env.environ))
    stats = figures.group_stats(
        args.results, by, trunk,
        since_ns=args.since.resolve(first_ns) if args.since else None,
        until_ns=args.until.resolve(first_ns) if args.until else None,
        top=args.top, rule_names={rule.id: rule.name for rule in engine.rules.rules})
    if args.format == "json":
        figures.write_json(stats, env.stdout)
    elif args.format == "csv":
        figures.write_csv(stats, env.stdout)
    else:
        from sipdiag.report.terminal.group_stats import print_group_stats

        print_group_stats(console(args, env), stats, engine.catalog,
                          language(args, env.environ))
    return ExitStatus.OK


def _kept(runs: Sequence[Run], header: str) -> bool:
    """Whether a run kept the header (``--keep-header``; names are case-insensitive)."""
    return any(name.lower() == header.lower() for run in runs for name in run.row["headers"])
