"""Command line: ``sipdiag CAPTURE`` and its subcommands.

Exit codes (documented in the README and in ``--help``):

- 0: the command did what was asked, and no finding reached ``--fail-on``;
- 1: a finding at or above ``--fail-on`` (default: error); for ``check``, an expectation not met;
- 2: usage error, an input that cannot be read (not a capture, missing file), a broken rule file
  or expectations file;
- 130: interrupted.

Problems inside a capture that could be read (a cut file, malformed SIP) are reported and are
not errors: the capture was analysed as far as it goes.

``main`` takes its streams and environment as arguments, so tests run it without touching the
process's own (httpie's Environment pattern).
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import BinaryIO, TextIO

from rich.console import Console

from sipdiag import __version__
from sipdiag.capture import CaptureError
from sipdiag.dialogs.select import Selection, TimePoint
from sipdiag.pipeline import (
    Analysis,
    CaptureSummary,
    Ladders,
    MessageReader,
    analyze,
    default_jobs,
    map_parts,
    message_kind,
    with_ladders,
)
from sipdiag.report import check as check_report
from sipdiag.report import explain, terminal, text
from sipdiag.report import html as html_report
from sipdiag.report import messages as message_report
from sipdiag.report.document import write_json
from sipdiag.report.expect import check as check_expectations
from sipdiag.report.expect_file import load_expectations
from sipdiag.report.junit import write_junit
from sipdiag.report.markdown import write_markdown
from sipdiag.report.stats import stats_of
from sipdiag.report.summary import print_message_counts
from sipdiag.rules import DataError, Engine, builtin_catalog, load_engine
from sipdiag.rules.catalog import Catalog, ResponseCode
from sipdiag.rules.model import SEVERITIES, Finding, reaches


class ExitStatus(IntEnum):
    OK = 0
    FINDINGS = 1
    ERROR = 2
    INTERRUPTED = 130


@dataclass
class Environment:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: BinaryIO = field(default_factory=lambda: sys.stdin.buffer)
    environ: Mapping[str, str] = field(default_factory=dict)


SUBCOMMANDS = ("analyze", "messages", "rules", "explain", "check")


class _Parser(argparse.ArgumentParser):
    """Writes its usage and errors to the Environment's stderr, not the process's."""

    stream: TextIO | None = None

    def _print_message(self, message: str, file: object = None) -> None:
        if message:
            (self.stream or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sipdiag",
        description="Read SIP signalling from packet captures and explain what went wrong.",
        epilog="Exit codes: 0 success; 1 findings at or above --fail-on (check: an expectation "
        "not met); 2 usage error, unreadable input or a broken rule or expectations file; "
        "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"sipdiag {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    analyze = commands.add_parser(
        "analyze", help="what happened in each call (the default: sipdiag CAPTURE)"
    )
    _add_capture_options(analyze)
    analyze.add_argument(
        "--format",
        choices=("terminal", "json", "junit", "markdown"),
        default="terminal",
        help="tables for people (default), one JSON document, JUnit XML for CI test reports, "
        "or Markdown for a ticket",
    )
    analyze.add_argument(
        "--fail-on",
        choices=(*SEVERITIES, "never"),
        default="error",
        help="exit with 1 when a finding is at least this severe (default: error)",
    )
    analyze.add_argument(
        "--ladder",
        action="store_true",
        help="draw the ladder diagram of every failing call (with --call: of those calls)",
    )
    analyze.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write the report as one self-contained HTML page, with the ladder diagram "
        f"of every selected call (the first {html_report.MAX_LADDERS})",
    )
    _add_rules_option(analyze)
    _add_selection_options(analyze)
    analyze.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    listing = commands.add_parser("messages", help="list every SIP message of a capture")
    _add_capture_options(listing)
    listing.add_argument(
        "--format",
        choices=("table", "jsonl"),
        default="table",
        help="a table for people (default) or one JSON object per line",
    )
    listing.add_argument(
        "--count", action="store_true", help="only count the messages by method and status"
    )

    rules = commands.add_parser("rules", help="list every rule sipdiag applies")
    _add_rules_option(rules)
    rules.add_argument("--no-color", action="store_true", help="plain text, no colours")

    explain_ = commands.add_parser(
        "explain",
        help="explain a SIP response code, compare two, or show a rule",
        description="ITEM is a response code (481), a rule (D101 or bye-answered-481), "
        "q850:CAUSE or warning:CODE. Two response codes are compared side by side.",
    )
    explain_.add_argument("items", nargs="+", metavar="ITEM")
    _add_rules_option(explain_)
    explain_.add_argument("--no-color", action="store_true", help="plain text, no colours")
    _add_check_command(commands)
    return parser


def _add_check_command(commands: argparse._SubParsersAction[_Parser]) -> None:
    checking = commands.add_parser(
        "check",
        help="check the calls of a capture against an expectations file (for CI)",
        description="Exit codes: 0 every expectation met; 1 an expectation not met; 2 usage "
        "error, unreadable capture, or a broken expectations or rule file.",
    )
    checking.add_argument("capture", help="pcap, pcapng, ERF or NetMon file (gzip ok); - for "
                          "stdin")
    checking.add_argument("--expect", type=Path, required=True, metavar="FILE",
                          help="the expectations, a YAML file (see the README)")
    checking.add_argument("--format", choices=("terminal", "json", "junit"), default="terminal",
                          help="a table for people (default), a JSON document, or JUnit XML")
    _add_rules_option(checking)
    checking.add_argument("--no-color", action="store_true", help="plain text, no colours")


def _add_rules_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--rules",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a folder of your own rule files, besides the built-in ones (repeatable)",
    )


def _add_selection_options(command: argparse.ArgumentParser) -> None:
    group = command.add_argument_group("choosing calls (each option can be repeated)")
    group.add_argument("--call", action="append", default=[], metavar="CALL_ID",
                       help="only this call (and draw its ladder)")
    group.add_argument("--user", "--number", action="append", default=[], metavar="USER",
                       help="only calls whose From, To or Request-URI user contains this")
    group.add_argument("--ip", action="append", default=[], type=_ip, metavar="ADDRESS",
                       help="only calls with a message from or to this address")
    group.add_argument("--since", type=_time_point, metavar="TIME",
                       help="only calls still going at this time: 2024-05-01T10:00:00 (UTC) "
                       "or +SECONDS from the first frame")
    group.add_argument("--until", type=_time_point, metavar="TIME",
                       help="only calls started by this time (same forms as --since)")
    group.add_argument("--failed", action="store_true",
                       help="only failing calls: a warning or error, or a failed outcome")


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from exc


def _time_point(text: str) -> TimePoint:
    """``+12.5`` (seconds from the first frame) or an ISO 8601 time (UTC unless it says)."""
    if text.startswith("+"):
        try:
            return TimePoint(round(float(text[1:].removesuffix("s")) * 1e9), relative=True)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not +SECONDS") from exc
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like 2024-05-01T10:00:00 or +SECONDS") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return TimePoint(round(when.timestamp() * 1_000_000) * 1000)


def _add_capture_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("capture", help="pcap, pcapng, ERF or NetMon file (gzip ok); - for stdin")
    command.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        help="processes to read with (default: one per core for large files)",
    )
    command.add_argument("--no-color", action="store_true", help="plain text, no colours")


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment(environ=_os_environ())
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in SUBCOMMANDS and not args_list[0].startswith("-"):
        args_list.insert(0, "analyze")
    parser = build_parser()
    _Parser.stream = env.stderr
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_usage(env.stderr)
        return ExitStatus.ERROR
    try:
        if args.command == "messages":
            return _messages(args, env)
        if args.command == "rules":
            return _rules(args, env)
        if args.command == "explain":
            return _explain(args, env)
        if args.command == "check":
            return _check(args, env)
        return _analyze(args, env)
    except (CaptureError, DataError) as exc:
        env.stderr.write(f"sipdiag: error: {exc}\n")
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED


def _os_environ() -> Mapping[str, str]:
    import os

    return os.environ


def _jobs(args: argparse.Namespace) -> int:
    if args.capture == "-":
        return 1
    return args.jobs if args.jobs > 0 else default_jobs(args.capture)


def _messages(args: argparse.Namespace, env: Environment) -> int:
    if args.count:
        counts, summary = _count(args)
        console = terminal.make_console(env.stdout, environ=env.environ, no_color=args.no_color)
        print_message_counts(console, counts, builtin_catalog())
    else:
        reader = MessageReader(args.capture, stdin=env.stdin)
        if args.format == "jsonl":
            message_report.write_json_lines(_records(reader), env.stdout)
        else:
            console = terminal.make_console(env.stdout, environ=env.environ, no_color=args.no_color)
            widths = message_report.column_widths(console.width)
            rows = _table_rows(reader)
            terminal.print_rows(console, rows, widths)
        summary = reader.summary
    _report_problems(summary, env.stderr)
    return ExitStatus.OK


def _records(reader: MessageReader) -> Iterator[message_report.Record]:
    for batch in reader.batches():
        first = reader.summary.first_ts_ns
        for message in batch:
            yield message_report.message_record(message, first)


def _table_rows(reader: MessageReader) -> Iterator[tuple[list[str], str]]:
    records = _records(reader)
    first = next(records, None)  # opens the capture: an unreadable file fails before any output
    yield [heading for heading, _ in message_report.TABLE_COLUMNS], terminal.HEADING_STYLE
    for record in itertools.chain([first] if first else [], records):
        status = record["status"]
        style = terminal.status_style(status if isinstance(status, int) else None)
        yield message_report.table_cells(record), style


def _count_messages(reader: MessageReader) -> Counter[str]:
    counts: Counter[str] = Counter()
    for batch in reader.batches():
        counts.update(map(message_kind, batch))
    return counts


def _count(args: argparse.Namespace) -> tuple[Counter[str], CaptureSummary]:
    parts, summary = map_parts(args.capture, _jobs(args), _count_messages)
    counts: Counter[str] = Counter()
    for partial in parts:
        counts.update(partial)
    return counts, summary


def _analyze(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules)
    selection = Selection(
        call_ids=tuple(args.call), users=tuple(args.user), ips=tuple(args.ip),
        since=args.since, until=args.until, failing_only=args.failed,
    )
    ladders = Ladders.NONE
    if args.ladder:
        ladders = Ladders.ALL if args.call else Ladders.FAILING
    elif args.call:
        ladders = Ladders.ALL
    if args.html:  # the page draws every selected call; stdout still shows what it asked for
        ladders, stdout_ladders = Ladders.ALL, ladders
    with terminal.progress_bar(env.stderr, environ=env.environ,
                               enabled=not args.quiet) as progress:
        analysis = analyze(args.capture, stdin=env.stdin, progress=progress, engine=engine,
                           selection=selection, ladders=ladders)
    if args.html:
        page, analysis = analysis, with_ladders(analysis, stdout_ladders)
    if args.format == "json":
        write_json(analysis, env.stdout)
    elif args.format == "junit":
        write_junit(analysis, engine.catalog, env.stdout, args.fail_on)
    elif args.format == "markdown":
        write_markdown(analysis, stats_of(analysis), engine.catalog, env.stdout)
    else:
        console = terminal.make_console(env.stdout, environ=env.environ, no_color=args.no_color)
        text.print_report(console, analysis, stats_of(analysis), engine.catalog)
    if args.html and not _write_html(args.html, page, engine.catalog, env.stderr):
        return ExitStatus.ERROR
    return _exit_status(analysis.findings, args.fail_on)


def _write_html(path: Path, analysis: Analysis, catalog: Catalog, stderr: TextIO) -> bool:
    try:
        with path.open("w", encoding="utf-8", newline="\n") as out:
            html_report.write_html(analysis, stats_of(analysis), catalog, out)
    except OSError as exc:
        stderr.write(f"sipdiag: error: cannot write {path}: {exc.strerror or exc}\n")
        return False
    return True


def _exit_status(findings: Sequence[Finding], fail_on: str) -> int:
    serious = any(reaches(f.severity, fail_on) for f in findings)
    return ExitStatus.FINDINGS if serious else ExitStatus.OK


def _check(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules)
    expectations = load_expectations(args.expect, engine.rules)
    analysis = analyze(args.capture, stdin=env.stdin, engine=engine)
    verdict = check_expectations(expectations, analysis)
    if args.format == "json":
        check_report.write_verdict_json(verdict, env.stdout)
    elif args.format == "junit":
        check_report.write_verdict_junit(verdict, engine.catalog, env.stdout)
    else:
        console = terminal.make_console(env.stdout, environ=env.environ, no_color=args.no_color)
        check_report.print_verdict(console, verdict, engine.catalog)
    return ExitStatus.OK if verdict.passed else ExitStatus.FINDINGS


def _rules(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules)
    console = terminal.make_console(env.stdout, environ=env.environ, no_color=args.no_color)
    explain.print_rules(console, engine.catalog, engine.rules.rules)
    return ExitStatus.OK


_CATALOG_ITEM = re.compile(r"^(q850|warning):(\d+)$", re.I)


def _explain(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules)
    catalog = engine.catalog
    console = terminal.make_console(env.stdout, environ=env.environ, no_color=args.no_color)
    items: list[str] = args.items
    if len(items) > 2:
        raise DataError("explain takes one item, or two response codes to compare")
    if len(items) == 2:
        a, b = (_response_code(catalog, item) for item in items)
        explain.print_comparison(console, catalog, a, b)
        return ExitStatus.OK
    _explain_one(console, engine, items[0])
    return ExitStatus.OK


def _explain_one(console: Console, engine: Engine, item: str) -> None:
    catalog = engine.catalog
    if item.isdigit():
        code = int(item)
        if not 100 <= code <= 699:
            raise DataError(f"{item} is not a SIP response code (100 to 699)")
        explain.print_response(console, catalog, code)
        return
    match = _CATALOG_ITEM.match(item)
    if match:
        kind, number = match[1].lower(), int(match[2])
        table = catalog.q850 if kind == "q850" else catalog.warnings
        if number not in table:
            raise DataError(f"the catalog has no {kind} entry {number}")
        (explain.print_q850 if kind == "q850" else explain.print_warning)(
            console, catalog, number
        )
        return
    rule = engine.rules.by_id(item)
    if rule is None:
        raise DataError(f"'{item}' is not a response code, a rule, q850:N or warning:N "
                        f"(sipdiag rules lists the rules)")
    explain.print_rule(console, catalog, rule)


def _response_code(catalog: Catalog, item: str) -> ResponseCode:
    entry = catalog.response(int(item)) if item.isdigit() else None
    if entry is None:
        raise DataError(f"'{item}' is not a registered SIP response code; "
                        f"two codes are needed to compare")
    return entry


def _report_problems(summary: CaptureSummary, stderr: TextIO) -> None:
    """One line on stderr: what was read, and what could not be."""
    problems = summary.problems
    text = f"sipdiag: {summary.name}: {summary.frames} frames, {summary.sip_messages} SIP messages"
    if problems.counts:
        parts = [f"{kind} x{count}" for kind, count in sorted(problems.counts.items())]
        text += f"; problems: {', '.join(parts)} (details: sipdiag {summary.name})"
    stderr.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
