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
process's own (httpie's Environment pattern). One module per command: ``analyze``, ``messages``,
``check``, ``catalog`` (rules, explain, translations), ``audio``; ``options`` builds the parser.
"""

from __future__ import annotations

import errno
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from sipdiag.capture import CaptureError
from sipdiag.cli.common import Environment, ExitStatus, UnknownRule, capture_files, os_environ
from sipdiag.cli.options import PROGRAM_OPTIONS, SUBCOMMANDS, Parser, build_parser
from sipdiag.rules.yamlfile import DataError

COMMANDS: dict[str, tuple[str, str]] = {
    "analyze": ("analyze", "run"),
    "messages": ("messages", "run"),
    "rules": ("catalog", "run_rules"),
    "explain": ("catalog", "run_explain"),
    "translations": ("catalog", "run_translations"),
    "check": ("check", "run"),
    "audio": ("audio", "run"),
    "live": ("live", "run_live"),
    "listen": ("live", "run_listen"),
    "ui": ("ui", "run"),
    "export": ("export", "run"),
    "redact": ("redact", "run"),
    "report": ("report", "run"),
    "stats": ("stats", "run"),
}
"""Each command's module in sipdiag.cli and its function: imported when the command runs, so
that a run loads only what its command needs (start-up counts when CI runs sipdiag on
thousands of one-call captures)."""


def command(name: str) -> Callable[..., int]:
    module, function = COMMANDS[name]
    run: Callable[..., int] = getattr(importlib.import_module(f"sipdiag.cli.{module}"), function)
    return run


def program() -> int:
    """The ``sipdiag`` program: ``main`` on the process's own arguments and streams, with the
    cyclic garbage collector run less often than Python's default. An analysis makes and frees
    containers by the million, freed as their last reference goes; each collection of the
    oldest generation walks every live object (12% of a run on 150,000 packets, more as the
    calls kept grow). Only objects in cycles wait longer to be freed."""
    gc.set_threshold(*GC_THRESHOLDS)
    return main()


GC_THRESHOLDS = (50_000, 20, 100)
"""Allocations before a young collection, and collections before an older one (Python's
default: 700, 10, 10)."""


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment(environ=os_environ())
    args_list = with_command(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    Parser.stdout, Parser.stderr = env.stdout, env.stderr
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return ExitStatus.ERROR
    try:
        if hasattr(args, "capture"):
            args.capture, skipped = capture_files(args.capture)
            env.stderr.writelines(f"sipdiag: skipped {why}\n" for why in skipped)
        return command(args.command)(args, env)
    except (CaptureError, DataError, UnknownRule) as exc:
        env.stderr.write(f"sipdiag: error: {exc}\n")
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:  # the reader of the report left (sipdiag X | head): end quietly
        _silence(env.stdout)
        return ExitStatus.OK
    except OSError as exc:
        if exc.errno not in OUTPUT_FAILURES:
            raise
        env.stderr.write(f"sipdiag: error: {exc.strerror or exc}"
                         f"{f': {exc.filename}' if exc.filename else ''}\n")
        return ExitStatus.ERROR


OUTPUT_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})
"""Why a report could not be written (a full disk or quota, a file too large, a device
error): one line and exit 2, like any input that cannot be read."""


def _silence(stream: TextIO) -> None:
    """Point a closed pipe's file descriptor at /dev/null, so that Python's last flush of it
    on exit does not fail again."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):  # not a file (a test's StringIO): nothing is flushed later
        return
    os.dup2(os.open(os.devnull, os.O_WRONLY), descriptor)


def with_command(argv: list[str]) -> list[str]:
    """``sipdiag [OPTIONS] CAPTURE...`` is ``sipdiag analyze [OPTIONS] CAPTURE...``: the
    command is named unless the arguments start with one, or ask the program itself for its
    help or version (``sipdiag --help``)."""
    if not argv or argv[0] in SUBCOMMANDS or argv[0] in PROGRAM_OPTIONS:
        return argv
    return ["analyze", *argv]


__all__ = ["Environment", "ExitStatus", "main"]
