"""``sipdiag CAPTURE``: every call, what the rules found, in the format asked for."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import TextIO

from sipdiag.analysis import Analysis, MessageReader, analyze
from sipdiag.analysis.cluster import analyze_on
from sipdiag.analysis.decryption import decrypt
from sipdiag.analysis.model import with_ladders
from sipdiag.capture.source import expand_urls
from sipdiag.cli.cluster import ClusterError, cluster_address, dask_client
from sipdiag.cli.common import Environment, ExitStatus, judging_engine, language, selection_of
from sipdiag.cli.progress import progress_bar
from sipdiag.cli.stir import with_certificates
from sipdiag.dialogs.select import Ladders, Selection, TimePoint, user_text
from sipdiag.evidence.export import export_each
from sipdiag.network.tls import Decryption
from sipdiag.report.reporters import Format, Settings, reporter
from sipdiag.rules import Engine
from sipdiag.rules.model import Finding, reaches
from sipdiag.store import results_for_out


def run(args: argparse.Namespace, env: Environment) -> int:
    if args.export is not None and "-" in map(str, args.capture):
        env.stderr.write("sipdiag: error: --export reads the capture again: give a file, not "
                         "standard input\n")
        return ExitStatus.ERROR
    engine = judging_engine(args, env)
    if args.stir_certs is not None:
        engine = with_certificates(engine, args.stir_certs)
    lang = language(args, env.environ)
    selection = selection_of(args, engine.rules)
    shown = ladders(args)
    page_wanted = args.html is not None or args.format == Format.HTML
    decryption = decrypt(args.capture, args.tls_keylog)
    kept = Ladders.ALL if page_wanted or args.out else shown  # results kept whole
    results = results_for_out(args.out) if args.out else None
    address = cluster_address(args.dask, env.environ)
    if address is not None:
        analysis = _on_cluster(args, env, address, engine, selection, kept, decryption)
    else:
        args.capture = expand_urls(args.capture)
        with progress_bar(env.stderr, environ=env.environ, enabled=not args.quiet) as progress:
            analysis = analyze(args.capture, stdin=env.stdin, progress=progress, engine=engine,
                               selection=selection, ladders=kept, jobs=args.jobs,
                               decryption=decryption, headers=args.keep_header)
    unmatched = nothing_matched(args, selection, found=any(True for _ in analysis.calls)
                                or any(True for _ in analysis.exchanges))
    if unmatched:
        env.stderr.write(f"sipdiag: error: {unmatched}\n")
        return ExitStatus.ERROR
    page, analysis = analysis, with_ladders(analysis, shown)  # the page draws every call
    settings = Settings(engine.catalog, lang, fail_on=args.fail_on, wide=args.wide,
                        no_color=args.no_color, sources=args.sources, environ=env.environ)
    reporter(args.format, settings).analysis(page if args.format == Format.HTML else analysis,
                                             env.stdout)
    if args.html and not write_html(args.html, page, settings, env.stderr):
        return ExitStatus.ERROR
    if results is not None:
        results.write(page, args.capture, engine.rules.shared(), args.keep_header)
    if args.export:
        written = export_each(analysis, args.capture, args.export, decryption)
        env.stderr.write(f"sipdiag: wrote {len(written)} captures in {args.export}\n")
    return exit_status(analysis.findings, args.fail_on)


def _on_cluster(args: argparse.Namespace, env: Environment, address: str, engine: Engine,
                selection: Selection, ladders: Ladders,
                decryption: Decryption | None) -> Analysis:
    """The analysis on the Dask cluster of ``--dask``; the captures it could not read are
    named on stderr, and left out."""
    if "-" in args.capture:
        raise ClusterError("--dask reads the captures where they lie: give files or URLs, "
                           "not standard input")
    with dask_client(address) as client:
        run = analyze_on(client, args.capture, engine=engine, selection=selection,
                         ladders=ladders, decryption=decryption, headers=args.keep_header)
    env.stderr.writelines(f"sipdiag: skipped {why}\n" for why in run.unreadable)
    args.capture = list(run.captures)
    return run.analysis


def nothing_matched(args: argparse.Namespace, selection: Selection, *,
                    found: bool) -> str | None:
    """When calls were chosen by what names them (--call, --user, --ip, --since, --until) and
    nothing matched: a mistake to say, with the nearest Call-IDs, users or addresses the
    capture has. (--failed alone matching nothing is good news, not a mistake.)"""
    if replace(selection, failing_only=False, rules=()).everything:
        return None  # only --failed or --rule: finding nothing is good news
    if found:
        return None
    asked = [f"{option} {value}" for option, values in (
        ("--call", args.call), ("--user", args.user), ("--ip", args.ip)) for value in values]
    asked += [f"{option} {_time_text(point)}" for option, point in (
        ("--since", args.since), ("--until", args.until)) if point is not None]
    text = f"no call or exchange matches {', '.join(asked)}"
    if "-" in map(str, args.capture):  # standard input cannot be read again for suggestions
        return text
    names = names_in(args.capture)
    for wanted, kind in ((args.call, "Call-IDs"), (args.user, "users"), (args.ip, "addresses")):
        near = sorted({n for w in wanted for n in get_close_matches(w, names[kind], 3, 0)})
        if near:
            text += f"; the nearest {kind} in the capture: {', '.join(near)}"
    return text


def _time_text(point: TimePoint) -> str:
    if point.relative:
        return f"+{point.ns / 1e9:g}"
    return datetime.fromtimestamp(point.ns / 1e9, UTC).isoformat()


def names_in(capture: list[str]) -> dict[str, set[str]]:
    """The Call-IDs, the users of From, To and Request-URI, and the addresses of a capture."""
    names: dict[str, set[str]] = {"Call-IDs": set(), "users": set(), "addresses": set()}
    for message in MessageReader(capture):
        names["Call-IDs"].add(message.call_id)
        uris = [message.request_uri] if message.method else []
        uris += [found.uri for found in map(message.name_addr, ("from", "to")) if found]
        names["users"].update(filter(None, user_text(*uris).split()))
        names["addresses"].update((message.src.ip, message.dst.ip))
    return names


def ladders(args: argparse.Namespace) -> Ladders:
    """--ladder draws failing calls, or the chosen ones; --call alone draws the chosen ones."""
    if args.ladder:
        return Ladders.ALL if args.call else Ladders.FAILING
    return Ladders.ALL if args.call else Ladders.NONE


def write_html(path: Path, analysis: Analysis, settings: Settings, stderr: TextIO) -> bool:
    try:
        with path.open("w", encoding="utf-8", newline="\n") as out:
            reporter(Format.HTML, settings).analysis(analysis, out)
    except OSError as exc:
        stderr.write(f"sipdiag: error: cannot write {path}: {exc.strerror or exc}\n")
        return False
    return True


def exit_status(findings: Iterable[Finding], fail_on: str) -> int:
    serious = any(reaches(f.severity, fail_on) for f in findings)
    return ExitStatus.FINDINGS if serious else ExitStatus.OK
