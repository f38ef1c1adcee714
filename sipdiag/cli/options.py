"""The parser: every command, its options, and the types that check their values."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sipdiag import __version__
from sipdiag.dialogs.select import TimePoint
from sipdiag.report.reporters import MAX_LADDERS, Format, Product, formats_of
from sipdiag.rules.model import SEVERITIES
from sipdiag.rules.text import LANGUAGES

if TYPE_CHECKING:
    from sipdiag.capture.live import Listen
    from sipdiag.capture.writer import Rotation

SUBCOMMANDS = ("analyze", "messages", "rules", "explain", "translations", "check", "audio", "live",
               "listen", "ui", "export", "redact", "report", "stats")
PROGRAM_OPTIONS = ("-h", "--help", "--version")
"""The options of sipdiag itself, before any command; every other option is the analysis's."""
CAPTURE_HELP = (
    "pcap, pcapng, ERF or NetMon file (gzip, bzip2, xz ok); - for standard input; several "
    "files or a folder of them are read as one capture, frames merged in time order"
)


class Parser(argparse.ArgumentParser):
    """Writes to the Environment's streams, not the process's: what was asked for (``--help``,
    ``--version``) to its stdout, usage errors to its stderr."""

    stdout: TextIO | None = None
    stderr: TextIO | None = None

    def _print_message(self, message: str, file: object = None) -> None:
        if not message:
            return
        asked = file is None or file is sys.stdout  # argparse names sys.stderr for errors
        (self.stdout or sys.stdout).write(message) if asked else \
            (self.stderr or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sipdiag",
        description="Read SIP signalling from packet captures and explain what went wrong.",
        epilog="Exit codes: 0 success; 1 findings at or above --fail-on (check: an expectation "
        "not met); 2 usage error, unreadable input or a broken rule or expectations file; "
        "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"sipdiag {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add_analyze(commands.add_parser(
        "analyze", help="what happened in each call (the default: sipdiag CAPTURE)"))
    _add_messages(commands.add_parser("messages", help="list every SIP message of a capture"))
    _add_rules(commands.add_parser("rules", help="list every rule sipdiag applies"))
    _add_explain(commands.add_parser(
        "explain",
        help="explain a SIP response code, compare two, or show a rule",
        description="ITEM is a response code (481), a rule (D101 or bye-answered-481), "
        "q850:CAUSE or warning:CODE. Two response codes are compared side by side.",
    ))
    _add_translations(commands.add_parser(
        "translations", help="list the texts that have no translation in a language"))
    _add_check(commands.add_parser(
        "check",
        help="check the calls of a capture against an expectations file (for CI)",
        description="Exit codes: 0 every expectation met; 1 an expectation not met; 2 usage "
        "error, unreadable capture, or a broken expectations or rule file.",
    ))
    _add_audio(commands.add_parser(
        "audio",
        help="write what each side of a call heard as WAV files (G.711 streams)",
        description="Each G.711 stream of the call (PCMU, PCMA) as a WAV file, 8000 Hz 16-bit "
        "mono, silent where packets were lost. Exit codes: 0 written; 2 usage error, an "
        "unreadable capture, no such call, no G.711 stream, or a folder that cannot be "
        "written.",
    ))
    _add_live(commands.add_parser(
        "live",
        help="capture from a network interface and judge each call as it ends",
        description="Each call or exchange is printed as one line as soon as it is over; "
        "Ctrl-C, SIGTERM or --duration stops, and --report writes the report of everything seen. "
        "Needs the right to capture (root, or CAP_NET_RAW). Exit codes as for analyze.",
    ))
    _add_listen(commands.add_parser(
        "listen",
        help="receive HEP (v2, v3) from capture agents and judge each call as it ends",
        description="The SIP that agents (heplify, Kamailio or OpenSIPS siptrace, FreeSWITCH, "
        "Asterisk res_hep) send, with their original addresses and times, analysed as a "
        "capture is. Each call is printed as one line as soon as it is over; Ctrl-C, "
        "SIGTERM or --duration stops, and --report writes the report of everything seen. Exit "
        "codes as for analyze.",
    ))
    _add_ui(commands.add_parser(
        "ui",
        help="browse the calls of a capture in an interactive terminal UI",
        description="The calls and exchanges as they are judged, sortable and filtered; Enter "
        "opens a call (its ladder, findings, media, linked calls, each message as captured); "
        "? lists the keys. Needs: pip install 'sipdiag[ui]'. Exit codes: 0 quit; 2 usage "
        "error, an unreadable capture, or Textual not installed.",
    ))
    _add_export(commands.add_parser(
        "export",
        help="write the frames of chosen calls (SIP, media, linked legs) as a pcapng capture",
        description="Every frame of the calls chosen (their SIP messages with every IP fragment "
        "and TCP segment they came in, the TCP handshakes, their RTP and RTCP), calls linked to "
        "them included, as captured: original times and link types. Exit codes: 0 written; 2 "
        "usage error, an unreadable capture, no call chosen, or a file that cannot be written.",
    ))
    _add_redact(commands.add_parser(
        "redact",
        help="write a copy of a capture with numbers, names, addresses and credentials replaced",
        description="Each identifier is replaced by a pseudonym from a keyed hash: the same "
        "number, name or address always gets the same pseudonym, so the calls still read. "
        "Lengths and checksums are recomputed. Exit codes: 0 written; 2 usage error, an "
        "unreadable capture, or a file that cannot be written.",
    ))
    _add_report(commands.add_parser(
        "report",
        help="the report of results kept with --out, without reading the captures again",
        description="The same reports as sipdiag CAPTURE (terminal, JSON, JUnit, Markdown, "
        "HTML) from a results folder or URL written by sipdiag CAPTURE --out RESULTS; "
        "--since and --until read only the hours they need. Exit codes as for analyze.",
    ))
    _add_stats(commands.add_parser(
        "stats",
        help="ASR, NER, post-dial delay and the top findings per hour, trunk or day, from "
        "results kept with --out",
        description="Figures per group of calls of a results folder or URL written by "
        "sipdiag CAPTURE --out RESULTS. Exit codes: 0 printed; 2 usage error or results "
        "that cannot be read.",
    ))
    return parser


def _add_report(command: argparse.ArgumentParser) -> None:
    command.add_argument("results", metavar="RESULTS",
                         help="a results folder, or an fsspec URL (s3://bucket/results)")
    command.add_argument(
        "--format", choices=formats_of(Product.ANALYSIS), default=Format.TERMINAL.value,
        help="tables for people (default), one JSON document, JUnit XML, Markdown, or one "
        "HTML page")
    _add_fail_on(command)
    _add_ladder_and_page(command)
    command.add_argument("--sources", action="store_true",
                         help="after the findings, the table of every address requests came "
                         "from (as sipdiag CAPTURE --sources)")
    command.add_argument("--wide", action="store_true",
                         help="every column of the call list even on a narrow terminal")
    _add_selection(command)
    _add_rules_folders(command)
    _add_output(command)


STATS_GROUPS = ("hour", "day", "trunk", "source")


def _add_stats(command: argparse.ArgumentParser) -> None:
    command.add_argument("results", metavar="RESULTS",
                         help="a results folder, or an fsspec URL (s3://bucket/results)")
    command.add_argument("--by", type=stats_groups, default=("hour",), metavar="GROUP,...",
                         help="group calls by any of: hour, day (of the call's start, UTC), "
                         "trunk (see --trunk), source (the address the first INVITE came "
                         "from); default: hour")
    command.add_argument("--trunk", default="dst", metavar="dst|src|header:NAME",
                         help="what names a call's trunk: the address its INVITE was last "
                         "sent to (dst, the default), the address it came from (src), or a "
                         "header of the INVITE kept with --keep-header (header:X-Trunk)")
    command.add_argument("--since", type=time_point, metavar="TIME",
                         help="only calls started at or after this time (ISO 8601, UTC; or "
                         "+SECONDS from the first frame of the earliest run)")
    command.add_argument("--until", type=time_point, metavar="TIME",
                         help="only calls started before this time (as --since)")
    command.add_argument("--top", type=int, default=3, metavar="N",
                         help="the most frequent findings shown per group (default: 3)")
    command.add_argument("--format", choices=("text", "json", "csv"), default="text",
                         help="a table for people (default), JSON, or CSV")
    _add_rules_folders(command)
    _add_output(command)


def stats_groups(text: str) -> tuple[str, ...]:
    groups = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [group for group in groups if group not in STATS_GROUPS]
    if unknown or not groups:
        raise argparse.ArgumentTypeError(
            f"{text!r}: group by any of {', '.join(STATS_GROUPS)}, separated by commas")
    return groups


def _add_ui(command: argparse.ArgumentParser) -> None:
    command.add_argument("capture", nargs="+", help=CAPTURE_HELP)
    _add_tls_keylog(command)
    _add_judging(command)
    _add_output(command)


def _add_live(command: argparse.ArgumentParser) -> None:
    command.add_argument("-i", "--interface", required=True, metavar="IFACE",
                         help="the interface to capture on (any: every interface)")
    command.add_argument("filter", nargs="*", metavar="FILTER",
                         help="a capture filter in tcpdump's syntax (port 5060 or portrange "
                         "10000-20000), compiled by tcpdump; default: every IP packet")
    _add_live_outputs(command)


def _add_listen(command: argparse.ArgumentParser) -> None:
    command.add_argument("--hep", type=listen_address, required=True, metavar="ADDRESS",
                         help="where to listen: udp:HOST:PORT or tcp:HOST:PORT (HEP3 over TCP), "
                         "as in udp:0.0.0.0:9060")
    command.add_argument("--hep-password", metavar="PASSWORD",
                         help="accept only HEP3 packets carrying this authentication key; "
                         "the others are counted and reported")
    _add_live_outputs(command)


def _add_live_outputs(command: argparse.ArgumentParser) -> None:
    command.add_argument("--format", choices=("text", "jsonl"), default="text",
                         help="each finished call as a line of text (default) or of JSON; on "
                         "a terminal, with neither --format jsonl nor --report, the calls open "
                         "in the terminal UI (sipdiag ui) instead")
    command.add_argument("--no-ui", action="store_true",
                         help="lines of text even on a terminal")
    command.add_argument("-w", "--write", type=writable_file, metavar="FILE.pcapng",
                         help="keep every frame analysed in this pcapng file")
    command.add_argument("--rotate", type=rotation, metavar="SIZE|TIME",
                         help="with -w: start a new file at this size or age (100MB, 1GB, "
                         "15m, 1h), named FILE_00001_YYYYMMDDHHMMSS.pcapng")
    command.add_argument("--duration", type=seconds, metavar="SECONDS",
                         help="stop after this many seconds (default: at Ctrl-C or SIGTERM)")
    command.add_argument("--drop", action="store_true",
                         help="forget each call once its line is printed (for captures that "
                         "run for days): the report at the end has the counts only")
    command.add_argument("--report", choices=formats_of(Product.ANALYSIS),
                         help="at the end, the report of everything seen in this format "
                         "(default: none)")
    command.add_argument("--report-file", type=writable_file, metavar="FILE",
                         help="write that report to this file instead of standard output")
    _add_fail_on(command)
    _add_selection(command, call_help="only this call", by_time=False)
    command.add_argument("-q", "--quiet", action="store_true",
                         help="nothing on standard error but errors")
    _add_judging(command)
    _add_output(command)


def listen_address(text: str) -> Listen:
    from sipdiag.capture.live import Listen  # sockets: only for the command that listens

    try:
        return Listen.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def rotation(text: str) -> Rotation:
    from sipdiag.capture.writer import parse_rotation

    try:
        return parse_rotation(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds(text: str) -> float:
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < 1e9:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0")
    return value


def _add_audio(command: argparse.ArgumentParser) -> None:
    command.add_argument("capture", nargs="+", help=CAPTURE_HELP)
    _add_tls_keylog(command)
    command.add_argument("--call", required=True, metavar="CALL_ID", help="the call to hear")
    command.add_argument("-o", "--output", type=writable_folder, required=True, metavar="DIR",
                         help="the folder to write the WAV files in (made if need be)")


def _add_analyze(command: argparse.ArgumentParser) -> None:
    _add_capture(command)
    command.add_argument(
        "--format", choices=formats_of(Product.ANALYSIS), default=Format.TERMINAL.value,
        help="tables for people (default), one JSON document, JUnit XML for CI test reports, "
        "Markdown for a ticket, or one HTML page",
    )
    _add_fail_on(command)
    _add_ladder_and_page(command)
    _add_judging(command)
    command.add_argument(
        "--stir-certs", type=folder, metavar="DIR",
        help="verify the STIR/SHAKEN signature of each Identity header with the PEM "
        "certificates of this folder (.pem, .crt, .cer): the file the PASSporT's x5u names, "
        "else every one; the x5u is never fetched. Needs: pip install 'sipdiag[stir]'",
    )
    _add_selection(command)
    command.add_argument(
        "--export", type=writable_folder, metavar="DIR",
        help="also write the frames of each selected call as a capture in this folder (as "
        "sipdiag export --split)",
    )
    command.add_argument(
        "--sources", action="store_true",
        help="after the findings, a table of every address requests came from: what it sent, "
        "to how many users, what came back, when, and the security rules that named it "
        "(the JSON report always has it)",
    )
    command.add_argument(
        "--wide", action="store_true",
        help="every column of the call list (PDD, answer and talk time, legs, retransmissions, "
        "every finding) even when the terminal is too narrow for it; by default a narrow "
        "terminal gets one line per call",
    )
    command.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_results(command)
    _add_output(command)


def _add_results(command: argparse.ArgumentParser) -> None:
    """Where the analysis runs and where its results are kept."""
    group = command.add_argument_group("many captures, many machines")
    group.add_argument(
        "--dask", metavar="ADDRESS|local[:N]", default=None,
        help="analyse on a Dask cluster: the address of its scheduler (tcp://host:8786), or "
        "local[:N] for a cluster of N processes on this machine (default: SIPDIAG_DASK if "
        "set). Captures may be fsspec URLs (s3://bucket/day/*.pcap.gz). The result is the "
        "same as one process's. Needs: pip install 'sipdiag[dask]'")
    group.add_argument(
        "--out", metavar="RESULTS",
        help="also keep the calls, exchanges, findings, links and media streams as a Parquet "
        "dataset in this folder or fsspec URL, partitioned by day and hour of each call's "
        "start (sipdiag report, sipdiag stats, DuckDB read it); a new run adds its files. "
        "Needs: pip install 'sipdiag[dask]'")
    group.add_argument(
        "--keep-header", action="append", default=[], metavar="NAME",
        help="with --out: also keep this header of each call's INVITE (repeatable), e.g. "
        "X-Trunk, for sipdiag stats --trunk header:X-Trunk")


def _add_ladder_and_page(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--ladder", action="store_true",
        help="draw the ladder diagram of every failing call (with --call: of those calls)",
    )
    command.add_argument(
        "--html", type=writable_file, metavar="FILE",
        help="also write the report as one self-contained HTML page, with the ladder diagram "
        f"of every selected call (the first {MAX_LADDERS})",
    )


def _add_messages(command: argparse.ArgumentParser) -> None:
    _add_capture(command)
    command.add_argument(
        "--format", choices=("table", "jsonl"), default="table",
        help="a table for people (default) or one JSON object per line",
    )
    command.add_argument(
        "--count", action="store_true", help="only count the messages by method and status"
    )
    _add_output(command)


def _add_rules(command: argparse.ArgumentParser) -> None:
    _add_rules_folders(command)
    _add_output(command)


def _add_explain(command: argparse.ArgumentParser) -> None:
    command.add_argument("items", nargs="+", metavar="ITEM")
    _add_rules_folders(command)
    _add_output(command)


def _add_translations(command: argparse.ArgumentParser) -> None:
    _add_rules_folders(command)
    _add_output(command)


def _add_check(command: argparse.ArgumentParser) -> None:
    command.add_argument("capture", nargs="+", help=CAPTURE_HELP)
    _add_jobs(command)
    _add_tls_keylog(command)
    command.add_argument("--expect", type=Path, required=True, metavar="FILE",
                         help="the expectations, a YAML file (see the README)")
    command.add_argument("--format", choices=formats_of(Product.VERDICT),
                         default=Format.TERMINAL.value,
                         help="a table for people (default), a JSON document, or JUnit XML")
    _add_judging(command)
    _add_output(command)


def _add_capture(command: argparse.ArgumentParser) -> None:
    command.add_argument("capture", nargs="+", help=CAPTURE_HELP)
    _add_jobs(command)
    _add_tls_keylog(command)


def _add_tls_keylog(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--tls-keylog", type=readable_file, metavar="FILE",
        help="decrypt SIP over TLS (and WSS) with the secrets of this key log (the NSS format "
        "of SSLKEYLOGFILE); secrets embedded in a pcapng are used too. Needs tshark",
    )


def _add_export(command: argparse.ArgumentParser) -> None:
    command.add_argument("capture", nargs="+", help=CAPTURE_HELP)
    _add_tls_keylog(command)
    target = command.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", type=writable_file, metavar="FILE.pcapng",
                        help="one capture holding every call chosen")
    target.add_argument("--split", type=writable_folder, metavar="DIR",
                        help="one capture per call, named by its start time and Call-ID "
                        "(the folder is made if need be)")
    command.add_argument("--sip-only", action="store_true",
                         help="only the SIP, not the media")
    _add_selection(command, call_help="this call")
    _add_redaction(command, "--redact", "also redact the capture written (as sipdiag redact)")
    _add_judging(command)
    command.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")


def _add_redact(command: argparse.ArgumentParser) -> None:
    command.add_argument("capture", nargs="+", help=CAPTURE_HELP)
    command.add_argument("-o", "--output", type=writable_file, required=True,
                         metavar="FILE.pcapng", help="the redacted capture to write")
    _add_redaction(command)
    command.add_argument("-q", "--quiet", action="store_true",
                         help="no list of what was replaced on stderr")


def _add_redaction(command: argparse.ArgumentParser, switch: str | None = None,
                   switch_help: str = "") -> None:
    """The redaction's options; ``switch``: the option that turns redaction on (export)."""
    group = command.add_argument_group("redaction")
    if switch:
        group.add_argument(switch, action="store_true", help=switch_help)
    key = group.add_mutually_exclusive_group()
    key.add_argument("--key", metavar="TEXT",
                     help="the secret the pseudonyms are derived from: captures redacted with "
                     "the same key keep the same pseudonyms (default: a new random key)")
    key.add_argument("--key-file", type=readable_file, metavar="FILE",
                     help="read the key from this file (its first line)")
    group.add_argument("--show-key", action="store_true",
                       help="print the key used on stderr (to redact more captures alike)")
    group.add_argument("--drop-audio", action="store_true",
                       help="also replace the payload of every RTP packet with zeros")


def readable_file(text: str) -> Path:
    """An input file other than a capture (a key log, a key), checked before the analysis."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text}: not allowed to read it")
    return path


def _add_jobs(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "-j", "--jobs", type=job_count, default=0,
        help="processes to read with, at most one per core (default: one per core for large "
        "files)",
    )


def job_count(text: str) -> int:
    """A number of processes: at least 1, at most the machine's cores (more would only wait)."""
    try:
        count = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from exc
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count} processes: give 1 or more")
    return min(count, os.cpu_count() or 1)


def writable_file(text: str) -> Path:
    """An output file, checked before the analysis: its folder exists and can be written in."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} does not exist")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: not allowed to write it")
    return path


def folder(text: str) -> Path:
    """An existing folder to read."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return path


def writable_folder(text: str) -> Path:
    """An output folder, made if need be: checked before the analysis."""
    path = Path(text)
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {existing} is not a folder")
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: not allowed to write in {existing}")
    return path


def _add_output(command: argparse.ArgumentParser) -> None:
    command.add_argument("--no-color", action="store_true", help="plain text, no colours")
    command.add_argument(
        "--lang", choices=LANGUAGES,
        help="the language of the explanations and the report (default: from LC_ALL, "
        "LC_MESSAGES or LANG, else English)",
    )


def _add_rules_folders(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--rules", action="append", type=Path, default=[], metavar="DIR",
        help="a folder of your own rule files, besides the built-in ones (repeatable)",
    )


def _add_judging(command: argparse.ArgumentParser) -> None:
    """The options of a command that runs the rules on calls."""
    _add_rules_folders(command)
    command.add_argument(
        "--home-cc", type=country_code, metavar="CC",
        help="the home country code (44, 1, ...): a number in E.164 form with another country "
        "code is international, and national numbers match the premium prefixes (toll fraud "
        "rules S106, S112); 00 and 011 are international whatever it is",
    )


def country_code(text: str) -> str:
    from sipdiag.rules.checks.numbers import home_country_code

    try:
        return home_country_code(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_fail_on(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--fail-on", choices=(*SEVERITIES, "never"), default="error",
        help="exit with 1 when a finding is at least this severe (default: error)",
    )


def _add_selection(command: argparse.ArgumentParser, *,
                   call_help: str = "only this call (and draw its ladder)",
                   by_time: bool = True) -> None:
    """The options that choose calls; ``by_time``: --since and --until too (a capture file's
    times; a live capture's calls are all of now)."""
    group = command.add_argument_group("choosing calls (each option can be repeated)")
    group.add_argument("--call", action="append", default=[], metavar="CALL_ID", help=call_help)
    group.add_argument("--user", "--number", action="append", default=[], metavar="USER",
                       help="only calls whose From, To or Request-URI user contains this")
    group.add_argument("--ip", action="append", default=[], type=ip_address, metavar="ADDRESS",
                       help="only calls with a message from or to this address")
    if by_time:
        group.add_argument("--since", type=time_point, metavar="TIME",
                           help="only calls still going at this time: 2024-05-01T10:00:00 "
                           "(UTC) or +SECONDS from the first frame")
        group.add_argument("--until", type=time_point, metavar="TIME",
                           help="only calls started by this time (same forms as --since)")
    group.add_argument("--failed", action="store_true",
                       help="only failing calls: a warning or error, or a failed outcome")
    group.add_argument("--rule", action="append", default=[], metavar="RULE",
                       help="only calls with a finding of this rule (D104, or its name)")


def ip_address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from exc


def time_point(text: str) -> TimePoint:
    """``+12.5`` (seconds from the first frame) or an ISO 8601 time (UTC unless it says)."""
    if text.startswith("+"):
        try:
            seconds = float(text[1:].removesuffix("s"))
            return TimePoint(round(seconds * 1e9), relative=True)
        except (ValueError, OverflowError) as exc:  # not a number, nan, inf
            raise argparse.ArgumentTypeError(f"{text!r} is not +SECONDS") from exc
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like 2024-05-01T10:00:00 or +SECONDS") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return TimePoint(round(when.timestamp() * 1_000_000) * 1000)
