"""``sipdiag live -i IFACE [FILTER]`` and ``sipdiag listen --hep udp:HOST:PORT``.

Both analyse packets as they arrive: each call or exchange is judged as soon as it is over and
printed as one line (text, or JSON with ``--format jsonl``), flushed at once so that a log
pipeline sees it. Ctrl-C, SIGTERM or ``--duration`` ends the capture; the calls still open are
judged, and the report of everything seen (``--report``) is written, as ``sipdiag CAPTURE``
writes it. ``-w`` keeps every frame analysed in a pcapng file (rotated with ``--rotate``), so
the run can be analysed again, or handed on, from the file.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from sipdiag.analysis import Analysis, Result, analyze_live
from sipdiag.analysis.sources import HepFrames
from sipdiag.capture import CaptureError
from sipdiag.capture.live import ForkedSource, InterfaceSource, LiveReader, PacketSource
from sipdiag.capture.writer import PcapngWriter
from sipdiag.cli.analyze import exit_status
from sipdiag.cli.common import Environment, ExitStatus, judging_engine, language, selection_of
from sipdiag.report.lines import LineFormat, line
from sipdiag.report.reporters import Settings, reporter
from sipdiag.rules import Engine
from sipdiag.rules.catalog import Catalog


def run_live(args: argparse.Namespace, env: Environment) -> int:
    bpf = " ".join(args.filter) or None
    source = InterfaceSource(args.interface, bpf)
    _say_started(source.name, args, env)
    return _run(ForkedSource(source), args, env)


def run_listen(args: argparse.Namespace, env: Environment) -> int:
    password = args.hep_password.encode() if args.hep_password is not None else None
    source = HepFrames(args.hep, password)
    _say_started(f"{source.name} (port {source.address[1]})", args, env)
    return _run(ForkedSource(source), args, env)


def _say_started(what: str, args: argparse.Namespace, env: Environment) -> None:
    """One line on standard error once packets are being taken (a script can wait for it)."""
    if not args.quiet:
        env.stderr.write(f"sipdiag: {what}\n")
        env.stderr.flush()


def _run(source: PacketSource, args: argparse.Namespace, env: Environment) -> int:
    engine = judging_engine(args, env)
    lang = language(args, env.environ)
    if _wants_ui(args, env):
        return _run_ui(source, args, engine, lang)
    selection = selection_of(args, engine.rules)
    writer = PcapngWriter(args.write, rotate=args.rotate) if args.write else None
    capture = LiveReader(source, writer=writer,
                         duration_ns=round(args.duration * 1e9) if args.duration else None)
    print_line = _printer(LineFormat(args.format), engine.catalog, lang, capture, env)
    try:
        with _stopped_by_signals(capture.stop):
            analysis = analyze_live(capture, engine=engine, selection=selection,
                                    on_result=print_line, keep=not args.drop)
    finally:
        if writer is not None:
            writer.close()
    _report(analysis, args, Settings(engine.catalog, lang, fail_on=args.fail_on,
                                     no_color=args.no_color, environ=env.environ), env)
    if writer is not None and not args.quiet:
        env.stderr.write(f"sipdiag: wrote {', '.join(map(str, writer.written_files))}\n")
    return exit_status(analysis.findings, args.fail_on)


def _wants_ui(args: argparse.Namespace, env: Environment) -> bool:
    """On a terminal, with no other output asked for and Textual installed: the UI."""
    from sipdiag.cli.ui import has_textual

    plain = args.format == "text" and args.report is None and not args.no_ui
    return plain and env.stdout.isatty() and has_textual()


def _run_ui(source: PacketSource, args: argparse.Namespace, engine: Engine, lang: str) -> int:
    """The calls in the terminal UI as they end; the frames kept in ``-w``'s file, or in a
    temporary one while the UI runs (it reads messages again from there)."""
    from sipdiag.ui.app import SipdiagApp
    from sipdiag.ui.live import LiveCapture

    with tempfile.TemporaryDirectory(prefix="sipdiag-live-") as folder:
        target = args.write or Path(folder) / "live.pcapng"
        writer = PcapngWriter(target, rotate=args.rotate if args.write else None)
        capture = LiveReader(source, writer=writer,
                             duration_ns=round(args.duration * 1e9) if args.duration else None)
        try:
            SipdiagApp(LiveCapture(capture, writer, source.name), engine, lang).run()
        finally:
            capture.stop()
            writer.close()
    return ExitStatus.OK


def _printer(form: LineFormat, catalog: Catalog, lang: str, capture: LiveReader,
             env: Environment) -> Callable[[Result], None]:
    def print_line(result: Result) -> None:
        env.stdout.write(line(result, form, catalog, capture.first_ts_ns or 0, lang) + "\n")
        env.stdout.flush()

    return print_line


def _report(analysis: Analysis, args: argparse.Namespace, settings: Settings,
            env: Environment) -> None:
    if args.report is None:
        return
    if args.report_file is None:
        reporter(args.report, settings).analysis(analysis, env.stdout)
        return
    try:
        with args.report_file.open("w", encoding="utf-8", newline="\n") as out:
            reporter(args.report, settings).analysis(analysis, out)
    except OSError as exc:
        raise CaptureError(f"cannot write {args.report_file}: {exc.strerror or exc}") from None


@contextmanager
def _stopped_by_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Ctrl-C and SIGTERM end the capture (the calls seen are still judged and reported)
    instead of the program; a second one ends the program (exit 130). The handlers before are
    put back after."""

    asked: list[bool] = []

    def handler(_signum: int, _frame: FrameType | None) -> None:
        if asked:  # asked twice: stop now, without judging what is left
            raise KeyboardInterrupt
        asked.append(True)
        stop()

    before = {number: signal.signal(number, handler)
              for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, previous in before.items():
            signal.signal(number, previous)
