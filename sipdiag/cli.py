"""Command line: ``sipdiag CAPTURE`` and its subcommands.

Exit codes (documented in the README and in ``--help``):

- 0: the command did what was asked;
- 2: usage error, or an input that cannot be read (not a capture, missing file);
- 130: interrupted.

Problems inside a capture that could be read (a cut file, malformed SIP) are reported and are
not errors: the capture was analysed as far as it goes.

``main`` takes its streams and environment as arguments, so tests run it without touching the
process's own (httpie's Environment pattern).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import BinaryIO, TextIO

from rich.console import Console

from sipdiag import __version__
from sipdiag.capture import CaptureError, linktypes
from sipdiag.pipeline import (
    CaptureSummary,
    MessageReader,
    analyze,
    default_jobs,
    map_parts,
    message_kind,
)
from sipdiag.problems import Problem
from sipdiag.report import calls as calls_report
from sipdiag.report import escape, explain, terminal
from sipdiag.report import messages as message_report
from sipdiag.report.document import write_json
from sipdiag.report.findings import print_findings
from sipdiag.rules import DataError, Engine, load_engine
from sipdiag.rules.catalog import Catalog, ResponseCode


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 2
    INTERRUPTED = 130


@dataclass
class Environment:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: BinaryIO = field(default_factory=lambda: sys.stdin.buffer)
    environ: Mapping[str, str] = field(default_factory=dict)


SUBCOMMANDS = ("analyze", "messages", "rules", "explain")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sipdiag",
        description="Read SIP signalling from packet captures and explain what went wrong.",
        epilog="Exit codes: 0 success; 2 usage error, unreadable input or a broken rule file; "
        "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"sipdiag {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze", help="what happened in each call (the default: sipdiag CAPTURE)"
    )
    _add_capture_options(analyze)
    analyze.add_argument(
        "--format",
        choices=("terminal", "json"),
        default="terminal",
        help="tables for people (default), or one JSON document",
    )
    _add_rules_option(analyze)

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
    return parser


def _add_rules_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--rules",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a folder of your own rule files, besides the built-in ones (repeatable)",
    )


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
        _print_counts(console, counts)
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


def _print_counts(console: Console, counts: Counter[str]) -> None:
    requests = sorted((k, v) for k, v in counts.items() if not k.isdigit())
    responses = sorted((k, v) for k, v in counts.items() if k.isdigit())
    rows = [[name, str(count)] for name, count in requests + responses]
    rows.append(["total", str(sum(counts.values()))])
    terminal.print_table(console, "SIP messages", ["Method / status", "Count"], rows)


def _analyze(args: argparse.Namespace, env: Environment) -> int:
    engine = load_engine(args.rules)
    analysis = analyze(args.capture, stdin=env.stdin, engine=engine)
    if args.format == "json":
        write_json(analysis, env.stdout)
        return ExitStatus.OK
    console = terminal.make_console(env.stdout, environ=env.environ, no_color=args.no_color)
    summary = analysis.summary
    rows = _summary_rows(summary)
    rows.append(("Calls", _outcome_counts([c.outcome for c in analysis.calls])))
    rows.append(("Exchanges", _outcome_counts([e.outcome for e in analysis.exchanges])))
    terminal.print_key_values(console, "Capture", rows)
    if analysis.message_counts:
        _print_counts(console, analysis.message_counts)
    calls_report.print_calls(console, analysis)
    calls_report.print_links(console, analysis)
    calls_report.print_exchanges(console, analysis)
    _print_problems(console, summary)
    print_findings(console, analysis.findings, engine.catalog, summary.first_ts_ns or 0)
    return ExitStatus.OK


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


def _outcome_counts(outcomes: list[str]) -> str:
    if not outcomes:
        return "0"
    counted = Counter(outcomes)
    return f"{len(outcomes)} (" + ", ".join(f"{n} {o}" for o, n in sorted(counted.items())) + ")"


def _summary_rows(summary: CaptureSummary) -> list[tuple[str, str]]:
    kind = summary.format + (f" ({summary.compression})" if summary.compression else "")
    rows = [
        ("File", summary.name),
        ("Format", kind),
        ("Link types", ", ".join(linktypes.name(t) for t in summary.linktypes) or "-"),
        ("Frames", str(summary.frames)),
    ]
    if summary.first_ts_ns is not None and summary.last_ts_ns is not None:
        span = (summary.last_ts_ns - summary.first_ts_ns) / 1e9
        rows.append(("First frame", message_report.iso_time(summary.first_ts_ns)))
        rows.append(("Last frame", message_report.iso_time(summary.last_ts_ns)))
        rows.append(("Span", f"{span:.3f} s"))
    rows.append(("SIP messages", str(summary.sip_messages)))
    rows.append(("With defects", str(summary.defective_messages)))
    return rows


def _print_problems(console: Console, summary: CaptureSummary) -> None:
    problems = summary.problems
    if not problems.counts:
        return
    rows = [
        [
            kind,
            str(count),
            _first_frames(problems.examples.get(kind, [])),
            problems.examples[kind][0].detail if problems.examples.get(kind) else "",
        ]
        for kind, count in sorted(problems.counts.items())
    ]
    terminal.print_table(
        console,
        "What could not be read",
        ["Problem", "Count", "Frames", "Example"],
        ([*r[:3], escape.for_terminal(r[3])] for r in rows),
    )


def _first_frames(examples: list[Problem], limit: int = 5) -> str:
    frames = [str(p.frame) for p in examples[:limit]]
    return ", ".join(frames) + (", ..." if len(examples) > limit else "")


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
