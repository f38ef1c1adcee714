"""What every command shares: its streams, exit statuses, the reader's language, the console."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from sipdiag.capture import CaptureError
from sipdiag.dialogs.select import Selection
from sipdiag.rules.text import BASE_LANGUAGE, LANGUAGES

if TYPE_CHECKING:
    from rich.console import Console

    from sipdiag.rules import Engine
    from sipdiag.rules.loader import RuleSet


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


def os_environ() -> Mapping[str, str]:
    return os.environ


LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
"""In POSIX order of precedence: the first one set decides."""


def language(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """``--lang``, else the locale (``ko_KR.UTF-8`` -> ``ko``), else English."""
    if getattr(args, "lang", None):
        return str(args.lang)
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable)
        if value:
            tag = value.split(".")[0].split("@")[0].split("_")[0].lower()
            return tag if tag in LANGUAGES else BASE_LANGUAGE
    return BASE_LANGUAGE


def console(args: argparse.Namespace, env: Environment) -> Console:
    from sipdiag.report import terminal  # rich, only for the commands that draw tables

    return terminal.make_console(env.stdout, environ=env.environ,
                                 no_color=getattr(args, "no_color", False))


def capture_files(names: list[str]) -> tuple[list[str], list[str]]:
    """The files named, with each folder replaced by the files in it (sorted by name, hidden
    files left out): the captures to read as one; and what in the folders was left out, and
    why (a subfolder, a FIFO, an empty file such as a rotation just begun)."""
    files: list[str] = []
    skipped: list[str] = []
    for name in names:
        path = Path(name)
        if name == "-" or not path.is_dir():
            files.append(name)
            continue
        entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        reasons = {entry: _left_out(entry) for entry in entries}
        inside = [str(entry) for entry, why in reasons.items() if why is None]
        left_out = [f"{entry}: {why}" for entry, why in reasons.items() if why]
        if not inside:
            raise CaptureError(f"{name}: the folder has no files to read"
                               + "".join(f"; {line}" for line in left_out))
        files += inside
        skipped += left_out
    if "-" in files and len(files) > 1:
        raise CaptureError("standard input (-) can only be read alone")
    return files, skipped


def _left_out(entry: Path) -> str | None:
    """Why an entry of a folder of captures is not read, or None if it is."""
    if entry.is_dir():
        return "a folder: not read (name its files, or the folder itself)"
    if not entry.is_file():
        return "not a regular file (a FIFO, socket or device): not read"
    if entry.stat().st_size == 0:
        return "empty (a capture being started?): not read"
    return None


class UnknownRule(ValueError):
    """A rule named on the command line that no rule file defines (one line for the user)."""


def rule_ids(named: Sequence[str], rules: RuleSet) -> tuple[str, ...]:
    """The IDs of the rules named by ID or name (``--rule D104``, ``--rule bye-answered-481``)."""
    ids = []
    for name in named:
        rule = rules.by_id(name)
        if rule is None:
            known = [r.id for r in rules.rules] + [r.name for r in rules.rules]
            near = get_close_matches(name, known, 3, 0.5)
            raise UnknownRule(f"no rule {name!r}" + (f"; did you mean {', '.join(near)}?"
                                                      if near else "; sipdiag rules lists them"))
        ids.append(rule.id)
    return tuple(ids)


def selection_of(args: argparse.Namespace, rules: RuleSet) -> Selection:
    """The calls the options choose: --call, --user, --ip, --since and --until (where the
    command has them), --failed, --rule."""
    return Selection(call_ids=tuple(args.call), users=tuple(args.user), ips=tuple(args.ip),
                     since=getattr(args, "since", None), until=getattr(args, "until", None),
                     failing_only=args.failed, rules=rule_ids(args.rule, rules))


def error(env: Environment, message: str) -> int:
    """One line on stderr; the exit status of an error."""
    env.stderr.write(f"sipdiag: error: {message}\n")
    return ExitStatus.ERROR


def overwrites_a_capture(output: Path | None, captures: Sequence[str]) -> str | None:
    """Why ``output`` cannot be written: it is one of the captures being read (writing it
    would cut it while it is read)."""
    if output is None or not any(name != "-" and Path(name).resolve() == output.resolve()
                                 for name in map(str, captures)):
        return None
    return f"{output} is one of the captures read: write elsewhere"


def judging_engine(args: argparse.Namespace, env: Environment) -> Engine:
    """The rules a command runs: the built-in ones and those of ``--rules``, with the home
    country of ``--home-cc``."""
    from sipdiag.rules import load_engine
    from sipdiag.rules.cache import cache_folder
    from sipdiag.rules.given import at_home

    engine = load_engine(args.rules, cache_folder(env.environ))
    return at_home(engine, args.home_cc) if args.home_cc else engine
