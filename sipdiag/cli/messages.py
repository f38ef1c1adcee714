"""``sipdiag messages CAPTURE``: every SIP message as a table or JSON lines, or their counts."""

from __future__ import annotations

import argparse
import itertools
from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import TextIO

from sipdiag.analysis import CaptureSummary, MessageReader, default_jobs, map_parts, message_kind
from sipdiag.analysis.decryption import decrypt
from sipdiag.cli.common import Environment, ExitStatus, console, language
from sipdiag.network.tls import Decryption
from sipdiag.report import messages as message_report
from sipdiag.report import terminal
from sipdiag.report.terminal.summary import print_message_counts
from sipdiag.rules import builtin_catalog
from sipdiag.rules.catalog import Catalog


def run(args: argparse.Namespace, env: Environment) -> int:
    catalog = builtin_catalog()
    lang = language(args, env.environ)
    decryption = decrypt(args.capture, args.tls_keylog)
    if args.count:
        counts, summary = _count(args, decryption)
        print_message_counts(console(args, env), counts, catalog, lang)
    else:
        reader = MessageReader(args.capture, stdin=env.stdin, decryption=decryption)
        if args.format == "jsonl":
            message_report.write_json_lines(_records(reader), env.stdout)
        else:
            out = console(args, env)
            widths = message_report.column_widths(out.width)
            terminal.print_rows(out, _table_rows(reader, catalog, lang), widths)
        summary = reader.summary
    report_read(summary, env.stderr, catalog, lang)
    return ExitStatus.OK


def _records(reader: MessageReader) -> Iterator[message_report.Record]:
    for batch in reader.batches():
        first = reader.summary.first_ts_ns
        for message in batch:
            yield message_report.message_record(message, first)


def _table_rows(
    reader: MessageReader, catalog: Catalog, lang: str
) -> Iterator[tuple[list[str], str]]:
    records = _records(reader)
    first = next(records, None)  # opens the capture: an unreadable file fails before any output
    headings = [catalog.label(key, lang) for key, _ in message_report.TABLE_COLUMNS]
    yield headings, terminal.HEADING_STYLE
    for record in itertools.chain([first] if first else [], records):
        status = record["status"]
        style = terminal.status_style(status if isinstance(status, int) else None)
        yield message_report.table_cells(record), style


def _count_messages(reader: MessageReader) -> Counter[str]:
    counts: Counter[str] = Counter()
    for batch in reader.batches():
        counts.update(map(message_kind, batch))
    return counts


def _count(args: argparse.Namespace,
           decryption: Decryption | None) -> tuple[Counter[str], CaptureSummary]:
    jobs = args.jobs or default_jobs(args.capture)
    parts, summary = map_parts(args.capture, jobs, _count_messages, decryption)
    counts: Counter[str] = Counter()
    for counted in parts:
        counts.update(counted)
    return counts, summary


def report_read(summary: CaptureSummary, stderr: TextIO, catalog: Catalog, lang: str) -> None:
    """One line on stderr: what was read, and what could not be."""
    label = partial(catalog.label, language=lang)
    text = "sipdiag: " + label("read_summary", file=summary.name, frames=summary.frames,
                               messages=summary.sip_messages)
    problems = summary.problems
    if problems.counts:
        listed = ", ".join(f"{kind} x{count}" for kind, count in sorted(problems.counts.items()))
        text += "; " + label("read_problems", problems=listed, file=summary.name)
    stderr.write(text + "\n")
